//! Properties over generated inputs (proptest).

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use crate::common::*;
use logwarden::{Alert, Config, DetectorSet, FindingKind, Pipeline, TextSource};
use proptest::prelude::*;

fn detectors() -> Arc<DetectorSet> {
    static SET: OnceLock<Arc<DetectorSet>> = OnceLock::new();
    SET.get_or_init(|| Arc::new(DetectorSet::builtin().expect("built-in")))
        .clone()
}

fn run(input: &[u8], throttle: bool) -> (Vec<Alert>, logwarden::Stats) {
    let config = Config {
        policy: logwarden::policy::PolicyConfig {
            storm: if throttle {
                Config::default().policy.storm
            } else {
                None
            },
            ..Default::default()
        },
        ..Config::default()
    };
    let mut p = Pipeline::new(detectors(), config);
    let mut alerts = Vec::new();
    let _ = p.process_input(input, &TextSource::default(), &mut |a| alerts.push(a));
    p.finish(&mut |a| alerts.push(a));
    let stats = p.take_stats();
    (alerts, stats)
}

/// A secret of a known format and the rule that must find it.
fn secret() -> impl Strategy<Value = (String, &'static str)> {
    prop_oneof![
        "[A-Za-z0-9]{36}".prop_map(|s| (format!("ghp_{s}"), "github-pat-classic")),
        "[A-Za-z0-9]{24,40}".prop_map(|s| (format!("sk_live_{s}"), "stripe-secret-key")),
        "[A-Z2-7]{16}"
            .prop_filter("not a documentation key", |s| !s.contains("EXAMPLE"))
            .prop_map(|s| (format!("AKIA{s}"), "aws-access-key-id")),
    ]
}

/// Text around a secret: ordinary log words, never touching it (so the token stays whole).
fn filler() -> impl Strategy<Value = String> {
    "[a-z =:,]{0,40}".prop_map(|s| format!(" {s} "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// No input panics, whatever its bytes; the accounting always balances.
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (_, s) = run(&data, true);
        prop_assert_eq!(s.events_received, s.events_processed + s.events_skipped_control + s.events_skipped_ignored_group);
    }

    /// Arbitrary messages inside a well-formed subscription event never panic either.
    #[test]
    fn arbitrary_messages_never_panic(msgs in proptest::collection::vec(any::<String>(), 0..20)) {
        let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
        let event = lambda_event(&payload_json("/aws/lambda/p", "s", T0, &refs));
        let (_, s) = run(event.as_bytes(), true);
        prop_assert_eq!(s.events_processed, msgs.len() as u64);
    }

    /// A generated secret in a generated line is found, and no alert carries it in clear.
    #[test]
    fn secrets_are_found_and_never_shown((secret, rule) in secret(), before in filler(), after in filler()) {
        let line = format!("2026-11-25T10:00:00.000Z\treq\tINFO\t{before}{secret}{after}\n");
        let (alerts, _) = run(line.as_bytes(), true);
        prop_assert!(alerts.iter().any(|a| a.rule_id == rule), "{} not found: {:?}", rule, alerts);
        for a in &alerts {
            let json = a.to_json();
            prop_assert!(!json.contains(&secret));
            let debug = format!("{a:?}");
            prop_assert!(!debug.contains(&secret));
        }
    }

    /// The same input always gives the same alert ids.
    #[test]
    fn same_input_same_ids((secret, _) in secret(), n in 1usize..5) {
        let lines: Vec<String> = (0..n).map(|i| format!("line {i} {secret}")).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let event = lambda_event(&payload_json("/aws/lambda/p", "s", T0, &refs));
        let ids = |alerts: Vec<Alert>| alerts.into_iter().map(|a| a.id).collect::<Vec<_>>();
        prop_assert_eq!(ids(run(event.as_bytes(), true).0), ids(run(event.as_bytes(), true).0));
    }

    /// Threshold alerts equal a naive recount of sliding spans: for each source IP, a point
    /// is hot when the 5 minutes up to it hold 10 failures; hot points within 5 minutes of each
    /// other are one episode; one alert per episode, dated at its first hot point. The events
    /// come in time order split into several invocations, each shuffled inside.
    #[test]
    fn sliding_counts_equal_a_naive_recount(
        mut events in proptest::collection::vec((0u8..3, 0i64..1_800_000), 0..150),
        cuts in proptest::collection::vec(0usize..150, 0..4),
        seed in any::<u64>(),
    ) {
        events.sort_by_key(|(_, t)| *t);
        let span = 300_000i64;
        // Naive recount.
        let mut expected = BTreeSet::new();
        for ip in 0u8..3 {
            let times: Vec<i64> = events.iter().filter(|(i, _)| *i == ip).map(|(_, t)| T0 + t).collect();
            let mut last_hot: Option<i64> = None;
            for &t in &times {
                let n = times.iter().filter(|&&u| u <= t && t - u <= span).count();
                if n >= 10 {
                    if last_hot.is_none_or(|h| t - h > span) {
                        expected.insert((format!("203.0.113.{ip}"), t));
                    }
                    last_hot = Some(t);
                }
            }
        }
        // The pipeline, fed in chunks (several invocations), each shuffled.
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c.min(events.len())).collect();
        bounds.push(0);
        bounds.push(events.len());
        bounds.sort_unstable();
        let mut p = Pipeline::new(detectors(), Config { policy: logwarden::policy::PolicyConfig { storm: None, ..Default::default() }, ..Config::default() });
        let mut got = BTreeSet::new();
        let mut rng = seed | 1;
        for (c, w) in bounds.windows(2).enumerate() {
            let mut chunk: Vec<(usize, &(u8, i64))> = events[w[0]..w[1]].iter().enumerate().map(|(i, e)| (w[0] + i, e)).collect();
            for i in (1..chunk.len()).rev() {
                rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
                chunk.swap(i, (rng % (i as u64 + 1)) as usize);
            }
            let evs: Vec<serde_json::Value> = chunk
                .iter()
                .map(|(k, (ip, t))| serde_json::json!({"id": format!("{k:056}"), "timestamp": T0 + t,
                    "message": format!(r#"{{"eventType":"security","type":"authentication_failed","severity":"low","details":{{"sourceIp":"203.0.113.{ip}","userId":"u"}}}}"#)}))
                .collect();
            let payload = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/lambda/auth",
                "logStream": format!("s{c}"), "logEvents": evs}).to_string();
            p.process_input(payload.as_bytes(), &TextSource::default(), &mut |a| {
                if a.kind == FindingKind::Threshold && a.rule_id == "auth-failure-burst" {
                    assert_eq!(a.count, Some(10));
                    let t = a.timestamp.map(|t| t.as_millis()).unwrap_or(0);
                    got.insert((a.group.map(|g| g.value).unwrap_or_default(), t));
                }
            }).expect("decodes");
        }
        prop_assert_eq!(got, expected);
    }
}

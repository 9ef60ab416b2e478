//! Properties over generated inputs (proptest).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use common::*;
use logwarden::{Alert, Config, DetectorSet, FindingKind, Pipeline, TextSource};
use proptest::prelude::*;

fn detectors() -> Arc<DetectorSet> {
    static SET: OnceLock<Arc<DetectorSet>> = OnceLock::new();
    SET.get_or_init(|| Arc::new(DetectorSet::builtin().expect("built-in")))
        .clone()
}

fn run(input: &[u8], throttle: bool) -> (Vec<Alert>, logwarden::Stats) {
    let config = Config {
        throttle: if throttle {
            Config::default().throttle
        } else {
            None
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

    /// Threshold alerts equal a naive recount: one alert per (source IP, 5-minute window)
    /// whose events reach 10, with the count at which it fired, and none elsewhere.
    #[test]
    fn correlation_counts_equal_a_naive_recount(
        events in proptest::collection::vec((0u8..3, 0i64..1_800_000), 0..120),
        chunks in 1usize..4,
    ) {
        let lines: Vec<(i64, String)> = events
            .iter()
            .map(|(ip, t)| (T0 + t, format!(
                r#"{{"eventType":"security","type":"authentication_failed","severity":"low","details":{{"sourceIp":"203.0.113.{ip}","userId":"u"}}}}"#)))
            .collect();
        // Naive recount.
        let mut naive: BTreeMap<(String, i64), u64> = BTreeMap::new();
        for (ip, t) in &events {
            *naive.entry((format!("203.0.113.{ip}"), (T0 + t).div_euclid(300_000) * 300_000)).or_default() += 1;
        }
        let expected: BTreeSet<(String, String)> = naive
            .into_iter()
            .filter(|(_, n)| *n >= 10)
            .map(|((ip, start), _)| (ip, logwarden::timefmt::format_rfc3339(start)))
            .collect();
        // The pipeline, fed in chunks (several invocations).
        let per = lines.len().div_ceil(chunks).max(1);
        let mut p = Pipeline::new(detectors(), Config { throttle: None, ..Config::default() });
        let mut got = BTreeSet::new();
        for (c, chunk) in lines.chunks(per).enumerate() {
            let evs: Vec<serde_json::Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, (t, m))| serde_json::json!({"id": format!("{c}-{i}"), "timestamp": t, "message": m}))
                .collect();
            let payload = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/lambda/auth",
                "logStream": "s", "logEvents": evs}).to_string();
            p.process_input(payload.as_bytes(), &TextSource::default(), &mut |a| {
                if a.kind == FindingKind::Threshold && a.rule_id == "auth-failure-burst" {
                    assert_eq!(a.count, Some(10));
                    got.insert((a.group.map(|g| g.value).unwrap_or_default(), a.window.map(|w| w.start).unwrap_or_default()));
                }
            }).expect("decodes");
        }
        prop_assert_eq!(got, expected);
    }
}

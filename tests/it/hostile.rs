//! Hostile input (issue: "the monitor an attacker cannot switch off from the logs"): each case
//! was reproduced against the previous release and fails there; here it must hold.

use std::process::{Command, Stdio};
use std::sync::Arc;

use crate::common::*;
use logwarden::correlate::Limits as StateLimits;
use logwarden::{Alert, Config, DetectorSet, FindingKind, Pipeline, TextSource};
use serde_json::json;

fn detectors() -> Arc<DetectorSet> {
    static SET: std::sync::OnceLock<Arc<DetectorSet>> = std::sync::OnceLock::new();
    Arc::clone(SET.get_or_init(|| Arc::new(DetectorSet::builtin().expect("built-in"))))
}

fn failure(ip: &str, user: &str) -> String {
    json!({"eventType": "security", "type": "authentication_failed", "severity": "medium",
        "details": {"sourceIp": ip, "userId": user, "endpoint": "/login"}})
    .to_string()
}

/// Runs `events` (time offset ms, message) through one pipeline as payloads of `per` events.
fn run(config: Config, events: &[(i64, String)], per: usize) -> (Vec<Alert>, logwarden::Stats) {
    let mut p = Pipeline::new(detectors(), config);
    let mut alerts = Vec::new();
    for (c, chunk) in events.chunks(per.max(1)).enumerate() {
        let evs: Vec<serde_json::Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, (t, m))| json!({"id": format!("{c}-{i}"), "timestamp": T0 + t, "message": m}))
            .collect();
        let payload = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/lambda/auth",
            "logStream": "s", "logEvents": evs});
        p.process_input(
            payload.to_string().as_bytes(),
            &TextSource::default(),
            &mut |a| alerts.push(a),
        )
        .expect("decodes");
    }
    p.finish(&mut |a| alerts.push(a));
    (alerts, p.take_stats())
}

fn logwarden(args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logwarden"));
    cmd.args(args)
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("logwarden-hostile-tests"),
        )
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run logwarden");
    if let (Some(data), Some(mut input)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        input.write_all(data).expect("stdin");
    }
    child.wait_with_output().expect("output")
}

fn peak_rss(stderr: &str) -> f64 {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak RSS: "))
        .and_then(|v| v.trim_end_matches(" MB").parse().ok())
        .unwrap_or(f64::MAX)
}

/// Finding 1: Ten failed logins whose source is a 19.6 KB X-Forwarded-For list: the threshold alert
/// is bounded (its group value cut and marked) and fits SNS many times over.
#[test]
fn an_alert_from_huge_log_fields_fits_its_sink() {
    let xff: String = (0..1800)
        .map(|i| format!("10.{}.{}.{}, ", i % 250, i % 7, i % 11))
        .collect();
    assert!(xff.len() > 19_000);
    let events: Vec<(i64, String)> = (0..10).map(|i| (i * 1000, failure(&xff, "u"))).collect();
    let (alerts, _) = run(Config::default(), &events, 10);
    let burst = alerts
        .iter()
        .find(|a| a.rule_id == "auth-failure-burst")
        .expect("the burst alerts");
    let json = burst.to_json();
    assert!(json.len() < 8 * 1024, "{} bytes", json.len());
    assert!(
        burst
            .group
            .as_ref()
            .is_some_and(|g| g.value.contains("…[+"))
    );
    let sns = logwarden::sink::sns::sns_message(burst);
    assert!(sns.size() <= logwarden::sink::sns::MAX_BATCH_BYTES);
}

/// Finding 2: A flood of distinct source addresses, far past the state's bound, cannot evict a real
/// burst from one address; the evictions are counted and a warning alert says so.
#[test]
fn a_flood_of_keys_does_not_hide_a_burst() {
    let config = Config {
        state: StateLimits {
            max_keys: 5_000,
            ..StateLimits::default()
        },
        ..Config::default()
    };
    let mut events = Vec::new();
    // Keys that sort after the victim's address, interleaved with its 12 failures.
    for i in 0..30_000i64 {
        events.push((
            i * 5,
            failure(&format!("203.0.113.{}.{i}", 200 + i % 50), "u"),
        ));
        if i % 2_000 == 0 && events.len() < 30_000 {
            events.push((i * 5, failure("198.51.100.23", "victim")));
        }
    }
    let victim = events
        .iter()
        .filter(|(_, m)| m.contains("198.51.100.23"))
        .count();
    assert!(victim >= 12, "{victim}");
    // Squeeze the victim's failures into 5 minutes.
    for (k, e) in events
        .iter_mut()
        .filter(|(_, m)| m.contains("198.51.100.23"))
        .enumerate()
    {
        e.0 = 100_000 + k as i64 * 10_000;
    }
    events.sort_by_key(|e| e.0);
    let (alerts, stats) = run(config, &events, 1_000);
    assert!(
        alerts.iter().any(|a| a.rule_id == "auth-failure-burst"
            && a.group.as_ref().is_some_and(|g| g.value == "198.51.100.23")),
        "the burst was evicted"
    );
    assert!(stats.window_evictions > 0, "{stats:?}");
    assert!(
        alerts
            .iter()
            .any(|a| a.rule_id == "logwarden-correlation-state-pressure")
    );
    let metrics = logwarden::sink::metrics::of_stats(&stats);
    assert!(
        metrics
            .iter()
            .any(|m| m.name == "CorrelationEvictions" && m.value > 0.0)
    );
}

/// Finding 3: A `value_count` above the old silent cap of 10,000 members works; one the engine
/// cannot keep exactly is refused at load.
#[test]
fn large_value_count_thresholds_work_or_are_refused() {
    let rules = |n: u64| {
        format!(
            "title: many users\nname: many-users-base\nlogsource: {{product: aws}}\ndetection:\n  sel:\n    eventType: security\n  condition: sel\n---\ntitle: many users from one ip\nname: many-users\ncorrelation:\n  type: value_count\n  rules: [many-users-base]\n  group-by: [details.sourceIp]\n  timespan: 1h\n  condition:\n    gte: {n}\n    field: details.userId\n"
        )
    };
    let set = Arc::new(
        DetectorSet::builder()
            .sigma_source("many.yml", &rules(10_001))
            .build()
            .expect("10,001 loads"),
    );
    let mut p = Pipeline::new(
        set,
        Config {
            policy: logwarden::policy::PolicyConfig {
                storm: None,
                ..Default::default()
            },
            ..Config::default()
        },
    );
    let evs: Vec<serde_json::Value> = (0..10_001)
        .map(|i| json!({"id": format!("{i}"), "timestamp": T0 + i, "message": failure("192.0.2.1", &format!("u{i}"))}))
        .collect();
    let payload = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s", "logEvents": evs});
    let mut fired = 0;
    p.process_input(
        payload.to_string().as_bytes(),
        &TextSource::default(),
        &mut |a| {
            fired += u32::from(a.rule_id == "many-users");
        },
    )
    .expect("decodes");
    assert_eq!(fired, 1);
    let e = DetectorSet::builder()
        .sigma_source("many.yml", &rules(100_001))
        .build()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("many-users") && e.contains("threshold 100001"),
        "{e}"
    );
}

/// Finding 4: Two files of one name in two directories are different streams: 6 + 6 failures are a
/// burst, and different secrets on the same line numbers get different alert ids.
#[test]
fn same_file_names_in_two_directories_do_not_collide() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (d, key) in [
        ("h1", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ("h2", "sk_live_9fD82JrMzxQbPotUu3ep8k2A"),
    ] {
        std::fs::create_dir(dir.path().join(d)).expect("mkdir");
        let mut text = format!("2026-11-25T10:00:00.000Z\tr\tINFO\tkey {key}\n");
        for i in 0..6 {
            text.push_str(&format!(
                "{}\n",
                json!({"timestamp": format!("2026-11-25T10:00:{:02}.000Z", 10 + i), "eventType": "security",
                    "type": "authentication_failed", "details": {"sourceIp": "203.0.113.5", "userId": "u"}})
            ));
        }
        std::fs::write(dir.path().join(d).join("app.jsonl"), text).expect("write");
    }
    let out = logwarden(&["replay", "--format", "json"], None);
    assert_eq!(out.status.code(), Some(0), "stdin is empty");
    let out = logwarden(
        &[
            "replay",
            "--format",
            "json",
            dir.path().to_str().unwrap_or_default(),
        ],
        None,
    );
    let alerts: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        alerts.iter().any(|a| a["rule_id"] == "auth-failure-burst"),
        "{alerts:?}"
    );
    let ids: std::collections::BTreeSet<&str> = alerts
        .iter()
        .filter(|a| a["rule_id"] == "stripe-secret-key")
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{alerts:?}");
}

/// Finding 6: Replay streams its inputs: a 40 MB file of short lines runs in bounded memory; a FIFO
/// in a directory and a device given by name are skipped with a message, and the other
/// inputs are processed.
#[test]
fn replay_streams_and_skips_what_is_not_a_regular_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.log");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).expect("create"));
        for i in 0..1_000_000 {
            writeln!(f, "2026-11-25T10:00:00.000Z\tr\tINFO\tline {i} ok").expect("write");
        }
        writeln!(
            f,
            "2026-11-25T10:00:01.000Z\tr\tINFO\tkey sk_live_4eC39HqLyjWDarjtT1zdp7dc"
        )
        .expect("write");
    }
    assert!(std::fs::metadata(&big).map(|m| m.len()).unwrap_or(0) > 40_000_000);
    let fifo = dir.path().join("pipe");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let out = logwarden(
        &[
            "replay",
            "--format",
            "json",
            "--stats",
            dir.path().to_str().unwrap_or_default(),
            "/dev/zero",
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stripe-secret-key"),
        "{stderr}"
    );
    assert!(peak_rss(&stderr) < 120.0, "{stderr}");
    assert!(
        stderr.contains("/dev/zero: not a regular file (a device): skipped"),
        "{stderr}"
    );
    if made {
        assert!(
            stderr.contains("pipe: not a regular file (a FIFO): skipped"),
            "{stderr}"
        );
    }
}

/// Finding 7: Detector files are code from users: every expansion and compiled size is bounded, and
/// what exceeds a bound is refused quickly with the rule's name, in bounded memory.
#[test]
fn costly_detector_files_are_refused_quickly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let values: Vec<String> = (0..10)
        .map(|i| format!("      - '-a-b-c-d-e-f-g-h-{i}'"))
        .collect();
    let windash = format!(
        "title: windash\nname: windash-bomb\nlogsource: {{product: windows}}\ndetection:\n  sel:\n    CommandLine|windash|contains:\n{}\n  condition: sel\n",
        values.join("\n")
    );
    let digits: String = (0..1000)
        .map(|i| {
            format!(
                "[[rules]]\nid = \"d{i}\"\nregex = '''\\b\\d{{12}}{i}\\b'''\ngate = \"digits:12\"\n"
            )
        })
        .collect();
    let dfa: String = (0..10_000)
        .map(|i| format!("[[rules]]\nid = \"k{i}\"\nregex = '''k[ab]*a([ab]{{10000}})'''\nkeywords = [\"k\"]\n"))
        .collect();
    let one = "[[rules]]\nid = \"lone\"\nregex = '''[ab]*a([ab]{10000})'''\n".to_owned();
    let deep = format!(
        "title: x\nname: deep\ndetection: {}{}\n",
        "[".repeat(400_000),
        "]".repeat(400_000)
    );
    let loops = dir.path().join("loops");
    std::fs::create_dir(&loops).expect("mkdir");
    std::os::unix::fs::symlink(".", loops.join("a")).expect("symlink");
    std::os::unix::fs::symlink(".", loops.join("b")).expect("symlink");
    std::fs::write(
        loops.join("ok.toml"),
        "[[rules]]\nid = \"fine\"\nregex = '''fine_[a-z]{8}'''\nkeywords = [\"fine_\"]\n",
    )
    .expect("write");
    for (name, text, expected) in [
        ("windash.yml", windash.as_str(), "windash-bomb"),
        ("digits.toml", digits.as_str(), "digit-gated content rules"),
        ("dfa.toml", dfa.as_str(), "counted repetition of 10000"),
        ("one.toml", one.as_str(), "counted repetition of 10000"),
        ("deep.yml", deep.as_str(), "nested deeper than"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let started = std::time::Instant::now();
        let out = logwarden(
            &[
                "replay",
                "--stats",
                "--detectors",
                path.to_str().unwrap_or_default(),
            ],
            Some(b""),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(
            started.elapsed().as_secs() < 30,
            "{name}: {:?}",
            started.elapsed()
        );
    }
    // Link loops in a detectors directory: no hang, the real file loads.
    let out = logwarden(
        &[
            "detectors",
            "list",
            "--no-builtin",
            "--detectors",
            loops.to_str().unwrap_or_default(),
        ],
        None,
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("fine"),
        "{out:?}"
    );
}

/// Finding 8: UTF-16 input with a byte-order mark is read as text, not garbage.
#[test]
fn utf16_input_is_decoded() {
    let line = "2026-11-25T10:00:00.000Z\tr\tINFO\tcharging sk_live_4eC39HqLyjWDarjtT1zdp7dc\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in line.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let out = logwarden(
        &["replay", "--format", "json", "--stats", "-"],
        Some(&bytes),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stripe-secret-key"),
        "{stderr}"
    );
    assert!(stderr.contains("1 read as UTF-16"), "{stderr}");
}

/// Finding 9: `logwarden fingerprint` gives the keyed fingerprint a replay shows, so a suspected
/// value can be checked; the plain SHA-256 prefix no longer matches.
#[test]
fn a_suspected_value_can_be_checked_against_its_fingerprint() {
    let key = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
    let out = logwarden(
        &["replay", "--format", "json", "-"],
        Some(format!("2026-11-25T10:00:00.000Z\tr\tINFO\tkey {key}\n").as_bytes()),
    );
    let alert: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap_or_default())
            .expect("alert");
    let shown = alert["evidence"]["fingerprint"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let fp = logwarden(&["fingerprint"], Some(key.as_bytes()));
    assert_eq!(String::from_utf8_lossy(&fp.stdout).trim(), shown);
    let plain = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(key.as_bytes());
        d[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_ne!(shown, plain);
}

/// Finding 10: A secret used as a group-by value (a token in `userId`) is masked in the threshold
/// alert's group and title.
#[test]
fn a_secret_group_value_is_masked() {
    let token = "ghp_R8mK2vX9qL4tW7zC1bN5yH3dF6gJ0pS2uA8e";
    let events: Vec<(i64, String)> = (0..6)
        .map(|i| {
            let m =
                json!({"eventType": "security", "type": "rate_limit_exceeded", "severity": "low",
                "details": {"sourceIp": "203.0.113.9", "userId": token}})
                .to_string();
            (i * 2000, m)
        })
        .collect();
    let (alerts, _) = run(Config::default(), &events, 6);
    let t = alerts
        .iter()
        .find(|a| a.kind == FindingKind::Threshold && a.rule_id == "rate-limit-burst-user")
        .expect("the burst alerts");
    let json = t.to_json();
    assert!(!json.contains(token), "{json}");
    assert!(
        t.group
            .as_ref()
            .is_some_and(|g| g.value.starts_with("ghp_") && g.value.contains('*'))
    );
}

/// Finding 12: Log content cannot drive the terminal: control and bidi characters in printed fields
/// are escaped in the table (JSON stays as it is).
#[test]
fn the_table_escapes_terminal_control_sequences() {
    let evil = "\u{1b}[2J\u{1b}[HALL CLEAR - no alerts\u{1b}[1A\u{1b}[2K\u{202e}";
    let events: Vec<(i64, String)> = (0..6)
        .map(|i| {
            let m =
                json!({"eventType": "security", "type": "rate_limit_exceeded", "severity": "low",
                "details": {"sourceIp": "203.0.113.9", "userId": evil}})
                .to_string();
            (i * 2000, m)
        })
        .collect();
    let (alerts, _) = run(Config::default(), &events, 6);
    let mut out = Vec::new();
    {
        use logwarden::AlertSink;
        let mut sink = logwarden::TableSink::new(&mut out);
        for a in &alerts {
            sink.send(a).expect("write");
        }
    }
    let text = String::from_utf8_lossy(&out);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    // Alerts make log text inert at the source: the escape is shown as `?`, in the table and
    // in the JSON alike.
    assert!(text.contains("?[2J"), "{text}");
    for a in &alerts {
        assert!(!a.to_json().contains("\\u001b"), "{}", a.to_json());
    }
}

/// Millions of one-byte lines (each an event) stay in bounded memory with one thread or
/// several: pieces are bounded in lines as well as bytes, and a piece is read only when a
/// worker is free. (Was 242 MB with one thread and 1 GB with two for 20 million.)
#[test]
fn millions_of_tiny_events_stay_under_64_mb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tiny = dir.path().join("tiny.log");
    std::fs::write(&tiny, b"a\n".repeat(4_000_000)).expect("write");
    for threads in ["1", "2"] {
        let out = replay_stats(threads, &tiny);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("4000000 processed"), "{stderr}");
        assert!(peak_rss(&stderr) < 64.0, "--threads {threads}: {stderr}");
    }
}

/// A flood of small JSON security events, every one matched by an event rule, stays in
/// bounded memory with two threads: the workers hand the driver a bounded number of parsed
/// records per stretch (a parsed small object takes tens of times its text), and the driver
/// parses the rest again. (Handing them all over took 115 MB for these 9 MB.)
#[test]
fn a_flood_of_matched_json_events_stays_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("security.log");
    let lines: String = (0..60_000)
        .map(|i| {
            format!(
                "{{\"eventType\":\"security\",\"type\":\"authentication_failed\",\"details\":{{\"sourceIp\":\"198.51.{}.{}\",\"userId\":\"u-{i}\",\"a\":[1,2,3],\"b\":{{\"c\":\"d\"}}}}}}\n",
                i % 200,
                i % 250
            )
        })
        .collect();
    std::fs::write(&path, lines).expect("write");
    let one = replay_stats("1", &path);
    let two = replay_stats("2", &path);
    let stderr = String::from_utf8_lossy(&two.stderr);
    assert!(stderr.contains("60000 processed"), "{stderr}");
    // Every event matched the failed-login rules that feed the correlations (untimed here,
    // so no window state grows: what is measured is what the threads hand over).
    assert!(stderr.contains(" 240000 untimed"), "{stderr}");
    assert!(peak_rss(&stderr) < 80.0, "{stderr}");
    assert_eq!(one.stdout, two.stdout, "two threads alert as one does");
}

/// `replay --format json --stats --threads <threads> <path>`.
fn replay_stats(threads: &str, path: &std::path::Path) -> std::process::Output {
    let path = path.to_str().unwrap_or_default();
    let args = [
        "replay",
        "--format",
        "json",
        "--stats",
        "--threads",
        threads,
        path,
    ];
    logwarden(&args, None)
}

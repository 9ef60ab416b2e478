//! The catalogue of hostile and broken inputs (issue: robustness). Each goes through the
//! Lambda handler and through `replay`: a typed error with a one-line cause, never a panic,
//! never unbounded memory, and the rest of the batch still processed.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use crate::common::*;
use logwarden::driver::{DriverError, Outputs};
use logwarden::lambda::{Handler, HandlerError, Parts, Settings};
use logwarden::{Config, DetectorSet, Pipeline, Stats, TextSource};

use serde_json::json;

fn detectors() -> Arc<DetectorSet> {
    Arc::new(DetectorSet::builtin().expect("built-in"))
}

fn handler() -> Handler {
    let settings = Settings::from_lookup(|_| None).expect("defaults");
    Handler::new(Parts {
        detectors: detectors(),
        config: settings.config(),
        fingerprints: Arc::new(logwarden::mask::Fingerprinter::new(b"robustness test key")),
        outputs: Outputs::default(),
        store: None,
        verify: None,
    })
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// Replays `input` from a file and returns (exit code, stdout, stderr).
fn replay(name: &str, input: &[u8], extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, input).expect("write");
    let good = dir.path().join("zz-good.log");
    std::fs::write(&good, b"ok line with sk_live_4eC39HqLyjWDarjtT1zdp7dc\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_logwarden"))
        .arg("replay")
        .arg("--format")
        .arg("json")
        .args(extra)
        .arg(&path)
        .arg(&good)
        .stdin(Stdio::null())
        .output()
        .expect("run logwarden");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts the accounting identity: every event is processed or skipped.
fn balanced(s: &Stats) {
    assert_eq!(
        s.events_received,
        s.events_processed + s.events_skipped_control + s.events_skipped_ignored_group,
        "{s:?}"
    );
}

struct Bad {
    name: &'static str,
    input: Vec<u8>,
    /// Start of the one-line error.
    error: &'static str,
}

fn catalogue() -> Vec<Bad> {
    let good_payload = payload_json("g", "s", T0, &["hello"]);
    let gz = gzip(good_payload.as_bytes());
    vec![
        Bad {
            name: "invalid base64",
            input: br#"{"awslogs":{"data":"%%%% not base64 %%%%"}}"#.to_vec(),
            error: "invalid base64 in awslogs.data",
        },
        Bad {
            name: "truncated gzip",
            input: json!({"awslogs": {"data": b64(&gz[..gz.len() / 2])}})
                .to_string()
                .into_bytes(),
            error: "invalid gzip data in awslogs.data",
        },
        Bad {
            name: "valid base64 that is not gzip",
            input: json!({"awslogs": {"data": b64(b"\x00\x01plain bytes")}})
                .to_string()
                .into_bytes(),
            error: "awslogs.data decoded to bytes that are neither gzip nor JSON",
        },
        Bad {
            name: "gzip of invalid JSON",
            input: json!({"awslogs": {"data": b64(&gzip(b"{\"logEvents\":[{]}"))}})
                .to_string()
                .into_bytes(),
            error: "invalid JSON in subscription payload",
        },
        Bad {
            name: "envelope missing logEvents",
            input: lambda_event(r#"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s"}"#)
                .into_bytes(),
            error: "invalid JSON in subscription payload",
        },
        Bad {
            name: "envelope with wrong types",
            input: lambda_event(
                r#"{"messageType":"DATA_MESSAGE","logGroup":7,"logStream":"s","logEvents":[]}"#,
            )
            .into_bytes(),
            error: "invalid JSON in subscription payload",
        },
        Bad {
            name: "awslogs without data",
            input: br#"{"awslogs":{}}"#.to_vec(),
            error: "invalid JSON in event document",
        },
    ]
}

#[test]
fn every_bad_input_is_a_typed_one_line_error_in_the_handler() {
    let h = handler();
    for bad in catalogue() {
        match block_on(h.handle(&bad.input)) {
            Err(HandlerError::Driver(DriverError::Decode(e))) => {
                let msg = e.to_string();
                assert!(msg.starts_with(bad.error), "{}: {msg}", bad.name);
                assert!(!msg.contains('\n'), "{}: one line: {msg}", bad.name);
            }
            other => panic!("{}: expected a pipeline error, got {other:?}", bad.name),
        }
    }
}

#[test]
fn every_bad_input_is_reported_by_replay_and_the_other_files_still_processed() {
    for bad in catalogue() {
        let (code, stdout, stderr) = replay("bad.json", &bad.input, &[]);
        assert_eq!(code, Some(2), "{}: {stderr}", bad.name);
        assert!(
            stderr.contains(&format!("bad.json: {}", bad.error)),
            "{}: {stderr}",
            bad.name
        );
        assert!(!stderr.contains("panicked"), "{}: {stderr}", bad.name);
        assert_eq!(
            stdout.lines().count(),
            1,
            "{}: the good file's alert: {stdout}",
            bad.name
        );
    }
}

#[test]
fn control_message_and_empty_file_are_fine() {
    let control = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
        "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": T0, "message": "CWL CONTROL MESSAGE: Checking health of destination"}]});
    let h = handler();
    let r = block_on(h.handle(lambda_event(&control.to_string()).as_bytes()))
        .expect("control message acknowledged");
    assert_eq!((r.events, r.processed, r.alerts), (1, 0, 0));
    let (code, stdout, stderr) = replay("empty.log", b"", &["--stats"]);
    assert_eq!(code, Some(1), "only the good file's alert: {stderr}");
    assert_eq!(stdout.lines().count(), 1);
}

/// ~1 MB of gzip that inflates to 1 GiB: stopped at the cap, with bounded memory.
#[test]
fn gzip_bomb_is_stopped_at_the_cap_with_bounded_memory() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        enc.write_all(&zeros).expect("compress");
    }
    let bomb = enc.finish().expect("gzip");
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    let event = json!({"awslogs": {"data": b64(&bomb)}}).to_string();
    match block_on(handler().handle(event.as_bytes())) {
        Err(HandlerError::Driver(DriverError::Decode(e))) => {
            assert!(e.to_string().contains("inflates past the"), "{e}")
        }
        other => panic!("expected the cap error, got {other:?}"),
    }
    let (code, stdout, stderr) = replay("bomb.json", event.as_bytes(), &["--stats"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("bomb.json: gzip data in awslogs.data inflates past the 67108864-byte cap"),
        "{stderr}"
    );
    assert_eq!(stdout.lines().count(), 1);
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak RSS: "))
        .and_then(|v| v.trim_end_matches(" MB").parse::<f64>().ok())
        .expect("--stats reports peak RSS");
    assert!(peak <= 256.0, "peak RSS {peak} MB");
}

#[test]
fn big_and_many_events_and_odd_bytes() {
    let mut p = Pipeline::new(detectors(), Config::default());
    // One 250 KB message (with a secret at its end), processed whole.
    let big = format!("{}sk_live_4eC39HqLyjWDarjtT1zdp7dc", "x ".repeat(125_000));
    // 100,000 tiny events.
    let tiny: Vec<String> = (0..100_000).map(|i| format!("e{i}")).collect();
    let mut msgs: Vec<&str> = tiny.iter().map(String::as_str).collect();
    msgs.push(&big);
    // NUL bytes and (lossily decoded) invalid UTF-8 inside messages.
    msgs.push(
        "nul\u{0}byte and \u{fffd} replacement with 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",
    );
    // JSON nested 100,000 levels deep.
    let deep = format!("{}{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    msgs.push(&deep);
    let payload = payload_json("/aws/lambda/x", "s", T0, &msgs);
    let mut alerts = Vec::new();
    p.process_input(
        lambda_event(&payload).as_bytes(),
        &TextSource::default(),
        &mut |a| alerts.push(a),
    )
    .expect("decodes");
    let rules: Vec<_> = alerts.iter().map(|a| a.rule_id.as_str()).collect();
    assert!(rules.contains(&"stripe-secret-key"), "{rules:?}");
    assert!(rules.contains(&"github-pat-classic"), "{rules:?}");
    assert_eq!(p.stats().events_processed, 100_003);
    balanced(p.stats());
}

#[test]
fn absurd_timestamps_do_not_break_anything() {
    let mut p = Pipeline::new(detectors(), Config::default());
    let line = |ip: &str| {
        json!({"eventType": "security", "type": "authentication_failed", "severity": "medium", "details": {"sourceIp": ip, "userId": "u"}})
            .to_string()
    };
    let events = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s", "logEvents": [
        {"id": "1", "timestamp": -5_000_000_000_000i64, "message": line("192.0.2.1")},
        {"id": "2", "timestamp": 253_402_300_799_999i64, "message": line("192.0.2.2")},
        {"id": "3", "timestamp": i64::MAX, "message": line("192.0.2.3")},
        {"id": "4", "timestamp": i64::MIN, "message": line("192.0.2.4")},
        {"id": "5", "message": line("192.0.2.5")},
        {"id": "6", "timestamp": 1, "message": "key sk_live_4eC39HqLyjWDarjtT1zdp7dc"}
    ]});
    let mut alerts = Vec::new();
    p.process_input(
        events.to_string().as_bytes(),
        &TextSource::default(),
        &mut |a| alerts.push(a),
    )
    .expect("decodes");
    p.finish(&mut |a| alerts.push(a));
    assert_eq!(p.stats().events_processed, 6);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        alerts[0].timestamp.map(|t| t.to_rfc3339()).as_deref(),
        Some("1970-01-01T00:00:00.001Z")
    );
    balanced(p.stats());
}

/// Time from the logs cannot panic or overflow: Go's zero time followed by a later alert
/// (the storm limiter's clock once panicked: "Can not represent times past ~584 years"), two
/// records centuries apart, a VPC Flow line with start=1e17, a record at i64::MAX ms. Through
/// replay (own times) and the handler (CloudWatch times), with the inputs after them still
/// processed.
#[test]
fn centuries_apart_and_overflowing_times_neither_panic_nor_stop_the_rest() {
    let secret =
        |t: &str| format!("{t}\tr-1\tINFO\tcharging with sk_live_4eC39HqLyjWDarjtT1zdp7dc");
    let text = [
        secret("0001-01-01T00:00:00.000Z"),
        secret("2026-11-25T10:00:00.000Z"),
        secret("9999-12-31T23:59:59.999Z"),
        secret("1601-01-01T00:00:00.000Z"),
        "2 123456789010 eni-1235b8ca123456789 198.51.100.7 172.31.16.21 20641 22 6 20 4249 100000000000000000 100000000000000060 REJECT OK".to_owned(),
        json!({"timestamp": i64::MAX, "eventType": "security", "type": "authentication_failed", "details": {"sourceIp": "192.0.2.9"}}).to_string(),
        json!({"timestamp": "0001-01-01T00:00:00Z", "eventType": "security", "type": "authentication_failed", "details": {"sourceIp": "192.0.2.9"}}).to_string(),
        secret("2026-11-25T10:05:00.000Z"),
    ]
    .join("\n");
    let (code, stdout, stderr) = replay("times.log", text.as_bytes(), &["--stats"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The storm limiter admits the first five alerts of one secret; the good file's alert of
    // the same secret comes after them.
    assert!(stdout.lines().count() >= 5, "{stdout}");
    assert!(
        stderr.contains("events: 9 received, 9 processed"),
        "{stderr}"
    );
    // The same through the handler, with CloudWatch timestamps as absurd.
    let events = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s", "logEvents": [
        {"id": "1", "timestamp": -62_135_596_800_000i64, "message": secret("0001-01-01T00:00:00.000Z")},
        {"id": "2", "timestamp": T0, "message": secret("2026-11-25T10:00:00.000Z")},
        {"id": "3", "timestamp": i64::MAX, "message": secret("x")},
        {"id": "4", "timestamp": T0 + 1000, "message": text.lines().nth(4).unwrap_or_default()},
    ]});
    let h = handler();
    for _ in 0..3 {
        let r = block_on(h.handle(lambda_event(&events.to_string()).as_bytes())).expect("handled");
        assert_eq!(r.processed, 4);
    }
}

/// A panic in one invocation does not disable the instance: the next invocation rebuilds its
/// state and works (no "poisoned" state).
#[test]
fn an_invocation_that_panics_is_followed_by_one_that_works() {
    struct PanicsOnce(std::sync::atomic::AtomicBool);
    impl logwarden::correlate::SharedWindowStore for PanicsOnce {
        fn flush(
            &self,
            pending: logwarden::correlate::SharedBatch,
        ) -> logwarden::correlate::FlushFuture<'_> {
            let first = !self.0.swap(true, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                assert!(
                    !first,
                    "a store that fails hard once ({} keys)",
                    pending.len()
                );
                Ok(logwarden::correlate::FlushReport::default())
            })
        }
    }
    let settings = Settings::from_lookup(|_| None).expect("defaults");
    let h = Arc::new(Handler::new(Parts {
        detectors: detectors(),
        config: settings.config(),
        fingerprints: Arc::new(logwarden::mask::Fingerprinter::new(b"robustness test key")),
        outputs: Outputs::default(),
        store: Some(Arc::new(PanicsOnce(std::sync::atomic::AtomicBool::new(
            false,
        )))),
        verify: None,
    }));
    let burst: Vec<String> = (0..3)
        .map(|i| json!({"eventType": "security", "type": "authentication_failed", "details": {"sourceIp": "192.0.2.7", "userId": format!("u{i}")}}).to_string())
        .collect();
    let refs: Vec<&str> = burst.iter().map(String::as_str).collect();
    let event = lambda_event(&payload_json("/aws/lambda/app", "s", T0, &refs));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (h1, e) = (Arc::clone(&h), event.clone());
    let first = rt.block_on(async move {
        tokio::task::spawn(async move { h1.handle(e.as_bytes()).await.map(|r| r.processed) }).await
    });
    assert!(
        first.is_err_and(|e| e.is_panic()),
        "the first invocation panics"
    );
    let second = rt
        .block_on(h.handle(event.as_bytes()))
        .expect("the next one works");
    assert_eq!(second.processed, 3);
}

#[test]
fn bad_detector_files_name_file_rule_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: &[(&str, &str, &str)] = &[
        (
            "regex.toml",
            "[[rules]]\nid = \"r1\"\nregex = '''(open'''\nkeywords = [\"x\"]\n",
            "regex.toml:2: rule `r1`: invalid regex",
        ),
        (
            "syntax.toml",
            "[[rules]\n",
            "syntax.toml: invalid detector file",
        ),
        (
            "dup.toml",
            "[[rules]]\nid = \"acme\"\nregex = 'x'\nkeywords = [\"x\"]\n[[rules]]\nid = \"acme\"\nregex = 'y'\nkeywords = [\"y\"]\n",
            "dup.toml:6: duplicate rule id `acme`",
        ),
        (
            "huge.toml",
            "[[rules]]\nid = \"big\"\nregex = '''\\pL{1000}\\pL{1000}'''\nkeywords = [\"x\"]\n",
            "huge.toml:2: rule `big`: invalid regex",
        ),
        (
            "bad.yml",
            "title: x\ndetection: [\n",
            "bad.yml: invalid detector file",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_logwarden"))
            .args(["replay", "--detectors"])
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "{name}: {stderr}"
        );
    }
}

/// Secrets never appear in clear in any output path: stdout, stderr (with debug logging),
/// errors, and the Debug form of the types that carry messages.
#[test]
fn nothing_leaks() {
    let secrets = [
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "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",
        "AKIABZPUZDIKM2W2IPRI",
        "postgres://billing:S3cr3t-Pa55w0rd!@db.internal:5432/billing",
    ];
    let lines: Vec<String> = secrets
        .iter()
        .map(|s| format!("2026-11-25T10:00:00.000Z\tr\tINFO\tusing {s}"))
        .collect();
    let payload = payload_json(
        "/aws/lambda/leaky",
        "s",
        T0,
        &lines.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let event = lambda_event(&payload);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("leaky.json");
    std::fs::write(&path, &event).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_logwarden"))
        .args(["replay", "--format", "json", "--stats"])
        .arg(&path)
        .env("LOGWARDEN_LOG", "trace")
        .output()
        .expect("run");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.len() > 100);
    for s in secrets {
        assert!(!all.contains(s), "leaked {}…", &s[..6]);
        assert!(!all.contains("S3cr3t-Pa55w0rd!"));
    }
    // Debug of the decoded types never prints a message.
    let src = TextSource::default();
    logwarden::decode::decode_input(event.as_bytes(), &src, &Default::default(), &mut |b| {
        let dbg = format!("{b:?}");
        for s in secrets {
            assert!(!dbg.contains(s), "Debug of Batch leaks");
        }
        let parser = logwarden::Parser::new();
        for e in &b.events {
            let rec = parser.parse(e, &b.log_group);
            assert!(!format!("{rec:?}{e:?}").contains("sk_live_"));
        }
    })
    .expect("decodes");
    // The Lambda handler's logs (tracing, every level) carry ids and counts only.
    let buf = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(buf.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let report = tracing::subscriber::with_default(subscriber, || {
        block_on(handler().handle(event.as_bytes())).expect("handled")
    });
    assert!(report.alerts >= 4, "{report:?}");
    let logs =
        String::from_utf8_lossy(&buf.0.lock().map(|b| b.clone()).unwrap_or_default()).into_owned();
    assert!(
        logs.contains("alert_id="),
        "the handler logs its alerts by id: {logs}"
    );
    for s in secrets {
        assert!(!logs.contains(s), "a secret reached the handler's logs");
    }
}

#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(data);
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Keeps what it is given (the alerts a handler publishes, in order).
#[derive(Debug, Default)]
struct Kept(std::sync::Mutex<Vec<logwarden::alert::Alert>>);

impl logwarden::sink::Publisher for Kept {
    fn name(&self) -> &'static str {
        "kept"
    }
    fn publish<'a>(
        &'a self,
        alerts: &'a [logwarden::alert::Alert],
    ) -> logwarden::sink::PublishFuture<'a> {
        Box::pin(async move {
            if let Ok(mut k) = self.0.lock() {
                k.extend(alerts.iter().cloned());
            }
            Ok(logwarden::sink::PublishReport {
                published: alerts.len(),
                ..Default::default()
            })
        })
    }
}

/// The Lambda handler with default settings on `threads` threads: its report for `event`,
/// and the alerts it published.
fn handle_on_threads(
    event: &str,
    threads: usize,
) -> (logwarden::lambda::Response, Vec<logwarden::Alert>) {
    let kept = Arc::new(Kept::default());
    let settings = Settings::from_lookup(|_| None).expect("defaults");
    let h = Handler::new(Parts {
        detectors: detectors(),
        config: settings.config(),
        fingerprints: Arc::new(logwarden::mask::Fingerprinter::new(b"robustness test key")),
        outputs: Outputs {
            publishers: vec![Arc::clone(&kept) as Arc<dyn logwarden::sink::Publisher>],
            ..Outputs::default()
        },
        store: None,
        verify: None,
    })
    .with_threads(threads);
    let r = block_on(h.handle(event.as_bytes())).expect("handled");
    let alerts = kept.0.lock().map(|k| k.clone()).unwrap_or_default();
    (r, alerts)
}

/// `THREADS` in the Lambda: a Kinesis event's records are analysed on several threads at
/// once, with the same alerts in the same order, the same counters and the same partial batch
/// response (the undecodable record named by its sequence number) as on one thread.
#[test]
fn kinesis_records_on_several_threads_give_what_one_thread_gives() {
    let mut payloads = Vec::new();
    for r in 0..7usize {
        let msgs: Vec<String> = (0..40)
            .map(|k| match k % 13 {
                0 => json!({"eventType": "security", "type": "authentication_failed", "severity": "medium",
                    "details": {"sourceIp": "198.51.100.23", "userId": format!("u-{r}-{k}"), "reason": "invalid_password"}}).to_string(),
                5 => format!("INFO charge sk_live_{:024}", r * 1000 + k),
                _ => format!("INFO request {r}-{k} served in 12 ms"),
            })
            .collect();
        let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
        payloads.push(gzip(
            payload_json("/aws/lambda/auth", "s1", T0 + 1000 * r as i64, &refs).as_bytes(),
        ));
    }
    payloads.insert(3, b"not gzip, not a payload".to_vec());
    let event = kinesis_event(&payloads);
    let run = |threads: usize| {
        let (r, alerts) = handle_on_threads(&event, threads);
        (
            (r.events, r.processed, r.alerts, r.failed_records),
            r.batch_item_failures.clone(),
            alerts,
        )
    };
    let one = run(1);
    assert!(one.2.len() >= 3, "{} alerts", one.2.len());
    assert_eq!(
        one.1,
        Some(vec![format!("4959{:020}", 3)]),
        "the bad record is named"
    );
    for threads in [2, 4] {
        let many = run(threads);
        assert_eq!(many.0, one.0, "{threads} threads: counters");
        assert_eq!(many.1, one.1, "{threads} threads: partial batch response");
        assert_eq!(many.2, one.2, "{threads} threads: alerts");
    }
}

/// `THREADS` in the Lambda for one CloudWatch Logs payload: its events are analysed on several
/// threads in contiguous stretches, and the ordered driver gives the same alerts in the same
/// order and the same counters as one thread. Failed logins spread over the stretches still
/// add up to one threshold alert.
#[test]
fn one_payload_on_several_threads_gives_what_one_thread_gives() {
    let msgs: Vec<String> = (0..1500usize)
        .map(|k| match k % 17 {
            0 => json!({"eventType": "security", "type": "authentication_failed", "severity": "medium",
                "details": {"sourceIp": "198.51.100.23", "userId": format!("u-{k}"), "reason": "invalid_password"}}).to_string(),
            5 => format!("INFO charge sk_live_{:024}", k),
            9 => format!("INFO card 4111 1111 1111 1111 for order {k}"),
            // Long enough for the payload (600 KB) to be split on every thread count below.
            _ => format!("INFO request {k} served in 12 ms {}", "headers ".repeat(50)),
        })
        .collect();
    let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
    let event = lambda_event(&payload_json("/aws/lambda/auth", "s1", T0, &refs));
    let run = |threads: usize| {
        let (r, alerts) = handle_on_threads(&event, threads);
        ((r.events, r.processed, r.alerts), alerts)
    };
    let one = run(1);
    assert_eq!(one.0.0, 1500);
    assert!(
        one.1
            .iter()
            .any(|a| a.kind == logwarden::FindingKind::Threshold),
        "the failed logins add up to a threshold alert: {:?}",
        one.1.iter().map(|a| &a.rule_id).collect::<Vec<_>>()
    );
    for threads in [2, 4] {
        let many = run(threads);
        assert_eq!(many.0, one.0, "{threads} threads: counters");
        assert_eq!(many.1, one.1, "{threads} threads: alerts");
    }
}

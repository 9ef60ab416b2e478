//! `logwarden replay` end to end, through the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::common;

fn logwarden(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logwarden"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn logwarden");
    if let Some(input) = stdin {
        let mut s = child.stdin.take().expect("stdin");
        s.write_all(input).expect("write stdin");
    }
    child.wait_with_output().expect("logwarden runs")
}

fn alerts(out: &Output) -> Vec<Value> {
    alerts_in(&out.stdout)
}

fn alerts_in(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Two runs printed the same lines (the first difference named when not).
fn assert_same_lines(one: &[u8], many: &[u8], what: &str) {
    let (a, b) = (String::from_utf8_lossy(one), String::from_utf8_lossy(many));
    let first_difference = a.lines().zip(b.lines()).position(|(x, y)| x != y);
    assert_eq!(
        (a.lines().count(), first_difference),
        (b.lines().count(), None),
        "{what}: alerts differ (line counts, first differing line)"
    );
}

/// Every (log group, rule) pair the samples must produce, with how many alerts.
const EXPECTED: &[(&str, &str, usize)] = &[
    ("/aws/lambda/billing-worker", "aws-access-key-id", 1),
    ("/aws/lambda/billing-worker", "aws-secret-access-key", 1),
    ("/aws/lambda/billing-worker", "github-pat-classic", 1),
    ("/aws/lambda/billing-worker", "lambda-runtime-crash", 1),
    ("/aws/lambda/billing-worker", "lambda-timeout-burst", 1),
    (
        "/aws/lambda/billing-worker",
        "postgres-connection-string",
        1,
    ),
    ("/aws/lambda/billing-worker", "slack-webhook-url", 1),
    ("/aws/lambda/etl-python", "iban", 1),
    ("/aws/lambda/etl-python", "private-key-ec", 1),
    ("/aws/lambda/notifications-worker", "sendgrid-api-key", 1),
    ("/aws/lambda/orders-api", "app-security-event-high", 2),
    ("/aws/lambda/orders-api", "auth-failure-burst", 1),
    ("/aws/lambda/orders-api", "credential-stuffing", 1),
    ("/aws/lambda/orders-api", "credit-card-visa", 1),
    ("/aws/lambda/orders-api", "email-address", 1),
    ("/aws/lambda/orders-api", "jwt", 1),
    ("/aws/lambda/orders-api", "rate-limit-burst-user", 1),
    ("/aws/lambda/orders-api", "stripe-secret-key", 1),
    ("/aws/lambda/orders-api", "us-ssn", 1),
    (
        "API-Gateway-Access-Logs_k7x2m9q4ab/prod",
        "apigateway-auth-error-burst",
        1,
    ),
    ("app.log", "openai-api-key", 1),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-1-root-account-use",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-10-security-group-changes",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-11-nacl-changes",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-12-network-gateway-changes",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-13-route-table-changes",
        1,
    ),
    // The web attack rules: the sqlmap security event and the WAF-blocked SQL injection.
    ("/aws/lambda/orders-api", "web-attack-sqli", 1),
    ("aws-waf-logs-edge", "web-attack-sqli", 1),
    // The attack rules on the same records: StopLogging, port 22 opened to the world, a
    // p4d.24xlarge launch attempt, a root access key, an inline administrator policy for
    // another user, and the denied principal's probing (three different APIs refused).
    (
        "aws-cloudtrail-logs-123456789012",
        "aws-access-denied-probes",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "aws-iam-admin-policy-attached-to-user",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "aws-iam-root-access-key-created",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "aws-cloudtrail-logging-stopped",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "aws-ec2-security-group-admin-port-open-to-world",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "aws-ec2-unusual-instance-type",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-14-vpc-changes",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-2-unauthorized-api-calls",
        12,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-3-console-signin-without-mfa",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-4-iam-policy-changes",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-5-cloudtrail-config-changes",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-6-console-authentication-failures",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-7-cmk-disabled-or-deleted",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-8-s3-bucket-policy-changes",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cis-cloudwatch-9-aws-config-changes",
        1,
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "cloudtrail-access-denied-burst",
        1,
    ),
    // The root user's session (a key created), ops-admin's changes (policies, StopLogging, a
    // KMS key, bucket policies, Config) and the CI deploy role's network changes (an SSH port
    // opened to the world) tell three stories.
    ("aws-cloudtrail-logs-123456789012", "logwarden-incident", 3),
    ("aws-waf-logs-edge", "waf-rate-limit-block-burst", 1),
    ("events.jsonl", "app-security-event-high", 1),
    ("events.jsonl", "auth-failure-burst", 1),
    ("events.jsonl", "credential-stuffing", 1),
    ("events.jsonl", "http-authorization-basic", 1),
    ("vpc-flow-logs", "vpc-flow-port-scan", 1),
    ("vpc-flow-logs", "vpc-flow-reject-burst", 1),
];

#[test]
fn replay_samples_gives_the_expected_alerts_and_leaks_nothing() {
    let out = logwarden(&["replay", "samples", "--format", "json", "--stats"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "alerts → exit 1; stderr: {stderr}"
    );
    let alerts = alerts(&out);
    let mut got: Vec<(String, String)> = alerts
        .iter()
        .map(|a| {
            (
                a["log_group"].as_str().unwrap_or_default().to_owned(),
                a["rule_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut expected: Vec<(String, String)> = EXPECTED
        .iter()
        .flat_map(|&(g, r, n)| std::iter::repeat_n((g.to_owned(), r.to_owned()), n))
        .collect();
    expected.sort();
    assert_eq!(got, expected);

    for a in &alerts {
        for key in [
            "id",
            "rule_id",
            "title",
            "severity",
            "kind",
            "log_group",
            "log_stream",
            "timestamp",
        ] {
            assert!(a[key].is_string(), "{key} missing in {a}");
        }
        assert!(!a["event_ids"].as_array().is_none_or(Vec::is_empty), "{a}");
        if matches!(a["kind"].as_str(), Some("secret" | "pii")) {
            let fp = a["evidence"]["fingerprint"].as_str().unwrap_or_default();
            assert_eq!(fp.len(), 16, "{a}");
            assert!(a["evidence"]["masked"].is_string(), "{a}");
        }
        assert!(
            a["timestamp"]
                .as_str()
                .is_some_and(|t| t.starts_with("2026-11-25T")),
            "{a}"
        );
    }
    let mut ids: Vec<&str> = alerts.iter().filter_map(|a| a["id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), alerts.len(), "alert ids are unique");

    let stdout = String::from_utf8_lossy(&out.stdout);
    for secret in common::planted() {
        assert!(
            !stdout.contains(&secret),
            "planted value leaked to stdout: {}…",
            &secret[..4]
        );
        assert!(
            !stderr.contains(&secret),
            "planted value leaked to stderr: {}…",
            &secret[..4]
        );
    }
    assert!(
        stderr.contains("skipped (control)"),
        "--stats prints the summary: {stderr}"
    );
}

#[test]
fn replay_is_deterministic() {
    let a = logwarden(&["replay", "samples", "--format", "json"], None);
    let b = logwarden(&["replay", "samples", "--format", "json"], None);
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn undecodable_input_is_reported_and_the_rest_processed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, br#"{"awslogs":{"data":"@@@ not base64 @@@"}}"#).expect("write");
    let good = dir.path().join("good.log");
    std::fs::write(&good, b"charge sk_live_4eC39HqLyjWDarjtT1zdp7dc\n").expect("write");
    let out = logwarden(
        &[
            "replay",
            "--format",
            "json",
            bad.to_str().unwrap_or_default(),
            good.to_str().unwrap_or_default(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.json: invalid base64 in awslogs.data"),
        "{stderr}"
    );
    let alerts = alerts(&out);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["log_group"], "good.log");
}

#[test]
fn stdin_severity_filters_and_exit_codes() {
    let input = b"email me at maria.keller84@mailbox.org\nkey sk_live_4eC39HqLyjWDarjtT1zdp7dc\n";
    let out = logwarden(&["replay", "--format", "json"], Some(input));
    assert_eq!(out.status.code(), Some(1));
    let all = alerts(&out);
    assert!(all.len() >= 2, "{all:?}");
    assert!(all.iter().all(|a| a["log_group"] == "stdin"));

    // Nothing at/above critical when only lower alerts fire → exit 0.
    let out = logwarden(
        &[
            "replay",
            "--format",
            "json",
            "--fail-on",
            "critical",
            "--min-severity",
            "low",
        ],
        Some(b"mail maria.keller84@mailbox.org\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(alerts(&out).len(), 1);

    // --min-severity drops lower alerts from the output.
    let out = logwarden(
        &["replay", "--format", "json", "--min-severity", "high"],
        Some(input),
    );
    let high = alerts(&out);
    assert!(
        high.iter()
            .all(|a| matches!(a["severity"].as_str(), Some("high" | "critical")))
    );
    assert!(high.len() < all.len());

    // No alert → exit 0.
    let out = logwarden(&["replay"], Some(b"all quiet\n"));
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_arguments_and_bad_detector_files_exit_2() {
    let out = logwarden(&["replay", "--fail-on", "severe"], Some(b""));
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("broken.toml");
    std::fs::write(
        &f,
        "[[rules]]\nid = \"x\"\nregex = '(('\nkeywords = [\"x\"]\n",
    )
    .expect("write");
    let out = logwarden(
        &["replay", "--detectors", f.to_str().unwrap_or_default()],
        Some(b"x"),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.toml:2: rule `x`: invalid regex"),
        "{stderr}"
    );
    // The reader and workers start before the detector set is built: with a 9 MB input
    // being read, the run still ends at once with the file's error, whatever the threads.
    let input = dir.path().join("big.log");
    let line = "INFO request served in 12 ms path=/v1/orders\n".repeat(200_000);
    std::fs::write(&input, line).expect("write");
    let (b, i) = (
        f.to_str().unwrap_or_default(),
        input.to_str().unwrap_or_default(),
    );
    for threads in ["1", "2", "4"] {
        let out = logwarden(&["replay", "--threads", threads, "--detectors", b, i], None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--threads {threads}: {stderr}");
        assert!(
            stderr.contains("broken.toml:2: rule `x`: invalid regex"),
            "--threads {threads}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "--threads {threads}");
    }
}

#[test]
fn table_format_is_readable() {
    let out = logwarden(
        &["replay", "--format", "text"],
        Some(b"key sk_live_4eC39HqLyjWDarjtT1zdp7dc\n"),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("TIME") && h.contains("SEVERITY"))
    );
    let row = lines.next().unwrap_or_default();
    assert!(
        row.contains("stripe-secret-key") && row.contains("stdin"),
        "{row}"
    );
    assert!(!text.contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
}

#[test]
fn detectors_list_and_check() {
    let out = logwarden(&["detectors", "list", "--format", "json"], None);
    assert_eq!(out.status.code(), Some(0));
    let rules = alerts(&out);
    assert!(rules.len() >= 70);
    assert!(
        rules
            .iter()
            .all(|r| r["id"].is_string() && r["severity"].is_string())
    );
    // The rules --verify can check say how.
    let verify = |id: &str| {
        rules
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["verify"].clone())
    };
    assert_eq!(verify("aws-access-key-id"), Some("aws-key-id".into()));
    assert_eq!(verify("github-pat-classic"), Some("github".into()));
    assert_eq!(verify("email-address"), Some(Value::Null));
    let out = logwarden(&["detectors", "check"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 failed"));
}

/// `replay --threads N` gives the same output as one thread: same alerts in the same order,
/// same ids, same correlation episodes (a burst spread over many files), storm control and
/// multi-line blocks (a private key split across two files), errors in the same order.
#[test]
fn replay_threads_give_the_same_output_as_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t0 = 1_795_600_800_000i64;
    let fail = |ip: &str, k: usize| {
        format!(
            r#"{{"timestamp":"2026-11-25T10:00:{:02}.000Z","eventType":"security","type":"authentication_failed","severity":"medium","details":{{"reason":"invalid_password","sourceIp":"{ip}","userId":"u-{k}","endpoint":"/v1/auth/login"}}}}"#,
            k % 60
        )
    };
    // 40 payloads of one log stream, each with two failed logins from one address and a
    // leaked key (the storm limiter holds most of them back), a minute apart.
    for f in 0..40usize {
        let mut msgs: Vec<String> = (0..2).map(|k| fail("198.51.100.23", 2 * f + k)).collect();
        msgs.push(format!(
            "2026-11-25T10:00:00.000Z\tr-{f}\tINFO\tcharge sk_live_{:024}",
            f * 7919
        ));
        let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
        let json = common::payload_json("/aws/lambda/auth", "s1", t0 + 60_000 * f as i64, &refs);
        std::fs::write(
            dir.path().join(format!("p{f:02}.json.gz")),
            common::gzip(json.as_bytes()),
        )
        .expect("write");
    }
    // A PEM key logged line by line, split across two files of one stream.
    let key: Vec<String> =
        std::iter::once("-----BEGIN RSA PRIVATE KEY-----".to_owned())
            .chain((0..10).map(|i| {
                format!("MIIEo{}", "QIBAAKCAQEA7bq9".repeat(4)).replace('Q', &i.to_string())
            }))
            .chain(std::iter::once("-----END RSA PRIVATE KEY-----".to_owned()))
            .collect();
    for (n, part) in [&key[..4], &key[4..]].iter().enumerate() {
        let refs: Vec<&str> = part.iter().map(String::as_str).collect();
        let json = common::payload_json("/aws/lambda/keys", "k1", t0 + 1000 * n as i64, &refs);
        std::fs::write(dir.path().join(format!("q{n}.json")), json).expect("write");
    }
    std::fs::write(
        dir.path().join("p20-bad.json"),
        br#"{"awslogs":{"data":"@@@"}}"#,
    )
    .expect("write");
    // A text file of several blocks (over 4 MiB), secrets near both ends.
    let mut big = String::from("token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n");
    while big.len() < 9 << 20 {
        big.push_str("2026-11-25T10:00:00.000Z INFO request served in 12 ms for /v1/orders\n");
    }
    big.push_str("contact maria.keller84@mailbox.org\n");
    std::fs::write(dir.path().join("r-big.log"), big).expect("write");
    let d = dir.path().to_str().unwrap_or_default();
    let run = |threads: &str| {
        let out = logwarden(
            &[
                "replay",
                "--format",
                "json",
                "--threads",
                threads,
                d,
                "samples",
                "tests/fixtures/cloudtrail",
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "the bad file is an error");
        out
    };
    let one = run("1");
    let all = alerts(&one);
    let rules: Vec<&str> = all.iter().filter_map(|a| a["rule_id"].as_str()).collect();
    for r in [
        "auth-failure-burst",
        "private-key-rsa",
        "github-pat-classic",
        "email-address",
    ] {
        assert!(rules.contains(&r), "the corpus exercises {r}: {rules:?}");
    }
    assert!(
        all.iter().any(|a| a["held_back"].as_u64().unwrap_or(0) > 0),
        "the storm limiter held some alerts back"
    );
    for threads in ["2", "3", "8"] {
        let many = run(threads);
        assert_same_lines(&one.stdout, &many.stdout, &format!("--threads {threads}"));
        assert_eq!(
            one.stderr, many.stderr,
            "--threads {threads}: errors differ"
        );
    }
}

/// One large subscription payload alone (a cold start's input): its one worker finds the
/// other threads idle and analyses the payload's events on them too, in stretches. The alerts,
/// a threshold counted across the stretches among them, are those of one thread.
#[test]
fn replay_of_one_large_payload_uses_idle_threads_and_agrees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let msgs: Vec<String> = (0..2000usize)
        .map(|k| match k % 23 {
            0 => serde_json::json!({"eventType": "security", "type": "authentication_failed",
                "severity": "medium", "details": {"sourceIp": "198.51.100.7",
                "userId": format!("u-{k}"), "reason": "invalid_password"}})
            .to_string(),
            7 => format!("INFO charge sk_live_{:024}", k * 7919),
            _ => format!(
                "INFO request {k} served in 12 ms {}",
                "path=/v1/orders ".repeat(30)
            ),
        })
        .collect();
    let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
    let payload = common::payload_json("/aws/lambda/auth", "s1", 1_795_600_800_000, &refs);
    assert!(payload.len() > 900_000, "large enough for four stretches");
    let file = dir.path().join("one.json");
    std::fs::write(&file, common::lambda_event(&payload)).expect("write");
    let f = file.to_str().unwrap_or_default();
    let run = |threads: &str| {
        logwarden(
            &["replay", "--format", "json", "--threads", threads, f],
            None,
        )
    };
    let one = run("1");
    let all = alerts(&one);
    assert!(all.iter().any(|a| a["kind"] == "threshold"), "{all:?}");
    assert!(
        all.iter().any(|a| a["rule_id"] == "stripe-secret-key"),
        "{all:?}"
    );
    for threads in ["2", "4"] {
        let many = run(threads);
        assert_same_lines(&one.stdout, &many.stdout, &format!("--threads {threads}"));
        assert_eq!(
            one.stderr, many.stderr,
            "--threads {threads}: errors differ"
        );
    }
}

/// The same on CloudTrail read as CloudTrail (the intrusion scenarios and Stratus techniques
/// with the trail's stream name): workers evaluate the event rules ahead and read the calls the
/// session stage needs, and hand the records something matched in parsed to the ordered
/// driver, so sessions, incidents, bursts and the lateness watermark must still see every
/// record in order.
#[test]
fn replay_threads_agree_on_cloudtrail() {
    let run = |threads: &str| {
        let out = logwarden(
            &[
                "replay",
                "--format",
                "json",
                "--stats",
                "--threads",
                threads,
                "--log-stream",
                "123456789012_CloudTrail_us-east-1",
                "tests/fixtures/cloudtrail/intrusions",
                "tests/fixtures/cloudtrail/stratus",
            ],
            None,
        );
        // The counters, without the lines that measure this run (time, memory).
        let stats: Vec<String> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.starts_with("time:") && !l.starts_with("peak RSS:"))
            .map(str::to_owned)
            .collect();
        (out.stdout, stats)
    };
    let (one, one_stats) = run("1");
    assert!(
        alerts_in(&one).iter().any(|a| a["kind"] == "incident"),
        "the scenarios raise incidents"
    );
    // The session stage reads the calls the workers read (never the records again).
    assert!(
        alerts_in(&one)
            .iter()
            .any(|a| a["rule_id"] == "aws-compute-credentials-used-outside"),
        "the scenarios use stolen compute credentials"
    );
    assert!(
        one_stats.iter().any(|l| l.starts_with("correlation:")),
        "{one_stats:?}"
    );
    for threads in ["2", "5"] {
        let (many, many_stats) = run(threads);
        assert_same_lines(&one, &many, &format!("--threads {threads}"));
        assert_eq!(
            one_stats, many_stats,
            "--threads {threads}: counters differ"
        );
    }
}

/// `explain --format json` runs the pipeline it explains: every event, secret and PII alert
/// replay sends (samples, Stratus techniques, the intrusion scenarios) is listed by explain
/// under the same alert id, rule and severity. A burst summary (an alert with `count`) names
/// events explain marked `grouped`: explain must say so for one of them.
#[test]
fn explain_names_every_alert_replay_sends() {
    let trail = ["--log-stream", "123456789012_CloudTrail_us-east-1"];
    let cases: [(&str, &[&str]); 3] = [
        ("samples", &[]),
        ("tests/fixtures/cloudtrail/stratus", &trail),
        ("tests/fixtures/cloudtrail/intrusions", &trail),
    ];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut checked = 0;
    for (dir, extra) in cases {
        let path = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
        let run = |cmd: &str| {
            let mut args = vec![cmd, "--format", "json"];
            args.extend_from_slice(extra);
            args.push(&path);
            logwarden(&args, None)
        };
        let sent = alerts(&run("replay"));
        let explained: Vec<Value> = String::from_utf8_lossy(&run("explain").stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let mut said = std::collections::HashSet::new();
        let mut grouped = std::collections::HashSet::new();
        for e in &explained {
            for a in e["alerts"].as_array().into_iter().flatten() {
                said.insert((text(&a["id"]), text(&a["rule_id"]), text(&a["severity"])));
            }
            for d in e["decisions"].as_array().into_iter().flatten() {
                if d["fate"] == "grouped" {
                    grouped.insert((
                        text(&e["log_group"]),
                        text(&e["event_id"]),
                        text(&d["rule_id"]),
                        text(&d["severity"]),
                    ));
                }
            }
        }
        assert!(!explained.is_empty(), "{dir}: explain printed nothing");
        for a in sent
            .iter()
            .filter(|a| matches!(a["kind"].as_str(), Some("event" | "secret" | "pii")))
        {
            let (rule, severity) = (text(&a["rule_id"]), text(&a["severity"]));
            let named = said.contains(&(text(&a["id"]), rule.clone(), severity.clone()))
                || (a["count"].is_u64()
                    && a["event_ids"].as_array().into_iter().flatten().any(|id| {
                        grouped.contains(&(
                            text(&a["log_group"]),
                            text(id),
                            rule.clone(),
                            severity.clone(),
                        ))
                    }));
            assert!(named, "{dir}: explain does not name {a}");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

/// `replay` on the command line sets its reader and workers going before the detector set is
/// built, so that reading and decoding overlap the build: a replay started so gives the alerts
/// of the plain one-thread replay, and one dropped before it runs (its build failed) stops its
/// threads instead of leaving them waiting for an engine.
#[test]
fn replay_started_before_its_detectors_agrees() {
    use logwarden::mask::Fingerprinter;
    use logwarden::replay::{Naming, Replay, replay};
    use logwarden::settings::{Parts, Settings};
    use std::sync::Arc;

    let dir = tempfile::tempdir().expect("tempdir");
    // Three inputs: two subscription payloads with a failed-login burst and a leaked key, and
    // a plain log.
    let mut paths = Vec::new();
    for (i, group) in ["/aws/lambda/auth", "/aws/lambda/pay"].iter().enumerate() {
        let msgs: Vec<String> = (0..60usize)
            .map(|k| match k % 5 {
                0 => serde_json::json!({"eventType": "security", "type": "authentication_failed",
                    "details": {"sourceIp": "198.51.100.9", "userId": format!("u-{k}")}})
                .to_string(),
                3 => format!("INFO charge sk_live_{:024}", (i * 100 + k) * 7919),
                _ => format!("INFO request {k} served"),
            })
            .collect();
        let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
        let payload = common::payload_json(group, "s1", 1_795_600_800_000, &refs);
        let p = dir.path().join(format!("e{i}.json"));
        std::fs::write(&p, common::lambda_event(&payload)).expect("write");
        paths.push(p);
    }
    let text = dir.path().join("app.log");
    std::fs::write(
        &text,
        "INFO boot\nWARN token ghp_0123456789abcdefABCDEF0123456789abcd\n",
    )
    .expect("write");
    paths.push(text);
    let inputs = logwarden::input::collect(&paths).inputs;
    let naming = Naming::default();
    let settings = Settings::from_lookup(|_| None).expect("settings");
    let detectors = Arc::new(settings.detectors().expect("detectors"));
    let key = Fingerprinter::new(b"replay-test-key-replay-test-key!");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let run = |early: bool| -> Vec<String> {
        let mut out = Vec::new();
        let mut local = |a: &logwarden::Alert| {
            out.push(serde_json::to_string(a).expect("alert json"));
        };
        let mut error = |e: String| panic!("replay error: {e}");
        rt.block_on(async {
            let started = early.then(|| Replay::start(&inputs, &naming, 2, &settings.config()));
            let parts = Parts::local(&settings, Arc::clone(&detectors), key.clone());
            let mut driver = parts.driver();
            match started {
                Some(r) => r.run(&mut driver, &mut local, &mut error).await,
                None => replay(&mut driver, &inputs, &naming, 1, &mut local, &mut error).await,
            }
            driver.finish(&mut local).await.expect("finish");
        });
        out
    };
    let (late, early) = (run(false), run(true));
    assert!(
        late.iter().any(|a| a.contains("stripe-secret-key"))
            && late.iter().any(|a| a.contains("\"threshold\"")),
        "{late:?}"
    );
    assert_eq!(late, early);

    // Dropped before it runs: the drop waits for the threads, which must end.
    let (done, finished) = std::sync::mpsc::channel();
    let (inputs2, config) = (inputs.clone(), settings.config());
    std::thread::spawn(move || {
        drop(Replay::start(&inputs2, &Naming::default(), 2, &config));
        let _ = done.send(());
    });
    assert!(
        finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .is_ok(),
        "a replay dropped before running left its threads waiting"
    );
}

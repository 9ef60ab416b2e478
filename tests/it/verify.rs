//! `--verify` end to end, against a local stand-in for the providers (no real network): STS
//! `GetCallerIdentity` for AWS key pairs, GitHub `GET /user`, Slack `auth.test`, Stripe
//! `GET /v1/balance`, OpenAI `GET /v1/models`. The stand-in answers as each provider does
//! for a working and a refused key, and counts the calls per key.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::shapes::{ALNUM, BASE32, Rng};

/// A deterministic token body of `n` characters from `alphabet` (high entropy, like a real
/// key), different for each `seed`.
fn token(seed: u64, n: usize, alphabet: &[u8]) -> String {
    Rng(seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407))
    .pick(alphabet, n)
}

/// The keys of the test: which work, which do not.
struct Keys {
    github_live: String,
    github_revoked: String,
    slack_live: String,
    slack_revoked: String,
    stripe_live: String,
    openai_revoked: String,
    aws_live_id: String,
    aws_live_secret: String,
    aws_revoked_id: String,
    aws_revoked_secret: String,
    aws_lonely_id: String,
}

impl Keys {
    fn new() -> Self {
        let openai = |s| {
            format!(
                "sk-proj-{}T3BlbkFJ{}",
                token(s, 40, ALNUM),
                token(s + 100, 40, ALNUM)
            )
        };
        Keys {
            github_live: format!("ghp_{}", token(1, 36, ALNUM)),
            github_revoked: format!("ghp_{}", token(2, 36, ALNUM)),
            slack_live: format!("xoxb-5631389991{}-{}", 35, token(3, 24, ALNUM)),
            slack_revoked: format!("xoxb-5631389991{}-{}", 36, token(4, 24, ALNUM)),
            stripe_live: format!("sk_live_{}", token(5, 40, ALNUM)),
            openai_revoked: openai(6),
            aws_live_id: format!("AKIA{}", token(7, 16, BASE32)),
            aws_live_secret: token(8, 40, ALNUM),
            aws_revoked_id: format!("AKIA{}", token(9, 16, BASE32)),
            aws_revoked_secret: token(10, 40, ALNUM),
            aws_lonely_id: format!("AKIA{}", token(11, 16, BASE32)),
        }
    }

    fn all(&self) -> Vec<&str> {
        vec![
            &self.github_live,
            &self.github_revoked,
            &self.slack_live,
            &self.slack_revoked,
            &self.stripe_live,
            &self.openai_revoked,
            &self.aws_live_id,
            &self.aws_live_secret,
            &self.aws_revoked_id,
            &self.aws_revoked_secret,
            &self.aws_lonely_id,
        ]
    }
}

/// The providers' stand-in: answers on 127.0.0.1, counting calls per key.
struct Providers {
    url: String,
    calls: Arc<Mutex<HashMap<String, usize>>>,
}

fn serve(keys: Arc<Keys>) -> Providers {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let calls = Arc::new(Mutex::new(HashMap::new()));
    let counted = Arc::clone(&calls);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let keys = Arc::clone(&keys);
            let counted = Arc::clone(&counted);
            std::thread::spawn(move || answer(conn, &keys, &counted));
        }
    });
    Providers { url, calls }
}

fn answer(conn: TcpStream, keys: &Keys, calls: &Mutex<HashMap<String, usize>>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let mut auth = String::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if lower.starts_with("authorization:") {
            auth = h["authorization:".len()..].trim().to_owned();
        } else if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body);
    // STS signs with `Credential=<key id>/<date>/...`; the others send `Bearer <token>`.
    let key = match auth.split_once("Credential=") {
        Some((_, rest)) => rest.split('/').next().unwrap_or_default().to_owned(),
        None => auth.trim_start_matches("Bearer ").to_owned(),
    };
    *calls.lock().expect("lock").entry(key.clone()).or_default() += 1;
    let (status, content) = if body.contains("Action=GetCallerIdentity") {
        if key == keys.aws_live_id {
            (
                200,
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/leaked</Arn><UserId>AIDAEXAMPLEUSERID0001</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>0f0e0d0c-0000-4000-8000-000000000001</RequestId></ResponseMetadata></GetCallerIdentityResponse>".to_owned(),
            )
        } else {
            (
                403,
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>0f0e0d0c-0000-4000-8000-000000000002</RequestId></ErrorResponse>".to_owned(),
            )
        }
    } else if path == "/api/auth.test" {
        let ok = key == keys.slack_live;
        (
            200,
            if ok {
                r#"{"ok":true,"team":"acme","user":"bot"}"#.to_owned()
            } else {
                r#"{"ok":false,"error":"invalid_auth"}"#.to_owned()
            },
        )
    } else if path.starts_with("/slow") {
        // Accepts and never answers (longer than a call may wait).
        std::thread::sleep(std::time::Duration::from_secs(10));
        return;
    } else {
        let live = [&keys.github_live, &keys.stripe_live].contains(&&key);
        let expected = matches!(path.as_str(), "/user" | "/v1/balance" | "/v1/models");
        match (expected, live) {
            (true, true) => (200, "{}".to_owned()),
            (true, false) => (401, r#"{"message":"Bad credentials"}"#.to_owned()),
            (false, _) => (404, "{}".to_owned()),
        }
    };
    let mut out = conn;
    let _ = write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{content}",
        content.len()
    );
}

fn replay(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logwarden"))
        .arg("replay")
        .args(["--format", "json", "--log-group", "/aws/lambda/app"])
        .args(args)
        .arg("-")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn logwarden");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    child.wait_with_output().expect("logwarden runs")
}

fn lines(k: &Keys) -> String {
    [
        format!(
            "INFO git remote https://x-access-token:{}@github.com/acme/a.git",
            k.github_live
        ),
        format!(
            "INFO git remote https://x-access-token:{}@github.com/acme/b.git",
            k.github_revoked
        ),
        format!("INFO SLACK_BOT_TOKEN={}", k.slack_live),
        format!("INFO SLACK_BOT_TOKEN={}", k.slack_revoked),
        format!(r#"INFO config loaded {{"stripe":"{}"}}"#, k.stripe_live),
        format!("INFO OPENAI_API_KEY={}", k.openai_revoked),
        format!(
            "DEBUG env dump: AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}",
            k.aws_live_id, k.aws_live_secret
        ),
        format!(
            "DEBUG env dump: AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}",
            k.aws_revoked_id, k.aws_revoked_secret
        ),
        format!(
            "WARN boto3 client created aws_access_key_id={}",
            k.aws_lonely_id
        ),
        // The same GitHub key again in another event: answered from the cache.
        format!(
            "INFO retry with https://x-access-token:{}@github.com/acme/c.git",
            k.github_live
        ),
    ]
    .join("\n")
}

fn by_masked<'a>(alerts: &'a [Value], rule: &str, key: &str) -> &'a Value {
    let masked_end = &key[key.len() - 4..];
    alerts
        .iter()
        .find(|a| {
            a["rule_id"] == rule
                && a["evidence"]["masked"]
                    .as_str()
                    .is_some_and(|m| m.ends_with(masked_end) && m.starts_with(&key[..4]))
        })
        .unwrap_or_else(|| panic!("no {rule} alert for the key ending {masked_end}"))
}

/// Each key is asked about once with its provider's read-only call, and the alert says what
/// the provider answered: a working key is `live` at critical severity, a refused one
/// `revoked` at the rule's severity, an AWS key id without its secret key `unknown` (nothing
/// to ask with). No key appears in clear in the output.
#[test]
fn verify_asks_each_provider_once_and_says_what_it_answered() {
    let keys = Arc::new(Keys::new());
    let p = serve(Arc::clone(&keys));
    let endpoints: Vec<String> = ["aws", "github", "slack", "stripe", "openai"]
        .iter()
        .map(|name| format!("{name}={}", p.url))
        .collect();
    let mut args = vec!["--verify", "--storm-control", "off"];
    for e in &endpoints {
        args.extend(["--verify-endpoint", e.as_str()]);
    }
    let out = replay(&args, &lines(&keys));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "alerts found; stderr: {stderr}");
    let alerts: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let check = |rule: &str, key: &str, verified: &str, severity: &str| {
        let a = by_masked(&alerts, rule, key);
        assert_eq!(a["verified"], verified, "{rule}: {a}");
        assert_eq!(a["severity"], severity, "{rule}: {a}");
    };
    check("github-pat-classic", &keys.github_live, "live", "critical");
    check(
        "github-pat-classic",
        &keys.github_revoked,
        "revoked",
        "high",
    );
    check("slack-bot-token", &keys.slack_live, "live", "critical");
    check("slack-bot-token", &keys.slack_revoked, "revoked", "high");
    check("stripe-secret-key", &keys.stripe_live, "live", "critical");
    check("openai-api-key", &keys.openai_revoked, "revoked", "high");
    check("aws-access-key-id", &keys.aws_live_id, "live", "critical");
    check(
        "aws-secret-access-key",
        &keys.aws_live_secret,
        "live",
        "critical",
    );
    check(
        "aws-access-key-id",
        &keys.aws_revoked_id,
        "revoked",
        "critical",
    );
    check(
        "aws-secret-access-key",
        &keys.aws_revoked_secret,
        "revoked",
        "critical",
    );
    check(
        "aws-access-key-id",
        &keys.aws_lonely_id,
        "unknown",
        "critical",
    );
    let github_alerts = alerts
        .iter()
        .filter(|a| a["rule_id"] == "github-pat-classic" && a["verified"] == "live")
        .count();
    assert_eq!(github_alerts, 2, "the key logged twice is live both times");
    let calls = p.calls.lock().expect("lock").clone();
    for key in [
        &keys.github_live,
        &keys.github_revoked,
        &keys.slack_live,
        &keys.slack_revoked,
        &keys.stripe_live,
        &keys.openai_revoked,
        &keys.aws_live_id,
        &keys.aws_revoked_id,
    ] {
        assert_eq!(
            calls.get(key.as_str()),
            Some(&1),
            "calls for one key: {calls:?}"
        );
    }
    assert_eq!(calls.get(keys.aws_lonely_id.as_str()), None, "{calls:?}");
    for key in keys.all() {
        assert!(!stdout.contains(key), "a key in clear in the alerts");
        assert!(!stderr.contains(key), "a key in clear on stderr");
    }
}

/// Without `--verify` nothing is asked and alerts carry no `verified`; with it, a provider
/// that does not answer (a refused connection, a call that hangs) leaves the key `unknown`
/// and the run still ends with every alert.
#[test]
fn verify_is_off_by_default_and_a_silent_provider_is_unknown() {
    let keys = Arc::new(Keys::new());
    let p = serve(Arc::clone(&keys));
    let plain = replay(&["--storm-control", "off"], &lines(&keys));
    let plain: Vec<Value> = String::from_utf8_lossy(&plain.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert!(plain.len() >= 11, "{}", plain.len());
    assert!(plain.iter().all(|a| a.get("verified").is_none()));
    assert!(p.calls.lock().expect("lock").is_empty());

    // A port nothing listens on, and an endpoint that accepts and never answers.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let github = format!("github={closed_url}");
    let slack = format!("slack={}/slow?", p.url);
    let out = replay(
        &[
            "--verify",
            "--storm-control",
            "off",
            "--verify-endpoint",
            &github,
            "--verify-endpoint",
            &slack,
        ],
        &lines(&keys),
    );
    let alerts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(alerts.len(), plain.len(), "every alert still goes out");
    for (rule, key) in [
        ("github-pat-classic", &keys.github_live),
        ("slack-bot-token", &keys.slack_live),
    ] {
        let a = by_masked(&alerts, rule, key);
        assert_eq!(a["verified"], "unknown", "{a}");
        assert_eq!(a["severity"], "high", "{a}");
    }
}

//! Attacks by someone who controls some of the log content (issue 25): an application's log
//! lines, the request fields API Gateway and WAF log, a low-privilege principal's CloudTrail
//! activity. Each test states what a user relies on and tries it with varied inputs, the way
//! such an attacker would. The classes:
//!
//! 1. storm control cannot be drained;
//! 2. records cannot be forged;
//! 3. every distinct value gets its own alert and fingerprint;
//! 4. linear time on every line (processed here; measured by `benches/adversarial.rs`);
//! 5. self-protection by identity;
//! 6. decoding an attacker chooses;
//! 7. outputs cannot be written into.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use logwarden::alert::EventRef;
use logwarden::correlate::sliding::{Limits as WindowLimits, Measure, Point, SlidingWindows, Spec};
use logwarden::engine::{Findings, MAX_VALUES_PER_EVENT, MAX_VALUES_PER_RULE};
use logwarden::mask::Fingerprinter;
use logwarden::pipeline::Observer;
use logwarden::policy::{Fate, PolicyConfig};
use logwarden::settings::{Parts, Settings};
use logwarden::sink::sns::{self, SnsFormat};
use logwarden::time::EventTime;
use logwarden::{
    Alert, Config, DetectorSet, FindingKind, Pipeline, Record, Severity, Stats, TextSource,
};
use serde_json::{Value, json};

use crate::common::*;

use crate::shapes::{
    self, ALNUM, APP_GROUP as APP, APP_STREAM, Rng, TRAIL_GROUP as TRAIL, TRAIL_STREAM,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const REQ: &str = "6c2e9b14-3f7a-4d85-a0c1-9e4b7d2f5a38";
const ACCOUNT: &str = "123456789012";
const ADMIN: &str = "arn:aws:iam::123456789012:user/ops-admin";
const ROOT: &str = "arn:aws:iam::123456789012:root";
const STRIPE: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
const STRIPE_2: &str = "sk_live_9fD82JrMzxQbPotUu3ep8k2A";
const GITHUB: &str = "ghp_R8mK2vX9qL4tW7zC1bN5yH3dF6gJ0pS2uA8e";
const GITHUB_2: &str = "ghp_eBJW2XWtXLEGfdiX5G0da9eH1BanbxuXgeLu";

fn builtin() -> Arc<DetectorSet> {
    static SET: OnceLock<Arc<DetectorSet>> = OnceLock::new();
    Arc::clone(SET.get_or_init(|| Arc::new(DetectorSet::builtin().expect("built-in"))))
}

fn no_storm() -> Config {
    Config {
        policy: PolicyConfig {
            storm: None,
            ..PolicyConfig::default()
        },
        ..Config::default()
    }
}

/// A role session of an unprivileged role.
fn role(session: &str) -> String {
    format!("arn:aws:sts::123456789012:assumed-role/batch-worker-role/{session}")
}

/// One log event to run: where it is read from, its time (ms after [`T0`]) and its message.
#[derive(Debug, Clone)]
struct Ev {
    group: String,
    stream: String,
    t: i64,
    msg: String,
}

fn ev(group: &str, stream: &str, t: i64, msg: impl Into<String>) -> Ev {
    Ev {
        group: group.to_owned(),
        stream: stream.to_owned(),
        t,
        msg: msg.into(),
    }
}

/// An event of an application's log group.
fn app(t: i64, msg: impl Into<String>) -> Ev {
    ev(APP, APP_STREAM, t, msg)
}

/// An event of the CloudTrail log group (the stream CloudTrail names).
fn trail(t: i64, msg: impl Into<String>) -> Ev {
    ev(TRAIL, TRAIL_STREAM, t, msg)
}

/// The id the runner gives the `i`-th event.
fn id(i: usize) -> String {
    format!("ev-{i:05}")
}

/// RFC 3339 of `t` ms after [`T0`].
fn iso(t: i64) -> String {
    EventTime::from_millis(T0 + t)
        .map(EventTime::to_rfc3339)
        .unwrap_or_default()
}

/// A Node.js runtime line.
fn node(t: i64, msg: &str) -> String {
    format!("{}\t{REQ}\tINFO\t{msg}", iso(t))
}

/// Records every decision of the policy.
struct Decisions(Arc<Mutex<Vec<(Alert, Fate)>>>);

impl Observer for Decisions {
    fn event(&mut self, _: &EventRef<'_>, _: Option<&Record<'_>>, _: &Findings) {}
    fn decision(&mut self, alert: &Alert, fate: &Fate) {
        if let Ok(mut v) = self.0.lock() {
            v.push((alert.clone(), fate.clone()));
        }
    }
}

/// What a run gave: the alerts sent while processing, those sent when it finished (burst
/// summaries, storm digest), every decision, and the counters.
#[derive(Debug, Default)]
struct Outcome {
    during: Vec<Alert>,
    finish: Vec<Alert>,
    decisions: Vec<(Alert, Fate)>,
    stats: Stats,
}

impl Outcome {
    fn all(&self) -> impl Iterator<Item = &Alert> {
        self.during.iter().chain(&self.finish)
    }

    fn of(&self, rule: &str) -> Vec<&Alert> {
        self.all().filter(|a| a.rule_id == rule).collect()
    }

    fn about(&self, event: &str) -> Vec<&Alert> {
        self.all()
            .filter(|a| a.event_ids.iter().any(|e| e == event))
            .collect()
    }

    /// The alerts in one line each, for failure messages.
    fn listing(&self) -> String {
        self.all()
            .map(|a| {
                format!(
                    "{} {} {:?} {:?}",
                    a.rule_id, a.severity, a.event_ids, a.title
                )
            })
            .collect::<Vec<_>>()
            .join("\n  ")
    }
}

/// Runs `events` through `p`, consecutive events of one log group and stream as one
/// subscription payload (the `i`-th event gets [`id`]`(i)`), then finishes.
fn run_in(mut p: Pipeline, events: &[Ev]) -> Outcome {
    let log = Arc::new(Mutex::new(Vec::new()));
    p.observe(Box::new(Decisions(Arc::clone(&log))));
    let mut out = Outcome::default();
    let mut i = 0;
    while i < events.len() {
        let (g, s) = (events[i].group.clone(), events[i].stream.clone());
        let mut j = i;
        while j < events.len() && j - i < 500 && events[j].group == g && events[j].stream == s {
            j += 1;
        }
        let evs: Vec<Value> = (i..j)
            .map(|k| json!({"id": id(k), "timestamp": T0 + events[k].t, "message": events[k].msg}))
            .collect();
        let payload = json!({"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": g,
            "logStream": s, "subscriptionFilters": ["logwarden"], "logEvents": evs});
        p.process_input(
            payload.to_string().as_bytes(),
            &TextSource::default(),
            &mut |a| out.during.push(a),
        )
        .expect("decodes");
        i = j;
    }
    p.finish(&mut |a| out.finish.push(a));
    out.stats = p.take_stats();
    out.decisions = log
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default();
    out
}

/// Runs `events` through a pipeline of the built-in rules with the default settings.
fn run(events: &[Ev]) -> Outcome {
    run_in(Pipeline::new(builtin(), Config::default()), events)
}

fn uid() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h >> 32,
        n & 0xffff,
        (h >> 8) & 0xfff,
        (h >> 20) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

/// The `userIdentity` of a caller, from its ARN.
fn identity(arn: &str) -> Value {
    let account = arn.split(':').nth(4).unwrap_or(ACCOUNT);
    if arn.ends_with(":root") {
        json!({"type": "Root", "principalId": account, "arn": arn, "accountId": account,
            "accessKeyId": "ASIAZ5OQRSTUVWXYZ234"})
    } else if let Some(user) = arn.split(":user/").nth(1) {
        json!({"type": "IAMUser", "principalId": "AIDAMGZP77JCXUJO5LQ4H", "arn": arn,
            "accountId": account, "accessKeyId": "ASIAXR22EPPW246DDHKO", "userName": user})
    } else {
        let rest = arn.split(":assumed-role/").nth(1).unwrap_or("role/session");
        let (role, session) = rest.split_once('/').unwrap_or((rest, "session"));
        json!({"type": "AssumedRole", "principalId": format!("AROA6PXTQ2KD4EXAMPLE3:{session}"),
            "arn": arn, "accountId": account, "accessKeyId": "ASIAQATN47XAKDWGVFCW",
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROA6PXTQ2KD4EXAMPLE3",
                "arn": format!("arn:aws:iam::{account}:role/{role}"), "accountId": account, "userName": role},
                "attributes": {"creationDate": "2026-11-25T08:12:44Z", "mfaAuthenticated": "false"}}})
    }
}

/// A CloudTrail record of `who` calling `source` / `name` at `t`, failed with `error` if given.
fn ct_value(
    who: &str,
    source: &str,
    name: &str,
    t: i64,
    params: Value,
    error: Option<&str>,
) -> Value {
    let mut r = json!({
        "eventVersion": "1.10",
        "userIdentity": identity(who),
        "eventTime": iso(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.218",
        "userAgent": "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1019-aws md/arch#x86_64 lang/python#3.12.6",
        "requestParameters": params,
        "responseElements": null,
        "requestID": uid(),
        "eventID": uid(),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management"
    });
    if let Some(code) = error {
        let service = source.split('.').next().unwrap_or("aws");
        r["errorCode"] = json!(code);
        r["errorMessage"] = json!(format!(
            "User: {who} is not authorized to perform: {service}:{name} because no identity-based policy allows the {service}:{name} action"
        ));
    }
    r
}

fn ct(who: &str, source: &str, name: &str, t: i64, params: Value, error: Option<&str>) -> String {
    ct_value(who, source, name, t, params, error).to_string()
}

fn stop_logging(who: &str, t: i64, error: Option<&str>) -> String {
    ct(
        who,
        "cloudtrail.amazonaws.com",
        "StopLogging",
        t,
        json!({"name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events"}),
        error,
    )
}

/// An application security event.
fn sec(t: i64, kind: &str, severity: &str, ip: &str, user: &str) -> String {
    json!({"timestamp": iso(t), "eventType": "security", "type": kind, "severity": severity,
        "details": {"reason": "reported by the application", "sourceIp": ip,
            "userAgent": "python-requests/2.32.3", "userId": user, "endpoint": "/v1/auth/login",
            "requestCount": 1}})
    .to_string()
}

/// The ids of the rules that read CloudTrail records (their files).
fn cloudtrail_rules() -> BTreeSet<String> {
    builtin()
        .rules()
        .into_iter()
        .filter(|r| r.source.contains("cloudtrail") || r.source.contains("self-protection"))
        .map(|r| r.id)
        .collect()
}

fn logwarden(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logwarden"))
        .args(args)
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("logwarden-attack-tests"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run logwarden");
    if let Some(mut input) = child.stdin.take() {
        use std::io::Write;
        input.write_all(stdin).expect("stdin");
    }
    child.wait_with_output().expect("output")
}

/// The JSON alerts a replay printed.
fn printed(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Storm control cannot be drained
// ---------------------------------------------------------------------------------------------

/// Failed StopLogging calls by an unprivileged role (seven, or many, from one session or
/// several, with the error codes AWS gives) must not spend the alerts of the administrator's
/// real StopLogging that follows: it appears in a critical alert. The failed calls are
/// reported too, ranked below critical and saying the call failed.
/// A test variant: its name, its events (message, log group) and what it expects.
type Variant<'a> = (&'a str, Vec<(String, &'a str)>, &'a str);

#[test]
fn failed_stop_logging_calls_by_a_role_do_not_use_up_the_alert_of_an_administrators_stop_logging() {
    let one = role("i-0a7d3c9e5b1f24680");
    let variants: Vec<Variant<'_>> = vec![
        (
            "seven by one role",
            (0..7).map(|_| (one.clone(), "AccessDenied")).collect(),
            ADMIN,
        ),
        (
            "seven by three sessions of the role",
            (0..7)
                .map(|i| (role(&format!("probe-{}", i % 3)), "AccessDenied"))
                .collect(),
            ADMIN,
        ),
        (
            "forty with two error codes, then an SSO administrator",
            (0..40)
                .map(|i| {
                    (
                        one.clone(),
                        if i % 2 == 0 {
                            "AccessDenied"
                        } else {
                            "AccessDeniedException"
                        },
                    )
                })
                .collect(),
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_5c2f8a1e9d7b3046/dana.whitfield@example.com",
        ),
    ];
    let mut problems = Vec::new();
    for (name, failed, admin) in &variants {
        let mut events: Vec<Ev> = failed
            .iter()
            .enumerate()
            .map(|(i, (who, code))| {
                let t = i as i64 * 500;
                trail(t, stop_logging(who, t, Some(code)))
            })
            .collect();
        let at = failed.len() as i64 * 500 + 1000;
        events.push(trail(at, stop_logging(admin, at, None)));
        let out = run(&events);
        let admin_id = id(events.len() - 1);
        if !out
            .about(&admin_id)
            .iter()
            .any(|a| a.severity == Severity::Critical)
        {
            problems.push(format!(
                "{name}: the administrator's StopLogging is in no critical alert:\n  {}",
                out.listing()
            ));
        }
        let failed_ids: BTreeSet<String> = (0..failed.len()).map(id).collect();
        let about_failed: Vec<&Alert> = out
            .of("aws-cloudtrail-logging-stopped")
            .into_iter()
            .filter(|a| a.event_ids.iter().any(|e| failed_ids.contains(e)))
            .collect();
        if about_failed.is_empty() {
            problems.push(format!("{name}: the failed calls gave no alert at all"));
        }
        for a in about_failed {
            if a.severity >= Severity::Critical || !a.title.contains("failed") {
                problems.push(format!(
                    "{name}: a failed call's alert is {} and titled {:?}",
                    a.severity, a.title
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// High application security events from one user (five, or thirty) do not hold back a
/// critical one that follows, from another user or from the same one.
#[test]
fn a_critical_security_event_is_not_held_back_behind_high_ones() {
    let same = |n: usize| vec!["u-1".to_owned(); n];
    let variants: Vec<(&str, Vec<String>, &str)> = vec![
        ("five high from u-1, critical from u-2", same(5), "u-2"),
        ("thirty high from u-1, critical from u-2", same(30), "u-2"),
        ("five high from u-1, critical from u-1", same(5), "u-1"),
        (
            "twenty high from five users, critical from a sixth",
            (0..20).map(|i| format!("u-{}", i % 5)).collect(),
            "u-9",
        ),
    ];
    let mut problems = Vec::new();
    for (name, users, critical_user) in variants {
        let n = users.len();
        let mut events: Vec<Ev> = users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let t = i as i64 * 200;
                app(
                    t,
                    sec(
                        t,
                        "privilege_escalation_attempt",
                        "high",
                        "198.51.100.42",
                        u,
                    ),
                )
            })
            .collect();
        let at = n as i64 * 200 + 100;
        events.push(app(
            at,
            sec(
                at,
                "account_takeover",
                "critical",
                "203.0.113.7",
                critical_user,
            ),
        ));
        let out = run(&events);
        let critical = id(n);
        if !out
            .about(&critical)
            .iter()
            .any(|a| a.rule_id == "app-security-event-high" && a.severity == Severity::Critical)
        {
            problems.push(format!(
                "{name}: no critical alert for the critical event:\n  {}",
                out.listing()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A decoy token repeated many times in a line (before, after or around a real token) does
/// not hide the real one: both are reported, with different fingerprints, and the decoy's
/// evidence counts its repeats. Across lines, a decoy logged on every request does not hold
/// back a real token logged later.
#[test]
fn a_decoy_token_repeated_in_a_line_does_not_hide_a_real_token() {
    let mut problems = Vec::new();
    for (rule, decoy, real) in [
        ("stripe-secret-key", STRIPE, STRIPE_2),
        ("github-pat-classic", GITHUB, GITHUB_2),
    ] {
        for n in [3usize, 200, 5_000] {
            for place in ["after", "before", "between"] {
                let d = vec![decoy; n].join(" ");
                let decoys = if place == "between" { 2 * (n / 2) } else { n };
                let line = match place {
                    "after" => node(0, &format!("retrying with {d} then {real}")),
                    "before" => node(0, &format!("using {real}, cached {d}")),
                    _ => {
                        let half = vec![decoy; n / 2].join(",");
                        node(0, &format!("{half};{real};{half}"))
                    }
                };
                let out = run(&[app(0, line)]);
                let found = out.of(rule);
                let fps: BTreeSet<&str> = found
                    .iter()
                    .filter_map(|a| a.evidence.as_ref().map(|e| e.fingerprint.as_str()))
                    .collect();
                let counts: Vec<usize> = found
                    .iter()
                    .filter_map(|a| a.evidence.as_ref().map(|e| e.matches))
                    .collect();
                if found.len() != 2 || fps.len() != 2 {
                    problems.push(format!(
                        "{rule}, {n} decoys, real {place}: {} alert(s), {} fingerprint(s)",
                        found.len(),
                        fps.len()
                    ));
                } else if !counts.contains(&1) || !counts.contains(&decoys) {
                    problems.push(format!(
                        "{rule}, {n} decoys, real {place}: counts {counts:?}"
                    ));
                }
            }
        }
    }
    // Across lines: 60 requests log the decoy, then one logs the real token.
    let mut events: Vec<Ev> = (0..60)
        .map(|i| app(i * 500, node(i * 500, &format!("charging with {STRIPE}"))))
        .collect();
    events.push(app(
        30_500,
        node(30_500, &format!("charging with {STRIPE_2}")),
    ));
    let out = run(&events);
    if !out
        .during
        .iter()
        .any(|a| a.rule_id == "stripe-secret-key" && a.event_ids.contains(&id(60)))
    {
        problems.push("a decoy logged on 60 requests held back the real token after it".into());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// With storm control off (`PolicyConfig { storm: None }`, `--storm-control off`) every
/// alert is listed: a key logged on 40 requests, 12 StopLogging calls, 12 high events.
#[test]
fn storm_control_off_lists_every_alert() {
    let mut events: Vec<Ev> = (0..40)
        .map(|i| app(i * 500, node(i * 500, &format!("charging with {STRIPE}"))))
        .collect();
    for i in 0..12 {
        let t = 30_000 + i * 500;
        events.push(trail(
            t,
            stop_logging(&role("i-0a7d3c9e5b1f24680"), t, None),
        ));
    }
    for i in 0..12 {
        let t = 40_000 + i * 500;
        events.push(app(t, sec(t, "tampering", "high", "198.51.100.42", "u-1")));
    }
    let on = run(&events);
    let off = run_in(Pipeline::new(builtin(), no_storm()), &events);
    let counts = |o: &Outcome| {
        (
            o.of("stripe-secret-key").len(),
            o.of("aws-cloudtrail-logging-stopped").len(),
            o.of("app-security-event-high").len(),
        )
    };
    assert!(
        counts(&on).0 < 40,
        "storm control is on by default: {:?}",
        counts(&on)
    );
    assert_eq!(counts(&off), (40, 12, 12), "{}", off.listing());
    assert_eq!(off.stats.alerts_held_back, 0);

    // The CLI flag.
    let text: String = (0..40)
        .map(|i| format!("{}\n", node(i * 500, &format!("charging with {STRIPE}"))))
        .collect();
    let listed = |args: &[&str]| {
        printed(&logwarden(args, text.as_bytes()))
            .iter()
            .filter(|a| a["rule_id"] == "stripe-secret-key")
            .count()
    };
    assert_eq!(
        listed(&["replay", "--format", "json", "--storm-control", "off", "-"]),
        40
    );
    assert!(listed(&["replay", "--format", "json", "-"]) < 40);
}

/// Whoever had alerts held back is named by the end-of-run digest: twelve users with high
/// events, six roles with StopLogging calls.
#[test]
fn the_end_of_run_digest_names_every_held_back_principal() {
    let users: Vec<String> = (0..12).map(|i| format!("u-{:04}", 7 * i + 3)).collect();
    let roles: Vec<String> = (0..6).map(|i| role(&format!("worker-{i}"))).collect();
    let mut events = Vec::new();
    for round in 0..9 {
        for (k, u) in users.iter().enumerate() {
            let t = round * 1_000 + k as i64 * 10;
            events.push(app(t, sec(t, "tampering", "high", "198.51.100.42", u)));
        }
    }
    for round in 0..9 {
        for (k, r) in roles.iter().enumerate() {
            let t = 20_000 + round * 1_000 + k as i64 * 10;
            events.push(trail(t, stop_logging(r, t, None)));
        }
    }
    let out = run(&events);
    let held: BTreeSet<String> = out
        .decisions
        .iter()
        .filter(|(_, f)| *f == Fate::HeldBack)
        .filter_map(|(a, _)| a.principal.clone())
        .collect();
    let expected: BTreeSet<String> = users.iter().chain(&roles).cloned().collect();
    assert_eq!(held, expected, "every principal had alerts held back");
    let unnamed: Vec<&String> = held
        .iter()
        .filter(|p| {
            !out.finish
                .iter()
                .any(|a| a.principal.as_ref() == Some(*p) || a.title.contains(p.as_str()))
        })
        .collect();
    assert!(
        unnamed.is_empty(),
        "the digest does not name {unnamed:?}:\n  {}",
        out.finish
            .iter()
            .map(|a| format!("{} {:?} {:?}", a.rule_id, a.principal, a.title))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

/// An attacker who has alerts held back for over a thousand decoy user ids (that sort before
/// the victim's) cannot push the victim's held-back alerts out of the digest unnamed.
#[test]
fn the_digest_names_a_held_back_principal_even_after_a_flood_of_decoy_principals() {
    let mut events = Vec::new();
    for k in 0..1_100 {
        let u = format!("a-decoy-{k:04}");
        for r in 0..6 {
            let t = k as i64 * 40 + r;
            events.push(app(t, sec(t, "tampering", "high", "203.0.113.99", &u)));
        }
    }
    let start = 1_100 * 40;
    for r in 0..8 {
        let t = start + r * 100;
        events.push(app(
            t,
            sec(
                t,
                "privilege_escalation_attempt",
                "high",
                "198.51.100.7",
                "victim-admin",
            ),
        ));
    }
    let out = run(&events);
    assert!(
        out.decisions
            .iter()
            .any(|(a, f)| *f == Fate::HeldBack && a.principal.as_deref() == Some("victim-admin")),
        "the victim had alerts held back"
    );
    assert!(
        out.finish.iter().any(|a| {
            a.principal.as_deref() == Some("victim-admin") || a.title.contains("victim-admin")
        }),
        "the digest of {} alerts does not name victim-admin",
        out.finish.len()
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Records cannot be forged
// ---------------------------------------------------------------------------------------------

/// CloudTrail records an attacker could get an application to log.
fn forgeable_records() -> Vec<(&'static str, Value)> {
    let mut login = ct_value(
        ROOT,
        "signin.amazonaws.com",
        "ConsoleLogin",
        0,
        json!(null),
        None,
    );
    login["eventType"] = json!("AwsConsoleSignIn");
    login["responseElements"] = json!({"ConsoleLogin": "Success"});
    login["additionalEventData"] = json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"});
    vec![
        ("root console sign-in", login),
        (
            "root StopLogging",
            ct_value(
                ROOT,
                "cloudtrail.amazonaws.com",
                "StopLogging",
                0,
                json!({"name": "management-events"}),
                None,
            ),
        ),
        (
            "DeleteTrail",
            ct_value(
                ADMIN,
                "cloudtrail.amazonaws.com",
                "DeleteTrail",
                0,
                json!({"name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events"}),
                None,
            ),
        ),
        (
            "PutUserPolicy with an admin policy",
            ct_value(
                &role("gh-actions-7731"),
                "iam.amazonaws.com",
                "PutUserPolicy",
                0,
                json!({"userName": "svc-deploy", "policyName": "inline-admin",
                    "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}),
                None,
            ),
        ),
        (
            "logwarden's subscription deleted",
            ct_value(
                &role("i-0a7d3c9e5b1f24680"),
                "logs.amazonaws.com",
                "DeleteSubscriptionFilter",
                0,
                json!({"logGroupName": "/aws/lambda/orders-api", "filterName": "logwarden"}),
                None,
            ),
        ),
        (
            "GuardDuty detector deleted",
            ct_value(
                ADMIN,
                "guardduty.amazonaws.com",
                "DeleteDetector",
                0,
                json!({"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}),
                None,
            ),
        ),
    ]
}

/// The ways an application logs a record it received (`rec`) in a request, a webhook, an
/// import job: (how, log group, stream, message).
fn forgeries(rec: &Value) -> Vec<(&'static str, &'static str, &'static str, String)> {
    let text = rec.to_string();
    vec![
        ("the whole message", APP, APP_STREAM, text.clone()),
        ("a Node.js runtime line", APP, APP_STREAM, node(0, &text)),
        (
            "a Python runtime line",
            APP,
            APP_STREAM,
            format!("[INFO]\t{}\t{REQ}\t{text}", iso(0)),
        ),
        (
            "a Powertools message object",
            APP,
            APP_STREAM,
            json!({"level": "INFO", "location": "relay:42", "message": rec,
                "timestamp": "2026-11-25 10:00:00,000+0000", "service": "audit-relay", "cold_start": false,
                "function_name": "audit-relay", "function_request_id": REQ,
                "xray_trace_id": "1-67460476-bb7fd78ac5cf87a15746db42"})
            .to_string(),
        ),
        (
            "a request body logged as JSON",
            APP,
            APP_STREAM,
            json!({"method": "POST", "path": "/v1/webhooks/cloudtrail", "status": 202, "body": rec})
                .to_string(),
        ),
        (
            "a request body logged as a string",
            APP,
            APP_STREAM,
            json!({"method": "POST", "path": "/v1/import", "status": 202, "body": text}).to_string(),
        ),
        (
            "a Lambda JSON log message",
            APP,
            APP_STREAM,
            json!({"timestamp": iso(0), "level": "INFO", "requestId": REQ, "message": text})
                .to_string(),
        ),
        (
            "a trail file's shape",
            APP,
            APP_STREAM,
            json!({"Records": [rec]}).to_string(),
        ),
        (
            "a security event carrying it",
            APP,
            APP_STREAM,
            json!({"eventType": "security", "type": "audit_import", "severity": "low",
                "details": {"sourceIp": "203.0.113.5", "userId": "u-1", "body": rec}})
            .to_string(),
        ),
        ("an ECS task's log", "/ecs/payments", "web/payments/0f6a2b9c3d4e", text.clone()),
        (
            "an API Gateway access log group",
            "/aws/apigateway/orders-access",
            "0f6a2b9c3d4e4f5a8b7c1d2e3f4a5b6c",
            text.clone(),
        ),
        ("a WAF log group", "aws-waf-logs-edge", "cloudfront_edge_0", text.clone()),
        (
            "a Lambda log group with a CloudTrail-like stream name",
            APP,
            TRAIL_STREAM,
            text,
        ),
    ]
}

/// An application that logs a CloudTrail-shaped body (root sign-in, StopLogging, DeleteTrail,
/// a record inside a request body, in every shape applications log) raises no CloudTrail rule
/// alert: only CloudTrail sources hold CloudTrail records.
#[test]
fn cloudtrail_shaped_application_logs_raise_no_cloudtrail_alert() {
    let rules = cloudtrail_rules();
    assert!(rules.len() > 80, "{} CloudTrail rules", rules.len());
    let mut events = Vec::new();
    let mut labels = Vec::new();
    for (what, rec) in forgeable_records() {
        for (how, group, stream, msg) in forgeries(&rec) {
            events.push(ev(group, stream, events.len() as i64 * 1_000, msg));
            labels.push(format!("{what} in {how}"));
        }
    }
    let out = run(&events);
    let forged: Vec<String> = out
        .all()
        .filter(|a| rules.contains(&a.rule_id))
        .map(|a| {
            let which: Vec<&str> = a
                .event_ids
                .iter()
                .filter_map(|e| {
                    (0..events.len())
                        .find(|&i| id(i) == *e)
                        .map(|i| labels[i].as_str())
                })
                .collect();
            format!("{} from {which:?}", a.rule_id)
        })
        .collect();
    assert!(
        forged.is_empty(),
        "forged records alerted:\n{}",
        forged.join("\n")
    );
}

/// The same records read from a CloudTrail source (the stream `<account>_CloudTrail_<region>`)
/// do alert, each through a CloudTrail rule.
#[test]
fn the_same_records_from_a_cloudtrail_stream_do_alert() {
    let rules = cloudtrail_rules();
    let records = forgeable_records();
    let events: Vec<Ev> = records
        .iter()
        .enumerate()
        .map(|(i, (_, r))| trail(i as i64 * 60_000, r.to_string()))
        .collect();
    let out = run(&events);
    let silent: Vec<&str> = records
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            !out.about(&id(*i))
                .iter()
                .any(|a| rules.contains(&a.rule_id))
        })
        .map(|(_, (what, _))| *what)
        .collect();
    assert!(
        silent.is_empty(),
        "{silent:?} gave no CloudTrail alert:\n  {}",
        out.listing()
    );
}

/// A forged IAM policy change logged by an application opens no change burst for the
/// principal it names: the principal's real change two minutes later is alerted on its own,
/// at once, not folded into a summary of the forged burst.
#[test]
fn a_real_change_two_minutes_after_a_forged_one_is_not_folded_into_the_forged_burst() {
    let who = "arn:aws:sts::123456789012:assumed-role/ci-runner/gh-actions-7731";
    let forged = |t: i64| {
        ct_value(
            who,
            "iam.amazonaws.com",
            "PutUserPolicy",
            t,
            json!({"userName": "svc-deploy", "policyName": "p", "policyDocument": "{}"}),
            None,
        )
    };
    let mut problems = Vec::new();
    for (how, n) in [
        ("the whole message", 1),
        ("a Node.js runtime line", 3),
        ("a request body logged as JSON", 10),
    ] {
        let mut events: Vec<Ev> = (0..n)
            .map(|i| {
                let t = i as i64 * 1_000;
                let shapes = forgeries(&forged(t));
                let (_, g, s, m) = shapes
                    .into_iter()
                    .find(|(h, ..)| *h == how)
                    .expect("a shape");
                ev(g, s, t, m)
            })
            .collect();
        let real_at = (n as i64 - 1) * 1_000 + 120_000;
        events.push(trail(
            real_at,
            ct(
                who,
                "iam.amazonaws.com",
                "CreatePolicyVersion",
                real_at,
                json!({"policyArn": "arn:aws:iam::123456789012:policy/deploy", "setAsDefault": true,
                    "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iam:*\",\"Resource\":\"*\"}]}"}),
                None,
            ),
        ));
        let out = run(&events);
        let real = id(n);
        let fate = out
            .decisions
            .iter()
            .find(|(a, _)| {
                a.rule_id == "cis-cloudwatch-4-iam-policy-changes" && a.event_ids.contains(&real)
            })
            .map(|(_, f)| f.as_str());
        let sent_at_once = out.during.iter().any(|a| {
            a.rule_id == "cis-cloudwatch-4-iam-policy-changes"
                && a.event_ids.contains(&real)
                && a.count.is_none()
        });
        if !sent_at_once {
            problems.push(format!(
                "{n} forged change(s) in {how}: the real change was {fate:?}, not sent on its own"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 3. Every distinct value gets its own alert and fingerprint
// ---------------------------------------------------------------------------------------------

const KEY: &[u8] = b"attack tests: a fingerprint key of 32+ bytes";

fn keyed(set: Arc<DetectorSet>) -> Pipeline {
    Pipeline::with_fingerprints(set, Config::default(), Arc::new(Fingerprinter::new(KEY)))
}

/// A value suppressed by fingerprint in `suppressions.toml` (an accepted fixture key) placed
/// before a real one, once or many times, in one line or in the lines before, does not
/// silence the real one.
#[test]
fn a_suppressed_value_before_a_real_one_does_not_silence_the_real_one() {
    let fp = Fingerprinter::new(KEY);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("suppressions.toml"),
        format!(
            "[[suppress]]\nrule_id = \"stripe-secret-key\"\nfingerprint = \"{}\"\nreason = \"fixture key of the billing tests, revoked\"\nowner = \"appsec@example.com\"\nexpires = \"2999-01-31\"\n\n\
             [[suppress]]\nfingerprint = \"{}\"\nreason = \"token of the docs examples, revoked\"\nowner = \"appsec@example.com\"\nexpires = \"2999-01-31\"\n",
            fp.fingerprint(STRIPE.as_bytes()),
            fp.fingerprint(GITHUB.as_bytes())
        ),
    )
    .expect("write");
    let set = Arc::new(
        DetectorSet::builder()
            .builtin()
            .path(dir.path())
            .expect("suppressions")
            .build()
            .expect("builds"),
    );
    let mut problems = Vec::new();
    for (rule, decoy, real) in [
        ("stripe-secret-key", STRIPE, STRIPE_2),
        ("github-pat-classic", GITHUB, GITHUB_2),
    ] {
        let many = vec![decoy; 100].join(" ");
        let variants: Vec<(&str, Vec<Ev>)> = vec![
            (
                "decoy then real",
                vec![app(0, node(0, &format!("old {decoy} new {real}")))],
            ),
            (
                "100 decoys then real",
                vec![app(0, node(0, &format!("{many} {real}")))],
            ),
            (
                "JSON fields",
                vec![app(
                    0,
                    json!({"level": "INFO", "message": "rotated", "previous": decoy, "current": real,
                        "function_request_id": REQ})
                    .to_string(),
                )],
            ),
            ("decoy in 30 lines before", {
                let mut v: Vec<Ev> = (0..30)
                    .map(|i| app(i * 100, node(i * 100, &format!("key {decoy}"))))
                    .collect();
                v.push(app(3_100, node(3_100, &format!("key {real}"))));
                v
            }),
        ];
        for (name, events) in variants {
            let out = run_in(keyed(Arc::clone(&set)), &events);
            let fps: Vec<String> = out
                .of(rule)
                .iter()
                .filter_map(|a| a.evidence.as_ref().map(|e| e.fingerprint.clone()))
                .collect();
            if !fps.contains(&fp.fingerprint(real.as_bytes())) {
                problems.push(format!(
                    "{rule}, {name}: the real value was silenced ({fps:?})"
                ));
            }
            if fps.contains(&fp.fingerprint(decoy.as_bytes())) {
                problems.push(format!("{rule}, {name}: the suppressed value was sent"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every distinct value of a rule in one event is its own alert, with its own fingerprint and
/// id, up to the per-event bound; values past the bound are counted, not dropped silently.
#[test]
fn every_distinct_value_in_an_event_gets_its_own_alert_up_to_the_bound() {
    let mut r = Rng(0xfeed_5eed);
    let mut problems = Vec::new();
    for n in [2usize, 5, MAX_VALUES_PER_RULE, 40] {
        let keys: Vec<String> = (0..n)
            .map(|_| format!("sk_live_{}", r.pick(ALNUM, 24)))
            .collect();
        for shape in ["spaces", "json array"] {
            let msg = match shape {
                "spaces" => node(0, &format!("keys: {}", keys.join(" "))),
                _ => json!({"level": "INFO", "message": "config", "keys": keys, "function_request_id": REQ})
                    .to_string(),
            };
            let out = run(&[app(0, msg)]);
            let alerts = out.of("stripe-secret-key");
            let fps: BTreeSet<&str> = alerts
                .iter()
                .filter_map(|a| a.evidence.as_ref().map(|e| e.fingerprint.as_str()))
                .collect();
            let ids: BTreeSet<&str> = alerts.iter().map(|a| a.id.as_str()).collect();
            let want = n.min(MAX_VALUES_PER_RULE);
            if alerts.len() != want || fps.len() != want || ids.len() != want {
                problems.push(format!(
                    "{n} values ({shape}): {} alerts, {} fingerprints, {} ids",
                    alerts.len(),
                    fps.len(),
                    ids.len()
                ));
            }
            if n > MAX_VALUES_PER_RULE
                && out.stats.content_values_over_bound < (n - MAX_VALUES_PER_RULE) as u64
            {
                problems.push(format!(
                    "{n} values ({shape}): {} counted over the bound",
                    out.stats.content_values_over_bound
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A Luhn-valid 16-digit Visa number.
fn visa(seed: usize) -> String {
    let body = format!(
        "4{:014}",
        (seed as u64 * 7_919_000_013) % 100_000_000_000_000
    );
    let digits: Vec<u32> = body.bytes().map(|b| u32::from(b - b'0')).collect();
    let mut sum = 0;
    for (i, d) in digits.iter().rev().enumerate() {
        let v = if i % 2 == 0 { d * 2 } else { *d };
        sum += if v > 9 { v - 9 } else { v };
    }
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Decoy values of other rules (personal data an attacker puts in a request body: e-mail
/// addresses, phone numbers, SSNs, card numbers, enough to fill the per-event bound) placed
/// before a real secret in the same line do not silence the secret.
#[test]
fn decoy_personal_data_before_a_real_secret_does_not_silence_it() {
    let mut decoys = Vec::new();
    for i in 0..16 {
        decoys.push(format!("jan.kowalski{i}@acme-corp.pl"));
        decoys.push(format!("+4915123456{i:03}"));
        decoys.push(format!("ssn {}", 231_672_700 + i));
        decoys.push(visa(i + 1));
    }
    let body = decoys.join(" ");
    let mut problems = Vec::new();
    for (rule, secret) in [
        ("stripe-secret-key", STRIPE_2),
        ("github-pat-classic", GITHUB_2),
        ("aws-access-key-id", "AKIAQELVB76UREY5PQRF"),
    ] {
        for line in [
            node(0, &format!("signup body={body} headers.x-api-key={secret}")),
            json!({"level": "INFO", "message": "request", "body": body, "apiKey": secret,
                "function_request_id": REQ})
            .to_string(),
        ] {
            let out = run(&[app(0, line)]);
            let pii = out.all().filter(|a| a.kind == FindingKind::Pii).count();
            if out.of(rule).is_empty() {
                problems.push(format!(
                    "{rule}: silenced behind {pii} personal-data alerts (bound {MAX_VALUES_PER_EVENT})"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 4. Linear time on every line
// ---------------------------------------------------------------------------------------------

/// Every adversarial shape (an ARN swallowing thousands of AKIA-shaped ids, long runs of one
/// character, many keyword hits, deep nesting, many escapes, huge JSON arrays; see
/// `benches/adversarial_shapes.rs`, whose throughput `benches/adversarial.rs` measures) is
/// processed, gives a bounded number of content alerts, and leaves the pipeline working: a key
/// logged right after it is found.
#[test]
fn every_adversarial_line_is_processed_and_the_pipeline_keeps_working() {
    let mut problems = Vec::new();
    for s in shapes::shapes() {
        if s.message.len() > shapes::SIZE {
            problems.push(format!(
                "{}: the shape is {} bytes",
                s.name,
                s.message.len()
            ));
        }
        let events = vec![
            ev(s.group(), s.stream(), 0, s.message.clone()),
            app(1_000, node(1_000, &format!("charging with {STRIPE}"))),
        ];
        let out = run_in(Pipeline::new(builtin(), no_storm()), &events);
        if out.stats.events_processed != 2 || out.stats.events_truncated != 0 {
            problems.push(format!("{}: {:?}", s.name, out.stats));
        }
        let content = out
            .about(&id(0))
            .iter()
            .filter(|a| matches!(a.kind, FindingKind::Secret | FindingKind::Pii))
            .count();
        if content > MAX_VALUES_PER_EVENT {
            problems.push(format!(
                "{}: {content} content alerts for one event",
                s.name
            ));
        }
        if !out
            .of("stripe-secret-key")
            .iter()
            .any(|a| a.event_ids.contains(&id(1)))
        {
            problems.push(format!("{}: the key logged after it was missed", s.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 5. Self-protection by identity
// ---------------------------------------------------------------------------------------------

const FP_SECRET: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:logwarden-fingerprint-key-Ab12Cd";
const WINDOW_TABLE: &str = "logwarden-WindowTable-1ABCDEF2GHIJ";
const EVENT_BUS: &str = "logwarden-findings";

/// The Lambda's environment in a default deployment (stack and function `logwarden`).
fn deployed_env(k: &str) -> Option<String> {
    match k {
        "AWS_LAMBDA_FUNCTION_NAME" => Some("logwarden"),
        "AWS_LAMBDA_LOG_GROUP_NAME" => Some("/aws/lambda/logwarden"),
        "AWS_REGION" => Some("us-east-1"),
        "ALERT_TOPIC_ARN" => {
            Some("arn:aws:sns:us-east-1:123456789012:logwarden-AlertTopic-1Q2W3E4R5T6Y")
        }
        "FINGERPRINT_KEY_SECRET" => Some(FP_SECRET),
        "WINDOW_TABLE" => Some(WINDOW_TABLE),
        "EVENT_BUS_NAME" => Some(EVENT_BUS),
        _ => None,
    }
    .map(str::to_owned)
}

/// The pipeline the deployed Lambda builds from its environment (publishing nowhere).
fn deployed() -> Pipeline {
    static BUILT: OnceLock<(Settings, Arc<DetectorSet>)> = OnceLock::new();
    let (settings, detectors) = BUILT.get_or_init(|| {
        let settings = Settings::from_lookup(deployed_env).expect("settings");
        let detectors = Arc::new(settings.detectors().expect("detectors"));
        (settings, detectors)
    });
    Parts::local(settings, Arc::clone(detectors), Fingerprinter::new(KEY)).pipeline()
}

/// Runs `calls` (record, label) from the CloudTrail source through `p`; returns the labels
/// of the calls that got no event alert of at least `min`.
fn unflagged(p: Pipeline, calls: &[(String, String)], min: Severity) -> Vec<String> {
    let events: Vec<Ev> = calls
        .iter()
        .enumerate()
        .map(|(i, (r, _))| trail(i as i64 * 120_000, r.clone()))
        .collect();
    let out = run_in(p, &events);
    calls
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            !out.about(&id(*i))
                .iter()
                .any(|a| a.kind == FindingKind::Event && a.severity >= min)
        })
        .map(|(i, (_, label))| {
            let got: Vec<String> = out
                .about(&id(i))
                .iter()
                .map(|a| format!("{} {}", a.rule_id, a.severity))
                .collect();
            format!("{label} (got {got:?})")
        })
        .collect()
}

/// A subscription filter named `logwarden` pointed at another account's destination whose
/// name contains "logwarden" (a function, stream, Firehose or Logs destination, or an
/// account-level policy) sends the logs away: it is flagged. logwarden knows its own
/// resources by exact ARN, not by a name an attacker can copy. Its own deployment's filter is
/// not.
#[test]
fn a_subscription_filter_sent_to_another_accounts_destination_named_logwarden_is_flagged() {
    let who = role("i-0a7d3c9e5b1f24680");
    let put = |dest: &str| {
        ct(
            &who,
            "logs.amazonaws.com",
            "PutSubscriptionFilter",
            0,
            json!({"logGroupName": "/aws/lambda/orders-api", "filterName": "logwarden",
                "filterPattern": "", "destinationArn": dest}),
            None,
        )
    };
    let mut calls: Vec<(String, String)> = [
        "arn:aws:lambda:us-east-1:999988887777:function:logwarden",
        "arn:aws:kinesis:us-east-1:999988887777:stream/logwarden-LogStream-q7TnV2xWk4Rb",
        "arn:aws:logs:us-east-1:999988887777:destination:logwarden",
        "arn:aws:firehose:us-east-1:999988887777:deliverystream/logwarden-archive",
        "arn:aws:lambda:eu-west-1:999988887777:function:logwarden-ingest",
    ]
    .iter()
    .map(|d| (put(d), format!("PutSubscriptionFilter to {d}")))
    .collect();
    calls.push((
        ct(
            &who,
            "logs.amazonaws.com",
            "PutAccountPolicy",
            0,
            json!({"policyName": "logwarden-subscription", "policyType": "SUBSCRIPTION_FILTER_POLICY",
                "scope": "ALL",
                "policyDocument": "{\"DestinationArn\":\"arn:aws:lambda:us-east-1:999988887777:function:logwarden\",\"FilterPattern\":\"\",\"Distribution\":\"Random\"}"}),
            None,
        ),
        "PutAccountPolicy to another account's function logwarden".into(),
    ));
    let missed = unflagged(deployed(), &calls, Severity::High);
    assert!(missed.is_empty(), "not flagged:\n{}", missed.join("\n"));

    // The deployment's own filter, put by CloudFormation to its own function, is not flagged.
    let mut own = ct_value(
        "arn:aws:sts::123456789012:assumed-role/ci-runner/gh-actions-7731",
        "logs.amazonaws.com",
        "PutSubscriptionFilter",
        0,
        json!({"logGroupName": "/aws/lambda/billing-worker", "filterName": "logwarden",
            "filterPattern": "", "destinationArn": "arn:aws:lambda:us-east-1:123456789012:function:logwarden"}),
        None,
    );
    own["userIdentity"]["invokedBy"] = json!("cloudformation.amazonaws.com");
    own["sourceIPAddress"] = json!("cloudformation.amazonaws.com");
    let own = vec![(own.to_string(), "own filter".to_owned())];
    assert_eq!(
        unflagged(deployed(), &own, Severity::High).len(),
        1,
        "the deployment's own filter is flagged high"
    );
}

/// Overwriting the fingerprint key's secret (PutSecretValue, UpdateSecret; by ARN or by
/// name) changes every fingerprint and breaks every fingerprint suppression: it is flagged.
#[test]
fn overwriting_the_fingerprint_key_secret_raises_an_alert() {
    let who = role("i-0a7d3c9e5b1f24680");
    let calls: Vec<(String, String)> = [
        ("PutSecretValue", FP_SECRET, json!({"clientRequestToken": uid()})),
        ("PutSecretValue", "logwarden-fingerprint-key", json!({"clientRequestToken": uid()})),
        ("UpdateSecret", FP_SECRET, json!({"description": "rotated"})),
        (
            "UpdateSecret",
            FP_SECRET,
            json!({"kmsKeyId": "arn:aws:kms:us-east-1:999988887777:key/0f6a2b9c-3d4e-4f5a-8b7c-1d2e3f4a5b6c"}),
        ),
    ]
    .into_iter()
    .map(|(name, secret, mut params)| {
        params["secretId"] = json!(secret);
        (
            ct(&who, "secretsmanager.amazonaws.com", name, 0, params, None),
            format!("{name} of {secret}"),
        )
    })
    .collect();
    let missed = unflagged(deployed(), &calls, Severity::High);
    assert!(missed.is_empty(), "not flagged:\n{}", missed.join("\n"));
}

/// Deleting the window table (by name or ARN) drops every shared correlation window: flagged.
#[test]
fn deleting_the_window_table_raises_an_alert() {
    let calls: Vec<(String, String)> = [
        WINDOW_TABLE.to_owned(),
        format!("arn:aws:dynamodb:us-east-1:123456789012:table/{WINDOW_TABLE}"),
    ]
    .into_iter()
    .map(|t| {
        (
            ct(
                ADMIN,
                "dynamodb.amazonaws.com",
                "DeleteTable",
                0,
                json!({"tableName": t}),
                None,
            ),
            format!("DeleteTable {t}"),
        )
    })
    .collect();
    let missed = unflagged(deployed(), &calls, Severity::High);
    assert!(missed.is_empty(), "not flagged:\n{}", missed.join("\n"));
}

/// Disabling, deleting or emptying the SOC's EventBridge rule on logwarden's findings bus
/// (DisableRule, DeleteRule, RemoveTargets) stops findings reaching the SOC: flagged.
#[test]
fn disabling_the_socs_eventbridge_rule_raises_an_alert() {
    let who = role("i-0a7d3c9e5b1f24680");
    let rule = "logwarden-findings-to-soc";
    let calls: Vec<(String, String)> = [
        (
            "DisableRule",
            json!({"name": rule, "eventBusName": EVENT_BUS}),
        ),
        (
            "DeleteRule",
            json!({"name": rule, "eventBusName": EVENT_BUS, "force": false}),
        ),
        (
            "RemoveTargets",
            json!({"rule": rule, "eventBusName": EVENT_BUS, "ids": ["soc-queue"], "force": false}),
        ),
    ]
    .into_iter()
    .map(|(name, params)| {
        (
            ct(&who, "events.amazonaws.com", name, 0, params, None),
            name.to_owned(),
        )
    })
    .collect();
    let missed = unflagged(deployed(), &calls, Severity::High);
    assert!(missed.is_empty(), "not flagged:\n{}", missed.join("\n"));
}

/// A GuardDuty trusted IP list (CreateIPSet, UpdateIPSet) silences every finding about the
/// addresses on it: flagged.
#[test]
fn guardduty_trusted_ip_lists_raise_an_alert() {
    let who = role("i-0a7d3c9e5b1f24680");
    let detector = "12abc34d567e8fa901bc2d34e56789f0";
    let calls: Vec<(String, String)> = [
        (
            "CreateIPSet",
            json!({"detectorId": detector, "name": "office", "format": "TXT",
                "location": "https://s3.amazonaws.com/tmp-artifacts-5521/ips.txt", "activate": true}),
        ),
        (
            "UpdateIPSet",
            json!({"detectorId": detector, "ipSetId": "0cb0141ab9fbde177613ab9436212e90",
                "location": "https://s3.amazonaws.com/tmp-artifacts-5521/ips2.txt", "activate": true}),
        ),
    ]
    .into_iter()
    .map(|(name, params)| {
        (
            ct(&who, "guardduty.amazonaws.com", name, 0, params, None),
            name.to_owned(),
        )
    })
    .collect();
    let missed = unflagged(
        Pipeline::new(builtin(), Config::default()),
        &calls,
        Severity::High,
    );
    assert!(missed.is_empty(), "not flagged:\n{}", missed.join("\n"));
}

/// Turning S3 Block Public Access off, for a bucket or the account (s3
/// PutBucketPublicAccessBlock / DeleteBucketPublicAccessBlock, s3-control PutPublicAccessBlock,
/// logged as PutAccountPublicAccessBlock), prepares a bucket's exposure: flagged.
#[test]
fn turning_off_s3_block_public_access_raises_an_alert() {
    let who = role("i-0a7d3c9e5b1f24680");
    let off = json!({"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "BlockPublicAcls": false,
        "IgnorePublicAcls": false, "BlockPublicPolicy": false, "RestrictPublicBuckets": false});
    let calls: Vec<(String, String)> = [
        (
            "PutBucketPublicAccessBlock",
            json!({"bucketName": "acme-exports", "publicAccessBlock": "",
                "PublicAccessBlockConfiguration": off, "Host": "acme-exports.s3.us-east-1.amazonaws.com"}),
        ),
        (
            "DeleteBucketPublicAccessBlock",
            json!({"bucketName": "acme-exports", "publicAccessBlock": "",
                "Host": "acme-exports.s3.us-east-1.amazonaws.com"}),
        ),
        (
            "PutAccountPublicAccessBlock",
            json!({"PublicAccessBlockConfiguration": off, "x-amz-account-id": ACCOUNT}),
        ),
    ]
    .into_iter()
    .map(|(name, params)| {
        (
            ct(&who, "s3.amazonaws.com", name, 0, params, None),
            name.to_owned(),
        )
    })
    .collect();
    let missed = unflagged(
        Pipeline::new(builtin(), Config::default()),
        &calls,
        Severity::High,
    );
    assert!(missed.is_empty(), "not flagged:\n{}", missed.join("\n"));
}

/// A secret glued to an ARN by a character no ARN holds (`#`, `?`, `;`, `|`) is not "inside
/// the ARN": it is still found.
#[test]
fn a_secret_glued_to_an_arn_is_still_found() {
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/x-Ab12Cd";
    let cases = [
        ("stripe-secret-key", format!("{arn}#AWSCURRENT={STRIPE}")),
        (
            "stripe-secret-key",
            format!("{arn}?versionStage=AWSCURRENT&value={STRIPE}"),
        ),
        ("github-pat-classic", format!("{arn};token={GITHUB}")),
        ("github-pat-classic", format!("{arn}|{GITHUB}")),
        (
            "stripe-secret-key",
            format!("arn:aws:s3:::acme-artifacts/build.zip?token={STRIPE}"),
        ),
    ];
    let mut missed = Vec::new();
    for (rule, value) in &cases {
        for line in [
            node(0, &format!("resolved secret {value}")),
            json!({"level": "INFO", "message": "resolved", "secret": value, "function_request_id": REQ})
                .to_string(),
        ] {
            if run(&[app(0, line.clone())]).of(rule).is_empty() {
                missed.push(line);
            }
        }
    }
    assert!(missed.is_empty(), "not found:\n{}", missed.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 6. Decoding an attacker chooses
// ---------------------------------------------------------------------------------------------

/// Percent-encodes every byte but the unreserved ones.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Values whose rules need the characters percent-encoding hides.
fn encodable() -> [(&'static str, &'static str); 4] {
    [
        (
            "slack-webhook-url",
            "https://hooks.slack.com/services/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",
        ),
        (
            "aws-secret-access-key",
            "aws_secret_access_key=docIrjXn8OvnYozQ5YDXWsJD5JNfIsuCMs0lHGpZ",
        ),
        (
            "password-in-url",
            "https://deploy:yy9oh29jh1y3Bw@artifacts.internal.acme.io/releases/app-1.4.2.tgz",
        ),
        (
            "http-authorization-bearer",
            "Authorization: Bearer sQS30uWdxBAJtfXLQdpRKS86e8z8c1MAdMDc0YPa",
        ),
    ]
}

/// The contexts an encoded value is logged in: a query string, a JSON field.
fn in_contexts(enc: &str) -> [String; 2] {
    [
        node(0, &format!("GET /oauth/callback?state={enc}&code=4f1c 302")),
        json!({"level": "INFO", "message": "redirect", "next": format!("https://app.acme.io/login?next={enc}"),
            "function_request_id": REQ})
        .to_string(),
    ]
}

/// A token percent-encoded twice (a redirect URL inside a redirect URL) is found, as it is
/// when encoded once.
#[test]
fn a_token_percent_encoded_twice_is_found() {
    let mut problems = Vec::new();
    for (rule, value) in encodable() {
        for (times, enc) in [("once", pct(value)), ("twice", pct(&pct(value)))] {
            for line in in_contexts(&enc) {
                if run(&[app(0, line.clone())]).of(rule).is_empty() {
                    problems.push(format!("{rule}, encoded {times}: {line}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "not found:\n{}", problems.join("\n"));
}

/// AWS credentials as a JSON blob or a credentials file, base64-encoded (a config value, a
/// header, a Kubernetes secret), are found, as they are in clear.
#[test]
fn a_credential_blob_in_base64_is_found() {
    let blob = json!({"aws_access_key_id": "AKIAQELVB76UREY5PQRF",
        "aws_secret_access_key": "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"})
    .to_string();
    let file = "[default]\naws_access_key_id = AKIAQELVB76UREY5PQRF\naws_secret_access_key = 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\nregion = us-east-1\n";
    let found = |line: &str| {
        let out = run(&[app(0, line.to_owned())]);
        !out.of("aws-access-key-id").is_empty() || !out.of("aws-secret-access-key").is_empty()
    };
    assert!(
        found(&node(0, &format!("loaded {blob}"))),
        "the clear blob is found"
    );
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut missed = Vec::new();
    for (what, plain) in [("JSON blob", blob.as_str()), ("credentials file", file)] {
        let std = b64(plain.as_bytes());
        let safe = url.encode(plain.as_bytes());
        for line in [
            node(0, &format!("bootstrap creds={std}")),
            node(0, &format!("forwarding X-Credentials: {safe}")),
            json!({"level": "INFO", "message": "secret mounted", "function_request_id": REQ,
                "secret": {"kind": "Secret", "data": {"credentials": std}}})
            .to_string(),
        ] {
            if !found(&line) {
                missed.push(format!("{what}: {line}"));
            }
        }
    }
    assert!(missed.is_empty(), "not found:\n{}", missed.join("\n"));
}

/// An Azure SAS URL whose `sig=` comes some 300 bytes after `sv=` (many parameters between,
/// as long as the rule's own pattern allows: up to 400) is found, as it is when they are close.
#[test]
fn an_azure_sas_url_with_the_signature_far_after_its_version_is_found() {
    let sig = "%2BX7Jl6Ezhou9z%2F%2B0yf1cRUwtroBNtJoSzICJ80oByS8%3D";
    // `gap`: the bytes between `sv=2022-11-02&` and `sig=`.
    let url = |gap: usize| {
        let mut params = String::from(
            "ss=b&srt=o&sp=r&se=2026-12-01T00:00:00Z&st=2026-11-25T00:00:00Z&spr=https&rscd=attachment%3Bfilename%3Dreport.csv&x-ms-meta-trace=",
        );
        while params.len() + 1 < gap {
            params.push(char::from(b'a' + (params.len() % 26) as u8));
        }
        let url = format!(
            "https://exports066.blob.core.windows.net/reports/2026-11.csv?sv=2022-11-02&{params}&sig={sig}"
        );
        let (a, b) = (
            url.find("sv=2022-11-02&").unwrap_or(0) + 14,
            url.find("sig=").unwrap_or(0),
        );
        assert_eq!(b - a, gap, "{url}");
        url
    };
    let mut problems = Vec::new();
    for gap in [140, 300, 350, 395] {
        for line in [
            node(0, &format!("downloading {}", url(gap))),
            json!({"level": "INFO", "message": "upload url issued", "url": url(gap), "function_request_id": REQ})
                .to_string(),
        ] {
            if run(&[app(0, line)]).of("azure-storage-sas-token").is_empty() {
                problems.push(format!("sig= {gap} bytes after sv=: not found"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A PEM private key logged one line per event stays open when a concurrent request logs a
/// certificate's (or a public key's) end line in the same stream: the key is still found.
#[test]
fn a_certificate_end_from_a_concurrent_request_does_not_close_an_open_private_key_block() {
    let mut r = Rng(0x9e37_79b9);
    let b64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let body: Vec<String> = (0..12).map(|_| r.pick(b64, 64)).collect();
    let mut problems = Vec::new();
    for (name, intrusions) in [
        (
            "a certificate's end after line 2",
            vec![(2usize, "-----END CERTIFICATE-----")],
        ),
        (
            "a certificate's end after line 7",
            vec![(7, "-----END CERTIFICATE-----")],
        ),
        (
            "two ends of other blocks",
            vec![
                (1, "-----END CERTIFICATE-----"),
                (9, "-----END PUBLIC KEY-----"),
            ],
        ),
        (
            "an RSA public key's end",
            vec![(4, "-----END RSA PUBLIC KEY-----")],
        ),
    ] {
        let mut lines: Vec<(&str, String)> =
            vec![("r-key", "-----BEGIN RSA PRIVATE KEY-----".to_owned())];
        for (i, l) in body.iter().enumerate() {
            lines.push(("r-key", l.clone()));
            for (at, end) in &intrusions {
                if *at == i {
                    lines.push(("r-tls", (*end).to_owned()));
                }
            }
        }
        lines.push(("r-key", "-----END RSA PRIVATE KEY-----".to_owned()));
        let events: Vec<Ev> = lines
            .iter()
            .enumerate()
            .map(|(i, (req, l))| {
                let t = i as i64 * 10;
                app(t, format!("{}\t{req}\tINFO\t{l}", iso(t)))
            })
            .collect();
        let out = run(&events);
        let key = out.of("private-key-rsa");
        if key.is_empty() || !key.iter().any(|a| a.event_ids.contains(&id(0))) {
            problems.push(format!(
                "{name}: the key was not found across its events:\n  {}",
                out.listing()
            ));
        }
        if out.all().any(|a| a.to_json().contains(&body[3])) {
            problems.push(format!("{name}: a key line reached an alert"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// JSON nested `depth` levels deep (objects, or arrays).
fn nested(depth: usize, arrays: bool) -> String {
    if arrays {
        format!("{}\"x\"{}", "[".repeat(depth), "]".repeat(depth))
    } else {
        format!("{}\"x\"{}", "{\"a\":".repeat(depth), "}".repeat(depth))
    }
}

/// A security event whose attacker-supplied body is nested 130 levels deep (or far deeper)
/// still matches the rules on its other fields: a critical event alerts, and failed logins
/// carrying such bodies still make a burst.
#[test]
fn a_security_event_with_a_deeply_nested_body_still_matches_rules_on_its_other_fields() {
    let mut problems = Vec::new();
    for depth in [130usize, 200, 5_000] {
        for arrays in [false, true] {
            for body_first in [false, true] {
                let body = nested(depth, arrays);
                let fields = "\"eventType\":\"security\",\"type\":\"sql_injection_attempt\",\"severity\":\"critical\"";
                let details = format!(
                    "\"details\":{{\"sourceIp\":\"203.0.113.66\",\"userId\":\"u-7\",\"endpoint\":\"/v1/search\",\"body\":{body}}}"
                );
                let msg = if body_first {
                    format!("{{{details},{fields}}}")
                } else {
                    format!("{{{fields},{details}}}")
                };
                let out = run(&[app(0, msg)]);
                if !out
                    .of("app-security-event-high")
                    .iter()
                    .any(|a| a.severity == Severity::Critical)
                {
                    problems.push(format!(
                        "critical event, body {depth} deep ({}, body {}): no alert",
                        if arrays { "arrays" } else { "objects" },
                        if body_first { "first" } else { "last" }
                    ));
                }
            }
        }
        let events: Vec<Ev> = (0..12)
            .map(|i| {
                let t = i * 5_000;
                app(
                    t,
                    format!(
                        "{{\"eventType\":\"security\",\"type\":\"authentication_failed\",\"severity\":\"medium\",\"details\":{{\"sourceIp\":\"203.0.113.77\",\"userId\":\"u-{i}\",\"body\":{}}}}}",
                        nested(depth, false)
                    ),
                )
            })
            .collect();
        let out = run(&events);
        if !out
            .of("auth-failure-burst")
            .iter()
            .any(|a| a.group.as_ref().is_some_and(|g| g.value == "203.0.113.77"))
        {
            problems.push(format!(
                "12 failed logins with bodies {depth} deep: no burst"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Failed logins for one account from 40 addresses (one each: no address bursts) raise an
/// alert: a per-account correlation beside the per-address ones.
#[test]
fn failed_logins_for_one_account_from_forty_addresses_raise_an_alert() {
    let events: Vec<Ev> = (0..40)
        .map(|i| {
            let t = i * 5_000;
            app(
                t,
                sec(
                    t,
                    "authentication_failed",
                    "medium",
                    &format!("203.0.{}.{}", 100 + i / 10, 10 + i),
                    "u-1001",
                ),
            )
        })
        .collect();
    let out = run(&events);
    assert!(
        out.all().any(|a| a.kind == FindingKind::Threshold
            && (a.group.as_ref().is_some_and(|g| g.value.contains("u-1001"))
                || a.title.contains("u-1001"))),
        "no alert about the account:\n  {}",
        out.listing()
    );
}

/// In replay, one line dated 30 days ahead (of the attacker's address, or another one) does
/// not make the later records "late": bursts after it still alert.
#[test]
fn a_line_dated_thirty_days_ahead_does_not_make_later_records_late_in_replay() {
    let line = |ts: &str, ip: &str, user: &str| {
        json!({"timestamp": ts, "eventType": "security", "type": "authentication_failed",
            "severity": "medium", "details": {"reason": "invalid_password", "sourceIp": ip,
                "userId": user, "endpoint": "/v1/auth/login"}})
        .to_string()
            + "\n"
    };
    let mut problems = Vec::new();
    for (name, future_ip) in [
        ("the attacker's own address", "203.0.113.5"),
        ("another address", "192.0.2.200"),
    ] {
        let mut text = line("2026-12-25T10:00:00.000Z", future_ip, "u-0");
        for i in 0..12 {
            text.push_str(&line(
                &format!("2026-11-25T10:00:{:02}.000Z", i * 4),
                "203.0.113.5",
                &format!("u-{i}"),
            ));
        }
        for i in 0..12 {
            text.push_str(&line(
                &format!("2026-11-25T10:01:{:02}.000Z", i * 4),
                "198.51.100.7",
                &format!("u-{i}"),
            ));
        }
        let out = logwarden(
            &["replay", "--format", "json", "--stats", "-"],
            text.as_bytes(),
        );
        let alerts = printed(&out);
        for ip in ["203.0.113.5", "198.51.100.7"] {
            if !alerts
                .iter()
                .any(|a| a["rule_id"] == "auth-failure-burst" && a["group"]["value"] == ip)
            {
                problems.push(format!(
                    "future line from {name}: no burst for {ip} ({})",
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .filter(|l| l.contains("late") || l.contains("untimed"))
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A flood of distinct values for one key stays within the in-process bounds: a
/// `value_count` key keeps at most max(2 × threshold, 64) points whatever the number of
/// values, a `value_sum` key at most its cap, and through the pipeline 5,000 user ids from one
/// address are one credential-stuffing episode held in a handful of keys.
#[test]
fn a_flood_of_distinct_values_for_one_key_stays_within_bounds() {
    let at = |ms: i64| EventTime::from_millis(T0 + ms).expect("in range");
    let distinct = [Spec {
        measure: Measure::Distinct,
        threshold: 5.0,
        timespan_ms: 600_000,
    }];
    let mut w: SlidingWindows<u64> = SlidingWindows::new(WindowLimits::default());
    for i in 0..300_000u64 {
        w.insert(
            &distinct,
            0,
            &7,
            Point {
                time: at(i as i64 / 2),
                event: i,
                value: i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                num: 0.0,
                source: 0,
            },
        );
    }
    let held = w.get(&7).map_or(0, |s| s.points().len());
    assert!(held <= 64, "a value_count key holds {held} points");
    assert!(w.points() <= 64, "{} points in all", w.points());

    let limits = WindowLimits {
        max_points_per_key: 2_000,
        ..WindowLimits::default()
    };
    let sum = [Spec {
        measure: Measure::Sum,
        threshold: 5e12,
        timespan_ms: 3_600_000,
    }];
    let mut w: SlidingWindows<u64> = SlidingWindows::new(limits);
    for i in 0..20_000u64 {
        w.insert(
            &sum,
            0,
            &9,
            Point {
                time: at(i as i64),
                event: i,
                value: i,
                num: 1_500.0,
                source: 0,
            },
        );
    }
    let held = w.get(&9).map_or(0, |s| s.points().len());
    assert!(held <= 2_000, "a value_sum key holds {held} points");

    let events: Vec<Ev> = (0..5_000)
        .map(|i| {
            let t = i * 60;
            app(
                t,
                sec(
                    t,
                    "authentication_failed",
                    "medium",
                    "203.0.113.50",
                    &format!("user{i}@x"),
                ),
            )
        })
        .collect();
    let out = run(&events);
    let stuffing = out.of("credential-stuffing");
    assert_eq!(stuffing.len(), 1, "{}", out.listing());
    // The one address's keys stay a handful; the per-account correlations hold a key per
    // user (5,000 users within five minutes are all still in their span), each of one point,
    // and the whole stays under the state's bound of keys.
    assert!(
        out.stats.window_keys <= 2 * 5_000 + 8,
        "{} keys held",
        out.stats.window_keys
    );
    assert!(out.stats.window_keys <= WindowLimits::default().max_keys as u64);
}

// ---------------------------------------------------------------------------------------------
// 7. Outputs cannot be written into
// ---------------------------------------------------------------------------------------------

/// User ids an attacker chooses (a sign-up form, a login name).
const HOSTILE_USERS: &[&str] = &[
    "u-1\nSeverity: low",
    "u-2\r\nSeverity: low\r\nRule: none",
    "<!channel> account locked",
    "<!here|here>",
    "<!everyone>",
    "<@U024BE7LH> please approve",
    "@everyone urgent",
    "hi @here",
    "@channel",
    "<https://evil.example/login|click here to acknowledge>",
    "<#C0123ABCD|security>",
    "u-3\u{2028}Severity: low",
    "u-4\u{85}Severity: low",
];

/// X-Forwarded-For values an attacker sends.
const HOSTILE_XFF: &[&str] = &[
    "203.0.113.9\nSeverity: low",
    "203.0.113.10, <!channel>",
    "198.51.100.7 <@U024BE7LH>",
    "@everyone, 10.0.0.1",
    "<https://evil.example|203.0.113.11>",
    "203.0.113.12\r\nSeverity: low",
];

/// Role session names an attacker picks (`@` is allowed in them).
const HOSTILE_SESSIONS: &[&str] = &["@everyone", "@here", "ops@channel"];

/// A line break of any kind.
fn line_break(s: &str) -> Option<char> {
    s.chars().find(|c| {
        matches!(
            c,
            '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    })
}

/// Live chat markup: Slack/Teams special mentions, user and channel mentions, links.
fn markup(s: &str) -> Option<String> {
    let lower = s.to_lowercase();
    for m in ["<!", "<@", "<#", "<http", "<mailto:"] {
        if lower.contains(m) {
            return Some(m.to_owned());
        }
    }
    for w in ["@everyone", "@here", "@channel"] {
        for (i, _) in lower.match_indices(w) {
            if !lower[i + w.len()..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric)
            {
                return Some(w.to_owned());
            }
        }
    }
    None
}

/// A one-line field in live form.
fn live(s: &str) -> Option<String> {
    line_break(s)
        .map(|c| format!("line break {c:?}"))
        .or_else(|| markup(s))
}

/// A multi-line body written into: markup, or more `Severity:` / `Rule:` lines than its own.
fn body_written_into(body: &str, severity_lines: usize, rule_lines: usize) -> Option<String> {
    if let Some(m) = markup(body) {
        return Some(m);
    }
    if let Some(c) = body.chars().find(|c| {
        matches!(
            c,
            '\r' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    }) {
        return Some(format!("line break {c:?}"));
    }
    let count = |w: &str| {
        body.lines()
            .filter(|l| l.trim_start().to_ascii_lowercase().starts_with(w))
            .count()
    };
    if count("severity:") != severity_lines || count("rule:") != rule_lines {
        return Some(format!(
            "{} Severity and {} Rule lines",
            count("severity:"),
            count("rule:")
        ));
    }
    None
}

/// Notes `v` when it is in live form.
fn check_field(found: &mut Vec<String>, rule: &str, name: &str, v: &str) {
    if let Some(w) = live(v) {
        found.push(format!("{rule}: {name} {w}: {v:?}"));
    }
}

/// Notes a multi-line body written into.
fn check_body(found: &mut Vec<String>, rule: &str, name: &str, text: &str, own: (usize, usize)) {
    if let Some(w) = body_written_into(text, own.0, own.1) {
        found.push(format!("{rule}: {name} {w}: {text:?}"));
    }
}

/// Where `a` or what is sent of it holds log text in live form.
fn written_into(a: &Alert) -> Vec<String> {
    let mut found = Vec::new();
    let f = &mut found;
    let r = a.rule_id.as_str();
    check_field(f, r, "title", &a.title);
    check_field(f, r, "log_group", &a.log_group);
    check_field(f, r, "log_stream", &a.log_stream);
    for e in &a.event_ids {
        check_field(f, r, "event id", e);
    }
    if let Some(g) = &a.group {
        check_field(f, r, "group value", &g.value);
        check_field(f, r, "group field", &g.field);
    }
    if let Some(p) = &a.principal {
        check_field(f, r, "principal", p);
    }
    check_body(f, r, "text body", &sns::text_body(a), (1, 1));
    let m = sns::sns_message(a);
    check_field(f, r, "SNS subject", &m.subject);
    for (k, v) in &m.attributes {
        check_field(f, r, &format!("SNS attribute {k}"), v);
    }
    let structure: Value = serde_json::from_str(&m.message).unwrap_or_default();
    for p in ["default", "email"] {
        check_body(
            f,
            r,
            &format!("SNS {p}"),
            structure[p].as_str().unwrap_or_default(),
            (1, 1),
        );
    }
    let sent: Value =
        serde_json::from_str(structure["sqs"].as_str().unwrap_or("{}")).unwrap_or_default();
    for (name, v) in [
        ("title", &sent["title"]),
        ("log_group", &sent["log_group"]),
        ("log_stream", &sent["log_stream"]),
        ("principal", &sent["principal"]),
        ("group value", &sent["group"]["value"]),
    ] {
        check_field(
            f,
            r,
            &format!("SNS alert JSON {name}"),
            v.as_str().unwrap_or_default(),
        );
    }
    let chat = sns::sns_message_as(a, SnsFormat::Chatbot);
    let structure: Value = serde_json::from_str(&chat.message).unwrap_or_default();
    for p in ["default", "https"] {
        let card: Value =
            serde_json::from_str(structure[p].as_str().unwrap_or("{}")).unwrap_or_default();
        for (name, v) in [
            ("title", &card["content"]["title"]),
            ("summary", &card["metadata"]["summary"]),
        ] {
            check_field(
                f,
                r,
                &format!("Chatbot {p} {name}"),
                v.as_str().unwrap_or_default(),
            );
        }
        check_body(
            f,
            r,
            &format!("Chatbot {p} description"),
            card["content"]["description"].as_str().unwrap_or_default(),
            (0, 0),
        );
        for v in card["metadata"]["relatedResources"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(card["content"]["keywords"].as_array().into_iter().flatten())
        {
            check_field(
                f,
                r,
                &format!("Chatbot {p} resource or keyword"),
                v.as_str().unwrap_or_default(),
            );
        }
    }
    found
}

/// User ids, X-Forwarded-For values and role session names chosen by an attacker (raw
/// newlines, `Severity: low` forgeries, Slack/Teams mentions and links) never reach alert
/// titles, group values, principals, SNS subjects, bodies and attributes, or the Chatbot card,
/// in live form.
#[test]
fn attacker_chosen_values_never_reach_alerts_or_messages_in_live_form() {
    let mut events = Vec::new();
    let mut t = 0;
    for (k, user) in HOSTILE_USERS.iter().enumerate() {
        let ip = format!("198.51.100.{}", 10 + k);
        for _ in 0..6 {
            events.push(app(t, sec(t, "rate_limit_exceeded", "low", &ip, user)));
            t += 2_000;
        }
        events.push(app(
            t,
            sec(t, "privilege_escalation_attempt", "high", &ip, user),
        ));
        t += 2_000;
    }
    for (k, xff) in HOSTILE_XFF.iter().enumerate() {
        for i in 0..10 {
            events.push(app(
                t,
                sec(
                    t,
                    "authentication_failed",
                    "medium",
                    xff,
                    &format!("u-{k}-{i}"),
                ),
            ));
            t += 1_000;
        }
    }
    for s in HOSTILE_SESSIONS {
        events.push(trail(
            t,
            ct(
                &format!("arn:aws:sts::123456789012:assumed-role/dev/{s}"),
                "iam.amazonaws.com",
                "PutUserPolicy",
                t,
                json!({"userName": "svc-deploy", "policyName": "p", "policyDocument": "{}"}),
                None,
            ),
        ));
        t += 1_000;
    }
    let out = run(&events);
    let counts: Vec<(&str, usize, usize)> = [
        ("rate-limit-burst-user", HOSTILE_USERS.len()),
        ("app-security-event-high", HOSTILE_USERS.len()),
        ("auth-failure-burst", HOSTILE_XFF.len()),
        (
            "cis-cloudwatch-4-iam-policy-changes",
            HOSTILE_SESSIONS.len(),
        ),
    ]
    .into_iter()
    .map(|(r, want)| (r, out.of(r).len(), want))
    .collect();
    assert!(
        counts.iter().all(|(_, n, want)| n >= want),
        "the hostile values did not reach the alerts under test: {counts:?}\n  {}",
        out.listing()
    );
    let found: Vec<String> = out.all().flat_map(written_into).collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A token in a log group or stream name is masked wherever the alert shows the name: its
/// fields, its JSON, the SNS message and attributes, the Chatbot card, the replay output.
#[test]
fn a_token_in_a_log_group_or_stream_name_is_masked_in_alerts() {
    let group = format!("/ecs/billing-{STRIPE}");
    let stream = format!("web/{GITHUB}/task-0f6a2b9c");
    let mut events = vec![ev(
        &group,
        &stream,
        0,
        node(0, &format!("charging with {STRIPE_2}")),
    )];
    events.push(ev(
        &group,
        &stream,
        500,
        sec(500, "tampering", "high", "203.0.113.4", "u-1"),
    ));
    for i in 0..10 {
        let t = 1_000 + i * 1_000;
        events.push(ev(
            &group,
            &stream,
            t,
            sec(
                t,
                "authentication_failed",
                "medium",
                "203.0.113.8",
                &format!("u-{i}"),
            ),
        ));
    }
    let out = run(&events);
    let rules: BTreeSet<&str> = out.all().map(|a| a.rule_id.as_str()).collect();
    for r in [
        "stripe-secret-key",
        "app-security-event-high",
        "auth-failure-burst",
    ] {
        assert!(rules.contains(r), "{r} did not alert: {rules:?}");
    }
    let mut leaks = Vec::new();
    for a in out.all() {
        let chat = sns::sns_message_as(a, SnsFormat::Chatbot);
        let json = sns::sns_message(a);
        let attrs: String = json
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v} "))
            .collect();
        for (where_, text) in [
            ("log_group", a.log_group.clone()),
            ("log_stream", a.log_stream.clone()),
            ("title", a.title.clone()),
            ("alert JSON", a.to_json()),
            ("SNS message", json.message.clone()),
            ("SNS subject", json.subject.clone()),
            ("SNS attributes", attrs),
            ("Chatbot card", chat.message.clone()),
        ] {
            for token in [STRIPE, GITHUB, STRIPE_2] {
                if text.contains(token) {
                    leaks.push(format!("{}: {where_} shows {token}", a.rule_id));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));

    // The names replay is given.
    let line = node(0, &format!("charging with {STRIPE_2}")) + "\n";
    let cli = logwarden(
        &[
            "replay",
            "--format",
            "json",
            "--log-group",
            &group,
            "--log-stream",
            &stream,
            "-",
        ],
        line.as_bytes(),
    );
    let stdout = String::from_utf8_lossy(&cli.stdout);
    assert!(stdout.contains("stripe-secret-key"), "{stdout}");
    for token in [STRIPE, GITHUB, STRIPE_2] {
        assert!(!stdout.contains(token), "replay shows {token}: {stdout}");
    }
}

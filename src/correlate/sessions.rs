//! Sessions: where a set of temporary credentials normally works, and a call that shows them
//! used away from there.
//!
//! A Lambda function's, an ECS task's or an EC2 instance's role credentials (`ASIA...` keys)
//! live in that compute; stolen (read from a function's environment, an instance's metadata
//! service through SSRF, a task's credentials endpoint) they are used from a laptop or a
//! server elsewhere. CloudTrail records what tells the two apart, per access key id:
//!
//! - **where the key lives**: the SDKs' execution-environment mark in the user agent
//!   (`exec-env/AWS_Lambda_*`, `exec-env/AWS_ECS_*`), the Lambda service's own calls for the
//!   function (`awslambda-worker`), `sessionContext.ec2RoleDelivery` on instance-profile
//!   credentials, a session named after an instance (`i-...`) or a task (32 hex digits);
//! - **its home**: the source addresses and client families (tool and operating system) of
//!   the calls that carry those marks, or of the first calls of an instance's key;
//! - **a call away from home**: the same key, without the compute's mark, from an address the
//!   home never used, by a client the home never used or from a desktop operating system
//!   (`os/macos`, `Darwin`, `Windows`), and not an AWS service calling for it.
//!
//! Such a call raises [`RULE_ID`] once per key and outside address (three at most), naming
//! the home calls that established it. GuardDuty's `InstanceCredentialExfiltration` is the
//! reference; this covers Lambda and ECS as well and shows its evidence. State is bounded
//! ([`MAX_SESSIONS`], the least recently seen forgotten first).

use std::collections::HashMap;

use crate::alert::{Alert, EventRef};
use crate::record::session::SessionCall;
use crate::severity::Severity;
use crate::time::EventTime;

/// The rule id of the alert.
pub const RULE_ID: &str = "aws-compute-credentials-used-outside";
/// Its ATT&CK tags (finding types, incident stages).
pub const TAGS: &[&str] = &[
    "attack.credential_access",
    "attack.initial_access",
    "attack.t1552.005",
    "attack.t1078.004",
];
/// Most sessions remembered.
pub const MAX_SESSIONS: usize = 50_000;
/// Most home addresses and client families remembered per session.
const MAX_HOME: usize = 8;
/// Most home calls named as evidence.
const MAX_EVIDENCE: usize = 3;
/// Most alerts per session (one per outside address).
const MAX_ALERTS: usize = 3;
/// An instance's or task's key: its calls within this long of the first make its home.
const HOME_SPAN_MS: i64 = 10 * 60 * 1000;

/// Where a key's credentials live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compute {
    /// A Lambda function's execution role.
    Lambda,
    /// An ECS task's role.
    Ecs,
    /// An EC2 instance profile.
    Ec2,
}

impl Compute {
    fn name(self) -> &'static str {
        match self {
            Compute::Lambda => "Lambda function",
            Compute::Ecs => "ECS task",
            Compute::Ec2 => "EC2 instance",
        }
    }
}

/// What one session's calls showed.
#[derive(Debug, Clone, Default)]
struct Session {
    compute: Option<Compute>,
    first: Option<EventTime>,
    last_seen: u64,
    /// Home source addresses and client families (`tool os`).
    ips: Vec<String>,
    families: Vec<String>,
    /// Home calls: event ids, and the address and client of the first.
    evidence: Vec<String>,
    first_home: Option<(String, String)>,
    /// Outside addresses already alerted.
    alerted: Vec<String>,
}

/// What a call away from home gives.
#[derive(Debug)]
pub enum Away {
    /// The first call from an address: the alert.
    Alert(Box<Alert>),
    /// A later call from an address already alerted: what the intruder did next, for the
    /// incident (no alert of its own).
    FollowUp {
        /// The key's principal.
        principal: String,
        /// The log event.
        event_id: String,
        /// The ATT&CK stage of the call, when it tells one.
        stage: Option<&'static str>,
        /// Its time.
        time: Option<EventTime>,
    },
}

/// The ATT&CK stage a call away from home tells: data read out (collection, exfiltration) or
/// reconnaissance.
fn stage_of_call(event_name: &str, read_only: bool) -> Option<&'static str> {
    const DATA: &[&str] = &[
        "GetObject",
        "CopyObject",
        "GetSecretValue",
        "BatchGetSecretValue",
        "GetParameter",
        "GetParameters",
        "GetParametersByPath",
        "BatchGetImage",
        "GetDownloadUrlForLayer",
        "Scan",
        "Query",
        "GetItem",
        "BatchGetItem",
        "DownloadDBLogFilePortion",
        "GetFunction",
    ];
    if DATA.contains(&event_name) {
        Some("exfiltration")
    } else if read_only
        || ["List", "Describe", "Get"]
            .iter()
            .any(|p| event_name.starts_with(p))
    {
        Some("discovery")
    } else {
        None
    }
}

/// The session state of one process.
#[derive(Debug, Default)]
pub struct Sessions {
    sessions: HashMap<String, Session>,
    clock: u64,
    /// Sessions forgotten to stay within [`MAX_SESSIONS`].
    pub evicted: u64,
}

/// The compute a call's own marks name.
fn marked(agent: &str) -> Option<Compute> {
    if agent.contains("exec-env/AWS_Lambda") || agent.starts_with("awslambda-worker") {
        Some(Compute::Lambda)
    } else if agent.contains("exec-env/AWS_ECS") {
        Some(Compute::Ecs)
    } else {
        None
    }
}

/// Whether a user agent says a desktop operating system.
fn desktop(agent: &str) -> bool {
    let a = agent.to_ascii_lowercase();
    [
        "os/macos",
        "darwin",
        "mac os x",
        "os/windows",
        "windows nt",
        "os/win32",
        "md/os#macos",
        "md/os#windows",
    ]
    .iter()
    .any(|m| a.contains(m))
}

/// A client's family: its tool (the first product token) and operating system.
fn family(agent: &str) -> String {
    let tool = agent
        .split([' ', '/'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let a = agent.to_ascii_lowercase();
    let os = if desktop(agent) {
        "desktop"
    } else if a.contains("linux") {
        "linux"
    } else {
        "other"
    };
    format!("{tool} {os}")
}

/// The network an address is in: its /16 (IPv4) or /48 (IPv6).
fn network(source: &str) -> String {
    match source.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => {
            let o = a.octets();
            format!("{}.{}", o[0], o[1])
        }
        Ok(std::net::IpAddr::V6(a)) => {
            let s = a.segments();
            format!("{:x}:{:x}:{:x}", s[0], s[1], s[2])
        }
        Err(_) => source.to_owned(),
    }
}

fn push_bounded(v: &mut Vec<String>, s: &str, max: usize) {
    if !v.iter().any(|x| x == s) && v.len() < max {
        v.push(s.to_owned());
    }
}

impl Sessions {
    /// Sessions held.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Observes one call read from a CloudTrail record ([`SessionCall::of`]): the alert of a
    /// first call away from its key's home, or a later one's follow-up.
    pub fn observe(&mut self, call: &SessionCall, ev: &EventRef<'_>) -> Option<Away> {
        let (key, agent, source, arn) = (&*call.key, &*call.agent, &*call.source, &*call.arn);
        let session_name = arn.rsplit('/').next().unwrap_or("");
        let instance =
            call.ec2_role_delivery || session_name.starts_with("i-") && session_name.len() >= 10;
        let task = session_name.len() == 32 && session_name.bytes().all(|b| b.is_ascii_hexdigit());
        self.clock += 1;
        if !self.sessions.contains_key(key) && self.sessions.len() >= MAX_SESSIONS {
            self.evict();
        }
        let clock = self.clock;
        let s = self.sessions.entry(key.to_owned()).or_default();
        s.last_seen = clock;
        let fam = family(agent);
        let mark = marked(agent);
        let at_home = match (mark, s.compute) {
            (Some(c), _) => {
                s.compute.get_or_insert(c);
                true
            }
            // An instance's or a task's key: its first calls make its home.
            (None, None) if instance || task => {
                s.compute = Some(if instance { Compute::Ec2 } else { Compute::Ecs });
                true
            }
            (None, Some(Compute::Ec2 | Compute::Ecs))
                if s.evidence.len() < MAX_EVIDENCE
                    && match (s.first, ev.time) {
                        (Some(f), Some(t)) => t.millis_since(f) <= HOME_SPAN_MS,
                        _ => true,
                    }
                    && !desktop(agent)
                    && (s.ips.is_empty() || s.ips.iter().any(|i| i == source)) =>
            {
                true
            }
            _ => false,
        };
        if at_home {
            s.first = s.first.or(ev.time);
            push_bounded(&mut s.ips, source, MAX_HOME);
            push_bounded(&mut s.families, &fam, MAX_HOME);
            if s.evidence.len() < MAX_EVIDENCE {
                s.evidence.push(ev.id.to_owned());
            }
            s.first_home
                .get_or_insert_with(|| (source.to_owned(), agent.chars().take(80).collect()));
            return None;
        }
        let compute = s.compute?;
        if s.alerted.iter().any(|a| a == source) {
            return Some(Away::FollowUp {
                principal: arn.to_owned(),
                event_id: ev.id.to_owned(),
                stage: stage_of_call(call.event_name.as_deref().unwrap_or(""), call.read_only),
                time: ev.time,
            });
        }
        let new_ip = !s.ips.iter().any(|i| i == source);
        // An instance or a task runs several clients (its agents, the application) from its
        // own network: only a desktop client, or a new client from another network, is away.
        let net = network(source);
        let new_net = !s.ips.iter().any(|i| network(i) == net);
        let new_client =
            desktop(agent) || !s.families.contains(&fam) && (compute == Compute::Lambda || new_net);
        if !(new_ip && new_client)
            || s.alerted.iter().any(|a| a == source)
            || s.alerted.len() >= MAX_ALERTS
        {
            return None;
        }
        s.alerted.push(source.to_owned());
        let (home_ip, home_agent) = s.first_home.clone().unwrap_or_default();
        let title = format!(
            "{} role credentials used outside their {}: {} from {} ({}); home established by {} call(s) from {} ({})",
            compute.name(),
            match compute {
                Compute::Lambda => "function",
                Compute::Ecs => "task",
                Compute::Ec2 => "instance",
            },
            call.event_name.as_deref().unwrap_or("a call"),
            source,
            agent.chars().take(60).collect::<String>(),
            s.evidence.len(),
            home_ip,
            home_agent,
        );
        let mut a = Alert::event(RULE_ID, &title, Severity::High, ev);
        a.id = crate::hash::id(&[RULE_ID, key, source]);
        let mut ids = s.evidence.clone();
        ids.push(ev.id.to_owned());
        a.event_ids = ids;
        a.principal = Some(arn.to_owned());
        a.links = vec![key.to_owned()];
        Some(Away::Alert(Box::new(a)))
    }

    /// Forgets the least recently seen tenth of the sessions.
    fn evict(&mut self) {
        let mut seen: Vec<u64> = self.sessions.values().map(|s| s.last_seen).collect();
        let n = (seen.len() / 10).max(1);
        let cut = *seen.select_nth_unstable(n - 1).1;
        let before = self.sessions.len();
        self.sessions.retain(|_, s| s.last_seen > cut);
        self.evicted += (before - self.sessions.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::LogEvent;
    use crate::record::{Parser, Source, SourceKind};
    use std::borrow::Cow;

    fn call(n: usize, key: &str, session: &str, ip: &str, agent: &str, extra: &str) -> String {
        format!(
            r#"{{"eventVersion":"1.10","userIdentity":{{"type":"AssumedRole","principalId":"AROAX:{session}","arn":"arn:aws:sts::123456789012:assumed-role/app-role/{session}","accountId":"123456789012","accessKeyId":"{key}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::123456789012:role/app-role","userName":"app-role"}}{extra}}}}},"eventTime":"2026-11-25T10:{:02}:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"{ip}","userAgent":"{agent}","eventID":"e{n}","recipientAccountId":"123456789012"}}"#,
            n % 60
        )
    }

    fn run(lines: &[String]) -> Vec<Alert> {
        let mut s = Sessions::default();
        let p = Parser::new();
        let mut out = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let e = LogEvent {
                id: Cow::Owned(format!("{i}")),
                timestamp: EventTime::from_millis(1_795_600_800_000 + i as i64 * 60_000),
                message: Cow::Borrowed(l),
                truncated: false,
            };
            let r = p.parse_from(&e, &Source::new("trail", SourceKind::CloudTrail));
            let ev = EventRef {
                log_group: "trail",
                log_stream: "s",
                id: &e.id,
                time: e.timestamp,
            };
            let call = SessionCall::of(&r);
            if let Some(Away::Alert(a)) = call.and_then(|c| s.observe(&c, &ev)) {
                out.push(*a);
            }
        }
        out
    }

    const LAMBDA: &str = "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.219 lang/python#3.12.3 exec-env/AWS_Lambda_python3.12 Botocore/1.34.69";
    const LAPTOP: &str =
        "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8";
    const INSTANCE: &str =
        "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0-amzn2023 lang/python#3.9";

    #[test]
    fn a_lambda_key_used_from_a_laptop_is_caught_with_its_home() {
        let k = "ASIAQ3EGTWVLXR5OCZPD";
        let mut lines: Vec<String> = (0..5)
            .map(|i| call(i, k, "orders-api", &format!("3.80.1.{i}"), LAMBDA, ""))
            .collect();
        lines.push(call(5, k, "orders-api", "198.51.100.23", LAPTOP, ""));
        lines.push(call(6, k, "orders-api", "198.51.100.23", LAPTOP, ""));
        let alerts = run(&lines);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert!(
            alerts[0].title.contains("Lambda function"),
            "{}",
            alerts[0].title
        );
        assert_eq!(alerts[0].event_ids, vec!["0", "1", "2", "5"]);
    }

    #[test]
    fn a_functions_own_calls_from_changing_aws_addresses_are_home() {
        let k = "ASIAQ3EGTWVLXR5OCZPE";
        let lines: Vec<String> = (0..20)
            .map(|i| call(i, k, "orders-api", &format!("52.{i}.7.9"), LAMBDA, ""))
            .collect();
        assert!(run(&lines).is_empty());
    }

    #[test]
    fn instance_credentials_used_elsewhere_by_another_client() {
        let k = "ASIAQ3EGTWVLXR5OCZPF";
        let ec2 = r#","ec2RoleDelivery":"2.0""#;
        let mut lines: Vec<String> = (0..3)
            .map(|i| call(i, k, "i-0a1b2c3d4e5f67890", "54.160.3.9", INSTANCE, ec2))
            .collect();
        lines.push(call(
            3,
            k,
            "i-0a1b2c3d4e5f67890",
            "185.220.101.7",
            "python-requests/2.31.0",
            ec2,
        ));
        let alerts = run(&lines);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        // The instance's own later calls stay quiet.
        let mut quiet: Vec<String> = (0..6)
            .map(|i| call(i, k, "i-0a1b2c3d4e5f67890", "54.160.3.9", INSTANCE, ec2))
            .collect();
        quiet.push(call(
            9,
            k,
            "i-0a1b2c3d4e5f67890",
            "54.160.3.9",
            INSTANCE,
            ec2,
        ));
        assert!(run(&quiet).is_empty());
    }

    #[test]
    fn a_person_s_session_is_not_a_computes() {
        let k = "ASIAQ3EGTWVLXR5OCZPG";
        let lines: Vec<String> = (0..4)
            .map(|i| {
                call(
                    i,
                    k,
                    "jane@example.com",
                    &format!("198.51.100.{i}"),
                    LAPTOP,
                    "",
                )
            })
            .collect();
        assert!(run(&lines).is_empty());
    }
}

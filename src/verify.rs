//! `--verify` / `VERIFY_SECRETS`: asks a found key's provider whether the key works.
//!
//! A stage after the policy and before the sinks: it sees only the alerts that are sent. For
//! each secret alert whose rule says how (`verify = "github"` in its detector file, see
//! [`VerifyWith`]), it makes one harmless read-only call with the key: STS
//! `GetCallerIdentity` for an AWS key pair (the key id and the secret key found in the same
//! event), `GET /user` on GitHub, `auth.test` on Slack, `GET /v1/balance` on Stripe,
//! `GET /v1/models` on OpenAI. The alert then says `verified`: `live` (the key works: its
//! severity is raised to critical), `revoked` (the provider refused it) or `unknown` (no
//! answer that tells: timeout, rate limit, an error of the provider's, no pair, the budget
//! spent).
//!
//! Bounded: at most [`MAX_CALLS`] calls per run, all at once, each given
//! [`CALL_TIMEOUT`]; answers cached by the keys' fingerprints (at most [`MAX_CACHE`]), so a
//! key logged again is not asked about again. A call that fails never fails the run: its key
//! is `unknown`. Keys stay in memory only between the scan and this stage, never printed,
//! logged or serialized ([`Key`]); requests carry them only to the provider's endpoint, and
//! no redirect is followed.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::alert::{Alert, Verified};
use crate::detect::VerifyWith;
use crate::mask::Key;
use crate::pipeline::Probe;
use crate::severity::Severity;

/// Most provider calls per run (more keys are `unknown`).
pub const MAX_CALLS: usize = 20;
/// Longest wait for one call (they run at once, so a run waits at most about this long).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// Most answers remembered (by fingerprint) across runs.
pub const MAX_CACHE: usize = 4096;
/// Most bytes of a provider's answer read.
const MAX_BODY: usize = 64 * 1024;

/// The providers a key can be checked with.
pub const PROVIDERS: [&str; 5] = ["aws", "github", "slack", "stripe", "openai"];

/// Where each provider is asked (its public API unless a setting says otherwise: a proxy, a
/// test double).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// STS (`None`: the SDK's own endpoint resolution, which honours `AWS_ENDPOINT_URL`).
    pub aws: Option<String>,
    /// GitHub's API.
    pub github: String,
    /// Slack's API.
    pub slack: String,
    /// Stripe's API.
    pub stripe: String,
    /// OpenAI's API.
    pub openai: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            aws: None,
            github: "https://api.github.com".into(),
            slack: "https://slack.com".into(),
            stripe: "https://api.stripe.com".into(),
            openai: "https://api.openai.com".into(),
        }
    }
}

impl Endpoints {
    /// The endpoints with `overrides` (`provider=URL` items) applied. The error names the
    /// item that is wrong and why.
    pub fn with_overrides(overrides: &[String]) -> Result<Self, String> {
        let mut e = Endpoints::default();
        for item in overrides {
            let (name, url) = item
                .split_once('=')
                .ok_or_else(|| format!("`{item}` is not provider=URL"))?;
            let url = url.trim().trim_end_matches('/').to_owned();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!(
                    "`{item}`: the URL must start with https:// or http://"
                ));
            }
            match name.trim() {
                "aws" => e.aws = Some(url),
                "github" => e.github = url,
                "slack" => e.slack = url,
                "stripe" => e.stripe = url,
                "openai" => e.openai = url,
                other => {
                    return Err(format!(
                        "`{other}` is not a provider (one of {})",
                        PROVIDERS.join(", ")
                    ));
                }
            }
        }
        Ok(e)
    }
}

/// What a run's verification did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyCounts {
    /// Keys found live.
    pub live: u64,
    /// Keys the provider refused.
    pub revoked: u64,
    /// Keys no answer told about.
    pub unknown: u64,
    /// Calls made (the rest came from the cache or were not made).
    pub calls: u64,
}

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// Asks providers about found keys (see the module docs). Build once per process: the cache
/// and the HTTP client carry across runs.
pub struct Verifier {
    endpoints: Endpoints,
    aws: aws_config::SdkConfig,
    http: Option<Client<Https, Empty<Bytes>>>,
    cache: HashMap<String, Verified>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("endpoints", &self.endpoints)
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

/// One call to make: the alerts it answers for and the keys it needs (`None`: nothing to
/// ask with, as for an AWS key id without its secret key, or the reverse).
struct Job {
    alerts: Vec<usize>,
    cache_key: String,
    ask: Option<Ask>,
}

enum Ask {
    Aws { id: Key, secret: Key },
    Http { with: VerifyWith, token: Key },
}

impl Verifier {
    /// A verifier asking `endpoints`, with `aws` for STS (its region, retry and endpoint
    /// settings; the credentials are the found keys').
    pub fn new(endpoints: Endpoints, aws: aws_config::SdkConfig) -> Self {
        let http = match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
            Ok(b) => {
                let https = b.https_or_http().enable_http1().build();
                Some(Client::builder(hyper_util::rt::TokioExecutor::new()).build(https))
            }
            Err(e) => {
                tracing::warn!(error = %e, "no system CA certificates: keys of https providers will be unknown");
                None
            }
        };
        Verifier {
            endpoints,
            aws,
            http,
            cache: HashMap::new(),
        }
    }

    /// Checks the keys of `probes` whose alerts are in `alerts` (the run's sent alerts), and
    /// writes each answer into its alert: `verified`, and critical severity when live.
    pub async fn verify(&mut self, alerts: &mut [Alert], probes: Vec<Probe>) -> VerifyCounts {
        let mut counts = VerifyCounts::default();
        if probes.is_empty() {
            return counts;
        }
        let by_id: HashMap<&str, usize> = alerts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        let probes: Vec<(usize, Probe)> = probes
            .into_iter()
            .filter_map(|p| by_id.get(p.alert_id.as_str()).map(|&i| (i, p)))
            .collect();
        let jobs = jobs(probes);
        let mut answers: Vec<(Vec<usize>, Verified)> = Vec::new();
        let mut calls = tokio::task::JoinSet::new();
        let mut asked: HashMap<String, usize> = HashMap::new();
        let mut waiting: Vec<(String, Vec<usize>)> = Vec::new();
        for job in jobs {
            if let Some(&v) = self.cache.get(&job.cache_key) {
                answers.push((job.alerts, v));
                continue;
            }
            if let Some(&w) = asked.get(&job.cache_key) {
                waiting[w].1.extend(job.alerts);
                continue;
            }
            let call = match job.ask {
                Some(ask) if calls.len() < MAX_CALLS => ask,
                _ => {
                    answers.push((job.alerts, Verified::Unknown));
                    continue;
                }
            };
            let w = waiting.len();
            asked.insert(job.cache_key.clone(), w);
            waiting.push((job.cache_key, job.alerts));
            let http = self.http.clone();
            let endpoints = self.endpoints.clone();
            let aws = self.aws.clone();
            calls.spawn(async move {
                let answer = tokio::time::timeout(CALL_TIMEOUT, async {
                    match call {
                        Ask::Aws { id, secret } => {
                            ask_aws(&aws, endpoints.aws.as_deref(), &id, &secret).await
                        }
                        Ask::Http { with, token } => match &http {
                            Some(http) => ask_http(http, &endpoints, with, &token).await,
                            None => Verified::Unknown,
                        },
                    }
                })
                .await
                .unwrap_or(Verified::Unknown);
                (w, answer)
            });
        }
        counts.calls = calls.len() as u64;
        while let Some(done) = calls.join_next().await {
            // A call that panicked tells nothing: its alerts stay unknown (set below).
            let Ok((w, answer)) = done else { continue };
            let (cache_key, targets) = std::mem::take(&mut waiting[w]);
            if self.cache.len() >= MAX_CACHE {
                self.cache.clear();
            }
            if answer != Verified::Unknown {
                self.cache.insert(cache_key, answer);
            }
            answers.push((targets, answer));
        }
        for (_, targets) in waiting {
            answers.push((targets, Verified::Unknown));
        }
        for (targets, answer) in answers {
            for i in targets {
                let a = &mut alerts[i];
                a.verified = Some(answer);
                if answer == Verified::Live {
                    a.severity = a.severity.max(Severity::Critical);
                }
                match answer {
                    Verified::Live => counts.live += 1,
                    Verified::Revoked => counts.revoked += 1,
                    Verified::Unknown => counts.unknown += 1,
                }
            }
        }
        counts
    }
}

/// The calls to make for `probes` (alert index, probe): AWS key ids and secret keys paired
/// within their event in the order found; every other key alone.
fn jobs(probes: Vec<(usize, Probe)>) -> Vec<Job> {
    let mut out = Vec::new();
    // Per event (log group, event id): its key ids and its secret keys.
    type Found = Vec<(usize, Probe)>;
    let mut aws: HashMap<(String, String), (Found, Found)> = HashMap::new();
    let mut events = Vec::new();
    for (i, p) in probes {
        match p.with {
            VerifyWith::AwsKeyId | VerifyWith::AwsSecret => {
                let k = (p.log_group.clone(), p.event_id.clone());
                if !aws.contains_key(&k) {
                    events.push(k.clone());
                }
                let e = aws.entry(k).or_default();
                if p.with == VerifyWith::AwsKeyId {
                    e.0.push((i, p));
                } else {
                    e.1.push((i, p));
                }
            }
            with => out.push(Job {
                alerts: vec![i],
                cache_key: format!("{}:{}", with.name(), p.fingerprint),
                ask: Some(Ask::Http { with, token: p.key }),
            }),
        }
    }
    for k in events {
        let Some((ids, secrets)) = aws.remove(&k) else {
            continue;
        };
        let mut secrets = secrets.into_iter();
        for (i, id) in ids {
            match secrets.next() {
                Some((j, secret)) => out.push(Job {
                    alerts: vec![i, j],
                    cache_key: format!("aws:{}:{}", id.fingerprint, secret.fingerprint),
                    ask: Some(Ask::Aws {
                        id: id.key,
                        secret: secret.key,
                    }),
                }),
                None => out.push(Job {
                    alerts: vec![i],
                    cache_key: String::new(),
                    ask: None,
                }),
            }
        }
        for (j, _) in secrets {
            out.push(Job {
                alerts: vec![j],
                cache_key: String::new(),
                ask: None,
            });
        }
    }
    out
}

/// STS GetCallerIdentity with the found key pair: any answer is live; the errors STS gives
/// for a key that does not work (unknown id, wrong secret, expired) are revoked.
async fn ask_aws(
    aws: &aws_config::SdkConfig,
    endpoint: Option<&str>,
    id: &Key,
    secret: &Key,
) -> Verified {
    let (Ok(id), Ok(secret)) = (
        std::str::from_utf8(id.expose()),
        std::str::from_utf8(secret.expose()),
    ) else {
        return Verified::Unknown;
    };
    let creds = aws_sdk_sts::config::Credentials::new(id, secret, None, None, "logwarden-verify");
    let mut b = aws_sdk_sts::config::Builder::from(aws)
        .credentials_provider(creds)
        .retry_config(aws_config::retry::RetryConfig::disabled());
    if aws.region().is_none() {
        b = b.region(aws_config::Region::new("us-east-1"));
    }
    if let Some(e) = endpoint {
        b = b.endpoint_url(e);
    }
    let client = aws_sdk_sts::Client::from_conf(b.build());
    match client.get_caller_identity().send().await {
        Ok(_) => Verified::Live,
        Err(e) => {
            use aws_sdk_sts::error::ProvideErrorMetadata;
            match e.code() {
                Some("InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken") => {
                    Verified::Revoked
                }
                _ => Verified::Unknown,
            }
        }
    }
}

/// The provider's read-only call with `token`, and what its answer means.
async fn ask_http(
    http: &Client<Https, Empty<Bytes>>,
    endpoints: &Endpoints,
    with: VerifyWith,
    token: &Key,
) -> Verified {
    let Ok(token) = std::str::from_utf8(token.expose()) else {
        return Verified::Unknown;
    };
    let (method, url) = match with {
        VerifyWith::Github => (http::Method::GET, format!("{}/user", endpoints.github)),
        VerifyWith::Slack => (
            http::Method::POST,
            format!("{}/api/auth.test", endpoints.slack),
        ),
        VerifyWith::Stripe => (
            http::Method::GET,
            format!("{}/v1/balance", endpoints.stripe),
        ),
        VerifyWith::Openai => (http::Method::GET, format!("{}/v1/models", endpoints.openai)),
        VerifyWith::AwsKeyId | VerifyWith::AwsSecret => return Verified::Unknown,
    };
    let Ok(request) = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(http::header::USER_AGENT, "logwarden-verify")
        .header(http::header::ACCEPT, "application/json")
        .body(Empty::new())
    else {
        return Verified::Unknown;
    };
    let Ok(response) = http.request(request).await else {
        return Verified::Unknown;
    };
    let status = response.status().as_u16();
    match with {
        VerifyWith::Slack if status == 200 => {
            let Ok(body) = Limited::new(response.into_body(), MAX_BODY).collect().await else {
                return Verified::Unknown;
            };
            slack_answer(&body.to_bytes())
        }
        // A restricted Stripe key without the balance permission is refused with 403: it works.
        VerifyWith::Stripe if status == 403 => Verified::Live,
        _ => match status {
            200 => Verified::Live,
            401 => Verified::Revoked,
            _ => Verified::Unknown,
        },
    }
}

/// What Slack's `auth.test` body says: `ok: true` is live; the errors of a token that does
/// not work are revoked.
fn slack_answer(body: &[u8]) -> Verified {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Verified::Unknown;
    };
    match (v["ok"].as_bool(), v["error"].as_str()) {
        (Some(true), _) => Verified::Live,
        (
            Some(false),
            Some(
                "invalid_auth" | "token_revoked" | "account_inactive" | "not_authed"
                | "token_expired",
            ),
        ) => Verified::Revoked,
        _ => Verified::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_answers_are_read() {
        assert_eq!(slack_answer(br#"{"ok":true,"team":"x"}"#), Verified::Live);
        assert_eq!(
            slack_answer(br#"{"ok":false,"error":"invalid_auth"}"#),
            Verified::Revoked
        );
        assert_eq!(
            slack_answer(br#"{"ok":false,"error":"ratelimited"}"#),
            Verified::Unknown
        );
        assert_eq!(slack_answer(b"<html>"), Verified::Unknown);
    }

    #[test]
    fn endpoint_overrides_are_checked() {
        let e = Endpoints::with_overrides(&["github=http://127.0.0.1:9/".into()]).expect("ok");
        assert_eq!(e.github, "http://127.0.0.1:9");
        assert_eq!(e.slack, Endpoints::default().slack);
        for bad in ["github", "gitlab=https://x", "github=ftp://x"] {
            assert!(Endpoints::with_overrides(&[bad.into()]).is_err(), "{bad}");
        }
    }
}

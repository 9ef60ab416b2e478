//! AWS Security Hub: every alert imported as an ASFF finding (schema 2018-10-08) with
//! `BatchImportFindings`, at most 100 per call.
//!
//! The finding's `Id` is the alert id, so a retried batch updates its findings instead of
//! duplicating them. `ProductArn` is the account's default product (a custom integration);
//! `GeneratorId` is the rule id; `Types` come from the alert's kind (secrets and PII under
//! `Sensitive Data Identifications`) and the rule's ATT&CK tags (`TTPs/<tactic>`, exfiltration
//! and impact under `Effects`); `Resources` are the log group, and the Lambda function when the
//! log group names one. Evidence is masked as in the alert JSON: never the secret.
//!
//! Building a finding is a pure function ([`asff_finding`]), tested apart from sending.

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Resource, Severity as AsffSeverity, SeverityLabel,
};

use super::retry::{CallResult, Entry, RetryPolicy, conclude};
use super::{PublishError, PublishFuture, PublishReport, Publisher, Undeliverable};
use crate::alert::Alert;
use crate::error::AwsErrorKind;
use crate::mask::bounded;
use crate::severity::{FindingKind, Severity};

/// Findings per `BatchImportFindings` call (the API's limit).
pub const MAX_FINDINGS_PER_CALL: usize = 100;

/// Where findings are imported: the account, region and partition of the default product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The 12-digit account id (the caller's: Security Hub refuses others for the default
    /// product).
    pub id: String,
    /// The region.
    pub region: String,
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: String,
}

impl Account {
    /// `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`.
    pub fn product_arn(&self) -> String {
        format!(
            "arn:{}:securityhub:{}:{}:product/{}/default",
            self.partition, self.region, self.id, self.id
        )
    }
}

/// The calling account, its partition (from STS `GetCallerIdentity`'s ARN) and the region of
/// `aws`: where findings of the default product go.
pub async fn caller_account(aws: &aws_config::SdkConfig) -> Result<Account, PublishError> {
    let region = aws
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into());
    let out = aws_sdk_sts::Client::new(aws)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            let (kind, cause) = crate::error::classify(&e);
            PublishError {
                sink: "STS",
                target: "GetCallerIdentity".into(),
                kind,
                cause,
                unpublished: Vec::new(),
            }
        })?;
    let partition = out
        .arn()
        .and_then(|a| a.split(':').nth(1))
        .unwrap_or("aws")
        .to_owned();
    Ok(Account {
        id: out.account().unwrap_or_default().to_owned(),
        region,
        partition,
    })
}

/// ASFF `Types` for an alert: its kind, then one per ATT&CK tactic tag of its rule.
pub fn finding_types(alert: &Alert, tags: &[String]) -> Vec<String> {
    let mut types = Vec::new();
    match alert.kind {
        FindingKind::Secret => types.push("Sensitive Data Identifications/Passwords".to_owned()),
        FindingKind::Pii => types.push("Sensitive Data Identifications/PII".to_owned()),
        FindingKind::Threshold => types.push("Unusual Behaviors/Application".to_owned()),
        FindingKind::Event | FindingKind::Incident => {}
    }
    for t in tags {
        let Some(tactic) = t.strip_prefix("attack.") else {
            continue;
        };
        let ty = match tactic {
            "initial_access" | "initial-access" => "TTPs/Initial Access",
            "execution" => "TTPs/Execution",
            "persistence" => "TTPs/Persistence",
            "privilege_escalation" | "privilege-escalation" => "TTPs/Privilege Escalation",
            "defense_evasion" | "defense-evasion" => "TTPs/Defense Evasion",
            "credential_access" | "credential-access" => "TTPs/Credential Access",
            "discovery" | "reconnaissance" => "TTPs/Discovery",
            "lateral_movement" | "lateral-movement" => "TTPs/Lateral Movement",
            "collection" => "TTPs/Collection",
            "command_and_control" | "command-and-control" => "TTPs/Command and Control",
            "exfiltration" => "Effects/Data Exfiltration",
            "impact" => "Effects/Data Destruction",
            _ => continue,
        };
        if !types.iter().any(|x| x == ty) {
            types.push(ty.to_owned());
        }
    }
    if types.is_empty() {
        types.push("Unusual Behaviors/Application".to_owned());
    }
    types.truncate(50);
    types
}

fn label(s: Severity) -> SeverityLabel {
    match s {
        Severity::Low => SeverityLabel::Low,
        Severity::Medium => SeverityLabel::Medium,
        Severity::High => SeverityLabel::High,
        Severity::Critical => SeverityLabel::Critical,
    }
}

/// The log group's ARN, and the Lambda function's when the log group is `/aws/lambda/<name>`.
fn resources(alert: &Alert, account: &Account) -> Vec<Resource> {
    let mut out = Vec::new();
    let group_arn = format!(
        "arn:{}:logs:{}:{}:log-group:{}",
        account.partition, account.region, account.id, alert.log_group
    );
    let other = [
        ("logGroup", alert.log_group.as_str()),
        ("logStream", alert.log_stream.as_str()),
        ("ruleId", alert.rule_id.as_str()),
    ];
    let mut group = Resource::builder()
        .r#type("Other")
        .id(bounded(&group_arn, 512))
        .partition(account.partition.as_str().into())
        .region(&account.region);
    let mut details = aws_sdk_securityhub::types::ResourceDetails::builder();
    for (k, v) in other {
        details = details.other(k, bounded(v, 1000));
    }
    group = group.details(details.build());
    out.push(group.build());
    if let Some(name) = alert.log_group.strip_prefix("/aws/lambda/") {
        let arn = format!(
            "arn:{}:lambda:{}:{}:function:{}",
            account.partition, account.region, account.id, name
        );
        out.push(
            Resource::builder()
                .r#type("AwsLambdaFunction")
                .id(arn)
                .partition(account.partition.as_str().into())
                .region(&account.region)
                .build(),
        );
    }
    out
}

/// The finding's description: the alert's facts in one paragraph (masked evidence only).
fn description(alert: &Alert) -> String {
    let mut d = format!(
        "{} in log group {} (stream {}), event time {}.",
        alert.title,
        alert.log_group,
        alert.log_stream,
        alert.timestamp.map(|t| t.to_rfc3339()).unwrap_or_default()
    );
    if let Some(e) = &alert.evidence {
        d.push_str(&format!(
            " Evidence: {} (fingerprint {}, {} match(es)).",
            e.masked, e.fingerprint, e.matches
        ));
    }
    if let (Some(g), Some(c)) = (&alert.group, alert.count) {
        d.push_str(&format!(" {}={} reached {c}.", g.field, g.value));
    }
    if alert.held_back > 0 {
        d.push_str(&format!(" {} similar alert(s) held back.", alert.held_back));
    }
    bounded(&d, 1000)
}

/// The ASFF finding of an alert. `tags` are the rule's tags; `now` is the import time
/// (`CreatedAt`/`UpdatedAt`, RFC 3339).
pub fn asff_finding(
    alert: &Alert,
    tags: &[String],
    account: &Account,
    now: &str,
) -> Result<AwsSecurityFinding, String> {
    let observed = alert
        .timestamp
        .map_or_else(|| now.to_owned(), |t| t.to_rfc3339());
    let sev = AsffSeverity::builder()
        .label(label(alert.severity))
        .original(alert.severity.as_str())
        .build();
    let mut f = AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(&alert.id)
        .product_arn(account.product_arn())
        .generator_id(bounded(&alert.rule_id, 500))
        .aws_account_id(&account.id)
        .set_types(Some(finding_types(alert, tags)))
        .created_at(now)
        .updated_at(now)
        .first_observed_at(&observed)
        .last_observed_at(observed)
        .severity(sev)
        .title(bounded(&alert.title, 250))
        .description(description(alert))
        .set_resources(Some(resources(alert, account)))
        .product_fields("ProviderName", "logwarden")
        .product_fields("ProviderVersion", env!("CARGO_PKG_VERSION"))
        .product_fields("logwarden/kind", alert.kind.as_str())
        .record_state(aws_sdk_securityhub::types::RecordState::Active);
    if let Some(e) = &alert.evidence {
        f = f
            .product_fields("logwarden/masked", bounded(&e.masked, 2000))
            .product_fields("logwarden/fingerprint", &e.fingerprint);
    }
    if let Some(g) = &alert.group {
        f = f.product_fields(
            "logwarden/group",
            bounded(&format!("{}={}", g.field, g.value), 2000),
        );
    }
    Ok(f.build())
}

/// Imports alerts into Security Hub.
#[derive(Debug, Clone)]
pub struct SecurityHubPublisher {
    client: aws_sdk_securityhub::Client,
    account: Account,
    /// Rule id → tags, for the finding types.
    tags: std::sync::Arc<std::collections::HashMap<String, Vec<String>>>,
    retry: RetryPolicy,
}

impl SecurityHubPublisher {
    /// A publisher into `account`'s default product; `tags` maps rule ids to their tags.
    pub fn new(
        client: aws_sdk_securityhub::Client,
        account: Account,
        tags: std::collections::HashMap<String, Vec<String>>,
    ) -> Self {
        SecurityHubPublisher {
            client,
            account,
            tags: std::sync::Arc::new(tags),
            retry: RetryPolicy::default(),
        }
    }

    /// The finding of one alert.
    fn finding(&self, a: &Alert, now: &str) -> Result<AwsSecurityFinding, String> {
        let tags = self.tags.get(&a.rule_id).map(Vec::as_slice).unwrap_or(&[]);
        asff_finding(a, tags, &self.account, now)
    }

    /// One `BatchImportFindings` call for the alerts `sent`: what became of each finding.
    async fn import_once(&self, alerts: &[Alert], now: &str, sent: Vec<usize>) -> CallResult {
        let findings = sent
            .iter()
            .filter_map(|&i| self.finding(&alerts[i], now).ok())
            .collect();
        let out = self
            .client
            .batch_import_findings()
            .set_findings(Some(findings))
            .send()
            .await
            .map_err(|e| crate::error::classify(&e))?;
        let failed = out.failed_findings();
        Ok(sent
            .iter()
            .map(|&i| {
                match failed
                    .iter()
                    .find(|f| f.id() == Some(alerts[i].id.as_str()))
                {
                    None => Entry::Delivered,
                    Some(f) => {
                        let code = f.error_code().unwrap_or("Unknown");
                        let reason =
                            format!("{code}: {}", f.error_message().unwrap_or("no message"));
                        let kind = AwsErrorKind::from_code(Some(code));
                        if kind.retryable() {
                            Entry::Retry(kind, reason)
                        } else {
                            Entry::Refused(reason)
                        }
                    }
                }
            })
            .collect())
    }

    async fn import(&self, alerts: &[Alert]) -> Result<PublishReport, PublishError> {
        let now = crate::time::EventTime::clamped(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        )
        .to_rfc3339();
        let mut report = PublishReport::default();
        // Alerts that cannot become a finding are set aside once, before any call.
        let mut convertible = Vec::new();
        for (i, a) in alerts.iter().enumerate() {
            match self.finding(a, &now) {
                Ok(_) => convertible.push(i),
                Err(reason) => report.undeliverable.push(Undeliverable {
                    id: a.id.clone(),
                    reason,
                }),
            }
        }
        let mut done = Vec::new();
        for chunk in convertible.chunks(MAX_FINDINGS_PER_CALL) {
            done.push(
                self.retry
                    .deliver(chunk.to_vec(), |sent| self.import_once(alerts, &now, sent))
                    .await,
            );
        }
        let refs: Vec<&Alert> = alerts.iter().collect();
        conclude(
            "Security Hub",
            &self.account.product_arn(),
            &refs,
            done,
            report,
        )
    }
}

impl Publisher for SecurityHubPublisher {
    fn name(&self) -> &'static str {
        "Security Hub"
    }

    fn publish<'a>(&'a self, alerts: &'a [Alert]) -> PublishFuture<'a> {
        Box::pin(self.import(alerts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Evidence;
    use crate::mask::Fingerprinter;

    fn alert() -> Alert {
        Alert {
            id: "0123456789abcdef0123456789abcdef".into(),
            rule_id: "stripe-secret-key".into(),
            title: "Stripe live secret key in /aws/lambda/orders".into(),
            severity: Severity::Critical,
            kind: FindingKind::Secret,
            log_group: "/aws/lambda/orders".into(),
            log_stream: "s".into(),
            event_ids: vec!["1".into()],
            timestamp: crate::time::EventTime::parse_iso("2026-11-25T10:00:00.000Z"),
            evidence: Some(Evidence::of(
                b"sk_live_4eC39HqLyjWDarjtT1zdp7dc",
                false,
                1,
                &Fingerprinter::new(b"k"),
            )),
            group: None,
            count: None,
            window: None,
            principal: None,
            held_back: 0,
            verified: None,
            incident: None,
            links: Vec::new(),
            via_deployment: false,
        }
    }

    #[test]
    fn an_alert_becomes_a_valid_asff_finding_without_the_secret() {
        let account = Account {
            id: "123456789012".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
        };
        let f = asff_finding(
            &alert(),
            &["attack.credential_access".into()],
            &account,
            "2026-11-25T10:00:01.000Z",
        )
        .expect("builds");
        assert_eq!(f.schema_version(), Some("2018-10-08"));
        assert_eq!(f.id(), Some("0123456789abcdef0123456789abcdef"));
        assert_eq!(
            f.product_arn(),
            Some("arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default")
        );
        assert_eq!(f.generator_id(), Some("stripe-secret-key"));
        assert_eq!(
            f.types(),
            [
                "Sensitive Data Identifications/Passwords",
                "TTPs/Credential Access"
            ]
        );
        assert_eq!(
            f.severity().and_then(|s| s.label()),
            Some(&SeverityLabel::Critical)
        );
        let types: Vec<&str> = f.resources().iter().filter_map(|r| r.r#type()).collect();
        assert_eq!(types, ["Other", "AwsLambdaFunction"]);
        assert!(!format!("{f:?}").contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
        assert!(f.title().is_some_and(|t| t.len() <= 256));
        assert!(f.description().is_some_and(|d| d.len() <= 1024));
    }
}

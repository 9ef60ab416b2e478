//! The policy stage: what becomes of a candidate alert, decided the same way for `replay`,
//! the Lambda and `explain`.
//!
//! In order: the severity the record gives the call (a change made through CloudFormation
//! ranks one lower; a dangerous call that failed ranks two lower and says so), change bursts
//! ([`bursts`]: the first match of a principal's burst goes on, the rest are *grouped* into
//! its summary), the minimum severity, suppression entries (*suppressed*: dropped and
//! counted), and storm control ([`storm`]: *held back*, counted, and named in the digest).
//! Every candidate gets a [`Fate`], handed to the caller with the alert, so what `explain`
//! reports is what replay sends.

pub mod bursts;
pub mod storm;

use std::sync::Arc;

use crate::alert::{Alert, EventRef};
use crate::clock::Clock;
use crate::detect::sigma::Grouping;
use crate::detect::suppressions::{Suppressed, Suppressions};
use crate::record::{Record, RecordKind};
use crate::severity::{FindingKind, Severity};
use crate::time::EventTime;
use bursts::{Admitted, Bursts};
pub use storm::{Storm, StormConfig, StormKey};

/// What became of a candidate alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Sent.
    Sent,
    /// Below the minimum severity: dropped (counted).
    BelowMinimum,
    /// Dropped by a suppression entry (`file: suppression #n`), counted per rule and entry.
    Suppressed(String),
    /// Held back by storm control: counted, and reported by a later alert of its key or the
    /// end-of-run digest.
    HeldBack,
    /// Grouped into an open change burst: listed in the burst's summary.
    Grouped,
}

impl Fate {
    /// A short word for the fate, as `explain` and the stats show it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Fate::Sent => "sent",
            Fate::BelowMinimum => "below minimum severity",
            Fate::Suppressed(_) => "suppressed",
            Fate::HeldBack => "held back",
            Fate::Grouped => "grouped",
        }
    }
}

/// What the record of an alert says about the call behind it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Who acted (see [`principal`]).
    pub principal: Option<String>,
    /// The call's error code, when it failed (CloudTrail `errorCode`).
    pub error: Option<String>,
    /// Whether CloudFormation made the call for a stack (`invokedBy`, `sourceIPAddress`).
    pub via_cloudformation: bool,
    /// The caller's access key id (CloudTrail), linking the alerts of one intrusion.
    pub access_key: Option<String>,
    /// Whether a deployment pipeline made the call, by what AWS records (never the user
    /// agent): CloudFormation, CodeBuild, or a CI role federated through an OIDC provider.
    pub via_pipeline: bool,
}

impl Facts {
    /// The facts of `record`.
    pub fn of(record: &Record<'_>) -> Facts {
        let cloudtrail = record.kind() == RecordKind::CloudTrail;
        let text = |f: &str| record.field(f).and_then(|v| v.to_text());
        Facts {
            principal: principal(record),
            error: if cloudtrail {
                text("errorCode").filter(|c| !c.is_empty())
            } else {
                None
            },
            via_cloudformation: cloudtrail
                && ["userIdentity.invokedBy", "sourceIPAddress"]
                    .iter()
                    .any(|f| text(f).is_some_and(|v| v == "cloudformation.amazonaws.com")),
            access_key: if cloudtrail {
                text("userIdentity.accessKeyId").filter(|k| !k.is_empty())
            } else {
                None
            },
            via_pipeline: cloudtrail
                && (text("userIdentity.invokedBy").is_some_and(|v| {
                    v == "cloudformation.amazonaws.com" || v == "codebuild.amazonaws.com"
                }) || text("userIdentity.type").as_deref() == Some("WebIdentityUser")
                    || text("userIdentity.sessionContext.webIdFederationData.federatedProvider")
                        .is_some_and(|p| p.contains(":oidc-provider/"))),
        }
    }
}

/// Who acted, as the record says: a CloudTrail principal's ARN (else its principal id,
/// access key id, the service acting, or for anonymous callers `anonymous@<address>`), an
/// application security event's user (else its source address), a WAF or API Gateway
/// client's address, a VPC flow's source address.
pub fn principal(record: &Record<'_>) -> Option<String> {
    let text = |f: &str| {
        record
            .field(f)
            .and_then(|v| v.to_text())
            .filter(|s| !s.is_empty())
    };
    let first = |fields: &[&str]| fields.iter().find_map(|f| text(f));
    match record.kind() {
        RecordKind::CloudTrail => {
            if text("userIdentity.accountId").as_deref() == Some("ANONYMOUS_PRINCIPAL")
                || text("userIdentity.type").as_deref() == Some("Anonymous")
            {
                return Some(format!(
                    "anonymous@{}",
                    text("sourceIPAddress").unwrap_or_default()
                ));
            }
            first(&[
                "userIdentity.arn",
                "userIdentity.principalId",
                "userIdentity.accessKeyId",
                "userIdentity.invokedBy",
                "sourceIPAddress",
            ])
        }
        RecordKind::SecurityEvent => first(&[
            "details.userId",
            "userId",
            "details.username",
            "details.sourceIp",
            "sourceIp",
        ]),
        RecordKind::Waf => first(&["httpRequest.clientIp"]),
        RecordKind::ApiGatewayJson | RecordKind::ApiGatewayClf => first(&["ip", "sourceIp"]),
        RecordKind::VpcFlow => first(&["srcaddr"]),
        _ => None,
    }
}

/// One severity lower (low stays low).
pub fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        _ => Severity::Low,
    }
}

/// What the policy needs to know of the rule behind a candidate.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleTraits<'r> {
    /// Matches of one principal are grouped into bursts.
    pub grouping: Option<&'r Grouping>,
    /// A match made through CloudFormation ranks one severity lower.
    pub deployment_aware: bool,
    /// The rule is about failed calls (it reads `errorCode`): a failure is its point, not a
    /// reason to rank it lower.
    pub about_failures: bool,
}

/// Settings of the policy stage.
#[derive(Debug, Clone)]
pub struct PolicyConfig {
    /// Alerts below this severity are dropped (and counted).
    pub min_severity: Severity,
    /// Storm control; `None` lets every alert through (`--storm-control off`).
    pub storm: Option<StormConfig>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            min_severity: Severity::Low,
            storm: Some(StormConfig::default()),
        }
    }
}

/// The policy stage's state (bursts, storm control) and settings. Keep one per pipeline:
/// state lives across warm invocations.
#[derive(Debug)]
pub struct Policy {
    config: PolicyConfig,
    suppressions: Suppressions,
    storm: Option<Storm>,
    bursts: Bursts,
    clock: Arc<dyn Clock>,
}

/// Receives every decision: the alert (sent or not) and its fate.
pub type Decide<'o> = dyn FnMut(Alert, &Fate) + 'o;

impl Policy {
    /// A policy with `config`, the `suppressions` of the detector set, and `clock` for
    /// suppression expiry.
    pub fn new(config: PolicyConfig, suppressions: Suppressions, clock: Arc<dyn Clock>) -> Self {
        Policy {
            storm: config.storm.map(Storm::new),
            config,
            suppressions,
            bursts: Bursts::default(),
            clock,
        }
    }

    /// The settings.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// Decides an alert of an event rule match on `record`: the record's severity rules,
    /// bursts, then [`Policy::decide`].
    pub fn decide_event(
        &mut self,
        mut alert: Alert,
        record: &Record<'_>,
        ev: &EventRef<'_>,
        traits: RuleTraits<'_>,
        redact: &mut dyn FnMut(&str) -> String,
        out: &mut Decide<'_>,
    ) {
        let facts = Facts::of(record);
        alert.via_deployment = facts.via_cloudformation || facts.via_pipeline;
        if traits.deployment_aware && facts.via_cloudformation {
            alert.severity = lower(alert.severity);
            alert.title.push_str(" (via CloudFormation)");
        }
        if let Some(code) = &facts.error
            && !traits.about_failures
        {
            alert.severity = lower(lower(alert.severity));
            alert.title.push_str(&format!(" (the call failed: {code})"));
        }
        alert.principal = facts.principal.clone();
        alert.links = facts.access_key.iter().cloned().collect();
        if let Some(g) = traits.grouping {
            match self
                .bursts
                .admit(g, record, alert, facts.via_cloudformation, ev, redact)
            {
                Admitted::First(a) => {
                    self.send_ready(out);
                    self.decide(a, Some(record), facts.error.is_some(), out);
                }
                Admitted::Grouped(a) => {
                    self.send_ready(out);
                    out(a, &Fate::Grouped);
                }
            }
            return;
        }
        self.decide(alert, Some(record), facts.error.is_some(), out);
    }

    /// Summaries of bursts that ended early, decided now.
    fn send_ready(&mut self, out: &mut Decide<'_>) {
        for a in self.bursts.take_ready() {
            self.decide(a, None, false, out);
        }
    }

    /// Decides an alert: the minimum severity, suppressions, storm control. `record`: the
    /// event it is about (for suppressions that name fields), `failed`: the call it is about
    /// failed.
    pub fn decide(
        &mut self,
        mut alert: Alert,
        record: Option<&Record<'_>>,
        failed: bool,
        out: &mut Decide<'_>,
    ) {
        if alert.severity < self.config.min_severity {
            out(alert, &Fate::BelowMinimum);
            return;
        }
        if !self.suppressions.is_empty() {
            let what = Suppressed {
                rule_id: &alert.rule_id,
                fingerprint: alert.evidence.as_ref().map(|e| e.fingerprint.as_str()),
                log_group: &alert.log_group,
            };
            if let Some(s) = self.suppressions.matching(&what, record, self.clock.now()) {
                let entry = s.location.clone();
                out(alert, &Fate::Suppressed(entry));
                return;
            }
        }
        alert.bound();
        let Some(storm) = &mut self.storm else {
            out(alert, &Fate::Sent);
            return;
        };
        let key = StormKey {
            rule_id: alert.rule_id.clone(),
            who: match alert.kind {
                FindingKind::Threshold => alert.group.as_ref().map(|g| g.value.clone()),
                _ => alert.principal.clone(),
            }
            .unwrap_or_else(|| alert.log_group.clone()),
            what: alert
                .evidence
                .as_ref()
                .map(|e| e.fingerprint.clone())
                .unwrap_or_default(),
            failed,
            severity: alert.severity,
        };
        let time = alert.timestamp;
        match storm.admit(alert, key, time) {
            storm::Admission::Sent(a) => out(a, &Fate::Sent),
            storm::Admission::HeldBack(a) => out(a, &Fate::HeldBack),
        }
    }

    /// Ends an invocation: every open burst's summary, then for every storm key still holding
    /// alerts back its latest one (the digest).
    pub fn finish(&mut self, now: Option<EventTime>, out: &mut Decide<'_>) {
        for a in self.bursts.summaries(now) {
            self.decide(a, None, false, out);
        }
        if let Some(storm) = &mut self.storm {
            for a in storm.digest() {
                out(a, &Fate::Sent);
            }
        }
    }
}

//! The words every stage shares: how severe an alert is ([`Severity`]) and what kind of thing
//! was found ([`FindingKind`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Alert severity, ordered from `Low` to `Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational; worth a look.
    #[default]
    Low,
    /// Needs attention.
    Medium,
    /// Act today.
    High,
    /// Act now.
    Critical,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" | "informational" | "info" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected low, medium, high or critical)"
            )),
        }
    }
}

/// What kind of thing a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// A credential or key.
    Secret,
    /// Personal data.
    Pii,
    /// A security event matched by an event rule.
    Event,
    /// A correlation threshold crossed.
    Threshold,
    /// An incident: the alerts of one intrusion, grouped.
    Incident,
}

impl FindingKind {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Secret => "secret",
            FindingKind::Pii => "pii",
            FindingKind::Event => "event",
            FindingKind::Threshold => "threshold",
            FindingKind::Incident => "incident",
        }
    }
}

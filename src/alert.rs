//! Stage 5: alerts. An [`Alert`] is what leaves logwarden: the JSON of INTERFACE.md.
//!
//! Secrets never leave this stage in clear: [`Evidence`] holds a masked preview and a short
//! SHA-256 fingerprint, built directly from the matched bytes, which are then dropped.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::detect::{FindingKind, Severity};

/// Masked evidence of a secret or PII value. The value itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// A preview that shows at most a few characters at each end, e.g. `AKIA************MPLE`.
    pub masked: String,
    /// The first 16 hex digits of the SHA-256 of the value: the same secret gives the same
    /// fingerprint, so a SOC can tell repeats and check a known key without seeing it.
    pub fingerprint: String,
    /// How many matches of this rule the log event held (the evidence shows the first).
    pub matches: usize,
}

impl Evidence {
    /// Builds evidence from the matched bytes.
    pub fn of(secret: &[u8], matches: usize) -> Self {
        Evidence {
            masked: mask(secret),
            fingerprint: fingerprint(secret),
            matches,
        }
    }
}

/// Masks a value: keeps `min(4, len/5)` characters at each end, replaces the rest with `*`
/// (at most 24 of them, so long keys stay readable). Control characters are never shown.
pub fn mask(secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let keep = (n / 5).min(4);
    let hidden = n - 2 * keep;
    let mut out = String::with_capacity(keep * 2 + hidden.min(24) + 3);
    let show = |c: char| if c.is_control() { '?' } else { c };
    out.extend(chars[..keep].iter().map(|&c| show(c)));
    out.extend(std::iter::repeat_n('*', hidden.min(24)));
    if hidden > 24 {
        out.push('…');
    }
    out.extend(chars[n - keep..].iter().map(|&c| show(c)));
    out
}

/// First 16 hex digits of SHA-256(value).
pub fn fingerprint(secret: &[u8]) -> String {
    hex16(&Sha256::digest(secret))
}

fn hex16(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(16);
    for b in &digest[..8] {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A deterministic id from its parts: 32 hex digits of SHA-256 over the parts, NUL-separated.
/// The same rule, stream and event (or window) always give the same id, so a retried batch
/// can be deduplicated downstream.
pub fn alert_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut s = hex16(&d[..8]);
    s.push_str(&hex16(&d[8..16]));
    s
}

/// The group of a threshold alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The group-by field, e.g. `details.sourceIp`.
    pub field: String,
    /// Its value.
    pub value: String,
}

/// A time window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Start, RFC 3339.
    pub start: String,
    /// End, RFC 3339.
    pub end: String,
}

/// One alert, as printed and published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// Deterministic id.
    pub id: String,
    /// Detector id.
    pub rule_id: String,
    /// One line for humans.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// secret, pii, event or threshold.
    pub kind: FindingKind,
    /// Source log group.
    pub log_group: String,
    /// Source log stream.
    pub log_stream: String,
    /// The log events that produced it.
    pub event_ids: Vec<String>,
    /// Event time (RFC 3339), or empty when the event carried none.
    pub timestamp: String,
    /// Masked evidence for secret/PII alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// Group of a threshold alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
    /// Number of events of a threshold alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Window of a threshold alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// How many alerts of this rule and key were held back since the last one.
    pub suppressed: u64,
}

impl Alert {
    /// The alert as one line of JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_ends_only() {
        assert_eq!(mask(b"AKIAIOSFODNN7EXAMPLE"), "AKIA************MPLE");
        assert_eq!(mask(b"secret"), "s****t");
        assert_eq!(mask(b"abc"), "***");
        assert_eq!(mask(b""), "");
        let long = "x".repeat(100);
        let m = mask(long.as_bytes());
        assert!(m.len() < 40, "{m}");
    }

    #[test]
    fn fingerprint_is_16_hex() {
        let f = fingerprint(b"abc");
        assert_eq!(f, "ba7816bf8f01cfea");
    }

    #[test]
    fn ids_are_deterministic_and_separated() {
        assert_eq!(alert_id(&["a", "b"]), alert_id(&["a", "b"]));
        assert_ne!(alert_id(&["ab", ""]), alert_id(&["a", "b"]));
        assert_eq!(alert_id(&["x"]).len(), 32);
    }
}

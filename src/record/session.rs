//! What the session stage ([`crate::correlate::sessions`]) reads of a CloudTrail call made
//! with temporary credentials. It is read where the record was analysed (any thread), so the
//! ordered stage does not parse the record again.

use super::{FieldValue, Record, RecordKind};

/// One CloudTrail call made with temporary credentials (an `ASIA...` access key id).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCall {
    /// `userIdentity.accessKeyId`.
    pub key: Box<str>,
    /// `userAgent` (empty when absent).
    pub agent: Box<str>,
    /// `sourceIPAddress` (empty when absent).
    pub source: Box<str>,
    /// `userIdentity.arn` (empty when absent).
    pub arn: Box<str>,
    /// Whether `userIdentity.sessionContext.ec2RoleDelivery` is set (instance-profile
    /// credentials).
    pub ec2_role_delivery: bool,
    /// `eventName`.
    pub event_name: Option<Box<str>>,
    /// Whether `readOnly` is true.
    pub read_only: bool,
}

impl std::fmt::Debug for SessionCall {
    // The user agent and the ARN are the caller's text: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCall")
            .field("event_name", &self.event_name)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl SessionCall {
    /// The call of a CloudTrail record whose caller used temporary credentials, unless an AWS
    /// service, a private address or a VPC endpoint made it (never away from home): `None`
    /// for any other record.
    pub fn of(record: &Record<'_>) -> Option<SessionCall> {
        if record.kind() != RecordKind::CloudTrail {
            return None;
        }
        let key = text(record, "userIdentity.accessKeyId")?;
        if !key.starts_with("ASIA") || key.len() > 128 {
            return None;
        }
        let source = text(record, "sourceIPAddress").unwrap_or("");
        if aws_service(source) || private(source) || text(record, "vpcEndpointId").is_some() {
            return None;
        }
        Some(SessionCall {
            key: key.into(),
            agent: text(record, "userAgent").unwrap_or("").into(),
            source: source.into(),
            arn: text(record, "userIdentity.arn").unwrap_or("").into(),
            ec2_role_delivery: text(record, "userIdentity.sessionContext.ec2RoleDelivery")
                .is_some(),
            event_name: text(record, "eventName").map(Into::into),
            read_only: record
                .field("readOnly")
                .and_then(|v| v.to_text())
                .is_some_and(|v| v == "true"),
        })
    }
}

/// Whether a CloudTrail record's caller used temporary credentials (`"accessKeyId":"ASIA`):
/// the records [`SessionCall::of`] reads (a cheap test on the text, before any parsing).
pub fn carries_temporary_key(message: &str) -> bool {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(br#""accessKeyId":"ASIA"#));
    FINDER.find(message.as_bytes()).is_some()
}

/// A field's text: a string field, not a number or an object.
fn text<'r>(r: &'r Record<'_>, path: &str) -> Option<&'r str> {
    match r.field(path)? {
        FieldValue::Text(s) => Some(s),
        FieldValue::Json(serde_json::Value::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Whether a source "address" is an AWS service acting for the caller.
fn aws_service(source: &str) -> bool {
    source.ends_with(".amazonaws.com") || source == "AWS Internal"
}

/// Whether an address is private (RFC 1918, IPv6 unique local): a call through a VPC
/// endpoint, from inside the account's network.
fn private(source: &str) -> bool {
    match source.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => a.is_private() || a.is_loopback(),
        Ok(std::net::IpAddr::V6(a)) => (a.segments()[0] & 0xfe00) == 0xfc00 || a.is_loopback(),
        Err(_) => false,
    }
}

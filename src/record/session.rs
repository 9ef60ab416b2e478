//! What the session stage ([`crate::correlate::sessions`]) reads of a CloudTrail call made
//! with temporary credentials. It is read where the record was analysed (any thread), so the
//! ordered stage does not parse the record again.

use super::{FieldValue, Record, RecordKind};
use crate::time::EventTime;

/// One CloudTrail call made with temporary credentials (an `ASIA...` access key id).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Whether the call came through a VPC endpoint (`vpcEndpointId`).
    pub vpc_endpoint: bool,
    /// `eventName`.
    pub event_name: Option<Box<str>>,
    /// Whether `readOnly` is true.
    pub read_only: bool,
    /// The record's time ([`Record::time`]).
    pub time: Option<EventTime>,
}

impl SessionCall {
    /// The call of a CloudTrail record whose caller used temporary credentials: `None` for
    /// any other record.
    pub fn of(record: &Record<'_>) -> Option<SessionCall> {
        if record.kind() != RecordKind::CloudTrail {
            return None;
        }
        let key = text(record, "userIdentity.accessKeyId")?;
        if !key.starts_with("ASIA") || key.len() > 128 {
            return None;
        }
        Some(SessionCall {
            key: key.into(),
            agent: text(record, "userAgent").unwrap_or("").into(),
            source: text(record, "sourceIPAddress").unwrap_or("").into(),
            arn: text(record, "userIdentity.arn").unwrap_or("").into(),
            ec2_role_delivery: text(record, "userIdentity.sessionContext.ec2RoleDelivery")
                .is_some(),
            vpc_endpoint: text(record, "vpcEndpointId").is_some(),
            event_name: text(record, "eventName").map(Into::into),
            read_only: record
                .field("readOnly")
                .and_then(|v| v.to_text())
                .is_some_and(|v| v == "true"),
            time: record.time(),
        })
    }
}

/// Whether a CloudTrail record's caller used temporary credentials (`"accessKeyId":"ASIA`):
/// the records [`SessionCall::of`] reads (a cheap test on the text, before any parsing).
pub fn carries_temporary_key(message: &str) -> bool {
    memchr::memmem::find(message.as_bytes(), br#""accessKeyId":"ASIA"#).is_some()
}

/// A field's text: a string field, not a number or an object.
fn text<'r>(r: &'r Record<'_>, path: &str) -> Option<&'r str> {
    match r.field(path)? {
        FieldValue::Text(s) => Some(s),
        FieldValue::Json(serde_json::Value::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

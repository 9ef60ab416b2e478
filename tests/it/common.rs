//! Test helpers: build CloudWatch Logs subscription payloads the way AWS does.
#![allow(dead_code)]

use std::io::Write;

use base64::Engine as _;
use serde_json::json;

/// gzip-compresses `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("write to memory");
    enc.finish().expect("finish gzip in memory")
}

/// Standard, padded base64.
pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The decoded subscription payload JSON for `messages` (timestamps 1 s apart from `t0`).
pub fn payload_json(log_group: &str, log_stream: &str, t0: i64, messages: &[&str]) -> String {
    let events: Vec<_> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({
                "id": format!("{:056}", 37_000_000_000_000i64 + i as i64),
                "timestamp": t0 + 1000 * i as i64,
                "message": m,
            })
        })
        .collect();
    json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["logwarden"],
        "logEvents": events,
    })
    .to_string()
}

/// The Lambda event `{"awslogs":{"data": base64(gzip(payload))}}`.
pub fn lambda_event(payload: &str) -> String {
    json!({"awslogs": {"data": b64(&gzip(payload.as_bytes()))}}).to_string()
}

/// A Kinesis Lambda event whose records carry the given (already gzip) payloads.
pub fn kinesis_event(gzipped: &[Vec<u8>]) -> String {
    let records: Vec<_> = gzipped
        .iter()
        .enumerate()
        .map(|(i, g)| {
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "pk",
                    "sequenceNumber": format!("4959{i:020}"),
                    "data": b64(g),
                    "approximateArrivalTimestamp": 1_795_600_800.5
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000000:{i}"),
                "eventName": "aws:kinesis:record",
                "awsRegion": "eu-west-1",
            })
        })
        .collect();
    json!({ "Records": records }).to_string()
}

/// 2026-11-25T10:00:00Z in epoch ms.
pub const T0: i64 = 1_795_600_800_000;

/// The planted secret values (`tests/fixtures/planted.txt`: one per line, `#` comments): no
/// alert, log line, error or snapshot may contain any of them.
pub fn planted() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/planted.txt");
    std::fs::read_to_string(path)
        .expect("planted.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The text source of CloudTrail records read from a local file: a CloudTrail log stream
/// (`<account>_CloudTrail_<region>`), as CloudTrail names it in CloudWatch Logs.
pub fn cloudtrail_source() -> logwarden::TextSource {
    logwarden::TextSource {
        log_group: "aws-cloudtrail-logs".into(),
        log_stream: "123456789012_CloudTrail_us-east-1".into(),
        first_line: 1,
    }
}

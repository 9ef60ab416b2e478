//! A seeded, deterministic generator of realistic CloudWatch Logs payloads for benchmarks:
//! Powertools JSON, Node.js runtime lines, Lambda platform lines, ~1.5 KB CloudTrail records
//! and app security events, with about one planted secret per 2,000 lines.

#![allow(dead_code)]

use std::io::Write;

use base64::Engine as _;
use serde_json::json;

/// xorshift64*: small, fast, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }
    pub fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| char::from(A[self.below(A.len() as u64) as usize]))
            .collect()
    }
    pub fn uuid(&mut self) -> String {
        format!(
            "{}-{}-{}-{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(4),
            self.hex(4),
            self.hex(12)
        )
    }
}

const T0: i64 = 1_795_600_800_000;

fn iso(ms: i64) -> String {
    logwarden::time::EventTime::clamped(ms).to_rfc3339()
}

fn cloudtrail(r: &mut Rng, t: i64) -> String {
    let names = [
        "DescribeInstances",
        "GetObject",
        "AssumeRole",
        "PutObject",
        "ListBuckets",
        "GetParameter",
    ];
    let sources = [
        "ec2.amazonaws.com",
        "s3.amazonaws.com",
        "sts.amazonaws.com",
        "ssm.amazonaws.com",
    ];
    let name = names[r.below(names.len() as u64) as usize];
    let source = sources[r.below(sources.len() as u64) as usize];
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": format!("AROA{}:{}", r.alnum(16).to_uppercase(), r.uuid()),
            "arn": format!("arn:aws:sts::123456789012:assumed-role/app-role-{}/{}", r.hex(6), r.uuid()),
            "accountId": "123456789012",
            "accessKeyId": format!("ASIA{}", r.alnum(16).to_uppercase()),
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": format!("AROA{}", r.alnum(16).to_uppercase()),
                    "arn": "arn:aws:iam::123456789012:role/app-role", "accountId": "123456789012", "userName": "app-role"},
                "attributes": {"creationDate": iso(t - 600_000), "mfaAuthenticated": "false"}
            }
        },
        "eventTime": iso(t).replace(".000", ""),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": format!("10.0.{}.{}", r.below(255), r.below(255)),
        "userAgent": "aws-sdk-js/3.637.0 ua/2.0 os/linux#5.10 lang/js md/nodejs#20.15.1 api/ec2#3.637.0",
        "requestParameters": {"bucketName": format!("orders-{}", r.hex(8)), "key": format!("invoices/{}.pdf", r.uuid()), "maxResults": 100},
        "responseElements": null,
        "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": r.alnum(60)},
        "requestID": r.uuid(),
        "eventID": r.uuid(),
        "readOnly": true,
        "resources": [{"accountId": "123456789012", "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::orders-{}", r.hex(8))}],
        "eventType": "AwsApiCall",
        "managementEvent": false,
        "recipientAccountId": "123456789012",
        "eventCategory": "Data",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "orders.s3.eu-west-1.amazonaws.com"}
    })
    .to_string()
}

fn secret(r: &mut Rng) -> String {
    match r.below(4) {
        0 => format!("stripe key sk_live_{}", r.alnum(24)),
        1 => format!("token ghp_{}", r.alnum(36)),
        2 => format!("db postgres://app:{}@db.internal:5432/app", r.alnum(16)),
        _ => format!("card 4111 1111 1111 1111 for order {}", r.hex(8)),
    }
}

/// One log line of the mixed corpus.
pub fn line(r: &mut Rng, i: usize, t: i64) -> String {
    let req = r.uuid();
    // Mid-block, so that even a 1 MB payload (~1,660 lines) carries one.
    if i % 2000 == 999 {
        return format!("{}\t{req}\tINFO\t{}", iso(t), secret(r));
    }
    match r.below(100) {
        0..=34 => json!({
            "level": (["INFO", "DEBUG", "WARN"][r.below(3) as usize]),
            "location": format!("handler:{}", r.below(300)),
            "message": (["order created", "payment authorised", "cache miss", "request completed"][r.below(4) as usize]),
            "timestamp": iso(t),
            "service": "orders",
            "cold_start": false,
            "function_name": "orders-api",
            "function_memory_size": 512,
            "function_arn": "arn:aws:lambda:eu-west-1:123456789012:function:orders-api",
            "function_request_id": req,
            "xray_trace_id": format!("1-{}-{}", r.hex(8), r.hex(24)),
            "order_id": format!("o-{}", r.hex(10)),
            "duration_ms": r.below(2000)
        })
        .to_string(),
        35..=59 => format!(
            "{}\t{req}\tINFO\tprocessed batch {} items={} latency={}ms",
            iso(t),
            r.hex(12),
            r.below(500),
            r.below(900)
        ),
        60..=69 => match r.below(3) {
            0 => format!("START RequestId: {req} Version: $LATEST"),
            1 => format!("END RequestId: {req}"),
            _ => format!(
                "REPORT RequestId: {req}\tDuration: {}.{} ms\tBilled Duration: {} ms\tMemory Size: 512 MB\tMax Memory Used: {} MB\t",
                r.below(900),
                r.below(99),
                r.below(900) + 1,
                r.below(200) + 60
            ),
        },
        70..=89 => cloudtrail(r, t),
        _ => json!({
            "timestamp": iso(t),
            "eventType": "security",
            "type": (["authentication_failed", "rate_limit_exceeded", "suspicious_activity"][r.below(3) as usize]),
            "severity": (["low", "medium"][r.below(2) as usize]),
            "details": {"reason": "invalid credentials", "sourceIp": format!("203.0.113.{}", r.below(255)),
                "userAgent": "Mozilla/5.0", "userId": format!("u-{}", r.below(5000)), "endpoint": "/login", "requestCount": r.below(50)}
        })
        .to_string(),
    }
}

/// A decoded subscription payload JSON of about `target` bytes.
pub fn payload(seed: u64, target: usize) -> String {
    let mut r = Rng::new(seed);
    let mut events = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < target {
        let t = T0 + (i as i64) * 37;
        let msg = line(&mut r, i, t);
        size += msg.len() + 100;
        events.push(json!({"id": format!("{:056}", 37_000_000_000_000u64 + i as u64), "timestamp": t, "message": msg}));
        i += 1;
    }
    json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/orders-api",
        "logStream": "2026/11/25/[$LATEST]0123456789abcdef0123456789abcdef",
        "subscriptionFilters": ["logwarden"],
        "logEvents": events
    })
    .to_string()
}

/// The Lambda event carrying `payload` (gzip, then padded standard base64).
pub fn lambda_event(payload: &str) -> String {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(payload.as_bytes()).expect("in-memory gzip");
    let gz = enc.finish().expect("in-memory gzip");
    json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD.encode(gz)}}).to_string()
}

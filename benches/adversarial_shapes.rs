//! Adversarial log lines (issue 25, "linear time on every line"): messages an attacker who
//! writes some log content can shape to make a scanner slow, each close to the 256 KiB
//! CloudWatch Logs event limit. Shared by `benches/adversarial.rs` (throughput against
//! ordinary log text) and `tests/it/attacks.rs` (every shape is processed and the pipeline
//! keeps working after it).
#![allow(dead_code)]

use serde_json::json;

/// An application's log group and stream.
pub const APP_GROUP: &str = "/aws/lambda/orders-api";
/// The stream of [`APP_GROUP`].
pub const APP_STREAM: &str = "2026/11/25/[$LATEST]4f1c0a9e7d2b45c8a3e6f9b1d0c7e254";
/// A CloudTrail log group.
pub const TRAIL_GROUP: &str = "aws-cloudtrail-logs-123456789012-7f3e2a1c";
/// The stream CloudTrail writes to.
pub const TRAIL_STREAM: &str = "123456789012_CloudTrail_us-east-1";

/// The size every shape is built to: just under the CloudWatch Logs event limit.
pub const SIZE: usize = 256 * 1024 - 1024;

/// One adversarial message.
pub struct Shape {
    /// A short name.
    pub name: &'static str,
    /// Whether it is read from a CloudTrail source (else from an application's log group).
    pub cloudtrail: bool,
    /// The message.
    pub message: String,
}

impl Shape {
    /// The log group it is read from.
    pub fn group(&self) -> &'static str {
        if self.cloudtrail {
            TRAIL_GROUP
        } else {
            APP_GROUP
        }
    }

    /// The log stream it is read from.
    pub fn stream(&self) -> &'static str {
        if self.cloudtrail {
            TRAIL_STREAM
        } else {
            APP_STREAM
        }
    }
}

/// xorshift64: small and reproducible (the tests' varied values use it too).
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `n` characters drawn from `alphabet`.
    pub fn pick(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(alphabet[(self.next() % alphabet.len() as u64) as usize]))
            .collect()
    }
}

/// Letters and digits.
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// The base32 alphabet of AWS key ids.
pub const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// An AKIA-shaped access key id.
fn akia(r: &mut Rng) -> String {
    format!("AKIA{}", r.pick(BASE32, 16))
}

/// `unit` repeated up to `size` bytes (whole units only).
fn repeat_to(unit: &str, size: usize) -> String {
    unit.repeat(size / unit.len().max(1))
}

/// Units from `f(i)` appended while they fit in `size`.
fn fill(size: usize, mut f: impl FnMut(usize) -> String) -> String {
    let mut s = String::with_capacity(size);
    for i in 0.. {
        let u = f(i);
        if s.len() + u.len() > size {
            break;
        }
        s.push_str(&u);
    }
    s
}

/// A CloudTrail record around `params`, padded by nothing.
fn cloudtrail(event_name: &str, params: serde_json::Value) -> String {
    json!({
        "eventVersion": "1.10",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROA6PXTQ2KD4EXAMPLE3:i-0a7d3c9e5b1f24680",
            "arn": "arn:aws:sts::123456789012:assumed-role/batch-worker-role/i-0a7d3c9e5b1f24680",
            "accountId": "123456789012", "accessKeyId": "ASIAQATN47XAKDWGVFCW"},
        "eventTime": "2026-11-25T10:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.218",
        "userAgent": "aws-cli/2.22.4",
        "requestParameters": params,
        "responseElements": null,
        "requestID": "90cf3f1d-a7e3-4eea-b99a-14f8ea3d9d20",
        "eventID": "3dd4d0f3-151b-48cc-9edd-b5e72d4579fe",
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management"
    })
    .to_string()
}

/// A Luhn-valid 16-digit Visa number from 15 digits.
fn luhn_visa(body15: &str) -> String {
    let digits: Vec<u32> = body15.bytes().map(|b| u32::from(b - b'0')).collect();
    let mut sum = 0;
    for (i, d) in digits.iter().rev().enumerate() {
        let v = if i % 2 == 0 { d * 2 } else { *d };
        sum += if v > 9 { v - 9 } else { v };
    }
    format!("{body15}{}", (10 - sum % 10) % 10)
}

/// Every adversarial shape.
pub fn shapes() -> Vec<Shape> {
    let mut r = Rng(0x5eed_a77a_c4ed);
    let mut out = Vec::new();
    let mut add = |name: &'static str, cloudtrail: bool, message: String| {
        out.push(Shape {
            name,
            cloudtrail,
            message,
        })
    };

    // An ARN that swallows thousands of AKIA-shaped key ids joined by `/`.
    let mut keys = String::from("arn:aws:iam::123456789012:user/");
    while keys.len() + 21 < SIZE {
        keys.push_str(&akia(&mut r));
        keys.push('/');
    }
    add("arn-then-akia-keys", false, keys.clone());
    let in_record = cloudtrail("GetPolicy", json!({"policyArn": &keys[..SIZE - 1200]}));
    add("arn-then-akia-keys-in-cloudtrail", true, in_record);
    add(
        "akia-keys-spaced",
        false,
        fill(SIZE, |_| format!("{} ", akia(&mut r))),
    );

    // Long runs of one character.
    add("run-a", false, "a".repeat(SIZE));
    add("run-backslash", false, "\\".repeat(SIZE));
    add("run-percent", false, "%".repeat(SIZE));
    add("run-digits", false, "4".repeat(SIZE));
    add("run-space", false, " ".repeat(SIZE));
    add("run-quote", false, "\"".repeat(SIZE));
    add("run-at", false, "@".repeat(SIZE));
    add("run-equals", false, "=".repeat(SIZE));
    add("run-dash", false, "-".repeat(SIZE));
    add("run-base64", false, r.pick(BASE64, SIZE));

    // Many keyword hits.
    add("keyword-password", false, repeat_to("password=", SIZE));
    add(
        "keyword-url-userinfo",
        false,
        repeat_to("https://u:p", SIZE),
    );
    add(
        "keyword-sas-sig",
        false,
        repeat_to("sv=2022-11-02&sig=", SIZE),
    );
    add(
        "keyword-bearer",
        false,
        repeat_to("Authorization: Bearer ", SIZE),
    );
    add(
        "keyword-pem-header",
        false,
        repeat_to("-----BEGIN RSA PRIVATE KEY----- ", SIZE),
    );
    add(
        "keyword-mix",
        false,
        repeat_to(
            "sk_live_ ghp_ AKIA xoxb- hooks.slack.com bearer sig= secret= token= api_key= ssn :// @ ",
            SIZE,
        ),
    );
    add(
        "many-emails",
        false,
        fill(SIZE, |i| format!("user{i}@mailbox{}.org ", i % 97)),
    );
    add(
        "many-cards",
        false,
        fill(SIZE, |i| {
            format!("{} ", luhn_visa(&format!("4{:014}", i * 7919)))
        }),
    );

    // Deep nesting.
    let depth = SIZE / 6 - 1;
    add(
        "deep-json-object",
        false,
        format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)),
    );
    add(
        "deep-json-array",
        false,
        format!("{}{}", "[".repeat(SIZE / 2), "]".repeat(SIZE / 2)),
    );
    add(
        "deep-security-event",
        false,
        format!(
            "{{\"eventType\":\"security\",\"type\":\"sql_injection_attempt\",\"severity\":\"high\",\"details\":{{\"sourceIp\":\"203.0.113.66\",\"body\":{}1{}}}}}",
            "{\"a\":".repeat(depth - 40),
            "}".repeat(depth - 40)
        ),
    );

    // Many escapes.
    add("percent-escapes", false, repeat_to("%41", SIZE));
    add("percent-encoded-percent", false, repeat_to("%25", SIZE));
    add("percent-encoded-backslash", false, repeat_to("%5C", SIZE));
    add("json-unicode-escapes", false, repeat_to("\\u0041", SIZE));
    add(
        "json-escaped-backslashes",
        false,
        repeat_to("\\\\\\\"", SIZE),
    );

    // Huge JSON arrays.
    let ips: Vec<String> = (0..SIZE / 20)
        .map(|i| format!("10.{}.{}.{}", i % 250, (i / 250) % 250, i % 7))
        .collect();
    let users: Vec<String> = (0..SIZE / 40).map(|i| format!("u-{i}")).collect();
    let mut event =
        json!({"eventType": "security", "type": "authentication_failed", "severity": "medium",
        "details": {"sourceIp": ips, "userId": users, "endpoint": "/login"}})
        .to_string();
    while event.len() > SIZE {
        event = json!({"eventType": "security", "type": "authentication_failed", "severity": "medium",
            "details": {"sourceIp": &ips[..ips.len() * 3 / 4], "userId": &users[..users.len() * 3 / 4], "endpoint": "/login"}})
        .to_string();
    }
    add("huge-json-array-security-event", false, event);
    let items: Vec<serde_json::Value> = (0..SIZE / 40)
        .map(|i| json!({"instanceId": format!("i-{i:017x}")}))
        .collect();
    let mut n = items.len();
    let record = loop {
        let rec = cloudtrail(
            "TerminateInstances",
            json!({"instancesSet": {"items": &items[..n]}}),
        );
        if rec.len() <= SIZE {
            break rec;
        }
        n = n * 9 / 10;
    };
    add("huge-json-array-cloudtrail", true, record);
    out
}

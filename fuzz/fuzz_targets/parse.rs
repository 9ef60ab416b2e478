//! Arbitrary log lines through record classification and field lookup.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use logwarden::{LogEvent, Parser};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let event = LogEvent {
        id: Cow::Borrowed("1"),
        timestamp_ms: None,
        message: text,
        truncated: false,
    };
    let parser = Parser::new();
    let record = parser.parse(&event, "/aws/lambda/fuzz");
    let _ = record.time_ms();
    for path in ["message", "details.sourceIp", "userIdentity.type", "status", "function", "a.0.b"] {
        let _ = record.field(path).and_then(|v| v.to_text());
    }
});

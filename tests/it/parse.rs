//! Parsing each record kind from realistic lines.

use std::borrow::Cow;

use logwarden::LogEvent;
use logwarden::record::{FieldValue, Parser, PlatformLine, RecordKind, Sources};

fn event(msg: &str, ts: Option<i64>) -> LogEvent<'_> {
    LogEvent {
        id: Cow::Borrowed("1"),
        timestamp: ts.and_then(logwarden::time::EventTime::from_millis),
        message: Cow::Borrowed(msg),
        truncated: false,
    }
}

struct Case {
    name: &'static str,
    line: &'static str,
    kind: RecordKind,
    /// Expected event time when the event carries none.
    time: Option<&'static str>,
    fields: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        name: "platform START",
        line: "START RequestId: 6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11 Version: $LATEST",
        kind: RecordKind::LambdaPlatform(PlatformLine::Start),
        time: None,
        fields: &[
            ("requestId", "6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11"),
            ("version", "$LATEST"),
            ("function", "orders-api"),
        ],
    },
    Case {
        name: "platform END",
        line: "END RequestId: 6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11",
        kind: RecordKind::LambdaPlatform(PlatformLine::End),
        time: None,
        fields: &[
            ("requestId", "6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11"),
            ("type", "platform.end"),
        ],
    },
    Case {
        name: "platform REPORT",
        line: "REPORT RequestId: 6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms\t",
        kind: RecordKind::LambdaPlatform(PlatformLine::Report),
        time: None,
        fields: &[
            ("requestId", "6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11"),
            ("durationMs", "15.74"),
            ("billedDurationMs", "16"),
            ("memorySizeMB", "128"),
            ("maxMemoryUsedMB", "56"),
            ("initDurationMs", "130.49"),
        ],
    },
    Case {
        name: "task timed out",
        line: "2026-11-25T10:03:00.120Z 6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11 Task timed out after 3.01 seconds",
        kind: RecordKind::LambdaPlatform(PlatformLine::Timeout),
        time: Some("2026-11-25T10:03:00.120Z"),
        fields: &[
            ("requestId", "6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11"),
            ("timeoutSeconds", "3.01"),
            ("status", "timeout"),
            ("function", "orders-api"),
        ],
    },
    Case {
        name: "app line that mentions a timeout is not a platform timeout",
        line: "2026-11-25T10:03:00.120Z\t6f1c3c1e\tWARN\tTask timed out after 3 retries",
        kind: RecordKind::NodeRuntime,
        time: Some("2026-11-25T10:03:00.120Z"),
        fields: &[("level", "WARN")],
    },
    Case {
        name: "INIT_START",
        line: "INIT_START Runtime Version: nodejs:20.v33\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:0a1b",
        kind: RecordKind::LambdaPlatform(PlatformLine::InitStart),
        time: None,
        fields: &[("type", "platform.initStart")],
    },
    Case {
        name: "platform JSON report",
        line: r#"{"time":"2026-11-25T10:00:01.000Z","type":"platform.report","record":{"requestId":"6f1c3c1e","status":"timeout","metrics":{"durationMs":3000.5,"billedDurationMs":3000,"memorySizeMB":128,"maxMemoryUsedMB":70}}}"#,
        kind: RecordKind::LambdaPlatformJson,
        time: Some("2026-11-25T10:00:01.000Z"),
        fields: &[
            ("type", "platform.report"),
            ("record.status", "timeout"),
            ("record.requestId", "6f1c3c1e"),
        ],
    },
    Case {
        name: "Node.js runtime line",
        line: "2026-11-25T10:00:00.123Z\t6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\"}",
        kind: RecordKind::NodeRuntime,
        time: Some("2026-11-25T10:00:00.123Z"),
        fields: &[
            ("level", "ERROR"),
            ("requestId", "6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11"),
        ],
    },
    Case {
        name: "Python runtime line",
        line: "[WARNING]\t2026-11-25T10:00:00.500Z\t6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11\tretrying upload",
        kind: RecordKind::PythonRuntime,
        time: Some("2026-11-25T10:00:00.500Z"),
        fields: &[("level", "WARNING"), ("message", "retrying upload")],
    },
    Case {
        name: "app JSON log format",
        line: r#"{"timestamp":"2026-11-25T10:00:00.700Z","level":"INFO","message":"done","requestId":"79b4f56e"}"#,
        kind: RecordKind::LambdaAppJson,
        time: Some("2026-11-25T10:00:00.700Z"),
        fields: &[("level", "INFO"), ("requestId", "79b4f56e")],
    },
    Case {
        name: "Powertools (function_* keys)",
        line: r#"{"level":"INFO","location":"handler:42","message":"order created","timestamp":"2026-11-25 10:00:00,250+0000","service":"orders","cold_start":false,"function_name":"orders-api","function_memory_size":256,"function_arn":"arn:aws:lambda:eu-west-1:123456789012:function:orders-api","function_request_id":"c6af9ac6-7b61-11e6-9a41-93e812345678","xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793"}"#,
        kind: RecordKind::Powertools,
        time: Some("2026-11-25T10:00:00.250Z"),
        fields: &[
            ("function_name", "orders-api"),
            (
                "function_request_id",
                "c6af9ac6-7b61-11e6-9a41-93e812345678",
            ),
            ("function_memory_size", "256"),
        ],
    },
    Case {
        name: "Powertools (lambda_* keys)",
        line: r#"{"level":"WARN","message":"slow","timestamp":"2026-11-25T10:00:00.250Z","service":"orders","lambda_function_name":"orders-api","lambda_request_id":"c6af9ac6"}"#,
        kind: RecordKind::Powertools,
        time: Some("2026-11-25T10:00:00.250Z"),
        fields: &[
            ("lambda_function_name", "orders-api"),
            ("lambda_request_id", "c6af9ac6"),
        ],
    },
    Case {
        name: "app security event",
        line: r#"{"timestamp":"2026-11-25T10:01:00.000Z","eventType":"security","type":"authentication_failed","severity":"medium","details":{"reason":"bad password","sourceIp":"203.0.113.7","userId":"u-1","endpoint":"/login"}}"#,
        kind: RecordKind::SecurityEvent,
        time: Some("2026-11-25T10:01:00.000Z"),
        fields: &[
            ("type", "authentication_failed"),
            ("details.sourceIp", "203.0.113.7"),
        ],
    },
    Case {
        name: "security event inside a Node line",
        line: "2026-11-25T10:01:00.000Z\t6f1c3c1e\tWARN\t{\"eventType\":\"security\",\"type\":\"rate_limit_exceeded\",\"severity\":\"low\",\"details\":{\"userId\":\"u-1042\",\"requestCount\":120}}",
        kind: RecordKind::SecurityEvent,
        time: Some("2026-11-25T10:01:00.000Z"),
        fields: &[
            ("level", "WARN"),
            ("details.userId", "u-1042"),
            ("details.requestCount", "120"),
        ],
    },
    Case {
        name: "security event as a Powertools message object",
        line: r#"{"level":"WARNING","location":"login:112","message":{"eventType":"security","type":"authentication_failed","severity":"medium","details":{"sourceIp":"203.0.113.7","userId":"u-1001"}},"timestamp":"2026-11-25 10:05:05,031+0000","service":"orders","cold_start":false,"function_name":"orders-api","function_request_id":"c6af9ac6"}"#,
        kind: RecordKind::SecurityEvent,
        time: Some("2026-11-25T10:05:05.031Z"),
        fields: &[
            ("eventType", "security"),
            ("details.sourceIp", "203.0.113.7"),
            ("function_name", "orders-api"),
            ("level", "WARNING"),
        ],
    },
    Case {
        name: "CloudTrail",
        line: r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"},"eventTime":"2026-11-25T10:05:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventType":"AwsConsoleSignIn","recipientAccountId":"123456789012"}"#,
        kind: RecordKind::CloudTrail,
        time: Some("2026-11-25T10:05:00.000Z"),
        fields: &[
            ("userIdentity.type", "Root"),
            ("eventName", "ConsoleLogin"),
            ("additionalEventData.MFAUsed", "No"),
        ],
    },
    Case {
        name: "API Gateway JSON access log",
        line: r#"{"requestId":"c6af9ac6","ip":"203.0.113.9","caller":"-","user":"-","requestTime":"25/Nov/2026:10:00:00 +0000","httpMethod":"POST","resourcePath":"/login","status":"401","protocol":"HTTP/1.1","responseLength":"52"}"#,
        kind: RecordKind::ApiGatewayJson,
        time: Some("2026-11-25T10:00:00.000Z"),
        fields: &[("status", "401"), ("ip", "203.0.113.9")],
    },
    Case {
        name: "API Gateway CLF access log",
        line: r#"203.0.113.9 - - [25/Nov/2026:10:00:00 +0000] "POST /login HTTP/1.1" 403 52 c6af9ac6-7b61-11e6-9a41-93e812345678"#,
        kind: RecordKind::ApiGatewayClf,
        time: Some("2026-11-25T10:00:00.000Z"),
        fields: &[
            ("ip", "203.0.113.9"),
            ("httpMethod", "POST"),
            ("resourcePath", "/login"),
            ("status", "403"),
        ],
    },
    Case {
        name: "WAF",
        line: r#"{"timestamp":1795600800000,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/edge/1a2b","terminatingRuleId":"rate-limit","terminatingRuleType":"RATE_BASED","action":"BLOCK","httpRequest":{"clientIp":"198.51.100.7","country":"NL","headers":[{"name":"Host","value":"api.example.com"}],"uri":"/login","args":"","httpVersion":"HTTP/1.1","httpMethod":"POST","requestId":"rid"}}"#,
        kind: RecordKind::Waf,
        time: Some("2026-11-25T10:00:00.000Z"),
        fields: &[
            ("action", "BLOCK"),
            ("terminatingRuleType", "RATE_BASED"),
            ("httpRequest.clientIp", "198.51.100.7"),
        ],
    },
    Case {
        name: "VPC Flow v2",
        line: "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1795600800 1795600860 REJECT OK",
        kind: RecordKind::VpcFlow,
        time: Some("2026-11-25T10:00:00.000Z"),
        fields: &[
            ("srcaddr", "172.31.16.139"),
            ("dstport", "22"),
            ("action", "REJECT"),
            ("log-status", "OK"),
        ],
    },
    Case {
        name: "VPC Flow NODATA",
        line: "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1795600800 1795600860 - NODATA",
        kind: RecordKind::VpcFlow,
        time: Some("2026-11-25T10:00:00.000Z"),
        fields: &[("log-status", "NODATA")],
    },
    Case {
        name: "other JSON",
        line: r#"{"msg":"hello","n":3}"#,
        kind: RecordKind::Json,
        time: None,
        fields: &[("msg", "hello"), ("n", "3")],
    },
    Case {
        name: "plain text",
        line: "Something happened: 42 widgets",
        kind: RecordKind::PlainText,
        time: None,
        fields: &[],
    },
];

#[test]
fn every_record_kind() {
    let parser = Parser::new();
    let mut failures = Vec::new();
    for case in CASES {
        let ev = event(case.line, None);
        // A record is what its source says: CloudTrail from a trail's stream, WAF from a WAF
        // log group.
        let sources = Sources::default();
        let source = sources.source(
            match case.kind {
                RecordKind::CloudTrail => "aws-cloudtrail-logs",
                RecordKind::Waf => "aws-waf-logs-edge",
                _ => "/aws/lambda/orders-api",
            },
            match case.kind {
                RecordKind::CloudTrail => "123456789012_CloudTrail_us-east-1",
                _ => "stream",
            },
        );
        let rec = parser.parse_from(&ev, &source);
        if rec.kind() != case.kind {
            failures.push(format!(
                "{}: kind {:?}, expected {:?}",
                case.name,
                rec.kind(),
                case.kind
            ));
            continue;
        }
        let time = rec.time().map(|t| t.to_rfc3339());
        if time.as_deref() != case.time {
            failures.push(format!(
                "{}: time {:?}, expected {:?}",
                case.name, time, case.time
            ));
        }
        for (k, v) in case.fields {
            let got = rec.field(k).and_then(|f| f.to_text());
            if got.as_deref() != Some(*v) {
                failures.push(format!(
                    "{}: field {k} = {got:?}, expected {v:?}",
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn event_timestamp_wins_over_text_time() {
    let parser = Parser::new();
    let ev = event("2026-11-25T10:00:00.123Z\tr\tINFO\tx", Some(42));
    let t = parser.parse(&ev, "g").time().map(|t| t.as_millis());
    assert_eq!(t, Some(42));
}

#[test]
fn broken_json_never_fails_parsing() {
    let parser = Parser::new();
    for line in [
        "{",
        "{\"eventVersion\":",
        "{\"a\":[[[[[[",
        "{}\u{0}",
        "[1,2",
    ] {
        let ev = event(line, None);
        let rec = parser.parse(&ev, "g");
        assert!(rec.field("a.b").is_none());
        assert!(rec.time().is_none());
    }
}

#[test]
fn deeply_nested_json_message_does_not_overflow() {
    let parser = Parser::new();
    let deep = format!("{}{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let ev = event(&deep, None);
    let rec = parser.parse(&ev, "g");
    assert_eq!(rec.kind(), RecordKind::Json);
    // Past serde_json's recursion limit: the levels that can be read are kept (the deeper
    // ones read as null), and nothing crashes.
    assert!(rec.field("a").is_some());
    assert!(rec.field("a.a.a").is_some());
}

#[test]
fn field_values_borrow_text() {
    let parser = Parser::new();
    let ev = event("[ERROR]\t2026-11-25T10:00:00Z\treq-1\tboom", None);
    let rec = parser.parse(&ev, "g");
    assert_eq!(rec.field("requestId"), Some(FieldValue::Text("req-1")));
    assert!(rec.function_name().is_none());
}

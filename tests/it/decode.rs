//! Decoding every input format, and the errors of bad ones.

use crate::common::*;
use logwarden::decode::{DecodeError, InputFormat, Limits, MessageType, TextSource, decode_input};

/// (event id, timestamp, message)
type Event = (String, Option<i64>, String);

struct Decoded {
    format: Option<InputFormat>,
    batches: Vec<(String, String, Vec<Event>)>,
    control_batches: u64,
    control_events: u64,
    truncated: u64,
    record_errors: Vec<String>,
}

fn decode_with(input: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let src = TextSource {
        log_group: "file.log".into(),
        log_stream: "file.log".into(),
        first_line: 1,
    };
    let mut batches = Vec::new();
    let report = decode_input(input, &src, limits, &mut |b| {
        assert_eq!(b.message_type, MessageType::Data);
        batches.push((
            b.log_group.to_string(),
            b.log_stream.to_string(),
            b.events
                .iter()
                .map(|e| {
                    let t = e.timestamp.map(|t| t.as_millis());
                    (e.id.to_string(), t, e.message.to_string())
                })
                .collect(),
        ));
    })?;
    Ok(Decoded {
        format: report.format,
        batches,
        control_batches: report.counts.control_batches,
        control_events: report.counts.control_events,
        truncated: report.counts.truncated_events,
        record_errors: report
            .record_errors
            .iter()
            .map(|e| format!("{}: {}", e.origin.index, e.error))
            .collect(),
    })
}

fn decode(input: &[u8]) -> Result<Decoded, DecodeError> {
    decode_with(input, &Limits::default())
}

const MSGS: &[&str] = &[
    "START RequestId: 6f1c3c1e-4c8e-4d2f-9b1a-2f0e5d7c9a11 Version: $LATEST",
    r#"{"level":"INFO","message":"order created","order_id":"o-1"}"#,
    "line with \"quotes\" and a tab\tand unicode é",
];

#[test]
fn lambda_subscription_event_built_by_our_helper() {
    let payload = payload_json("/aws/lambda/orders", "2026/11/25/[$LATEST]abc", T0, MSGS);
    let event = lambda_event(&payload);
    assert_eq!(
        b64(b"ab"),
        "YWI=",
        "the helper writes padded standard base64"
    );
    let d = decode(event.as_bytes()).expect("decodes");
    assert_eq!(d.format, Some(InputFormat::SubscriptionEvent));
    assert_eq!(d.batches.len(), 1);
    let (group, stream, events) = &d.batches[0];
    assert_eq!(group, "/aws/lambda/orders");
    assert_eq!(stream, "2026/11/25/[$LATEST]abc");
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].0.len(), 56);
    assert_eq!(events[1].1, Some(T0 + 1000));
    for (i, m) in MSGS.iter().enumerate() {
        assert_eq!(events[i].2, *m);
    }
}

#[test]
fn unpadded_base64_and_unknown_fields_are_accepted() {
    let payload = payload_json("g", "s", T0, MSGS);
    let data = b64(&gzip(payload.as_bytes()));
    let unpadded = data.trim_end_matches('=');
    let event =
        format!(r#"{{"awslogs":{{"data":"{unpadded}","futureField":1}},"extra":{{"x":[1,2]}}}}"#);
    let d = decode(event.as_bytes()).expect("decodes");
    assert_eq!(d.batches[0].2.len(), 3);
}

#[test]
fn raw_and_gzip_payload_json() {
    let payload = payload_json("g", "s", T0, MSGS);
    let d = decode(payload.as_bytes()).expect("raw payload");
    assert_eq!(d.format, Some(InputFormat::SubscriptionPayload));
    assert_eq!(d.batches[0].2.len(), 3);
    let d = decode(&gzip(payload.as_bytes())).expect("gzip payload");
    assert_eq!(d.format, Some(InputFormat::SubscriptionPayload));
    assert_eq!(d.batches[0].2[2].2, MSGS[2]);
}

#[test]
fn kinesis_event_with_several_records() {
    let a = gzip(payload_json("ga", "s", T0, &MSGS[..1]).as_bytes());
    let b = gzip(payload_json("gb", "s", T0, &MSGS[1..]).as_bytes());
    let d = decode(kinesis_event(&[a, b]).as_bytes()).expect("decodes");
    assert_eq!(d.format, Some(InputFormat::KinesisEvent));
    let groups: Vec<_> = d.batches.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(groups, ["ga", "gb"]);
    assert_eq!(d.batches[1].2.len(), 2);
}

#[test]
fn kinesis_bad_record_is_reported_and_others_delivered() {
    let good = gzip(payload_json("good", "s", T0, MSGS).as_bytes());
    let event = kinesis_event(&[b"not gzip at all".to_vec(), good]);
    let d = decode(event.as_bytes()).expect("partially decodes");
    assert_eq!(d.batches.len(), 1);
    assert_eq!(d.batches[0].0, "good");
    assert_eq!(d.record_errors.len(), 1);
    assert!(
        d.record_errors[0].starts_with("0: kinesis.data"),
        "{:?}",
        d.record_errors
    );
}

#[test]
fn json_array_of_invocations() {
    let e1 = lambda_event(&payload_json("g1", "s", T0, MSGS));
    let e2 = lambda_event(&payload_json("g2", "s", T0, MSGS));
    let arr = format!("[{e1},\n {e2}]");
    let d = decode(arr.as_bytes()).expect("decodes");
    assert_eq!(d.batches.len(), 2);
    assert_eq!(d.batches[1].0, "g2");
}

#[test]
fn control_message_is_counted_and_skipped() {
    let payload = serde_json::json!({
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [{"id": "", "timestamp": T0, "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]
    })
    .to_string();
    let d = decode(lambda_event(&payload).as_bytes()).expect("decodes");
    assert!(d.batches.is_empty());
    assert_eq!(d.control_batches, 1);
    assert_eq!(d.control_events, 1);
}

#[test]
fn plain_text_and_json_lines() {
    let text = b"first line\r\n\n  \nsecond line\n";
    let d = decode(text).expect("text");
    assert_eq!(d.format, Some(InputFormat::Lines));
    let (group, _, events) = &d.batches[0];
    assert_eq!(group, "file.log");
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.0.as_str(), e.2.as_str()))
        .collect();
    assert_eq!(got, [("1", "first line"), ("4", "second line")]);

    let jsonl = b"{\"level\":\"INFO\",\"message\":\"a\"}\n{\"level\":\"WARN\",\"message\":\"b\"}\n";
    let d = decode(jsonl).expect("jsonl");
    assert_eq!(d.format, Some(InputFormat::Lines));
    assert_eq!(d.batches[0].2.len(), 2);
}

#[test]
fn invalid_utf8_and_nul_bytes_survive_as_text() {
    let d = decode(b"ok \xff\xfe bad\x00nul\n").expect("text");
    assert_eq!(d.batches[0].2[0].2, "ok \u{fffd}\u{fffd} bad\u{0}nul");
}

#[test]
fn long_messages_are_truncated_for_scanning_and_counted() {
    let long = "a".repeat(300 * 1024);
    let payload = payload_json("g", "s", T0, &[&long, "short"]);
    let d = decode(payload.as_bytes()).expect("decodes");
    assert_eq!(d.truncated, 1);
    assert_eq!(d.batches[0].2[0].2.len(), 256 * 1024);
    assert_eq!(d.batches[0].2[1].2, "short");
}

#[test]
fn empty_input_is_an_empty_text_batch() {
    let d = decode(b"").expect("empty");
    assert_eq!(d.batches.len(), 1);
    assert!(d.batches[0].2.is_empty());
}

fn err_of(input: &[u8]) -> String {
    match decode(input) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_base64_is_a_typed_error() {
    let e = err_of(br#"{"awslogs":{"data":"***not base64***"}}"#);
    assert!(e.starts_with("invalid base64 in awslogs.data"), "{e}");
}

#[test]
fn truncated_gzip_is_a_typed_error() {
    let g = gzip(payload_json("g", "s", T0, MSGS).as_bytes());
    let event = format!(r#"{{"awslogs":{{"data":"{}"}}}}"#, b64(&g[..g.len() / 2]));
    let e = err_of(event.as_bytes());
    assert!(e.starts_with("invalid gzip data in awslogs.data"), "{e}");
}

#[test]
fn base64_of_non_gzip_is_a_typed_error() {
    let event = format!(r#"{{"awslogs":{{"data":"{}"}}}}"#, b64(b"hello world"));
    let e = err_of(event.as_bytes());
    assert_eq!(
        e,
        "awslogs.data decoded to bytes that are neither gzip nor JSON"
    );
}

#[test]
fn gzip_of_invalid_json_is_a_typed_error() {
    let event = format!(
        r#"{{"awslogs":{{"data":"{}"}}}}"#,
        b64(&gzip(b"{\"logEvents\": ["))
    );
    let e = err_of(event.as_bytes());
    assert!(e.starts_with("invalid JSON in subscription payload"), "{e}");
}

#[test]
fn envelope_with_wrong_types_names_the_problem_without_quoting_input() {
    let payload = r#"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":"sk_live_notanumber","message":"m"}]}"#;
    let e = err_of(lambda_event(payload).as_bytes());
    assert!(e.contains("invalid type"), "{e}");
    assert!(!e.contains("sk_live_notanumber"), "{e}");
    let missing = r#"{"messageType":"DATA_MESSAGE","logGroup":"g"}"#;
    let e = err_of(lambda_event(missing).as_bytes());
    assert!(e.contains("missing field `logEvents`"), "{e}");
}

#[test]
fn gzip_bomb_stops_at_the_cap() {
    let zeros = vec![0u8; 8 << 20];
    let bomb = gzip(&zeros);
    let limits = Limits {
        max_decompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let event = format!(r#"{{"awslogs":{{"data":"{}"}}}}"#, b64(&bomb));
    match decode_with(event.as_bytes(), &limits) {
        Err(DecodeError::TooLarge { limit, .. }) => assert_eq!(limit, 1 << 20),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("bomb decoded"),
    }
}

#[test]
fn multi_member_gzip_is_inflated_whole() {
    // Two members of equal size: the trailer's size matches the first member alone, so a
    // one-shot inflater that stopped after it would silently drop the second.
    let a = payload_json("g", "s", T0, &["first member"]);
    let b = a.replace("first", "other");
    assert_eq!(a.len(), b.len());
    let mut both = gzip(a.as_bytes());
    both.extend(gzip(b.as_bytes()));
    let out = logwarden::decode::gunzip(&both, "test", &Limits::default()).expect("inflates");
    assert_eq!(out, format!("{a}{b}").into_bytes());
}

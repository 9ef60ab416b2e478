//! Stage 1: bytes in, [`Batch`]es out.
//!
//! Accepted inputs (auto-detected per input):
//! - the CloudWatch Logs subscription Lambda event `{"awslogs":{"data":"<base64 gzip json>"}}`;
//! - the decoded subscription payload `{"messageType":...,"logEvents":[...]}`, raw or gzip;
//! - a Kinesis Lambda event whose records carry subscription payloads;
//! - a JSON array, or a stream, of any of the above;
//! - anything else: plain text or JSON Lines, one log event a line.
//!
//! Decompression is capped ([`Limits::max_decompressed_bytes`]) so a gzip bomb cannot drive
//! unbounded allocation. Messages longer than [`Limits::max_message_bytes`] are truncated for
//! scanning and counted. Batches borrow their messages from the decoded buffer; they are
//! handed to a visitor rather than returned, so no message is copied.

use std::borrow::Cow;
use std::io::Read;

use base64::Engine as _;
use serde::Deserialize;

mod in_place;
mod model;
mod trail_file;

pub use model::{
    Batch, DecodeError, Limits, LogEvent, MessageType, Origin, PayloadText, RecordError, TextSource,
};

use crate::time::EventTime;

/// What kind of input was detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// `{"awslogs":{"data":...}}` (one or more).
    SubscriptionEvent,
    /// Decoded subscription payload JSON, possibly gzip-compressed.
    SubscriptionPayload,
    /// Kinesis Lambda event.
    KinesisEvent,
    /// A CloudTrail file as a trail delivers it to S3 (`{"Records": [...]}`, gzip).
    TrailFile,
    /// Plain text or JSON Lines.
    Lines,
}

// ---------------------------------------------------------------------------------------
// Serde shapes. Unknown fields are tolerated everywhere: AWS adds fields.

#[derive(Deserialize, Default)]
struct Doc<'a> {
    #[serde(default)]
    awslogs: Option<AwsLogs<'a>>,
    #[serde(default, rename = "messageType", borrow)]
    message_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    owner: Option<Cow<'a, str>>,
    #[serde(default, rename = "logGroup", borrow)]
    log_group: Option<Cow<'a, str>>,
    #[serde(default, rename = "logStream", borrow)]
    log_stream: Option<Cow<'a, str>>,
    #[serde(default, rename = "logEvents", borrow)]
    log_events: Option<Vec<RawEvent<'a>>>,
    #[serde(default, rename = "Records", borrow)]
    records: Option<Vec<&'a serde_json::value::RawValue>>,
}

#[derive(Deserialize)]
struct AwsLogs<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    timestamp: Option<i64>,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

#[derive(Deserialize)]
struct KinesisRecord<'a> {
    #[serde(borrow)]
    kinesis: KinesisData<'a>,
}

#[derive(Deserialize)]
struct KinesisData<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
    #[serde(default, rename = "sequenceNumber", borrow)]
    sequence_number: Option<Cow<'a, str>>,
}

impl Doc<'_> {
    fn is_envelope(&self) -> bool {
        self.awslogs.is_some() || self.log_events.is_some() || self.records.is_some()
    }
}

/// What the decoder counted besides the batches it delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeCounts {
    /// CONTROL_MESSAGE batches acknowledged and skipped.
    pub control_batches: u64,
    /// Log events inside those control batches.
    pub control_events: u64,
    /// Events whose message was truncated for scanning.
    pub truncated_events: u64,
    /// Kinesis records or array items that failed to decode (the rest were still delivered).
    pub failed_records: u64,
}

/// The result of decoding one input: counts, and the errors of the parts that failed while
/// other parts of the same input were still delivered.
#[derive(Debug, Default)]
pub struct DecodeReport {
    /// The detected format.
    pub format: Option<InputFormat>,
    /// Counters.
    pub counts: DecodeCounts,
    /// Errors of records that failed (a Kinesis record, an array item), with where they are.
    pub record_errors: Vec<RecordError>,
    /// The input was UTF-16 (it had a byte-order mark) and was read as such.
    pub utf16: bool,
}

/// Decodes one input and hands every data batch to `visit`. Control batches are counted in
/// the report, not visited.
///
/// An error is returned only when nothing of the input could be decoded; when one record of a
/// multi-record input fails, it is reported in [`DecodeReport::record_errors`] and the other
/// records are still delivered.
pub fn decode_input(
    input: &[u8],
    text_source: &TextSource,
    limits: &Limits,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<DecodeReport, DecodeError> {
    if let Some(utf8) = utf16_to_utf8(input) {
        let mut report = decode_input(utf8.as_bytes(), text_source, limits, visit)?;
        report.utf16 = true;
        return Ok(report);
    }
    let mut report = DecodeReport::default();
    let trimmed = trim_ascii_start(input);
    if trimmed.starts_with(&[0x1f, 0x8b]) {
        let raw = gunzip(trimmed, "input", limits)?;
        report.format = Some(InputFormat::SubscriptionPayload);
        decode_json_documents(
            &raw,
            "gzip payload",
            text_source,
            limits,
            &mut report,
            visit,
        )?;
        return Ok(report);
    }
    match trimmed.first() {
        Some(b'{') | Some(b'[') => {
            if let Some(()) = try_json_documents(trimmed, text_source, limits, &mut report, visit)?
            {
                return Ok(report);
            }
        }
        _ => {}
    }
    report.format = Some(InputFormat::Lines);
    let batch = text_batch(input, text_source, limits, &mut report.counts);
    visit(batch);
    Ok(report)
}

fn decode_payload_bytes(
    bytes: &[u8],
    field: &'static str,
    origin: Origin,
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<(), DecodeError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let raw = gunzip(bytes, field, limits)?;
        // The usual shape is read in place (no message copied); anything else is inflated
        // again (the attempt may have unescaped part of it) for serde_json, which gives the
        // errors.
        if let Some((text, found)) = in_place::read_text(raw) {
            let text = PayloadText::new(text);
            if let Some(p) = found.resolve(text.as_str()) {
                let events = p
                    .events
                    .into_iter()
                    .map(|e| (Cow::Borrowed(e.id), e.timestamp, Cow::Borrowed(e.message)));
                let envelope = Envelope {
                    message_type: p.message_type,
                    names: [p.owner, p.log_group, p.log_stream].map(|n| n.map(Cow::Borrowed)),
                    origin,
                    text: Some(text.clone()),
                };
                return deliver_events(envelope, events, limits, report, visit);
            }
        }
        let raw = gunzip(bytes, field, limits)?;
        let doc = parse_doc(&raw, "subscription payload")?;
        deliver_payload(doc, origin, limits, report, visit)
    } else if trim_ascii_start(bytes).first() == Some(&b'{') {
        let doc = parse_doc(bytes, "subscription payload")?;
        deliver_payload(doc, origin, limits, report, visit)
    } else {
        Err(DecodeError::NotGzip { field })
    }
}

impl DecodeReport {
    fn fail(&mut self, origin: Origin, error: DecodeError) {
        self.record_errors.push(RecordError { origin, error });
        self.counts.failed_records += 1;
    }
}

impl Origin {
    fn at(index: usize) -> Self {
        Origin {
            index,
            sequence_number: None,
        }
    }
}

fn parse_doc<'a>(bytes: &'a [u8], what: &'static str) -> Result<Doc<'a>, DecodeError> {
    serde_json::from_slice(bytes).map_err(|e| DecodeError::json(what, e))
}

/// Tries to read `input` as JSON envelope documents. Returns `Ok(None)` when the input is not
/// an envelope (so it should be read as lines).
fn try_json_documents(
    input: &[u8],
    text_source: &TextSource,
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<Option<()>, DecodeError> {
    if input.first() == Some(&b'[') {
        return try_json_array(input, text_source, limits, report, visit);
    }
    // One document or a stream of documents (JSON Lines of envelopes).
    let mut stream = serde_json::Deserializer::from_slice(input).into_iter::<Doc<'_>>();
    let first = match stream.next() {
        Some(Ok(doc)) => doc,
        Some(Err(e)) => {
            return if looks_like_envelope(input) {
                Err(DecodeError::json("event document", e))
            } else {
                Ok(None)
            };
        }
        None => return Ok(None),
    };
    if !first.is_envelope() {
        return Ok(None);
    }
    deliver_doc(first, Origin::at(0), text_source, limits, report, visit)?;
    for (index, next) in (1..).zip(stream) {
        match next {
            Ok(doc) if doc.is_envelope() => {
                if let Err(e) =
                    deliver_doc(doc, Origin::at(index), text_source, limits, report, visit)
                {
                    report.fail(Origin::at(index), e);
                }
            }
            Ok(_) => {
                let e = DecodeError::Json {
                    what: "event document",
                    line: 0,
                    column: 0,
                    msg: "not a subscription event or payload".to_owned(),
                };
                report.fail(Origin::at(index), e);
            }
            Err(e) => {
                report.fail(Origin::at(index), DecodeError::json("event document", e));
                break;
            }
        }
    }
    Ok(Some(()))
}

/// [`try_json_documents`] for a JSON array of events or payloads (one per item).
fn try_json_array(
    input: &[u8],
    text_source: &TextSource,
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<Option<()>, DecodeError> {
    let items: Vec<&serde_json::value::RawValue> = match serde_json::from_slice(input) {
        Ok(items) => items,
        Err(e) => {
            return if looks_like_envelope(input) {
                Err(DecodeError::json("JSON array of events", e))
            } else {
                Ok(None)
            };
        }
    };
    let mut any = false;
    for (i, item) in items.iter().enumerate() {
        let doc: Doc<'_> = match serde_json::from_str(item.get()) {
            Ok(doc) => doc,
            Err(e) => {
                if looks_like_envelope(item.get().as_bytes()) {
                    report.fail(Origin::at(i), DecodeError::json("array item", e));
                    any = true;
                    continue;
                }
                return Ok(None);
            }
        };
        if !doc.is_envelope() {
            return Ok(None);
        }
        any = true;
        if let Err(e) = deliver_doc(doc, Origin::at(i), text_source, limits, report, visit) {
            report.fail(Origin::at(i), e);
        }
    }
    if !any {
        return Ok(None);
    }
    Ok(Some(()))
}

/// Whether a failed JSON document was meant as an envelope (so its error must be reported
/// rather than the input read as text lines).
fn looks_like_envelope(input: &[u8]) -> bool {
    let head = &input[..input.len().min(4096)];
    [
        &b"\"awslogs\""[..],
        b"\"logEvents\"",
        b"\"messageType\"",
        b"\"Records\"",
    ]
    .iter()
    .any(|k| memchr::memmem::find(head, k).is_some())
}

fn decode_json_documents(
    raw: &[u8],
    what: &'static str,
    text_source: &TextSource,
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<(), DecodeError> {
    let doc = parse_doc(raw, what)?;
    deliver_doc(doc, Origin::default(), text_source, limits, report, visit)
}

fn deliver_doc(
    doc: Doc<'_>,
    origin: Origin,
    text_source: &TextSource,
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<(), DecodeError> {
    if let Some(awslogs) = doc.awslogs {
        report.format.get_or_insert(InputFormat::SubscriptionEvent);
        let bytes = base64_decode(&awslogs.data, "awslogs.data")?;
        return decode_payload_bytes(&bytes, "awslogs.data", origin, limits, report, visit);
    }
    if let Some(records) = doc.records {
        if trail_file::is_trail_file(&records) {
            report.format.get_or_insert(InputFormat::TrailFile);
            deliver_trail_file(&records, origin, text_source, limits, report, visit);
            return Ok(());
        }
        report.format.get_or_insert(InputFormat::KinesisEvent);
        for (i, raw) in records.iter().enumerate() {
            let rec: KinesisRecord<'_> = match serde_json::from_str(raw.get()) {
                Ok(rec) => rec,
                Err(e) => {
                    report.fail(Origin::at(i), DecodeError::json("Kinesis record", e));
                    continue;
                }
            };
            let origin = Origin {
                index: i,
                sequence_number: rec.kinesis.sequence_number.as_deref().map(str::to_owned),
            };
            let decoded = base64_decode(&rec.kinesis.data, "kinesis.data").and_then(|bytes| {
                decode_payload_bytes(
                    &bytes,
                    "kinesis.data",
                    origin.clone(),
                    limits,
                    report,
                    visit,
                )
            });
            if let Err(e) = decoded {
                report.fail(origin, e);
            }
        }
        return Ok(());
    }
    report
        .format
        .get_or_insert(InputFormat::SubscriptionPayload);
    deliver_payload(doc, origin, limits, report, visit)
}

/// A trail's S3 file: one batch of its records in event-time order, from the trail's own
/// log stream name (`<account>_CloudTrail_<region>`, as CloudTrail names it in CloudWatch
/// Logs), so that it is read as CloudTrail.
fn deliver_trail_file(
    records: &[&serde_json::value::RawValue],
    origin: Origin,
    text_source: &TextSource,
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) {
    let (recs, account, region) = trail_file::records(records);
    let mut events = Vec::with_capacity(recs.len());
    for (i, r) in recs.into_iter().enumerate() {
        let (message, truncated) = cap_message(Cow::Borrowed(r.text), limits.max_message_bytes);
        if truncated {
            report.counts.truncated_events += 1;
        }
        events.push(LogEvent {
            id: if r.id.is_empty() {
                Cow::Owned(format!("record-{}", i + 1))
            } else {
                Cow::Owned(r.id)
            },
            timestamp: r.time_ms.and_then(EventTime::from_millis),
            message,
            truncated,
        });
    }
    visit(Batch {
        origin,
        message_type: MessageType::Data,
        owner: Cow::Owned(account.clone()),
        log_group: Cow::Owned(text_source.log_group.clone()),
        log_stream: Cow::Owned(format!("{account}_CloudTrail_{region}")),
        events,
        text: None,
    });
}

fn deliver_payload(
    doc: Doc<'_>,
    origin: Origin,
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<(), DecodeError> {
    let Some(raw_events) = doc.log_events else {
        return Err(DecodeError::Json {
            what: "subscription payload",
            line: 0,
            column: 0,
            msg: "missing field `logEvents`".to_owned(),
        });
    };
    let events = raw_events
        .into_iter()
        .map(|e| (e.id, e.timestamp, e.message));
    let envelope = Envelope {
        message_type: doc.message_type.as_deref(),
        names: [doc.owner, doc.log_group, doc.log_stream],
        origin,
        text: None,
    };
    deliver_events(envelope, events, limits, report, visit)
}

/// A subscription payload's fields other than its events.
struct Envelope<'a, 't> {
    message_type: Option<&'t str>,
    /// Owner, log group and log stream.
    names: [Option<Cow<'a, str>>; 3],
    origin: Origin,
    /// The text the events borrow, when the payload was read in place.
    text: Option<PayloadText>,
}

/// A subscription payload's batch: its envelope, and its events as (id, timestamp, message).
fn deliver_events<'a>(
    envelope: Envelope<'a, '_>,
    raw_events: impl ExactSizeIterator<Item = (Cow<'a, str>, Option<i64>, Cow<'a, str>)>,
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<(), DecodeError> {
    let Envelope {
        message_type,
        names: [owner, log_group, log_stream],
        origin,
        text,
    } = envelope;
    let message_type = match message_type {
        Some("DATA_MESSAGE") | None => MessageType::Data,
        Some("CONTROL_MESSAGE") => MessageType::Control,
        Some(_) => MessageType::Other,
    };
    if message_type == MessageType::Control {
        report.counts.control_batches += 1;
        report.counts.control_events += raw_events.len() as u64;
        return Ok(());
    }
    let mut events = Vec::with_capacity(raw_events.len());
    for (id, timestamp, message) in raw_events {
        let (message, truncated) = cap_message(message, limits.max_message_bytes);
        if truncated {
            report.counts.truncated_events += 1;
        }
        events.push(LogEvent {
            id,
            timestamp: timestamp.and_then(EventTime::from_millis),
            message,
            truncated,
        });
    }
    visit(Batch {
        origin,
        message_type,
        owner: owner.unwrap_or_default(),
        log_group: log_group.unwrap_or_default(),
        log_stream: log_stream.unwrap_or_default(),
        events,
        text,
    });
    Ok(())
}

fn cap_message(message: Cow<'_, str>, max: usize) -> (Cow<'_, str>, bool) {
    if message.len() <= max {
        return (message, false);
    }
    let cut = floor_char_boundary(&message, max);
    let capped = match message {
        Cow::Borrowed(s) => Cow::Borrowed(&s[..cut]),
        Cow::Owned(mut s) => {
            s.truncate(cut);
            Cow::Owned(s)
        }
    };
    (capped, true)
}

/// The largest index `<= i` that is a char boundary of `s`.
pub(crate) fn floor_char_boundary(s: &str, i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    let mut i = i;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn text_batch<'a>(
    input: &'a [u8],
    source: &'a TextSource,
    limits: &Limits,
    counts: &mut DecodeCounts,
) -> Batch<'a> {
    let mut events = Vec::new();
    for (n, line) in input.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let message = String::from_utf8_lossy(line);
        let (message, truncated) = cap_message(message, limits.max_message_bytes);
        if truncated {
            counts.truncated_events += 1;
        }
        events.push(LogEvent {
            id: Cow::Owned((source.first_line + n).to_string()),
            timestamp: None,
            message,
            truncated,
        });
    }
    Batch {
        origin: Origin::default(),
        message_type: MessageType::Data,
        owner: Cow::Borrowed(""),
        log_group: Cow::Borrowed(&source.log_group),
        log_stream: Cow::Borrowed(&source.log_stream),
        events,
        text: None,
    }
}

/// Standard base64, padded or not. SIMD first (a payload's base64 is a fifth of its size);
/// what that refuses goes to the `base64` crate, which has the last word and says what is
/// wrong and where.
fn base64_decode(data: &str, field: &'static str) -> Result<Vec<u8>, DecodeError> {
    const ENGINE: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let data = data.trim();
    let simd = if data.len().is_multiple_of(4) {
        &base64_simd::STANDARD
    } else {
        &base64_simd::STANDARD_NO_PAD
    };
    if let Ok(bytes) = simd.decode_to_vec(data) {
        return Ok(bytes);
    }
    ENGINE
        .decode(data)
        .map_err(|source| DecodeError::Base64 { field, source })
}

/// Inflates a gzip stream (all members), refusing to produce more than the configured cap.
///
/// The output buffer is pre-sized from the gzip trailer (bounded by the cap). flate2 runs on
/// its zlib-rs backend: inflate went from 9.7 % to 7.8 % of a one-thread profile against
/// miniz_oxide, and one thread from 0.51–0.58 to 0.49–0.52 s CPU on the 68.7 MB corpus
/// (interleaved). A one-shot libdeflate call was faster but silently stops after the first
/// member of a multi-member stream (test `multi_member_gzip_is_inflated_whole`).
pub fn gunzip(data: &[u8], field: &'static str, limits: &Limits) -> Result<Vec<u8>, DecodeError> {
    let cap = limits.max_decompressed_bytes;
    // The gzip trailer's ISIZE: the uncompressed size mod 2^32 of the last member.
    let isize = data
        .len()
        .checked_sub(4)
        .and_then(|i| data.get(i..))
        .map(|t| u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize)
        .unwrap_or(0);
    let mut out = model::spare_buffer();
    out.reserve(isize.min(cap).max(data.len()));
    let decoder = flate2::read::MultiGzDecoder::new(data);
    decoder
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|source| DecodeError::Gzip { field, source })?;
    if out.len() > cap {
        return Err(DecodeError::TooLarge { field, limit: cap });
    }
    Ok(out)
}

/// A UTF-16 input (recognised by its byte-order mark, little or big endian) as UTF-8;
/// `None` for anything else. Unpaired surrogates become U+FFFD.
fn utf16_to_utf8(input: &[u8]) -> Option<String> {
    let (rest, le) = match input {
        [0xFF, 0xFE, rest @ ..] => (rest, true),
        [0xFE, 0xFF, rest @ ..] => (rest, false),
        _ => return None,
    };
    let units = rest.chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    Some(
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    )
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    // A UTF-8 byte-order mark is not content.
    let b = &b[start..];
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_cap_respects_char_boundaries() {
        let s = "ab\u{e9}cd"; // é is 2 bytes at index 2..4
        let (m, t) = cap_message(Cow::Borrowed(s), 3);
        assert!(t);
        assert_eq!(m, "ab");
    }

    /// The in-place reader unescapes the message, then meets a value it does not read (a
    /// nested object after `logEvents`): the payload is inflated again for serde_json, so the
    /// message comes out whole, not the half-unescaped bytes.
    #[test]
    fn a_payload_refused_late_in_place_is_read_again_whole() {
        use std::io::Write;
        let json = r#"{"logEvents":[{"id":"1","timestamp":5,"message":"{\"k\":\"v\\\\w\"}"}],"extra":{"nested":[1]}}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(json.as_bytes()).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let (mut messages, mut report) = (Vec::new(), DecodeReport::default());
        let limits = Limits::default();
        let got = decode_payload_bytes(
            &gz,
            "t",
            Origin::default(),
            &limits,
            &mut report,
            &mut |b| messages.extend(b.events.iter().map(|e| e.message.to_string())),
        );
        assert!(got.is_ok());
        assert_eq!(messages, ["{\"k\":\"v\\\\w\"}"]);
    }

    #[test]
    fn data_errors_do_not_quote_input() {
        let e = serde_json::from_str::<RawEvent<'_>>(
            r#"{"id":"1","timestamp":"sk_live_zz","message":"x"}"#,
        )
        .err()
        .map(|e| DecodeError::json("t", e))
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(!e.contains("sk_live_zz"), "{e}");
        assert!(e.contains("invalid type"), "{e}");
    }

    /// The SIMD decoder and its fallback decode as the `base64` crate alone does, padded or
    /// not: the same bytes, or an error where it has one (non-canonical last bits, a stray
    /// character, a lone trailing character, inner whitespace).
    #[test]
    fn base64_decodes_as_the_base64_crate_does() {
        use base64::Engine as _;
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut texts: Vec<String> = Vec::new();
        for len in 0..200 {
            let bytes = crate::detect::test_bytes(&mut seed, len, &[0, 1, 0x7f, 0xff, b'a', b'?']);
            let padded = base64::engine::general_purpose::STANDARD.encode(&bytes);
            texts.push(padded.trim_end_matches('=').to_owned());
            texts.push(format!(" {padded}\n"));
            // Damaged: a stray byte, the last character changed, a space inside.
            let mut stray = padded.clone();
            stray.insert(len % (padded.len() + 1), '*');
            texts.push(stray);
            if let Some(last) = padded.trim_end_matches('=').chars().last() {
                let cut = padded.trim_end_matches('=').len() - 1;
                let next = if last == 'B' { 'C' } else { 'B' };
                texts.push(format!("{}{next}", &padded[..cut]));
            }
            texts.push(padded.replacen('A', "A ", 1));
            texts.push(padded);
        }
        for t in &texts {
            let ours = base64_decode(t, "data").map_err(|e| e.to_string());
            let theirs = engine.decode(t.trim()).map_err(|source| {
                DecodeError::Base64 {
                    field: "data",
                    source,
                }
                .to_string()
            });
            assert_eq!(ours, theirs, "{t:?}");
        }
    }
}

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

use crate::time::EventTime;

/// Size limits applied while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest decompressed size of one gzip member stream (default 64 MiB).
    pub max_decompressed_bytes: usize,
    /// Longest message scanned; longer messages are truncated for scanning (default 256 KiB,
    /// the CloudWatch Logs event limit).
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decompressed_bytes: 64 << 20,
            max_message_bytes: 256 << 10,
        }
    }
}

/// Why an input could not be decoded. Each variant names the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The base64 text of `awslogs.data` or a Kinesis record was not valid base64.
    #[error("invalid base64 in {field}: {source}")]
    Base64 {
        /// Which field held the base64 text.
        field: &'static str,
        /// The decoder's complaint.
        source: base64::DecodeError,
    },
    /// The gzip stream was corrupt or truncated.
    #[error("invalid gzip data in {field}: {source}")]
    Gzip {
        /// Which field held the gzip data.
        field: &'static str,
        /// The inflater's complaint.
        source: std::io::Error,
    },
    /// The payload inflated past the configured cap.
    #[error("gzip data in {field} inflates past the {limit}-byte cap (possible gzip bomb)")]
    TooLarge {
        /// Which field held the gzip data.
        field: &'static str,
        /// The cap that was hit.
        limit: usize,
    },
    /// Decoded bytes were not the JSON document expected at that step.
    #[error("invalid JSON in {what} at line {line} column {column}: {msg}")]
    Json {
        /// What document was being read.
        what: &'static str,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's message (never contains input text beyond a type name).
        msg: String,
    },
    /// A base64 field decoded to something that is neither gzip nor a subscription payload.
    #[error("{field} decoded to bytes that are neither gzip nor JSON")]
    NotGzip {
        /// Which field held the data.
        field: &'static str,
    },
}

impl DecodeError {
    fn json(what: &'static str, e: serde_json::Error) -> Self {
        // serde_json's Display for data errors may quote input (e.g. "invalid type: string
        // \"...\""); keep only the classification so no log content can leak into errors.
        let msg = match e.classify() {
            serde_json::error::Category::Io => "I/O error".to_owned(),
            serde_json::error::Category::Syntax => "syntax error".to_owned(),
            serde_json::error::Category::Eof => "unexpected end of input".to_owned(),
            serde_json::error::Category::Data => data_error_summary(&e),
        };
        DecodeError::Json {
            what,
            line: e.line(),
            column: e.column(),
            msg,
        }
    }
}

/// A data error's message without any quoted input value: the "invalid type: string \"x\",
/// expected ..." form is reduced to "invalid type, expected ...".
fn data_error_summary(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let core = full.split(" at line ").next().unwrap_or(&full);
    if let Some(rest) = core.strip_prefix("invalid type: ") {
        if let Some(idx) = rest.find(", expected ") {
            return format!("invalid type{}", &rest[idx..]);
        }
        return "invalid type".to_owned();
    }
    if let Some(rest) = core.strip_prefix("invalid value: ") {
        if let Some(idx) = rest.find(", expected ") {
            return format!("invalid value{}", &rest[idx..]);
        }
        return "invalid value".to_owned();
    }
    // "missing field `x`", "duplicate field `x`", "unknown variant `x`": field names only.
    core.to_owned()
}

/// One log event.
#[derive(Clone, PartialEq, Eq)]
pub struct LogEvent<'a> {
    /// The CloudWatch event id (a 56-digit string), or the 1-based line number for text input.
    pub id: Cow<'a, str>,
    /// The CloudWatch timestamp the event arrived with (none for text input, or when the
    /// input's value is outside the years 0000-9999).
    pub timestamp: Option<EventTime>,
    /// The message, at most [`Limits::max_message_bytes`] long.
    pub message: Cow<'a, str>,
    /// Whether the original message was longer and has been cut for scanning.
    pub truncated: bool,
}

impl std::fmt::Debug for LogEvent<'_> {
    // Never print message content: it may hold the secrets we are looking for.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogEvent")
            .field("id", &self.id)
            .field("timestamp", &self.timestamp)
            .field("message_len", &self.message.len())
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// The kind of a subscription payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// Log data.
    Data,
    /// CloudWatch Logs checking that the destination is reachable; carries no log data.
    Control,
    /// A type this version does not know.
    Other,
}

/// A batch of log events from one log stream.
#[derive(Debug, Clone)]
pub struct Batch<'a> {
    /// Payload type: control batches are acknowledged and skipped.
    pub message_type: MessageType,
    /// Owning AWS account id (empty for local files).
    pub owner: Cow<'a, str>,
    /// Log group name (for local files: `--log-group` or the file name).
    pub log_group: Cow<'a, str>,
    /// Log stream name (for local files: `--log-stream` or the file name).
    pub log_stream: Cow<'a, str>,
    /// The events, in input order.
    pub events: Vec<LogEvent<'a>>,
    /// Where in the input the batch came from.
    pub origin: Origin,
}

impl Batch<'_> {
    /// The batch with everything it borrows copied (to hand it to another thread).
    pub fn into_owned(self) -> Batch<'static> {
        Batch {
            message_type: self.message_type,
            owner: Cow::Owned(self.owner.into_owned()),
            log_group: Cow::Owned(self.log_group.into_owned()),
            log_stream: Cow::Owned(self.log_stream.into_owned()),
            events: self
                .events
                .into_iter()
                .map(|e| LogEvent {
                    id: Cow::Owned(e.id.into_owned()),
                    timestamp: e.timestamp,
                    message: Cow::Owned(e.message.into_owned()),
                    truncated: e.truncated,
                })
                .collect(),
            origin: self.origin,
        }
    }
}

/// Where a batch or a failed record sits in its input: its index (a Kinesis record, an array
/// item or a document of a stream) and, for a Kinesis record, its sequence number (what a
/// partial batch response reports).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Index of the record, array item or document (0 for single-document inputs).
    pub index: usize,
    /// The Kinesis record's `sequenceNumber`.
    pub sequence_number: Option<String>,
}

/// A part of an input that could not be decoded while the rest was.
#[derive(Debug)]
pub struct RecordError {
    /// Where it is.
    pub origin: Origin,
    /// Why it failed.
    pub error: DecodeError,
}

/// Where a text input's events belong, for inputs that do not name their own log group.
#[derive(Debug, Clone)]
pub struct TextSource {
    /// Log group name given to text lines.
    pub log_group: String,
    /// Log stream name given to text lines.
    pub log_stream: String,
    /// Line number of the input's first line (a chunk of a longer file starts later).
    pub first_line: usize,
}

impl Default for TextSource {
    fn default() -> Self {
        TextSource {
            log_group: String::new(),
            log_stream: String::new(),
            first_line: 1,
        }
    }
}

/// What kind of input was detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// `{"awslogs":{"data":...}}` (one or more).
    SubscriptionEvent,
    /// Decoded subscription payload JSON, possibly gzip-compressed.
    SubscriptionPayload,
    /// Kinesis Lambda event.
    KinesisEvent,
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
    records: Option<Vec<KinesisRecord<'a>>>,
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
        decode_json_documents(&raw, "gzip payload", limits, &mut report, visit)?;
        return Ok(report);
    }
    match trimmed.first() {
        Some(b'{') | Some(b'[') => {
            if let Some(()) = try_json_documents(trimmed, limits, &mut report, visit)? {
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
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<Option<()>, DecodeError> {
    if input.first() == Some(&b'[') {
        return try_json_array(input, limits, report, visit);
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
    deliver_doc(first, Origin::at(0), limits, report, visit)?;
    for (index, next) in (1..).zip(stream) {
        match next {
            Ok(doc) if doc.is_envelope() => {
                if let Err(e) = deliver_doc(doc, Origin::at(index), limits, report, visit) {
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
        if let Err(e) = deliver_doc(doc, Origin::at(i), limits, report, visit) {
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
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<(), DecodeError> {
    let doc = parse_doc(raw, what)?;
    deliver_doc(doc, Origin::default(), limits, report, visit)
}

fn deliver_doc(
    doc: Doc<'_>,
    origin: Origin,
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
        report.format.get_or_insert(InputFormat::KinesisEvent);
        for (i, rec) in records.iter().enumerate() {
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

fn deliver_payload(
    doc: Doc<'_>,
    origin: Origin,
    limits: &Limits,
    report: &mut DecodeReport,
    visit: &mut dyn FnMut(Batch<'_>),
) -> Result<(), DecodeError> {
    let message_type = match doc.message_type.as_deref() {
        Some("DATA_MESSAGE") | None => MessageType::Data,
        Some("CONTROL_MESSAGE") => MessageType::Control,
        Some(_) => MessageType::Other,
    };
    let Some(raw_events) = doc.log_events else {
        return Err(DecodeError::Json {
            what: "subscription payload",
            line: 0,
            column: 0,
            msg: "missing field `logEvents`".to_owned(),
        });
    };
    if message_type == MessageType::Control {
        report.counts.control_batches += 1;
        report.counts.control_events += raw_events.len() as u64;
        return Ok(());
    }
    let mut events = Vec::with_capacity(raw_events.len());
    for ev in raw_events {
        let (message, truncated) = cap_message(ev.message, limits.max_message_bytes);
        if truncated {
            report.counts.truncated_events += 1;
        }
        events.push(LogEvent {
            id: ev.id,
            timestamp: ev.timestamp.and_then(EventTime::from_millis),
            message,
            truncated,
        });
    }
    visit(Batch {
        origin,
        message_type,
        owner: doc.owner.unwrap_or_default(),
        log_group: doc.log_group.unwrap_or_default(),
        log_stream: doc.log_stream.unwrap_or_default(),
        events,
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
    }
}

fn base64_decode(data: &str, field: &'static str) -> Result<Vec<u8>, DecodeError> {
    const ENGINE: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    ENGINE
        .decode(data.trim())
        .map_err(|source| DecodeError::Base64 { field, source })
}

/// Inflates a gzip stream (all members), refusing to produce more than the configured cap.
///
/// The output buffer is pre-sized from the gzip trailer (bounded by the cap). flate2 runs on
/// its default miniz_oxide backend (the zlib-rs backend showed no gain in our noisy runs). A
/// one-shot libdeflate call was faster but silently stops after the first member of a
/// multi-member stream (test `multi_member_gzip_is_inflated_whole`).
pub fn gunzip(data: &[u8], field: &'static str, limits: &Limits) -> Result<Vec<u8>, DecodeError> {
    let cap = limits.max_decompressed_bytes;
    // The gzip trailer's ISIZE: the uncompressed size mod 2^32 of the last member.
    let isize = data
        .len()
        .checked_sub(4)
        .and_then(|i| data.get(i..))
        .map(|t| u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize)
        .unwrap_or(0);
    let mut out = Vec::with_capacity(isize.min(cap).max(data.len()));
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
}

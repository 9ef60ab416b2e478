//! What decoding gives and what can go wrong: [`Batch`] and [`LogEvent`], the limits, the
//! typed errors, and where a failed part of an input was.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::{Arc, Mutex};

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
    pub(crate) fn json(what: &'static str, e: serde_json::Error) -> Self {
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
    /// The decompressed payload the events' ids and messages borrow, when they borrow one (a
    /// subscription payload read in place): a batch handed to another thread keeps it rather
    /// than copying every message.
    pub text: Option<PayloadText>,
}

/// A subscription payload's text, decompressed and unescaped in place, shared by the batches
/// that borrow from it. Never printed: it holds every message. Its buffer is kept for the next
/// payload's (`spare_buffer`) when the last batch lets it go.
#[derive(Clone)]
pub struct PayloadText(Arc<Spare>);

/// A buffer that goes back to its spares when dropped.
struct Spare {
    text: String,
    home: &'static Spares,
}

impl Drop for Spare {
    fn drop(&mut self) {
        self.home.keep(std::mem::take(&mut self.text).into_bytes());
    }
}

/// Buffers of decompressed payloads whose batches are done, for the next payloads: a payload
/// handed to the ordered driver is dropped there, on another thread than the one that
/// decompresses the next, and the allocator gave those threads fresh pages each time (two
/// threads took 5,000 page faults on the 69 MB corpus where one took 2,900).
static SPARES: Spares = Spares::new(4, 4 << 20);

/// Spare buffers: at most `buffers` of them, none with room for more than `max_bytes` (a
/// subscription payload decompresses to about 1 MB; a larger buffer is freed rather than held
/// between payloads), so they hold at most `buffers × max_bytes`.
struct Spares {
    kept: Mutex<Vec<Vec<u8>>>,
    buffers: usize,
    max_bytes: usize,
}

impl Spares {
    const fn new(buffers: usize, max_bytes: usize) -> Self {
        Spares {
            kept: Mutex::new(Vec::new()),
            buffers,
            max_bytes,
        }
    }

    /// An empty buffer: a spare one if there is one.
    fn take(&self) -> Vec<u8> {
        self.kept
            .lock()
            .ok()
            .and_then(|mut k| k.pop())
            .unwrap_or_default()
    }

    /// Keeps `buf`, emptied, within the bounds.
    fn keep(&self, mut buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > self.max_bytes {
            return;
        }
        buf.clear();
        if let Ok(mut kept) = self.kept.lock()
            && kept.len() < self.buffers
        {
            kept.push(buf);
        }
    }
}

/// An empty buffer for a payload's decompressed bytes: a spare one if there is one.
pub(crate) fn spare_buffer() -> Vec<u8> {
    SPARES.take()
}

impl PayloadText {
    /// Shares `text`.
    pub fn new(text: String) -> Self {
        PayloadText(Arc::new(Spare {
            text,
            home: &SPARES,
        }))
    }

    /// The whole text.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// Where `part` lies in the text, if it is a slice of it.
    pub fn span_of(&self, part: &str) -> Option<Range<usize>> {
        let text = self.as_str();
        // Addresses compared, never turned back into pointers.
        let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
        let end = start.checked_add(part.len())?;
        (end <= text.len()).then_some(start..end)
    }

    /// The text in `span`, if it lies at character boundaries within it.
    pub fn get(&self, span: Range<usize>) -> Option<&str> {
        self.as_str().get(span)
    }
}

impl std::fmt::Debug for PayloadText {
    // Never print the text: it holds the messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadText")
            .field("len", &self.as_str().len())
            .finish()
    }
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
            text: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spare_buffers_are_bounded_in_number_and_size() {
        let spares = Spares::new(2, 1 << 10);
        let filled = |cap: usize| {
            let mut b = Vec::with_capacity(cap);
            b.extend_from_slice(b"secret");
            b
        };
        spares.keep(filled(2 << 10)); // too large: freed
        spares.keep(filled(1 << 10));
        spares.keep(filled(512));
        spares.keep(filled(100)); // a third: freed
        let (a, b, c) = (spares.take(), spares.take(), spares.take());
        // Handed back empty (no previous payload's bytes), room kept.
        assert!(a.is_empty() && b.is_empty() && c.is_empty());
        assert_eq!(
            (a.capacity(), b.capacity(), c.capacity()),
            (512, 1 << 10, 0)
        );
    }

    #[test]
    fn a_payload_text_goes_back_to_the_spares_when_its_last_holder_drops_it() {
        let home: &'static Spares = Box::leak(Box::new(Spares::new(4, 1 << 20)));
        let mut buf = Vec::with_capacity(1000);
        buf.extend_from_slice("{\"logEvents\":[]}".as_bytes());
        let text = PayloadText(Arc::new(Spare {
            text: String::from_utf8(buf).unwrap(),
            home,
        }));
        let held = text.clone();
        drop(text);
        assert_eq!(home.kept.lock().unwrap().len(), 0, "still held");
        assert_eq!(held.span_of(&held.as_str()[1..4]), Some(1..4));
        assert_eq!(held.span_of("elsewhere"), None);
        assert_eq!(held.get(1..4), Some("\"lo"));
        assert_eq!(format!("{held:?}"), "PayloadText { len: 16 }");
        drop(held);
        let back = home.take();
        assert!(back.is_empty() && back.capacity() == 1000);
    }
}

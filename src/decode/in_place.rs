//! The subscription payload read in place: the decompressed JSON's strings are unescaped into
//! the buffer that holds them, so no message is copied or allocated (serde_json gives an owned
//! `String` for every string with an escape, which is every CloudTrail record logged as JSON).
//!
//! Only the shape CloudWatch Logs writes is read here: one object whose keys have no escapes,
//! `logEvents` an array of objects with a string `id`, an integer or null `timestamp` and a
//! string `message`, and any other key's value a string, number, literal or flat array of
//! them. Anything else (another shape, a duplicate key, invalid UTF-8, an invalid escape or a
//! lone surrogate, a number out of range, trailing bytes) gives `None`: the caller then reads
//! the payload again from its gzip bytes with serde_json, which gives the errors, so what is
//! accepted and what is refused are what they were. The strings are unescaped in the same pass
//! that checks them (a second pass to check first cost as much as serde_json).

use std::ops::Range;

/// A payload read in place (the string fields borrow the unescaped buffer).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Payload<'a> {
    pub message_type: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub log_group: Option<&'a str>,
    pub log_stream: Option<&'a str>,
    pub events: Vec<Event<'a>>,
}

/// One log event of a [`Payload`].
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Event<'a> {
    pub id: &'a str,
    pub timestamp: Option<i64>,
    pub message: &'a str,
}

/// Where an event's id lies, its timestamp, and where its message lies (once unescaped).
type EventAt = (Range<usize>, Option<i64>, Range<usize>);

/// Where each field's string lies once unescaped (`Some(None)`: the field was `null`).
#[derive(Default)]
pub(super) struct Found {
    message_type: Option<Option<Range<usize>>>,
    owner: Option<Option<Range<usize>>>,
    log_group: Option<Option<Range<usize>>>,
    log_stream: Option<Option<Range<usize>>>,
    events: Option<Vec<EventAt>>,
}

/// Reads `buf` as a subscription payload of the usual shape, unescaping its strings in place.
/// `None` when it is not of that shape; `buf` may then have been written to (the caller reads
/// the payload again from its source).
#[cfg(test)]
pub(super) fn read(buf: &mut [u8]) -> Option<Payload<'_>> {
    let found = scan(buf)?;
    found.resolve(std::str::from_utf8(buf).ok()?)
}

/// [`read`] keeping the buffer: the payload's text, whole (every string unescaped in place,
/// what an unescaped string no longer needs blanked with spaces, so that all of it is UTF-8),
/// and where its fields lie in it. The events can then borrow the text wherever it goes: a
/// batch handed to another thread keeps it instead of copying its messages. `None` as for
/// [`read`] (the buffer is gone: the caller reads the payload again from its source).
pub(super) fn read_text(mut buf: Vec<u8>) -> Option<(String, Found)> {
    let found = scan(&mut buf)?;
    // One check of the whole text stands for one per string: keys, numbers and punctuation
    // are ASCII, and a field is resolved only at character boundaries.
    let text = String::from_utf8(buf).ok()?;
    Some((text, found))
}

impl Found {
    /// The payload's fields in `text`, the buffer [`scan`] read; `None` if one does not lie at
    /// character boundaries there (it does, for the text `scan` read).
    pub(super) fn resolve(self, text: &str) -> Option<Payload<'_>> {
        let opt = |r: Option<Option<Range<usize>>>| match r.flatten() {
            Some(r) => text.get(r).map(Some),
            None => Some(None),
        };
        Some(Payload {
            message_type: opt(self.message_type)?,
            owner: opt(self.owner)?,
            log_group: opt(self.log_group)?,
            log_stream: opt(self.log_stream)?,
            events: self
                .events?
                .into_iter()
                .map(|(id, timestamp, message)| {
                    Some(Event {
                        id: text.get(id)?,
                        timestamp,
                        message: text.get(message)?,
                    })
                })
                .collect::<Option<_>>()?,
        })
    }
}

/// The whole document read, its strings unescaped and located.
fn scan(buf: &mut [u8]) -> Option<Found> {
    let mut c = Cursor { buf, at: 0 };
    let mut found = Found::default();
    c.eat(b'{')?;
    if !c.next_is(b'}') {
        loop {
            let key = c.key()?;
            let slot = match &c.buf[key] {
                b"messageType" => Some(&mut found.message_type),
                b"owner" => Some(&mut found.owner),
                b"logGroup" => Some(&mut found.log_group),
                b"logStream" => Some(&mut found.log_stream),
                b"logEvents" => {
                    if found.events.is_some() {
                        return None;
                    }
                    found.events = Some(c.events()?);
                    None
                }
                _ => {
                    c.skip_value()?;
                    None
                }
            };
            if let Some(slot) = slot {
                if slot.is_some() {
                    return None;
                }
                *slot = Some(c.string_or_null()?);
            }
            if !c.comma_or(b'}')? {
                break;
            }
        }
    }
    c.skip_ws();
    (c.at == c.buf.len()).then_some(found)
}

struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.buf.get(self.at) {
            self.at += 1;
        }
    }

    /// Consumes `b`, which must come next (after whitespace).
    fn eat(&mut self, b: u8) -> Option<()> {
        self.skip_ws();
        (self.buf.get(self.at) == Some(&b)).then(|| self.at += 1)
    }

    /// Consumes `b` if it comes next (after whitespace).
    fn next_is(&mut self, b: u8) -> bool {
        self.eat(b).is_some()
    }

    /// After a member or element: `true` on a comma (another follows), `false` on `close`.
    fn comma_or(&mut self, close: u8) -> Option<bool> {
        if self.next_is(b',') {
            Some(true)
        } else {
            self.eat(close).map(|()| false)
        }
    }

    /// An object key with no escape, and its colon.
    fn key(&mut self) -> Option<Range<usize>> {
        let (span, escaped) = self.string()?;
        self.eat(b':')?;
        (!escaped).then_some(span)
    }

    fn string_or_null(&mut self) -> Option<Option<Range<usize>>> {
        self.skip_ws();
        if self.buf[self.at..].starts_with(b"null") {
            self.at += 4;
            return Some(None);
        }
        self.string().map(|(span, _)| Some(span))
    }

    /// A string, unescaped where it lies: its content's range once unescaped, and whether it
    /// had an escape. `None` for a control character, an invalid escape or a lone surrogate.
    fn string(&mut self) -> Option<(Range<usize>, bool)> {
        self.eat(b'"')?;
        let start = self.at;
        // Read from `r`, written up to `w` (`w == r` until the first escape; every escape is
        // longer than what it stands for, so `w` never passes `r`).
        let (mut r, mut w) = (start, start);
        loop {
            (r, w) = if w == r {
                let k = next_special(self.buf, r);
                (k, k)
            } else {
                move_to_special(self.buf, r, w)
            };
            match *self.buf.get(r)? {
                b'"' => {
                    self.at = r + 1;
                    // What the escapes saved, blanked: left as it was, it could hold part of
                    // a character, and the whole text is checked as UTF-8.
                    self.buf[w..r].fill(b' ');
                    return Some((start..w, w != r));
                }
                // The escapes of a JSON text inside a string (most of a CloudTrail record's).
                b'\\' if matches!(self.buf.get(r + 1), Some(b'"' | b'\\' | b'/')) => {
                    self.buf[w] = self.buf[r + 1];
                    (r, w) = (r + 2, w + 1);
                }
                b'\\' => {
                    let (ch, used) = unescape(self.buf.get(r + 1..)?)?;
                    r += 1 + used;
                    if ch.is_ascii() {
                        self.buf[w] = ch as u8;
                        w += 1;
                    } else {
                        let mut utf8 = [0u8; 4];
                        let s = ch.encode_utf8(&mut utf8).as_bytes();
                        self.buf[w..w + s.len()].copy_from_slice(s);
                        w += s.len();
                    }
                }
                _ => return None,
            }
        }
    }

    /// An integer that fits an `i64`, or null.
    fn timestamp(&mut self) -> Option<Option<i64>> {
        self.skip_ws();
        let rest = &self.buf[self.at..];
        if rest.starts_with(b"null") {
            self.at += 4;
            return Some(None);
        }
        let neg = rest.first() == Some(&b'-');
        let digits = &rest[usize::from(neg)..];
        let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        // No leading zero, no fraction or exponent (serde_json would read a float then).
        if n == 0 || (n > 1 && digits[0] == b'0') {
            return None;
        }
        if matches!(digits.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let mut v: i64 = 0;
        for &d in &digits[..n] {
            let d = i64::from(d - b'0');
            v = v.checked_mul(10).and_then(|v| {
                if neg {
                    v.checked_sub(d)
                } else {
                    v.checked_add(d)
                }
            })?;
        }
        self.at += usize::from(neg) + n;
        Some(Some(v))
    }

    fn events(&mut self) -> Option<Vec<EventAt>> {
        self.eat(b'[')?;
        let mut out = Vec::new();
        if self.next_is(b']') {
            return Some(out);
        }
        loop {
            self.eat(b'{')?;
            let (mut id, mut ts, mut message) = (None, None, None);
            if !self.next_is(b'}') {
                loop {
                    let key = self.key()?;
                    match &self.buf[key] {
                        b"id" if id.is_none() => id = Some(self.string()?.0),
                        b"message" if message.is_none() => message = Some(self.string()?.0),
                        b"timestamp" if ts.is_none() => ts = Some(self.timestamp()?),
                        b"id" | b"message" | b"timestamp" => return None,
                        _ => self.skip_value()?,
                    }
                    if !self.comma_or(b'}')? {
                        break;
                    }
                }
            }
            out.push((id?, ts.flatten(), message?));
            if !self.comma_or(b']')? {
                return Some(out);
            }
        }
    }

    /// A string, number, `true`, `false`, `null`, or a flat array of them.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        if self.next_is(b'[') {
            if self.next_is(b']') {
                return Some(());
            }
            loop {
                self.skip_scalar()?;
                if !self.comma_or(b']')? {
                    return Some(());
                }
            }
        }
        self.skip_scalar()
    }

    fn skip_scalar(&mut self) -> Option<()> {
        self.skip_ws();
        let rest = &self.buf[self.at..];
        match rest.first()? {
            // Checked as serde_json would read it (its UTF-8 with the whole text's), though it
            // is not kept.
            b'"' => {
                self.string()?;
            }
            b't' if rest.starts_with(b"true") => self.at += 4,
            b'f' if rest.starts_with(b"false") => self.at += 5,
            b'n' if rest.starts_with(b"null") => self.at += 4,
            b'-' | b'0'..=b'9' => self.at += number_len(rest)?,
            _ => return None,
        }
        Some(())
    }
}

/// The length of a JSON number at the start of `b` (RFC 8259's grammar).
fn number_len(b: &[u8]) -> Option<usize> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(b.first() == Some(&b'-'));
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i += digits(i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    Some(i)
}

/// The character an escape stands for (after its backslash, at the start of `b`) and the
/// escape's length after the backslash: 1, 5 (`uXXXX`) or 11 (a surrogate pair). `None` for
/// an invalid escape or a lone surrogate.
fn unescape(b: &[u8]) -> Option<(char, usize)> {
    let simple = |c: char| Some((c, 1));
    match b.first()? {
        b'"' => simple('"'),
        b'\\' => simple('\\'),
        b'/' => simple('/'),
        b'b' => simple('\u{8}'),
        b'f' => simple('\u{c}'),
        b'n' => simple('\n'),
        b'r' => simple('\r'),
        b't' => simple('\t'),
        b'u' => {
            let hi = hex4(b.get(1..5)?)?;
            match hi {
                0xD800..=0xDBFF => {
                    let lo = (b.get(5..7)? == b"\\u").then(|| hex4(b.get(7..11)?))??;
                    if !(0xDC00..=0xDFFF).contains(&lo) {
                        return None;
                    }
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    Some((char::from_u32(c)?, 11))
                }
                0xDC00..=0xDFFF => None,
                _ => Some((char::from_u32(hi)?, 5)),
            }
        }
        _ => None,
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |v, &c| {
        let d = (c as char).to_digit(16)?;
        Some(v * 16 + d)
    })
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Bytes of `v` equal to `b` (the lowest flagged byte is exact; those above it may not be).
fn bytes_equal(v: u64, b: u8) -> u64 {
    let x = v ^ (ONES * u64::from(b));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The index of the first `"`, `\` or control character in `buf` at or after `i` (`buf.len()`
/// if none), eight bytes at a time.
fn next_special(buf: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = buf.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let hit = special_bytes(u64::from_le_bytes(word));
        if hit != 0 {
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = buf.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    buf.len()
}

/// Moves the bytes from `r` up to the first `"`, `\` or control character at or after it down
/// to `w` (`w < r`: an escape was shorter written out), eight bytes at a time; returns where
/// that character is (`buf.len()` if none) and where the bytes moved end.
fn move_to_special(buf: &mut [u8], mut r: usize, mut w: usize) -> (usize, usize) {
    while let Some(chunk) = buf.get(r..r + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let hit = special_bytes(u64::from_le_bytes(word));
        // Eight bytes written at `w` end at or before `r + 8`, which is read already: only the
        // bytes before the special one count, and those after it are written again later
        // (or blanked at the string's end).
        if hit == 0 {
            buf[w..w + 8].copy_from_slice(&word);
            (r, w) = (r + 8, w + 8);
            continue;
        }
        let n = (hit.trailing_zeros() / 8) as usize;
        if w + 8 <= r + n {
            buf[w..w + 8].copy_from_slice(&word);
        } else {
            buf.copy_within(r..r + n, w);
        }
        return (r + n, w + n);
    }
    let k = next_special(buf, r);
    buf.copy_within(r..k, w);
    (k, w + (k - r))
}

/// The `"`, `\` and control bytes of `v` (the lowest flagged byte is exact).
fn special_bytes(v: u64) -> u64 {
    // Bytes under 0x20 (ASCII: the high bit of a byte of UTF-8 text keeps it out).
    let control = v.wrapping_sub(ONES * 0x20) & !v & HIGHS;
    bytes_equal(v, b'"') | bytes_equal(v, b'\\') | control
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What serde_json reads of the same payload, in the same form.
    fn by_serde(s: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Doc {
            #[serde(rename = "messageType")]
            message_type: Option<String>,
            owner: Option<String>,
            #[serde(rename = "logGroup")]
            log_group: Option<String>,
            #[serde(rename = "logStream")]
            log_stream: Option<String>,
            #[serde(rename = "logEvents")]
            log_events: Vec<Ev>,
        }
        #[derive(serde::Deserialize)]
        struct Ev {
            id: String,
            timestamp: Option<i64>,
            message: String,
        }
        let d: Doc = serde_json::from_str(s).ok()?;
        let p = Payload {
            message_type: d.message_type.as_deref(),
            owner: d.owner.as_deref(),
            log_group: d.log_group.as_deref(),
            log_stream: d.log_stream.as_deref(),
            events: d
                .log_events
                .iter()
                .map(|e| Event {
                    id: &e.id,
                    timestamp: e.timestamp,
                    message: &e.message,
                })
                .collect(),
        };
        Some(format!("{p:?}"))
    }

    /// What the decoder reads in place ([`read_text`]), checked against [`read`].
    fn in_place(s: &str) -> Option<String> {
        let kept = read_text(s.as_bytes().to_vec())
            .and_then(|(text, found)| Some(format!("{:?}", found.resolve(&text)?)));
        let mut buf = s.as_bytes().to_vec();
        assert_eq!(kept, read(&mut buf).map(|p| format!("{p:?}")), "{s}");
        kept
    }

    #[test]
    fn invalid_utf8_anywhere_is_left_to_serde_json() {
        for s in [
            &b"{\"logEvents\":[{\"id\":\"1\",\"message\":\"a\xff\"}]}"[..],
            b"{\"logEvents\":[{\"id\":\"1\",\"message\":\"\\u00e9\xc3\"}]}",
            b"{\"x\":\"\xc3\",\"logEvents\":[]}",
            b"{\"x\":[\"\xe2\x82\"],\"logEvents\":[]}",
            b"{\"logEvents\":[{\"id\":\"1\",\"message\":\"a\",\"x\\u00e9\xff\":1}]}",
        ] {
            assert!(
                read_text(s.to_vec()).is_none(),
                "{}",
                String::from_utf8_lossy(s)
            );
            assert!(serde_json::from_slice::<serde_json::Value>(s).is_err());
        }
    }

    #[test]
    fn the_kept_text_is_whole_utf8_with_what_escapes_saved_blanked() {
        // Two-byte characters from six-byte escapes: eight bytes saved, blanked.
        let s = r#"{"logEvents":[{"id":"1","message":"\u00e9\u00e9x"}]}"#;
        let (text, found) = read_text(s.as_bytes().to_vec()).unwrap();
        assert_eq!(text.len(), s.len());
        assert!(text.contains("\u{e9}\u{e9}x        \""), "{text:?}");
        let p = found.resolve(&text).unwrap();
        assert_eq!(p.events[0].message, "\u{e9}\u{e9}x");
    }

    #[test]
    fn a_usual_payload_is_read_with_its_escapes_undone() {
        let s = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/x","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1700000000000,"message":"{\"a\":\"b\\\\c \u00e9 \ud83d\ude00\"}\n"}]}"#;
        let mut buf = s.as_bytes().to_vec();
        let p = read(&mut buf).map(|p| (p.log_group, p.events[0].message.to_owned()));
        assert_eq!(
            p,
            Some((
                Some("/aws/x"),
                "{\"a\":\"b\\\\c \u{e9} \u{1F600}\"}\n".to_owned()
            ))
        );
        assert_eq!(in_place(s), by_serde(s));
        // Every escape JSON has, some of which serde_json never writes.
        let s = r#"{"logEvents":[{"id":"\u0031","message":"\b\f\n\r\t\/\\\"\u0041\u00e9\u2028\ud83d\ude00\u0000"}]}"#;
        assert!(in_place(s).is_some());
        assert_eq!(in_place(s), by_serde(s));
    }

    #[test]
    fn anything_unusual_is_left_to_serde_json() {
        for s in [
            r#"{"logEvents":[{"id":"1","message":"a\"b"}],"logEvents":[]}"#,
            r#"{"logEvents":[{"id":"1","id":"2","message":"a\"b"}]}"#,
            r#"{"logEvents":[{"id":"1","timestamp":1.5,"message":"a\"b"}]}"#,
            r#"{"logEvents":[{"id":"1","timestamp":99999999999999999999,"message":"a\"b"}]}"#,
            r#"{"logEvents":[{"id":"1","timestamp":01,"message":"a\"b"}]}"#,
            r#"{"logEvents":[{"id":"1","message":"lone \ud800 x \"q\""}]}"#,
            r#"{"logEvents":[{"id":"1","message":"lone \udc00"}]}"#,
            r#"{"logEvents":[{"id":"1","message":"bad \x escape"}]}"#,
            r#"{"logEvents":[{"id":"1","message":"a\"b"}]} trailing"#,
            r#"{"logEvents":[{"id":"1","message":"a\"b","extra":{"nested":1}}]}"#,
            r#"{"logEvents":[{"id":"1"}]}"#,
            r#"{"logEvents":null}"#,
            r#"{"owner":"a"}"#,
            r#"{"log\u0045vents":[]}"#,
            r#"{"owner":"a","owner":"b","logEvents":[]}"#,
            r#"{"logEvents":[[]]}"#,
            "{\"logEvents\":[{\"id\":\"1\",\"message\":\"tab\tinside\"}]}",
            "{\"logEvents\":[{\"id\":\"1\",\"message\":\"cut",
        ] {
            assert!(in_place(s).is_none(), "{s}");
        }
        let bad_utf8 = b"{\"logEvents\":[{\"id\":\"1\",\"message\":\"\\\"\xff\"}]}";
        assert!(read(&mut bad_utf8.to_vec()).is_none());
    }

    /// The subscription payloads as AWS documents them (CloudWatch Logs user guide,
    /// subscription filters: a data message, pretty-printed, with a CloudTrail record; the
    /// control message sent when a subscription is created; an account-level policy's
    /// `policyLevel`).
    #[test]
    fn documented_payloads_are_read_as_serde_json_reads_them() {
        for s in [
            r#"{
    "messageType": "DATA_MESSAGE",
    "owner": "123456789012",
    "logGroup": "CloudTrail/logs",
    "logStream": "123456789012_CloudTrail_us-east-1",
    "subscriptionFilters": [
        "RecipientStream"
    ],
    "logEvents": [
        {
            "id": "3195310660696698337880902507980421114328961542429EXAMPLE",
            "timestamp": 1432826855000,
            "message": "{\"eventVersion\":\"1.03\",\"userIdentity\":{\"type\":\"Root\"}"
        },
        {
            "id": "3195310660696698337880902507980421114328961542429EXAMPLE",
            "timestamp": 1432826855000,
            "message": "{\"eventVersion\":\"1.03\",\"userIdentity\":{\"type\":\"Root\"}"
        }
    ]
}"#,
            r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/f","logStream":"2024/01/01/[$LATEST]abc","subscriptionFilters":["account-policy"],"policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[{"id":"1","timestamp":1704067200000,"message":"START RequestId: 8f5c Version: $LATEST\n"}]}"#,
        ] {
            assert!(in_place(s).is_some(), "{s}");
            assert_eq!(in_place(s), by_serde(s));
        }
    }

    /// A flood of unknown keys and a long message are read in one linear pass (no value is
    /// looked at twice), and give what serde_json gives.
    #[test]
    fn a_flood_of_keys_and_a_huge_message_are_read() {
        let keys: String = (0..20_000)
            .map(|i| format!("\"k{i}\":[{i},\"v\"],"))
            .collect();
        let message = "\\\"x\\\"".repeat(100_000);
        let s =
            format!(r#"{{{keys}"logEvents":[{{"id":"1","timestamp":2,"message":"{message}"}}]}}"#);
        assert!(in_place(&s).is_some());
        assert_eq!(in_place(&s), by_serde(&s));
    }

    #[test]
    fn unknown_scalar_keys_are_skipped() {
        let s = r#" { "policyLevel" : "ACCOUNT_LEVEL_POLICY", "n": -1.5e3, "t": true, "z": null, "a": [1, "x\"y", false],
            "logEvents" : [ { "id" : "1" , "timestamp" : null , "message" : "m" , "k": 0 } ] } "#;
        assert!(in_place(s).is_some_and(|p| p.contains("timestamp: None, message: \"m\"")));
        assert_eq!(in_place(s), by_serde(s));
    }

    proptest! {
        /// Whatever the messages hold (quotes, backslashes, control characters, any
        /// character), a payload serde_json writes is read as serde_json reads it.
        #[test]
        fn payloads_read_as_serde_json_reads_them(
            messages in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        Just('"'), Just('\\'), Just('\n'), Just('\u{1}'), Just('/'),
                        Just('\u{e9}'), Just('\u{1F600}'), Just('\u{2028}'), any::<char>(),
                        proptest::char::range('a', 'z'),
                    ],
                    0..40,
                ).prop_map(|c| c.into_iter().collect::<String>()),
                0..6,
            ),
            group in "[a-zA-Z0-9/_\\-\"\\\\]{0,12}",
            timestamp in proptest::option::of(any::<i64>()),
        ) {
            let events: Vec<serde_json::Value> = messages
                .iter()
                .enumerate()
                .map(|(i, m)| serde_json::json!({"id": i.to_string(), "timestamp": timestamp, "message": m}))
                .collect();
            let doc = serde_json::json!({
                "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
                "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events,
            });
            let text = doc.to_string();
            prop_assert!(in_place(&text).is_some(), "{}", text);
            prop_assert_eq!(in_place(&text), by_serde(&text));
        }

        /// Messages escaped as other writers escape them (`\/`, `\u` escapes, surrogate pairs),
        /// runs of plain text of every length between escapes: read as serde_json reads them.
        #[test]
        fn escapes_between_runs_of_any_length_read_as_serde_json_reads_them(
            messages in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        "[a-z0-9 {}:,]{0,19}",
                        Just(r#"\""#.to_owned()), Just(r"\\".to_owned()), Just(r"\/".to_owned()),
                        Just(r"\n".to_owned()), Just(r"\u00e9".to_owned()),
                        Just(r"\ud83d\ude00".to_owned()), Just(r"\u0041".to_owned()),
                    ],
                    0..30,
                ).prop_map(|parts| parts.concat()),
                1..4,
            ),
        ) {
            let events: Vec<String> = messages
                .iter()
                .enumerate()
                .map(|(i, m)| format!(r#"{{"id":"{i}","timestamp":1,"message":"{m}"}}"#))
                .collect();
            let text = format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{}]}}"#,
                events.join(",")
            );
            prop_assert!(in_place(&text).is_some(), "{}", text);
            prop_assert_eq!(in_place(&text), by_serde(&text));
        }
    }
}

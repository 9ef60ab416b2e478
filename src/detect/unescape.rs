//! Escape-aware scanning: the text content rules see.
//!
//! Most CloudWatch logs are JSON, where a newline or tab inside a string is the two
//! characters `\n` / `\t`; a secret right after them is glued to a word character and rules
//! that start with `\b` miss it. JSON logged inside JSON doubles every escape, and query
//! strings and form bodies percent-encode what they carry. So before a message is scanned:
//!
//! - when it holds a backslash, its escapes (`\n \t \r \b \f \" \\ \/ \uXXXX`) are decoded,
//!   up to [`MAX_LEVELS`] times while escapes remain (JSON in JSON in JSON);
//! - when it holds percent-escapes (`%3D`, `%2F` ...), the percent-decoded text (undone up to
//!   [`MAX_PERCENT_LEVELS`] times: a token encoded twice) is scanned as well, after the first
//!   (a newline between them);
//! - when it holds HTML character references (`&quot;`, `&#10;`, `&#x0A;` ...: JSON or a
//!   header shown in an HTML page or an XML document), the entity-decoded text is scanned as
//!   well, so `{&quot;password&quot;:...}` reads as `{"password":...}`;
//! - when it holds base64 runs that decode to text (a credentials file or a JSON blob an
//!   application base64-encoded), the decoded text is scanned as well, bounded
//!   ([`MAX_BASE64_SEGMENTS`], [`MAX_BASE64_BYTES`]).
//!
//! A message with none is scanned as it is, without a copy: the common case costs one
//! `memchr` for `\`, one for `%` and one pass for long base64 runs. Matches point into the
//! scanned text ([`Haystack`]).

/// Most levels of escaping decoded.
pub const MAX_LEVELS: usize = 3;

/// The bytes content rules scan for one message.
#[derive(Debug, Default)]
pub struct Haystack {
    buf: Vec<u8>,
    tmp: Vec<u8>,
    /// Where the percent-decoded part starts in `buf` (`None`: there is none).
    decoded_from: Option<usize>,
    used: bool,
}

impl Haystack {
    /// Prepares the text for `message`; returns whether a copy was made (else the message is
    /// scanned as it is).
    pub fn prepare(&mut self, message: &[u8]) -> bool {
        self.decoded_from = None;
        let has_escape = memchr::memchr(b'\\', message).is_some();
        let has_percent = has_percent_escape(message);
        let has_html = has_html_entity(message);
        self.tmp.clear();
        base64_text(message, &mut self.tmp);
        let has_base64 = !self.tmp.is_empty();
        self.used = has_escape || has_percent || has_html || has_base64;
        if !self.used {
            return false;
        }
        let base64 = std::mem::take(&mut self.tmp);
        self.buf.clear();
        if has_escape {
            unescape_levels(message, &mut self.buf, &mut self.tmp);
        } else {
            self.buf.extend_from_slice(message);
        }
        let first = self.buf.len();
        if has_percent {
            let start = self.buf.len() + 1;
            self.buf.push(b'\n');
            // Each level of percent-encoding undone, after a newline: a value encoded twice is
            // found in the second, a URL whose user part keeps an encoded `@` in the first.
            let mut level = Vec::with_capacity(start);
            percent_decode(&self.buf[..start - 1], &mut level);
            for n in 0..MAX_PERCENT_LEVELS {
                if n > 0 {
                    if !has_percent_escape(&level) {
                        break;
                    }
                    self.buf.push(b'\n');
                    let mut next = Vec::with_capacity(level.len());
                    percent_decode(&level, &mut next);
                    level = next;
                }
                self.buf.extend_from_slice(&level);
            }
            self.decoded_from = Some(start);
        }
        if has_html {
            self.buf.push(b'\n');
            self.decoded_from.get_or_insert(self.buf.len());
            let mut decoded = Vec::with_capacity(first);
            html_decode(&self.buf[..first], &mut decoded);
            self.buf.extend_from_slice(&decoded);
        }
        if has_base64 {
            self.buf.push(b'\n');
            self.decoded_from.get_or_insert(self.buf.len());
            self.buf.extend_from_slice(&base64);
        }
        self.tmp = base64;
        true
    }

    /// The text to scan: the prepared copy, or `message` itself.
    pub fn text<'a>(&'a self, message: &'a [u8]) -> &'a [u8] {
        if self.used { &self.buf } else { message }
    }

    /// Where the percent-decoded part starts, if there is one.
    pub fn decoded_from(&self) -> Option<usize> {
        if self.used { self.decoded_from } else { None }
    }
}

/// Shortest base64 run decoded (24 bytes of text).
pub const MIN_BASE64_RUN: usize = 32;
/// Most base64 runs of one message decoded.
pub const MAX_BASE64_SEGMENTS: usize = 16;
/// Most decoded bytes kept per message.
pub const MAX_BASE64_BYTES: usize = 64 * 1024;

/// Appends to `out` the text that the message's base64 runs decode to (standard or URL-safe
/// alphabet, padded or not), each after a newline: only runs of at least [`MIN_BASE64_RUN`]
/// characters that decode to printable text (a binary blob is not text), bounded by
/// [`MAX_BASE64_SEGMENTS`] and [`MAX_BASE64_BYTES`]. One pass over the message.
pub fn base64_text(message: &[u8], out: &mut Vec<u8>) {
    let mut segments = 0;
    let n = message.len();
    let class = |i: usize| BASE64_CLASS[message[i] as usize];
    // Only runs of MIN_BASE64_RUN or more matter, and such a run covers every MIN_BASE64_RUN-th
    // byte: `pos` is where the next run may start (after a byte outside the alphabet), and
    // only the byte MIN_BASE64_RUN - 1 further on is looked at until one is in the alphabet.
    let mut pos = 0;
    while pos + MIN_BASE64_RUN <= n
        && segments < MAX_BASE64_SEGMENTS
        && out.len() < MAX_BASE64_BYTES
    {
        let probe = pos + MIN_BASE64_RUN - 1;
        if class(probe) == 0 {
            pos = probe + 1;
            continue;
        }
        // The run around the probe, and what it holds: bit 1 a letter past `f`/`F` or `+`/`/`,
        // bit 2 `-`/`_`.
        let (mut start, mut seen) = (probe, class(probe));
        while start > pos && class(start - 1) != 0 {
            start -= 1;
            seen |= class(start);
        }
        let mut end = probe + 1;
        while end < n && class(end) != 0 {
            seen |= class(end);
            end += 1;
        }
        pos = end;
        while pos < n && message[pos] == b'=' {
            pos += 1;
        }
        // Short runs, and runs of hex digits and dashes (ids, hashes, UUIDs: their decoding
        // is never text), are not decoded.
        if end - start >= MIN_BASE64_RUN
            && seen & NOT_HEX != 0
            && decode_run(&message[start..end], seen, out)
        {
            segments += 1;
        }
    }
}

/// Appends `run` decoded after a newline if it decodes to text; says whether it did.
fn decode_run(run: &[u8], seen: u8, out: &mut Vec<u8>) -> bool {
    use base64::Engine as _;
    let engine = if seen & URL_SAFE != 0 {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    // A run whose length is not a whole number of base64 characters decodes its prefix.
    let usable =
        &run[..run.len() - run.len() % 4 + if run.len() % 4 > 1 { run.len() % 4 } else { 0 }];
    // No more than what still fits is decoded (whole quads, so the prefix is valid): a huge
    // run costs the room left, not its length.
    let room = MAX_BASE64_BYTES.saturating_sub(out.len() + 1);
    let usable = &usable[..usable.len().min(room.div_ceil(3) * 4)];
    // Decoded straight after a newline in `out`, and taken back unless it is text.
    let mark = out.len();
    out.push(b'\n');
    if engine.decode_vec(usable, out).is_err() {
        out.truncate(mark);
        return false;
    }
    let decoded = &out[mark + 1..];
    let printable = decoded
        .iter()
        .filter(|&&b| (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'))
        .count();
    if decoded.len() < 16 || printable * 100 < decoded.len() * 95 {
        out.truncate(mark);
        return false;
    }
    out.truncate(MAX_BASE64_BYTES.max(mark + 1));
    true
}

/// [`BASE64_CLASS`] bit: a base64 character that is not a hex digit or `-`.
const NOT_HEX: u8 = 2;
/// [`BASE64_CLASS`] bit: `-` or `_` (the URL-safe alphabet).
const URL_SAFE: u8 = 4;

/// Per byte: 0 not a base64 character; else 1, with [`NOT_HEX`] and [`URL_SAFE`] bits.
static BASE64_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_hexdigit() {
            1
        } else if c == b'-' {
            1 | URL_SAFE
        } else if c == b'_' {
            1 | URL_SAFE | NOT_HEX
        } else if c.is_ascii_alphanumeric() || c == b'+' || c == b'/' {
            1 | NOT_HEX
        } else {
            0
        };
        b += 1;
    }
    t
};

/// Whether `m` holds a percent-escape of a printable ASCII character or a tab or line break
/// (`%20` to `%7E`, `%09`, `%0A`, `%0D`): what URL
/// encoding produces for the delimiters around a secret. (`%DEPLOY_PASS%`, a Windows
/// variable, is not one.)
pub fn has_percent_escape(m: &[u8]) -> bool {
    memchr::memchr_iter(b'%', m).any(|i| {
        let hex = |k: usize| m.get(k).and_then(|&b| (b as char).to_digit(16));
        matches!((hex(i + 1), hex(i + 2)), (Some(h), Some(l)) if decodable((h << 4 | l) as u8))
    })
}

/// Percent-escapes decoded: printable ASCII, tab, newline, carriage return.
fn decodable(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r')
}

fn unescape_levels(message: &[u8], out: &mut Vec<u8>, tmp: &mut Vec<u8>) {
    out.clear();
    unescape(message, out);
    for _ in 1..MAX_LEVELS {
        if memchr::memchr(b'\\', out).is_none() {
            break;
        }
        tmp.clear();
        unescape(out, tmp);
        if tmp.len() == out.len() {
            break;
        }
        std::mem::swap(out, tmp);
    }
}

/// Decodes one level of JSON / C escapes. Unknown escapes and invalid `\u` sequences are kept
/// as they are.
pub fn unescape(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        let Some(j) = memchr::memchr(b'\\', &s[i..]).map(|j| i + j) else {
            out.extend_from_slice(&s[i..]);
            break;
        };
        out.extend_from_slice(&s[i..j]);
        let Some(&c) = s.get(j + 1) else {
            out.push(b'\\');
            break;
        };
        let simple = match c {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'b' => Some(b' '),
            b'f' => Some(b' '),
            b'"' | b'\\' | b'/' | b'\'' => Some(c),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            i = j + 2;
            continue;
        }
        if c == b'u'
            && let Some(ch) = s
                .get(j + 2..j + 6)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
        {
            let mut tmp = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            i = j + 6;
            continue;
        }
        out.push(b'\\');
        i = j + 1;
    }
}

/// Most levels of percent-encoding undone (a token encoded twice, `%253D`, is found too).
pub const MAX_PERCENT_LEVELS: usize = 3;

/// `s` percent-decoded until no escape is left, at most [`MAX_PERCENT_LEVELS`] times.
pub fn percent_decoded_fully(s: &[u8]) -> Vec<u8> {
    let mut cur = Vec::with_capacity(s.len());
    percent_decode(s, &mut cur);
    for _ in 1..MAX_PERCENT_LEVELS {
        if !has_percent_escape(&cur) {
            break;
        }
        let mut next = Vec::with_capacity(cur.len());
        percent_decode(&cur, &mut next);
        cur = next;
    }
    cur
}

/// Decodes `%XX` escapes of printable ASCII (and `+` as a space, as in form bodies); other
/// bytes are kept.
pub fn percent_decode(s: &[u8], out: &mut Vec<u8>) {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let printable = |h: u8, l: u8| decodable(h << 4 | l);
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                if let (Some(h), Some(l)) = (
                    s.get(i + 1).copied().and_then(hex),
                    s.get(i + 2).copied().and_then(hex),
                ) && printable(h, l)
                {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
}

/// Whether `m` holds an HTML character reference that [`html_decode`] decodes.
pub fn has_html_entity(m: &[u8]) -> bool {
    memchr::memchr_iter(b'&', m).any(|i| entity_at(m, i).is_some())
}

/// The character reference at `s[i]` (a `&`): `&quot;` `&amp;` `&lt;` `&gt;` `&apos;`
/// `&nbsp;`, or a numeric one (`&#10;`, `&#x0A;`) of a character [`decodable`]; the byte it
/// stands for and the reference's length.
fn entity_at(s: &[u8], i: usize) -> Option<(u8, usize)> {
    const NAMED: &[(&[u8], u8)] = &[
        (b"quot;", b'"'),
        (b"amp;", b'&'),
        (b"lt;", b'<'),
        (b"gt;", b'>'),
        (b"apos;", b'\''),
        (b"nbsp;", b' '),
    ];
    let rest = s.get(i + 1..)?;
    if let Some((name, b)) = NAMED
        .iter()
        .find(|(n, _)| rest.len() >= n.len() && rest[..n.len()].eq_ignore_ascii_case(n))
    {
        return Some((*b, 1 + name.len()));
    }
    let rest = rest.strip_prefix(b"#")?;
    let (digits, radix, skip) = match rest.first() {
        Some(b'x' | b'X') => (&rest[1..], 16, 3),
        _ => (rest, 10, 2),
    };
    let end = digits.iter().take(8).position(|&b| b == b';')?;
    let digits = &digits[..end];
    if digits.is_empty() || !digits.iter().all(|b| (*b as char).is_digit(radix)) {
        return None;
    }
    let v = u32::from_str_radix(std::str::from_utf8(digits).ok()?, radix).ok()?;
    let b = u8::try_from(v).ok().filter(|b| decodable(*b))?;
    Some((b, skip + end + 1))
}

/// Decodes HTML character references of printable ASCII, tab, newline and carriage return;
/// every other byte is kept.
pub fn html_decode(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(j) = memchr::memchr(b'&', &s[i..]).map(|j| i + j) {
        out.extend_from_slice(&s[i..j]);
        match entity_at(s, j) {
            Some((b, len)) => {
                out.push(b);
                i = j + len;
            }
            None => {
                out.push(b'&');
                i = j + 1;
            }
        }
    }
    out.extend_from_slice(&s[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(m: &str) -> String {
        let mut h = Haystack::default();
        h.prepare(m.as_bytes());
        String::from_utf8_lossy(h.text(m.as_bytes())).into_owned()
    }

    #[test]
    fn escapes_become_the_characters_they_stand_for() {
        assert_eq!(
            prepared(r#"a\nb\tc \"d\" e\/f \u0041"#),
            "a\nb\tc \"d\" e/f A"
        );
        // JSON in JSON in JSON.
        assert_eq!(prepared(r#"{\\\"k\\\":\\\"v\\\"}\\n"#), "{\"k\":\"v\"}\n");
        // Nothing to do: no copy.
        let mut h = Haystack::default();
        assert!(!h.prepare(b"plain text"));
        // Percent-escapes: the decoded text follows the original.
        assert_eq!(prepared("q=a%3Db%2Fc"), "q=a%3Db%2Fc\nq=a=b/c");
        assert_eq!(prepared("100% sure"), "100% sure");
    }

    #[test]
    fn html_character_references_are_decoded_after_the_text() {
        assert_eq!(
            prepared("{&quot;password&quot;:&quot;p&#64;ss&quot;}"),
            "{&quot;password&quot;:&quot;p&#64;ss&quot;}\n{\"password\":\"p@ss\"}"
        );
        assert_eq!(
            prepared("a&#10;b&#x0A;c&#X9;d"),
            "a&#10;b&#x0A;c&#X9;d\na\nb\nc\td"
        );
        // Not references: kept as they are, and no copy without one.
        assert_eq!(
            prepared("a && b &#; &#x; &#1234567890; &#0;"),
            "a && b &#; &#x; &#1234567890; &#0;"
        );
        let mut h = Haystack::default();
        assert!(!h.prepare(b"R&D &co"));
    }

    #[test]
    fn base64_runs_that_decode_to_text_are_appended_and_others_are_not() {
        use base64::Engine as _;
        let text = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9Kq3Lm0p";
        let std = base64::engine::general_purpose::STANDARD.encode(text);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{text}??>>"));
        let mut out = Vec::new();
        base64_text(format!("creds={std} next").as_bytes(), &mut out);
        assert_eq!(out, format!("\n{text}").into_bytes());
        out.clear();
        base64_text(format!("t {url}").as_bytes(), &mut out);
        assert!(out.starts_with(format!("\n{text}").as_bytes()), "{out:?}");
        // Hex and UUIDs (never text when decoded), binary and short runs: nothing.
        for quiet in [
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
            "eventID 4c1f7a2e-9b3d-4e6f-8a1c-2d5e7f9b0a13-2d5e7f9b0a13".to_owned(),
            format!(
                "blob {}",
                base64::engine::general_purpose::STANDARD
                    .encode([0u8, 1, 2, 250, 251, 252].repeat(8))
            ),
            "short aGVsbG8gd29ybGQ=".to_owned(),
        ] {
            out.clear();
            base64_text(quiet.as_bytes(), &mut out);
            assert!(out.is_empty(), "{quiet}: {out:?}");
        }
        // Bounded whatever the message holds.
        let many = format!("{std} ").repeat(MAX_BASE64_SEGMENTS * 4);
        out.clear();
        base64_text(many.as_bytes(), &mut out);
        assert_eq!(out.len(), MAX_BASE64_SEGMENTS * (text.len() + 1));
        let huge = base64::engine::general_purpose::STANDARD.encode("x".repeat(200_000));
        out.clear();
        base64_text(huge.as_bytes(), &mut out);
        assert_eq!(out.len(), MAX_BASE64_BYTES);
    }

    /// The byte-by-byte scan that `base64_text`'s sampling version must agree with.
    fn base64_text_naive(message: &[u8], out: &mut Vec<u8>) {
        let (mut i, mut segments) = (0, 0);
        let n = message.len();
        while i < n && segments < MAX_BASE64_SEGMENTS && out.len() < MAX_BASE64_BYTES {
            if BASE64_CLASS[message[i] as usize] == 0 {
                i += 1;
                continue;
            }
            let start = i;
            let mut seen = 0u8;
            while i < n && BASE64_CLASS[message[i] as usize] != 0 {
                seen |= BASE64_CLASS[message[i] as usize];
                i += 1;
            }
            let run = &message[start..i];
            while i < n && message[i] == b'=' {
                i += 1;
            }
            if run.len() >= MIN_BASE64_RUN && seen & NOT_HEX != 0 && decode_run(run, seen, out) {
                segments += 1;
            }
        }
    }

    #[test]
    fn base64_text_agrees_with_a_byte_by_byte_scan() {
        use base64::Engine as _;
        let words = [
            base64::engine::general_purpose::STANDARD.encode("password=hunter2-but-longer-text"),
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode("token ?>?>?> some text here!!"),
            "0123456789abcdef0123456789abcdef01".to_owned(),
            "=".to_owned(),
            " ".to_owned(),
            "\"".to_owned(),
            "QUJD".to_owned(),
            "-_".to_owned(),
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for case in 0..5_000 {
            let mut m = Vec::new();
            for _ in 0..case % 24 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let w = &words[(seed % words.len() as u64) as usize];
                // Sometimes only part of a word: runs of every length around the minimum.
                let cut = if seed.is_multiple_of(3) {
                    (seed >> 8) as usize % (w.len() + 1)
                } else {
                    w.len()
                };
                m.extend_from_slice(&w.as_bytes()[..cut]);
            }
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            base64_text(&m, &mut fast);
            base64_text_naive(&m, &mut slow);
            assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(&m));
        }
    }

    #[test]
    fn broken_escapes_are_kept() {
        assert_eq!(prepared(r"end\"), r"end\");
        assert_eq!(prepared(r"\uZZZZ \q"), r"\uZZZZ \q");
    }
}

//! What may be shown of a value found in logs, and how text from logs is made safe to show.
//!
//! - A secret is never kept: [`Evidence`] holds a masked preview ([`mask`], [`mask_pii`]) and a
//!   keyed fingerprint ([`Fingerprinter`], HMAC-SHA256) built from the matched bytes, which are
//!   then dropped.
//! - Text that reaches a person (titles, group values, log group and stream names) is bounded
//!   ([`bounded`]) and made inert ([`inert`]): control characters cannot start a new line in an
//!   e-mail body or a terminal, bidirectional controls cannot reorder it, and chat markup
//!   (`<!channel>`, `<@U123>`, `<https://x|click>`, `@everyone`) cannot mention or link.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Keyed fingerprints: the first 16 hex digits of HMAC-SHA256(key, value). The same value
/// gives the same fingerprint under one key, so a SOC can tell repeats and check a suspected
/// value (`logwarden fingerprint`), but without the key a fingerprint cannot be reversed by
/// trying candidate values (an SSN or card number has few enough of them to try all).
#[derive(Clone)]
pub struct Fingerprinter {
    key: Vec<u8>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter(**REDACTED**)")
    }
}

impl Fingerprinter {
    /// A fingerprinter with `key` (at least 16 bytes are expected; see `crate::keys`).
    pub fn new(key: &[u8]) -> Self {
        Fingerprinter { key: key.to_vec() }
    }

    /// A fingerprinter with a fresh key of 32 random bytes: its fingerprints agree with each
    /// other and mean nothing outside it (library use without a configured key).
    pub fn random() -> std::sync::Arc<Fingerprinter> {
        let mut key = [0u8; 32];
        let random = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key));
        if random.is_err() {
            // No /dev/urandom: a key from the clock and the address space, still unknown
            // outside the process.
            let seed = format!("{:?}{:p}", std::time::SystemTime::now(), &key);
            key.copy_from_slice(&Sha256::digest(seed.as_bytes()));
        }
        std::sync::Arc::new(Fingerprinter::new(&key))
    }

    /// The fingerprint of `value`.
    pub fn fingerprint(&self, value: &[u8]) -> String {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
        match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(value);
                hex16(&mac.finalize().into_bytes())
            }
            Err(_) => hex16(&Sha256::digest([&self.key[..], value].concat())),
        }
    }
}

/// Masked evidence of a secret or PII value. The value itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// A preview: secrets show at most four characters at each end
    /// (`AKIA************MPLE`), personal data at most its last four (`*******6789`).
    pub masked: String,
    /// The keyed fingerprint ([`Fingerprinter`]).
    pub fingerprint: String,
    /// How many times this value occurred in the log event.
    pub matches: usize,
}

impl Evidence {
    /// Builds evidence from the matched bytes (`pii`: personal data, masked harder).
    pub fn of(secret: &[u8], pii: bool, matches: usize, fp: &Fingerprinter) -> Self {
        Evidence {
            masked: if pii { mask_pii(secret) } else { mask(secret) },
            fingerprint: fp.fingerprint(secret),
            matches,
        }
    }
}

fn shown(c: char) -> char {
    // Line and paragraph separators break lines in many viewers, like a newline.
    if c.is_control() || is_bidi(c) || matches!(c, '\u{2028}' | '\u{2029}') {
        '?'
    } else {
        c
    }
}

/// Bidirectional-text controls, which can reorder what a terminal shows.
pub fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Masks a secret: keeps `min(4, len/5)` characters at each end, replaces the rest with `*`
/// (at most 24 of them, so long keys stay readable). Control characters are never shown.
pub fn mask(secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let keep = (n / 5).min(4);
    let hidden = n - 2 * keep;
    let mut out = String::with_capacity(keep * 2 + hidden.min(24) + 3);
    out.extend(chars[..keep].iter().map(|&c| shown(c)));
    out.extend(std::iter::repeat_n('*', hidden.min(24)));
    if hidden > 24 {
        out.push('…');
    }
    out.extend(chars[n - keep..].iter().map(|&c| shown(c)));
    out
}

/// Masks personal data: shows at most its last four characters (a card number's last four,
/// as PCI DSS allows), fewer for short values (`len/4`).
pub fn mask_pii(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let keep = (n / 4).min(4);
    let hidden = n - keep;
    let mut out: String = std::iter::repeat_n('*', hidden.min(24)).collect();
    out.extend(chars[n - keep..].iter().map(|&c| shown(c)));
    out
}

/// The first 8 bytes of a digest as 16 hex digits.
pub fn hex16(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(16);
    for b in digest.iter().take(8) {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The largest char boundary of `s` at or below `i`.
pub fn floor_char_boundary(s: &str, i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    let mut i = i;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `s` cut to `max` bytes at a character boundary, the cut marked with how much was dropped.
pub fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let cut = floor_char_boundary(s, max);
    format!("{}…[+{} bytes]", &s[..cut], s.len() - cut)
}

/// Words that notify a whole chat channel when written after `@`.
const MENTIONS: &[&str] = &["channel", "here", "everyone", "all"];

/// `s` made inert for people and chat tools: control characters (a newline that would forge a
/// `Severity: low` line in an e-mail body, terminal escapes) and bidirectional controls become
/// `?`, the angle brackets of chat markup (`<!channel>`, `<@U123>`, `<https://x|click>`)
/// become `‹ ›`, and `@channel` / `@here` / `@everyone` / `@all` lose their `@` (`＠`).
pub fn inert(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '<' => out.push('‹'),
            '>' => out.push('›'),
            '@' if MENTIONS.iter().any(|m| {
                rest.get(..m.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(m))
                    && !rest[m.len()..]
                        .chars()
                        .next()
                        .is_some_and(|n| n.is_alphanumeric())
            }) =>
            {
                out.push('＠')
            }
            c => out.push(shown(c)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_ends_only() {
        assert_eq!(mask(b"AKIAIOSFODNN7EXAMPLE"), "AKIA************MPLE");
        assert_eq!(mask(b"secret"), "s****t");
        assert_eq!(mask(b"abc"), "***");
        assert_eq!(mask(b""), "");
        let long = "x".repeat(100);
        let m = mask(long.as_bytes());
        assert!(m.len() < 40, "{m}");
        assert_eq!(mask("\u{202E}bcdefghijk".as_bytes()), "?b*******jk");
    }

    #[test]
    fn pii_shows_at_most_the_last_four() {
        assert_eq!(mask_pii(b"536-90-4347"), "*********47");
        assert_eq!(mask_pii(b"4111111111111111"), "************1111");
        assert_eq!(mask_pii(b"abc"), "***");
        assert_eq!(mask_pii(b"jane.doe@example.org"), "****************.org");
    }

    #[test]
    fn fingerprints_are_keyed() {
        let a = Fingerprinter::new(b"key one, 32 bytes long.........");
        let b = Fingerprinter::new(b"key two, 32 bytes long.........");
        assert_eq!(a.fingerprint(b"abc").len(), 16);
        assert_eq!(a.fingerprint(b"abc"), a.fingerprint(b"abc"));
        assert_ne!(a.fingerprint(b"abc"), b.fingerprint(b"abc"));
        // Not the plain SHA-256 prefix any more.
        assert_ne!(a.fingerprint(b"abc"), "ba7816bf8f01cfea");
        // RFC 4231 test case 2.
        let rfc = Fingerprinter::new(b"Jefe");
        assert_eq!(
            rfc.fingerprint(b"what do ya want for nothing?"),
            "5bdcc146bf60754e"
        );
        assert!(!format!("{a:?}").contains("key one"));
        // Two random fingerprinters disagree: no key is shared through global state.
        assert_ne!(
            Fingerprinter::random().fingerprint(b"abc"),
            Fingerprinter::random().fingerprint(b"abc")
        );
    }

    #[test]
    fn chat_markup_and_line_breaks_are_made_inert() {
        assert_eq!(
            inert("u-1\nSeverity: low <!channel> <@U024BE7LH> <https://evil.example|login>"),
            "u-1?Severity: low ‹!channel› ‹@U024BE7LH› ‹https://evil.example|login›"
        );
        assert_eq!(
            inert("@here and @everyone, not @hereford"),
            "＠here and ＠everyone, not @hereford"
        );
        assert_eq!(inert("plain ascii ok"), "plain ascii ok");
        assert_eq!(inert("a\u{2028}b\u{2029}c\u{85}d"), "a?b?c?d");
        assert_eq!(inert("\u{1b}[31mred\u{202e}"), "?[31mred?");
    }

    #[test]
    fn bounded_cuts_at_a_char_boundary_and_says_how_much() {
        assert_eq!(bounded("abc", 5), "abc");
        assert_eq!(bounded("ééé", 3), "é…[+4 bytes]");
    }
}

/// A found key, kept in memory only for `--verify` (between the scan and the verification
/// stage): never printed (its `Debug` shows no byte of it), serialized or logged, and
/// overwritten when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(Vec<u8>);

impl Key {
    /// Keeps `value`.
    pub fn new(value: &[u8]) -> Self {
        Key(value.to_vec())
    }

    /// The key itself, for the call to its provider.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key([{} bytes])", self.0.len())
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.0.fill(0);
        // Keeps the compiler from removing the overwrite of memory about to be freed.
        std::hint::black_box(&self.0);
    }
}

//! Go's RE2 dialect (gitleaks.toml regexes) translated to Rust's `regex` syntax at load.
//!
//! The two engines agree on nearly everything gitleaks rules use; where they differ, Rust
//! either refuses the pattern or reads it otherwise:
//! - a `{` that does not open a counted repetition (`{\d+}`, `${VAR}`, `{{ .x }}`, `{` at the
//!   start or after `(` or `|`, `{1, 5}` with a space) is a literal in RE2 and an error or a
//!   repetition in Rust: it becomes `\{`;
//! - `\Q...\E` quotes a literal in RE2; Rust has no such escape: the text is escaped;
//! - `\C` (any byte) becomes `(?s-u:.)`;
//! - octal escapes `\101` become `\x41` (Rust reads `\1` as a backreference and refuses it).
//!
//! Every changed rule is named in a load warning.

/// What [`translate`] changed, for the warning.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes(pub Vec<&'static str>);

impl Changes {
    fn note(&mut self, what: &'static str) {
        if !self.0.contains(&what) {
            self.0.push(what);
        }
    }
}

/// Whether `p[i..]` (starting at a `{`) opens a counted repetition Rust accepts:
/// `{n}`, `{n,}`, `{n,m}`, with digits only.
fn repetition_at(p: &[u8], i: usize) -> bool {
    let mut j = i + 1;
    let digits = |j: &mut usize| {
        let s = *j;
        while *j < p.len() && p[*j].is_ascii_digit() {
            *j += 1;
        }
        *j > s
    };
    if !digits(&mut j) {
        return false;
    }
    if p.get(j) == Some(&b',') {
        j += 1;
        digits(&mut j);
    }
    p.get(j) == Some(&b'}')
}

/// `pattern` in Rust's syntax, and what had to change.
pub fn translate(pattern: &str) -> (String, Changes) {
    let p = pattern.as_bytes();
    let mut out = String::with_capacity(p.len() + 8);
    let mut changes = Changes::default();
    let mut i = 0;
    let mut in_class = false;
    // Whether the previous token can be repeated (an atom, not `(`, `|` or the start).
    let mut after_atom = false;
    while i < p.len() {
        let c = p[i];
        match c {
            b'\\' if i + 1 < p.len() => {
                let n = p[i + 1];
                if n == b'Q' {
                    let end = pattern[i + 2..].find("\\E").map_or(p.len(), |e| i + 2 + e);
                    out.push_str(&regex_syntax::escape(&pattern[i + 2..end]));
                    changes.note("\\Q...\\E quoting");
                    i = (end + 2).min(p.len());
                    after_atom = true;
                    continue;
                }
                if n == b'C' {
                    out.push_str("(?s-u:.)");
                    changes.note("\\C (any byte)");
                    i += 2;
                    after_atom = true;
                    continue;
                }
                if n.is_ascii_digit() && n != b'0'
                    || (n == b'0' && p.get(i + 2).is_some_and(u8::is_ascii_digit))
                {
                    let mut j = i + 1;
                    let mut v: u32 = 0;
                    while j < p.len() && j < i + 4 && (b'0'..=b'7').contains(&p[j]) {
                        v = v * 8 + u32::from(p[j] - b'0');
                        j += 1;
                    }
                    if j > i + 1 && v <= 0xff {
                        out.push_str(&format!("\\x{v:02x}"));
                        changes.note("octal escape");
                        i = j;
                        after_atom = true;
                        continue;
                    }
                }
                // Any other escape is copied whole (a UTF-8 character after `\` included).
                let len = pattern[i + 1..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&pattern[i..i + 1 + len]);
                i += 1 + len;
                after_atom = true;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                out.push('[');
                i += 1;
                // `]` right after `[` or `[^` is a literal.
                if p.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                if p.get(i) == Some(&b']') {
                    out.push(']');
                    i += 1;
                }
                // POSIX classes `[[:alpha:]]` are copied as they are.
                continue;
            }
            b'[' if in_class && p.get(i + 1) == Some(&b':') => {
                let end = pattern[i..].find(":]").map_or(p.len(), |e| i + e + 2);
                out.push_str(&pattern[i..end]);
                i = end;
                continue;
            }
            b']' if in_class => {
                in_class = false;
                out.push(']');
                i += 1;
                after_atom = true;
                continue;
            }
            b'{' if !in_class => {
                if after_atom && repetition_at(p, i) {
                    let end = i + pattern[i..].find('}').unwrap_or(0);
                    out.push_str(&pattern[i..=end]);
                    i = end + 1;
                    after_atom = false;
                    continue;
                }
                out.push_str("\\{");
                changes.note("a literal `{`");
                i += 1;
                after_atom = true;
                continue;
            }
            b'(' | b'|' if !in_class => {
                after_atom = false;
            }
            b'*' | b'+' | b'?' if !in_class => after_atom = false,
            _ => after_atom = true,
        }
        let len = pattern[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&pattern[i..i + len]);
        i += len;
    }
    (out, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &str) -> String {
        translate(p).0
    }

    #[test]
    fn re2_literal_braces_and_other_differences() {
        // Upstream gitleaks allowlists.
        assert_eq!(t(r"^\$(?:\d+|{\d+})$"), r"^\$(?:\d+|\{\d+})$");
        assert_eq!(
            t(r"^\${(?:[A-Z_]+|[a-z_]+)}$"),
            r"^\$\{(?:[A-Z_]+|[a-z_]+)}$"
        );
        assert_eq!(
            t(r#"['"]?\$?{{[^}]+}}['"]?"#),
            r#"['"]?\$?\{\{[^}]+}}['"]?"#
        );
        assert_eq!(
            t(r"import[ \t]+{[ \t\w,]+}[ \t]+from"),
            r"import[ \t]+\{[ \t\w,]+}[ \t]+from"
        );
        // Repetitions stay; a space makes RE2 read it as text.
        assert_eq!(t(r"[a-z]{32}\d{2,}x{1,3}"), r"[a-z]{32}\d{2,}x{1,3}");
        assert_eq!(t(r"a{1, 5}"), r"a\{1, 5}");
        assert_eq!(t(r"{3}a"), r"\{3}a");
        assert_eq!(t(r"\Qa.b*\E+"), r"a\.b\*+");
        assert_eq!(t(r"\101\C"), r"\x41(?s-u:.)");
        assert_eq!(t(r"[{}]\{x\}[[:alpha:]]"), r"[{}]\{x\}[[:alpha:]]");
        for p in [r"^\$(?:\d+|{\d+})$", r"\Qa.b\E", r"\101", r"a{1, 5}"] {
            assert!(regex::Regex::new(&t(p)).is_ok(), "{p} -> {}", t(p));
        }
        assert!(translate(r"\bghp_[a-z]{36}\b").1.0.is_empty());
    }
}

//! Parsing a record's JSON so that hostile nesting costs the fields below a depth, never the
//! record's other fields.

/// Containers nested deeper than this are read as `null` (serde_json refuses 128 levels).
pub const MAX_JSON_DEPTH: usize = 100;

/// Parses JSON text; a document nested deeper than serde_json allows keeps every field it
/// could read, the containers past [`MAX_JSON_DEPTH`] replaced by `null`: a body nested 130
/// levels deep by whoever wrote the request cannot hide the record's other fields.
pub(super) fn parse_bounded(text: &str) -> Option<serde_json::Value> {
    match serde_json::from_str(text) {
        Ok(v) => Some(v),
        Err(e) if e.to_string().contains("recursion limit") => {
            serde_json::from_str(&flatten_deep(text, MAX_JSON_DEPTH)).ok()
        }
        Err(_) => None,
    }
}

/// The index just past the string that starts at `b[start]` (a `"`), escapes skipped; the
/// end of `b` when it is not closed.
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() && b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

/// `text` with every object or array that starts deeper than `max` levels replaced by `null`
/// (one pass; strings are skipped whole, so brackets inside them do not count).
fn flatten_deep(text: &str, max: usize) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut depth, mut i, mut copied) = (0usize, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'"' => i = string_end(b, i),
            b'{' | b'[' if depth == max => {
                // Skip the whole container, counting its own nesting.
                out.push_str(&text[copied..i]);
                out.push_str("null");
                let mut inner = 0usize;
                while i < b.len() {
                    match b[i] {
                        b'"' => {
                            i = string_end(b, i);
                            continue;
                        }
                        b'{' | b'[' => inner += 1,
                        b'}' | b']' => {
                            inner -= 1;
                            if inner == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                copied = i.min(b.len());
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied.min(text.len())..]);
    out
}

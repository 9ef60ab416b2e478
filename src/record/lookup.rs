//! Dotted paths into a record's JSON, as Sigma engines read them.

use super::FieldValue;

/// Most values one path may reach through arrays (hostile JSON can hold huge lists).
const MAX_PATH_VALUES: usize = 1024;

/// Looks up a dotted path. A numeric part indexes an array; any other part applied to an
/// array applies to each element (so `items.cidrIp` reaches every element's `cidrIp`), and
/// the result is then every value reached ([`FieldValue::Many`]).
pub(super) fn lookup<'v>(root: &'v serde_json::Value, path: &str) -> Option<FieldValue<'v>> {
    let mut v = root;
    for (i, part) in path.split('.').enumerate() {
        v = match v {
            serde_json::Value::Object(map) => map.get(part)?,
            serde_json::Value::Array(items) => match part.parse::<usize>() {
                Ok(n) => items.get(n)?,
                Err(_) => return lookup_many(v, path, i),
            },
            _ => return None,
        };
    }
    Some(FieldValue::Json(v))
}

/// The slow path of [`lookup`]: `v` is an array reached after `done` parts of `path`.
fn lookup_many<'v>(v: &'v serde_json::Value, path: &str, done: usize) -> Option<FieldValue<'v>> {
    let parts: Vec<&str> = path.split('.').skip(done).collect();
    let mut out = Vec::new();
    collect_path(v, &parts, &mut out);
    (!out.is_empty()).then_some(FieldValue::Many(out))
}

fn collect_path<'v>(
    v: &'v serde_json::Value,
    parts: &[&str],
    out: &mut Vec<&'v serde_json::Value>,
) {
    if out.len() >= MAX_PATH_VALUES {
        return;
    }
    match (v, parts.split_first()) {
        (serde_json::Value::Array(items), _)
            if parts.first().is_none_or(|p| p.parse::<usize>().is_err()) =>
        {
            for item in items {
                collect_path(item, parts, out);
            }
        }
        (_, None) => out.push(v),
        (serde_json::Value::Object(map), Some((part, rest))) => {
            if let Some(next) = map.get(*part) {
                collect_path(next, rest, out);
            }
        }
        (serde_json::Value::Array(items), Some((part, rest))) => {
            if let Some(next) = part.parse::<usize>().ok().and_then(|n| items.get(n)) {
                collect_path(next, rest, out);
            }
        }
        _ => {}
    }
}

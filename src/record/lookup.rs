//! Dotted paths into a record's JSON, as Sigma engines read them.

/// A value read from a record.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'r> {
    /// A field extracted from a text line.
    Text(&'r str),
    /// A value inside the record's JSON.
    Json(&'r serde_json::Value),
    /// A value the parser derived (e.g. [`LAG_FIELD`](crate::time::LAG_FIELD)).
    Int(i64),
    /// Every value a path reaches through JSON arrays (`a.items.b` with `items` a list), as
    /// Sigma engines read such paths: the field matches when any of them matches.
    Many(Vec<&'r serde_json::Value>),
}

impl<'r> FieldValue<'r> {
    /// The value as text when it is a string (or a text field).
    pub fn as_str(&self) -> Option<&'r str> {
        match self {
            FieldValue::Text(s) => Some(s),
            FieldValue::Json(v) => v.as_str(),
            FieldValue::Int(_) | FieldValue::Many(_) => None,
        }
    }

    /// The value rendered as a string: strings as-is, numbers and booleans in JSON form.
    /// `None` for null, objects and arrays.
    pub fn to_text(&self) -> Option<String> {
        match self {
            FieldValue::Text(s) => Some((*s).to_owned()),
            FieldValue::Json(v) => json_text(v),
            FieldValue::Int(n) => Some(n.to_string()),
            FieldValue::Many(vs) => vs.first().and_then(|v| json_text(v)),
        }
    }

    /// The value as a number, when it is one (or a string holding one).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Text(s) => s.trim().parse().ok(),
            FieldValue::Json(serde_json::Value::Number(n)) => n.as_f64(),
            FieldValue::Json(serde_json::Value::String(s)) => s.trim().parse().ok(),
            FieldValue::Json(_) | FieldValue::Many(_) => None,
            FieldValue::Int(n) => Some(*n as f64),
        }
    }
}

fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}

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

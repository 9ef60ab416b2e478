//! rsigma's [`Event`] over our lazily parsed [`Record`].

use std::borrow::Cow;

use rsigma_eval::{Event, EventValue};

use crate::record::{FieldValue, Record};

/// Adapts a [`Record`] to rsigma's [`Event`]: fields are looked up lazily by dotted path.
pub struct RecordEvent<'r, 'a>(pub &'r Record<'a>);

impl Event for RecordEvent<'_, '_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        Some(match self.0.field(path)? {
            FieldValue::Text(s) => EventValue::Str(Cow::Borrowed(s)),
            FieldValue::Json(v) => EventValue::from(v),
            FieldValue::Int(n) => EventValue::Int(n),
            FieldValue::Many(vs) => {
                EventValue::Array(vs.into_iter().map(EventValue::from).collect())
            }
        })
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut hit = false;
        self.visit_string_values(&mut |s| hit = hit || pred(s));
        hit
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        self.visit_string_values(&mut |s| out.push(Cow::Owned(s.to_owned())));
        out
    }

    /// Keyword (field-less) detections look at string values only, as Sigma engines do: the
    /// JSON's string values (never its key names or numbers), the fields read from a text
    /// line, and the whole line of a record that has no JSON.
    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        let json = self.0.json();
        if json.is_none() {
            visit(self.0.message());
        }
        for (k, v) in self.0.text_fields() {
            // A runtime line's `message` field is the JSON itself when it parsed.
            if !(json.is_some() && *k == "message") {
                visit(v);
            }
        }
        if let Some(json) = json {
            visit_json_strings(json, visit);
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self.0.json() {
            Some(v) => v.clone(),
            None => {
                let mut map = serde_json::Map::new();
                for (k, v) in self.0.text_fields() {
                    map.insert((*k).to_owned(), serde_json::Value::String((*v).to_owned()));
                }
                map.insert(
                    "message".to_owned(),
                    serde_json::Value::String(self.0.message().to_owned()),
                );
                serde_json::Value::Object(map)
            }
        }
    }
}

fn visit_json_strings(v: &serde_json::Value, visit: &mut dyn FnMut(&str)) {
    match v {
        serde_json::Value::String(s) => visit(s),
        serde_json::Value::Array(items) => items.iter().for_each(|i| visit_json_strings(i, visit)),
        serde_json::Value::Object(map) => map.values().for_each(|i| visit_json_strings(i, visit)),
        _ => {}
    }
}

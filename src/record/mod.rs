//! Stage 2: a [`LogEvent`] becomes a [`Record`]: its kind, its event time and its fields.
//!
//! Parsing never fails: text that matches no known shape is a [`RecordKind::PlainText`]
//! record. Classification looks at fixed prefixes and a handful of JSON key markers (one
//! Aho-Corasick pass); the JSON itself is parsed only when somebody asks for a field, and at
//! most once per record.

use std::cell::OnceCell;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

pub mod cloudtrail;
pub use cloudtrail::Deployment;
mod json;
mod lookup;
pub use json::MAX_JSON_DEPTH;
pub mod session;
use json::parse_bounded;
pub use lookup::FieldValue;
use lookup::lookup;
mod kinds;
mod text;

use crate::decode::LogEvent;
use crate::time::{EventTime, LAG_FIELD};

/// What a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RecordKind {
    /// A Lambda platform text line (`START`, `END`, `REPORT`, `INIT_START`, timeouts).
    LambdaPlatform(PlatformLine),
    /// A Lambda platform event in the JSON log format (`"type":"platform.report"` ...).
    LambdaPlatformJson,
    /// A Node.js runtime line: `<ts>\t<requestId>\t<LEVEL>\t<message>`.
    NodeRuntime,
    /// A Python runtime line: `[LEVEL]\t<ts>\t<requestId>\t<message>`.
    PythonRuntime,
    /// An application line in Lambda's JSON log format (`timestamp, level, message, requestId`).
    LambdaAppJson,
    /// A Powertools logger JSON line.
    Powertools,
    /// The structured app security event `{"eventType":"security","type",...}`, either the
    /// whole message or the JSON part of a runtime line.
    SecurityEvent,
    /// A CloudTrail record.
    CloudTrail,
    /// An API Gateway access log line in JSON.
    ApiGatewayJson,
    /// An API Gateway access log line in the CLF preset.
    ApiGatewayClf,
    /// An AWS WAF log record.
    Waf,
    /// A VPC Flow Logs record (v2 default format or longer custom formats).
    VpcFlow,
    /// Some other JSON object.
    Json,
    /// Anything else.
    PlainText,
}

/// Which Lambda platform text line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PlatformLine {
    /// `START RequestId: ...`
    Start,
    /// `END RequestId: ...`
    End,
    /// `REPORT RequestId: ... Duration: ...`
    Report,
    /// `<ts> <requestId> Task timed out after N seconds`
    Timeout,
    /// `INIT_START Runtime Version: ...`
    InitStart,
}

impl PlatformLine {
    const ALL: [PlatformLine; 5] = [
        PlatformLine::Start,
        PlatformLine::End,
        PlatformLine::Report,
        PlatformLine::Timeout,
        PlatformLine::InitStart,
    ];

    fn type_name(self) -> &'static str {
        match self {
            PlatformLine::Start => "platform.start",
            PlatformLine::End => "platform.end",
            PlatformLine::Report => "platform.report",
            PlatformLine::Timeout => "platform.timeout",
            PlatformLine::InitStart => "platform.initStart",
        }
    }
}

/// The most fields a text line exposes (VPC Flow v2 has 14).
const MAX_TEXT_FIELDS: usize = 16;

/// A record's JSON part as parsed (or found not to parse), handed from the thread that
/// analysed an event to the ordered driver with its findings: parsing it again there was a
/// third of the driver's work. It is a cache: it never makes two findings differ, and it is
/// never printed (it holds the message's values).
#[derive(Clone)]
pub struct ParsedJson {
    json: Option<serde_json::Value>,
    /// The record's kind, as classified where it was parsed.
    kind: RecordKind,
}

impl std::fmt::Debug for ParsedJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParsedJson(..)")
    }
}

impl PartialEq for ParsedJson {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ParsedJson {}

/// One parsed log event. Fields are read on demand.
pub struct Record<'a> {
    kind: RecordKind,
    message: &'a str,
    /// The CloudWatch timestamp the event arrived with.
    cloudwatch_time: Option<EventTime>,
    /// The time read from the line's text prefix (runtime lines, VPC Flow, CLF).
    text_time: Option<EventTime>,
    /// Where the JSON part of the message starts, if it has one.
    json_start: Option<usize>,
    text_fields: [(&'static str, &'a str); MAX_TEXT_FIELDS],
    text_len: usize,
    function_name: Option<&'a str>,
    json: OnceCell<Option<serde_json::Value>>,
    /// What the deployment says of the account.
    deployment: &'a Deployment,
}

impl std::fmt::Debug for Record<'_> {
    // Never print the message or field values: they may hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("kind", &self.kind)
            .field("cloudwatch_time", &self.cloudwatch_time)
            .field("message_len", &self.message.len())
            .finish_non_exhaustive()
    }
}

/// Key markers that identify JSON records.
const MARKERS: &[&str] = &[
    "\"eventVersion\"",
    "\"eventSource\"",
    "\"webaclId\"",
    "\"eventType\"",
    "\"security\"",
    "\"platform.",
    "\"function_request_id\"",
    "\"lambda_request_id\"",
    "\"cold_start\"",
    "\"xray_trace_id\"",
    "\"resourcePath\"",
    "\"routeKey\"",
    "\"httpMethod\"",
    "\"requestId\"",
    "\"level\"",
];
const M_EVENT_VERSION: u32 = 1 << 0;
const M_EVENT_SOURCE: u32 = 1 << 1;
const M_WEBACL: u32 = 1 << 2;
const M_EVENT_TYPE: u32 = 1 << 3;
const M_SECURITY: u32 = 1 << 4;
const M_PLATFORM: u32 = 1 << 5;
const M_POWERTOOLS: u32 = (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9);
const M_RESOURCE: u32 = (1 << 10) | (1 << 11);
const M_HTTP_METHOD: u32 = 1 << 12;
const M_REQUEST_ID: u32 = 1 << 13;
const M_LEVEL: u32 = 1 << 14;

/// What kind of source a batch of log events comes from: decided by what AWS sets (the log
/// group and stream a subscription names, the S3 key of a trail's file), never by a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SourceKind {
    /// An application's or a service's log group: its JSON is what the application chose to
    /// log, whatever its keys.
    #[default]
    Application,
    /// CloudTrail: a trail's CloudWatch Logs stream (`<account>_CloudTrail_<region>`), a
    /// trail's S3 file, or a log group named in the settings.
    CloudTrail,
    /// AWS WAF: a log group whose name starts with `aws-waf-logs-` (AWS requires it).
    Waf,
}

/// Where one batch of log events comes from.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The log group.
    pub log_group: &'a str,
    /// Its kind.
    pub kind: SourceKind,
    /// What the deployment says of the account (trusted accounts, logwarden's resources).
    pub deployment: &'a Deployment,
}

/// No deployment facts: no other account trusted, no resource of logwarden's known.
pub static NO_DEPLOYMENT: Deployment = Deployment {
    trusted_accounts: Vec::new(),
    own_resources: Vec::new(),
};

impl<'a> Source<'a> {
    /// A source of `kind` named `log_group`, knowing no deployment facts.
    pub fn new(log_group: &'a str, kind: SourceKind) -> Self {
        Source {
            log_group,
            kind,
            deployment: &NO_DEPLOYMENT,
        }
    }
}

/// Which log groups and streams are which kind of source ([`SourceKind`]).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Log groups (globs with `*`) that hold CloudTrail records, besides the streams CloudTrail
    /// names itself (`<account>_CloudTrail_<region>`).
    pub cloudtrail_log_groups: Vec<String>,
    /// What the deployment says of the account (trusted accounts, logwarden's resources).
    pub deployment: Deployment,
}

impl Sources {
    /// The kind of the source `log_group` / `log_stream`.
    pub fn kind(&self, log_group: &str, log_stream: &str) -> SourceKind {
        if is_cloudtrail_stream(log_stream) && !log_group.starts_with("/aws/lambda/")
            || self
                .cloudtrail_log_groups
                .iter()
                .any(|g| glob_match(g, log_group))
        {
            SourceKind::CloudTrail
        } else if log_group.starts_with("aws-waf-logs-") {
            SourceKind::Waf
        } else {
            SourceKind::Application
        }
    }

    /// The source `log_group` / `log_stream`.
    pub fn source<'a>(&'a self, log_group: &'a str, log_stream: &str) -> Source<'a> {
        Source {
            log_group,
            kind: self.kind(log_group, log_stream),
            deployment: &self.deployment,
        }
    }
}

/// Whether `s` matches the glob `pattern` (`*` any run of characters, the rest literal).
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if s.len() < first.len() + last.len() || !s.starts_with(first) || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// The log stream CloudTrail writes to in CloudWatch Logs: `<account>_CloudTrail_<region>`,
/// prefixed with the organization id for an organization trail.
pub fn is_cloudtrail_stream(stream: &str) -> bool {
    let s = match stream.strip_prefix("o-") {
        Some(rest) => match rest.split_once('_') {
            Some((org, rest))
                if !org.is_empty() && org.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                rest
            }
            _ => return false,
        },
        None => stream,
    };
    let Some((account, region)) = s.split_once("_CloudTrail_") else {
        return false;
    };
    account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Classifies log events into [`Record`]s. Build once, reuse for every event.
#[derive(Debug, Clone)]
pub struct Parser {
    markers: AhoCorasick,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    /// Builds the parser (one small Aho-Corasick automaton).
    pub fn new() -> Self {
        let markers = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(MARKERS)
            .unwrap_or_else(|_| unreachable_markers());
        Parser { markers }
    }

    /// Parses one event of an application's log group `log_group` (never a CloudTrail
    /// source: see [`Parser::parse_from`]). Never fails.
    pub fn parse<'a>(&self, event: &'a LogEvent<'_>, log_group: &'a str) -> Record<'a> {
        self.parse_from(event, &Source::new(log_group, SourceKind::Application))
    }

    /// Parses one event read from `source`. Never fails. A record is CloudTrail only when
    /// its source is a CloudTrail source, and WAF only from a WAF log group, whatever its
    /// JSON says: an application that logs a CloudTrail-shaped body logs application data.
    pub fn parse_from<'a>(&self, event: &'a LogEvent<'_>, source: &Source<'a>) -> Record<'a> {
        self.parse_with(event, source, None)
    }

    /// [`Parser::parse_from`], with the JSON (and kind) that `event`'s record from the same
    /// `source` parsed on another thread ([`Record::take_json`]): not parsed again.
    pub fn parse_with<'a>(
        &self,
        event: &'a LogEvent<'_>,
        source: &Source<'a>,
        json: Option<ParsedJson>,
    ) -> Record<'a> {
        let message: &'a str = &event.message;
        let mut rec = Record {
            kind: RecordKind::PlainText,
            message,
            cloudwatch_time: event.timestamp,
            text_time: None,
            json_start: None,
            text_fields: [("", ""); MAX_TEXT_FIELDS],
            text_len: 0,
            function_name: source.log_group.strip_prefix("/aws/lambda/"),
            json: OnceCell::new(),
            deployment: source.deployment,
        };
        let trimmed = message.trim_start();
        let offset = message.len() - trimmed.len();
        if trimmed.starts_with('{') {
            rec.json_start = Some(offset);
            rec.kind = match &json {
                Some(parsed) => parsed.kind,
                None => self.classify_json(trimmed, RecordKind::Json, source.kind),
            };
        } else if source.kind != SourceKind::CloudTrail {
            self.parse_text(&mut rec, trimmed, offset);
        }
        if let Some(parsed) = json {
            let _ = rec.json.set(parsed.json);
        }
        rec.text_time = rec.read_text_time();
        rec
    }

    fn classify_json(&self, json: &str, fallback: RecordKind, source: SourceKind) -> RecordKind {
        // The markers that decide the kind at once for this source: once both are seen, the
        // rest of the text cannot change it (a CloudTrail record's come in its first hundreds
        // of bytes, and searching the whole record was a twentieth of a trail's replay).
        let enough = match source {
            SourceKind::CloudTrail => M_EVENT_VERSION | M_EVENT_SOURCE,
            SourceKind::Waf => M_WEBACL,
            _ => M_EVENT_TYPE | M_SECURITY,
        };
        let mut seen = 0u32;
        for m in self.markers.find_overlapping_iter(json) {
            seen |= 1 << m.pattern().as_u32();
            if seen & enough == enough {
                break;
            }
        }
        let has = |m: u32| seen & m != 0;
        if source == SourceKind::CloudTrail {
            return if has(M_EVENT_VERSION) && has(M_EVENT_SOURCE) {
                RecordKind::CloudTrail
            } else {
                fallback
            };
        }
        if source == SourceKind::Waf && has(M_WEBACL) {
            RecordKind::Waf
        } else if has(M_EVENT_TYPE) && has(M_SECURITY) {
            RecordKind::SecurityEvent
        } else if has(M_PLATFORM) {
            RecordKind::LambdaPlatformJson
        } else if has(M_POWERTOOLS) {
            RecordKind::Powertools
        } else if has(M_RESOURCE) && has(M_HTTP_METHOD) {
            RecordKind::ApiGatewayJson
        } else if has(M_REQUEST_ID) && has(M_LEVEL) {
            RecordKind::LambdaAppJson
        } else {
            fallback
        }
    }

    /// A runtime line whose message is JSON exposes that JSON's fields too.
    fn inner_json<'a>(
        &self,
        rec: &mut Record<'a>,
        msg: &'a str,
        line: &'a str,
        offset: usize,
        fallback: RecordKind,
    ) {
        let t = msg.trim_start();
        if t.starts_with('{') {
            let start = offset + (line.len() - t.len());
            rec.json_start = Some(start);
            let kind = self.classify_json(t, fallback, SourceKind::Application);
            // A runtime line stays a runtime line unless the JSON is a security event.
            if kind == RecordKind::SecurityEvent {
                rec.kind = kind;
            }
        }
    }
}

#[cold]
fn unreachable_markers() -> AhoCorasick {
    // The marker list is a constant that always builds; this keeps the constructor
    // infallible without a panic path on input.
    AhoCorasick::new(["\u{0}"]).unwrap_or_else(|_| std::process::abort())
}

impl<'a> Record<'a> {
    fn push(&mut self, k: &'static str, v: &'a str) {
        if self.text_len < MAX_TEXT_FIELDS {
            self.text_fields[self.text_len] = (k, v);
            self.text_len += 1;
        }
    }

    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// The raw message (possibly truncated for scanning).
    pub fn message(&self) -> &'a str {
        self.message
    }

    /// The Lambda function this record came from, from its `/aws/lambda/<name>` log group.
    pub fn function_name(&self) -> Option<&'a str> {
        self.function_name
    }

    /// The fields extracted from the text of the line (runtime prefixes, platform lines, VPC
    /// Flow, CLF), in line order.
    pub fn text_fields(&self) -> &[(&'static str, &'a str)] {
        &self.text_fields[..self.text_len]
    }

    /// The time the event is counted, throttled and dated at: its CloudWatch timestamp when
    /// it arrived with one, else its own time ([`crate::time::trusted_time`]).
    pub fn time(&self) -> Option<EventTime> {
        match self.cloudwatch_time {
            Some(t) => Some(t),
            None => self.own_time(),
        }
    }

    /// The CloudWatch timestamp the event arrived with (none for local text files).
    pub fn cloudwatch_time(&self) -> Option<EventTime> {
        self.cloudwatch_time
    }

    /// The record's own time: read from the line's text, else a time field of its JSON
    /// (`timestamp`, `time`, `eventTime`, `requestTime`).
    pub fn own_time(&self) -> Option<EventTime> {
        self.text_time.or_else(|| self.json_time())
    }

    fn read_text_time(&self) -> Option<EventTime> {
        for &(k, v) in self.text_fields() {
            match (self.kind, k) {
                (_, "timestamp") => return EventTime::parse_iso(v),
                (RecordKind::ApiGatewayClf, "requestTime") => return EventTime::parse_clf(v),
                (RecordKind::VpcFlow, "start") => {
                    return v.parse::<i64>().ok().and_then(EventTime::from_secs);
                }
                _ => {}
            }
        }
        None
    }

    fn json_time(&self) -> Option<EventTime> {
        let json = self.json()?;
        for key in ["timestamp", "time", "eventTime", "requestTime"] {
            match json.get(key) {
                Some(serde_json::Value::String(s)) => {
                    if let Some(t) = EventTime::parse_iso(s).or_else(|| EventTime::parse_clf(s)) {
                        return Some(t);
                    }
                }
                Some(serde_json::Value::Number(n)) => {
                    if let Some(v) = n.as_i64() {
                        // WAF uses epoch ms; seconds are < 1e11 until the year 5138.
                        return if v < 100_000_000_000 {
                            EventTime::from_secs(v)
                        } else {
                            EventTime::from_millis(v)
                        };
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The record's own time minus its CloudWatch timestamp, in whole seconds, when both are
    /// known: a security event replayed long after it happened shows a large negative lag.
    pub fn lag_seconds(&self) -> Option<i64> {
        let cw = self.cloudwatch_time?;
        Some(self.own_time()?.millis_since(cw).div_euclid(1000))
    }

    /// The record's JSON as parsed so far (`None` if nothing read it yet), for the same event's
    /// record on another thread ([`Parser::parse_with`]).
    pub fn take_json(self) -> Option<ParsedJson> {
        let kind = self.kind;
        self.json.into_inner().map(|json| ParsedJson { json, kind })
    }

    /// The JSON part of the record, parsed on first use (at most once). `None` for records
    /// without JSON or whose JSON does not parse.
    pub fn json(&self) -> Option<&serde_json::Value> {
        self.json
            .get_or_init(|| {
                let start = self.json_start?;
                let text = self.message.get(start..)?;
                parse_bounded(text)
            })
            .as_ref()
    }

    /// Looks up a field by dotted path: first the text fields (and `function`), then the
    /// JSON (`userIdentity.type`, `details.sourceIp`). For records without JSON, `message` is
    /// the whole line.
    pub fn field(&self, path: &str) -> Option<FieldValue<'_>> {
        if let Some(&(_, v)) = self.text_fields().iter().find(|(k, _)| *k == path) {
            return Some(FieldValue::Text(v));
        }
        if path == "function" {
            return self.function_name.map(FieldValue::Text);
        }
        if path == LAG_FIELD {
            return self.lag_seconds().map(FieldValue::Int);
        }
        if self.kind == RecordKind::CloudTrail && path.starts_with("logwarden.") {
            return cloudtrail::derived(self, path).map(FieldValue::Text);
        }
        let Some(json) = self.json() else {
            // A text record's message is its whole line.
            return (path == "message").then_some(FieldValue::Text(self.message));
        };
        if let Some(v) = lookup(json, path) {
            return Some(v);
        }
        // A security event logged as the `message` object of a Powertools line exposes its
        // keys at the top level too, like the other forms of the same event.
        if self.kind == RecordKind::SecurityEvent
            && let Some(inner @ serde_json::Value::Object(_)) = json.get("message")
        {
            return lookup(inner, path);
        }
        None
    }
}

impl cloudtrail::Fields for Record<'_> {
    fn text(&self, path: &str) -> Option<std::borrow::Cow<'_, str>> {
        match self.field(path)? {
            FieldValue::Text(s) => Some(std::borrow::Cow::Borrowed(s)),
            FieldValue::Json(serde_json::Value::String(s)) => {
                Some(std::borrow::Cow::Borrowed(s.as_str()))
            }
            other => other.to_text().map(std::borrow::Cow::Owned),
        }
    }

    fn deployment(&self) -> &Deployment {
        self.deployment
    }

    fn strings_under(&self, path: &str, visit: &mut dyn FnMut(&str)) {
        fn walk(
            v: &serde_json::Value,
            depth: usize,
            budget: &mut usize,
            visit: &mut dyn FnMut(&str),
        ) {
            if depth > 16 || *budget == 0 {
                return;
            }
            match v {
                serde_json::Value::String(s) => {
                    *budget -= 1;
                    visit(s);
                }
                serde_json::Value::Array(items) => {
                    items.iter().for_each(|i| walk(i, depth + 1, budget, visit))
                }
                serde_json::Value::Object(map) => {
                    map.values().for_each(|i| walk(i, depth + 1, budget, visit))
                }
                _ => {}
            }
        }
        if let Some(json) = self.json()
            && let Some(FieldValue::Json(v)) = lookup(json, path)
        {
            let mut budget = 4096;
            walk(v, 0, &mut budget, visit);
        }
    }
}

/// Whether `value` of `field` can be supplied by the parser rather than appear in the line's
/// text: platform text lines get a `type` such as `platform.report`, a timeout line gets
/// `status: timeout`, and every record gets `function` from its log group. Literal
/// prefilters must not require such a value in the raw line.
pub fn derived_value(field: &str, value: &str) -> bool {
    match field {
        "function" => true,
        f if f.starts_with("logwarden.") => true,
        "type" => PlatformLine::ALL
            .iter()
            .any(|k| k.type_name().eq_ignore_ascii_case(value)),
        "status" => value.eq_ignore_ascii_case("timeout"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn ev(msg: &str) -> LogEvent<'_> {
        LogEvent {
            id: Cow::Borrowed("1"),
            timestamp: None,
            message: Cow::Borrowed(msg),
            truncated: false,
        }
    }

    #[test]
    fn classifies_runtime_lines() {
        let p = Parser::new();
        let e = ev("2026-11-25T10:00:00.123Z\tabc-123\tINFO\thello");
        let r = p.parse(&e, "/aws/lambda/f");
        assert_eq!(r.kind(), RecordKind::NodeRuntime);
        assert_eq!(r.field("requestId"), Some(FieldValue::Text("abc-123")));
        assert_eq!(r.field("function"), Some(FieldValue::Text("f")));
        assert_eq!(r.time().map(EventTime::as_millis), Some(1_795_600_800_123));
    }

    #[test]
    fn paths_cross_arrays_as_sigma_engines_read_them() {
        let p = Parser::new();
        let line = r#"{"eventVersion":"1.10","eventSource":"ec2.amazonaws.com","requestParameters":{"ipPermissions":{"items":[{"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]}},{"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]},"list":[1,2]}}"#;
        let e = ev(line);
        let r = p.parse(&e, "g");
        let Some(FieldValue::Many(vs)) =
            r.field("requestParameters.ipPermissions.items.ipRanges.items.cidrIp")
        else {
            panic!("expected every cidrIp");
        };
        let got: Vec<&str> = vs.iter().filter_map(|v| v.as_str()).collect();
        assert_eq!(got, ["10.0.0.0/8", "0.0.0.0/0"]);
        // A numeric part still indexes.
        assert_eq!(
            r.field("requestParameters.ipPermissions.items.1.ipRanges.items.0.cidrIp")
                .and_then(|v| v.to_text())
                .as_deref(),
            Some("0.0.0.0/0")
        );
        assert!(r.field("requestParameters.missing.x").is_none());
    }

    #[test]
    fn a_body_nested_too_deep_keeps_the_other_fields() {
        let deep = format!("{}1{}", "[".repeat(130), "]".repeat(130));
        let line = format!(
            r#"{{"eventType":"security","type":"authentication_failed","details":{{"userId":"u-7","body":{deep},"note":"a [ in \"text\""}}}}"#
        );
        let e = ev(&line);
        let r = Parser::new().parse(&e, "g");
        assert_eq!(r.kind(), RecordKind::SecurityEvent);
        assert_eq!(
            r.field("details.userId")
                .and_then(|v| v.to_text())
                .as_deref(),
            Some("u-7")
        );
        assert_eq!(
            r.field("type").and_then(|v| v.to_text()).as_deref(),
            Some("authentication_failed")
        );
        assert!(r.field("details.note").is_some());
    }

    #[test]
    fn a_cloudtrail_shaped_line_is_cloudtrail_only_from_a_cloudtrail_source() {
        let line = r#"{"eventVersion":"1.10","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","userIdentity":{"type":"Root"}}"#;
        let e = ev(line);
        let p = Parser::new();
        assert_eq!(p.parse(&e, "/aws/lambda/app").kind(), RecordKind::Json);
        let sources = Sources::default();
        let trail = sources.source("trail-logs", "123456789012_CloudTrail_us-east-1");
        assert_eq!(p.parse_from(&e, &trail).kind(), RecordKind::CloudTrail);
        // The stream name alone does not make an application's log group a trail.
        let app = sources.source("/aws/lambda/app", "123456789012_CloudTrail_us-east-1");
        assert_eq!(p.parse_from(&e, &app).kind(), RecordKind::Json);
        // A configured log group does.
        let named = Sources {
            cloudtrail_log_groups: vec!["org-trail-*".into()],
            deployment: Deployment::default(),
        };
        assert_eq!(
            p.parse_from(&e, &named.source("org-trail-prod", "x"))
                .kind(),
            RecordKind::CloudTrail
        );
        assert!(is_cloudtrail_stream(
            "o-a1b2c3d4e5_123456789012_CloudTrail_eu-west-1"
        ));
        assert!(!is_cloudtrail_stream("12345678901_CloudTrail_us-east-1"));
        assert!(!is_cloudtrail_stream("123456789012_CloudTrail_"));
    }

    #[test]
    fn the_lag_between_own_time_and_arrival_is_a_field() {
        let p = Parser::new();
        let line = r#"{"timestamp":"2026-11-25T09:00:00.000Z","eventType":"security","type":"authentication_failed"}"#;
        let mut e = ev(line);
        e.timestamp = EventTime::parse_iso("2026-11-25T10:00:00.000Z");
        let r = p.parse(&e, "g");
        assert_eq!(r.field(LAG_FIELD), Some(FieldValue::Int(-3600)));
        // The trusted time is the arrival time.
        assert_eq!(r.time(), e.timestamp);
    }
}

//! The text shapes of log lines: Lambda platform lines, runtime prefixes (Node.js, Python),
//! VPC Flow Logs v2 and the API Gateway CLF preset.

use super::{Parser, PlatformLine, Record, RecordKind};
use crate::time as timefmt;

impl Parser {
    pub(super) fn parse_text<'a>(&self, rec: &mut Record<'a>, line: &'a str, offset: usize) {
        if let Some(kind) = platform_line(line) {
            rec.kind = RecordKind::LambdaPlatform(kind);
            rec.push("type", kind.type_name());
            match kind {
                PlatformLine::Timeout => {
                    // `<ts> <requestId> Task timed out after 3.01 seconds`
                    let mut it = line.split(' ');
                    if let (Some(ts), Some(req)) = (it.next(), it.next()) {
                        rec.push("timestamp", ts);
                        rec.push("requestId", req);
                    }
                    if let Some(secs) = line
                        .rsplit_once("timed out after ")
                        .and_then(|(_, r)| r.split(' ').next())
                    {
                        rec.push("timeoutSeconds", secs);
                    }
                    rec.push("status", "timeout");
                }
                PlatformLine::InitStart => {}
                _ => {
                    for part in line.split('\t') {
                        let Some((k, v)) = part.trim().split_once(": ") else {
                            continue;
                        };
                        let name = match k {
                            "START RequestId" | "END RequestId" | "REPORT RequestId" => "requestId",
                            "Duration" => "durationMs",
                            "Billed Duration" => "billedDurationMs",
                            "Memory Size" => "memorySizeMB",
                            "Max Memory Used" => "maxMemoryUsedMB",
                            "Init Duration" => "initDurationMs",
                            "Status" => "status",
                            "Error Type" => "errorType",
                            _ => continue,
                        };
                        let (v, version) = match v.split_once(" Version: ") {
                            Some((a, b)) => (a, Some(b)),
                            None => (v, None),
                        };
                        let v = match name {
                            "requestId" | "status" | "errorType" => v.trim(),
                            _ => v.split(' ').next().unwrap_or(v),
                        };
                        rec.push(name, v);
                        if let Some(ver) = version {
                            rec.push("version", ver.trim());
                        }
                    }
                }
            }
            return;
        }
        // Python: [LEVEL]\t<ts>\t<requestId>\t<message>
        if line.starts_with('[') {
            let mut it = line.splitn(4, '\t');
            if let (Some(level), Some(ts), Some(req), Some(msg)) =
                (it.next(), it.next(), it.next(), it.next())
                && level.len() > 2
                && level.ends_with(']')
                && timefmt::looks_like_iso(ts)
            {
                rec.kind = RecordKind::PythonRuntime;
                rec.push("level", &level[1..level.len() - 1]);
                rec.push("timestamp", ts);
                rec.push("requestId", req);
                rec.push("message", msg);
                self.inner_json(rec, msg, line, offset, RecordKind::PythonRuntime);
                return;
            }
        }
        // Node.js: <ts>\t<requestId>\t<LEVEL>\t<message>
        if line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            let mut it = line.splitn(4, '\t');
            if let (Some(ts), Some(req), Some(level), Some(msg)) =
                (it.next(), it.next(), it.next(), it.next())
                && timefmt::looks_like_iso(ts)
                && !level.is_empty()
                && level.bytes().all(|b| b.is_ascii_uppercase())
            {
                rec.kind = RecordKind::NodeRuntime;
                rec.push("timestamp", ts);
                rec.push("requestId", req);
                rec.push("level", level);
                rec.push("message", msg);
                self.inner_json(rec, msg, line, offset, RecordKind::NodeRuntime);
                return;
            }
            if vpc_flow(rec, line) {
                return;
            }
        }
        if let Some(clf) = api_gateway_clf(line) {
            rec.kind = RecordKind::ApiGatewayClf;
            for (k, v) in clf {
                rec.push(k, v);
            }
        }
    }
}

pub(super) fn platform_line(line: &str) -> Option<PlatformLine> {
    if line.starts_with("START RequestId: ") {
        Some(PlatformLine::Start)
    } else if line.starts_with("END RequestId: ") {
        Some(PlatformLine::End)
    } else if line.starts_with("REPORT RequestId: ") {
        Some(PlatformLine::Report)
    } else if line.starts_with("INIT_START ") {
        Some(PlatformLine::InitStart)
    } else if is_timeout_line(line) {
        Some(PlatformLine::Timeout)
    } else {
        None
    }
}

/// `<ISO time> <requestId> Task timed out after N seconds` (space-separated; an app line
/// that merely says "Task timed out after" is tab-separated or lacks the prefix).
fn is_timeout_line(line: &str) -> bool {
    let mut it = line.splitn(3, ' ');
    matches!(
        (it.next(), it.next(), it.next()),
        (Some(ts), Some(req), Some(rest))
            if timefmt::looks_like_iso(ts)
                && !ts.contains('\t')
                && !req.is_empty()
                && !req.contains('\t')
                && rest.starts_with("Task timed out after ")
    )
}

const VPC_V2_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// VPC Flow Logs v2 default format: 14 space-separated fields, version first, action and
/// log-status at the end.
pub(super) fn vpc_flow<'a>(rec: &mut Record<'a>, line: &'a str) -> bool {
    let mut parts = [""; 14];
    let mut n = 0;
    for p in line.split(' ').filter(|p| !p.is_empty()) {
        if n == 14 {
            return false;
        }
        parts[n] = p;
        n += 1;
    }
    if n != 14 || !parts[0].bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let action_ok = matches!(parts[12], "ACCEPT" | "REJECT" | "-");
    let status_ok = matches!(parts[13], "OK" | "NODATA" | "SKIPDATA");
    if !(action_ok && status_ok && (parts[2].starts_with("eni-") || parts[2] == "-")) {
        return false;
    }
    rec.kind = RecordKind::VpcFlow;
    for (k, v) in VPC_V2_FIELDS.iter().zip(parts) {
        rec.push(k, v);
    }
    true
}

/// API Gateway CLF preset:
/// `ip caller user [time] "METHOD path PROTO" status length requestId`.
pub(super) fn api_gateway_clf(line: &str) -> Option<[(&'static str, &str); 10]> {
    let (head, rest) = line.split_once(" [")?;
    let (time, rest) = rest.split_once("] \"")?;
    let (request, tail) = rest.split_once("\" ")?;
    let mut h = head.split(' ');
    let (ip, caller, user) = (h.next()?, h.next()?, h.next()?);
    if h.next().is_some() {
        return None;
    }
    let mut r = request.split(' ');
    let (method, path, proto) = (r.next()?, r.next()?, r.next()?);
    if !method.bytes().all(|b| b.is_ascii_uppercase()) || !proto.starts_with("HTTP") {
        return None;
    }
    let mut t = tail.split(' ');
    let (status, len, req_id) = (t.next()?, t.next()?, t.next().unwrap_or("-"));
    if status.len() != 3 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some([
        ("ip", ip),
        ("caller", caller),
        ("user", user),
        ("requestTime", time),
        ("httpMethod", method),
        ("resourcePath", path),
        ("protocol", proto),
        ("status", status),
        ("responseLength", len),
        ("requestId", req_id),
    ])
}

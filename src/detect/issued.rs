//! Identifiers that AWS issues and logs by design are not leaks, whichever rule matched them
//! (built-in or a user's gitleaks.toml).
//!
//! - In a CloudTrail record: everything under `userIdentity` (the caller's access key id,
//!   ARNs, principal ids), the temporary credentials STS returns and CloudTrail logs in
//!   `responseElements.credentials` (access key id and session token), any `accessKeyId`
//!   value, and the ids AWS gives events and requests. A secret access key or a third-party
//!   token inside `requestParameters` is still a finding.
//! - Anywhere: a value inside an ARN (`arn:aws:...:user/jane.doe@example.com`), and
//!   `HIDDEN_DUE_TO_SECURITY_REASONS`, which CloudTrail writes in place of what it withholds.
//!
//! [`issued_spans`] walks a CloudTrail record's JSON text once (only when a content rule
//! matched in it) and returns the byte spans of such values.

/// What CloudTrail writes in place of withheld values (failed sign-in user names ...).
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Keys whose values are AWS-issued identifiers wherever they appear in a CloudTrail record.
const ISSUED_KEYS: &[&str] = &[
    "accessKeyId",
    "sessionToken",
    "principalId",
    "eventID",
    "requestID",
    "sharedEventID",
    "x-amz-id-2",
    "arn",
    "ARN",
];

/// Whether the value at `path` (object keys from the root) is issued by AWS.
fn issued_path(path: &[&[u8]]) -> bool {
    match path.first() {
        Some(&b"userIdentity") => return true,
        Some(&b"responseElements") if path.contains(&&b"credentials"[..]) => return true,
        _ => {}
    }
    path.last()
        .is_some_and(|k| ISSUED_KEYS.iter().any(|i| i.as_bytes() == *k))
}

/// Whether a value is an ARN in an ARN field (`roleArn`, `policyArn`, `TopicArn` ...): a
/// well-formed ARN as a whole ([`arn_spans`]), so nothing glued to it passes for one.
fn arn_field(path: &[&[u8]], value: &[u8]) -> bool {
    path.last().is_some_and(|k| {
        k.ends_with(b"Arn") || k.ends_with(b"ARN") || k.ends_with(b"arn") || k.ends_with(b"Arns")
    }) && arn_spans(value) == [(0, value.len())]
}

/// The byte spans (into `json`) of the string values of a CloudTrail record that AWS issues
/// (see the module docs). Malformed JSON ends the walk early; what was found stays.
pub fn issued_spans(json: &[u8], out: &mut Vec<(usize, usize)>) {
    // Frames: for objects, the key of the current member; arrays inherit their parent's key.
    let mut keys: Vec<&[u8]> = Vec::with_capacity(16);
    let mut in_object: Vec<bool> = Vec::with_capacity(16);
    let mut expect_key = false;
    let mut pending_key: Option<&[u8]> = None;
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'{' => {
                in_object.push(true);
                keys.push(pending_key.take().unwrap_or(b""));
                expect_key = true;
                i += 1;
            }
            b'[' => {
                in_object.push(false);
                keys.push(pending_key.take().unwrap_or(b""));
                i += 1;
            }
            b'}' | b']' => {
                in_object.pop();
                keys.pop();
                i += 1;
            }
            b',' => {
                expect_key = in_object.last() == Some(&true);
                pending_key = None;
                i += 1;
            }
            b'"' => {
                let Some(end) = string_end(json, i + 1) else {
                    return;
                };
                let s = &json[i + 1..end];
                if expect_key {
                    pending_key = Some(s);
                    expect_key = false;
                } else {
                    let mut path: Vec<&[u8]> = keys.iter().skip(1).copied().collect();
                    path.extend(pending_key.take());
                    path.retain(|k| !k.is_empty());
                    if issued_path(&path) || s == HIDDEN.as_bytes() || arn_field(&path, s) {
                        out.push((i + 1, end));
                    }
                }
                i = end + 1;
            }
            b':' => {
                expect_key = false;
                i += 1;
            }
            _ => i += 1,
        }
        if keys.len() > 128 {
            return;
        }
    }
}

/// The index of the closing quote of a JSON string whose content starts at `from`.
fn string_end(json: &[u8], from: usize) -> Option<usize> {
    let mut j = from;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', json.get(j..)?)?;
        if json[k] == b'\\' {
            j = k + 2;
        } else {
            return Some(k);
        }
    }
}

/// The well-formed ARNs of `text`, as sorted, disjoint byte spans: `arn:<partition>:<service>:
/// <region>:<account>:<resource>` whose resource holds only the characters AWS allows in
/// resource names (`A-Za-z0-9 / _ + = . @ : , * -`). One pass over the text, so a line of
/// thousands of ARNs costs what its length costs.
pub fn arn_spans(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let allowed = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'/' | b'_' | b'+' | b'=' | b'.' | b'@' | b':' | b',' | b'*' | b'-'
            )
    };
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&text[from..], b"arn:") {
        let start = from + i;
        let mut end = start;
        while end < text.len() && allowed(text[end]) {
            end += 1;
        }
        // A well-formed ARN has its six parts, and ends where a delimiter begins (a `#`, `%`,
        // `?` or the like glued to it makes it something else).
        let token = &text[start..end];
        let parts = token.split(|&b| b == b':').count();
        let clean_end = end == text.len()
            || text[end].is_ascii_whitespace()
            || matches!(
                text[end],
                b'"' | b'\'' | b'<' | b'>' | b'(' | b')' | b']' | b'}' | b'\\'
            );
        if parts >= 6 && clean_end {
            out.push((start, end));
        }
        from = end.max(start + 4);
    }
    out
}

/// Whether the span `start..end` lies inside one of `arns` ([`arn_spans`]).
pub fn inside_arn(arns: &[(usize, usize)], start: usize, end: usize) -> bool {
    let i = arns.partition_point(|&(s, _)| s <= start);
    i > 0 && arns[i - 1].1 >= end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans_of(json: &str) -> Vec<&str> {
        let mut out = Vec::new();
        issued_spans(json.as_bytes(), &mut out);
        out.iter().map(|&(s, e)| &json[s..e]).collect()
    }

    #[test]
    fn aws_issued_values_of_a_cloudtrail_record() {
        let rec = r#"{"eventVersion":"1.10","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/a","accessKeyId":"AKIAEXAMPLEEXAMPLE12","sessionContext":{"attributes":{"mfaAuthenticated":"false"}}},"eventName":"AssumeRole","requestParameters":{"roleArn":"arn:aws:iam::123456789012:role/x","secretValue":"ghp_notissued","tags":[{"key":"k","value":"v"}]},"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLEEXAMPLE12","sessionToken":"IQoJb3JpZ2luX2VjEXAMPLE","expiration":"Nov 25, 2026"},"assumedRoleUser":{"arn":"arn:aws:sts::123456789012:assumed-role/x/s"}},"additionalEventData":{"UserName":"HIDDEN_DUE_TO_SECURITY_REASONS"},"requestID":"r-1","eventID":"e-1"}"#;
        let got = spans_of(rec);
        for want in [
            "IAMUser",
            "AKIAEXAMPLEEXAMPLE12",
            "ASIAEXAMPLEEXAMPLE12",
            "IQoJb3JpZ2luX2VjEXAMPLE",
            "arn:aws:iam::123456789012:role/x",
            "arn:aws:sts::123456789012:assumed-role/x/s",
            HIDDEN,
            "r-1",
            "e-1",
        ] {
            assert!(got.contains(&want), "{want} not issued: {got:?}");
        }
        assert!(!got.contains(&"ghp_notissued"), "{got:?}");
        assert!(!got.contains(&"v"), "{got:?}");
    }

    #[test]
    fn arn_tokens() {
        let t = b"user arn:aws:iam::123456789012:user/jane.doe@example.com logged in as jane@example.com";
        let arns = arn_spans(t);
        let at = |s: &str| {
            let i = t
                .windows(s.len())
                .position(|w| w == s.as_bytes())
                .unwrap_or(0);
            (i, i + s.len())
        };
        let (s, e) = at("jane.doe@example.com");
        assert!(inside_arn(&arns, s, e));
        let (s, e) = at("jane@example.com");
        assert!(!inside_arn(&arns, s, e));
        // Something glued to an ARN makes it no ARN.
        let glued = b"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/x-Ab12Cd#AWSCURRENT=sk_live_x";
        assert!(arn_spans(glued).is_empty());
    }

    #[test]
    fn thousands_of_arns_cost_one_pass() {
        let mut line = String::new();
        for i in 0..20_000 {
            line.push_str(&format!("arn:aws:iam::123456789012:user/AKIA{i:016}/"));
        }
        let arns = arn_spans(line.as_bytes());
        assert_eq!(
            arns.len(),
            1,
            "one token: the ARN runs on through the slashes"
        );
    }
}

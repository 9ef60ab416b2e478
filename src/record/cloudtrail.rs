//! Facts logwarden derives from a CloudTrail record for rules to read (fields named
//! `logwarden.*`), where plain field matching cannot say them:
//!
//! - `logwarden.policy_admin`: `true` when a policy document the call carries
//!   (`policyDocument`, `assumeRolePolicyDocument`, as CloudTrail records them: JSON, often
//!   URL-encoded) has an `Allow` statement granting every action (`*`, `*:*`, `iam:*`) or
//!   `NotAction` on every resource (`*`); `false` when it carries one that does not.
//! - `logwarden.self_target`: `true` when the call acts on the caller itself: an IAM user
//!   naming its own user (or naming none, which means itself), a role session naming its own
//!   role.
//! - `logwarden.caller`: where the credentials live, from what AWS records: `service` (an AWS
//!   service on its own behalf or for the caller), `lambda`, `ecs`, `ec2` (instance profile),
//!   `console`, `root`, else `user` / `role`.
//! - `logwarden.outsider`: `anonymous` for unauthenticated S3 requests, `foreign-account`
//!   when the caller's account is neither the record's own nor a trusted one; absent else.
//! - `logwarden.own_resource`: `true` when the call names one of logwarden's own resources
//!   by identity: its exact ARN, or its name in the ARN's own account and region. Without
//!   configured resources (`OWN_RESOURCES`), a resource of the record's own account whose
//!   name mentions logwarden stands in.
//! - `logwarden.own_destination`: `true` when a subscription's destination
//!   (`destinationArn`, or the `DestinationArn` of a subscription policy) is one of
//!   logwarden's own resources, by exact ARN (without configured resources: a destination of
//!   the record's own account whose name mentions logwarden).
//! - `logwarden.foreign_destination`: `true` when that destination is in an account that is
//!   neither the record's own nor a trusted one: logs sent out of the account.

use std::borrow::Cow;

/// What the deployment says of the account, from the settings: accounts whose principals are
/// not outsiders, and logwarden's own resources (its function, topic, key secret, window
/// table, stream, bus: their exact ARNs, from the template's outputs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deployment {
    /// Accounts trusted besides a record's own.
    pub trusted_accounts: Vec<String>,
    /// logwarden's own resources, by exact ARN (or name).
    pub own_resources: Vec<String>,
}

/// What the derivations read of a record: a field as text, and the deployment's facts.
pub trait Fields {
    /// The field at `path` as text (strings as they are, numbers and booleans as JSON).
    fn text(&self, path: &str) -> Option<Cow<'_, str>>;
    /// The deployment's facts.
    fn deployment(&self) -> &Deployment;
    /// Calls `visit` with every string value under `path` (bounded).
    fn strings_under(&self, path: &str, visit: &mut dyn FnMut(&str));
}

/// The derived fields, by name.
pub const FIELDS: &[&str] = &[
    "logwarden.policy_admin",
    "logwarden.self_target",
    "logwarden.caller",
    "logwarden.outsider",
    "logwarden.own_resource",
    "logwarden.own_destination",
    "logwarden.foreign_destination",
];

fn text<'r>(r: &'r dyn Fields, path: &str) -> Option<Cow<'r, str>> {
    r.text(path)
}

/// The value of derived field `name` for a CloudTrail record.
pub(super) fn derived(r: &dyn Fields, name: &str) -> Option<&'static str> {
    match name {
        "logwarden.policy_admin" => policy_admin(r).map(|b| if b { "true" } else { "false" }),
        "logwarden.self_target" => self_target(r).then_some("true"),
        "logwarden.caller" => Some(caller(r)),
        "logwarden.outsider" => outsider(r),
        "logwarden.own_resource" => own_resource(r).then_some("true"),
        "logwarden.own_destination" => destination(r)
            .is_some_and(|d| is_own(r, &d))
            .then_some("true"),
        "logwarden.foreign_destination" => destination(r)
            .is_some_and(|d| foreign_account(r, &d))
            .then_some("true"),
        _ => None,
    }
}

/// Decodes `%XX` escapes and `+` (CloudTrail logs some policy documents URL-encoded).
fn percent_decoded(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Whether a value of `Action` grants every action (or every IAM action).
fn all_actions(v: &serde_json::Value) -> bool {
    let one = |s: &str| matches!(s.trim(), "*" | "*:*" | "iam:*");
    match v {
        serde_json::Value::String(s) => one(s),
        serde_json::Value::Array(items) => items.iter().any(|i| i.as_str().is_some_and(one)),
        _ => false,
    }
}

fn all_resources(v: Option<&serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::String(s)) => s.trim() == "*",
        Some(serde_json::Value::Array(items)) => items.iter().any(|i| i.as_str() == Some("*")),
        _ => false,
    }
}

/// Whether one policy document grants administrator access.
fn document_admin(doc: &serde_json::Value) -> bool {
    let statements = match doc.get("Statement") {
        Some(serde_json::Value::Array(s)) => s.iter().collect::<Vec<_>>(),
        Some(s @ serde_json::Value::Object(_)) => vec![s],
        _ => return false,
    };
    statements.iter().any(|s| {
        let allow = s
            .get("Effect")
            .and_then(|e| e.as_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("allow"));
        let resources = all_resources(s.get("Resource"));
        allow
            && (s.get("Action").is_some_and(all_actions)
                && (resources || s.get("Resource").is_none())
                || s.get("NotAction").is_some() && resources)
    })
}

/// `Some(admin?)` when the call carries a policy document.
fn policy_admin(r: &dyn Fields) -> Option<bool> {
    let mut found = None;
    for path in [
        "requestParameters.policyDocument",
        "requestParameters.assumeRolePolicyDocument",
    ] {
        let Some(raw) = text(r, path) else { continue };
        let decoded = percent_decoded(&raw);
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(&decoded) else {
            found = found.or(Some(false));
            continue;
        };
        let admin = document_admin(&doc);
        found = Some(found.unwrap_or(false) || admin);
    }
    found
}

/// Whether the call names the caller itself as its target.
fn self_target(r: &dyn Fields) -> bool {
    match text(r, "userIdentity.type").as_deref() {
        Some("IAMUser") => {
            let me = text(r, "userIdentity.userName");
            match text(r, "requestParameters.userName") {
                Some(target) => me.is_some_and(|m| m == target),
                // IAM calls on a user that name none act on the caller.
                None => {
                    text(r, "eventSource").as_deref() == Some("iam.amazonaws.com")
                        && text(r, "eventName").is_some_and(|n| {
                            matches!(
                                n.as_ref(),
                                "CreateAccessKey"
                                    | "UpdateAccessKey"
                                    | "CreateLoginProfile"
                                    | "UpdateLoginProfile"
                                    | "EnableMFADevice"
                                    | "DeactivateMFADevice"
                            )
                        })
                }
            }
        }
        Some("AssumedRole") => {
            let role = text(r, "userIdentity.sessionContext.sessionIssuer.userName");
            text(r, "requestParameters.roleName").is_some_and(|t| role.is_some_and(|m| m == t))
        }
        _ => false,
    }
}

/// Whether a session name is an ECS task id (32 hex digits).
fn is_task_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where the caller's credentials live (see the module docs).
pub fn caller(r: &dyn Fields) -> &'static str {
    let kind = text(r, "userIdentity.type");
    let agent = text(r, "userAgent").unwrap_or_default();
    let source = text(r, "sourceIPAddress").unwrap_or_default();
    if kind.as_deref() == Some("AWSService")
        || text(r, "userIdentity.invokedBy").is_some_and(|s| s.ends_with(".amazonaws.com"))
    {
        return "service";
    }
    if kind.as_deref() == Some("Root") {
        return "root";
    }
    if text(r, "userIdentity.sessionContext.ec2RoleDelivery").is_some() {
        return "ec2";
    }
    let session = text(r, "userIdentity.arn")
        .and_then(|a| a.rsplit('/').next().map(str::to_owned))
        .unwrap_or_default();
    if agent.contains("exec-env/AWS_Lambda") || agent.starts_with("awslambda-worker") {
        return "lambda";
    }
    if agent.contains("exec-env/AWS_ECS")
        || kind.as_deref() == Some("AssumedRole") && is_task_id(&session)
    {
        return "ecs";
    }
    if kind.as_deref() == Some("AssumedRole") && session.starts_with("i-") && session.len() >= 10 {
        return "ec2";
    }
    // What AWS records of a console session (the caller chooses its user agent).
    if text(r, "sessionCredentialFromConsole").as_deref() == Some("true")
        || text(
            r,
            "userIdentity.sessionContext.sessionCredentialFromConsole",
        )
        .as_deref()
            == Some("true")
        || source == "AWS Internal"
    {
        return "console";
    }
    match kind.as_deref() {
        Some("IAMUser") => "user",
        _ => "role",
    }
}

/// The parts of an ARN: partition, service, region, account, resource.
fn arn_parts(arn: &str) -> Option<(&str, &str, &str, &str, &str)> {
    let mut it = arn.strip_prefix("arn:")?.splitn(5, ':');
    Some((it.next()?, it.next()?, it.next()?, it.next()?, it.next()?))
}

/// The name an ARN's resource goes by (`function:logwarden` → `logwarden`, `table/w` → `w`).
fn arn_name(resource: &str) -> &str {
    resource
        .rsplit([':', '/'])
        .find(|p| !p.is_empty())
        .unwrap_or(resource)
}

/// Whether `value` names one of logwarden's own resources (see the module docs).
fn is_own(r: &dyn Fields, value: &str) -> bool {
    let own = &r.deployment().own_resources;
    let account = text(r, "recipientAccountId");
    if own.is_empty() {
        // No identity configured: a resource of this account whose name mentions logwarden.
        let same_account = match arn_parts(value) {
            Some((_, _, _, acct, _)) => account
                .as_deref()
                .is_none_or(|a| a == acct || acct.is_empty()),
            None => true,
        };
        return same_account && value.to_ascii_lowercase().contains("logwarden");
    }
    let region = text(r, "awsRegion");
    own.iter().any(|o| {
        o == value
            || !value.contains(':')
                && arn_parts(o).is_some_and(|(_, _, reg, acct, res)| {
                    // An S3 bucket's ARN names no account or region: its name is global.
                    arn_name(res) == value
                        && (acct.is_empty() || account.as_deref() == Some(acct))
                        && (reg.is_empty() || region.as_deref() == Some(reg))
                })
    })
}

/// Whether the call names one of logwarden's own resources in its parameters.
fn own_resource(r: &dyn Fields) -> bool {
    let mut hit = false;
    r.strings_under("requestParameters", &mut |s| hit = hit || is_own(r, s));
    hit
}

/// A subscription's destination: `destinationArn`, or the `DestinationArn` inside a
/// subscription filter policy document.
fn destination(r: &dyn Fields) -> Option<String> {
    if let Some(d) = text(r, "requestParameters.destinationArn") {
        return Some(d.into_owned());
    }
    let doc = text(r, "requestParameters.policyDocument")?;
    let v: serde_json::Value = serde_json::from_str(&percent_decoded(&doc)).ok()?;
    v.get("DestinationArn")
        .and_then(|d| d.as_str())
        .map(str::to_owned)
}

/// Whether an ARN lies in an account that is neither the record's own nor a trusted one.
fn foreign_account(r: &dyn Fields, arn: &str) -> bool {
    let Some((_, _, _, acct, _)) = arn_parts(arn) else {
        return false;
    };
    let own = text(r, "recipientAccountId");
    !acct.is_empty()
        && own.as_deref().is_some_and(|o| o != acct)
        && !r.deployment().trusted_accounts.iter().any(|t| t == acct)
}

/// `anonymous` or `foreign-account` (see the module docs).
fn outsider(r: &dyn Fields) -> Option<&'static str> {
    let account = text(r, "userIdentity.accountId");
    if account.as_deref() == Some("ANONYMOUS_PRINCIPAL")
        || text(r, "userIdentity.type").as_deref() == Some("Anonymous")
    {
        return Some("anonymous");
    }
    let account = account?;
    let own = text(r, "recipientAccountId")?;
    if account == own
        || r.deployment()
            .trusted_accounts
            .iter()
            .any(|t| *t == account)
    {
        return None;
    }
    // AWS services acting from their own accounts are not outsiders.
    if caller(r) == "service" {
        return None;
    }
    Some("foreign-account")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::LogEvent;
    use crate::record::{Parser, Record, Source, SourceKind};

    fn record_of(line: &str, f: impl FnOnce(&Record<'_>)) {
        let e = LogEvent {
            id: Cow::Borrowed("1"),
            timestamp: None,
            message: Cow::Borrowed(line),
            truncated: false,
        };
        let source = Source::new("trail", SourceKind::CloudTrail);
        let r = Parser::new().parse_from(&e, &source);
        f(&r);
    }

    fn ct(extra: &str) -> String {
        format!(
            r#"{{"eventVersion":"1.10","eventSource":"iam.amazonaws.com","recipientAccountId":"123456789012",{extra}}}"#
        )
    }

    #[test]
    fn an_admin_policy_is_recognised_in_any_encoding() {
        let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let url: String = admin
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        for doc in [admin.to_owned(), url] {
            let line = ct(&format!(
                r#""eventName":"PutUserPolicy","requestParameters":{{"userName":"bob","policyDocument":{}}}"#,
                serde_json::Value::String(doc)
            ));
            record_of(&line, |r| {
                assert_eq!(derived(r, "logwarden.policy_admin"), Some("true"))
            });
        }
        let narrow = r#"{"Statement":{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}}"#;
        let line = ct(&format!(
            r#""eventName":"PutUserPolicy","requestParameters":{{"policyDocument":{}}}"#,
            serde_json::Value::String(narrow.into())
        ));
        record_of(&line, |r| {
            assert_eq!(derived(r, "logwarden.policy_admin"), Some("false"))
        });
        let not_action = r#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#;
        let line = ct(&format!(
            r#""eventName":"CreatePolicyVersion","requestParameters":{{"policyDocument":{}}}"#,
            serde_json::Value::String(not_action.into())
        ));
        record_of(&line, |r| {
            assert_eq!(derived(r, "logwarden.policy_admin"), Some("true"))
        });
    }

    #[test]
    fn acting_on_oneself_is_recognised() {
        let me =
            r#""userIdentity":{"type":"IAMUser","userName":"dev-jim","accountId":"123456789012"}"#;
        record_of(
            &ct(&format!(
                r#"{me},"eventName":"PutUserPolicy","requestParameters":{{"userName":"dev-jim"}}"#
            )),
            |r| assert_eq!(derived(r, "logwarden.self_target"), Some("true")),
        );
        record_of(
            &ct(&format!(
                r#"{me},"eventName":"CreateAccessKey","requestParameters":null"#
            )),
            |r| assert_eq!(derived(r, "logwarden.self_target"), Some("true")),
        );
        record_of(
            &ct(&format!(
                r#"{me},"eventName":"CreateAccessKey","requestParameters":{{"userName":"alice"}}"#
            )),
            |r| assert_eq!(derived(r, "logwarden.self_target"), None),
        );
    }

    #[test]
    fn own_resources_are_known_by_identity_not_by_name() {
        let deployment = Deployment {
            trusted_accounts: Vec::new(),
            own_resources: vec![
                "arn:aws:lambda:us-east-1:123456789012:function:logwarden".into(),
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:logwarden-key-Ab12Cd".into(),
                "arn:aws:s3:::org-trail-files".into(),
            ],
        };
        let check = |line: &str, field: &str, want: Option<&str>| {
            let e = LogEvent {
                id: Cow::Borrowed("1"),
                timestamp: None,
                message: Cow::Borrowed(line),
                truncated: false,
            };
            let source = Source {
                log_group: "trail",
                kind: SourceKind::CloudTrail,
                deployment: &deployment,
            };
            let r = Parser::new().parse_from(&e, &source);
            assert_eq!(derived(&r, field), want, "{field} of {line}");
        };
        let put = |dest: &str| {
            ct(&format!(
                r#""eventName":"PutSubscriptionFilter","awsRegion":"us-east-1","requestParameters":{{"filterName":"logwarden","destinationArn":"{dest}"}}"#
            ))
        };
        check(
            &put("arn:aws:lambda:us-east-1:123456789012:function:logwarden"),
            "logwarden.own_destination",
            Some("true"),
        );
        // Another account's function named logwarden is not logwarden.
        let foreign = put("arn:aws:lambda:us-east-1:444455556666:function:logwarden");
        check(&foreign, "logwarden.own_destination", None);
        check(&foreign, "logwarden.foreign_destination", Some("true"));
        // A name in the ARN's own account and region is the resource.
        let by_name = ct(
            r#""eventName":"UpdateFunctionConfiguration20150331v2","awsRegion":"us-east-1","requestParameters":{"functionName":"logwarden"}"#,
        );
        check(&by_name, "logwarden.own_resource", Some("true"));
        let other_region = ct(
            r#""eventName":"UpdateFunctionConfiguration20150331v2","awsRegion":"eu-west-1","requestParameters":{"functionName":"logwarden"}"#,
        );
        check(&other_region, "logwarden.own_resource", None);
        // The trail bucket the function reads (TrailBucketName), by its global name.
        let bucket = |name: &str| {
            ct(&format!(
                r#""eventName":"PutBucketNotificationConfiguration","awsRegion":"us-east-1","requestParameters":{{"bucketName":"{name}","NotificationConfiguration":{{}}}}"#
            ))
        };
        check(
            &bucket("org-trail-files"),
            "logwarden.own_resource",
            Some("true"),
        );
        check(&bucket("org-trail-files-2"), "logwarden.own_resource", None);
    }

    #[test]
    fn callers_and_outsiders() {
        let lambda = ct(
            r#""eventName":"GetObject","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/fn-role/orders","accountId":"123456789012"},"userAgent":"Boto3/1.34 exec-env/AWS_Lambda_python3.12""#,
        );
        record_of(&lambda, |r| {
            assert_eq!(derived(r, "logwarden.caller"), Some("lambda"));
            assert_eq!(derived(r, "logwarden.outsider"), None);
        });
        let anon = ct(
            r#""eventName":"GetObject","userIdentity":{"type":"AWSAccount","principalId":"","accountId":"ANONYMOUS_PRINCIPAL"}"#,
        );
        record_of(&anon, |r| {
            assert_eq!(derived(r, "logwarden.outsider"), Some("anonymous"))
        });
        let foreign = ct(
            r#""eventName":"AssumeRole","userIdentity":{"type":"AWSAccount","principalId":"AIDAX","accountId":"444455556666"}"#,
        );
        record_of(&foreign, |r| {
            assert_eq!(derived(r, "logwarden.outsider"), Some("foreign-account"))
        });
    }
}

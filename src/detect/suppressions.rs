//! Suppressions with owners and expiry: `suppressions.toml` in any detectors directory (and
//! `DETECTORS_DIR`), or `--suppressions FILE`.
//!
//! ```toml
//! [[suppress]]
//! rule_id = "github-pat-classic"        # any of rule_id, fingerprint, log_group (glob), field
//! fingerprint = "3f0c9a..."             # the alert's keyed fingerprint
//! log_group = "/aws/lambda/ci-*"
//! field = { "userIdentity.arn" = "arn:aws:sts::123456789012:assumed-role/scanner/x" }
//! reason = "fixture token, revoked 2026-11-02"
//! owner = "appsec@example.com"
//! expires = "2027-01-31"                # required; past it the entry stops working
//! ```
//!
//! An entry needs at least one criterion, a reason, an owner and an expiry date; every
//! criterion it names must hold for it to suppress an alert. A suppressed alert is not sent
//! but counted (per rule and per entry). An entry past its date no longer suppresses: it is
//! named at load, and `detectors check` warns about it and about entries that name no rule of
//! the set.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::{DetectorError, one_line};
use crate::record::Record;
use crate::time::EventTime;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    #[serde(default)]
    suppress: Vec<EntrySpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntrySpec {
    #[serde(default)]
    rule_id: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default)]
    log_group: Option<String>,
    #[serde(default)]
    field: BTreeMap<String, String>,
    reason: String,
    owner: String,
    expires: String,
}

/// One suppression entry.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// Rule id it applies to.
    pub rule_id: Option<String>,
    /// Keyed fingerprint of the value it applies to.
    pub fingerprint: Option<String>,
    /// Log group glob (`*` and `?`).
    pub log_group: Option<String>,
    log_group_re: Option<regex::Regex>,
    /// Record fields that must hold these values.
    pub field: BTreeMap<String, String>,
    /// Why.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// The end of its last day (UTC).
    pub expires: EventTime,
    /// Where it is written (`file:index`).
    pub location: String,
}

impl Suppression {
    /// Whether it has expired at `now`.
    pub fn expired(&self, now: EventTime) -> bool {
        now > self.expires
    }

    fn applies(&self, what: &Suppressed<'_>, record: Option<&Record<'_>>) -> bool {
        if self.rule_id.as_ref().is_some_and(|r| r != what.rule_id) {
            return false;
        }
        if let Some(fp) = &self.fingerprint
            && what.fingerprint != Some(fp.as_str())
        {
            return false;
        }
        if let Some(re) = &self.log_group_re
            && !re.is_match(what.log_group)
        {
            return false;
        }
        self.field.iter().all(|(path, value)| {
            record
                .and_then(|r| r.field(path))
                .and_then(|v| v.to_text())
                .is_some_and(|v| v == *value)
        })
    }
}

/// A glob (`*` any run, `?` one character) as an anchored regex.
fn glob(pattern: &str) -> Result<regex::Regex, regex::Error> {
    let mut re = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re)
}

/// The suppressions of a detector set.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    entries: Vec<Suppression>,
}

/// What a suppression entry is compared with: an alert's rule, value and log group.
#[derive(Debug, Clone, Copy)]
pub struct Suppressed<'a> {
    /// The alert's rule id.
    pub rule_id: &'a str,
    /// The keyed fingerprint of its value (secrets and PII).
    pub fingerprint: Option<&'a str>,
    /// Its log group.
    pub log_group: &'a str,
}

impl Suppressions {
    /// Parses one suppressions file; errors name the file and the entry.
    pub fn load(&mut self, name: &str, text: &str) -> Result<(), DetectorError> {
        let file: FileSpec = toml::from_str(text).map_err(|e| DetectorError::Syntax {
            path: name.to_owned(),
            msg: one_line(&e.to_string()),
        })?;
        for (i, e) in file.suppress.into_iter().enumerate() {
            let location = format!("{name}: suppression #{}", i + 1);
            let err = |msg: String| DetectorError::Syntax {
                path: name.to_owned(),
                msg: format!("suppression #{}: {msg}", i + 1),
            };
            if e.rule_id.is_none()
                && e.fingerprint.is_none()
                && e.log_group.is_none()
                && e.field.is_empty()
            {
                return Err(err(
                    "names nothing to suppress (rule_id, fingerprint, log_group or field)".into(),
                ));
            }
            if e.reason.trim().is_empty() || e.owner.trim().is_empty() {
                return Err(err("needs a reason and an owner".into()));
            }
            let expires = EventTime::parse_iso(&format!("{}T23:59:59.999Z", e.expires.trim()))
                .ok_or_else(|| err(format!("expires `{}` is not a date YYYY-MM-DD", e.expires)))?;
            let log_group_re = match &e.log_group {
                Some(g) => Some(glob(g).map_err(|x| err(format!("log_group glob: {x}")))?),
                None => None,
            };
            self.entries.push(Suppression {
                rule_id: e.rule_id,
                fingerprint: e.fingerprint,
                log_group: e.log_group,
                log_group_re,
                field: e.field,
                reason: e.reason,
                owner: e.owner,
                expires,
                location,
            });
        }
        Ok(())
    }

    /// Every entry.
    pub fn entries(&self) -> &[Suppression] {
        &self.entries
    }

    /// Whether there is any entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry in force at `now` that suppresses `what` (`record`: the log event,
    /// for field criteria; `None` for alerts of several events).
    pub fn matching(
        &self,
        what: &Suppressed<'_>,
        record: Option<&Record<'_>>,
        now: EventTime,
    ) -> Option<&Suppression> {
        self.entries
            .iter()
            .find(|s| !s.expired(now) && s.applies(what, record))
    }

    /// Messages about entries past their date at `now`.
    pub fn expired_notices(&self, now: EventTime) -> Vec<String> {
        self.entries
            .iter()
            .filter(|s| s.expired(now))
            .map(|s| {
                format!(
                    "{}: expired on {} (owner {}): it no longer suppresses anything",
                    s.location,
                    &s.expires.to_rfc3339()[..10],
                    s.owner
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert<'a>(rule: &'a str, group: &'a str) -> Suppressed<'a> {
        Suppressed {
            rule_id: rule,
            fingerprint: None,
            log_group: group,
        }
    }

    #[test]
    fn entries_need_owner_reason_expiry_and_stop_at_their_date() {
        let mut s = Suppressions::default();
        s.load(
            "s.toml",
            "[[suppress]]\nrule_id = \"r\"\nlog_group = \"/aws/lambda/ci-*\"\nreason = \"known\"\nowner = \"me@example.com\"\nexpires = \"2027-01-31\"\n",
        )
        .expect("loads");
        let before = EventTime::parse_iso("2027-01-31T12:00:00Z").expect("t");
        let after = EventTime::parse_iso("2027-02-01T00:00:00Z").expect("t");
        assert!(
            s.matching(&alert("r", "/aws/lambda/ci-build"), None, before)
                .is_some()
        );
        assert!(
            s.matching(&alert("r", "/aws/lambda/prod"), None, before)
                .is_none()
        );
        assert!(
            s.matching(&alert("other", "/aws/lambda/ci-build"), None, before)
                .is_none()
        );
        assert!(
            s.matching(&alert("r", "/aws/lambda/ci-build"), None, after)
                .is_none()
        );
        assert_eq!(s.expired_notices(after).len(), 1);
        let mut bad = Suppressions::default();
        let e = bad
            .load(
                "s.toml",
                "[[suppress]]\nrule_id = \"r\"\nreason = \"x\"\nowner = \"y\"\n",
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("expires"), "{e}");
        let e = bad
            .load(
                "s.toml",
                "[[suppress]]\nreason = \"x\"\nowner = \"y\"\nexpires = \"2027-01-01\"\n",
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("names nothing"), "{e}");
    }
}

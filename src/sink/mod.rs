//! Stage 6: where alerts go. Local sinks ([`AlertSink`]) write JSON Lines or a readable table
//! as alerts come; publishers ([`Publisher`]: SNS, Security Hub, EventBridge) send a run's
//! alerts in batches. Metrics go to CloudWatch ([`metrics`]).
//!
//! Every publisher follows the same contract: what it cannot deliver for a reason on the
//! service's side fails the run, naming the alerts left (Lambda retries the batch, and they are
//! sent first next time); what the service refuses for good is set aside and counted, never
//! blocking the others.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;

use crate::alert::Alert;
use crate::error::AwsErrorKind;

/// Why a publisher could not deliver some alerts (the run fails and is retried). The alerts
/// not in `unpublished` did go out.
#[derive(Debug, thiserror::Error)]
#[error("{sink} to {target} {kind}: {cause} ({} alert(s) unpublished)", unpublished.len())]
pub struct PublishError {
    /// The publisher (`SNS`, `Security Hub`, `EventBridge`).
    pub sink: &'static str,
    /// The topic, product or bus.
    pub target: String,
    /// Throttled, not found, access denied, unreachable ...
    pub kind: AwsErrorKind,
    /// The service's code and message.
    pub cause: String,
    /// Ids of the alerts that were not delivered.
    pub unpublished: Vec<String>,
}

/// An alert a service refused for a reason retrying cannot fix: set aside and counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undeliverable {
    /// The alert's id.
    pub id: String,
    /// The service's code and message.
    pub reason: String,
}

/// What one publisher did with a run's alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Alerts delivered.
    pub published: usize,
    /// Alerts shortened to fit the service's limit before sending.
    pub shortened: usize,
    /// Alerts refused for good.
    pub undeliverable: Vec<Undeliverable>,
}

/// A future returned by [`Publisher::publish`].
pub type PublishFuture<'a> =
    Pin<Box<dyn Future<Output = Result<PublishReport, PublishError>> + Send + 'a>>;

/// A destination that takes a run's alerts in batches (SNS, Security Hub, EventBridge).
pub trait Publisher: Send + Sync + std::fmt::Debug {
    /// A short name for messages and metrics.
    fn name(&self) -> &'static str;
    /// Delivers `alerts` (see the module docs for the contract).
    fn publish<'a>(&'a self, alerts: &'a [Alert]) -> PublishFuture<'a>;
}

/// Why a sink could not take an alert.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing to a local stream failed.
    #[error("writing alerts: {0}")]
    Io(#[from] std::io::Error),
}

/// A destination for alerts. `finish` flushes whatever is buffered; a sink error fails the
/// run (the Lambda invocation is then retried).
pub trait AlertSink {
    /// Takes one alert.
    fn send(&mut self, alert: &Alert) -> Result<(), SinkError>;
    /// Flushes buffered alerts.
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// One alert per line, as JSON.
#[derive(Debug)]
pub struct JsonLinesSink<W: Write> {
    out: W,
}

impl<W: Write> JsonLinesSink<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        JsonLinesSink { out }
    }
}

impl<W: Write> AlertSink for JsonLinesSink<W> {
    fn send(&mut self, alert: &Alert) -> Result<(), SinkError> {
        serde_json::to_writer(&mut self.out, alert).map_err(std::io::Error::from)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        self.out.flush()?;
        Ok(())
    }
}

/// A readable table for a terminal: one row per alert.
#[derive(Debug)]
pub struct TableSink<W: Write> {
    out: W,
    header_done: bool,
}

impl<W: Write> TableSink<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        TableSink {
            out,
            header_done: false,
        }
    }
}

fn cut(s: &str, width: usize) -> String {
    let s = escape(s);
    if s.chars().count() <= width {
        s
    } else {
        let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Text safe for a terminal: control characters (ESC and the rest) and bidirectional
/// overrides, which could clear the screen, move the cursor or reorder what is shown, are
/// written as `\u{..}` escapes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || crate::mask::is_bidi(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The one-line detail shown for an alert: masked evidence, group and count, or the title.
pub fn detail(alert: &Alert) -> String {
    if let Some(i) = &alert.incident {
        return format!(
            "{}: {} ({} alerts)",
            alert.principal.as_deref().unwrap_or("?"),
            i.stages.join(" → "),
            alert.count.unwrap_or(i.alert_ids.len() as u64)
        );
    }
    if let Some(e) = &alert.evidence {
        let more = if e.matches > 1 {
            format!(" (+{} more)", e.matches - 1)
        } else {
            String::new()
        };
        return format!("{} [{}]{more}", e.masked, e.fingerprint);
    }
    let held = if alert.held_back > 0 {
        format!(" (+{} held back)", alert.held_back)
    } else {
        String::new()
    };
    if let (Some(g), Some(c)) = (&alert.group, alert.count) {
        return format!("{}={} count={c}{held}", g.field, g.value);
    }
    format!("{}{held}", alert.title)
}

impl<W: Write> AlertSink for TableSink<W> {
    fn send(&mut self, alert: &Alert) -> Result<(), SinkError> {
        if !self.header_done {
            writeln!(
                self.out,
                "{:<24} {:<8} {:<9} {:<42} {:<30} DETAIL",
                "TIME", "SEVERITY", "KIND", "RULE", "LOG GROUP"
            )?;
            self.header_done = true;
        }
        writeln!(
            self.out,
            "{:<24} {:<8} {:<9} {:<42} {:<30} {}",
            escape(&alert.timestamp.map(|t| t.to_rfc3339()).unwrap_or_default()),
            alert.severity.as_str(),
            alert.kind.as_str(),
            cut(&alert.rule_id, 42),
            cut(&alert.log_group, 30),
            escape(&detail(alert))
        )?;
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        self.out.flush()?;
        Ok(())
    }
}

pub mod eventbridge;
pub mod metrics;
pub mod retry;
pub mod securityhub;
pub mod sns;

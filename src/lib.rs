//! logwarden: a security log analyzer and alerting pipeline for AWS CloudWatch Logs.
//!
//! Data flows one way: [`decode`] (bytes → [`Batch`]) → [`record`] (event → [`Record`]) →
//! [`detect`] (compiled [`DetectorSet`]) → [`alert`] ([`Alert`], secrets masked) → [`sink`].
//! [`Pipeline`] runs the whole flow; the `logwarden` CLI and the Lambda are thin front ends
//! over it.
//!
//! ```
//! use std::sync::Arc;
//! use logwarden::{Config, DetectorSet, Pipeline, TextSource};
//!
//! let detectors = Arc::new(DetectorSet::builtin().expect("built-in detectors compile"));
//! let mut pipeline = Pipeline::new(detectors, Config::default());
//! let log = b"2026-11-25T10:00:00.000Z\tf00d\tINFO\tcharging with sk_live_4eC39HqLyjWDarjtT1zdp7dc\n";
//! let source = TextSource { log_group: "app.log".into(), log_stream: "app.log".into() };
//! let mut alerts = Vec::new();
//! pipeline.process_input(log, &source, &mut |a| alerts.push(a)).expect("decodes");
//! assert_eq!(alerts[0].rule_id, "stripe-secret-key");
//! assert!(!alerts[0].to_json().contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
//! ```
#![deny(missing_docs)]

pub mod alert;
pub mod check;
pub mod correlate;
pub mod decode;
pub mod detect;
pub mod lambda;
pub mod pipeline;
pub mod record;
pub mod sink;
pub mod throttle;
pub mod timefmt;

pub use alert::{Alert, Evidence};
pub use decode::{Batch, DecodeError, Limits, LogEvent, TextSource};
pub use detect::{DetectorError, DetectorSet, FindingKind, Severity};
pub use pipeline::{Config, Pipeline, Stats};
pub use record::{Parser, Record, RecordKind};
pub use sink::{AlertSink, JsonLinesSink, SinkError, TableSink};

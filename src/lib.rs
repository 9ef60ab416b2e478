//! logwarden: a security log analyzer and alerting pipeline for AWS CloudWatch Logs.
//!
//! Data flows one way, each stage a module that imports nothing from a later one:
//! [`decode`] (bytes → [`Batch`]) → [`record`] (event → [`Record`], by what its source says it
//! is) → [`engine`] (one event → [`engine::Findings`], through the compiled [`DetectorSet`] of
//! [`detect`]) → [`multiline`] (secrets logged over several events) → [`correlate`] (sliding
//! windows, episodes) → [`policy`] (severity rules, change bursts, suppressions, storm
//! control) → [`sink`]. [`Pipeline`] runs the flow for one input; the [`driver`] runs an
//! invocation (analyse, flush shared windows, finish, publish, report) for both front ends,
//! configured by one [`settings`] model: the `logwarden` CLI ([`replay`], [`explain`],
//! [`check`]) and the Lambda ([`lambda`]).
//!
//! ```
//! use std::sync::Arc;
//! use logwarden::{Config, DetectorSet, Pipeline, TextSource};
//! use logwarden::mask::Fingerprinter;
//!
//! let detectors = Arc::new(DetectorSet::builtin().expect("built-in detectors compile"));
//! let key = Arc::new(Fingerprinter::new(b"a key of at least sixteen bytes"));
//! let mut pipeline = Pipeline::with_fingerprints(detectors, Config::default(), key);
//! let log = b"2026-11-25T10:00:00.000Z\tf00d\tINFO\tcharging with sk_live_4eC39HqLyjWDarjtT1zdp7dc\n";
//! let source = TextSource { log_group: "app.log".into(), log_stream: "app.log".into(), first_line: 1 };
//! let mut alerts = Vec::new();
//! pipeline.process_input(log, &source, &mut |a| alerts.push(a)).expect("decodes");
//! assert_eq!(alerts[0].rule_id, "stripe-secret-key");
//! assert!(!alerts[0].to_json().contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
//! ```
#![deny(missing_docs)]

pub mod alert;
pub mod check;
pub mod clock;
pub mod correlate;
pub mod decode;
pub mod detect;
pub mod driver;
pub mod engine;
pub mod error;
pub mod explain;
pub mod fs;
pub mod hash;
pub mod incidents;
pub mod input;
pub mod keys;
pub mod lambda;
pub mod logging;
pub mod mask;
pub mod multiline;
pub mod objects;
pub mod pipeline;
pub mod policy;
pub mod record;
pub mod replay;
pub mod report;
pub mod settings;
pub mod severity;
pub mod sink;
pub mod startup;
pub mod time;
pub mod verify;

pub use alert::{Alert, Evidence};
pub use decode::{Batch, DecodeError, Limits, LogEvent, TextSource};
pub use detect::{DetectorError, DetectorSet, FindingKind, Severity};
pub use pipeline::{Config, Pipeline, Stats};
pub use record::{Parser, Record, RecordKind};
pub use sink::{AlertSink, JsonLinesSink, SinkError, TableSink};

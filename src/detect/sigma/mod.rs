//! Event detectors: Sigma rules evaluated on records' fields, and the correlation rules that
//! count their matches.
//!
//! Sigma YAML is parsed by `rsigma-parser` and detection rules are evaluated by `rsigma-eval`
//! through an `Event` adapter ([`RecordEvent`]) over our lazily parsed
//! [`Record`](crate::Record). Correlation rules are
//! parsed by the same parser but counted by logwarden itself (see `crate::correlate`), so that
//! windows use event time, fire once per window and keep their state behind a store trait.
//!
//! A literal prefilter runs first: from each rule's lowered form we derive, in conjunctive
//! normal form, the literals that must occur in the raw line (every clause needs one of its
//! literals). The literals are matched in the content rules' keyword automaton, in the same
//! pass; records that cannot match any rule are never parsed as JSON.

mod adapter;
mod cnf;
mod compile;
mod correlations;
mod cost;
mod dispatch;
mod model;
mod prebuilt;

pub use super::correlation::{
    CorrelationRule, CorrelationSource, CorrelationTest, TestEvent, parse_duration_ms,
};
pub use adapter::RecordEvent;
pub use compile::{EventSources, ParsedFile, ParsedSigma};
pub use model::{
    ATTR_EXAMPLES, ATTR_NEGATIVE, ATTR_SEVERITY_FIELD, ATTR_TESTS, EventDetectors, EventRule,
    Grouping,
};

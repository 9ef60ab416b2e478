//! The wall clock, passed in. Event time comes from the logs; the few decisions that are about
//! the calendar instead (whether a suppression entry has expired, when metrics were sent) ask
//! a [`Clock`], so tests can fix the date instead of reading the machine's.

use std::fmt::Debug;

use crate::time::EventTime;

/// Tells the current wall-clock time.
pub trait Clock: Send + Sync + Debug {
    /// Now.
    fn now(&self) -> EventTime;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> EventTime {
        EventTime::clamped(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        )
    }
}

/// A clock that always says the same time (tests, `detectors check`).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub EventTime);

impl Clock for FixedClock {
    fn now(&self) -> EventTime {
        self.0
    }
}

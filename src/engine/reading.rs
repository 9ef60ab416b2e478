//! What a correlation reads of a record that matched one of its rules: the group (the
//! `group-by` values), the event time and the measured value. It is read where the record is
//! analysed, on any thread, so the ordered correlation stage counts matches without parsing
//! the records again.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::detect::correlation::{CorrelationRule, Measure};
use crate::record::Record;
use crate::time::EventTime;

/// Longest group value shown in an alert; longer values are cut, the cut marked (the count
/// still uses the whole value).
pub const MAX_GROUP_DISPLAY: usize = 256;

/// Why a match was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The record has no time.
    Untimed,
    /// A group-by or value field is missing (or not a number for sums and averages).
    Ungrouped,
}

/// A correlation's reading of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The group's hash: [`group_hash`] of the group-by values, NUL-separated (a value
    /// holding a comma cannot merge two groups).
    pub group: u128,
    /// The group-by values comma-separated, cut to [`MAX_GROUP_DISPLAY`] bytes (one text
    /// shared by the readings of one record with the same group).
    pub shown: Arc<str>,
    /// The record's time.
    pub time: EventTime,
    /// `value_count`: the value's hash.
    pub value: u64,
    /// `value_sum` / `value_avg`: the number's bits ([`Read::num`]).
    num_bits: u64,
}

impl Read {
    /// `value_sum` / `value_avg`: the number.
    pub fn num(&self) -> f64 {
        f64::from_bits(self.num_bits)
    }
}

/// One correlation's reading of a record that matched one of its rules (at position `pos` of
/// its rule list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The correlation's index.
    pub corr: u32,
    /// The matched rule's position in the correlation's rule list.
    pub pos: u8,
    /// What was read, or why the match is not counted.
    pub read: Result<Read, Skip>,
}

/// The first 16 bytes of SHA-256 over `group`: a group key no crafted value can collide with
/// another's, the same in every process (shared windows key their items by it).
pub fn group_hash(group: &str) -> u128 {
    let d = Sha256::digest(group.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    u128::from_le_bytes(b)
}

/// What correlation `rule` reads of `record`, reusing the group text of `earlier` readings of
/// the same record where the group is the same.
pub fn read(
    rule: &CorrelationRule,
    record: &Record<'_>,
    earlier: &[Reading],
) -> Result<Read, Skip> {
    let time = record.time().ok_or(Skip::Untimed)?;
    let mut values = Vec::with_capacity(rule.group_by.len());
    for f in &rule.group_by {
        values.push(
            record
                .field(f)
                .and_then(|v| v.to_text())
                .ok_or(Skip::Ungrouped)?,
        );
    }
    let group = group_hash(&values.join("\u{0}"));
    let same = earlier.iter().find_map(|r| match &r.read {
        Ok(read) if read.group == group => Some(Arc::clone(&read.shown)),
        _ => None,
    });
    let shown = same
        .unwrap_or_else(|| Arc::from(crate::mask::bounded(&values.join(","), MAX_GROUP_DISPLAY)));
    let field = |f: &Option<String>| f.as_deref().and_then(|f| record.field(f));
    let (value, num) = match rule.measure {
        Measure::Distinct => {
            let v = field(&rule.field)
                .and_then(|v| v.to_text())
                .ok_or(Skip::Ungrouped)?;
            (crate::hash::of(&[&v]).finish_u64(), 0.0)
        }
        Measure::Sum | Measure::Avg => {
            let n = field(&rule.field)
                .and_then(|v| v.as_f64())
                .ok_or(Skip::Ungrouped)?;
            (0, n)
        }
        _ => (0, 0.0),
    };
    Ok(Read {
        group,
        shown,
        time,
        value,
        num_bits: num.to_bits(),
    })
}

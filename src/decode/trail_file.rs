//! A CloudTrail file as a trail delivers it to S3: `{"Records": [ {...}, ... ]}` (gzip), each
//! record a whole CloudTrail event. Read into the record texts (borrowed, never re-encoded),
//! their ids and event times, sorted by event time (a file holds the records of a delivery
//! period, not always in order), and the trail's account and region.

use serde_json::value::RawValue;

/// One record of a trail file.
#[derive(Debug)]
pub struct TrailRecord<'a> {
    /// `eventID` (empty when missing).
    pub id: String,
    /// `eventTime`, ms since the epoch.
    pub time_ms: Option<i64>,
    /// The record's JSON text.
    pub text: &'a str,
}

/// What identifies a record as CloudTrail and orders it.
#[derive(serde::Deserialize)]
struct Head {
    #[serde(rename = "eventVersion")]
    event_version: Option<serde_json::Value>,
    #[serde(rename = "eventSource")]
    event_source: Option<String>,
    #[serde(rename = "eventID")]
    event_id: Option<String>,
    #[serde(rename = "eventTime")]
    event_time: Option<String>,
    #[serde(rename = "recipientAccountId")]
    recipient_account_id: Option<String>,
    #[serde(rename = "awsRegion")]
    aws_region: Option<String>,
}

/// Whether the first of `records` is a CloudTrail record (an `eventVersion` and an
/// `eventSource` that is not an S3 event notification's `aws:s3`, and no Kinesis `kinesis`).
pub fn is_trail_file(records: &[&RawValue]) -> bool {
    records.first().is_some_and(|r| {
        serde_json::from_str::<Head>(r.get()).is_ok_and(|h| {
            h.event_version.is_some()
                && h.event_source
                    .as_deref()
                    .is_some_and(|s| s.ends_with(".amazonaws.com"))
        })
    })
}

/// The records of a trail file, sorted by event time, with the trail's `(account, region)`
/// (from its first record).
pub fn records<'a>(records: &[&'a RawValue]) -> (Vec<TrailRecord<'a>>, String, String) {
    let mut out = Vec::with_capacity(records.len());
    let (mut account, mut region) = (String::new(), String::new());
    for r in records {
        let head: Option<Head> = serde_json::from_str(r.get()).ok();
        if let Some(h) = &head
            && account.is_empty()
        {
            account = h.recipient_account_id.clone().unwrap_or_default();
            region = h.aws_region.clone().unwrap_or_default();
        }
        let (id, time_ms) = head.map_or((String::new(), None), |h| {
            (
                h.event_id.unwrap_or_default(),
                h.event_time.as_deref().and_then(crate::time::parse_iso_ms),
            )
        });
        out.push(TrailRecord {
            id,
            time_ms,
            text: r.get(),
        });
    }
    out.sort_by_key(|r| r.time_ms.unwrap_or(i64::MAX));
    (out, account, region)
}

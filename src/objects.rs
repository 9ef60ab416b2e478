//! A trail that delivers only to S3: the Lambda triggered by its new objects.
//!
//! Two event shapes name an object: an S3 event notification (`{"Records": [{"eventSource":
//! "aws:s3", "s3": {"bucket": {"name"}, "object": {"key"}}}]}`, the key URL-encoded) and an
//! EventBridge `Object Created` event (`{"source": "aws.s3", "detail": {"bucket": {"name"},
//! "object": {"key"}}}`, the key as is), which the template uses because it can subscribe to
//! an existing bucket. S3's `s3:TestEvent`, sent when a notification is configured, names
//! none. Only trail log files (`.../CloudTrail/...`) are read; digest and Insights files are
//! skipped and counted. Each file is then analysed exactly as `replay` reads it: a
//! `{"Records": [...]}` gzip file of CloudTrail records.

use serde_json::Value;

/// Largest object read (a trail's files are a few MB of gzip; past this the object is
/// refused, and the invocation fails so the event reaches the on-failure destination).
pub const MAX_OBJECT_BYTES: u64 = 256 * 1024 * 1024;

/// One object an event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// The bucket.
    pub bucket: String,
    /// The key (decoded).
    pub key: String,
}

impl ObjectRef {
    /// Whether it is a trail log file (`AWSLogs/<account>/CloudTrail/<region>/...`, also
    /// under an organization id or a prefix), not a digest or Insights file.
    pub fn is_trail_log(&self) -> bool {
        self.key.contains("/CloudTrail/") && !self.key.ends_with('/')
    }
}

/// Why an object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// S3 refused or failed the GetObject call.
    #[error("s3://{bucket}/{key}: GetObject failed: {reason}")]
    Get {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// What S3 or the connection said.
        reason: String,
    },
    /// The object is larger than [`MAX_OBJECT_BYTES`].
    #[error("s3://{bucket}/{key}: {size} bytes, over the {MAX_OBJECT_BYTES}-byte bound")]
    TooLarge {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// Its size.
        size: u64,
    },
    /// An S3 event arrived but the handler has no S3 client.
    #[error("an S3 event arrived, but this handler reads no S3 objects")]
    NoClient,
}

/// The objects an S3 event notification or an EventBridge `Object Created` event names
/// (`Some(empty)` for S3's test event); `None` when the event is neither.
pub fn objects_of(event: &[u8]) -> Option<Vec<ObjectRef>> {
    let head = &event[..event.len().min(4096)];
    let s3_mark = memchr::memmem::find(head, b"\"aws:s3\"").is_some()
        || memchr::memmem::find(head, b"\"aws.s3\"").is_some();
    let test_mark = memchr::memmem::find(head, b"s3:TestEvent").is_some();
    if !s3_mark && !test_mark {
        return None;
    }
    let v: Value = serde_json::from_slice(event).ok()?;
    if v["Event"] == "s3:TestEvent" {
        return Some(Vec::new());
    }
    if v["source"] == "aws.s3" {
        let d = &v["detail"];
        return match (d["bucket"]["name"].as_str(), d["object"]["key"].as_str()) {
            (Some(b), Some(k)) if v["detail-type"] == "Object Created" => Some(vec![ObjectRef {
                bucket: b.to_owned(),
                key: k.to_owned(),
            }]),
            _ => Some(Vec::new()),
        };
    }
    let records = v["Records"].as_array()?;
    if !records.iter().all(|r| r["eventSource"] == "aws:s3") {
        return None;
    }
    Some(
        records
            .iter()
            .filter(|r| {
                r["eventName"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("ObjectCreated:"))
            })
            .filter_map(|r| {
                Some(ObjectRef {
                    bucket: r["s3"]["bucket"]["name"].as_str()?.to_owned(),
                    key: url_decode_key(r["s3"]["object"]["key"].as_str()?),
                })
            })
            .collect(),
    )
}

/// An S3 event notification's object key, decoded (`+` is a space, `%XX` a byte).
fn url_decode_key(key: &str) -> String {
    let b = key.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let hex = |c: u8| (c as char).to_digit(16);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads `object` with `client` (bounded by [`MAX_OBJECT_BYTES`]).
pub async fn fetch(
    client: &aws_sdk_s3::Client,
    object: &ObjectRef,
) -> Result<Vec<u8>, ObjectError> {
    let get = |reason: String| ObjectError::Get {
        bucket: object.bucket.clone(),
        key: object.key.clone(),
        reason,
    };
    let out = client
        .get_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .send()
        .await
        .map_err(|e| {
            get(crate::detect::one_line(
                &aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
            ))
        })?;
    let size = out.content_length().unwrap_or(0).max(0) as u64;
    if size > MAX_OBJECT_BYTES {
        return Err(ObjectError::TooLarge {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            size,
        });
    }
    let mut body = out.body;
    let mut bytes = Vec::with_capacity(size as usize);
    while let Some(chunk) = body.try_next().await.map_err(|e| get(e.to_string()))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > MAX_OBJECT_BYTES {
            return Err(ObjectError::TooLarge {
                bucket: object.bucket.clone(),
                key: object.key.clone(),
                size: bytes.len() as u64,
            });
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_notifications_name_their_objects_with_keys_decoded() {
        let e = br#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"trail-bucket","arn":"arn:aws:s3:::trail-bucket"},"object":{"key":"AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/123456789012_CloudTrail_us-east-1_20261125T1005Z_a%2Bb+c.json.gz","size":1024}}}]}"#;
        let o = objects_of(e).expect("an S3 event");
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].bucket, "trail-bucket");
        assert!(o[0].key.ends_with("_a+b c.json.gz"), "{}", o[0].key);
        assert!(o[0].is_trail_log());
    }

    #[test]
    fn eventbridge_object_created_names_its_object() {
        // The shape of AWS's documented example, with every field it has.
        let event = |key: &str| {
            format!(
                r#"{{"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3","account":"123456789012","time":"2026-11-25T10:05:12Z","region":"us-east-1","resources":["arn:aws:s3:::trail-bucket"],"detail":{{"version":"0","bucket":{{"name":"trail-bucket"}},"object":{{"key":"{key}","size":5213,"etag":"b1946ac92492d2347c6235b4d2611184","sequencer":"00617F08299329D189"}},"request-id":"N4N7GDK58NMKJ12R","requester":"cloudtrail.amazonaws.com","source-ip-address":"cloudtrail.amazonaws.com","reason":"PutObject"}}}}"#
            )
        };
        let log = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/123456789012_CloudTrail_us-east-1_20261125T1005Z_GpWGI8fAUBctBiKB.json.gz";
        let o = objects_of(event(log).as_bytes()).expect("an S3 event");
        assert_eq!(
            o,
            vec![ObjectRef {
                bucket: "trail-bucket".into(),
                key: log.into()
            }]
        );
        assert!(o[0].is_trail_log());
        let digest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/25/x.json.gz";
        let o = objects_of(event(digest).as_bytes()).expect("an S3 event");
        assert!(!o[0].is_trail_log(), "a digest file is not a log file");
        // Another S3 event type names nothing to read.
        let deleted = event(log).replace("Object Created", "Object Deleted");
        assert_eq!(objects_of(deleted.as_bytes()), Some(vec![]));
    }

    #[test]
    fn other_events_are_not_s3_events() {
        assert_eq!(
            objects_of(br#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#),
            Some(vec![])
        );
        assert_eq!(objects_of(br#"{"awslogs":{"data":"H4sI"}}"#), None);
        assert_eq!(
            objects_of(br#"{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"eA=="}}]}"#),
            None
        );
        // A Kinesis record whose data happens to say aws:s3 is still a Kinesis event.
        assert_eq!(
            objects_of(
                br#"{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"\"aws:s3\""}}]}"#
            ),
            None
        );
    }

    #[test]
    fn keys_decode_every_escape_and_keep_broken_ones() {
        assert_eq!(url_decode_key("a%20b+c%2F%"), "a b c/%");
        assert_eq!(url_decode_key("%zz%4"), "%zz%4");
    }
}

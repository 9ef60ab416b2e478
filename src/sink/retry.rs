//! The one publishing policy every publisher follows: a batch of entries is sent with one
//! call; a call that fails as a whole is retried while the failure is retryable (throttling,
//! a service error, the network); entries the service failed for a reason on its side are
//! retried alone; entries it refused for good are set aside (counted, never blocking the
//! others); after [`RetryPolicy::attempts`] what is left is unpublished, the run fails and
//! Lambda retries it. Backoff grows fourfold per attempt.

use std::future::Future;
use std::time::Duration;

use super::{PublishError, PublishReport, Undeliverable};
use crate::alert::Alert;
use crate::error::AwsErrorKind;

/// How one entry of a call came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Delivered.
    Delivered,
    /// Failed for a reason on the service's side: retried.
    Retry(AwsErrorKind, String),
    /// Refused for good (too large, invalid): set aside.
    Refused(String),
}

/// What one call gave: an outcome per entry sent (in the order sent), or the call's own
/// failure (its kind and the service's message).
pub type CallResult = Result<Vec<Entry>, (AwsErrorKind, String)>;

/// Attempts and backoff, the same for every publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls per batch at most.
    pub attempts: u32,
    /// Wait before the second call; each later wait is four times the one before.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            backoff: Duration::from_millis(100),
        }
    }
}

/// What became of one batch.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Entries delivered.
    pub delivered: usize,
    /// Entries refused for good, with the reason.
    pub refused: Vec<(usize, String)>,
    /// Entries not delivered after every attempt.
    pub unpublished: Vec<usize>,
    /// The last failure seen (kind and message), if any.
    pub last: Option<(AwsErrorKind, String)>,
}

impl RetryPolicy {
    /// Sends the entries `batch` (indices into the caller's list) with `call`, under the
    /// policy. `call` gets the entries of one attempt and answers for each of them.
    pub async fn deliver<F, Fut>(&self, batch: Vec<usize>, mut call: F) -> Delivered
    where
        F: FnMut(Vec<usize>) -> Fut,
        Fut: Future<Output = CallResult>,
    {
        let mut out = Delivered::default();
        let mut pending = batch;
        for attempt in 0..self.attempts.max(1) {
            if pending.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(self.backoff * 4u32.pow(attempt - 1)).await;
            }
            match call(pending.clone()).await {
                Err((kind, message)) => {
                    let retryable = kind.retryable();
                    out.last = Some((kind, message));
                    if !retryable {
                        break;
                    }
                }
                Ok(entries) => {
                    let mut retry = Vec::new();
                    for (i, e) in pending
                        .iter()
                        .zip(entries.into_iter().chain(std::iter::repeat(Entry::Retry(
                            AwsErrorKind::Other,
                            "no answer for this entry".into(),
                        ))))
                    {
                        match e {
                            Entry::Delivered => out.delivered += 1,
                            Entry::Refused(reason) => out.refused.push((*i, reason)),
                            Entry::Retry(kind, message) => {
                                out.last = Some((kind, message));
                                retry.push(*i);
                            }
                        }
                    }
                    pending = retry;
                }
            }
        }
        out.unpublished = pending;
        out
    }
}

/// The report of a publisher's run, or the error naming what it could not deliver.
pub fn conclude(
    sink: &'static str,
    target: &str,
    alerts: &[&Alert],
    batches: Vec<Delivered>,
    mut report: PublishReport,
) -> Result<PublishReport, PublishError> {
    let mut unpublished = Vec::new();
    let mut last = None;
    for b in batches {
        report.published += b.delivered;
        report
            .undeliverable
            .extend(b.refused.into_iter().map(|(i, reason)| Undeliverable {
                id: alerts[i].id.clone(),
                reason,
            }));
        unpublished.extend(b.unpublished.iter().map(|&i| alerts[i].id.clone()));
        if !b.unpublished.is_empty() {
            last = b.last.or(last);
        }
    }
    if unpublished.is_empty() {
        return Ok(report);
    }
    let (kind, cause) = last.unwrap_or((AwsErrorKind::Other, "not delivered".into()));
    Err(PublishError {
        sink,
        target: target.to_owned(),
        kind,
        cause,
        unpublished,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            backoff: Duration::from_millis(1),
        }
    }

    #[tokio::test]
    async fn a_throttled_call_is_retried_and_a_refused_entry_set_aside() {
        let mut calls = 0;
        let d = policy()
            .deliver(vec![0, 1, 2], |sent| {
                calls += 1;
                let n = calls;
                async move {
                    match n {
                        1 => Err((AwsErrorKind::Throttled, "slow down".into())),
                        2 => Ok(vec![
                            Entry::Delivered,
                            Entry::Refused("too large".into()),
                            Entry::Retry(AwsErrorKind::Other, "internal".into()),
                        ]),
                        _ => {
                            assert_eq!(sent, vec![2], "only the failed entry is sent again");
                            Ok(vec![Entry::Delivered])
                        }
                    }
                }
            })
            .await;
        assert_eq!(calls, 3);
        assert_eq!(d.delivered, 2);
        assert_eq!(d.refused, vec![(1, "too large".to_owned())]);
        assert!(d.unpublished.is_empty());
    }

    #[tokio::test]
    async fn a_call_that_cannot_succeed_is_not_retried_and_nothing_is_lost() {
        let mut calls = 0;
        let d = policy()
            .deliver(vec![0, 1], |_| {
                calls += 1;
                async { Err((AwsErrorKind::AccessDenied, "no".into())) }
            })
            .await;
        assert_eq!(calls, 1);
        assert_eq!(d.unpublished, vec![0, 1]);
        let failing = policy()
            .deliver(vec![0], |_| async {
                Err((AwsErrorKind::Throttled, "slow".into()))
            })
            .await;
        assert_eq!(failing.unpublished, vec![0]);
    }
}

//! What kind of failure an AWS call met, kept with every sink and store error so that a
//! throttled request, a missing resource and a refused permission are told apart (in logs,
//! in the invocation report, and by whoever decides to retry).

use std::fmt;

// Every AWS SDK crate re-exports the same smithy error types.
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};

/// The kind of an AWS service failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AwsErrorKind {
    /// The service throttled the request (past the SDK's retries): retrying later helps.
    Throttled,
    /// The table, topic, bus or secret does not exist.
    NotFound,
    /// The caller lacks the permission.
    AccessDenied,
    /// The service could not be reached (network, endpoint down, timeout).
    Unreachable,
    /// The request was refused as invalid.
    Invalid,
    /// Anything else.
    Other,
}

impl AwsErrorKind {
    /// Classifies an AWS error code (`ThrottlingException`, `ResourceNotFoundException` ...).
    pub fn from_code(code: Option<&str>) -> Self {
        let Some(code) = code else {
            return AwsErrorKind::Unreachable;
        };
        let c = code.to_ascii_lowercase();
        if c.contains("throttl")
            || c.contains("throughputexceeded")
            || c.contains("limitexceeded")
            || c.contains("toomanyrequests")
            || c == "slowdown"
        {
            AwsErrorKind::Throttled
        } else if c.contains("notfound") || c.contains("nonexistent") || c.contains("nosuch") {
            AwsErrorKind::NotFound
        } else if c.contains("accessdenied")
            || c.contains("authorization")
            || c.contains("unrecognizedclient")
            || c.contains("invalidclienttokenid")
            || c.contains("expiredtoken")
            || c.contains("signaturedoesnotmatch")
        {
            AwsErrorKind::AccessDenied
        } else if c.contains("validation") || c.contains("invalid") || c.contains("malformed") {
            AwsErrorKind::Invalid
        } else {
            AwsErrorKind::Other
        }
    }

    /// Whether retrying the same request later can succeed.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            AwsErrorKind::Throttled | AwsErrorKind::Unreachable | AwsErrorKind::Other
        )
    }

    /// A short stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            AwsErrorKind::Throttled => "throttled",
            AwsErrorKind::NotFound => "not found",
            AwsErrorKind::AccessDenied => "access denied",
            AwsErrorKind::Unreachable => "unreachable",
            AwsErrorKind::Invalid => "invalid request",
            AwsErrorKind::Other => "failed",
        }
    }
}

impl fmt::Display for AwsErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind and one-line text of an SDK error (its service code and message, and its
/// sources, on one line).
pub fn classify<E, R>(e: &SdkError<E, R>) -> (AwsErrorKind, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    let kind = match e {
        SdkError::ServiceError(s) => AwsErrorKind::from_code(s.err().code()),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => AwsErrorKind::Unreachable,
        SdkError::ResponseError(_) => AwsErrorKind::Other,
        _ => AwsErrorKind::Other,
    };
    let text = match e {
        SdkError::ServiceError(s) => match (s.err().code(), s.err().message()) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.to_owned(),
            _ => chain_text(e),
        },
        _ => chain_text(e),
    };
    (kind, text)
}

/// An error and its sources on one line.
pub fn chain_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        use AwsErrorKind::*;
        for (code, kind) in [
            ("ThrottlingException", Throttled),
            ("ProvisionedThroughputExceededException", Throttled),
            ("RequestLimitExceeded", Throttled),
            ("Throttling", Throttled),
            ("ResourceNotFoundException", NotFound),
            ("NotFound", NotFound),
            ("AccessDeniedException", AccessDenied),
            ("AuthorizationError", AccessDenied),
            ("ValidationException", Invalid),
            ("InternalServerError", Other),
        ] {
            assert_eq!(AwsErrorKind::from_code(Some(code)), kind, "{code}");
        }
        assert_eq!(AwsErrorKind::from_code(None), Unreachable);
        assert!(Throttled.retryable() && !NotFound.retryable() && !AccessDenied.retryable());
    }
}

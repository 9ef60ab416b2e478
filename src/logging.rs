//! Diagnostic logging for both binaries: `LOGWARDEN_LOG` (an `EnvFilter`, default given by
//! the binary) with the libraries that could log payloads held down whatever it says.
//!
//! At trace level the Lambda runtime logs raw event bodies (the encoded logs, secrets
//! included) and the AWS SDK logs request and response bodies (a Secrets Manager response
//! holds the fingerprint key). Their targets are capped at `info` by directives added after
//! the user's, which replace any the user gave for the same target.

use tracing_subscriber::EnvFilter;

/// Targets that never log below `info`.
pub const CAPPED_TARGETS: &[&str] = &[
    "lambda_runtime",
    "lambda_runtime_api_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_types",
    "aws_config",
    "aws_sigv4",
    "aws_sdk_sns",
    "aws_sdk_dynamodb",
    "aws_sdk_cloudwatch",
    "aws_sdk_secretsmanager",
    "aws_sdk_securityhub",
    "aws_sdk_eventbridge",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
];

/// The filter: `LOGWARDEN_LOG` (else `default`), with [`CAPPED_TARGETS`] at `info` at most.
pub fn filter(spec: Option<&str>, default: &str) -> EnvFilter {
    let mut f = spec
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    for t in CAPPED_TARGETS {
        if let Ok(d) = format!("{t}=info").parse() {
            f = f.add_directive(d);
        }
    }
    f
}

/// Installs the subscriber on stderr (the CLI) or stdout without colours or times (the
/// Lambda, whose runtime adds them).
pub fn init(default: &str, lambda: bool) {
    let spec = std::env::var("LOGWARDEN_LOG").ok();
    let f = filter(spec.as_deref(), default);
    if lambda {
        tracing_subscriber::fmt()
            .with_env_filter(f)
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(f)
            .with_writer(std::io::stderr)
            .init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_and_sdk_targets_stay_at_info_even_when_trace_is_asked() {
        let f = filter(Some("trace,lambda_runtime=trace"), "info").to_string();
        assert!(f.contains("lambda_runtime=info"), "{f}");
        assert!(!f.contains("lambda_runtime=trace"), "{f}");
        assert!(f.contains("aws_smithy_runtime=info"), "{f}");
    }
}

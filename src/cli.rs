//! The `logwarden` command line: what a user can type (clap definitions). `main.rs` does it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use logwarden::Severity;

#[derive(Parser, Debug)]
#[command(
    name = "logwarden",
    version,
    about = "Security log analyzer for AWS CloudWatch Logs"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Replay log files, directories or stdin through the detectors and print the alerts.
    Replay(ReplayArgs),
    /// Work with detector files.
    #[command(subcommand)]
    Detectors(DetectorsCommand),
    /// Print the keyed fingerprint of a value read on stdin (to check a suspected secret).
    Fingerprint(KeyArgs),
    /// For each log event: which rules' keywords hit, which regexes confirmed, which
    /// allowlists, validators and suppressions applied, and why it did or did not alert.
    Explain(ExplainArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ExplainArgs {
    /// Files (`-` or nothing for stdin).
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) detectors: DetectorArgs,
    #[command(flatten)]
    pub(crate) key: KeyArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    /// A readable table.
    Text,
    /// JSON Lines, one alert per line.
    Json,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct DetectorArgs {
    /// Extra detector file or directory (repeatable), on top of the built-in set; a
    /// gitleaks.toml loads as-is.
    #[arg(long = "detectors", value_name = "PATH")]
    pub(crate) detectors: Vec<PathBuf>,
    /// Use only the --detectors files.
    #[arg(long)]
    pub(crate) no_builtin: bool,
    /// Suppressions file (repeatable; `suppressions.toml` in a detectors directory loads too).
    #[arg(long = "suppressions", value_name = "FILE")]
    pub(crate) suppressions: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct KeyArgs {
    /// Secrets Manager secret (name or ARN) holding the fingerprint key; default: the local
    /// key file (created 0600 on first use).
    #[arg(long, value_name = "ID")]
    pub(crate) fingerprint_key_secret: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct ReplayArgs {
    /// Files or directories (recursive); `-` or nothing for stdin.
    pub(crate) paths: Vec<PathBuf>,
    /// Output format. Default: text on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub(crate) format: Option<Format>,
    /// Exit 1 if any alert is at or above this severity.
    #[arg(long, default_value = "low")]
    pub(crate) fail_on: Severity,
    /// Drop alerts below this severity from the output.
    #[arg(long, default_value = "low")]
    pub(crate) min_severity: Severity,
    #[command(flatten)]
    pub(crate) detectors: DetectorArgs,
    #[command(flatten)]
    pub(crate) key: KeyArgs,
    /// Log group given to plain-text and JSON Lines input (default: the file name).
    #[arg(long)]
    pub(crate) log_group: Option<String>,
    /// Log stream given to plain-text and JSON Lines input (default: the path).
    #[arg(long)]
    pub(crate) log_stream: Option<String>,
    /// Print a processing summary on stderr at the end.
    #[arg(long)]
    pub(crate) stats: bool,
    /// Threads that decode and scan inputs (default: every core); the output is the same
    /// whatever the number.
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Also publish the alerts to this SNS topic, for real.
    #[arg(long, value_name = "ARN")]
    pub(crate) sns_topic_arn: Option<String>,
    /// Also publish metrics to CloudWatch under this namespace (PutMetricData).
    #[arg(long, value_name = "NS")]
    pub(crate) metrics_namespace: Option<String>,
    /// Share correlation windows through this DynamoDB table (partition key `pk`, a string).
    #[arg(long, value_name = "NAME")]
    pub(crate) window_table: Option<String>,
    /// Also import every alert into AWS Security Hub (ASFF findings).
    #[arg(long)]
    pub(crate) securityhub: bool,
    /// Also put every alert on this EventBridge bus (name or ARN) as an OCSF Detection Finding.
    #[arg(long, value_name = "NAME")]
    pub(crate) event_bus: Option<String>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum DetectorsCommand {
    /// Run every rule's inline examples; exits non-zero on any failure. Without paths, checks
    /// the built-in set.
    Check {
        /// Detector files or directories to check instead of the built-in set.
        paths: Vec<PathBuf>,
    },
    /// List the rules.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[command(flatten)]
        detectors: DetectorArgs,
    },
}

//! The `logwarden` command line: what a user can type (clap definitions). `main.rs` does it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use logwarden::Severity;
use logwarden::settings::Settings;
use logwarden::sink::sns::SnsFormat;

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
    /// Output format: text for people, or JSON (one object per event: log_group, event_id,
    /// the alerts replay would send for it, every decision and the reasons).
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: Format,
    #[command(flatten)]
    pub(crate) naming: NamingArgs,
    #[command(flatten)]
    pub(crate) settings: SettingsArgs,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct NamingArgs {
    /// Log group given to plain-text and JSON Lines input (default: the file name).
    #[arg(long)]
    pub(crate) log_group: Option<String>,
    /// Log stream given to plain-text and JSON Lines input (default: the path).
    #[arg(long)]
    pub(crate) log_stream: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum SnsFormatArg {
    /// logwarden's alert JSON (and a text body for e-mail).
    Json,
    /// The AWS Chatbot custom-notification format, for chat channels.
    Chatbot,
}

/// The settings replay and explain share with the Lambda (every one also has an environment
/// variable there: docs/interface.md).
#[derive(Args, Debug, Clone)]
pub(crate) struct SettingsArgs {
    #[command(flatten)]
    pub(crate) detectors: DetectorArgs,
    #[command(flatten)]
    pub(crate) key: KeyArgs,
    /// Drop alerts below this severity from the output.
    #[arg(long, default_value = "low")]
    pub(crate) min_severity: Severity,
    /// Storm control: `off` lists every alert (forensics, rule testing).
    #[arg(long, value_enum, default_value = "on")]
    pub(crate) storm_control: OnOff,
    /// Storm control: alerts of one rule, principal and value that go out at once.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub(crate) storm_burst: u32,
    /// Storm control: after the burst, one more alert of a key per this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub(crate) storm_period: u64,
    /// A log group never analysed (repeatable).
    #[arg(long = "ignore-log-group", value_name = "NAME")]
    pub(crate) ignore_log_groups: Vec<String>,
    /// A log group (glob with `*`) holding CloudTrail records (repeatable); streams named
    /// `<account>_CloudTrail_<region>` are CloudTrail anyway.
    #[arg(long = "cloudtrail-log-group", value_name = "GLOB")]
    pub(crate) cloudtrail_log_groups: Vec<String>,
    /// An account whose principals are not outsiders (repeatable; default: the record's own
    /// account).
    #[arg(long = "trusted-account", value_name = "ID")]
    pub(crate) trusted_accounts: Vec<String>,
    /// One of logwarden's own resources by exact ARN (repeatable: function, topic, key secret,
    /// window table, stream, bus), for the self-protection rules.
    #[arg(long = "own-resource", value_name = "ARN")]
    pub(crate) own_resources: Vec<String>,
    /// Longest message scanned (longer ones are scanned in part).
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024)]
    pub(crate) max_message_bytes: usize,
    /// Threads that decode and scan inputs (default: every core); the output is the same
    /// whatever the number.
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Opt-in: ask providers whether found keys are live (read-only calls, bounded, cached
    /// by fingerprint).
    #[arg(long)]
    pub(crate) verify: bool,
    /// Where --verify asks a provider instead of its public API (repeatable, PROVIDER=URL;
    /// providers: aws, github, slack, stripe, openai): a proxy or a test double.
    #[arg(long = "verify-endpoint", value_name = "PROVIDER=URL")]
    pub(crate) verify_endpoints: Vec<String>,
    /// Also publish the alerts to this SNS topic, for real.
    #[arg(long, value_name = "ARN")]
    pub(crate) sns_topic_arn: Option<String>,
    /// The SNS message body.
    #[arg(long, value_enum, default_value = "json")]
    pub(crate) sns_format: SnsFormatArg,
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

impl SettingsArgs {
    /// The settings these flags give.
    pub(crate) fn settings(&self) -> Result<Settings, logwarden::settings::ConfigError> {
        let s = Settings {
            detectors: self.detectors.detectors.clone(),
            builtin: !self.detectors.no_builtin,
            suppressions: self.detectors.suppressions.clone(),
            min_severity: self.min_severity,
            storm_control: self.storm_control == OnOff::On,
            storm_burst: self.storm_burst,
            storm_period_secs: self.storm_period,
            ignore_log_groups: self.ignore_log_groups.clone(),
            cloudtrail_log_groups: self.cloudtrail_log_groups.clone(),
            trusted_accounts: self.trusted_accounts.clone(),
            own_resources: self.own_resources.clone(),
            max_message_bytes: self.max_message_bytes,
            sns_topic_arn: self.sns_topic_arn.clone(),
            sns_format: match self.sns_format {
                SnsFormatArg::Json => SnsFormat::Json,
                SnsFormatArg::Chatbot => SnsFormat::Chatbot,
            },
            securityhub: self.securityhub,
            event_bus: self.event_bus.clone(),
            metrics_namespace: self.metrics_namespace.clone(),
            window_table: self.window_table.clone(),
            fingerprint_key_secret: self.key.fingerprint_key_secret.clone(),
            verify: self.verify,
            verify_endpoints: self.verify_endpoints.clone(),
            threads: self.threads,
        };
        s.check()?;
        Ok(s)
    }
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
    #[command(flatten)]
    pub(crate) naming: NamingArgs,
    /// Print a processing summary on stderr at the end.
    #[arg(long)]
    pub(crate) stats: bool,
    #[command(flatten)]
    pub(crate) settings: SettingsArgs,
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

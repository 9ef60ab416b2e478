//! One settings model for both front ends: [`Settings`] is filled by the CLI from its flags and
//! by the Lambda from its environment ([`Settings::from_lookup`]), so every knob exists in
//! both ([`KNOBS`] lists each with its flag and variable). What is built from them once per
//! process (detector set, fingerprint key, publishers, metrics, shared window store) is
//! [`Parts`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::SystemClock;
use crate::correlate::{DynamoWindowStore, SharedWindowStore};
use crate::decode::Limits;
use crate::detect::{DetectorError, DetectorSet};
use crate::driver::{Driver, MetricsOut, OutputChoice, Outputs};
use crate::engine::Engine;
use crate::mask::Fingerprinter;
use crate::pipeline::{Config, Pipeline};
use crate::policy::{PolicyConfig, StormConfig};
use crate::record::Sources;
use crate::severity::Severity;
use crate::sink::sns::SnsFormat;

/// Every setting: its name, its CLI flag and its Lambda environment variable.
pub const KNOBS: &[(&str, &str, &str)] = &[
    ("detectors", "--detectors", "DETECTORS_DIR"),
    ("builtin", "--no-builtin", "BUILTIN_DETECTORS"),
    ("suppressions", "--suppressions", "SUPPRESSIONS_FILE"),
    ("min_severity", "--min-severity", "MIN_SEVERITY"),
    ("storm_control", "--storm-control", "STORM_CONTROL"),
    ("storm_burst", "--storm-burst", "STORM_BURST"),
    (
        "storm_period_secs",
        "--storm-period",
        "STORM_PERIOD_SECONDS",
    ),
    (
        "ignore_log_groups",
        "--ignore-log-group",
        "IGNORE_LOG_GROUPS",
    ),
    (
        "cloudtrail_log_groups",
        "--cloudtrail-log-group",
        "CLOUDTRAIL_LOG_GROUPS",
    ),
    ("trusted_accounts", "--trusted-account", "TRUSTED_ACCOUNTS"),
    ("own_resources", "--own-resource", "OWN_RESOURCES"),
    (
        "max_message_bytes",
        "--max-message-bytes",
        "MAX_MESSAGE_BYTES",
    ),
    ("sns_topic_arn", "--sns-topic-arn", "ALERT_TOPIC_ARN"),
    ("sns_format", "--sns-format", "SNS_FORMAT"),
    ("securityhub", "--securityhub", "SECURITYHUB_FINDINGS"),
    ("event_bus", "--event-bus", "EVENT_BUS_NAME"),
    (
        "metrics_namespace",
        "--metrics-namespace",
        "METRICS_NAMESPACE",
    ),
    ("window_table", "--window-table", "WINDOW_TABLE"),
    (
        "fingerprint_key_secret",
        "--fingerprint-key-secret",
        "FINGERPRINT_KEY_SECRET",
    ),
    ("verify", "--verify", "VERIFY_SECRETS"),
    ("verify_endpoints", "--verify-endpoint", "VERIFY_ENDPOINTS"),
    ("threads", "--threads", "THREADS"),
];

/// Every setting of an invocation (see [`KNOBS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Extra detector files or directories, on top of the built-in set.
    pub detectors: Vec<PathBuf>,
    /// Load the built-in detectors (`--no-builtin`, `BUILTIN_DETECTORS=false`: only the
    /// extra ones).
    pub builtin: bool,
    /// Suppressions files (besides `suppressions.toml` in a detectors directory).
    pub suppressions: Vec<PathBuf>,
    /// Alerts below this severity are dropped.
    pub min_severity: Severity,
    /// Storm control on (default) or off (every alert listed: forensics, rule testing).
    pub storm_control: bool,
    /// Storm control: alerts of one key that may go out at once.
    pub storm_burst: u32,
    /// Storm control: after the burst, one more alert of a key per this many seconds.
    pub storm_period_secs: u64,
    /// Log groups never analysed (the function's own log group is added by the Lambda).
    pub ignore_log_groups: Vec<String>,
    /// Log groups (globs) that hold CloudTrail records, besides the streams CloudTrail names
    /// itself (`<account>_CloudTrail_<region>`).
    pub cloudtrail_log_groups: Vec<String>,
    /// Accounts whose principals are not outsiders (default: the record's own account).
    pub trusted_accounts: Vec<String>,
    /// logwarden's own resources by exact ARN (function, topic, key secret, window table,
    /// stream, bus): self-protection rules know them by identity, not by a name.
    pub own_resources: Vec<String>,
    /// Longest message scanned (longer ones are scanned in part).
    pub max_message_bytes: usize,
    /// SNS topic alerts are published to.
    pub sns_topic_arn: Option<String>,
    /// The SNS message body: logwarden's JSON, or AWS Chatbot's custom notification.
    pub sns_format: SnsFormat,
    /// Import every alert into Security Hub (ASFF).
    pub securityhub: bool,
    /// EventBridge bus for OCSF Detection Findings.
    pub event_bus: Option<String>,
    /// CloudWatch metrics namespace (the Lambda writes EMF lines; the CLI calls
    /// PutMetricData when one is given).
    pub metrics_namespace: Option<String>,
    /// DynamoDB table sharing correlation windows across instances.
    pub window_table: Option<String>,
    /// Secrets Manager secret holding the fingerprint key.
    pub fingerprint_key_secret: Option<String>,
    /// Ask providers whether found keys are live (opt-in, see [`crate::verify`]).
    pub verify: bool,
    /// Where `--verify` asks a provider instead of its public API (`provider=URL`: a proxy,
    /// a test double).
    pub verify_endpoints: Vec<String>,
    /// Threads that decode and scan (default: every core the process has).
    pub threads: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        let storm = StormConfig::default();
        Settings {
            detectors: Vec::new(),
            builtin: true,
            suppressions: Vec::new(),
            min_severity: Severity::Low,
            storm_control: true,
            storm_burst: storm.burst,
            storm_period_secs: storm.period.as_secs(),
            ignore_log_groups: Vec::new(),
            cloudtrail_log_groups: Vec::new(),
            trusted_accounts: Vec::new(),
            own_resources: Vec::new(),
            max_message_bytes: Limits::default().max_message_bytes,
            sns_topic_arn: None,
            sns_format: SnsFormat::Json,
            securityhub: false,
            event_bus: None,
            metrics_namespace: None,
            window_table: None,
            fingerprint_key_secret: None,
            verify: false,
            verify_endpoints: Vec::new(),
            threads: None,
        }
    }
}

/// Why the settings could not be used, or what they name could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting has a value that cannot be used.
    #[error("{name}: {msg}")]
    Invalid {
        /// The variable or flag.
        name: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// The detectors could not be loaded.
    #[error(transparent)]
    Detectors(#[from] DetectorError),
    /// The fingerprint key could not be had.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    /// A publisher could not be set up (STS for the findings sinks' account).
    #[error(transparent)]
    Outputs(#[from] crate::sink::PublishError),
}

fn invalid(name: &'static str, msg: String) -> ConfigError {
    ConfigError::Invalid { name, msg }
}

/// A comma-separated list, trimmed, without empty items.
fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn boolean(name: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" => Ok(false),
        other => Err(invalid(name, format!("`{other}` is not true or false"))),
    }
}

fn number<T: std::str::FromStr>(name: &'static str, v: &str) -> Result<T, ConfigError> {
    v.parse()
        .map_err(|_| invalid(name, format!("`{v}` is not a number")))
}

impl Settings {
    /// Reads the Lambda's settings through `get` (the process environment in production).
    /// The function's own log group (`AWS_LAMBDA_LOG_GROUP_NAME`) is never analysed, and the
    /// metrics namespace defaults to `Logwarden`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut s = Settings {
            metrics_namespace: Some("Logwarden".into()),
            ..Settings::default()
        };
        if let Some(v) = get("DETECTORS_DIR") {
            s.detectors = v
                .split(':')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect();
        }
        if let Some(v) = get("BUILTIN_DETECTORS") {
            s.builtin = boolean("BUILTIN_DETECTORS", &v)?;
        }
        if let Some(v) = get("SUPPRESSIONS_FILE") {
            s.suppressions = v
                .split(':')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect();
        }
        if let Some(v) = get("MIN_SEVERITY") {
            s.min_severity = v.parse().map_err(|m| invalid("MIN_SEVERITY", m))?;
        }
        if let Some(v) = get("STORM_CONTROL") {
            s.storm_control = boolean("STORM_CONTROL", &v)?;
        }
        if let Some(v) = get("STORM_BURST") {
            s.storm_burst = number("STORM_BURST", &v)?;
        }
        if let Some(v) = get("STORM_PERIOD_SECONDS") {
            s.storm_period_secs = number("STORM_PERIOD_SECONDS", &v)?;
        }
        s.ignore_log_groups = get("IGNORE_LOG_GROUPS")
            .map(|v| list(&v))
            .unwrap_or_default();
        s.ignore_log_groups.extend(get("AWS_LAMBDA_LOG_GROUP_NAME"));
        s.cloudtrail_log_groups = get("CLOUDTRAIL_LOG_GROUPS")
            .map(|v| list(&v))
            .unwrap_or_default();
        s.trusted_accounts = get("TRUSTED_ACCOUNTS")
            .map(|v| list(&v))
            .unwrap_or_default();
        s.own_resources = get("OWN_RESOURCES").map(|v| list(&v)).unwrap_or_default();
        if let Some(v) = get("MAX_MESSAGE_BYTES") {
            s.max_message_bytes = number("MAX_MESSAGE_BYTES", &v)?;
        }
        s.sns_topic_arn = get("ALERT_TOPIC_ARN");
        if let Some(v) = get("SNS_FORMAT") {
            s.sns_format = v.parse().map_err(|m| invalid("SNS_FORMAT", m))?;
        }
        if let Some(v) = get("SECURITYHUB_FINDINGS") {
            s.securityhub = boolean("SECURITYHUB_FINDINGS", &v)?;
        }
        s.event_bus = get("EVENT_BUS_NAME");
        if let Some(v) = get("METRICS_NAMESPACE") {
            s.metrics_namespace = Some(v);
        }
        s.window_table = get("WINDOW_TABLE");
        s.fingerprint_key_secret = get("FINGERPRINT_KEY_SECRET");
        if let Some(v) = get("VERIFY_SECRETS") {
            s.verify = boolean("VERIFY_SECRETS", &v)?;
        }
        s.verify_endpoints = get("VERIFY_ENDPOINTS")
            .map(|v| list(&v))
            .unwrap_or_default();
        if let Some(v) = get("THREADS") {
            s.threads = Some(number("THREADS", &v)?);
        }
        s.check()?;
        Ok(s)
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Checks values the types do not: table names, bounds.
    pub fn check(&self) -> Result<(), ConfigError> {
        if let Some(t) = &self.window_table
            && !valid_table_name(t)
        {
            return Err(invalid(
                "WINDOW_TABLE",
                format!(
                    "`{t}` is not a DynamoDB table name (3-255 characters: letters, digits, _ - .) or table ARN"
                ),
            ));
        }
        if !(1024..=16 << 20).contains(&self.max_message_bytes) {
            return Err(invalid(
                "MAX_MESSAGE_BYTES",
                format!("{} is outside 1024..=16777216", self.max_message_bytes),
            ));
        }
        if self.storm_burst == 0 || self.storm_period_secs == 0 {
            return Err(invalid(
                "STORM_BURST",
                "storm control needs a burst and a period of at least 1".into(),
            ));
        }
        if self.threads == Some(0) {
            return Err(invalid("THREADS", "at least 1".into()));
        }
        crate::verify::Endpoints::with_overrides(&self.verify_endpoints)
            .map_err(|m| invalid("VERIFY_ENDPOINTS", m))?;
        if let Some(a) = self
            .trusted_accounts
            .iter()
            .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(
                "TRUSTED_ACCOUNTS",
                format!("`{a}` is not a 12-digit account id"),
            ));
        }
        Ok(())
    }

    /// Loads the detector set these settings name.
    pub fn detectors(&self) -> Result<DetectorSet, ConfigError> {
        Ok(DetectorSet::load(
            &self.detectors,
            self.builtin,
            &self.suppressions,
        )?)
    }

    /// The pipeline configuration these settings give.
    pub fn config(&self) -> Config {
        Config {
            limits: Limits {
                max_message_bytes: self.max_message_bytes,
                ..Limits::default()
            },
            ignore_log_groups: self.ignore_log_groups.clone(),
            policy: PolicyConfig {
                min_severity: self.min_severity,
                storm: self.storm_control.then(|| StormConfig {
                    burst: self.storm_burst,
                    period: Duration::from_secs(self.storm_period_secs),
                    ..StormConfig::default()
                }),
            },
            sources: Sources {
                cloudtrail_log_groups: self.cloudtrail_log_groups.clone(),
                deployment: crate::record::Deployment {
                    trusted_accounts: self.trusted_accounts.clone(),
                    own_resources: self.own_resources.clone(),
                },
            },
            ..Config::default()
        }
    }

    /// The threads to use: the setting, else every core the process may use.
    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        })
    }

    /// The publishers these settings name.
    pub fn output_choice(&self) -> OutputChoice {
        OutputChoice {
            sns_topic: self.sns_topic_arn.clone(),
            sns_format: self.sns_format,
            securityhub: self.securityhub,
            event_bus: self.event_bus.clone(),
        }
    }
}

/// Whether `t` is a DynamoDB table name or table ARN.
fn valid_table_name(t: &str) -> bool {
    if let Some(rest) = t.strip_prefix("arn:") {
        return rest.contains(":dynamodb:") && rest.contains(":table/");
    }
    (3..=255).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// What drivers are built from (again after an invocation stopped half-way): built once per
/// process from [`Settings`].
#[derive(Clone)]
pub struct Parts {
    /// The compiled detectors.
    pub detectors: Arc<DetectorSet>,
    /// Pipeline settings.
    pub config: Config,
    /// The fingerprint key.
    pub fingerprints: Arc<Fingerprinter>,
    /// Where alerts and metrics go.
    pub outputs: Outputs,
    /// The shared window store, with a window table.
    pub store: Option<Arc<dyn SharedWindowStore>>,
    /// `--verify`: where providers are asked, and the AWS settings STS calls start from.
    pub verify: Option<(crate::verify::Endpoints, aws_config::SdkConfig)>,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts")
            .field("config", &self.config)
            .field("outputs", &self.outputs)
            .field("shared", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl Parts {
    /// Builds the Lambda's parts once per cold start: the detector set, the fingerprint key
    /// (from `FINGERPRINT_KEY_SECRET`, else a key of this instance), the publishers, EMF
    /// metrics and the window store.
    pub async fn from_settings(
        settings: &Settings,
        aws: &aws_config::SdkConfig,
    ) -> Result<Parts, ConfigError> {
        let detectors = Arc::new(settings.detectors()?);
        for w in detectors.warnings() {
            tracing::warn!(warning = %w, "detector file");
        }
        for w in detectors
            .suppressions()
            .expired_notices(crate::clock::Clock::now(&SystemClock))
        {
            tracing::warn!(warning = %w, "suppression");
        }
        let fingerprints = match &settings.fingerprint_key_secret {
            Some(secret) => {
                let client = aws_sdk_secretsmanager::Client::new(aws);
                crate::keys::from_secret(&client, secret).await?
            }
            None => {
                tracing::warn!(
                    "FINGERPRINT_KEY_SECRET is not set: fingerprints use a key of this instance only"
                );
                crate::keys::load_or_create(
                    &std::env::temp_dir().join("logwarden-fingerprint.key"),
                )?
            }
        };
        if settings.sns_topic_arn.is_none() {
            tracing::warn!("ALERT_TOPIC_ARN is not set: alerts are not published to SNS");
        }
        let metrics = match &settings.metrics_namespace {
            Some(ns) => MetricsOut::Emf {
                namespace: ns.clone(),
                out: crate::driver::LineOut::stdout(),
            },
            None => MetricsOut::None,
        };
        Self::build(settings, aws, detectors, fingerprints, metrics).await
    }

    /// Builds parts from settings, a loaded detector set and key, and where metrics go
    /// (the Lambda: EMF lines; the CLI: PutMetricData or none).
    pub async fn build(
        settings: &Settings,
        aws: &aws_config::SdkConfig,
        detectors: Arc<DetectorSet>,
        fingerprints: Fingerprinter,
        metrics: MetricsOut,
    ) -> Result<Parts, ConfigError> {
        let outputs = Outputs::build(
            aws,
            &settings.output_choice(),
            detectors.tags_by_rule(),
            metrics,
        )
        .await?;
        let store: Option<Arc<dyn SharedWindowStore>> = settings.window_table.as_ref().map(|t| {
            tracing::info!(table = %t, "correlation windows shared through DynamoDB");
            Arc::new(DynamoWindowStore::new(
                aws_sdk_dynamodb::Client::new(aws),
                t,
            )) as Arc<dyn SharedWindowStore>
        });
        let verify = match settings.verify {
            true => Some((
                crate::verify::Endpoints::with_overrides(&settings.verify_endpoints)
                    .map_err(|m| invalid("VERIFY_ENDPOINTS", m))?,
                aws.clone(),
            )),
            false => None,
        };
        Ok(Parts {
            detectors,
            config: settings.config(),
            fingerprints: Arc::new(fingerprints),
            outputs,
            store,
            verify,
        })
    }

    /// Parts that publish nowhere (a replay without AWS).
    pub fn local(
        settings: &Settings,
        detectors: Arc<DetectorSet>,
        fingerprints: Fingerprinter,
    ) -> Parts {
        Parts {
            detectors,
            config: settings.config(),
            fingerprints: Arc::new(fingerprints),
            outputs: Outputs::default(),
            store: None,
            verify: None,
        }
    }

    /// The stateless engine over these parts (what a replay's workers run).
    pub fn engine(&self) -> Engine {
        Engine::new(
            Arc::clone(&self.detectors),
            Arc::clone(&self.fingerprints),
            self.config.sources.clone(),
        )
        .keeping_keys(self.verify.is_some())
    }

    /// A pipeline over these parts.
    pub fn pipeline(&self) -> Pipeline {
        self.pipeline_with(self.engine())
    }

    /// A pipeline over these parts with `engine` (made by [`Parts::engine`]).
    pub fn pipeline_with(&self, engine: Engine) -> Pipeline {
        Pipeline::with_engine(engine, self.config.clone(), Arc::new(SystemClock))
    }

    /// A driver over these parts.
    pub fn driver(&self) -> Driver {
        self.driver_with(self.engine())
    }

    /// A driver over these parts with `engine` (made by [`Parts::engine`]): a replay hands
    /// the engine to its workers first, and builds the driver while they start.
    pub fn driver_with(&self, engine: Engine) -> Driver {
        let mut driver = Driver::new(self.pipeline_with(engine), self.outputs.clone());
        if let Some((endpoints, aws)) = &self.verify {
            driver =
                driver.with_verifier(crate::verify::Verifier::new(endpoints.clone(), aws.clone()));
        }
        match &self.store {
            Some(s) => driver.with_store(Arc::clone(s)),
            None => driver,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_table_is_read_and_checked() {
        let get = |v: &'static str| move |k: &str| (k == "WINDOW_TABLE").then(|| v.to_owned());
        let s = Settings::from_lookup(get(" logwarden-windows ")).expect("valid");
        assert_eq!(s.window_table.as_deref(), Some("logwarden-windows"));
        let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/w";
        assert_eq!(
            Settings::from_lookup(get(arn))
                .expect("arn")
                .window_table
                .as_deref(),
            Some(arn)
        );
        let e = Settings::from_lookup(get("bad name!"))
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("WINDOW_TABLE")));
        assert_eq!(
            Settings::from_lookup(|_| None)
                .ok()
                .and_then(|s| s.window_table),
            None
        );
    }

    /// Every knob the Lambda reads changes its setting: set each variable to a value that
    /// differs from the default and check the settings differ.
    #[test]
    fn every_environment_variable_is_read() {
        let value = |env: &str| -> &'static str {
            match env {
                "BUILTIN_DETECTORS" | "STORM_CONTROL" => "false",
                "SECURITYHUB_FINDINGS" | "VERIFY_SECRETS" => "true",
                "MIN_SEVERITY" => "high",
                "STORM_BURST" | "STORM_PERIOD_SECONDS" | "THREADS" => "3",
                "MAX_MESSAGE_BYTES" => "4096",
                "SNS_FORMAT" => "chatbot",
                "TRUSTED_ACCOUNTS" => "210987654321",
                "VERIFY_ENDPOINTS" => "github=http://127.0.0.1:9",
                "WINDOW_TABLE" => "windows",
                _ => "x",
            }
        };
        let base = Settings::from_lookup(|_| None).expect("defaults");
        for (field, _, env) in KNOBS {
            let s = Settings::from_lookup(|k| (k == *env).then(|| value(env).to_owned()))
                .unwrap_or_else(|e| panic!("{env}: {e}"));
            assert_ne!(s, base, "{env} does not set {field}");
        }
    }
}

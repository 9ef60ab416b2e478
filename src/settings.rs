//! The Lambda's configuration: [`Settings`] read once from the environment
//! (INTERFACE.md "Lambda"), and the [`Parts`] built from them once per cold start (detector
//! set, fingerprint key, SNS publisher, EMF metrics, shared window store).

use std::path::PathBuf;
use std::sync::Arc;

use crate::alert::Fingerprinter;
use crate::correlate::{DynamoWindowStore, SharedWindowStore};
use crate::detect::{DetectorError, DetectorSet, Severity};
use crate::driver::{Driver, MetricsOut, Outputs};
use crate::pipeline::{Config, Pipeline};

/// Settings from the environment (INTERFACE.md "Lambda").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// `ALERT_TOPIC_ARN`: where alerts are published. Without it alerts are only logged.
    pub topic_arn: Option<String>,
    /// `METRICS_NAMESPACE` (default `Logwarden`).
    pub metrics_namespace: String,
    /// `MIN_SEVERITY` (default `low`).
    pub min_severity: Severity,
    /// `DETECTORS_DIR`: extra detector files.
    pub detectors_dir: Option<PathBuf>,
    /// `AWS_LAMBDA_LOG_GROUP_NAME`: the function's own log group, never analysed.
    pub own_log_group: Option<String>,
    /// `WINDOW_TABLE`: the DynamoDB table that shares correlation windows across instances.
    pub window_table: Option<String>,
    /// `FINGERPRINT_KEY_SECRET`: the Secrets Manager secret holding the fingerprint key.
    pub fingerprint_key_secret: Option<String>,
    /// `SECURITYHUB_FINDINGS=true`: import every alert into Security Hub.
    pub securityhub_findings: bool,
    /// `EVENT_BUS_NAME`: put OCSF findings on this EventBridge bus.
    pub event_bus_name: Option<String>,
}

/// Why the function could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("environment variable {name}: {msg}")]
    Invalid {
        /// The variable.
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

impl Settings {
    /// Reads the settings through `get` (the process environment in production).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let window_table = non_empty("WINDOW_TABLE");
        if let Some(t) = &window_table
            && !valid_table_name(t)
        {
            return Err(ConfigError::Invalid {
                name: "WINDOW_TABLE",
                msg: format!(
                    "`{t}` is not a DynamoDB table name (3-255 characters: letters, digits, _ - .) or table ARN"
                ),
            });
        }
        let min_severity = match non_empty("MIN_SEVERITY") {
            None => Severity::Low,
            Some(v) => v.parse().map_err(|msg| ConfigError::Invalid {
                name: "MIN_SEVERITY",
                msg,
            })?,
        };
        Ok(Settings {
            topic_arn: non_empty("ALERT_TOPIC_ARN"),
            metrics_namespace: non_empty("METRICS_NAMESPACE").unwrap_or_else(|| "Logwarden".into()),
            min_severity,
            detectors_dir: non_empty("DETECTORS_DIR").map(PathBuf::from),
            own_log_group: non_empty("AWS_LAMBDA_LOG_GROUP_NAME"),
            window_table,
            fingerprint_key_secret: non_empty("FINGERPRINT_KEY_SECRET"),
            securityhub_findings: match non_empty("SECURITYHUB_FINDINGS").as_deref() {
                None | Some("false") | Some("0") => false,
                Some("true") | Some("1") => true,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "SECURITYHUB_FINDINGS",
                        msg: format!("`{other}` is not true or false"),
                    });
                }
            },
            event_bus_name: non_empty("EVENT_BUS_NAME"),
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Loads the detector set these settings name (built-in plus `DETECTORS_DIR`).
    pub fn detectors(&self) -> Result<DetectorSet, ConfigError> {
        let mut b = DetectorSet::builder().builtin();
        if let Some(dir) = &self.detectors_dir {
            b = b.path(dir)?;
        }
        Ok(b.build()?)
    }

    /// The pipeline configuration these settings give.
    pub fn config(&self) -> Config {
        Config {
            min_severity: self.min_severity,
            ignore_log_groups: self.own_log_group.iter().cloned().collect(),
            ..Config::default()
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

/// What a [`Handler`] builds its drivers from (again after an invocation stopped half-way).
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
    /// The shared window store, with `WINDOW_TABLE`.
    pub store: Option<Arc<dyn SharedWindowStore>>,
}

impl Parts {
    /// Builds everything once per cold start: the detector set, the fingerprint key (from
    /// `FINGERPRINT_KEY_SECRET`), the SNS publisher, EMF metrics and the window store.
    pub async fn from_settings(
        settings: &Settings,
        aws: &aws_config::SdkConfig,
    ) -> Result<Parts, ConfigError> {
        let detectors = Arc::new(settings.detectors()?);
        for w in detectors.warnings() {
            tracing::warn!(warning = %w, "detector file");
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
        if settings.topic_arn.is_none() {
            tracing::warn!("ALERT_TOPIC_ARN is not set: alerts are not published to SNS");
        }
        let choice = crate::driver::OutputChoice {
            sns_topic: settings.topic_arn.clone(),
            securityhub: settings.securityhub_findings,
            event_bus: settings.event_bus_name.clone(),
        };
        let metrics = MetricsOut::Emf {
            namespace: settings.metrics_namespace.clone(),
        };
        let outputs = Outputs::build(aws, &choice, detectors.tags_by_rule(), metrics).await?;
        let store: Option<Arc<dyn SharedWindowStore>> = settings.window_table.as_ref().map(|t| {
            tracing::info!(table = %t, "correlation windows shared through DynamoDB");
            Arc::new(DynamoWindowStore::new(
                aws_sdk_dynamodb::Client::new(aws),
                t,
            )) as Arc<dyn SharedWindowStore>
        });
        Ok(Parts {
            detectors,
            config: settings.config(),
            fingerprints: Arc::new(fingerprints),
            outputs,
            store,
        })
    }

    pub(crate) fn driver(&self) -> Driver {
        let pipeline = Pipeline::with_fingerprints(
            Arc::clone(&self.detectors),
            self.config.clone(),
            Arc::clone(&self.fingerprints),
        );
        let driver = Driver::new(pipeline, self.outputs.clone());
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
}

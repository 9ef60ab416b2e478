//! `logwarden-lambda`: the Lambda function. Configuration, SDK clients and the detector set
//! are built once per cold start; each event goes through [`logwarden::lambda::Handler`].

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use logwarden::correlate::DynamoWindowStore;
use logwarden::lambda::{Handler, Settings};
use logwarden::sink::sns::SnsPublisher;
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LOGWARDEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
    let settings = Settings::from_env()?;
    let detectors = Arc::new(settings.detectors()?);
    for w in detectors.warnings() {
        tracing::warn!(warning = %w, "detector file");
    }
    let config = match (&settings.topic_arn, &settings.window_table) {
        (None, None) => None,
        _ => Some(aws_config::load_from_env().await),
    };
    let sns = match (&settings.topic_arn, &config) {
        (Some(arn), Some(config)) => Some(SnsPublisher::new(
            aws_sdk_sns::Client::new(config),
            arn.clone(),
        )),
        _ => {
            tracing::warn!("ALERT_TOPIC_ARN is not set: alerts are logged, not published");
            None
        }
    };
    let mut handler = Handler::new(settings.clone(), detectors, sns);
    match (&settings.window_table, &config) {
        (Some(table), Some(config)) => {
            tracing::info!(table = %table, "correlation windows shared through DynamoDB");
            let store = DynamoWindowStore::new(aws_sdk_dynamodb::Client::new(config), table);
            handler = handler.with_window_store(Arc::new(store));
        }
        _ => tracing::info!("correlation windows are per instance (WINDOW_TABLE is not set)"),
    }
    let handler = Arc::new(handler);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let handler = Arc::clone(&handler);
        async move {
            let report = handler.handle(event.payload.get().as_bytes()).await?;
            // Kinesis: the partial batch response; otherwise the invocation report.
            Ok::<_, Error>(report.response())
        }
    }))
    .await
}

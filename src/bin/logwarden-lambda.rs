//! `logwarden-lambda`: the Lambda function. Configuration, SDK clients, the fingerprint key
//! and the detector set are built once per cold start ([`Parts::from_settings`]); each event
//! goes through [`logwarden::lambda::Handler`].

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use logwarden::lambda::{Handler, Parts, Settings};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let _ = logwarden::startup::tune_allocator();
    logwarden::logging::init("info", true);
    let settings = Settings::from_env()?;
    let aws = aws_config::load_from_env().await;
    let handler = Arc::new(
        Handler::new(Parts::from_settings(&settings, &aws).await?)
            .with_objects(aws_sdk_s3::Client::new(&aws))
            .with_threads(settings.threads()),
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let handler = Arc::clone(&handler);
        async move {
            Ok::<_, Error>(
                handler
                    .handle(event.payload.get().as_bytes())
                    .await?
                    .to_json(),
            )
        }
    }))
    .await
}

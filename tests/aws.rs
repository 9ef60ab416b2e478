//! Against real AWS protocols: a local moto server (SNS, SQS, CloudWatch) and the Lambda
//! runtime emulator of cargo-lambda, both started by `scripts/test`, which runs these tests
//! with `--features aws-tests` and sets `LOGWARDEN_TEST_ENDPOINT` (and
//! `LOGWARDEN_TEST_RUNTIME_PORT`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sns::config::Credentials;
use logwarden::lambda::{Handler, HandlerError, Settings};
use logwarden::sink::metrics::CloudWatchPublisher;
use logwarden::sink::sns::SnsPublisher;
use logwarden::{Config, DetectorSet, Pipeline, TextSource};
use serde_json::Value;

fn endpoint() -> String {
    std::env::var("LOGWARDEN_TEST_ENDPOINT")
        .expect("LOGWARDEN_TEST_ENDPOINT is not set: run these tests through scripts/test, which starts moto")
}

async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A topic with a queue subscribed to everything and a queue subscribed to critical only.
struct Topic {
    arn: String,
    all: String,
    critical: String,
    sqs: aws_sdk_sqs::Client,
}

async fn topic(config: &SdkConfig) -> Topic {
    let sns = aws_sdk_sns::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    let arn = sns
        .create_topic()
        .name(unique("alerts"))
        .send()
        .await
        .expect("create topic")
        .topic_arn()
        .unwrap_or_default()
        .to_owned();
    let mut urls = Vec::new();
    for filter in [None, Some(r#"{"severity":["critical"]}"#)] {
        let url = sqs
            .create_queue()
            .queue_name(unique("soc"))
            .send()
            .await
            .expect("create queue")
            .queue_url()
            .unwrap_or_default()
            .to_owned();
        let qarn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .unwrap_or_default();
        let mut sub = sns
            .subscribe()
            .topic_arn(&arn)
            .protocol("sqs")
            .endpoint(qarn);
        if let Some(f) = filter {
            sub = sub.attributes("FilterPolicy", f);
        }
        sub.send().await.expect("subscribe");
        urls.push(url);
    }
    Topic {
        arn,
        critical: urls.pop().unwrap_or_default(),
        all: urls.pop().unwrap_or_default(),
        sqs,
    }
}

/// Every SNS envelope in a queue (drains it).
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let r = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        let msgs = r.messages();
        if msgs.is_empty() {
            return out;
        }
        for m in msgs {
            out.push(
                serde_json::from_str(m.body().unwrap_or_default()).expect("SNS envelope JSON"),
            );
            if let Some(h) = m.receipt_handle() {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(h)
                    .send()
                    .await
                    .ok();
            }
        }
    }
}

fn planted() -> Vec<String> {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/planted.txt"
    ))
    .expect("planted.txt")
    .lines()
    .map(str::trim)
    .filter(|l| !l.is_empty())
    .map(str::to_owned)
    .collect()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"))).expect("sample")
}

fn settings(topic: Option<&str>) -> Settings {
    Settings {
        topic_arn: topic.map(str::to_owned),
        metrics_namespace: "LogwardenTest".into(),
        min_severity: logwarden::Severity::Low,
        detectors_dir: None,
        own_log_group: Some("/aws/lambda/logwarden".into()),
        window_table: None,
    }
}

fn handler(config: &SdkConfig, topic_arn: &str) -> Handler {
    let s = settings(Some(topic_arn));
    let detectors = Arc::new(s.detectors().expect("detectors"));
    let sns = SnsPublisher::new(aws_sdk_sns::Client::new(config), topic_arn.to_owned());
    Handler::new(s, detectors, Some(sns)).without_metrics()
}

fn check_envelopes(envelopes: &[Value]) -> Vec<Value> {
    let secrets = planted();
    envelopes
        .iter()
        .map(|env| {
            let raw = env.to_string();
            for s in &secrets {
                assert!(
                    !raw.contains(s.as_str()),
                    "a planted value reached SNS: {}…",
                    &s[..4]
                );
            }
            let alert: Value = serde_json::from_str(env["Message"].as_str().unwrap_or_default())
                .expect("the SQS body is the alert JSON");
            let attrs = &env["MessageAttributes"];
            assert_eq!(attrs["severity"]["Value"], alert["severity"], "{env}");
            assert_eq!(attrs["rule_id"]["Value"], alert["rule_id"]);
            assert_eq!(attrs["kind"]["Value"], alert["kind"]);
            assert_eq!(attrs["log_group"]["Value"], alert["log_group"]);
            let subject = env["Subject"].as_str().unwrap_or_default();
            assert!(!subject.is_empty() && subject.len() <= 100, "{subject}");
            alert
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn alerts_reach_sqs_through_sns_with_attributes_and_filter_policy() {
    let config = sdk_config(&endpoint()).await;
    let t = topic(&config).await;
    let h = handler(&config, &t.arn);
    let report = h
        .handle(&sample("node-worker.json"))
        .await
        .expect("invocation succeeds");
    assert!(report.alerts >= 6, "{report:?}");
    assert_eq!(report.published, report.alerts);
    let all = check_envelopes(&drain(&t.sqs, &t.all).await);
    assert_eq!(all.len() as u64, report.alerts);
    let critical = check_envelopes(&drain(&t.sqs, &t.critical).await);
    let expected_critical = all.iter().filter(|a| a["severity"] == "critical").count();
    assert!(expected_critical >= 3);
    assert_eq!(
        critical.len(),
        expected_critical,
        "the filter policy passes only critical alerts"
    );
    assert!(critical.iter().all(|a| a["severity"] == "critical"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_retried_batch_republishes_the_same_ids() {
    let config = sdk_config(&endpoint()).await;
    let t = topic(&config).await;
    let event = sample("api-powertools.json");
    // Two instances (a retry may land anywhere) see the same event.
    handler(&config, &t.arn)
        .handle(&event)
        .await
        .expect("first");
    handler(&config, &t.arn)
        .handle(&event)
        .await
        .expect("retry");
    let alerts = check_envelopes(&drain(&t.sqs, &t.all).await);
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    for a in &alerts {
        *counts
            .entry(a["id"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    assert!(!counts.is_empty());
    assert!(
        counts.values().all(|&n| n == 2),
        "every id published once per attempt: {counts:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_publish_failure_fails_the_invocation() {
    let config = sdk_config(&endpoint()).await;
    // The topic does not exist.
    let h = handler(&config, "arn:aws:sns:us-east-1:123456789012:no-such-topic");
    match h.handle(&sample("node-worker.json")).await {
        Err(HandlerError::Publish(e)) => assert!(e.to_string().contains("no-such-topic"), "{e}"),
        other => panic!("expected a publish error, got {other:?}"),
    }
    // The endpoint is down.
    let down = sdk_config("http://127.0.0.1:9").await;
    let h = handler(&down, "arn:aws:sns:us-east-1:123456789012:alerts");
    assert!(matches!(
        h.handle(&sample("node-worker.json")).await,
        Err(HandlerError::Publish(_))
    ));
}

#[tokio::test(flavor = "current_thread")]
async fn an_undecodable_event_fails_the_invocation() {
    let config = sdk_config(&endpoint()).await;
    let t = topic(&config).await;
    let h = handler(&config, &t.arn);
    let r = h.handle(br#"{"awslogs":{"data":"not base64!"}}"#).await;
    assert!(matches!(r, Err(HandlerError::Pipeline(_))), "{r:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn the_own_log_group_is_never_analysed() {
    let config = sdk_config(&endpoint()).await;
    let t = topic(&config).await;
    let h = handler(&config, &t.arn);
    let payload = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/lambda/logwarden",
        "logStream": "s", "logEvents": [{"id": "1", "timestamp": 1, "message": "key sk_live_4eC39HqLyjWDarjtT1zdp7dc"}]});
    let report = h.handle(payload.to_string().as_bytes()).await.expect("ok");
    assert_eq!((report.events, report.processed, report.alerts), (1, 0, 0));
}

#[tokio::test(flavor = "current_thread")]
async fn cloudwatch_metrics_can_be_read_back() {
    let config = sdk_config(&endpoint()).await;
    let mut p = Pipeline::new(
        Arc::new(DetectorSet::builtin().expect("built-in")),
        Config::default(),
    );
    p.process_input(
        &sample("node-worker.json"),
        &TextSource::default(),
        &mut |_| {},
    )
    .expect("decodes");
    let stats = p.take_stats();
    let ns = unique("LogwardenTest");
    CloudWatchPublisher::new(aws_sdk_cloudwatch::Client::new(&config), ns.clone())
        .put(&stats.metrics())
        .await
        .expect("put metrics");
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    let now = std::time::SystemTime::now();
    let got = cw
        .get_metric_statistics()
        .namespace(&ns)
        .metric_name("EventsProcessed")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("Service")
                .value("logwarden")
                .build(),
        )
        .start_time((now - Duration::from_secs(600)).into())
        .end_time((now + Duration::from_secs(600)).into())
        .period(60)
        .statistics(aws_sdk_cloudwatch::types::Statistic::Sum)
        .send()
        .await
        .expect("get statistics");
    let sum: f64 = got.datapoints().iter().filter_map(|d| d.sum()).sum();
    assert_eq!(sum, stats.events_processed as f64);
    let listed = cw
        .list_metrics()
        .namespace(&ns)
        .metric_name("Alerts")
        .send()
        .await
        .expect("list");
    assert!(
        listed
            .metrics()
            .iter()
            .any(|m| m.dimensions().iter().any(|d| d.name() == Some("Rule"))),
        "per-rule alert metrics exist"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn replay_publishes_for_real() {
    let endpoint = endpoint();
    let config = sdk_config(&endpoint).await;
    let t = topic(&config).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_logwarden"))
        .args([
            "replay",
            "samples/python-etl.json",
            "--format",
            "json",
            "--sns-topic-arn",
            &t.arn,
            "--metrics-namespace",
            "LogwardenCli",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .await
        .expect("run logwarden");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = stdout.lines().count();
    let published = check_envelopes(&drain(&t.sqs, &t.all).await);
    assert_eq!(published.len(), printed);
}

/// The real Lambda runtime protocol: cargo-lambda's runtime emulator (started by
/// scripts/test with `cargo lambda watch --only-lambda-apis`) serves the Runtime API, the
/// built `logwarden-lambda` binary polls it, and `cargo lambda invoke` sends a sample event.
#[tokio::test(flavor = "current_thread")]
async fn lambda_runtime_end_to_end() {
    let endpoint = endpoint();
    let port = std::env::var("LOGWARDEN_TEST_RUNTIME_PORT")
        .expect("LOGWARDEN_TEST_RUNTIME_PORT is not set: run through scripts/test");
    let config = sdk_config(&endpoint).await;
    let t = topic(&config).await;
    let mut function = tokio::process::Command::new(env!("CARGO_BIN_EXE_logwarden-lambda"))
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/logwarden")
        .env("ALERT_TOPIC_ARN", &t.arn)
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start logwarden-lambda");
    let invoke = tokio::process::Command::new("cargo-lambda")
        .args([
            "lambda",
            "invoke",
            "_",
            "-A",
            "127.0.0.1",
            "-P",
            &port,
            "--output-format",
            "json",
            "--data-file",
        ])
        .arg(format!(
            "{}/samples/api-powertools.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), invoke)
        .await
        .expect("invoke finishes")
        .expect("cargo-lambda runs");
    function.start_kill().ok();
    let logs = function.wait_with_output().await.expect("function output");
    let fn_out =
        String::from_utf8_lossy(&logs.stdout).to_string() + &String::from_utf8_lossy(&logs.stderr);
    assert!(
        out.status.success(),
        "invoke failed: {}\n{fn_out}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response: Value =
        serde_json::from_slice(&out.stdout).expect("the function's JSON response");
    let alerts = check_envelopes(&drain(&t.sqs, &t.all).await);
    assert_eq!(
        response["published"].as_u64(),
        Some(alerts.len() as u64),
        "{response}"
    );
    assert!(alerts.len() >= 5, "{response}");
    assert!(alerts.iter().any(|a| a["rule_id"] == "stripe-secret-key"));
    // Its logs carry counts, ids and EMF metrics, never a planted value.
    for s in planted() {
        assert!(
            !fn_out.contains(s.as_str()),
            "a planted value reached the function's logs"
        );
    }
    assert!(
        fn_out.contains("\"CloudWatchMetrics\""),
        "EMF lines are written: {fn_out}"
    );
}

/// A ~1 MB payload (the bundled samples' events, repeated with fresh ids) in one invocation:
/// every alert is published, over several PublishBatch calls; the report splits the time.
#[tokio::test(flavor = "current_thread")]
async fn a_one_megabyte_invocation_publishes_everything() {
    let config = sdk_config(&endpoint()).await;
    let t = topic(&config).await;
    let h = handler(&config, &t.arn);
    let mut messages = Vec::new();
    let mut size = 0;
    let mut round = 0;
    while size < 1_000_000 {
        for line in [
            "2026-11-25T10:00:00.000Z\tr-1\tINFO\tcharging with sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            r#"{"level":"INFO","message":"order created","service":"orders","function_request_id":"c6af9ac6"}"#,
        ] {
            let m = format!("{line} #{round}");
            size += m.len() + 90;
            messages.push(m);
        }
        round += 1;
    }
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| serde_json::json!({"id": format!("{i:056}"), "timestamp": 1_795_600_800_000i64 + i as i64, "message": m}))
        .collect();
    let payload = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/big",
        "logStream": "s", "logEvents": events})
    .to_string();
    assert!(payload.len() >= 1_000_000);
    let report = h
        .handle(payload.as_bytes())
        .await
        .expect("invocation succeeds");
    // One secret repeated: the storm limiter lets a burst through and holds the rest back,
    // reporting their number in the last alert.
    assert!(report.alerts >= 1 && report.alerts < 20, "{report:?}");
    let alerts = check_envelopes(&drain(&t.sqs, &t.all).await);
    assert_eq!(alerts.len() as u64, report.published);
    let suppressed: u64 = alerts.iter().filter_map(|a| a["suppressed"].as_u64()).sum();
    assert_eq!(
        suppressed + report.alerts,
        messages.len() as u64 / 2,
        "every finding is either sent or counted"
    );
    eprintln!(
        "1 MB invocation: {} events, analyse {:.1} ms, publish {:.1} ms ({} alerts)",
        report.events, report.analyse_ms, report.publish_ms, report.published
    );
}

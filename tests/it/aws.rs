//! Against real AWS protocols: a local moto server (SNS, SQS, CloudWatch) and the Lambda
//! runtime emulator of cargo-lambda, both started by `scripts/test`, which runs these tests
//! with `--features aws-tests` and sets `LOGWARDEN_TEST_ENDPOINT` (and
//! `LOGWARDEN_TEST_RUNTIME_PORT`).

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sns::config::Credentials;
use logwarden::correlate::{DynamoWindowStore, SharedWindowStore};
use logwarden::driver::{DriverError, MetricsOut};
use logwarden::lambda::{Handler, HandlerError, Parts, Settings};
use logwarden::sink::metrics::CloudWatchPublisher;
use logwarden::{Config, DetectorSet, Pipeline, TextSource};
use serde_json::{Value, json};

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
        let (url, qarn) = queue(&sqs, "soc").await;
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

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"))).expect("sample")
}

fn settings(topic: Option<&str>) -> Settings {
    Settings {
        sns_topic_arn: topic.map(str::to_owned),
        metrics_namespace: Some("LogwardenTest".into()),
        ignore_log_groups: vec!["/aws/lambda/logwarden".into()],
        ..Settings::default()
    }
}

/// The Lambda's parts for these settings, with metrics off (tests read stdout themselves) and
/// a fixed fingerprint key.
async fn parts(config: &SdkConfig, s: &Settings) -> Parts {
    let mut parts = Parts::from_settings(s, config).await.expect("parts");
    parts.outputs.metrics = MetricsOut::None;
    parts.fingerprints = Arc::new(logwarden::mask::Fingerprinter::new(
        b"aws tests fingerprint key",
    ));
    parts
}

async fn handler(config: &SdkConfig, topic_arn: &str) -> Handler {
    Handler::new(parts(config, &settings(Some(topic_arn))).await)
}

/// A handler sharing windows through `store` (as with WINDOW_TABLE).
async fn handler_with_store(
    config: &SdkConfig,
    topic_arn: &str,
    store: DynamoWindowStore,
) -> Handler {
    let mut p = parts(config, &settings(Some(topic_arn))).await;
    p.store = Some(Arc::new(store));
    Handler::new(p)
}

fn check_envelopes(envelopes: &[Value]) -> Vec<Value> {
    let secrets = common::planted();
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
    let h = handler(&config, &t.arn).await;
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
        .await
        .handle(&event)
        .await
        .expect("first");
    handler(&config, &t.arn)
        .await
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
    let h = handler(&config, "arn:aws:sns:us-east-1:123456789012:no-such-topic").await;
    match h.handle(&sample("node-worker.json")).await {
        Err(HandlerError::Driver(DriverError::Publish(e))) => {
            assert!(e.to_string().contains("no-such-topic"), "{e}")
        }
        other => panic!("expected a publish error, got {other:?}"),
    }
    // The endpoint is down.
    let down = sdk_config("http://127.0.0.1:9").await;
    let h = handler(&down, "arn:aws:sns:us-east-1:123456789012:alerts").await;
    assert!(matches!(
        h.handle(&sample("node-worker.json")).await,
        Err(HandlerError::Driver(DriverError::Publish(_)))
    ));
}

#[tokio::test(flavor = "current_thread")]
async fn an_undecodable_event_fails_the_invocation() {
    let config = sdk_config(&endpoint()).await;
    let t = topic(&config).await;
    let h = handler(&config, &t.arn).await;
    let r = h.handle(br#"{"awslogs":{"data":"not base64!"}}"#).await;
    assert!(
        matches!(r, Err(HandlerError::Driver(DriverError::Decode(_)))),
        "{r:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_own_log_group_is_never_analysed() {
    let config = sdk_config(&endpoint()).await;
    let t = topic(&config).await;
    let h = handler(&config, &t.arn).await;
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
        .put(&logwarden::sink::metrics::of_stats(&stats))
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
    for s in common::planted() {
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
    let h = handler(&config, &t.arn).await;
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
    let suppressed: u64 = alerts.iter().filter_map(|a| a["held_back"].as_u64()).sum();
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

// ---------------------------------------------------------------------------------------
// Shared correlation windows (DynamoDB) and Kinesis input.

/// A fresh window table shaped like the template's: partition key `pk` (S), on demand.
async fn window_table(config: &SdkConfig) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let name = unique("windows");
    aws_sdk_dynamodb::Client::new(config)
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key schema"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("create table");
    name
}

fn auth_failure(ip: &str, user: &str, t_ms: i64) -> String {
    serde_json::json!({
        "timestamp": logwarden::time::EventTime::clamped(t_ms).to_rfc3339(),
        "eventType": "security",
        "type": "authentication_failed",
        "severity": "medium",
        "details": {"reason": "invalid_password", "sourceIp": ip, "userId": user, "endpoint": "/login"}
    })
    .to_string()
}

/// A subscription payload (decoded JSON) of `events` = (id, time, message) on `stream`.
fn payload(stream: &str, events: &[(String, i64, String)]) -> String {
    let evs: Vec<Value> = events
        .iter()
        .map(|(id, t, m)| serde_json::json!({"id": id, "timestamp": t, "message": m}))
        .collect();
    serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/auth",
        "logStream": stream, "subscriptionFilters": ["logwarden"], "logEvents": evs})
    .to_string()
}

/// `n` authentication failures from `ip` inside the 5-minute window starting at T0 + 5 min,
/// distinct users, event ids starting at `first`.
fn burst(ip: &str, first: usize, n: usize) -> Vec<(String, i64, String)> {
    (first..first + n)
        .map(|i| {
            let t = common::T0 + 300_000 + 1_000 + i as i64 * 5_000;
            (
                format!("{:056}", 37_000_000_000_000usize + i),
                t,
                auth_failure(ip, &format!("u-{i}"), t),
            )
        })
        .collect()
}

fn threshold_alerts(alerts: &[logwarden::Alert]) -> Vec<(String, String, u64, String)> {
    let mut v: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == logwarden::FindingKind::Threshold)
        .map(|a| {
            (
                a.rule_id.clone(),
                a.group
                    .as_ref()
                    .map(|g| g.value.clone())
                    .unwrap_or_default(),
                a.count.unwrap_or(0),
                a.id.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

fn shared_pipeline(set: &Arc<DetectorSet>) -> Pipeline {
    let mut p = Pipeline::new(Arc::clone(set), Config::default());
    p.share_windows();
    p
}

/// The issue's case: 25 failed logins from one IP spread over 5 instances. Each instance sees
/// 5, under the threshold of 10, so per-instance windows never alert; through one table the
/// 5 instances (separate pipelines and stores) alert exactly once per rule, and the threshold
/// alert is the same as one process would have raised.
#[tokio::test(flavor = "current_thread")]
async fn five_instances_sharing_a_table_alert_once_per_burst() {
    let config = sdk_config(&endpoint()).await;
    let table = window_table(&config).await;
    let set = Arc::new(DetectorSet::builtin().expect("built-in"));
    // Users u-0..u-4: 5 distinct users in all (credential stuffing), one per instance.
    let mut events = burst("203.0.113.50", 0, 25);
    for (i, e) in events.iter_mut().enumerate() {
        e.2 = auth_failure("203.0.113.50", &format!("u-{}", i % 5), e.1);
    }
    // Instance i gets every 5th event (interleaved, as a random distribution would).
    let shares: Vec<String> = (0..5)
        .map(|i| {
            let mine: Vec<_> = events.iter().skip(i).step_by(5).cloned().collect();
            common::lambda_event(&payload(&format!("stream-{i}"), &mine))
        })
        .collect();

    // Per-instance windows: 5 each, no alert anywhere.
    let mut local_alerts = Vec::new();
    for input in &shares {
        let mut p = Pipeline::new(Arc::clone(&set), Config::default());
        p.process_input(input.as_bytes(), &TextSource::default(), &mut |a| {
            local_alerts.push(a)
        })
        .expect("decodes");
    }
    assert!(threshold_alerts(&local_alerts).is_empty());

    // Shared: every instance analyses its share and flushes it, in turn. (In turn because
    // moto does not serialise concurrent writes to one item — its server is threaded and its
    // conditional updates are not atomic — while DynamoDB does: concurrent flushes are exact
    // there, not here.)
    let mut all = Vec::new();
    let mut requests = 0;
    for i in [3, 0, 4, 1, 2] {
        let mut p = shared_pipeline(&set);
        let store = DynamoWindowStore::new(aws_sdk_dynamodb::Client::new(&config), &table);
        p.process_input(shares[i].as_bytes(), &TextSource::default(), &mut |a| {
            all.push(a)
        })
        .expect("decodes");
        let report = store.flush(p.take_pending()).await.expect("flush");
        requests += report.requests;
        p.apply_flush(report, &mut |a| all.push(a));
    }
    let got = threshold_alerts(&all);
    let rules: Vec<&str> = got.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(
        rules,
        ["auth-failure-burst", "credential-stuffing"],
        "exactly one alert per rule: {got:?}"
    );
    assert!(got.iter().all(|t| t.1 == "203.0.113.50"));

    // The same alerts (ids, counts) as one process seeing all 25 events.
    let mut one = Pipeline::new(Arc::clone(&set), Config::default());
    let mut single = Vec::new();
    one.process_input(
        common::lambda_event(&payload("s", &events)).as_bytes(),
        &TextSource::default(),
        &mut |a| single.push(a),
    )
    .expect("decodes");
    let expected = threshold_alerts(&single);
    assert_eq!(
        got.iter().map(|t| (&t.0, &t.3)).collect::<Vec<_>>(),
        expected.iter().map(|t| (&t.0, &t.3)).collect::<Vec<_>>()
    );
    // One UpdateItem per key per instance (4 keys: two rules per address, and the two
    // per-account rules for the instance's one user), plus, while a key is hot, one more: the
    // claim of its episode, or the extension of the open one.
    assert!(
        (5 * 4 + 2..=5 * 4 * 2).contains(&requests),
        "{requests} requests"
    );
}

/// Two warm instances each get half of a 24-event burst over three invocations, taking turns.
/// With per-instance windows both reach 12 and both alert (a duplicate, with different
/// counts); through the table exactly one alert results.
#[tokio::test(flavor = "current_thread")]
async fn two_warm_instances_halving_a_burst_alert_once() {
    let config = sdk_config(&endpoint()).await;
    let table = window_table(&config).await;
    let set = Arc::new(DetectorSet::builtin().expect("built-in"));
    let mut events = burst("203.0.113.55", 0, 24);
    for e in &mut events {
        e.2 = auth_failure("203.0.113.55", "u-1", e.1);
    }
    // Invocation k of instance i: events [8k + 4i, 8k + 4i + 4).
    let input = |i: usize, k: usize| {
        let from = 8 * k + 4 * i;
        common::lambda_event(&payload(&format!("stream-{i}"), &events[from..from + 4]))
    };
    let mut local = [
        Pipeline::new(Arc::clone(&set), Config::default()),
        Pipeline::new(Arc::clone(&set), Config::default()),
    ];
    let mut shared = [shared_pipeline(&set), shared_pipeline(&set)];
    let stores = [
        DynamoWindowStore::new(aws_sdk_dynamodb::Client::new(&config), &table),
        DynamoWindowStore::new(aws_sdk_dynamodb::Client::new(&config), &table),
    ];
    let (mut local_alerts, mut shared_alerts) = (Vec::new(), Vec::new());
    for k in 0..3 {
        for i in 0..2 {
            let e = input(i, k);
            local[i]
                .process_input(e.as_bytes(), &TextSource::default(), &mut |a| {
                    local_alerts.push(a)
                })
                .expect("decodes");
            shared[i]
                .process_input(e.as_bytes(), &TextSource::default(), &mut |a| {
                    shared_alerts.push(a)
                })
                .expect("decodes");
            shared[i]
                .flush_windows(&stores[i], &mut |a| shared_alerts.push(a))
                .await
                .expect("flush");
        }
    }
    // One address and one account: the per-address and the per-account burst rules.
    assert_eq!(
        threshold_alerts(&local_alerts).len(),
        4,
        "per-instance: a duplicate of each"
    );
    let got = threshold_alerts(&shared_alerts);
    let rules: Vec<&str> = got.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(
        rules,
        ["auth-failure-burst", "auth-failure-burst-account"],
        "{got:?}"
    );
    // The shared count is read at the flush that saw the span hot: at least the threshold.
    assert!(got.iter().all(|t| t.2 >= 10), "{got:?}");
}

/// A batch delivered again (Lambda retry, possibly on another instance) is not counted
/// again, and a retry of the batch that crossed the threshold repeats its alert (same id),
/// so an alert whose publishing failed is not lost.
#[tokio::test(flavor = "current_thread")]
async fn a_retried_batch_is_not_counted_twice_in_the_shared_table() {
    let config = sdk_config(&endpoint()).await;
    let table = window_table(&config).await;
    let set = Arc::new(DetectorSet::builtin().expect("built-in"));
    let store = || DynamoWindowStore::new(aws_sdk_dynamodb::Client::new(&config), &table);
    let run = |input: String, store: DynamoWindowStore| {
        let set = Arc::clone(&set);
        async move {
            let mut p = shared_pipeline(&set);
            let mut alerts = Vec::new();
            p.process_input(input.as_bytes(), &TextSource::default(), &mut |a| {
                alerts.push(a)
            })
            .expect("decodes");
            p.flush_windows(&store, &mut |a| alerts.push(a))
                .await
                .expect("flush");
            (threshold_alerts(&alerts), p.take_stats())
        }
    };
    // 6 failures (one IP, one user: the event count rules per address and per account),
    // delivered three times.
    let mut same_user = burst("203.0.113.60", 0, 6);
    for e in &mut same_user {
        e.2 = auth_failure("203.0.113.60", "u-1", e.1);
    }
    let first = common::lambda_event(&payload("a", &same_user));
    let (alerts, stats) = run(first.clone(), store()).await;
    assert!(alerts.is_empty());
    assert_eq!(stats.window_parts_already_counted, 0);
    for _ in 0..2 {
        let (alerts, stats) = run(first.clone(), store()).await;
        assert!(
            alerts.is_empty(),
            "6 counted once, not 12 or 18: {alerts:?}"
        );
        assert_eq!(stats.window_parts_already_counted, 2);
    }
    // 4 more make 10: the alert fires now, with the count of one delivery each.
    let mut more = burst("203.0.113.60", 6, 4);
    for e in &mut more {
        e.2 = auth_failure("203.0.113.60", "u-1", e.1);
    }
    let second = common::lambda_event(&payload("b", &more));
    let (alerts, _) = run(second.clone(), store()).await;
    let counted: Vec<(&str, u64)> = alerts.iter().map(|a| (a.0.as_str(), a.2)).collect();
    assert_eq!(
        counted,
        [
            ("auth-failure-burst", 10),
            ("auth-failure-burst-account", 10)
        ],
        "{alerts:?}"
    );
    // Its retry (say its publish failed) repeats the same alert; the first batch's does not.
    let (again, stats) = run(second, store()).await;
    assert_eq!(again, alerts);
    // (One part per sub-bucket the retried batch's events fall in.)
    assert!(
        stats.window_parts_already_counted >= 1,
        "its counts are not added again"
    );
    let (none, _) = run(first, store()).await;
    assert!(none.is_empty());
}

/// The Lambda with WINDOW_TABLE answers a Kinesis event (CloudWatch Logs → Kinesis → Lambda)
/// with a partial batch response naming only the record that could not be decoded; the good
/// records are analysed, their counts shared and their alerts published.
#[tokio::test(flavor = "current_thread")]
async fn a_kinesis_event_reports_only_its_bad_record() {
    let config = sdk_config(&endpoint()).await;
    let t = topic(&config).await;
    let table = window_table(&config).await;
    let store = DynamoWindowStore::new(aws_sdk_dynamodb::Client::new(&config), &table);
    let h = handler_with_store(&config, &t.arn, store).await;
    let events = burst("203.0.113.70", 0, 12);
    let mut secret = events[..6].to_vec();
    secret.push((
        format!("{:056}", 99),
        common::T0 + 300_000,
        "2026-11-25T10:05:00.000Z\tr-1\tINFO\tcharging with sk_live_4eC39HqLyjWDarjtT1zdp7dc"
            .to_owned(),
    ));
    let records = vec![
        common::gzip(payload("s-1", &secret).as_bytes()),
        b"this record is not gzip".to_vec(),
        common::gzip(payload("s-2", &events[6..]).as_bytes()),
    ];
    let event = common::kinesis_event(&records);
    let report = h
        .handle(event.as_bytes())
        .await
        .expect("the invocation succeeds");
    let failed = report.batch_item_failures.clone().expect("a Kinesis event");
    assert_eq!(failed, [format!("4959{:020}", 1)]);
    assert_eq!(
        report.to_json(),
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": format!("4959{:020}", 1)}]})
    );
    assert_eq!(report.failed_records, 1);
    assert!(report.window_requests >= 2, "{report:?}");
    let alerts = check_envelopes(&drain(&t.sqs, &t.all).await);
    let rules: std::collections::BTreeSet<&str> = alerts
        .iter()
        .filter_map(|a| a["rule_id"].as_str())
        .collect();
    assert!(rules.contains("stripe-secret-key"), "{rules:?}");
    assert!(
        rules.contains("auth-failure-burst") && rules.contains("credential-stuffing"),
        "the burst over both good records alerts: {rules:?}"
    );
    assert_eq!(alerts.len() as u64, report.published);

    // Lambda retries from the failed record: the third record again (with the bad one). Its
    // counts are not added twice, and nothing but its repeated alerts goes out.
    let retry = common::kinesis_event(&records[1..]);
    let report = h
        .handle(retry.as_bytes())
        .await
        .expect("the retry succeeds");
    assert_eq!(
        report.batch_item_failures,
        Some(vec![format!("4959{:020}", 0)])
    );
    // A Kinesis event whose records all decode: an empty list.
    let good = common::kinesis_event(&records[..1]);
    let report = h.handle(good.as_bytes()).await.expect("ok");
    assert_eq!(
        report.to_json(),
        serde_json::json!({"batchItemFailures": []})
    );
}

/// DynamoDB failing (here: no such table) fails the invocation, so Lambda retries it: counts
/// are never dropped silently.
#[tokio::test(flavor = "current_thread")]
async fn a_window_store_failure_fails_the_invocation() {
    let config = sdk_config(&endpoint()).await;
    let t = topic(&config).await;
    let store = DynamoWindowStore::new(aws_sdk_dynamodb::Client::new(&config), "no-such-table");
    let h = handler_with_store(&config, &t.arn, store).await;
    let event = common::lambda_event(&payload("s", &burst("203.0.113.80", 0, 3)));
    match h.handle(event.as_bytes()).await {
        Err(HandlerError::Driver(DriverError::Store(e))) => {
            assert!(e.to_string().contains("no-such-table"), "{e}");
            assert_eq!(e.kind, logwarden::error::AwsErrorKind::NotFound, "{e}");
        }
        other => panic!("expected a store error, got {other:?}"),
    }
    // An event without correlation matches needs no request and succeeds.
    let quiet = common::lambda_event(&payload(
        "s",
        &[(
            format!("{:056}", 1),
            common::T0,
            "order 1 created".to_owned(),
        )],
    ));
    let report = h.handle(quiet.as_bytes()).await.expect("no window touched");
    assert_eq!(report.window_requests, 0);
}

/// `replay --window-table` counts through the table: the second replay of the same files is a
/// retry (nothing counted twice) that repeats the same threshold alerts.
#[tokio::test(flavor = "current_thread")]
async fn replay_shares_windows_through_a_table() {
    let endpoint = endpoint();
    let config = sdk_config(&endpoint).await;
    let table = window_table(&config).await;
    let run = |args: Vec<String>| {
        let endpoint = endpoint.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_logwarden"))
                .args(["replay", "samples", "--format", "json", "--stats"])
                .args(args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .env("AWS_ENDPOINT_URL", &endpoint)
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .output()
                .await
                .expect("run logwarden")
        }
    };
    let local = run(vec![]).await;
    let shared = run(vec!["--window-table".into(), table.clone()]).await;
    let stderr = String::from_utf8_lossy(&shared.stderr);
    assert_eq!(shared.status.code(), Some(1), "{stderr}");
    // The same alerts as in-process windows: identical content alerts and event alerts, and
    // threshold alerts with the same rule, group and id (a shared span is read over whole
    // sub-buckets, so its count and first event may differ a little: see README).
    let key = |out: &[u8]| {
        let mut v: Vec<String> = std::str::from_utf8(out)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let a: Value = serde_json::from_str(l).unwrap_or_default();
                if a["kind"] == "threshold" {
                    format!("{} {} {}", a["rule_id"], a["group"]["value"], a["id"])
                } else {
                    l.to_owned()
                }
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        key(&local.stdout),
        key(&shared.stdout),
        "the same alerts as in-process windows"
    );
    let line = stderr
        .lines()
        .find(|l| l.starts_with("window store:"))
        .unwrap_or_default()
        .to_owned();
    eprintln!("samples/ with --window-table: {line}");
    let again = run(vec!["--window-table".into(), table]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    let thresholds = |out: &[u8]| {
        std::str::from_utf8(out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(r#""kind":"threshold""#))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        thresholds(&again.stdout),
        thresholds(&shared.stdout),
        "{stderr}"
    );
    assert!(
        stderr.contains("retried batch parts not counted again") && !stderr.contains(" 0 retried"),
        "{stderr}"
    );
}

/// A decoded sample batch: log group, log stream, (time, message) of each event.
type SampleBatch = (String, String, Vec<(i64, String)>);

/// The samples' events (every file, fresh ids per repetition) as Kinesis records of
/// subscription payloads, repeated until `min_bytes` of payload JSON.
fn sample_mix_kinesis(min_bytes: usize) -> (String, usize) {
    let mut batches: Vec<SampleBatch> = Vec::new();
    let dir = format!("{}/samples", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("samples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for f in files {
        let bytes = std::fs::read(&f).expect("sample");
        logwarden::decode::decode_input(
            &bytes,
            &TextSource::default(),
            &logwarden::Limits::default(),
            &mut |b| {
                batches.push((
                    b.log_group.to_string(),
                    b.log_stream.to_string(),
                    b.events
                        .iter()
                        .map(|e| {
                            (
                                e.timestamp.map_or(common::T0, |t| t.as_millis()),
                                e.message.to_string(),
                            )
                        })
                        .collect(),
                ))
            },
        )
        .expect("decodes");
    }
    let (mut records, mut size, mut round, mut n) = (Vec::new(), 0, 0, 0usize);
    while size < min_bytes {
        for (group, stream, events) in &batches {
            let evs: Vec<Value> = events
                .iter()
                .map(|(t, m)| {
                    n += 1;
                    serde_json::json!({"id": format!("{n:056}"), "timestamp": t, "message": m})
                })
                .collect();
            let p = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "123456789012",
                "logGroup": group, "logStream": format!("{stream}-{round}"), "logEvents": evs})
            .to_string();
            size += p.len();
            records.push(common::gzip(p.as_bytes()));
        }
        round += 1;
    }
    (common::kinesis_event(&records), size)
}

/// `events` authentication failures in one 5-minute window, from `ips` source IPs in turn
/// (each IP also tries distinct users), as one subscription payload.
fn auth_failures_payload(events: usize, ips: usize) -> String {
    let evs: Vec<(String, i64, String)> = (0..events)
        .map(|i| {
            let t = common::T0 + (i as i64 * 290_000) / events as i64;
            // Addresses and users of their own per `ips`: the cases share one table and one
            // time span, and a key another case counted would already have its episode.
            let ip = format!(
                "198.{}.{}.{}",
                18 + ips / 100,
                (i % ips) / 250,
                (i % ips) % 250 + 1
            );
            (
                format!("{:056}", i + 1),
                t,
                auth_failure(&ip, &format!("user-{ips}-{}", i / ips), t),
            )
        })
        .collect();
    payload("auth", &evs)
}

/// What shared windows cost per ~1 MB batch, measured against moto (latency on AWS differs:
/// typically single-digit ms per UpdateItem in-region, sent 16 at a time). One UpdateItem per
/// window touched, plus one claim per threshold alert: the cost follows the number of
/// distinct (rule, group value, window) keys in the batch, not its size.
#[tokio::test(flavor = "current_thread")]
async fn shared_windows_cost_one_request_per_window_per_batch() {
    let config = sdk_config(&endpoint()).await;
    let table = window_table(&config).await;
    let detectors = Arc::new(DetectorSet::builtin().expect("built-in"));
    // No topic: alerts are counted, not published (publishing is measured elsewhere).
    let base = parts(&config, &settings(None)).await;
    let make = |shared: bool| {
        let mut p = base.clone();
        p.detectors = Arc::clone(&detectors);
        if shared {
            p.store = Some(Arc::new(DynamoWindowStore::new(
                aws_sdk_dynamodb::Client::new(&config),
                &table,
            )));
        }
        Handler::new(p)
    };
    let (mix, mix_bytes) = sample_mix_kinesis(1_000_000);
    let mut brute = auth_failures_payload(4_000, 50);
    let brute_bytes = brute.len();
    brute = common::lambda_event(&brute);
    // A spray from many IPs: every event its own window (kept small: moto takes ~10 ms a
    // request; 1 MB of it, 4000 events from 2000 IPs, took 4000 requests, 42 s on moto).
    let spray_payload = auth_failures_payload(400, 200);
    let spray_bytes = spray_payload.len();
    let spray = common::lambda_event(&spray_payload);
    let cases = [
        ("samples mix (Kinesis, 1 MB)", mix.clone(), mix_bytes),
        ("auth failures, 50 IPs", brute, brute_bytes),
        ("auth failures, 200 IPs", spray, spray_bytes),
    ];
    for (name, event, bytes) in cases {
        let local = make(false).handle(event.as_bytes()).await.expect("local");
        let shared = make(true);
        let report = shared.handle(event.as_bytes()).await.expect("shared");
        assert_eq!(report.alerts, local.alerts, "{name}: the same alerts");
        assert!(report.window_requests > 0);
        eprintln!(
            "{name}: {:.2} MB payload JSON, {} events, {} UpdateItem/claim requests, window flush {:.1} ms (moto), analyse {:.1} ms, {} alerts",
            bytes as f64 / 1e6,
            report.events,
            report.window_requests,
            report.window_ms,
            report.analyse_ms,
            report.alerts,
        );
    }
    // A warm instance that saw the mix: the same batch again (a retry) costs no more.
    let h = make(true);
    let first = h.handle(mix.as_bytes()).await.expect("first");
    let second = h.handle(mix.as_bytes()).await.expect("second");
    assert!(second.window_requests <= first.window_requests);
    eprintln!(
        "samples mix, warm instance, same batch again: {} requests ({} the first time)",
        second.window_requests, first.window_requests
    );
}

// ---------------------------------------------------------------------------------------
// Findings sinks (Security Hub, EventBridge) and the fingerprint key (Secrets Manager).

/// A new queue (its name starting with `prefix`) and its ARN.
async fn queue(sqs: &aws_sdk_sqs::Client, prefix: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(unique(prefix))
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .unwrap_or_default()
        .to_owned();
    let arn = sqs
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
    (url, arn)
}

/// Every alert becomes one Security Hub finding (its id the alert id; a retry updates, never
/// duplicates) and one OCSF Detection Finding on the bus (routed by a rule to a queue), with
/// no planted value anywhere.
/// (On a thread with a large stack: the SDK's Security Hub finding type is deep, and a
/// debug build deserialises it in one frame that overflows a test thread's 2 MiB.)
#[test]
fn findings_reach_security_hub_and_an_event_bus() {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(findings_reach_security_hub_and_an_event_bus_body())
        })
        .expect("thread")
        .join()
        .expect("the test body");
}

async fn findings_reach_security_hub_and_an_event_bus_body() {
    let config = sdk_config(&endpoint()).await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let bus = unique("soc-bus");
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("bus");
    let sqs = aws_sdk_sqs::Client::new(&config);
    let (url, qarn) = queue(&sqs, "bus").await;
    events
        .put_rule()
        .name(unique("to-queue"))
        .event_bus_name(&bus)
        .event_pattern(r#"{"source":["logwarden"],"detail-type":["Detection Finding"]}"#)
        .send()
        .await
        .expect("rule");
    let rule_name = events
        .list_rules()
        .event_bus_name(&bus)
        .send()
        .await
        .expect("rules")
        .rules()
        .first()
        .and_then(|r| r.name())
        .unwrap_or_default()
        .to_owned();
    events
        .put_targets()
        .rule(&rule_name)
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("q")
                .arn(&qarn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("targets");
    let mut s = settings(None);
    s.securityhub = true;
    s.event_bus = Some(bus.clone());
    let h = Handler::new(Box::pin(parts(&config, &s)).await);
    let report = Box::pin(h.handle(&sample("node-worker.json")))
        .await
        .expect("invocation succeeds");
    assert!(report.alerts >= 6, "{report:?}");
    assert_eq!(
        report.published,
        2 * report.alerts,
        "one finding and one event per alert"
    );
    let again = Box::pin(h.handle(&sample("node-worker.json")))
        .await
        .expect("retry succeeds");
    assert_eq!(again.published, 2 * again.alerts);
    let hub = aws_sdk_securityhub::Client::new(&config);
    let findings = hub
        .get_findings()
        .max_results(100)
        .send()
        .await
        .expect("findings");
    let ours: Vec<_> = findings
        .findings()
        .iter()
        .filter(|f| {
            f.product_fields()
                .is_some_and(|p| p.contains_key("ProviderName"))
        })
        .collect();
    let ids: std::collections::BTreeSet<&str> = ours.iter().filter_map(|f| f.id()).collect();
    assert!(ids.len() as u64 >= report.alerts, "{} findings", ids.len());
    assert_eq!(ids.len(), ours.len(), "a retry updates, never duplicates");
    let secrets = common::planted();
    let dump = format!("{ours:?}");
    for p in &secrets {
        assert!(
            !dump.contains(p.as_str()),
            "a planted value reached Security Hub"
        );
    }
    let delivered = drain_raw(&sqs, &url).await;
    assert_eq!(delivered.len() as u64, report.alerts + again.alerts);
    for e in &delivered {
        assert_eq!(e["detail-type"], "Detection Finding");
        assert_eq!(e["source"], "logwarden");
        let problems = logwarden::sink::eventbridge::ocsf_problems(&e["detail"]);
        assert!(problems.is_empty(), "{problems:?}");
        for p in &secrets {
            assert!(
                !e.to_string().contains(p.as_str()),
                "a planted value reached EventBridge"
            );
        }
    }
}

/// Every message body of a queue as JSON (drains it).
async fn drain_raw(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Value> {
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
        if r.messages().is_empty() {
            return out;
        }
        for m in r.messages() {
            out.push(serde_json::from_str(m.body().unwrap_or_default()).expect("event JSON"));
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

/// The fingerprint key comes from Secrets Manager (FINGERPRINT_KEY_SECRET, and
/// `--fingerprint-key-secret` in the CLI): alerts carry HMAC-SHA256 under that key, and
/// `logwarden fingerprint` gives the same value for a suspected secret.
#[tokio::test(flavor = "current_thread")]
async fn the_fingerprint_key_comes_from_secrets_manager() {
    let endpoint = endpoint();
    let config = sdk_config(&endpoint).await;
    let name = unique("logwarden-fingerprint-key");
    let key = "a2f1c9e4b7d3085f6a1e2c4b9d7f3a5e";
    aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name(&name)
        .secret_string(key)
        .send()
        .await
        .expect("secret");
    let mut s = settings(None);
    s.fingerprint_key_secret = Some(name.clone());
    let p = Parts::from_settings(&s, &config).await.expect("parts");
    let secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
    let expected =
        logwarden::mask::Fingerprinter::new(key.as_bytes()).fingerprint(secret.as_bytes());
    assert_eq!(p.fingerprints.fingerprint(secret.as_bytes()), expected);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_logwarden"))
        .args(["fingerprint", "--fingerprint-key-secret", &name])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    if let Some(mut i) = child.stdin.take() {
        use tokio::io::AsyncWriteExt;
        i.write_all(secret.as_bytes()).await.expect("stdin");
    }
    let out = child.wait_with_output().await.expect("output");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), expected);
    // A missing secret is a clear start-up error naming it.
    s.fingerprint_key_secret = Some("no-such-secret".into());
    let e = Parts::from_settings(&s, &config)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("no-such-secret") && e.contains("not found"),
        "{e}"
    );
}

/// `--verify` against moto's STS: a key pair found in one event is asked about with
/// GetCallerIdentity through the SDK's own endpoint resolution (`AWS_ENDPOINT_URL`), and moto
/// (which accepts any key pair) answers: the alerts say `live`.
#[tokio::test(flavor = "current_thread")]
async fn verify_asks_sts_for_a_found_key_pair() {
    let endpoint = endpoint();
    let line = "DEBUG env dump: AWS_ACCESS_KEY_ID=AKIAZ4XQ7MLB2RTW6KPD AWS_SECRET_ACCESS_KEY=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\n";
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_logwarden"))
        .args(["replay", "--format", "json", "--verify", "-"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run logwarden");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(line.as_bytes()).await.expect("write");
    }
    let out = child.wait_with_output().await.expect("logwarden runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let alerts: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    for rule in ["aws-access-key-id", "aws-secret-access-key"] {
        let a = alerts
            .iter()
            .find(|a| a["rule_id"] == rule)
            .unwrap_or_else(|| panic!("no {rule} alert: {stdout}"));
        assert_eq!(a["verified"], "live", "{a}");
    }
    assert!(!stdout.contains("Qm7vTz2pLx9RkW4nJc8YhB3sFd6GaE1uVo5NiKqZ"));
}

/// A trail that delivers only to S3: the Lambda, told by S3 event notifications (keys
/// URL-encoded) and EventBridge `Object Created` events that trail files arrived, reads them
/// from S3 (moto) and publishes the alerts `replay` gives for the same files. A file that
/// cannot be read fails the invocation (Lambda retries it) without holding back the alerts of
/// the others; a digest file is skipped.
#[tokio::test(flavor = "current_thread")]
async fn trail_files_s3_announces_are_read_and_give_replays_alerts() {
    let endpoint = endpoint();
    let config = sdk_config(&endpoint).await;
    let t = topic(&config).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let bucket = unique("trail");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let dir = "tests/fixtures/cloudtrail/s3/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25";
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(format!("{}/{dir}", env!("CARGO_MANIFEST_DIR")))
            .expect("fixtures")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
    files.sort();
    let mut keys = Vec::new();
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).expect("name");
        let key = format!("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/{name}");
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .body(std::fs::read(f).expect("read").into())
            .send()
            .await
            .expect("put");
        keys.push(key);
    }
    let h = handler(&config, &t.arn).await.with_objects(s3.clone());
    for (i, key) in keys.iter().enumerate() {
        let event = if i % 2 == 0 {
            json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key.replace('_', "%5F"), "size": 1}}}]})
        } else {
            json!({"version": "0", "detail-type": "Object Created", "source": "aws.s3",
                "detail": {"bucket": {"name": bucket}, "object": {"key": key}}})
        };
        h.handle(event.to_string().as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    let digest = json!({"detail-type": "Object Created", "source": "aws.s3",
        "detail": {"bucket": {"name": bucket}, "object": {"key": "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/25/d.json.gz"}}});
    let r = h
        .handle(digest.to_string().as_bytes())
        .await
        .expect("a digest file is skipped");
    assert_eq!(r.events, 0);
    let published = check_envelopes(&drain(&t.sqs, &t.all).await);
    let rules = |alerts: &[Value]| -> std::collections::BTreeSet<(String, String)> {
        alerts
            .iter()
            .filter(|a| matches!(a["kind"].as_str(), Some("event" | "threshold")))
            .map(|a| {
                (
                    a["rule_id"].as_str().unwrap_or_default().to_owned(),
                    a["severity"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_logwarden"))
        .args(["replay", "--format", "json", dir])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .await
        .expect("replay");
    let replayed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert!(!rules(&replayed).is_empty());
    assert_eq!(rules(&published), rules(&replayed));
    assert!(
        published
            .iter()
            .all(|a| a["log_group"] == format!("s3://{bucket}")),
        "alerts name the bucket"
    );

    // One missing file beside a readable one (the third, which alerts on its own): the
    // readable one is analysed and published,
    // and the invocation fails so that Lambda retries it.
    let event = json!({"Records": [
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
         "s3": {"bucket": {"name": bucket}, "object": {"key": "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/gone.json.gz"}}},
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
         "s3": {"bucket": {"name": bucket}, "object": {"key": keys[2]}}}]});
    let fresh = handler(&config, &t.arn).await.with_objects(s3.clone());
    let e = fresh
        .handle(event.to_string().as_bytes())
        .await
        .expect_err("a file that cannot be read fails the invocation");
    assert!(e.to_string().contains("gone.json.gz"), "{e}");
    let again = drain(&t.sqs, &t.all).await;
    assert!(
        !again.is_empty(),
        "the readable file's alerts are published"
    );
}

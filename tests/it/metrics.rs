//! The metrics the Lambda writes as Embedded Metric Format lines, validated against the EMF
//! specification (structure, limits, and that every declared metric and dimension is present).

use std::sync::Arc;

use logwarden::sink::metrics::emf_lines;
use logwarden::{Config, DetectorSet, Pipeline, TextSource};
use serde_json::Value;

/// Checks one EMF line against the specification; returns the metric names it declares.
fn validate_emf(line: &str) -> Result<Vec<String>, String> {
    let root: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = root.as_object().ok_or("root is not an object")?;
    let aws = obj
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no _aws object")?;
    let ts = aws.get("Timestamp").ok_or("no _aws.Timestamp")?;
    if !ts.is_i64() || ts.as_i64().unwrap_or(-1) < 0 {
        return Err("_aws.Timestamp must be a non-negative integer (ms)".into());
    }
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("no _aws.CloudWatchMetrics array")?;
    if directives.is_empty() {
        return Err("CloudWatchMetrics is empty".into());
    }
    let mut names = Vec::new();
    for d in directives {
        let ns = d
            .get("Namespace")
            .and_then(Value::as_str)
            .ok_or("directive without Namespace")?;
        if ns.is_empty() || ns.len() > 255 {
            return Err(format!("bad namespace {ns:?}"));
        }
        let dims = d
            .get("Dimensions")
            .and_then(Value::as_array)
            .ok_or("no Dimensions array")?;
        for set in dims {
            let set = set.as_array().ok_or("a DimensionSet is not an array")?;
            if set.len() > 30 {
                return Err("a DimensionSet has more than 30 keys".into());
            }
            for key in set {
                let key = key.as_str().ok_or("a dimension key is not a string")?;
                match obj.get(key) {
                    Some(Value::String(v)) if !v.is_empty() && v.len() <= 1024 => {}
                    _ => return Err(format!("dimension {key} has no string value at the root")),
                }
            }
        }
        let metrics = d
            .get("Metrics")
            .and_then(Value::as_array)
            .ok_or("no Metrics array")?;
        if metrics.len() > 100 {
            return Err("more than 100 metrics in a directive".into());
        }
        for m in metrics {
            let name = m
                .get("Name")
                .and_then(Value::as_str)
                .ok_or("metric without Name")?;
            if name.is_empty() || name.len() > 1024 {
                return Err(format!("bad metric name {name:?}"));
            }
            if let Some(unit) = m.get("Unit") {
                let ok = ["Count", "Bytes", "Seconds", "Milliseconds", "None"];
                if !unit.as_str().is_some_and(|u| ok.contains(&u)) {
                    return Err(format!("unit {unit} is not a CloudWatch unit"));
                }
            }
            match obj.get(name) {
                Some(Value::Number(_)) => {}
                Some(Value::Array(a)) if a.len() <= 100 && a.iter().all(Value::is_number) => {}
                _ => return Err(format!("metric {name} has no numeric value at the root")),
            }
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

#[test]
fn emf_lines_follow_the_specification() {
    let mut p = Pipeline::new(
        Arc::new(DetectorSet::builtin().expect("built-in")),
        Config::default(),
    );
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/samples");
    for f in [
        "api-powertools.json",
        "node-worker.json",
        "control-message.json",
        "cloudtrail.json",
    ] {
        let bytes = std::fs::read(format!("{dir}/{f}")).expect("sample");
        p.process_input(&bytes, &TextSource::default(), &mut |_| {})
            .expect("decodes");
    }
    p.finish(&mut |_| {});
    let stats = p.take_stats();
    let lines = emf_lines(
        "Logwarden",
        &logwarden::sink::metrics::of_stats(&stats),
        1_795_600_800_000,
    );
    assert!(
        lines.len() > 5,
        "totals plus per-rule lines: {}",
        lines.len()
    );
    let mut all = Vec::new();
    for line in &lines {
        all.extend(validate_emf(line).unwrap_or_else(|e| panic!("{e}: {line}")));
    }
    for name in [
        "EventsReceived",
        "EventsProcessed",
        "EventsSkipped",
        "BytesProcessed",
        "DecodeErrors",
        "AlertsSuppressed",
        "Alerts",
    ] {
        assert!(all.iter().any(|n| n == name), "{name} missing");
    }
    // The totals line carries the accounting: received = processed + skipped.
    let totals: Value = serde_json::from_str(&lines[0]).expect("json");
    assert_eq!(
        totals["EventsReceived"].as_f64(),
        Some(
            totals["EventsProcessed"].as_f64().unwrap_or(0.0)
                + totals["EventsSkipped"].as_f64().unwrap_or(0.0)
        )
    );
    assert_eq!(
        totals["EventsSkipped"].as_f64(),
        Some(1.0),
        "the control message"
    );
    // A per-rule line names its rule and severity.
    let per_rule: Vec<Value> = lines[1..]
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(per_rule.iter().any(|v| v["Rule"] == "stripe-secret-key"
        && v["Severity"] == "critical"
        && v["Alerts"] == 1.0));
}

#[test]
fn the_validator_rejects_broken_lines() {
    assert!(validate_emf(r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Rule"]],"Metrics":[{"Name":"A"}]}]},"A":1}"#).is_err());
    assert!(validate_emf(r#"{"_aws":{"Timestamp":"x","CloudWatchMetrics":[]}}"#).is_err());
    assert!(validate_emf(r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"A","Unit":"Count"}]}]},"A":1}"#).is_ok());
}

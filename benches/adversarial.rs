//! Throughput of adversarial log lines (`adversarial_shapes.rs`) through the whole pipeline,
//! against ordinary log text (the seeded corpus of `corpus.rs`). Issue 25's goal: no crafted
//! line under a tenth of normal throughput. Throughput is per byte of log message.
//!
//! `cargo bench --bench adversarial` (add `-- --quick` for a fast pass). It first measures
//! every shape and the ordinary text interleaved, round by round (the machine is shared and
//! noisy), and prints one ratio per shape; then criterion measures the shapes that are fast
//! enough for it; the ratio table is printed again at the end.

mod adversarial_shapes;
mod corpus;
mod timing;

use std::hint::black_box;
use std::sync::Arc;
use timing::{median, time};

use criterion::{Criterion, Throughput};
use logwarden::{Config, DetectorSet, Pipeline, TextSource};
use serde_json::json;

/// The goal: every shape at least this fraction of ordinary throughput.
const GOAL: f64 = 0.10;

struct Input {
    name: String,
    payload: String,
    message_bytes: usize,
}

fn payload(group: &str, stream: &str, message: &str) -> String {
    json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
        "logStream": stream, "subscriptionFilters": ["logwarden"],
        "logEvents": [{"id": "1", "timestamp": 1_795_600_800_000i64, "message": message}]})
    .to_string()
}

fn inputs() -> (Input, Vec<Input>) {
    let ordinary = corpus::payload(42, 1 << 20);
    let v: serde_json::Value = serde_json::from_str(&ordinary).expect("corpus is JSON");
    let bytes = v["logEvents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["message"].as_str().map(str::len))
                .sum()
        })
        .unwrap_or(0);
    let ordinary = Input {
        name: "ordinary".into(),
        payload: ordinary,
        message_bytes: bytes,
    };
    let shapes = adversarial_shapes::shapes()
        .into_iter()
        .map(|s| Input {
            name: s.name.to_owned(),
            payload: payload(s.group(), s.stream(), &s.message),
            message_bytes: s.message.len(),
        })
        .collect();
    (ordinary, shapes)
}

fn run(p: &mut Pipeline, input: &Input) -> usize {
    let mut n = 0;
    let _ = p.process_input(input.payload.as_bytes(), &TextSource::default(), &mut |a| {
        black_box(a);
        n += 1;
    });
    n
}

struct Row {
    name: String,
    mb_s: f64,
    ratio: f64,
}

fn table(ordinary_mb_s: f64, rows: &[Row]) {
    println!(
        "adversarial: ordinary log text {ordinary_mb_s:.1} MB/s (goal: every shape at least {GOAL:.2} of it)"
    );
    for r in rows {
        println!(
            "adversarial: {:<34} {:>9.2} MB/s  ratio {:>6.3}  {}",
            r.name,
            r.mb_s,
            r.ratio,
            if r.ratio >= GOAL { "ok" } else { "BELOW GOAL" }
        );
    }
    let below: Vec<&str> = rows
        .iter()
        .filter(|r| r.ratio < GOAL)
        .map(|r| r.name.as_str())
        .collect();
    println!(
        "adversarial: {} of {} shapes below the goal{}",
        below.len(),
        rows.len(),
        if below.is_empty() {
            String::new()
        } else {
            format!(": {}", below.join(", "))
        }
    );
}

fn main() {
    let set = Arc::new(DetectorSet::builtin().expect("built-in detectors"));
    let (ordinary, shapes) = inputs();
    let pipeline = || Pipeline::new(Arc::clone(&set), Config::default());
    let mut po = pipeline();
    let mut ps: Vec<Pipeline> = shapes.iter().map(|_| pipeline()).collect();

    // Warm up (lazily compiled regexes), then one timed pass to size the rounds.
    black_box(run(&mut po, &ordinary));
    let mut single = Vec::new();
    for (s, p) in shapes.iter().zip(ps.iter_mut()) {
        black_box(run(p, s));
        single.push(time(|| {
            black_box(run(p, s));
        }));
    }
    let slowest = single.iter().copied().fold(0.0, f64::max);
    let rounds = if slowest > 2.0 {
        3
    } else if slowest > 0.3 {
        5
    } else {
        15
    };
    let mut times_o = Vec::new();
    let mut times_s: Vec<Vec<f64>> = shapes.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        times_o.push(time(|| {
            black_box(run(&mut po, &ordinary));
        }));
        for ((s, p), t) in shapes.iter().zip(ps.iter_mut()).zip(times_s.iter_mut()) {
            t.push(time(|| {
                black_box(run(p, s));
            }));
        }
    }
    let ordinary_mb_s = ordinary.message_bytes as f64 / 1e6 / median(times_o);
    let rows: Vec<Row> = shapes
        .iter()
        .zip(times_s)
        .map(|(s, t)| {
            let mb_s = s.message_bytes as f64 / 1e6 / median(t);
            Row {
                name: s.name.clone(),
                mb_s,
                ratio: mb_s / ordinary_mb_s,
            }
        })
        .collect();
    println!("adversarial: interleaved medians of {rounds} rounds");
    table(ordinary_mb_s, &rows);

    // Criterion, for the shapes fast enough to be sampled many times.
    let mut c = Criterion::default().configure_from_args();
    {
        let mut g = c.benchmark_group("adversarial");
        g.throughput(Throughput::Bytes(ordinary.message_bytes as u64));
        g.bench_function("ordinary", |b| {
            b.iter(|| black_box(run(&mut po, &ordinary)))
        });
        for ((s, p), t) in shapes.iter().zip(ps.iter_mut()).zip(&single) {
            if *t > 0.25 {
                println!(
                    "adversarial: {} takes {:.2} s a run: left out of criterion",
                    s.name, t
                );
                continue;
            }
            g.throughput(Throughput::Bytes(s.message_bytes as u64));
            g.bench_function(s.name.as_str(), |b| b.iter(|| black_box(run(p, s))));
        }
        g.finish();
    }
    c.final_summary();
    table(ordinary_mb_s, &rows);
}

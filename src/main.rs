//! `logwarden`: replay logs through the same pipeline the Lambda runs, and manage detectors.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};

use logwarden::sink::metrics::CloudWatchPublisher;
use logwarden::sink::sns::SnsPublisher;
use logwarden::sink::{AlertSink, JsonLinesSink, TableSink};
use logwarden::{Alert, Config, DetectorSet, Pipeline, Severity, Stats, TextSource};

/// Exit code: alerts at or above `--fail-on`.
const EXIT_ALERTS: u8 = 1;
/// Exit code: an error (bad arguments, invalid detector file, undecodable input).
const EXIT_ERROR: u8 = 2;
/// Inputs larger than this get a progress bar when stderr is a terminal.
const PROGRESS_MIN_BYTES: u64 = 4 << 20;

#[derive(Parser, Debug)]
#[command(
    name = "logwarden",
    version,
    about = "Security log analyzer for AWS CloudWatch Logs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Replay log files, directories or stdin through the detectors and print the alerts.
    Replay(ReplayArgs),
    /// Work with detector files.
    #[command(subcommand)]
    Detectors(DetectorsCommand),
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// A readable table.
    Text,
    /// JSON Lines, one alert per line.
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Level {
    Low,
    Medium,
    High,
    Critical,
}

impl From<Level> for Severity {
    fn from(l: Level) -> Self {
        match l {
            Level::Low => Severity::Low,
            Level::Medium => Severity::Medium,
            Level::High => Severity::High,
            Level::Critical => Severity::Critical,
        }
    }
}

#[derive(Args, Debug, Clone)]
struct DetectorArgs {
    /// Extra detector file or directory (repeatable), on top of the built-in set; a
    /// gitleaks.toml loads as-is.
    #[arg(long = "detectors", value_name = "PATH")]
    detectors: Vec<PathBuf>,
    /// Use only the --detectors files.
    #[arg(long)]
    no_builtin: bool,
}

#[derive(Args, Debug)]
struct ReplayArgs {
    /// Files or directories (recursive); `-` or nothing for stdin.
    paths: Vec<PathBuf>,
    /// Output format. Default: text on a terminal, json otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Exit 1 if any alert is at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    fail_on: Level,
    /// Drop alerts below this severity from the output.
    #[arg(long, value_enum, default_value = "low")]
    min_severity: Level,
    #[command(flatten)]
    detectors: DetectorArgs,
    /// Log group given to plain-text and JSON Lines input (default: the file name).
    #[arg(long)]
    log_group: Option<String>,
    /// Log stream given to plain-text and JSON Lines input (default: the file name).
    #[arg(long)]
    log_stream: Option<String>,
    /// Print a processing summary on stderr at the end.
    #[arg(long)]
    stats: bool,
    /// Also publish the alerts to this SNS topic, for real (standard AWS config chain;
    /// `AWS_ENDPOINT_URL` works for a local endpoint).
    #[arg(long, value_name = "ARN")]
    sns_topic_arn: Option<String>,
    /// Also publish metrics to CloudWatch under this namespace (PutMetricData).
    #[arg(long, value_name = "NS")]
    metrics_namespace: Option<String>,
    /// Share correlation windows through this DynamoDB table (partition key `pk`, a string),
    /// as the Lambda does with WINDOW_TABLE: counts add up with every other process using it.
    #[arg(long, value_name = "NAME")]
    window_table: Option<String>,
}

#[derive(Subcommand, Debug)]
enum DetectorsCommand {
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LOGWARDEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Replay(args) => replay(args),
        Command::Detectors(DetectorsCommand::Check { paths }) => check(&paths),
        Command::Detectors(DetectorsCommand::List { format, detectors }) => {
            list(format, &detectors)
        }
    }
}

fn load_detectors(args: &DetectorArgs) -> Result<DetectorSet, String> {
    let mut builder = DetectorSet::builder();
    if !args.no_builtin {
        builder = builder.builtin();
    }
    for p in &args.detectors {
        builder = builder.path(p).map_err(|e| e.to_string())?;
    }
    let set = builder.build().map_err(|e| e.to_string())?;
    for w in set.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(set)
}

fn check(paths: &[PathBuf]) -> ExitCode {
    let args = DetectorArgs {
        detectors: paths.to_vec(),
        no_builtin: !paths.is_empty(),
    };
    let set = match load_detectors(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let set = Arc::new(set);
    let failures = logwarden::check::check(&set);
    let rules = set.rules();
    let examples: usize = rules.iter().map(|r| r.examples).sum();
    let negatives: usize = rules.iter().map(|r| r.negative_examples).sum();
    for f in &failures {
        eprintln!("FAIL {} ({}): {}", f.rule, f.location, f.problem);
    }
    let failed_rules: std::collections::BTreeSet<&str> =
        failures.iter().map(|f| f.rule.as_str()).collect();
    println!(
        "{} rules, {} examples, {} negative examples: {} passed, {} failed",
        rules.len(),
        examples,
        negatives,
        rules.len() - failed_rules.len(),
        failed_rules.len()
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ALERTS)
    }
}

fn list(format: Format, args: &DetectorArgs) -> ExitCode {
    let set = match load_detectors(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let mut out = std::io::stdout().lock();
    for r in set.rules() {
        let line = match format {
            Format::Json => serde_json::to_string(&r).unwrap_or_default(),
            Format::Text => format!(
                "{:<40} {:<7} {:<8} {}",
                r.id,
                r.kind.as_str(),
                r.severity.as_str(),
                r.description
            ),
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::from(EXIT_ERROR);
        }
    }
    ExitCode::SUCCESS
}

/// One input to replay.
enum Input {
    Stdin,
    File(PathBuf),
}

fn collect_inputs(paths: &[PathBuf], errors: &mut Vec<String>) -> Vec<Input> {
    if paths.is_empty() {
        return vec![Input::Stdin];
    }
    let mut inputs = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if p.is_dir() {
            let mut files = Vec::new();
            if let Err(e) = walk(p, &mut files) {
                errors.push(format!("{}: cannot read directory: {e}", p.display()));
            }
            files.sort();
            inputs.extend(files.into_iter().map(Input::File));
        } else {
            inputs.push(Input::File(p.clone()));
        }
    }
    inputs
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn replay(args: ReplayArgs) -> ExitCode {
    let started = Instant::now();
    let detectors = match load_detectors(&args.detectors) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let config = Config {
        min_severity: args.min_severity.into(),
        ..Config::default()
    };
    let mut pipeline = Pipeline::new(detectors, config);
    let shared = match &args.window_table {
        None => None,
        Some(table) => match SharedWindows::new(table) {
            Ok(s) => {
                pipeline.share_windows();
                Some(s)
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_ERROR);
            }
        },
    };
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Text
    } else {
        Format::Json
    });
    let stdout = std::io::stdout().lock();
    let sink: Box<dyn AlertSink> = match format {
        Format::Json => Box::new(JsonLinesSink::new(std::io::BufWriter::new(stdout))),
        Format::Text => Box::new(TableSink::new(std::io::BufWriter::new(stdout))),
    };
    let fail_on: Severity = args.fail_on.into();
    let mut errors = Vec::new();
    let inputs = collect_inputs(&args.paths, &mut errors);
    for e in &errors {
        eprintln!("error: {e}");
    }
    let total: u64 = inputs
        .iter()
        .map(|i| match i {
            Input::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            Input::Stdin => 0,
        })
        .sum();
    let progress = (total >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut out = ReplayOutput {
        sink,
        worst: None,
        sink_error: None,
        published: args.sns_topic_arn.is_some().then(Vec::new),
    };
    for input in &inputs {
        let (name, bytes) = match read_input(input) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("error: {e}");
                errors.push(e);
                continue;
            }
        };
        let source = TextSource {
            log_group: args.log_group.clone().unwrap_or_else(|| name.clone()),
            log_stream: args.log_stream.clone().unwrap_or_else(|| name.clone()),
        };
        let mut emit = |alert: Alert| out.take(alert);
        match pipeline.process_input(&bytes, &source, &mut emit) {
            Ok(record_errors) => {
                for (i, e) in record_errors {
                    let msg = format!("{}: record {}: {e}", display_name(input), i + 1);
                    eprintln!("error: {msg}");
                    errors.push(msg);
                }
            }
            Err(e) => {
                let msg = format!("{}: {e}", display_name(input));
                eprintln!("error: {msg}");
                errors.push(msg);
            }
        }
        // Shared windows: one flush per input (one UpdateItem per window it touched).
        if let Some(s) = &shared
            && let Err(e) = s.rt.block_on(pipeline.flush_windows(&s.store, &mut emit))
        {
            let msg = format!("{}: {e}", display_name(input));
            eprintln!("error: {msg}");
            errors.push(msg);
        }
        if let Some(bar) = &progress {
            bar.inc(bytes.len() as u64);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    pipeline.finish(&mut |alert: Alert| out.take(alert));
    if let Err(e) = out.sink.finish() {
        out.sink_error.get_or_insert(e);
    }
    if let Some(e) = out.sink_error {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_ERROR);
    }
    if args.stats {
        print_stats(
            pipeline.stats(),
            started.elapsed().as_secs_f64(),
            shared.is_some(),
        );
    }
    if (args.sns_topic_arn.is_some() || args.metrics_namespace.is_some())
        && let Err(e) = publish(
            &args,
            out.published.as_deref().unwrap_or_default(),
            pipeline.stats(),
        )
    {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_ERROR);
    }
    if !errors.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else if out.worst.is_some_and(|w| w >= fail_on) {
        ExitCode::from(EXIT_ALERTS)
    } else {
        ExitCode::SUCCESS
    }
}

/// The DynamoDB window store and the runtime its requests run on.
struct SharedWindows {
    rt: tokio::runtime::Runtime,
    store: logwarden::correlate::DynamoWindowStore,
}

impl SharedWindows {
    fn new(table: &str) -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the async runtime: {e}"))?;
        let config = rt.block_on(aws_config::load_from_env());
        let store = logwarden::correlate::DynamoWindowStore::new(
            aws_sdk_dynamodb::Client::new(&config),
            table,
        );
        Ok(SharedWindows { rt, store })
    }
}

/// Publishes alerts to SNS and metrics to CloudWatch through the standard AWS config chain.
fn publish(args: &ReplayArgs, alerts: &[Alert], stats: &Stats) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    rt.block_on(async {
        let config = aws_config::load_from_env().await;
        if let Some(arn) = &args.sns_topic_arn {
            let sns = SnsPublisher::new(aws_sdk_sns::Client::new(&config), arn.clone());
            let n = sns.publish(alerts).await.map_err(|e| e.to_string())?;
            eprintln!("published {n} alert(s) to {arn}");
        }
        if let Some(ns) = &args.metrics_namespace {
            let cw = CloudWatchPublisher::new(aws_sdk_cloudwatch::Client::new(&config), ns.clone());
            cw.put(&stats.metrics()).await.map_err(|e| e.to_string())?;
            eprintln!("published metrics to CloudWatch namespace {ns}");
        }
        Ok(())
    })
}

/// Where replayed alerts go: the output sink, the worst severity seen (for the exit code), and
/// the alerts kept for publishing when `--sns-topic-arn` is given.
struct ReplayOutput {
    sink: Box<dyn AlertSink>,
    worst: Option<Severity>,
    sink_error: Option<logwarden::SinkError>,
    published: Option<Vec<Alert>>,
}

impl ReplayOutput {
    fn take(&mut self, alert: Alert) {
        self.worst = self.worst.max(Some(alert.severity));
        if self.sink_error.is_none()
            && let Err(e) = self.sink.send(&alert)
        {
            self.sink_error = Some(e);
        }
        if let Some(p) = &mut self.published {
            p.push(alert);
        }
    }
}

fn display_name(input: &Input) -> String {
    match input {
        Input::Stdin => "<stdin>".to_owned(),
        Input::File(p) => p.display().to_string(),
    }
}

fn read_input(input: &Input) -> Result<(String, Vec<u8>), String> {
    match input {
        Input::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map_err(|e| format!("<stdin>: cannot read: {e}"))?;
            Ok(("stdin".to_owned(), buf))
        }
        Input::File(p) => {
            let bytes =
                std::fs::read(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string());
            Ok((name, bytes))
        }
    }
}

fn print_stats(s: &Stats, secs: f64, shared: bool) {
    let mb = s.input_bytes as f64 / 1e6;
    let rate = if secs > 0.0 { mb / secs } else { 0.0 };
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "inputs: {} ({} failed, {} records failed)\n\
         events: {} received, {} processed, {} skipped (control), {} skipped (ignored group), {} truncated\n\
         bytes: {} input, {} message\n\
         alerts: {} ({} below min severity)\n\
         time: {:.3}s, {:.1} MB/s",
        s.inputs,
        s.inputs_failed,
        s.records_failed,
        s.events_received,
        s.events_processed,
        s.events_skipped_control,
        s.events_skipped_ignored_group,
        s.events_truncated,
        s.input_bytes,
        s.message_bytes,
        s.alerts,
        s.alerts_below_min_severity,
        secs,
        rate
    );
    if let Some(mb) = peak_rss_mb() {
        let _ = writeln!(err, "peak RSS: {mb:.1} MB");
    }
    for (rule, n) in &s.alerts_by_rule {
        let _ = writeln!(err, "  {rule}: {n}");
    }
    if shared {
        let _ = writeln!(
            err,
            "window store: {} requests, {} windows updated, {} skipped (known), {} retried batch parts not counted again",
            s.window_store_requests,
            s.window_store_windows,
            s.window_store_skipped,
            s.window_parts_already_counted
        );
    }
}

/// The process's peak resident set size (Linux `VmHWM`), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

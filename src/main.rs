//! `logwarden`: replay logs through the same invocation driver the Lambda runs, and manage
//! detectors. This file is wiring only: arguments in, the library called, an exit code out.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use logwarden::driver::{Driver, MetricsOut, OutputChoice, Outputs};
use logwarden::input;
use logwarden::sink::{AlertSink, JsonLinesSink, TableSink};
use logwarden::{Config, DetectorSet, Pipeline, Severity};

/// Exit code: alerts at or above `--fail-on`.
const EXIT_ALERTS: u8 = 1;
/// Exit code: an error (bad arguments, invalid detector file, undecodable input).
const EXIT_ERROR: u8 = 2;

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
    /// Print the keyed fingerprint of a value read on stdin (to check a suspected secret).
    Fingerprint(KeyArgs),
    /// For each log event: which rules' keywords hit, which regexes confirmed, which
    /// allowlists, validators and suppressions applied, and why it did or did not alert.
    Explain(ExplainArgs),
}

#[derive(Args, Debug)]
struct ExplainArgs {
    /// Files (`-` or nothing for stdin).
    paths: Vec<PathBuf>,
    #[command(flatten)]
    detectors: DetectorArgs,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// A readable table.
    Text,
    /// JSON Lines, one alert per line.
    Json,
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
    /// Suppressions file (repeatable; `suppressions.toml` in a detectors directory loads too).
    #[arg(long = "suppressions", value_name = "FILE")]
    suppressions: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone)]
struct KeyArgs {
    /// Secrets Manager secret (name or ARN) holding the fingerprint key; default: the local
    /// key file (created 0600 on first use).
    #[arg(long, value_name = "ID")]
    fingerprint_key_secret: Option<String>,
}

#[derive(Args, Debug)]
struct ReplayArgs {
    /// Files or directories (recursive); `-` or nothing for stdin.
    paths: Vec<PathBuf>,
    /// Output format. Default: text on a terminal, json otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Exit 1 if any alert is at or above this severity.
    #[arg(long, default_value = "low")]
    fail_on: Severity,
    /// Drop alerts below this severity from the output.
    #[arg(long, default_value = "low")]
    min_severity: Severity,
    #[command(flatten)]
    detectors: DetectorArgs,
    #[command(flatten)]
    key: KeyArgs,
    /// Log group given to plain-text and JSON Lines input (default: the file name).
    #[arg(long)]
    log_group: Option<String>,
    /// Log stream given to plain-text and JSON Lines input (default: the path).
    #[arg(long)]
    log_stream: Option<String>,
    /// Print a processing summary on stderr at the end.
    #[arg(long)]
    stats: bool,
    /// Also publish the alerts to this SNS topic, for real.
    #[arg(long, value_name = "ARN")]
    sns_topic_arn: Option<String>,
    /// Also publish metrics to CloudWatch under this namespace (PutMetricData).
    #[arg(long, value_name = "NS")]
    metrics_namespace: Option<String>,
    /// Share correlation windows through this DynamoDB table (partition key `pk`, a string).
    #[arg(long, value_name = "NAME")]
    window_table: Option<String>,
    /// Also import every alert into AWS Security Hub (ASFF findings).
    #[arg(long)]
    securityhub: bool,
    /// Also put every alert on this EventBridge bus (name or ARN) as an OCSF Detection Finding.
    #[arg(long, value_name = "NAME")]
    event_bus: Option<String>,
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
    logwarden::logging::init("warn", false);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Replay(args) => runtime().and_then(|rt| rt.block_on(replay(args))),
        Command::Detectors(DetectorsCommand::Check { paths }) => {
            let args = DetectorArgs {
                no_builtin: !paths.is_empty(),
                detectors: paths,
                suppressions: Vec::new(),
            };
            load(&args).map(|set| logwarden::check::run(&Arc::new(set), &mut std::io::stdout()))
        }
        Command::Detectors(DetectorsCommand::List { format, detectors }) => {
            load(&detectors).map(|set| {
                logwarden::check::list(&set, format == Format::Json, &mut std::io::stdout())
            })
        }
        Command::Fingerprint(key) => runtime().and_then(|rt| rt.block_on(fingerprint(key))),
        Command::Explain(args) => runtime().and_then(|rt| rt.block_on(explain(args))),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

type Failure = Box<dyn std::error::Error>;

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn load(args: &DetectorArgs) -> Result<DetectorSet, Failure> {
    let set = DetectorSet::load(&args.detectors, !args.no_builtin, &args.suppressions)?;
    set.warnings()
        .iter()
        .for_each(|w| eprintln!("warning: {w}"));
    Ok(set)
}

async fn fingerprint(key: KeyArgs) -> Result<u8, Failure> {
    let mut value = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut value)?;
    let value = value.strip_suffix('\n').unwrap_or(&value);
    println!(
        "{}",
        logwarden::keys::resolve(key.fingerprint_key_secret.as_deref())
            .await?
            .fingerprint(value.as_bytes())
    );
    Ok(0)
}

async fn explain(args: ExplainArgs) -> Result<u8, Failure> {
    let set = load(&args.detectors)?;
    let fp = logwarden::keys::resolve(args.key.fingerprint_key_secret.as_deref()).await?;
    let found = input::collect(&args.paths);
    found
        .errors
        .iter()
        .chain(&found.skipped)
        .for_each(|e| eprintln!("warning: {e}"));
    let mut out = std::io::stdout().lock();
    let mut alerting = 0;
    for inp in &found.inputs {
        let mut pieces = input::open(inp)?;
        while let Some(piece) = pieces.next_piece()? {
            let source = logwarden::TextSource {
                log_group: inp.default_log_group(),
                log_stream: inp.default_log_stream(),
                first_line: piece.first_line,
            };
            alerting += logwarden::explain::explain(&set, &fp, &piece.bytes, &source, &mut out)?;
        }
    }
    Ok(u8::from(alerting > 0))
}

async fn replay(args: ReplayArgs) -> Result<u8, Failure> {
    let started = std::time::Instant::now();
    let detectors = Arc::new(load(&args.detectors)?);
    let config = Config {
        min_severity: args.min_severity,
        ..Config::default()
    };
    let fingerprints =
        Arc::new(logwarden::keys::resolve(args.key.fingerprint_key_secret.as_deref()).await?);
    let choice = OutputChoice {
        sns_topic: args.sns_topic_arn.clone(),
        securityhub: args.securityhub,
        event_bus: args.event_bus.clone(),
    };
    let needs_aws = choice.sns_topic.is_some() || choice.securityhub || choice.event_bus.is_some();
    let aws = if needs_aws || args.metrics_namespace.is_some() || args.window_table.is_some() {
        Some(aws_config::load_from_env().await)
    } else {
        None
    };
    let outputs = match &aws {
        Some(a) => {
            let metrics = args
                .metrics_namespace
                .as_deref()
                .map_or(MetricsOut::None, |ns| Outputs::put_metrics(a, ns));
            Outputs::build(a, &choice, detectors.tags_by_rule(), metrics).await?
        }
        None => Outputs::default(),
    };
    let pipeline = Pipeline::with_fingerprints(detectors, config, fingerprints);
    let mut driver = Driver::new(pipeline, outputs);
    if let (Some(a), Some(table)) = (aws.as_ref(), &args.window_table) {
        let store =
            logwarden::correlate::DynamoWindowStore::new(aws_sdk_dynamodb::Client::new(a), table);
        driver = driver.with_store(Arc::new(store));
    }
    let table = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Text
    } else {
        Format::Json
    });
    let out = std::io::LineWriter::new(std::io::stdout());
    let mut sink: Box<dyn AlertSink + Send> = match table {
        Format::Json => Box::new(JsonLinesSink::new(out)),
        Format::Text => Box::new(TableSink::new(out)),
    };
    let (mut worst, mut sink_error, mut errors) = (None, None, 0usize);
    let found = input::collect(&args.paths);
    found.errors.iter().for_each(|e| eprintln!("error: {e}"));
    found.skipped.iter().for_each(|w| eprintln!("warning: {w}"));
    errors += found.errors.len();
    let naming = input::Naming {
        log_group: args.log_group.clone(),
        log_stream: args.log_stream.clone(),
    };
    let finished = {
        let mut local = |a: &logwarden::Alert| {
            worst = worst.max(Some(a.severity));
            if let Err(e) = sink.send(a) {
                sink_error.get_or_insert(e);
            }
        };
        let mut error = |e: String| {
            eprintln!("error: {e}");
            errors += 1;
        };
        input::replay(&mut driver, &found.inputs, &naming, &mut local, &mut error).await;
        driver.finish(&mut local).await
    };
    if let Some(e) = sink_error.or_else(|| sink.finish().err()) {
        return Err(e.into());
    }
    if args.stats {
        eprint!(
            "{}",
            logwarden::report::summary(driver.last_run(), &finished, started.elapsed())
        );
    }
    finished?;
    Ok(if errors > 0 {
        EXIT_ERROR
    } else if worst.is_some_and(|w| w >= args.fail_on) {
        EXIT_ALERTS
    } else {
        0
    })
}

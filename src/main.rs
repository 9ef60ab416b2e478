//! `logwarden`: replay logs through the same invocation driver the Lambda runs, and manage
//! detectors. This file is wiring only: arguments in ([`cli`]), the library called, an exit
//! code out.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use cli::{Cli, Command, DetectorArgs, DetectorsCommand, ExplainArgs, Format, KeyArgs, ReplayArgs};
use logwarden::driver::OutputChoice;
use logwarden::input;
use logwarden::replay::{Connections, Naming};
use logwarden::sink::{AlertSink, JsonLinesSink, TableSink};
use logwarden::{Config, DetectorSet, Pipeline};

/// Exit code: alerts at or above `--fail-on`.
const EXIT_ALERTS: u8 = 1;
/// Exit code: an error (bad arguments, invalid detector file, undecodable input).
const EXIT_ERROR: u8 = 2;

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
    let alerting = logwarden::explain::explain_inputs(
        &set,
        &fp,
        &found.inputs,
        &mut std::io::stdout().lock(),
    )?;
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
    let connections = Connections {
        outputs: OutputChoice {
            sns_topic: args.sns_topic_arn,
            securityhub: args.securityhub,
            event_bus: args.event_bus,
        },
        metrics_namespace: args.metrics_namespace,
        window_table: args.window_table,
    };
    let pipeline = Pipeline::with_fingerprints(detectors, config, fingerprints);
    let mut driver = connections.driver(pipeline).await?;
    let out = std::io::LineWriter::new(std::io::stdout());
    let terminal = std::io::stdout().is_terminal();
    let mut sink: Box<dyn AlertSink + Send> = match args.format {
        Some(Format::Json) => Box::new(JsonLinesSink::new(out)),
        Some(Format::Text) => Box::new(TableSink::new(out)),
        None if terminal => Box::new(TableSink::new(out)),
        None => Box::new(JsonLinesSink::new(out)),
    };
    let (mut worst, mut sink_error, mut errors) = (None, None, 0usize);
    let found = input::collect(&args.paths);
    found.errors.iter().for_each(|e| eprintln!("error: {e}"));
    found.skipped.iter().for_each(|w| eprintln!("warning: {w}"));
    errors += found.errors.len();
    let naming = Naming {
        log_group: args.log_group,
        log_stream: args.log_stream,
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
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
        let inputs = &found.inputs;
        logwarden::replay::replay(
            &mut driver,
            inputs,
            &naming,
            threads,
            &mut local,
            &mut error,
        )
        .await;
        driver.finish(&mut local).await
    };
    if let Some(e) = sink_error.or_else(|| sink.finish().err()) {
        return Err(e.into());
    }
    if args.stats {
        let summary = logwarden::report::summary(driver.last_run(), &finished, started.elapsed());
        eprint!("{summary}");
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

//! `logwarden`: replay logs through the same invocation driver the Lambda runs, explain what
//! it does, and manage detectors. This file is wiring only: arguments in ([`cli`]), the
//! library called, an exit code out.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use cli::{
    Cli, Command, DetectorArgs, DetectorsCommand, ExplainArgs, Format, KeyArgs, NamingArgs,
    ReplayArgs,
};
use logwarden::DetectorSet;
use logwarden::clock::{Clock, SystemClock};
use logwarden::driver::MetricsOut;
use logwarden::input;
use logwarden::replay::Naming;
use logwarden::settings::{Parts, Settings};
use logwarden::sink::{AlertSink, JsonLinesSink, TableSink};

/// Exit code: alerts at or above `--fail-on`.
const EXIT_ALERTS: u8 = 1;
/// Exit code: an error (bad arguments, invalid detector file, undecodable input).
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let _ = logwarden::startup::tune_allocator();
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
            load(&args).map(|set| {
                logwarden::check::run(&Arc::new(set), &SystemClock, &mut std::io::stdout())
            })
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

/// Prints what loading a detector set warned about.
fn warn_about(set: &DetectorSet) {
    set.warnings()
        .iter()
        .chain(&set.suppressions().expired_notices(SystemClock.now()))
        .for_each(|w| eprintln!("warning: {w}"));
}

/// The detector set `detectors check` and `detectors list` read: with the built-in rules'
/// examples and tests.
fn load(args: &DetectorArgs) -> Result<DetectorSet, Failure> {
    let b = DetectorSet::builder();
    let b = if args.no_builtin {
        b
    } else {
        b.builtin_with_examples()
    };
    let set = b.files(&args.detectors, &args.suppressions)?.build()?;
    warn_about(&set);
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

/// The parts of a run from its settings: the detector set and key always, the AWS clients
/// only when the settings reach AWS.
async fn parts(settings: &Settings) -> Result<Parts, Failure> {
    let detectors = Arc::new(settings.detectors()?);
    warn_about(&detectors);
    let fingerprints = logwarden::keys::resolve(settings.fingerprint_key_secret.as_deref()).await?;
    let wanted = settings.sns_topic_arn.is_some()
        || settings.securityhub
        || settings.event_bus.is_some()
        || settings.metrics_namespace.is_some()
        || settings.window_table.is_some()
        || settings.verify;
    if !wanted {
        return Ok(Parts::local(settings, detectors, fingerprints));
    }
    let aws = aws_config::load_from_env().await;
    let metrics = settings
        .metrics_namespace
        .as_deref()
        .map_or(MetricsOut::None, |ns| {
            logwarden::driver::Outputs::put_metrics(&aws, ns)
        });
    Ok(Parts::build(settings, &aws, detectors, fingerprints, metrics).await?)
}

fn naming(args: NamingArgs) -> Naming {
    Naming {
        log_group: args.log_group,
        log_stream: args.log_stream,
    }
}

fn inputs(paths: &[std::path::PathBuf]) -> (Vec<input::Input>, usize) {
    let found = input::collect(paths);
    found.errors.iter().for_each(|e| eprintln!("error: {e}"));
    found.skipped.iter().for_each(|w| eprintln!("warning: {w}"));
    (found.inputs, found.errors.len())
}

async fn explain(args: ExplainArgs) -> Result<u8, Failure> {
    let settings = args.settings.settings()?;
    let parts = Parts::local(
        &settings,
        Arc::new(settings.detectors()?),
        logwarden::keys::resolve(settings.fingerprint_key_secret.as_deref()).await?,
    );
    warn_about(&parts.detectors);
    let (inputs, errors) = inputs(&args.paths);
    let explained =
        logwarden::explain::explain(parts.pipeline(), &inputs, &naming(args.naming)).await;
    explained
        .errors
        .iter()
        .for_each(|e| eprintln!("error: {e}"));
    explained.write(args.format == Format::Json, &mut std::io::stdout().lock())?;
    Ok(if errors + explained.errors.len() > 0 {
        EXIT_ERROR
    } else {
        u8::from(explained.alerts() > 0)
    })
}

async fn replay(args: ReplayArgs) -> Result<u8, Failure> {
    let started = std::time::Instant::now();
    let settings = args.settings.settings()?;
    let (inputs, mut errors) = inputs(&args.paths);
    let naming = naming(args.naming);
    // Reading and decoding start now, on their own threads, beside the detector build.
    let replay =
        logwarden::replay::Replay::start(&inputs, &naming, settings.threads(), &settings.config());
    let parts = parts(&settings).await?;
    // The workers start analysing now; the driver (windows, incidents) is built beside them.
    let engine = parts.engine();
    replay.open(&engine);
    let mut driver = parts.driver_with(engine);
    let out = std::io::LineWriter::new(std::io::stdout());
    let terminal = std::io::stdout().is_terminal();
    let mut sink: Box<dyn AlertSink + Send> = match args.format {
        Some(Format::Json) => Box::new(JsonLinesSink::new(out)),
        Some(Format::Text) => Box::new(TableSink::new(out)),
        None if terminal => Box::new(TableSink::new(out)),
        None => Box::new(JsonLinesSink::new(out)),
    };
    let (mut worst, mut sink_error) = (None, None);
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
        replay.run(&mut driver, &mut local, &mut error).await;
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
    // The process ends here: freeing the detector set and the windows piece by piece would
    // cost a short replay about 1.5 % of its time, for nothing (the run is over and every
    // output flushed).
    std::mem::forget(driver);
    Ok(if errors > 0 {
        EXIT_ERROR
    } else if worst.is_some_and(|w| w >= args.fail_on) {
        EXIT_ALERTS
    } else {
        0
    })
}

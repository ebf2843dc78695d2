//! `trailsight detect`: CloudTrail files in, CloudTrail Insights records out.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use trailsight_engine::{Detector, DetectorConfig};
use trailsight_input::pipeline;

use crate::args::{BadInputArgs, DetectorArgs, RunArgs};
use crate::charts::{detect_page, detect_targets, detections};
use crate::html;
use crate::output::{write_json_lines, write_s3_bucket, write_s3_layout};
use crate::progress::Progress;
use crate::recount::{RecountSettings, recount, recount_options};
use crate::run::{RunSettings, TrailRun, our_intervals, refuse_standard_input, run_detector};
use crate::sources::SelectionArgs;
use crate::summary::Stopwatch;

/// Arguments of `trailsight detect`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// CloudTrail files or directories (walked recursively; `AWSLogs/` trees, organization
    /// trails included), s3://BUCKET/PREFIX, or `-` for standard input. Plain or gzip: log files, JSON lines,
    /// lookup-events output, EventBridge and CloudWatch Logs envelopes.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Write Insights in CloudTrail's S3 layout under DIR, or under s3://BUCKET/PREFIX/,
    /// instead of JSON lines on stdout.
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub detector: DetectorArgs,

    #[command(flatten)]
    pub selection: SelectionArgs,

    #[command(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    pub bad_input: BadInputArgs,

    /// Also write the summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,

    /// Also write a self-contained HTML report to FILE: the trail, a sortable table of the
    /// insights and a chart of each (the trail is read a second time for the charts).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Only read, decompress and parse the files (no detector, no output) and print the rate on
    /// stderr: the floor a run is measured against (docs/benchmarks.md).
    #[arg(long)]
    pub parse_only: bool,
}

/// Runs `trailsight detect`.
pub fn run(args: &DetectArgs) -> anyhow::Result<ExitCode> {
    if args.html.is_some() {
        refuse_standard_input(
            &args.paths,
            "--html reads the trail a second time for the charts",
        )?;
    }
    let quiet = args.run.quiet;
    let config = args.detector.config()?;
    let clock = Stopwatch::start();
    let discovery = args.selection.discover(&args.paths, &config)?;
    let mut detector = Detector::new(config)?;
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for error in &discovery.errors {
        writeln!(err, "trailsight: error: {error}")?;
    }
    if discovery.files.is_empty() && discovery.errors.is_empty() && !quiet {
        writeln!(
            err,
            "trailsight: warning: no trail files found under the given paths"
        )?;
    }
    let threads = args.run.threads();
    let limits = args.detector.read_limits();
    if args.parse_only {
        let counts = pipeline::parse_only(&discovery.files, threads, &limits)?;
        let seconds = clock.seconds();
        writeln!(
            err,
            "trailsight: parse-only: {} files, {} MB stored, {} MB of JSON, {} records ({} events) \
             in {seconds:.3} s on {threads} threads: {:.0} records/s, {:.1} MB/s of JSON",
            counts.files,
            counts.stored_bytes / 1_000_000,
            counts.document_bytes / 1_000_000,
            counts.records,
            counts.events,
            counts.records as f64 / seconds,
            counts.document_bytes as f64 / 1e6 / seconds,
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let settings = RunSettings {
        threads,
        limits,
        max_errors_per_file: args.bad_input.max_errors_per_file,
        quiet,
    };
    let trail = run_detector(discovery, &mut detector, &settings, clock, &mut err)?;
    if let Some(path) = &args.html {
        let page = html_report(&trail, detector.config(), &settings)?;
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
    }
    let TrailRun {
        mut summary,
        mut records,
        ..
    } = trail;
    if args.selection.keep_in_range(&mut records) {
        summary.count_records(&records);
    }

    match &args.out {
        Some(out) if out.to_str().is_some_and(|o| o.starts_with("s3://")) => {
            let url = out.to_str().unwrap_or_default();
            let keys = write_s3_bucket(&records, url)?;
            summary.output_files = Some(keys.len() as u64);
        }
        Some(dir) => {
            let files = write_s3_layout(&records, dir)?;
            summary.output_files = Some(files.len() as u64);
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            match write_json_lines(&records, &mut out).and_then(|()| out.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                other => other.context("writing records to stdout")?,
            }
        }
    }
    if let Some(path) = &args.summary_json {
        let json = serde_json::to_string_pretty(&summary)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if !quiet {
        summary.print(&mut err)?;
    }
    Ok(args
        .bad_input
        .exit_code(summary.has_problems(), quiet, &mut err)?)
}

/// The HTML report of a run: its records, and the series around each from one more pass over
/// the trail.
fn html_report(
    trail: &TrailRun,
    config: &DetectorConfig,
    settings: &RunSettings,
) -> anyhow::Result<String> {
    let intervals = our_intervals(&trail.records);
    let targets = detect_targets(&intervals);
    let files = &trail.discovery.files;
    let mut progress = Progress::new("charts", files.len(), settings.quiet);
    let recounted = recount(
        files,
        &targets,
        &recount_options(config),
        RecountSettings {
            threads: settings.threads,
            max_details: 0,
            limits: settings.limits,
        },
        &mut progress,
    )?;
    drop(progress);
    let page = detect_page(
        &trail.summary,
        trail.overview.clone(),
        &intervals,
        &detections(&trail.records),
        &targets,
        recounted.targets,
    );
    Ok(html::render(&page))
}

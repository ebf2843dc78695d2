//! Running the detector over a trail, the one driver `detect`, `replay` and `explain` share:
//! files found (their errors printed), read through the input layer's pipeline into the
//! detector, each file's bad records reported, a progress bar, and what the run gathered (the
//! summary, the trail's extent, the Insights records found in it, trailsight's records in
//! output order).

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::bail;
use trailsight_engine::parse::DocumentFormat;
use trailsight_engine::reference::{InsightInterval, ReferenceInsight, pair};
use trailsight_engine::{Detector, InsightRecord};
use trailsight_input::pipeline::{self, FileOutcome};
use trailsight_input::{Discovery, ReadLimits, discover};

use crate::progress::Progress;
use crate::summary::{Overview, Stopwatch, Summary};

/// How a run reads the trail and reports its files.
#[derive(Clone, Copy, Debug)]
pub struct RunSettings {
    /// Parse threads.
    pub threads: usize,
    /// The caps of `--max-document-mib`.
    pub limits: ReadLimits,
    /// Error lines printed per file.
    pub max_errors_per_file: usize,
    /// No progress bar.
    pub quiet: bool,
}

/// An Insights record found in the trail (a synced bucket's `CloudTrail-Insight/` files).
#[derive(Clone, Debug)]
pub struct TrailInsight {
    /// The record's JSON text.
    pub json: String,
    /// The file it is in.
    pub file: String,
}

/// What a run over the trail gathered.
pub struct TrailRun {
    /// The files found.
    pub discovery: Discovery,
    /// The reading summary.
    pub summary: Summary,
    /// trailsight's records, in output order.
    pub records: Vec<InsightRecord>,
    /// Insights records found in the trail, in file order.
    pub insights: Vec<TrailInsight>,
    /// The trail's extent, for the HTML report.
    pub overview: Overview,
}

/// Refuses standard input as a trail that is read twice; `why` says what reads it again.
pub fn refuse_standard_input(paths: &[PathBuf], why: &str) -> anyhow::Result<()> {
    if paths.iter().any(|p| p.as_os_str() == "-") {
        bail!("{why}, so it cannot be standard input; save it to a file first");
    }
    Ok(())
}

/// The trail's files, printing to `err` every path that could not be listed.
pub fn discover_trail(paths: &[PathBuf], err: &mut impl Write) -> io::Result<Discovery> {
    let discovery = discover(paths);
    for error in &discovery.errors {
        writeln!(err, "trailsight: error: {error}")?;
    }
    Ok(discovery)
}

/// Counts the files of `discovery` into `detector` and finishes it, printing file errors to
/// `err` and, unless quiet, a progress bar. `clock` times the run for the summary.
pub fn run_detector(
    discovery: Discovery,
    detector: &mut Detector,
    settings: &RunSettings,
    clock: Stopwatch,
    err: &mut impl Write,
) -> anyhow::Result<TrailRun> {
    let mut summary = Summary::new(&discovery);
    let mut records = Vec::new();
    let mut insights = Vec::new();
    let mut io_result = Ok(());
    let mut overview = Overview::default();
    let mut progress = Progress::new("reading", discovery.files.len(), settings.quiet);
    pipeline::run(
        &discovery.files,
        detector,
        settings.threads,
        &settings.limits,
        |outcome, new_records| {
            summary.add_file(outcome);
            overview.add_file(outcome);
            progress.before_messages(outcome);
            if let Err(e) = report_file_errors(err, outcome, settings.max_errors_per_file) {
                io_result = Err(e);
            }
            progress.file_done(outcome);
            let file = outcome.source.to_string();
            for json in &outcome.batch.insights {
                insights.push(TrailInsight {
                    json: json.clone(),
                    file: file.clone(),
                });
            }
            records.append(new_records);
        },
    )?;
    drop(progress);
    io_result?;
    let open = detector.finish(&mut records);
    records.sort_by(InsightRecord::output_order);
    summary.finish(detector, &records, open, clock.seconds());
    Ok(TrailRun {
        discovery,
        summary,
        records,
        insights,
        overview,
    })
}

/// Prints a file's read error and its first `limit` record errors.
pub fn report_file_errors(
    err: &mut impl Write,
    outcome: &FileOutcome,
    limit: usize,
) -> io::Result<()> {
    if let Some(error) = &outcome.load_error {
        writeln!(err, "trailsight: error: {}: {error}", outcome.source)?;
    }
    let batch = &outcome.batch;
    if outcome.ends_file()
        && outcome.load_error.is_none()
        && outcome.format() == DocumentFormat::Unknown
        && outcome.bad_records_before() == 0
        && batch.errors.is_empty()
        && outcome.document_bytes_so_far() > 0
    {
        writeln!(
            err,
            "trailsight: warning: {}: not a CloudTrail document; nothing read from it",
            outcome.source
        )?;
    }
    // The limit is per file; a document read in pieces spends it over its pieces.
    let before = usize::try_from(outcome.bad_records_before()).unwrap_or(usize::MAX);
    let errors = outcome.record_errors();
    for error in errors.iter().take(limit.saturating_sub(before)) {
        writeln!(err, "trailsight: error: {}: {error}", outcome.source)?;
    }
    let total = before.saturating_add(errors.len());
    if outcome.ends_file() && total > limit {
        writeln!(
            err,
            "trailsight: error: {}: {} more bad records not shown",
            outcome.source,
            total - limit
        )?;
    }
    Ok(())
}

/// trailsight's records as intervals, read back with the same parser as the reference.
pub fn our_intervals(records: &[InsightRecord]) -> Vec<InsightInterval> {
    let parsed: Vec<ReferenceInsight> = records
        .iter()
        .filter_map(|r| ReferenceInsight::parse(&r.to_json()).ok())
        .collect();
    pair(parsed).intervals
}

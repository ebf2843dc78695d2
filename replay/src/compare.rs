//! `trailsight replay`: run the detector on a trail, compare its insights with reference
//! Insights (AWS's), and validate each reference insight against the trail's raw events.
//!
//! 1. The trail goes through the detect pipeline; Insights records found in it (a synced
//!    bucket's `CloudTrail-Insight/` folder) are kept as reference.
//! 2. `--reference` files are read in any format; every record is parsed leniently
//!    ([`trailsight_engine::reference`]) and Starts are paired with Ends, on both sides.
//! 3. Intervals are matched one to one ([`crate::replay::matching`]).
//! 4. A second pass over the trail recounts each reference insight's windows
//!    ([`crate::recount`]) and
//!    every number is checked ([`mod@crate::replay::validate`]), with the trail's completeness ([`crate::replay::completeness`]).
//! 5. The report ([`crate::replay::report`]): a table on stdout, JSON with `--report`.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use trailsight_engine::Detector;
use trailsight_engine::reference::InsightInterval;
use trailsight_engine::time::Minute;
use trailsight_input::discover;

use crate::args::{BadInputArgs, DetectorArgs, RunArgs};
use crate::charts::{ReplayCharts, detections};
use crate::html;
use crate::progress::Progress;
use crate::recount::{self, RecountSettings, WindowCounts, recount, recount_options};
use crate::replay::matching::{Delays, compare, match_intervals};
use crate::replay::references::{Origin, References};
use crate::replay::report::{
    AgreementStats, ErrorStats, MatchingSummary, RecountCounts, ReferenceCounts, Report, Row, Side,
    Status, TrailsightCounts,
};
use crate::replay::validate::{Verdict, target, validate};
use crate::replay::{labels, matching, validate};
use crate::run::{RunSettings, discover_trail, our_intervals, refuse_standard_input, run_detector};
use crate::summary::Stopwatch;

/// Arguments of `trailsight replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The trail: CloudTrail files or directories, as for `detect` (not standard input: the
    /// trail is read twice). Insights records found in it (`CloudTrail-Insight/`) are taken as
    /// reference.
    #[arg(required = true, value_name = "TRAIL")]
    pub trail: Vec<PathBuf>,

    /// Reference Insights: CloudTrail-Insight files, JSON lines, lookup-events output,
    /// EventBridge events, CloudTrail Lake exports, or `-`. Repeat for several.
    #[arg(short, long = "reference", value_name = "PATH")]
    pub references: Vec<PathBuf>,

    /// Write the full report, a row per insight, as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Score trailsight's insights against the `labels.json` that `trailsight simulate` wrote
    /// beside the trail: recall per kind of anomaly, negative controls fired, false positives
    /// per account-region-day, onset delays (see docs/fidelity.md).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,

    /// Largest gap in minutes between a reference insight and one of trailsight's that can
    /// still be the same insight [default: 15].
    #[arg(long, value_name = "MINUTES", default_value_t = 15)]
    pub match_tolerance_minutes: u32,

    #[command(flatten)]
    pub detector: DetectorArgs,

    #[command(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    pub bad_input: BadInputArgs,

    /// Also write a self-contained HTML report to FILE: the comparison, a sortable table of
    /// the insights with their verdicts, and a chart of each with AWS's and trailsight's
    /// intervals.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Runs `trailsight replay`.
pub fn run(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    refuse_standard_input(&args.trail, "the trail is read twice")?;
    let labels = args.labels.as_deref().map(labels::read).transpose()?;
    let config = args.detector.config()?;
    let mut detector = Detector::new(config.clone())?;
    let quiet = args.run.quiet;
    let threads = args.run.threads();
    let limits = args.detector.read_limits();
    let stderr = io::stderr();
    let mut err = stderr.lock();
    let clock = Stopwatch::start();
    let discovery = discover_trail(&args.trail, &mut err)?;
    let settings = RunSettings {
        threads,
        limits,
        max_errors_per_file: args.bad_input.max_errors_per_file,
        quiet,
    };
    let trail = run_detector(discovery, &mut detector, &settings, clock, &mut err)?;
    if trail.discovery.files.is_empty() && trail.discovery.errors.is_empty() {
        writeln!(
            err,
            "trailsight: warning: no trail files found under the given paths"
        )?;
    }

    let mut references = References::default();
    for found in &trail.insights {
        references.add_json(&found.json, Origin::of_file(&found.file));
    }
    let reference_files = discover(&args.references);
    for error in &reference_files.errors {
        references.errors.push(error.to_string());
    }
    references.read_files(&reference_files.files, &limits);
    for error in references
        .errors
        .iter()
        .take(args.bad_input.max_errors_per_file * 10)
    {
        writeln!(err, "trailsight: error: reference: {error}")?;
    }
    if references.events_ignored > 0 {
        writeln!(
            err,
            "trailsight: warning: {} records in reference files are not Insights records and were ignored (give trail files as TRAIL)",
            references.events_ignored
        )?;
    }
    let counts = ReferenceCounts {
        files: references.files,
        records: references.records_read,
        // A file over the cap is reported among the errors but is not a bad record.
        bad_records: (references.errors.len() as u64).saturating_sub(references.skipped),
        events_ignored: references.events_ignored,
        ..ReferenceCounts::default()
    };
    let (pairing, origins) = references.pair();
    if pairing.intervals.is_empty() && labels.is_none() {
        writeln!(
            err,
            "trailsight: warning: no reference Insights found (give --reference, or include the bucket's CloudTrail-Insight folder in the trail)"
        )?;
    }
    let ours = our_intervals(&trail.records);
    let pairs = match_intervals(
        &pairing.intervals,
        &ours,
        i64::from(args.match_tolerance_minutes),
    );

    let targets: Vec<Option<recount::Target>> = pairing.intervals.iter().map(target).collect();
    let mut planned: Vec<recount::Target> = targets.iter().flatten().cloned().collect();
    let validation_targets = planned.len();
    // The charts' series come from the same pass: their targets go after the validation's.
    let charts = args
        .html
        .as_ref()
        .map(|_| ReplayCharts::plan(&pairing.intervals, &ours, &pairs));
    planned.extend(charts.iter().flat_map(ReplayCharts::targets));
    let mut progress = Progress::new("recount", trail.discovery.files.len(), quiet);
    let mut scanned = recount(
        &trail.discovery.files,
        &planned,
        &recount_options(&config),
        RecountSettings {
            threads,
            max_details: 0,
            limits,
        },
        &mut progress,
    )?;
    drop(progress);
    let chart_results = scanned
        .targets
        .split_off(validation_targets.min(scanned.targets.len()));
    let mut results = scanned.targets.iter();
    let validations: Vec<_> = pairing
        .intervals
        .iter()
        .zip(&targets)
        .map(|(interval, target)| {
            let windows: BTreeMap<(Minute, Minute), &WindowCounts> = match target {
                Some(t) => {
                    let result = results.next();
                    t.windows
                        .iter()
                        .copied()
                        .zip(result.map(|r| r.windows.iter()).into_iter().flatten())
                        .collect()
                }
                None => BTreeMap::new(),
            };
            validate(
                interval,
                &|w| windows.get(&w).copied(),
                scanned.activity(&interval.key),
                config.keep_session_names,
            )
        })
        .collect();

    let mut report = build_report(
        args,
        counts,
        &pairing,
        origins,
        &ours,
        &pairs,
        validations,
        trail.summary.insights.open.len() as u64,
    );
    report.recount = RecountCounts {
        files_read: scanned.files_read,
        files_skipped: scanned.files_skipped,
    };
    report.labels = labels
        .as_ref()
        .map(|l| labels::score(&trail.records, l))
        .transpose()?;
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if let (Some(path), Some(charts)) = (&args.html, charts) {
        let page = charts.page(
            &trail.summary,
            trail.overview,
            &report,
            &detections(&trail.records),
            chart_results,
        );
        std::fs::write(path, html::render(&page))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if !quiet {
        trail.summary.print(&mut err)?;
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let printed = report.print(&mut out).and_then(|()| match &report.labels {
        Some(score) => score.print(&mut out),
        None => Ok(()),
    });
    match printed.and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the report to stdout")?,
    }
    // A reference record dropped or read apart from its pair is input that could not be used
    // as given, like a bad record.
    let bad_input = trail.summary.has_problems()
        || report.reference.bad_records > 0
        || !report.reference.pairing_problems.is_empty();
    Ok(args.bad_input.exit_code(bad_input, quiet, &mut err)?)
}

#[allow(clippy::too_many_arguments)]
fn build_report(
    args: &ReplayArgs,
    mut counts: ReferenceCounts,
    pairing: &trailsight_engine::reference::Pairing,
    origins: Vec<Vec<Origin>>,
    ours: &[InsightInterval],
    pairs: &[matching::Pair],
    validations: Vec<validate::Validation>,
    still_open: u64,
) -> Report {
    counts.duplicates = pairing.duplicates;
    counts.insights = pairing.intervals.len() as u64;
    for i in &pairing.intervals {
        match (&i.start, &i.end) {
            (Some(_), Some(_)) => counts.complete += 1,
            (Some(_), None) => counts.start_without_end += 1,
            _ => counts.end_without_start += 1,
        }
    }
    counts.pairing_problems = pairing.problems.clone();
    counts.conflicting = pairing
        .problems
        .iter()
        .filter(|p| {
            matches!(
                p,
                trailsight_engine::reference::PairingProblem::Conflict { .. }
            )
        })
        .count() as u64;
    let mut matched_ours = vec![false; ours.len()];
    let mut by_reference: BTreeMap<usize, &matching::Pair> = BTreeMap::new();
    for p in pairs {
        matched_ours[p.ours] = true;
        by_reference.insert(p.reference, p);
    }
    let mut rows = Vec::new();
    let (mut onset, mut end) = (Delays::default(), Delays::default());
    let mut errors: BTreeMap<&'static str, Vec<Option<f64>>> = BTreeMap::new();
    let mut agreement: BTreeMap<String, (u64, u64, f64)> = BTreeMap::new();
    let mut verdicts: BTreeMap<Verdict, u64> = BTreeMap::new();
    for ((i, interval), (sources, validation)) in pairing
        .intervals
        .iter()
        .enumerate()
        .zip(origins.into_iter().zip(validations))
    {
        *verdicts.entry(validation.verdict).or_insert(0) += 1;
        let sources = sources.iter().map(Origin::to_string).collect();
        let (status, trailsight, comparison) = match by_reference.get(&i) {
            Some(p) => {
                let ours = &ours[p.ours];
                let c = compare(interval, ours, p.gap);
                if let Some(d) = c.onset_delay_minutes {
                    onset.record(d);
                }
                if let Some(d) = c.end_delay_minutes {
                    end.record(d);
                }
                for n in &c.numbers {
                    errors.entry(n.number).or_default().push(n.relative_error);
                }
                for a in &c.attributions {
                    let e = agreement.entry(a.attribute.clone()).or_default();
                    e.0 += 1;
                    e.1 += u64::from(a.top1);
                    e.2 += a.top5_jaccard;
                }
                (Status::Matched, Some(Side::of(ours, Vec::new())), Some(c))
            }
            None => (Status::Missed, None, None),
        };
        rows.push(Row {
            status,
            key: interval.key.clone(),
            reference: Some(Side::of(interval, sources)),
            trailsight,
            comparison,
            validation: Some(validation),
        });
    }
    for (o, interval) in ours.iter().enumerate() {
        if !matched_ours[o] {
            rows.push(Row {
                status: Status::Extra,
                key: interval.key.clone(),
                reference: None,
                trailsight: Some(Side::of(interval, Vec::new())),
                comparison: None,
                validation: None,
            });
        }
    }
    rows.sort_by(|a, b| (a.at(), &a.key, a.status).cmp(&(b.at(), &b.key, b.status)));
    let matched = pairs.len() as u64;
    let missed = pairing.intervals.len() as u64 - matched;
    let extra = ours.len() as u64 - matched;
    let share = |n: u64, d: u64| (d > 0).then(|| n as f64 / d as f64);
    let precision = share(matched, matched + extra);
    let recall = share(matched, matched + missed);
    let f1 = match (precision, recall) {
        (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
        (Some(_), Some(_)) => Some(0.0),
        _ => None,
    };
    Report {
        match_tolerance_minutes: i64::from(args.match_tolerance_minutes),
        reference: counts,
        trailsight: TrailsightCounts {
            insights: ours.len() as u64,
            still_open,
        },
        matching: MatchingSummary {
            matched,
            missed,
            extra,
            precision,
            recall,
            f1,
            onset_delay_minutes: onset.stats(),
            end_delay_minutes: end.stats(),
            relative_errors: errors
                .into_iter()
                .map(|(k, v)| (k, ErrorStats::of(&v)))
                .collect(),
            attributions: agreement
                .into_iter()
                .map(|(k, (pairs, top1, jaccard))| {
                    (
                        k,
                        AgreementStats {
                            pairs,
                            top1_agreement: top1 as f64 / pairs.max(1) as f64,
                            top5_jaccard_mean: jaccard / pairs.max(1) as f64,
                        },
                    )
                })
                .collect(),
        },
        validation: verdicts,
        recount: RecountCounts::default(),
        labels: None,
        insights: rows,
    }
}

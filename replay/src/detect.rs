//! `trailsight detect`: CloudTrail files in, CloudTrail Insights records out.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Args, ValueEnum};
use trailsight_engine::event::ReadOnlyFallback;
use trailsight_engine::parse::DocumentFormat;
use trailsight_engine::time::Timestamp;
use trailsight_engine::{Detector, DetectorConfig, EventCategory, InsightRecord, InsightType};
use trailsight_input::pipeline::{self, FileOutcome};
use trailsight_input::{DEFAULT_MAX_DOCUMENT_MIB, ReadLimits, default_threads};

use crate::html::{self, Overview};
use crate::output::{write_json_lines, write_s3_bucket, write_s3_layout};
use crate::progress::Progress;
use crate::replay::scan::ScanSettings;
use crate::sources::{S3Args, SelectionArgs};
use crate::summary::{Stopwatch, Summary};

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

    /// Parse threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Exit with status 2 if any input was bad or any event was dropped.
    #[arg(long)]
    pub strict: bool,

    /// No summary on stderr (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,

    /// Also write the summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,

    /// Error lines printed per file; the rest are only counted [default: 10].
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_errors_per_file: usize,

    /// Also write a self-contained HTML report to FILE: the trail, a sortable table of the
    /// insights and a chart of each (the trail is read a second time for the charts).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Only read, decompress and parse the files (no detector, no output) and print the rate on
    /// stderr: the floor a run is measured against (docs/benchmarks.md).
    #[arg(long)]
    pub parse_only: bool,
}

/// The detector's settings, shared by the commands that run it.
#[derive(Debug, Args)]
pub struct DetectorArgs {
    /// Detector settings and per-key overrides (TOML; see docs/algorithm.md). Flags given on the
    /// command line take precedence.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// From 0 (fewest insights) to 1 (most) [default: 0.5].
    #[arg(long, value_name = "0..1")]
    pub sensitivity: Option<f64>,

    /// Event categories to analyse [default: management].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    pub event_categories: Option<Vec<CategoryArg>>,

    /// Insight types to compute [default: call-rate,error-rate].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    pub insight_types: Option<Vec<InsightTypeArg>>,

    /// Minutes of event time an event may trail the newest event of its account and region and
    /// still be counted exactly [default: 60].
    #[arg(long, value_name = "MINUTES")]
    pub allowed_lateness_minutes: Option<u32>,

    /// Minutes back within normal bounds before an insight ends [default: 5].
    #[arg(long, value_name = "MINUTES")]
    pub end_quiet_minutes: Option<u32>,

    /// Fewest events in a detection window that can start an insight [default: 3].
    #[arg(long, value_name = "N")]
    pub min_count: Option<u32>,

    /// What events without `readOnly` count as [default: infer].
    #[arg(long, value_enum, value_name = "HOW")]
    pub read_only_fallback: Option<ReadOnlyFallbackArg>,

    /// Keep session names in assumed-role ARNs in userIdentityArn attributions.
    #[arg(long)]
    pub keep_session_names: bool,

    /// Skip (and report) any file larger than this many MiB once decompressed: a gzip bomb
    /// stops here instead of taking all memory. Not a detector setting; checkpoints do not keep it.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_DOCUMENT_MIB,
          value_parser = clap::value_parser!(u64).range(1..=1 << 24))]
    pub max_document_mib: u64,

    #[command(flatten)]
    pub s3: S3Args,
}

/// `--event-categories` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CategoryArg {
    /// Management events.
    Management,
    /// Data events (call rate then counts reads and writes).
    Data,
}

/// `--insight-types` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum InsightTypeArg {
    /// ApiCallRateInsight.
    #[value(name = "call-rate", alias = "ApiCallRateInsight")]
    CallRate,
    /// ApiErrorRateInsight.
    #[value(name = "error-rate", alias = "ApiErrorRateInsight")]
    ErrorRate,
}

/// `--read-only-fallback` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ReadOnlyFallbackArg {
    /// Read-only when the eventName starts with a read verb (Get, List, Describe, ...).
    Infer,
    /// Never a write.
    Read,
    /// Always a write.
    Write,
}

impl DetectorArgs {
    /// Whether any setting was given, in a file or as a flag.
    pub fn any_given(&self) -> bool {
        self.config.is_some()
            || self.sensitivity.is_some()
            || self.event_categories.is_some()
            || self.insight_types.is_some()
            || self.allowed_lateness_minutes.is_some()
            || self.end_quiet_minutes.is_some()
            || self.min_count.is_some()
            || self.read_only_fallback.is_some()
            || self.keep_session_names
    }

    /// The read caps `--max-document-mib` sets (documents, and lines of `watch -`).
    pub fn read_limits(&self) -> ReadLimits {
        ReadLimits::from_document_mib(self.max_document_mib)
    }

    /// The detector configuration: defaults, then `--config`, then flags. Also sets up how
    /// s3:// sources are reached, for every command that reads a trail.
    pub fn config(&self) -> anyhow::Result<DetectorConfig> {
        self.s3.configure();
        let mut config = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| {
                    format!("{}: invalid detector configuration", path.display())
                })?
            }
            None => DetectorConfig::default(),
        };
        if let Some(s) = self.sensitivity {
            config.sensitivity = s;
        }
        if let Some(categories) = &self.event_categories {
            config.event_categories = categories
                .iter()
                .map(|c| match c {
                    CategoryArg::Management => EventCategory::Management,
                    CategoryArg::Data => EventCategory::Data,
                })
                .collect();
        }
        if let Some(types) = &self.insight_types {
            config.insight_types = types
                .iter()
                .map(|t| match t {
                    InsightTypeArg::CallRate => InsightType::ApiCallRateInsight,
                    InsightTypeArg::ErrorRate => InsightType::ApiErrorRateInsight,
                })
                .collect();
        }
        if let Some(minutes) = self.allowed_lateness_minutes {
            config.allowed_lateness_minutes = minutes;
            config.dedup_horizon_minutes = config.dedup_horizon_minutes.max(minutes);
        }
        if let Some(minutes) = self.end_quiet_minutes {
            config.end_quiet_minutes = minutes;
        }
        if let Some(n) = self.min_count {
            config.min_count = n;
        }
        if let Some(fallback) = self.read_only_fallback {
            config.read_only_fallback = match fallback {
                ReadOnlyFallbackArg::Infer => ReadOnlyFallback::InferFromEventName,
                ReadOnlyFallbackArg::Read => ReadOnlyFallback::Read,
                ReadOnlyFallbackArg::Write => ReadOnlyFallback::Write,
            };
        }
        config.keep_session_names |= self.keep_session_names;
        // CloudTrail records cannot come from the future; a day of slack covers clock skew.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        config.reject_after = Some(Timestamp(now + 86_400));
        config
            .validate()
            .context("invalid detector configuration")?;
        Ok(config)
    }
}

/// Runs `trailsight detect`.
pub fn run(args: &DetectArgs) -> anyhow::Result<ExitCode> {
    if args.html.is_some() && args.paths.iter().any(|p| p.as_os_str() == "-") {
        anyhow::bail!(
            "--html reads the trail a second time for the charts, so it cannot be standard input; save it to a file first"
        );
    }
    let config = args.detector.config()?;
    let clock = Stopwatch::start();
    let discovery = args.selection.discover(&args.paths, &config)?;
    let mut detector = Detector::new(config)?;
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for error in &discovery.errors {
        writeln!(err, "trailsight: error: {error}")?;
    }
    if discovery.files.is_empty() && discovery.errors.is_empty() && !args.quiet {
        writeln!(
            err,
            "trailsight: warning: no trail files found under the given paths"
        )?;
    }
    let threads = args.threads.unwrap_or_else(default_threads);
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
    let mut summary = Summary::new(&discovery);
    let mut records: Vec<InsightRecord> = Vec::new();
    let mut io_result = Ok(());
    let mut overview = Overview::default();
    let mut progress = Progress::new("reading", discovery.files.len(), args.quiet);
    pipeline::run(
        &discovery.files,
        &mut detector,
        threads,
        &limits,
        |outcome, new_records| {
            summary.add_file(outcome);
            overview.add_file(outcome);
            progress.before_messages(outcome);
            if let Err(e) = report_file_errors(&mut err, outcome, args.max_errors_per_file) {
                io_result = Err(e);
            }
            progress.file_done(outcome);
            records.append(new_records);
        },
    )?;
    drop(progress);
    io_result?;
    let open = detector.finish(&mut records);
    args.selection.keep_in_range(&mut records);
    records.sort_by(InsightRecord::output_order);
    summary.finish(&detector, &records, open, clock.seconds());
    if let Some(path) = &args.html {
        let page = html::detect_report(
            &summary,
            overview,
            &records,
            &discovery.files,
            detector.config(),
            ScanSettings {
                threads,
                max_details: 0,
                limits,
            },
            args.quiet,
        );
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
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
    if !args.quiet {
        summary.print(&mut err)?;
    }
    if args.strict && summary.has_problems() {
        if !args.quiet {
            writeln!(
                err,
                "trailsight: --strict: exiting with status 2 because of the problems above"
            )?;
        }
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
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
    if outcome.format() == DocumentFormat::Unknown
        && batch.errors.is_empty()
        && outcome.document_bytes > 0
    {
        writeln!(
            err,
            "trailsight: warning: {}: not a CloudTrail document; nothing read from it",
            outcome.source
        )?;
    }
    let errors = outcome.record_errors();
    for error in errors.iter().take(limit) {
        writeln!(err, "trailsight: error: {}: {error}", outcome.source)?;
    }
    if errors.len() > limit {
        writeln!(
            err,
            "trailsight: error: {}: {} more bad records not shown",
            outcome.source,
            errors.len() - limit
        )?;
    }
    Ok(())
}

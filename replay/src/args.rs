//! The command-line arguments the commands share: the detector's settings ([`DetectorArgs`],
//! every command that runs the detector), how a trail is read and reported ([`RunArgs`]), and
//! how bad input is reported and judged ([`BadInputArgs`]). One definition, so that a flag
//! means the same in every command.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Args, ValueEnum};
use trailsight_engine::event::ReadOnlyFallback;
use trailsight_engine::time::Timestamp;
use trailsight_engine::{DetectorConfig, EventCategory, InsightType};
use trailsight_input::{DEFAULT_MAX_DOCUMENT_MIB, ReadLimits, default_threads};

use crate::sources::S3Args;

/// Threads and verbosity of a command that reads a trail (`detect`, `replay`, `explain`).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Parse threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// No summary on stderr (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

impl RunArgs {
    /// `-j`, else every core.
    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(default_threads)
    }
}

/// How bad input is reported and what it does to the exit status (`detect`, `replay`).
#[derive(Debug, Args)]
pub struct BadInputArgs {
    /// Exit with status 2 if any input was bad or any event was dropped.
    #[arg(long)]
    pub strict: bool,

    /// Error lines printed per file; the rest are only counted [default: 10].
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_errors_per_file: usize,
}

impl BadInputArgs {
    /// The exit status of a run that had `bad_input` or not: 2 under `--strict`, saying why
    /// unless `quiet`.
    pub fn exit_code(
        &self,
        bad_input: bool,
        quiet: bool,
        err: &mut impl Write,
    ) -> io::Result<ExitCode> {
        if self.strict && bad_input {
            if !quiet {
                writeln!(
                    err,
                    "trailsight: --strict: exiting with status 2 because of the problems above"
                )?;
            }
            return Ok(ExitCode::from(2));
        }
        Ok(ExitCode::SUCCESS)
    }
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

    /// The detector configuration: defaults, then `--config`, then flags.
    pub fn config(&self) -> anyhow::Result<DetectorConfig> {
        // How s3:// sources are reached, for every command that reads a trail.
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
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        config.reject_after_now(Timestamp(now));
        let config = config.normalised();
        config
            .validate()
            .context("invalid detector configuration")?;
        Ok(config)
    }
}

//! The run summary: what was read, skipped, counted and found, printed on stderr and optionally
//! written as JSON. Its counts add up: every record found is an event, an Insights record, an
//! aggregated record or a bad record; every event is counted, a duplicate, not analysed, too
//! late or in the future.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::Serialize;
use trailsight_engine::time::Minute;
use trailsight_engine::{
    Detector, DetectorStats, InsightRecord, InsightState, OpenInsight, StateSize,
};

use trailsight_input::{Discovery, FileOutcome, SkipReason};

use crate::format::{count, thousands};

/// Everything a run did, for people (`print`) and machines (JSON).
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Files.
    pub files: FileCounts,
    /// Records found in the documents.
    pub records: RecordCounts,
    /// What the detector did with the events.
    pub detector: DetectorStats,
    /// State held at the end.
    pub state: StateSize,
    /// How long after their event time the analysed events were delivered, from the delivery
    /// times in CloudTrail file names; `None` when no file had one.
    pub delivery_lag_minutes: Option<LagSummary>,
    /// Insights found.
    pub insights: InsightCounts,
    /// Insights files written with `--out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_files: Option<u64>,
    /// Wall-clock seconds.
    pub seconds: f64,
    #[serde(skip)]
    lag: Histogram<u64>,
}

/// File counts.
#[derive(Debug, Default, Serialize)]
pub struct FileCounts {
    /// Files read.
    pub read: u64,
    /// Files found but not read, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Paths that could not be listed, and files that could not be read at all.
    pub unreadable: u64,
    /// Files read only in part (corrupt gzip, read error mid-way).
    pub partly_read: u64,
    /// Of the files read, those read in pieces: standard input and documents over 64 MiB.
    #[serde(skip_serializing_if = "is_zero")]
    pub read_in_pieces: u64,
    /// Files that held at least one bad record.
    pub with_bad_records: u64,
    /// Files read, by document format.
    pub formats: BTreeMap<String, u64>,
    /// Bytes read from storage.
    pub stored_bytes: u64,
    /// Bytes of decompressed documents.
    pub document_bytes: u64,
}

/// Record counts; `total = events + insights + aggregated + bad`.
#[derive(Debug, Default, Serialize)]
pub struct RecordCounts {
    /// Everything found.
    pub total: u64,
    /// API calls and other events.
    pub events: u64,
    /// Insights records, set aside.
    pub insights: u64,
    /// Aggregated data-event records, not analysed.
    pub aggregated: u64,
    /// Records that could not be used, and stretches of unparsable bytes.
    pub bad: u64,
}

/// Percentiles of delivery lag, in minutes.
#[derive(Debug, Serialize)]
pub struct LagSummary {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

/// Insight counts.
#[derive(Debug, Default, Serialize)]
pub struct InsightCounts {
    /// Start records.
    pub starts: u64,
    /// End records.
    pub ends: u64,
    /// Insights without an End at the end of the input.
    pub open: Vec<OpenInsight>,
}

impl Summary {
    /// Counts the Start and End records of `records` again, after some were left out (a time
    /// range); open insights stay as the detector left them.
    pub fn count_records(&mut self, records: &[InsightRecord]) {
        self.insights.starts = records
            .iter()
            .filter(|r| r.state == InsightState::Start)
            .count() as u64;
        self.insights.ends = records.len() as u64 - self.insights.starts;
    }

    /// A summary of what discovery found.
    pub fn new(discovery: &Discovery) -> Summary {
        Summary {
            files: FileCounts {
                skipped: discovery.skipped.clone(),
                unreadable: discovery.errors.len() as u64,
                ..FileCounts::default()
            },
            records: RecordCounts::default(),
            detector: DetectorStats::default(),
            state: StateSize::default(),
            delivery_lag_minutes: None,
            insights: InsightCounts::default(),
            output_files: None,
            seconds: 0.0,
            lag: Histogram::new_with_bounds(1, 10_000_000, 2).expect("valid histogram bounds"),
        }
    }

    /// Adds one file's outcome.
    pub fn add_file(&mut self, outcome: &FileOutcome) {
        let batch = &outcome.batch;
        if let Some(reason) = outcome.skipped() {
            *self.files.skipped.entry(reason).or_insert(0) += 1;
            self.files.stored_bytes += outcome.stored_bytes;
            return;
        }
        // A document read in pieces is one file: counted with its last piece, which knows its
        // format and how it ended.
        if outcome.ends_file() {
            let nothing_read = outcome.load_error.is_some() && outcome.document_bytes_so_far() == 0;
            if nothing_read {
                self.files.unreadable += 1;
            } else {
                self.files.read += 1;
                *self
                    .files
                    .formats
                    .entry(outcome.format().as_str().to_owned())
                    .or_insert(0) += 1;
            }
            self.files.partly_read += u64::from(outcome.load_error.is_some() && !nothing_read);
            self.files.read_in_pieces += u64::from(outcome.piece.is_some());
            self.files.with_bad_records +=
                u64::from(outcome.bad_records_before() + batch.errors.len() as u64 > 0);
        }
        self.files.stored_bytes += outcome.stored_bytes;
        self.files.document_bytes += outcome.document_bytes;
        self.records.events += batch.events_parsed;
        self.records.insights += batch.insights.len() as u64;
        self.records.aggregated += batch.aggregated;
        self.records.bad += batch.errors.len() as u64;
        if let Some(delivered) = outcome.delivered {
            for minute in batch.event_minutes() {
                // Clock skew can put an event a little after its file's time stamp.
                let lag = delivered.minutes_since(minute).max(0) as u64;
                self.lag.saturating_record(lag.max(1));
            }
        }
    }

    /// Adds what the detector did.
    pub fn finish(
        &mut self,
        detector: &Detector,
        records: &[InsightRecord],
        open: Vec<OpenInsight>,
        seconds: f64,
    ) {
        self.records.total = self.records.events
            + self.records.insights
            + self.records.aggregated
            + self.records.bad;
        self.detector = detector.stats().clone();
        self.state = detector.state_size();
        self.insights.starts = records
            .iter()
            .filter(|r| r.state == InsightState::Start)
            .count() as u64;
        self.insights.ends = records.len() as u64 - self.insights.starts;
        self.insights.open = open;
        self.seconds = seconds;
        if !self.lag.is_empty() {
            // Lags of under a minute were recorded as 1: the histogram's lowest value.
            let minutes = |v: u64| if v <= 1 { 0 } else { v };
            self.delivery_lag_minutes = Some(LagSummary {
                p50: minutes(self.lag.value_at_quantile(0.5)),
                p99: minutes(self.lag.value_at_quantile(0.99)),
                max: minutes(self.lag.max()),
            });
        }
    }

    /// The warning to print when most analysed events came too late to count.
    pub fn late_warning(&self) -> Option<String> {
        late_warning(
            &self.detector,
            "sort the input by eventTime (a Lake or Athena export: ORDER BY eventTime), or raise \
             --allowed-lateness-minutes",
        )
    }

    /// Whether anything was bad or dropped: what `--strict` fails on.
    pub fn has_problems(&self) -> bool {
        self.files.unreadable
            + self
                .files
                .skipped
                .get(&SkipReason::TooLarge)
                .copied()
                .unwrap_or(0)
            + self.files.partly_read
            + self.records.bad
            + self.detector.too_late
            + self.detector.in_the_future
            + self.detector.not_analysed.over_limit
            > 0
    }

    /// Prints the summary for people.
    pub fn print(&self, out: &mut impl Write) -> io::Result<()> {
        let f = &self.files;
        let skipped: u64 = f.skipped.values().sum();
        let mut line = format!("trailsight: {} read", count(f.read, "file", "files"));
        if skipped > 0 {
            let reasons: Vec<String> = f
                .skipped
                .iter()
                .map(|(r, c)| format!("{} {}", thousands(*c), r.as_str()))
                .collect();
            line += &format!(", {} skipped ({})", thousands(skipped), reasons.join(", "));
        }
        if f.unreadable > 0 {
            line += &format!(", {} unreadable", thousands(f.unreadable));
        }
        if f.read_in_pieces > 0 {
            line += &format!(", {} read in pieces", thousands(f.read_in_pieces));
        }
        if f.partly_read > 0 {
            line += &format!(", {} read in part", thousands(f.partly_read));
        }
        writeln!(out, "{line}")?;
        if !f.formats.is_empty() {
            let formats: Vec<String> = f
                .formats
                .iter()
                .map(|(k, v)| format!("{k} {}", thousands(*v)))
                .collect();
            writeln!(out, "trailsight:   formats: {}", formats.join(", "))?;
        }
        let r = &self.records;
        writeln!(
            out,
            "trailsight: {} records: {} events, {} insights set aside, {} aggregated, {} bad",
            thousands(r.total),
            thousands(r.events),
            thousands(r.insights),
            thousands(r.aggregated),
            thousands(r.bad)
        )?;
        let d = &self.detector;
        let na = &d.not_analysed;
        let mut reasons = Vec::new();
        for (count, label) in [
            (na.read_only, "read-only"),
            (na.category_not_selected, "category not selected"),
            (
                na.category_never_analysed,
                "network activity or unknown category",
            ),
            (na.insight_type_off, "insight type not selected"),
            (na.over_limit, "over a state limit"),
        ] {
            if count > 0 {
                reasons.push(format!("{} {label}", thousands(count)));
            }
        }
        writeln!(
            out,
            "trailsight:   events: {} counted ({} late), {} duplicates, {} not analysed{}, {} too late, {} in the future",
            thousands(d.counted),
            thousands(d.counted_late),
            thousands(d.duplicates),
            thousands(na.total()),
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join(", "))
            },
            thousands(d.too_late),
            thousands(d.in_the_future)
        )?;
        if d.read_only_absent > 0 || d.without_event_id > 0 {
            writeln!(
                out,
                "trailsight:   {} analysed events had no readOnly (classified by eventName), {} no eventID",
                thousands(d.read_only_absent),
                thousands(d.without_event_id)
            )?;
        }
        if d.held_ahead > 0 || d.held_at_finish > 0 {
            writeln!(
                out,
                "trailsight:   {} event minutes dated over the dedup horizon past their account-region's clock were held until corroborated; {} never were (mis-dated records?): counted, not decided",
                thousands(d.held_ahead),
                thousands(d.held_at_finish)
            )?;
        }
        let l = &d.limits;
        if l.values_lumped + l.values_cut + l.series_refused + l.event_ids_forgotten > 0 {
            writeln!(
                out,
                "trailsight:   limits: {} values counted as (other) with the string table full, {} values cut to 2048 bytes, {} series not created, {} event IDs forgotten early",
                thousands(l.values_lumped),
                thousands(l.values_cut),
                thousands(l.series_refused),
                thousands(l.event_ids_forgotten)
            )?;
        }
        let s = &self.state;
        let mut line = format!(
            "trailsight: {}, {} series",
            count(s.partitions as u64, "account-region", "account-regions"),
            thousands(s.series as u64)
        );
        if let Some(lag) = &self.delivery_lag_minutes {
            line += &format!(
                "; delivery lag p50 {} min, p99 {} min, max {} min",
                lag.p50, lag.p99, lag.max
            );
        }
        writeln!(out, "{line}")?;
        if let Some(warning) = self.late_warning() {
            writeln!(out, "trailsight: warning: {warning}")?;
        }
        let i = &self.insights;
        writeln!(
            out,
            "trailsight: insights: {} started, {} ended, {} still open at the end of the input{}",
            thousands(i.starts),
            thousands(i.ends),
            i.open.len(),
            if d.suppressed_cold_start > 0 {
                format!(
                    "; {} unusual windows before a full 7-day baseline not reported",
                    thousands(d.suppressed_cold_start)
                )
            } else {
                String::new()
            }
        )?;
        for o in &i.open {
            writeln!(out, "trailsight:   open: {} {}", o.start, o.key)?;
        }
        if let Some(files) = self.output_files {
            writeln!(
                out,
                "trailsight: wrote {}",
                count(files, "Insights file", "Insights files")
            )?;
        }
        let rate = if self.seconds > 0.0 {
            r.total as f64 / self.seconds
        } else {
            0.0
        };
        writeln!(
            out,
            "trailsight: {:.1} s, {} records/s, {:.0} MB/s of JSON",
            self.seconds,
            thousands(rate as u64),
            f.document_bytes as f64 / 1e6 / self.seconds.max(1e-9)
        )
    }
}

/// What the whole trail covers, gathered file by file while it is read.
#[derive(Clone, Debug, Default)]
pub struct Overview {
    /// The earliest and latest event minute.
    pub span: Option<(Minute, Minute)>,
    /// Accounts seen (`recipientAccountId`, else `userIdentity.accountId`).
    pub accounts: BTreeSet<String>,
    /// Regions seen.
    pub regions: BTreeSet<String>,
}

impl Overview {
    /// Adds the events of one file.
    pub fn add_file(&mut self, outcome: &FileOutcome) {
        for (account, region, first, last) in outcome.batch.partitions() {
            if let Some(account) = account
                && !self.accounts.contains(account)
            {
                self.accounts.insert(account.to_owned());
            }
            if !self.regions.contains(region) {
                self.regions.insert(region.to_owned());
            }
            self.span = Some(match self.span {
                Some((a, b)) => (a.min(first), b.max(last)),
                None => (first, last),
            });
        }
    }
}

/// Wall-clock time of a run, for the summary.
#[derive(Debug)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Seconds since start.
    pub fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// Share of the analysed events that, arriving beyond the allowed lateness, makes a run's input
/// "mostly late": a sign that it is not in time order, rather than the few late deliveries of a
/// real trail.
pub const MOSTLY_LATE_SHARE: f64 = 0.5;

/// When at least [`MOSTLY_LATE_SHARE`] of the analysed events came more than the allowed
/// lateness behind their account-region's newest event (counted late, too late for the minutes
/// already decided, or too late to count at all), what to say (with `advice`, what to do about
/// it); `None` otherwise.
pub fn late_warning(stats: &DetectorStats, advice: &str) -> Option<String> {
    let late = stats.counted_late + stats.too_late;
    let analysed = stats.counted + stats.too_late;
    if late == 0 || (late as f64) < MOSTLY_LATE_SHARE * analysed as f64 {
        return None;
    }
    Some(format!(
        "{} of {} events ({:.0}%) came more than the allowed lateness behind their \
         account-region's newest event, too late for the minutes already decided (their \
         insights are missed): the input is not in time order; {advice}",
        thousands(late),
        thousands(analysed),
        100.0 * late as f64 / analysed as f64
    ))
}

/// For `skip_serializing_if`: a count that is zero is left out.
fn is_zero(count: &u64) -> bool {
    *count == 0
}

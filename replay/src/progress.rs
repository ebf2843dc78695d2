//! A progress bar on stderr for long runs: files done of all, records, elapsed time and rate.
//!
//! It draws only when stderr is a terminal and `--quiet` was not given, so logs and pipes never
//! see it, and at most [`REDRAWS_PER_SECOND`] times a second, so drawing costs nothing next to
//! parsing.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use trailsight_engine::parse::DocumentFormat;

use trailsight_input::FileOutcome;
use trailsight_input::s3::S3Counters;

use crate::format::thousands;

/// Redraws per second at most.
pub const REDRAWS_PER_SECOND: u32 = 10;

/// Width of the bar in characters.
const BAR_CHARS: usize = 24;

/// One phase of a run (reading the trail, recounting it) on one line of stderr.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    label: &'static str,
    total_files: u64,
    files: u64,
    records: u64,
    started: Instant,
    drawn_at: Option<Instant>,
}

impl Progress {
    /// A bar for `total_files` files, drawn when stderr is a terminal and not `quiet`.
    pub fn new(label: &'static str, total_files: usize, quiet: bool) -> Progress {
        Progress::with(label, total_files, !quiet && io::stderr().is_terminal())
    }

    /// A bar that never draws.
    pub fn hidden() -> Progress {
        Progress::with("", 0, false)
    }

    fn with(label: &'static str, total_files: usize, enabled: bool) -> Progress {
        Progress {
            enabled,
            label,
            total_files: total_files as u64,
            files: 0,
            records: 0,
            started: Instant::now(),
            drawn_at: None,
        }
    }

    /// Sets the number of files the bar goes to, when some turn out not to need reading.
    pub fn set_total(&mut self, total_files: usize) {
        self.total_files = total_files as u64;
    }

    /// Counts files done and the records they held, redrawing when it is time.
    pub fn add(&mut self, files: u64, records: u64) {
        self.files += files;
        self.records += records;
        if !self.enabled {
            return;
        }
        let due = self
            .drawn_at
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1) / REDRAWS_PER_SECOND);
        if due {
            let line = self.line(self.started.elapsed().as_secs_f64());
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
            self.drawn_at = Some(Instant::now());
        }
    }

    /// Counts one file of the detect pipeline. Call [`Progress::before_messages`] before
    /// printing its errors.
    pub fn file_done(&mut self, outcome: &FileOutcome) {
        let batch = &outcome.batch;
        let records = batch.events_parsed
            + batch.insights.len() as u64
            + batch.aggregated
            + batch.errors.len() as u64;
        self.add(u64::from(outcome.ends_file()), records);
    }

    /// Erases the bar when `outcome` has errors or warnings to print.
    pub fn before_messages(&mut self, outcome: &FileOutcome) {
        if outcome.load_error.is_some()
            || !outcome.record_errors().is_empty()
            || (outcome.ends_file() && outcome.format() == DocumentFormat::Unknown)
        {
            self.clear();
        }
    }

    /// Erases the bar, if drawn, so that other lines can be printed; it comes back on the
    /// next redraw.
    pub fn clear(&mut self) {
        if self.enabled && self.drawn_at.is_some() {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn_at = None;
        }
    }

    /// The bar's text after `seconds`.
    fn line(&self, seconds: f64) -> String {
        let share = if self.total_files > 0 {
            (self.files as f64 / self.total_files as f64).min(1.0)
        } else {
            0.0
        };
        let full = (share * BAR_CHARS as f64).round() as usize;
        format!(
            "trailsight: {:<9} [{}{}] {}/{} files, {} records, {:.1} s, {} records/s",
            self.label,
            "#".repeat(full),
            "-".repeat(BAR_CHARS - full),
            thousands(self.files),
            thousands(self.total_files),
            thousands(self.records),
            seconds,
            thousands((self.records as f64 / seconds.max(1e-3)) as u64)
        ) + &s3_part(
            trailsight_input::s3::counters(),
            self.files,
            self.total_files,
            seconds,
        )
    }
}

/// What the bar adds when the run reads S3: bytes listed and fetched, the fetch rate and the
/// time left at the rate files are done.
fn s3_part(s3: S3Counters, files: u64, total_files: u64, seconds: f64) -> String {
    if s3.objects_listed == 0 {
        return String::new();
    }
    let left = if files > 0 && total_files > files {
        format!(
            ", {:.0} s left",
            (total_files - files) as f64 * seconds / files as f64
        )
    } else {
        String::new()
    };
    format!(
        "; S3 {}/{} objects, {:.1}/{:.1} MB, {:.1} MB/s{left}",
        thousands(s3.objects_fetched),
        thousands(s3.objects_listed),
        s3.bytes_fetched as f64 / 1e6,
        s3.bytes_listed as f64 / 1e6,
        s3.bytes_fetched as f64 / 1e6 / seconds.max(1e-3),
    )
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_runs_add_objects_bytes_rate_and_time_left() {
        assert_eq!(s3_part(S3Counters::default(), 1, 2, 1.0), "");
        let s3 = S3Counters {
            objects_listed: 2_000,
            bytes_listed: 40_000_000,
            objects_fetched: 500,
            bytes_fetched: 10_000_000,
        };
        assert_eq!(
            s3_part(s3, 400, 2_000, 4.0),
            "; S3 500/2,000 objects, 10.0/40.0 MB, 2.5 MB/s, 16 s left"
        );
    }

    #[test]
    fn the_line_says_files_records_time_and_rate() {
        let mut p = Progress::with("reading", 2_280, false);
        p.add(1_140, 5_032);
        p.add(0, 0);
        assert_eq!(
            p.line(2.0),
            "trailsight: reading   [############------------] 1,140/2,280 files, 5,032 records, 2.0 s, 2,516 records/s"
        );
    }
}

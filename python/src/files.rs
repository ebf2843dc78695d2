//! Trail files: finding them, reading them (gzip included), and counting them into a detector
//! in the order `trailsight detect` counts them, so that the records are the same.
//!
//! The command's counting order ([`trailsight_input::order`]): CloudTrail files by the delivery
//! time in their names, other files (exports, JSON lines) by their earliest event, ties by path;
//! the detector advances after each file. [`TrailReplay`] gives that order from files handed
//! over sorted by delivery time only (files without one first), which is what a Spark partition
//! sorted by a column can give, and holds at most the files of one delivery minute; it sorts
//! what it holds with the input layer's own rule ([`sort_for_counting`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use trailsight_engine::time::Minute;
use trailsight_engine::{Detector, EventBatch, InsightRecord, OpenInsight};
use trailsight_input::{
    DEFAULT_MAX_DOCUMENT_MIB, FileOutcome, InputFile, Loaded, ReadLimits, Source, default_threads,
    discover, load, load_bytes, pipeline, sort_for_counting, trail,
};

use crate::config::read_limits;
use crate::convert::to_python;
use crate::detector::PyDetector;
use crate::errors::{OrderError, SnapshotError};
use crate::insight::{Insight, open_list};

/// Error lines kept per file, as the command prints them; the rest are counted.
const ERRORS_PER_FILE: usize = 10;

/// Reads `source` (unless its bytes are given) and decompresses it, under `limits`.
fn load_file(source: &Source, data: Option<Vec<u8>>, limits: &ReadLimits) -> Loaded {
    match data {
        Some(raw) => load_bytes(raw, limits, Vec::new()),
        None => load(source, limits, Vec::new()),
    }
}

/// The file name of a path or URI (`s3a://bucket/…/name.json.gz`).
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A file waiting for its turn.
enum Pending {
    /// A CloudTrail file, parsed when counted; its bytes if the caller gave them.
    Stamped(Option<Vec<u8>>),
    /// A file without a delivery time, parsed when handed over to find its earliest event,
    /// with what loading it said.
    Held(Box<EventBatch>, Loaded),
}

/// Counts trail files into one detector in `trailsight detect`'s order.
///
/// Hand files over with `add` sorted by delivery time (`delivery_time(name)`), files without
/// one first, in any order within a minute; then call `finish`. Records decided so far can be
/// taken out with `take_insights` at any time, so a long replay streams.
#[pyclass(module = "trailsight", name = "TrailReplay")]
pub struct TrailReplay {
    detector: Detector,
    /// The caps every file is read under (`max_document_mib`).
    limits: ReadLimits,
    /// Files without a delivery time, parsed, with their earliest event.
    held: Vec<(Option<Minute>, Source, Pending)>,
    /// The delivery minute being gathered and its files.
    minute: Option<Minute>,
    group: Vec<(Source, Pending)>,
    /// Records decided and not taken yet.
    records: Vec<InsightRecord>,
    /// Records taken out so far, for `seq`.
    emitted: u64,
    files: u64,
    /// Files not read (over the cap), by reason.
    skipped: BTreeMap<&'static str, u64>,
    errors: Vec<String>,
    finished: bool,
}

#[pymethods]
impl TrailReplay {
    /// A replay with a new detector (same arguments as `Detector`), or continuing from the
    /// state of `detector` (copied through its snapshot; the object itself is left as it was).
    /// Files over `max_document_mib` once decompressed are skipped (default: the detector's,
    /// else 1,024).
    #[new]
    #[pyo3(signature = (config = None, *, detector = None, max_document_mib = None, **settings))]
    fn new(
        config: Option<&Bound<'_, PyAny>>,
        detector: Option<&Bound<'_, PyDetector>>,
        max_document_mib: Option<u64>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<TrailReplay> {
        let (detector, limits) = match detector {
            Some(d) => {
                let d = d.borrow();
                // Taking the state over leaves the Python object with an empty detector; the
                // snapshot round trip is exact, so copying is as good as moving.
                let detector = Detector::restore(&d.inner_snapshot())
                    .map_err(|e| SnapshotError::new_err(e.to_string()))?;
                (detector, d.limits())
            }
            None => (
                PyDetector::new_inner(config, settings)?,
                ReadLimits::default(),
            ),
        };
        let limits = match max_document_mib {
            Some(mib) => read_limits(mib)?,
            None => limits,
        };
        Ok(TrailReplay::with(detector, limits))
    }

    /// Hands over one file: its path (used for the order, error messages and, without `data`,
    /// for reading it) and optionally its bytes (plain or gzip).
    #[pyo3(signature = (path, data = None))]
    fn add(&mut self, py: Python<'_>, path: String, data: Option<Vec<u8>>) -> PyResult<()> {
        if self.finished {
            return Err(OrderError::new_err("add after finish"));
        }
        let delivered = trail::delivery_time(file_name(&path));
        let file = InputFile {
            delivered,
            source: Source::Path(PathBuf::from(path)),
        };
        py.detach(|| self.add_file(file, data))
    }

    /// Records decided since the last call, in the detector's order, with their sequence
    /// numbers in this replay (for a stable sort across replays).
    fn take_insights(&mut self) -> Vec<(u64, Insight)> {
        let first = self.emitted;
        let records = std::mem::take(&mut self.records);
        self.emitted += records.len() as u64;
        (first..)
            .zip(records.into_iter().map(Insight::new))
            .collect()
    }

    /// Counts what is still held and decides every remaining minute; returns the insights still
    /// open (dicts). Take the last records with `take_insights` afterwards.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let open = py.detach(|| self.finish_inner());
        open_list(py, &open)
    }

    /// Files counted so far (not those skipped).
    #[getter]
    fn files(&self) -> u64 {
        self.files
    }

    /// Files not read, by reason (`too large`: over `max_document_mib`).
    #[getter]
    fn skipped(&self) -> BTreeMap<&'static str, u64> {
        self.skipped.clone()
    }

    /// Read and record errors, one line each, prefixed by the file, as the command prints them.
    #[getter]
    fn errors(&self) -> Vec<String> {
        self.errors.clone()
    }

    /// The detector's counters, as a dict.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.detector.stats())
    }
}

impl TrailReplay {
    fn with(detector: Detector, limits: ReadLimits) -> TrailReplay {
        TrailReplay {
            detector,
            limits,
            held: Vec::new(),
            minute: None,
            group: Vec::new(),
            records: Vec::new(),
            emitted: 0,
            files: 0,
            skipped: BTreeMap::new(),
            errors: Vec::new(),
            finished: false,
        }
    }

    fn add_file(&mut self, file: InputFile, data: Option<Vec<u8>>) -> PyResult<()> {
        let InputFile { delivered, source } = file;
        match delivered {
            None => {
                if self.minute.is_some() {
                    return Err(OrderError::new_err(format!(
                        "{source}: a file without a delivery time after CloudTrail files; hand \
                         those over first"
                    )));
                }
                let mut loaded = load_file(&source, data, &self.limits);
                let batch = EventBatch::parse(&loaded.bytes, self.detector.ingest_options());
                loaded.bytes = Vec::new();
                let first = batch.first_minute();
                self.held
                    .push((first, source, Pending::Held(Box::new(batch), loaded)));
            }
            Some(minute) => {
                match self.minute {
                    Some(current) if minute < current => {
                        return Err(OrderError::new_err(format!(
                            "{source}: delivered at {minute}, after a file delivered at {current}; \
                             hand files over by delivery time"
                        )));
                    }
                    Some(current) if minute > current => self.count_group(),
                    _ => {}
                }
                self.minute = Some(minute);
                self.group.push((source, Pending::Stamped(data)));
            }
        }
        Ok(())
    }

    /// Counts the gathered delivery minute, with the held files that come before its end.
    fn count_group(&mut self) {
        let Some(minute) = self.minute else {
            return;
        };
        let (mut due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|(first, _, _)| *first <= Some(minute));
        self.held = rest;
        due.extend(
            std::mem::take(&mut self.group)
                .into_iter()
                .map(|(source, pending)| (Some(minute), source, pending)),
        );
        self.count_in_order(due);
    }

    /// Counts files in the command's counting order, advancing after each one, as it does.
    fn count_in_order(&mut self, mut files: Vec<(Option<Minute>, Source, Pending)>) {
        sort_for_counting(&mut files, |(time, source, _)| (*time, source));
        for (delivered, source, pending) in files {
            let (batch, loaded) = match pending {
                Pending::Held(batch, loaded) => (*batch, loaded),
                Pending::Stamped(data) => {
                    let mut loaded = load_file(&source, data, &self.limits);
                    let mut batch =
                        EventBatch::parse(&loaded.bytes, self.detector.ingest_options());
                    // As the command's reader does: the delivery lag raises the lateness.
                    batch.delivered = delivered;
                    loaded.bytes = Vec::new();
                    (batch, loaded)
                }
            };
            if let Some(error) = &loaded.error {
                self.errors.push(format!("{source}: {error}"));
            }
            if let Some(reason) = loaded.skipped() {
                *self.skipped.entry(reason.as_str()).or_insert(0) += 1;
                continue;
            }
            self.files += 1;
            for error in batch.errors.iter().take(ERRORS_PER_FILE) {
                self.errors.push(format!("{source}: {error}"));
            }
            if batch.errors.len() > ERRORS_PER_FILE {
                self.errors.push(format!(
                    "{source}: {} more bad records not shown",
                    batch.errors.len() - ERRORS_PER_FILE
                ));
            }
            self.detector.observe_batch(&batch);
            self.detector.advance(&mut self.records);
        }
    }

    fn finish_inner(&mut self) -> Vec<OpenInsight> {
        if !self.finished {
            self.count_group();
            let held = std::mem::take(&mut self.held);
            self.count_in_order(held);
            self.finished = true;
        }
        self.detector.finish(&mut self.records)
    }
}

/// The result of `run_paths`.
#[pyclass(module = "trailsight", name = "Run", frozen)]
pub struct Run {
    insights: Vec<Insight>,
    open: Vec<OpenInsight>,
    stats: trailsight_engine::DetectorStats,
    files: u64,
    skipped: BTreeMap<&'static str, u64>,
    errors: Vec<String>,
}

#[pymethods]
impl Run {
    /// The records, in `trailsight detect`'s output order.
    #[getter]
    fn insights(&self) -> Vec<Insight> {
        self.insights.clone()
    }

    /// The records as JSON lines, byte for byte `trailsight detect`'s stdout.
    #[getter]
    fn json_lines(&self) -> Vec<String> {
        self.insights
            .iter()
            .map(|i| i.json_text().to_owned())
            .collect()
    }

    /// Insights started and not ended at the end of the input (dicts).
    #[getter]
    fn open<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        open_list(py, &self.open)
    }

    /// The detector's counters (dict).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.stats)
    }

    /// Files read.
    #[getter]
    fn files(&self) -> u64 {
        self.files
    }

    /// Files found and not read, by reason (`digest`, `aggregated`, `hidden`, `too large`, …).
    #[getter]
    fn skipped(&self) -> BTreeMap<&'static str, u64> {
        self.skipped.clone()
    }

    /// Paths that could not be listed, read or decompressed, and bad records, one line each.
    #[getter]
    fn errors(&self) -> Vec<String> {
        self.errors.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "<Run {} files, {} records, {} open, {} errors>",
            self.files,
            self.insights.len(),
            self.open.len(),
            self.errors.len()
        )
    }
}

/// Runs the detector over files and directories as `trailsight detect` does: the command's
/// discovery and caps, and its reader ([`trailsight_input::pipeline::run`]: files parsed in
/// parallel and counted in the counting order, large documents read in pieces), so the records,
/// the counts and the error lines are the command's.
#[pyfunction]
#[pyo3(signature = (paths, config = None, *, max_document_mib = DEFAULT_MAX_DOCUMENT_MIB, **settings))]
pub fn run_paths(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    config: Option<&Bound<'_, PyAny>>,
    max_document_mib: u64,
    settings: Option<&Bound<'_, PyDict>>,
) -> PyResult<Run> {
    let mut detector = PyDetector::new_inner(config, settings)?;
    let limits = read_limits(max_document_mib)?;
    py.detach(|| {
        let discovery = discover(&paths);
        let mut errors: Vec<String> = discovery.errors.iter().map(ToString::to_string).collect();
        let mut skipped: BTreeMap<&'static str, u64> = discovery
            .skipped
            .iter()
            .map(|(reason, n)| (reason.as_str(), *n))
            .collect();
        let mut files = 0;
        let mut records = Vec::new();
        pipeline::run(
            &discovery.files,
            &mut detector,
            default_threads(),
            &limits,
            |outcome, new| {
                records.append(new);
                file_errors(outcome, &mut errors);
                if let Some(reason) = outcome.skipped() {
                    *skipped.entry(reason.as_str()).or_insert(0) += 1;
                } else if outcome.ends_file() {
                    files += 1;
                }
            },
        )
        .map_err(|e| PyOSError::new_err(e.to_string()))?;
        let open = detector.finish(&mut records);
        records.sort_by(InsightRecord::output_order);
        Ok(Run {
            insights: Insight::all(records),
            open,
            stats: detector.stats().clone(),
            files,
            skipped,
            errors,
        })
    })
}

/// The error lines of one file (or piece of one) as the command prints them, without its
/// `trailsight: error: ` prefix: the read error, and the first [`ERRORS_PER_FILE`] bad records
/// of the file.
fn file_errors(outcome: &FileOutcome, errors: &mut Vec<String>) {
    let source = &outcome.source;
    if let Some(error) = &outcome.load_error {
        errors.push(format!("{source}: {error}"));
    }
    let before = usize::try_from(outcome.bad_records_before()).unwrap_or(usize::MAX);
    let bad = outcome.record_errors();
    for error in bad.iter().take(ERRORS_PER_FILE.saturating_sub(before)) {
        errors.push(format!("{source}: {error}"));
    }
    let total = before.saturating_add(bad.len());
    if outcome.ends_file() && total > ERRORS_PER_FILE {
        errors.push(format!(
            "{source}: {} more bad records not shown",
            total - ERRORS_PER_FILE
        ));
    }
}

/// The delivery time in a CloudTrail file name (`YYYY-MM-DDTHH:MM:00Z`), or None.
#[pyfunction]
pub fn delivery_time(name: &str) -> Option<String> {
    trail::delivery_time(file_name(name)).map(|m| m.to_string())
}

/// The (account, region) in a CloudTrail log file name, or None.
#[pyfunction]
pub fn account_region(name: &str) -> Option<(String, String)> {
    trail::account_region(file_name(name)).map(|(a, r)| (a.to_owned(), r.to_owned()))
}

/// Why the command skips a file at `relative` (to the walked directory), or None if it reads
/// it: `digest`, `aggregated`, `not a trail file`, `hidden`.
#[pyfunction]
pub fn skip_reason(relative: &str) -> Option<&'static str> {
    trail::skip_reason(Path::new(relative)).map(|r| r.as_str())
}

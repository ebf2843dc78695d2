//! Trail files: finding them, reading them (gzip included), and counting them into a detector
//! in the order `trailsight detect` counts them, so that the records are the same.
//!
//! The command's order (`replay/src/pipeline.rs`): CloudTrail files by the delivery time in
//! their names, other files (exports, JSON lines) by their earliest event, ties by path; the
//! detector advances after each file. [`TrailReplay`] gives that order from files handed over
//! sorted by delivery time only (files without one first), which is what a Spark partition
//! sorted by a column can give, and holds at most the files of one delivery minute.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use trailsight_engine::time::Minute;
use trailsight_engine::trail;
use trailsight_engine::{Detector, EventBatch, InsightRecord, OpenInsight};

use crate::detector::{Insight, PyDetector, open_list};
use crate::{OrderError, build_config, to_python};

/// Error lines kept per file, as the command prints them; the rest are counted.
const ERRORS_PER_FILE: usize = 10;

/// A document's bytes and what went wrong reading them.
pub(crate) struct Loaded {
    /// Everything that could be read and decompressed.
    pub bytes: Vec<u8>,
    /// A read or decompression error; `bytes` holds what came before it.
    pub error: Option<String>,
}

/// Decompresses `raw` if it is gzip (by content, not name), keeping what came before an error.
pub(crate) fn gunzip(raw: Vec<u8>) -> Loaded {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Loaded {
            bytes: raw,
            error: None,
        };
    }
    let mut bytes = Vec::with_capacity(raw.len().saturating_mul(8).min(1 << 30));
    let error = MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut bytes)
        .err()
        .map(|e| format!("gzip: {e} after {} decompressed bytes", bytes.len()));
    Loaded { bytes, error }
}

/// Reads `path` (unless its bytes are given) and decompresses it.
pub(crate) fn load(path: &Path, data: Option<Vec<u8>>) -> Loaded {
    match data.map_or_else(|| std::fs::read(path), Ok) {
        Ok(raw) => gunzip(raw),
        Err(error) => Loaded {
            bytes: Vec::new(),
            error: Some(error.to_string()),
        },
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
    /// A file without a delivery time, parsed when handed over to find its earliest event.
    Held(Box<EventBatch>, Option<String>),
}

/// Counts trail files into one detector in `trailsight detect`'s order.
///
/// Hand files over with `add` sorted by delivery time (`delivery_time(name)`), files without
/// one first, in any order within a minute; then call `finish`. Records decided so far can be
/// taken out with `take_insights` at any time, so a long replay streams.
#[pyclass(module = "trailsight", name = "TrailReplay")]
pub struct TrailReplay {
    detector: Detector,
    /// Files without a delivery time, parsed, by (earliest event, path).
    held: Vec<(Option<Minute>, String, Pending)>,
    /// The delivery minute being gathered and its files.
    minute: Option<Minute>,
    group: Vec<(String, Pending)>,
    /// Records decided and not taken yet.
    records: Vec<InsightRecord>,
    /// Records taken out so far, for `seq`.
    emitted: u64,
    files: u64,
    errors: Vec<String>,
    finished: bool,
}

#[pymethods]
impl TrailReplay {
    /// A replay with a new detector (same arguments as `Detector`), or continuing from the
    /// state of `detector` (copied through its snapshot; the object itself is left as it was).
    #[new]
    #[pyo3(signature = (config = None, *, detector = None, **settings))]
    fn new(
        config: Option<&Bound<'_, PyAny>>,
        detector: Option<&Bound<'_, PyDetector>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<TrailReplay> {
        let detector = match detector {
            Some(d) => {
                // Taking the state over leaves the Python object with an empty detector; the
                // snapshot round trip is exact, so copying is as good as moving.
                Detector::restore(&d.borrow().inner_snapshot())
                    .map_err(|e| crate::SnapshotError::new_err(e.to_string()))?
            }
            None => PyDetector::new_inner(config, settings)?,
        };
        Ok(TrailReplay::with(detector))
    }

    /// Hands over one file: its path (used for the order, error messages and, without `data`,
    /// for reading it) and optionally its bytes (plain or gzip).
    #[pyo3(signature = (path, data = None))]
    fn add(&mut self, py: Python<'_>, path: String, data: Option<Vec<u8>>) -> PyResult<()> {
        if self.finished {
            return Err(OrderError::new_err("add after finish"));
        }
        let delivered = trail::delivery_time(file_name(&path));
        py.detach(|| self.add_file(path, delivered, data))
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

    /// Files counted so far.
    #[getter]
    fn files(&self) -> u64 {
        self.files
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
    fn with(detector: Detector) -> TrailReplay {
        TrailReplay {
            detector,
            held: Vec::new(),
            minute: None,
            group: Vec::new(),
            records: Vec::new(),
            emitted: 0,
            files: 0,
            errors: Vec::new(),
            finished: false,
        }
    }

    fn add_file(
        &mut self,
        path: String,
        delivered: Option<Minute>,
        data: Option<Vec<u8>>,
    ) -> PyResult<()> {
        match delivered {
            None => {
                if self.minute.is_some() {
                    return Err(OrderError::new_err(format!(
                        "{path}: a file without a delivery time after CloudTrail files; hand \
                         those over first"
                    )));
                }
                let loaded = load(Path::new(&path), data);
                let batch = EventBatch::parse(&loaded.bytes, self.detector.ingest_options());
                let first = batch.first_minute();
                self.held
                    .push((first, path, Pending::Held(Box::new(batch), loaded.error)));
            }
            Some(minute) => {
                match self.minute {
                    Some(current) if minute < current => {
                        return Err(OrderError::new_err(format!(
                            "{path}: delivered at {minute}, after a file delivered at {current}; \
                             hand files over by delivery time"
                        )));
                    }
                    Some(current) if minute > current => self.count_group(),
                    _ => {}
                }
                self.minute = Some(minute);
                self.group.push((path, Pending::Stamped(data)));
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
                .map(|(path, pending)| (Some(minute), path, pending)),
        );
        self.count_in_order(due);
    }

    /// Counts files in (time, path) order, advancing after each one, as the command does.
    fn count_in_order(&mut self, mut files: Vec<(Option<Minute>, String, Pending)>) {
        // Paths compare by component, as the command's `PathBuf`s do.
        files.sort_by(|a, b| (a.0, Path::new(&a.1)).cmp(&(b.0, Path::new(&b.1))));
        for (_, path, pending) in files {
            let (batch, error) = match pending {
                Pending::Held(batch, error) => (*batch, error),
                Pending::Stamped(data) => {
                    let loaded = load(Path::new(&path), data);
                    let batch = EventBatch::parse(&loaded.bytes, self.detector.ingest_options());
                    (batch, loaded.error)
                }
            };
            self.files += 1;
            if let Some(error) = error {
                self.errors.push(format!("{path}: {error}"));
            }
            for error in batch.errors.iter().take(ERRORS_PER_FILE) {
                self.errors.push(format!("{path}: {error}"));
            }
            if batch.errors.len() > ERRORS_PER_FILE {
                self.errors.push(format!(
                    "{path}: {} more bad records not shown",
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

impl PyDetector {
    /// A detector from Python arguments.
    pub(crate) fn new_inner(
        config: Option<&Bound<'_, PyAny>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Detector> {
        let config = build_config(config, settings)?;
        Detector::new(config).map_err(|e| crate::ConfigError::new_err(e.to_string()))
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

    /// Files found and not read, by reason (`digest`, `aggregated`, `hidden`, …).
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

/// Runs the detector over files and directories as `trailsight detect` does.
#[pyfunction]
#[pyo3(signature = (paths, config = None, **settings))]
pub fn run_paths(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    config: Option<&Bound<'_, PyAny>>,
    settings: Option<&Bound<'_, PyDict>>,
) -> PyResult<Run> {
    let detector = PyDetector::new_inner(config, settings)?;
    py.detach(|| {
        let discovery = discover(&paths);
        let mut replay = TrailReplay::with(detector);
        replay.errors.extend(discovery.errors);
        for (delivered, path) in discovery.files {
            let path = path.to_string_lossy().into_owned();
            replay.add_file(path, delivered, None)?;
        }
        let open = replay.finish_inner();
        let mut records = std::mem::take(&mut replay.records);
        records.sort_by(InsightRecord::output_order);
        Ok(Run {
            insights: Insight::all(records),
            open,
            stats: replay.detector.stats().clone(),
            files: replay.files,
            skipped: discovery.skipped,
            errors: replay.errors,
        })
    })
}

/// Files found under some paths, in delivery order, as the command finds them.
struct Discovery {
    files: Vec<(Option<Minute>, PathBuf)>,
    skipped: BTreeMap<&'static str, u64>,
    errors: Vec<String>,
}

/// The command's discovery (`replay/src/input.rs`): named files always, directories walked at
/// any depth following links, with the skip rules of [`trail::skip_reason`].
fn discover(paths: &[PathBuf]) -> Discovery {
    let mut found = Discovery {
        files: Vec::new(),
        skipped: BTreeMap::new(),
        errors: Vec::new(),
    };
    let stamp = |path: PathBuf| {
        let delivered = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(trail::delivery_time);
        (delivered, path)
    };
    for path in paths {
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name()
            {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(error) => {
                        let at = error.path().unwrap_or(path).display().to_string();
                        found.errors.push(format!("{at}: {error}"));
                        continue;
                    }
                };
                if !entry.file_type().is_file() {
                    continue;
                }
                let relative = entry.path().strip_prefix(path).unwrap_or(entry.path());
                match trail::skip_reason(relative) {
                    Some(reason) => *found.skipped.entry(reason.as_str()).or_insert(0) += 1,
                    None => found.files.push(stamp(entry.into_path())),
                }
            }
        } else if path.exists() {
            found.files.push(stamp(path.clone()));
        } else {
            found
                .errors
                .push(format!("{}: no such file or directory", path.display()));
        }
    }
    found.files.sort();
    found.files.dedup();
    found
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

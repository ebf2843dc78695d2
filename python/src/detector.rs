//! `Detector` for Python.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use trailsight_engine::Detector;
use trailsight_engine::detector::DocumentReport;
use trailsight_engine::time::{Minute, Timestamp};
use trailsight_input::{DEFAULT_MAX_DOCUMENT_MIB, Loaded, ReadLimits, Source, load, load_bytes};

use crate::config::{build_config, read_limits};
use crate::convert::{document, to_python};
use crate::errors::{ConfigError, SnapshotError};
use crate::insight::{Insight, open_list};

/// What `__reduce__` gives: `Detector.restore` and its arguments.
type Reduced<'py> = (Bound<'py, PyAny>, (Bound<'py, PyBytes>, u64));

/// The streaming detector.
#[pyclass(module = "trailsight", name = "Detector")]
pub struct PyDetector {
    inner: Detector,
    /// The caps of `observe` and `observe_file` (`max_document_mib`).
    limits: ReadLimits,
}

#[pymethods]
impl PyDetector {
    #[new]
    #[pyo3(signature = (config = None, *, max_document_mib = DEFAULT_MAX_DOCUMENT_MIB, **settings))]
    fn new(
        config: Option<&Bound<'_, PyAny>>,
        max_document_mib: u64,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyDetector> {
        Ok(PyDetector {
            inner: PyDetector::new_inner(config, settings)?,
            limits: read_limits(max_document_mib)?,
        })
    }

    /// Counts the events of one document: a record (dict, JSON text or bytes), a
    /// `{"Records":[...]}` log file, JSON lines, an EventBridge event, a CloudWatch Logs
    /// message, gzip-compressed or not. A document over `max_document_mib` once decompressed
    /// is not read: the report says `skipped` and why in `errors`.
    fn observe<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let bytes = document(data)?;
        let (detector, limits) = (&mut self.inner, &self.limits);
        let (report, loaded) = py.detach(|| {
            let mut loaded = load_bytes(bytes, limits, Vec::new());
            let report = detector.observe_document(&loaded.bytes);
            loaded.bytes = Vec::new();
            (report, loaded)
        });
        report_dict(py, report, loaded)
    }

    /// Reads a file (plain or gzip) and counts its events, as `observe` does.
    fn observe_file<'py>(
        &mut self,
        py: Python<'py>,
        path: std::path::PathBuf,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (detector, limits) = (&mut self.inner, &self.limits);
        let (report, loaded) = py.detach(|| {
            let mut loaded = load(&Source::Path(path), limits, Vec::new());
            let report = detector.observe_document(&loaded.bytes);
            loaded.bytes = Vec::new();
            (report, loaded)
        });
        report_dict(py, report, loaded)
    }

    /// Decides every minute now more than the allowed lateness behind the newest event of its
    /// account and region; returns the records that became known, in output order.
    fn advance(&mut self, py: Python<'_>) -> Vec<Insight> {
        let detector = &mut self.inner;
        py.detach(|| {
            let mut records = Vec::new();
            detector.advance(&mut records);
            Insight::all(records)
        })
    }

    /// Like `advance`, and also decides every minute before `watermark` (RFC 3339 text, an
    /// aware `datetime`, or seconds since the epoch) in every account and region.
    fn advance_to(
        &mut self,
        py: Python<'_>,
        watermark: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<Insight>> {
        let watermark = minute_of(watermark)?;
        let detector = &mut self.inner;
        Ok(py.detach(|| {
            let mut records = Vec::new();
            detector.advance_to(watermark, &mut records);
            Insight::all(records)
        }))
    }

    /// Decides every minute up to the newest event (call it at the end of the input); returns
    /// the records and the insights still open (dicts).
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<(Vec<Insight>, Bound<'py, PyAny>)> {
        let detector = &mut self.inner;
        let (records, open) = py.detach(|| {
            let mut records = Vec::new();
            let open = detector.finish(&mut records);
            (Insight::all(records), open)
        });
        Ok((records, open_list(py, &open)?))
    }

    /// The insights started and not ended, as dicts.
    fn open_insights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        open_list(py, &self.inner.open_insights())
    }

    /// Counters of everything the detector saw and did, as a dict.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.inner.stats())
    }

    /// How much state the detector holds (partitions, series, open insights, strings, bytes).
    #[getter]
    fn state_size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.state_size())
    }

    /// The newest event minute seen, or None.
    #[getter]
    fn newest_minute(&self) -> Option<String> {
        self.inner.newest_minute().map(|m| m.to_string())
    }

    /// The whole state as bytes (versioned; the same state always gives the same bytes).
    fn snapshot<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.snapshot())
    }

    /// A detector from `snapshot()` bytes; raises SnapshotError on anything else. The snapshot
    /// holds the detector's state, not `max_document_mib`, which is given again here.
    #[staticmethod]
    #[pyo3(signature = (data, max_document_mib = DEFAULT_MAX_DOCUMENT_MIB))]
    fn restore(data: &[u8], max_document_mib: u64) -> PyResult<PyDetector> {
        let limits = read_limits(max_document_mib)?;
        Detector::restore(data)
            .map(|inner| PyDetector { inner, limits })
            .map_err(|e| SnapshotError::new_err(e.to_string()))
    }

    /// Pickling goes through the snapshot, so a detector can be shipped to Spark workers; the
    /// document cap goes along.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let restore = slf.get_type().getattr("restore")?;
        let this = slf.borrow();
        Ok((
            restore,
            (this.snapshot(slf.py()), this.limits.max_document_mib()),
        ))
    }
}

impl PyDetector {
    /// A detector from Python arguments.
    pub(crate) fn new_inner(
        config: Option<&Bound<'_, PyAny>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Detector> {
        let config = build_config(config, settings)?;
        Detector::new(config).map_err(|e| ConfigError::new_err(e.to_string()))
    }

    /// The state, for a `TrailReplay` continuing from it.
    pub(crate) fn inner_snapshot(&self) -> Vec<u8> {
        self.inner.snapshot()
    }

    /// The caps it reads documents under.
    pub(crate) fn limits(&self) -> ReadLimits {
        self.limits
    }
}

/// `observe`'s report: the parse's counts, the load error first among the errors, and
/// `skipped` (`"too large"`, or None) when the document was not read.
fn report_dict<'py>(
    py: Python<'py>,
    report: DocumentReport,
    loaded: Loaded,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("format", report.format.as_str())?;
    dict.set_item("counted", report.counted)?;
    dict.set_item("insights", report.insights)?;
    dict.set_item("skipped", loaded.skipped().map(|r| r.as_str()))?;
    let mut errors: Vec<String> = loaded.error.iter().map(ToString::to_string).collect();
    errors.extend(report.errors.iter().map(ToString::to_string));
    dict.set_item("errors", errors)?;
    Ok(dict)
}

/// A minute from RFC 3339 text, an aware `datetime` or epoch seconds.
fn minute_of(value: &Bound<'_, PyAny>) -> PyResult<Minute> {
    let seconds = if let Ok(text) = value.cast::<PyString>() {
        Timestamp::parse(&text.to_cow()?)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?
            .0
    } else if value.hasattr("timestamp")? {
        if value.getattr("tzinfo")?.is_none() {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "a naive datetime has no defined instant; give it a tzinfo (UTC)",
            ));
        }
        value.call_method0("timestamp")?.extract::<f64>()?.floor() as i64
    } else {
        value.extract::<i64>()?
    };
    Ok(Timestamp(seconds).minute())
}

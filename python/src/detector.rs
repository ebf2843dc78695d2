//! `Detector` and `Insight` for Python.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use trailsight_engine::detector::DocumentReport;
use trailsight_engine::time::{Minute, Timestamp};
use trailsight_engine::{Detector, InsightRecord, InsightState, InsightType, OpenInsight};

use crate::{ConfigError, SnapshotError, build_config, document, json_loads, to_python};

/// One Insights record, as the engine built it.
#[pyclass(module = "trailsight", name = "Insight", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Insight {
    record: InsightRecord,
    json: String,
}

impl Insight {
    /// Wraps a record, serialising it once.
    pub(crate) fn new(record: InsightRecord) -> Insight {
        let json = record.to_json();
        Insight { record, json }
    }

    /// The records of `records`, wrapped.
    pub(crate) fn all(records: Vec<InsightRecord>) -> Vec<Insight> {
        records.into_iter().map(Insight::new).collect()
    }

    /// The record's JSON line.
    pub(crate) fn json_text(&self) -> &str {
        &self.json
    }
}

/// The position of a record in the command's output order, as plain values: Python tuples and
/// Spark columns sort them the same way (strings compare by code point, as UTF-8 bytes do).
pub(crate) type SortKey = (
    i64,
    bool,
    String,
    String,
    String,
    String,
    u8,
    bool,
    String,
    bool,
);

/// See [`SortKey`]; mirrors [`InsightRecord::output_order`].
pub(crate) fn sort_key(r: &InsightRecord) -> SortKey {
    (
        r.event_time.timestamp().0,
        r.recipient_account_id.is_some(),
        r.recipient_account_id.clone().unwrap_or_default(),
        r.aws_region.clone(),
        r.event_source.clone(),
        r.event_name.clone(),
        match r.insight_type {
            InsightType::ApiCallRateInsight => 0,
            InsightType::ApiErrorRateInsight => 1,
        },
        r.error_code.is_some(),
        r.error_code.clone().unwrap_or_default(),
        r.state == InsightState::Start,
    )
}

#[pymethods]
impl Insight {
    /// The record as one line of JSON, byte for byte what `trailsight detect` prints.
    #[getter]
    fn json(&self) -> &str {
        &self.json
    }

    /// The record as a dict (parsed from `json`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &self.json)
    }

    /// `eventTime`, `YYYY-MM-DDTHH:MM:00Z`.
    #[getter]
    fn event_time(&self) -> String {
        self.record.event_time.to_string()
    }

    /// `insightDetails.state`: `Start` or `End`.
    #[getter]
    fn state(&self) -> &'static str {
        self.record.state.as_str()
    }

    /// `recipientAccountId`, or None.
    #[getter]
    fn account(&self) -> Option<&str> {
        self.record.recipient_account_id.as_deref()
    }

    /// `awsRegion`.
    #[getter]
    fn region(&self) -> &str {
        &self.record.aws_region
    }

    /// `insightDetails.eventSource`.
    #[getter]
    fn event_source(&self) -> &str {
        &self.record.event_source
    }

    /// `insightDetails.eventName`.
    #[getter]
    fn event_name(&self) -> &str {
        &self.record.event_name
    }

    /// `ApiCallRateInsight` or `ApiErrorRateInsight`.
    #[getter]
    fn insight_type(&self) -> &'static str {
        self.record.insight_type.as_str()
    }

    /// `insightDetails.errorCode` of an error-rate insight, or None.
    #[getter]
    fn error_code(&self) -> Option<&str> {
        self.record.error_code.as_deref()
    }

    /// `eventID`.
    #[getter]
    fn event_id(&self) -> String {
        self.record.event_id.hyphenated().to_string()
    }

    /// `sharedEventID`, the same on a Start and its End.
    #[getter]
    fn shared_event_id(&self) -> String {
        self.record.shared_event_id.hyphenated().to_string()
    }

    /// A tuple that sorts records in `trailsight detect`'s output order (stable sorts keep
    /// the detector's order among equal keys, as the command does).
    #[getter]
    fn sort_key(&self) -> SortKey {
        sort_key(&self.record)
    }

    fn __str__(&self) -> &str {
        &self.json
    }

    fn __repr__(&self) -> String {
        format!(
            "<Insight {} {} {} {}:{} {}{}>",
            self.record.state.as_str(),
            self.record.event_time,
            self.record.recipient_account_id.as_deref().unwrap_or("-"),
            self.record.event_source,
            self.record.event_name,
            self.record.insight_type.as_str(),
            self.record
                .error_code
                .as_deref()
                .map(|c| format!(" {c}"))
                .unwrap_or_default()
        )
    }
}

/// The streaming detector.
#[pyclass(module = "trailsight", name = "Detector")]
pub struct PyDetector {
    inner: Detector,
}

#[pymethods]
impl PyDetector {
    #[new]
    #[pyo3(signature = (config = None, **settings))]
    fn new(
        config: Option<&Bound<'_, PyAny>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyDetector> {
        let config = build_config(config, settings)?;
        let inner = Detector::new(config).map_err(|e| ConfigError::new_err(e.to_string()))?;
        Ok(PyDetector { inner })
    }

    /// Counts the events of one document: a record (dict, JSON text or bytes), a
    /// `{"Records":[...]}` log file, JSON lines, an EventBridge event, a CloudWatch Logs
    /// message, gzip-compressed or not.
    fn observe<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let bytes = document(data)?;
        let bytes = crate::files::gunzip(bytes);
        let detector = &mut self.inner;
        let report = py.detach(|| detector.observe_document(&bytes.bytes));
        report_dict(py, report, bytes.error)
    }

    /// Reads a file (plain or gzip) and counts its events, as `observe` does.
    fn observe_file<'py>(
        &mut self,
        py: Python<'py>,
        path: std::path::PathBuf,
    ) -> PyResult<Bound<'py, PyDict>> {
        let detector = &mut self.inner;
        let (report, error) = py.detach(|| {
            let loaded = crate::files::load(&path, None);
            (detector.observe_document(&loaded.bytes), loaded.error)
        });
        report_dict(py, report, error)
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

    /// A detector from `snapshot()` bytes; raises SnapshotError on anything else.
    #[staticmethod]
    fn restore(data: &[u8]) -> PyResult<PyDetector> {
        Detector::restore(data)
            .map(|inner| PyDetector { inner })
            .map_err(|e| SnapshotError::new_err(e.to_string()))
    }

    /// Pickling goes through the snapshot, so a detector can be shipped to Spark workers.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let restore = slf.get_type().getattr("restore")?;
        Ok((restore, (slf.borrow().snapshot(slf.py()),)))
    }
}

impl PyDetector {
    /// The state, for a `TrailReplay` continuing from it.
    pub(crate) fn inner_snapshot(&self) -> Vec<u8> {
        self.inner.snapshot()
    }
}

fn report_dict<'py>(
    py: Python<'py>,
    report: DocumentReport,
    load_error: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("format", report.format.as_str())?;
    dict.set_item("counted", report.counted)?;
    dict.set_item("insights", report.insights)?;
    let mut errors: Vec<String> = load_error.into_iter().collect();
    errors.extend(report.errors.iter().map(ToString::to_string));
    dict.set_item("errors", errors)?;
    Ok(dict)
}

pub(crate) fn open_list<'py>(py: Python<'py>, open: &[OpenInsight]) -> PyResult<Bound<'py, PyAny>> {
    to_python(py, &open)
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

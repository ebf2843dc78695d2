//! `Insight` for Python: one Insights record, its JSON line and its sort key; and the open
//! insights list both the detector and the replay return.

use pyo3::prelude::*;
use trailsight_engine::{InsightRecord, InsightState, InsightType, OpenInsight};

use crate::convert::{json_loads, to_python};

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

/// Open insights as a list of dicts.
pub(crate) fn open_list<'py>(py: Python<'py>, open: &[OpenInsight]) -> PyResult<Bound<'py, PyAny>> {
    to_python(py, &open)
}

//! JSON to and from Python objects, through the standard library's `json` module, and the
//! bytes of a document handed in.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use serde_json::Value;

use crate::errors::TrailsightError;

/// A Python value as JSON, through the standard library's encoder.
pub(crate) fn to_json_value(object: &Bound<'_, PyAny>) -> PyResult<Value> {
    let text = json_dumps(object)?;
    serde_json::from_str(&text).map_err(|e| TrailsightError::new_err(e.to_string()))
}

/// `json.dumps(object)`.
pub(crate) fn json_dumps(object: &Bound<'_, PyAny>) -> PyResult<String> {
    object
        .py()
        .import("json")?
        .call_method1("dumps", (object,))?
        .extract()
}

/// `json.loads(text)`: how records and counters become Python dicts.
pub(crate) fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// A serialisable value as Python objects.
pub(crate) fn to_python<'py>(
    py: Python<'py>,
    value: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| TrailsightError::new_err(e.to_string()))?;
    json_loads(py, &text)
}

/// The bytes of a document given as `bytes`, `bytearray`, `str`, or any JSON-serialisable
/// value (a dict is one record).
pub(crate) fn document(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    if let Ok(text) = data.cast::<PyString>() {
        return Ok(text.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(bytes) = data.cast::<pyo3::types::PyByteArray>() {
        return Ok(bytes.to_vec());
    }
    Ok(json_dumps(data)?.into_bytes())
}

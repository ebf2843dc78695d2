//! The `trailsight._engine` extension module: trailsight-engine for Python.
//!
//! The Python package (`trailsight/`, next to this crate) wraps it; its docstrings and the typed
//! stubs (`trailsight/_engine.pyi`) are the user-facing documentation. Everything that decides
//! records (parsing, gzip, the file order, the detector) runs here, in Rust, so that the
//! package gives the bytes the `trailsight` command gives on the same input: files are found,
//! read, capped and ordered by `trailsight-input`, the command's own input layer.
//!
//! Modules import one way: `files` (the replay, `run_paths`, the name rules) uses `detector`
//! and `insight`; `detector` uses `insight`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use serde_json::{Map, Value};
use trailsight_engine::DetectorConfig;
use trailsight_engine::time::Timestamp;
use trailsight_input::ReadLimits;

mod detector;
mod files;
mod insight;

create_exception!(
    _engine,
    TrailsightError,
    PyException,
    "Base class of trailsight's errors."
);
create_exception!(
    _engine,
    ConfigError,
    TrailsightError,
    "An invalid detector configuration."
);
create_exception!(
    _engine,
    SnapshotError,
    TrailsightError,
    "Bytes that are not a detector snapshot this version can restore."
);
create_exception!(
    _engine,
    OrderError,
    TrailsightError,
    "Files handed to a TrailReplay out of counting order."
);

/// The Python module.
#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("TrailsightError", py.get_type::<TrailsightError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("SnapshotError", py.get_type::<SnapshotError>())?;
    m.add("OrderError", py.get_type::<OrderError>())?;
    m.add_class::<detector::PyDetector>()?;
    m.add_class::<insight::Insight>()?;
    m.add_class::<files::TrailReplay>()?;
    m.add_class::<files::Run>()?;
    m.add_function(wrap_pyfunction!(files::run_paths, m)?)?;
    m.add_function(wrap_pyfunction!(files::delivery_time, m)?)?;
    m.add_function(wrap_pyfunction!(files::account_region, m)?)?;
    m.add_function(wrap_pyfunction!(files::skip_reason, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

/// The detector configuration from Python: `config` is a dict (the keys of the `--config` TOML
/// file, with `-` or `_`), TOML text, or None; `settings` are keyword arguments that win over
/// it, as the command's flags win over its file.
pub(crate) fn build_config(
    config: Option<&Bound<'_, PyAny>>,
    settings: Option<&Bound<'_, PyDict>>,
) -> PyResult<DetectorConfig> {
    let config_error = |e: &dyn std::fmt::Display| ConfigError::new_err(e.to_string());
    let mut value = match config {
        None => Value::Object(Map::new()),
        Some(c) if c.is_none() => Value::Object(Map::new()),
        Some(c) if c.is_instance_of::<PyString>() => {
            let text: String = c.extract()?;
            toml::from_str::<Value>(&text).map_err(|e| config_error(&e))?
        }
        Some(c) => to_json_value(c)?,
    };
    normalise_keys(&mut value);
    let Value::Object(fields) = &mut value else {
        return Err(ConfigError::new_err(
            "the configuration must be a mapping or TOML text",
        ));
    };
    if let Some(settings) = settings {
        let mut flags = to_json_value(settings.as_any())?;
        normalise_keys(&mut flags);
        if let Value::Object(flags) = flags {
            fields.extend(flags);
        }
    }
    let config: DetectorConfig = serde_json::from_value(value).map_err(|e| config_error(&e))?;
    let mut config = config.normalised();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    config.reject_after_now(Timestamp(now));
    config.validate().map_err(|e| config_error(&e))?;
    Ok(config)
}

/// The largest `max_document_mib` the command accepts (`--max-document-mib`).
const MAX_DOCUMENT_MIB_LIMIT: u64 = 1 << 24;

/// The read caps of `max_document_mib`, checked as the command checks `--max-document-mib`.
pub(crate) fn read_limits(max_document_mib: u64) -> PyResult<ReadLimits> {
    if !(1..=MAX_DOCUMENT_MIB_LIMIT).contains(&max_document_mib) {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "max_document_mib must be from 1 to {MAX_DOCUMENT_MIB_LIMIT}, not {max_document_mib}"
        )));
    }
    Ok(ReadLimits::from_document_mib(max_document_mib))
}

/// Object keys with `_` written as `-`, so that Python keyword names match the TOML keys.
fn normalise_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            for (key, mut inner) in entries {
                normalise_keys(&mut inner);
                map.insert(key.replace('_', "-"), inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise_keys),
        _ => {}
    }
}

/// A Python value as JSON, through the standard library's encoder.
fn to_json_value(object: &Bound<'_, PyAny>) -> PyResult<Value> {
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

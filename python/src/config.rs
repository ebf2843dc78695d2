//! The detector configuration and the read caps from Python values, checked as the command
//! checks its flags.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::{Map, Value};
use trailsight_engine::DetectorConfig;
use trailsight_engine::time::Timestamp;
use trailsight_input::ReadLimits;

use crate::convert::to_json_value;
use crate::errors::ConfigError;

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

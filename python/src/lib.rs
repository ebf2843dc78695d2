//! The `trailsight._engine` extension module: trailsight-engine for Python.
//!
//! The Python package (`trailsight/`, next to this crate) wraps it; its docstrings and the typed
//! stubs (`trailsight/_engine.pyi`) are the user-facing documentation. Everything that decides
//! records (parsing, gzip, the file order, the detector) runs here, in Rust, so that the
//! package gives the bytes the `trailsight` command gives on the same input: files are found,
//! read, capped and ordered by `trailsight-input`, the command's own input layer.
//!
//! Modules import one way: this root registers the classes and functions; `files` (the
//! replay, `run_paths`, the name rules) uses `detector` and `insight`; `detector` uses
//! `insight`; all use `config` (the configuration and read caps from Python values),
//! `convert` (JSON to and from Python) and `errors` (the exception classes), which use
//! nothing above them.

use pyo3::prelude::*;

mod config;
mod convert;
mod detector;
mod errors;
mod files;
mod insight;

/// The Python module.
#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("TrailsightError", py.get_type::<errors::TrailsightError>())?;
    m.add("ConfigError", py.get_type::<errors::ConfigError>())?;
    m.add("SnapshotError", py.get_type::<errors::SnapshotError>())?;
    m.add("OrderError", py.get_type::<errors::OrderError>())?;
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

//! The exception classes of `trailsight._engine`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;

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

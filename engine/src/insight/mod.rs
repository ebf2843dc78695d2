//! Insights records in CloudTrail's schema.
//!
//! Every number in a record is kept as the exact count and duration it came from
//! ([`Average`]), so it can be recomputed from the raw events and compared without tolerance;
//! the JSON text rounds the quotient to 10 decimal places, as AWS does
//! (`0.0000882145` = 1/11336 in AWS's own example).

mod build;
mod key;
mod kind;
mod record;

pub(crate) use build::RecordParts;
pub use key::{SeriesKey, SeriesKeyRef};
pub use kind::{AttributeKind, ID_NAMESPACE, InsightState, InsightType};
pub use record::{
    AttributedValue, Attribution, Average, Detection, EVENT_VERSION, InsightRecord, format_average,
};

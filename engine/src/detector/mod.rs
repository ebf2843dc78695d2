//! The detector: counts events into per-minute series and decides, minute by minute of event
//! time, when a series' activity starts and stops being unusual, emitting Insights records.
//!
//! State is partitioned by (account, region), as CloudTrail's S3 layout and AWS's Insights are.
//! Each partition has its own event-time clock: its **frontier** is the newest event minute seen
//! minus the allowed lateness, and every minute before the frontier is decided. Events are
//! de-duplicated by `eventID` within the partition while their minute is within the dedup
//! horizon of the frontier.
//!
//! Within a partition, a series is one (category, event source, event name) for
//! `ApiCallRateInsight`, or one (category, event source, event name, error code) for
//! `ApiErrorRateInsight`. Series are independent: the decisions of one never depend on another,
//! which is what makes any split of the work by series give the same records.

mod driver;
mod intake;
mod partition;
mod series;
mod snapshot;
mod types;

pub use driver::Detector;
pub use series::{baseline_minutes, baseline_start};
pub use types::{
    DetectorStats, DocumentReport, LimitStats, OTHER_VALUE, Observation, OpenInsight, Sink,
    StateSize, sink,
};

//! trailsight-engine: the library behind `trailsight`, an open re-implementation of AWS
//! CloudTrail Insights.
//!
//! # Overview
//!
//! - [`parse`] reads CloudTrail record bytes (log files, JSON lines, `lookup-events` output,
//!   EventBridge and CloudWatch Logs envelopes) into borrowed [`Event`]s.
//! - [`Detector`] counts analysed events per (account, region, API[, error code]) and minute,
//!   decides in event time when activity leaves and re-enters its normal bounds, and emits
//!   [`InsightRecord`]s in CloudTrail's schema, with every average kept as the exact count and
//!   duration it came from.
//! - [`EventBatch`] is the compact form parse workers build in parallel for
//!   [`Detector::observe_batch`].
//! - [`mod@reference`] reads Insights records back (AWS's, in the trail or the Lake schema, or
//!   trailsight's own) and pairs Starts with Ends, for comparing and validating them.
//!
//! The engine does no I/O, starts no threads and reads no clock: time enters only through
//! `eventTime`, so the same events in the same order always give the same records.
//!
//! # Example
//!
//! ```
//! use trailsight_engine::{Detector, DetectorConfig, EventBatch};
//!
//! let trail = br#"{"Records":[{"eventVersion":"1.08","eventTime":"2024-03-04T10:00:00Z",
//!   "eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1",
//!   "eventID":"2df05a9f-0f79-42d3-b5d5-f5cc6c312fb1","readOnly":false,
//!   "recipientAccountId":"111122223333","eventCategory":"Management"}]}"#;
//! let mut detector = Detector::new(DetectorConfig::default())?;
//! let batch = EventBatch::parse(trail, detector.ingest_options());
//! detector.observe_batch(&batch);
//! let mut records = Vec::new();
//! let still_open = detector.finish(&mut records);
//! assert_eq!(detector.stats().counted, 1);
//! assert!(records.is_empty() && still_open.is_empty()); // one call is no insight
//! # Ok::<(), trailsight_engine::ConfigError>(())
//! ```
//!
//! # Panics and errors
//!
//! Nothing in the engine panics on input data: bad records become [`parse::RecordError`]s and
//! are counted. [`Detector::new`] returns a [`ConfigError`] for an invalid configuration.

#![deny(missing_docs)]

pub mod config;
pub mod detector;
pub mod event;
pub mod ingest;
pub mod insight;
pub mod parse;
pub mod reference;
pub mod snapshot;
pub mod time;

// Implementation, not API: exported only for the benches and the engine's model tests, which
// measure and check the internals directly. No compatibility promise.
#[doc(hidden)]
pub mod attribution;
mod dedup;
#[doc(hidden)]
pub mod intern;
#[doc(hidden)]
pub mod model;
#[doc(hidden)]
pub mod window;

pub use config::{ConfigError, DetectorConfig, FUTURE_SLACK_SECONDS, KeyOverride, Limits};
pub use detector::{Detector, DetectorStats, Observation, OpenInsight, StateSize};
pub use event::{Event, EventCategory, UserIdentity};
pub use ingest::{BatchStream, EventBatch, IngestOptions};
pub use insight::{InsightRecord, InsightState, InsightType, SeriesKey, SeriesKeyRef};

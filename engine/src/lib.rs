//! trailsight-engine: the library behind `trailsight`, an open re-implementation of AWS CloudTrail
//! Insights.
//!
//! - [`parse`]: CloudTrail record bytes (log files, JSON lines, lookup-events output, EventBridge
//!   and CloudWatch Logs envelopes) to borrowed [`event::Event`]s.
//! - [`time`]: event time, minutes and UTC days.
//!
//! The engine does no I/O, starts no threads and reads no clock: time enters only through
//! `eventTime`, so the same events always give the same Insights.

#![deny(missing_docs)]

pub mod event;
pub mod intern;
pub mod parse;
pub mod time;
pub mod window;

//! Reading Insights records back, AWS's or trailsight's own, to compare and validate them.
//!
//! [`ReferenceInsight::parse`] reads the JSON text of one Insights record, as
//! [`crate::parse::ParsedItem::Insight`] hands it over from any document format, in either of
//! the two schemas AWS uses:
//!
//! - the **trail** schema (S3 `CloudTrail-Insight/` files, `lookup-events`, EventBridge,
//!   CloudWatch Logs): `insightDetails.{state, eventSource, eventName, insightType, errorCode,
//!   sourceEventCategory, insightContext.{statistics, attributions}}`;
//! - the **Lake** schema (CloudTrail Lake event data stores): `insightState`,
//!   `insightEventSource`, `insightEventName`, `insightErrorCode`, `insightType` at the top
//!   level and `insightContext.{baselineAverage, insightAverage, baselineDuration,
//!   insightDuration, attributions}`, whose attributions may carry only the deprecated flat
//!   `insightValue`/`insightAverage`/`baselineValue`/`baselineAverage` fields.
//!
//! It accepts every generation AWS has written: 2019 records without `baselineDuration`,
//! attributions or a Start `insightDuration`; 2024 records with `errorCode` and
//! `sourceEventCategory`; averages in exponent notation (`9.82222E-5`); no
//! `recipientAccountId`; IDs that are not UUIDs (documentation examples). A record whose
//! statistics are missing (the elastic/beats sample misspells `insightContext`) still parses,
//! with [`ReferenceInsight::statistics`] `None` and a [`SchemaNote`] saying why. The fields that
//! identify an insight (state, time, region, API, type, `sharedEventID`) are required; a record
//! without them, or with a wrong JSON type anywhere, is a [`ReferenceError`] naming the field.
//!
//! [`pair`] links Start and End records by `sharedEventID` into [`InsightInterval`]s, keeping
//! lone Starts and lone Ends.

use serde_json::value::RawValue;

use crate::time::Timestamp;

mod fields;
mod number;
mod pair;
mod schema;
mod types;

use fields::{Fields, cut};
use schema::Common;
use types::Parsed;

pub use number::ReportedNumber;
pub use pair::{InsightInterval, Pairing, PairingProblem, pair};
pub use types::{
    InsightSchema, MAX_DURATION_MINUTES, ReferenceError, ReferenceErrorKind, ReferenceInsight,
    ReportedAttribution, ReportedStatistics, ReportedValue, SchemaNote,
};

impl ReferenceInsight {
    /// Reads one Insights record from its JSON text; see the module documentation.
    ///
    /// ```
    /// use trailsight_engine::reference::ReferenceInsight;
    /// let record = r#"{"eventVersion":"1.07","eventTime":"2019-11-14T00:51:00Z",
    ///   "awsRegion":"us-east-1","eventID":"EXAMPLE8-9621-4d00-b913-beca2EXAMPLE",
    ///   "eventType":"AwsCloudTrailInsight","recipientAccountId":"123456789012",
    ///   "sharedEventID":"EXAMPLE2-1729-42f1-b735-5d8c0EXAMPLE",
    ///   "insightDetails":{"state":"Start","eventSource":"ssm.amazonaws.com",
    ///     "eventName":"UpdateInstanceInformation","insightType":"ApiCallRateInsight",
    ///     "insightContext":{"statistics":{"baseline":{"average":85.4202380952},
    ///       "insight":{"average":664}}}},"eventCategory":"Insight"}"#;
    /// let insight = ReferenceInsight::parse(record)?;
    /// let statistics = insight.statistics.unwrap();
    /// assert_eq!(statistics.baseline_average.unwrap().text, "85.4202380952");
    /// assert_eq!(statistics.baseline_duration, None); // 2019 records have none
    /// # Ok::<(), trailsight_engine::reference::ReferenceError>(())
    /// ```
    pub fn parse(json: &str) -> Parsed<ReferenceInsight> {
        let raw: &RawValue = serde_json::from_str(json).map_err(|e| ReferenceError {
            field: String::new(),
            kind: ReferenceErrorKind::Syntax {
                message: e.to_string(),
            },
        })?;
        let top = Fields::of(raw, String::new())?;
        let mut notes = Vec::new();
        let event_time_text = top.required_string("eventTime")?;
        let event_time = Timestamp::parse(&event_time_text).map_err(|error| {
            top.error(
                "eventTime",
                ReferenceErrorKind::InvalidTime {
                    value: cut(&event_time_text),
                    error,
                },
            )
        })?;
        if event_time.0.rem_euclid(60) != 0 {
            notes.push(SchemaNote::EventTimeNotWholeMinute);
        }
        let common = Common {
            event_version: top.string("eventVersion")?,
            event_time,
            event_id: top.string("eventID")?,
            shared_event_id: top.required_string("sharedEventID")?,
            account: top.string("recipientAccountId")?,
            region: top.required_string("awsRegion")?,
        };
        if let Some(details) = top.object("insightDetails")? {
            schema::read(&schema::TRAIL, common, &details, notes)
        } else if top.has("insightState") || top.has("insightEventSource") {
            schema::read(&schema::LAKE, common, &top, notes)
        } else {
            Err(ReferenceError {
                field: String::new(),
                kind: ReferenceErrorKind::NotAnInsight,
            })
        }
    }
}

#[cfg(test)]
mod tests;

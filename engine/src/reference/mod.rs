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

use std::fmt;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::event::EventCategory;
use crate::insight::{InsightState, InsightType, SeriesKey};
use crate::time::{Minute, TimeError, Timestamp};

mod fields;
mod number;
mod pair;
mod schema;

use fields::{Fields, cut};
use schema::Common;

pub use number::ReportedNumber;
pub use pair::{InsightInterval, Pairing, PairingProblem, pair};

/// Which of AWS's two Insights schemas a record was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InsightSchema {
    /// Trails: `insightDetails` with `insightContext.statistics`.
    Trail,
    /// CloudTrail Lake event data stores: flattened `insightState`, `insightContext.baselineAverage`...
    Lake,
}

/// `insightContext.statistics` (trail schema) or the statistics of `insightContext` (Lake).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReportedStatistics {
    /// `baseline.average`: events per minute over the baseline window.
    pub baseline_average: Option<ReportedNumber>,
    /// `insight.average`: events per minute over the insight window of this record.
    pub insight_average: Option<ReportedNumber>,
    /// `baselineDuration` in minutes; absent on 2019-era records.
    pub baseline_duration: Option<u64>,
    /// `insightDuration` in minutes; absent on 2019-era Start records.
    pub insight_duration: Option<u64>,
}

/// One value of an attribution list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportedValue {
    /// The attribute's value (`"null"` for calls without an error code).
    pub value: String,
    /// Its events per minute.
    pub average: ReportedNumber,
}

/// One element of `attributions`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportedAttribution {
    /// `userIdentityArn`, `userAgent`, `errorCode`, or another name AWS may add
    /// (`resourceArn` on data-event Insights).
    pub attribute: String,
    /// The top values in the insight window, as listed.
    pub insight: Vec<ReportedValue>,
    /// The top values in the baseline window, as listed.
    pub baseline: Vec<ReportedValue>,
    /// Only the top value of each list is known: a Lake record that carries only the deprecated
    /// flat `insightValue`/`insightAverage`/`baselineValue`/`baselineAverage` fields.
    pub top_value_only: bool,
}

/// Something about a record's shape that a reader should know, though the record parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "kebab-case")]
pub enum SchemaNote {
    /// `insightDetails` has no `insightContext`, so there are no statistics or attributions.
    /// `unknown_keys` are the keys it has that the schema does not know, such as the
    /// elastic/beats sample's `insffightContext`.
    NoInsightContext {
        /// Keys of `insightDetails` outside the schema.
        unknown_keys: Vec<String>,
    },
    /// `insightContext` has no `statistics` (trail schema) or no averages (Lake schema).
    NoStatistics,
    /// `eventTime` is not on a whole minute; the minute it falls in is used.
    EventTimeNotWholeMinute,
    /// A Lake attribution with only the deprecated flat fields: only its top values are known.
    FlatAttributionOnly {
        /// The attribute.
        attribute: String,
    },
}

impl fmt::Display for SchemaNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaNote::NoInsightContext { unknown_keys } if unknown_keys.is_empty() => {
                f.write_str("no insightContext: no statistics or attributions")
            }
            SchemaNote::NoInsightContext { unknown_keys } => write!(
                f,
                "no insightContext (unknown keys: {}): no statistics or attributions",
                unknown_keys.join(", ")
            ),
            SchemaNote::NoStatistics => f.write_str("insightContext has no statistics"),
            SchemaNote::EventTimeNotWholeMinute => {
                f.write_str("eventTime is not on a whole minute")
            }
            SchemaNote::FlatAttributionOnly { attribute } => write!(
                f,
                "{attribute}: only the deprecated flat fields, so only the top values are known"
            ),
        }
    }
}

/// One Insights record, read leniently; see the module documentation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReferenceInsight {
    /// Trail or Lake schema.
    pub schema: InsightSchema,
    /// `eventVersion`.
    pub event_version: Option<String>,
    /// Start or End.
    pub state: InsightState,
    /// `eventTime`.
    #[serde(serialize_with = "as_text")]
    pub event_time: Timestamp,
    /// `eventID`.
    pub event_id: Option<String>,
    /// `sharedEventID`, linking a Start and its End.
    pub shared_event_id: String,
    /// `recipientAccountId`.
    pub account: Option<String>,
    /// `awsRegion`.
    pub region: String,
    /// The API's `eventSource`.
    pub event_source: String,
    /// The API's `eventName`.
    pub event_name: String,
    /// Call rate or error rate.
    pub insight_type: InsightType,
    /// `errorCode` (Lake: `insightErrorCode`); an empty string counts as absent.
    pub error_code: Option<String>,
    /// `sourceEventCategory`: present on 2024 and later trail records.
    pub source_event_category: Option<EventCategory>,
    /// `insightSource`: the trail or event data store analysed, when given.
    pub insight_source: Option<String>,
    /// The statistics, or `None` when the record has none (see [`ReferenceInsight::notes`]).
    pub statistics: Option<ReportedStatistics>,
    /// The attributions, or `None` when the record has none (2019-era records).
    pub attributions: Option<Vec<ReportedAttribution>>,
    /// What was unusual about the record's shape.
    pub notes: Vec<SchemaNote>,
}

/// Why a record could not be read as an Insights record, and where in it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct ReferenceError {
    /// The dotted path of the field (`insightDetails.insightContext.statistics.baseline.average`);
    /// empty for the record as a whole.
    pub field: String,
    /// What was wrong.
    pub kind: ReferenceErrorKind,
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}: {}", self.field, self.kind)
        }
    }
}

/// What was wrong with an Insights record.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceErrorKind {
    /// The text is not JSON.
    #[error("invalid JSON: {message}")]
    Syntax {
        /// The JSON parser's message.
        message: String,
    },
    /// Neither `insightDetails` (trail schema) nor `insightState` (Lake schema) is present.
    #[error("not an Insights record: neither insightDetails nor insightState")]
    NotAnInsight,
    /// A required field is absent or null.
    #[error("missing")]
    Missing,
    /// A field has the wrong JSON type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// The JSON type it must have.
        expected: &'static str,
        /// The JSON type it has.
        found: &'static str,
    },
    /// A field has a value outside its domain (an unknown `state` or `insightType`, a
    /// negative or fractional duration).
    #[error("{value:?} is not {expected}")]
    InvalidValue {
        /// The value, cut to at most 64 bytes.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// `eventTime` is not a usable time.
    #[error("{value:?}: {error}")]
    InvalidTime {
        /// The value, cut to at most 64 bytes.
        value: String,
        /// Why it was rejected.
        error: TimeError,
    },
}

type Parsed<T> = Result<T, ReferenceError>;

/// The longest `insightDuration` or `baselineDuration` accepted, in minutes (almost two
/// years). AWS's baselines are a week and a day at most and its insights last hours; a larger
/// value is corrupt, and would send readers over windows of centuries.
pub const MAX_DURATION_MINUTES: u64 = 1_000_000;

fn as_text<S: serde::Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(time)
}

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

    /// The key of the series this record is about. A record without `sourceEventCategory`
    /// (before 2024, when Insights analysed management events only; Lake records) is about a
    /// Management series.
    pub fn key(&self) -> SeriesKey {
        SeriesKey {
            account: self.account.clone(),
            region: self.region.clone(),
            event_source: self.event_source.clone(),
            event_name: self.event_name.clone(),
            insight_type: self.insight_type,
            error_code: self.error_code.clone(),
            category: self
                .source_event_category
                .unwrap_or(EventCategory::Management),
        }
    }

    /// The minute of `eventTime`.
    pub fn minute(&self) -> Minute {
        self.event_time.minute()
    }

    /// `insightDuration`, when the record has one.
    pub fn insight_duration(&self) -> Option<u64> {
        self.statistics.as_ref()?.insight_duration
    }

    /// `baselineDuration`, when the record has one.
    pub fn baseline_duration(&self) -> Option<u64> {
        self.statistics.as_ref()?.baseline_duration
    }

    /// The attribution of `attribute`, when the record lists it.
    pub fn attribution(&self, attribute: &str) -> Option<&ReportedAttribution> {
        self.attributions
            .as_ref()?
            .iter()
            .find(|a| a.attribute == attribute)
    }
}

#[cfg(test)]
mod tests;

//! What reading an Insights record gives: the record, its statistics and attributions, notes
//! on its shape, and the errors that name the field that was wrong. Shared by the field reader,
//! the schema reader and pairing.

use std::fmt;

use serde::Serialize;

use super::number::ReportedNumber;
use crate::event::EventCategory;
use crate::insight::{InsightState, InsightType, SeriesKey};
use crate::time::{Minute, TimeError, Timestamp};

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

pub(super) type Parsed<T> = Result<T, ReferenceError>;

/// The longest `insightDuration` or `baselineDuration` accepted, in minutes (almost two
/// years). AWS's baselines are a week and a day at most and its insights last hours; a larger
/// value is corrupt, and would send readers over windows of centuries.
pub const MAX_DURATION_MINUTES: u64 = 1_000_000;

fn as_text<S: serde::Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(time)
}

impl ReferenceInsight {
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

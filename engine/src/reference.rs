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

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::event::EventCategory;
use crate::insight::{InsightState, InsightType};
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

/// A number as a record carries it: its value and its exact JSON text.
///
/// AWS writes averages rounded to 10 decimal places (`0.0000882145`, `85.4202380952`,
/// `6`), or with 6 significant digits in exponent notation (`8.82145e-05`, `9.82222E-5`).
/// [`ReportedNumber::agrees_with`] compares an exactly computed value with what AWS printed at
/// that precision.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportedNumber {
    /// The value.
    pub value: f64,
    /// The JSON text it was read from (for a number given as a JSON string, the string's
    /// content).
    pub text: String,
}

impl ReportedNumber {
    /// The largest difference from an exact value that still agrees with this number: one unit
    /// in the last place AWS prints. In exponent notation (6 significant digits) that is
    /// `10^(e−5)` for a value of magnitude `10^e`; otherwise one unit of the 10th decimal
    /// place (`1e-10`), since AWS drops trailing zeros and the printed digits do not tell the
    /// precision. One event more or less always changes an average by far more: by
    /// `1 / duration`, at least `1e-5` for any window shorter than 70 days.
    pub fn tolerance(&self) -> f64 {
        let exponent_form = self.text.bytes().any(|b| b == b'e' || b == b'E');
        if exponent_form && self.value != 0.0 {
            10f64.powf(self.value.abs().log10().floor() - 5.0)
        } else {
            // Above 1e5 an f64 no longer resolves 1e-10; allow its own rounding.
            1e-10f64.max(self.value.abs() * 4.0 * f64::EPSILON)
        }
    }

    /// Whether `exact` prints as this number at AWS's precision; see
    /// [`ReportedNumber::tolerance`].
    ///
    /// ```
    /// use trailsight_engine::reference::ReportedNumber;
    /// let aws = |text: &str| ReportedNumber { value: text.parse().unwrap(), text: text.into() };
    /// assert!(aws("8.82145e-05").agrees_with(1.0 / 11336.0));
    /// assert!(aws("0.0000882145").agrees_with(1.0 / 11336.0));
    /// assert!(aws("85.4202380952").agrees_with(861_036.0 / 10080.0));
    /// assert!(!aws("85.4202380952").agrees_with(861_037.0 / 10080.0));
    /// assert!(!aws("0.6").agrees_with(0.61));
    /// ```
    pub fn agrees_with(&self, exact: f64) -> bool {
        // The margin absorbs the binary rounding of the tolerance itself.
        (exact - self.value).abs() <= self.tolerance() * (1.0 + 1e-9)
    }
}

impl Serialize for ReportedNumber {
    /// As the JSON number it was read from, digit for digit.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match RawValue::from_string(self.text.clone()) {
            Ok(raw) if self.text.parse::<f64>().is_ok() => raw.serialize(serializer),
            _ => serializer.serialize_f64(self.value),
        }
    }
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

/// What identifies the series an insight is about. Two insights can only be the same insight
/// when their keys are equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct InsightKey {
    /// `recipientAccountId`, when the record has one.
    pub account: Option<String>,
    /// `awsRegion`.
    pub region: String,
    /// The API's `eventSource`.
    pub event_source: String,
    /// The API's `eventName`.
    pub event_name: String,
    /// Call rate or error rate.
    pub insight_type: InsightType,
    /// The error code of an error-rate insight, when the record names it.
    pub error_code: Option<String>,
}

impl fmt::Display for InsightKey {
    /// `account region eventSource eventName insightType [errorCode]`, `-` for no account.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}",
            self.account.as_deref().unwrap_or("-"),
            self.region,
            self.event_source,
            self.event_name,
            self.insight_type
        )?;
        if let Some(code) = &self.error_code {
            write!(f, " {code}")?;
        }
        Ok(())
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

const OBJECT: &str = "object";
const ARRAY: &str = "array";
const STRING: &str = "string";
const NUMBER: &str = "number";

/// The JSON type of a raw value, from its first byte.
fn type_of(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => OBJECT,
        Some(b'[') => ARRAY,
        Some(b'"') => STRING,
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => NUMBER,
    }
}

fn cut(text: &str) -> String {
    let mut end = text.len().min(64);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The fields of one JSON object, with the path that names them in errors.
struct Fields<'a> {
    map: BTreeMap<String, &'a RawValue>,
    path: String,
}

impl<'a> Fields<'a> {
    fn of(raw: &'a RawValue, path: String) -> Parsed<Fields<'a>> {
        if type_of(raw) != OBJECT {
            return Err(ReferenceError {
                field: path,
                kind: ReferenceErrorKind::WrongType {
                    expected: OBJECT,
                    found: type_of(raw),
                },
            });
        }
        // Duplicate keys: the last value wins, as in the event parser.
        let map = serde_json::from_str(raw.get()).map_err(|e| ReferenceError {
            field: path.clone(),
            kind: ReferenceErrorKind::Syntax {
                message: e.to_string(),
            },
        })?;
        Ok(Fields { map, path })
    }

    fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn error(&self, key: &str, kind: ReferenceErrorKind) -> ReferenceError {
        ReferenceError {
            field: self.path(key),
            kind,
        }
    }

    fn wrong_type(&self, key: &str, expected: &'static str, raw: &RawValue) -> ReferenceError {
        self.error(
            key,
            ReferenceErrorKind::WrongType {
                expected,
                found: type_of(raw),
            },
        )
    }

    fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    /// The value of `key`; `None` when absent or null.
    fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.map
            .get(key)
            .copied()
            .filter(|raw| type_of(raw) != "null")
    }

    /// A string; an empty string counts as absent.
    fn string(&self, key: &str) -> Parsed<Option<String>> {
        let Some(raw) = self.raw(key) else {
            return Ok(None);
        };
        if type_of(raw) != STRING {
            return Err(self.wrong_type(key, STRING, raw));
        }
        let text: String = serde_json::from_str(raw.get()).map_err(|e| {
            self.error(
                key,
                ReferenceErrorKind::Syntax {
                    message: e.to_string(),
                },
            )
        })?;
        Ok(Some(text).filter(|t| !t.is_empty()))
    }

    fn required_string(&self, key: &str) -> Parsed<String> {
        self.string(key)?
            .ok_or_else(|| self.error(key, ReferenceErrorKind::Missing))
    }

    /// A number, also accepted as a string holding one (SQL exports stringify numbers).
    fn number(&self, key: &str) -> Parsed<Option<ReportedNumber>> {
        let Some(raw) = self.raw(key) else {
            return Ok(None);
        };
        let text = match type_of(raw) {
            NUMBER => raw.get().to_owned(),
            STRING => self.string(key)?.unwrap_or_default(),
            _ => return Err(self.wrong_type(key, NUMBER, raw)),
        };
        match text.trim().parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(Some(ReportedNumber {
                value,
                text: text.trim().to_owned(),
            })),
            _ => Err(self.error(
                key,
                ReferenceErrorKind::InvalidValue {
                    value: cut(&text),
                    expected: "a number",
                },
            )),
        }
    }

    /// A whole number of minutes, at most [`MAX_DURATION_MINUTES`].
    fn minutes(&self, key: &str) -> Parsed<Option<u64>> {
        let Some(number) = self.number(key)? else {
            return Ok(None);
        };
        let v = number.value;
        if v >= 0.0 && v.fract() == 0.0 && v <= MAX_DURATION_MINUTES as f64 {
            Ok(Some(v as u64))
        } else {
            Err(self.error(
                key,
                ReferenceErrorKind::InvalidValue {
                    value: cut(&number.text),
                    expected: "a whole number of minutes up to 1000000",
                },
            ))
        }
    }

    fn object(&self, key: &str) -> Parsed<Option<Fields<'a>>> {
        self.raw(key)
            .map(|raw| Fields::of(raw, self.path(key)))
            .transpose()
    }

    fn array(&self, key: &str) -> Parsed<Option<Vec<&'a RawValue>>> {
        let Some(raw) = self.raw(key) else {
            return Ok(None);
        };
        if type_of(raw) != ARRAY {
            return Err(self.wrong_type(key, ARRAY, raw));
        }
        serde_json::from_str(raw.get()).map(Some).map_err(|e| {
            self.error(
                key,
                ReferenceErrorKind::Syntax {
                    message: e.to_string(),
                },
            )
        })
    }
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
            trail_schema(common, &details, notes)
        } else if top.has("insightState") || top.has("insightEventSource") {
            lake_schema(common, &top, notes)
        } else {
            Err(ReferenceError {
                field: String::new(),
                kind: ReferenceErrorKind::NotAnInsight,
            })
        }
    }

    /// The key of the series this record is about.
    pub fn key(&self) -> InsightKey {
        InsightKey {
            account: self.account.clone(),
            region: self.region.clone(),
            event_source: self.event_source.clone(),
            event_name: self.event_name.clone(),
            insight_type: self.insight_type,
            error_code: self.error_code.clone(),
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

/// The fields both schemas share.
struct Common {
    event_version: Option<String>,
    event_time: Timestamp,
    event_id: Option<String>,
    shared_event_id: String,
    account: Option<String>,
    region: String,
}

const TRAIL_DETAIL_KEYS: &[&str] = &[
    "state",
    "eventSource",
    "eventName",
    "insightType",
    "errorCode",
    "sourceEventCategory",
    "insightSource",
    "insightContext",
];

fn trail_schema(
    common: Common,
    details: &Fields<'_>,
    mut notes: Vec<SchemaNote>,
) -> Parsed<ReferenceInsight> {
    let state = state(details, "state")?;
    let insight_type = insight_type(details, "insightType")?;
    let (statistics, attributions) = match details.object("insightContext")? {
        Some(context) => {
            let statistics = match context.object("statistics")? {
                Some(s) => {
                    let average = |window: &str| -> Parsed<Option<ReportedNumber>> {
                        s.object(window)?
                            .map(|w| w.number("average"))
                            .transpose()
                            .map(Option::flatten)
                    };
                    Some(ReportedStatistics {
                        baseline_average: average("baseline")?,
                        insight_average: average("insight")?,
                        baseline_duration: s.minutes("baselineDuration")?,
                        insight_duration: s.minutes("insightDuration")?,
                    })
                }
                None => {
                    notes.push(SchemaNote::NoStatistics);
                    None
                }
            };
            let attributions = attributions(&context, &mut notes)?;
            (statistics, attributions)
        }
        None => {
            let unknown_keys = details
                .map
                .keys()
                .filter(|k| !TRAIL_DETAIL_KEYS.contains(&k.as_str()))
                .cloned()
                .collect();
            notes.push(SchemaNote::NoInsightContext { unknown_keys });
            (None, None)
        }
    };
    Ok(ReferenceInsight {
        schema: InsightSchema::Trail,
        event_version: common.event_version,
        state,
        event_time: common.event_time,
        event_id: common.event_id,
        shared_event_id: common.shared_event_id,
        account: common.account,
        region: common.region,
        event_source: details.required_string("eventSource")?,
        event_name: details.required_string("eventName")?,
        insight_type,
        error_code: details.string("errorCode")?,
        source_event_category: details.string("sourceEventCategory")?.map(category),
        insight_source: details.string("insightSource")?,
        statistics,
        attributions,
        notes,
    })
}

fn lake_schema(
    common: Common,
    top: &Fields<'_>,
    mut notes: Vec<SchemaNote>,
) -> Parsed<ReferenceInsight> {
    let state = state(top, "insightState")?;
    let insight_type = insight_type(top, "insightType")?;
    let (statistics, attributions) = match top.object("insightContext")? {
        Some(context) => {
            let statistics = ReportedStatistics {
                baseline_average: context.number("baselineAverage")?,
                insight_average: context.number("insightAverage")?,
                baseline_duration: context.minutes("baselineDuration")?,
                insight_duration: context.minutes("insightDuration")?,
            };
            let statistics = if statistics == ReportedStatistics::default() {
                notes.push(SchemaNote::NoStatistics);
                None
            } else {
                Some(statistics)
            };
            (statistics, attributions(&context, &mut notes)?)
        }
        None => {
            notes.push(SchemaNote::NoInsightContext {
                unknown_keys: Vec::new(),
            });
            (None, None)
        }
    };
    Ok(ReferenceInsight {
        schema: InsightSchema::Lake,
        event_version: common.event_version,
        state,
        event_time: common.event_time,
        event_id: common.event_id,
        shared_event_id: common.shared_event_id,
        account: common.account,
        region: common.region,
        event_source: top.required_string("insightEventSource")?,
        event_name: top.required_string("insightEventName")?,
        insight_type,
        error_code: top.string("insightErrorCode")?,
        source_event_category: top.string("sourceEventCategory")?.map(category),
        insight_source: top.string("insightSource")?,
        statistics,
        attributions,
        notes,
    })
}

fn state(fields: &Fields<'_>, key: &str) -> Parsed<InsightState> {
    let value = fields.required_string(key)?;
    if value.eq_ignore_ascii_case("Start") {
        Ok(InsightState::Start)
    } else if value.eq_ignore_ascii_case("End") {
        Ok(InsightState::End)
    } else {
        Err(fields.error(
            key,
            ReferenceErrorKind::InvalidValue {
                value: cut(&value),
                expected: "Start or End",
            },
        ))
    }
}

fn insight_type(fields: &Fields<'_>, key: &str) -> Parsed<InsightType> {
    let value = fields.required_string(key)?;
    match value.as_str() {
        "ApiCallRateInsight" => Ok(InsightType::ApiCallRateInsight),
        "ApiErrorRateInsight" => Ok(InsightType::ApiErrorRateInsight),
        _ => Err(fields.error(
            key,
            ReferenceErrorKind::InvalidValue {
                value: cut(&value),
                expected: "ApiCallRateInsight or ApiErrorRateInsight",
            },
        )),
    }
}

fn category(value: String) -> EventCategory {
    match value.as_str() {
        "Management" => EventCategory::Management,
        "Data" => EventCategory::Data,
        "NetworkActivity" => EventCategory::NetworkActivity,
        _ => EventCategory::Other,
    }
}

/// `attributions` of an `insightContext`, in either schema.
fn attributions(
    context: &Fields<'_>,
    notes: &mut Vec<SchemaNote>,
) -> Parsed<Option<Vec<ReportedAttribution>>> {
    let Some(elements) = context.array("attributions")? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(elements.len());
    for (i, raw) in elements.into_iter().enumerate() {
        let a = Fields::of(raw, format!("{}.attributions[{i}]", context.path))?;
        let attribute = a.required_string("attribute")?;
        let list = |key: &str| -> Parsed<Option<Vec<ReportedValue>>> {
            let Some(values) = a.array(key)? else {
                return Ok(None);
            };
            values
                .into_iter()
                .enumerate()
                .map(|(j, raw)| {
                    let v = Fields::of(raw, format!("{}[{j}]", a.path(key)))?;
                    Ok(ReportedValue {
                        value: v.required_string("value")?,
                        average: v
                            .number("average")?
                            .ok_or_else(|| v.error("average", ReferenceErrorKind::Missing))?,
                    })
                })
                .collect::<Parsed<Vec<_>>>()
                .map(Some)
        };
        let (insight, baseline) = (list("insight")?, list("baseline")?);
        let attribution = match (insight, baseline) {
            (None, None) if a.has("insightValue") || a.has("baselineValue") => {
                // Lake's deprecated flat form: the top value of each window only.
                let flat = |value: &str, average: &str| -> Parsed<Vec<ReportedValue>> {
                    Ok(match (a.string(value)?, a.number(average)?) {
                        (Some(value), Some(average)) => vec![ReportedValue { value, average }],
                        _ => Vec::new(),
                    })
                };
                notes.push(SchemaNote::FlatAttributionOnly {
                    attribute: attribute.clone(),
                });
                ReportedAttribution {
                    insight: flat("insightValue", "insightAverage")?,
                    baseline: flat("baselineValue", "baselineAverage")?,
                    attribute,
                    top_value_only: true,
                }
            }
            (insight, baseline) => ReportedAttribution {
                attribute,
                insight: insight.unwrap_or_default(),
                baseline: baseline.unwrap_or_default(),
                top_value_only: false,
            },
        };
        out.push(attribution);
    }
    Ok(Some(out))
}

/// A Start and its End, or a lone Start or End, linked by `sharedEventID`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InsightInterval {
    /// The `sharedEventID` both records carry.
    pub shared_event_id: String,
    /// The series.
    pub key: InsightKey,
    /// The Start record, if present.
    pub start: Option<ReferenceInsight>,
    /// The End record, if present.
    pub end: Option<ReferenceInsight>,
}

impl InsightInterval {
    /// The first minute of unusual activity: the Start's `eventTime`; for an End without its
    /// Start, `End.eventTime − End.insightDuration` (every AWS example pair satisfies
    /// `End.eventTime − Start.eventTime = End.insightDuration`), or `None` when the End has no
    /// duration.
    pub fn first_minute(&self) -> Option<Minute> {
        match (&self.start, &self.end) {
            (Some(start), _) => Some(start.minute()),
            (None, Some(end)) => end
                .insight_duration()
                .and_then(|d| i64::try_from(d).ok())
                .map(|d| end.minute().plus(-d)),
            (None, None) => None,
        }
    }

    /// The End's `eventTime`: the first minute after the unusual activity; `None` for a Start
    /// without End.
    pub fn end_minute(&self) -> Option<Minute> {
        self.end.as_ref().map(ReferenceInsight::minute)
    }

    /// The minutes known to be inside the insight, `[first, end)`: for a Start without End, the
    /// Start's own window `[S, S + insightDuration)` (at least one minute); for an End without
    /// a known start, its last minute `[E − 1, E)`.
    pub fn known_span(&self) -> (Minute, Minute) {
        match (self.first_minute(), self.end_minute(), &self.start) {
            (Some(first), Some(end), _) => (first, end.max(first.plus(1))),
            (Some(first), None, Some(start)) => {
                let d = start.insight_duration().unwrap_or(1).max(1) as i64;
                (first, first.plus(d))
            }
            (_, Some(end), _) => (end.plus(-1), end),
            // An interval always holds at least one record; a lone Start has a first minute.
            _ => (Minute(0), Minute(1)),
        }
    }

    /// The record that stands for the interval: the Start if present, else the End. `None`
    /// only for an interval built by hand with neither.
    pub fn representative(&self) -> Option<&ReferenceInsight> {
        self.start.as_ref().or(self.end.as_ref())
    }
}

/// Something that went wrong linking records by `sharedEventID`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum PairingProblem {
    /// Two different records (different `eventID`s or times) claim the same `sharedEventID`
    /// and state; the first in (`eventTime`, `eventID`) order was kept.
    Conflict {
        /// The `sharedEventID`.
        shared_event_id: String,
        /// `Start` or `End`.
        state: InsightState,
        /// `eventID` of the record kept.
        kept: Option<String>,
        /// `eventID` of the record dropped.
        dropped: Option<String>,
    },
    /// A Start and an End share a `sharedEventID` but not their series, or the End is before
    /// the Start; they are kept as two lone records.
    Mismatch {
        /// The `sharedEventID`.
        shared_event_id: String,
        /// What disagrees.
        reason: String,
    },
}

/// The result of [`pair`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Pairing {
    /// The intervals, ordered by first minute (or End minute), key and `sharedEventID`.
    pub intervals: Vec<InsightInterval>,
    /// Records dropped as exact copies of another (the same `eventID`, or without one the
    /// same `sharedEventID`, state and time): the same record read from two sources.
    pub duplicates: u64,
    /// Conflicts and mismatches, in `sharedEventID` order.
    pub problems: Vec<PairingProblem>,
}

/// Links Start and End records by `sharedEventID`. Copies of a record are dropped and
/// counted; a Start without End and an End without Start are kept as lone intervals.
pub fn pair(mut records: Vec<ReferenceInsight>) -> Pairing {
    let state_rank = |s: InsightState| u8::from(s == InsightState::End);
    records.sort_by(|a, b| {
        (
            &a.shared_event_id,
            state_rank(a.state),
            a.event_time,
            &a.event_id,
        )
            .cmp(&(
                &b.shared_event_id,
                state_rank(b.state),
                b.event_time,
                &b.event_id,
            ))
    });
    let mut pairing = Pairing::default();
    let mut groups: Vec<(Option<ReferenceInsight>, Option<ReferenceInsight>)> = Vec::new();
    let mut current: Option<String> = None;
    for record in records {
        if current.as_deref() != Some(record.shared_event_id.as_str()) {
            current = Some(record.shared_event_id.clone());
            groups.push((None, None));
        }
        let Some(group) = groups.last_mut() else {
            continue;
        };
        let slot = match record.state {
            InsightState::Start => &mut group.0,
            InsightState::End => &mut group.1,
        };
        match slot {
            None => *slot = Some(record),
            Some(kept) => {
                let same = match (&kept.event_id, &record.event_id) {
                    (Some(a), Some(b)) => a == b,
                    (None, None) => kept.event_time == record.event_time,
                    _ => false,
                };
                if same {
                    pairing.duplicates += 1;
                } else {
                    pairing.problems.push(PairingProblem::Conflict {
                        shared_event_id: record.shared_event_id.clone(),
                        state: record.state,
                        kept: kept.event_id.clone(),
                        dropped: record.event_id,
                    });
                }
            }
        }
    }
    for (start, end) in groups {
        match (start, end) {
            (Some(start), Some(end)) => {
                let reason = if start.key() != end.key() {
                    Some(format!(
                        "the Start is about {} and the End about {}",
                        start.key(),
                        end.key()
                    ))
                } else if end.event_time < start.event_time {
                    Some(format!(
                        "the End ({}) is before the Start ({})",
                        end.event_time, start.event_time
                    ))
                } else {
                    None
                };
                match reason {
                    Some(reason) => {
                        pairing.problems.push(PairingProblem::Mismatch {
                            shared_event_id: start.shared_event_id.clone(),
                            reason,
                        });
                        pairing.intervals.push(lone(start));
                        pairing.intervals.push(lone(end));
                    }
                    None => pairing.intervals.push(InsightInterval {
                        shared_event_id: start.shared_event_id.clone(),
                        key: start.key(),
                        start: Some(start),
                        end: Some(end),
                    }),
                }
            }
            (Some(record), None) | (None, Some(record)) => pairing.intervals.push(lone(record)),
            (None, None) => {}
        }
    }
    pairing.intervals.sort_by(|a, b| {
        let at = |i: &InsightInterval| i.first_minute().or(i.end_minute());
        (at(a), &a.key, &a.shared_event_id, a.start.is_none()).cmp(&(
            at(b),
            &b.key,
            &b.shared_event_id,
            b.start.is_none(),
        ))
    });
    pairing
}

fn lone(record: ReferenceInsight) -> InsightInterval {
    let (shared_event_id, key) = (record.shared_event_id.clone(), record.key());
    let (start, end) = match record.state {
        InsightState::Start => (Some(record), None),
        InsightState::End => (None, Some(record)),
    };
    InsightInterval {
        shared_event_id,
        key,
        start,
        end,
    }
}

#[cfg(test)]
mod tests;

//! The Insights record and its JSON text in CloudTrail's schema.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;
use uuid::Uuid;

use super::key::SeriesKeyRef;
use super::kind::{AttributeKind, InsightState, InsightType};
use crate::event::EventCategory;
use crate::time::Minute;

/// A per-minute average as it was counted: `events` over `minutes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Average {
    /// Events counted in the window.
    pub events: u64,
    /// The window's length in minutes (never 0 in emitted records).
    pub minutes: u64,
}

impl Average {
    /// `events / minutes` as a float.
    pub fn value(self) -> f64 {
        self.events as f64 / self.minutes as f64
    }
}

impl fmt::Display for Average {
    /// The value rounded to 10 decimal places, trailing zeros dropped, at least one decimal:
    /// `0.6`, `6.0`, `0.0000882145`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_average(self.value()))
    }
}

/// Formats an average as records carry it; see [`Average`]'s `Display`.
pub fn format_average(value: f64) -> String {
    let mut text = format!("{value:.10}");
    let trimmed = text.trim_end_matches('0').len();
    text.truncate(trimmed);
    if text.ends_with('.') {
        text.push('0');
    }
    text
}

/// One value of an attribute with its average.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AttributedValue {
    /// The attribute's value, e.g. a role ARN.
    pub value: String,
    /// Its events per minute over the window.
    pub average: Average,
}

/// The top values of one attribute in the insight window and in the baseline window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
    /// Which attribute.
    pub attribute: AttributeKind,
    /// Up to 5 values, by average descending, ties by value ascending.
    pub insight: Vec<AttributedValue>,
    /// The same for the baseline window.
    pub baseline: Vec<AttributedValue>,
}

/// An Insights record (`eventType` `AwsCloudTrailInsight`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsightRecord {
    /// Start: the first minute of unusual activity; End: the first minute after it.
    pub event_time: Minute,
    /// `awsRegion`.
    pub aws_region: String,
    /// `eventID`, different for the Start and the End.
    pub event_id: Uuid,
    /// `recipientAccountId`; absent when the events had no account.
    pub recipient_account_id: Option<String>,
    /// `sharedEventID`, linking a Start and its End.
    pub shared_event_id: Uuid,
    /// Start or End.
    pub state: InsightState,
    /// The API's `eventSource`.
    pub event_source: String,
    /// The API's `eventName`.
    pub event_name: String,
    /// Call rate or error rate.
    pub insight_type: InsightType,
    /// The error code of an error-rate insight.
    pub error_code: Option<String>,
    /// Management or Data.
    pub source_event_category: EventCategory,
    /// `statistics.baseline.average`; its `minutes` is `baselineDuration`.
    pub baseline: Average,
    /// `statistics.insight.average`; its `minutes` is `insightDuration`.
    pub insight: Average,
    /// `attributions`, in the order of [`InsightType::attributes`].
    pub attributions: Vec<Attribution>,
    /// How the insight was detected, on the Start records the detector builds; `None` on End
    /// records. Not part of CloudTrail's schema, so never written to JSON.
    pub detection: Option<Detection>,
}

/// The detection window that started an insight and the threshold it crossed
/// (`docs/algorithm.md` §3.2), for people who want to see how far above normal it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    /// Length of the window that fired, in minutes (1, 5, 15 or 60).
    pub window_minutes: i64,
    /// The normal ceiling `N_w`: the most events a window of that length holds on a normal
    /// day or at this time last week.
    pub normal_ceiling: u64,
    /// The fewest events a window of that length needed to be unusual at the trigger minute:
    /// more than `mean + margin × (N_w − mean)` and at least the Poisson floor. For a silence,
    /// 0, and `normal_ceiling` holds the normal floor: the fewest events such a window held.
    pub threshold_events: u64,
}

/// The `eventVersion` written on records: the latest Insights schema AWS documents (with
/// `errorCode` and `sourceEventCategory`).
pub const EVENT_VERSION: &str = "1.09";

impl InsightRecord {
    /// The record as one line of JSON in CloudTrail's field order.
    ///
    /// ```
    /// # use trailsight_engine::{Detector, DetectorConfig, InsightState};
    /// # let mut detector = Detector::new(DetectorConfig::default())?;
    /// # let mut records = Vec::new();
    /// # detector.finish(&mut records);
    /// for record in &records {
    ///     let json = record.to_json();
    ///     assert!(json.starts_with(r#"{"eventVersion":"1.09","eventTime":""#));
    ///     assert_eq!(record.event_time.to_string().len(), "2020-07-21T20:56:00Z".len());
    /// }
    /// # Ok::<(), trailsight_engine::ConfigError>(())
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.wire()).expect("insight records always serialise")
    }

    fn wire(&self) -> Wire<'_> {
        Wire {
            event_version: EVENT_VERSION,
            event_time: self.event_time.to_string(),
            aws_region: &self.aws_region,
            event_id: self.event_id.hyphenated().to_string(),
            event_type: "AwsCloudTrailInsight",
            recipient_account_id: self.recipient_account_id.as_deref(),
            shared_event_id: self.shared_event_id.hyphenated().to_string(),
            insight_details: WireDetails {
                state: self.state.as_str(),
                event_source: &self.event_source,
                event_name: &self.event_name,
                insight_type: self.insight_type.as_str(),
                error_code: self.error_code.as_deref(),
                source_event_category: self.source_event_category.as_str(),
                insight_context: WireContext {
                    statistics: WireStatistics {
                        baseline: WireAverage {
                            average: WireNumber(self.baseline),
                        },
                        insight: WireAverage {
                            average: WireNumber(self.insight),
                        },
                        insight_duration: self.insight.minutes,
                        baseline_duration: self.baseline.minutes,
                    },
                    attributions: self
                        .attributions
                        .iter()
                        .map(|a| WireAttribution {
                            attribute: a.attribute.as_str(),
                            insight: a.insight.iter().map(WireValue::of).collect(),
                            baseline: a.baseline.iter().map(WireValue::of).collect(),
                        })
                        .collect(),
                },
            },
            event_category: "Insight",
        }
    }

    /// The key of the series this record is about.
    pub fn key(&self) -> SeriesKeyRef<'_> {
        SeriesKeyRef {
            account: self.recipient_account_id.as_deref(),
            region: &self.aws_region,
            event_source: &self.event_source,
            event_name: &self.event_name,
            insight_type: self.insight_type,
            error_code: self.error_code.as_deref(),
            category: self.source_event_category,
        }
    }

    /// The order records are written in: by `eventTime`, then account, region, event source,
    /// event name, insight type, error code, category, and End before Start.
    pub fn output_order(a: &InsightRecord, b: &InsightRecord) -> Ordering {
        fn key(r: &InsightRecord) -> (Minute, SeriesKeyRef<'_>, bool) {
            (r.event_time, r.key(), r.state == InsightState::Start)
        }
        key(a).cmp(&key(b))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    event_version: &'static str,
    event_time: String,
    aws_region: &'a str,
    #[serde(rename = "eventID")]
    event_id: String,
    event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_account_id: Option<&'a str>,
    #[serde(rename = "sharedEventID")]
    shared_event_id: String,
    insight_details: WireDetails<'a>,
    event_category: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireDetails<'a> {
    state: &'static str,
    event_source: &'a str,
    event_name: &'a str,
    insight_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    source_event_category: &'static str,
    insight_context: WireContext<'a>,
}

#[derive(Serialize)]
struct WireContext<'a> {
    statistics: WireStatistics,
    attributions: Vec<WireAttribution<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireStatistics {
    baseline: WireAverage,
    insight: WireAverage,
    insight_duration: u64,
    baseline_duration: u64,
}

#[derive(Serialize)]
struct WireAverage {
    average: WireNumber,
}

/// An average written as CloudTrail writes it (see [`Average`]'s `Display`), as a JSON number.
struct WireNumber(Average);

impl Serialize for WireNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.0.to_string())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

#[derive(Serialize)]
struct WireValue<'a> {
    value: &'a str,
    average: WireNumber,
}

impl WireValue<'_> {
    fn of(value: &AttributedValue) -> WireValue<'_> {
        WireValue {
            value: &value.value,
            average: WireNumber(value.average),
        }
    }
}

#[derive(Serialize)]
struct WireAttribution<'a> {
    attribute: &'static str,
    insight: Vec<WireValue<'a>>,
    baseline: Vec<WireValue<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_round_like_aws() {
        let cases = [
            ((1, 11336), "0.0000882145"),
            ((3, 5), "0.6"),
            ((6, 1), "6.0"),
            ((0, 10080), "0.0"),
            ((861_036, 10080), "85.4202380952"),
            ((17_702, 10080), "1.7561507937"),
            ((18, 10080), "0.0017857143"),
            ((1_652_026, 10723), "154.063788119"),
            ((432_526, 121), "3574.5950413223"),
            ((4, 3), "1.3333333333"),
        ];
        for ((events, minutes), expected) in cases {
            assert_eq!(
                Average { events, minutes }.to_string(),
                expected,
                "{events}/{minutes}"
            );
        }
    }

    fn record() -> InsightRecord {
        let identity = SeriesKeyRef {
            account: Some("838185438692"),
            region: "us-east-1",
            category: EventCategory::Management,
            event_source: "autoscaling.amazonaws.com",
            event_name: "CompleteLifecycleAction",
            insight_type: InsightType::ApiCallRateInsight,
            error_code: None,
        };
        let start = crate::time::Timestamp::parse("2020-07-21T20:56:00Z")
            .unwrap()
            .minute();
        let role = |n: u32| AttributedValue {
            value: format!("arn:aws:sts::012345678901:assumed-role/CodeDeployRole{n}"),
            average: Average {
                events: 1,
                minutes: 5,
            },
        };
        InsightRecord {
            event_time: start,
            aws_region: identity.region.into(),
            event_id: identity.event_id(start, InsightState::Start),
            recipient_account_id: identity.account.map(Into::into),
            shared_event_id: identity.shared_event_id(start),
            state: InsightState::Start,
            event_source: identity.event_source.into(),
            event_name: identity.event_name.into(),
            insight_type: identity.insight_type,
            error_code: None,
            source_event_category: EventCategory::Management,
            detection: None,
            baseline: Average {
                events: 1,
                minutes: 11336,
            },
            insight: Average {
                events: 3,
                minutes: 5,
            },
            attributions: vec![Attribution {
                attribute: AttributeKind::UserIdentityArn,
                insight: vec![role(1), role(2), role(3)],
                baseline: vec![AttributedValue {
                    value: role(1).value,
                    average: Average {
                        events: 1,
                        minutes: 11336,
                    },
                }],
            }],
        }
    }

    #[test]
    fn json_follows_cloudtrail_schema_and_field_order() {
        let json = record().to_json();
        let expected_prefix = r#"{"eventVersion":"1.09","eventTime":"2020-07-21T20:56:00Z","awsRegion":"us-east-1","eventID":""#;
        assert!(json.starts_with(expected_prefix), "{json}");
        assert!(json.contains(r#""statistics":{"baseline":{"average":0.0000882145},"insight":{"average":0.6},"insightDuration":5,"baselineDuration":11336}"#), "{json}");
        assert!(json.ends_with(r#""eventCategory":"Insight"}"#), "{json}");
        assert!(
            !json.contains("errorCode"),
            "call-rate insights carry no insightDetails.errorCode"
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value["insightDetails"]["insightContext"]["attributions"][0]["insight"][2]["average"],
            0.2
        );
        assert_eq!(value["eventType"], "AwsCloudTrailInsight");
        assert_eq!(value["insightDetails"]["sourceEventCategory"], "Management");
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = record();
        let b = record();
        assert_eq!(a.shared_event_id, b.shared_event_id);
        assert_eq!(a.to_json(), b.to_json());
        let end_id = a.key().event_id(a.event_time, InsightState::End);
        assert_ne!(end_id, a.event_id);
        assert_ne!(a.event_id, a.shared_event_id);
    }
}

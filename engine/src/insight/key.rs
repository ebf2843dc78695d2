//! Which series an insight is about: one key for the detector, overrides, reference records,
//! replay matching and the simulator's labels.

use std::fmt;

use serde::Serialize;
use uuid::Uuid;

use super::kind::{ID_NAMESPACE, InsightState, InsightType};
use crate::event::EventCategory;
use crate::time::Minute;

/// Identifies one series: the account-region it is in, the API, the insight type, the error
/// code of an error-rate series, and the event category. Two insights can only be the same
/// insight when their keys are equal; a Management and a Data insight on the same API are never
/// the same.
///
/// Ordered field by field in declaration order, so sorting by key sorts by account, region and
/// API first. Serialized with snake_case names; `category` is left out when it is Management,
/// the only category before data-event Insights, so records and reports written before the
/// key had it read the same.
///
/// ```
/// use trailsight_engine::{EventCategory, InsightType, SeriesKey};
/// let key = SeriesKey {
///     account: Some("111122223333".into()),
///     region: "us-east-1".into(),
///     event_source: "s3.amazonaws.com".into(),
///     event_name: "PutObject".into(),
///     insight_type: InsightType::ApiCallRateInsight,
///     error_code: None,
///     category: EventCategory::Data,
/// };
/// let management = SeriesKey { category: EventCategory::Management, ..key.clone() };
/// assert_ne!(key, management);
/// assert_eq!(key.as_ref().to_key(), key);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SeriesKey {
    /// `recipientAccountId`; `None` when the events (or the record) had none.
    pub account: Option<String>,
    /// `awsRegion`.
    pub region: String,
    /// The API's `eventSource`.
    pub event_source: String,
    /// The API's `eventName`.
    pub event_name: String,
    /// Call rate or error rate.
    pub insight_type: InsightType,
    /// The error code of an error-rate series; `None` for call rate (and for a reference
    /// error-rate record that does not name its code).
    pub error_code: Option<String>,
    /// Management or Data (`sourceEventCategory`).
    #[serde(skip_serializing_if = "is_management")]
    pub category: EventCategory,
}

fn is_management(category: &EventCategory) -> bool {
    *category == EventCategory::Management
}

/// A borrowed [`SeriesKey`], for the hot path and override matching: the same fields as
/// `&str`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKeyRef<'a> {
    /// `recipientAccountId`.
    pub account: Option<&'a str>,
    /// `awsRegion`.
    pub region: &'a str,
    /// The API's `eventSource`.
    pub event_source: &'a str,
    /// The API's `eventName`.
    pub event_name: &'a str,
    /// Call rate or error rate.
    pub insight_type: InsightType,
    /// The error code of an error-rate series.
    pub error_code: Option<&'a str>,
    /// Management or Data.
    pub category: EventCategory,
}

impl SeriesKey {
    /// The key borrowed.
    pub fn as_ref(&self) -> SeriesKeyRef<'_> {
        SeriesKeyRef {
            account: self.account.as_deref(),
            region: &self.region,
            event_source: &self.event_source,
            event_name: &self.event_name,
            insight_type: self.insight_type,
            error_code: self.error_code.as_deref(),
            category: self.category,
        }
    }
}

impl SeriesKeyRef<'_> {
    /// The key owned.
    pub fn to_key(self) -> SeriesKey {
        SeriesKey {
            account: self.account.map(str::to_owned),
            region: self.region.to_owned(),
            event_source: self.event_source.to_owned(),
            event_name: self.event_name.to_owned(),
            insight_type: self.insight_type,
            error_code: self.error_code.map(str::to_owned),
            category: self.category,
        }
    }

    /// `sharedEventID` of this series' insight starting at `start`: a UUID v5 of the key and
    /// the Start minute, so the same input gives the same IDs on every run.
    pub fn shared_event_id(&self, start: Minute) -> Uuid {
        let name = format!(
            "{}|{}|{}|{}|{}|{}|{}|{}",
            self.account.unwrap_or(""),
            self.region,
            self.category.as_str(),
            self.event_source,
            self.event_name,
            self.insight_type.as_str(),
            self.error_code.unwrap_or(""),
            start.0
        );
        Uuid::new_v5(&ID_NAMESPACE, name.as_bytes())
    }

    /// `eventID` of the Start or End record of the insight starting at `start`.
    pub fn event_id(&self, start: Minute, state: InsightState) -> Uuid {
        Uuid::new_v5(&self.shared_event_id(start), state.as_str().as_bytes())
    }
}

impl fmt::Display for SeriesKeyRef<'_> {
    /// `account region eventSource eventName insightType [errorCode]`, `-` for no account,
    /// and ` (Data)` after a Data series.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}",
            self.account.unwrap_or("-"),
            self.region,
            self.event_source,
            self.event_name,
            self.insight_type
        )?;
        if let Some(code) = self.error_code {
            write!(f, " {code}")?;
        }
        if self.category != EventCategory::Management {
            write!(f, " ({})", self.category)?;
        }
        Ok(())
    }
}

impl fmt::Display for SeriesKey {
    /// As [`SeriesKeyRef`]'s.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

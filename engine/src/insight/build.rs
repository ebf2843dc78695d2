//! Building an [`InsightRecord`] from what a series knows when an insight starts or ends.

use super::key::SeriesKeyRef;
use super::kind::InsightState;
use super::record::{Attribution, Average, InsightRecord};
use crate::time::Minute;

/// What a Start or End record is made of; the IDs follow from `key`, `start` and `state`.
#[derive(Debug)]
pub(crate) struct RecordParts<'a> {
    /// The insight's series.
    pub key: SeriesKeyRef<'a>,
    /// The insight's Start minute, which with `key` gives its IDs.
    pub start: Minute,
    /// Start or End.
    pub state: InsightState,
    /// Start: the first unusual minute; End: the first minute after the insight.
    pub event_time: Minute,
    /// `statistics.baseline`.
    pub baseline: Average,
    /// `statistics.insight`.
    pub insight: Average,
    /// `attributions`, in the order of the insight type's attributes.
    pub attributions: Vec<Attribution>,
}

impl InsightRecord {
    /// The record `parts` describe, without detection details.
    pub(crate) fn build(parts: RecordParts<'_>) -> InsightRecord {
        let id = parts.key;
        InsightRecord {
            event_time: parts.event_time,
            aws_region: id.region.to_owned(),
            event_id: id.event_id(parts.start, parts.state),
            recipient_account_id: id.account.map(str::to_owned),
            shared_event_id: id.shared_event_id(parts.start),
            state: parts.state,
            event_source: id.event_source.to_owned(),
            event_name: id.event_name.to_owned(),
            insight_type: id.insight_type,
            error_code: id.error_code.map(str::to_owned),
            source_event_category: id.category,
            baseline: parts.baseline,
            insight: parts.insight,
            attributions: parts.attributions,
            detection: None,
        }
    }
}

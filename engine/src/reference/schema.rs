//! The schema reader: one reader for both of AWS's Insights shapes, driven by a table of where
//! each field is ([`TRAIL`] for trails, [`LAKE`] for CloudTrail Lake's flattened records).

use super::fields::{Fields, cut};
use super::number::ReportedNumber;
use super::types::{
    InsightSchema, Parsed, ReferenceErrorKind, ReferenceInsight, ReportedAttribution,
    ReportedStatistics, ReportedValue, SchemaNote,
};
use crate::event::EventCategory;
use crate::insight::{InsightState, InsightType};
use crate::time::Timestamp;

/// The fields both schemas share, read from the top level before the schema is known.
pub(super) struct Common {
    pub event_version: Option<String>,
    pub event_time: Timestamp,
    pub event_id: Option<String>,
    pub shared_event_id: String,
    pub account: Option<String>,
    pub region: String,
}

/// Where one schema keeps an insight's fields, all relative to the object that holds them
/// (`insightDetails` in trails, the record itself in Lake).
pub(super) struct Shape {
    pub schema: InsightSchema,
    state: &'static str,
    event_source: &'static str,
    event_name: &'static str,
    insight_type: &'static str,
    error_code: &'static str,
    /// The keys the holder may have; others are listed in [`SchemaNote::NoInsightContext`] when
    /// `insightContext` is missing (a misspelling is the usual cause). `None`: the holder is the
    /// whole record, whose other keys say nothing.
    known_keys: Option<&'static [&'static str]>,
    statistics: StatisticsShape,
}

/// Where `insightContext` keeps the statistics.
enum StatisticsShape {
    /// In a `statistics` object: `{baseline,insight}.average`, `{baseline,insight}Duration`;
    /// a missing object means no statistics.
    Nested,
    /// Directly in `insightContext`: `baselineAverage`, `insightAverage` and the durations;
    /// none of them present means no statistics.
    Flat,
}

/// Trails (S3 `CloudTrail-Insight/` files, `lookup-events`, EventBridge, CloudWatch Logs).
pub(super) const TRAIL: Shape = Shape {
    schema: InsightSchema::Trail,
    state: "state",
    event_source: "eventSource",
    event_name: "eventName",
    insight_type: "insightType",
    error_code: "errorCode",
    known_keys: Some(&[
        "state",
        "eventSource",
        "eventName",
        "insightType",
        "errorCode",
        "sourceEventCategory",
        "insightSource",
        "insightContext",
    ]),
    statistics: StatisticsShape::Nested,
};

/// CloudTrail Lake event data stores: the insight's fields flattened into the record.
pub(super) const LAKE: Shape = Shape {
    schema: InsightSchema::Lake,
    state: "insightState",
    event_source: "insightEventSource",
    event_name: "insightEventName",
    insight_type: "insightType",
    error_code: "insightErrorCode",
    known_keys: None,
    statistics: StatisticsShape::Flat,
};

/// Reads the insight's fields from `holder` as `shape` places them.
pub(super) fn read(
    shape: &Shape,
    common: Common,
    holder: &Fields<'_>,
    mut notes: Vec<SchemaNote>,
) -> Parsed<ReferenceInsight> {
    let state = state(holder, shape.state)?;
    let insight_type = insight_type(holder, shape.insight_type)?;
    let (statistics, attributions) = match holder.object("insightContext")? {
        Some(context) => {
            let statistics = match shape.statistics {
                StatisticsShape::Nested => nested_statistics(&context)?,
                StatisticsShape::Flat => flat_statistics(&context)?,
            };
            if statistics.is_none() {
                notes.push(SchemaNote::NoStatistics);
            }
            (statistics, attributions(&context, &mut notes)?)
        }
        None => {
            let unknown_keys = shape.known_keys.map_or_else(Vec::new, |known| {
                holder
                    .keys()
                    .filter(|k| !known.contains(k))
                    .map(str::to_owned)
                    .collect()
            });
            notes.push(SchemaNote::NoInsightContext { unknown_keys });
            (None, None)
        }
    };
    Ok(ReferenceInsight {
        schema: shape.schema,
        event_version: common.event_version,
        state,
        event_time: common.event_time,
        event_id: common.event_id,
        shared_event_id: common.shared_event_id,
        account: common.account,
        region: common.region,
        event_source: holder.required_string(shape.event_source)?,
        event_name: holder.required_string(shape.event_name)?,
        insight_type,
        error_code: holder.string(shape.error_code)?,
        source_event_category: holder.string("sourceEventCategory")?.map(category),
        insight_source: holder.string("insightSource")?,
        statistics,
        attributions,
        notes,
    })
}

fn nested_statistics(context: &Fields<'_>) -> Parsed<Option<ReportedStatistics>> {
    let Some(s) = context.object("statistics")? else {
        return Ok(None);
    };
    let average = |window: &str| -> Parsed<Option<ReportedNumber>> {
        s.object(window)?
            .map(|w| w.number("average"))
            .transpose()
            .map(Option::flatten)
    };
    Ok(Some(ReportedStatistics {
        baseline_average: average("baseline")?,
        insight_average: average("insight")?,
        baseline_duration: s.minutes("baselineDuration")?,
        insight_duration: s.minutes("insightDuration")?,
    }))
}

fn flat_statistics(context: &Fields<'_>) -> Parsed<Option<ReportedStatistics>> {
    let statistics = ReportedStatistics {
        baseline_average: context.number("baselineAverage")?,
        insight_average: context.number("insightAverage")?,
        baseline_duration: context.minutes("baselineDuration")?,
        insight_duration: context.minutes("insightDuration")?,
    };
    Ok(Some(statistics).filter(|s| *s != ReportedStatistics::default()))
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
        let a = Fields::of(raw, format!("{}.attributions[{i}]", context.location()))?;
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

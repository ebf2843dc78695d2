//! Matching trailsight's insights to reference ones, and what a matched pair's numbers say.
//!
//! Two insights can match when their keys agree (account, region, `eventSource`, `eventName`,
//! insight type, error code, event category; a reference without account or, for error rate,
//! without error code matches any; one without `sourceEventCategory` is Management) and their intervals are at most `tolerance` minutes apart. Pairs are taken
//! greedily, closest first, so each insight is in at most one pair; see `docs/replay.md`.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;
use trailsight_engine::SeriesKey;
use trailsight_engine::reference::{InsightInterval, ReferenceInsight};
use trailsight_engine::{EventCategory, InsightType};

use super::validate::relative_error;

/// A reference insight and trailsight's insight matched to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    /// Index into the reference intervals.
    pub reference: usize,
    /// Index into trailsight's intervals.
    pub ours: usize,
    /// Minutes between the two intervals (0 when they overlap or touch).
    pub gap: i64,
}

/// Whether trailsight's insight on `ours` can be the reference insight on `reference`.
pub fn keys_match(reference: &SeriesKey, ours: &SeriesKey) -> bool {
    reference.region == ours.region
        && reference.event_source == ours.event_source
        && reference.event_name == ours.event_name
        && reference.insight_type == ours.insight_type
        && reference.category == ours.category
        && reference
            .account
            .as_ref()
            .is_none_or(|a| ours.account.as_ref() == Some(a))
        && (reference.error_code == ours.error_code
            || reference.insight_type == InsightType::ApiErrorRateInsight
                && reference.error_code.is_none())
}

/// Minutes between two intervals' known spans; 0 when they overlap or touch.
fn gap(a: &InsightInterval, b: &InsightInterval) -> i64 {
    let ((a0, a1), (b0, b1)) = (a.known_span(), b.known_span());
    b0.minutes_since(a1).max(a0.minutes_since(b1)).max(0)
}

/// One-to-one matching: every candidate pair (keys match, gap ≤ `tolerance`) by gap, then
/// distance between the starts, then reference order, then trailsight order; each taken unless
/// one of its insights is already matched. Returns the pairs in reference order.
pub fn match_intervals(
    reference: &[InsightInterval],
    ours: &[InsightInterval],
    tolerance: i64,
) -> Vec<Pair> {
    // Only insights on the same API can match: index trailsight's by it.
    type Api<'k> = (&'k str, &'k str, &'k str, InsightType, EventCategory);
    let mut by_api: BTreeMap<Api<'_>, Vec<usize>> = BTreeMap::new();
    for (o, oi) in ours.iter().enumerate() {
        let k = &oi.key;
        by_api
            .entry((
                &k.region,
                &k.event_source,
                &k.event_name,
                k.insight_type,
                k.category,
            ))
            .or_default()
            .push(o);
    }
    let mut candidates: Vec<(i64, i64, usize, usize)> = Vec::new();
    for (r, ri) in reference.iter().enumerate() {
        let k = &ri.key;
        let api = (
            k.region.as_str(),
            k.event_source.as_str(),
            k.event_name.as_str(),
            k.insight_type,
            k.category,
        );
        for &o in by_api.get(&api).into_iter().flatten() {
            let oi = &ours[o];
            if !keys_match(&ri.key, &oi.key) {
                continue;
            }
            let g = gap(ri, oi);
            if g <= tolerance {
                let onset = ri.known_span().0.minutes_since(oi.known_span().0).abs();
                candidates.push((g, onset, r, o));
            }
        }
    }
    candidates.sort_unstable();
    let (mut used_r, mut used_o) = (vec![false; reference.len()], vec![false; ours.len()]);
    let mut pairs = Vec::new();
    for (g, _, r, o) in candidates {
        if !used_r[r] && !used_o[o] {
            used_r[r] = true;
            used_o[o] = true;
            pairs.push(Pair {
                reference: r,
                ours: o,
                gap: g,
            });
        }
    }
    pairs.sort_by_key(|p| p.reference);
    pairs
}

/// One number of a matched pair.
#[derive(Clone, Debug, Serialize)]
pub struct NumberComparison {
    /// `baseline.average`, `Start insight.average`, `End insight.average`, `insightDuration`
    /// (End) or `baselineDuration`.
    pub number: &'static str,
    /// The reference's value.
    pub reference: f64,
    /// trailsight's.
    pub trailsight: f64,
    /// `|trailsight − reference| / |reference|`; see [`relative_error`].
    pub relative_error: Option<f64>,
}

/// How far the top attribution values of a matched pair agree.
#[derive(Clone, Debug, Serialize)]
pub struct AttributionAgreement {
    /// The attribute.
    pub attribute: String,
    /// Whose lists were compared: the Ends when both have one, else the Starts.
    pub record: &'static str,
    /// Whether the first value of the insight-window lists is the same (two empty lists agree).
    pub top1: bool,
    /// Jaccard index of the insight-window lists' values: shared / all (1 for two empty lists).
    pub top5_jaccard: f64,
}

/// A matched pair compared.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Minutes between the intervals.
    pub gap_minutes: i64,
    /// trailsight's start minus the reference's, in minutes (positive: trailsight later).
    pub onset_delay_minutes: Option<i64>,
    /// trailsight's End minus the reference's, when both have an End.
    pub end_delay_minutes: Option<i64>,
    /// The numbers both records carry.
    pub numbers: Vec<NumberComparison>,
    /// Attribution agreement per attribute both list.
    pub attributions: Vec<AttributionAgreement>,
}

/// Compares a matched pair.
pub fn compare(reference: &InsightInterval, ours: &InsightInterval, gap: i64) -> Comparison {
    let onset = match (reference.first_minute(), ours.first_minute()) {
        (Some(r), Some(o)) => Some(o.minutes_since(r)),
        _ => None,
    };
    let end = match (reference.end_minute(), ours.end_minute()) {
        (Some(r), Some(o)) => Some(o.minutes_since(r)),
        _ => None,
    };
    let mut numbers = Vec::new();
    let mut push = |number, r: Option<f64>, o: Option<f64>| {
        if let (Some(r), Some(o)) = (r, o) {
            numbers.push(NumberComparison {
                number,
                reference: r,
                trailsight: o,
                relative_error: relative_error(o, r),
            });
        }
    };
    let any = |i: &InsightInterval| i.start.clone().or_else(|| i.end.clone());
    let stat =
        |r: Option<&ReferenceInsight>, f: fn(&ReferenceInsight) -> Option<f64>| r.and_then(f);
    let baseline =
        |r: &ReferenceInsight| Some(r.statistics.as_ref()?.baseline_average.as_ref()?.value);
    let insight =
        |r: &ReferenceInsight| Some(r.statistics.as_ref()?.insight_average.as_ref()?.value);
    let (ra, oa) = (any(reference), any(ours));
    push(
        "baseline.average",
        stat(ra.as_ref(), baseline),
        stat(oa.as_ref(), baseline),
    );
    push(
        "Start insight.average",
        stat(reference.start.as_ref(), insight),
        stat(ours.start.as_ref(), insight),
    );
    push(
        "End insight.average",
        stat(reference.end.as_ref(), insight),
        stat(ours.end.as_ref(), insight),
    );
    let duration = |r: &ReferenceInsight| r.insight_duration().map(|d| d as f64);
    push(
        "insightDuration",
        stat(reference.end.as_ref(), duration),
        stat(ours.end.as_ref(), duration),
    );
    let baseline_duration = |r: &ReferenceInsight| r.baseline_duration().map(|d| d as f64);
    push(
        "baselineDuration",
        stat(ra.as_ref(), baseline_duration),
        stat(oa.as_ref(), baseline_duration),
    );
    let (record, pair) = match (&reference.end, &ours.end, &reference.start, &ours.start) {
        (Some(r), Some(o), _, _) => ("End", Some((r, o))),
        (_, _, Some(r), Some(o)) => ("Start", Some((r, o))),
        _ => ("", None),
    };
    let mut attributions = Vec::new();
    if let Some((r, o)) = pair {
        for attribute in ["userIdentityArn", "userAgent", "errorCode"] {
            let (Some(ra), Some(oa)) = (r.attribution(attribute), o.attribution(attribute)) else {
                continue;
            };
            let values = |a: &trailsight_engine::reference::ReportedAttribution| -> Vec<String> {
                a.insight.iter().take(5).map(|v| v.value.clone()).collect()
            };
            let (rv, ov) = (values(ra), values(oa));
            let shared = rv.iter().filter(|v| ov.contains(v)).count();
            let all = rv.len() + ov.len() - shared;
            attributions.push(AttributionAgreement {
                attribute: attribute.to_owned(),
                record,
                top1: rv.first() == ov.first(),
                top5_jaccard: if all == 0 {
                    1.0
                } else {
                    shared as f64 / all as f64
                },
            });
        }
    }
    Comparison {
        gap_minutes: gap,
        onset_delay_minutes: onset,
        end_delay_minutes: end,
        numbers,
        attributions,
    }
}

/// Delays are stored in the histogram shifted by this many minutes (~69 days), so that negative
/// delays fit; larger delays are clamped to it.
pub const DELAY_OFFSET: i64 = 100_000;

/// A distribution of signed delays in minutes.
#[derive(Debug)]
pub struct Delays {
    histogram: Histogram<u32>,
    clamped: u64,
}

/// What [`Delays`] reports.
#[derive(Clone, Debug, Serialize)]
pub struct DelayStats {
    /// Pairs with a delay.
    pub count: u64,
    /// Median, in minutes.
    pub median: i64,
    /// 90th percentile, in minutes.
    pub p90: i64,
    /// Smallest.
    pub min: i64,
    /// Largest.
    pub max: i64,
    /// Delays beyond ±[`DELAY_OFFSET`] minutes, clamped.
    pub clamped: u64,
}

impl Default for Delays {
    fn default() -> Delays {
        Delays {
            // 5 significant digits keep every minute exact up to 2 × DELAY_OFFSET.
            histogram: Histogram::new_with_bounds(1, 2 * DELAY_OFFSET as u64, 5)
                .expect("valid histogram bounds"),
            clamped: 0,
        }
    }
}

impl Delays {
    /// Records one delay.
    pub fn record(&mut self, minutes: i64) {
        let limit = DELAY_OFFSET - 1;
        if minutes.abs() > limit {
            self.clamped += 1;
        }
        let shifted = (minutes.clamp(-limit, limit) + DELAY_OFFSET) as u64;
        self.histogram.saturating_record(shifted);
    }

    /// The statistics; `None` without any delay.
    pub fn stats(&self) -> Option<DelayStats> {
        if self.histogram.is_empty() {
            return None;
        }
        let at = |v: u64| v as i64 - DELAY_OFFSET;
        Some(DelayStats {
            count: self.histogram.len(),
            median: at(self.histogram.value_at_quantile(0.5)),
            p90: at(self.histogram.value_at_quantile(0.9)),
            min: at(self.histogram.min()),
            max: at(self.histogram.max()),
            clamped: self.clamped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trailsight_engine::reference::pair;

    /// An insight of `name` from `start` to `end` (HH:MM on 2024-01-10), or a lone Start.
    fn insight(
        id: &str,
        name: &str,
        start: &str,
        end: Option<&str>,
        account: Option<&str>,
        error: Option<&str>,
    ) -> InsightInterval {
        let record = |state: &str, time: &str| {
            let mut r = json!({
                "eventTime": format!("2024-01-10T{time}:00Z"), "awsRegion": "us-east-1",
                "eventID": format!("{id}-{state}"), "sharedEventID": id,
                "insightDetails": {"state": state, "eventSource": "iam.amazonaws.com",
                    "eventName": name,
                    "insightType": if error.is_some() { "ApiErrorRateInsight" } else { "ApiCallRateInsight" },
                    "insightContext": {"statistics": {"insightDuration": 1}}}
            });
            if let Some(a) = account {
                r["recipientAccountId"] = json!(a);
            }
            if let Some(e) = error {
                r["insightDetails"]["errorCode"] = json!(e);
            }
            ReferenceInsight::parse(&r.to_string()).unwrap()
        };
        let mut records = vec![record("Start", start)];
        records.extend(end.map(|e| record("End", e)));
        pair(records).intervals.remove(0)
    }

    fn pairs(
        reference: &[InsightInterval],
        ours: &[InsightInterval],
        tolerance: i64,
    ) -> Vec<(usize, usize, i64)> {
        match_intervals(reference, ours, tolerance)
            .into_iter()
            .map(|p| (p.reference, p.ours, p.gap))
            .collect()
    }

    /// `interval` as an insight on the same API's data events.
    fn data_events(mut interval: InsightInterval) -> InsightInterval {
        interval.key.category = EventCategory::Data;
        for record in interval.start.iter_mut().chain(interval.end.iter_mut()) {
            record.source_event_category = Some(EventCategory::Data);
        }
        interval
    }

    #[test]
    fn management_and_data_insights_on_one_api_never_match() {
        let a = Some("1");
        let management = insight("m", "PutObject", "10:00", Some("10:05"), a, None);
        let data = data_events(insight("d", "PutObject", "10:00", Some("10:05"), a, None));
        assert_eq!(data.start.as_ref().unwrap().key(), data.key);
        assert!(!keys_match(&management.key, &data.key));
        assert!(!keys_match(&data.key, &management.key));
        // Each reference finds the trailsight insight of its own category, in either order.
        let reference = [management.clone(), data.clone()];
        assert_eq!(
            pairs(&reference, &[data.clone(), management.clone()], 15),
            vec![(0, 1, 0), (1, 0, 0)]
        );
        // And none at all when only the other category was detected.
        assert_eq!(pairs(&[data], &[management], 15), vec![]);
    }

    #[test]
    fn closest_pairs_first_one_to_one() {
        let a = Some("1");
        let reference = [
            insight("a", "CreateUser", "10:00", Some("10:05"), a, None),
            insight("b", "CreateUser", "10:20", Some("10:25"), a, None),
        ];
        let ours = [
            insight("y", "CreateUser", "10:21", Some("10:30"), a, None),
            insight("x", "CreateUser", "10:02", Some("10:06"), a, None),
            insight("z", "CreateUser", "10:03", Some("10:04"), a, None),
        ];
        // x and z both overlap a; x starts 2 minutes after it, z 3.
        assert_eq!(pairs(&reference, &ours, 15), vec![(0, 1, 0), (1, 0, 0)]);
    }

    #[test]
    fn tolerance_is_the_gap_between_intervals() {
        let reference = [insight(
            "a",
            "CreateUser",
            "10:00",
            Some("10:05"),
            None,
            None,
        )];
        let ours = [insight(
            "x",
            "CreateUser",
            "10:25",
            Some("10:30"),
            Some("1"),
            None,
        )];
        assert_eq!(pairs(&reference, &ours, 15), vec![]);
        assert_eq!(pairs(&reference, &ours, 20), vec![(0, 0, 20)]);
        // A lone Start covers its insightDuration (1 minute here).
        let open = [insight("o", "CreateUser", "10:00", None, None, None)];
        assert_eq!(pairs(&open, &ours, 24), vec![(0, 0, 24)]);
        assert_eq!(pairs(&open, &ours, 23), vec![]);
    }

    #[test]
    fn keys_must_agree() {
        let (one, two) = (Some("1"), Some("2"));
        let ours = [
            insight("x", "CreateUser", "10:00", Some("10:05"), one, None),
            insight(
                "e",
                "CreateUser",
                "10:00",
                Some("10:05"),
                one,
                Some("AccessDenied"),
            ),
        ];
        let other_api = [insight(
            "a",
            "DeleteUser",
            "10:00",
            Some("10:05"),
            one,
            None,
        )];
        let other_account = [insight(
            "a",
            "CreateUser",
            "10:00",
            Some("10:05"),
            two,
            None,
        )];
        let any_account = [insight(
            "a",
            "CreateUser",
            "10:00",
            Some("10:05"),
            None,
            None,
        )];
        let any_code = [insight(
            "a",
            "CreateUser",
            "10:00",
            Some("10:05"),
            one,
            Some(""),
        )];
        let other_code = [insight(
            "a",
            "CreateUser",
            "10:00",
            Some("10:05"),
            one,
            Some("Throttling"),
        )];
        assert_eq!(pairs(&other_api, &ours, 15), vec![]);
        assert_eq!(pairs(&other_account, &ours, 15), vec![]);
        assert_eq!(pairs(&any_account, &ours, 15), vec![(0, 0, 0)]);
        // An error-rate record without errorCode (an empty one counts as none) matches any code.
        assert_eq!(pairs(&any_code, &ours, 15), vec![(0, 1, 0)]);
        assert_eq!(pairs(&other_code, &ours, 15), vec![]);
    }

    #[test]
    fn delays_are_exact_and_signed() {
        let mut d = Delays::default();
        for m in [-3, -1, 0, 0, 2, 5, 7, 9, 12, 40] {
            d.record(m);
        }
        let s = d.stats().unwrap();
        assert_eq!(
            (s.count, s.median, s.p90, s.min, s.max),
            (10, 2, 12, -3, 40)
        );
        d.record(10_000_000);
        assert_eq!(d.stats().unwrap().clamped, 1);
        assert_eq!(d.stats().unwrap().max, DELAY_OFFSET - 1);
        assert!(Delays::default().stats().is_none());
    }
}

//! The charts of the HTML report: which series each command recounts for them (a
//! [`Target`] per chart), and the [`Page`] made of its results with the run's records or the
//! replay's report.

use std::collections::{BTreeMap, BTreeSet};

use trailsight_engine::SeriesKey;
use trailsight_engine::insight::Detection;
use trailsight_engine::reference::InsightInterval;
use trailsight_engine::time::Minute;
use trailsight_engine::{InsightRecord, InsightState};

use crate::format::ratio;
use crate::html::{Card, Interval, Page, Series, VerdictView};
use crate::recount::{Target, TargetResult, series_span};
use crate::replay::matching::Pair;
use crate::replay::report::{Report, Side};
use crate::replay::validate::category;
use crate::summary::{Overview, Summary};

/// Minutes of context shown before and after each insight.
pub const CONTEXT_MINUTES: i64 = 180;

/// The recount target for the series of an insight covering `spans`.
pub fn series_target(interval: &InsightInterval, spans: &[(Minute, Minute)]) -> Target {
    let first = spans.iter().map(|s| s.0).min().unwrap_or(Minute(0));
    let end = spans.iter().map(|s| s.1).max().unwrap_or(first.plus(1));
    Target {
        key: interval.key.clone(),
        category: category(interval),
        windows: Vec::new(),
        series: Some(series_span(first, end, CONTEXT_MINUTES)),
        details: None,
    }
}

fn series_of(target: &Target, result: Option<TargetResult>) -> Series {
    let (from, to) = target.series.unwrap_or((Minute(0), Minute(1)));
    Series {
        from,
        to,
        counts: result.map(|r| r.series).unwrap_or_default(),
    }
}

/// The detections of trailsight's Start records, by `sharedEventID`.
pub fn detections(records: &[InsightRecord]) -> BTreeMap<String, Detection> {
    records
        .iter()
        .filter(|r| r.state == InsightState::Start)
        .filter_map(|r| Some((r.shared_event_id.to_string(), r.detection?)))
        .collect()
}

/// The recount targets of a `detect` run's charts: one per insight of `intervals`, in order.
pub fn detect_targets(intervals: &[InsightInterval]) -> Vec<Target> {
    intervals
        .iter()
        .map(|i| series_target(i, &[i.known_span()]))
        .collect()
}

/// The page of a `detect` run: trailsight's `intervals`, and the recount `targets` and `results` of
/// [`series_target`] for each, in the same order.
pub fn detect_page(
    summary: &Summary,
    overview: Overview,
    intervals: &[InsightInterval],
    detections: &BTreeMap<String, Detection>,
    targets: &[Target],
    results: Vec<TargetResult>,
) -> Page {
    let mut results = results.into_iter();
    let cards = intervals
        .iter()
        .zip(targets)
        .map(|(interval, target)| Card {
            key: interval.key.clone(),
            ours: Some(Interval::of(interval)),
            reference: None,
            detection: detections.get(&interval.shared_event_id).copied(),
            status: None,
            verdict: None,
            series: series_of(target, results.next()),
        })
        .collect();
    Page {
        command: "detect",
        overview,
        records: (summary.records.total, summary.records.events),
        counted: summary.detector.counted,
        replay: Vec::new(),
        cards,
    }
}

/// The charts a replay draws: one per reference insight (its matched insight of trailsight's on
/// the same chart) and one per insight of trailsight's without a match.
pub struct ReplayCharts {
    /// Per chart: which side and `sharedEventID` it is found by, and its recount target.
    plans: Vec<(ChartKey, Target)>,
}

type ChartKey = (bool, String, Option<Minute>);

impl ReplayCharts {
    /// Plans the charts of `references` and `ours` matched by `pairs`.
    pub fn plan(
        references: &[InsightInterval],
        ours: &[InsightInterval],
        pairs: &[Pair],
    ) -> ReplayCharts {
        let matched: BTreeMap<usize, usize> = pairs.iter().map(|p| (p.reference, p.ours)).collect();
        let mut plans = Vec::new();
        for (i, r) in references.iter().enumerate() {
            let mut spans = vec![r.known_span()];
            spans.extend(matched.get(&i).map(|&o| ours[o].known_span()));
            let key = (true, r.shared_event_id.clone(), r.first_minute());
            plans.push((key, series_target(r, &spans)));
        }
        let taken: BTreeSet<usize> = matched.values().copied().collect();
        for (o, interval) in ours.iter().enumerate() {
            if !taken.contains(&o) {
                let key = (false, interval.shared_event_id.clone(), None);
                plans.push((key, series_target(interval, &[interval.known_span()])));
            }
        }
        ReplayCharts { plans }
    }

    /// The recount targets, to append to the validation's.
    pub fn targets(&self) -> impl Iterator<Item = Target> + '_ {
        self.plans.iter().map(|(_, t)| t.clone())
    }

    /// The page of a replay, with the recount results of [`ReplayCharts::targets`] in order.
    pub fn page(
        self,
        summary: &Summary,
        overview: Overview,
        report: &Report,
        detections: &BTreeMap<String, Detection>,
        results: Vec<TargetResult>,
    ) -> Page {
        let mut series: BTreeMap<ChartKey, Series> = BTreeMap::new();
        let mut results = results.into_iter();
        for (key, target) in &self.plans {
            let s = series_of(target, results.next());
            series.entry(key.clone()).or_insert(s);
        }
        let interval = |side: &Side, key: &SeriesKey| InsightInterval {
            shared_event_id: side.shared_event_id.clone(),
            key: key.clone(),
            start: side.start.clone(),
            end: side.end.clone(),
        };
        let cards = report
            .insights
            .iter()
            .filter_map(|row| {
                let key = match (&row.reference, &row.trailsight) {
                    (Some(r), _) => (true, r.shared_event_id.clone(), r.first_minute),
                    (None, Some(t)) => (false, t.shared_event_id.clone(), None),
                    (None, None) => return None,
                };
                let ours_key = |t: &Side| t.shared_event_id.clone();
                Some(Card {
                    key: row.key.clone(),
                    ours: row
                        .trailsight
                        .as_ref()
                        .map(|t| Interval::of(&interval(t, &row.key))),
                    reference: row
                        .reference
                        .as_ref()
                        .map(|r| Interval::of(&interval(r, &row.key))),
                    detection: row
                        .trailsight
                        .as_ref()
                        .and_then(|t| detections.get(&ours_key(t)).copied()),
                    status: Some(row.status),
                    verdict: row.validation.as_ref().map(|v| VerdictView {
                        verdict: v.verdict,
                        details: v
                            .differing()
                            .map(|c| {
                                format!(
                                    "{} {}: AWS {}, trail {}",
                                    c.record.as_str(),
                                    c.number,
                                    c.aws_text.clone().unwrap_or_else(|| c.aws.to_string()),
                                    c.ours
                                )
                            })
                            .chain(v.missing_spans.iter().map(|s| {
                                format!(
                                    "trail lacks data {} – {}: {}",
                                    s.from,
                                    s.to,
                                    s.evidence.join("; ")
                                )
                            }))
                            .collect(),
                    }),
                    series: series.get(&key).cloned().unwrap_or(Series {
                        from: Minute(0),
                        to: Minute(1),
                        counts: BTreeMap::new(),
                    }),
                })
            })
            .collect();
        let m = &report.matching;
        let mut replay = vec![
            (
                "Reference insights".to_owned(),
                format!(
                    "{} ({} records read, {} bad)",
                    report.reference.insights,
                    report.reference.records,
                    report.reference.bad_records
                ),
            ),
            (
                "Matching".to_owned(),
                format!(
                    "{} matched, {} missed, {} extra (gap up to {} min)",
                    m.matched, m.missed, m.extra, report.match_tolerance_minutes
                ),
            ),
            (
                "Precision, recall, F1".to_owned(),
                format!(
                    "{}, {}, {}",
                    ratio(m.precision),
                    ratio(m.recall),
                    ratio(m.f1)
                ),
            ),
        ];
        let verdicts: Vec<String> = report
            .validation
            .iter()
            .map(|(v, n)| format!("{n} {}", v.as_str()))
            .collect();
        replay.push((
            "Validation".to_owned(),
            if verdicts.is_empty() {
                "no reference insight".to_owned()
            } else {
                verdicts.join(", ")
            },
        ));
        Page {
            command: "replay",
            overview,
            records: (summary.records.total, summary.records.events),
            counted: summary.detector.counted,
            replay,
            cards,
        }
    }
}

//! `--html FILE`: one self-contained HTML report of a `detect` or `replay` run, for people who
//! triage Insights by looking at them: a summary of the trail, a sortable table of the insights,
//! and for each insight a chart of its per-minute series around it with its attributions.
//!
//! The page needs no network: styles, the sorting script and the charts ([`chart`], hand-made
//! SVG) are inline. It holds nothing that is not derived from the input, so the same input gives
//! the same bytes. The series come from one more pass over the trail ([`crate::replay::scan`]),
//! for a few hours around each insight only, so the report stays small on long trails.

pub mod chart;
mod page;

use std::collections::{BTreeMap, BTreeSet};

use trailsight_engine::SeriesKey;
use trailsight_engine::insight::Detection;
use trailsight_engine::reference::{InsightInterval, ReportedAttribution, ReportedNumber};
use trailsight_engine::time::Minute;
use trailsight_engine::{DetectorConfig, InsightRecord, InsightState, InsightType};
use trailsight_input::{FileOutcome, InputFile};

use crate::explain::series_span;
use crate::progress::Progress;
use crate::replay::matching::Pair;
use crate::replay::our_intervals;
use crate::replay::report::{Report, Status};
use crate::replay::scan::{ScanSettings, Target, TargetResult, scan_options, scan_with_progress};
use crate::replay::validate::{Verdict, category};
use crate::summary::Summary;

pub use page::render;

/// Minutes of context shown before and after each insight.
pub const CONTEXT_MINUTES: i64 = 180;

/// What the whole trail covers, gathered file by file while it is read.
#[derive(Debug, Default)]
pub struct Overview {
    /// The earliest and latest event minute.
    pub span: Option<(Minute, Minute)>,
    /// Accounts seen (`recipientAccountId`, else `userIdentity.accountId`).
    pub accounts: BTreeSet<String>,
    /// Regions seen.
    pub regions: BTreeSet<String>,
}

impl Overview {
    /// Adds the events of one file.
    pub fn add_file(&mut self, outcome: &FileOutcome) {
        for (account, region, first, last) in outcome.batch.partitions() {
            if let Some(account) = account
                && !self.accounts.contains(account)
            {
                self.accounts.insert(account.to_owned());
            }
            if !self.regions.contains(region) {
                self.regions.insert(region.to_owned());
            }
            self.span = Some(match self.span {
                Some((a, b)) => (a.min(first), b.max(last)),
                None => (first, last),
            });
        }
    }
}

/// Per-minute event counts of one series over `[from, to)`.
#[derive(Clone, Debug)]
pub struct Series {
    /// First minute shown.
    pub from: Minute,
    /// First minute after the last one shown.
    pub to: Minute,
    /// Events per minute; minutes without events are absent.
    pub counts: BTreeMap<Minute, u64>,
}

/// One side's insight as the report shows it.
#[derive(Clone, Debug)]
pub struct Interval {
    /// `sharedEventID`.
    pub shared_event_id: String,
    /// First minute of the insight (Start `eventTime`).
    pub start: Minute,
    /// End `eventTime`; `None` without an End record.
    pub end: Option<Minute>,
    /// Where the shaded window ends: the End, else the Start's own window.
    pub shown_end: Minute,
    /// `baseline.average`.
    pub baseline: Option<ReportedNumber>,
    /// `insight.average` of the End, else of the Start.
    pub insight: Option<ReportedNumber>,
    /// Attributions of the End, else of the Start.
    pub attributions: Vec<ReportedAttribution>,
}

impl Interval {
    /// The report's view of a paired interval.
    pub fn of(interval: &InsightInterval) -> Interval {
        let (start, shown_end) = interval.known_span();
        let records = || interval.end.iter().chain(&interval.start);
        let statistic = |get: fn(
            &trailsight_engine::reference::ReportedStatistics,
        ) -> &Option<ReportedNumber>| {
            records().find_map(|r| r.statistics.as_ref().and_then(|s| get(s).clone()))
        };
        Interval {
            shared_event_id: interval.shared_event_id.clone(),
            start,
            end: interval.end_minute(),
            shown_end,
            baseline: statistic(|s| &s.baseline_average),
            insight: statistic(|s| &s.insight_average),
            attributions: records()
                .find_map(|r| r.attributions.clone())
                .unwrap_or_default(),
        }
    }

    /// Minutes from the start to the End (or the end of the Start's window).
    pub fn minutes(&self) -> i64 {
        self.shown_end.minutes_since(self.start)
    }

    /// Insight average over baseline average; infinite over an empty baseline.
    pub fn ratio(&self) -> Option<f64> {
        let (insight, baseline) = (self.insight.as_ref()?.value, self.baseline.as_ref()?.value);
        Some(if baseline > 0.0 {
            insight / baseline
        } else {
            f64::INFINITY
        })
    }
}

/// How a reference insight validated against the trail.
#[derive(Clone, Debug)]
pub struct VerdictView {
    /// The verdict.
    pub verdict: Verdict,
    /// Numbers that differ and spans the trail lacks, one line each.
    pub details: Vec<String>,
}

/// One insight (or matched pair) of the report.
#[derive(Clone, Debug)]
pub struct Card {
    /// The series.
    pub key: SeriesKey,
    /// trailsight's insight.
    pub ours: Option<Interval>,
    /// The reference (AWS) insight, in a replay.
    pub reference: Option<Interval>,
    /// How trailsight detected its insight.
    pub detection: Option<Detection>,
    /// Matched, missed or extra, in a replay.
    pub status: Option<Status>,
    /// The reference insight's validation, in a replay.
    pub verdict: Option<VerdictView>,
    /// The per-minute series around the insight.
    pub series: Series,
}

impl Card {
    /// The interval the table describes: the reference's when there is one.
    pub fn primary(&self) -> &Interval {
        self.reference
            .as_ref()
            .or(self.ours.as_ref())
            .expect("a card has at least one side")
    }
}

/// The run the report is about.
#[derive(Debug)]
pub struct Page {
    /// `detect` or `replay`.
    pub command: &'static str,
    /// The trail's extent.
    pub overview: Overview,
    /// Records found in the trail, and of them events.
    pub records: (u64, u64),
    /// Events counted by the detector.
    pub counted: u64,
    /// Summary lines of a replay (matching, verdicts).
    pub replay: Vec<(String, String)>,
    /// The insights, by first minute and key.
    pub cards: Vec<Card>,
}

/// The scan target for the series of an insight covering `spans`.
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

/// The report of a `detect` run: its `records` and, from one more pass over `files`, the series
/// around each.
pub fn detect_report(
    summary: &Summary,
    overview: Overview,
    records: &[InsightRecord],
    files: &[InputFile],
    config: &DetectorConfig,
    scan: ScanSettings,
    quiet: bool,
) -> String {
    let intervals = our_intervals(records);
    let targets: Vec<Target> = intervals
        .iter()
        .map(|i| series_target(i, &[i.known_span()]))
        .collect();
    let mut progress = Progress::new("charts", files.len(), quiet);
    let scanned = scan_with_progress(files, &targets, &scan_options(config), scan, &mut progress);
    drop(progress);
    render(&detect_page(
        summary,
        overview,
        &intervals,
        &detections(records),
        &targets,
        scanned.targets,
    ))
}

/// The page of a `detect` run: trailsight's `intervals`, and the scan `targets` and `results` of
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
    /// Per chart: which side and `sharedEventID` it is found by, and its scan target.
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

    /// The scan targets, to append to the validation's.
    pub fn targets(&self) -> impl Iterator<Item = Target> + '_ {
        self.plans.iter().map(|(_, t)| t.clone())
    }

    /// The page of a replay, with the scan results of [`ReplayCharts::targets`] in order.
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
        let interval = |side: &crate::replay::report::Side, key: &SeriesKey| InsightInterval {
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
                let ours_key = |t: &crate::replay::report::Side| t.shared_event_id.clone();
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
        let ratio = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"));
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

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A rate for reading at a glance: three significant digits, exponent form below 0.001.
pub fn rate(value: f64) -> String {
    if !value.is_finite() {
        return "∞".to_owned();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let magnitude = value.abs().log10().floor() as i32;
    if magnitude < -3 {
        return format!("{value:.2e}");
    }
    let decimals = (2 - magnitude).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// `calls per minute` or `errors per minute`.
pub fn unit(insight_type: InsightType) -> &'static str {
    match insight_type {
        InsightType::ApiCallRateInsight => "calls per minute",
        InsightType::ApiErrorRateInsight => "errors per minute",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_at_a_glance() {
        assert_eq!(rate(78.0), "78");
        assert_eq!(rate(0.6), "0.6");
        assert_eq!(rate(1.23456), "1.23");
        assert_eq!(rate(1234.6), "1235");
        assert_eq!(rate(0.0001850481), "1.85e-4");
        assert_eq!(rate(f64::INFINITY), "∞");
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

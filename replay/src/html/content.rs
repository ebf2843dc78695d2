//! What the page shows, handed to [`super::page::render`]: the run ([`Page`]) and its insights
//! ([`Card`]), each with its intervals, verdict and per-minute series. Built by the commands
//! (the `charts` module) from their results; nothing here reads a file.

use std::collections::BTreeMap;

use trailsight_engine::SeriesKey;
use trailsight_engine::insight::Detection;
use trailsight_engine::reference::{
    InsightInterval, ReportedAttribution, ReportedNumber, ReportedStatistics,
};
use trailsight_engine::time::Minute;

use crate::replay::report::Status;
use crate::replay::validate::Verdict;
use crate::summary::Overview;

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
        let statistic = |get: fn(&ReportedStatistics) -> &Option<ReportedNumber>| {
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

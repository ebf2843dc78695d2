//! Whether a trail holds all the data a window needs, judged from the trail itself.
//!
//! CloudTrail delivers a log file about every 5 minutes per account and region while there is
//! activity, so a busy account-region that goes silent for hours, in events and in delivery
//! files, has most likely lost files; a quiet one at night has not. The rules (documented in
//! `docs/replay.md`):
//!
//! - **no data**: the account-region has no event at all in the trail;
//! - **starts late**: its first event is after the start of the window;
//! - **ends early**: its data (last event, or newest delivery time) ends before the window
//!   does;
//! - **silent stretch**: at least [`MIN_GAP_BUCKETS`] consecutive 5-minute periods without an
//!   event, or without a delivery file, although the same periods of the day had one on at
//!   least [`USUALLY_ACTIVE`] of the up to 7 days before and after that the trail covers.

use serde::Serialize;
use trailsight_engine::time::{MINUTES_PER_DAY, Minute};

use crate::format::duration;
use crate::recount::{Activity, CONTEXT_DAYS};

/// CloudTrail's delivery period, in minutes: the unit silent stretches are measured in.
pub const BUCKET_MINUTES: i64 = 5;

/// The shortest silent stretch that can be missing data: 4 delivery periods (20 minutes).
/// CloudTrail's own delivery stalls are shorter (the sample trail's longest gap between files
/// is 15 minutes).
pub const MIN_GAP_BUCKETS: i64 = 4;

/// The share of the same periods on other days that must have been active for a silent
/// stretch to count as missing data.
pub const USUALLY_ACTIVE: f64 = 0.5;

/// A span of a window the trail probably lacks data for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MissingSpan {
    /// First minute.
    #[serde(serialize_with = "crate::format::minute_text")]
    pub from: Minute,
    /// First minute after it.
    #[serde(serialize_with = "crate::format::minute_text")]
    pub to: Minute,
    /// Why it is believed missing, one line each.
    pub evidence: Vec<String>,
}

impl MissingSpan {
    /// Whether it overlaps `[from, to)`.
    pub fn overlaps(&self, (from, to): (Minute, Minute)) -> bool {
        self.from < to && from < self.to
    }

    /// Minutes it covers.
    pub fn minutes(&self) -> i64 {
        self.to.minutes_since(self.from)
    }
}

/// The spans of `[from, to)` that `activity` probably lacks, merged and in time order.
pub fn missing_spans(
    activity: Option<&Activity>,
    (from, to): (Minute, Minute),
) -> Vec<MissingSpan> {
    let mut spans = Vec::new();
    let Some(a) = activity.filter(|a| a.first.is_some()) else {
        spans.push(MissingSpan {
            from,
            to,
            evidence: vec!["the trail has no event of this account and region".into()],
        });
        return spans;
    };
    let (Some(first), Some(last)) = (a.first, a.last) else {
        return spans;
    };
    // A file delivered at t holds events from before t.
    let covered_to = last.plus(1).max(a.last_delivery.unwrap_or(last));
    if first > from {
        spans.push(MissingSpan {
            from,
            to: first.min(to),
            evidence: vec![format!(
                "the trail's first event of this account and region is at {first}"
            )],
        });
    }
    if covered_to < to {
        spans.push(MissingSpan {
            from: covered_to.max(from),
            to,
            evidence: vec![format!(
                "the trail's data for this account and region ends at {covered_to}"
            )],
        });
    }
    let inner = (first.max(from), covered_to.min(to));
    let event_minutes = |bucket: i64| {
        (0..BUCKET_MINUTES).any(|m| a.minutes.contains(&(bucket * BUCKET_MINUTES + m)))
    };
    spans.extend(silent_stretches(
        inner,
        (first, covered_to),
        &event_minutes,
        "no events",
    ));
    if a.stamped_files {
        let delivered = |bucket: i64| {
            a.deliveries
                .range(bucket * BUCKET_MINUTES..(bucket + 1) * BUCKET_MINUTES)
                .next()
                .is_some()
        };
        spans.extend(silent_stretches(
            inner,
            (first, covered_to),
            &delivered,
            "no delivery files",
        ));
    }
    merge(spans)
}

/// Runs of inactive buckets in `window` that are usually active at that time of day, judged on
/// the days within `covered`.
fn silent_stretches(
    (from, to): (Minute, Minute),
    covered: (Minute, Minute),
    active: &dyn Fn(i64) -> bool,
    what: &str,
) -> Vec<MissingSpan> {
    let mut out = Vec::new();
    if from >= to {
        return out;
    }
    let first_bucket = from.0.div_euclid(BUCKET_MINUTES);
    let last_bucket = (to.0 - 1).div_euclid(BUCKET_MINUTES);
    let mut bucket = first_bucket;
    while bucket <= last_bucket {
        if active(bucket) {
            bucket += 1;
            continue;
        }
        let run_start = bucket;
        while bucket <= last_bucket && !active(bucket) {
            bucket += 1;
        }
        let run = (run_start, bucket);
        if run.1 - run.0 < MIN_GAP_BUCKETS {
            continue;
        }
        if let Some((share, days)) = usual_activity(run, covered, active)
            && share >= USUALLY_ACTIVE
        {
            let (start, end) = (
                Minute(run.0 * BUCKET_MINUTES).max(from),
                Minute(run.1 * BUCKET_MINUTES).min(to),
            );
            out.push(MissingSpan {
                from: start,
                to: end,
                evidence: vec![format!(
                    "{what} for {}, although the same time of day had them in {:.0}% of 5-minute periods on {days} other day{}",
                    duration(end.minutes_since(start)),
                    share * 100.0,
                    if days == 1 { "" } else { "s" }
                )],
            });
        }
    }
    out
}

/// The share of active buckets in the same buckets of the day on the other days (up to
/// [`CONTEXT_DAYS`] before and after) that lie wholly within `covered`, and how many days that
/// is; `None` without such a day.
fn usual_activity(
    (from, to): (i64, i64),
    (first, end): (Minute, Minute),
    active: &dyn Fn(i64) -> bool,
) -> Option<(f64, u32)> {
    let per_day = MINUTES_PER_DAY / BUCKET_MINUTES;
    let (mut seen, mut on, mut days) = (0u64, 0u64, 0u32);
    for offset in (-CONTEXT_DAYS..=CONTEXT_DAYS).filter(|&d| d != 0) {
        let (a, b) = (from + offset * per_day, to + offset * per_day);
        if Minute(a * BUCKET_MINUTES) < first || Minute(b * BUCKET_MINUTES) > end {
            continue;
        }
        days += 1;
        for bucket in a..b {
            seen += 1;
            on += u64::from(active(bucket));
        }
    }
    (seen > 0).then(|| (on as f64 / seen as f64, days))
}

/// Overlapping or touching spans merged, their evidence combined.
fn merge(mut spans: Vec<MissingSpan>) -> Vec<MissingSpan> {
    spans.sort_by_key(|s| (s.from, s.to));
    let mut out: Vec<MissingSpan> = Vec::new();
    for span in spans {
        match out.last_mut() {
            Some(last) if span.from <= last.to => {
                last.to = last.to.max(span.to);
                for e in span.evidence {
                    if !last.evidence.contains(&e) {
                        last.evidence.push(e);
                    }
                }
            }
            _ => out.push(span),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailsight_engine::time::Timestamp;

    fn minute(text: &str) -> Minute {
        Timestamp::parse(text).unwrap().minute()
    }

    /// Events every 2 minutes and a file every 5 from `from` to `to`, except in `hole`.
    fn busy(from: &str, to: &str, hole: Option<(&str, &str)>) -> Activity {
        let (from, to) = (minute(from), minute(to));
        let hole = hole.map(|(a, b)| (minute(a), minute(b)));
        let in_hole = |m: Minute| hole.is_some_and(|(a, b)| a <= m && m < b);
        let mut a = Activity::new(None, "us-east-1".into(), (from, to));
        a.stamped_files = true;
        for m in (from.0..to.0)
            .step_by(2)
            .map(Minute)
            .filter(|&m| !in_hole(m))
        {
            a.minutes.insert(m.0);
            a.first = Some(a.first.map_or(m, |f| f.min(m)));
            a.last = Some(m);
        }
        for m in (from.0 + 5..=to.0).step_by(5).map(Minute) {
            if !in_hole(m.plus(-1)) {
                a.deliveries.insert(m.0);
                a.last_delivery = Some(m);
            }
        }
        a
    }

    #[test]
    fn a_complete_busy_trail_lacks_nothing() {
        let a = busy("2020-07-14T00:00:00Z", "2020-07-22T00:00:00Z", None);
        let window = (
            minute("2020-07-14T00:00:00Z"),
            minute("2020-07-21T21:01:00Z"),
        );
        assert_eq!(missing_spans(Some(&a), window), vec![]);
    }

    #[test]
    fn a_hole_is_found_and_located() {
        let a = busy(
            "2020-07-14T00:00:00Z",
            "2020-07-22T00:00:00Z",
            Some(("2020-07-16T06:00:00Z", "2020-07-16T12:00:00Z")),
        );
        let window = (
            minute("2020-07-14T00:00:00Z"),
            minute("2020-07-21T20:56:00Z"),
        );
        let spans = missing_spans(Some(&a), window);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!(spans[0].from, minute("2020-07-16T06:00:00Z"));
        assert_eq!(spans[0].to, minute("2020-07-16T12:05:00Z"));
        assert_eq!(spans[0].evidence.len(), 2, "{:?}", spans[0].evidence);
        assert!(spans[0].evidence[0].contains("no events for 6 h"));
        assert!(spans[0].evidence[1].contains("no delivery files"));
    }

    #[test]
    fn a_quiet_night_every_night_is_not_missing() {
        let mut a = busy("2020-07-14T00:00:00Z", "2020-07-22T00:00:00Z", None);
        // Nothing between 01:00 and 05:00 on any day.
        a.minutes
            .retain(|&m| !(60..300).contains(&m.rem_euclid(1440)));
        a.deliveries
            .retain(|&m| !(61..=300).contains(&m.rem_euclid(1440)));
        let window = (
            minute("2020-07-14T00:00:00Z"),
            minute("2020-07-21T20:56:00Z"),
        );
        assert_eq!(missing_spans(Some(&a), window), vec![]);
    }

    #[test]
    fn late_start_early_end_and_no_data() {
        let a = busy("2020-07-15T00:00:00Z", "2020-07-21T21:00:00Z", None);
        let window = (
            minute("2020-07-14T00:00:00Z"),
            minute("2020-07-21T22:00:00Z"),
        );
        let spans = missing_spans(Some(&a), window);
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert_eq!(
            (spans[0].from, spans[0].to),
            (window.0, minute("2020-07-15T00:00:00Z"))
        );
        assert_eq!(
            (spans[1].from, spans[1].to),
            (minute("2020-07-21T21:00:00Z"), window.1)
        );
        let none = missing_spans(None, window);
        assert_eq!((none[0].from, none[0].to), window);
    }
}

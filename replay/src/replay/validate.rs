//! Validation of one reference insight against the trail: every number of its records
//! recomputed from the raw events by the rules of `docs/algorithm.md` §2 and compared with what
//! the record says, at the precision it was printed with.
//!
//! The counting is the recount's ([`crate::recount`]), not the detector's, so a detector bug cannot
//! hide in both sides. The rules, and what is tried for records that lack a duration, are in
//! `docs/replay.md`.

use serde::Serialize;
use serde_json::{Value, json};
use trailsight_engine::event::strip_session_name;
use trailsight_engine::insight::format_average;
use trailsight_engine::reference::{
    InsightInterval, ReferenceInsight, ReportedAttribution, ReportedNumber,
};
use trailsight_engine::time::{MINUTES_PER_DAY, Minute};
use trailsight_engine::{EventCategory, InsightState};

use super::completeness::{MissingSpan, missing_spans};
use crate::recount::{Activity, ERROR_CODE, IDENTITY, Target, USER_AGENT, WindowCounts, ranked};

/// What became of a reference insight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every number agrees with the recount.
    Reproduced,
    /// Some number differs, and the trail lacks data in that number's window.
    TrailIncomplete,
    /// Some number differs, and nothing says the trail lacks data there.
    Differs,
    /// The records carry no number to check (no statistics), or its first minute is unknown.
    Unverifiable,
}

impl Verdict {
    /// The name printed in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::TrailIncomplete => "trail incomplete",
            Verdict::Differs => "differs",
            Verdict::Unverifiable => "unverifiable",
        }
    }
}

/// One number of a record, AWS's value against the recount.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// The record it is on.
    pub record: InsightState,
    /// Which number: `baselineDuration`, `baseline.average`, `insight.average`,
    /// `insightDuration`, or `attributions.<attribute>.insight` / `.baseline`.
    pub number: String,
    /// What the record says.
    pub aws: Value,
    /// The record's own text of a number (`8.82145e-05`), which JSON readers may re-print.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_text: Option<String>,
    /// What the trail gives.
    pub ours: Value,
    /// `|ours − aws| / |aws|` for numbers; `None` for lists, and when AWS's value is 0 and ours
    /// is not.
    pub relative_error: Option<f64>,
    /// Whether they agree (see `docs/replay.md` for the tolerance).
    pub agrees: bool,
    /// The window the recount covers, when it depends on the trail's data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// How the recount was done: the counts, and the rule chosen when several were tried.
    pub rule: String,
}

/// A half-open window of minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Window {
    /// First minute.
    #[serde(serialize_with = "crate::format::minute_text")]
    pub from: Minute,
    /// First minute after it.
    #[serde(serialize_with = "crate::format::minute_text")]
    pub to: Minute,
}

impl Window {
    fn of((from, to): (Minute, Minute)) -> Window {
        Window { from, to }
    }

    fn pair(self) -> (Minute, Minute) {
        (self.from, self.to)
    }

    fn minutes(self) -> u64 {
        self.to.minutes_since(self.from).max(0) as u64
    }
}

/// The validation of one reference insight.
#[derive(Clone, Debug, Serialize)]
pub struct Validation {
    /// The verdict.
    pub verdict: Verdict,
    /// Every number checked.
    pub checks: Vec<Check>,
    /// Spans of the windows the trail probably lacks data for.
    pub missing_spans: Vec<MissingSpan>,
    /// Anything else worth knowing (numbers not checked and why, which rule matched).
    pub notes: Vec<String>,
}

impl Validation {
    /// The checks that failed.
    pub fn differing(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.agrees)
    }
}

/// Full weeks of a baseline: `baselineDuration` is 10080 minutes plus the Start's minute of
/// the day.
const WEEK: i64 = 7 * MINUTES_PER_DAY;

/// A window to recount and why it was chosen.
struct Candidate {
    window: (Minute, Minute),
    rule: &'static str,
}

/// The baseline windows to try for `record` of an insight starting at `start`: the record's
/// own `baselineDuration`, or without one (2019 records) the 10080 minutes before the start
/// and the aligned window, in that order.
fn baseline_candidates(record: &ReferenceInsight, start: Minute) -> Vec<Candidate> {
    match record.baseline_duration() {
        Some(d) => vec![Candidate {
            window: (start.plus(-(d as i64)), start),
            rule: "the record's baselineDuration",
        }],
        None => vec![
            Candidate {
                window: (start.plus(-WEEK), start),
                rule: "no baselineDuration: the 10080 minutes before the start (AWS's 2019 window)",
            },
            Candidate {
                window: (aligned_baseline_start(start), start),
                rule: "no baselineDuration: from 00:00 UTC seven days before the start's day",
            },
        ],
    }
}

fn aligned_baseline_start(start: Minute) -> Minute {
    start.day().plus(-7).first_minute()
}

/// The insight windows to try for `record`: the End's `[S, E)`; the Start's
/// `[S, S + insightDuration)`, or without one (2019 Starts) its first minute, then its first 5.
fn insight_candidates(
    record: &ReferenceInsight,
    start: Minute,
    end: Option<Minute>,
) -> Vec<Candidate> {
    match record.state {
        InsightState::End => end
            .filter(|&e| e > start)
            .map(|e| Candidate {
                window: (start, e),
                rule: "from the start to the End's eventTime",
            })
            .into_iter()
            .collect(),
        InsightState::Start => match record.insight_duration().filter(|&d| d > 0) {
            Some(d) => vec![Candidate {
                window: (start, start.plus(d as i64)),
                rule: "the Start's insightDuration",
            }],
            None => vec![
                Candidate {
                    window: (start, start.plus(1)),
                    rule: "no insightDuration: the first minute",
                },
                Candidate {
                    window: (start, start.plus(5)),
                    rule: "no insightDuration: the first 5 minutes",
                },
            ],
        },
    }
}

/// The records of `interval` and where its insight starts and ends.
fn records(interval: &InsightInterval) -> Vec<&ReferenceInsight> {
    interval.start.iter().chain(&interval.end).collect()
}

/// What the scan must collect to validate `interval`; `None` when nothing can be recounted.
pub fn target(interval: &InsightInterval) -> Option<Target> {
    let start = interval.first_minute()?;
    let end = interval.end_minute();
    let mut windows: Vec<(Minute, Minute)> = Vec::new();
    for record in records(interval) {
        if record.statistics.is_none() && record.attributions.is_none() {
            continue;
        }
        let candidates = baseline_candidates(record, start)
            .into_iter()
            .chain(insight_candidates(record, start, end));
        for c in candidates {
            if !windows.contains(&c.window) {
                windows.push(c.window);
            }
        }
    }
    if windows.is_empty() {
        return None;
    }
    Some(Target {
        key: interval.key.clone(),
        category: category(interval),
        windows,
        series: None,
        details: None,
    })
}

/// The category the insight is about: `sourceEventCategory`, else Management (the only one
/// Insights analysed before November 2025).
pub fn category(interval: &InsightInterval) -> EventCategory {
    records(interval)
        .iter()
        .find_map(|r| r.source_event_category)
        .unwrap_or(EventCategory::Management)
}

/// Validates `interval` with the counts of [`target`]'s windows (`counts(window)`) and its
/// account-region's activity. `sessions_kept_first`: try `userIdentityArn` values with
/// assumed-role session names before the stripped ones.
pub fn validate<'w>(
    interval: &InsightInterval,
    counts: &dyn Fn((Minute, Minute)) -> Option<&'w WindowCounts>,
    activity: Option<&Activity>,
    sessions_kept_first: bool,
) -> Validation {
    let mut v = Validation {
        verdict: Verdict::Unverifiable,
        checks: Vec::new(),
        missing_spans: Vec::new(),
        notes: Vec::new(),
    };
    for record in records(interval) {
        for note in &record.notes {
            v.notes.push(format!("{}: {note}", record.state.as_str()));
        }
    }
    let Some(start) = interval.first_minute() else {
        v.notes.push(
            "the first minute is unknown (an End without its Start and without insightDuration)"
                .into(),
        );
        return v;
    };
    let end = interval.end_minute();
    let mut used: Vec<(Minute, Minute)> = Vec::new();
    for record in records(interval) {
        let state = record.state;
        let mut baseline = None;
        let mut insight = None;
        if let Some(stats) = &record.statistics {
            if let Some(aws) = stats.baseline_duration {
                let ours = (WEEK + start.minute_of_day()) as u64;
                v.checks.push(Check {
                    record: state,
                    number: "baselineDuration".into(),
                    aws: json!(aws),
                    aws_text: None,
                    ours: json!(ours),
                    relative_error: relative_error(ours as f64, aws as f64),
                    agrees: aws == ours,
                    window: None,
                    rule: "10080 + the start's minutes since 00:00 UTC".into(),
                });
            }
            if let (InsightState::End, Some(aws), Some(e)) = (state, stats.insight_duration, end)
                && interval.start.is_some()
            {
                let ours = e.minutes_since(start).max(0) as u64;
                v.checks.push(Check {
                    record: state,
                    number: "insightDuration".into(),
                    aws: json!(aws),
                    aws_text: None,
                    ours: json!(ours),
                    relative_error: relative_error(ours as f64, aws as f64),
                    agrees: aws == ours,
                    window: None,
                    rule: "End eventTime − Start eventTime".into(),
                });
            }
            baseline = average_check(
                &mut v,
                state,
                "baseline.average",
                stats.baseline_average.as_ref(),
                baseline_candidates(record, start),
                counts,
            );
            insight = average_check(
                &mut v,
                state,
                "insight.average",
                stats.insight_average.as_ref(),
                insight_candidates(record, start, end),
                counts,
            );
        }
        // Attributions are over the windows the averages used; without averages, over the
        // record's first candidate windows.
        let baseline =
            baseline.or_else(|| baseline_candidates(record, start).first().map(|c| c.window));
        let insight = insight.or_else(|| {
            insight_candidates(record, start, end)
                .first()
                .map(|c| c.window)
        });
        for a in record.attributions.iter().flatten() {
            let Some(index) = attribute_index(&a.attribute) else {
                v.notes.push(format!(
                    "{}: attribution {} not recounted (trailsight does not compute it)",
                    state.as_str(),
                    a.attribute
                ));
                continue;
            };
            for (list, window) in [("insight", insight), ("baseline", baseline)] {
                let Some(window) = window else { continue };
                let Some(c) = counts(window) else { continue };
                attribution_check(
                    &mut v,
                    state,
                    a,
                    list,
                    Window::of(window),
                    c,
                    index,
                    sessions_kept_first,
                );
            }
        }
        used.extend(baseline);
        used.extend(insight);
        if record.statistics.is_none() && record.attributions.is_none() {
            v.notes.push(format!(
                "{}: no statistics or attributions to check",
                state.as_str()
            ));
        }
    }
    if let (Some(from), Some(to)) = (
        used.iter().map(|w| w.0).min(),
        used.iter().map(|w| w.1).max(),
    ) {
        v.missing_spans = missing_spans(activity, (from, to));
    }
    v.verdict = if v.checks.is_empty() {
        Verdict::Unverifiable
    } else if v.checks.iter().all(|c| c.agrees) {
        Verdict::Reproduced
    } else if v.differing().any(|c| {
        c.window
            .is_some_and(|w| v.missing_spans.iter().any(|s| s.overlaps(w.pair())))
    }) {
        Verdict::TrailIncomplete
    } else {
        Verdict::Differs
    };
    v
}

/// Checks one average against each candidate window until one agrees; returns the window the
/// check was made on (the agreeing one, else the first).
fn average_check<'w>(
    v: &mut Validation,
    state: InsightState,
    number: &str,
    aws: Option<&ReportedNumber>,
    candidates: Vec<Candidate>,
    counts: &dyn Fn((Minute, Minute)) -> Option<&'w WindowCounts>,
) -> Option<(Minute, Minute)> {
    let aws = aws?;
    let tried: Vec<(Candidate, u64)> = candidates
        .into_iter()
        .filter_map(|c| counts(c.window).map(|n| (c, n.events)))
        .collect();
    let agrees = |(c, n): &(Candidate, u64)| {
        let minutes = Window::of(c.window).minutes();
        minutes > 0 && aws.agrees_with(*n as f64 / minutes as f64)
    };
    let chosen = tried.iter().position(agrees).unwrap_or(0);
    let (c, events) = tried.get(chosen)?;
    let window = Window::of(c.window);
    let minutes = window.minutes().max(1);
    let ours = *events as f64 / minutes as f64;
    let mut rule = format!(
        "{events} event{} in {minutes} minute{} ({})",
        if *events == 1 { "" } else { "s" },
        if minutes == 1 { "" } else { "s" },
        c.rule
    );
    if tried.len() > 1 {
        let others: Vec<String> = tried
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != chosen)
            .map(|(_, (c, n))| {
                let w = Window::of(c.window);
                format!(
                    "{} over {} minutes ({})",
                    format_average(*n as f64 / w.minutes().max(1) as f64),
                    w.minutes(),
                    c.rule
                )
            })
            .collect();
        rule += &format!("; also tried: {}", others.join("; "));
    }
    v.checks.push(Check {
        record: state,
        number: number.into(),
        aws: Value::from(aws.value),
        aws_text: Some(aws.text.clone()),
        ours: Value::from(round(ours)),
        relative_error: relative_error(ours, aws.value),
        agrees: agrees(&tried[chosen]),
        window: Some(window),
        rule,
    });
    Some(c.window)
}

/// The scan's value index of an attribute AWS lists.
fn attribute_index(attribute: &str) -> Option<usize> {
    match attribute {
        "userIdentityArn" => Some(IDENTITY),
        "userAgent" => Some(USER_AGENT),
        "errorCode" => Some(ERROR_CODE),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn attribution_check(
    v: &mut Validation,
    state: InsightState,
    a: &ReportedAttribution,
    list: &str,
    window: Window,
    counts: &WindowCounts,
    index: usize,
    sessions_kept_first: bool,
) {
    let aws = if list == "insight" {
        &a.insight
    } else {
        &a.baseline
    };
    let limit = if a.top_value_only { 1 } else { 5 };
    let minutes = window.minutes().max(1);
    let mut forms = vec![(ranked(&counts.values[index]), "as counted")];
    if index == IDENTITY {
        let stripped = ranked(&stripped_identities(&counts.values[index]));
        let kept = forms.remove(0).0;
        let (first, second) = (
            (stripped, "assumed-role session names dropped"),
            (kept, "assumed-role session names kept"),
        );
        forms = if sessions_kept_first {
            vec![second, first]
        } else {
            vec![first, second]
        };
    }
    let results: Vec<bool> = forms
        .iter()
        .map(|(ranked, _)| list_agrees(aws, ranked, limit, minutes))
        .collect();
    let chosen = results.iter().position(|&ok| ok).unwrap_or(0);
    let (ranked, how) = &forms[chosen];
    let ours: Vec<Value> = ranked
        .iter()
        .take(limit)
        .map(|(value, n)| {
            json!({"value": value, "average": round(*n as f64 / minutes as f64), "events": n})
        })
        .collect();
    let aws_list: Vec<Value> = aws
        .iter()
        .map(|r| json!({"value": r.value, "average": r.average.value}))
        .collect();
    let mut rule = format!(
        "top {limit} of {} value{} over {minutes} minutes, ties by value",
        ranked.len(),
        if ranked.len() == 1 { "" } else { "s" }
    );
    if index == IDENTITY {
        rule += &format!(", {how}");
    }
    v.checks.push(Check {
        record: state,
        number: format!("attributions.{}.{list}", a.attribute),
        aws: Value::Array(aws_list),
        aws_text: None,
        ours: Value::Array(ours),
        relative_error: None,
        agrees: results[chosen],
        window: Some(window),
        rule,
    });
}

fn stripped_identities(
    kept: &rustc_hash::FxHashMap<String, u64>,
) -> rustc_hash::FxHashMap<String, u64> {
    let mut out = rustc_hash::FxHashMap::default();
    for (value, n) in kept {
        *out.entry(strip_session_name(value).to_owned()).or_insert(0) += n;
    }
    out
}

/// Whether AWS's list is a top-`limit` list of `ranked` (by count, highest first), each value
/// with an average that agrees with its count over `minutes`. Values tied with the last one
/// listed may be left out in any order, since AWS's tie-break is not documented.
fn list_agrees(
    aws: &[trailsight_engine::reference::ReportedValue],
    ranked: &[(String, u64)],
    limit: usize,
    minutes: u64,
) -> bool {
    let expected_len = ranked.len().min(limit);
    if aws.len() != expected_len {
        return false;
    }
    let threshold = ranked.get(limit - 1).map_or(0, |r| r.1);
    let mut values: Vec<&str> = aws.iter().map(|r| r.value.as_str()).collect();
    values.sort_unstable();
    values.dedup();
    if values.len() != aws.len() {
        return false;
    }
    let found = aws.iter().all(|r| {
        ranked.iter().any(|(value, n)| {
            *value == r.value
                && *n >= threshold
                && r.average.agrees_with(*n as f64 / minutes as f64)
        })
    });
    let must = ranked
        .iter()
        .filter(|(_, n)| *n > threshold)
        .all(|(value, _)| aws.iter().any(|r| r.value == *value));
    found && must
}

/// `|ours − aws| / |aws|`; 0 when both are 0, `None` when only AWS's is.
pub fn relative_error(ours: f64, aws: f64) -> Option<f64> {
    if aws == 0.0 {
        (ours == 0.0).then_some(0.0)
    } else {
        Some((ours - aws).abs() / aws.abs())
    }
}

/// A value rounded as records print it (10 decimal places), for reports.
fn round(value: f64) -> f64 {
    format_average(value).parse().unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailsight_engine::reference::ReportedValue;

    fn value(v: &str, average: f64) -> ReportedValue {
        ReportedValue {
            value: v.into(),
            average: ReportedNumber {
                value: average,
                text: format_average(average),
            },
        }
    }

    fn counted(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
        pairs.iter().map(|&(v, n)| (v.to_owned(), n)).collect()
    }

    #[test]
    fn lists_agree_up_to_ties_at_the_cut() {
        let ranked = counted(&[
            ("a", 6),
            ("b", 5),
            ("c", 4),
            ("d", 3),
            ("e", 2),
            ("f", 2),
            ("g", 1),
        ]);
        let aws = |values: &[(&str, u64)]| -> Vec<ReportedValue> {
            values
                .iter()
                .map(|&(v, n)| value(v, n as f64 / 10.0))
                .collect()
        };
        let top = [("a", 6), ("b", 5), ("c", 4), ("d", 3), ("e", 2)];
        assert!(list_agrees(&aws(&top), &ranked, 5, 10));
        // f ties with e at the cut: either may be listed.
        let other = [("a", 6), ("b", 5), ("c", 4), ("d", 3), ("f", 2)];
        assert!(list_agrees(&aws(&other), &ranked, 5, 10));
        // g is below the cut.
        let wrong = [("a", 6), ("b", 5), ("c", 4), ("d", 3), ("g", 1)];
        assert!(!list_agrees(&aws(&wrong), &ranked, 5, 10));
        // A wrong average.
        let mut off = aws(&top);
        off[0] = value("a", 0.7);
        assert!(!list_agrees(&off, &ranked, 5, 10));
        // Too short, and a missing value above the cut.
        assert!(!list_agrees(&aws(&top[..4]), &ranked, 5, 10));
        assert!(list_agrees(&aws(&top[..1]), &ranked, 1, 10));
        assert!(list_agrees(&[], &[], 5, 10));
        assert!(!list_agrees(&aws(&top[..1]), &[], 5, 10));
    }

    #[test]
    fn relative_errors() {
        assert_eq!(relative_error(0.0, 0.0), Some(0.0));
        assert_eq!(relative_error(1.0, 0.0), None);
        assert_eq!(relative_error(0.0, 2.0), Some(1.0));
        assert_eq!(relative_error(3.0, 2.0), Some(0.5));
    }
}

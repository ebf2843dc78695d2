//! The replay report: counts, precision and recall, delays, errors and agreement, and one row
//! per insight; as JSON (`--report`) and as a table for the terminal.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use trailsight_engine::SeriesKey;
use trailsight_engine::reference::{InsightInterval, PairingProblem, ReferenceInsight};
use trailsight_engine::time::Minute;

use super::matching::{Comparison, DelayStats};
use super::validate::{Validation, Verdict};
use crate::format::{duration, minute_short, optional_minute_text, ratio};

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Largest gap in minutes between two intervals that can still match.
    pub match_tolerance_minutes: i64,
    /// The reference side.
    pub reference: ReferenceCounts,
    /// trailsight's side.
    pub trailsight: TrailsightCounts,
    /// Matching and its metrics.
    pub matching: MatchingSummary,
    /// Reference insights by verdict.
    pub validation: BTreeMap<Verdict, u64>,
    /// The second pass over the trail, which recounts the reference insights' windows.
    pub recount: RecountCounts,
    /// The score against a simulation's labels (`--labels`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<super::labels::LabelScore>,
    /// One row per insight, by first minute and key.
    pub insights: Vec<Row>,
}

/// Reference counts.
#[derive(Debug, Default, Serialize)]
pub struct ReferenceCounts {
    /// Reference files read (`--reference`), besides the trail.
    pub files: u64,
    /// Insights records read, the trail's included.
    pub records: u64,
    /// Records or bytes that could not be used.
    pub bad_records: u64,
    /// Copies of a record already read.
    pub duplicates: u64,
    /// Records dropped because another record (another `eventID`) claims the same
    /// `sharedEventID` and state; each is listed in `pairing_problems`.
    pub conflicting: u64,
    /// Insights (Start/End pairs and lone records).
    pub insights: u64,
    /// With a Start and an End.
    pub complete: u64,
    /// A Start without its End.
    pub start_without_end: u64,
    /// An End without its Start.
    pub end_without_start: u64,
    /// Conflicting or mismatched records.
    pub pairing_problems: Vec<PairingProblem>,
    /// Non-Insights records in reference files, ignored.
    pub events_ignored: u64,
}

/// The second pass over the trail.
#[derive(Debug, Default, Serialize)]
pub struct RecountCounts {
    /// Trail files read again.
    pub files_read: u64,
    /// CloudTrail files not read again: by the delivery time in their names, all their events
    /// are outside every window (and the week around it).
    pub files_skipped: u64,
}

/// trailsight's counts.
#[derive(Debug, Default, Serialize)]
pub struct TrailsightCounts {
    /// Insights found.
    pub insights: u64,
    /// Of those, still open at the end of the trail.
    pub still_open: u64,
}

/// Matching metrics.
#[derive(Debug, Default, Serialize)]
pub struct MatchingSummary {
    /// Reference insights trailsight found.
    pub matched: u64,
    /// Reference insights trailsight did not find.
    pub missed: u64,
    /// trailsight insights without a reference one.
    pub extra: u64,
    /// matched / (matched + extra).
    pub precision: Option<f64>,
    /// matched / (matched + missed).
    pub recall: Option<f64>,
    /// Harmonic mean of precision and recall.
    pub f1: Option<f64>,
    /// trailsight's start minus the reference's, in minutes.
    pub onset_delay_minutes: Option<DelayStats>,
    /// trailsight's End minus the reference's, in minutes.
    pub end_delay_minutes: Option<DelayStats>,
    /// Relative errors of matched pairs' numbers, by number.
    pub relative_errors: BTreeMap<&'static str, ErrorStats>,
    /// Attribution agreement of matched pairs, by attribute.
    pub attributions: BTreeMap<String, AgreementStats>,
}

/// Relative errors of one number over the matched pairs.
#[derive(Debug, Default, Serialize)]
pub struct ErrorStats {
    /// Pairs where both carry the number and the reference's is not 0 or both are.
    pub pairs: u64,
    /// Median.
    pub median: Option<f64>,
    /// 90th percentile (nearest rank).
    pub p90: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
    /// Pairs where the reference says 0 and trailsight does not.
    pub reference_zero: u64,
}

impl ErrorStats {
    /// The statistics of `errors` (`None` for a reference value of 0).
    pub fn of(errors: &[Option<f64>]) -> ErrorStats {
        let mut values: Vec<f64> = errors.iter().flatten().copied().collect();
        values.sort_by(f64::total_cmp);
        let rank = |q: f64| -> Option<f64> {
            let n = values.len();
            (n > 0).then(|| values[((q * n as f64).ceil() as usize).clamp(1, n) - 1])
        };
        ErrorStats {
            pairs: values.len() as u64,
            median: rank(0.5),
            p90: rank(0.9),
            max: values.last().copied(),
            reference_zero: errors.iter().filter(|e| e.is_none()).count() as u64,
        }
    }
}

/// Attribution agreement of one attribute over the matched pairs.
#[derive(Debug, Default, Serialize)]
pub struct AgreementStats {
    /// Pairs where both list the attribute.
    pub pairs: u64,
    /// Share of pairs with the same top value.
    pub top1_agreement: f64,
    /// Mean Jaccard index of the top-5 value sets.
    pub top5_jaccard_mean: f64,
}

/// One side of a row.
#[derive(Debug, Serialize)]
pub struct Side {
    /// `sharedEventID`.
    pub shared_event_id: String,
    /// First minute of the insight, when known.
    #[serde(serialize_with = "optional_minute_text")]
    pub first_minute: Option<Minute>,
    /// The End's minute, when there is an End.
    #[serde(serialize_with = "optional_minute_text")]
    pub end_minute: Option<Minute>,
    /// `start-and-end`, `start-without-end` or `end-without-start`.
    pub records: &'static str,
    /// Where its records were read (reference side).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// The Start record as read.
    pub start: Option<ReferenceInsight>,
    /// The End record as read.
    pub end: Option<ReferenceInsight>,
}

impl Side {
    /// A side from an interval and where it was read.
    pub fn of(interval: &InsightInterval, sources: Vec<String>) -> Side {
        Side {
            shared_event_id: interval.shared_event_id.clone(),
            first_minute: interval.first_minute(),
            end_minute: interval.end_minute(),
            records: shape(interval),
            sources,
            start: interval.start.clone(),
            end: interval.end.clone(),
        }
    }
}

/// `start-and-end`, `start-without-end` or `end-without-start`.
pub fn shape(interval: &InsightInterval) -> &'static str {
    match (&interval.start, &interval.end) {
        (Some(_), Some(_)) => "start-and-end",
        (Some(_), None) => "start-without-end",
        _ => "end-without-start",
    }
}

/// Whether a row's insight was found on both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// On both sides.
    Matched,
    /// In the reference only.
    Missed,
    /// Found by trailsight only.
    Extra,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Matched => "matched",
            Status::Missed => "missed",
            Status::Extra => "extra",
        }
    }
}

/// One insight: the reference's, trailsight's, or both.
#[derive(Debug, Serialize)]
pub struct Row {
    /// Matched, missed or extra.
    pub status: Status,
    /// The key (the reference's when there is one).
    pub key: SeriesKey,
    /// The reference insight.
    pub reference: Option<Side>,
    /// trailsight's insight.
    pub trailsight: Option<Side>,
    /// The comparison of a matched pair.
    pub comparison: Option<Comparison>,
    /// The validation of the reference insight against the trail.
    pub validation: Option<Validation>,
}

impl Row {
    /// The minute rows are ordered by.
    pub fn at(&self) -> Option<Minute> {
        let side = self.reference.as_ref().or(self.trailsight.as_ref())?;
        side.first_minute.or(side.end_minute)
    }
}

/// `1 pair`, `2 pairs`.
fn count(n: u64, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

fn signed(v: i64) -> String {
    if v > 0 {
        format!("+{v}")
    } else {
        v.to_string()
    }
}

/// [`minute_short`], or `?` for none.
fn short(minute: Option<Minute>) -> String {
    minute.map_or_else(|| "?".to_owned(), minute_short)
}

fn percent(v: Option<f64>) -> String {
    match v {
        None => "n/a".into(),
        Some(0.0) => "0".into(),
        Some(v) if v < 0.0001 => format!("{v:.1e}"),
        Some(v) => format!("{:.2}%", v * 100.0),
    }
}

impl Report {
    /// Prints the report for people: totals, then one line per insight with the details of
    /// what did not reproduce.
    pub fn print(&self, out: &mut impl Write) -> io::Result<()> {
        let r = &self.reference;
        let m = &self.matching;
        writeln!(
            out,
            "reference: {} from {} ({} start and end, {} start without end, {} end without start; {} duplicates, {} conflicting dropped, {} bad)",
            count(r.insights, "insight"),
            count(r.records, "record"),
            r.complete,
            r.start_without_end,
            r.end_without_start,
            r.duplicates,
            r.conflicting,
            r.bad_records
        )?;
        for problem in &r.pairing_problems {
            match problem {
                PairingProblem::Conflict {
                    shared_event_id,
                    state,
                    kept,
                    dropped,
                } => writeln!(
                    out,
                    "  conflict: two {} records of {shared_event_id}: kept eventID {}, dropped {}",
                    state.as_str(),
                    kept.as_deref().unwrap_or("(none)"),
                    dropped.as_deref().unwrap_or("(none)")
                )?,
                PairingProblem::Mismatch {
                    shared_event_id,
                    reason,
                } => writeln!(
                    out,
                    "  mismatch: {shared_event_id}: {reason}; read as a lone Start and a lone End"
                )?,
            }
        }
        writeln!(
            out,
            "trailsight: {} ({} still open at the end of the trail)",
            count(self.trailsight.insights, "insight"),
            self.trailsight.still_open
        )?;
        writeln!(
            out,
            "matching (gap up to {} min): {} matched, {} missed, {} extra; precision {}, recall {}, F1 {}",
            self.match_tolerance_minutes,
            m.matched,
            m.missed,
            m.extra,
            ratio(m.precision),
            ratio(m.recall),
            ratio(m.f1)
        )?;
        for (label, stats) in [
            ("onset delay", &m.onset_delay_minutes),
            ("end delay", &m.end_delay_minutes),
        ] {
            if let Some(s) = stats {
                writeln!(
                    out,
                    "  {label} (trailsight − reference, min): median {}, p90 {}, min {}, max {} ({})",
                    signed(s.median),
                    signed(s.p90),
                    signed(s.min),
                    signed(s.max),
                    count(s.count, "pair")
                )?;
            }
        }
        if !m.relative_errors.is_empty() {
            writeln!(out, "  relative error (median / p90 / max):")?;
            for (number, e) in &m.relative_errors {
                let zero = if e.reference_zero > 0 {
                    format!(", {} with reference 0", e.reference_zero)
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "    {number:<22} {} / {} / {} ({}{zero})",
                    percent(e.median),
                    percent(e.p90),
                    percent(e.max),
                    count(e.pairs, "pair")
                )?;
            }
        }
        if !m.attributions.is_empty() {
            writeln!(out, "  attributions (top-1 agreement, mean top-5 Jaccard):")?;
            for (attribute, a) in &m.attributions {
                writeln!(
                    out,
                    "    {attribute:<22} {:.2}, {:.2} ({})",
                    a.top1_agreement,
                    a.top5_jaccard_mean,
                    count(a.pairs, "pair")
                )?;
            }
        }
        let verdicts: Vec<String> = [
            Verdict::Reproduced,
            Verdict::TrailIncomplete,
            Verdict::Differs,
            Verdict::Unverifiable,
        ]
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                self.validation.get(v).copied().unwrap_or(0),
                v.as_str()
            )
        })
        .collect();
        writeln!(out, "validation against the trail: {}", verdicts.join(", "))?;
        if self.insights.is_empty() {
            return Ok(());
        }
        writeln!(out)?;
        writeln!(
            out,
            "{:<17}  {:<17}  {:<7}  {:>5}  {:>5}  {:<16}  INSIGHT",
            "START", "END", "MATCH", "ONSET", "END Δ", "VERDICT"
        )?;
        for row in &self.insights {
            let side = row.reference.as_ref().or(row.trailsight.as_ref());
            let (start, end) = match side {
                Some(s) => (
                    short(s.first_minute),
                    if s.end_minute.is_some() {
                        short(s.end_minute)
                    } else {
                        "open".to_owned()
                    },
                ),
                None => ("?".into(), "?".into()),
            };
            let delay = |d: Option<i64>| d.map_or_else(|| "-".to_owned(), signed);
            let (onset, end_delay) = match &row.comparison {
                Some(c) => (delay(c.onset_delay_minutes), delay(c.end_delay_minutes)),
                None => ("-".into(), "-".into()),
            };
            let verdict = row.validation.as_ref().map_or("-", |v| v.verdict.as_str());
            writeln!(
                out,
                "{start:<17}  {end:<17}  {:<7}  {onset:>5}  {end_delay:>5}  {verdict:<16}  {}",
                row.status.as_str(),
                row.key
            )?;
            self.print_details(out, row)?;
        }
        Ok(())
    }

    fn print_details(&self, out: &mut impl Write, row: &Row) -> io::Result<()> {
        if let Some(r) = &row.reference
            && r.records != "start-and-end"
        {
            writeln!(
                out,
                "    reference: {} ({})",
                r.records.replace('-', " "),
                r.shared_event_id
            )?;
        }
        let Some(v) = &row.validation else {
            return Ok(());
        };
        const SHOWN: usize = 6;
        let differing: Vec<_> = v.differing().collect();
        for c in differing.iter().take(SHOWN) {
            let window = c
                .window
                .map(|w| format!(" over {} – {}", short(Some(w.from)), short(Some(w.to))))
                .unwrap_or_default();
            let error = c
                .relative_error
                .map(|e| format!(", relative error {}", percent(Some(e))))
                .unwrap_or_default();
            writeln!(
                out,
                "    differs: {} {}: reference {}, trail {}{error}{window}",
                c.record.as_str(),
                c.number,
                c.aws_text.clone().unwrap_or_else(|| compact(&c.aws)),
                compact(&c.ours)
            )?;
        }
        if differing.len() > SHOWN {
            writeln!(
                out,
                "    ... {} more differing numbers in the report",
                differing.len() - SHOWN
            )?;
        }
        for s in &v.missing_spans {
            writeln!(
                out,
                "    missing: {} – {} ({}): {}",
                short(Some(s.from)),
                short(Some(s.to)),
                duration(s.minutes()),
                s.evidence.join("; ")
            )?;
        }
        if v.verdict != Verdict::Reproduced {
            for note in &v.notes {
                writeln!(out, "    note: {note}")?;
            }
        }
        Ok(())
    }
}

/// A JSON value on one line, long lists cut.
fn compact(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match (i.get("value"), i.get("average")) {
                    (Some(v), Some(a)) => format!("{}={a}", v.as_str().unwrap_or_default()),
                    _ => i.to_string(),
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    };
    if text.chars().count() > 160 {
        let cut: String = text.chars().take(157).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_statistics_by_nearest_rank() {
        let e = ErrorStats::of(&[Some(0.0), Some(0.1), None, Some(0.3), Some(0.2)]);
        assert_eq!(e.pairs, 4);
        assert_eq!(e.median, Some(0.1));
        assert_eq!(e.p90, Some(0.3));
        assert_eq!(e.max, Some(0.3));
        assert_eq!(e.reference_zero, 1);
        assert_eq!(ErrorStats::of(&[]).median, None);
    }
}

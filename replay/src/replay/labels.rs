//! Scoring trailsight's insights against the labels of a simulated trail (`replay --labels`):
//! recall per kind of anomaly, negative controls that fired, false positives per
//! account-region-day, and onset delays. `docs/fidelity.md` defines every number.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use trailsight_engine::time::{Minute, Timestamp};
use trailsight_engine::{InsightRecord, InsightState, SeriesKey};
use trailsight_sim::{AnomalyKind, Label, LabelsFile};

/// Minutes an insight may start before its anomaly and still be its detection.
pub const EARLY_MINUTES: i64 = 15;
/// Minutes after an anomaly's end an insight may start and still be its detection.
pub const LATE_MINUTES: i64 = 15;
/// Days a simulated trail runs before insights can start: the baseline's length.
pub const BASELINE_DAYS: f64 = 7.0;
/// Anomaly kinds whose onset must be within [`BURST_ONSET_MINUTES`].
pub const BURST_KINDS: &[AnomalyKind] = &[
    AnomalyKind::RareBurst,
    AnomalyKind::WriteSurge,
    AnomalyKind::ErrorStorm,
    AnomalyKind::NewPrincipal,
];
/// The onset target for bursts, in minutes.
pub const BURST_ONSET_MINUTES: i64 = 5;

/// Reads a labels file (`labels.json` as `trailsight simulate` writes it).
pub fn read(path: &Path) -> anyhow::Result<LabelsFile> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a trailsight simulate labels file", path.display()))
}

/// One of trailsight's insights, from its Start and End records.
#[derive(Clone, Debug)]
struct Detected {
    shared_event_id: String,
    key: SeriesKey,
    start: Minute,
    end: Option<Minute>,
    /// Insight average below the baseline average (over the End's window, or the Start's).
    below_baseline: bool,
}

fn detected(records: &[InsightRecord]) -> Vec<Detected> {
    let mut by_id: BTreeMap<String, Detected> = BTreeMap::new();
    for r in records {
        let id = r.shared_event_id.to_string();
        let entry = by_id.entry(id.clone()).or_insert_with(|| Detected {
            shared_event_id: id,
            key: r.key().to_key(),
            start: r.event_time,
            end: None,
            below_baseline: false,
        });
        // Exact comparison of the two quotients: events_i × minutes_b < events_b × minutes_i.
        let below = u128::from(r.insight.events) * u128::from(r.baseline.minutes)
            < u128::from(r.baseline.events) * u128::from(r.insight.minutes);
        match r.state {
            InsightState::Start => {
                entry.start = r.event_time;
                if entry.end.is_none() {
                    entry.below_baseline = below;
                }
            }
            InsightState::End => {
                entry.end = Some(r.event_time);
                entry.below_baseline = below;
            }
        }
    }
    by_id.into_values().collect()
}

/// Delays in minutes: median, 90th percentile, largest.
#[derive(Clone, Debug, Serialize)]
pub struct Delays {
    /// Median.
    pub median: i64,
    /// 90th percentile (nearest rank).
    pub p90: i64,
    /// Largest.
    pub max: i64,
}

fn delays(values: &mut [i64]) -> Option<Delays> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank =
        |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    Some(Delays {
        median: rank(0.5),
        p90: rank(0.9),
        max: values[values.len() - 1],
    })
}

/// The score of one kind.
#[derive(Clone, Debug, Serialize)]
pub struct KindScore {
    /// Labels of this kind.
    pub labels: u64,
    /// Detected (anomalies) or fired (negative controls).
    pub hits: u64,
    /// Whether the kind is a negative control.
    pub negative_control: bool,
    /// Onset delays of detections (insight start − anomaly start, minutes, signed).
    pub onset_minutes: Option<Delays>,
}

/// One label's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct LabelRow {
    /// The label's id.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Whether it is a negative control.
    pub negative_control: bool,
    /// The insight that detected it (or, for a control, fired on it).
    pub shared_event_id: Option<String>,
    /// Insight start − label start, minutes.
    pub onset_minutes: Option<i64>,
}

/// An insight that matches no label.
#[derive(Clone, Debug, Serialize)]
pub struct FalsePositive {
    /// `sharedEventID`.
    pub shared_event_id: String,
    /// `account region source name type [error code]`.
    pub key: String,
    /// First minute.
    pub start: String,
}

/// The score of a run against its labels.
#[derive(Clone, Debug, Serialize)]
pub struct LabelScore {
    /// Per kind.
    pub by_kind: BTreeMap<String, KindScore>,
    /// Labelled anomalies (negative controls excluded).
    pub anomalies: u64,
    /// Of those, detected.
    pub detected: u64,
    /// `detected / anomalies`.
    pub recall: f64,
    /// Negative controls.
    pub controls: u64,
    /// Of those, with an insight.
    pub controls_fired: u64,
    /// Insights on a labelled anomaly's API and time that are not its detection (its other
    /// series: the call rate of an error storm, the errors of a surge).
    pub also_seen: u64,
    /// Insights matching no label.
    pub false_positives: Vec<FalsePositive>,
    /// Account-region-days after the baseline, when insights can start.
    pub account_region_days: Option<f64>,
    /// `false_positives / account_region_days`.
    pub false_positives_per_account_region_day: Option<f64>,
    /// Largest onset delay of the burst kinds.
    pub burst_onset_max_minutes: Option<i64>,
    /// Whether each target of `docs/fidelity.md` holds.
    pub targets: Targets,
    /// One row per label.
    pub rows: Vec<LabelRow>,
}

/// The fidelity targets.
#[derive(Clone, Debug, Serialize)]
pub struct Targets {
    /// Recall of anomalies at least 95%.
    pub recall: bool,
    /// No negative control fired.
    pub controls: bool,
    /// Fewer than 1 false positive per 10 account-region-days.
    pub false_positives: bool,
    /// Bursts detected within 5 minutes of their start.
    pub onset: bool,
}

impl Targets {
    /// Whether all hold.
    pub fn all(&self) -> bool {
        self.recall && self.controls && self.false_positives && self.onset
    }
}

fn minute(text: &str) -> anyhow::Result<Minute> {
    Ok(Timestamp::parse(text)
        .map_err(|e| anyhow::anyhow!("label time {text:?}: {e}"))?
        .minute())
}

/// Scores `records` against `labels`.
pub fn score(records: &[InsightRecord], labels: &LabelsFile) -> anyhow::Result<LabelScore> {
    let detected = detected(records);
    let mut used = vec![false; detected.len()];
    let mut rows = Vec::with_capacity(labels.labels.len());
    let mut onsets: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut also_seen = 0u64;
    let mut ordered: Vec<&Label> = labels.labels.iter().collect();
    // Anomalies claim their insights first; controls then catch what overlaps them.
    ordered.sort_by_key(|l| (l.negative_control, l.start.clone(), l.id.clone()));
    for label in ordered {
        let (from, to) = (minute(&label.start)?, minute(&label.end)?);
        let overlaps = |d: &Detected| {
            let end = d.end.unwrap_or(Minute(i64::MAX));
            d.start < to.plus(LATE_MINUTES) && end > from.plus(-EARLY_MINUTES)
        };
        let same_api = |d: &Detected| {
            let (d, l) = (&d.key, &label.key);
            d.account == l.account
                && d.region == l.region
                && d.event_source == l.event_source
                && d.event_name == l.event_name
                && d.category == l.category
        };
        let candidates = detected
            .iter()
            .enumerate()
            .filter(|(i, d)| !used[*i] && same_api(d) && overlaps(d));
        let hit = if label.negative_control {
            // Any insight on the API, of any type, is a false alarm.
            let fired: Vec<usize> = candidates.map(|(i, _)| i).collect();
            fired.iter().for_each(|&i| used[i] = true);
            fired.first().copied()
        } else {
            candidates
                .filter(|(_, d)| d.key.insight_type == label.key.insight_type)
                .filter(|(_, d)| {
                    label.key.error_code.is_none() || d.key.error_code == label.key.error_code
                })
                .filter(|(_, d)| label.kind != AnomalyKind::DropToZero || d.below_baseline)
                .min_by_key(|(_, d)| (d.start.minutes_since(from).abs(), d.shared_event_id.clone()))
                .map(|(i, _)| i)
        };
        if let Some(i) = hit {
            used[i] = true;
        }
        if !label.negative_control {
            // The anomaly's calls also move the API's other series (an error storm is extra
            // calls too; a surge brings its share of errors): insights on them are the same
            // anomaly seen another way, neither a detection nor a false positive.
            for (i, d) in detected.iter().enumerate() {
                if !used[i] && same_api(d) && overlaps(d) {
                    used[i] = true;
                    also_seen += 1;
                }
            }
        }
        let onset = hit.map(|i| detected[i].start.minutes_since(from));
        if let (Some(onset), false) = (onset, label.negative_control) {
            onsets.entry(label.kind.as_str()).or_default().push(onset);
        }
        rows.push(LabelRow {
            id: label.id.clone(),
            kind: label.kind.as_str().to_string(),
            negative_control: label.negative_control,
            shared_event_id: hit.map(|i| detected[i].shared_event_id.clone()),
            onset_minutes: onset,
        });
    }
    rows.sort_by(|a, b| a.id.cmp(&b.id));

    let mut by_kind: BTreeMap<String, KindScore> = BTreeMap::new();
    for row in &rows {
        let kind = by_kind.entry(row.kind.clone()).or_insert(KindScore {
            labels: 0,
            hits: 0,
            negative_control: row.negative_control,
            onset_minutes: None,
        });
        kind.labels += 1;
        kind.hits += u64::from(row.shared_event_id.is_some());
    }
    for (kind, values) in &mut onsets {
        if let Some(score) = by_kind.get_mut(*kind) {
            score.onset_minutes = delays(values);
        }
    }
    let false_positives: Vec<FalsePositive> = detected
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(d, _)| FalsePositive {
            shared_event_id: d.shared_event_id.clone(),
            key: d.key.to_string(),
            start: d.start.to_string(),
        })
        .collect();
    let (anomalies, detected_count) = by_kind
        .values()
        .filter(|k| !k.negative_control)
        .fold((0, 0), |(n, h), k| (n + k.labels, h + k.hits));
    let (controls, fired) = by_kind
        .values()
        .filter(|k| k.negative_control)
        .fold((0, 0), |(n, h), k| (n + k.labels, h + k.hits));
    let account_region_days = labels
        .simulation
        .as_ref()
        .map(|s| (s.days - BASELINE_DAYS).max(0.0) * (s.accounts.len() * s.regions.len()) as f64);
    let fp_rate = account_region_days
        .filter(|&d| d > 0.0)
        .map(|d| false_positives.len() as f64 / d);
    let burst_onset_max = by_kind
        .iter()
        .filter(|(kind, _)| BURST_KINDS.iter().any(|k| k.as_str() == kind.as_str()))
        .filter_map(|(_, k)| k.onset_minutes.as_ref().map(|d| d.max))
        .max();
    let recall = if anomalies == 0 {
        1.0
    } else {
        detected_count as f64 / anomalies as f64
    };
    let targets = Targets {
        recall: recall >= 0.95,
        controls: fired == 0,
        false_positives: fp_rate.is_some_and(|r| r < 0.1),
        onset: burst_onset_max.is_none_or(|m| m <= BURST_ONSET_MINUTES),
    };
    Ok(LabelScore {
        by_kind,
        anomalies,
        detected: detected_count,
        recall,
        controls,
        controls_fired: fired,
        also_seen,
        false_positives,
        account_region_days,
        false_positives_per_account_region_day: fp_rate,
        burst_onset_max_minutes: burst_onset_max,
        targets,
        rows,
    })
}

impl LabelScore {
    /// The score as a table.
    pub fn print(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(
            out,
            "labels: {} anomalies, {} negative controls{}",
            self.anomalies,
            self.controls,
            self.account_region_days
                .map(|d| format!(", over {d:.1} account-region-days after the baseline"))
                .unwrap_or_default()
        )?;
        writeln!(
            out,
            "  {:<20} {:>7}  {:>7}  onset median / p90 / max (min)",
            "KIND", "FOUND", "RECALL"
        )?;
        for (kind, k) in self.by_kind.iter().filter(|(_, k)| !k.negative_control) {
            let onset = k
                .onset_minutes
                .as_ref()
                .map(|d| format!("{} / {} / {}", d.median, d.p90, d.max))
                .unwrap_or_else(|| "-".into());
            let recall = k.hits as f64 / k.labels.max(1) as f64;
            writeln!(
                out,
                "  {kind:<20} {:>3} / {:<3} {recall:>7.3}  {onset}",
                k.hits, k.labels
            )?;
        }
        let controls: Vec<String> = self
            .by_kind
            .iter()
            .filter(|(_, k)| k.negative_control)
            .map(|(kind, k)| format!("{kind} {} of {}", k.hits, k.labels))
            .collect();
        writeln!(
            out,
            "  recall {:.3} ({} of {})",
            self.recall, self.detected, self.anomalies
        )?;
        writeln!(
            out,
            "  negative controls fired: {} of {} ({})",
            self.controls_fired,
            self.controls,
            controls.join(", ")
        )?;
        let rate = self
            .false_positives_per_account_region_day
            .map(|r| format!(" ({r:.3} per account-region-day)"))
            .unwrap_or_default();
        writeln!(
            out,
            "  other insights on an anomaly's API and time: {}",
            self.also_seen
        )?;
        writeln!(
            out,
            "  false positives: {}{rate}",
            self.false_positives.len()
        )?;
        for fp in &self.false_positives {
            writeln!(out, "    {} {}", fp.start, fp.key)?;
        }
        let mark = |ok: bool| if ok { "yes" } else { "NO" };
        let t = &self.targets;
        writeln!(
            out,
            "  targets {}: recall >= 0.95 {}; no control fired {}; < 0.1 false positives per account-region-day {}; bursts within {BURST_ONSET_MINUTES} min {}",
            if t.all() { "met" } else { "NOT met" },
            mark(t.recall),
            mark(t.controls),
            mark(t.false_positives),
            mark(t.onset)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_the_labels_file_names() {
        for kind in AnomalyKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let d = delays(&mut [5, 1, 3, 2, 4, 0, -1, 6, 7, 8]).unwrap();
        assert_eq!((d.median, d.p90, d.max), (3, 7, 8));
        assert!(delays(&mut []).is_none());
    }
}

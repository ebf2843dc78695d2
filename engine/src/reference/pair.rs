//! Start/End pairing: records linked by `sharedEventID` into intervals.

use serde::Serialize;

use super::types::ReferenceInsight;
use crate::insight::InsightState;
use crate::insight::SeriesKey;
use crate::time::Minute;

/// A Start and its End, or a lone Start or End, linked by `sharedEventID`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InsightInterval {
    /// The `sharedEventID` both records carry.
    pub shared_event_id: String,
    /// The series.
    pub key: SeriesKey,
    /// The Start record, if present.
    pub start: Option<ReferenceInsight>,
    /// The End record, if present.
    pub end: Option<ReferenceInsight>,
}

impl InsightInterval {
    /// The first minute of unusual activity: the Start's `eventTime`; for an End without its
    /// Start, `End.eventTime − End.insightDuration` (every AWS example pair satisfies
    /// `End.eventTime − Start.eventTime = End.insightDuration`), or `None` when the End has no
    /// duration.
    pub fn first_minute(&self) -> Option<Minute> {
        match (&self.start, &self.end) {
            (Some(start), _) => Some(start.minute()),
            (None, Some(end)) => end
                .insight_duration()
                .and_then(|d| i64::try_from(d).ok())
                .map(|d| end.minute().plus(-d)),
            (None, None) => None,
        }
    }

    /// The End's `eventTime`: the first minute after the unusual activity; `None` for a Start
    /// without End.
    pub fn end_minute(&self) -> Option<Minute> {
        self.end.as_ref().map(ReferenceInsight::minute)
    }

    /// The minutes known to be inside the insight, `[first, end)`: for a Start without End, the
    /// Start's own window `[S, S + insightDuration)` (at least one minute); for an End without
    /// a known start, its last minute `[E − 1, E)`.
    pub fn known_span(&self) -> (Minute, Minute) {
        match (self.first_minute(), self.end_minute(), &self.start) {
            (Some(first), Some(end), _) => (first, end.max(first.plus(1))),
            (Some(first), None, Some(start)) => {
                let d = start.insight_duration().unwrap_or(1).max(1) as i64;
                (first, first.plus(d))
            }
            (_, Some(end), _) => (end.plus(-1), end),
            // An interval always holds at least one record; a lone Start has a first minute.
            _ => (Minute(0), Minute(1)),
        }
    }

    /// The record that stands for the interval: the Start if present, else the End. `None`
    /// only for an interval built by hand with neither.
    pub fn representative(&self) -> Option<&ReferenceInsight> {
        self.start.as_ref().or(self.end.as_ref())
    }
}

/// Something that went wrong linking records by `sharedEventID`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum PairingProblem {
    /// Two different records (different `eventID`s or times) claim the same `sharedEventID`
    /// and state; the first in (`eventTime`, `eventID`) order was kept.
    Conflict {
        /// The `sharedEventID`.
        shared_event_id: String,
        /// `Start` or `End`.
        state: InsightState,
        /// `eventID` of the record kept.
        kept: Option<String>,
        /// `eventID` of the record dropped.
        dropped: Option<String>,
    },
    /// A Start and an End share a `sharedEventID` but not their series, or the End is before
    /// the Start; they are kept as two lone records.
    Mismatch {
        /// The `sharedEventID`.
        shared_event_id: String,
        /// What disagrees.
        reason: String,
    },
}

/// The result of [`pair`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Pairing {
    /// The intervals, ordered by first minute (or End minute), key and `sharedEventID`.
    pub intervals: Vec<InsightInterval>,
    /// Records dropped as exact copies of another (the same `eventID`, or without one the
    /// same `sharedEventID`, state and time): the same record read from two sources.
    pub duplicates: u64,
    /// Conflicts and mismatches, in `sharedEventID` order.
    pub problems: Vec<PairingProblem>,
}

/// Links Start and End records by `sharedEventID`. Copies of a record are dropped and
/// counted; a Start without End and an End without Start are kept as lone intervals.
pub fn pair(mut records: Vec<ReferenceInsight>) -> Pairing {
    let state_rank = |s: InsightState| u8::from(s == InsightState::End);
    records.sort_by(|a, b| {
        (
            &a.shared_event_id,
            state_rank(a.state),
            a.event_time,
            &a.event_id,
        )
            .cmp(&(
                &b.shared_event_id,
                state_rank(b.state),
                b.event_time,
                &b.event_id,
            ))
    });
    let mut pairing = Pairing::default();
    let mut groups: Vec<(Option<ReferenceInsight>, Option<ReferenceInsight>)> = Vec::new();
    let mut current: Option<String> = None;
    for record in records {
        if current.as_deref() != Some(record.shared_event_id.as_str()) {
            current = Some(record.shared_event_id.clone());
            groups.push((None, None));
        }
        let Some(group) = groups.last_mut() else {
            continue;
        };
        let slot = match record.state {
            InsightState::Start => &mut group.0,
            InsightState::End => &mut group.1,
        };
        match slot {
            None => *slot = Some(record),
            Some(kept) => {
                let same = match (&kept.event_id, &record.event_id) {
                    (Some(a), Some(b)) => a == b,
                    (None, None) => kept.event_time == record.event_time,
                    _ => false,
                };
                if same {
                    pairing.duplicates += 1;
                } else {
                    pairing.problems.push(PairingProblem::Conflict {
                        shared_event_id: record.shared_event_id.clone(),
                        state: record.state,
                        kept: kept.event_id.clone(),
                        dropped: record.event_id,
                    });
                }
            }
        }
    }
    for (start, end) in groups {
        match (start, end) {
            (Some(start), Some(end)) => {
                let reason = if start.key() != end.key() {
                    Some(format!(
                        "the Start is about {} and the End about {}",
                        start.key(),
                        end.key()
                    ))
                } else if end.event_time < start.event_time {
                    Some(format!(
                        "the End ({}) is before the Start ({})",
                        end.event_time, start.event_time
                    ))
                } else {
                    None
                };
                match reason {
                    Some(reason) => {
                        pairing.problems.push(PairingProblem::Mismatch {
                            shared_event_id: start.shared_event_id.clone(),
                            reason,
                        });
                        pairing.intervals.push(lone(start));
                        pairing.intervals.push(lone(end));
                    }
                    None => pairing.intervals.push(InsightInterval {
                        shared_event_id: start.shared_event_id.clone(),
                        key: start.key(),
                        start: Some(start),
                        end: Some(end),
                    }),
                }
            }
            (Some(record), None) | (None, Some(record)) => pairing.intervals.push(lone(record)),
            (None, None) => {}
        }
    }
    pairing.intervals.sort_by(|a, b| {
        let at = |i: &InsightInterval| i.first_minute().or(i.end_minute());
        (at(a), &a.key, &a.shared_event_id, a.start.is_none()).cmp(&(
            at(b),
            &b.key,
            &b.shared_event_id,
            b.start.is_none(),
        ))
    });
    pairing
}

fn lone(record: ReferenceInsight) -> InsightInterval {
    let (shared_event_id, key) = (record.shared_event_id.clone(), record.key());
    let (start, end) = match record.state {
        InsightState::Start => (Some(record), None),
        InsightState::End => (None, Some(record)),
    };
    InsightInterval {
        shared_event_id,
        key,
        start,
        end,
    }
}

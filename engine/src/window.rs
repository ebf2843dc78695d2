//! The window core: per-minute event counts of one series, stored per UTC day, with window sums
//! and the daily maxima and minima of sliding-window sums that the detector's normal ceiling and
//! normal floor are built from.
//!
//! Most series are rare (a few calls a day) and a few are busy (every minute), so a day is stored
//! sparsely as sorted `(minute of day, count)` pairs until it has [`DENSE_AFTER`] busy minutes,
//! then as a dense array of 1440 counters. Day totals are kept so that a 7-day baseline sum costs
//! seven additions plus at most two partial-day scans.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::{Day, MINUTES_PER_DAY, Minute};

/// The detection window lengths, in minutes, that every series is evaluated at.
pub const SCALES_MINUTES: [i64; 4] = [1, 5, 15, 60];

/// The longest detection window, in minutes.
pub const MAX_SCALE_MINUTES: i64 = 60;

/// Number of detection window lengths.
pub const SCALE_COUNT: usize = SCALES_MINUTES.len();

/// A sparse day switches to a dense array once it has this many non-zero minutes: past that
/// point the dense form (4 bytes per minute of the day) is no larger than the sparse one.
pub const DENSE_AFTER: usize = 256;

const DAY: usize = MINUTES_PER_DAY as usize;

/// The gap between two windows for them to count as two bursts rather than two parts of one:
/// longer than any labelled surge or sustained increase lasts.
pub const APART_MINUTES: usize = 120;

/// Per-minute counts of one series.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MinuteCounts {
    days: BTreeMap<Day, DayCounts>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct DayCounts {
    total: u64,
    minutes: DayMinutes,
    /// Extremes of sliding-window sums over windows ending in this day; `None` when stale.
    extremes: Option<WindowExtremes>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum DayMinutes {
    Sparse(Vec<(u16, u32)>),
    /// Always `DAY` long; a slice rather than an array so that serde can write it.
    Dense(Box<[u32]>),
}

impl DayMinutes {
    fn get(&self, minute_of_day: usize) -> u32 {
        match self {
            DayMinutes::Sparse(pairs) => pairs
                .binary_search_by_key(&(minute_of_day as u16), |&(m, _)| m)
                .map_or(0, |at| pairs[at].1),
            DayMinutes::Dense(counts) => counts[minute_of_day],
        }
    }

    fn add(&mut self, minute_of_day: usize, n: u32) {
        match self {
            DayMinutes::Sparse(pairs) => {
                match pairs.binary_search_by_key(&(minute_of_day as u16), |&(m, _)| m) {
                    Ok(at) => pairs[at].1 = pairs[at].1.saturating_add(n),
                    Err(at) => pairs.insert(at, (minute_of_day as u16, n)),
                }
                if pairs.len() > DENSE_AFTER {
                    let mut dense = vec![0u32; DAY].into_boxed_slice();
                    for &(m, count) in pairs.iter() {
                        dense[m as usize] = count;
                    }
                    *self = DayMinutes::Dense(dense);
                }
            }
            DayMinutes::Dense(counts) => {
                counts[minute_of_day] = counts[minute_of_day].saturating_add(n);
            }
        }
    }

    /// Sum of minutes of day in `from..to`.
    fn sum(&self, from: usize, to: usize) -> u64 {
        match self {
            DayMinutes::Sparse(pairs) => {
                let start = pairs.partition_point(|&(m, _)| (m as usize) < from);
                pairs[start..]
                    .iter()
                    .take_while(|&&(m, _)| (m as usize) < to)
                    .map(|&(_, count)| u64::from(count))
                    .sum()
            }
            DayMinutes::Dense(counts) => counts[from..to].iter().map(|&c| u64::from(c)).sum(),
        }
    }

    /// The first minute of day in `from..to` with a non-zero count.
    fn next_nonzero(&self, from: usize, to: usize) -> Option<usize> {
        match self {
            DayMinutes::Sparse(pairs) => {
                let at = pairs.partition_point(|&(m, _)| (m as usize) < from);
                pairs.get(at).map(|&(m, _)| m as usize).filter(|&m| m < to)
            }
            DayMinutes::Dense(counts) => counts[from..to]
                .iter()
                .position(|&c| c > 0)
                .map(|offset| from + offset),
        }
    }

    /// Writes the counts of minutes of day `from..to` into `out` (whose length is `to - from`).
    fn copy_into(&self, from: usize, to: usize, out: &mut [u32]) {
        match self {
            DayMinutes::Sparse(pairs) => {
                let start = pairs.partition_point(|&(m, _)| (m as usize) < from);
                for &(m, count) in pairs[start..]
                    .iter()
                    .take_while(|&&(m, _)| (m as usize) < to)
                {
                    out[m as usize - from] = count;
                }
            }
            DayMinutes::Dense(counts) => out.copy_from_slice(&counts[from..to]),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            DayMinutes::Sparse(pairs) => pairs.capacity() * std::mem::size_of::<(u16, u32)>(),
            DayMinutes::Dense(_) => DAY * 4,
        }
    }
}

impl MinuteCounts {
    /// An empty series.
    pub fn new() -> MinuteCounts {
        MinuteCounts::default()
    }

    /// Adds `n` events at `minute`.
    pub fn add(&mut self, minute: Minute, n: u32) {
        let day = minute.day();
        let entry = self.days.entry(day).or_insert_with(|| DayCounts {
            total: 0,
            minutes: DayMinutes::Sparse(Vec::new()),
            extremes: None,
        });
        entry.total += u64::from(n);
        entry.minutes.add(minute.minute_of_day() as usize, n);
        entry.extremes = None;
        // Windows ending early in the next day reach back into this one.
        if minute.minute_of_day() > MINUTES_PER_DAY - MAX_SCALE_MINUTES
            && let Some(next) = self.days.get_mut(&day.plus(1))
        {
            next.extremes = None;
        }
    }

    /// The count at `minute`.
    pub fn get(&self, minute: Minute) -> u32 {
        self.days
            .get(&minute.day())
            .map_or(0, |d| d.minutes.get(minute.minute_of_day() as usize))
    }

    /// The sum of counts over minutes in `from..to`.
    pub fn sum(&self, from: Minute, to: Minute) -> u64 {
        self.day_slices(from, to)
            .map(|(_, counts, lo, hi)| {
                if lo == 0 && hi == DAY {
                    counts.total
                } else {
                    counts.minutes.sum(lo, hi)
                }
            })
            .sum()
    }

    /// The first minute in `from..to` with a non-zero count.
    pub fn next_nonzero(&self, from: Minute, to: Minute) -> Option<Minute> {
        self.day_slices(from, to).find_map(|(day, counts, lo, hi)| {
            counts
                .minutes
                .next_nonzero(lo, hi)
                .map(|m| day.first_minute().plus(m as i64))
        })
    }

    /// Writes the counts of minutes `from..from + out.len()` into `out`.
    pub fn copy_into(&self, from: Minute, out: &mut [u32]) {
        out.fill(0);
        let to = from.plus(out.len() as i64);
        for (day, counts, lo, hi) in self.day_slices(from, to) {
            let at = day.first_minute().plus(lo as i64).minutes_since(from) as usize;
            counts
                .minutes
                .copy_into(lo, hi, &mut out[at..at + (hi - lo)]);
        }
    }

    /// The stored days overlapping `from..to`, each with the minutes of day `lo..hi` it covers.
    fn day_slices(
        &self,
        from: Minute,
        to: Minute,
    ) -> impl Iterator<Item = (Day, &DayCounts, usize, usize)> {
        let (first_day, last_day) = (from.day(), to.plus(-1).day());
        let days = if from < to {
            Some(self.days.range(first_day..=last_day))
        } else {
            None
        };
        days.into_iter().flatten().map(move |(&day, counts)| {
            let lo = if day == first_day {
                from.minute_of_day() as usize
            } else {
                0
            };
            let hi = if day == last_day {
                to.plus(-1).minute_of_day() as usize + 1
            } else {
                DAY
            };
            (day, counts, lo, hi)
        })
    }

    /// The total count of `day`.
    pub fn day_total(&self, day: Day) -> u64 {
        self.days.get(&day).map_or(0, |d| d.total)
    }

    /// For each scale of [`SCALES_MINUTES`], the largest and smallest sums of windows of that
    /// many minutes ending in `day` (windows may start in the previous day), leaving out every
    /// window that overlaps one of the half-open `excluded` intervals. Cached, when no interval
    /// reaches the day, until the counts of `day` or of the day before change.
    pub fn window_extremes(&mut self, day: Day, excluded: &[(Minute, Minute)]) -> WindowExtremes {
        let lead = MAX_SCALE_MINUTES as usize - 1;
        let first = day.first_minute().plus(-(lead as i64));
        let end = day.plus(1).first_minute();
        let touching: Vec<(Minute, Minute)> = excluded
            .iter()
            .copied()
            .filter(|&(from, to)| from < end && to > first)
            .collect();
        if touching.is_empty() {
            if let Some(extremes) = self.days.get(&day).and_then(|d| d.extremes) {
                return extremes;
            }
            if self.days.range(day.plus(-1)..=day).next().is_none() {
                return WindowExtremes {
                    max: [0; SCALE_COUNT],
                    min: [Some(0); SCALE_COUNT],
                    second_max: [0; SCALE_COUNT],
                };
            }
        }
        let mut buf = vec![0u32; lead + DAY];
        self.copy_into(first, &mut buf);
        let mut masked = vec![false; buf.len()];
        for (from, to) in &touching {
            let lo = from.minutes_since(first).max(0) as usize;
            let hi = (to.minutes_since(first).max(0) as usize).min(buf.len());
            masked[lo.min(hi)..hi].fill(true);
        }
        let extremes = sliding_extremes(&buf, &masked, lead);
        if touching.is_empty()
            && let Some(d) = self.days.get_mut(&day)
        {
            d.extremes = Some(extremes);
        }
        extremes
    }

    /// The largest sum of a `scale_minutes`-minute window ending at a minute in `first..=last`.
    pub fn max_window_sum(&self, scale_minutes: i64, first: Minute, last: Minute) -> u64 {
        if last < first {
            return 0;
        }
        let lead = scale_minutes - 1;
        let mut buf = vec![0u32; (last.minutes_since(first) + 1 + lead) as usize];
        self.copy_into(first.plus(-lead), &mut buf);
        let mut sum: u64 = buf[..lead as usize].iter().map(|&c| u64::from(c)).sum();
        let mut best = 0;
        for end in lead as usize..buf.len() {
            sum += u64::from(buf[end]);
            best = best.max(sum);
            sum -= u64::from(buf[end - lead as usize]);
        }
        best
    }

    /// Drops every day before `day`.
    pub fn drop_before(&mut self, day: Day) {
        self.days = self.days.split_off(&day);
    }

    /// The first minute of the first day that holds counts.
    pub fn first_day_minute(&self) -> Option<Minute> {
        self.days.keys().next().map(|day| day.first_minute())
    }

    /// The days that hold counts, in order.
    pub fn days(&self) -> impl Iterator<Item = Day> + '_ {
        self.days.keys().copied()
    }

    /// Whether no day holds counts.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// Checks the invariants a restored snapshot must hold: dense days are a day long, sparse
    /// days sorted with minutes of the day, totals equal to the sum of their minutes.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (day, counts) in &self.days {
            let sum: u64 = match &counts.minutes {
                DayMinutes::Dense(minutes) if minutes.len() != DAY => {
                    return Err(format!("day {}: {} minutes", day.0, minutes.len()));
                }
                DayMinutes::Dense(minutes) => minutes.iter().map(|&c| u64::from(c)).sum(),
                DayMinutes::Sparse(pairs) => {
                    let sorted = pairs.windows(2).all(|w| w[0].0 < w[1].0);
                    if !sorted || pairs.last().is_some_and(|&(m, _)| m as usize >= DAY) {
                        return Err(format!("day {}: minutes out of order or range", day.0));
                    }
                    pairs.iter().map(|&(_, c)| u64::from(c)).sum()
                }
            };
            if sum != counts.total {
                return Err(format!(
                    "day {}: total {} but minutes sum to {sum}",
                    day.0, counts.total
                ));
            }
        }
        Ok(())
    }

    /// Approximate heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.days
            .values()
            .map(|d| d.minutes.heap_bytes() + std::mem::size_of::<DayCounts>() + 32)
            .sum()
    }
}

/// The largest and smallest window sums of one day, per scale of [`SCALES_MINUTES`]. A scale
/// none of whose windows could be used has `max` 0 and `min` `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowExtremes {
    /// Per scale, the largest window sum.
    pub max: [u32; SCALE_COUNT],
    /// Per scale, the smallest window sum.
    pub min: [Option<u32>; SCALE_COUNT],
    /// Per scale, the largest sum of a window at least [`APART_MINUTES`] away from the first
    /// window holding `max`: the level the day reached a second time, in another burst.
    pub second_max: [u32; SCALE_COUNT],
}

/// Per scale, the extremes over windows ending at `buf[lead..]` that hold no masked minute.
fn sliding_extremes(buf: &[u32], masked: &[bool], lead: usize) -> WindowExtremes {
    let mut prefix = Vec::with_capacity(buf.len() + 1);
    let mut masked_prefix = Vec::with_capacity(buf.len() + 1);
    prefix.push(0u64);
    masked_prefix.push(0u32);
    for (&c, &m) in buf.iter().zip(masked) {
        prefix.push(prefix.last().copied().unwrap_or(0) + u64::from(c));
        masked_prefix.push(masked_prefix.last().copied().unwrap_or(0) + u32::from(m));
    }
    let mut out = WindowExtremes {
        max: [0; SCALE_COUNT],
        min: [None; SCALE_COUNT],
        second_max: [0; SCALE_COUNT],
    };
    for (i, &scale) in SCALES_MINUTES.iter().enumerate() {
        let w = scale as usize;
        let sums: Vec<(usize, u32)> = (lead..buf.len())
            .filter(|&end| masked_prefix[end + 1] == masked_prefix[end + 1 - w])
            .map(|end| {
                let sum = prefix[end + 1] - prefix[end + 1 - w];
                (end, u32::try_from(sum).unwrap_or(u32::MAX))
            })
            .collect();
        let mut best_end = None;
        for &(end, sum) in &sums {
            if best_end.is_none() || sum > out.max[i] {
                out.max[i] = sum;
                best_end = Some(end);
            }
            out.min[i] = Some(out.min[i].map_or(sum, |m| m.min(sum)));
        }
        if let Some(best) = best_end {
            out.second_max[i] = sums
                .iter()
                .filter(|&&(end, _)| {
                    end + w + APART_MINUTES <= best || end >= best + w + APART_MINUTES
                })
                .map(|&(_, sum)| sum)
                .max()
                .unwrap_or(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap as Model;

    const BASE: i64 = 28_000_000; // 2023-03-28, so days are positive

    fn build(events: &[(i64, u32)]) -> (MinuteCounts, Model<i64, u64>) {
        let mut counts = MinuteCounts::new();
        let mut model = Model::new();
        for &(offset, n) in events {
            counts.add(Minute(BASE + offset), n);
            *model.entry(BASE + offset).or_insert(0) += u64::from(n);
        }
        (counts, model)
    }

    fn naive_sum(model: &Model<i64, u64>, from: i64, to: i64) -> u64 {
        model.range(from..to.max(from)).map(|(_, &c)| c).sum()
    }

    fn naive_max_window(model: &Model<i64, u64>, scale: i64, first: i64, last: i64) -> u64 {
        (first..=last)
            .map(|end| naive_sum(model, end - scale + 1, end + 1))
            .max()
            .unwrap_or(0)
    }

    /// Events on a few days, with some days busy enough to turn dense.
    fn events() -> impl Strategy<Value = Vec<(i64, u32)>> {
        prop::collection::vec(
            prop_oneof![
                (0i64..4 * 1440, 1u32..5),
                (1440i64..1440 + 400, 1u32..3), // a dense day
            ],
            0..900,
        )
    }

    proptest! {
        #[test]
        fn sums_match_naive(events in events(), from in -100i64..5000, len in 0i64..6000) {
            let (counts, model) = build(&events);
            let (from, to) = (BASE + from, BASE + from + len);
            prop_assert_eq!(counts.sum(Minute(from), Minute(to)), naive_sum(&model, from, to));
        }

        #[test]
        fn gets_and_next_nonzero_match_naive(events in events(), probe in -10i64..6000, len in 0i64..3000) {
            let (counts, model) = build(&events);
            let at = BASE + probe;
            prop_assert_eq!(u64::from(counts.get(Minute(at))), model.get(&at).copied().unwrap_or(0));
            let expected = model.range(at..at + len).find(|&(_, &c)| c > 0).map(|(&m, _)| Minute(m));
            prop_assert_eq!(counts.next_nonzero(Minute(at), Minute(at + len)), expected);
        }

        #[test]
        fn window_extremes_match_naive(
            events in events(),
            day in 0i64..5,
            excluded in prop::collection::vec((0i64..5 * 1440, 1i64..300), 0..3),
        ) {
            let (mut counts, model) = build(&events);
            let day = Minute(BASE).day().plus(day);
            let first = day.first_minute().0;
            let excluded: Vec<(Minute, Minute)> = excluded
                .iter()
                .map(|&(at, len)| (Minute(BASE + at), Minute(BASE + at + len)))
                .collect();
            let extremes = counts.window_extremes(day, &excluded);
            // Twice: the second answer may come from the cache.
            prop_assert_eq!(counts.window_extremes(day, &excluded), extremes);
            for (i, &scale) in SCALES_MINUTES.iter().enumerate() {
                let sums: Vec<u64> = (first..first + 1440)
                    .filter(|&end| {
                        excluded.iter().all(|&(from, to)| to.0 <= end - scale + 1 || from.0 > end)
                    })
                    .map(|end| naive_sum(&model, end - scale + 1, end + 1))
                    .collect();
                prop_assert_eq!(u64::from(extremes.max[i]), sums.iter().copied().max().unwrap_or(0), "scale {}", scale);
                prop_assert_eq!(extremes.min[i].map(u64::from), sums.iter().copied().min(), "scale {}", scale);
                let ends: Vec<i64> = (first..first + 1440)
                    .filter(|&end| {
                        excluded.iter().all(|&(from, to)| to.0 <= end - scale + 1 || from.0 > end)
                    })
                    .collect();
                let top = ends.iter().copied().zip(sums.iter().copied()).fold(None, |best: Option<(i64, u64)>, (end, sum)| match best {
                    Some((_, b)) if b >= sum => best,
                    _ => Some((end, sum)),
                });
                let second = top.map_or(0, |(top_end, _)| {
                    ends.iter().zip(&sums)
                        .filter(|&(&end, _)| {
                            let apart = APART_MINUTES as i64;
                            end <= top_end - scale - apart || end >= top_end + scale + apart
                        })
                        .map(|(_, &sum)| sum)
                        .max()
                        .unwrap_or(0)
                });
                prop_assert_eq!(u64::from(extremes.second_max[i]), second, "scale {}", scale);
            }
        }

        #[test]
        fn max_window_sum_matches_naive(events in events(), first in 0i64..5000, len in 0i64..300, scale_at in 0usize..4) {
            let (counts, model) = build(&events);
            let scale = SCALES_MINUTES[scale_at];
            let (first, last) = (BASE + first, BASE + first + len);
            prop_assert_eq!(
                counts.max_window_sum(scale, Minute(first), Minute(last)),
                naive_max_window(&model, scale, first, last)
            );
        }
    }

    #[test]
    fn maxima_cache_is_invalidated_by_late_counts() {
        let mut counts = MinuteCounts::new();
        let day = Minute(BASE).day();
        counts.add(day.first_minute().plus(10), 2);
        assert_eq!(counts.window_extremes(day, &[]).max, [2, 2, 2, 2]);
        counts.add(day.first_minute().plus(12), 3);
        assert_eq!(counts.window_extremes(day, &[]).max, [3, 5, 5, 5]);
        // A late count in the last minutes of the previous day reaches into this day's windows.
        counts.add(day.first_minute().plus(-1), 4);
        assert_eq!(counts.window_extremes(day, &[]).max, [3, 5, 9, 9]);
    }

    #[test]
    fn sparse_days_turn_dense_without_changing_values() {
        let mut counts = MinuteCounts::new();
        for m in 0..(DENSE_AFTER as i64 + 10) {
            counts.add(Minute(BASE + 3 * m), 1);
        }
        assert!(matches!(
            counts.days.values().next().unwrap().minutes,
            DayMinutes::Dense(_)
        ));
        assert_eq!(
            counts.sum(Minute(BASE), Minute(BASE + 3 * 300)),
            DENSE_AFTER as u64 + 10
        );
    }

    #[test]
    fn drop_before_keeps_later_days() {
        let (mut counts, _) = build(&[(0, 1), (1440, 2), (2880, 3)]);
        counts.drop_before(Minute(BASE + 1440).day());
        assert_eq!(counts.sum(Minute(BASE - 10), Minute(BASE + 5000)), 5);
    }
}

//! The detection model: when the activity of one series (one API, or one API and error code, in
//! one account and region) is unusual. `docs/algorithm.md` explains the reasoning; in short:
//!
//! - For each window length `w` of [`SCALES_MINUTES`] (1, 5, 15 and 60 minutes), the series'
//!   **normal ceiling** `N_w` is the largest of
//!   - the largest `w`-minute sum of the seven UTC days before the decided minute's day, leaving
//!     out windows that overlap the series' own insights,
//!   - the second-largest level of the fourteen days before it, insights included (each day
//!     gives its largest sum and its largest sum two hours apart from that one): a level reached
//!     twice is normal,
//!   - the largest `w`-minute sum within ±2 hours of the same time one week earlier.
//! - A window of `x` events ending at minute `t` is **unusual** when
//!   `x > mean_w + margin × (N_w − mean_w)` and `x >= k_w`, where `k_w` is the larger of the
//!   configured minimum count and the smallest count whose probability under a Poisson law with
//!   the baseline's mean rate (floored at one event a day) is below the significance level.
//!   `margin` and the significance level come from the sensitivity.
//! - A call-rate series is **silent** when a window is empty whose **normal floor** (its smallest
//!   sum of the seven days, outside insights or on two days) makes emptiness improbable:
//!   `e^-floor < alpha`.
//! - The insight **starts** at the change point before the first minute of that window whose
//!   count exceeds the window's per-minute share of the threshold: the latest minute, up to the
//!   longest window's length before, from which a Poisson CUSUM between the baseline's rate and
//!   the window's is largest ([`burst_start`]; a silence: at the window's first minute).
//! - It **ends** at the first minute after the last minute whose count exceeded `N_w / w`, once
//!   the configured number of quiet minutes has passed and the trailing `w`-minute sum is back at
//!   or below `N_w`; a silence ends at its first minute with an event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::distribution::{DiscreteCDF, Poisson};

use crate::time::{Day, MINUTES_PER_DAY, Minute};
use crate::window::{MAX_SCALE_MINUTES, MinuteCounts, SCALE_COUNT, SCALES_MINUTES, WindowExtremes};

/// Days of history the normal ceiling and the baseline cover.
pub const BASELINE_DAYS: i64 = 7;

/// Days of history whose levels count toward the recurrence rule: a level reached twice in two
/// weeks is the series' habit (a stack applied every few days, a fortnightly release).
pub const LEVEL_MEMORY_DAYS: i64 = 14;

/// A day's largest window sum and its largest sum of a window apart from that one, per scale,
/// insights included: what the recurrence rule remembers of days older than the baseline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayLevels {
    /// Per scale, the day's largest window sum.
    pub max: [u32; SCALE_COUNT],
    /// Per scale, the largest sum of a window apart from the first one holding `max`.
    pub second_max: [u32; SCALE_COUNT],
}

impl From<WindowExtremes> for DayLevels {
    fn from(e: WindowExtremes) -> DayLevels {
        DayLevels {
            max: e.max,
            second_max: e.second_max,
        }
    }
}

impl DayLevels {
    /// Whether the day had no event in any window.
    pub fn is_empty(&self) -> bool {
        self.max.iter().all(|&m| m == 0)
    }
}

/// Half-width of the weekly comparison: windows ending within this many minutes of the same
/// time one week earlier.
pub const WEEKLY_TOLERANCE_MINUTES: i64 = 120;

/// The smallest event rate the significance test assumes, in events per minute (one a day), so
/// that a series that was silent for a week does not make a single event significant.
pub const RATE_FLOOR_PER_MINUTE: f64 = 1.0 / MINUTES_PER_DAY as f64;

/// The factor a window must exceed the normal ceiling by: 4 at sensitivity 0, 2.5 at the
/// default 0.5, 1 at sensitivity 1.
pub fn margin(sensitivity: f64) -> f64 {
    1.0 + 3.0 * (1.0 - sensitivity)
}

/// The significance level of the Poisson floor: 1e-9 at sensitivity 0, 1e-6 at 0.5, 1e-3 at 1.
pub fn significance(sensitivity: f64) -> f64 {
    10f64.powf(-(3.0 + 6.0 * (1.0 - sensitivity)))
}

/// The thresholds of one series for the minutes of one UTC day, from the seven days before it.
/// The weekly part of the ceiling depends on the minute and is added by [`evaluate_trigger`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayThresholds {
    /// Per scale, the largest window sum of the seven days, outside the series' own insights.
    pub daily_ceiling: [u32; SCALE_COUNT],
    /// Per scale, the smallest window sum of the seven days, outside the series' own insights
    /// (0 when none could be used).
    pub daily_floor: [u32; SCALE_COUNT],
    /// Per scale, the fewest events a window needs.
    pub min_count: [u64; SCALE_COUNT],
    /// Mean events per minute over the seven days.
    pub mean_per_minute: f64,
    /// The smallest normal floor a silent window is significant against.
    pub silence_min_floor: u32,
}

impl DayThresholds {
    /// Whether a silent window of some scale would be significant today.
    pub fn silence_possible(&self) -> bool {
        self.daily_floor
            .iter()
            .any(|&f| f >= self.silence_min_floor)
    }
}

/// Computes the thresholds for decisions on `day`. Windows overlapping one of the series' own
/// insights (`insights`, half-open minute intervals) are left out, so that an anomaly does not
/// teach the model that the next one is normal. `older_levels` holds the levels of days older
/// than the baseline that `counts` may no longer hold (see [`LEVEL_MEMORY_DAYS`]); a day in
/// neither had no events.
pub fn day_thresholds(
    counts: &mut MinuteCounts,
    day: Day,
    sensitivity: f64,
    min_count: u32,
    insights: &[(Minute, Minute)],
    older_levels: &BTreeMap<Day, DayLevels>,
) -> DayThresholds {
    const LEVELS: usize = 2 * LEVEL_MEMORY_DAYS as usize;
    let mut ceiling = [0u32; SCALE_COUNT];
    let mut floor = [None::<u32>; SCALE_COUNT];
    let mut daily_maxima = [[0u32; LEVELS]; SCALE_COUNT];
    let mut daily_minima = [[u32::MAX; BASELINE_DAYS as usize]; SCALE_COUNT];
    let mut total = 0u64;
    for back in 1..=BASELINE_DAYS {
        let d = day.plus(-back);
        let outside = counts.window_extremes(d, insights);
        let all = counts.window_extremes(d, &[]);
        for scale in 0..SCALE_COUNT {
            ceiling[scale] = ceiling[scale].max(outside.max[scale]);
            floor[scale] = match (floor[scale], outside.min[scale]) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            daily_maxima[scale][2 * back as usize - 2] = all.max[scale];
            daily_maxima[scale][2 * back as usize - 1] = all.second_max[scale];
            daily_minima[scale][back as usize - 1] = all.min[scale].unwrap_or(u32::MAX);
        }
        total += counts.day_total(d);
    }
    for back in BASELINE_DAYS + 1..=LEVEL_MEMORY_DAYS {
        let d = day.plus(-back);
        let levels = match older_levels.get(&d) {
            Some(&levels) => levels,
            None => DayLevels::from(counts.window_extremes(d, &[])),
        };
        for (scale, maxima) in daily_maxima.iter_mut().enumerate() {
            maxima[2 * back as usize - 2] = levels.max[scale];
            maxima[2 * back as usize - 1] = levels.second_max[scale];
        }
    }
    // A level reached twice in the fourteen days (in two windows apart), or a lull seen on two
    // of the seven days, is normal even where it was an insight: the second time, it is the
    // series' habit.
    for scale in 0..SCALE_COUNT {
        daily_maxima[scale].sort_unstable();
        daily_minima[scale].sort_unstable();
        ceiling[scale] = ceiling[scale].max(daily_maxima[scale][LEVELS - 2]);
        let second_smallest = daily_minima[scale][1];
        if second_smallest != u32::MAX {
            floor[scale] = Some(floor[scale].map_or(second_smallest, |f| f.min(second_smallest)));
        }
    }
    let mean_per_minute = total as f64 / (BASELINE_DAYS * MINUTES_PER_DAY) as f64;
    let alpha = significance(sensitivity);
    let mut thresholds = DayThresholds {
        daily_ceiling: ceiling,
        daily_floor: floor.map(|f| f.unwrap_or(0)),
        min_count: [0; SCALE_COUNT],
        mean_per_minute,
        silence_min_floor: silence_min_floor(alpha).max(min_count),
    };
    for (slot, &w) in thresholds.min_count.iter_mut().zip(SCALES_MINUTES.iter()) {
        let expected = w as f64 * mean_per_minute.max(RATE_FLOOR_PER_MINUTE);
        *slot = poisson_min_count(expected, alpha).max(u64::from(min_count));
    }
    thresholds
}

/// The smallest Poisson mean `n` (a whole number of events) with `P(X = 0) = e^-n < alpha`: a
/// window that normally never holds fewer than `n` events is significantly silent when empty.
pub fn silence_min_floor(alpha: f64) -> u32 {
    (-alpha.ln()).floor().max(0.0) as u32 + 1
}

/// The window sum above which a window is unusual: the normal ceiling raised by `margin` times
/// its excursion above the window's mean, `mean + margin × (ceiling − mean)`.
pub fn unusual_above(ceiling: u64, mean: f64, margin: f64) -> f64 {
    let ceiling = ceiling as f64;
    let mean = mean.min(ceiling);
    mean + margin * (ceiling - mean)
}

/// The smallest `k` with `P(X >= k) < alpha` for `X ~ Poisson(mean)`.
pub fn poisson_min_count(mean: f64, alpha: f64) -> u64 {
    let Ok(poisson) = Poisson::new(mean) else {
        return 1;
    };
    // P(X >= k) < alpha needs k above the mean; start there and walk up.
    let mut k = (mean.floor() as u64).max(1);
    let limit = (mean + 40.0 * mean.sqrt() + 100.0) as u64;
    while k < limit && poisson.sf(k - 1) >= alpha {
        k += 1;
    }
    k
}

/// The largest `scale_minutes` window sum within [`WEEKLY_TOLERANCE_MINUTES`] of `t` one week
/// earlier.
pub fn weekly_ceiling(counts: &MinuteCounts, scale_minutes: i64, t: Minute) -> u64 {
    let center = t.plus(-BASELINE_DAYS * MINUTES_PER_DAY);
    counts.max_window_sum(
        scale_minutes,
        center.plus(-WEEKLY_TOLERANCE_MINUTES),
        center.plus(WEEKLY_TOLERANCE_MINUTES),
    )
}

/// Which way a series left its normal range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// More events than normal.
    #[default]
    Above,
    /// No events where there always were some.
    Silent,
}

/// An unusual window found by [`evaluate_trigger`] or [`evaluate_silence`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// The insight's first minute.
    pub start: Minute,
    /// The window length that fired, in minutes.
    pub scale_minutes: i64,
    /// The normal ceiling `N_w` at that length (for a silence, the normal floor).
    pub normal_ceiling: u64,
    /// Events in the window.
    pub events: u64,
    /// The last minute in `start..=t` whose count exceeded `N_w / w` (for a silence, the window's
    /// last minute).
    pub last_unusual: Minute,
    /// Above the ceiling or silent.
    pub direction: Direction,
    /// The fewest events a window of this length needed to be unusual at the trigger minute
    /// (for a silence, 0: the window had to be empty).
    pub threshold_events: u64,
}

impl Trigger {
    /// The per-minute count above which a minute counts as unusual while the insight is open.
    pub fn unusual_minute_above(&self) -> f64 {
        self.normal_ceiling as f64 / self.scale_minutes as f64
    }
}

/// Whether a window ending at `t` is unusual, trying the shortest window first. Windows start no
/// earlier than `window_floor` (the end of the previous insight on the series). The start is
/// found by [`burst_start`] from the first minute of the window above the threshold's share.
pub fn evaluate_trigger(
    counts: &MinuteCounts,
    t: Minute,
    window_floor: Minute,
    thresholds: &DayThresholds,
    margin: f64,
) -> Option<Trigger> {
    for (scale, &w) in SCALES_MINUTES.iter().enumerate() {
        let from = t.plus(1 - w).max(window_floor);
        let events = counts.sum(from, t.plus(1));
        let mean = w as f64 * thresholds.mean_per_minute;
        let daily = u64::from(thresholds.daily_ceiling[scale]);
        if events < thresholds.min_count[scale]
            || events as f64 <= unusual_above(daily, mean, margin)
        {
            continue;
        }
        let normal_ceiling = daily.max(weekly_ceiling(counts, w, t));
        let threshold = unusual_above(normal_ceiling, mean, margin);
        if events as f64 <= threshold {
            continue;
        }
        let start_above = threshold / w as f64;
        let unusual_above = normal_ceiling as f64 / w as f64;
        // Both exist: the window's mean exceeds `start_above`, so one of its minutes does too.
        let above = minutes(from, t).find(|&m| f64::from(counts.get(m)) > start_above)?;
        let reach_from = t.plus(1 - MAX_SCALE_MINUTES).max(window_floor);
        let normal = thresholds.mean_per_minute.max(RATE_FLOOR_PER_MINUTE);
        let burst = events as f64 / (t.minutes_since(from) + 1) as f64;
        let start = burst_start(counts, reach_from, above, normal, burst);
        let last_unusual = minutes(start, t)
            .rev()
            .find(|&m| f64::from(counts.get(m)) > unusual_above)?;
        return Some(Trigger {
            start,
            scale_minutes: w,
            normal_ceiling,
            events,
            last_unusual,
            direction: Direction::Above,
            threshold_events: (threshold.floor() as u64 + 1).max(thresholds.min_count[scale]),
        });
    }
    None
}

/// Where a burst whose first minute above the threshold is `above` began: the latest minute `S`
/// in `reach_from..=above` that maximises `Σ (count − r)` over the minutes of `[S, above)`, with
/// the reference rate `r = (λ1 − λ0) / ln(λ1 / λ0)` between the normal rate `λ0` (events per
/// minute) and the burst's `λ1`. That is Page's CUSUM change point for a Poisson rate that
/// rises from `λ0` to `λ1`: minutes before `above` that run at the burst's rate, even before the
/// window that fired, are its onset; minutes at the normal rate in front of them bring the sum
/// down, so a stray call an hour earlier, or a steady series' usual minutes, do not become it.
pub fn burst_start(
    counts: &MinuteCounts,
    reach_from: Minute,
    above: Minute,
    normal_per_minute: f64,
    burst_per_minute: f64,
) -> Minute {
    let (low, high) = (normal_per_minute, burst_per_minute);
    if high <= low || low <= 0.0 {
        return above;
    }
    let reference = (high - low) / (high / low).ln();
    let (mut start, mut best, mut excess) = (above, 0.0f64, 0.0f64);
    for m in minutes(reach_from, above.plus(-1)).rev() {
        excess += f64::from(counts.get(m)) - reference;
        if excess > best {
            (start, best) = (m, excess);
        }
    }
    start
}

/// Whether the window ending at `t` is a significant silence: no event in the shortest window
/// whose normal floor (its smallest sum of the seven days) is at least
/// [`DayThresholds::silence_min_floor`]. The window starts no earlier than `window_floor`.
pub fn evaluate_silence(
    counts: &MinuteCounts,
    t: Minute,
    window_floor: Minute,
    thresholds: &DayThresholds,
) -> Option<Trigger> {
    let (scale, &w) = SCALES_MINUTES
        .iter()
        .enumerate()
        .find(|&(scale, _)| thresholds.daily_floor[scale] >= thresholds.silence_min_floor)?;
    let from = t.plus(1 - w);
    if from < window_floor || counts.sum(from, t.plus(1)) > 0 {
        return None;
    }
    Some(Trigger {
        start: from,
        scale_minutes: w,
        normal_ceiling: u64::from(thresholds.daily_floor[scale]),
        events: 0,
        last_unusual: t,
        direction: Direction::Silent,
        threshold_events: 0,
    })
}

/// Whether an open insight has ended by minute `u`: `quiet_minutes` minutes have passed since the
/// last unusual minute and the trailing window is back within the normal ceiling. A silence ends
/// at its first minute with an event.
pub fn end_reached(
    counts: &MinuteCounts,
    trigger: &Trigger,
    last_unusual: Minute,
    u: Minute,
    quiet_minutes: i64,
) -> bool {
    match trigger.direction {
        Direction::Silent => counts.get(u) > 0,
        Direction::Above => {
            u.minutes_since(last_unusual) >= quiet_minutes
                && counts.sum(u.plus(1 - trigger.scale_minutes), u.plus(1))
                    <= trigger.normal_ceiling
        }
    }
}

fn minutes(from: Minute, to_inclusive: Minute) -> impl DoubleEndedIterator<Item = Minute> {
    (from.0..=to_inclusive.0).map(Minute)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitivity_maps_to_margin_and_significance() {
        assert_eq!(margin(0.5), 2.5);
        assert_eq!(margin(1.0), 1.0);
        assert!((significance(0.5) - 1e-6).abs() < 1e-18);
    }

    #[test]
    fn poisson_floor_matches_hand_computed_tails() {
        // Floor rate, 5-minute window: mean 5/1440. P(X>=2) ~ 6.0e-6, P(X>=3) ~ 7.0e-9.
        assert_eq!(poisson_min_count(5.0 / 1440.0, 1e-6), 3);
        assert_eq!(poisson_min_count(5.0 / 1440.0, 1e-5), 2);
        // 60-minute window at the floor: mean 1/24. P(X>=3) ~ 1.2e-5, P(X>=4) ~ 1.2e-7.
        assert_eq!(poisson_min_count(60.0 / 1440.0, 1e-6), 4);
        // A busy series: mean 100 per window needs about 100 + 4.9 sigma.
        let k = poisson_min_count(100.0, 1e-6);
        assert!((145..=155).contains(&k), "{k}");
    }

    fn day0() -> Day {
        Minute(28_000_000).day()
    }

    #[test]
    fn rare_api_burst_fires_on_the_five_minute_window() {
        // One call a week earlier, then 3 calls in five minutes (AWS's CompleteLifecycleAction).
        let mut counts = MinuteCounts::new();
        let today = day0().plus(8).first_minute();
        counts.add(day0().plus(2).first_minute().plus(600), 1);
        let s = today.plus(20 * 60 + 56);
        for offset in [0, 2, 4] {
            counts.add(s.plus(offset), 1);
        }
        let thresholds = day_thresholds(&mut counts, today.day(), 0.5, 3, &[], &BTreeMap::new());
        // One call at a time is normal; the threshold is 1 + 1.5 x (1 - mean), about 2.5.
        assert_eq!(thresholds.daily_ceiling, [1, 1, 1, 1]);
        assert_eq!(
            evaluate_trigger(&counts, s.plus(2), Minute(0), &thresholds, margin(0.5)),
            None
        );
        let trigger =
            evaluate_trigger(&counts, s.plus(4), Minute(0), &thresholds, margin(0.5)).unwrap();
        assert_eq!(
            (trigger.start, trigger.scale_minutes, trigger.events),
            (s, 5, 3)
        );
        assert_eq!(trigger.last_unusual, s.plus(4));
        assert!(!end_reached(&counts, &trigger, s.plus(4), s.plus(8), 5));
        assert!(end_reached(&counts, &trigger, s.plus(4), s.plus(9), 5));
    }

    #[test]
    fn daily_batches_set_the_ceiling() {
        // 40 calls in a minute at a different time every day is normal; 40 more is not unusual,
        // 150 is.
        let mut counts = MinuteCounts::new();
        for d in 0..7 {
            counts.add(day0().plus(d).first_minute().plus(100 + 97 * d), 40);
        }
        let today = day0().plus(7);
        let thresholds = day_thresholds(&mut counts, today, 0.5, 3, &[], &BTreeMap::new());
        assert_eq!(thresholds.daily_ceiling, [40, 40, 40, 40]);
        let t = today.first_minute().plus(900);
        counts.add(t, 45);
        assert_eq!(
            evaluate_trigger(&counts, t, Minute(0), &thresholds, margin(0.5)),
            None
        );
        counts.add(t.plus(1), 150);
        let trigger =
            evaluate_trigger(&counts, t.plus(1), Minute(0), &thresholds, margin(0.5)).unwrap();
        // The 45 before it was above the ceiling's 40 a minute: the burst's first minute.
        assert_eq!((trigger.start, trigger.scale_minutes), (t, 1));
    }

    #[test]
    fn same_time_last_week_is_normal() {
        // A weekly job: 30 calls once, late on the day eight days ago, so outside the seven
        // days the daily ceiling looks at. Today's run, 45 minutes later in the day a week on,
        // is not unusual even though no other day saw it.
        let mut counts = MinuteCounts::new();
        let last_week = day0().first_minute().plus(1410);
        counts.add(last_week, 30);
        let today = day0().plus(8);
        let thresholds = day_thresholds(&mut counts, today, 0.5, 3, &[], &BTreeMap::new());
        assert_eq!(thresholds.daily_ceiling[0], 0);
        let t = last_week.plus(7 * 1440 + 45);
        counts.add(t, 30);
        assert_eq!(
            evaluate_trigger(&counts, t, Minute(0), &thresholds, margin(0.5)),
            None
        );
    }

    #[test]
    fn window_floor_clips_windows() {
        let mut counts = MinuteCounts::new();
        let today = day0().plus(8);
        let thresholds = day_thresholds(&mut counts, today, 0.5, 3, &[], &BTreeMap::new());
        let t = today.first_minute().plus(60);
        counts.add(t.plus(-3), 2);
        counts.add(t, 1);
        assert!(evaluate_trigger(&counts, t, Minute(0), &thresholds, margin(0.5)).is_some());
        assert_eq!(
            evaluate_trigger(&counts, t, t.plus(-2), &thresholds, margin(0.5)),
            None
        );
    }

    #[test]
    fn own_insights_do_not_raise_the_ceiling_until_seen_twice() {
        // A burst of 50 two days ago was an insight: left out, it does not make the next one
        // normal. A second burst, hours apart, makes the level a habit.
        let mut counts = MinuteCounts::new();
        let burst = day0().plus(5).first_minute().plus(600);
        counts.add(burst, 50);
        let insight = [(burst, burst.plus(1))];
        let today = day0().plus(7);
        let thresholds = day_thresholds(&mut counts, today, 0.5, 3, &insight, &BTreeMap::new());
        assert_eq!(thresholds.daily_ceiling[0], 0);
        let without = day_thresholds(&mut counts, today, 0.5, 3, &[], &BTreeMap::new());
        assert_eq!(without.daily_ceiling[0], 50);
        counts.add(burst.plus(300), 48);
        let again = day_thresholds(&mut counts, today, 0.5, 3, &insight, &BTreeMap::new());
        assert_eq!(again.daily_ceiling[0], 48);
    }

    #[test]
    fn steady_series_fall_silent() {
        // 20 calls every minute for a week: the quietest 1-minute window held 20 >= 14 events
        // (ln 1e6 = 13.8), so one empty minute is a significant silence.
        let mut counts = MinuteCounts::new();
        let today = day0().plus(7);
        for m in 0..8 * 1440 {
            counts.add(day0().plus(-1).first_minute().plus(m), 20);
        }
        let thresholds = day_thresholds(&mut counts, today, 0.5, 3, &[], &BTreeMap::new());
        assert_eq!(silence_min_floor(significance(0.5)), 14);
        assert_eq!(thresholds.daily_floor[0], 20);
        assert!(thresholds.silence_possible());
        let t = today.first_minute().plus(30);
        for m in 0..30 {
            counts.add(today.first_minute().plus(m), 20);
        }
        let trigger = evaluate_silence(&counts, t, Minute(0), &thresholds).unwrap();
        assert_eq!((trigger.start, trigger.scale_minutes), (t, 1));
        assert_eq!(trigger.direction, Direction::Silent);
        assert!(!end_reached(&counts, &trigger, t, t.plus(1), 5));
        counts.add(t.plus(2), 1);
        assert!(end_reached(&counts, &trigger, t.plus(1), t.plus(2), 5));
        // Not after the previous insight's end, and not while calls go on.
        assert_eq!(evaluate_silence(&counts, t, t.plus(1), &thresholds), None);
        assert_eq!(
            evaluate_silence(&counts, t.plus(-1), Minute(0), &thresholds),
            None
        );
    }

    #[test]
    fn bursty_series_never_fall_silent() {
        // A call every other minute: the quietest windows of 1, 5 and 15 minutes are too small
        // for an empty one to be significant; the 60-minute floor (30) is not.
        let mut counts = MinuteCounts::new();
        // From the day before, so that the first day's windows are full too.
        for m in (0..8 * 1440).step_by(2) {
            counts.add(day0().plus(-1).first_minute().plus(m), 1);
        }
        let thresholds = day_thresholds(&mut counts, day0().plus(7), 0.5, 3, &[], &BTreeMap::new());
        assert_eq!(thresholds.daily_floor, [0, 2, 7, 30]);
        let t = day0().plus(7).first_minute().plus(59);
        let trigger = evaluate_silence(&counts, t, Minute(0), &thresholds).unwrap();
        assert_eq!(trigger.scale_minutes, 60);
    }

    #[test]
    fn the_start_reaches_back_before_the_window_over_the_rise() {
        // A batch of 6 in one minute every day: ceiling 6 at 5 minutes, threshold about 15, and
        // a minute is unusual above 6 / 5. Six minutes of 2, then 9: the window of 5 ending at
        // the 9 crosses, and the start goes back to the first minute of 2, before that window.
        let mut counts = MinuteCounts::new();
        let today = day0().plus(8).first_minute();
        for d in 1..=7 {
            counts.add(today.plus(-d * 1440 + 8 * 60), 6);
        }
        let s = today.plus(14 * 60);
        for offset in 0..6 {
            counts.add(s.plus(offset), 2);
        }
        counts.add(s.plus(6), 9);
        let thresholds = day_thresholds(&mut counts, today.day(), 0.5, 3, &[], &BTreeMap::new());
        assert_eq!(thresholds.daily_ceiling[1], 6);
        let at = |t: Minute, floor: Minute| {
            evaluate_trigger(&counts, t, floor, &thresholds, margin(0.5))
        };
        assert_eq!(at(s.plus(5), Minute(0)), None);
        let trigger = at(s.plus(6), Minute(0)).unwrap();
        assert_eq!((trigger.scale_minutes, trigger.start), (5, s));
        // Never before the previous insight's End.
        assert_eq!(at(s.plus(6), s.plus(1)).unwrap().start, s.plus(1));
    }

    #[test]
    fn a_steady_series_start_stays_at_its_surge() {
        // An agent on a five-minute timer (2, 2, 2, 1, 0 a minute) for eight days, then 8 a
        // minute from 18:28. Its normal minutes sit at the per-minute ceiling share, so none
        // adds to the excess: the start does not drift back into the normal hour before.
        let mut counts = MinuteCounts::new();
        let today = day0().plus(8).first_minute();
        let surge = today.plus(18 * 60 + 28);
        let mut m = today.plus(-8 * 1440);
        while m < surge.plus(10) {
            let n = if m >= surge {
                8
            } else {
                [2, 2, 2, 1, 0][(m.0 % 5) as usize]
            };
            counts.add(m, n);
            m = m.plus(1);
        }
        let thresholds = day_thresholds(&mut counts, today.day(), 0.5, 3, &[], &BTreeMap::new());
        let trigger = (0..10)
            .find_map(|i| {
                evaluate_trigger(&counts, surge.plus(i), Minute(0), &thresholds, margin(0.5))
            })
            .unwrap();
        assert!(
            (surge.plus(-3)..=surge).contains(&trigger.start),
            "starts {} minutes from the surge",
            trigger.start.minutes_since(surge)
        );
    }

    #[test]
    fn a_stray_call_before_a_rare_burst_is_not_its_start() {
        // One call a week, then one 40 minutes before three in five minutes: 1 call in 40
        // minutes is the API's normal rate next to the burst's, so the start is the burst's.
        let mut counts = MinuteCounts::new();
        let today = day0().plus(8).first_minute();
        counts.add(day0().plus(2).first_minute().plus(600), 1);
        let s = today.plus(20 * 60 + 56);
        counts.add(s.plus(-40), 1);
        for offset in [0, 2, 4] {
            counts.add(s.plus(offset), 1);
        }
        let thresholds = day_thresholds(&mut counts, today.day(), 0.5, 3, &[], &BTreeMap::new());
        let trigger = evaluate_trigger(&counts, s.plus(4), Minute(0), &thresholds, margin(0.5));
        assert_eq!(trigger.unwrap().start, s);
    }

    #[test]
    fn odd_calls_before_a_sustained_increase_on_a_quiet_api_are_not_its_start() {
        // Two calls a day for a week; tonight one at 01:17 and one at 01:30, then about one a
        // minute from 01:48: the two odd calls are the API's normal rate next to the increase.
        let mut counts = MinuteCounts::new();
        let today = day0().plus(8).first_minute();
        for d in 1..=7 {
            counts.add(today.plus(-d * 1440 + 10 * 60), 1);
            counts.add(today.plus(-d * 1440 + 20 * 60), 1);
        }
        counts.add(today.plus(77), 1);
        counts.add(today.plus(90), 1);
        let increase = today.plus(108);
        for i in 0..40 {
            if i % 7 != 3 {
                counts.add(increase.plus(i), 1);
            }
        }
        let thresholds = day_thresholds(&mut counts, today.day(), 0.5, 3, &[], &BTreeMap::new());
        let trigger = (0..40)
            .find_map(|i| {
                evaluate_trigger(
                    &counts,
                    increase.plus(i),
                    Minute(0),
                    &thresholds,
                    margin(0.5),
                )
            })
            .unwrap();
        assert_eq!(trigger.start, increase, "scale {}", trigger.scale_minutes);
    }

    #[test]
    fn the_threshold_is_a_margin_over_the_excursion() {
        // Mean 10 a minute, ceiling 16: unusual above 10 + 2.5 x 6 = 25, not 2.5 x 16 = 40.
        assert_eq!(unusual_above(16, 10.0, 2.5), 25.0);
        assert_eq!(unusual_above(0, 0.0, 2.5), 0.0);
        // A mean above the ceiling (a window longer than the busy part) counts as the ceiling.
        assert_eq!(unusual_above(4, 6.0, 2.5), 4.0);
    }
}

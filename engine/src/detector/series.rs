//! The series state machine: one API's (or API and error code's) counts, minute by minute,
//! and the decisions that start and end its insights.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::types::{BEGINNING, DetectorStats, PartitionKey};
use crate::attribution::{AttrValue, RecentMinutes, ValueCounts};
use crate::config::SeriesSettings;
use crate::event::EventCategory;
use crate::insight::{
    AttributedValue, Attribution, Average, Detection, InsightRecord, InsightState, InsightType,
    RecordParts, SeriesKeyRef,
};
use crate::intern::{Interner, Sym};
use crate::model::{self, BASELINE_DAYS, DayLevels, DayThresholds, Direction, Trigger};
use crate::time::{Day, MINUTES_PER_DAY, Minute};
use crate::window::{MAX_SCALE_MINUTES, MinuteCounts};

/// Minutes of per-minute attribution detail kept behind the frontier: enough for any trigger
/// window (60 minutes) plus the longest an open insight can run on past its last unusual minute
/// (60 more), plus margin.
pub(super) const RECENT_MINUTES: i64 = 3 * MAX_SCALE_MINUTES;

/// One series of a partition: a [`crate::SeriesKey`] without its partition, by symbols of the
/// detector's string table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) struct SeriesSyms {
    pub insight_type: InsightType,
    pub category: EventCategory,
    pub source: Sym,
    pub name: Sym,
    pub error_code: Option<Sym>,
}

/// Everything deciding a series' minutes needs besides the series itself: which partition it is
/// in and that partition's settings, and where its records and counters go.
pub(super) struct DecideContext<'a> {
    pub interner: &'a Interner,
    pub partition: PartitionKey,
    /// The partition's first covered minute, for the cold-start rule.
    pub first_minute: Minute,
    pub end_quiet_minutes: i64,
    pub dedup_horizon_minutes: i64,
    pub stats: &'a mut DetectorStats,
    /// Records decided, in the order they were found (sorted by the caller).
    pub out: &'a mut Vec<InsightRecord>,
}

/// The key of `series` in `partition`, its strings resolved.
pub(super) fn resolve_key(
    interner: &Interner,
    partition: PartitionKey,
    series: SeriesSyms,
) -> SeriesKeyRef<'_> {
    SeriesKeyRef {
        account: partition.account.map(|a| interner.resolve(a)),
        region: interner.resolve(partition.region),
        event_source: interner.resolve(series.source),
        event_name: interner.resolve(series.name),
        insight_type: series.insight_type,
        error_code: series.error_code.map(|c| interner.resolve(c)),
        category: series.category,
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Series {
    settings: SeriesSettings,
    pub(super) counts: MinuteCounts,
    /// Attribution counts of minutes older than `recent`, per day.
    day_values: BTreeMap<Day, ValueCounts>,
    /// Attribution counts of recent minutes, per minute.
    pub(super) recent: RecentMinutes,
    /// Every minute before this one is decided for this series.
    decided_until: Minute,
    /// Detection windows start no earlier than this: the End of the previous insight.
    window_floor: Minute,
    thresholds: Option<(Day, DayThresholds)>,
    pub(super) open: Option<Open>,
    /// The series' insights of the retained days, as half-open minute intervals: the model
    /// leaves them out of the normal ceiling and floor.
    insights: Vec<(Minute, Minute)>,
    /// The levels of days no event can reach any more, kept for [`LEVEL_MEMORY_DAYS`] after the
    /// days' counts are dropped.
    older_levels: BTreeMap<Day, DayLevels>,
}

/// An insight that has started and not yet ended.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Open {
    pub(super) trigger: Trigger,
    last_unusual: Minute,
    baseline: Average,
    baseline_attributions: Vec<Vec<AttributedValue>>,
    /// Attribution counts and events of the insight's minutes that have left `recent`.
    folded: ValueCounts,
    folded_events: u64,
    /// Minutes from the start up to (excluding) this one are in `folded`.
    folded_until: Minute,
}

impl SeriesSyms {
    pub(super) fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
        f(self.source);
        f(self.name);
        self.error_code.into_iter().for_each(f);
    }

    pub(super) fn map_syms(self, f: &impl Fn(Sym) -> Sym) -> SeriesSyms {
        SeriesSyms {
            source: f(self.source),
            name: f(self.name),
            error_code: self.error_code.map(f),
            ..self
        }
    }
}

impl Series {
    pub(super) fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
        let values = self.day_values.values().flat_map(ValueCounts::values);
        let open = self.open.iter().flat_map(|open| open.folded.values());
        values
            .chain(self.recent.values())
            .chain(open)
            .for_each(|v| f(v.sym()));
    }

    pub(super) fn map_syms(&mut self, f: &impl Fn(Sym) -> Sym) {
        self.day_values
            .values_mut()
            .for_each(|values| values.map_syms(f));
        self.recent.map_syms(f);
        if let Some(open) = self.open.as_mut() {
            open.folded.map_syms(f);
        }
    }

    pub(super) fn new(settings: SeriesSettings) -> Series {
        Series {
            settings,
            counts: MinuteCounts::new(),
            day_values: BTreeMap::new(),
            recent: RecentMinutes::default(),
            decided_until: BEGINNING,
            window_floor: BEGINNING,
            thresholds: None,
            open: None,
            insights: Vec::new(),
            older_levels: BTreeMap::new(),
        }
    }

    pub(super) fn add(&mut self, minute: Minute, values: &[AttrValue], recent_from: Minute) {
        self.counts.add(minute, 1);
        if minute >= recent_from {
            self.recent.add(minute, values);
        } else {
            let day = self.day_values.entry(minute.day()).or_default();
            for &value in values {
                day.add(value, 1);
            }
        }
        if self.thresholds.is_some_and(|(day, _)| minute.day() < day) {
            self.thresholds = None;
        }
    }

    pub(super) fn decide(
        &mut self,
        key: SeriesSyms,
        previous_frontier: Minute,
        frontier: Minute,
        ctx: &mut DecideContext<'_>,
    ) {
        // A series that was idle has nothing to decide before the previous frontier: events
        // that arrived since for those minutes are late and must not start anything.
        let mut m = self.decided_until.max(previous_frontier);
        while m < frontier {
            if self.open.is_some() {
                m = self.follow_open(key, m, frontier, ctx);
                continue;
            }
            let next = self.counts.next_nonzero(m, frontier);
            if let Some(t) = self.find_silence(key, m, next.unwrap_or(frontier)) {
                self.start_insight(key, t.0, t.1, ctx);
                m = t.0.plus(1);
                continue;
            }
            match next {
                None => m = frontier,
                Some(t) => {
                    if self.settings.enabled {
                        let thresholds = self.thresholds_for(t.day());
                        let margin = model::margin(self.settings.sensitivity);
                        if let Some(trigger) = model::evaluate_trigger(
                            &self.counts,
                            t,
                            self.window_floor,
                            &thresholds,
                            margin,
                        ) {
                            self.start_insight(key, t, trigger, ctx);
                        }
                    }
                    m = t.plus(1);
                }
            }
        }
        self.decided_until = self.decided_until.max(frontier);
    }

    /// The thresholds of `day`, computed once a day.
    fn thresholds_for(&mut self, day: Day) -> DayThresholds {
        match self.thresholds {
            Some((cached_day, thresholds)) if cached_day == day => thresholds,
            _ => {
                let mut insights = self.insights.clone();
                if let Some(open) = &self.open {
                    insights.push((open.trigger.start, Minute(i64::MAX)));
                }
                let thresholds = model::day_thresholds(
                    &mut self.counts,
                    day,
                    self.settings.sensitivity,
                    self.settings.min_count,
                    &insights,
                    &self.older_levels,
                );
                self.thresholds = Some((day, thresholds));
                thresholds
            }
        }
    }

    /// The first minute in `from..until` (minutes without events) at which a significant
    /// silence starts an insight, with its trigger. Only call-rate series fall silent: an error
    /// code that stops is good news.
    fn find_silence(
        &mut self,
        key: SeriesSyms,
        from: Minute,
        until: Minute,
    ) -> Option<(Minute, Trigger)> {
        if !self.settings.enabled || key.insight_type != InsightType::ApiCallRateInsight {
            return None;
        }
        // No floor before the counts begin: start there, not at the beginning of time.
        let mut t = from.max(self.counts.first_day_minute()?);
        while t < until {
            let day = t.day();
            let thresholds = self.thresholds_for(day);
            let day_end = day.plus(1).first_minute().min(until);
            if !thresholds.silence_possible() {
                t = day_end;
                continue;
            }
            while t < day_end {
                if let Some(trigger) =
                    model::evaluate_silence(&self.counts, t, self.window_floor, &thresholds)
                {
                    return Some((t, trigger));
                }
                t = t.plus(1);
            }
        }
        None
    }

    /// Emits the Start record of an insight that `trigger`, decided at minute `t`, opens.
    fn start_insight(
        &mut self,
        key: SeriesSyms,
        t: Minute,
        trigger: Trigger,
        ctx: &mut DecideContext<'_>,
    ) {
        let start = trigger.start;
        let baseline_from = baseline_start(start);
        if ctx.first_minute > baseline_from {
            ctx.stats.suppressed_cold_start += 1;
            return;
        }
        let baseline = Average {
            events: self.counts.sum(baseline_from, start),
            minutes: start.minutes_since(baseline_from) as u64,
        };
        let mut baseline_values = ValueCounts::default();
        for values in self
            .day_values
            .range(baseline_from.day()..=start.day())
            .map(|(_, v)| v)
        {
            baseline_values.add_all(values);
        }
        self.recent
            .accumulate(baseline_from, start, &mut baseline_values);
        let mut insight_values = ValueCounts::default();
        let events = self
            .recent
            .accumulate(start, t.plus(1), &mut insight_values);
        debug_assert_eq!(events, self.counts.sum(start, t.plus(1)));
        let insight = Average {
            events,
            minutes: t.minutes_since(start) as u64 + 1,
        };
        let attributes = key.insight_type.attributes();
        let baseline_attributions: Vec<Vec<AttributedValue>> = attributes
            .iter()
            .map(|&kind| baseline_values.top(kind, baseline.minutes, ctx.interner))
            .collect();
        let mut record = InsightRecord::build(RecordParts {
            key: resolve_key(ctx.interner, ctx.partition, key),
            start,
            state: InsightState::Start,
            event_time: start,
            baseline,
            insight,
            attributions: attributions(
                key,
                &insight_values,
                insight.minutes,
                &baseline_attributions,
                ctx.interner,
            ),
        });
        record.detection = Some(Detection {
            window_minutes: trigger.scale_minutes,
            normal_ceiling: trigger.normal_ceiling,
            threshold_events: trigger.threshold_events,
        });
        ctx.out.push(record);
        ctx.stats.insights_started += 1;
        self.open = Some(Open {
            last_unusual: trigger.last_unusual,
            trigger,
            baseline,
            baseline_attributions,
            folded: ValueCounts::default(),
            folded_events: 0,
            folded_until: start,
        });
    }

    /// Walks the minutes of an open insight from `from`; returns the first minute not decided.
    fn follow_open(
        &mut self,
        key: SeriesSyms,
        from: Minute,
        frontier: Minute,
        ctx: &mut DecideContext<'_>,
    ) -> Minute {
        let open = self.open.as_mut().expect("called with an open insight");
        let unusual_above = open.trigger.unusual_minute_above();
        let silent = open.trigger.direction == Direction::Silent;
        let mut u = from;
        while u < frontier {
            let count = self.counts.get(u);
            if (silent && count == 0) || (!silent && f64::from(count) > unusual_above) {
                open.last_unusual = u;
            }
            if model::end_reached(
                &self.counts,
                &open.trigger,
                open.last_unusual,
                u,
                ctx.end_quiet_minutes,
            ) {
                let open = self.open.take().expect("still open");
                let (start, end) = (open.trigger.start, open.last_unusual.plus(1));
                let mut values = open.folded;
                let events = open.folded_events
                    + self
                        .recent
                        .accumulate(open.folded_until.max(start), end, &mut values);
                let insight = Average {
                    events,
                    minutes: end.minutes_since(start) as u64,
                };
                let record = InsightRecord::build(RecordParts {
                    key: resolve_key(ctx.interner, ctx.partition, key),
                    start,
                    state: InsightState::End,
                    event_time: end,
                    baseline: open.baseline,
                    insight,
                    attributions: attributions(
                        key,
                        &values,
                        insight.minutes,
                        &open.baseline_attributions,
                        ctx.interner,
                    ),
                });
                ctx.out.push(record);
                ctx.stats.insights_ended += 1;
                self.window_floor = end;
                self.insights.push((start, end));
                return u.plus(1);
            }
            u = u.plus(1);
        }
        frontier
    }

    /// Moves the attribution detail of minutes before `minute` into day totals (and into the
    /// open insight's running totals).
    pub(super) fn fold_recent_before(&mut self, minute: Minute) {
        let old = self.recent.split_off_before(minute);
        if old.is_empty() {
            return;
        }
        for (m, slot) in &old {
            slot.add_values_to(self.day_values.entry(m.day()).or_default());
            if let Some(open) = self.open.as_mut().filter(|open| *m >= open.trigger.start) {
                slot.add_values_to(&mut open.folded);
                open.folded_events += slot.events;
            }
        }
        if let Some(open) = self.open.as_mut() {
            open.folded_until = open.folded_until.max(minute);
        }
    }

    /// Remembers the levels of the days up to `last` that have counts, or follow a day that has
    /// (its windows reach back into it), and are not remembered yet. Called before
    /// [`Series::drop_days_before`], so a day's previous day is still there.
    pub(super) fn remember_levels_through(&mut self, last: Day) {
        let days: Vec<Day> = self
            .counts
            .days()
            .flat_map(|d| [d, d.plus(1)])
            .filter(|&d| d <= last && !self.older_levels.contains_key(&d))
            .collect();
        for day in days {
            let levels = DayLevels::from(self.counts.window_extremes(day, &[]));
            if !levels.is_empty() {
                self.older_levels.insert(day, levels);
            }
        }
    }

    pub(super) fn drop_days_before(&mut self, day: Day, forget_levels_before: Day) {
        self.counts.drop_before(day);
        self.insights.retain(|&(_, end)| end > day.first_minute());
        self.day_values = self.day_values.split_off(&day);
        self.older_levels = self.older_levels.split_off(&forget_levels_before);
    }

    pub(super) fn is_idle(&self) -> bool {
        self.counts.is_empty()
            && self.recent.is_empty()
            && self.open.is_none()
            && self.day_values.is_empty()
            && self.older_levels.is_empty()
    }

    pub(super) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Series>()
            + self.counts.heap_bytes()
            + self.recent.heap_bytes()
            + self
                .day_values
                .values()
                .map(ValueCounts::heap_bytes)
                .sum::<usize>()
            + self
                .open
                .as_ref()
                .map_or(0, |o| o.folded.heap_bytes() + 256)
            + self.older_levels.len() * (std::mem::size_of::<(Day, DayLevels)>() + 16)
    }
}

/// 00:00 UTC of the day seven days before `start`'s day: where its baseline window begins.
pub fn baseline_start(start: Minute) -> Minute {
    start.day().plus(-BASELINE_DAYS).first_minute()
}

/// `baselineDuration` of an insight starting at `start`: 10080 plus `start`'s minute of day.
pub fn baseline_minutes(start: Minute) -> i64 {
    BASELINE_DAYS * MINUTES_PER_DAY + start.minute_of_day()
}

/// The `attributions` of a record: the top values of each attribute of `key`'s type in the
/// insight window, beside the baseline's, which were fixed when the insight started.
fn attributions(
    key: SeriesSyms,
    insight_values: &ValueCounts,
    insight_minutes: u64,
    baseline_attributions: &[Vec<AttributedValue>],
    interner: &Interner,
) -> Vec<Attribution> {
    key.insight_type
        .attributes()
        .iter()
        .zip(baseline_attributions)
        .map(|(&attribute, baseline)| Attribution {
            attribute,
            insight: insight_values.top(attribute, insight_minutes, interner),
            baseline: baseline.clone(),
        })
        .collect()
}

//! Partitions: one (account, region)'s clock (frontier), dedup and daily sweep.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::series::{DecideContext, RECENT_MINUTES, Series, SeriesSyms, resolve_key};
use super::types::{BEGINNING, PartitionKey};
use crate::attribution::AttrValue;
use crate::config::DetectorConfig;
use crate::dedup::{Dedup, SEAL_LAG_MINUTES};
use crate::ingest::CORROBORATING_EVENTS;
use crate::intern::{Interner, Sym};
use crate::model::{BASELINE_DAYS, LEVEL_MEMORY_DAYS};
use crate::snapshot::{sorted_map, sorted_set};
use crate::time::{Day, MINUTES_PER_WEEK, Minute};

/// Days of per-minute counts kept behind the frontier's day: seven baseline days before the
/// start day, plus the start window and the weekly comparison reaching one more day back.
const RETAINED_DAYS: i64 = BASELINE_DAYS + 2;

/// What creating a series needs: its settings come from the configuration and overrides.
pub(super) struct NewSeries<'a> {
    pub config: &'a DetectorConfig,
    pub interner: &'a Interner,
    pub partition: PartitionKey,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Partition {
    /// The first minute covered by the partition's events, for the cold-start rule.
    pub first_minute: Minute,
    /// The partition's clock: the newest event minute that is corroborated (see
    /// [`Partition::observe_minutes`]); `Minute(i64::MIN)` before the clock starts.
    pub max_minute: Minute,
    /// Every minute before this one is decided.
    pub frontier: Minute,
    #[serde(with = "sorted_map")]
    pub series: FxHashMap<SeriesSyms, Series>,
    /// Series with recent minutes or an open insight: the ones an advance must visit.
    #[serde(with = "sorted_set")]
    pub active: FxHashSet<SeriesSyms>,
    pub dedup: Dedup,
    swept_day: Day,
    /// Event minutes more than the dedup horizon ahead of the clock (or any, before the clock
    /// starts), not yet corroborated, oldest first; at most [`MAX_HELD_MINUTES`].
    pub held: Vec<Minute>,
    /// The longest a delivered document of this partition was delivered after its oldest
    /// event, in minutes, at most the dedup horizon: the lateness the trail has shown.
    pub delivery_lag_minutes: i64,
}

/// Far-ahead minutes held per partition; past it the oldest is forgotten (it still counted).
const MAX_HELD_MINUTES: usize = 1024;

/// No clock yet: far enough before [`BEGINNING`] that no frontier computed from it (minus
/// any lateness) moves, and that arithmetic on it cannot overflow.
pub(super) const NO_CLOCK: Minute = Minute(-(1 << 60));

impl Partition {
    pub(super) fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
        for (key, series) in &self.series {
            key.for_each_sym(f);
            series.for_each_sym(f);
        }
    }

    pub(super) fn map_syms(&mut self, f: &impl Fn(Sym) -> Sym) {
        self.series = self
            .series
            .drain()
            .map(|(key, mut series)| {
                series.map_syms(f);
                (key.map_syms(f), series)
            })
            .collect();
        self.active = self.active.drain().map(|key| key.map_syms(f)).collect();
    }

    pub(super) fn new() -> Partition {
        Partition {
            first_minute: Minute(i64::MAX),
            max_minute: NO_CLOCK,
            frontier: BEGINNING,
            series: FxHashMap::default(),
            active: FxHashSet::default(),
            dedup: Dedup::new(BEGINNING),
            swept_day: BEGINNING.day(),
            held: Vec::new(),
            delivery_lag_minutes: 0,
        }
    }

    pub(super) fn add(
        &mut self,
        key: SeriesSyms,
        minute: Minute,
        values: &[AttrValue],
        recent_from: Minute,
        new: &NewSeries<'_>,
    ) {
        let series = self.series.entry(key).or_insert_with(|| {
            let id = resolve_key(new.interner, new.partition, key);
            Series::new(new.config.settings_for(&id))
        });
        series.add(minute, values, recent_from);
        if minute >= recent_from {
            self.active.insert(key);
        }
    }

    /// Moves the clock with the minutes of new events, oldest first; returns how many were
    /// held as far ahead of a running clock.
    ///
    /// The clock is the newest event minute that is corroborated: a minute at most
    /// `ahead_minutes` (the dedup horizon) past the clock is, since believing it makes no
    /// counted event too late; a minute further ahead is held until
    /// [`CORROBORATING_EVENTS`] held minutes lie within `ahead_minutes` of each other, and the
    /// clock then moves to the newest of them. Before the clock starts, every minute is held
    /// the same way. So one mis-dated record (a 2025 event among 2023 files) never moves the
    /// clock; a trail that resumes after a pause does, as soon as a few of its events agree.
    pub(super) fn observe_minutes(&mut self, minutes: &[Minute], ahead_minutes: i64) -> u64 {
        let mut held = 0;
        for &minute in minutes {
            if minute <= self.max_minute {
                continue;
            }
            if self.max_minute != NO_CLOCK && minute <= self.max_minute.plus(ahead_minutes) {
                self.max_minute = minute;
                continue;
            }
            held += u64::from(self.max_minute != NO_CLOCK);
            let at = self.held.partition_point(|&m| m <= minute);
            self.held.insert(at, minute);
            if self.held.len() > MAX_HELD_MINUTES {
                self.held.remove(0);
            }
        }
        self.corroborate(ahead_minutes);
        held
    }

    /// Applies the clock rule of [`Partition::observe_minutes`] to the held minutes.
    fn corroborate(&mut self, ahead_minutes: i64) {
        loop {
            // Held minutes the clock now reaches join it.
            if self.max_minute != NO_CLOCK {
                let limit = self.max_minute.plus(ahead_minutes);
                let reached = self.held.partition_point(|&m| m <= limit);
                if reached > 0 {
                    self.max_minute = self.max_minute.max(self.held[reached - 1]);
                    self.held.drain(..reached);
                    continue;
                }
            }
            let k = CORROBORATING_EVENTS;
            let agreeing = (0..(self.held.len() + 1).saturating_sub(k))
                .find(|&i| self.held[i + k - 1].minutes_since(self.held[i]) <= ahead_minutes);
            let Some(i) = agreeing else {
                return;
            };
            self.max_minute = self.held[i + k - 1];
            self.held.drain(..i + k);
        }
    }

    /// At the end of the input, when no later event can corroborate anything: a clock that
    /// never started (fewer than [`CORROBORATING_EVENTS`] events in all) starts at the oldest
    /// held minute, and held minutes within a week (the baseline) of the clock join it, one
    /// after the other, as the last days of a trail that paused would. Returns the minutes still
    /// held: more than a week past everything else, they are counted but never decided.
    pub(super) fn settle_clock(&mut self, ahead_minutes: i64) -> usize {
        if self.max_minute == NO_CLOCK && !self.held.is_empty() {
            self.max_minute = self.held.remove(0);
        }
        self.corroborate(ahead_minutes.max(MINUTES_PER_WEEK));
        self.held.len()
    }

    /// Remembers that a document of this partition arrived `lag` minutes after its oldest
    /// event, up to `horizon_minutes` (an event older than the horizon is too late anyway).
    pub(super) fn observe_delivery_lag(&mut self, lag: i64, horizon_minutes: i64) {
        self.delivery_lag_minutes = self.delivery_lag_minutes.max(lag.min(horizon_minutes));
    }

    /// How far behind the clock the frontier stays: the allowed lateness, or the delivery lag
    /// the trail has shown when that is longer, so that a silence is not declared while the
    /// trail's deliveries say its events may still come.
    pub(super) fn lateness_minutes(&self, allowed_lateness_minutes: i64) -> i64 {
        allowed_lateness_minutes.max(self.delivery_lag_minutes)
    }

    pub(super) fn advance_to(&mut self, frontier: Minute, ctx: &mut DecideContext<'_>) {
        let previous = self.frontier;
        let recent_from = frontier.plus(-RECENT_MINUTES);
        let mut keys: Vec<SeriesSyms> = self.active.iter().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let series = self.series.get_mut(&key).expect("active series exist");
            series.decide(key, previous, frontier, ctx);
            series.fold_recent_before(recent_from);
            if series.recent.is_empty() && series.open.is_none() {
                self.active.remove(&key);
            }
        }
        self.frontier = frontier;
        self.dedup
            .expire_before(frontier.plus(-ctx.dedup_horizon_minutes));
        self.dedup.seal_before(frontier.plus(-SEAL_LAG_MINUTES));
        if frontier.day() > self.swept_day {
            self.swept_day = frontier.day();
            let keep_from = frontier.day().plus(-RETAINED_DAYS);
            // No event reaches these days any more: the dedup horizon is at most seven days.
            let final_through = frontier.day().plus(-(BASELINE_DAYS + 1));
            let forget_levels_before = frontier.day().plus(-LEVEL_MEMORY_DAYS);
            self.series.retain(|_, series| {
                series.remember_levels_through(final_through);
                series.drop_days_before(keep_from, forget_levels_before);
                !series.is_idle()
            });
        }
    }
}

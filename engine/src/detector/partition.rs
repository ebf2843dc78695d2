//! Partitions: one (account, region)'s clock (frontier), dedup and daily sweep.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::BEGINNING;
use super::series::{DecideContext, RECENT_MINUTES, Series, SeriesSyms, resolve_key};
use crate::attribution::AttrValue;
use crate::config::DetectorConfig;
use crate::dedup::{Dedup, SEAL_LAG_MINUTES};
use crate::intern::{Interner, Sym};
use crate::model::{BASELINE_DAYS, LEVEL_MEMORY_DAYS};
use crate::snapshot::{sorted_map, sorted_set};
use crate::time::{Day, Minute};

/// Days of per-minute counts kept behind the frontier's day: seven baseline days before the
/// start day, plus the start window and the weekly comparison reaching one more day back.
const RETAINED_DAYS: i64 = BASELINE_DAYS + 2;

impl PartitionKey {
    pub(super) fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
        self.account.into_iter().for_each(&mut *f);
        f(self.region);
    }

    pub(super) fn map_syms(self, f: &impl Fn(Sym) -> Sym) -> PartitionKey {
        PartitionKey {
            account: self.account.map(f),
            region: f(self.region),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) struct PartitionKey {
    pub account: Option<Sym>,
    pub region: Sym,
}

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
    /// The newest event minute.
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
}

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
            max_minute: Minute(i64::MIN),
            frontier: BEGINNING,
            series: FxHashMap::default(),
            active: FxHashSet::default(),
            dedup: Dedup::new(BEGINNING),
            swept_day: BEGINNING.day(),
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

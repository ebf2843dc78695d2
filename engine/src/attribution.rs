//! Attribution counts: how many events each attribute value (identity, user agent, error code)
//! contributed, per minute for recent minutes and per day for older ones.
//!
//! Recent minutes keep per-minute detail because insight windows start within the last hour and
//! baselines end exactly at an insight's first minute; once a minute is older than any window
//! still to be decided, its values are folded into its day's totals, which is all a baseline
//! needs. Memory therefore follows the number of distinct values per day, not the number of
//! events.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::insight::{AttributeKind, AttributedValue, Average};
use crate::intern::{Interner, Sym};
use crate::time::Minute;

/// How many values an attribution lists, per window.
pub const TOP_VALUES: usize = 5;

/// An attribute and one of its values, packed in 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AttrValue(u64);

impl AttrValue {
    /// Packs `kind` and `value`.
    pub fn new(kind: AttributeKind, value: Sym) -> AttrValue {
        AttrValue((kind.index() as u64) << 32 | u64::from(value.index()))
    }

    /// The value's symbol.
    pub(crate) fn sym(self) -> Sym {
        Sym::from_index(self.sym_index())
    }

    /// The same attribute with another symbol.
    pub(crate) fn with_sym(self, sym: Sym) -> AttrValue {
        AttrValue(self.0 & !u64::from(u32::MAX) | u64::from(sym.index()))
    }

    fn kind_index(self) -> usize {
        (self.0 >> 32) as usize
    }

    fn sym_index(self) -> u32 {
        self.0 as u32
    }
}

/// Event counts per attribute value.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ValueCounts {
    #[serde(with = "crate::snapshot::sorted_map")]
    counts: FxHashMap<AttrValue, u64>,
}

impl ValueCounts {
    /// Adds `n` events of `value`.
    pub fn add(&mut self, value: AttrValue, n: u64) {
        *self.counts.entry(value).or_insert(0) += n;
    }

    /// Adds every count of `other`.
    pub fn add_all(&mut self, other: &ValueCounts) {
        for (&value, &n) in &other.counts {
            self.add(value, n);
        }
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The values counted.
    pub(crate) fn values(&self) -> impl Iterator<Item = AttrValue> + '_ {
        self.counts.keys().copied()
    }

    /// The same counts with every value's symbol mapped by `f`.
    pub(crate) fn map_syms(&mut self, f: &impl Fn(Sym) -> Sym) {
        self.counts = self
            .counts
            .drain()
            .map(|(v, n)| (v.with_sym(f(v.sym())), n))
            .collect();
    }

    /// The [`TOP_VALUES`] values of `kind` with the highest counts, as averages over `minutes`:
    /// by count descending, ties by value ascending (byte order).
    pub fn top(
        &self,
        kind: AttributeKind,
        minutes: u64,
        interner: &Interner,
    ) -> Vec<AttributedValue> {
        let mut ranked: Vec<(u64, &str)> = self
            .counts
            .iter()
            .filter(|&(value, &n)| value.kind_index() == kind.index() && n > 0)
            .map(|(value, &n)| (n, interner.resolve(Sym::from_index(value.sym_index()))))
            .collect();
        ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        ranked
            .into_iter()
            .take(TOP_VALUES)
            .map(|(events, value)| AttributedValue {
                value: value.to_owned(),
                average: Average { events, minutes },
            })
            .collect()
    }

    /// Approximate heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.counts.capacity() * (std::mem::size_of::<(AttrValue, u64)>() + 1)
    }
}

/// The events of one minute: how many, and per attribute value.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MinuteSlot {
    /// Events in the minute.
    pub events: u64,
    values: Vec<(AttrValue, u32)>,
}

impl MinuteSlot {
    fn add(&mut self, values: &[AttrValue]) {
        self.events += 1;
        for &value in values {
            match self.values.iter_mut().find(|(v, _)| *v == value) {
                Some((_, n)) => *n += 1,
                None => self.values.push((value, 1)),
            }
        }
    }

    /// Adds this minute's value counts to `into`.
    pub fn add_values_to(&self, into: &mut ValueCounts) {
        for &(value, n) in &self.values {
            into.add(value, u64::from(n));
        }
    }
}

/// Per-minute attribution detail of the recent minutes of one series.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RecentMinutes {
    slots: BTreeMap<Minute, MinuteSlot>,
}

impl RecentMinutes {
    /// Counts one event at `minute` with its attribute `values`.
    pub fn add(&mut self, minute: Minute, values: &[AttrValue]) {
        self.slots.entry(minute).or_default().add(values);
    }

    /// Adds the value counts of minutes in `from..to` to `into` and returns their event count.
    pub fn accumulate(&self, from: Minute, to: Minute, into: &mut ValueCounts) -> u64 {
        if from >= to {
            return 0;
        }
        self.slots
            .range(from..to)
            .map(|(_, slot)| {
                slot.add_values_to(into);
                slot.events
            })
            .sum()
    }

    /// Removes and returns the minutes before `minute`, oldest first.
    pub fn split_off_before(&mut self, minute: Minute) -> BTreeMap<Minute, MinuteSlot> {
        let newer = self.slots.split_off(&minute);
        std::mem::replace(&mut self.slots, newer)
    }

    /// Whether no minute is held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Every value held.
    pub(crate) fn values(&self) -> impl Iterator<Item = AttrValue> + '_ {
        self.slots
            .values()
            .flat_map(|slot| slot.values.iter().map(|&(v, _)| v))
    }

    /// The same detail with every value's symbol mapped by `f`.
    pub(crate) fn map_syms(&mut self, f: &impl Fn(Sym) -> Sym) {
        for slot in self.slots.values_mut() {
            for (value, _) in &mut slot.values {
                *value = value.with_sym(f(value.sym()));
            }
        }
    }

    /// Approximate heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.slots
            .values()
            .map(|s| 48 + s.values.capacity() * std::mem::size_of::<(AttrValue, u32)>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_ranks_by_count_then_value_and_keeps_five() {
        let mut table = Interner::new();
        let mut counts = ValueCounts::default();
        for (name, n) in [
            ("f", 1),
            ("b", 3),
            ("a", 3),
            ("c", 2),
            ("d", 2),
            ("e", 2),
            ("g", 9),
        ] {
            let sym = table.intern(name);
            counts.add(AttrValue::new(AttributeKind::UserAgent, sym), n);
        }
        let other = table.intern("z");
        counts.add(AttrValue::new(AttributeKind::ErrorCode, other), 100);
        let top = counts.top(AttributeKind::UserAgent, 2, &table);
        let names: Vec<_> = top.iter().map(|v| v.value.as_str()).collect();
        assert_eq!(names, ["g", "a", "b", "c", "d"]);
        assert_eq!(
            top[0].average,
            Average {
                events: 9,
                minutes: 2
            }
        );
        assert!(
            counts
                .top(AttributeKind::UserIdentityArn, 2, &table)
                .is_empty()
        );
    }

    #[test]
    fn recent_minutes_accumulate_and_split() {
        let mut table = Interner::new();
        let a = AttrValue::new(AttributeKind::UserAgent, table.intern("a"));
        let mut recent = RecentMinutes::default();
        recent.add(Minute(10), &[a]);
        recent.add(Minute(10), &[a]);
        recent.add(Minute(12), &[a]);
        let mut into = ValueCounts::default();
        assert_eq!(recent.accumulate(Minute(10), Minute(12), &mut into), 2);
        assert_eq!(
            into.top(AttributeKind::UserAgent, 1, &table)[0]
                .average
                .events,
            2
        );
        let old = recent.split_off_before(Minute(11));
        assert_eq!(old.len(), 1);
        assert_eq!(
            recent.accumulate(Minute(0), Minute(100), &mut ValueCounts::default()),
            1
        );
    }
}

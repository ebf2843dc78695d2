//! The event IDs an account-region has counted, so a duplicate record is not counted twice.
//!
//! A duplicate is the same event delivered again, so it has the same `eventTime`: IDs are kept
//! per minute and a lookup only searches its own minute. Each minute starts as a hash set; once
//! the frontier is [`SEAL_LAG_MINUTES`] past it, few IDs still arrive for it, and it is sealed
//! into a sorted slice of 16 bytes an ID, searched by bisection. A late ID for a sealed minute goes
//! into the minute's hash set again until the next seal. This keeps a day of IDs (the default
//! horizon) at about a third of what one hash set and an expiry list of every ID took, which
//! matters because these IDs are the only state that grows with the number of records rather
//! than with the number of keys.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use crate::event::EventIdKey;
use crate::time::Minute;

/// How far behind the frontier a minute must be before its IDs are sealed.
pub(crate) const SEAL_LAG_MINUTES: i64 = 15;

/// The IDs of one minute: a sorted slice and the IDs since it was last sealed. Disjoint.
#[derive(Clone, Debug, Default)]
struct MinuteIds {
    sealed: Box<[EventIdKey]>,
    fresh: FxHashSet<EventIdKey>,
}

impl MinuteIds {
    fn len(&self) -> usize {
        self.sealed.len() + self.fresh.len()
    }

    fn seal(&mut self) {
        if self.fresh.is_empty() {
            return;
        }
        let mut fresh: Vec<EventIdKey> = std::mem::take(&mut self.fresh).into_iter().collect();
        fresh.sort_unstable();
        let mut merged = Vec::with_capacity(self.sealed.len() + fresh.len());
        let (mut a, mut b) = (self.sealed.iter().peekable(), fresh.into_iter().peekable());
        while let (Some(&&x), Some(&y)) = (a.peek(), b.peek()) {
            if x < y {
                merged.push(x);
                a.next();
            } else {
                merged.push(y);
                b.next();
            }
        }
        merged.extend(a.copied());
        merged.extend(b);
        self.sealed = merged.into_boxed_slice();
    }

    /// Every ID, sorted.
    fn sorted(&self) -> Vec<EventIdKey> {
        let mut copy = self.clone();
        copy.seal();
        copy.sealed.into_vec()
    }
}

/// Event IDs seen, by minute, so they can be forgotten once their minute is behind the horizon.
/// Written as sorted IDs by minute, whatever was sealed, so a snapshot does not depend on when
/// seals happened.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "DedupByMinute", into = "DedupByMinute")]
pub(crate) struct Dedup {
    minutes: BTreeMap<Minute, MinuteIds>,
    /// Minutes whose `fresh` set is not empty.
    unsealed: BTreeSet<Minute>,
    len: usize,
    /// Minutes before this one were forgotten early, at capacity: their events are too late.
    pub(crate) floor: Minute,
}

impl Dedup {
    /// An empty set whose floor is `floor`.
    pub(crate) fn new(floor: Minute) -> Dedup {
        Dedup {
            minutes: BTreeMap::new(),
            unsealed: BTreeSet::new(),
            len: 0,
            floor,
        }
    }

    /// Whether `id` is new, remembering it; and how many IDs were forgotten to stay within
    /// `max_ids`: the oldest minutes go first, down to nine tenths of the maximum, and `floor`
    /// rises past them.
    pub(crate) fn insert(&mut self, id: EventIdKey, minute: Minute, max_ids: usize) -> (bool, u64) {
        let ids = self.minutes.entry(minute).or_default();
        if ids.sealed.binary_search(&id).is_ok() || !ids.fresh.insert(id) {
            return (false, 0);
        }
        if ids.fresh.len() == 1 {
            self.unsealed.insert(minute);
        }
        self.len += 1;
        let mut forgotten = 0;
        if self.len > max_ids {
            while self.len > max_ids / 10 * 9 {
                let Some((oldest, ids)) = self.minutes.pop_first() else {
                    break;
                };
                self.unsealed.remove(&oldest);
                self.len -= ids.len();
                forgotten += ids.len() as u64;
                self.floor = oldest.plus(1);
            }
        }
        (true, forgotten)
    }

    /// Forgets the IDs of minutes before `minute`.
    pub(crate) fn expire_before(&mut self, minute: Minute) {
        let kept = self.minutes.split_off(&minute);
        for ids in std::mem::replace(&mut self.minutes, kept).into_values() {
            self.len -= ids.len();
        }
        self.unsealed = self.unsealed.split_off(&minute);
    }

    /// Seals the minutes before `minute` that have fresh IDs.
    pub(crate) fn seal_before(&mut self, minute: Minute) {
        let still_fresh = self.unsealed.split_off(&minute);
        for m in std::mem::replace(&mut self.unsealed, still_fresh) {
            if let Some(ids) = self.minutes.get_mut(&m) {
                ids.seal();
            }
        }
    }

    /// IDs remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// An estimate of the heap this uses.
    pub(crate) fn heap_bytes(&self) -> usize {
        let per_minute = std::mem::size_of::<(Minute, MinuteIds)>() + 16;
        self.minutes.len() * per_minute
            + self
                .minutes
                .values()
                .map(|ids| ids.sealed.len() * 16 + ids.fresh.capacity() * 17)
                .sum::<usize>()
            + self.unsealed.len() * 16
    }
}

#[derive(Serialize, Deserialize)]
struct DedupByMinute(Minute, BTreeMap<Minute, Vec<EventIdKey>>);

impl From<DedupByMinute> for Dedup {
    fn from(DedupByMinute(floor, by_minute): DedupByMinute) -> Dedup {
        let mut dedup = Dedup::new(floor);
        for (minute, mut ids) in by_minute {
            ids.sort_unstable();
            ids.dedup();
            dedup.len += ids.len();
            dedup.minutes.insert(
                minute,
                MinuteIds {
                    sealed: ids.into_boxed_slice(),
                    fresh: FxHashSet::default(),
                },
            );
        }
        dedup
    }
}

impl From<Dedup> for DedupByMinute {
    fn from(dedup: Dedup) -> DedupByMinute {
        let by_minute = dedup
            .minutes
            .iter()
            .map(|(&minute, ids)| (minute, ids.sorted()))
            .collect();
        DedupByMinute(dedup.floor, by_minute)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    /// One step against both the set and the naive model.
    #[derive(Clone, Debug)]
    enum Step {
        Insert { id: u8, minute: i64 },
        Seal(i64),
        Expire(i64),
        RoundTrip,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (0u8..40, 0i64..30).prop_map(|(id, minute)| Step::Insert { id, minute }),
            2 => (0i64..32).prop_map(Step::Seal),
            1 => (0i64..32).prop_map(Step::Expire),
            1 => Just(Step::RoundTrip),
        ]
    }

    proptest! {
        /// The per-minute sealed set answers as a plain map of every ID to its minute would,
        /// with expiry and the capacity limit, through seals and snapshot round trips.
        #[test]
        fn agrees_with_a_plain_map(steps in prop::collection::vec(step(), 1..300), max_ids in 5usize..60) {
            let mut dedup = Dedup::new(Minute(-1_000));
            let mut naive: HashMap<u128, i64> = HashMap::new();
            let mut naive_floor = -1_000i64;
            for step in steps {
                match step {
                    Step::Insert { id, minute } => {
                        // Equal IDs in different minutes are different events to both.
                        let key = u128::from(id) << 64 | minute as u128;
                        let (new, forgotten) = dedup.insert(EventIdKey(key), Minute(minute), max_ids);
                        let naive_new = !naive.contains_key(&key);
                        prop_assert_eq!(new, naive_new);
                        let mut naive_forgotten = 0;
                        if naive_new {
                            naive.insert(key, minute);
                            if naive.len() > max_ids {
                                while naive.len() > max_ids / 10 * 9 {
                                    let oldest = *naive.values().min().unwrap();
                                    let before = naive.len();
                                    naive.retain(|_, m| *m != oldest);
                                    naive_forgotten += (before - naive.len()) as u64;
                                    naive_floor = oldest + 1;
                                }
                            }
                        }
                        prop_assert_eq!(forgotten, naive_forgotten);
                    }
                    Step::Seal(m) => dedup.seal_before(Minute(m)),
                    Step::Expire(m) => {
                        dedup.expire_before(Minute(m));
                        naive.retain(|_, minute| *minute >= m);
                    }
                    Step::RoundTrip => {
                        let json = serde_json::to_string(&dedup).unwrap();
                        dedup = serde_json::from_str(&json).unwrap();
                    }
                }
                prop_assert_eq!(dedup.len(), naive.len());
                prop_assert_eq!(dedup.floor, Minute(naive_floor));
            }
        }
    }

    #[test]
    fn a_late_id_for_a_sealed_minute_is_still_a_duplicate_after_the_next_seal() {
        let mut dedup = Dedup::new(Minute(0));
        assert_eq!(dedup.insert(EventIdKey(7), Minute(3), 100), (true, 0));
        dedup.seal_before(Minute(10));
        assert_eq!(dedup.insert(EventIdKey(7), Minute(3), 100), (false, 0));
        assert_eq!(dedup.insert(EventIdKey(5), Minute(3), 100), (true, 0));
        dedup.seal_before(Minute(10));
        assert_eq!(dedup.insert(EventIdKey(5), Minute(3), 100), (false, 0));
        assert_eq!(dedup.insert(EventIdKey(9), Minute(3), 100), (true, 0));
        assert_eq!(dedup.len(), 3);
    }

    #[test]
    fn snapshots_do_not_depend_on_when_minutes_were_sealed() {
        let mut early = Dedup::new(Minute(0));
        let mut never = Dedup::new(Minute(0));
        for (i, id) in [9u128, 2, 7, 4].into_iter().enumerate() {
            early.insert(EventIdKey(id), Minute(1), 100);
            never.insert(EventIdKey(id), Minute(1), 100);
            if i == 1 {
                early.seal_before(Minute(5));
            }
        }
        assert_eq!(
            serde_json::to_string(&early).unwrap(),
            serde_json::to_string(&never).unwrap()
        );
    }
}

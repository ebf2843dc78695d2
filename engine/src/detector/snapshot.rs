//! Snapshot and restore glue: the detector's state, field for field.

use serde::{Deserialize, Serialize};

use super::driver::Detector;
use super::partition::Partition;
use super::types::{BEGINNING, DetectorStats, OTHER_VALUE, PartitionKey};
use crate::config::DetectorConfig;
use crate::event::NULL_VALUE;
use crate::ingest::IngestOptions;
use crate::intern::{Interner, Sym};
use crate::snapshot::{self, SnapshotError};
use crate::time::{Day, Timestamp};

/// The state [`Detector::snapshot`] writes; [`SnapshotOwned`] reads it, field for field.
#[derive(Serialize)]
struct SnapshotRef<'a> {
    config: &'a DetectorConfig,
    reject_after: Option<Timestamp>,
    interner: &'a Interner,
    null_value: Sym,
    partitions: Vec<(&'a PartitionKey, &'a Partition)>,
    stats: &'a DetectorStats,
    compacted_day: Day,
    other_value: Sym,
}

#[derive(Deserialize)]
struct SnapshotOwned {
    config: DetectorConfig,
    reject_after: Option<Timestamp>,
    interner: Interner,
    null_value: Sym,
    partitions: Vec<(PartitionKey, Partition)>,
    stats: DetectorStats,
    compacted_day: Day,
    other_value: Sym,
}

impl Detector {
    /// The whole state as bytes; see [`crate::snapshot`]. [`Detector::restore`] of these bytes
    /// gives a detector that behaves exactly as this one: a run split at any point by a snapshot
    /// and a restore emits the same records as one run.
    ///
    /// ```
    /// # use trailsight_engine::{Detector, DetectorConfig};
    /// let detector = Detector::new(DetectorConfig::default())?;
    /// let bytes = detector.snapshot();
    /// let restored = Detector::restore(&bytes).expect("a snapshot of this version");
    /// assert_eq!(restored.snapshot(), bytes);
    /// # Ok::<(), trailsight_engine::ConfigError>(())
    /// ```
    pub fn snapshot(&self) -> Vec<u8> {
        let mut partitions: Vec<(&PartitionKey, &Partition)> = self.partitions.iter().collect();
        partitions.sort_unstable_by_key(|(key, _)| **key);
        snapshot::encode(&SnapshotRef {
            config: &self.config,
            reject_after: self.config.reject_after,
            interner: &self.interner,
            null_value: self.null_value,
            partitions,
            stats: &self.stats,
            compacted_day: self.compacted_day,
            other_value: self.other_value,
        })
    }

    /// A detector from [`Detector::snapshot`] bytes, with the configuration it was made with.
    /// Bytes of another version, corrupt bytes, or a state that breaks the detector's invariants
    /// are refused with a [`SnapshotError`], never a panic.
    ///
    /// ```
    /// # use trailsight_engine::{Detector, snapshot::SnapshotError};
    /// assert_eq!(Detector::restore(b"not a snapshot").err(), Some(SnapshotError::NotASnapshot));
    /// ```
    pub fn restore(bytes: &[u8]) -> Result<Detector, SnapshotError> {
        let state: SnapshotOwned = snapshot::decode(bytes)?;
        let mut config = state.config;
        config.reject_after = state.reject_after;
        config
            .validate()
            .map_err(|e| SnapshotError::Invalid(e.to_string()))?;
        let detector = Detector {
            options: IngestOptions::new(&config),
            config,
            interner: state.interner,
            null_value: state.null_value,
            partitions: state.partitions.into_iter().collect(),
            stats: state.stats,
            compacted_day: state.compacted_day,
            other_value: state.other_value,
            strings_full: false,
            full_checked_day: BEGINNING.day(),
        };
        detector
            .check_invariants()
            .map_err(SnapshotError::Invalid)?;
        Ok(detector)
    }

    /// What a restored state must hold so that nothing can panic later.
    fn check_invariants(&self) -> Result<(), String> {
        let mut foreign = None;
        let interner = &self.interner;
        let mut check = |sym: Sym| {
            if !interner.holds(sym) {
                foreign = Some(sym);
            }
        };
        check(self.null_value);
        check(self.other_value);
        self.for_each_sym(&mut check);
        if let Some(sym) = foreign {
            return Err(format!("symbol {} is not in the string table", sym.index()));
        }
        if self.interner.resolve(self.null_value) != NULL_VALUE
            || self.interner.resolve(self.other_value) != OTHER_VALUE
        {
            return Err("the null or other value is not what it must be".into());
        }
        for partition in self.partitions.values() {
            if partition
                .active
                .iter()
                .any(|key| !partition.series.contains_key(key))
            {
                return Err("an active series that does not exist".into());
            }
            for series in partition.series.values() {
                series.counts.validate()?;
            }
        }
        Ok(())
    }
}

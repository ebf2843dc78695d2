//! The detector itself: its state, and the calls that create it, advance it and say what it
//! holds. Observing events is in `intake`, snapshots in `snapshot`.

use rustc_hash::FxHashMap;

use super::partition::{self, Partition};
use super::series::{DecideContext, resolve_key};
use super::types::{BEGINNING, DetectorStats, OTHER_VALUE, OpenInsight, PartitionKey, StateSize};
use crate::config::{ConfigError, DetectorConfig};
use crate::event::NULL_VALUE;
use crate::ingest::IngestOptions;
use crate::insight::InsightRecord;
use crate::intern::{Interner, Sym};
use crate::time::{Day, Minute};

/// The CloudTrail Insights detector.
///
/// ```
/// use trailsight_engine::{Detector, DetectorConfig};
/// let mut detector = Detector::new(DetectorConfig::default())?;
/// let mut records = Vec::new();
/// // detector.observe(&event) for each event, detector.advance(&mut records) now and then…
/// let open = detector.finish(&mut records);
/// assert!(records.is_empty() && open.is_empty());
/// # Ok::<(), trailsight_engine::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Detector {
    pub(super) config: DetectorConfig,
    pub(super) options: IngestOptions,
    pub(super) interner: Interner,
    pub(super) null_value: Sym,
    pub(super) partitions: FxHashMap<PartitionKey, Partition>,
    pub(super) stats: DetectorStats,
    /// The last day the string table was checked for compaction.
    pub(super) compacted_day: Day,
    /// The value new identities and user agents are counted as when the string table is full.
    pub(super) other_value: Sym,
    /// The string table filled up since the last compaction: compact at the next advance.
    pub(super) strings_full: bool,
    /// The last day a full table was checked for compaction.
    pub(super) full_checked_day: Day,
}

impl Detector {
    /// A detector with a validated configuration.
    ///
    /// The configuration is [`DetectorConfig::normalised`] first.
    pub fn new(config: DetectorConfig) -> Result<Detector, ConfigError> {
        let config = config.normalised();
        config.validate()?;
        let mut interner = Interner::new();
        let null_value = interner.intern(NULL_VALUE);
        let other_value = interner.intern(OTHER_VALUE);
        Ok(Detector {
            options: IngestOptions::new(&config),
            config,
            interner,
            null_value,
            partitions: FxHashMap::default(),
            stats: DetectorStats::default(),
            compacted_day: BEGINNING.day(),
            other_value,
            strings_full: false,
            full_checked_day: BEGINNING.day(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// The options parse workers need to build [`EventBatch`](crate::EventBatch)es for this
    /// detector.
    pub fn ingest_options(&self) -> &IngestOptions {
        &self.options
    }

    /// Counters so far.
    pub fn stats(&self) -> &DetectorStats {
        &self.stats
    }

    /// Decides every minute that is now more than the allowed lateness (or the delivery lag its
    /// documents have shown, when longer) behind the clock of its partition, and hands the records that became known to `sink`, in output order
    /// ([`InsightRecord::output_order`]): a Start as soon as its trigger minute is decided, an
    /// End when the insight closes.
    ///
    /// `sink` is any `Extend<InsightRecord>`: a `Vec`, or a callback wrapped by
    /// [`sink`](super::sink).
    ///
    /// ```
    /// # use trailsight_engine::{Detector, DetectorConfig};
    /// let mut detector = Detector::new(DetectorConfig::default())?;
    /// let mut records = Vec::new();
    /// detector.advance(&mut records); // nothing observed yet, nothing decided
    /// assert!(records.is_empty());
    /// # Ok::<(), trailsight_engine::ConfigError>(())
    /// ```
    pub fn advance(&mut self, out: &mut impl Extend<InsightRecord>) {
        let lateness = i64::from(self.config.allowed_lateness_minutes);
        self.advance_with(out, |p| p.max_minute.plus(-p.lateness_minutes(lateness)));
    }

    /// Like [`Detector::advance`], and also decides every minute before `watermark` in every
    /// partition, even one that has had no event for a while: use it when a clock outside the
    /// events (the newest event of the whole stream, a wall clock) says those minutes are over.
    ///
    /// ```
    /// # use trailsight_engine::{Detector, DetectorConfig, time::Timestamp};
    /// let mut detector = Detector::new(DetectorConfig::default())?;
    /// let now = Timestamp::parse("2024-03-04T12:00:00Z").unwrap().minute();
    /// let mut records = Vec::new();
    /// detector.advance_to(now.plus(-60), &mut records);
    /// # Ok::<(), trailsight_engine::ConfigError>(())
    /// ```
    pub fn advance_to(&mut self, watermark: Minute, out: &mut impl Extend<InsightRecord>) {
        let lateness = i64::from(self.config.allowed_lateness_minutes);
        self.advance_with(out, |p| {
            p.max_minute
                .plus(-p.lateness_minutes(lateness))
                .max(watermark)
        });
    }

    /// Decides every minute up to and including the newest event of each partition, and returns
    /// the insights still open (a Start without an End). Call it at the end of the input.
    ///
    /// ```
    /// # use trailsight_engine::{Detector, DetectorConfig};
    /// let mut detector = Detector::new(DetectorConfig::default())?;
    /// let mut records = Vec::new();
    /// let still_open = detector.finish(&mut records);
    /// for open in &still_open {
    ///     println!("{} started {}", open.key, open.start);
    /// }
    /// # Ok::<(), trailsight_engine::ConfigError>(())
    /// ```
    ///
    /// Each account-region is decided up to its clock, the newest corroborated event minute,
    /// after the minutes still held join it where they can: a clock that never started (fewer
    /// than four events) starts at its oldest event, and held minutes within a week of the
    /// clock join it one after the other. Minutes still further ahead (a mis-dated record)
    /// stay counted and undecided, reported in [`DetectorStats::held_at_finish`].
    pub fn finish(&mut self, out: &mut impl Extend<InsightRecord>) -> Vec<OpenInsight> {
        let ahead_minutes = i64::from(self.config.dedup_horizon_minutes);
        self.stats.held_at_finish = self
            .partitions
            .values_mut()
            .map(|p| p.settle_clock(ahead_minutes) as u64)
            .sum();
        self.advance_with(out, |p| p.max_minute.plus(1));
        self.open_insights()
    }

    /// The newest event minute seen, over every partition.
    pub fn newest_minute(&self) -> Option<Minute> {
        self.partitions
            .values()
            .map(|p| p.max_minute)
            .filter(|&m| m != partition::NO_CLOCK)
            .max()
    }

    /// The insights that have started and not ended.
    pub fn open_insights(&self) -> Vec<OpenInsight> {
        let mut open = Vec::new();
        for (key, partition) in &self.partitions {
            for (series_key, series) in &partition.series {
                if let Some(insight) = &series.open {
                    let series_key = resolve_key(&self.interner, *key, *series_key);
                    let start = insight.trigger.start;
                    open.push(OpenInsight {
                        key: series_key.to_key(),
                        start: start.to_string(),
                        shared_event_id: series_key.shared_event_id(start).hyphenated().to_string(),
                    });
                }
            }
        }
        open.sort_by(|a, b| (&a.start, &a.key).cmp(&(&b.start, &b.key)));
        open
    }

    fn advance_with(
        &mut self,
        sink: &mut impl Extend<InsightRecord>,
        target: impl Fn(&Partition) -> Minute,
    ) {
        let mut out = Vec::new();
        // Only partitions whose frontier moves have anything to decide; on a live stream that is
        // one partition per event at most.
        let mut moving: Vec<(PartitionKey, Minute)> = self
            .partitions
            .iter()
            .map(|(key, partition)| (*key, target(partition)))
            .filter(|(key, frontier)| *frontier > self.partitions[key].frontier)
            .collect();
        moving.sort_unstable();
        for (key, frontier) in moving {
            let partition = self.partitions.get_mut(&key).expect("key from the map");
            let mut ctx = DecideContext {
                interner: &self.interner,
                partition: key,
                first_minute: partition.first_minute,
                end_quiet_minutes: i64::from(self.config.end_quiet_minutes),
                dedup_horizon_minutes: i64::from(self.config.dedup_horizon_minutes),
                stats: &mut self.stats,
                out: &mut out,
            };
            partition.advance_to(frontier, &mut ctx);
        }
        out.sort_by(InsightRecord::output_order);
        sink.extend(out);
        self.compact_strings_when_due();
    }

    /// Calls `f` with every symbol the state refers to, except `null_value`.
    pub(super) fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
        for (key, partition) in &self.partitions {
            key.for_each_sym(f);
            partition.for_each_sym(f);
        }
    }

    /// How much state is held.
    pub fn state_size(&self) -> StateSize {
        let mut size = StateSize {
            partitions: self.partitions.len(),
            strings: self.interner.len(),
            // Per string: its shared allocation's header, a map entry and an index entry.
            bytes: self.interner.string_bytes() + self.interner.len() * 72,
            ..StateSize::default()
        };
        for partition in self.partitions.values() {
            size.series += partition.series.len();
            size.bytes += partition.dedup.heap_bytes();
            for series in partition.series.values() {
                size.open_insights += usize::from(series.open.is_some());
                size.bytes += series.heap_bytes();
            }
        }
        size
    }
}

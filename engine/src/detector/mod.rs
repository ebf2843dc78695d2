//! The detector: counts events into per-minute series and decides, minute by minute of event
//! time, when a series' activity starts and stops being unusual, emitting Insights records.
//!
//! State is partitioned by (account, region), as CloudTrail's S3 layout and AWS's Insights are.
//! Each partition has its own event-time clock: its **frontier** is the newest event minute seen
//! minus the allowed lateness, and every minute before the frontier is decided. Events are
//! de-duplicated by `eventID` within the partition while their minute is within the dedup
//! horizon of the frontier.
//!
//! Within a partition, a series is one (category, event source, event name) for
//! `ApiCallRateInsight`, or one (category, event source, event name, error code) for
//! `ApiErrorRateInsight`. Series are independent: the decisions of one never depend on another,
//! which is what makes any split of the work by series give the same records.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, DetectorConfig};
use crate::event::NULL_VALUE;
use crate::ingest::{IngestOptions, NotAnalysedCounts};
use crate::insight::{InsightRecord, SeriesKey};
use crate::intern::{Interner, Sym};
use crate::time::{Day, Minute};

mod intake;
mod partition;
mod series;
mod snapshot;

use partition::{Partition, PartitionKey};
use series::{DecideContext, resolve_key};

pub use series::{baseline_minutes, baseline_start};

/// Before any minute of a partition is decided.
const BEGINNING: Minute = Minute(-(1 << 50));

/// What became of one observed event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observation {
    /// Counted. `late` when its minute had already been decided: it then counts toward later
    /// baselines and windows but changes no record already emitted.
    Counted {
        /// Whether it arrived after its minute was decided.
        late: bool,
    },
    /// Its `eventID` was already counted.
    Duplicate,
    /// Its minute is behind the dedup horizon, so it cannot be told from a duplicate; not counted.
    TooLate,
    /// Not analysed; see [`crate::ingest::NotAnalysed`].
    NotAnalysed(crate::ingest::NotAnalysed),
    /// At or after the configured `reject_after` time; not counted.
    InTheFuture,
}

/// Counters of everything the detector saw and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorStats {
    /// Events offered (analysed or not).
    pub events: u64,
    /// Distinct analysed events counted.
    pub counted: u64,
    /// Of those, events that arrived after their minute was decided.
    pub counted_late: u64,
    /// Analysed events whose `eventID` had been counted already.
    pub duplicates: u64,
    /// Analysed events behind the dedup horizon, not counted.
    pub too_late: u64,
    /// Events at or after `reject_after`, not counted.
    pub in_the_future: u64,
    /// Events not analysed, by reason.
    pub not_analysed: NotAnalysedCounts,
    /// Analysed events without `readOnly`, classified by the read-only fallback.
    pub read_only_absent: u64,
    /// Analysed events without `eventID`, counted without de-duplication.
    pub without_event_id: u64,
    /// Event minutes held because they were more than the dedup horizon ahead of their
    /// account-region's clock (counted, but not moving the clock until corroborated; at most
    /// four per document and account-region are looked at). Mis-dated records land here.
    pub held_ahead: u64,
    /// Held minutes never corroborated by the end of the input ([`Detector::finish`]): their
    /// events are counted but their minutes are never decided.
    pub held_at_finish: u64,
    /// Unusual windows not reported because the partition's data did not yet cover a full
    /// baseline window before them (the cold-start rule).
    pub suppressed_cold_start: u64,
    /// Start records emitted.
    pub insights_started: u64,
    /// End records emitted.
    pub insights_ended: u64,
    /// What the state limits set aside.
    pub limits: LimitStats,
}

/// What the state limits ([`crate::Limits`]) set aside. All zero on real trails.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitStats {
    /// Attribute values counted as `(other)` because the string table was full.
    pub values_lumped: u64,
    /// Attribute values longer than [`crate::config::MAX_STRING_BYTES`], cut to it.
    pub values_cut: u64,
    /// Events not counted into one of their series because their account-region had its
    /// maximum of series (the events themselves are counted if another series took them, and
    /// are not analysed otherwise).
    pub series_refused: u64,
    /// Event IDs forgotten before the dedup horizon because an account-region had its maximum.
    pub event_ids_forgotten: u64,
}

/// An insight with a Start and no End yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenInsight {
    /// Its series; serialized as the key's fields beside `start` and `shared_event_id`.
    #[serde(flatten)]
    pub key: SeriesKey,
    /// The Start's `eventTime`.
    pub start: String,
    /// The Start's `sharedEventID`.
    pub shared_event_id: String,
}

/// How much state the detector holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StateSize {
    /// (account, region) partitions.
    pub partitions: usize,
    /// Series across partitions.
    pub series: usize,
    /// Open insights.
    pub open_insights: usize,
    /// Distinct interned strings.
    pub strings: usize,
    /// Approximate heap bytes.
    pub bytes: usize,
}

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
    config: DetectorConfig,
    options: IngestOptions,
    interner: Interner,
    null_value: Sym,
    partitions: FxHashMap<PartitionKey, Partition>,
    stats: DetectorStats,
    /// The last day the string table was checked for compaction.
    compacted_day: Day,
    /// The value new identities and user agents are counted as when the string table is full.
    other_value: Sym,
    /// The string table filled up since the last compaction: compact at the next advance.
    strings_full: bool,
    /// The last day a full table was checked for compaction.
    full_checked_day: Day,
}

/// The attribution value strings are counted as once the string table is full.
pub const OTHER_VALUE: &str = "(other)";

/// What [`Detector::observe_document`] found besides events.
#[derive(Debug)]
pub struct DocumentReport {
    /// The document's shape.
    pub format: crate::parse::DocumentFormat,
    /// Events counted.
    pub counted: u64,
    /// Insights records found, as their JSON text.
    pub insights: Vec<String>,
    /// Records that could not be used.
    pub errors: Vec<crate::parse::RecordError>,
}

/// Wraps a callback as a sink for [`Detector::advance`] and friends.
///
/// ```
/// # use trailsight_engine::{Detector, DetectorConfig, detector::sink};
/// let mut detector = Detector::new(DetectorConfig::default())?;
/// let mut starts = 0;
/// detector.advance(&mut sink(|record: trailsight_engine::InsightRecord| {
///     starts += usize::from(record.state == trailsight_engine::InsightState::Start);
/// }));
/// # Ok::<(), trailsight_engine::ConfigError>(())
/// ```
pub fn sink<F: FnMut(InsightRecord)>(callback: F) -> Sink<F> {
    Sink(callback)
}

/// A callback that receives records; see [`sink`].
#[derive(Debug)]
pub struct Sink<F>(F);

impl<F: FnMut(InsightRecord)> Extend<InsightRecord> for Sink<F> {
    fn extend<I: IntoIterator<Item = InsightRecord>>(&mut self, records: I) {
        records.into_iter().for_each(&mut self.0);
    }
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
    /// `sink` is any `Extend<InsightRecord>`: a `Vec`, or a callback wrapped by [`sink`].
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
    fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
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

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

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::attribution::{AttrValue, RecentMinutes, ValueCounts};
use crate::config::{
    ConfigError, DetectorConfig, MAX_STRING_BYTES, SeriesIdentity, SeriesSettings,
};
use crate::dedup::{Dedup, SEAL_LAG_MINUTES};
use crate::event::{Event, EventCategory, NULL_VALUE};
use crate::ingest::{
    Analysed, Classification, EventBatch, IngestOptions, NotAnalysed, NotAnalysedCounts,
};
use crate::insight::{
    AttributeKind, AttributedValue, Attribution, Average, Detection, InsightIdentity,
    InsightRecord, InsightState, InsightType,
};
use crate::intern::{Interner, Sym};
use crate::model::{
    self, BASELINE_DAYS, DayLevels, DayThresholds, Direction, LEVEL_MEMORY_DAYS, Trigger,
};
use crate::snapshot::{self, SnapshotError, sorted_map, sorted_set};
use crate::time::{Day, MINUTES_PER_DAY, Minute, Timestamp};
use crate::window::{MAX_SCALE_MINUTES, MinuteCounts};

/// Minutes of per-minute attribution detail kept behind the frontier: enough for any trigger
/// window (60 minutes) plus the longest an open insight can run on past its last unusual minute
/// (60 more), plus margin.
const RECENT_MINUTES: i64 = 3 * MAX_SCALE_MINUTES;

/// Days of per-minute counts kept behind the frontier's day: seven baseline days before the
/// start day, plus the start window and the weekly comparison reaching one more day back.
const RETAINED_DAYS: i64 = BASELINE_DAYS + 2;

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
    /// `recipientAccountId`.
    pub account: Option<String>,
    /// `awsRegion`.
    pub region: String,
    /// `eventSource`.
    pub event_source: String,
    /// `eventName`.
    pub event_name: String,
    /// Insight type.
    pub insight_type: InsightType,
    /// Error code of an error-rate insight.
    pub error_code: Option<String>,
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

/// Whether a string is a key of the event's series (which cannot be cut or replaced) or an
/// attribute value (which can).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Key,
    Value,
}

/// `key` if its series exists or the partition has room for it; and whether it was refused.
fn admit(
    partition: &Partition,
    key: Option<SeriesKey>,
    max_series: usize,
) -> (Option<SeriesKey>, bool) {
    match key {
        Some(key) if partition.series.contains_key(&key) || partition.series.len() < max_series => {
            (Some(key), false)
        }
        Some(_) => (None, true),
        None => (None, false),
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

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

impl PartitionKey {
    fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
        self.account.into_iter().for_each(&mut *f);
        f(self.region);
    }

    fn map_syms(self, f: &impl Fn(Sym) -> Sym) -> PartitionKey {
        PartitionKey {
            account: self.account.map(f),
            region: f(self.region),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
struct PartitionKey {
    account: Option<Sym>,
    region: Sym,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
struct SeriesKey {
    insight_type: InsightType,
    category: EventCategory,
    source: Sym,
    name: Sym,
    error_code: Option<Sym>,
}

impl Detector {
    /// A detector with a validated configuration.
    pub fn new(config: DetectorConfig) -> Result<Detector, ConfigError> {
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

    /// The options parse workers need to build [`EventBatch`]es for this detector.
    pub fn ingest_options(&self) -> &IngestOptions {
        &self.options
    }

    /// Counters so far.
    pub fn stats(&self) -> &DetectorStats {
        &self.stats
    }

    /// Counts one event.
    ///
    /// Every event that is not in the future, analysed or not, extends its partition's coverage
    /// (for the cold-start rule) and moves its clock.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use trailsight_engine::detector::Observation;
    /// use trailsight_engine::time::Timestamp;
    /// use trailsight_engine::{Detector, DetectorConfig, Event, EventCategory, UserIdentity};
    ///
    /// let mut detector = Detector::new(DetectorConfig::default())?;
    /// let event = Event {
    ///     event_id: Some(Cow::Borrowed("6a9d3c4e-6a3b-4c5e-9d1f-0e2b3c4d5e6f")),
    ///     event_time: Timestamp::parse("2024-03-04T10:00:07Z").unwrap(),
    ///     event_source: Cow::Borrowed("iam.amazonaws.com"),
    ///     event_name: Cow::Borrowed("CreateAccessKey"),
    ///     aws_region: Cow::Borrowed("us-east-1"),
    ///     recipient_account_id: Some(Cow::Borrowed("111122223333")),
    ///     event_type: Some(Cow::Borrowed("AwsApiCall")),
    ///     category: EventCategory::Management,
    ///     read_only: Some(false),
    ///     error_code: None,
    ///     user_agent: Some(Cow::Borrowed("aws-cli/2.15.0")),
    ///     source_ip_address: None,
    ///     user_identity: UserIdentity::default(),
    /// };
    /// assert_eq!(detector.observe(&event), Observation::Counted { late: false });
    /// assert_eq!(detector.observe(&event), Observation::Duplicate);
    /// # Ok::<(), trailsight_engine::ConfigError>(())
    /// ```
    pub fn observe(&mut self, event: &Event<'_>) -> Observation {
        self.stats.events += 1;
        let classification = self.options.classify(event);
        if classification == Classification::InTheFuture {
            self.stats.in_the_future += 1;
            return Observation::InTheFuture;
        }
        let minute = event.minute();
        let account = match event.account_id() {
            Some(account) => match self.key_sym(account) {
                Some(sym) => Some(sym),
                None => return self.not_analysed(NotAnalysed::OverLimit),
            },
            None => None,
        };
        let Some(region) = self.key_sym(&event.aws_region) else {
            return self.not_analysed(NotAnalysed::OverLimit);
        };
        let partition = PartitionKey { account, region };
        if !self.cover(partition, minute, minute) {
            return self.not_analysed(NotAnalysed::OverLimit);
        }
        let targets = match classification {
            Classification::Analysed {
                call_rate,
                error_rate,
            } => (call_rate, error_rate),
            Classification::NotAnalysed(reason) => return self.not_analysed(reason),
            Classification::InTheFuture => unreachable!("returned above"),
        };
        self.stats.read_only_absent += u64::from(event.read_only.is_none());
        self.stats.without_event_id += u64::from(event.event_id.is_none());
        let keep_session_names = self.options.keep_session_names();
        let fields = Analysed::of(
            event,
            (event.account_id(), event.aws_region.as_ref()),
            targets,
            keep_session_names,
            |text| text,
        );
        let resolved = self.resolve(&fields, partition, |detector, text, role| match role {
            Role::Key => detector.key_sym(text),
            Role::Value => Some(detector.value_sym(text)),
        });
        match resolved {
            Some(analysed) => self.count(analysed),
            None => self.not_analysed(NotAnalysed::OverLimit),
        }
    }

    /// Counts the analysed events of a batch, in the batch's order, and adds its other counts to
    /// [`Detector::stats`]. Returns how many events were counted.
    ///
    /// Batches are built with [`EventBatch::parse`], on any thread; counting them in a fixed
    /// order keeps the output independent of how many threads parsed them.
    ///
    /// ```
    /// # use trailsight_engine::{Detector, DetectorConfig, EventBatch};
    /// let mut detector = Detector::new(DetectorConfig::default())?;
    /// let options = detector.ingest_options().clone(); // Send + Clone, for worker threads
    /// let file = br#"{"Records":[{"eventTime":"2024-03-04T10:00:00Z","eventSource":"iam.amazonaws.com",
    ///   "eventName":"CreateUser","awsRegion":"us-east-1","readOnly":false}]}"#;
    /// let batch = std::thread::spawn(move || EventBatch::parse(file, &options)).join().unwrap();
    /// assert_eq!(detector.observe_batch(&batch), 1);
    /// # Ok::<(), trailsight_engine::ConfigError>(())
    /// ```
    pub fn observe_batch(&mut self, batch: &EventBatch) -> u64 {
        self.stats.events += batch.events_parsed;
        self.stats.not_analysed.add_all(&batch.not_analysed);
        self.stats.in_the_future += batch.in_the_future;
        self.stats.read_only_absent += batch.read_only_absent;
        self.stats.without_event_id += batch.without_event_id;
        // Each distinct string of the batch is looked up once; `None` inside: too long, or new
        // while the string table is full (it cannot empty before the next advance).
        let mut cache: Vec<Option<Option<Sym>>> = vec![None; batch.string_count()];
        let mut lookup = |detector: &mut Detector, id: u32, role: Role| -> Option<Sym> {
            let text = batch.string(id);
            let interned = *cache[id as usize].get_or_insert_with(|| {
                if text.len() > MAX_STRING_BYTES {
                    None
                } else {
                    detector.try_intern(text)
                }
            });
            match (interned, role) {
                (Some(sym), _) => Some(sym),
                (None, Role::Key) => None,
                (None, Role::Value) => Some(detector.value_sym(text)),
            }
        };
        for span in &batch.spans {
            let account = span.account.map(|a| lookup(self, a, Role::Key));
            let region = lookup(self, span.region, Role::Key);
            // A partition that cannot be tracked has none of its events counted (see `count`).
            if let (Some(region), None | Some(Some(_))) = (region, account) {
                let key = PartitionKey {
                    account: account.flatten(),
                    region,
                };
                self.cover(key, span.first, span.last);
            }
        }
        let before = self.stats.counted;
        for e in &batch.events {
            let account = e.account.map(|a| lookup(self, a, Role::Key));
            let region = lookup(self, e.region, Role::Key);
            let partition = match (region, account) {
                (Some(region), None | Some(Some(_))) => PartitionKey {
                    account: account.flatten(),
                    region,
                },
                _ => {
                    self.not_analysed(NotAnalysed::OverLimit);
                    continue;
                }
            };
            match self.resolve(e, partition, &mut lookup) {
                Some(analysed) => self.count(analysed),
                None => self.not_analysed(NotAnalysed::OverLimit),
            };
        }
        self.stats.counted - before
    }

    fn not_analysed(&mut self, reason: NotAnalysed) -> Observation {
        self.stats.not_analysed.add(reason);
        Observation::NotAnalysed(reason)
    }

    /// The symbols of an event's strings within the limits, or `None` when a key string cannot
    /// be kept and the event cannot be analysed.
    fn resolve<T: Copy>(
        &mut self,
        e: &Analysed<T>,
        partition: PartitionKey,
        mut sym: impl FnMut(&mut Detector, T, Role) -> Option<Sym>,
    ) -> Option<Analysed<Sym>> {
        let source = sym(self, e.source, Role::Key)?;
        let name = sym(self, e.name, Role::Key)?;
        let error_rate_code = match e.error_rate_code {
            Some(code) => Some(sym(self, code, Role::Key)?),
            None => None,
        };
        let error_value = match error_rate_code {
            Some(code) => code,
            None => sym(self, e.error_value, Role::Value)?,
        };
        Some(Analysed {
            account: partition.account,
            region: partition.region,
            category: e.category,
            source,
            name,
            call_rate: e.call_rate,
            error_rate_code,
            error_value,
            identity: sym(self, e.identity, Role::Value)?,
            user_agent: sym(self, e.user_agent, Role::Value)?,
            minute: e.minute,
            event_id: e.event_id,
        })
    }

    /// Extends a partition's coverage and clock; `false` when it is new and the detector already
    /// tracks its maximum of account-regions.
    fn cover(&mut self, key: PartitionKey, first: Minute, last: Minute) -> bool {
        if !self.partitions.contains_key(&key)
            && self.partitions.len() >= self.config.limits.max_account_regions
        {
            return false;
        }
        let partition = self.partitions.entry(key).or_insert_with(Partition::new);
        // An event too late to count does not extend coverage either.
        if first
            >= partition
                .frontier
                .plus(-i64::from(self.config.dedup_horizon_minutes))
        {
            partition.first_minute = partition.first_minute.min(first);
        }
        partition.max_minute = partition.max_minute.max(last);
        true
    }

    fn count(&mut self, e: Analysed<Sym>) -> Observation {
        let key = PartitionKey {
            account: e.account,
            region: e.region,
        };
        let Some(partition) = self.partitions.get_mut(&key) else {
            return self.not_analysed(NotAnalysed::OverLimit);
        };
        let horizon = partition
            .frontier
            .plus(-i64::from(self.config.dedup_horizon_minutes));
        if e.minute < horizon.max(partition.dedup.floor) {
            self.stats.too_late += 1;
            return Observation::TooLate;
        }
        let series_key = |insight_type, error_code| SeriesKey {
            insight_type,
            category: e.category,
            source: e.source,
            name: e.name,
            error_code,
        };
        let max_series = self.config.limits.max_series_per_account_region;
        let call_rate = e
            .call_rate
            .then(|| series_key(InsightType::ApiCallRateInsight, None));
        let error_rate = e
            .error_rate_code
            .map(|code| series_key(InsightType::ApiErrorRateInsight, Some(code)));
        let (call_rate, refused_call) = admit(partition, call_rate, max_series);
        let (error_rate, refused_error) = admit(partition, error_rate, max_series);
        self.stats.limits.series_refused += u64::from(refused_call) + u64::from(refused_error);
        if call_rate.is_none() && error_rate.is_none() {
            return self.not_analysed(NotAnalysed::OverLimit);
        }
        if let Some(id) = e.event_id {
            let max_ids = self.config.limits.max_event_ids_per_account_region;
            let (new, forgotten) = partition.dedup.insert(id, e.minute, max_ids);
            self.stats.limits.event_ids_forgotten += forgotten;
            if !new {
                self.stats.duplicates += 1;
                return Observation::Duplicate;
            }
        }
        let late = e.minute < partition.frontier;
        let recent_from = partition.frontier.plus(-RECENT_MINUTES);
        let series = NewSeries {
            config: &self.config,
            interner: &self.interner,
            partition: key,
        };
        let identity = AttrValue::new(AttributeKind::UserIdentityArn, e.identity);
        let agent = AttrValue::new(AttributeKind::UserAgent, e.user_agent);
        if let Some(key) = call_rate {
            let error = AttrValue::new(AttributeKind::ErrorCode, e.error_value);
            partition.add(
                key,
                e.minute,
                &[identity, agent, error],
                recent_from,
                &series,
            );
        }
        if let Some(key) = error_rate {
            partition.add(key, e.minute, &[identity, agent], recent_from, &series);
        }
        self.stats.counted += 1;
        self.stats.counted_late += u64::from(late);
        Observation::Counted { late }
    }

    /// Counts every event of one whole, decompressed document in any supported format (see
    /// [`crate::parse`]); returns what the document held besides its events.
    ///
    /// ```
    /// # use trailsight_engine::{Detector, DetectorConfig};
    /// let mut detector = Detector::new(DetectorConfig::default())?;
    /// let line = br#"{"eventTime":"2024-03-04T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","readOnly":false}"#;
    /// let report = detector.observe_document(line);
    /// assert_eq!((report.counted, report.errors.len()), (1, 0));
    /// # Ok::<(), trailsight_engine::ConfigError>(())
    /// ```
    pub fn observe_document(&mut self, bytes: &[u8]) -> DocumentReport {
        let batch = EventBatch::parse(bytes, &self.options);
        let counted = self.observe_batch(&batch);
        DocumentReport {
            format: batch.format,
            counted,
            insights: batch.insights,
            errors: batch.errors,
        }
    }

    /// Decides every minute that is now more than the allowed lateness behind the newest event of
    /// its partition, and hands the records that became known to `sink`, in output order
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
        self.advance_with(out, |p| p.max_minute.plus(-lateness));
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
        self.advance_with(out, |p| p.max_minute.plus(-lateness).max(watermark));
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
    ///     println!("{} {} {} started {}", open.event_source, open.event_name, open.insight_type, open.start);
    /// }
    /// # Ok::<(), trailsight_engine::ConfigError>(())
    /// ```
    pub fn finish(&mut self, out: &mut impl Extend<InsightRecord>) -> Vec<OpenInsight> {
        self.advance_with(out, |p| p.max_minute.plus(1));
        self.open_insights()
    }

    /// The newest event minute seen, over every partition.
    pub fn newest_minute(&self) -> Option<Minute> {
        self.partitions.values().map(|p| p.max_minute).max()
    }

    /// The insights that have started and not ended.
    pub fn open_insights(&self) -> Vec<OpenInsight> {
        let mut open = Vec::new();
        for (key, partition) in &self.partitions {
            for (series_key, series) in &partition.series {
                if let Some(insight) = &series.open {
                    let identity =
                        identity(&self.interner, *key, *series_key, insight.trigger.start);
                    open.push(OpenInsight {
                        account: identity.account.map(str::to_owned),
                        region: identity.region.to_owned(),
                        event_source: identity.event_source.to_owned(),
                        event_name: identity.event_name.to_owned(),
                        insight_type: identity.insight_type,
                        error_code: identity.error_code.map(str::to_owned),
                        start: insight.trigger.start.to_string(),
                        shared_event_id: identity.shared_event_id().hyphenated().to_string(),
                    });
                }
            }
        }
        open.sort_by(|a, b| {
            (
                &a.start,
                &a.account,
                &a.region,
                &a.event_source,
                &a.event_name,
                a.insight_type,
                &a.error_code,
            )
                .cmp(&(
                    &b.start,
                    &b.account,
                    &b.region,
                    &b.event_source,
                    &b.event_name,
                    b.insight_type,
                    &b.error_code,
                ))
        });
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
            {
                let ctx = DecideContext {
                    interner: &self.interner,
                    partition: key,
                    first_minute: partition.first_minute,
                    end_quiet_minutes: i64::from(self.config.end_quiet_minutes),
                    dedup_horizon_minutes: i64::from(self.config.dedup_horizon_minutes),
                };
                partition.advance_to(frontier, &ctx, &mut self.stats, &mut out);
            }
        }
        out.sort_by(InsightRecord::output_order);
        sink.extend(out);
        self.compact_strings_when_due();
    }

    /// Rebuilds the string table without the strings no longer referenced (identities and user
    /// agents of days that left the baseline): once per UTC day of the newest frontier when they
    /// are the majority, so a detector that runs for months keeps a bounded table; and, at most
    /// once a day, when the table filled up and a tenth of it can be freed. Only here, between
    /// events, are symbols renumbered.
    fn compact_strings_when_due(&mut self) {
        let Some(day) = self.partitions.values().map(|p| p.frontier.day()).max() else {
            return;
        };
        let new_day = day > self.compacted_day;
        let full = std::mem::take(&mut self.strings_full) && day > self.full_checked_day;
        if !new_day && !full {
            return;
        }
        if new_day {
            self.compacted_day = day;
        } else {
            self.full_checked_day = day;
        }
        let mut live = vec![false; self.interner.len()];
        live[self.null_value.index() as usize] = true;
        live[self.other_value.index() as usize] = true;
        self.for_each_sym(&mut |sym| live[sym.index() as usize] = true);
        let (kept, len) = (live.iter().filter(|&&k| k).count(), self.interner.len());
        let worth = if full {
            kept * 10 <= len * 9
        } else {
            len >= 4096 && kept * 2 <= len
        };
        if !worth {
            return;
        }
        let (interner, mapping) = self.interner.compacted(&live);
        let remap =
            |sym: Sym| mapping[sym.index() as usize].expect("every referenced string is kept");
        self.partitions = self
            .partitions
            .drain()
            .map(|(key, mut partition)| {
                partition.map_syms(&remap);
                (key.map_syms(&remap), partition)
            })
            .collect();
        self.null_value = remap(self.null_value);
        self.other_value = remap(self.other_value);
        self.interner = interner;
    }

    /// The symbol of a key string (account, region, source, name, error code), or `None` when
    /// the event cannot be analysed: the string is too long, or new while the table is full.
    fn key_sym(&mut self, text: &str) -> Option<Sym> {
        if text.len() > MAX_STRING_BYTES {
            return None;
        }
        self.try_intern(text)
    }

    /// The symbol of an attribute value: cut to [`MAX_STRING_BYTES`], and [`OTHER_VALUE`] when
    /// it is new while the table is full.
    fn value_sym(&mut self, text: &str) -> Sym {
        let text = if text.len() > MAX_STRING_BYTES {
            self.stats.limits.values_cut += 1;
            cut(text, MAX_STRING_BYTES)
        } else {
            text
        };
        self.try_intern(text).unwrap_or_else(|| {
            self.stats.limits.values_lumped += 1;
            self.other_value
        })
    }

    fn try_intern(&mut self, text: &str) -> Option<Sym> {
        let limits = &self.config.limits;
        let sym = self
            .interner
            .try_intern(text, limits.max_strings, limits.max_string_bytes);
        self.strings_full |= sym.is_none();
        sym
    }

    /// Calls `f` with every symbol the state refers to, except `null_value`.
    fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
        for (key, partition) in &self.partitions {
            key.for_each_sym(f);
            partition.for_each_sym(f);
        }
    }

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

/// What creating a series needs: its settings come from the configuration and overrides.
struct NewSeries<'a> {
    config: &'a DetectorConfig,
    interner: &'a Interner,
    partition: PartitionKey,
}

struct DecideContext<'a> {
    interner: &'a Interner,
    partition: PartitionKey,
    first_minute: Minute,
    end_quiet_minutes: i64,
    dedup_horizon_minutes: i64,
}

fn identity(
    interner: &Interner,
    partition: PartitionKey,
    series: SeriesKey,
    start: Minute,
) -> InsightIdentity<'_> {
    InsightIdentity {
        account: partition.account.map(|a| interner.resolve(a)),
        region: interner.resolve(partition.region),
        category: series.category,
        event_source: interner.resolve(series.source),
        event_name: interner.resolve(series.name),
        insight_type: series.insight_type,
        error_code: series.error_code.map(|c| interner.resolve(c)),
        start,
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Partition {
    first_minute: Minute,
    max_minute: Minute,
    /// Every minute before this one is decided.
    frontier: Minute,
    #[serde(with = "sorted_map")]
    series: FxHashMap<SeriesKey, Series>,
    /// Series with recent minutes or an open insight: the ones an advance must visit.
    #[serde(with = "sorted_set")]
    active: FxHashSet<SeriesKey>,
    dedup: Dedup,
    swept_day: Day,
}

impl Partition {
    fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
        for (key, series) in &self.series {
            key.for_each_sym(f);
            series.for_each_sym(f);
        }
    }

    fn map_syms(&mut self, f: &impl Fn(Sym) -> Sym) {
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

    fn new() -> Partition {
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

    fn add(
        &mut self,
        key: SeriesKey,
        minute: Minute,
        values: &[AttrValue],
        recent_from: Minute,
        new: &NewSeries<'_>,
    ) {
        let series = self.series.entry(key).or_insert_with(|| {
            let interner = new.interner;
            let id = SeriesIdentity {
                account: new.partition.account.map(|a| interner.resolve(a)),
                region: interner.resolve(new.partition.region),
                event_source: interner.resolve(key.source),
                event_name: interner.resolve(key.name),
                insight_type: key.insight_type,
                error_code: key.error_code.map(|c| interner.resolve(c)),
            };
            Series::new(new.config.settings_for(&id))
        });
        series.add(minute, values, recent_from);
        if minute >= recent_from {
            self.active.insert(key);
        }
    }

    fn advance_to(
        &mut self,
        frontier: Minute,
        ctx: &DecideContext<'_>,
        stats: &mut DetectorStats,
        out: &mut Vec<InsightRecord>,
    ) {
        let previous = self.frontier;
        let recent_from = frontier.plus(-RECENT_MINUTES);
        let mut keys: Vec<SeriesKey> = self.active.iter().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let series = self.series.get_mut(&key).expect("active series exist");
            series.decide(key, previous, frontier, ctx, stats, out);
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

#[derive(Debug, Serialize, Deserialize)]
struct Series {
    settings: SeriesSettings,
    counts: MinuteCounts,
    /// Attribution counts of minutes older than `recent`, per day.
    day_values: BTreeMap<Day, ValueCounts>,
    /// Attribution counts of recent minutes, per minute.
    recent: RecentMinutes,
    /// Every minute before this one is decided for this series.
    decided_until: Minute,
    /// Detection windows start no earlier than this: the End of the previous insight.
    window_floor: Minute,
    thresholds: Option<(Day, DayThresholds)>,
    open: Option<Open>,
    /// The series' insights of the retained days, as half-open minute intervals: the model
    /// leaves them out of the normal ceiling and floor.
    insights: Vec<(Minute, Minute)>,
    /// The levels of days no event can reach any more, kept for [`LEVEL_MEMORY_DAYS`] after the
    /// days' counts are dropped.
    older_levels: BTreeMap<Day, DayLevels>,
}

/// An insight that has started and not yet ended.
#[derive(Debug, Serialize, Deserialize)]
struct Open {
    trigger: Trigger,
    last_unusual: Minute,
    baseline: Average,
    baseline_attributions: Vec<Vec<AttributedValue>>,
    /// Attribution counts and events of the insight's minutes that have left `recent`.
    folded: ValueCounts,
    folded_events: u64,
    /// Minutes from the start up to (excluding) this one are in `folded`.
    folded_until: Minute,
}

impl SeriesKey {
    fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
        f(self.source);
        f(self.name);
        self.error_code.into_iter().for_each(f);
    }

    fn map_syms(self, f: &impl Fn(Sym) -> Sym) -> SeriesKey {
        SeriesKey {
            source: f(self.source),
            name: f(self.name),
            error_code: self.error_code.map(f),
            ..self
        }
    }
}

impl Series {
    fn for_each_sym(&self, f: &mut impl FnMut(Sym)) {
        let values = self.day_values.values().flat_map(ValueCounts::values);
        let open = self.open.iter().flat_map(|open| open.folded.values());
        values
            .chain(self.recent.values())
            .chain(open)
            .for_each(|v| f(v.sym()));
    }

    fn map_syms(&mut self, f: &impl Fn(Sym) -> Sym) {
        self.day_values
            .values_mut()
            .for_each(|values| values.map_syms(f));
        self.recent.map_syms(f);
        if let Some(open) = self.open.as_mut() {
            open.folded.map_syms(f);
        }
    }

    fn new(settings: SeriesSettings) -> Series {
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

    fn add(&mut self, minute: Minute, values: &[AttrValue], recent_from: Minute) {
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

    fn decide(
        &mut self,
        key: SeriesKey,
        previous_frontier: Minute,
        frontier: Minute,
        ctx: &DecideContext<'_>,
        stats: &mut DetectorStats,
        out: &mut Vec<InsightRecord>,
    ) {
        // A series that was idle has nothing to decide before the previous frontier: events
        // that arrived since for those minutes are late and must not start anything.
        let mut m = self.decided_until.max(previous_frontier);
        while m < frontier {
            if self.open.is_some() {
                m = self.follow_open(key, m, frontier, ctx, stats, out);
                continue;
            }
            let next = self.counts.next_nonzero(m, frontier);
            if let Some(t) = self.find_silence(key, m, next.unwrap_or(frontier)) {
                self.start_insight(key, t.0, t.1, ctx, stats, out);
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
                            self.start_insight(key, t, trigger, ctx, stats, out);
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
        key: SeriesKey,
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
        key: SeriesKey,
        t: Minute,
        trigger: Trigger,
        ctx: &DecideContext<'_>,
        stats: &mut DetectorStats,
        out: &mut Vec<InsightRecord>,
    ) {
        let start = trigger.start;
        let baseline_from = baseline_start(start);
        if ctx.first_minute > baseline_from {
            stats.suppressed_cold_start += 1;
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
        let mut record = build_record(
            ctx,
            key,
            start,
            InsightState::Start,
            start,
            baseline,
            insight,
            &insight_values,
            &baseline_attributions,
        );
        record.detection = Some(Detection {
            window_minutes: trigger.scale_minutes,
            normal_ceiling: trigger.normal_ceiling,
            threshold_events: trigger.threshold_events,
        });
        out.push(record);
        stats.insights_started += 1;
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
        key: SeriesKey,
        from: Minute,
        frontier: Minute,
        ctx: &DecideContext<'_>,
        stats: &mut DetectorStats,
        out: &mut Vec<InsightRecord>,
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
                let record = build_record(
                    ctx,
                    key,
                    start,
                    InsightState::End,
                    end,
                    open.baseline,
                    insight,
                    &values,
                    &open.baseline_attributions,
                );
                out.push(record);
                stats.insights_ended += 1;
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
    fn fold_recent_before(&mut self, minute: Minute) {
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
    fn remember_levels_through(&mut self, last: Day) {
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

    fn drop_days_before(&mut self, day: Day, forget_levels_before: Day) {
        self.counts.drop_before(day);
        self.insights.retain(|&(_, end)| end > day.first_minute());
        self.day_values = self.day_values.split_off(&day);
        self.older_levels = self.older_levels.split_off(&forget_levels_before);
    }

    fn is_idle(&self) -> bool {
        self.counts.is_empty()
            && self.recent.is_empty()
            && self.open.is_none()
            && self.day_values.is_empty()
            && self.older_levels.is_empty()
    }

    fn heap_bytes(&self) -> usize {
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

#[allow(clippy::too_many_arguments)]
fn build_record(
    ctx: &DecideContext<'_>,
    key: SeriesKey,
    start: Minute,
    state: InsightState,
    event_time: Minute,
    baseline: Average,
    insight: Average,
    insight_values: &ValueCounts,
    baseline_attributions: &[Vec<AttributedValue>],
) -> InsightRecord {
    let id = identity(ctx.interner, ctx.partition, key, start);
    let attributions = key
        .insight_type
        .attributes()
        .iter()
        .zip(baseline_attributions)
        .map(|(&attribute, baseline)| Attribution {
            attribute,
            insight: insight_values.top(attribute, insight.minutes, ctx.interner),
            baseline: baseline.clone(),
        })
        .collect();
    InsightRecord {
        event_time,
        aws_region: id.region.to_owned(),
        event_id: id.event_id(state),
        recipient_account_id: id.account.map(str::to_owned),
        shared_event_id: id.shared_event_id(),
        state,
        event_source: id.event_source.to_owned(),
        event_name: id.event_name.to_owned(),
        insight_type: key.insight_type,
        error_code: id.error_code.map(str::to_owned),
        source_event_category: key.category,
        baseline,
        insight,
        attributions,
        detection: None,
    }
}

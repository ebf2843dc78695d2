//! What the detector reports (observations, counters, open insights, state size, the sink it
//! hands records to) and the partition key its parts share. A leaf: it imports none of the
//! detector's other modules.

use serde::{Deserialize, Serialize};

use crate::ingest::NotAnalysedCounts;
use crate::insight::{InsightRecord, SeriesKey};
use crate::intern::Sym;
use crate::time::Minute;

/// Before any minute of a partition is decided.
pub(super) const BEGINNING: Minute = Minute(-(1 << 50));

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
    /// Held minutes never corroborated by the end of the input ([`Detector::finish`](crate::Detector::finish)): their
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

/// The attribution value strings are counted as once the string table is full.
pub const OTHER_VALUE: &str = "(other)";

/// What [`Detector::observe_document`](crate::Detector::observe_document) found besides events.
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

/// Wraps a callback as a sink for [`Detector::advance`](crate::Detector::advance) and friends.
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

/// Which partition: an (account, region), as interned symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) struct PartitionKey {
    pub account: Option<Sym>,
    pub region: Sym,
}

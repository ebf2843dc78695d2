//! From parsed events to what the detector counts: which events are analysed, and a compact,
//! owned batch form that worker threads can build from a document in parallel.
//!
//! An event is analysed for `ApiCallRateInsight` when its category is selected and it is a write
//! (management events; see [`Event::is_write`]) or any data event, and for
//! `ApiErrorRateInsight` when its category is selected and it has an `errorCode`.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::config::DetectorConfig;
use crate::event::{Event, EventCategory, EventIdKey, ReadOnlyFallback};
use crate::insight::InsightType;
use crate::parse::{
    DocumentFormat, DocumentStream, ParsedItem, RecordError, StreamError, parse_document,
};
use crate::time::{Minute, Timestamp};

/// The parts of a [`DetectorConfig`] that decide which events are analysed. Cheap to clone and
/// `Send`, for parse workers.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestOptions {
    call_rate: bool,
    error_rate: bool,
    management: bool,
    data: bool,
    read_only_fallback: ReadOnlyFallback,
    keep_session_names: bool,
    reject_after: Option<Timestamp>,
}

/// Why an event is not analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotAnalysed {
    /// A read-only management event without an error code.
    ReadOnly,
    /// Its category (e.g. `Data`) is not selected.
    CategoryNotSelected,
    /// Its category (`NetworkActivity` or unknown) is never analysed by Insights.
    CategoryNeverAnalysed,
    /// It would only feed an insight type that is not selected.
    InsightTypeOff,
    /// It would exceed a limit of the detector's state (a new account-region, series or string
    /// past [`crate::Limits`], or a key longer than [`crate::config::MAX_STRING_BYTES`]).
    OverLimit,
}

/// Counts of events not analysed, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotAnalysedCounts {
    /// See [`NotAnalysed::ReadOnly`].
    pub read_only: u64,
    /// See [`NotAnalysed::CategoryNotSelected`].
    pub category_not_selected: u64,
    /// See [`NotAnalysed::CategoryNeverAnalysed`].
    pub category_never_analysed: u64,
    /// See [`NotAnalysed::InsightTypeOff`].
    pub insight_type_off: u64,
    /// See [`NotAnalysed::OverLimit`].
    pub over_limit: u64,
}

impl NotAnalysedCounts {
    /// Counts one event.
    pub fn add(&mut self, reason: NotAnalysed) {
        match reason {
            NotAnalysed::ReadOnly => self.read_only += 1,
            NotAnalysed::CategoryNotSelected => self.category_not_selected += 1,
            NotAnalysed::CategoryNeverAnalysed => self.category_never_analysed += 1,
            NotAnalysed::InsightTypeOff => self.insight_type_off += 1,
            NotAnalysed::OverLimit => self.over_limit += 1,
        }
    }

    /// Adds every count of `other`.
    pub fn add_all(&mut self, other: &NotAnalysedCounts) {
        self.read_only += other.read_only;
        self.category_not_selected += other.category_not_selected;
        self.category_never_analysed += other.category_never_analysed;
        self.insight_type_off += other.insight_type_off;
        self.over_limit += other.over_limit;
    }

    /// All events not analysed.
    pub fn total(&self) -> u64 {
        self.read_only
            + self.category_not_selected
            + self.category_never_analysed
            + self.insight_type_off
            + self.over_limit
    }
}

/// What happens to an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classification {
    /// Analysed for the given insight types (at least one is true).
    Analysed {
        /// Counted for `ApiCallRateInsight`.
        call_rate: bool,
        /// Counted for `ApiErrorRateInsight` under its error code.
        error_rate: bool,
    },
    /// Not analysed.
    NotAnalysed(NotAnalysed),
    /// At or after [`DetectorConfig::reject_after`].
    InTheFuture,
}

impl IngestOptions {
    /// The options of `config`.
    pub fn new(config: &DetectorConfig) -> IngestOptions {
        IngestOptions {
            call_rate: config.analyses(InsightType::ApiCallRateInsight),
            error_rate: config.analyses(InsightType::ApiErrorRateInsight),
            management: config.event_categories.contains(&EventCategory::Management),
            data: config.event_categories.contains(&EventCategory::Data),
            read_only_fallback: config.read_only_fallback,
            keep_session_names: config.keep_session_names,
            reject_after: config.reject_after,
        }
    }

    /// Whether and how `event` is analysed.
    ///
    /// ```
    /// use trailsight_engine::ingest::{Classification, NotAnalysed};
    /// use trailsight_engine::parse::{ParsedItem, parse_document};
    /// use trailsight_engine::{DetectorConfig, IngestOptions};
    ///
    /// let options = IngestOptions::new(&DetectorConfig::default());
    /// let lines = br#"{"eventTime":"2024-03-04T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"eu-west-1","readOnly":true}
    /// {"eventTime":"2024-03-04T10:00:01Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","eventCategory":"Data","readOnly":true}
    /// {"eventTime":"2024-03-04T10:00:02Z","eventSource":"s3.amazonaws.com","eventName":"ListObjects","awsRegion":"eu-west-1","readOnly":true,"errorCode":"AccessDenied"}"#;
    /// let mut classes = Vec::new();
    /// parse_document(lines, &mut |item| {
    ///     if let ParsedItem::Event { event, .. } = item {
    ///         classes.push(options.classify(&event));
    ///     }
    /// });
    /// assert_eq!(classes, [
    ///     Classification::NotAnalysed(NotAnalysed::ReadOnly),
    ///     Classification::NotAnalysed(NotAnalysed::CategoryNotSelected),
    ///     Classification::Analysed { call_rate: false, error_rate: true },
    /// ]);
    /// ```
    pub fn classify(&self, event: &Event<'_>) -> Classification {
        if self
            .reject_after
            .is_some_and(|limit| event.event_time >= limit)
        {
            return Classification::InTheFuture;
        }
        let selected = match event.category {
            EventCategory::Management => self.management,
            EventCategory::Data => self.data,
            EventCategory::NetworkActivity | EventCategory::Other => {
                return Classification::NotAnalysed(NotAnalysed::CategoryNeverAnalysed);
            }
        };
        if !selected {
            return Classification::NotAnalysed(NotAnalysed::CategoryNotSelected);
        }
        let write =
            event.category == EventCategory::Data || event.is_write(self.read_only_fallback);
        let failed = event.error_code.is_some();
        let (call_rate, error_rate) = (self.call_rate && write, self.error_rate && failed);
        if call_rate || error_rate {
            Classification::Analysed {
                call_rate,
                error_rate,
            }
        } else if write || failed {
            Classification::NotAnalysed(NotAnalysed::InsightTypeOff)
        } else {
            Classification::NotAnalysed(NotAnalysed::ReadOnly)
        }
    }

    /// Whether session names are kept in assumed-role ARNs.
    pub fn keep_session_names(&self) -> bool {
        self.keep_session_names
    }
}

/// An analysed event with its strings as `S`: the event's own `&str`s, indexes into a batch's
/// string table, or the detector's interned [`crate::intern::Sym`]s. Built by [`Analysed::of`]
/// only, so both ways into the detector apply the same attribution rules.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Analysed<S> {
    pub account: Option<S>,
    pub region: S,
    pub category: EventCategory,
    pub source: S,
    pub name: S,
    pub call_rate: bool,
    /// The error code, for the error-rate series; `None` also when error rate is not analysed.
    pub error_rate_code: Option<S>,
    /// The error code or `"null"`, for the call-rate `errorCode` attribution.
    pub error_value: S,
    pub identity: S,
    pub user_agent: S,
    pub minute: Minute,
    pub event_id: Option<EventIdKey>,
}

impl<S: Copy> Analysed<S> {
    /// The analysed fields of `event`, whose account and region are already interned.
    pub(crate) fn of<'e>(
        event: &'e Event<'_>,
        (account, region): (Option<S>, S),
        (call_rate, error_rate): (bool, bool),
        keep_session_names: bool,
        mut intern: impl FnMut(&'e str) -> S,
    ) -> Analysed<S> {
        let error_value = intern(event.error_code_attribution());
        Analysed {
            account,
            region,
            category: event.category,
            source: intern(&event.event_source),
            name: intern(&event.event_name),
            call_rate,
            error_rate_code: error_rate.then_some(error_value),
            error_value,
            identity: intern(event.identity_attribution(keep_session_names)),
            user_agent: intern(event.user_agent_attribution()),
            minute: event.minute(),
            event_id: event.event_id.as_deref().map(EventIdKey::of),
        }
    }
}

/// How many event minutes far ahead of an account-region's clock must agree (lie within one
/// dedup horizon of each other) before the clock moves to them; see `docs/algorithm.md` §3.5.
pub(crate) const CORROBORATING_EVENTS: usize = 4;

/// The first and last event minute of one (account, region) in a batch, and its newest minutes.
#[derive(Clone, Debug)]
pub(crate) struct PartitionSpan {
    pub account: Option<u32>,
    pub region: u32,
    pub first: Minute,
    pub last: Minute,
    /// The [`CORROBORATING_EVENTS`] newest event minutes (with repeats), oldest first: all the
    /// clock needs, since it moves to the newest minute that enough events corroborate.
    pub newest: Vec<Minute>,
}

impl PartitionSpan {
    fn add(&mut self, minute: Minute) {
        self.first = self.first.min(minute);
        self.last = self.last.max(minute);
        let full = self.newest.len() == CORROBORATING_EVENTS;
        if full && minute <= self.newest[0] {
            return;
        }
        if full {
            self.newest.remove(0);
        }
        let at = self.newest.partition_point(|&m| m <= minute);
        self.newest.insert(at, minute);
    }
}

/// The analysed events of one document in a compact, owned form, with everything else the
/// document held counted. Built on any thread with [`EventBatch::parse`], then counted by
/// [`crate::Detector::observe_batch`] in a deterministic order.
#[derive(Debug)]
pub struct EventBatch {
    strings: Vec<Box<str>>,
    lookup: FxHashMap<Box<str>, u32>,
    pub(crate) events: Vec<Analysed<u32>>,
    /// Per (account, region): the first and last minute of every event, analysed or not.
    pub(crate) spans: Vec<PartitionSpan>,
    /// The document's shape.
    pub format: DocumentFormat,
    /// When the document was delivered, if known: CloudTrail's file names carry it
    /// (`…_<YYYYMMDDTHHmmZ>_…`), and the reader that parsed the batch sets it. How long after its
    /// events a document was delivered raises the lateness of their account-region (see
    /// [`crate::Detector::observe_batch`]). `None` from [`EventBatch::parse`].
    pub delivered: Option<Minute>,
    /// Events found (analysed or not).
    pub events_parsed: u64,
    /// Events not analysed, by reason.
    pub not_analysed: NotAnalysedCounts,
    /// Events at or after the configured `reject_after` time.
    pub in_the_future: u64,
    /// Analysed events whose record had no `readOnly`.
    pub read_only_absent: u64,
    /// Analysed events without an `eventID` (they cannot be de-duplicated).
    pub without_event_id: u64,
    /// Insights records found, as their JSON text.
    pub insights: Vec<String>,
    /// Aggregated data-event records found.
    pub aggregated: u64,
    /// Records that could not be used, and unparsable bytes.
    pub errors: Vec<RecordError>,
}

impl EventBatch {
    /// Parses a whole decompressed document and keeps what the detector needs.
    ///
    /// ```
    /// # use trailsight_engine::{DetectorConfig, EventBatch, IngestOptions};
    /// let options = IngestOptions::new(&DetectorConfig::default());
    /// let lines = br#"{"eventTime":"2024-03-04T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"eu-west-1","readOnly":true}
    /// {"eventTime":"2024-03-04T10:00:01Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"eu-west-1","readOnly":false}
    /// not json"#;
    /// let batch = EventBatch::parse(lines, &options);
    /// assert_eq!((batch.events_parsed, batch.analysed(), batch.not_analysed.read_only), (2, 1, 1));
    /// assert_eq!(batch.errors.len(), 1); // the third line, with its line number and byte offset
    /// ```
    pub fn parse(bytes: &[u8], options: &IngestOptions) -> EventBatch {
        let mut batch = EventBatch::empty();
        let summary = parse_document(bytes, &mut |item| batch.add(item, options));
        batch.format = summary.format;
        batch
    }

    /// A batch with nothing in it, of format `Unknown`.
    fn empty() -> EventBatch {
        EventBatch {
            strings: Vec::new(),
            lookup: FxHashMap::default(),
            events: Vec::new(),
            spans: Vec::new(),
            format: DocumentFormat::Unknown,
            delivered: None,
            events_parsed: 0,
            not_analysed: NotAnalysedCounts::default(),
            in_the_future: 0,
            read_only_absent: 0,
            without_event_id: 0,
            insights: Vec::new(),
            aggregated: 0,
            errors: Vec::new(),
        }
    }

    fn add(&mut self, item: ParsedItem<'_>, options: &IngestOptions) {
        match item {
            ParsedItem::Event { event, .. } => self.push(&event, options),
            ParsedItem::Insight { json, .. } => self.insights.push(json.into_owned()),
            ParsedItem::Aggregated { .. } => self.aggregated += 1,
            ParsedItem::Error(error) => self.errors.push(error),
        }
    }

    fn push(&mut self, event: &Event<'_>, options: &IngestOptions) {
        self.events_parsed += 1;
        let classification = options.classify(event);
        if classification == Classification::InTheFuture {
            self.in_the_future += 1;
            return;
        }
        let account = event.account_id().map(|a| self.intern(a));
        let region = self.intern(&event.aws_region);
        self.cover(account, region, event.minute());
        let (call_rate, error_rate) = match classification {
            Classification::Analysed {
                call_rate,
                error_rate,
            } => (call_rate, error_rate),
            Classification::NotAnalysed(reason) => return self.not_analysed.add(reason),
            Classification::InTheFuture => unreachable!("returned above"),
        };
        self.read_only_absent += u64::from(event.read_only.is_none());
        self.without_event_id += u64::from(event.event_id.is_none());
        let targets = (call_rate, error_rate);
        let analysed = Analysed::of(
            event,
            (account, region),
            targets,
            options.keep_session_names,
            |text| self.intern(text),
        );
        self.events.push(analysed);
    }

    fn cover(&mut self, account: Option<u32>, region: u32, minute: Minute) {
        // A document almost always holds one account and region: a linear scan is fastest.
        match self
            .spans
            .iter_mut()
            .find(|s| s.account == account && s.region == region)
        {
            Some(span) => span.add(minute),
            None => self.spans.push(PartitionSpan {
                account,
                region,
                first: minute,
                last: minute,
                newest: vec![minute],
            }),
        }
    }

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.lookup.get(text) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(text.into());
        self.lookup.insert(text.into(), id);
        id
    }

    pub(crate) fn string(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    pub(crate) fn string_count(&self) -> usize {
        self.strings.len()
    }

    /// Number of analysed events in the batch.
    pub fn analysed(&self) -> usize {
        self.events.len()
    }

    /// The earliest event minute of the document, analysed or not.
    pub fn first_minute(&self) -> Option<Minute> {
        self.spans.iter().map(|s| s.first).min()
    }

    /// Per (account, region) of the document's events, analysed or not: the account (`None`
    /// for events without one), the region, and the first and last event minute.
    pub fn partitions(&self) -> impl Iterator<Item = (Option<&str>, &str, Minute, Minute)> + '_ {
        self.spans.iter().map(|s| {
            (
                s.account.map(|a| self.string(a)),
                self.string(s.region),
                s.first,
                s.last,
            )
        })
    }

    /// The minutes of the analysed events, in document order.
    pub fn event_minutes(&self) -> impl Iterator<Item = Minute> + '_ {
        self.events.iter().map(|e| e.minute)
    }
}

/// Builds [`EventBatch`]es from a document that arrives in pieces (see
/// [`crate::parse::DocumentStream`]): [`BatchStream::take`] hands over the events read so far as a
/// batch, so a document of any size is counted in parts with memory bounded by the parts.
/// The batches of a document hold exactly what [`EventBatch::parse`] of the whole document holds.
///
/// ```
/// # use trailsight_engine::{DetectorConfig, IngestOptions, ingest::BatchStream};
/// let options = IngestOptions::new(&DetectorConfig::default());
/// let line = "{\"eventTime\":\"2024-03-04T10:00:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"PutBucketPolicy\",\"awsRegion\":\"eu-west-1\",\"readOnly\":false}\n";
/// let mut stream = BatchStream::new(options, 1 << 20);
/// let mut counted = 0;
/// for _ in 0..1000 {
///     stream.feed(line.as_bytes())?;
///     counted += stream.take().analysed();
/// }
/// let last = stream.finish();
/// assert_eq!(counted + last.analysed(), 1000);
/// assert_eq!(last.format.as_str(), "json-lines");
/// # Ok::<(), trailsight_engine::parse::StreamError>(())
/// ```
#[derive(Debug)]
pub struct BatchStream {
    stream: DocumentStream,
    options: IngestOptions,
    batch: EventBatch,
}

impl BatchStream {
    /// A stream that keeps at most `max_window_bytes` of a value not complete yet.
    pub fn new(options: IngestOptions, max_window_bytes: usize) -> BatchStream {
        BatchStream {
            stream: DocumentStream::new(max_window_bytes),
            options,
            batch: EventBatch::empty(),
        }
    }

    /// Takes the next bytes of the document.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        let (batch, options) = (&mut self.batch, &self.options);
        self.stream
            .feed(bytes, &mut |item| batch.add(item, options))
    }

    /// What was read since the last `take`, as a batch of format `Unknown` (the format is known
    /// at the end: [`BatchStream::finish`]).
    pub fn take(&mut self) -> EventBatch {
        std::mem::replace(&mut self.batch, EventBatch::empty())
    }

    /// The document has ended: the rest of it, as a batch with the document's format.
    pub fn finish(mut self) -> EventBatch {
        let (batch, options) = (&mut self.batch, &self.options);
        let summary = self.stream.finish(&mut |item| batch.add(item, options));
        self.batch.format = summary.format;
        self.batch
    }

    /// Bytes received so far.
    pub fn bytes_received(&self) -> u64 {
        self.stream.bytes_received()
    }

    /// Bytes of the document held, not reported yet.
    pub fn window_bytes(&self) -> usize {
        self.stream.window_bytes()
    }
}

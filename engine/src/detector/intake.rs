//! Intake: an event or a batch becomes counts in its series, within the state limits.

use super::driver::Detector;
use super::partition::{NewSeries, Partition};
use super::series::{RECENT_MINUTES, SeriesSyms};
use super::types::{DocumentReport, Observation, PartitionKey};
use crate::attribution::AttrValue;
use crate::config::MAX_STRING_BYTES;
use crate::event::Event;
use crate::ingest::{Analysed, Classification, EventBatch, NotAnalysed};
use crate::insight::{AttributeKind, InsightType};
use crate::intern::Sym;
use crate::time::Minute;

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
    key: Option<SeriesSyms>,
    max_series: usize,
) -> (Option<SeriesSyms>, bool) {
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

impl Detector {
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
        if !self.cover(partition, minute, &[minute], None) {
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
                // The oldest event of the document waited longest for its delivery.
                let lag = batch.delivered.map(|d| d.minutes_since(span.first));
                self.cover(key, span.first, &span.newest, lag);
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

    /// Extends a partition's coverage from `first`, moves its clock with its `newest` event
    /// minutes (oldest first; see [`Partition::observe_minutes`]) and raises its lateness to
    /// the `delivery_lag_minutes` of a delivered document; `false` when it is new and the
    /// detector already tracks its maximum of account-regions.
    fn cover(
        &mut self,
        key: PartitionKey,
        first: Minute,
        newest: &[Minute],
        delivery_lag_minutes: Option<i64>,
    ) -> bool {
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
        let ahead_minutes = i64::from(self.config.dedup_horizon_minutes);
        self.stats.held_ahead += partition.observe_minutes(newest, ahead_minutes);
        if let Some(lag) = delivery_lag_minutes {
            partition.observe_delivery_lag(lag, ahead_minutes);
        }
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
        let series_key = |insight_type, error_code| SeriesSyms {
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

    /// Rebuilds the string table without the strings no longer referenced (identities and user
    /// agents of days that left the baseline): once per UTC day of the newest frontier when they
    /// are the majority, so a detector that runs for months keeps a bounded table; and, at most
    /// once a day, when the table filled up and a tenth of it can be freed. Only here, between
    /// events, are symbols renumbered.
    pub(super) fn compact_strings_when_due(&mut self) {
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
}

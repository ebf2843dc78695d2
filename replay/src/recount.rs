//! The second pass over a trail, the recount: the events of a few series in a few windows,
//! counted by the rules of `docs/algorithm.md` §1 independently of the detector, and how busy
//! each account-region was, minute by minute and delivery file by delivery file. `replay`
//! validates reference insights on it, `explain` lists an insight's events from it, and the
//! HTML report draws its charts from it.
//!
//! Files are parsed in parallel, a chunk at a time; each file gives its matching events in a
//! light form, and the main thread de-duplicates them by `eventID` and counts them in file
//! order, so the counts do not depend on the number of threads.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use trailsight_engine::SeriesKey;
use trailsight_engine::event::{EventIdKey, identity_attribution};
use trailsight_engine::ingest::{Classification, IngestOptions};
use trailsight_engine::parse::{Location, ParsedItem};
use trailsight_engine::time::{MINUTES_PER_DAY, Minute, Timestamp};
use trailsight_engine::{DetectorConfig, Event, EventCategory, InsightType};

use trailsight_input::trail::account_region;
use trailsight_input::{InputFile, ReadLimits, Source, read_items};

use crate::progress::Progress;

/// What to collect for one series.
#[derive(Clone, Debug)]
pub struct Target {
    /// The series; an account of `None` matches events of every account in the region, and an
    /// error-rate key without error code matches every error code.
    pub key: SeriesKey,
    /// Management or Data.
    pub category: EventCategory,
    /// Half-open windows `[from, to)` to count events and attribution values in.
    pub windows: Vec<(Minute, Minute)>,
    /// Minutes to keep per-minute counts for.
    pub series: Option<(Minute, Minute)>,
    /// Minutes whose events are kept one by one (for `explain`).
    pub details: Option<(Minute, Minute)>,
}

/// The longest per-minute series recounted around an insight, in minutes (two weeks).
pub const MAX_SERIES_MINUTES: i64 = 2 * 7 * MINUTES_PER_DAY;

/// The minutes of the per-minute series shown around an insight `[first, end)`: `context`
/// minutes before and after, at most [`MAX_SERIES_MINUTES`] in all. A very long insight shows
/// its last part, since the series is kept minute by minute.
pub fn series_span(first: Minute, end: Minute, context: i64) -> (Minute, Minute) {
    let context = context.min(MAX_SERIES_MINUTES);
    (
        first
            .plus(-context)
            .max(end.plus(context - MAX_SERIES_MINUTES)),
        end.plus(context),
    )
}

/// Attribution values the scan counts, in [`WindowCounts::values`] order.
pub const IDENTITY: usize = 0;
/// See [`IDENTITY`].
pub const USER_AGENT: usize = 1;
/// See [`IDENTITY`].
pub const ERROR_CODE: usize = 2;

/// Events of one window.
#[derive(Clone, Debug, Default)]
pub struct WindowCounts {
    /// Distinct events.
    pub events: u64,
    /// Events per value of: the identity with assumed-role session names kept (the stripped
    /// form is derived from it), the user agent, the error code (`"null"` for none).
    pub values: [FxHashMap<String, u64>; 3],
}

/// One event kept for `explain`.
#[derive(Clone, Debug)]
pub struct Detail {
    /// `eventTime`.
    pub event_time: Timestamp,
    /// `eventID`.
    pub event_id: Option<String>,
    /// `userIdentity.arn`, or the attribution fallback (`invokedBy`, account, `"null"`).
    pub principal: String,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// `errorCode`.
    pub error_code: Option<String>,
    /// Index of the file in the scanned list.
    pub file: usize,
    /// Where the record is in that file.
    pub location: Location,
}

/// What was collected for one [`Target`].
#[derive(Debug, Default)]
pub struct TargetResult {
    /// One per [`Target::windows`].
    pub windows: Vec<WindowCounts>,
    /// Events per minute in [`Target::series`] (minutes without events are absent).
    pub series: BTreeMap<Minute, u64>,
    /// The first `max_details` events of [`Target::details`] by time and `eventID`.
    pub details: Vec<Detail>,
    /// All events in [`Target::details`], and their principals, source IPs and user agents.
    pub detail_events: u64,
    /// Counts per principal, source IP (`"-"` for none) and user agent (`"-"`) in
    /// [`Target::details`].
    pub detail_values: [FxHashMap<String, u64>; 3],
    /// Copies of an already counted event, not counted again.
    pub duplicates: u64,
    /// (minute, ID) of the events counted: a copy has its original's `eventTime`.
    seen: FxHashSet<(Minute, EventIdKey)>,
    detail_order: BTreeMap<(Timestamp, String, u64), Detail>,
}

/// How busy one account-region was.
#[derive(Clone, Debug)]
pub struct Activity {
    /// The account; `None` stands for every account of the region.
    pub account: Option<String>,
    /// The region.
    pub region: String,
    /// Minutes with at least one event of any kind, within the range of interest.
    pub minutes: FxHashSet<i64>,
    /// Delivery times of the CloudTrail files that held its events, within the range of
    /// interest.
    pub deliveries: BTreeSet<i64>,
    /// Whether any file had a delivery time at all (exports have none).
    pub stamped_files: bool,
    /// Its first and last event minute anywhere in the trail.
    pub first: Option<Minute>,
    /// See [`Activity::first`].
    pub last: Option<Minute>,
    /// Its newest delivery time anywhere in the trail.
    pub last_delivery: Option<Minute>,
    /// Minutes and deliveries are kept within `[range.0, range.1)`.
    pub range: (Minute, Minute),
}

impl Activity {
    /// No activity yet for `account` in `region`, watching `range`.
    pub fn new(account: Option<String>, region: String, range: (Minute, Minute)) -> Activity {
        Activity {
            account,
            region,
            minutes: FxHashSet::default(),
            deliveries: BTreeSet::new(),
            stamped_files: false,
            first: None,
            last: None,
            last_delivery: None,
            range,
        }
    }
}

/// Everything a scan collected.
#[derive(Debug, Default)]
pub struct RecountResult {
    /// One per target, in target order.
    pub targets: Vec<TargetResult>,
    /// One per distinct (account, region) of the targets, see [`RecountResult::activity`].
    pub activity: Vec<Activity>,
    /// Files read.
    pub files_read: u64,
    /// CloudTrail files not read because their delivery time puts all their events outside
    /// every range of interest; see [`LATE_DELIVERY_MINUTES`].
    pub files_skipped: u64,
}

/// CloudTrail files delivered more than this long after every range of interest are not read:
/// their events are newer, but for deliveries this late, which are not recounted.
pub const LATE_DELIVERY_MINUTES: i64 = MINUTES_PER_DAY;

impl RecountResult {
    /// The activity of `key`'s account and region.
    pub fn activity(&self, key: &SeriesKey) -> Option<&Activity> {
        self.activity
            .iter()
            .find(|a| a.account == key.account && a.region == key.region)
    }
}

/// Days of context kept around each window for the completeness checks (same time on other
/// days).
pub const CONTEXT_DAYS: i64 = 7;

/// What events count, for a scan: every category and insight type, with the given read-only
/// fallback, so that a reference insight on data events can be recounted too.
pub fn recount_options(detector: &DetectorConfig) -> IngestOptions {
    IngestOptions::new(&DetectorConfig {
        event_categories: vec![EventCategory::Management, EventCategory::Data],
        insight_types: vec![
            InsightType::ApiCallRateInsight,
            InsightType::ApiErrorRateInsight,
        ],
        read_only_fallback: detector.read_only_fallback,
        reject_after: None,
        ..DetectorConfig::default()
    })
}

/// How a scan reads the trail.
#[derive(Clone, Copy, Debug)]
pub struct RecountSettings {
    /// Parse threads.
    pub threads: usize,
    /// The most events kept one by one per target (0: none).
    pub max_details: usize,
    /// Documents are read as the detect pass reads them (whole, or in pieces when large), and a
    /// single value over `--max-document-mib` ends a document there as it does in that pass.
    pub limits: ReadLimits,
}

/// Reads `files` and collects what `targets` ask for, counting the files read and their events
/// into `progress`. Fails only when the parse threads cannot start.
pub fn recount(
    files: &[InputFile],
    targets: &[Target],
    options: &IngestOptions,
    settings: RecountSettings,
    progress: &mut Progress,
) -> anyhow::Result<RecountResult> {
    let RecountSettings {
        threads,
        max_details,
        limits,
    } = settings;
    let plan = Plan::new(targets);
    let mut result = RecountResult {
        targets: targets
            .iter()
            .map(|t| TargetResult {
                windows: vec![WindowCounts::default(); t.windows.len()],
                ..TargetResult::default()
            })
            .collect(),
        activity: plan
            .partitions
            .iter()
            .map(|p| Activity::new(p.account.clone(), p.region.clone(), p.range))
            .collect(),
        files_read: 0,
        files_skipped: 0,
    };
    if targets.is_empty() {
        return Ok(result);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("trailsight-scan-{i}"))
        .build()
        .context("starting the recount's parse threads")?;
    let (from, to) = (
        plan.partitions.iter().map(|p| p.range.0).min(),
        plan.partitions.iter().map(|p| p.range.1).max(),
    );
    let mut indexed: Vec<(usize, &InputFile)> = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        match skippable(file, from, to) {
            Some((account, region, delivered)) => {
                result.files_skipped += 1;
                outside(&mut result.activity, account, region, delivered);
            }
            None => indexed.push((index, file)),
        }
    }
    result.files_read = indexed.len() as u64;
    progress.set_total(indexed.len());
    for chunk in indexed.chunks(threads.max(1) * 4) {
        let scans: Vec<FileScan> = pool.install(|| {
            chunk
                .par_iter()
                .map(|&(index, file)| scan_file(index, file, &plan, options, &limits))
                .collect()
        });
        for file_scan in scans {
            progress.add(1, file_scan.events);
            merge(&mut result, targets, file_scan, max_details);
        }
    }
    for target in &mut result.targets {
        target.details = std::mem::take(&mut target.detail_order)
            .into_values()
            .collect();
        target.seen = FxHashSet::default();
    }
    Ok(result)
}

/// A CloudTrail file whose events all lie outside every range of interest, judged from its
/// name alone: delivered before the earliest range starts (a file holds events from before its
/// delivery time) or [`LATE_DELIVERY_MINUTES`] after the latest ends. Returns the account,
/// region and delivery time its name gives.
fn skippable(
    file: &InputFile,
    from: Option<Minute>,
    to: Option<Minute>,
) -> Option<(&str, &str, Minute)> {
    let (from, to, delivered) = (from?, to?, file.delivered?);
    if delivered >= from && delivered < to.plus(LATE_DELIVERY_MINUTES) {
        return None;
    }
    let Source::Path(path) = &file.source else {
        return None;
    };
    let name = path.file_name()?.to_str()?;
    let (account, region) = account_region(name)?;
    Some((account, region, delivered))
}

/// What a file not read says about the activity of its account-region: the trail has data
/// delivered at `delivered`, so before it for a file delivered before the ranges.
fn outside(activity: &mut [Activity], account: &str, region: &str, delivered: Minute) {
    for a in activity
        .iter_mut()
        .filter(|a| a.region == region && a.account.as_deref().is_none_or(|x| x == account))
    {
        a.stamped_files = true;
        a.last_delivery = Some(a.last_delivery.map_or(delivered, |l| l.max(delivered)));
        if delivered < a.range.0 {
            let before = delivered.plus(-1);
            a.first = Some(a.first.map_or(before, |f| f.min(before)));
            a.last = Some(a.last.map_or(before, |l| l.max(before)));
        }
    }
}

/// Targets indexed by API, and the account-regions to watch.
struct Plan<'t> {
    targets: &'t [Target],
    by_api: FxHashMap<&'t str, FxHashMap<&'t str, Vec<usize>>>,
    partitions: Vec<PartitionPlan>,
}

struct PartitionPlan {
    account: Option<String>,
    region: String,
    range: (Minute, Minute),
}

impl<'t> Plan<'t> {
    fn new(targets: &'t [Target]) -> Plan<'t> {
        let mut by_api: FxHashMap<&str, FxHashMap<&str, Vec<usize>>> = FxHashMap::default();
        let mut partitions: Vec<PartitionPlan> = Vec::new();
        for (i, t) in targets.iter().enumerate() {
            by_api
                .entry(t.key.event_source.as_str())
                .or_default()
                .entry(t.key.event_name.as_str())
                .or_default()
                .push(i);
            let spans = t.windows.iter().chain(&t.series).chain(&t.details);
            let (Some(from), Some(to)) =
                (spans.clone().map(|w| w.0).min(), spans.map(|w| w.1).max())
            else {
                continue;
            };
            // Only windows are checked for completeness, which compares with other days; a
            // series alone (a chart) needs no context, so files far from it can be skipped.
            let context = if t.windows.is_empty() {
                0
            } else {
                CONTEXT_DAYS * MINUTES_PER_DAY
            };
            let range = (from.plus(-context), to.plus(context));
            match partitions
                .iter_mut()
                .find(|p| p.account == t.key.account && p.region == t.key.region)
            {
                Some(p) => p.range = (p.range.0.min(range.0), p.range.1.max(range.1)),
                None => partitions.push(PartitionPlan {
                    account: t.key.account.clone(),
                    region: t.key.region.clone(),
                    range,
                }),
            }
        }
        Plan {
            targets,
            by_api,
            partitions,
        }
    }
}

/// One event of a target, in the light form a parse worker hands over.
struct Hit {
    target: usize,
    minute: Minute,
    event_id: Option<EventIdKey>,
    values: [String; 3],
    detail: Option<Box<Detail>>,
}

/// What one file gave.
struct FileScan {
    hits: Vec<Hit>,
    /// (partition, minute) of every event in a partition's range, deduplicated.
    minutes: Vec<(usize, i64)>,
    /// (partition, first, last) event minute of the file, over all its events.
    spans: Vec<(usize, Minute, Minute)>,
    delivered: Option<Minute>,
    /// Events in the file.
    events: u64,
}

fn scan_file(
    index: usize,
    file: &InputFile,
    plan: &Plan<'_>,
    options: &IngestOptions,
    limits: &ReadLimits,
) -> FileScan {
    let mut out = FileScan {
        hits: Vec::new(),
        minutes: Vec::new(),
        spans: Vec::new(),
        delivered: file.delivered,
        events: 0,
    };
    read_items(&file.source, limits, &mut |item| {
        if let ParsedItem::Event { event, location } = item {
            out.events += 1;
            observe(index, &event, location, plan, options, &mut out);
        }
    });
    out.minutes.sort_unstable();
    out.minutes.dedup();
    out
}

fn observe(
    file: usize,
    event: &Event<'_>,
    location: Location,
    plan: &Plan<'_>,
    options: &IngestOptions,
    out: &mut FileScan,
) {
    let minute = event.minute();
    let account = event.account_id();
    for (p, partition) in plan.partitions.iter().enumerate() {
        if partition.region != event.aws_region
            || partition
                .account
                .as_deref()
                .is_some_and(|a| Some(a) != account)
        {
            continue;
        }
        match out.spans.iter_mut().find(|s| s.0 == p) {
            Some(span) => {
                span.1 = span.1.min(minute);
                span.2 = span.2.max(minute);
            }
            None => out.spans.push((p, minute, minute)),
        }
        if partition.range.0 <= minute && minute < partition.range.1 {
            out.minutes.push((p, minute.0));
        }
    }
    let Some(candidates) = plan
        .by_api
        .get(event.event_source.as_ref())
        .and_then(|names| names.get(event.event_name.as_ref()))
    else {
        return;
    };
    let Classification::Analysed {
        call_rate,
        error_rate,
    } = options.classify(event)
    else {
        return;
    };
    for &t in candidates {
        let target = &plan.targets[t];
        let key = &target.key;
        let counted = match key.insight_type {
            InsightType::ApiCallRateInsight => call_rate,
            InsightType::ApiErrorRateInsight => {
                error_rate
                    && key
                        .error_code
                        .as_deref()
                        .is_none_or(|code| event.error_code.as_deref() == Some(code))
            }
        };
        if !counted
            || event.category != target.category
            || key.region != event.aws_region
            || key.account.as_deref().is_some_and(|a| Some(a) != account)
        {
            continue;
        }
        let inside = |w: &(Minute, Minute)| w.0 <= minute && minute < w.1;
        let in_details = target.details.as_ref().is_some_and(inside);
        if !(in_details
            || target.windows.iter().any(inside)
            || target.series.as_ref().is_some_and(inside))
        {
            continue;
        }
        let detail = in_details.then(|| {
            Box::new(Detail {
                event_time: event.event_time,
                event_id: event.event_id.as_deref().map(str::to_owned),
                principal: identity_attribution(&event.user_identity, true).to_owned(),
                source_ip: event.source_ip_address.as_deref().map(str::to_owned),
                user_agent: event.user_agent.as_deref().map(str::to_owned),
                error_code: event.error_code.as_deref().map(str::to_owned),
                file,
                location,
            })
        });
        out.hits.push(Hit {
            target: t,
            minute,
            event_id: event.event_id.as_deref().map(EventIdKey::of),
            values: [
                identity_attribution(&event.user_identity, true).to_owned(),
                event.user_agent_attribution().to_owned(),
                event.error_code_attribution().to_owned(),
            ],
            detail,
        });
    }
}

fn merge(result: &mut RecountResult, targets: &[Target], scan: FileScan, max_details: usize) {
    for (p, first, last) in scan.spans {
        let a = &mut result.activity[p];
        a.first = Some(a.first.map_or(first, |f| f.min(first)));
        a.last = Some(a.last.map_or(last, |l| l.max(last)));
        if let Some(delivered) = scan.delivered {
            a.stamped_files = true;
            a.last_delivery = Some(a.last_delivery.map_or(delivered, |l| l.max(delivered)));
            if a.range.0 <= delivered && delivered < a.range.1 {
                a.deliveries.insert(delivered.0);
            }
        }
    }
    for (p, minute) in scan.minutes {
        result.activity[p].minutes.insert(minute);
    }
    for hit in scan.hits {
        let target = &targets[hit.target];
        let r = &mut result.targets[hit.target];
        if let Some(id) = hit.event_id
            && !r.seen.insert((hit.minute, id))
        {
            r.duplicates += 1;
            continue;
        }
        for (w, counts) in target.windows.iter().zip(&mut r.windows) {
            if w.0 <= hit.minute && hit.minute < w.1 {
                counts.events += 1;
                for (map, value) in counts.values.iter_mut().zip(&hit.values) {
                    add(map, value);
                }
            }
        }
        if target
            .series
            .is_some_and(|s| s.0 <= hit.minute && hit.minute < s.1)
        {
            *r.series.entry(hit.minute).or_insert(0) += 1;
        }
        if let Some(detail) = hit.detail {
            r.detail_events += 1;
            let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
            add(&mut r.detail_values[0], &detail.principal);
            add(&mut r.detail_values[1], &dash(&detail.source_ip));
            add(&mut r.detail_values[2], &dash(&detail.user_agent));
            // Events without eventID still get a distinct place in the order.
            let order = (
                detail.event_time,
                detail.event_id.clone().unwrap_or_default(),
                r.detail_events,
            );
            r.detail_order.insert(order, *detail);
            if r.detail_order.len() > max_details {
                r.detail_order.pop_last();
            }
        }
    }
}

fn add(map: &mut FxHashMap<String, u64>, value: &str) {
    match map.get_mut(value) {
        Some(n) => *n += 1,
        None => {
            map.insert(value.to_owned(), 1);
        }
    }
}

/// `(value, count)` pairs by count descending, then value ascending (byte order): the
/// attribution order of `docs/algorithm.md` §2.
pub fn ranked(map: &FxHashMap<String, u64>) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = map
        .iter()
        .filter(|&(_, &n)| n > 0)
        .map(|(v, &n)| (v.clone(), n))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

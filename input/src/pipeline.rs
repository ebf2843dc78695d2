//! The run pipeline: files are read, decompressed and parsed in parallel, then counted into
//! the detector one file at a time in the counting order ([`crate::order`]), advancing the
//! detector's clock after each file. Only the parsing runs in parallel, so the records are the
//! same for any number of threads.

use std::sync::mpsc;
use std::thread;

use rayon::prelude::*;
use trailsight_engine::parse::{DocumentFormat, ParsedItem, RecordError, parse_document};
use trailsight_engine::time::Minute;
use trailsight_engine::{Detector, EventBatch, IngestOptions, InsightRecord};

use crate::discover::{InputFile, Source};
use crate::load::{LoadError, Loaded, ReadLimits, load_reusing, recycle};
use crate::order::sort_for_counting;
use crate::trail::SkipReason;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The parse threads could not be started.
    #[error("starting {threads} parse threads: {error}")]
    ThreadPool {
        /// Threads asked for.
        threads: usize,
        /// What rayon said.
        error: rayon::ThreadPoolBuildError,
    },
}

/// What one file gave.
#[derive(Debug)]
pub struct FileOutcome {
    /// The file.
    pub source: Source,
    /// CloudTrail's delivery time from its name.
    pub delivered: Option<Minute>,
    /// Bytes read from storage.
    pub stored_bytes: u64,
    /// Bytes of the decompressed document.
    pub document_bytes: u64,
    /// A read or decompression error (the readable part was still parsed).
    pub load_error: Option<LoadError>,
    /// The parsed document.
    pub batch: EventBatch,
}

impl FileOutcome {
    /// The document's shape.
    pub fn format(&self) -> DocumentFormat {
        self.batch.format
    }

    /// Record-level errors.
    pub fn record_errors(&self) -> &[RecordError] {
        &self.batch.errors
    }

    /// Set when the file was not read at all (too large once decompressed).
    pub fn skipped(&self) -> Option<SkipReason> {
        matches!(self.load_error, Some(LoadError::TooLarge { .. })).then_some(SkipReason::TooLarge)
    }
}

/// How many files are parsed ahead of the one being counted, per thread: enough to keep every
/// thread busy, few enough that memory stays a handful of decompressed files.
pub const FILES_PER_THREAD_IN_FLIGHT: usize = 4;

/// One step of the run, in counting order.
enum Step<'f> {
    /// A CloudTrail file, parsed when its turn comes.
    Stamped(&'f InputFile),
    /// A file without a delivery time, parsed up front to find where it belongs.
    Held(Box<FileOutcome>),
}

/// The pool the parse threads run on.
fn parse_pool(threads: usize) -> Result<rayon::ThreadPool, PipelineError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("trailsight-parse-{i}"))
        .build()
        .map_err(|error| PipelineError::ThreadPool { threads, error })
}

/// Runs every file through `detector`, calling `on_file` after each one is counted with the
/// records that became known. `threads` is the number of parse threads; a file over the caps of
/// `limits` is skipped (see [`crate::load::load`]).
///
/// Files are counted in the counting order ([`crate::order`]): CloudTrail files by the delivery
/// time in their name, other files by their earliest event, which needs them parsed first;
/// ties by path. Each file is read whole into memory.
pub fn run(
    files: &[InputFile],
    detector: &mut Detector,
    threads: usize,
    limits: &ReadLimits,
    mut on_file: impl FnMut(&FileOutcome, &mut Vec<InsightRecord>),
) -> Result<(), PipelineError> {
    let threads = threads.max(1);
    let pool = parse_pool(threads)?;
    let options = detector.ingest_options().clone();
    prefetch_objects(files, limits);
    let steps = order(files, &pool, &options, limits);
    let chunk = threads * FILES_PER_THREAD_IN_FLIGHT;
    let (sender, receiver) = mpsc::sync_channel::<Vec<FileOutcome>>(1);
    let (pool, options) = (&pool, &options);
    thread::scope(|scope| {
        // The producer owns the sender, so the channel closes when it is done.
        scope.spawn(move || {
            let mut pending: Vec<&InputFile> = Vec::with_capacity(chunk);
            let parse = |pending: &mut Vec<&InputFile>| -> Vec<FileOutcome> {
                let outcomes = pool.install(|| {
                    pending
                        .par_iter()
                        .map(|f| parse_file(f, options, limits))
                        .collect()
                });
                pending.clear();
                outcomes
            };
            for step in steps {
                let ready = match step {
                    Step::Stamped(file) => {
                        pending.push(file);
                        if pending.len() < chunk {
                            continue;
                        }
                        parse(&mut pending)
                    }
                    Step::Held(outcome) => {
                        let mut ready = parse(&mut pending);
                        ready.push(*outcome);
                        ready
                    }
                };
                if sender.send(ready).is_err() {
                    return;
                }
            }
            let _ = sender.send(parse(&mut pending));
        });
        let mut records = Vec::new();
        for outcomes in receiver {
            for outcome in outcomes {
                detector.observe_batch(&outcome.batch);
                detector.advance(&mut records);
                on_file(&outcome, &mut records);
            }
        }
    });
    Ok(())
}

/// Starts fetching the S3 objects among `files` in the order [`run`] reads them: those without a
/// delivery time first (parsed up front to place them), then the others in counting order.
/// Without S3 objects, nothing happens; a client that cannot start fails each object's load.
fn prefetch_objects(files: &[InputFile], limits: &ReadLimits) {
    let (stamped, unstamped): (Vec<&InputFile>, Vec<&InputFile>) =
        files.iter().partition(|f| f.delivered.is_some());
    let mut stamped = stamped;
    sort_for_counting(&mut stamped, |f| (f.delivered, &f.source));
    let objects: Vec<(String, String)> = unstamped
        .into_iter()
        .chain(stamped)
        .filter_map(|f| match &f.source {
            Source::S3 { bucket, key } => Some((bucket.clone(), key.0.clone())),
            _ => None,
        })
        .collect();
    if !objects.is_empty() {
        // An error here (no client) is reported by each object's own load.
        let _ = crate::s3::prefetch(objects, limits.max_document_bytes);
    }
}

/// The counting order of `files`; see [`run`].
fn order<'f>(
    files: &'f [InputFile],
    pool: &rayon::ThreadPool,
    options: &IngestOptions,
    limits: &ReadLimits,
) -> Vec<Step<'f>> {
    let (stamped, unstamped): (Vec<&InputFile>, Vec<&InputFile>) =
        files.iter().partition(|f| f.delivered.is_some());
    let held: Vec<FileOutcome> = pool.install(|| {
        unstamped
            .par_iter()
            .map(|f| parse_file(f, options, limits))
            .collect()
    });
    let mut keyed: Vec<(Option<Minute>, Source, Step<'f>)> = stamped
        .into_iter()
        .map(|f| (f.delivered, f.source.clone(), Step::Stamped(f)))
        .chain(held.into_iter().map(|o| {
            (
                o.batch.first_minute(),
                o.source.clone(),
                Step::Held(Box::new(o)),
            )
        }))
        .collect();
    sort_for_counting(&mut keyed, |(time, source, _)| (*time, source));
    keyed.into_iter().map(|(_, _, step)| step).collect()
}

/// Loads and parses one file, unless it is over the caps of `limits`.
pub fn parse_file(file: &InputFile, options: &IngestOptions, limits: &ReadLimits) -> FileOutcome {
    let Loaded {
        bytes,
        stored_bytes,
        error,
    } = load_reusing(&file.source, limits);
    let batch = EventBatch::parse(&bytes, options);
    let document_bytes = bytes.len() as u64;
    recycle(bytes);
    FileOutcome {
        source: file.source.clone(),
        delivered: file.delivered,
        stored_bytes,
        document_bytes,
        load_error: error,
        batch,
    }
}

/// What [`parse_only`] read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseOnlyCounts {
    /// Files read (skipped ones not included).
    pub files: u64,
    /// Bytes read from storage.
    pub stored_bytes: u64,
    /// Bytes of decompressed documents.
    pub document_bytes: u64,
    /// Items reported by the parser: events, Insights and aggregated records, and bad records.
    pub records: u64,
    /// Of these, events.
    pub events: u64,
}

impl ParseOnlyCounts {
    fn add(mut self, other: ParseOnlyCounts) -> ParseOnlyCounts {
        self.files += other.files;
        self.stored_bytes += other.stored_bytes;
        self.document_bytes += other.document_bytes;
        self.records += other.records;
        self.events += other.events;
        self
    }
}

/// The floor of a run: reads, decompresses and parses every file on `threads` threads, in any
/// order, and counts what the parser reports, without building batches or counting anything into
/// a detector. `trailsight detect --parse-only` prints it, to compare a run with the cost of
/// just reading its input.
pub fn parse_only(
    files: &[InputFile],
    threads: usize,
    limits: &ReadLimits,
) -> Result<ParseOnlyCounts, PipelineError> {
    let pool = parse_pool(threads.max(1))?;
    Ok(pool.install(|| {
        files
            .par_iter()
            .map(|file| {
                let loaded = load_reusing(&file.source, limits);
                if loaded.skipped().is_some() {
                    return ParseOnlyCounts::default();
                }
                let mut counts = ParseOnlyCounts {
                    files: 1,
                    stored_bytes: loaded.stored_bytes,
                    document_bytes: loaded.bytes.len() as u64,
                    ..ParseOnlyCounts::default()
                };
                parse_document(&loaded.bytes, &mut |item| {
                    counts.records += 1;
                    counts.events += u64::from(matches!(item, ParsedItem::Event { .. }));
                });
                recycle(loaded.bytes);
                counts
            })
            .reduce(ParseOnlyCounts::default, ParseOnlyCounts::add)
    }))
}

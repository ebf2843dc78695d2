//! The detect pipeline: files are read, decompressed and parsed in parallel, then counted into
//! the detector one file at a time in the order [`crate::input`] fixed, advancing the detector's
//! clock after each file. Only the parsing runs in parallel, so the records are the same for any
//! number of threads.

use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use rayon::prelude::*;
use trailsight_engine::parse::{DocumentFormat, RecordError};
use trailsight_engine::time::Minute;
use trailsight_engine::{Detector, EventBatch, IngestOptions, InsightRecord};

use crate::input::{InputFile, Loaded, SkipReason, Source, load_into};

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
    pub load_error: Option<String>,
    /// Set when the file was not read at all (too large once decompressed).
    pub skipped: Option<SkipReason>,
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
}

/// How many files are parsed ahead of the one being counted, per thread: enough to keep every
/// thread busy, few enough that memory stays a handful of decompressed files.
const FILES_PER_THREAD_IN_FLIGHT: usize = 4;

/// One step of the run, in counting order.
enum Step<'f> {
    /// A CloudTrail file, parsed when its turn comes.
    Stamped(&'f InputFile),
    /// A file without a delivery time, parsed up front to find where it belongs.
    Held(Box<FileOutcome>),
}

/// Runs every file through `detector`, calling `on_file` after each one is counted with the
/// records that became known. `threads` is the number of parse threads; a file larger than
/// `max_document_bytes` once decompressed is skipped (see [`crate::input::load_limited`]).
///
/// Files are counted in time order: CloudTrail files by the delivery time in their name, other
/// files (exports, `lookup-events` output, JSON lines) by their earliest event, which needs them
/// parsed first; ties by path. Each file is read whole into memory.
pub fn run(
    files: &[InputFile],
    detector: &mut Detector,
    threads: usize,
    max_document_bytes: u64,
    mut on_file: impl FnMut(&FileOutcome, &mut Vec<InsightRecord>),
) {
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("trailsight-parse-{i}"))
        .build()
        .expect("a thread pool");
    let options = detector.ingest_options().clone();
    let steps = order(files, &pool, &options, max_document_bytes);
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
                        .map(|f| parse_file(f, options, max_document_bytes))
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
}

/// The counting order of `files`; see [`run`].
fn order<'f>(
    files: &'f [InputFile],
    pool: &rayon::ThreadPool,
    options: &IngestOptions,
    max_document_bytes: u64,
) -> Vec<Step<'f>> {
    let (stamped, unstamped): (Vec<&InputFile>, Vec<&InputFile>) =
        files.iter().partition(|f| f.delivered.is_some());
    let held: Vec<FileOutcome> = pool.install(|| {
        unstamped
            .par_iter()
            .map(|f| parse_file(f, options, max_document_bytes))
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
    keyed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    keyed.into_iter().map(|(_, _, step)| step).collect()
}

/// The largest decompressed document a parse thread keeps its buffer for, to reuse on the next
/// file; a larger one is freed.
const KEPT_DOCUMENT_BYTES: usize = 64 << 20;

thread_local! {
    /// The buffer the thread's previous document was decompressed into.
    static SPARE_DOCUMENT: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// [`load_into`] this thread's spare buffer; give the document back with [`recycle`].
fn load_reusing(source: &Source, max_document_bytes: u64) -> Loaded {
    load_into(
        source,
        max_document_bytes,
        SPARE_DOCUMENT.with(|spare| spare.take()),
    )
}

/// Keeps a parsed document's buffer as this thread's spare, unless it is over
/// [`KEPT_DOCUMENT_BYTES`].
fn recycle(document: Vec<u8>) {
    if document.capacity() <= KEPT_DOCUMENT_BYTES {
        SPARE_DOCUMENT.with(|spare| spare.replace(document));
    }
}

/// Loads and parses one file, unless it is larger than `max_document_bytes` once decompressed.
pub fn parse_file(
    file: &InputFile,
    options: &IngestOptions,
    max_document_bytes: u64,
) -> FileOutcome {
    let Loaded {
        bytes,
        stored_bytes,
        error,
        skipped,
    } = load_reusing(&file.source, max_document_bytes);
    let batch = EventBatch::parse(&bytes, options);
    let document_bytes = bytes.len() as u64;
    recycle(bytes);
    FileOutcome {
        source: file.source.clone(),
        delivered: file.delivered,
        stored_bytes,
        document_bytes,
        load_error: error,
        skipped,
        batch,
    }
}

/// Wall-clock time of a run, for the summary.
#[derive(Debug)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Seconds since start.
    pub fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
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
pub fn parse_only(files: &[InputFile], threads: usize, max_document_bytes: u64) -> ParseOnlyCounts {
    use trailsight_engine::parse::{ParsedItem, parse_document};
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("trailsight-parse-{i}"))
        .build()
        .expect("a thread pool");
    pool.install(|| {
        files
            .par_iter()
            .map(|file| {
                let loaded = load_reusing(&file.source, max_document_bytes);
                if loaded.skipped.is_some() {
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
    })
}

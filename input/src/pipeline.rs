//! The run pipeline: files are read, decompressed and parsed in parallel, then counted into
//! the detector one file at a time in the counting order ([`crate::order`]), advancing the
//! detector's clock after each file. Only the parsing runs in parallel, so the records are the
//! same for any number of threads. A document too large to hold (over
//! [`ReadLimits::stream_above_bytes`], and standard input) is read in pieces in its turn
//! ([`crate::stream`]), each piece counted as it is parsed.

use std::sync::mpsc;
use std::thread;

use rayon::prelude::*;
use trailsight_engine::parse::ParsedItem;
use trailsight_engine::time::Minute;
use trailsight_engine::{Detector, EventBatch, IngestOptions, InsightRecord};

use crate::discover::{InputFile, Source};
use crate::load::{Loaded, ReadLimits, load_reusing, recycle};
use crate::order::sort_for_counting;
pub use crate::outcome::{FileOutcome, Piece};
use crate::stream::{read_items, stream_file};

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

/// How many files are parsed ahead of the one being counted, per thread: enough to keep every
/// thread busy, few enough that memory stays a handful of decompressed files.
pub const FILES_PER_THREAD_IN_FLIGHT: usize = 4;

/// One step of the run, in counting order.
enum Step<'f> {
    /// A CloudTrail file, parsed when its turn comes.
    Stamped(&'f InputFile),
    /// A file without a delivery time, parsed up front to find where it belongs.
    Held(Box<FileOutcome>),
    /// A document read in pieces when its turn comes.
    Streamed(&'f InputFile),
}

/// What reading a file whole gave.
enum Whole<'f> {
    Parsed(Box<FileOutcome>),
    /// Too large to hold: to be read in pieces.
    TooLarge(&'f InputFile),
}

/// Threads to parse on when none are asked for: every core the process may use, or one when
/// that is unknown.
pub fn default_threads() -> usize {
    thread::available_parallelism().map_or(1, usize::from)
}

/// The threads a run parses on when `asked` for: at least one, and no more than the cores the
/// process may use (parsing is bound by them; more threads only hold more documents at once).
pub fn parse_threads(asked: usize) -> usize {
    asked.clamp(1, default_threads())
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
/// records that became known. `threads` is the number of parse threads (clamped to the cores).
///
/// Files are counted in the counting order ([`crate::order`]): CloudTrail files by the delivery
/// time in their name, other files by their earliest event, which needs them parsed first;
/// ties by path. A file is read whole when it fits its thread's share of
/// [`ReadLimits::in_flight_bytes`] and [`ReadLimits::stream_above_bytes`], else in pieces in its
/// turn (standard input always), each piece counted as one outcome.
pub fn run(
    files: &[InputFile],
    detector: &mut Detector,
    threads: usize,
    limits: &ReadLimits,
    mut on_file: impl FnMut(&FileOutcome, &mut Vec<InsightRecord>),
) -> Result<(), PipelineError> {
    let threads = parse_threads(threads);
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
            let send = |outcomes: Vec<FileOutcome>| sender.send(outcomes).is_ok();
            let stream = |file: &InputFile| {
                let mut open = true;
                stream_file(file, options, limits, &mut |piece| {
                    open = send(vec![piece]);
                    open
                });
                open
            };
            // Parses the pending files in parallel and sends them on in order, reading in
            // pieces, in its place, any that is too large to hold.
            let flush = |pending: &mut Vec<&InputFile>| -> bool {
                let parsed: Vec<Whole> = pool.install(|| {
                    pending
                        .par_iter()
                        .map(|f| parse_whole(f, options, limits, threads))
                        .collect()
                });
                pending.clear();
                let mut ready = Vec::with_capacity(parsed.len());
                for whole in parsed {
                    match whole {
                        Whole::Parsed(outcome) => ready.push(*outcome),
                        Whole::TooLarge(file) => {
                            if !send(std::mem::take(&mut ready)) || !stream(file) {
                                return false;
                            }
                        }
                    }
                }
                send(ready)
            };
            let mut pending: Vec<&InputFile> = Vec::with_capacity(chunk);
            for step in steps {
                let open = match step {
                    Step::Stamped(file) => {
                        pending.push(file);
                        pending.len() < chunk || flush(&mut pending)
                    }
                    Step::Held(outcome) => flush(&mut pending) && send(vec![*outcome]),
                    Step::Streamed(file) => flush(&mut pending) && stream(file),
                };
                if !open {
                    return;
                }
            }
            flush(&mut pending);
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
    let held: Vec<Whole> = pool.install(|| {
        unstamped
            .par_iter()
            .map(|f| parse_whole(f, options, limits, pool.current_num_threads()))
            .collect()
    });
    let mut keyed: Vec<(Option<Minute>, Source, Step<'f>)> = stamped
        .into_iter()
        .map(|f| (f.delivered, f.source.clone(), Step::Stamped(f)))
        .collect();
    for whole in held {
        keyed.push(match whole {
            Whole::Parsed(o) => (o.batch.first_minute(), o.source.clone(), Step::Held(o)),
            Whole::TooLarge(f) => (
                first_piece_minute(f, options, limits),
                f.source.clone(),
                Step::Streamed(f),
            ),
        });
    }
    sort_for_counting(&mut keyed, |(time, source, _)| (*time, source));
    keyed.into_iter().map(|(_, _, step)| step).collect()
}

/// Where a document read in pieces goes in the counting order: the earliest event of its first
/// piece (a document that large is an export, whose records come roughly in time order; the
/// earliest of all would take reading it twice). Standard input, which cannot be read twice,
/// goes first.
fn first_piece_minute(
    file: &InputFile,
    options: &IngestOptions,
    limits: &ReadLimits,
) -> Option<Minute> {
    if file.source == Source::Stdin {
        return None;
    }
    let mut first = None;
    stream_file(file, options, limits, &mut |piece| {
        first = piece.batch.first_minute();
        false
    });
    first
}

/// Loads and parses one file whole on one of `threads` threads, unless it is larger than
/// [`ReadLimits::stream_above_bytes`] or than the thread's share of
/// [`ReadLimits::in_flight_bytes`], or standard input: those are read in pieces.
fn parse_whole<'f>(
    file: &'f InputFile,
    options: &IngestOptions,
    limits: &ReadLimits,
    threads: usize,
) -> Whole<'f> {
    if file.source == Source::Stdin {
        return Whole::TooLarge(file);
    }
    let outcome = parse_file(file, options, &limits.whole_document_cap_on(threads));
    if outcome.skipped().is_some() {
        return Whole::TooLarge(file);
    }
    Whole::Parsed(Box::new(outcome))
}

/// Loads and parses one file whole, unless it is over the caps of `limits` (then it is
/// skipped: [`FileOutcome::skipped`]). [`run`] reads such files in pieces instead.
pub fn parse_file(file: &InputFile, options: &IngestOptions, limits: &ReadLimits) -> FileOutcome {
    let Loaded {
        bytes,
        stored_bytes,
        error,
    } = load_reusing(&file.source, limits);
    let mut batch = EventBatch::parse(&bytes, options);
    batch.delivered = file.delivered;
    let document_bytes = bytes.len() as u64;
    recycle(bytes);
    FileOutcome {
        source: file.source.clone(),
        delivered: file.delivered,
        stored_bytes,
        document_bytes,
        load_error: error,
        piece: None,
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
    let pool = parse_pool(parse_threads(threads))?;
    Ok(pool.install(|| {
        files
            .par_iter()
            .map(|file| {
                let mut counts = ParseOnlyCounts {
                    files: 1,
                    ..ParseOnlyCounts::default()
                };
                let read = read_items(&file.source, limits, &mut |item| {
                    counts.records += 1;
                    counts.events += u64::from(matches!(item, ParsedItem::Event { .. }));
                });
                counts.stored_bytes = read.stored_bytes;
                counts.document_bytes = read.document_bytes;
                counts
            })
            .reduce(ParseOnlyCounts::default, ParseOnlyCounts::add)
    }))
}

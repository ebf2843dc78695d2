//! The detect pipeline: files are read, decompressed and parsed in parallel, then counted into
//! the detector one file at a time in the order [`crate::input`] fixed, advancing the detector's
//! clock after each file. Only the parsing runs in parallel, so the records are the same for any
//! number of threads.

use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use rayon::prelude::*;
use trailsight_engine::parse::{DocumentFormat, RecordError};
use trailsight_engine::{Detector, EventBatch, IngestOptions, InsightRecord};

use crate::input::{InputFile, Loaded, Source, load};

/// What one file gave.
#[derive(Debug)]
pub struct FileOutcome {
    /// The file.
    pub source: Source,
    /// CloudTrail's delivery time from its name.
    pub delivered: Option<trailsight_engine::time::Minute>,
    /// Bytes read from storage.
    pub stored_bytes: u64,
    /// Bytes of the decompressed document.
    pub document_bytes: u64,
    /// A read or decompression error (the readable part was still parsed).
    pub load_error: Option<String>,
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

/// Runs every file through `detector`, calling `on_file` after each one is counted with the
/// records that became known. `threads` is the number of parse threads.
pub fn run(
    files: &[InputFile],
    detector: &mut Detector,
    threads: usize,
    mut on_file: impl FnMut(&FileOutcome, &mut Vec<InsightRecord>),
) {
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("trailsight-parse-{i}"))
        .build()
        .expect("a thread pool");
    let options = detector.ingest_options().clone();
    let chunk = threads * FILES_PER_THREAD_IN_FLIGHT;
    let (sender, receiver) = mpsc::sync_channel::<Vec<FileOutcome>>(1);
    thread::scope(|scope| {
        scope.spawn(|| {
            for files in files.chunks(chunk) {
                let outcomes: Vec<FileOutcome> = pool.install(|| {
                    files
                        .par_iter()
                        .map(|file| parse_file(file, &options))
                        .collect()
                });
                if sender.send(outcomes).is_err() {
                    return;
                }
            }
            drop(sender);
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

/// Loads and parses one file.
pub fn parse_file(file: &InputFile, options: &IngestOptions) -> FileOutcome {
    let Loaded {
        bytes,
        stored_bytes,
        error,
        ..
    } = load(&file.source);
    let batch = EventBatch::parse(&bytes, options);
    FileOutcome {
        source: file.source.clone(),
        delivered: file.delivered,
        stored_bytes,
        document_bytes: bytes.len() as u64,
        load_error: error,
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

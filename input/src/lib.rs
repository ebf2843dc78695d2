//! trailsight-input: the one input layer of trailsight. Every reader goes through it: the
//! `trailsight` command's `detect`, `watch`, `replay` (trail and references), `explain` and the
//! second passes over a trail, and the Python package (and through it the Spark job), so that
//! all of them find the same files, refuse the same oversized documents and count files in the
//! same order.
//!
//! # Shape
//!
//! ```text
//! paths ──discover──▶ InputFile { delivered, Source } ──load (ReadLimits)──▶ Loaded document
//!                                                   └─stream: over 64 MiB, and stdin, in pieces
//!                                                   │
//!       lines ──LineReader (ReadLimits)──▶ line ──decode_line──▶ document
//!                                                   │
//! pipeline::run: order (delivery time) ─▶ parse on N threads ─▶ count in order into a Detector
//! ```
//!
//! - [`trail`]: CloudTrail's file-name rules (skip rules, delivery time, account and region).
//! - [`discover`](mod@discover): [`Source`]s and [`InputFile`]s under command-line paths:
//!   directories walked at any depth, skip rules, deduplicated and sorted.
//! - [`load`](mod@load): reading a source or bytes handed in, and decompressing gzip, all
//!   capped by [`ReadLimits::max_document_bytes`]; nothing is read or inflated past the cap.
//! - [`lines`]: standard input as lines, capped by [`ReadLimits::max_line_bytes`], and the
//!   line decoder (JSON, base64, base64 of gzip).
//! - [`select`]: which files a run reads (`--accounts`, `--regions`, the delivery times a time
//!   range needs).
//! - [`s3`]: `s3://` sources and outputs (feature `s3`): pruned listings, concurrent GETs with
//!   bounded memory, retries, one-line errors.
//! - [`order`]: the counting order (delivery time, then earliest event, then path).
//! - [`outcome`]: what one file (or piece of a document) gave.
//! - [`outcome`]: what one file (or piece of a document) gave.
//! - [`pipeline`]: the ordered parallel parse of many files into a detector.
//! - [`stream`]: documents too large to hold, and standard input, read in pieces.
//!
//! The engine ([`trailsight_engine`]) stays free of I/O and threads; everything that touches a
//! file system, standard input or a thread pool is here.
//!
//! # Extension points
//!
//! - **Object stores.** S3 is [`Source::S3`]: listing by prefix ([`s3::list`]) gives
//!   [`InputFile`]s whose `delivered` comes from the object's key through
//!   [`trail::delivery_time`], and [`order`] sorts them as it sorts files (keys by `/`-separated
//!   part, as paths by component). Bytes fetched ahead ([`s3::prefetch`], started by
//!   [`pipeline::run`] in counting order) enter through [`load_bytes`], the same decompression
//!   and caps as files. Another store would be one more variant and module beside [`s3`].
//! - **Memory in flight.** Documents over [`ReadLimits::stream_above_bytes`] are read in
//!   pieces ([`stream`]); each parse thread reads whole only documents up to its share of
//!   [`ReadLimits::in_flight_bytes`], a larger one as a single piece in its turn.

#![deny(missing_docs)]

pub mod discover;
pub mod lines;
pub mod load;
pub mod order;
pub mod outcome;
pub mod pipeline;
pub mod s3;
pub mod select;
pub mod stream;
pub mod trail;

pub use discover::{
    Discovery, DiscoveryError, DiscoveryFault, InputFile, ObjectKey, Source, discover,
    discover_selected,
};
pub use lines::{LineDecodeError, LineError, LineFault, LineReader, decode_line};
pub use load::{
    DEFAULT_MAX_DOCUMENT_MIB, LoadError, Loaded, ReadLimits, load, load_bytes, load_reusing,
    recycle,
};
pub use order::{counting_order, sort_for_counting};
pub use outcome::{FileOutcome, Piece};
pub use pipeline::{
    ParseOnlyCounts, PipelineError, default_threads, parse_file, parse_only, parse_threads, run,
};
pub use select::Selection;
pub use stream::{ItemsRead, RecordAtError, read_items, records_at, stream_file};
pub use trail::SkipReason;

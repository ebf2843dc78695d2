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
//! - **Object stores (S3).** A new [`Source`] variant (the enum is `non_exhaustive`) names an
//!   object; listing by prefix gives [`InputFile`]s whose `delivered` comes from the object's key
//!   through [`trail::delivery_time`], and [`order`] sorts them as it sorts files. Bytes fetched
//!   elsewhere (concurrently, by an async client) enter through [`load_bytes`], the same
//!   decompression and caps as files; the pipeline's per-file step ([`pipeline::parse_file`])
//!   is where a fetched-bytes variant plugs in, keeping the counting order.
//! - **A global memory budget.** Documents over [`ReadLimits::stream_above_bytes`] are read in
//!   pieces ([`stream`]); the ones read whole are bounded per file by that size, and a fixed
//!   [`pipeline::FILES_PER_THREAD_IN_FLIGHT`] window of them is in flight per thread. A budget
//!   across threads would replace that window with a count of bytes in flight, taken before a
//!   file is loaded and given back when its batch is counted, inside [`pipeline`].

#![deny(missing_docs)]

pub mod discover;
pub mod lines;
pub mod load;
pub mod order;
pub mod outcome;
pub mod pipeline;
pub mod stream;
pub mod trail;

pub use discover::{Discovery, DiscoveryError, DiscoveryFault, InputFile, Source, discover};
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
pub use stream::{ItemsRead, RecordAtError, read_items, records_at, stream_file};
pub use trail::SkipReason;

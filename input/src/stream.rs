//! Documents read in pieces: a multi-gigabyte JSON-lines export, a `Records` file of millions
//! of records, concatenated documents, standard input. The document is decompressed on one
//! thread and parsed as it arrives on another ([`trailsight_engine::ingest::BatchStream`]), and
//! handed over every [`ReadLimits::stream_above_bytes`] (64 MiB) of document as a batch of its
//! own, so memory is bounded by a few pieces, the read-ahead and the largest single value, never
//! by the document.
//!
//! The items are exactly those a whole-document parse reports, with the same locations (the
//! stream parser's contract). What differs is when the detector sees them: a document read
//! whole is one batch, counted before the detector's clock moves; a document read in pieces
//! moves the clock after each piece, as a sequence of files would. An export whose records are
//! in time order (within the allowed lateness) therefore gives the same insights as the same
//! records in CloudTrail's file layout; records further out of order than that count as late,
//! as they would in a trail.

use std::fs;
use std::io::{self, Read};
use std::sync::mpsc;
use std::thread;

use flate2::read::MultiGzDecoder;
use trailsight_engine::ingest::BatchStream;
use trailsight_engine::parse::{
    DocumentFormat, DocumentStream, ParsedItem, RecordErrorKind, parse_document,
};
use trailsight_engine::{EventBatch, IngestOptions};

use crate::discover::{InputFile, Source};
use crate::load::{CountingReader, LoadError, ReadLimits, load_reusing, recycle};
use crate::outcome::{FileOutcome, Piece};

/// Bytes read and decompressed at a time by the reading thread.
const READ_BYTES: usize = 1 << 20;

/// Chunks the reading thread may have decompressed ahead of the parser.
const CHUNKS_AHEAD: usize = 4;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A source opened for reading in pieces, decompressed when its first bytes say gzip.
enum Opened {
    Plain(CountingReader<Box<dyn Read + Send>>),
    Gzip(Box<MultiGzDecoder<CountingReader<Box<dyn Read + Send>>>>),
}

impl Opened {
    /// Opens `source`; an S3 object is fetched whole first (up to `max_object_bytes`), then
    /// read in pieces like a file.
    fn open(source: &Source, max_object_bytes: u64) -> io::Result<Opened> {
        let mut reader: Box<dyn Read + Send> = match source {
            Source::Path(path) => Box::new(io::BufReader::with_capacity(
                256 << 10,
                fs::File::open(path)?,
            )),
            Source::Stdin => Box::new(io::BufReader::with_capacity(256 << 10, io::stdin())),
            Source::S3 { bucket, key } => match crate::s3::get(bucket, &key.0, max_object_bytes) {
                Ok(crate::s3::Fetched::Whole(raw)) => Box::new(io::Cursor::new(raw)),
                Ok(crate::s3::Fetched::TooLarge { size_bytes }) => {
                    return Err(io::Error::new(
                        io::ErrorKind::FileTooLarge,
                        format!(
                            "object of {size_bytes} bytes larger than --max-document-mib {}",
                            max_object_bytes.div_ceil(1 << 20)
                        ),
                    ));
                }
                Err(error) => return Err(io::Error::other(error.fault)),
            },
        };
        let mut magic = Vec::with_capacity(2);
        reader.by_ref().take(2).read_to_end(&mut magic)?;
        let gzip = magic == GZIP_MAGIC;
        let counting = CountingReader {
            inner: Box::new(io::Cursor::new(magic).chain(reader)) as Box<dyn Read + Send>,
            bytes: 0,
        };
        Ok(if gzip {
            Opened::Gzip(Box::new(MultiGzDecoder::new(counting)))
        } else {
            Opened::Plain(counting)
        })
    }

    fn stored_bytes(&self) -> u64 {
        match self {
            Opened::Plain(counting) => counting.bytes,
            Opened::Gzip(decoder) => decoder.get_ref().bytes,
        }
    }

    /// Fills `chunk` (cleared first) with up to `bytes` of document; empty at the end.
    fn read_chunk(&mut self, chunk: &mut Vec<u8>, bytes: usize) -> io::Result<()> {
        chunk.clear();
        let reader: &mut dyn Read = match self {
            Opened::Plain(counting) => counting,
            Opened::Gzip(decoder) => decoder.as_mut(),
        };
        reader.take(bytes as u64).read_to_end(chunk)?;
        Ok(())
    }

    fn is_gzip(&self) -> bool {
        matches!(self, Opened::Gzip(_))
    }
}

/// What the reading thread hands the parser.
enum Chunk {
    /// Document bytes, and the stored bytes read so far.
    Bytes(Vec<u8>, u64),
    /// The read failed (or the gzip stream is corrupt) after what came before; the stored
    /// bytes read so far.
    Failed(io::Error, u64),
}

/// Reads a document on a thread of its own, decompressed, in chunks sent to `sender`, reusing
/// the buffers handed back through `spare`. Stops at the end, at an error, or when the receiver
/// is gone.
fn read_ahead(
    mut opened: Opened,
    chunk_bytes: usize,
    sender: mpsc::SyncSender<Chunk>,
    spare: mpsc::Receiver<Vec<u8>>,
) {
    loop {
        let mut chunk = spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(chunk_bytes));
        match opened.read_chunk(&mut chunk, chunk_bytes) {
            Ok(()) if chunk.is_empty() => return,
            Ok(()) => {
                if sender
                    .send(Chunk::Bytes(chunk, opened.stored_bytes()))
                    .is_err()
                {
                    return;
                }
            }
            Err(error) => {
                // What was decompressed before the error is part of the document.
                if !chunk.is_empty()
                    && sender
                        .send(Chunk::Bytes(chunk, opened.stored_bytes()))
                        .is_err()
                {
                    return;
                }
                let _ = sender.send(Chunk::Failed(error, opened.stored_bytes()));
                return;
            }
        }
    }
}

/// Reads `file` in pieces, handing each piece to `on_piece` as a [`FileOutcome`] in document
/// order, the last with [`Piece::last`] set, the document's format and any read error. Stops
/// early when `on_piece` returns `false` (the consumer is gone). Never fails: an error opening
/// or reading the file, a corrupt gzip stream, or a single value over
/// [`ReadLimits::max_document_bytes`] ends the document with that error in the last piece, after
/// everything read before it.
pub fn stream_file(
    file: &InputFile,
    options: &IngestOptions,
    limits: &ReadLimits,
    on_piece: &mut dyn FnMut(FileOutcome) -> bool,
) {
    let mut pieces = Pieces::new(file);
    let opened = match Opened::open(&file.source, limits.max_document_bytes) {
        Ok(opened) => opened,
        Err(error) => {
            let nothing = EventBatch::parse(&[], options);
            on_piece(pieces.last(nothing, 0, 0, Some(LoadError::Read(error))));
            return;
        }
    };
    let gzip = opened.is_gzip();
    // Pieces of the size above which documents are read in pieces: a document under it, which
    // a thread may read whole or (over its share of the memory in flight) in pieces, is then
    // always a single batch, however it was read.
    let piece_bytes = limits.stream_above_bytes.max(1);
    let window = usize::try_from(limits.max_document_bytes).unwrap_or(usize::MAX);
    let mut stream = BatchStream::new(options.clone(), window);
    let (sender, chunks) = mpsc::sync_channel::<Chunk>(CHUNKS_AHEAD);
    let (give_back, spare) = mpsc::channel::<Vec<u8>>();
    thread::scope(|scope| {
        let chunk_bytes = usize::try_from(piece_bytes).map_or(READ_BYTES, |p| p.min(READ_BYTES));
        scope.spawn(move || read_ahead(opened, chunk_bytes, sender, spare));
        let mut stored_bytes = 0;
        let mut error = None;
        for chunk in chunks.iter() {
            let bytes = match chunk {
                Chunk::Bytes(bytes, stored) => {
                    stored_bytes = stored;
                    bytes
                }
                Chunk::Failed(failure, stored) => {
                    stored_bytes = stored;
                    let decompressed_bytes = stream.bytes_received();
                    error = Some(if gzip {
                        LoadError::Gzip {
                            error: failure,
                            decompressed_bytes,
                        }
                    } else {
                        LoadError::Read(failure)
                    });
                    break;
                }
            };
            let fed = stream.feed(&bytes);
            let _ = give_back.send(bytes);
            if let Err(too_large) = fed {
                error = Some(LoadError::ValueTooLarge(too_large));
                break;
            }
            if stream.bytes_received() - pieces.document_bytes >= piece_bytes {
                let batch = stream.take();
                let piece = pieces.next(batch, stored_bytes, stream.bytes_received());
                if !on_piece(piece) {
                    return;
                }
            }
        }
        // Dropping the receiver stops the reading thread if it is still going (an error here).
        drop(chunks);
        let received = stream.bytes_received();
        let batch = match &error {
            // The stream stopped inside a value that is not complete: what came before it was
            // reported; the value itself is not.
            Some(LoadError::ValueTooLarge(_)) => stream.take(),
            _ => stream.finish(),
        };
        on_piece(pieces.last(batch, stored_bytes, received, error));
    });
}

/// The pieces of one document handed out so far.
struct Pieces<'f> {
    file: &'f InputFile,
    index: u32,
    stored_bytes: u64,
    document_bytes: u64,
    bad_records: u64,
}

impl<'f> Pieces<'f> {
    fn new(file: &'f InputFile) -> Pieces<'f> {
        Pieces {
            file,
            index: 0,
            stored_bytes: 0,
            document_bytes: 0,
            bad_records: 0,
        }
    }

    /// A piece ending at `stored_bytes` read and `document_bytes` of document.
    fn next(
        &mut self,
        mut batch: EventBatch,
        stored_bytes: u64,
        document_bytes: u64,
    ) -> FileOutcome {
        // As for a document read whole: its file's delivery time raises the lateness.
        batch.delivered = self.file.delivered;
        let piece = Piece {
            index: self.index,
            last: false,
            document_bytes_before: self.document_bytes,
            bad_records_before: self.bad_records,
        };
        let outcome = FileOutcome {
            source: self.file.source.clone(),
            delivered: self.file.delivered,
            stored_bytes: stored_bytes - self.stored_bytes,
            document_bytes: document_bytes - self.document_bytes,
            load_error: None,
            piece: Some(piece),
            batch,
        };
        self.index += 1;
        self.stored_bytes = stored_bytes;
        self.document_bytes = document_bytes;
        self.bad_records += outcome.batch.errors.len() as u64;
        outcome
    }

    /// The last piece, ending at `document_bytes` of document (what the stream received).
    fn last(
        &mut self,
        batch: EventBatch,
        stored_bytes: u64,
        document_bytes: u64,
        error: Option<LoadError>,
    ) -> FileOutcome {
        let end = document_bytes.max(self.document_bytes);
        let mut outcome = self.next(batch, stored_bytes.max(self.stored_bytes), end);
        if let Some(piece) = &mut outcome.piece {
            piece.last = true;
        }
        outcome.load_error = error;
        outcome
    }
}

/// Reads every item of `source` in order, calling `on_item` for each: whole when it fits
/// [`ReadLimits::stream_above_bytes`], else in pieces, exactly as the pipeline's `run` reads
/// it. The passes over a trail that do not count into a detector (replay's recount, the
/// references, `--parse-only`) read with it, so that they see what the counting pass saw, for a
/// document of any size.
pub fn read_items(
    source: &Source,
    limits: &ReadLimits,
    on_item: &mut dyn for<'x> FnMut(ParsedItem<'x>),
) -> ItemsRead {
    if *source != Source::Stdin {
        let loaded = load_reusing(source, &limits.whole_document_cap());
        if loaded.skipped().is_none() {
            let summary = parse_document(&loaded.bytes, on_item);
            let read = ItemsRead {
                stored_bytes: loaded.stored_bytes,
                document_bytes: loaded.bytes.len() as u64,
                format: summary.format,
                error: loaded.error,
            };
            recycle(loaded.bytes);
            return read;
        }
    }
    read_items_in_pieces(source, limits, on_item)
}

/// [`read_items`] in pieces, whatever the size.
fn read_items_in_pieces(
    source: &Source,
    limits: &ReadLimits,
    on_item: &mut dyn for<'x> FnMut(ParsedItem<'x>),
) -> ItemsRead {
    let mut read = ItemsRead {
        stored_bytes: 0,
        document_bytes: 0,
        format: DocumentFormat::Unknown,
        error: None,
    };
    let mut opened = match Opened::open(source, limits.max_document_bytes) {
        Ok(opened) => opened,
        Err(error) => {
            read.error = Some(LoadError::Read(error));
            return read;
        }
    };
    let window = usize::try_from(limits.max_document_bytes).unwrap_or(usize::MAX);
    let mut stream = DocumentStream::new(window);
    let mut chunk = Vec::with_capacity(READ_BYTES);
    loop {
        let result = opened.read_chunk(&mut chunk, READ_BYTES);
        // What was decompressed before an error is part of the document.
        if let Err(too_large) = stream.feed(&chunk, on_item) {
            read.error = Some(LoadError::ValueTooLarge(too_large));
            read.stored_bytes = opened.stored_bytes();
            read.document_bytes = stream.bytes_received();
            return read;
        }
        if let Err(error) = result {
            read.error = Some(if opened.is_gzip() {
                LoadError::Gzip {
                    error,
                    decompressed_bytes: stream.bytes_received(),
                }
            } else {
                LoadError::Read(error)
            });
            break;
        }
        if chunk.is_empty() {
            break;
        }
    }
    read.stored_bytes = opened.stored_bytes();
    read.document_bytes = stream.bytes_received();
    read.format = stream.finish(on_item).format;
    read
}

/// What [`read_items`] read.
#[derive(Debug)]
pub struct ItemsRead {
    /// Bytes read from storage.
    pub stored_bytes: u64,
    /// Bytes of document, decompressed.
    pub document_bytes: u64,
    /// The document's shape (`Unknown` when a value over the cap ended it).
    pub format: DocumentFormat,
    /// What ended the document early; the items before it were reported.
    pub error: Option<LoadError>,
}

/// The records of `source` that start at `offsets` (byte offsets in the decompressed document,
/// as [`trailsight_engine::parse::Location::byte_offset`] gives them), each as its JSON value
/// ([`trailsight_engine::parse::record_at`]), in the order asked. The document is read once,
/// in chunks, keeping only the bytes from the next offset asked for on, so a document of any
/// size costs the largest record asked for, at most
/// [`ReadLimits::max_document_bytes`].
pub fn records_at(
    source: &Source,
    limits: &ReadLimits,
    offsets: &[u64],
) -> Vec<Result<serde_json::Value, RecordAtError>> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut found: Vec<Option<Result<serde_json::Value, RecordAtError>>> =
        (0..offsets.len()).map(|_| None).collect();
    let mut opened = match Opened::open(source, limits.max_document_bytes) {
        Ok(opened) => opened,
        Err(error) => {
            let message = error.to_string();
            return offsets
                .iter()
                .map(|_| Err(RecordAtError::Read(message.clone())))
                .collect();
        }
    };
    // `window` holds the document from byte `base` on.
    let (mut window, mut base, mut ended) = (Vec::<u8>::new(), 0u64, false);
    let mut chunk = Vec::with_capacity(READ_BYTES);
    'offsets: for i in order {
        let offset = offsets[i];
        loop {
            // Nothing before the offset is needed again (the offsets come in order).
            let drop = usize::try_from(offset.saturating_sub(base))
                .unwrap_or(usize::MAX)
                .min(window.len());
            window.drain(..drop);
            base += drop as u64;
            if base == offset && (!window.is_empty() || ended) {
                match record_at_start(&window) {
                    Err(RecordErrorKind::Truncated) if !ended => {}
                    result => {
                        found[i] = Some(result.map_err(RecordAtError::Record));
                        continue 'offsets;
                    }
                }
            } else if ended {
                found[i] = Some(Err(RecordAtError::Record(RecordErrorKind::Truncated)));
                continue 'offsets;
            }
            if window.len() as u64 > limits.max_document_bytes {
                found[i] = Some(Err(RecordAtError::TooLarge));
                continue 'offsets;
            }
            match opened.read_chunk(&mut chunk, READ_BYTES) {
                Ok(()) if chunk.is_empty() => ended = true,
                Ok(()) => window.extend_from_slice(&chunk),
                Err(error) => {
                    let message = error.to_string();
                    for slot in found.iter_mut().filter(|f| f.is_none()) {
                        *slot = Some(Err(RecordAtError::Read(message.clone())));
                    }
                    break 'offsets;
                }
            }
        }
    }
    found
        .into_iter()
        .map(|f| f.unwrap_or(Err(RecordAtError::Record(RecordErrorKind::Truncated))))
        .collect()
}

/// [`trailsight_engine::parse::record_at`] of a slice that starts at the record.
fn record_at_start(bytes: &[u8]) -> Result<serde_json::Value, RecordErrorKind> {
    trailsight_engine::parse::record_at(
        bytes,
        trailsight_engine::parse::Location {
            record: 0,
            byte_offset: 0,
        },
    )
}

/// Why [`records_at`] could not give a record.
#[derive(Debug, thiserror::Error)]
pub enum RecordAtError {
    /// The document could not be read.
    #[error("{0}")]
    Read(String),
    /// No record could be read at the offset.
    #[error("{0}")]
    Record(RecordErrorKind),
    /// The record is longer than `--max-document-mib`.
    #[error("the record is over --max-document-mib")]
    TooLarge,
}

//! What reading one file gave: the parsed batch, or a piece of it for a document read in
//! pieces, with its sizes and read error.

use trailsight_engine::EventBatch;
use trailsight_engine::parse::{DocumentFormat, RecordError};
use trailsight_engine::time::Minute;

use crate::discover::Source;
use crate::load::LoadError;
use crate::trail::SkipReason;

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
    /// For a document read in pieces, which piece this is; `None` for a document read whole.
    /// The sizes and the batch are then this piece's, and the format and `load_error` are known
    /// on the last piece only.
    pub piece: Option<Piece>,
    /// The parsed document (or piece of it).
    pub batch: EventBatch,
}

/// Where a piece of a document read in pieces sits in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// 0 for the first piece.
    pub index: u32,
    /// Whether this is the document's last piece.
    pub last: bool,
    /// Bytes of document in the pieces before this one.
    pub document_bytes_before: u64,
    /// Bad records in the pieces before this one.
    pub bad_records_before: u64,
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

    /// Whether the file is done with this outcome: a document read whole, or the last piece.
    pub fn ends_file(&self) -> bool {
        self.piece.is_none_or(|piece| piece.last)
    }

    /// Bytes of the document up to the end of this outcome.
    pub fn document_bytes_so_far(&self) -> u64 {
        self.piece.map_or(0, |p| p.document_bytes_before) + self.document_bytes
    }

    /// Bad records of the document before this outcome's.
    pub fn bad_records_before(&self) -> u64 {
        self.piece.map_or(0, |p| p.bad_records_before)
    }
}

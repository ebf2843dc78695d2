//! The walk's state and the values it passes between its phases. A leaf: the walker's code in
//! `walk`, `records` and `failure` all reads these, and this module reads none of them.

use crate::parse::items::{DocumentFormat, ParsedItem, RecordError};
use crate::parse::lenient::Lenient;

pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// AWS writes `eventVersion` as the first key of every record, so `{"eventVersion"` marks where
/// the next record of an array starts.
pub(super) const RESYNC_KEY: &[u8] = b"\"eventVersion\"";

/// Where a walk stands between two windows: everything before the restart point is reported.
#[derive(Debug)]
pub(crate) struct WalkState {
    pub(super) fast: bool,
    pub(super) phase: Phase,
    /// Absolute offset of the first byte of the next window: the restart point.
    pub(super) restart: u64,
    pub(super) next_record: u64,
    /// End of the last value that was reported (absolute).
    pub(super) consumed: u64,
    /// Whether the first object element of an array was an EventBridge envelope.
    pub(super) first_element_envelope: Option<bool>,
    /// The error for a first value that is not a record, held until it is known whether more
    /// values follow.
    pub(super) pending: Option<RecordError>,
    /// The format the document's first value gives it, once that value is walked.
    pub(super) first_format: Option<DocumentFormat>,
    /// Multi-value documents: how to find the next value after one that does not parse.
    pub(super) mode: Option<Mode>,
    /// A value after the first one parsed, or looked like one.
    pub(super) later_values: bool,
    /// Absolute offset of the first value, and of the first newline at or after it, with the
    /// byte that follows that newline: what tells one value per line from pretty-printed values,
    /// remembered because the first value's bytes may have left the window.
    pub(super) first_start: Option<u64>,
    pub(super) first_newline: Option<(u64, Option<u8>)>,
}

/// Where in the document's structure the walk is.
#[derive(Clone, Debug)]
pub(super) enum Phase {
    /// Before the first value (and any byte order mark).
    Start,
    /// Before the top-level value at `at`, or the end (multi-value documents).
    Between { at: u64 },
    /// Inside the array of a top-level value.
    InArray { value: TopValue, at: ArrayAt },
    /// After the leading array of `{"Records":[...]`: the rest of the wrapper, from `at`.
    Finish { value: TopValue, at: u64 },
    /// A top-level value is read (or failed); decide what follows it.
    Settle {
        value: TopValue,
        outcome: Result<u64, Failure>,
    },
    /// The end of the document.
    Done,
}

/// A top-level value being walked.
#[derive(Clone, Copy, Debug)]
pub(super) struct TopValue {
    pub(super) start: u64,
    pub(super) first: bool,
    pub(super) shape: Shape,
    /// The wrapper key of a leading array (`Records`, `Events`, `logEvents`), whose repeats in
    /// the rest of the wrapper are walked too.
    pub(super) key: Option<&'static str>,
}

/// A position inside a walked array.
#[derive(Clone, Copy, Debug)]
pub(super) enum ArrayAt {
    /// Where an element (or the closing `]`) is expected, after `[` or `,`.
    Before(u64),
    /// Just after an element.
    After(u64),
}

/// What [`WalkState::walk`] did with a window.
#[derive(Debug)]
pub(crate) enum Walked {
    /// The document ended; its format.
    Done(DocumentFormat),
    /// Bytes before `restart` (absolute) are reported; the next window must start there.
    NeedMore { restart: u64 },
}

/// What the top-level value of a document turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    Records,
    Lookup,
    CloudWatch,
    Array,
    Envelope,
    Record,
    Digest,
    Unknown,
}

/// Where a value stands, which decides what it may be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Level {
    /// The whole document, or one value of a multi-value document: may be any wrapper. `defer`:
    /// the first value of the document, which is only reported as a bad record if more values
    /// follow (a lone object that is not a record is an unknown document, not a bad record).
    Top { defer: bool },
    /// An element of an array: a record, an envelope, a LookupEvents element or a log event.
    Element,
    /// A record held in a JSON string: a record or an envelope. `read_only` is the containing
    /// LookupEvents element's `ReadOnly`.
    Embedded { read_only: Lenient<bool> },
}

/// Multi-value documents: where to look for the next value after one that does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// One value per line: the next line.
    Lines,
    /// Pretty-printed values one after another: the next line that starts with `{` or `[`.
    Concatenated,
}

/// Bytes that did not parse, not yet reported, because whoever resumes reports where. Offsets
/// are relative to the window while walking, absolute when kept in a [`Phase`].
#[derive(Clone, Debug)]
pub(super) struct Failure {
    pub(super) kind: FailKind,
    /// Where the error is.
    pub(super) at: usize,
    /// Resuming must happen after this offset: it is past the start of the broken value, so the
    /// broken value is not retried and nothing already reported is reported again.
    pub(super) floor: usize,
}

#[derive(Clone, Debug)]
pub(super) enum FailKind {
    Truncated,
    Syntax(String),
    /// The window ends before this could be decided; nothing was reported since the restart
    /// point the caller knows.
    NeedMore,
}

pub(super) struct Walker<'a, 'f> {
    pub(super) state: &'f mut WalkState,
    /// Absolute offset of `bytes[0]`.
    pub(super) base: u64,
    pub(super) bytes: &'a [u8],
    pub(super) text: Option<&'a str>,
    /// Whether `bytes` runs to the end of the document.
    pub(super) complete: bool,
    pub(super) on_item: &'f mut dyn for<'x> FnMut(ParsedItem<'x>),
}

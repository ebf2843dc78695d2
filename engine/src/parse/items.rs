//! What parsing a document reports: items, where they are, the document's shape, and the
//! errors of records that could not be used. A leaf shared by every part of the parser.

use std::borrow::Cow;
use std::fmt;

use crate::event::Event;
use crate::time::TimeError;

/// Where in a document a record or an error is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// 0-based index of the record in the document, counting every record-like element (array
    /// element, JSON line, envelope) in document order.
    pub record: u64,
    /// Byte offset in the decompressed document: where the record starts, or for a syntax error,
    /// where the error was found.
    pub byte_offset: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {} (byte {})", self.record, self.byte_offset)
    }
}

/// One item found in a document.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "items are handed to a callback one at a time, never stored in bulk; boxing the \
              event would cost an allocation per record"
)]
pub enum ParsedItem<'a> {
    /// An API call, console action, sign-in, service or network event.
    Event {
        /// The event's fields.
        event: Event<'a>,
        /// Where it is.
        location: Location,
    },
    /// A CloudTrail Insights record (`eventType` `AwsCloudTrailInsight`). Not an API call; the
    /// JSON text of the record is handed over as is for the replay harness.
    Insight {
        /// The record's JSON text.
        json: Cow<'a, str>,
        /// Where it is.
        location: Location,
    },
    /// An aggregated data-event record (`eventType` `AwsAggregatedEvent`), which is not analysed.
    Aggregated {
        /// Where it is.
        location: Location,
    },
    /// A record that could not be used, or bytes that could not be parsed.
    Error(RecordError),
}

/// The shape of a document, as recognised by [`parse_document`](super::parse_document).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DocumentFormat {
    /// A CloudTrail log file: `{"Records":[...]}`.
    Records,
    /// One JSON value per line (records or envelopes), or concatenated JSON values.
    JsonLines,
    /// `aws cloudtrail lookup-events` output: `{"Events":[{"CloudTrailEvent":"..."}]}`.
    LookupEvents,
    /// EventBridge envelopes (`{"detail-type":...,"detail":{...}}`), alone or in an array.
    EventBridge,
    /// A decoded CloudWatch Logs subscription message (`{"logEvents":[{"message":"..."}]}`).
    CloudWatchLogs,
    /// A JSON array of records.
    JsonArray,
    /// A single record object.
    SingleRecord,
    /// A CloudTrail digest file; it holds no records.
    Digest,
    /// No JSON value at all (empty or whitespace only).
    Empty,
    /// Nothing recognisable.
    Unknown,
}

impl DocumentFormat {
    /// A short lower-case name for summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentFormat::Records => "records",
            DocumentFormat::JsonLines => "json-lines",
            DocumentFormat::LookupEvents => "lookup-events",
            DocumentFormat::EventBridge => "eventbridge",
            DocumentFormat::CloudWatchLogs => "cloudwatch-logs",
            DocumentFormat::JsonArray => "json-array",
            DocumentFormat::SingleRecord => "single-record",
            DocumentFormat::Digest => "digest",
            DocumentFormat::Empty => "empty",
            DocumentFormat::Unknown => "unknown",
        }
    }
}

/// What [`parse_document`](super::parse_document) found in a document, besides the items it reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentSummary {
    /// The document's shape.
    pub format: DocumentFormat,
}

/// A record that could not be used, or bytes that could not be parsed, with where it happened.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct RecordError {
    /// Where.
    pub location: Location,
    /// What.
    pub kind: RecordErrorKind,
}

/// What was wrong with a record or with the bytes around it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordErrorKind {
    /// The bytes are not valid JSON. `resumed_at` is the byte offset where reading resumed, if
    /// a later record boundary was found; the bytes in between were skipped.
    #[error("invalid JSON: {message}{}", resumed_at.map(|at| format!("; resumed at byte {at}")).unwrap_or_default())]
    Syntax {
        /// The JSON parser's message, without its position.
        message: String,
        /// Where reading resumed.
        resumed_at: Option<u64>,
    },
    /// The document ends in the middle of a value (a file cut off mid-write or mid-download).
    #[error("truncated: the document ends inside a record")]
    Truncated,
    /// A field the engine reads has the wrong JSON type.
    #[error("{field}: expected {expected}, found {found}")]
    WrongType {
        /// The field, e.g. `eventName` or `userIdentity.arn`.
        field: &'static str,
        /// The JSON type it must have.
        expected: &'static str,
        /// The JSON type it has.
        found: &'static str,
    },
    /// A field the engine needs is absent or null.
    #[error("missing {field}")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A field has a value AWS never writes there, such as a `recipientAccountId` that is not
    /// 12 digits or an `awsRegion` that is not a region name. Account and region name the
    /// output's folders and files, so such a record is refused rather than analysed.
    #[error("{field} {value:?} is not {expected}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The value, cut to at most 64 bytes.
        value: String,
        /// What the field must hold.
        expected: &'static str,
    },
    /// `eventTime` is not a usable time.
    #[error("eventTime {value:?}: {error}")]
    InvalidTime {
        /// The value, cut to at most 64 bytes.
        value: String,
        /// Why it was rejected.
        error: TimeError,
    },
    /// A field holding a record as a JSON string (`CloudTrailEvent`, `message`) does not hold one.
    #[error("{field}: embedded record is not valid JSON: {message}")]
    EmbeddedJson {
        /// The field.
        field: &'static str,
        /// The JSON parser's message.
        message: String,
    },
    /// An array element or line that is not a JSON object.
    #[error("expected a record object, found {found}")]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// An EventBridge envelope whose `detail-type` does not say it came from CloudTrail, so its
    /// `detail` is not a CloudTrail record.
    #[error("EventBridge event {detail_type:?} does not carry a CloudTrail record")]
    UnsupportedEnvelope {
        /// The envelope's `detail-type`, cut to at most 64 bytes.
        detail_type: String,
    },
}

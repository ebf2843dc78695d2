//! Parsing of CloudTrail record bytes in every format users bring.
//!
//! [`parse_document`] takes one whole, decompressed document and reports each record it finds to a
//! callback, in document order. It never panics and never stops at the first bad record: a record
//! with wrong types or missing fields becomes a [`RecordError`] and the next record is read; a JSON
//! syntax error is reported with its byte offset and reading resumes at the next record boundary it
//! can find (see `docs/parsing.md`).

use std::borrow::Cow;
use std::fmt;

use crate::event::Event;
use crate::time::TimeError;

mod fast;
mod lenient;
mod record;
mod stream;
mod walk;

pub use stream::{DocumentStream, StreamError};

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

/// The shape of a document, as recognised by [`parse_document`].
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

/// What [`parse_document`] found in a document, besides the items it reported.
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

/// Parses one whole, decompressed document and reports every item to `on_item`, in document
/// order. See the module documentation.
///
/// ```
/// use trailsight_engine::parse::{DocumentFormat, ParsedItem, parse_document};
/// let lookup = br#"{"Events":[{"EventId":"1","ReadOnly":"false","CloudTrailEvent":"{\"eventTime\":\"2024-03-04T10:00:00Z\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"CreateUser\",\"awsRegion\":\"us-east-1\"}"}]}"#;
/// let mut names = Vec::new();
/// let summary = parse_document(lookup, &mut |item| match item {
///     ParsedItem::Event { event, location } => names.push((event.event_name.into_owned(), location.record)),
///     other => panic!("{other:?}"),
/// });
/// assert_eq!(summary.format, DocumentFormat::LookupEvents);
/// assert_eq!(names, [("CreateUser".to_owned(), 0)]);
/// ```
pub fn parse_document(
    bytes: &[u8],
    on_item: &mut dyn for<'x> FnMut(ParsedItem<'x>),
) -> DocumentSummary {
    DocumentSummary {
        format: walk::run(bytes, on_item, true),
    }
}

/// [`parse_document`] without its fast path for plain records: every value goes through the
/// serde_json path that defines the behaviour. It reports exactly the same items, more slowly;
/// it exists so tests and fuzzing can check that.
pub fn parse_document_reference(
    bytes: &[u8],
    on_item: &mut dyn for<'x> FnMut(ParsedItem<'x>),
) -> DocumentSummary {
    DocumentSummary {
        format: walk::run(bytes, on_item, false),
    }
}

/// The whole record at `location` of a document, as a JSON value: for showing the fields the
/// parser skips (`requestParameters`, `responseElements`...) of a few records found with
/// [`parse_document`]. When the element at `location` holds its record (an EventBridge
/// envelope's `detail`, a `lookup-events` element's `CloudTrailEvent` string, a CloudWatch log
/// event's `message`), the record inside is returned.
///
/// ```
/// use trailsight_engine::parse::{ParsedItem, parse_document, record_at};
/// let doc = br#"{"Events":[{"EventId":"1","CloudTrailEvent":"{\"eventVersion\":\"1.08\",\"eventTime\":\"2024-03-04T10:00:00Z\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"CreateUser\",\"awsRegion\":\"us-east-1\",\"requestParameters\":{\"userName\":\"bob\"}}"}]}"#;
/// let mut at = None;
/// parse_document(doc, &mut |item| if let ParsedItem::Event { location, .. } = item { at = Some(location) });
/// let record = record_at(doc, at.unwrap()).unwrap();
/// assert_eq!(record["requestParameters"]["userName"], "bob");
/// ```
pub fn record_at(bytes: &[u8], location: Location) -> Result<serde_json::Value, RecordErrorKind> {
    let start = usize::try_from(location.byte_offset).unwrap_or(usize::MAX);
    let Some(rest) = bytes.get(start..) else {
        return Err(RecordErrorKind::Truncated);
    };
    let value = match serde_json::Deserializer::from_slice(rest)
        .into_iter::<serde_json::Value>()
        .next()
    {
        Some(Ok(value)) => value,
        Some(Err(error)) if error.is_eof() => return Err(RecordErrorKind::Truncated),
        Some(Err(error)) => {
            return Err(RecordErrorKind::Syntax {
                message: error.to_string(),
                resumed_at: None,
            });
        }
        None => return Err(RecordErrorKind::Truncated),
    };
    unwrap_record(value, 0)
}

/// The record an element holds; see [`record_at`]. Envelopes nest at most a few levels deep
/// (a CloudWatch message holding an EventBridge event), which `depth` bounds.
fn unwrap_record(
    value: serde_json::Value,
    depth: u8,
) -> Result<serde_json::Value, RecordErrorKind> {
    use serde_json::Value;
    let Value::Object(mut object) = value else {
        return Err(RecordErrorKind::NotAnObject {
            found: match value {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "boolean",
                _ => "null",
            },
        });
    };
    if depth >= 4 || object.contains_key("eventVersion") || object.contains_key("eventTime") {
        return Ok(Value::Object(object));
    }
    if object.contains_key("detail-type")
        && let Some(detail) = object.remove("detail")
    {
        return unwrap_record(detail, depth + 1);
    }
    for field in ["CloudTrailEvent", "message"] {
        if let Some(Value::String(text)) = object.get(field) {
            return match serde_json::from_str::<Value>(text) {
                Ok(inner) => unwrap_record(inner, depth + 1),
                Err(error) => Err(RecordErrorKind::EmbeddedJson {
                    field,
                    message: error.to_string(),
                }),
            };
        }
    }
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests;

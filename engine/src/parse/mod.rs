//! Parsing of CloudTrail record bytes in every format users bring.
//!
//! [`parse_document`] takes one whole, decompressed document and reports each record it finds to a
//! callback, in document order. It never panics and never stops at the first bad record: a record
//! with wrong types or missing fields becomes a [`RecordError`] and the next record is read; a JSON
//! syntax error is reported with its byte offset and reading resumes at the next record boundary it
//! can find (see `docs/parsing.md`).

mod fast;
mod items;
mod lenient;
mod record;
mod stream;
mod walk;

pub use items::{
    DocumentFormat, DocumentSummary, Location, ParsedItem, RecordError, RecordErrorKind,
};
pub use stream::{DocumentStream, StreamError};

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

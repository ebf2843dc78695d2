//! The byte-level walk over a document: finds where each value starts, parses one value at a
//! time with serde_json, and decides where to resume after bytes that do not parse.

use std::borrow::Cow;
use std::mem::take;

use memchr::{memchr, memchr_iter, memmem};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::error::Category;
use serde_json::value::RawValue;

use super::lenient::{ARRAY, BOOLEAN, LStr, Lenient, NULL, NUMBER, OBJECT, STRING};
use super::record::{Element, Record, RecordKind, truncate};
use super::{DocumentFormat, Location, ParsedItem, RecordError, RecordErrorKind};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// AWS writes `eventVersion` as the first key of every record, so `{"eventVersion"` marks where
/// the next record of an array starts.
const RESYNC_KEY: &[u8] = b"\"eventVersion\"";

/// Walks a document. `fast`: read plain records of arrays with [`super::fast`] (the serde path
/// still decides everything the fast path gives up on).
pub(crate) fn run(
    bytes: &[u8],
    on_item: &mut dyn for<'x> FnMut(ParsedItem<'x>),
    fast: bool,
) -> DocumentFormat {
    let mut walker = Walker {
        fast,
        bytes,
        // One validation pass up front lets every value be parsed as `str`, and lets record
        // texts be sliced out without validating each one; only documents with invalid UTF-8 pay
        // for a check per value.
        text: std::str::from_utf8(bytes).ok(),
        on_item,
        next_record: 0,
        consumed: 0,
        first_element_envelope: None,
        pending: None,
    };
    let start = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    walker.run(start)
}

/// What the top-level value of a document turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
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
enum Level {
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
enum Mode {
    /// One value per line: the next line.
    Lines,
    /// Pretty-printed values one after another: the next line that starts with `{` or `[`.
    Concatenated,
}

/// Bytes that did not parse, not yet reported, because whoever resumes reports where.
#[derive(Debug)]
struct Failure {
    kind: FailKind,
    /// Where the error is.
    at: usize,
    /// Resuming must happen after this offset: it is past the start of the broken value, so the
    /// broken value is not retried and nothing already reported is reported again.
    floor: usize,
}

#[derive(Debug)]
enum FailKind {
    Truncated,
    Syntax(String),
}

struct Walker<'a, 'f> {
    /// Whether array elements try the fast path first.
    fast: bool,
    bytes: &'a [u8],
    text: Option<&'a str>,
    on_item: &'f mut dyn for<'x> FnMut(ParsedItem<'x>),
    next_record: u64,
    /// End of the last value that was reported.
    consumed: usize,
    /// Whether the first object element of an array was an EventBridge envelope.
    first_element_envelope: Option<bool>,
    /// The error for a first value that is not a record, held until it is known whether more
    /// values follow.
    pending: Option<RecordError>,
}

impl<'a> Walker<'a, '_> {
    fn run(&mut self, start: usize) -> DocumentFormat {
        let first = self.skip_ws(start);
        if first == self.bytes.len() {
            return DocumentFormat::Empty;
        }
        let (shape, result) = self.top_value(first, true);
        let format = self.format(shape);
        let (mode, mut next) = match result {
            Ok(end) => {
                let next = self.skip_separators(end);
                if next == self.bytes.len() {
                    return format;
                }
                let mode = if memchr(b'\n', &self.bytes[first..end]).is_none() {
                    Mode::Lines
                } else {
                    Mode::Concatenated
                };
                if let Some(error) = self.pending.take() {
                    self.emit(ParsedItem::Error(error));
                }
                (mode, Some(next))
            }
            Err(failure) => {
                let mode = self.guess_mode(first);
                let failure = self.unclosed_line(failure, first, mode, shape);
                let next = self.resume_after(failure, mode);
                (mode, next)
            }
        };
        // A document is JSON lines once a second value parses, or at least looks like one
        // (starts with `{` or `[`); trailing garbage after one value does not make it so.
        let mut later_values = false;
        while let Some(at) = next {
            let start = self.skip_separators(at);
            if start == self.bytes.len() {
                break;
            }
            later_values |= matches!(self.bytes[start], b'{' | b'[');
            let (shape, result) = self.top_value(start, false);
            next = match result {
                Ok(end) => {
                    later_values = true;
                    Some(end)
                }
                Err(mut failure) => {
                    failure.floor = failure.floor.max(start + 1);
                    let failure = self.unclosed_line(failure, start, mode, shape);
                    self.resume_after(failure, mode)
                }
            };
        }
        if later_values {
            DocumentFormat::JsonLines
        } else {
            format
        }
    }

    fn format(&self, shape: Shape) -> DocumentFormat {
        match shape {
            Shape::Records => DocumentFormat::Records,
            Shape::Lookup => DocumentFormat::LookupEvents,
            Shape::CloudWatch => DocumentFormat::CloudWatchLogs,
            Shape::Array if self.first_element_envelope == Some(true) => {
                DocumentFormat::EventBridge
            }
            Shape::Array => DocumentFormat::JsonArray,
            Shape::Envelope => DocumentFormat::EventBridge,
            Shape::Record => DocumentFormat::SingleRecord,
            Shape::Digest => DocumentFormat::Digest,
            Shape::Unknown => DocumentFormat::Unknown,
        }
    }

    /// When the first value does not parse, there is no complete first value to tell one value
    /// per line from pretty-printed values. JSON lines start their second line with `{` or `[`
    /// in the first column; pretty-printed documents indent it.
    fn guess_mode(&self, first: usize) -> Mode {
        let second_line = memchr(b'\n', &self.bytes[first..]).map(|i| first + i + 1);
        match second_line.and_then(|at| self.bytes.get(at)) {
            Some(b'{' | b'[') => Mode::Lines,
            _ => Mode::Concatenated,
        }
    }

    /// In JSON lines, a value that opens a bracket it never closes can swallow every later line
    /// and only fail at the end of the document. That is not a truncated document when lines
    /// follow the one the value started on: it is one bad line, and the lines after it are read.
    /// A wrapper walked element by element (`{"Records":[` with one record per line) keeps its
    /// truncation: its elements were read one by one, so nothing was swallowed.
    fn unclosed_line(&self, failure: Failure, start: usize, mode: Mode, shape: Shape) -> Failure {
        let FailKind::Truncated = failure.kind else {
            return failure;
        };
        let later_line = memchr(b'\n', &self.bytes[start..])
            .is_some_and(|i| self.skip_ws(start + i + 1) < self.bytes.len());
        if mode == Mode::Lines && shape == Shape::Unknown && later_line {
            Failure {
                floor: start + 1,
                ..Failure::syntax("value not closed before the end of the document", start)
            }
        } else {
            failure
        }
    }

    /// Reports `failure` and returns where to resume in a multi-value document, if anywhere.
    fn resume_after(&mut self, failure: Failure, mode: Mode) -> Option<usize> {
        let next = match failure.kind {
            FailKind::Truncated => None,
            FailKind::Syntax(_) => {
                let floor = failure.floor.max(self.consumed).min(self.bytes.len());
                match mode {
                    Mode::Lines => memchr(b'\n', &self.bytes[floor..]).map(|i| floor + i + 1),
                    Mode::Concatenated => memchr_iter(b'\n', &self.bytes[floor..])
                        .map(|i| floor + i + 1)
                        .find(|&at| matches!(self.bytes.get(at), Some(b'{' | b'['))),
                }
                .map(|at| self.skip_ws(at))
                .filter(|&at| at < self.bytes.len())
            }
        };
        self.report(failure, next);
        next
    }

    fn report(&mut self, failure: Failure, resumed_at: Option<usize>) {
        let kind = match failure.kind {
            FailKind::Truncated => RecordErrorKind::Truncated,
            FailKind::Syntax(message) => RecordErrorKind::Syntax {
                message,
                resumed_at: resumed_at.map(|at| at as u64),
            },
        };
        self.emit_error(failure.at, kind);
    }

    /// Parses the value at `at`, which is not whitespace, and reports what it holds.
    fn top_value(&mut self, at: usize, first: bool) -> (Shape, Result<usize, Failure>) {
        match self.bytes[at] {
            b'{' => match self.leading_array(at) {
                Some((shape, open)) => {
                    let result = self
                        .walk_array(open)
                        .and_then(|end| self.finish_object(end));
                    (shape, result)
                }
                None => self.top_object(at, first),
            },
            b'[' if first && self.starts_with_foreign_object(at) => {
                // Some other tool's JSON (a label file, a config) next to the trail: not a
                // CloudTrail document, rather than one bad record per element.
                match self.parse_at::<IgnoredAny>(at) {
                    Ok((_, end)) => (Shape::Unknown, Ok(end)),
                    Err(failure) => (Shape::Unknown, Err(failure)),
                }
            }
            b'[' => (Shape::Array, self.walk_array(at)),
            _ => self.top_object(at, first),
        }
    }

    /// Whether the array at `open` starts with an object that has no key of a CloudTrail record
    /// or of any wrapper of one.
    fn starts_with_foreign_object(&self, open: usize) -> bool {
        let first = self.skip_ws(open + 1);
        if self.bytes.get(first) != Some(&b'{') {
            return false;
        }
        match self.parse_at::<Element<'a>>(first) {
            Ok((element, _)) => {
                !element.record.any_key
                    && element.detail_type.is_absent()
                    && element.cloudtrail_event.is_absent()
                    && element.message.is_absent()
                    && element.records.is_none()
                    && element.events.is_none()
                    && element.log_events.is_none()
                    && element.message_type.is_absent()
            }
            Err(_) => false,
        }
    }

    fn top_object(&mut self, at: usize, first: bool) -> (Shape, Result<usize, Failure>) {
        let (mut element, end) = match self.parse_at::<Element<'a>>(at) {
            Ok(parsed) => parsed,
            Err(mut failure) => {
                failure.floor = at + 1;
                return (Shape::Unknown, Err(failure));
            }
        };
        let Some(text) = self.value_text(at, end) else {
            self.emit_error(at, invalid_utf8(end));
            self.consumed = end;
            return (Shape::Unknown, Ok(end));
        };
        let result = self.handle(&mut element, text, at, Level::Top { defer: first });
        self.consumed = self.consumed.max(end);
        match result {
            Ok(shape) => (shape, Ok(end)),
            Err(failure) => (Shape::Unknown, Err(failure)),
        }
    }

    /// `{"Records":[`, `{"Events":[` or `{"logEvents":[` with the array as the first key: the
    /// array can be walked element by element without parsing the whole object first. Returns
    /// the offset of `[`.
    fn leading_array(&self, open_brace: usize) -> Option<(Shape, usize)> {
        let b = self.bytes;
        let quote = self.skip_ws(open_brace + 1);
        if b.get(quote) != Some(&b'"') {
            return None;
        }
        let close = quote + 1 + memchr(b'"', &b[quote + 1..])?;
        let shape = match &b[quote + 1..close] {
            b"Records" => Shape::Records,
            b"Events" => Shape::Lookup,
            b"logEvents" => Shape::CloudWatch,
            _ => return None,
        };
        let colon = self.skip_ws(close + 1);
        if b.get(colon) != Some(&b':') {
            return None;
        }
        let open = self.skip_ws(colon + 1);
        (b.get(open) == Some(&b'[')).then_some((shape, open))
    }

    /// Walks the array whose `[` is at `open`, reporting each element. Returns the offset after
    /// `]`.
    fn walk_array(&mut self, open: usize) -> Result<usize, Failure> {
        let len = self.bytes.len();
        let mut at = self.skip_ws(open + 1);
        match self.bytes.get(at) {
            None => return Err(Failure::truncated(len)),
            Some(b']') => return Ok(at + 1),
            Some(_) => {}
        }
        loop {
            let fast = match self.text {
                Some(text) if self.fast => super::fast::record(text, at),
                _ => None,
            };
            let parsed = match fast {
                Some((record, end)) => Ok((
                    Element {
                        record,
                        ..Element::default()
                    },
                    end,
                )),
                None => self.parse_at::<Element<'a>>(at),
            };
            match parsed {
                Ok((mut element, end)) => {
                    match self.value_text(at, end) {
                        Some(text) => {
                            // Array elements never walk nested arrays, so this cannot fail.
                            let _ = self.handle(&mut element, text, at, Level::Element);
                        }
                        None => self.emit_error(at, invalid_utf8(end)),
                    }
                    self.consumed = end;
                    at = end;
                }
                Err(failure) => {
                    if let FailKind::Truncated = failure.kind {
                        return Err(failure);
                    }
                    match self.resync(at + 1, at + 1) {
                        Some(next) => {
                            self.report(failure, Some(next));
                            at = next;
                            continue;
                        }
                        None => {
                            return Err(Failure {
                                floor: at + 1,
                                ..failure
                            });
                        }
                    }
                }
            }
            at = self.skip_ws(at);
            match self.bytes.get(at) {
                None => return Err(Failure::truncated(len)),
                Some(b']') => return Ok(at + 1),
                Some(b',') => {
                    at = self.skip_ws(at + 1);
                    match self.bytes.get(at) {
                        None => return Err(Failure::truncated(len)),
                        // A trailing comma loses nothing; accept it.
                        Some(b']') => return Ok(at + 1),
                        Some(_) => {}
                    }
                }
                Some(_) => {
                    let failure = Failure::syntax("expected `,` or `]`", at);
                    match self.resync(at, at) {
                        Some(next) => {
                            self.report(failure, Some(next));
                            at = next;
                        }
                        None => return Err(failure),
                    }
                }
            }
        }
    }

    /// The offset of the next `{"eventVersion"` (whitespace allowed) whose `"eventVersion"`
    /// starts at or after `from` and whose `{` is at or after `min_open`.
    fn resync(&self, from: usize, min_open: usize) -> Option<usize> {
        let b = self.bytes;
        let finder = memmem::Finder::new(RESYNC_KEY);
        let mut search = from.min(b.len());
        while let Some(i) = finder.find(&b[search..]) {
            let key = search + i;
            let open = b[..key].iter().rposition(|&c| !is_ws(c));
            if let Some(open) = open.filter(|&o| b[o] == b'{' && o >= min_open) {
                return Some(open);
            }
            search = key + 1;
        }
        None
    }

    /// After a walked leading array: the rest of the wrapper object, whose other members
    /// (`NextToken`, ...) are skipped. Returns the offset after `}`.
    fn finish_object(&mut self, mut at: usize) -> Result<usize, Failure> {
        let len = self.bytes.len();
        loop {
            at = self.skip_ws(at);
            match self.bytes.get(at) {
                None => return Err(Failure::truncated(len)),
                Some(b'}') => return Ok(at + 1),
                Some(b',') => {}
                Some(_) => return Err(Failure::syntax("expected `,` or `}`", at)),
            }
            at = self.skip_ws(at + 1);
            match self.bytes.get(at) {
                None => return Err(Failure::truncated(len)),
                Some(b'"') => {}
                Some(_) => return Err(Failure::syntax("key must be a string", at)),
            }
            at = self.skip_ws(self.parse_at::<IgnoredAny>(at)?.1);
            match self.bytes.get(at) {
                None => return Err(Failure::truncated(len)),
                Some(b':') => {}
                Some(_) => return Err(Failure::syntax("expected `:`", at)),
            }
            at = self.skip_ws(at + 1);
            if at == len {
                return Err(Failure::truncated(len));
            }
            at = self.parse_at::<IgnoredAny>(at)?.1;
        }
    }

    /// Reports what one parsed value holds.
    fn handle<'x>(
        &mut self,
        element: &mut Element<'x>,
        text: &'x str,
        at: usize,
        level: Level,
    ) -> Result<Shape, Failure> {
        if let Some(found) = element.not_object {
            let kind = RecordErrorKind::NotAnObject { found };
            if level == (Level::Top { defer: true }) {
                self.pending = Some(self.error(at, kind));
            } else {
                self.emit_error(at, kind);
            }
            return Ok(Shape::Unknown);
        }
        if let Level::Top { defer } = level {
            if let Some(raw) = element.records {
                return self.walk_raw(raw, "Records").map(|()| Shape::Records);
            }
            if let Some(raw) = element.events {
                return self.walk_raw(raw, "Events").map(|()| Shape::Lookup);
            }
            if element.log_events.is_some() || !element.message_type.is_absent() {
                if matches!(&element.message_type, Lenient::Value(t) if t == "CONTROL_MESSAGE") {
                    return Ok(Shape::CloudWatch);
                }
                match element.log_events {
                    Some(raw) => self.walk_raw(raw, "logEvents")?,
                    None => self.emit_error(at, RecordErrorKind::Missing { field: "logEvents" }),
                }
                return Ok(Shape::CloudWatch);
            }
            if element.digest_marker && !element.record.any_key {
                return Ok(Shape::Digest);
            }
            let wrapper = !element.detail_type.is_absent()
                || !element.cloudtrail_event.is_absent()
                || !element.message.is_absent();
            if defer && !wrapper && !element.record.any_key {
                self.pending =
                    Some(self.error(at, RecordErrorKind::Missing { field: "eventTime" }));
                return Ok(Shape::Unknown);
            }
        }
        if level == Level::Element && self.first_element_envelope.is_none() {
            self.first_element_envelope = Some(!element.detail_type.is_absent());
        }
        if !element.detail_type.is_absent() {
            self.envelope(element, text, at);
            return Ok(Shape::Envelope);
        }
        if let Level::Embedded { read_only } = level {
            self.emit_record(&mut element.record, Ok(text), at, read_only);
            return Ok(Shape::Record);
        }
        if !element.cloudtrail_event.is_absent() {
            let read_only = element.lookup_read_only;
            let json = take(&mut element.cloudtrail_event);
            self.embedded(json, "CloudTrailEvent", read_only, at);
            return Ok(Shape::Lookup);
        }
        if !element.message.is_absent() && !element.record.any_key {
            self.embedded(take(&mut element.message), "message", Lenient::Absent, at);
            return Ok(Shape::CloudWatch);
        }
        let read_only = element.lookup_read_only;
        self.emit_record(&mut element.record, Ok(text), at, read_only);
        Ok(Shape::Record)
    }

    /// An EventBridge envelope: the record is its `detail`.
    fn envelope<'x>(&mut self, element: &mut Element<'x>, text: &'x str, at: usize) {
        let detail_type = match &element.detail_type {
            Lenient::Value(detail_type) => detail_type,
            other => return self.emit_error(at, field_error("detail-type", STRING, other)),
        };
        // "AWS API Call via CloudTrail", "AWS Insight via CloudTrail", ...; matched loosely
        // because copies of the documentation spell the prefix differently.
        if !contains_ignore_ascii_case(detail_type, "via cloudtrail") {
            let detail_type = truncate(detail_type, 64);
            return self.emit_error(at, RecordErrorKind::UnsupportedEnvelope { detail_type });
        }
        match element.detail {
            Lenient::Value(()) => {
                // Only an Insights record needs its text, so only then is the envelope read a
                // second time to find where `detail` is.
                let detail = if element.record.kind() == RecordKind::Insight {
                    detail_text(text)
                } else {
                    Ok(text)
                };
                self.emit_record(&mut element.record, detail, at, Lenient::Absent);
            }
            other => self.emit_error(at, field_error("detail", OBJECT, &other)),
        }
    }

    /// A record held as a JSON string (`CloudTrailEvent`, `message`).
    fn embedded(
        &mut self,
        value: LStr<'_>,
        field: &'static str,
        read_only: Lenient<bool>,
        at: usize,
    ) {
        let json = match value {
            Lenient::Value(json) => json,
            other => return self.emit_error(at, field_error(field, STRING, &other)),
        };
        match serde_json::from_str::<Element<'_>>(&json) {
            Ok(mut element) => {
                // Embedded values never walk arrays, so this cannot fail.
                let _ = self.handle(&mut element, &json, at, Level::Embedded { read_only });
            }
            Err(error) => {
                let message = error_message(&error);
                self.emit_error(at, RecordErrorKind::EmbeddedJson { field, message });
            }
        }
    }

    /// Walks `Records`, `Events` or `logEvents` of a top-level object where it was not the first
    /// key. The raw value borrows from the document, so its offset is where it lies in it.
    fn walk_raw(&mut self, raw: &RawValue, field: &'static str) -> Result<(), Failure> {
        let json = raw.get();
        let offset = (json.as_ptr() as usize).wrapping_sub(self.bytes.as_ptr() as usize);
        let found = match json.as_bytes().first() {
            Some(b'[') if offset < self.bytes.len() => return self.walk_array(offset).map(drop),
            Some(b'{') => OBJECT,
            Some(b'"') => STRING,
            Some(b't' | b'f') => BOOLEAN,
            Some(b'n') => NULL,
            Some(b'[') => ARRAY,
            _ => NUMBER,
        };
        let at = offset.min(self.bytes.len());
        self.emit_error(
            at,
            RecordErrorKind::WrongType {
                field,
                expected: ARRAY,
                found,
            },
        );
        Ok(())
    }

    fn emit_record<'x>(
        &mut self,
        record: &mut Record<'x>,
        json: Result<&'x str, RecordErrorKind>,
        at: usize,
        read_only: Lenient<bool>,
    ) {
        let location = self.location(at);
        let item = match record.kind() {
            RecordKind::Insight => match json {
                Ok(json) => ParsedItem::Insight {
                    json: Cow::Borrowed(json),
                    location,
                },
                Err(kind) => ParsedItem::Error(RecordError { location, kind }),
            },
            RecordKind::Aggregated => ParsedItem::Aggregated { location },
            RecordKind::Event => match record.take_event(read_only) {
                Ok(event) => ParsedItem::Event { event, location },
                Err(kind) => ParsedItem::Error(RecordError { location, kind }),
            },
        };
        self.emit(item);
    }

    fn emit(&mut self, item: ParsedItem<'_>) {
        (self.on_item)(item);
        self.next_record += 1;
    }

    fn location(&self, at: usize) -> Location {
        Location {
            record: self.next_record,
            byte_offset: at as u64,
        }
    }

    fn error(&self, at: usize, kind: RecordErrorKind) -> RecordError {
        RecordError {
            location: self.location(at),
            kind,
        }
    }

    fn emit_error(&mut self, at: usize, kind: RecordErrorKind) {
        let error = self.error(at, kind);
        self.emit(ParsedItem::Error(error));
    }

    /// Parses one value starting at `at` (not whitespace). Returns it and the offset after it.
    fn parse_at<T: Deserialize<'a>>(&self, at: usize) -> Result<(T, usize), Failure> {
        match self.text.and_then(|text| text.get(at..)) {
            Some(rest) => self.next_value(serde_json::Deserializer::from_str(rest).into_iter(), at),
            None => self.next_value(
                serde_json::Deserializer::from_slice(&self.bytes[at..]).into_iter(),
                at,
            ),
        }
    }

    // Inlined so the value is written once into the caller's result instead of being copied
    // through intermediate tuples: an Element is several hundred bytes.
    #[inline(always)]
    fn next_value<R: serde_json::de::Read<'a>, T: Deserialize<'a>>(
        &self,
        mut stream: serde_json::StreamDeserializer<'a, R, T>,
        at: usize,
    ) -> Result<(T, usize), Failure> {
        match stream.next() {
            Some(Ok(value)) => Ok((value, at + stream.byte_offset())),
            Some(Err(error)) => Err(self.failure(&error, at)),
            None => Err(Failure::truncated(self.bytes.len())),
        }
    }

    fn failure(&self, error: &serde_json::Error, base: usize) -> Failure {
        if error.classify() == Category::Eof {
            return Failure::truncated(self.bytes.len());
        }
        let at = base + offset_of(&self.bytes[base..], error.line(), error.column());
        Failure::syntax(error_message(error), at)
    }

    /// The text of the value at `at..end`, which must be valid UTF-8 to be reported.
    fn value_text(&self, at: usize, end: usize) -> Option<&'a str> {
        match self.text {
            Some(text) => text.get(at..end),
            None => std::str::from_utf8(&self.bytes[at..end]).ok(),
        }
    }

    fn skip_ws(&self, mut at: usize) -> usize {
        while self.bytes.get(at).is_some_and(|&c| is_ws(c)) {
            at += 1;
        }
        at
    }

    /// Whitespace, and commas, which some tools write between values of a multi-value document.
    fn skip_separators(&self, mut at: usize) -> usize {
        while self.bytes.get(at).is_some_and(|&c| is_ws(c) || c == b',') {
            at += 1;
        }
        at
    }
}

impl Failure {
    fn truncated(len: usize) -> Failure {
        Failure {
            kind: FailKind::Truncated,
            at: len,
            floor: len,
        }
    }

    fn syntax(message: impl Into<String>, at: usize) -> Failure {
        Failure {
            kind: FailKind::Syntax(message.into()),
            at,
            floor: at,
        }
    }
}

/// A parsed value whose text is not UTF-8. serde_json checks every string of a document that is
/// not valid UTF-8 and reports bad bytes as a syntax error, and outside strings a value that
/// parsed is ASCII, so this is a safety net rather than an expected outcome.
fn invalid_utf8(end: usize) -> RecordErrorKind {
    RecordErrorKind::Syntax {
        message: "invalid UTF-8".to_owned(),
        resumed_at: Some(end as u64),
    }
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn field_error<T>(
    field: &'static str,
    expected: &'static str,
    value: &Lenient<T>,
) -> RecordErrorKind {
    match value {
        Lenient::Absent | Lenient::Null => RecordErrorKind::Missing { field },
        Lenient::Wrong(found) => RecordErrorKind::WrongType {
            field,
            expected,
            found,
        },
        Lenient::Value(_) => RecordErrorKind::WrongType {
            field,
            expected,
            found: OBJECT,
        },
    }
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The text of an envelope's `detail`, found by reading the envelope again.
fn detail_text(envelope: &str) -> Result<&str, RecordErrorKind> {
    #[derive(Deserialize)]
    struct DetailOnly<'a> {
        #[serde(borrow)]
        detail: &'a RawValue,
    }
    serde_json::from_str::<DetailOnly<'_>>(envelope)
        .map(|envelope| envelope.detail.get())
        .map_err(|error| RecordErrorKind::Syntax {
            message: error_message(&error),
            resumed_at: None,
        })
}

/// serde_json's message without the " at line L column C" it appends, since locations are
/// reported as byte offsets.
fn error_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&suffix) {
        Some(stripped) => stripped.to_owned(),
        None => message,
    }
}

/// The byte offset in `slice` of serde_json's 1-based line and its column, which counts bytes
/// from the start of the line up to and including the offending byte.
fn offset_of(slice: &[u8], line: usize, column: usize) -> usize {
    let line_start = match line {
        0 | 1 => 0,
        n => memchr_iter(b'\n', slice)
            .nth(n - 2)
            .map_or(slice.len(), |i| i + 1),
    };
    (line_start + column.saturating_sub(1)).min(slice.len())
}

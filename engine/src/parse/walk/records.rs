//! The record-level walker: arrays of records, wrapper objects, envelopes and embedded
//! documents, down to each record handed to the record reader.

use std::borrow::Cow;
use std::mem::take;

use memchr::memchr;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::failure::{
    Resync, Stop, contains_ignore_ascii_case, detail_text, error_message, field_error, invalid_utf8,
};
use super::types::{ArrayAt, FailKind, Failure, Level, Shape, Walker};
use crate::parse::items::{ParsedItem, RecordError, RecordErrorKind};
use crate::parse::lenient::{ARRAY, BOOLEAN, LStr, Lenient, NULL, NUMBER, OBJECT, STRING};
use crate::parse::record::{Element, Record, RecordKind, Wrapper, truncate};

impl<'a> Walker<'a, '_> {
    /// Whether the array at `open` starts with an object that has no key of a CloudTrail record
    /// or of any wrapper of one. `Err(())` when the window ends before that is known.
    pub(super) fn starts_with_foreign_object(&self, open: usize) -> Result<bool, ()> {
        let first = self.skip_ws(open + 1);
        match self.bytes.get(first) {
            None if !self.complete => return Err(()),
            Some(b'{') => {}
            _ => return Ok(false),
        }
        match self.parse_at::<Element<'a>>(first) {
            Ok((element, _)) => Ok(!element.record.any_key
                && element.detail_type.is_absent()
                && element.cloudtrail_event.is_absent()
                && element.message.is_absent()
                && element.records.is_none()
                && element.events.is_none()
                && element.log_events.is_none()
                && element.message_type.is_absent()),
            Err(failure) if failure.needs_more() => Err(()),
            Err(_) => Ok(false),
        }
    }

    /// A top-level object parsed whole. `Err(())` when the window ends inside it.
    pub(super) fn top_object(
        &mut self,
        at: usize,
        first: bool,
    ) -> Result<(Shape, Result<usize, Failure>), ()> {
        let (mut element, end) = match self.parse_at::<Element<'a>>(at) {
            Ok(parsed) => parsed,
            Err(failure) if failure.needs_more() => return Err(()),
            Err(mut failure) => {
                failure.floor = at + 1;
                return Ok((Shape::Unknown, Err(failure)));
            }
        };
        let Some(text) = self.value_text(at, end) else {
            self.emit_error(at, invalid_utf8(self.abs(end)));
            self.state.consumed = self.abs(end);
            return Ok((Shape::Unknown, Ok(end)));
        };
        let result = self.handle(&mut element, text, at, end, Level::Top { defer: first });
        self.state.consumed = self.state.consumed.max(self.abs(end));
        Ok(match result {
            Ok(shape) => (shape, Ok(end)),
            Err(failure) => (Shape::Unknown, Err(failure)),
        })
    }

    /// `{"Records":[`, `{"Events":[` or `{"logEvents":[` with the array as the first key: the
    /// array can be walked element by element without parsing the whole object first. Returns
    /// the shape, the key and the offset of `[`; `Err(())` when the window ends before it is
    /// known.
    pub(super) fn leading_array(
        &self,
        open_brace: usize,
    ) -> Result<Option<(Shape, &'static str, usize)>, ()> {
        let b = self.bytes;
        let more = |at: usize| {
            if at >= b.len() && !self.complete {
                Err(())
            } else {
                Ok(())
            }
        };
        let quote = self.skip_ws(open_brace + 1);
        more(quote)?;
        if b.get(quote) != Some(&b'"') {
            return Ok(None);
        }
        let Some(close) = memchr(b'"', &b[quote + 1..]).map(|i| quote + 1 + i) else {
            more(b.len())?;
            return Ok(None);
        };
        let (shape, key) = match &b[quote + 1..close] {
            b"Records" => (Shape::Records, "Records"),
            b"Events" => (Shape::Lookup, "Events"),
            b"logEvents" => (Shape::CloudWatch, "logEvents"),
            _ => return Ok(None),
        };
        let colon = self.skip_ws(close + 1);
        more(colon)?;
        if b.get(colon) != Some(&b':') {
            return Ok(None);
        }
        let open = self.skip_ws(colon + 1);
        more(open)?;
        Ok((b.get(open) == Some(&b'[')).then_some((shape, key, open)))
    }

    /// Walks an array from `at`, reporting each element, until its `]`: returns the offset after
    /// it. The array's end is the window's unless `limit` (the end of an enclosing value already
    /// parsed whole) says otherwise.
    pub(super) fn walk_array(&mut self, at: ArrayAt) -> Result<usize, Stop> {
        self.walk_array_within(at, None)
    }

    pub(super) fn walk_array_within(
        &mut self,
        from: ArrayAt,
        limit: Option<usize>,
    ) -> Result<usize, Stop> {
        let need = |at: ArrayAt| Stop::NeedMore(at);
        let (mut at, mut before) = match from {
            ArrayAt::Before(p) => (self.rel(p), true),
            ArrayAt::After(p) => (self.rel(p), false),
        };
        loop {
            if before {
                let element = self.skip_ws(at);
                match self.bytes.get(element) {
                    None => return Err(self.truncated_or(need(ArrayAt::Before(self.abs(at))))),
                    Some(b']') => return Ok(element + 1),
                    Some(_) => at = element,
                }
                // The element at `at`.
                let fast = match self.text {
                    Some(text) if self.state.fast => crate::parse::fast::record(text, at),
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
                                let _ = self.handle(&mut element, text, at, end, Level::Element);
                            }
                            None => self.emit_error(at, invalid_utf8(self.abs(end))),
                        }
                        self.state.consumed = self.abs(end);
                        at = end;
                        before = false;
                        continue;
                    }
                    Err(failure) if failure.needs_more() => {
                        return Err(need(ArrayAt::Before(self.abs(at))));
                    }
                    Err(failure) => {
                        if let FailKind::Truncated = failure.kind {
                            return Err(Stop::Failed(failure));
                        }
                        match self.resync(at + 1, at + 1, limit) {
                            Resync::Found(next) => {
                                self.report(failure, Some(next));
                                at = next;
                                continue;
                            }
                            Resync::NeedMore => return Err(need(ArrayAt::Before(self.abs(at)))),
                            Resync::None => {
                                return Err(Stop::Failed(Failure {
                                    floor: at + 1,
                                    ..failure
                                }));
                            }
                        }
                    }
                }
            }
            let after = self.skip_ws(at);
            match self.bytes.get(after) {
                None => return Err(self.truncated_or(need(ArrayAt::After(self.abs(at))))),
                Some(b']') => return Ok(after + 1),
                Some(b',') => {
                    // `Before` accepts a trailing comma (it loses nothing).
                    at = after + 1;
                    before = true;
                }
                Some(_) => {
                    let failure = Failure::syntax("expected `,` or `]`", after);
                    match self.resync(after, after, limit) {
                        Resync::Found(next) => {
                            self.report(failure, Some(next));
                            at = next;
                            before = true;
                        }
                        Resync::NeedMore => return Err(need(ArrayAt::After(self.abs(at)))),
                        Resync::None => return Err(Stop::Failed(failure)),
                    }
                }
            }
        }
    }

    /// After a walked leading array: the rest of the wrapper object, whose other members
    /// (`NextToken`, ...) are skipped, and whose repeats of the leading key are walked too (a
    /// JSON object may repeat a key; serde would keep the last, and the records of the others
    /// would be lost). Returns the offset after `}`. At the end of a window it restarts after
    /// the last repeat walked, so no repeat is walked twice.
    pub(super) fn finish_object(
        &mut self,
        from: usize,
        key: Option<&'static str>,
    ) -> Result<usize, Stop> {
        let len = self.bytes.len();
        let mut restart = from;
        let mut at = from;
        loop {
            let end_of_window = |walker: &Self| {
                walker.truncated_or(Stop::NeedMore(ArrayAt::After(walker.abs(restart))))
            };
            at = self.skip_ws(at);
            match self.bytes.get(at) {
                None => return Err(end_of_window(self)),
                Some(b'}') => return Ok(at + 1),
                Some(b',') => {}
                Some(_) => return Err(Stop::Failed(Failure::syntax("expected `,` or `}`", at))),
            }
            at = self.skip_ws(at + 1);
            match self.bytes.get(at) {
                None => return Err(end_of_window(self)),
                Some(b'"') => {}
                Some(_) => return Err(Stop::Failed(Failure::syntax("key must be a string", at))),
            }
            let key_start = at;
            at = match self.parse_at::<IgnoredAny>(at) {
                Ok((_, end)) => self.skip_ws(end),
                Err(failure) if failure.needs_more() => return Err(end_of_window(self)),
                Err(failure) => return Err(Stop::Failed(failure)),
            };
            let repeated = key.is_some_and(|key| {
                let name = key_start + 1..key_start + 1 + key.len();
                self.bytes.get(name) == Some(key.as_bytes())
                    && self.bytes.get(key_start + 1 + key.len()) == Some(&b'"')
            });
            match self.bytes.get(at) {
                None => return Err(end_of_window(self)),
                Some(b':') => {}
                Some(_) => return Err(Stop::Failed(Failure::syntax("expected `:`", at))),
            }
            at = self.skip_ws(at + 1);
            if at == len {
                return Err(end_of_window(self));
            }
            let value = at;
            at = match self.parse_at::<IgnoredAny>(at) {
                Ok((_, end)) => end,
                Err(failure) if failure.needs_more() => return Err(end_of_window(self)),
                Err(failure) => return Err(Stop::Failed(failure)),
            };
            if repeated && self.bytes[value] == b'[' {
                // Walked only once it is whole in the window: a window never restarts inside it.
                let inner = ArrayAt::Before(self.abs(value + 1));
                self.walk_array_within(inner, Some(at))?;
                self.state.consumed = self.abs(at);
                restart = at;
            }
        }
    }

    /// Reports what one parsed value (at `at..end`) holds.
    pub(super) fn handle<'x>(
        &mut self,
        element: &mut Element<'x>,
        text: &'x str,
        at: usize,
        end: usize,
        level: Level,
    ) -> Result<Shape, Failure> {
        if let Some(found) = element.not_object {
            let kind = RecordErrorKind::NotAnObject { found };
            if level == (Level::Top { defer: true }) {
                self.state.pending = Some(self.error(at, kind));
            } else {
                self.emit_error(at, kind);
            }
            return Ok(Shape::Unknown);
        }
        if let Level::Top { defer } = level {
            if element.records.is_some() {
                self.walk_wrapper(element, Wrapper::Records, end)?;
                return Ok(Shape::Records);
            }
            if element.events.is_some() {
                self.walk_wrapper(element, Wrapper::Events, end)?;
                return Ok(Shape::Lookup);
            }
            if element.log_events.is_some() || !element.message_type.is_absent() {
                if matches!(&element.message_type, Lenient::Value(t) if t == "CONTROL_MESSAGE") {
                    return Ok(Shape::CloudWatch);
                }
                if element.log_events.is_none() {
                    self.emit_error(at, RecordErrorKind::Missing { field: "logEvents" });
                }
                self.walk_wrapper(element, Wrapper::LogEvents, end)?;
                return Ok(Shape::CloudWatch);
            }
            if element.digest_marker && !element.record.any_key {
                return Ok(Shape::Digest);
            }
            let wrapper = !element.detail_type.is_absent()
                || !element.cloudtrail_event.is_absent()
                || !element.message.is_absent();
            if defer && !wrapper && !element.record.any_key {
                self.state.pending =
                    Some(self.error(at, RecordErrorKind::Missing { field: "eventTime" }));
                return Ok(Shape::Unknown);
            }
        }
        if level == Level::Element && self.state.first_element_envelope.is_none() {
            self.state.first_element_envelope = Some(!element.detail_type.is_absent());
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
    pub(super) fn envelope<'x>(&mut self, element: &mut Element<'x>, text: &'x str, at: usize) {
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
    pub(super) fn embedded(
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
                let end = at;
                let _ = self.handle(&mut element, &json, at, end, Level::Embedded { read_only });
            }
            Err(error) => {
                let message = error_message(&error);
                self.emit_error(at, RecordErrorKind::EmbeddedJson { field, message });
            }
        }
    }

    /// Walks every array of `wrapper` in a top-level object parsed whole (ending at `end`).
    pub(super) fn walk_wrapper(
        &mut self,
        element: &Element<'_>,
        wrapper: Wrapper,
        end: usize,
    ) -> Result<(), Failure> {
        let arrays: Vec<&RawValue> = element.arrays(wrapper).collect();
        for raw in arrays {
            self.walk_raw(raw, wrapper.key(), end)?;
        }
        Ok(())
    }

    /// Walks `Records`, `Events` or `logEvents` of a top-level object (parsed whole, ending at
    /// `end`) where it was not the first key. The raw value borrows from the window, so its
    /// offset is where it lies in it.
    pub(super) fn walk_raw(
        &mut self,
        raw: &RawValue,
        field: &'static str,
        end: usize,
    ) -> Result<(), Failure> {
        let json = raw.get();
        let offset = (json.as_ptr() as usize).wrapping_sub(self.bytes.as_ptr() as usize);
        let found = match json.as_bytes().first() {
            Some(b'[') if offset < self.bytes.len() => {
                let at = ArrayAt::Before(self.abs(offset + 1));
                return match self.walk_array_within(at, Some(end)) {
                    Ok(_) => Ok(()),
                    Err(Stop::Failed(failure)) => Err(failure),
                    // A value parsed whole holds all of its array.
                    Err(Stop::NeedMore(_)) => Err(Failure::truncated(self.bytes.len())),
                };
            }
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

    pub(super) fn emit_record<'x>(
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

    pub(super) fn emit(&mut self, item: ParsedItem<'_>) {
        (self.on_item)(item);
        self.state.next_record += 1;
    }
}

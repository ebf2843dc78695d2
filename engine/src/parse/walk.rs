//! The byte-level walk over a document: finds where each value starts, parses one value at a
//! time with serde_json, and decides where to resume after bytes that do not parse.
//!
//! The walk is resumable. It reads a *window* of the document (everything from the first byte
//! not yet reported to the last byte received) and stops, saying where to restart, as soon as a
//! decision needs bytes past the end of a window that is not the document's last: an element cut
//! by the window's end, a search for the next line or the next record that finds nothing yet.
//! It only stops at points where nothing has been reported since the restart point, so walking
//! a document in windows reports exactly the items of walking it whole. [`run`] walks a whole
//! document in one window; [`super::DocumentStream`] feeds windows as bytes arrive.

use std::borrow::Cow;
use std::mem::take;

use memchr::{memchr, memchr_iter, memmem};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::error::Category;
use serde_json::value::RawValue;

use super::lenient::{ARRAY, BOOLEAN, LStr, Lenient, NULL, NUMBER, OBJECT, STRING};
use super::record::{Element, Record, RecordKind, Wrapper, truncate};
use super::{DocumentFormat, Location, ParsedItem, RecordError, RecordErrorKind};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// AWS writes `eventVersion` as the first key of every record, so `{"eventVersion"` marks where
/// the next record of an array starts.
const RESYNC_KEY: &[u8] = b"\"eventVersion\"";

/// Walks a whole document. `fast`: read plain records of arrays with [`super::fast`] (the serde
/// path still decides everything the fast path gives up on).
pub(crate) fn run(
    bytes: &[u8],
    on_item: &mut dyn for<'x> FnMut(ParsedItem<'x>),
    fast: bool,
) -> DocumentFormat {
    let mut state = WalkState::new(fast);
    match state.walk(bytes, true, on_item) {
        Walked::Done(format) => format,
        Walked::NeedMore { .. } => unreachable!("a complete window never needs more bytes"),
    }
}

/// Where a walk stands between two windows: everything before the restart point is reported.
#[derive(Debug)]
pub(crate) struct WalkState {
    fast: bool,
    phase: Phase,
    /// Absolute offset of the first byte of the next window: the restart point.
    restart: u64,
    next_record: u64,
    /// End of the last value that was reported (absolute).
    consumed: u64,
    /// Whether the first object element of an array was an EventBridge envelope.
    first_element_envelope: Option<bool>,
    /// The error for a first value that is not a record, held until it is known whether more
    /// values follow.
    pending: Option<RecordError>,
    /// The format the document's first value gives it, once that value is walked.
    first_format: Option<DocumentFormat>,
    /// Multi-value documents: how to find the next value after one that does not parse.
    mode: Option<Mode>,
    /// A value after the first one parsed, or looked like one.
    later_values: bool,
    /// Absolute offset of the first value, and of the first newline at or after it, with the
    /// byte that follows that newline: what tells one value per line from pretty-printed values,
    /// remembered because the first value's bytes may have left the window.
    first_start: Option<u64>,
    first_newline: Option<(u64, Option<u8>)>,
}

/// Where in the document's structure the walk is.
#[derive(Clone, Debug)]
enum Phase {
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
struct TopValue {
    start: u64,
    first: bool,
    shape: Shape,
    /// The wrapper key of a leading array (`Records`, `Events`, `logEvents`), whose repeats in
    /// the rest of the wrapper are walked too.
    key: Option<&'static str>,
}

/// A position inside a walked array.
#[derive(Clone, Copy, Debug)]
enum ArrayAt {
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

/// Bytes that did not parse, not yet reported, because whoever resumes reports where. Offsets
/// are relative to the window while walking, absolute when kept in a [`Phase`].
#[derive(Clone, Debug)]
struct Failure {
    kind: FailKind,
    /// Where the error is.
    at: usize,
    /// Resuming must happen after this offset: it is past the start of the broken value, so the
    /// broken value is not retried and nothing already reported is reported again.
    floor: usize,
}

#[derive(Clone, Debug)]
enum FailKind {
    Truncated,
    Syntax(String),
    /// The window ends before this could be decided; nothing was reported since the restart
    /// point the caller knows.
    NeedMore,
}

impl WalkState {
    pub(crate) fn new(fast: bool) -> WalkState {
        WalkState {
            fast,
            phase: Phase::Start,
            restart: 0,
            next_record: 0,
            consumed: 0,
            first_element_envelope: None,
            pending: None,
            first_format: None,
            mode: None,
            later_values: false,
            first_start: None,
            first_newline: None,
        }
    }

    /// Walks `window`, the document's bytes from the restart point on; `complete` when it runs to
    /// the document's end.
    pub(crate) fn walk(
        &mut self,
        window: &[u8],
        complete: bool,
        on_item: &mut dyn for<'x> FnMut(ParsedItem<'x>),
    ) -> Walked {
        // One validation pass up front lets every value be parsed as `str`, and lets record
        // texts be sliced out without validating each one; only windows with invalid UTF-8 pay
        // for a check per value. A window cut inside a character is text up to the cut.
        let text = match std::str::from_utf8(window) {
            Ok(text) => Some(text),
            Err(e) if !complete && e.error_len().is_none() => {
                std::str::from_utf8(&window[..e.valid_up_to()]).ok()
            }
            Err(_) => None,
        };
        let mut walker = Walker {
            state: self,
            base: 0,
            bytes: window,
            text,
            complete,
            on_item,
        };
        walker.base = walker.state.restart;
        walker.run()
    }

    /// The window must now start at `restart`; `dropped` are the bytes before it that leave the
    /// window, from the old restart point. Remembers what the walk may still need to know of
    /// them.
    pub(crate) fn dropped(&mut self, dropped: &[u8]) {
        let Some(first) = self.first_start else {
            return;
        };
        let base = self.restart;
        let end = base + dropped.len() as u64;
        match self.first_newline {
            None if first < end => {
                let from = first.saturating_sub(base) as usize;
                if let Some(i) = memchr(b'\n', &dropped[from..]) {
                    let at = base + (from + i) as u64;
                    let next = dropped.get(from + i + 1).copied();
                    self.first_newline = Some((at, next));
                }
            }
            Some((at, None)) if at + 1 < end => {
                self.first_newline = Some((at, Some(dropped[(at + 1 - base) as usize])));
            }
            _ => {}
        }
        self.restart = end;
    }

    /// Absolute offset where the next window must start.
    pub(crate) fn restart(&self) -> u64 {
        self.restart
    }
}

struct Walker<'a, 'f> {
    state: &'f mut WalkState,
    /// Absolute offset of `bytes[0]`.
    base: u64,
    bytes: &'a [u8],
    text: Option<&'a str>,
    /// Whether `bytes` runs to the end of the document.
    complete: bool,
    on_item: &'f mut dyn for<'x> FnMut(ParsedItem<'x>),
}

impl<'a> Walker<'a, '_> {
    fn rel(&self, absolute: u64) -> usize {
        (absolute - self.base) as usize
    }

    fn abs(&self, relative: usize) -> u64 {
        self.base + relative as u64
    }

    /// Runs phases until the document ends or the window does.
    fn run(&mut self) -> Walked {
        loop {
            let phase = std::mem::replace(&mut self.state.phase, Phase::Done);
            match self.step(phase) {
                Ok(Phase::Done) => {
                    let format = match self.state.first_format {
                        None => DocumentFormat::Empty,
                        Some(_) if self.state.later_values => DocumentFormat::JsonLines,
                        Some(format) => format,
                    };
                    return Walked::Done(format);
                }
                Ok(next) => self.state.phase = next,
                Err((restart, phase)) => {
                    self.state.phase = phase;
                    return Walked::NeedMore { restart };
                }
            }
        }
    }

    /// One phase. `Err((restart, phase))`: the window ended; the next window must start at
    /// `restart` and take `phase` again (nothing was reported since `restart`).
    fn step(&mut self, phase: Phase) -> Result<Phase, (u64, Phase)> {
        match phase {
            Phase::Start => {
                let pause = |walker: &Self| Err((walker.base, Phase::Start));
                let start = if self.bytes.starts_with(BOM) {
                    BOM.len()
                } else if !self.complete && BOM.starts_with(self.bytes) {
                    return pause(self);
                } else {
                    0
                };
                let first = self.skip_ws(start);
                if first == self.bytes.len() {
                    return if self.complete {
                        Ok(Phase::Done)
                    } else {
                        pause(self)
                    };
                }
                self.state.first_start = Some(self.abs(first));
                self.begin_top_value(first, true).or_else(|()| pause(self))
            }
            Phase::Between { at } => {
                let start = self.skip_separators(self.rel(at));
                let restart = self.abs(start);
                let pause = Err((restart, Phase::Between { at: restart }));
                if start == self.bytes.len() {
                    return if self.complete {
                        Ok(Phase::Done)
                    } else {
                        pause
                    };
                }
                self.state.later_values |= matches!(self.bytes[start], b'{' | b'[');
                self.begin_top_value(start, false).or(pause)
            }
            Phase::InArray { value, at } => match self.walk_array(at) {
                Ok(end) => Ok(self.after_array(value, end)),
                Err(Stop::NeedMore(at)) => {
                    let (ArrayAt::Before(restart) | ArrayAt::After(restart)) = at;
                    Err((restart, Phase::InArray { value, at }))
                }
                Err(Stop::Failed(failure)) => Ok(self.settle(value, Err(failure))),
            },
            Phase::Finish { value, at } => match self.finish_object(self.rel(at), value.key) {
                Ok(end) => Ok(self.settle(value, Ok(end))),
                Err(Stop::NeedMore(ArrayAt::Before(restart) | ArrayAt::After(restart))) => {
                    Err((restart, Phase::Finish { value, at: restart }))
                }
                Err(Stop::Failed(failure)) => Ok(self.settle(value, Err(failure))),
            },
            Phase::Settle { value, outcome } => {
                let relative = match &outcome {
                    Ok(end) => Ok(self.rel(*end)),
                    Err(f) => Err(Failure {
                        at: self.rel(f.at as u64),
                        floor: self.rel(f.floor as u64),
                        kind: f.kind.clone(),
                    }),
                };
                match self.settle_value(value, relative) {
                    Some(next) => Ok(next),
                    None => Err((self.base, Phase::Settle { value, outcome })),
                }
            }
            Phase::Done => Ok(Phase::Done),
        }
    }

    /// Starts the top-level value at `at` (not whitespace). `Err(())` when the window ends
    /// before anything of it could be reported.
    fn begin_top_value(&mut self, at: usize, first: bool) -> Result<Phase, ()> {
        let start = self.abs(at);
        let value = |shape, key| TopValue {
            start,
            first,
            shape,
            key,
        };
        match self.bytes[at] {
            b'{' => match self.leading_array(at)? {
                Some((shape, key, open)) => Ok(self.enter_array(value(shape, Some(key)), open)),
                None => {
                    let (shape, result) = self.top_object(at, first)?;
                    Ok(self.settle(value(shape, None), result))
                }
            },
            b'[' if first && self.starts_with_foreign_object(at)? => {
                // Some other tool's JSON (a label file, a config) next to the trail: not a
                // CloudTrail document, rather than one bad record per element.
                let result = match self.parse_at::<IgnoredAny>(at) {
                    Ok((_, end)) => Ok(end),
                    Err(failure) if failure.needs_more() => return Err(()),
                    Err(failure) => Err(failure),
                };
                Ok(self.settle(value(Shape::Unknown, None), result))
            }
            b'[' => Ok(self.enter_array(value(Shape::Array, None), at)),
            _ => {
                let (shape, result) = self.top_object(at, first)?;
                Ok(self.settle(value(shape, None), result))
            }
        }
    }

    fn enter_array(&mut self, value: TopValue, open: usize) -> Phase {
        Phase::InArray {
            value,
            at: ArrayAt::Before(self.abs(open + 1)),
        }
    }

    /// After a top-level array: a leading array's wrapper goes on; any other value is read.
    fn after_array(&mut self, value: TopValue, end: usize) -> Phase {
        if value.key.is_some() {
            Phase::Finish {
                value,
                at: self.abs(end),
            }
        } else {
            self.settle(value, Ok(end))
        }
    }

    /// The phase that decides what follows a top-level value, with offsets made absolute.
    fn settle(&mut self, value: TopValue, outcome: Result<usize, Failure>) -> Phase {
        if value.first {
            self.state.first_format = Some(self.format(value.shape));
        }
        Phase::Settle {
            value,
            outcome: outcome.map(|end| self.abs(end)).map_err(|f| Failure {
                at: self.abs(f.at) as usize,
                floor: self.abs(f.floor) as usize,
                kind: f.kind,
            }),
        }
    }

    /// What follows a top-level value that ended at `outcome` or failed with it; `None` when
    /// the window ends before it can be known (nothing is reported then).
    fn settle_value(&mut self, value: TopValue, outcome: Result<usize, Failure>) -> Option<Phase> {
        let start = (value.start.max(self.base) - self.base) as usize;
        if value.first {
            match outcome {
                Ok(end) => {
                    let next = self.skip_separators(end);
                    if next == self.bytes.len() {
                        return self.complete.then_some(Phase::Done);
                    }
                    let mode = match self.first_newline(value.start)? {
                        Some((at, _)) if at < self.abs(end) => Mode::Concatenated,
                        _ => Mode::Lines,
                    };
                    self.state.mode = Some(mode);
                    if let Some(error) = self.state.pending.take() {
                        self.emit(ParsedItem::Error(error));
                    }
                    Some(Phase::Between { at: self.abs(next) })
                }
                Err(failure) => {
                    let mode = self.guess_mode(value.start)?;
                    let failure = self.unclosed_line(failure, start, mode, value.shape);
                    let next = self.resume_after(failure, mode)?;
                    self.state.mode = Some(mode);
                    Some(self.next_value(next))
                }
            }
        } else {
            match outcome {
                Ok(end) => {
                    self.state.later_values = true;
                    Some(Phase::Between { at: self.abs(end) })
                }
                Err(mut failure) => {
                    let mode = self.state.mode.unwrap_or(Mode::Lines);
                    let after_start = (value.start + 1).saturating_sub(self.base) as usize;
                    failure.floor = failure.floor.max(after_start);
                    let failure = self.unclosed_line(failure, start, mode, value.shape);
                    let next = self.resume_after(failure, mode)?;
                    Some(self.next_value(next))
                }
            }
        }
    }

    fn next_value(&self, next: Option<usize>) -> Phase {
        match next {
            Some(at) => Phase::Between { at: self.abs(at) },
            None => Phase::Done,
        }
    }

    fn format(&self, shape: Shape) -> DocumentFormat {
        match shape {
            Shape::Records => DocumentFormat::Records,
            Shape::Lookup => DocumentFormat::LookupEvents,
            Shape::CloudWatch => DocumentFormat::CloudWatchLogs,
            Shape::Array if self.state.first_element_envelope == Some(true) => {
                DocumentFormat::EventBridge
            }
            Shape::Array => DocumentFormat::JsonArray,
            Shape::Envelope => DocumentFormat::EventBridge,
            Shape::Record => DocumentFormat::SingleRecord,
            Shape::Digest => DocumentFormat::Digest,
            Shape::Unknown => DocumentFormat::Unknown,
        }
    }

    /// The first newline at or after the first value's start, with the byte after it (`None`
    /// at the end of the document). `None` when the window ends before it is known.
    fn first_newline(&mut self, first: u64) -> Option<Option<(u64, Option<u8>)>> {
        match self.state.first_newline {
            Some((at, Some(next))) => return Some(Some((at, Some(next)))),
            Some((at, None)) => {
                let after = self.rel(at + 1);
                return match self.bytes.get(after) {
                    Some(&next) => Some(Some((at, Some(next)))),
                    None if self.complete => Some(Some((at, None))),
                    None => None,
                };
            }
            None => {}
        }
        let from = self.rel(first.max(self.base));
        match memchr(b'\n', &self.bytes[from..]) {
            Some(i) => {
                let at = from + i;
                match self.bytes.get(at + 1) {
                    Some(&next) => Some(Some((self.abs(at), Some(next)))),
                    None if self.complete => Some(Some((self.abs(at), None))),
                    None => None,
                }
            }
            None if self.complete => Some(None),
            None => None,
        }
    }

    /// When the first value does not parse, there is no complete first value to tell one value
    /// per line from pretty-printed values. JSON lines start their second line with `{` or `[`
    /// in the first column; pretty-printed documents indent it.
    fn guess_mode(&mut self, first: u64) -> Option<Mode> {
        Some(match self.first_newline(first)? {
            Some((_, Some(b'{' | b'['))) => Mode::Lines,
            _ => Mode::Concatenated,
        })
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
        // An unwalked value is whole in the window (a window restarts at its start), so its
        // lines can be looked at.
        if mode != Mode::Lines || shape != Shape::Unknown {
            return failure;
        }
        let later_line = memchr(b'\n', &self.bytes[start..])
            .is_some_and(|i| self.skip_ws(start + i + 1) < self.bytes.len());
        if later_line {
            Failure {
                floor: start + 1,
                ..Failure::syntax("value not closed before the end of the document", start)
            }
        } else {
            failure
        }
    }

    /// Reports `failure` and returns where to resume in a multi-value document, if anywhere;
    /// `None` (reporting nothing) when the window ends before that is known.
    fn resume_after(&mut self, failure: Failure, mode: Mode) -> Option<Option<usize>> {
        let next = match failure.kind {
            FailKind::NeedMore => return None,
            FailKind::Truncated => None,
            FailKind::Syntax(_) => {
                let consumed = self.state.consumed.max(self.base) - self.base;
                let floor = failure.floor.max(consumed as usize).min(self.bytes.len());
                let found = match mode {
                    Mode::Lines => memchr(b'\n', &self.bytes[floor..]).map(|i| floor + i + 1),
                    Mode::Concatenated => memchr_iter(b'\n', &self.bytes[floor..])
                        .map(|i| floor + i + 1)
                        .find(|&at| {
                            at == self.bytes.len() || matches!(self.bytes[at], b'{' | b'[')
                        }),
                };
                match found {
                    // The next value's first byte is not here yet.
                    Some(at) if at == self.bytes.len() && !self.complete => return None,
                    None if !self.complete => return None,
                    Some(at) if at < self.bytes.len() => {
                        let at = self.skip_ws(at);
                        if at == self.bytes.len() && !self.complete {
                            return None;
                        }
                        Some(at).filter(|&at| at < self.bytes.len())
                    }
                    _ => None,
                }
            }
        };
        self.report(failure, next);
        Some(next)
    }

    fn report(&mut self, failure: Failure, resumed_at: Option<usize>) {
        let kind = match failure.kind {
            FailKind::Truncated | FailKind::NeedMore => RecordErrorKind::Truncated,
            FailKind::Syntax(message) => RecordErrorKind::Syntax {
                message,
                resumed_at: resumed_at.map(|at| self.abs(at)),
            },
        };
        self.emit_error(failure.at, kind);
    }

    /// Whether the array at `open` starts with an object that has no key of a CloudTrail record
    /// or of any wrapper of one. `Err(())` when the window ends before that is known.
    fn starts_with_foreign_object(&self, open: usize) -> Result<bool, ()> {
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
    fn top_object(
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
    fn leading_array(&self, open_brace: usize) -> Result<Option<(Shape, &'static str, usize)>, ()> {
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
    fn walk_array(&mut self, at: ArrayAt) -> Result<usize, Stop> {
        self.walk_array_within(at, None)
    }

    fn walk_array_within(&mut self, from: ArrayAt, limit: Option<usize>) -> Result<usize, Stop> {
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
                    Some(text) if self.state.fast => super::fast::record(text, at),
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

    /// At the end of the window: the document is truncated there if it ends there, else the
    /// walk must wait.
    fn truncated_or(&self, need: Stop) -> Stop {
        if self.complete {
            Stop::Failed(Failure::truncated(self.bytes.len()))
        } else {
            need
        }
    }

    /// The offset of the next `{"eventVersion"` (whitespace allowed) whose `"eventVersion"`
    /// starts at or after `from`, whose `{` is at or after `min_open`, and before `limit`.
    fn resync(&self, from: usize, min_open: usize, limit: Option<usize>) -> Resync {
        let b = &self.bytes[..limit.unwrap_or(self.bytes.len())];
        let finder = memmem::Finder::new(RESYNC_KEY);
        let mut search = from.min(b.len());
        while let Some(i) = finder.find(&b[search..]) {
            let key = search + i;
            let open = b[..key].iter().rposition(|&c| !is_ws(c));
            if let Some(open) = open.filter(|&o| b[o] == b'{' && o >= min_open) {
                return Resync::Found(open);
            }
            search = key + 1;
        }
        if limit.is_none() && !self.complete {
            Resync::NeedMore
        } else {
            Resync::None
        }
    }

    /// After a walked leading array: the rest of the wrapper object, whose other members
    /// (`NextToken`, ...) are skipped, and whose repeats of the leading key are walked too (a
    /// JSON object may repeat a key; serde would keep the last, and the records of the others
    /// would be lost). Returns the offset after `}`. At the end of a window it restarts after
    /// the last repeat walked, so no repeat is walked twice.
    fn finish_object(&mut self, from: usize, key: Option<&'static str>) -> Result<usize, Stop> {
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
    fn handle<'x>(
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
    fn walk_wrapper(
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
    fn walk_raw(&mut self, raw: &RawValue, field: &'static str, end: usize) -> Result<(), Failure> {
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
        self.state.next_record += 1;
    }

    fn location(&self, at: usize) -> Location {
        Location {
            record: self.state.next_record,
            byte_offset: self.abs(at),
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
            Some(rest) => self.next_value_of(
                serde_json::Deserializer::from_str(rest).into_iter(),
                at,
                at + rest.len(),
            ),
            None => self.next_value_of(
                serde_json::Deserializer::from_slice(&self.bytes[at..]).into_iter(),
                at,
                self.bytes.len(),
            ),
        }
    }

    // Inlined so the value is written once into the caller's result instead of being copied
    // through intermediate tuples: an Element is several hundred bytes.
    #[inline(always)]
    fn next_value_of<R: serde_json::de::Read<'a>, T: Deserialize<'a>>(
        &self,
        mut stream: serde_json::StreamDeserializer<'a, R, T>,
        at: usize,
        input_end: usize,
    ) -> Result<(T, usize), Failure> {
        match stream.next() {
            Some(Ok(value)) => {
                let end = at + stream.byte_offset();
                // A number or literal that ends where the input does may go on in the next
                // window (the input is the window, or its text up to a character it cuts).
                if end == input_end && !self.complete {
                    return Err(self.end_of_data());
                }
                Ok((value, end))
            }
            Some(Err(error)) => Err(self.failure(&error, at, input_end)),
            None => Err(self.end_of_data()),
        }
    }

    fn end_of_data(&self) -> Failure {
        if self.complete {
            Failure::truncated(self.bytes.len())
        } else {
            Failure::need_more(self.bytes.len())
        }
    }

    fn failure(&self, error: &serde_json::Error, base: usize, input_end: usize) -> Failure {
        if error.classify() == Category::Eof {
            return self.end_of_data();
        }
        let at = base + offset_of(&self.bytes[base..], error.line(), error.column());
        // serde_json reports some values cut by the end of its input (`5e-`, text cut inside
        // a character) as bad bytes at that end: in a window that is not the last, the next
        // bytes decide.
        if !self.complete && at + 1 >= input_end {
            return Failure::need_more(self.bytes.len());
        }
        Failure::syntax(error_message(error), at)
    }

    /// The text of the value at `at..end`, which must be valid UTF-8 to be reported.
    fn value_text(&self, at: usize, end: usize) -> Option<&'a str> {
        match self.text {
            Some(text) => text
                .get(at..end)
                .or_else(|| std::str::from_utf8(&self.bytes[at..end]).ok()),
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

/// Why an array walk stopped before its `]`.
#[derive(Debug)]
enum Stop {
    /// The window ended; restart at this position of the array.
    NeedMore(ArrayAt),
    /// Bytes that do not parse, and no record to resume at.
    Failed(Failure),
}

/// What a search for the next record found.
enum Resync {
    Found(usize),
    /// Nothing before the end of a window that is not the document's last.
    NeedMore,
    None,
}

impl Failure {
    fn truncated(len: usize) -> Failure {
        Failure {
            kind: FailKind::Truncated,
            at: len,
            floor: len,
        }
    }

    fn need_more(len: usize) -> Failure {
        Failure {
            kind: FailKind::NeedMore,
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

    fn needs_more(&self) -> bool {
        matches!(self.kind, FailKind::NeedMore)
    }
}

/// A parsed value whose text is not UTF-8. serde_json checks every string of a document that is
/// not valid UTF-8 and reports bad bytes as a syntax error, and outside strings a value that
/// parsed is ASCII, so this is a safety net rather than an expected outcome.
fn invalid_utf8(end: u64) -> RecordErrorKind {
    RecordErrorKind::Syntax {
        message: "invalid UTF-8".to_owned(),
        resumed_at: Some(end),
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

//! Failures and resynchronisation: where bytes stopped parsing, what is reported, and where the
//! walk picks up again.

use memchr::{memchr, memchr_iter, memmem};
use serde::Deserialize;
use serde_json::error::Category;
use serde_json::value::RawValue;

use super::types::{ArrayAt, FailKind, Failure, Mode, RESYNC_KEY, Shape, Walker};
use crate::parse::items::{Location, ParsedItem, RecordError, RecordErrorKind};
use crate::parse::lenient::{Lenient, OBJECT};

impl<'a> Walker<'a, '_> {
    /// In JSON lines, a value that opens a bracket it never closes can swallow every later line
    /// and only fail at the end of the document. That is not a truncated document when lines
    /// follow the one the value started on: it is one bad line, and the lines after it are read.
    /// A wrapper walked element by element (`{"Records":[` with one record per line) keeps its
    /// truncation: its elements were read one by one, so nothing was swallowed.
    pub(super) fn unclosed_line(
        &self,
        failure: Failure,
        start: usize,
        mode: Mode,
        shape: Shape,
    ) -> Failure {
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
    pub(super) fn resume_after(&mut self, failure: Failure, mode: Mode) -> Option<Option<usize>> {
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

    pub(super) fn report(&mut self, failure: Failure, resumed_at: Option<usize>) {
        let kind = match failure.kind {
            FailKind::Truncated | FailKind::NeedMore => RecordErrorKind::Truncated,
            FailKind::Syntax(message) => RecordErrorKind::Syntax {
                message,
                resumed_at: resumed_at.map(|at| self.abs(at)),
            },
        };
        self.emit_error(failure.at, kind);
    }

    /// At the end of the window: the document is truncated there if it ends there, else the
    /// walk must wait.
    pub(super) fn truncated_or(&self, need: Stop) -> Stop {
        if self.complete {
            Stop::Failed(Failure::truncated(self.bytes.len()))
        } else {
            need
        }
    }

    /// The offset of the next `{"eventVersion"` (whitespace allowed) whose `"eventVersion"`
    /// starts at or after `from`, whose `{` is at or after `min_open`, and before `limit`.
    pub(super) fn resync(&self, from: usize, min_open: usize, limit: Option<usize>) -> Resync {
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

    pub(super) fn location(&self, at: usize) -> Location {
        Location {
            record: self.state.next_record,
            byte_offset: self.abs(at),
        }
    }

    pub(super) fn error(&self, at: usize, kind: RecordErrorKind) -> RecordError {
        RecordError {
            location: self.location(at),
            kind,
        }
    }

    pub(super) fn emit_error(&mut self, at: usize, kind: RecordErrorKind) {
        let error = self.error(at, kind);
        self.emit(ParsedItem::Error(error));
    }

    /// Parses one value starting at `at` (not whitespace). Returns it and the offset after it.
    pub(super) fn parse_at<T: Deserialize<'a>>(&self, at: usize) -> Result<(T, usize), Failure> {
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
    pub(super) fn next_value_of<R: serde_json::de::Read<'a>, T: Deserialize<'a>>(
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

    pub(super) fn end_of_data(&self) -> Failure {
        if self.complete {
            Failure::truncated(self.bytes.len())
        } else {
            Failure::need_more(self.bytes.len())
        }
    }

    pub(super) fn failure(
        &self,
        error: &serde_json::Error,
        base: usize,
        input_end: usize,
    ) -> Failure {
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
    pub(super) fn value_text(&self, at: usize, end: usize) -> Option<&'a str> {
        match self.text {
            Some(text) => text
                .get(at..end)
                .or_else(|| std::str::from_utf8(&self.bytes[at..end]).ok()),
            None => std::str::from_utf8(&self.bytes[at..end]).ok(),
        }
    }

    pub(super) fn skip_ws(&self, mut at: usize) -> usize {
        while self.bytes.get(at).is_some_and(|&c| is_ws(c)) {
            at += 1;
        }
        at
    }

    /// Whitespace, and commas, which some tools write between values of a multi-value document.
    pub(super) fn skip_separators(&self, mut at: usize) -> usize {
        while self.bytes.get(at).is_some_and(|&c| is_ws(c) || c == b',') {
            at += 1;
        }
        at
    }
}

/// Why an array walk stopped before its `]`.
#[derive(Debug)]
pub(super) enum Stop {
    /// The window ended; restart at this position of the array.
    NeedMore(ArrayAt),
    /// Bytes that do not parse, and no record to resume at.
    Failed(Failure),
}

/// What a search for the next record found.
pub(super) enum Resync {
    Found(usize),
    /// Nothing before the end of a window that is not the document's last.
    NeedMore,
    None,
}

impl Failure {
    pub(super) fn truncated(len: usize) -> Failure {
        Failure {
            kind: FailKind::Truncated,
            at: len,
            floor: len,
        }
    }

    pub(super) fn need_more(len: usize) -> Failure {
        Failure {
            kind: FailKind::NeedMore,
            at: len,
            floor: len,
        }
    }

    pub(super) fn syntax(message: impl Into<String>, at: usize) -> Failure {
        Failure {
            kind: FailKind::Syntax(message.into()),
            at,
            floor: at,
        }
    }

    pub(super) fn needs_more(&self) -> bool {
        matches!(self.kind, FailKind::NeedMore)
    }
}

/// A parsed value whose text is not UTF-8. serde_json checks every string of a document that is
/// not valid UTF-8 and reports bad bytes as a syntax error, and outside strings a value that
/// parsed is ASCII, so this is a safety net rather than an expected outcome.
pub(super) fn invalid_utf8(end: u64) -> RecordErrorKind {
    RecordErrorKind::Syntax {
        message: "invalid UTF-8".to_owned(),
        resumed_at: Some(end),
    }
}

pub(super) fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

pub(super) fn field_error<T>(
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

pub(super) fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The text of an envelope's `detail`, found by reading the envelope again.
pub(super) fn detail_text(envelope: &str) -> Result<&str, RecordErrorKind> {
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
pub(super) fn error_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&suffix) {
        Some(stripped) => stripped.to_owned(),
        None => message,
    }
}

/// The byte offset in `slice` of serde_json's 1-based line and its column, which counts bytes
/// from the start of the line up to and including the offending byte.
pub(super) fn offset_of(slice: &[u8], line: usize, column: usize) -> usize {
    let line_start = match line {
        0 | 1 => 0,
        n => memchr_iter(b'\n', slice)
            .nth(n - 2)
            .map_or(slice.len(), |i| i + 1),
    };
    (line_start + column.saturating_sub(1)).min(slice.len())
}

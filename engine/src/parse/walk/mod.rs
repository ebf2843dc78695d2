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

use memchr::memchr;
use serde::de::IgnoredAny;

mod failure;
mod records;
mod types;

pub(crate) use types::{WalkState, Walked};

use super::items::{DocumentFormat, ParsedItem};
use failure::Stop;
use types::{ArrayAt, BOM, Failure, Mode, Phase, Shape, TopValue, Walker};

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
}

//! Parsing a document that arrives in pieces: a multi-gigabyte export, a `Records` file of
//! millions of records, standard input. Memory is bounded by the window (the bytes from the
//! first value not yet reported to the last byte received), not by the document.

use super::items::{DocumentSummary, ParsedItem};
use super::walk::{WalkState, Walked};

/// A document parsed as its bytes arrive, reporting exactly the items [`super::parse_document`]
/// reports for the whole document, with the same locations, whatever the pieces.
///
/// Bytes are kept only from the first value that is not complete yet: the element of a
/// `Records` array, the line of JSON lines, or a top-level value that cannot be walked element
/// by element. A value larger than the limit given to [`DocumentStream::new`] stops the stream
/// with [`StreamError::ValueTooLarge`].
///
/// ```
/// use trailsight_engine::parse::{DocumentStream, ParsedItem};
/// let doc = br#"{"Records":[{"eventTime":"2024-03-04T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1"}]}"#;
/// let mut stream = DocumentStream::new(1 << 20);
/// let mut events = 0;
/// let mut count = |item: ParsedItem<'_>| events += matches!(item, ParsedItem::Event { .. }) as u32;
/// for piece in doc.chunks(7) {
///     stream.feed(piece, &mut count)?;
/// }
/// let summary = stream.finish(&mut count);
/// assert_eq!((events, summary.format.as_str()), (1, "records"));
/// # Ok::<(), trailsight_engine::parse::StreamError>(())
/// ```
#[derive(Debug)]
pub struct DocumentStream {
    state: WalkState,
    /// The document's bytes from the restart point on.
    window: Vec<u8>,
    /// Walk again once the window holds this many bytes: after a walk that reported nothing,
    /// the value in the window is long, and walking it again for every piece would be quadratic.
    walk_at: usize,
    max_window_bytes: usize,
    /// Bytes received.
    received: u64,
}

/// Why a [`DocumentStream`] stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// A single value (a record, a line, a wrapper that cannot be walked element by element)
    /// is longer than the limit; so is a run of white space (the window keeps the white space
    /// between values until the next value starts).
    #[error(
        "a single JSON value (or run of white space) from byte {byte_offset} is over {} MiB and cannot be read in \
         pieces; the rest of the document is skipped",
        limit_bytes.div_ceil(1 << 20)
    )]
    ValueTooLarge {
        /// Where the value starts in the document.
        byte_offset: u64,
        /// The limit.
        limit_bytes: usize,
    },
}

impl DocumentStream {
    /// A stream that keeps at most `max_window_bytes` of a value that is not complete yet.
    pub fn new(max_window_bytes: usize) -> DocumentStream {
        DocumentStream {
            state: WalkState::new(true),
            window: Vec::new(),
            walk_at: 0,
            max_window_bytes,
            received: 0,
        }
    }

    /// [`DocumentStream::new`] without the fast path, like
    /// [`super::parse_document_reference`]: for tests and fuzzing.
    pub fn reference(max_window_bytes: usize) -> DocumentStream {
        DocumentStream {
            state: WalkState::new(false),
            ..DocumentStream::new(max_window_bytes)
        }
    }

    /// Takes the next bytes of the document and reports every item they complete.
    pub fn feed(
        &mut self,
        bytes: &[u8],
        on_item: &mut dyn for<'x> FnMut(ParsedItem<'x>),
    ) -> Result<(), StreamError> {
        self.received += bytes.len() as u64;
        self.window.extend_from_slice(bytes);
        if self.window.len() < self.walk_at {
            return self.check_size();
        }
        match self.state.walk(&self.window, false, on_item) {
            // Only the last window can end the document; a walk that did is kept as done.
            Walked::Done(_) => unreachable!("a window that is not the last never ends a walk"),
            Walked::NeedMore { restart } => {
                let done = usize::try_from(restart - self.state.restart()).unwrap_or(usize::MAX);
                self.state.dropped(&self.window[..done]);
                self.window.drain(..done);
                self.walk_at = if done == 0 {
                    self.window.len().saturating_mul(2)
                } else {
                    0
                };
            }
        }
        self.check_size()
    }

    fn check_size(&self) -> Result<(), StreamError> {
        if self.window.len() > self.max_window_bytes {
            return Err(StreamError::ValueTooLarge {
                byte_offset: self.state.restart(),
                limit_bytes: self.max_window_bytes,
            });
        }
        Ok(())
    }

    /// The document has ended: reports what is left, and its shape.
    pub fn finish(mut self, on_item: &mut dyn for<'x> FnMut(ParsedItem<'x>)) -> DocumentSummary {
        let format = match self.state.walk(&self.window, true, on_item) {
            Walked::Done(format) => format,
            Walked::NeedMore { .. } => unreachable!("the last window always ends the walk"),
        };
        DocumentSummary { format }
    }

    /// Bytes received so far.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    /// Bytes held: the part of the document not reported yet.
    pub fn window_bytes(&self) -> usize {
        self.window.len()
    }
}

#[cfg(test)]
mod tests;

//! Line-by-line input (`trailsight watch -`): a reader that never buffers more than
//! [`ReadLimits::max_line_bytes`] of a line, and the decoder of one line's document: JSON as
//! is, base64 of JSON, or base64 of gzip of JSON (the form CloudWatch Logs subscriptions deliver
//! to Kinesis and Firehose), inflated under the document cap like any file.

use std::borrow::Cow;
use std::io::{self, BufRead};

use base64::Engine as _;

use crate::load::{Gunzipped, LoadError, ReadLimits, gunzip};
use crate::trail::SkipReason;

/// A line that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line_number}: {fault}")]
pub struct LineError {
    /// Its number, from 1.
    pub line_number: u64,
    /// What went wrong.
    pub fault: LineFault,
}

/// What went wrong reading a line.
#[derive(Debug, thiserror::Error)]
pub enum LineFault {
    /// Longer than the cap: skipped up to its newline, unread.
    #[error("longer than {max_line_bytes} bytes; skipped")]
    TooLong {
        /// The cap.
        max_line_bytes: u64,
    },
    /// Reading failed.
    #[error("{0}")]
    Read(io::Error),
}

/// Lines of a reader, each at most [`ReadLimits::max_line_bytes`] long (its newline not
/// included). A longer line is an error naming its number and is skipped up to its newline
/// without being held; reading goes on with the next line.
#[derive(Debug)]
pub struct LineReader<R> {
    reader: R,
    max_line_bytes: u64,
    lines: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Lines of `reader` under `limits`.
    pub fn new(reader: R, limits: &ReadLimits) -> LineReader<R> {
        LineReader {
            reader,
            max_line_bytes: limits.max_line_bytes,
            lines: 0,
        }
    }

    /// Reads the next line into `line` (cleared first, without its newline) and returns its
    /// number; `None` at the end of input. After a [`LineFault::Read`] error the input may be
    /// unusable; after [`LineFault::TooLong`] the next call reads the next line.
    pub fn next_line(&mut self, line: &mut Vec<u8>) -> Option<Result<u64, LineError>> {
        line.clear();
        let mut length: u64 = 0;
        let mut started = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.lines += 1;
                    return Some(Err(LineError {
                        line_number: self.lines,
                        fault: LineFault::Read(error),
                    }));
                }
            };
            if available.is_empty() {
                if !started {
                    return None;
                }
                break;
            }
            started = true;
            let newline = memchr::memchr(b'\n', available);
            let chunk = &available[..newline.unwrap_or(available.len())];
            let fits = length + chunk.len() as u64 <= self.max_line_bytes;
            if fits {
                line.extend_from_slice(chunk);
            } else {
                // The part read so far goes too: an over-long line is not held at all.
                line.clear();
            }
            length = length.saturating_add(chunk.len() as u64);
            let used = chunk.len() + usize::from(newline.is_some());
            self.reader.consume(used);
            if newline.is_some() {
                break;
            }
        }
        self.lines += 1;
        if length > self.max_line_bytes {
            return Some(Err(LineError {
                line_number: self.lines,
                fault: LineFault::TooLong {
                    max_line_bytes: self.max_line_bytes,
                },
            }));
        }
        Some(Ok(self.lines))
    }

    /// Lines read so far, over-long and unreadable ones included.
    pub fn lines(&self) -> u64 {
        self.lines
    }
}

/// A line that holds no document.
#[derive(Debug, thiserror::Error)]
pub enum LineDecodeError {
    /// Not JSON, and not valid base64 either.
    #[error("neither JSON nor base64: {0}")]
    NotBase64(base64::DecodeError),
    /// Base64 of a gzip stream that is corrupt or truncated.
    #[error("base64 of gzip, but gzip: {0}")]
    Gzip(io::Error),
    /// The document is over the cap once decoded and decompressed.
    #[error(transparent)]
    TooLarge(LoadError),
}

impl LineDecodeError {
    /// [`SkipReason::TooLarge`] for a document over the cap, else `None`.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        matches!(self, LineDecodeError::TooLarge(_)).then_some(SkipReason::TooLarge)
    }
}

/// A line's document: JSON as is (a line starting with `{` or `[`), or decoded from base64 and,
/// when that is gzip, decompressed with the document cap of `limits`.
pub fn decode_line<'a>(
    text: &'a [u8],
    limits: &ReadLimits,
) -> Result<Cow<'a, [u8]>, LineDecodeError> {
    let too_large = || {
        LineDecodeError::TooLarge(LoadError::TooLarge {
            max_document_bytes: limits.max_document_bytes,
        })
    };
    if matches!(text.first(), Some(b'{' | b'[')) {
        if text.len() as u64 > limits.max_document_bytes {
            return Err(too_large());
        }
        return Ok(text.into());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(LineDecodeError::NotBase64)?;
    if !decoded.starts_with(&[0x1f, 0x8b]) {
        if decoded.len() as u64 > limits.max_document_bytes {
            return Err(too_large());
        }
        return Ok(decoded.into());
    }
    match gunzip(&decoded, limits.max_document_bytes, Vec::new()) {
        Gunzipped::Whole(json) => Ok(json.into()),
        Gunzipped::Partial(_, error) => Err(LineDecodeError::Gzip(error)),
        Gunzipped::TooLarge => Err(too_large()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn limits(bytes: u64) -> ReadLimits {
        ReadLimits {
            max_document_bytes: bytes,
            max_line_bytes: bytes,
            stream_above_bytes: bytes,
            in_flight_bytes: bytes,
        }
    }

    fn all_lines(input: &[u8], cap: u64, buffer: usize) -> Vec<Result<(u64, String), String>> {
        let reader = io::BufReader::with_capacity(buffer, input);
        let mut lines = LineReader::new(reader, &limits(cap));
        let mut line = Vec::new();
        let mut out = Vec::new();
        while let Some(result) = lines.next_line(&mut line) {
            out.push(
                result
                    .map(|n| (n, String::from_utf8(line.clone()).unwrap()))
                    .map_err(|e| e.to_string()),
            );
        }
        out
    }

    /// Whatever the reader's buffer size (a line split across many fills or not), a line over
    /// the cap is an error with its number and the next lines are read.
    #[test]
    fn over_long_lines_are_numbered_errors_and_reading_goes_on() {
        let input = b"short\n0123456789ab\n\nnext\nover-long-at-the-end";
        let too_long = |n: u64| Err(format!("line {n}: longer than 10 bytes; skipped"));
        for buffer in [1, 3, 8, 64] {
            assert_eq!(
                all_lines(input, 10, buffer),
                [
                    Ok((1, "short".to_owned())),
                    too_long(2),
                    Ok((3, String::new())),
                    Ok((4, "next".to_owned())),
                    too_long(5),
                ],
                "buffer {buffer}"
            );
        }
        // Exactly the cap fits.
        assert_eq!(
            all_lines(b"0123456789\n", 10, 4),
            [Ok((1, "0123456789".to_owned()))]
        );
        assert_eq!(all_lines(b"", 10, 4), []);
    }

    #[test]
    fn lines_decode_from_json_base64_and_base64_gzip() {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let gz = |bytes: &[u8]| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(bytes).unwrap();
            gz.finish().unwrap()
        };
        let json = br#"{"logEvents":[]}"#;
        let limits = ReadLimits::default();
        assert_eq!(&*decode_line(json, &limits).unwrap(), json);
        assert_eq!(&*decode_line(b64(json).as_bytes(), &limits).unwrap(), json);
        assert_eq!(
            &*decode_line(b64(&gz(json)).as_bytes(), &limits).unwrap(),
            json
        );
        assert!(matches!(
            decode_line(b"not json, not base64!", &limits),
            Err(LineDecodeError::NotBase64(_))
        ));
        let mut cut = gz(json);
        cut.truncate(cut.len() - 3);
        let error = decode_line(b64(&cut).as_bytes(), &limits).unwrap_err();
        assert!(
            error.to_string().starts_with("base64 of gzip, but gzip: "),
            "{error}"
        );
        assert_eq!(error.skip_reason(), None);

        // A small line inflating past the cap is refused, and says so.
        let bomb = b64(&gz(&vec![b' '; 1 << 20]));
        assert!(bomb.len() < 4096, "{}", bomb.len());
        let error = decode_line(bomb.as_bytes(), &self::limits(64 << 10)).unwrap_err();
        assert_eq!(error.skip_reason(), Some(SkipReason::TooLarge));
        assert_eq!(
            error.to_string(),
            "document larger than --max-document-mib 1 once decompressed; skipped"
        );
    }
}

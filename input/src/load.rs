//! Reading documents: a file, standard input, or bytes handed in, decompressed when they are
//! gzip (by content, not name), and capped: a document larger than
//! [`ReadLimits::max_document_bytes`] once decompressed is refused with
//! [`SkipReason::TooLarge`], and nothing is read or inflated past the cap plus one byte, so a
//! gzip bomb or an endless stream costs the cap in memory, not all of it.

use std::cell::{Cell, RefCell};
use std::fs;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;

use crate::discover::Source;
use crate::trail::SkipReason;

/// The default of `--max-document-mib`: far above any CloudTrail file (AWS delivers a few MB at
/// most), far below what would exhaust memory when a few files per thread are in flight.
pub const DEFAULT_MAX_DOCUMENT_MIB: u64 = 1024;

/// Above this size (decompressed) a document is read in pieces rather than whole: far above
/// any CloudTrail file, small enough that a few documents per thread in flight stay a few
/// hundred MB.
pub const DEFAULT_STREAM_ABOVE_BYTES: u64 = 64 << 20;

/// The default of [`ReadLimits::in_flight_bytes`]: four documents of
/// [`DEFAULT_STREAM_ABOVE_BYTES`], shared by all parse threads.
pub const DEFAULT_IN_FLIGHT_BYTES: u64 = 4 * DEFAULT_STREAM_ABOVE_BYTES;

/// How much one input may hold. One value is handed to every reader, so that a file, standard
/// input, a line of a feed and bytes from Python are refused by the same rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimits {
    /// The largest document, once decompressed (`--max-document-mib`).
    pub max_document_bytes: u64,
    /// The longest line of a line-by-line feed (`watch -`), its newline not included.
    pub max_line_bytes: u64,
    /// Documents larger than this once decompressed, and standard input, are read in pieces
    /// of this size (the `stream` module) by the readers that can: memory then holds a few
    /// pieces and the largest single value (at most [`ReadLimits::max_document_bytes`]), not
    /// the document.
    pub stream_above_bytes: u64,
    /// The most decompressed document bytes the parse threads of a run hold at once: each
    /// thread reads whole only documents of up to its share, and reads a larger one as a single
    /// piece in its turn. Which way a document under [`ReadLimits::stream_above_bytes`] is read
    /// changes nothing in what is counted, so the output does not depend on it.
    pub in_flight_bytes: u64,
}

impl ReadLimits {
    /// Documents and lines of at most `mib` MiB.
    pub const fn from_document_mib(mib: u64) -> ReadLimits {
        let max_document_bytes = mib << 20;
        ReadLimits {
            max_document_bytes,
            max_line_bytes: max_document_bytes,
            stream_above_bytes: if max_document_bytes < DEFAULT_STREAM_ABOVE_BYTES {
                max_document_bytes
            } else {
                DEFAULT_STREAM_ABOVE_BYTES
            },
            in_flight_bytes: DEFAULT_IN_FLIGHT_BYTES,
        }
    }

    /// The cap for reading a document whole on one of `threads` parse threads: the thread's
    /// share of [`ReadLimits::in_flight_bytes`] (at least 1 MiB, so that CloudTrail's files
    /// are always read whole), and no more than the whole-document cap.
    pub(crate) fn whole_document_cap_on(&self, threads: usize) -> ReadLimits {
        let mut whole = self.whole_document_cap();
        let share = (self.in_flight_bytes / threads.max(1) as u64).max(1 << 20);
        whole.max_document_bytes = whole.max_document_bytes.min(share);
        whole
    }

    /// These limits with documents over `bytes` (decompressed) read in pieces.
    pub const fn streaming_above(mut self, bytes: u64) -> ReadLimits {
        self.stream_above_bytes = bytes;
        self
    }

    /// The cap for reading a document whole: the smaller of the two limits.
    pub fn whole_document_cap(&self) -> ReadLimits {
        let mut whole = *self;
        whole.max_document_bytes = self.max_document_bytes.min(self.stream_above_bytes);
        whole
    }

    /// The document cap in MiB (rounded up), as `--max-document-mib` gives it.
    pub fn max_document_mib(&self) -> u64 {
        self.max_document_bytes.div_ceil(1 << 20)
    }
}

impl Default for ReadLimits {
    /// [`DEFAULT_MAX_DOCUMENT_MIB`] for documents and lines.
    fn default() -> ReadLimits {
        ReadLimits::from_document_mib(DEFAULT_MAX_DOCUMENT_MIB)
    }
}

/// Why a document could not be read, or only in part.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Opening or reading the source failed; nothing was kept.
    #[error("{0}")]
    Read(io::Error),
    /// The gzip stream is corrupt or truncated; what decompressed before the error is kept.
    #[error(
        "gzip: {error} after {decompressed_bytes} decompressed bytes; the records before the \
         damage were read"
    )]
    Gzip {
        /// What the decoder said.
        error: io::Error,
        /// Bytes decompressed before it, kept in [`Loaded::bytes`].
        decompressed_bytes: u64,
    },
    /// Read in pieces, the document holds a single value (a record, a line) over the cap; the
    /// records before it were read, the rest of the document was not.
    #[error("{0}")]
    ValueTooLarge(trailsight_engine::parse::StreamError),
    /// The document is over the cap; nothing was kept.
    #[error(
        "document larger than --max-document-mib {} once decompressed; skipped",
        max_document_bytes.div_ceil(1 << 20)
    )]
    TooLarge {
        /// The cap it is over.
        max_document_bytes: u64,
    },
}

impl LoadError {
    /// The kind of I/O error behind it (`FileTooLarge` for a document over the cap).
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            LoadError::Read(error) | LoadError::Gzip { error, .. } => error.kind(),
            LoadError::TooLarge { .. } | LoadError::ValueTooLarge(_) => io::ErrorKind::FileTooLarge,
        }
    }
}

/// A document's bytes, decompressed, and what went wrong reading them.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The document: everything that could be read and decompressed.
    pub bytes: Vec<u8>,
    /// Bytes read from storage (compressed size for gzip files).
    pub stored_bytes: u64,
    /// A read or decompression error; `bytes` holds what came before it.
    pub error: Option<LoadError>,
}

impl Loaded {
    /// Set when the document was not read at all, and why (over the cap).
    pub fn skipped(&self) -> Option<SkipReason> {
        matches!(self.error, Some(LoadError::TooLarge { .. })).then_some(SkipReason::TooLarge)
    }

    fn failed(error: io::Error) -> Loaded {
        Loaded {
            error: Some(LoadError::Read(error)),
            ..Loaded::default()
        }
    }

    /// What decompressing `stored_bytes` of gzip gave, as a loaded document.
    fn from_gunzipped(gunzipped: Gunzipped, stored_bytes: u64, limits: &ReadLimits) -> Loaded {
        match gunzipped {
            Gunzipped::Whole(bytes) => Loaded {
                bytes,
                stored_bytes,
                error: None,
            },
            Gunzipped::Partial(bytes, error) => Loaded {
                error: Some(LoadError::Gzip {
                    error,
                    decompressed_bytes: bytes.len() as u64,
                }),
                bytes,
                stored_bytes,
            },
            Gunzipped::TooLarge => Loaded::too_large(stored_bytes, limits),
        }
    }

    fn too_large(stored_bytes: u64, limits: &ReadLimits) -> Loaded {
        Loaded {
            stored_bytes,
            error: Some(LoadError::TooLarge {
                max_document_bytes: limits.max_document_bytes,
            }),
            ..Loaded::default()
        }
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads and, if gzip-compressed, decompresses a source, decompressing into `spare` (cleared
/// first) so that a thread reading file after file can reuse one buffer ([`load_reusing`]).
/// Never fails: errors are reported in [`Loaded::error`] with whatever was read before them.
///
/// A document over `limits.max_document_bytes` once decompressed comes back empty with
/// [`LoadError::TooLarge`]. A plain file over the cap is not read (its size says so); standard
/// input is read up to the cap plus one byte and then left unread; a gzip stream is inflated up
/// to the cap plus one byte.
pub fn load(source: &Source, limits: &ReadLimits, spare: Vec<u8>) -> Loaded {
    match source {
        Source::Path(path) => match fs::File::open(path) {
            Ok(file) => {
                let size = file.metadata().map(|m| m.len()).ok();
                load_reader(file, size, limits, spare)
            }
            Err(error) => Loaded::failed(error),
        },
        Source::Stdin => load_reader(io::stdin().lock(), None, limits, spare),
        Source::S3 { bucket, key } => {
            match crate::s3::get(bucket, &key.0, limits.max_document_bytes) {
                Ok(crate::s3::Fetched::Whole(raw)) => load_bytes(raw, limits, spare),
                // A compressed object over the cap would be larger still once inflated.
                Ok(crate::s3::Fetched::TooLarge { size_bytes }) => {
                    Loaded::too_large(size_bytes, limits)
                }
                Err(error) => Loaded::failed(io::Error::other(error.fault)),
            }
        }
    }
}

/// A document from bytes read elsewhere (handed in by Python, fetched from an object store):
/// decompressed if gzip, into `spare`, and capped as [`load`] caps a source.
pub fn load_bytes(raw: Vec<u8>, limits: &ReadLimits, spare: Vec<u8>) -> Loaded {
    let stored_bytes = raw.len() as u64;
    if !raw.starts_with(&GZIP_MAGIC) {
        if stored_bytes > limits.max_document_bytes {
            return Loaded::too_large(stored_bytes, limits);
        }
        return Loaded {
            bytes: raw,
            stored_bytes,
            error: None,
        };
    }
    let gunzipped = gunzip(&raw, limits.max_document_bytes, spare);
    Loaded::from_gunzipped(gunzipped, stored_bytes, limits)
}

/// [`load`] from a reader of `size` bytes if known: whole into memory when it fits the cap,
/// else refused (plain) or inflated as it streams (gzip).
fn load_reader(
    mut reader: impl Read,
    size: Option<u64>,
    limits: &ReadLimits,
    spare: Vec<u8>,
) -> Loaded {
    let cap = limits.max_document_bytes;
    let mut raw = Vec::new();
    if size.is_some_and(|size| size > cap) {
        // Larger than any document may be: only gzip can still be one, which its first bytes say.
        let mut magic = [0u8; 2];
        if reader.read_exact(&mut magic).is_err() || magic != GZIP_MAGIC {
            return Loaded::too_large(0, limits);
        }
        raw.extend_from_slice(&magic);
    } else {
        let expected = size.map_or(0, |size| size.min(cap));
        raw.reserve(usize::try_from(expected).unwrap_or(0).saturating_add(1));
        if let Err(error) = reader
            .by_ref()
            .take(cap.saturating_add(1))
            .read_to_end(&mut raw)
        {
            return Loaded::failed(error);
        }
        if raw.len() as u64 <= cap {
            return load_bytes(raw, limits, spare);
        }
        if !raw.starts_with(&GZIP_MAGIC) {
            return Loaded::too_large(raw.len() as u64, limits);
        }
    }
    // A gzip stream longer than the cap: inflated as it is read, so that neither the compressed
    // nor the decompressed bytes are held past the cap.
    let mut counted = CountingReader {
        inner: io::Cursor::new(raw).chain(reader),
        bytes: 0,
    };
    let gunzipped = gunzip_stream(&mut counted, cap, spare, 0);
    Loaded::from_gunzipped(gunzipped, counted.bytes, limits)
}

/// Counts the bytes read through it: the stored (compressed) size.
pub(crate) struct CountingReader<R> {
    pub(crate) inner: R,
    pub(crate) bytes: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The largest decompressed document a thread keeps its buffer for, to reuse on the next
/// document; a larger one is freed.
const KEPT_DOCUMENT_BYTES: usize = 64 << 20;

thread_local! {
    /// The buffer the thread's previous document was decompressed into.
    static SPARE_DOCUMENT: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// [`load`] into this thread's spare buffer; give the document back with [`recycle`]. Without
/// it each document is a fresh allocation of a few MB, which the allocator keeps around per
/// thread, and memory grows with the size of the files.
pub fn load_reusing(source: &Source, limits: &ReadLimits) -> Loaded {
    load(source, limits, SPARE_DOCUMENT.with(Cell::take))
}

/// Keeps a document's buffer as this thread's spare for [`load_reusing`], unless it is over
/// 64 MiB.
pub fn recycle(document: Vec<u8>) {
    if document.capacity() <= KEPT_DOCUMENT_BYTES {
        SPARE_DOCUMENT.with(|spare| spare.replace(document));
    }
}

/// What decompressing a gzip file gave.
#[derive(Debug)]
pub(crate) enum Gunzipped {
    /// Every member, complete and with matching checksums.
    Whole(Vec<u8>),
    /// What came before an error, and the error.
    Partial(Vec<u8>, io::Error),
    /// More than the limit.
    TooLarge,
}

thread_local! {
    /// One libdeflate decompressor per thread: its tables are reused across files.
    static LIBDEFLATE: RefCell<libdeflater::Decompressor> =
        RefCell::new(libdeflater::Decompressor::new());
}

/// Decompresses a gzip file of one or more members into `bytes` (cleared first), stopping past
/// `max_document_bytes`.
///
/// The fast path decompresses the whole file in one call with libdeflate (about 1.35x zlib-rs
/// here; see docs/benchmarks.md) into a buffer sized by the gzip trailer's ISIZE. libdeflate
/// checks the CRC-32 and ISIZE of the first member only and does not say where that member ended,
/// so the result is kept only when the file's last 8 bytes are that same trailer, which is what a
/// single-member file (every CloudTrail file) ends with. Anything else (several members, ISIZE
/// wrapped past 4 GiB, a corrupt or truncated stream, a size above the limit) goes through
/// flate2's streaming decoder, which reads every member and keeps what came before an error.
/// A multi-member file whose last member has exactly the first member's CRC-32 and length is read
/// as its first member only; such a last member is, byte for byte, almost surely a repeat of the
/// first.
pub(crate) fn gunzip(raw: &[u8], max_document_bytes: u64, mut bytes: Vec<u8>) -> Gunzipped {
    if gunzip_single_member(raw, max_document_bytes, &mut bytes).is_some() {
        return Gunzipped::Whole(bytes);
    }
    let hint = decompressed_size_hint(raw, max_document_bytes);
    gunzip_stream(raw, max_document_bytes, bytes, hint)
}

/// flate2's multi-member decoder over `reader`, into `bytes` (cleared, then `hint` reserved),
/// reading no more than `max_document_bytes` + 1 decompressed bytes.
fn gunzip_stream(
    reader: impl Read,
    max_document_bytes: u64,
    mut bytes: Vec<u8>,
    hint: usize,
) -> Gunzipped {
    bytes.clear();
    bytes.reserve(hint);
    let result = MultiGzDecoder::new(reader)
        .take(max_document_bytes.saturating_add(1))
        .read_to_end(&mut bytes);
    if bytes.len() as u64 > max_document_bytes {
        return Gunzipped::TooLarge;
    }
    match result {
        Ok(_) => Gunzipped::Whole(bytes),
        Err(error) => Gunzipped::Partial(bytes, error),
    }
}

/// The fast path of [`gunzip`], into `bytes`: `None` when it does not apply or fails.
fn gunzip_single_member(raw: &[u8], max_document_bytes: u64, bytes: &mut Vec<u8>) -> Option<()> {
    let trailer: [u8; 8] = raw.get(raw.len().checked_sub(8)?..)?.try_into().ok()?;
    let crc = u32::from_le_bytes(trailer[..4].try_into().ok()?);
    let size = u32::from_le_bytes(trailer[4..].try_into().ok()?);
    // DEFLATE cannot expand more than 1032:1; a larger ISIZE is a lie or wrapped.
    if u64::from(size) > max_document_bytes || u64::from(size) > (raw.len() as u64) * 1032 {
        return None;
    }
    bytes.clear();
    bytes.resize(size as usize, 0);
    let n = LIBDEFLATE
        .with(|d| d.borrow_mut().gzip_decompress(raw, bytes))
        .ok()?;
    (n == bytes.len() && libdeflater::crc32(bytes) == crc).then_some(())
}

/// The size gzip records in its trailer (modulo 2^32), capped, to size the output buffer once.
fn decompressed_size_hint(raw: &[u8], max_document_bytes: u64) -> usize {
    let Some(trailer) = raw.len().checked_sub(4).map(|at| &raw[at..]) else {
        return 0;
    };
    let size = u64::from(u32::from_le_bytes(trailer.try_into().unwrap_or([0; 4])));
    let cap = max_document_bytes.min(raw.len() as u64 * 32).min(1 << 30);
    usize::try_from(size.min(cap)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gz(text: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    const KIB: ReadLimits = ReadLimits {
        max_document_bytes: 1024,
        max_line_bytes: 1024,
        stream_above_bytes: 1024,
        in_flight_bytes: 4096,
    };

    #[test]
    fn the_cap_is_inclusive_for_plain_and_gzip_bytes() {
        for size in [1023, 1024, 1025] {
            let text = vec![b' '; size];
            for raw in [text.clone(), gz(&text)] {
                let loaded = load_bytes(raw, &KIB, Vec::new());
                let over = size > 1024;
                assert_eq!(loaded.skipped().is_some(), over, "{size}");
                assert_eq!(loaded.bytes.len(), if over { 0 } else { size });
            }
        }
    }

    /// A trailer that lies about the size cannot get past the cap through the fast path, and a
    /// reader that never ends is read only up to the cap.
    #[test]
    fn a_lying_trailer_and_an_endless_reader_stop_at_the_cap() {
        let mut bomb = gz(&vec![b' '; 64 << 10]);
        let at = bomb.len() - 4;
        bomb[at..].copy_from_slice(&16u32.to_le_bytes());
        let loaded = load_bytes(bomb, &KIB, Vec::new());
        assert_eq!(
            loaded.error.as_ref().map(LoadError::kind),
            Some(io::ErrorKind::FileTooLarge)
        );

        let endless = io::repeat(b'x');
        let loaded = load_reader(endless, None, &KIB, Vec::new());
        assert_eq!(loaded.skipped(), Some(SkipReason::TooLarge));
        assert_eq!(loaded.stored_bytes, 1025);
        assert!(loaded.bytes.is_empty());
    }

    /// A gzip stream whose compressed bytes alone pass the cap is inflated as it streams:
    /// refused once its output passes the cap, or kept whole when it does not (stored blocks
    /// make the compressed form larger than the document).
    #[test]
    fn gzip_longer_than_the_cap_streams() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        let text: Vec<u8> = (0..1000u32)
            .flat_map(|i| i.to_le_bytes())
            .take(1020)
            .collect();
        encoder.write_all(&text).unwrap();
        let stored = encoder.finish().unwrap();
        assert!(stored.len() > 1024, "{}", stored.len());
        let loaded = load_reader(&stored[..], None, &KIB, Vec::new());
        assert_eq!(
            (loaded.bytes.as_slice(), loaded.error.is_none()),
            (&text[..], true)
        );
        assert_eq!(loaded.stored_bytes, stored.len() as u64);

        let endless_gzip = gz(&vec![b'x'; 1 << 20]);
        let loaded = load_reader(&endless_gzip[..], Some(10_000), &KIB, Vec::new());
        assert_eq!(loaded.skipped(), Some(SkipReason::TooLarge));
    }

    #[test]
    fn corrupt_gzip_keeps_what_came_before() {
        let text: String = (0..2000).map(|i| format!("line {i}\n")).collect();
        let mut raw = gz(text.as_bytes());
        let whole = load_bytes(raw.clone(), &ReadLimits::default(), Vec::new());
        assert_eq!(
            (whole.bytes.as_slice(), whole.error.is_none()),
            (text.as_bytes(), true)
        );
        raw.truncate(raw.len() / 2);
        let cut = load_bytes(raw, &ReadLimits::default(), Vec::new());
        let error = cut.error.as_ref().unwrap();
        assert!(error.to_string().starts_with("gzip:"), "{error}");
        assert!(
            error.to_string().ends_with(&format!(
                "after {} decompressed bytes; the records before the damage were read",
                cut.bytes.len()
            )),
            "{error}"
        );
        assert!(!cut.bytes.is_empty() && text.as_bytes().starts_with(&cut.bytes));
        assert_eq!(cut.skipped(), None);
    }

    /// A reused buffer holding a larger earlier document gives exactly the next one, by the
    /// single-member path, the multi-member path and the cut-off path alike.
    #[test]
    fn a_reused_buffer_gives_exactly_the_new_document() {
        let single = gz(b"{\"Records\":[]}");
        let multi = [gz(b"{\"Rec"), gz(b"ords\":[]}")].concat();
        for raw in [single, multi] {
            let loaded = load_bytes(raw, &ReadLimits::default(), vec![b'#'; 1 << 20]);
            assert_eq!(
                (loaded.bytes.as_slice(), loaded.error.is_none()),
                (&b"{\"Records\":[]}"[..], true)
            );
        }
        let mut cut = gz(&[b'x'; 100_000]);
        cut.truncate(cut.len() / 2);
        let loaded = load_bytes(cut, &ReadLimits::default(), vec![b'#'; 1 << 20]);
        assert!(loaded.error.is_some() && loaded.bytes.iter().all(|&b| b == b'x'));
    }

    #[test]
    fn limits_in_mib() {
        let limits = ReadLimits::from_document_mib(3);
        assert_eq!(
            (limits.max_document_bytes, limits.max_line_bytes),
            (3 << 20, 3 << 20)
        );
        assert_eq!(limits.max_document_mib(), 3);
        assert_eq!(
            ReadLimits::default().max_document_mib(),
            DEFAULT_MAX_DOCUMENT_MIB
        );
        assert_eq!(
            LoadError::TooLarge {
                max_document_bytes: 3 << 20
            }
            .to_string(),
            "document larger than --max-document-mib 3 once decompressed; skipped"
        );
    }
}

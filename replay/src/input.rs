//! Finding and reading trail files: command-line paths, directories walked at any depth (an
//! `aws s3 sync` copy of `AWSLogs/`, organization trails included), and standard input; plain or
//! gzip-compressed.
//!
//! Discovery lists files in a fixed order, whatever order the paths were given in; the pipeline
//! then counts them in time order (see `pipeline::run`): CloudTrail files by their delivery time
//! (the `YYYYMMDDTHHmmZ` in `<acct>_CloudTrail_<region>_<time>_<id>.json.gz`), which is the
//! order CloudTrail wrote them, so event time only moves forward across files except for the
//! few records CloudTrail delivers late.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use trailsight_engine::time::Minute;
// The name rules live in the engine so that the Python package and the Spark job read the
// same files in the same order as this command.
pub use trailsight_engine::trail::{SkipReason, account_region, delivery_time, skip_reason};

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputFile {
    /// CloudTrail's delivery time from the file name, if it has one.
    pub delivered: Option<Minute>,
    /// Where it is.
    pub source: Source,
}

/// Where an input comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A file.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(path) => write!(f, "{}", path.display()),
            Source::Stdin => f.write_str("<stdin>"),
        }
    }
}

/// A path that could not be listed or read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The path.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The inputs found under the given paths.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Files to read, in processing order.
    pub files: Vec<InputFile>,
    /// Files not read, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Paths that could not be listed.
    pub errors: Vec<InputError>,
}

/// Finds the inputs under `paths`. A path named explicitly is always read, whatever its name; the
/// skip rules apply to files found by walking directories.
pub fn discover(paths: &[PathBuf]) -> Discovery {
    let mut discovery = Discovery::default();
    for path in paths {
        if path.as_os_str() == "-" {
            discovery.files.push(InputFile {
                delivered: None,
                source: Source::Stdin,
            });
        } else if path.is_dir() {
            walk(path, &mut discovery);
        } else if path.exists() {
            discovery.files.push(input_file(path.clone()));
        } else {
            discovery.errors.push(InputError {
                path: path.display().to_string(),
                message: "no such file or directory".into(),
            });
        }
    }
    discovery.files.sort();
    discovery.files.dedup();
    discovery
}

fn walk(root: &Path, discovery: &mut Discovery) {
    // Symbolic links are followed (synced trees may link accounts in); walkdir detects loops.
    for entry in walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(root).display().to_string();
                let message = match error.loop_ancestor() {
                    Some(ancestor) => format!("symbolic link loop back to {}", ancestor.display()),
                    None => error
                        .io_error()
                        .map_or_else(|| error.to_string(), io::Error::to_string),
                };
                discovery.errors.push(InputError { path, message });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        match skip_reason(relative) {
            Some(reason) => *discovery.skipped.entry(reason).or_insert(0) += 1,
            None => discovery.files.push(input_file(entry.into_path())),
        }
    }
}

fn input_file(path: PathBuf) -> InputFile {
    let delivered = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(delivery_time);
    InputFile {
        delivered,
        source: Source::Path(path),
    }
}

/// A file's bytes, decompressed, and what went wrong reading them.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The document: everything that could be read and decompressed.
    pub bytes: Vec<u8>,
    /// Bytes read from storage (compressed size for gzip files).
    pub stored_bytes: u64,
    /// A read or decompression error; `bytes` holds what came before it.
    pub error: Option<String>,
    /// Set when the file was not read at all, and why; `error` then says more.
    pub skipped: Option<SkipReason>,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The default of `--max-document-mib`: far above any CloudTrail file (AWS delivers a few MB at
/// most), far below what would exhaust memory when a few files per thread are in flight.
pub const DEFAULT_MAX_DOCUMENT_MIB: u64 = 1024;

/// Reads and, if gzip-compressed (by content, not name), decompresses an input, refusing documents
/// larger than [`DEFAULT_MAX_DOCUMENT_MIB`]. See [`load_limited`].
pub fn load(source: &Source) -> Loaded {
    load_limited(source, DEFAULT_MAX_DOCUMENT_MIB << 20)
}

/// Reads and, if gzip-compressed (by content, not name), decompresses an input. Never fails:
/// errors are reported in [`Loaded::error`] with whatever was read before them.
///
/// A document (decompressed) larger than `max_document_bytes` is not read: a gzip bomb, or a file
/// that is not a trail, would otherwise take all memory. It comes back empty with
/// [`SkipReason::TooLarge`] and an error naming the limit; decompression stops as soon as the
/// limit is passed.
pub fn load_limited(source: &Source, max_document_bytes: u64) -> Loaded {
    load_into(source, max_document_bytes, Vec::new())
}

/// [`load_limited`], decompressing into `spare` (cleared first) so that a thread reading file
/// after file reuses one buffer: without it each document is a fresh allocation of a few MB,
/// which the allocator keeps around per thread, and memory grows with the size of the files.
pub fn load_into(source: &Source, max_document_bytes: u64, spare: Vec<u8>) -> Loaded {
    let raw = match source {
        Source::Path(path) => read_file(path, max_document_bytes),
        Source::Stdin => {
            let mut buf = Vec::new();
            io::stdin().lock().read_to_end(&mut buf).map(|_| buf)
        }
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(error) if error.kind() == io::ErrorKind::FileTooLarge => {
            return too_large(0, max_document_bytes);
        }
        Err(error) => {
            return Loaded {
                error: Some(error.to_string()),
                ..Loaded::default()
            };
        }
    };
    let stored_bytes = raw.len() as u64;
    if !raw.starts_with(&GZIP_MAGIC) {
        if stored_bytes > max_document_bytes {
            return too_large(stored_bytes, max_document_bytes);
        }
        return Loaded {
            bytes: raw,
            stored_bytes,
            ..Loaded::default()
        };
    }
    match gunzip(&raw, max_document_bytes, spare) {
        Gunzipped::Whole(bytes) => Loaded {
            bytes,
            stored_bytes,
            ..Loaded::default()
        },
        Gunzipped::Partial(bytes, error) => Loaded {
            error: Some(format!(
                "gzip: {error} after {} decompressed bytes",
                bytes.len()
            )),
            bytes,
            stored_bytes,
            skipped: None,
        },
        Gunzipped::TooLarge => too_large(stored_bytes, max_document_bytes),
    }
}

/// A file's bytes; `FileTooLarge` without reading it when it is larger than any document may be
/// and is not gzip (which is checked by its first bytes).
fn read_file(path: &Path, max_document_bytes: u64) -> io::Result<Vec<u8>> {
    let mut file = fs::File::open(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > max_document_bytes {
        let mut magic = [0u8; 2];
        let gzip = file.read_exact(&mut magic).is_ok() && magic == GZIP_MAGIC;
        if !gzip {
            return Err(io::ErrorKind::FileTooLarge.into());
        }
        let mut raw = magic.to_vec();
        file.read_to_end(&mut raw)?;
        return Ok(raw);
    }
    let mut raw = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    file.read_to_end(&mut raw)?;
    Ok(raw)
}

fn too_large(stored_bytes: u64, max_document_bytes: u64) -> Loaded {
    Loaded {
        stored_bytes,
        error: Some(format!(
            "document larger than --max-document-mib {} once decompressed; skipped",
            max_document_bytes.div_ceil(1 << 20)
        )),
        skipped: Some(SkipReason::TooLarge),
        ..Loaded::default()
    }
}

/// What decompressing a gzip file gave.
#[derive(Debug)]
enum Gunzipped {
    /// Every member, complete and with matching checksums.
    Whole(Vec<u8>),
    /// What came before an error, and the error.
    Partial(Vec<u8>, io::Error),
    /// More than the limit.
    TooLarge,
}

thread_local! {
    /// One libdeflate decompressor per thread: its tables are reused across files.
    static LIBDEFLATE: std::cell::RefCell<libdeflater::Decompressor> =
        std::cell::RefCell::new(libdeflater::Decompressor::new());
}

/// Decompresses a gzip file of one or more members.
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
fn gunzip(raw: &[u8], max_document_bytes: u64, mut bytes: Vec<u8>) -> Gunzipped {
    if gunzip_single_member(raw, max_document_bytes, &mut bytes).is_some() {
        return Gunzipped::Whole(bytes);
    }
    bytes.clear();
    bytes.reserve(decompressed_size_hint(raw, max_document_bytes));
    let result = MultiGzDecoder::new(raw)
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
    use super::*;
    use std::io::Write;

    #[test]
    fn delivery_times_from_cloudtrail_names() {
        let name = "123456789012_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json.gz";
        assert_eq!(
            delivery_time(name).unwrap().to_string(),
            "2023-07-10T12:20:00Z"
        );
        let insight =
            "123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz";
        assert_eq!(
            delivery_time(insight).unwrap().to_string(),
            "2020-09-23T05:16:00Z"
        );
        assert_eq!(delivery_time("events.json"), None);
        assert_eq!(account_region(name), Some(("123456789012", "us-east-1")));
        assert_eq!(account_region(insight), None);
        assert_eq!(account_region("export.json"), None);
        assert_eq!(delivery_time("x_20231340T1220Z_y.json"), None);
    }

    #[test]
    fn skip_rules() {
        let cases = [
            (
                "AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/d.json.gz",
                Some(SkipReason::Digest),
            ),
            (
                "AWSLogs/o-1/2/CloudTrail-Aggregated/eu-west-1/x.json.gz",
                Some(SkipReason::Aggregated),
            ),
            ("AWSLogs/1/CloudTrail/us-east-1/2024/01/01/a.json.gz", None),
            (
                "AWSLogs/1/CloudTrail-Insight/us-east-1/2024/01/01/a.json.gz",
                None,
            ),
            ("export.jsonl", None),
            ("export.NDJSON.GZ", None),
            ("firehose-object.gz", None),
            ("notes.txt", Some(SkipReason::NotATrailFile)),
            ("archive.tar.gz", Some(SkipReason::NotATrailFile)),
            (".a.json.gz.x9Zq", Some(SkipReason::Hidden)),
        ];
        for (path, expected) in cases {
            assert_eq!(skip_reason(Path::new(path)), expected, "{path}");
        }
    }

    #[test]
    fn files_are_ordered_by_delivery_time_then_path_whatever_the_argument_order() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "1_CloudTrail_us-east-1_20240101T0010Z_b.json",
            "1_CloudTrail_us-east-1_20240101T0005Z_z.json",
            "1_CloudTrail_us-east-1_20240101T0010Z_a.json",
            "export.json",
        ];
        for name in names {
            fs::write(dir.path().join(name), "{}").unwrap();
        }
        let mut paths: Vec<PathBuf> = names.iter().map(|n| dir.path().join(n)).collect();
        let order = |paths: &[PathBuf]| -> Vec<String> {
            discover(paths)
                .files
                .iter()
                .map(|f| f.source.to_string().rsplit('/').next().unwrap().to_owned())
                .collect()
        };
        let expected = [names[3], names[1], names[2], names[0]];
        assert_eq!(order(&paths), expected);
        paths.reverse();
        assert_eq!(order(&paths), expected);
        assert_eq!(order(&[dir.path().to_path_buf()]), expected);
    }

    #[test]
    fn corrupt_gzip_keeps_what_came_before() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let text: String = (0..2000).map(|i| format!("line {i}\n")).collect();
        encoder.write_all(text.as_bytes()).unwrap();
        let mut gz = encoder.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let whole = dir.path().join("whole.json.gz");
        fs::write(&whole, &gz).unwrap();
        let loaded = load(&Source::Path(whole));
        assert_eq!(
            (loaded.bytes.as_slice(), loaded.error),
            (text.as_bytes(), None)
        );

        gz.truncate(gz.len() / 2);
        let cut = dir.path().join("cut.json.gz");
        fs::write(&cut, &gz).unwrap();
        let loaded = load(&Source::Path(cut));
        assert!(
            loaded.error.as_deref().unwrap().starts_with("gzip:"),
            "{:?}",
            loaded.error
        );
        assert!(!loaded.bytes.is_empty() && text.as_bytes().starts_with(&loaded.bytes));
    }

    /// A reused buffer holding a larger earlier document gives exactly the next one, by the
    /// single-member path, the multi-member path and the cut-off path alike.
    #[test]
    fn a_reused_buffer_gives_exactly_the_new_document() {
        let gz = |text: &[u8]| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(text).unwrap();
            encoder.finish().unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let single = dir.path().join("single.json.gz");
        fs::write(&single, gz(b"{\"Records\":[]}")).unwrap();
        let multi = dir.path().join("multi.json.gz");
        fs::write(&multi, [gz(b"{\"Rec"), gz(b"ords\":[]}")].concat()).unwrap();
        let mut cut_gz = gz(&[b'x'; 100_000]);
        cut_gz.truncate(cut_gz.len() / 2);
        let cut = dir.path().join("cut.json.gz");
        fs::write(&cut, cut_gz).unwrap();
        for path in [single, multi] {
            let spare = vec![b'#'; 1 << 20];
            let loaded = load_into(&Source::Path(path), 1 << 30, spare);
            assert_eq!(
                (loaded.bytes.as_slice(), loaded.error),
                (&b"{\"Records\":[]}"[..], None)
            );
        }
        let loaded = load_into(&Source::Path(cut), 1 << 30, vec![b'#'; 1 << 20]);
        assert!(loaded.error.is_some() && loaded.bytes.iter().all(|&b| b == b'x'));
    }

    #[test]
    fn missing_paths_are_errors_not_panics() {
        let discovery = discover(&[PathBuf::from("/definitely/not/here.json")]);
        assert!(discovery.files.is_empty());
        assert_eq!(discovery.errors.len(), 1);
    }
}

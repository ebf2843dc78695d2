//! Finding trail files: command-line paths, directories walked at any depth (an `aws s3 sync`
//! copy of `AWSLogs/`, organization trails included), and standard input.
//!
//! Discovery lists files in a fixed order, whatever order the paths were given in (sorted and
//! deduplicated); the `order` module then gives the counting order. An `s3://BUCKET/PREFIX`
//! argument is listed in the bucket (with the `s3` feature; see [`crate::s3`]) under the same
//! skip rules, and a [`Selection`] (accounts, regions, delivery times) prunes both.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use trailsight_engine::time::Minute;

use crate::select::Selection;
use crate::trail::{SkipReason, delivery_time, skip_reason};

/// Where an input comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Source {
    /// A file.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// An object in an S3 bucket (read with the `s3` feature).
    S3 {
        /// The bucket.
        bucket: String,
        /// The object's key.
        key: ObjectKey,
    },
}

impl Source {
    /// The last part of the source's name (a file name), which CloudTrail's name rules read.
    pub fn file_name(&self) -> Option<&str> {
        match self {
            Source::Path(path) => path.file_name()?.to_str(),
            Source::Stdin => None,
            Source::S3 { key, .. } => key.0.rsplit('/').next().filter(|name| !name.is_empty()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(path) => write!(f, "{}", path.display()),
            Source::Stdin => f.write_str("<stdin>"),
            Source::S3 { bucket, key } => write!(f, "s3://{bucket}/{}", key.0),
        }
    }
}

/// An S3 object key, ordered by its `/`-separated parts as paths are ordered by component, so
/// that objects are counted in the order a local copy of them would be.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectKey(pub String);

impl Ord for ObjectKey {
    fn cmp(&self, other: &ObjectKey) -> Ordering {
        self.0.split('/').cmp(other.0.split('/'))
    }
}

impl PartialOrd for ObjectKey {
    fn partial_cmp(&self, other: &ObjectKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputFile {
    /// CloudTrail's delivery time from the file name, if it has one.
    pub delivered: Option<Minute>,
    /// Where it is.
    pub source: Source,
}

impl InputFile {
    /// A source, with the delivery time its name gives.
    pub fn new(source: Source) -> InputFile {
        InputFile {
            delivered: source.file_name().and_then(delivery_time),
            source,
        }
    }
}

/// A path that could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {fault}", path.display())]
pub struct DiscoveryError {
    /// The path.
    pub path: PathBuf,
    /// What went wrong.
    pub fault: DiscoveryFault,
}

/// What went wrong listing a path.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryFault {
    /// The path named on the command line does not exist.
    #[error("no such file or directory")]
    NotFound,
    /// A symbolic link leads back to a directory above it.
    #[error("symbolic link loop back to {}", ancestor.display())]
    LinkLoop {
        /// The directory it leads back to.
        ancestor: PathBuf,
    },
    /// Reading a directory or an entry failed.
    #[error("{0}")]
    Io(io::Error),
    /// Listing a bucket failed (or this build cannot read `s3://`).
    #[error("{0}")]
    S3(crate::s3::S3Fault),
}

impl DiscoveryError {
    /// The kind of I/O error behind it (`NotFound` for a missing path, `Other` for a link loop,
    /// whose own kind is not stable Rust yet).
    pub fn kind(&self) -> io::ErrorKind {
        match &self.fault {
            DiscoveryFault::NotFound => io::ErrorKind::NotFound,
            DiscoveryFault::LinkLoop { .. } | DiscoveryFault::S3(_) => io::ErrorKind::Other,
            DiscoveryFault::Io(error) => error.kind(),
        }
    }
}

/// The inputs found under the given paths.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Files to read, sorted and deduplicated (not yet in counting order).
    pub files: Vec<InputFile>,
    /// Files not read, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Paths that could not be listed.
    pub errors: Vec<DiscoveryError>,
}

/// Finds the inputs under `paths` (`-` is standard input). A path named explicitly is always
/// read, whatever its name; the skip rules apply to files found by walking directories.
pub fn discover(paths: &[PathBuf]) -> Discovery {
    discover_selected(paths, &Selection::default())
}

/// [`discover`], keeping only the files `selection` admits; the others are counted as
/// [`SkipReason::NotSelected`] (an S3 listing does not even list most of them: it prunes whole
/// accounts, regions and days).
pub fn discover_selected(paths: &[PathBuf], selection: &Selection) -> Discovery {
    let mut discovery = Discovery::default();
    for path in paths {
        if let Some(url) = path.to_str().filter(|p| p.starts_with("s3://")) {
            discover_s3(path, url, selection, &mut discovery);
        } else if path.as_os_str() == "-" {
            discovery.files.push(InputFile::new(Source::Stdin));
        } else if path.is_dir() {
            walk(path, selection, &mut discovery);
        } else if path.exists() {
            discovery
                .files
                .push(InputFile::new(Source::Path(path.clone())));
        } else {
            discovery.errors.push(DiscoveryError {
                path: path.clone(),
                fault: DiscoveryFault::NotFound,
            });
        }
    }
    discovery.files.sort();
    discovery.files.dedup();
    discovery
}

/// Lists an `s3://` argument (see [`crate::s3::list`]).
fn discover_s3(path: &Path, url: &str, selection: &Selection, discovery: &mut Discovery) {
    match crate::s3::list(url, selection) {
        Ok(listing) => {
            for (reason, count) in listing.skipped {
                *discovery.skipped.entry(reason).or_insert(0) += count;
            }
            discovery
                .files
                .extend(listing.objects.into_iter().map(|object| {
                    InputFile::new(Source::S3 {
                        bucket: object.bucket,
                        key: ObjectKey(object.key),
                    })
                }));
        }
        Err(error) => discovery.errors.push(DiscoveryError {
            path: path.to_path_buf(),
            fault: DiscoveryFault::S3(error.fault),
        }),
    }
}

fn walk(root: &Path, selection: &Selection, discovery: &mut Discovery) {
    // Symbolic links are followed (synced trees may link accounts in); walkdir detects loops.
    for entry in walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(root).to_path_buf();
                let fault = match error.loop_ancestor() {
                    Some(ancestor) => DiscoveryFault::LinkLoop {
                        ancestor: ancestor.to_path_buf(),
                    },
                    None => {
                        let text = error.to_string();
                        DiscoveryFault::Io(error.into_io_error().unwrap_or_else(|| {
                            // walkdir's only error without an I/O error is the loop above.
                            io::Error::other(text)
                        }))
                    }
                };
                discovery.errors.push(DiscoveryError { path, fault });
                continue;
            }
        };
        if entry.file_type().is_dir() {
            continue;
        }
        if !entry.file_type().is_file() {
            // Reading a FIFO would block the walk; a socket or device is no trail either.
            *discovery
                .skipped
                .entry(SkipReason::NotARegularFile)
                .or_insert(0) += 1;
            continue;
        }
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let selected = || {
            entry
                .file_name()
                .to_str()
                .is_none_or(|name| selection.admits_name(name))
        };
        match skip_reason(relative).or_else(|| (!selected()).then_some(SkipReason::NotSelected)) {
            Some(reason) => *discovery.skipped.entry(reason).or_insert(0) += 1,
            None => discovery
                .files
                .push(InputFile::new(Source::Path(entry.into_path()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn files_are_sorted_by_delivery_time_then_path_whatever_the_argument_order() {
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
                .map(|f| f.source.file_name().unwrap().to_owned())
                .collect()
        };
        let expected = [names[3], names[1], names[2], names[0]];
        assert_eq!(order(&paths), expected);
        paths.reverse();
        assert_eq!(order(&paths), expected);
        assert_eq!(order(&[dir.path().to_path_buf()]), expected);
        // Named twice, directly and through its directory: read once.
        paths.push(dir.path().to_path_buf());
        assert_eq!(order(&paths), expected);
    }

    #[test]
    fn object_keys_sort_as_the_paths_of_a_local_copy() {
        let keys = ["a-b/x.json", "a/x.json", "a/b/y.json", "a.b/x.json", "b"];
        let mut by_key: Vec<ObjectKey> = keys.iter().map(|k| ObjectKey((*k).to_owned())).collect();
        let mut by_path: Vec<PathBuf> = keys.iter().map(PathBuf::from).collect();
        by_key.sort();
        by_path.sort();
        let by_key: Vec<&str> = by_key.iter().map(|k| k.0.as_str()).collect();
        let by_path: Vec<&str> = by_path.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(by_key, by_path);
        let object = Source::S3 {
            bucket: "trail".into(),
            key: ObjectKey("AWSLogs/1/CloudTrail/r/2024/01/01/f.json.gz".into()),
        };
        assert_eq!(object.file_name(), Some("f.json.gz"));
        assert_eq!(
            object.to_string(),
            "s3://trail/AWSLogs/1/CloudTrail/r/2024/01/01/f.json.gz"
        );
    }

    #[test]
    fn missing_paths_are_typed_errors_naming_the_path() {
        let discovery = discover(&[PathBuf::from("/definitely/not/here.json")]);
        assert!(discovery.files.is_empty());
        let [error] = &discovery.errors[..] else {
            panic!("{:?}", discovery.errors)
        };
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            error.to_string(),
            "/definitely/not/here.json: no such file or directory"
        );
    }

    #[test]
    fn skipped_files_are_counted_by_reason() {
        let dir = tempfile::tempdir().unwrap();
        let digest = dir.path().join("AWSLogs/1/CloudTrail-Digest/us-east-1");
        fs::create_dir_all(&digest).unwrap();
        fs::write(digest.join("d.json.gz"), "").unwrap();
        fs::write(dir.path().join("notes.txt"), "").unwrap();
        fs::write(dir.path().join(".partial.json"), "").unwrap();
        fs::write(dir.path().join("a.json"), "").unwrap();
        let discovery = discover(&[dir.path().to_path_buf()]);
        assert_eq!(discovery.files.len(), 1);
        let skipped: Vec<(SkipReason, u64)> = discovery.skipped.into_iter().collect();
        assert_eq!(
            skipped,
            [
                (SkipReason::Digest, 1),
                (SkipReason::NotATrailFile, 1),
                (SkipReason::Hidden, 1)
            ]
        );
        // Named explicitly, a file is read whatever its name.
        let named = discover(&[dir.path().join("notes.txt")]);
        assert_eq!(named.files.len(), 1);
    }

    #[cfg(unix)]
    /// A FIFO in a walked tree would block a reader forever; it is counted, not opened.
    #[test]
    fn a_fifo_in_a_walked_tree_is_counted_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        fs::write(dir.path().join("a.json"), "{}").unwrap();
        let found = discover(&[dir.path().to_path_buf()]);
        assert_eq!(found.files.len(), 1);
        assert_eq!(found.skipped.get(&SkipReason::NotARegularFile), Some(&1));
    }

    #[test]
    fn a_link_loop_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("inner");
        fs::create_dir(&inner).unwrap();
        std::os::unix::fs::symlink(dir.path(), inner.join("back")).unwrap();
        let discovery = discover(&[dir.path().to_path_buf()]);
        let [error] = &discovery.errors[..] else {
            panic!("{:?}", discovery.errors)
        };
        assert!(matches!(error.fault, DiscoveryFault::LinkLoop { .. }));
        assert!(
            error.to_string().contains("symbolic link loop back to"),
            "{error}"
        );
    }
}

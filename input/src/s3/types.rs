//! What the S3 layer hands out: parsed URLs, listings, fetched objects and counters. A leaf
//! module, so that the client, the listing and the fetching all name these types without
//! importing one another.

use std::collections::BTreeMap;

use super::error::{S3Error, S3Fault};
use crate::trail::SkipReason;

/// A parsed `s3://BUCKET/PREFIX`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key or key prefix (may be empty).
    pub prefix: String,
}

impl S3Url {
    /// Parses `s3://BUCKET[/PREFIX]`.
    ///
    /// ```
    /// use trailsight_input::s3::S3Url;
    /// let url = S3Url::parse("s3://trail/AWSLogs/o-1/").unwrap();
    /// assert_eq!((url.bucket.as_str(), url.prefix.as_str()), ("trail", "AWSLogs/o-1/"));
    /// assert!(S3Url::parse("s3:///x").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<S3Url, S3Error> {
        let invalid = || S3Error::new(url, S3Fault::InvalidUrl);
        let rest = url.strip_prefix("s3://").ok_or_else(invalid)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid());
        }
        Ok(S3Url {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

/// One object found by [`list`](super::list).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListedObject {
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size_bytes: u64,
}

/// What [`list`](super::list) found.
#[derive(Debug, Default)]
pub struct Listing {
    /// Objects to read, sorted by key.
    pub objects: Vec<ListedObject>,
    /// Objects listed but not read, by reason (folders pruned whole are not listed, so not
    /// counted).
    pub skipped: BTreeMap<SkipReason, u64>,
}

/// Counts of what the S3 layer did, for progress lines and summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct S3Counters {
    /// Objects listed (to read).
    pub objects_listed: u64,
    /// Their bytes.
    pub bytes_listed: u64,
    /// Objects fetched whole.
    pub objects_fetched: u64,
    /// Their bytes.
    pub bytes_fetched: u64,
}

/// What [`get`](super::get) fetched.
#[derive(Debug)]
pub enum Fetched {
    /// The whole object.
    Whole(Vec<u8>),
    /// The object is larger than the cap it was fetched with; nothing kept.
    TooLarge {
        /// Its size.
        size_bytes: u64,
    },
}

//! Reading and writing S3: `s3://BUCKET/PREFIX` anywhere a path is accepted, and `--out
//! s3://BUCKET/PREFIX/`.
//!
//! The client is the AWS SDK's (`aws-config` + `aws-sdk-s3`): it resolves credentials and region
//! exactly as the AWS CLI does (environment, shared config and credentials files with
//! `AWS_PROFILE` or a profile name, SSO and assume-role profiles, web identity, container and
//! instance metadata), which `object_store` does not (no SSO, partial profile chains). An
//! endpoint URL (`--endpoint-url`, `AWS_ENDPOINT_URL`) selects an S3-compatible store, addressed
//! with path-style requests. The SDK's standard retry (exponential backoff with jitter) covers
//! throttling (503 SlowDown), 500s and dropped connections; a body cut off mid-way is fetched
//! again by [`get`]'s own loop, so no object is lost or half-read.
//!
//! The client and its multi-thread tokio runtime are created on first use only, so a run over
//! local files starts no runtime; they live for the process ([`configure`] sets them up first).
//!
//! - [`list`]: the objects under a URL, pruned by a [`Selection`] along CloudTrail's layout
//!   (`AWSLogs/[o-id/]<account>/CloudTrail/<region>/YYYY/MM/DD/`) with delimiter listings:
//!   accounts, organisation level, regions, then only the days in range; `CloudTrail-Digest/`
//!   is never listed. Any other prefix is listed recursively.
//! - [`get`], [`prefetch`]: objects fetched with up to [`S3Options::concurrency`] GETs in
//!   flight, ahead of the parser, in the order the pipeline will ask for them; memory is bounded
//!   by that number times the document cap.
//! - [`put`]: whole objects (a PUT is atomic: no partial object on failure).
//!
//! Errors are [`S3Error`]s, one line each, naming the bucket or object.

#[cfg(feature = "s3")]
mod client;
mod error;
#[cfg(feature = "s3")]
mod fetch;
#[cfg(feature = "s3")]
mod layout;

use std::collections::BTreeMap;

pub use error::{S3Error, S3Fault};

use crate::select::Selection;
use crate::trail::SkipReason;

/// Attempts per request when none are configured: the first and seven retries, with the
/// SDK's exponential backoff (at most 20 s between attempts).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// GETs in flight when none are configured.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How to reach S3. Everything not given comes from the environment, as the AWS CLI takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Options {
    /// A named profile of the shared config files (`--profile`), instead of `AWS_PROFILE`.
    pub profile: Option<String>,
    /// The region (`--region`), instead of `AWS_REGION` or the profile's.
    pub region: Option<String>,
    /// An S3-compatible endpoint (`--endpoint-url`), instead of `AWS_ENDPOINT_URL`; requests
    /// to it are path-style.
    pub endpoint_url: Option<String>,
    /// GETs (and listings) in flight at once (`--s3-concurrency`).
    pub concurrency: usize,
    /// Attempts per request, retries included.
    pub max_attempts: u32,
}

impl Default for S3Options {
    fn default() -> S3Options {
        S3Options {
            profile: None,
            region: None,
            endpoint_url: None,
            concurrency: DEFAULT_CONCURRENCY,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

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

/// One object found by [`list`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListedObject {
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size_bytes: u64,
}

/// What [`list`] found.
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

/// Sets how S3 is reached, before the first use; returns false (and changes nothing) when the
/// client was already configured.
pub fn configure(options: S3Options) -> bool {
    #[cfg(feature = "s3")]
    {
        client::configure(options)
    }
    #[cfg(not(feature = "s3"))]
    {
        let _ = options;
        false
    }
}

/// The objects under `url` that `selection` admits: a key named exactly is read whatever its
/// name; under a prefix, the skip rules of [`crate::trail::skip_reason`] apply to keys relative
/// to it, and CloudTrail's layout is pruned by account, region and day (see the module docs).
/// A URL with nothing under it is [`S3Fault::NotFound`].
pub fn list(url: &str, selection: &Selection) -> Result<Listing, S3Error> {
    let url = S3Url::parse(url)?;
    #[cfg(feature = "s3")]
    {
        layout::list(&client::store()?, &url, selection)
    }
    #[cfg(not(feature = "s3"))]
    {
        let _ = selection;
        Err(S3Error::new(
            &format!("s3://{}/{}", url.bucket, url.prefix),
            S3Fault::Unsupported,
        ))
    }
}

/// What [`get`] fetched.
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

/// Fetches one object, refusing one larger than `cap_bytes`: taken from what [`prefetch`]
/// fetched ahead when it was planned, else fetched now (blocking the calling thread).
pub fn get(bucket: &str, key: &str, cap_bytes: u64) -> Result<Fetched, S3Error> {
    #[cfg(feature = "s3")]
    {
        fetch::get(&client::store()?, bucket, key, cap_bytes)
    }
    #[cfg(not(feature = "s3"))]
    {
        let _ = cap_bytes;
        Err(S3Error::new(
            &format!("s3://{bucket}/{key}"),
            S3Fault::Unsupported,
        ))
    }
}

/// Starts fetching `objects` (bucket and key), in this order, with at most the configured
/// concurrency of GETs in flight and fetched objects waiting for [`get`]; each is then taken
/// once by [`get`]. Objects are refused over `cap_bytes`, as [`get`] refuses them.
pub fn prefetch(objects: Vec<(String, String)>, cap_bytes: u64) -> Result<(), S3Error> {
    #[cfg(feature = "s3")]
    {
        fetch::prefetch(&client::store()?, objects, cap_bytes);
        Ok(())
    }
    #[cfg(not(feature = "s3"))]
    {
        let _ = cap_bytes;
        match objects.first() {
            Some((bucket, key)) => Err(S3Error::new(
                &format!("s3://{bucket}/{key}"),
                S3Fault::Unsupported,
            )),
            None => Ok(()),
        }
    }
}

/// Writes one whole object (retried as every request is).
pub fn put(bucket: &str, key: &str, body: Vec<u8>) -> Result<(), S3Error> {
    #[cfg(feature = "s3")]
    {
        client::store()?.put(bucket, key, body)
    }
    #[cfg(not(feature = "s3"))]
    {
        let _ = body;
        Err(S3Error::new(
            &format!("s3://{bucket}/{key}"),
            S3Fault::Unsupported,
        ))
    }
}

/// What the S3 layer has listed and fetched so far in this process.
pub fn counters() -> S3Counters {
    #[cfg(feature = "s3")]
    {
        client::counters()
    }
    #[cfg(not(feature = "s3"))]
    {
        S3Counters::default()
    }
}

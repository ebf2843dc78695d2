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

// Imports run one way: this module's functions call into `client`, `fetch` and `layout`;
// `fetch` and `layout` use `client`; all of them use the leaf modules `error`, `options`,
// `types` and `ahead`, and none imports from this one.
#[cfg(feature = "s3")]
mod ahead;
#[cfg(feature = "s3")]
mod client;
mod error;
#[cfg(feature = "s3")]
mod fetch;
#[cfg(feature = "s3")]
mod layout;
mod options;
mod types;

pub use error::{S3Error, S3Fault};
pub use options::{DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS, S3Options};
pub use types::{Fetched, ListedObject, Listing, S3Counters, S3Url};

use crate::select::Selection;

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

//! How S3 is reached: profile, region, endpoint, concurrency and attempts, and their defaults.

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

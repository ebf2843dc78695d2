//! S3 errors: what went wrong, in one line, and where (a bucket, a prefix or an object).

/// An S3 request that failed, after its retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {fault}")]
pub struct S3Error {
    /// `s3://bucket[/key]` of the request.
    pub location: String,
    /// What went wrong.
    pub fault: S3Fault,
}

impl S3Error {
    /// An error at `location`.
    pub fn new(location: &str, fault: S3Fault) -> S3Error {
        S3Error {
            location: location.to_owned(),
            fault,
        }
    }
}

/// What went wrong with an S3 request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum S3Fault {
    /// Not `s3://BUCKET[/PREFIX]`.
    #[error("not an S3 URL (s3://BUCKET/PREFIX)")]
    InvalidUrl,
    /// This build has no S3 client.
    #[error("this build reads no s3:// sources (trailsight-input without its `s3` feature)")]
    Unsupported,
    /// The bucket does not exist.
    #[error("no such bucket")]
    NoSuchBucket,
    /// No object under the key or prefix.
    #[error("no such key or prefix")]
    NotFound,
    /// The credentials may not do this.
    #[error("access denied (the role needs {action})")]
    AccessDenied {
        /// The IAM action the request needs.
        action: &'static str,
    },
    /// No credentials anywhere the AWS CLI looks.
    #[error(
        "no AWS credentials found (environment, shared config and credentials files, SSO, web identity, container or instance metadata): {0}"
    )]
    NoCredentials(String),
    /// The credentials were refused (unknown key, wrong secret, expired token).
    #[error("credentials refused by S3 ({code})")]
    BadCredentials {
        /// S3's error code.
        code: String,
    },
    /// The bucket is in another region than the client's.
    #[error(
        "bucket is in region {bucket_region}, not {client_region}: set AWS_REGION={bucket_region} or the profile's region"
    )]
    WrongRegion {
        /// Where the bucket is, as S3 says (or `another region` when it does not).
        bucket_region: String,
        /// The region the request was signed for.
        client_region: String,
    },
    /// The network failed on every attempt (connection refused, reset, timeout).
    #[error("network: {0}")]
    Network(String),
    /// Any other error response, after its retries.
    #[error("{status} {code}: {message}")]
    Service {
        /// HTTP status.
        status: u16,
        /// S3's error code.
        code: String,
        /// S3's message.
        message: String,
    },
    /// The client could not be set up (the async runtime, the configuration).
    #[error("setting up the S3 client: {0}")]
    Setup(String),
}

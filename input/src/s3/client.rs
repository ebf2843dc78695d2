//! The process's S3 client: the AWS SDK's, on a multi-thread tokio runtime created on first use,
//! and the mapping of SDK errors to one-line [`S3Fault`]s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, ProvideCredentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use super::ahead::Prefetch;
use super::error::{S3Error, S3Fault};
use super::options::S3Options;
use super::types::S3Counters;

/// The region requests are signed for when neither the options, the environment nor the profile
/// name one: S3's global endpoint, as the AWS CLI does; a bucket elsewhere is reported as
/// [`S3Fault::WrongRegion`] with its region.
const FALLBACK_REGION: &str = "us-east-1";

/// Longest wait between two attempts of a request.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// Time to set up a connection before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The client, its runtime and the objects being fetched ahead.
pub(super) struct Store {
    pub(super) runtime: tokio::runtime::Runtime,
    pub(super) client: Client,
    pub(super) options: S3Options,
    pub(super) region: String,
    pub(super) prefetch: Prefetch,
}

static OPTIONS: OnceLock<S3Options> = OnceLock::new();
static STORE: OnceLock<Result<Arc<Store>, S3Error>> = OnceLock::new();
/// Serialises the first use, so that only one thread builds the client.
static BUILDING: Mutex<()> = Mutex::new(());

static OBJECTS_LISTED: AtomicU64 = AtomicU64::new(0);
static BYTES_LISTED: AtomicU64 = AtomicU64::new(0);
static OBJECTS_FETCHED: AtomicU64 = AtomicU64::new(0);
static BYTES_FETCHED: AtomicU64 = AtomicU64::new(0);

pub(super) fn configure(options: S3Options) -> bool {
    STORE.get().is_none() && OPTIONS.set(options).is_ok()
}

pub(super) fn counters() -> S3Counters {
    S3Counters {
        objects_listed: OBJECTS_LISTED.load(Ordering::Relaxed),
        bytes_listed: BYTES_LISTED.load(Ordering::Relaxed),
        objects_fetched: OBJECTS_FETCHED.load(Ordering::Relaxed),
        bytes_fetched: BYTES_FETCHED.load(Ordering::Relaxed),
    }
}

pub(super) fn count_listed(objects: u64, bytes: u64) {
    OBJECTS_LISTED.fetch_add(objects, Ordering::Relaxed);
    BYTES_LISTED.fetch_add(bytes, Ordering::Relaxed);
}

pub(super) fn count_fetched(bytes: u64) {
    OBJECTS_FETCHED.fetch_add(1, Ordering::Relaxed);
    BYTES_FETCHED.fetch_add(bytes, Ordering::Relaxed);
}

/// The client, built on first use from the configured options (or the defaults).
pub(super) fn store() -> Result<Arc<Store>, S3Error> {
    if let Some(store) = STORE.get() {
        return store.clone();
    }
    let _building = BUILDING.lock().unwrap_or_else(|poison| poison.into_inner());
    STORE
        .get_or_init(|| build(OPTIONS.get_or_init(S3Options::default).clone()).map(Arc::new))
        .clone()
}

fn build(options: S3Options) -> Result<Store, S3Error> {
    let setup = |text: String| S3Error::new("s3://", S3Fault::Setup(text));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("trailsight-s3")
        .enable_all()
        .build()
        .map_err(|error| setup(error.to_string()))?;
    let retry = RetryConfig::standard()
        .with_max_attempts(options.max_attempts.max(1))
        .with_max_backoff(MAX_BACKOFF);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .build(),
        );
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let sdk_config = runtime.block_on(loader.load());
    // Checked once here, so that "no credentials" is one line before any request, not the
    // first request's dispatch error.
    let provider = sdk_config.credentials_provider().ok_or_else(|| {
        S3Error::new(
            "s3://",
            S3Fault::NoCredentials("no credentials provider".to_owned()),
        )
    })?;
    if runtime.block_on(provider.provide_credentials()).is_err() {
        // The SDK's text lists every provider it tried, over several lines; the hint is what
        // a user acts on.
        return Err(S3Error::new(
            "s3://",
            S3Fault::NoCredentials(
                "pass --profile, set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                    .to_owned(),
            ),
        ));
    }
    let region = sdk_config
        .region()
        .map_or(FALLBACK_REGION.to_owned(), |r| r.to_string());
    let custom_endpoint = options.endpoint_url.is_some()
        || ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    let config = aws_sdk_s3::config::Builder::from(&sdk_config)
        .region(Region::new(region.clone()))
        // S3-compatible stores rarely resolve virtual-hosted bucket names.
        .force_path_style(custom_endpoint)
        .build();
    Ok(Store {
        runtime,
        client: Client::from_conf(config),
        prefetch: Prefetch::new(options.concurrency.max(1)),
        options,
        region,
    })
}

/// One page of a listing.
pub(super) struct Page {
    pub(super) objects: Vec<(String, u64)>,
    pub(super) prefixes: Vec<String>,
}

impl Store {
    /// Every object and (with `delimiter`) every common prefix directly under `prefix`.
    pub(super) async fn list_level(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: bool,
    ) -> Result<Page, S3Error> {
        let mut page = Page {
            objects: Vec::new(),
            prefixes: Vec::new(),
        };
        let mut token: Option<String> = None;
        loop {
            let mut request = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take());
            if delimiter {
                request = request.delimiter("/");
            }
            let output = request.send().await.map_err(|error| {
                self.error(
                    &format!("s3://{bucket}/{prefix}"),
                    "s3:ListBucket",
                    Some(bucket),
                    error,
                )
            })?;
            for object in output.contents() {
                if let Some(key) = object.key() {
                    let size = object.size().map_or(0, |s| u64::try_from(s).unwrap_or(0));
                    page.objects.push((key.to_owned(), size));
                }
            }
            page.prefixes.extend(
                output
                    .common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            );
            match output.next_continuation_token() {
                Some(next) if output.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => return Ok(page),
            }
        }
    }

    /// One GET, its body read up to `cap_bytes + 1` bytes; `Ok(None)` when the body was over the
    /// cap. A body cut off is `Err(Network)` with `retryable` set.
    pub(super) async fn get_once(
        &self,
        bucket: &str,
        key: &str,
        cap_bytes: u64,
    ) -> Result<GetOnce, S3Error> {
        let location = format!("s3://{bucket}/{key}");
        let output = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|error| self.error(&location, "s3:GetObject", Some(bucket), error))?;
        let size = output
            .content_length()
            .map_or(0, |n| u64::try_from(n).unwrap_or(0));
        if size > cap_bytes {
            return Ok(GetOnce::TooLarge(size));
        }
        let mut body: ByteStream = output.body;
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        loop {
            match body.next().await {
                Some(Ok(chunk)) => {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() as u64 > cap_bytes {
                        return Ok(GetOnce::TooLarge(bytes.len() as u64));
                    }
                }
                Some(Err(error)) => return Ok(GetOnce::CutOff(error_chain(&error))),
                None => return Ok(GetOnce::Whole(bytes)),
            }
        }
    }

    /// Writes one whole object.
    pub(super) fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), S3Error> {
        let location = format!("s3://{bucket}/{key}");
        self.runtime
            .block_on(
                self.client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(ByteStream::from(body))
                    .send(),
            )
            .map(|_| ())
            .map_err(|error| self.error(&location, "s3:PutObject", Some(bucket), error))
    }

    /// The one-line error for a failed request at `location` needing `action`.
    fn error<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        location: &str,
        action: &'static str,
        bucket: Option<&str>,
        error: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> S3Error {
        let location = match bucket {
            Some(bucket) if error.code() == Some("NoSuchBucket") => format!("s3://{bucket}"),
            _ => location.to_owned(),
        };
        S3Error::new(&location, classify(&error, action, &self.region))
    }
}

/// What one GET gave.
pub(super) enum GetOnce {
    Whole(Vec<u8>),
    TooLarge(u64),
    /// The body stopped before its end (a reset): worth another attempt.
    CutOff(String),
}

fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    action: &'static str,
    client_region: &str,
) -> S3Fault {
    let SdkError::ServiceError(service) = error else {
        // Timeouts, dispatch failures (connection refused or reset on every attempt), and
        // responses that could not be read.
        return S3Fault::Network(first_line(&error_chain(error)));
    };
    let raw = service.raw();
    let status = raw.status().as_u16();
    let code = error.code().unwrap_or("").to_owned();
    let header_region = raw.headers().get("x-amz-bucket-region").map(str::to_owned);
    match (status, code.as_str()) {
        (_, "NoSuchBucket") => S3Fault::NoSuchBucket,
        (_, "NoSuchKey") | (404, "") => S3Fault::NotFound,
        (_, "AccessDenied" | "AllAccessDisabled") | (403, "") => S3Fault::AccessDenied { action },
        (_, "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken" | "InvalidToken") => {
            S3Fault::BadCredentials { code }
        }
        (301, _) | (_, "PermanentRedirect" | "AuthorizationHeaderMalformed") => {
            S3Fault::WrongRegion {
                bucket_region: header_region.unwrap_or_else(|| "another region".to_owned()),
                client_region: client_region.to_owned(),
            }
        }
        _ => S3Fault::Service {
            status,
            code,
            message: first_line(error.message().unwrap_or("")),
        },
    }
}

/// An error and its sources on one line.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_owned()
}

//! Fetching objects: one now ([`get`]) or many ahead of the parser ([`prefetch`]), with at most
//! the configured number of GETs in flight or fetched and not yet taken, so memory stays at
//! that number times the document cap whatever the trail's size.

use std::sync::Arc;
use std::time::Duration;

use super::ahead::ObjectId;
use super::client::{GetOnce, Store, count_fetched};
use super::error::{S3Error, S3Fault};
use super::types::Fetched;

/// The wait before the second attempt at a body that was cut off; doubled each attempt.
const FIRST_BODY_RETRY_WAIT: Duration = Duration::from_millis(100);

/// Longest wait between two attempts at a body.
const MAX_BODY_RETRY_WAIT: Duration = Duration::from_secs(10);

/// See [`super::get`].
pub(super) fn get(
    store: &Arc<Store>,
    bucket: &str,
    key: &str,
    cap_bytes: u64,
) -> Result<Fetched, S3Error> {
    let id = (bucket.to_owned(), key.to_owned());
    if let Some(result) = store.prefetch.take(&id) {
        return result;
    }
    store
        .runtime
        .block_on(fetch_whole(store, bucket, key, cap_bytes))
}

/// See [`super::prefetch`].
pub(super) fn prefetch(store: &Arc<Store>, objects: Vec<ObjectId>, cap_bytes: u64) {
    let objects = store.prefetch.plan(objects);
    let producer = Arc::clone(store);
    store.runtime.spawn(async move {
        for (bucket, key) in objects {
            let Ok(permit) = producer.prefetch.permits().acquire_owned().await else {
                return;
            };
            let store = Arc::clone(&producer);
            tokio::spawn(async move {
                let result = fetch_whole(&store, &bucket, &key, cap_bytes).await;
                store.prefetch.deliver((bucket, key), result, permit);
            });
        }
    });
}

/// One object, whole: the SDK retries failed requests; a body cut off mid-way is fetched
/// again here, so the object is read once, whole, or reported.
async fn fetch_whole(
    store: &Store,
    bucket: &str,
    key: &str,
    cap_bytes: u64,
) -> Result<Fetched, S3Error> {
    let attempts = store.options.max_attempts.max(1);
    let mut wait = FIRST_BODY_RETRY_WAIT;
    let mut attempt = 1;
    loop {
        match store.get_once(bucket, key, cap_bytes).await? {
            GetOnce::Whole(bytes) => {
                count_fetched(bytes.len() as u64);
                return Ok(Fetched::Whole(bytes));
            }
            GetOnce::TooLarge(size_bytes) => return Ok(Fetched::TooLarge { size_bytes }),
            GetOnce::CutOff(text) if attempt >= attempts => {
                return Err(S3Error::new(
                    &format!("s3://{bucket}/{key}"),
                    S3Fault::Network(format!("body cut off on {attempt} attempts: {text}")),
                ));
            }
            GetOnce::CutOff(_) => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_BODY_RETRY_WAIT);
                attempt += 1;
            }
        }
    }
}

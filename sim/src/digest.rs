//! Digest files: CloudTrail's hourly, chained integrity manifests of the log files it delivered.
//!
//! Hashes are real SHA-256 values of the uncompressed log files and of the previous digest, so
//! the chain can be checked. Signatures are random hex: there is no private key to sign with.

use std::path::Path;

use rand::RngExt;

use crate::catalogue::TRAIL_NAME;
use crate::delivery::{LogFile, gzip, write_file};
use crate::error::SimulateError;
use crate::ids::{self, Stream, civil, date_folder};
use crate::json::object;
use crate::profile::Profile;
use crate::rng::seeded_rng;
use crate::sha256::sha256;
use crate::traffic::Span;

/// Where the trail lives and how digests are keyed, shared by every account-region.
pub(crate) struct Trail<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) home_region: &'a str,
    pub(crate) seed: u64,
}

/// What the digest chain of one account-region wrote.
#[derive(Debug, Default)]
pub(crate) struct Digests {
    pub(crate) files: u64,
    pub(crate) bytes: u64,
}

/// Writes the hourly digests of one account-region's log files, from the start of the run to
/// the hour after the last delivery. `account_region` indexes the random stream.
pub(crate) fn write_digests(
    out_dir: &Path,
    trail: &Trail<'_>,
    profile: &Profile,
    account_region: [u64; 2],
    run: Span,
    mut files: Vec<LogFile>,
) -> Result<Digests, SimulateError> {
    let mut rng = seeded_rng(ids::derive_seed(
        trail.seed,
        Stream::Digest,
        &account_region,
    ));
    files.sort_by(|a, b| (a.delivery, &a.key).cmp(&(b.delivery, &b.key)));
    let fingerprint = {
        // One signing key per Region, as CloudTrail has.
        let mut text = String::with_capacity(32);
        let mut key_rng = seeded_rng(ids::derive_seed(
            trail.seed,
            Stream::Run,
            &[ids::hash_str(&profile.region)],
        ));
        ids::push_hex_random(&mut text, &mut key_rng, 32);
        text
    };
    let last_delivery = files.last().map_or(run.end, |f| f.delivery.max(run.end));
    // Digest periods end at an arbitrary but fixed second past each hour, as real ones do.
    let offset = rng.random_range(0..3600);
    let mut end = run.start - run.start.rem_euclid(3600) + offset;
    if end <= run.start {
        end += 3600;
    }
    let mut start = run.start;
    let mut previous: Option<(String, [u8; 32], String)> = None;
    let mut next_file = 0;
    let mut written = Digests::default();
    let mut body = String::new();
    let mut gz = Vec::new();
    while start <= last_delivery {
        let first = next_file;
        while next_file < files.len() && files[next_file].delivery < end {
            next_file += 1;
        }
        let listed = &files[first..next_file];
        let (y, m, d, h, min, s) = civil(end);
        let key = format!(
            "AWSLogs/{account}/CloudTrail-Digest/{region}/{folder}/{account}_CloudTrail-Digest_{region}_{TRAIL_NAME}_{home}_{y:04}{m:02}{d:02}T{h:02}{min:02}{s:02}Z.json.gz",
            account = profile.account,
            region = profile.region,
            folder = date_folder(end),
            home = trail.home_region,
        );
        let newest = listed.iter().map(|f| f.newest_event).max();
        let oldest = listed.iter().map(|f| f.oldest_event).min();
        let time = |t: Option<i64>| t.map(ids::time_string);
        body.clear();
        object(&mut body, |o| {
            o.str("awsAccountId", &profile.account);
            o.str("digestStartTime", &ids::time_string(start));
            o.str("digestEndTime", &ids::time_string(end));
            o.str("digestS3Bucket", trail.bucket);
            o.str("digestS3Object", &key);
            o.str("digestPublicKeyFingerprint", &fingerprint);
            o.str("digestSignatureAlgorithm", "SHA256withRSA");
            o.opt_str("newestEventTime", time(newest).as_deref());
            o.opt_str("oldestEventTime", time(oldest).as_deref());
            match &previous {
                Some((previous_key, hash, signature)) => {
                    o.str("previousDigestS3Bucket", trail.bucket);
                    o.str("previousDigestS3Object", previous_key);
                    let mut hex = String::with_capacity(64);
                    ids::push_hex(&mut hex, hash);
                    o.str("previousDigestHashValue", &hex);
                    o.str("previousDigestHashAlgorithm", "SHA-256");
                    o.str("previousDigestSignature", signature);
                }
                None => {
                    for field in [
                        "previousDigestS3Bucket",
                        "previousDigestS3Object",
                        "previousDigestHashValue",
                        "previousDigestHashAlgorithm",
                        "previousDigestSignature",
                    ] {
                        o.null(field);
                    }
                }
            }
            o.arr("logFiles", |list| {
                for file in listed {
                    list.obj(|f| {
                        f.str("s3Bucket", trail.bucket);
                        f.str("s3Object", &file.key);
                        let mut hex = String::with_capacity(64);
                        ids::push_hex(&mut hex, &file.sha256);
                        f.str("hashValue", &hex);
                        f.str("hashAlgorithm", "SHA-256");
                        f.str("newestEventTime", &ids::time_string(file.newest_event));
                        f.str("oldestEventTime", &ids::time_string(file.oldest_event));
                    });
                }
            });
        });
        gzip(body.as_bytes(), &mut gz);
        write_file(out_dir, &key, &gz)?;
        written.files += 1;
        written.bytes += gz.len() as u64;

        // An RSA-2048 signature is 256 bytes; this one only has the right shape.
        let mut signature = String::with_capacity(512);
        ids::push_hex_random(&mut signature, &mut rng, 512);
        previous = Some((key, sha256(body.as_bytes()), signature));
        start = end;
        end += 3600;
    }
    Ok(written)
}

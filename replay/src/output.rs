//! Writing Insights records: JSON lines, or CloudTrail's S3 layout for Insights, under a
//! directory or an `s3://` prefix.
//!
//! The S3 layout groups records by account, region and five-minute bucket of `eventTime`, as
//! CloudTrail delivers Insights files:
//! `AWSLogs/<account>/CloudTrail-Insight/<region>/YYYY/MM/DD/<account>_CloudTrail-Insight_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz`,
//! each holding `{"Records":[...]}`. The timestamp is the end of the bucket (the earliest time
//! CloudTrail could have delivered it) and the 16-character id is derived from the file's
//! content, so the same records give the same files. Records without an account go under
//! `AWSLogs/unknown-account/`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use trailsight_engine::InsightRecord;
use trailsight_engine::event::{is_account_id, is_region_name};
use trailsight_engine::time::Minute;
use trailsight_input::s3;

/// Writes `records` as JSON lines.
pub fn write_json_lines(records: &[InsightRecord], out: &mut impl Write) -> io::Result<()> {
    for record in records {
        out.write_all(record.to_json().as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Minutes per Insights file bucket.
const BUCKET_MINUTES: i64 = 5;

/// Account folder for records without `recipientAccountId`.
pub const UNKNOWN_ACCOUNT: &str = "unknown-account";

/// Writes `records` in CloudTrail's S3 layout under `root`; returns the files written.
pub fn write_s3_layout(records: &[InsightRecord], root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let objects = insight_objects(records)?;
    let mut written = Vec::with_capacity(objects.len());
    for (key, gzipped) in objects {
        let path = key
            .split('/')
            .fold(root.to_path_buf(), |path, part| path.join(part));
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        fs::write(&path, gzipped).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Writes `records` in CloudTrail's S3 layout under `s3://BUCKET/PREFIX/` (`url`): the same
/// keys and bytes as [`write_s3_layout`] under a directory. Each object is one PUT, so an object
/// is written whole or not at all; returns the keys written.
pub fn write_s3_bucket(records: &[InsightRecord], url: &str) -> anyhow::Result<Vec<String>> {
    let url = s3::S3Url::parse(url)?;
    let mut prefix = url.prefix;
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    let objects = insight_objects(records)?;
    let mut written = Vec::with_capacity(objects.len());
    for (key, gzipped) in objects {
        let key = format!("{prefix}{key}");
        s3::put(&url.bucket, &key, gzipped)?;
        written.push(key);
    }
    Ok(written)
}

/// The Insights files of `records`: each file's key relative to the output root, and its
/// gzipped `{"Records":[...]}`.
fn insight_objects(records: &[InsightRecord]) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files: BTreeMap<(String, String, Minute), Vec<&InsightRecord>> = BTreeMap::new();
    for record in records {
        // The parser refuses records whose account or region is not what AWS writes; checked
        // again here because these values become folders and key parts: no value from the data
        // may lead a path out of the root, nor a key out of its prefix.
        let account = match &record.recipient_account_id {
            Some(account) if is_account_id(account) => account.clone(),
            None => UNKNOWN_ACCOUNT.to_owned(),
            Some(account) => {
                bail!("not writing an insight of account {account:?}: not an account ID")
            }
        };
        if !is_region_name(&record.aws_region) {
            bail!(
                "not writing an insight of region {:?}: not a region name",
                record.aws_region
            );
        }
        let delivered =
            Minute((record.event_time.0.div_euclid(BUCKET_MINUTES) + 1) * BUCKET_MINUTES);
        files
            .entry((account, record.aws_region.clone(), delivered))
            .or_default()
            .push(record);
    }
    let mut objects = Vec::with_capacity(files.len());
    for ((account, region, delivered), records) in files {
        let mut body = String::from("{\"Records\":[");
        for (i, record) in records.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&record.to_json());
        }
        body.push_str("]}");
        let (y, m, d) = delivered.day().civil();
        let stamp = delivered.to_string();
        let stamp = format!(
            "{}{}{}T{}{}Z",
            &stamp[0..4],
            &stamp[5..7],
            &stamp[8..10],
            &stamp[11..13],
            &stamp[14..16]
        );
        let key = format!(
            "AWSLogs/{account}/CloudTrail-Insight/{region}/{y:04}/{m:02}/{d:02}/{account}_CloudTrail-Insight_{region}_{stamp}_{}.json.gz",
            unique_id(body.as_bytes())
        );
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(body.as_bytes())?;
        objects.push((key, gz.finish()?));
    }
    Ok(objects)
}

/// 16 alphanumeric characters from a 96-bit FNV-1a hash of `content`.
fn unique_id(content: &[u8]) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut hash: u128 = 0x6c62272e07bb014262b821756295c58d;
    for &b in content {
        hash = (hash ^ u128::from(b)).wrapping_mul(0x0000000001000000000000000000013B);
    }
    (0..16)
        .map(|_| {
            let c = ALPHABET[(hash % 62) as usize] as char;
            hash /= 62;
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_are_stable_and_alphanumeric() {
        let a = unique_id(b"{\"Records\":[]}");
        assert_eq!(a, unique_id(b"{\"Records\":[]}"));
        assert_ne!(a, unique_id(b"{\"Records\":[1]}"));
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}

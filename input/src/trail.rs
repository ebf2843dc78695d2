//! What CloudTrail's file names say: which files hold events, when CloudTrail delivered a file,
//! and which account and region it belongs to. Pure functions over names, shared by everything
//! that finds trail files (the `trailsight` command, the Python package, the Spark job), so that
//! they all read the same files in the same order.
//!
//! CloudTrail writes `AWSLogs/[o-id/]<account>/CloudTrail/<region>/YYYY/MM/DD/`
//! `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`; digests go under
//! `CloudTrail-Digest/`, aggregated data events under `CloudTrail-Aggregated/`, Insights under
//! `CloudTrail-Insight/`.

use std::path::Path;

use serde::Serialize;

use trailsight_engine::time::{Minute, Timestamp};

/// Why a file found in a directory is not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// Under `CloudTrail-Digest/`: log file integrity digests, no records.
    Digest,
    /// Under `CloudTrail-Aggregated/`: aggregated data events, not API calls.
    Aggregated,
    /// Not a `.json`, `.jsonl`, `.ndjson`, `.log` file, plain or `.gz`, nor a bare `.gz`.
    NotATrailFile,
    /// A hidden file (name starting with `.`), such as a partial download.
    Hidden,
    /// Not a regular file: a FIFO, a socket or a device found in a walked directory (a named
    /// pipe given on the command line is read, as standard input is).
    NotARegularFile,
    /// Larger than the decompressed document size cap (`--max-document-mib` on the command
    /// line): a gzip bomb, or not a trail file.
    TooLarge,
    /// Outside the accounts, regions or time range asked for (`--accounts`, `--regions`,
    /// `--since`, `--until`).
    NotSelected,
}

impl SkipReason {
    /// A short name for summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Digest => "digest",
            SkipReason::Aggregated => "aggregated",
            SkipReason::NotATrailFile => "not a trail file",
            SkipReason::Hidden => "hidden",
            SkipReason::NotARegularFile => "not a regular file",
            SkipReason::TooLarge => "too large",
            SkipReason::NotSelected => "not selected",
        }
    }
}

/// Why a file found at `relative` (to the walked directory) is not read, if it is not.
///
/// ```
/// use std::path::Path;
/// use trailsight_input::trail::{SkipReason, skip_reason};
/// assert_eq!(skip_reason(Path::new("AWSLogs/1/CloudTrail-Digest/us-east-1/d.json.gz")), Some(SkipReason::Digest));
/// assert_eq!(skip_reason(Path::new("AWSLogs/1/CloudTrail/us-east-1/a.json.gz")), None);
/// ```
pub fn skip_reason(relative: &Path) -> Option<SkipReason> {
    for component in relative.components() {
        match component.as_os_str().to_str() {
            Some("CloudTrail-Digest") => return Some(SkipReason::Digest),
            Some("CloudTrail-Aggregated") => return Some(SkipReason::Aggregated),
            _ => {}
        }
    }
    let name = relative.file_name()?.to_string_lossy();
    if name.starts_with('.') {
        return Some(SkipReason::Hidden);
    }
    let name = name.to_ascii_lowercase();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    let trail_file = name.ends_with(".gz") && !stem.contains('.')
        || [".json", ".jsonl", ".ndjson", ".log"]
            .iter()
            .any(|ext| stem.ends_with(ext));
    (!trail_file).then_some(SkipReason::NotATrailFile)
}

/// The delivery time in a CloudTrail file name:
/// `<account>_CloudTrail[-Insight]_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`.
///
/// ```
/// use trailsight_input::trail::delivery_time;
/// let name = "123456789012_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json.gz";
/// assert_eq!(delivery_time(name).unwrap().to_string(), "2023-07-10T12:20:00Z");
/// assert_eq!(delivery_time("export.json"), None);
/// ```
pub fn delivery_time(name: &str) -> Option<Minute> {
    name.split('_').find_map(|part| {
        let b = part.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' || !digits(0..8) || !digits(9..13) {
            return None;
        }
        let text = format!(
            "{}-{}-{}T{}:{}:00Z",
            &part[0..4],
            &part[4..6],
            &part[6..8],
            &part[9..11],
            &part[11..13]
        );
        Timestamp::parse(&text).ok().map(Timestamp::minute)
    })
}

/// The account and region in a CloudTrail log file name:
/// `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`.
///
/// ```
/// use trailsight_input::trail::account_region;
/// let name = "123456789012_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json.gz";
/// assert_eq!(account_region(name), Some(("123456789012", "us-east-1")));
/// assert_eq!(account_region("export.json"), None);
/// ```
pub fn account_region(name: &str) -> Option<(&str, &str)> {
    let mut parts = name.split('_');
    let (account, kind, region) = (parts.next()?, parts.next()?, parts.next()?);
    (kind == "CloudTrail" && !account.is_empty() && !region.is_empty()).then_some((account, region))
}

/// The account and region in the name of a CloudTrail log or Insights file
/// (`<account>_CloudTrail[-Insight]_<region>_...`): what `--accounts` and `--regions` select by.
///
/// ```
/// use trailsight_input::trail::trail_account_region;
/// let name = "123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz";
/// assert_eq!(trail_account_region(name), Some(("123456789015", "ca-central-1")));
/// ```
pub fn trail_account_region(name: &str) -> Option<(&str, &str)> {
    let mut parts = name.split('_');
    let (account, kind, region) = (parts.next()?, parts.next()?, parts.next()?);
    (matches!(kind, "CloudTrail" | "CloudTrail-Insight")
        && !account.is_empty()
        && !region.is_empty())
    .then_some((account, region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_times_from_cloudtrail_names() {
        let name = "123456789012_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json.gz";
        assert_eq!(
            delivery_time(name).unwrap().to_string(),
            "2023-07-10T12:20:00Z"
        );
        let insight =
            "123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz";
        assert_eq!(
            delivery_time(insight).unwrap().to_string(),
            "2020-09-23T05:16:00Z"
        );
        assert_eq!(delivery_time("events.json"), None);
        assert_eq!(account_region(name), Some(("123456789012", "us-east-1")));
        assert_eq!(account_region(insight), None);
        assert_eq!(account_region("export.json"), None);
        assert_eq!(delivery_time("x_20231340T1220Z_y.json"), None);
    }

    #[test]
    fn skip_rules() {
        let cases = [
            (
                "AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/d.json.gz",
                Some(SkipReason::Digest),
            ),
            (
                "AWSLogs/o-1/2/CloudTrail-Aggregated/eu-west-1/x.json.gz",
                Some(SkipReason::Aggregated),
            ),
            ("AWSLogs/1/CloudTrail/us-east-1/2024/01/01/a.json.gz", None),
            (
                "AWSLogs/1/CloudTrail-Insight/us-east-1/2024/01/01/a.json.gz",
                None,
            ),
            ("export.jsonl", None),
            ("export.NDJSON.GZ", None),
            ("firehose-object.gz", None),
            ("notes.txt", Some(SkipReason::NotATrailFile)),
            ("archive.tar.gz", Some(SkipReason::NotATrailFile)),
            (".a.json.gz.x9Zq", Some(SkipReason::Hidden)),
        ];
        for (path, expected) in cases {
            assert_eq!(skip_reason(Path::new(path)), expected, "{path}");
        }
    }
}

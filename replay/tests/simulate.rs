//! End-to-end checks of `trailsight simulate`: reproducibility, the S3 layout, the record and
//! digest contents, and the labels.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::read::GzDecoder;
use serde_json::Value;
use tempfile::TempDir;
use trailsight_engine::time::Timestamp;

fn simulate(args: &[&str]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .arg("simulate")
        .arg(dir.path())
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "simulate {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

/// Every file under `root`, by relative path, with its bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let bytes = fs::read(&path).unwrap();
                out.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn gunzip_json(bytes: &[u8]) -> Value {
    let mut text = String::new();
    GzDecoder::new(bytes).read_to_string(&mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn time(text: &str) -> i64 {
    Timestamp::parse(text).unwrap().0
}

/// Parses `<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<unique>.json.gz` into its delivery time.
fn log_file_delivery(name: &str) -> i64 {
    let parts: Vec<&str> = name.split('_').collect();
    assert_eq!(parts.len(), 5, "{name}");
    assert_eq!(parts[1], "CloudTrail");
    let stamp = parts[3];
    assert_eq!(stamp.len(), 14, "{name}");
    let unique = parts[4].strip_suffix(".json.gz").unwrap();
    assert_eq!(unique.len(), 16, "{name}");
    assert!(unique.bytes().all(|b| b.is_ascii_alphanumeric()), "{name}");
    time(&format!(
        "{}-{}-{}T{}:{}:00Z",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13]
    ))
}

struct Trail {
    /// Records by log file key.
    logs: BTreeMap<String, Vec<Value>>,
    /// Digest bodies by key.
    digests: BTreeMap<String, Value>,
    labels: Value,
}

fn read_trail(root: &Path) -> Trail {
    let mut trail = Trail {
        logs: BTreeMap::new(),
        digests: BTreeMap::new(),
        labels: Value::Null,
    };
    for (path, bytes) in tree(root) {
        let key = path.to_str().unwrap().replace('\\', "/");
        if key == "labels.json" {
            let file: Value = serde_json::from_slice(&bytes).unwrap();
            trail.labels = file["labels"].clone();
            continue;
        }
        let parts: Vec<&str> = key.split('/').collect();
        assert_eq!(parts.len(), 8, "{key}");
        assert_eq!(parts[0], "AWSLogs");
        assert!(key.ends_with(".json.gz"), "{key}");
        let body = gunzip_json(&bytes);
        match parts[2] {
            "CloudTrail" => {
                let records = body["Records"].as_array().expect("a Records array").clone();
                trail.logs.insert(key, records);
            }
            "CloudTrail-Digest" => {
                trail.digests.insert(key, body);
            }
            other => panic!("unexpected folder {other}"),
        }
    }
    trail
}

#[test]
fn output_is_byte_identical_across_runs_and_thread_counts() {
    let args = ["--days", "1", "--seed", "3", "--scale", "0.2"];
    let one = simulate(&[&args[..], &["--threads", "1"]].concat());
    let two = simulate(&[&args[..], &["--threads", "2"]].concat());
    let default = simulate(&args);
    let (one, two, default) = (tree(one.path()), tree(two.path()), tree(default.path()));
    assert!(one.len() > 100, "{} files", one.len());
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>()
    );
    assert!(one == two, "--threads 1 and 2 differ");
    assert!(one == default, "two runs differ");
    for bytes in one.values().filter(|b| b.starts_with(&[0x1f, 0x8b])) {
        // The gzip header's mtime is zero so that reruns are byte-identical.
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0]);
    }

    let other_seed = tree(simulate(&["--days", "1", "--seed", "4", "--scale", "0.2"]).path());
    assert!(one != other_seed, "the seed changes nothing");
}

#[test]
fn one_day_trail_has_cloudtrail_layout_records_duplicates_and_digests() {
    let dir = simulate(&["--days", "1", "--seed", "3", "--scale", "0.2"]);
    let trail = read_trail(dir.path());
    assert_eq!(trail.labels, Value::Array(Vec::new()));
    assert!(!trail.logs.is_empty() && !trail.digests.is_empty());

    let mut by_id: HashMap<String, Vec<&Value>> = HashMap::new();
    let mut total = 0;
    for (key, records) in &trail.logs {
        let parts: Vec<&str> = key.split('/').collect();
        let (account, region, name) = (parts[1], parts[3], parts[7]);
        assert!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(region, "us-east-1");
        assert!(
            name.starts_with(&format!("{account}_CloudTrail_{region}_")),
            "{key}"
        );
        let delivery = log_file_delivery(name);
        // The folder is the delivery date.
        let date = Timestamp(delivery).to_string();
        assert_eq!(parts[4..7].join("-"), date[..10], "{key}");
        assert!(!records.is_empty(), "empty file {key}");
        for record in records {
            total += 1;
            let event_time = time(record["eventTime"].as_str().unwrap());
            assert!(event_time <= delivery, "{key}: {record}");
            assert_eq!(record["awsRegion"], region);
            assert_eq!(record["recipientAccountId"], account);
            assert!(record["readOnly"].is_boolean());
            assert!(
                record["eventSource"]
                    .as_str()
                    .unwrap()
                    .ends_with(".amazonaws.com")
            );
            let id = record["eventID"].as_str().unwrap().to_string();
            by_id.entry(id).or_default().push(record);
        }
    }
    let duplicated: Vec<&Vec<&Value>> = by_id.values().filter(|v| v.len() > 1).collect();
    assert!(
        !duplicated.is_empty(),
        "no duplicates among {total} records"
    );
    assert!(duplicated.len() * 100 < total, "too many duplicates");
    for copies in duplicated {
        assert_eq!(copies.len(), 2);
        assert_eq!(copies[0], copies[1], "duplicates differ");
    }

    // Every log file is listed by exactly one digest, and digests carry no records.
    let mut listed: BTreeMap<String, usize> = BTreeMap::new();
    let mut previous: Option<&str> = None;
    for (key, digest) in &trail.digests {
        assert!(digest.get("Records").is_none(), "{key}");
        assert_eq!(digest["digestS3Object"], key.as_str());
        assert_eq!(digest["digestSignatureAlgorithm"], "SHA256withRSA");
        let start = time(digest["digestStartTime"].as_str().unwrap());
        let end = time(digest["digestEndTime"].as_str().unwrap());
        assert!(start < end && end - start <= 3600, "{key}");
        match previous {
            None => assert!(digest["previousDigestS3Object"].is_null()),
            Some(prev) => assert_eq!(digest["previousDigestS3Object"], prev),
        }
        previous = Some(key);
        for file in digest["logFiles"].as_array().unwrap() {
            let object = file["s3Object"].as_str().unwrap();
            assert_eq!(file["hashValue"].as_str().unwrap().len(), 64);
            assert_eq!(file["s3Bucket"], digest["digestS3Bucket"]);
            *listed.entry(object.to_string()).or_default() += 1;
        }
    }
    let logs: Vec<&String> = trail.logs.keys().collect();
    assert_eq!(listed.keys().collect::<Vec<_>>(), logs);
    assert!(listed.values().all(|&n| n == 1));
}

#[test]
fn nine_day_trail_labels_match_injected_calls() {
    let dir = simulate(&["--days", "9", "--seed", "2", "--scale", "0.02"]);
    let trail = read_trail(dir.path());
    let labels = trail.labels.as_array().unwrap();
    assert!(labels.len() >= 4, "{labels:?}");
    let start = time("2024-03-04T00:00:00Z");
    let records: Vec<&Value> = trail.logs.values().flatten().collect();
    for label in labels {
        let (from, to) = (
            time(label["start"].as_str().unwrap()),
            time(label["end"].as_str().unwrap()),
        );
        assert!(from >= start + 8 * 86_400 && to > from, "{label}");
        let calls = label["calls"].as_u64().unwrap();
        let kind = label["kind"].as_str().unwrap();
        assert_eq!(
            label["negativeControl"],
            matches!(kind, "read_only_burst" | "normal_peak"),
            "{label}"
        );
        let in_window = |r: &&&Value| {
            r["eventName"] == label["eventName"]
                && r["eventSource"] == label["eventSource"]
                && (from..to).contains(&time(r["eventTime"].as_str().unwrap()))
        };
        if kind == "drop_to_zero" {
            assert_eq!(calls, 0);
            assert_eq!(
                records.iter().filter(in_window).count(),
                0,
                "{label}: the calls stop"
            );
            continue;
        }
        if kind == "normal_peak" {
            assert!(
                records.iter().filter(in_window).count() >= 10,
                "{label}: the nightly job runs"
            );
            continue;
        }
        assert!(calls > 0, "{label}");
        let error = label["errorCode"].as_str();
        assert_eq!(
            error.is_some(),
            label["insightType"] == "ApiErrorRateInsight"
        );
        let mut ids: Vec<&str> = records
            .iter()
            .filter(|r| r["eventName"] == label["eventName"])
            .filter(|r| r["eventSource"] == label["eventSource"])
            .filter(|r| (from..to).contains(&time(r["eventTime"].as_str().unwrap())))
            .filter(|r| error.is_none() || r["errorCode"].as_str() == error)
            .map(|r| r["eventID"].as_str().unwrap())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert!(
            ids.len() as u64 >= calls,
            "{label}: only {} calls",
            ids.len()
        );
    }
    let mut kinds: Vec<&str> = labels.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "drop_to_zero",
            "error_storm",
            "new_principal",
            "normal_peak",
            "rare_burst",
            "read_only_burst",
            "sustained_increase",
            "write_surge"
        ]
    );

    let quiet = simulate(&[
        "--days",
        "9",
        "--seed",
        "2",
        "--scale",
        "0.02",
        "--no-anomalies",
    ]);
    assert_eq!(read_trail(quiet.path()).labels, Value::Array(Vec::new()));
}

/// Unique records of a one-day run at scale 1.
fn records_per_day(start: &str) -> usize {
    let dir = simulate(&["--days", "1", "--start", start, "--no-anomalies"]);
    let trail = read_trail(dir.path());
    let mut ids: Vec<String> = trail
        .logs
        .values()
        .flatten()
        .map(|r| r["eventID"].as_str().unwrap().to_string())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

#[test]
fn scale_one_gives_15k_to_25k_records_a_day() {
    let monday = records_per_day("2024-03-04T00:00:00Z");
    let saturday = records_per_day("2024-03-09T00:00:00Z");
    assert!((15_000..=25_000).contains(&monday), "weekday {monday}");
    assert!((15_000..=25_000).contains(&saturday), "weekend {saturday}");
    assert!(saturday < monday, "weekend {saturday} >= weekday {monday}");
}

#[test]
fn given_accounts_and_regions_are_used_and_bad_ids_rejected() {
    let dir = simulate(&[
        "--account-ids",
        "123837392027,210987654321",
        "--regions",
        "eu-west-1,us-east-1",
        "--days",
        "0.1",
        "--scale",
        "0.2",
    ]);
    let trail = read_trail(dir.path());
    let mut seen: Vec<(String, String)> = trail
        .logs
        .keys()
        .map(|key| {
            let parts: Vec<&str> = key.split('/').collect();
            (parts[1].to_string(), parts[3].to_string())
        })
        .collect();
    seen.dedup();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "{seen:?}");
    // IAM is a global service: its calls are logged in us-east-1 only.
    for (key, records) in &trail.logs {
        if key.contains("/eu-west-1/") {
            assert!(
                records
                    .iter()
                    .all(|r| r["eventSource"] != "iam.amazonaws.com")
            );
        }
    }
    // Digest names carry the trail name and its home Region (the first one given).
    assert!(
        trail
            .digests
            .keys()
            .all(|key| key.contains("_management-events_eu-west-1_"))
    );

    let status = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args([
            "simulate",
            "/nonexistent-never-created",
            "--account-ids",
            "12345",
        ])
        .output()
        .unwrap();
    assert!(!status.status.success());
    assert!(String::from_utf8_lossy(&status.stderr).contains("12 digits"));
}

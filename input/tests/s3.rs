//! The S3 layer against a real S3-protocol server (moto behind tests/s3/harness.py's counting,
//! fault-injecting proxy): listings pruned along CloudTrail's layout, objects counted in the
//! order of a local copy, faults retried, each object read once.
//!
//! The S3 client is set up once per process from the environment, so each test runs in a
//! child process of this test binary with its own AWS environment; the parent starts the
//! server and uploads the shared trail once.

#![cfg(feature = "s3")]

#[path = "../../tests/s3/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use support::{AWS_ENV, AWS_ENV_REMOVED, harness};
use trailsight_engine::time::Timestamp;
use trailsight_engine::{Detector, DetectorConfig};
use trailsight_input::s3::{self, S3Options};
use trailsight_input::{
    InputFile, ReadLimits, Selection, SkipReason, Source, discover_selected, pipeline,
};
use trailsight_sim::{Accounts, Settings};

const CHILD: &str = "TRAILSIGHT_S3_TEST_CHILD";
const TRAIL: &str = "TRAILSIGHT_S3_TEST_TRAIL";
const PORT: &str = support::PORT_VARIABLE;
/// The bucket holding the shared trail, under an organisation prefix.
const BUCKET: &str = "org-trail";
const ORG: &str = "o-test12345";
const ACCOUNTS: [&str; 2] = ["111111111111", "222222222222"];

/// A two-day, two-account, two-region organisation trail on disk and in [`BUCKET`].
fn shared_trail() -> PathBuf {
    static TRAIL_DIR: OnceLock<PathBuf> = OnceLock::new();
    TRAIL_DIR
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("s3-org-trail");
            let org = root.join("org");
            if !org.join("AWSLogs").exists() {
                let raw = root.join("raw");
                let _ = std::fs::remove_dir_all(&raw);
                trailsight_sim::write_trail(
                    &Settings {
                        seed: 3,
                        days: 2.0,
                        scale: 0.05,
                        accounts: Accounts::Given(ACCOUNTS.map(str::to_owned).to_vec()),
                        regions: vec!["us-east-1".into(), "eu-west-1".into()],
                        anomalies: false,
                        ..Settings::default()
                    },
                    &raw,
                )
                .unwrap();
                let staged = root.join("staged");
                let _ = std::fs::remove_dir_all(&staged);
                std::fs::create_dir_all(staged.join("AWSLogs")).unwrap();
                std::fs::rename(raw.join("AWSLogs"), staged.join("AWSLogs").join(ORG)).unwrap();
                std::fs::rename(&staged, &org).unwrap();
            }
            let h = harness();
            h.create_bucket(BUCKET);
            h.upload(BUCKET, &org, "");
            org
        })
        .clone()
}

/// Runs the calling test in a child process with a clean AWS environment pointing at the
/// harness; returns true in the child, which then runs the test's body.
fn in_child() -> bool {
    if std::env::var_os(CHILD).is_some() {
        let port = std::env::var(PORT).unwrap();
        assert!(s3::configure(S3Options {
            endpoint_url: Some(format!("http://127.0.0.1:{port}")),
            concurrency: 4,
            ..S3Options::default()
        }));
        return true;
    }
    let name = std::thread::current().name().unwrap().to_owned();
    let trail = shared_trail();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"]);
    for (key, value) in AWS_ENV {
        command.env(key, value);
    }
    for key in AWS_ENV_REMOVED {
        command.env_remove(key);
    }
    command
        .env(CHILD, "1")
        .env(TRAIL, &trail)
        .env(PORT, harness().port.to_string());
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} in a child process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    false
}

fn trail_dir() -> PathBuf {
    PathBuf::from(std::env::var_os(TRAIL).unwrap())
}

/// A file's name relative to its root: the path under the trail directory or the key.
fn relative(file: &InputFile, root: &Path) -> String {
    match &file.source {
        Source::Path(path) => path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned(),
        Source::S3 { key, .. } => key.0.clone(),
        other => panic!("{other}"),
    }
}

fn minute(text: &str) -> trailsight_engine::time::Minute {
    Timestamp::parse(text).unwrap().minute()
}

fn lists(requests: &[support::Request]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method == "GET" && r.query.contains("list-type=2"))
        .map(|r| {
            let prefix = r
                .query
                .split('&')
                .find_map(|p| p.strip_prefix("prefix="))
                .unwrap_or("");
            prefix.replace("%2F", "/")
        })
        .collect()
}

#[test]
fn a_bucket_lists_as_its_local_copy_pruned_by_account_region_and_day() {
    if !in_child() {
        return;
    }
    let dir = trail_dir();
    let url = PathBuf::from(format!("s3://{BUCKET}/"));
    let everything = Selection::default();
    let local = discover_selected(std::slice::from_ref(&dir), &everything);
    let remote = discover_selected(std::slice::from_ref(&url), &everything);
    assert!(remote.errors.is_empty(), "{:?}", remote.errors);
    let names = |d: &trailsight_input::Discovery, root: &Path| -> Vec<String> {
        d.files.iter().map(|f| relative(f, root)).collect()
    };
    assert!(local.files.len() > 1000);
    assert_eq!(names(&remote, Path::new("")), names(&local, &dir));
    // Digests are never listed, so not even counted.
    assert!(local.skipped.contains_key(&SkipReason::Digest));
    assert!(!remote.skipped.contains_key(&SkipReason::Digest));
    let requests = harness().requests(BUCKET);
    assert!(
        lists(&requests)
            .iter()
            .all(|prefix| !prefix.contains("CloudTrail-Digest")),
        "{:?}",
        lists(&requests)
    );
    assert!(requests.iter().all(|r| r.query.contains("list-type=2")));

    // One account, one region, one day (plus the folder slack): only that is listed below the
    // region level, and the files are those a local walk selects.
    let selection = Selection {
        accounts: Some([ACCOUNTS[1].to_owned()].into()),
        regions: Some(["eu-west-1".to_owned()].into()),
        delivered_from: Some(minute("2024-03-05T06:00:00Z")),
        delivered_until: Some(minute("2024-03-05T09:59:00Z")),
    };
    let before = lists(&harness().requests(BUCKET)).len();
    let local = discover_selected(std::slice::from_ref(&dir), &selection);
    let remote = discover_selected(std::slice::from_ref(&url), &selection);
    assert!(!local.files.is_empty());
    assert_eq!(names(&remote, Path::new("")), names(&local, &dir));
    let pruned: Vec<String> = lists(&harness().requests(BUCKET))[before..].to_vec();
    let region = format!("AWSLogs/{ORG}/{}/CloudTrail/eu-west-1/", ACCOUNTS[1]);
    let mut expected: Vec<String> = vec![
        "".to_owned(),
        "AWSLogs/".to_owned(),
        format!("AWSLogs/{ORG}/"),
        format!("AWSLogs/{ORG}/{}/", ACCOUNTS[1]),
        format!("AWSLogs/{ORG}/{}/CloudTrail/", ACCOUNTS[1]),
        region.clone(),
        format!("{region}2024/"),
        format!("{region}2024/03/"),
    ];
    // The day asked for and the day either side of it (the folder slack), where they exist.
    for day in ["04", "05", "06"] {
        let folder = format!("{region}2024/03/{day}/");
        if dir.join(&folder).exists() {
            expected.push(folder);
        }
    }
    let mut pruned_sorted = pruned;
    pruned_sorted.sort();
    expected.sort();
    assert_eq!(pruned_sorted, expected);
}

/// The per-file outcomes of a run, in the order counted: what the detector saw.
fn run_outcomes(paths: &[PathBuf], root: &Path, threads: usize) -> Vec<String> {
    let discovery = discover_selected(paths, &Selection::default());
    assert!(discovery.errors.is_empty(), "{:?}", discovery.errors);
    let mut detector = Detector::new(DetectorConfig::default()).unwrap();
    let mut outcomes = Vec::new();
    pipeline::run(
        &discovery.files,
        &mut detector,
        threads,
        &ReadLimits::default(),
        |outcome, _| {
            let name = match &outcome.source {
                Source::Path(p) => p.strip_prefix(root).unwrap().display().to_string(),
                Source::S3 { key, .. } => key.0.clone(),
                other => panic!("{other}"),
            };
            outcomes.push(format!(
                "{name} {} {} {:?}",
                outcome.document_bytes,
                outcome.batch.events_parsed,
                outcome.load_error.as_ref().map(|e| e.to_string())
            ));
        },
    )
    .unwrap();
    outcomes
}

#[test]
fn objects_are_counted_in_the_order_of_a_local_copy_each_fetched_once() {
    if !in_child() {
        return;
    }
    let dir = trail_dir();
    let prefix = format!("AWSLogs/{ORG}/{}/", ACCOUNTS[0]);
    let before = harness().requests(BUCKET).len();
    let remote = run_outcomes(
        &[PathBuf::from(format!("s3://{BUCKET}/{prefix}"))],
        Path::new(""),
        2,
    );
    let local: Vec<String> = run_outcomes(&[dir.join(&prefix)], &dir.join(&prefix), 1)
        .into_iter()
        .map(|line| format!("{prefix}{line}"))
        .collect();
    assert!(local.len() > 500);
    assert_eq!(remote, local);
    let mut gets: BTreeMap<String, u32> = BTreeMap::new();
    for request in &harness().requests(BUCKET)[before..] {
        if request.method == "GET" && !request.query.contains("list-type") {
            *gets.entry(request.path.clone()).or_default() += 1;
        }
    }
    assert_eq!(gets.len(), local.len());
    assert!(gets.values().all(|&n| n == 1), "an object fetched twice");
}

#[test]
fn faults_are_retried_and_a_key_that_always_fails_is_reported() {
    if !in_child() {
        return;
    }
    let dir = trail_dir();
    // One account-region-day of the trail in a bucket of its own, so that faults touch no
    // other test.
    let bucket = "faulty-trail";
    let day = format!(
        "AWSLogs/{ORG}/{}/CloudTrail/us-east-1/2024/03/04/",
        ACCOUNTS[1]
    );
    harness().create_bucket(bucket);
    harness().upload(bucket, &dir.join(&day), &day);
    let local = run_outcomes(&[dir.join(&day)], &dir.join(&day), 1);
    let keys: Vec<String> = local
        .iter()
        .map(|line| format!("{day}{}", line.split(' ').next().unwrap()))
        .collect();
    let path = |i: usize| format!("/{bucket}/{}", keys[i]);
    let (slow, broken, dropped, cut, dead) = (path(3), path(10), path(20), path(30), path(40));
    harness().faults(&[
        (&slow, "503", 3),
        (&broken, "500", 2),
        (&dropped, "drop", 2),
        (&cut, "cut", 2),
        (&dead, "500", -1),
    ]);
    let remote = run_outcomes(
        &[PathBuf::from(format!("s3://{bucket}/{day}"))],
        Path::new(""),
        2,
    );
    assert_eq!(remote.len(), local.len());
    for (i, (remote, local)) in remote.iter().zip(&local).enumerate() {
        if i == 40 {
            assert!(
                remote.contains(&format!("s3://{bucket}/{}", keys[40]))
                    || remote.contains("500 InternalError"),
                "{remote}"
            );
            assert!(
                remote.ends_with(
                    "\"500 InternalError: We encountered an internal error. Please try again.\")"
                ),
                "{remote}"
            );
        } else {
            assert_eq!(remote, &format!("{day}{local}"));
        }
    }
    // Every object but the dead one arrived whole exactly once; the faulty ones after their
    // faults, the dead one was tried the configured number of times.
    let mut whole: BTreeMap<String, u32> = BTreeMap::new();
    let mut faults: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for request in harness().requests(bucket) {
        if request.method != "GET" || request.query.contains("list-type") {
            continue;
        }
        if request.outcome == "200" {
            *whole.entry(request.path.clone()).or_default() += 1;
        } else {
            faults
                .entry(request.path.clone())
                .or_default()
                .push(request.outcome);
        }
    }
    assert_eq!(whole.len(), keys.len() - 1);
    assert!(whole.values().all(|&n| n == 1));
    assert!(!whole.contains_key(&dead));
    assert_eq!(faults[&slow], ["503"; 3]);
    assert_eq!(faults[&broken], ["500"; 2]);
    assert_eq!(faults[&dropped], ["drop"; 2]);
    assert_eq!(faults[&cut], ["cut"; 2]);
    assert_eq!(faults[&dead].len(), s3::DEFAULT_MAX_ATTEMPTS as usize);
}

//! `trailsight` on s3:// sources and outputs, against moto behind tests/s3/harness.py (a real
//! S3-protocol server; the proxy counts requests and injects faults): the same records as a
//! local copy at any concurrency, ranged runs, one-line errors, `--out s3://`.

#[path = "../../tests/s3/support.rs"]
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use support::{AWS_ENV, AWS_ENV_REMOVED, harness};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// `trailsight` with a clean AWS environment pointing at the harness.
fn trailsight(args: &[&str]) -> Output {
    trailsight_with(args, &[])
}

fn trailsight_with(args: &[&str], env: &[(&str, Option<&str>)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trailsight"));
    command.args(args);
    for (key, value) in AWS_ENV {
        command.env(key, value);
    }
    for key in AWS_ENV_REMOVED {
        command.env_remove(key);
    }
    command.env("AWS_ENDPOINT_URL", harness().endpoint());
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.output().expect("trailsight runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The sample trail in bucket `sample-trail`, uploaded once.
fn sample_bucket() -> &'static str {
    static UPLOADED: OnceLock<()> = OnceLock::new();
    UPLOADED.get_or_init(|| {
        harness().create_bucket("sample-trail");
        harness().upload("sample-trail", &fixtures().join("sample-trail"), "");
    });
    "sample-trail"
}

#[test]
fn detect_on_s3_prints_what_detect_on_a_local_copy_prints_at_any_concurrency() {
    let bucket = sample_bucket();
    let local = trailsight(&[
        "detect",
        "-q",
        "--strict",
        fixtures().join("sample-trail").to_str().unwrap(),
    ]);
    assert!(local.status.success(), "{}", text(&local.stderr));
    assert!(!local.stdout.is_empty());
    let url = format!("s3://{bucket}/");
    for (threads, concurrency) in [("1", "1"), ("2", "7"), ("2", "16")] {
        let remote = trailsight(&[
            "detect",
            "-q",
            "--strict",
            "-j",
            threads,
            "--s3-concurrency",
            concurrency,
            &url,
        ]);
        assert!(remote.status.success(), "{}", text(&remote.stderr));
        assert!(
            remote.stdout == local.stdout,
            "-j{threads} --s3-concurrency {concurrency}: output differs from the local copy's"
        );
    }
    // Mixed with a local path: each file once, the same records.
    let mixed = trailsight(&[
        "detect",
        "-q",
        &format!("s3://{bucket}/AWSLogs/"),
        fixtures().join("sample-trail").to_str().unwrap(),
    ]);
    assert!(mixed.status.success(), "{}", text(&mixed.stderr));
}

#[test]
fn out_s3_writes_the_keys_and_bytes_out_dir_writes() {
    let bucket = sample_bucket();
    harness().create_bucket("insights-out");
    let dir = tempfile::tempdir().unwrap();
    let trail = fixtures().join("sample-trail");
    let local = trailsight(&[
        "detect",
        "-q",
        "--out",
        dir.path().to_str().unwrap(),
        trail.to_str().unwrap(),
    ]);
    assert!(local.status.success(), "{}", text(&local.stderr));
    let remote = trailsight(&[
        "detect",
        "-q",
        "--out",
        "s3://insights-out/replayed",
        &format!("s3://{bucket}/"),
    ]);
    assert!(remote.status.success(), "{}", text(&remote.stderr));
    let mut local_keys = BTreeSet::new();
    for entry in walk(dir.path()) {
        let key = entry
            .strip_prefix(dir.path())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let bytes = harness().get_object("insights-out", &format!("replayed/{key}"));
        assert_eq!(bytes, fs::read(&entry).unwrap(), "{key}");
        local_keys.insert(format!("/insights-out/replayed/{key}"));
    }
    assert!(!local_keys.is_empty());
    let written: BTreeSet<String> = harness()
        .requests("insights-out")
        .into_iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.path)
        .collect();
    assert_eq!(written, local_keys);
    // Read back from the bucket as references, the written Insights match the trail's.
    let replay = trailsight(&[
        "replay",
        trail.to_str().unwrap(),
        "--reference",
        "s3://insights-out/replayed/",
    ]);
    assert!(
        replay.status.success(),
        "{}{}",
        text(&replay.stdout),
        text(&replay.stderr)
    );
    let report = format!("{}{}", text(&replay.stdout), text(&replay.stderr));
    assert!(report.contains(" matched, 0 missed, 0 extra"), "{report}");
    assert!(report.contains(" 0 differs, 0 unverifiable"), "{report}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Asserts a run failed with exactly one line on stderr containing `expected`.
fn one_line_error(output: &Output, expected: &str) {
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains(expected), "{stderr}");
    for sdk_text in [
        "SdkError",
        "DispatchFailure",
        "ServiceError",
        "backtrace",
        "panicked",
    ] {
        assert!(!stderr.contains(sdk_text), "{stderr}");
    }
}

#[test]
fn bucket_credential_and_region_problems_are_one_clear_line() {
    let missing = trailsight(&["detect", "-q", "s3://no-such-bucket-here/AWSLogs/"]);
    one_line_error(
        &missing,
        "s3://no-such-bucket-here/AWSLogs/: no such bucket",
    );

    harness().create_bucket("denied-bucket");
    harness().faults(&[("/denied-bucket*", "403", -1)]);
    let denied = trailsight(&["detect", "-q", "s3://denied-bucket/"]);
    one_line_error(
        &denied,
        "s3://denied-bucket/: access denied (the role needs s3:ListBucket)",
    );

    harness().create_bucket("elsewhere-bucket");
    harness().faults(&[("/elsewhere-bucket*", "301", -1)]);
    let moved = trailsight(&["detect", "-q", "s3://elsewhere-bucket/"]);
    one_line_error(
        &moved,
        "bucket is in region eu-west-3, not us-east-1: set AWS_REGION=eu-west-3 or the profile's region",
    );

    let anonymous = trailsight_with(
        &["detect", "-q", &format!("s3://{}/", sample_bucket())],
        &[("AWS_ACCESS_KEY_ID", None), ("AWS_SECRET_ACCESS_KEY", None)],
    );
    one_line_error(&anonymous, "no AWS credentials found");
}

#[test]
fn an_object_that_always_fails_is_named_and_fails_strict() {
    let bucket = "one-dead-object";
    harness().create_bucket(bucket);
    let day = fixtures().join("sample-trail/AWSLogs/123837392027/CloudTrail/us-east-1/2023/07/03");
    harness().upload(bucket, &day, "day/");
    let mut names: Vec<String> = fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let dead = format!("day/{}", names[5]);
    harness().faults(&[(&format!("/{bucket}/{dead}"), "503", -1)]);
    let run = trailsight(&["detect", "--strict", &format!("s3://{bucket}/day/")]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "trailsight: error: s3://{bucket}/{dead}: 503 SlowDown"
        )),
        "{stderr}"
    );
}

/// An 18-day simulated trail on disk and in bucket `ranged-trail`.
fn ranged_trail() -> &'static Path {
    static TRAIL: OnceLock<PathBuf> = OnceLock::new();
    TRAIL.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("s3-ranged-trail");
        if !dir.join("AWSLogs").exists() {
            let out = Command::new(env!("CARGO_BIN_EXE_trailsight"))
                .args([
                    "simulate",
                    dir.to_str().unwrap(),
                    "--days",
                    "18",
                    "--scale",
                    "0.1",
                    "--seed",
                    "5",
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
        harness().create_bucket("ranged-trail");
        harness().upload("ranged-trail", &dir.join("AWSLogs"), "AWSLogs/");
        dir
    })
}

fn starts(stdout: &[u8]) -> Vec<String> {
    text(stdout)
        .lines()
        .filter(|l| l.contains("\"state\":\"Start\""))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_ranged_run_reads_only_its_history_and_reports_the_full_runs_starts() {
    let dir = ranged_trail();
    let trail = dir.join("AWSLogs");
    let (since, until) = ("2024-03-21", "2024-03-21T18:00:00Z");
    let full = trailsight(&["detect", "-q", trail.to_str().unwrap()]);
    assert!(full.status.success(), "{}", text(&full.stderr));
    let in_range: Vec<String> = starts(&full.stdout)
        .into_iter()
        .filter(|line| {
            let at = line.find("\"eventTime\":\"").unwrap() + 13;
            let time = &line[at..at + 20];
            ("2024-03-21T00:00:00Z".."2024-03-21T18:00:00Z").contains(&time)
        })
        .collect();
    assert!(!in_range.is_empty(), "no insights in the range to compare");
    let ranged = trailsight(&[
        "detect",
        "-q",
        "--since",
        since,
        "--until",
        until,
        trail.to_str().unwrap(),
    ]);
    assert!(ranged.status.success(), "{}", text(&ranged.stderr));
    assert_eq!(starts(&ranged.stdout), in_range);

    let before = harness().requests("ranged-trail").len();
    let remote = trailsight(&[
        "detect",
        "-q",
        "--since",
        since,
        "--until",
        until,
        "s3://ranged-trail/",
    ]);
    assert!(remote.status.success(), "{}", text(&remote.stderr));
    assert!(
        remote.stdout == ranged.stdout,
        "s3:// ranged output differs from the local one"
    );
    // Only objects delivered from the history start (14 days and one hour before the day of
    // --since) to --until plus 60 + 60 + 60 minutes (window, lateness, delivery margin).
    let requests = &harness().requests("ranged-trail")[before..];
    let fetched: Vec<&str> = requests
        .iter()
        .filter(|r| r.method == "GET" && !r.query.contains("list-type"))
        .map(|r| r.path.as_str())
        .collect();
    assert!(!fetched.is_empty());
    for path in &fetched {
        let stamp = path.split('_').nth(3).unwrap();
        assert!(
            ("20240306T2300Z"..="20240321T2100Z").contains(&stamp),
            "fetched {path} outside the range and its history"
        );
    }
    let all_files = walk(&trail)
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("Digest"))
        .count();
    assert!(fetched.len() < all_files, "nothing pruned");
    let days_listed: BTreeSet<&str> = requests
        .iter()
        .filter(|r| r.query.contains("list-type"))
        .filter_map(|r| r.query.split('&').find_map(|p| p.strip_prefix("prefix=")))
        .filter_map(|p| p.split("%2F").nth(6).filter(|d| !d.is_empty()))
        .collect();
    // The first days' folders (more than the folder slack of a day before the history) are not
    // even listed.
    assert!(
        days_listed.contains("06") && !days_listed.contains("04"),
        "{days_listed:?}"
    );
}

/// Copies `files` (under `root`) to `dir`, keeping their paths relative to `root`.
fn stage(files: &[PathBuf], root: &Path, dir: &Path) {
    for file in files {
        let to = dir.join(file.strip_prefix(root).unwrap());
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(file, &to).unwrap();
    }
}

fn sorted_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = text(bytes).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn watch_follows_a_bucket_across_a_restart_with_files_arriving_out_of_key_order() {
    let bucket = "live-trail";
    harness().create_bucket(bucket);
    let root = fixtures().join("sample-trail");
    let mut files: Vec<PathBuf> = walk(&root.join("AWSLogs/123837392027/CloudTrail"));
    // In delivery order (the time in the name), as CloudTrail writes them.
    files.sort_by_key(|p| {
        p.file_name()
            .unwrap()
            .to_string_lossy()
            .split('_')
            .nth(3)
            .unwrap()
            .to_owned()
    });
    let split = files.len() * 3 / 5;
    // The last few files before the split arrive after the split's files: out of key order.
    let held: Vec<PathBuf> = files[split - 4..split].to_vec();
    let first: Vec<PathBuf> = files[..split - 4].to_vec();
    let second: Vec<PathBuf> = files[split..].iter().chain(&held).cloned().collect();
    let work = tempfile::tempdir().unwrap();
    let checkpoint = work.path().join("watch.ckpt");
    let watch = |extra: &[&str]| {
        let mut args = vec![
            "watch",
            "-q",
            "s3://live-trail/",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--poll-seconds",
            "0.2",
            "--until-idle",
            "3",
        ];
        args.extend_from_slice(extra);
        let run = trailsight(&args);
        assert!(run.status.success(), "{}", text(&run.stderr));
        run.stdout
    };
    stage(&first, &root, &work.path().join("first"));
    harness().upload(bucket, &work.path().join("first"), "");
    let mut records = watch(&[]);
    stage(&second, &root, &work.path().join("second"));
    harness().upload(bucket, &work.path().join("second"), "");
    records.extend(watch(&["--finish-at-end"]));
    let detect = trailsight(&["detect", "-q", root.to_str().unwrap()]);
    assert!(detect.status.success(), "{}", text(&detect.stderr));
    assert!(!detect.stdout.is_empty());
    assert_eq!(sorted_lines(&records), sorted_lines(&detect.stdout));
    // Each object was fetched once over both runs.
    let gets: Vec<String> = harness()
        .requests(bucket)
        .into_iter()
        .filter(|r| r.method == "GET" && !r.query.contains("list-type"))
        .map(|r| r.path)
        .collect();
    let unique: BTreeSet<&String> = gets.iter().collect();
    assert_eq!(gets.len(), files.len());
    assert_eq!(unique.len(), files.len());
}

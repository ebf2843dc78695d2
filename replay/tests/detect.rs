//! `trailsight detect` end to end: the sample trail's golden output, determinism, every input
//! format, bad input, standard input and the S3 output layout.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn trailsight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(args)
        .output()
        .expect("trailsight runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn summary(dir: &Path, args: &[&str]) -> (Output, Value) {
    let path = dir.join("summary.json");
    let mut all = vec!["detect", "--summary-json", path.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = trailsight(&all);
    let summary =
        serde_json::from_slice(&fs::read(&path).unwrap_or_else(|_| b"null".to_vec())).unwrap();
    (output, summary)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn sample_trail_matches_golden_output() {
    let output = trailsight(&["detect", fixtures().join("sample-trail").to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let golden = fixtures().join("golden/sample-trail.jsonl");
    if std::env::var_os("TRAILSIGHT_BLESS").is_some() {
        fs::write(&golden, &output.stdout).unwrap();
    }
    assert_eq!(stdout(&output), fs::read_to_string(golden).unwrap());
    let records: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The real attack: 78 DeleteParameter calls in the minute of 12:08, none in the baseline.
    let delete = records
        .iter()
        .find(|r| {
            r["insightDetails"]["eventName"] == "DeleteParameter"
                && r["insightDetails"]["insightType"] == "ApiCallRateInsight"
                && r["insightDetails"]["state"] == "Start"
        })
        .expect("the DeleteParameter burst");
    assert_eq!(delete["eventTime"], "2023-07-10T12:08:00Z");
    let stats = &delete["insightDetails"]["insightContext"]["statistics"];
    assert_eq!(stats["insight"]["average"], 78.0);
    assert_eq!(stats["baselineDuration"], 10080 + 12 * 60 + 8);
    let err = stderr(&output);
    assert!(
        err.contains("2,219 files read") || err.contains("files read"),
        "{err}"
    );
}

#[test]
fn sample_trail_summary_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let (output, s) = summary(
        dir.path(),
        &[fixtures().join("sample-trail").to_str().unwrap()],
    );
    assert!(output.status.success());
    let r = &s["records"];
    let total = r["events"].as_u64().unwrap()
        + r["insights"].as_u64().unwrap()
        + r["aggregated"].as_u64().unwrap()
        + r["bad"].as_u64().unwrap();
    assert_eq!(r["total"].as_u64().unwrap(), total);
    let d = &s["detector"];
    let na = &d["not_analysed"];
    let not_analysed: u64 = [
        "read_only",
        "category_not_selected",
        "category_never_analysed",
        "insight_type_off",
    ]
    .iter()
    .map(|k| na[k].as_u64().unwrap())
    .sum();
    let accounted = d["counted"].as_u64().unwrap()
        + d["duplicates"].as_u64().unwrap()
        + d["too_late"].as_u64().unwrap()
        + d["in_the_future"].as_u64().unwrap()
        + not_analysed;
    assert_eq!(d["events"].as_u64().unwrap(), accounted, "{d}");
    assert_eq!(r["events"], d["events"]);
    assert_eq!(s["files"]["skipped"]["digest"], 196);
    assert_eq!(s["files"]["read"], 2219);
    assert_eq!(r["events"], 6249 + 2900);
    assert_eq!(s["insights"]["starts"], s["insights"]["ends"]);
}

#[test]
fn output_does_not_depend_on_argument_order_or_threads() {
    let root = fixtures().join("sample-trail/AWSLogs/123837392027/CloudTrail/us-east-1/2023/07");
    let mut days: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    days.sort();
    let run = |days: &[String], threads: &str| {
        let mut args = vec!["detect", "-q", "--threads", threads];
        args.extend(days.iter().map(String::as_str));
        let output = trailsight(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        output.stdout
    };
    let expected = run(&days, "2");
    assert!(!expected.is_empty());
    days.reverse();
    days.swap(0, 3);
    assert_eq!(run(&days, "1"), expected);
    assert_eq!(run(&days, "3"), expected);
}

/// AWS's documented CompleteLifecycleAction example as CloudTrail records.
fn seed_records() -> Vec<Value> {
    let role = |n: u32| {
        format!("arn:aws:sts::012345678901:assumed-role/CodeDeployRole{n}/AutoScaling-{n}")
    };
    let call = |time: &str, name: &str, read_only: bool, arn: String| {
        json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "AssumedRole", "arn": arn, "accountId": "012345678901"},
            "eventTime": time,
            "eventSource": if name == "DescribeInstances" { "ec2.amazonaws.com" } else { "autoscaling.amazonaws.com" },
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": "codedeploy.amazonaws.com",
            "userAgent": "codedeploy.amazonaws.com",
            "requestParameters": {"lifecycleHookName": "hook", "autoScalingGroupName": "asg"},
            "responseElements": null,
            "eventID": format!("00000000-0000-4000-8000-{:012}", time.bytes().map(u64::from).sum::<u64>() * 1000 + name.len() as u64),
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": "838185438692",
            "eventCategory": "Management"
        })
    };
    vec![
        call("2020-07-14T00:00:00Z", "DescribeInstances", true, role(9)),
        call(
            "2020-07-16T09:12:40Z",
            "CompleteLifecycleAction",
            false,
            role(1),
        ),
        call(
            "2020-07-21T20:56:10Z",
            "CompleteLifecycleAction",
            false,
            role(1),
        ),
        call(
            "2020-07-21T20:58:30Z",
            "CompleteLifecycleAction",
            false,
            role(2),
        ),
        call(
            "2020-07-21T21:00:59Z",
            "CompleteLifecycleAction",
            false,
            role(3),
        ),
        call("2020-07-21T21:40:00Z", "DescribeInstances", true, role(9)),
    ]
}

/// The seed example in every format users bring gives exactly the engine's golden records.
#[test]
fn every_input_format_gives_the_seed_example_records() {
    let golden =
        fs::read_to_string(fixtures().join("golden/seed-complete-lifecycle-action.jsonl")).unwrap();
    let records = seed_records();
    let lines =
        |values: Vec<Value>| -> String { values.iter().map(|v| v.to_string() + "\n").collect() };
    let envelope = |r: &Value| json!({"version": "0", "id": "e", "detail-type": "AWS API Call via CloudTrail", "source": "aws.autoscaling", "detail": r});
    let formats: Vec<(&str, Vec<u8>)> = vec![
        ("records.json", json!({"Records": records}).to_string().into_bytes()),
        ("records-pretty.json", serde_json::to_vec_pretty(&json!({"Records": records})).unwrap()),
        ("records.json.gz", gzip(json!({"Records": records}).to_string().as_bytes())),
        ("lines.jsonl", lines(records.clone()).into_bytes()),
        ("lines.jsonl.gz", gzip(lines(records.clone()).as_bytes())),
        (
            "lookup.json",
            json!({"Events": records.iter().map(|r| json!({
                "EventId": r["eventID"], "EventName": r["eventName"], "ReadOnly": r["readOnly"].to_string(),
                "EventTime": 1595364970.0, "EventSource": r["eventSource"], "Username": "x",
                "Resources": [], "CloudTrailEvent": r.to_string()})).collect::<Vec<_>>(),
                "NextToken": "abc"})
            .to_string()
            .into_bytes(),
        ),
        ("eventbridge-array.json", Value::Array(records.iter().map(envelope).collect()).to_string().into_bytes()),
        ("eventbridge.jsonl", lines(records.iter().map(envelope).collect()).into_bytes()),
        (
            "cloudwatch.json",
            json!({"messageType": "DATA_MESSAGE", "owner": "838185438692", "logGroup": "ct", "logStream": "838185438692_CloudTrail_us-east-1",
                "subscriptionFilters": ["all"],
                "logEvents": records.iter().enumerate().map(|(i, r)| json!({"id": i.to_string(), "timestamp": 0, "message": r.to_string()})).collect::<Vec<_>>()})
            .to_string()
            .into_bytes(),
        ),
        ("array.json", Value::Array(records.clone()).to_string().into_bytes()),
    ];
    for (name, bytes) in formats {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        fs::write(&path, &bytes).unwrap();
        let output = trailsight(&["detect", path.to_str().unwrap()]);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(stdout(&output), golden, "{name}:\n{}", stderr(&output));
    }
}

#[test]
fn standard_input() {
    let records = seed_records();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(["detect", "-q", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&gzip(json!({"Records": records}).to_string().as_bytes()))
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let golden =
        fs::read_to_string(fixtures().join("golden/seed-complete-lifecycle-action.jsonl")).unwrap();
    assert_eq!(stdout(&output), golden);
}

#[test]
fn s3_layout_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = trailsight(&[
        "detect",
        "-q",
        "--out",
        out.to_str().unwrap(),
        fixtures().join("sample-trail").to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    let golden = fs::read_to_string(fixtures().join("golden/sample-trail.jsonl")).unwrap();
    let expected: Vec<&str> = golden.lines().collect();
    let mut found = Vec::new();
    for entry in walk(&out) {
        let relative = entry
            .strip_prefix(&out)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(relative.starts_with("AWSLogs/123837392027/CloudTrail-Insight/us-east-1/2023/07/10/123837392027_CloudTrail-Insight_us-east-1_20230710T"), "{relative}");
        assert!(relative.ends_with(".json.gz"));
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(fs::File::open(&entry).unwrap()),
            &mut text,
        )
        .unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        for record in body["Records"].as_array().unwrap() {
            found.push(record.to_string());
        }
    }
    let found: Vec<&str> = found.iter().map(String::as_str).collect();
    assert_eq!(found.len(), 152);
    // Compare parsed records in eventID order: re-serialising changes key order.
    let parse = |lines: &[&str]| -> Vec<Value> {
        let mut values: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        values.sort_by(|a, b| a["eventID"].as_str().cmp(&b["eventID"].as_str()));
        values
    };
    assert_eq!(parse(&found), parse(&expected));
    // The trail read back as reference-shaped input is recognised as Insights and set aside.
    let (output, s) = summary(dir.path(), &[out.to_str().unwrap()]);
    assert!(output.status.success());
    assert_eq!(s["records"]["insights"], 152);
    assert_eq!(s["detector"]["events"], 0);
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
    files
}

/// Bad input of every kind: each is reported with its file and record or byte, counted, and
/// never stops the other files.
#[test]
fn bad_input_is_reported_counted_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir
        .path()
        .join("AWSLogs/838185438692/CloudTrail/us-east-1/2020/07/21");
    fs::create_dir_all(&trail).unwrap();
    let records = seed_records();
    let good = json!({"Records": records}).to_string();
    // The good file holds the whole seed example: it must still give its two records.
    fs::write(
        trail.join("838185438692_CloudTrail_us-east-1_20200721T2145Z_good.json.gz"),
        gzip(good.as_bytes()),
    )
    .unwrap();
    // A corrupt gzip stream.
    let mut corrupt = gzip(good.as_bytes());
    let middle = corrupt.len() / 2;
    corrupt[middle..middle + 8].copy_from_slice(b"garbage!");
    fs::write(
        trail.join("838185438692_CloudTrail_us-east-1_20200721T2150Z_corrupt.json.gz"),
        corrupt,
    )
    .unwrap();
    // A truncated gzip file (download cut short).
    let cut = gzip(good.as_bytes());
    fs::write(
        trail.join("838185438692_CloudTrail_us-east-1_20200721T2155Z_cut.json.gz"),
        &cut[..cut.len() - 40],
    )
    .unwrap();
    // Truncated JSON.
    fs::write(
        trail.join("838185438692_CloudTrail_us-east-1_20200721T2200Z_trunc.json"),
        &good.as_bytes()[..good.len() / 2],
    )
    .unwrap();
    // Wrong types in a record, between two good ones.
    let mut wrong = records[1].clone();
    wrong["eventName"] = json!(42);
    let mixed = json!({"Records": [records[0], wrong, records[5]]}).to_string();
    fs::write(
        trail.join("838185438692_CloudTrail_us-east-1_20200721T2205Z_types.json"),
        mixed,
    )
    .unwrap();
    // Invalid UTF-8, an empty file, a digest, a non-trail file.
    fs::write(
        trail.join("838185438692_CloudTrail_us-east-1_20200721T2210Z_utf8.json"),
        b"{\"Records\":[{\"eventVersion\":\"1.08\",\"eventName\":\"\xff\xfe\"}]}",
    )
    .unwrap();
    fs::write(
        trail.join("838185438692_CloudTrail_us-east-1_20200721T2215Z_empty.json"),
        b"",
    )
    .unwrap();
    let digest = dir
        .path()
        .join("AWSLogs/838185438692/CloudTrail-Digest/us-east-1/2020/07/21");
    fs::create_dir_all(&digest).unwrap();
    fs::write(
        digest.join("d.json.gz"),
        gzip(b"{\"digestStartTime\":\"x\"}"),
    )
    .unwrap();
    fs::write(dir.path().join("notes.txt"), "hello").unwrap();

    let (output, s) = summary(dir.path(), &[dir.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "bad input alone never fails the run: {}",
        stderr(&output)
    );
    let err = stderr(&output);
    for expected in [
        "_corrupt.json.gz: gzip:",
        "_cut.json.gz: gzip:",
        "_trunc.json: record 2 (byte",
        "truncated: the document ends inside a record",
        "_types.json: record 1 (byte ",
        "eventName: expected string, found number",
        "_utf8.json: record 0 (byte",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
    let golden =
        fs::read_to_string(fixtures().join("golden/seed-complete-lifecycle-action.jsonl")).unwrap();
    assert_eq!(
        stdout(&output),
        golden,
        "the good records are all there, counted once"
    );
    assert_eq!(s["files"]["skipped"]["digest"], 1);
    assert_eq!(s["files"]["skipped"]["not-a-trail-file"], 1);
    assert!(s["records"]["bad"].as_u64().unwrap() >= 4, "{s}");
    assert!(s["files"]["partly_read"].as_u64().unwrap() >= 1, "{s}");
    assert!(s["detector"]["duplicates"].as_u64().unwrap() > 0);
    assert_eq!(
        s["detector"]["counted"], 4,
        "three CompleteLifecycleAction writes in the burst and one in the baseline"
    );

    let strict = trailsight(&["detect", "-q", "--strict", dir.path().to_str().unwrap()]);
    assert_eq!(strict.status.code(), Some(2));
    let clean = trailsight(&[
        "detect",
        "-q",
        "--strict",
        trail
            .join("838185438692_CloudTrail_us-east-1_20200721T2145Z_good.json.gz")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(clean.status.code(), Some(0));
}

#[test]
fn missing_path_and_bad_flags() {
    let output = trailsight(&["detect", "/no/such/trail"]);
    assert!(output.status.success());
    assert!(stderr(&output).contains("/no/such/trail: no such file or directory"));
    let strict = trailsight(&["detect", "--strict", "/no/such/trail"]);
    assert_eq!(strict.status.code(), Some(2));
    let bad = trailsight(&["detect", "--sensitivity", "3", "/no/such/trail"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("sensitivity must be between 0 and 1"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn config_file_overrides_silence_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail.json");
    fs::write(&trail, json!({"Records": seed_records()}).to_string()).unwrap();
    let config = dir.path().join("trailsight.toml");
    fs::write(&config, "sensitivity = 0.5\n[[overrides]]\nevent-source = \"autoscaling.amazonaws.com\"\nenabled = false\n").unwrap();
    let output = trailsight(&[
        "detect",
        "-q",
        "--config",
        config.to_str().unwrap(),
        trail.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    fs::write(&config, "sensitivty = 0.5\n").unwrap();
    let typo = trailsight(&[
        "detect",
        "-q",
        "--config",
        config.to_str().unwrap(),
        trail.to_str().unwrap(),
    ]);
    assert_eq!(typo.status.code(), Some(1));
    assert!(stderr(&typo).contains("unknown field"), "{}", stderr(&typo));
}

#[test]
fn open_insight_is_listed_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail.json");
    let records = &seed_records()[..5];
    fs::write(&trail, json!({"Records": records}).to_string()).unwrap();
    let output = trailsight(&["detect", trail.to_str().unwrap()]);
    assert!(output.status.success());
    assert_eq!(stdout(&output).lines().count(), 1, "a Start without End");
    assert!(stderr(&output).contains("open: 2020-07-21T20:56:00Z 838185438692 us-east-1 autoscaling.amazonaws.com CompleteLifecycleAction ApiCallRateInsight"), "{}", stderr(&output));
}

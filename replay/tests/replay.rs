//! `trailsight replay` and `trailsight explain` end to end: trailsight's own output as
//! reference, AWS's documented CompleteLifecycleAction record on a trail built to reproduce it,
//! the same trail with a hole, lone Starts and Ends, every reference format, every public
//! sample, bad input, and explain's text and JSON.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use trailsight_engine::time::{Minute, Timestamp};

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

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Runs `trailsight replay` with `args` and `--report`; returns the output and the report.
fn replay(dir: &Path, args: &[&str]) -> (Output, Value) {
    let path = dir.join("report.json");
    let _ = fs::remove_file(&path);
    let mut all = vec!["replay", "-q", "--report", path.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = trailsight(&all);
    let report = fs::read(&path)
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(Value::Null);
    (output, report)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn verdicts(report: &Value) -> Vec<String> {
    report["insights"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["validation"]["verdict"].as_str().map(str::to_owned))
        .collect()
}

fn minute(text: &str) -> Minute {
    Timestamp::parse(text).unwrap().minute()
}

fn sample_line(n: usize) -> String {
    let text =
        fs::read_to_string(fixtures().join("corpus/insights-samples/insights_samples.jsonl"))
            .unwrap();
    text.lines().nth(n - 1).unwrap().to_owned()
}

/// trailsight's own records on the sample trail, as a reference written in CloudTrail's S3
/// layout inside the trail and as a JSON lines file: every insight matched, every number
/// reproduced.
#[test]
fn own_output_as_reference_is_matched_and_reproduced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("insights");
    let detect = trailsight(&[
        "detect",
        "-q",
        "--out",
        p(&out),
        p(&fixtures().join("sample-trail")),
    ]);
    assert!(detect.status.success(), "{}", stderr(&detect));
    let golden = fixtures().join("golden/sample-trail.jsonl");
    for args in [
        vec![
            p(&fixtures().join("sample-trail")).to_owned(),
            p(&out).to_owned(),
        ],
        vec![
            p(&fixtures().join("sample-trail")).to_owned(),
            "-r".into(),
            p(&golden).to_owned(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (output, report) = replay(dir.path(), &args);
        assert!(output.status.success(), "{}", stderr(&output));
        let m = &report["matching"];
        assert_eq!(report["reference"]["insights"], 76, "{args:?}");
        assert_eq!(report["reference"]["complete"], 76);
        assert_eq!(
            (
                m["matched"].as_u64(),
                m["missed"].as_u64(),
                m["extra"].as_u64()
            ),
            (Some(76), Some(0), Some(0))
        );
        assert_eq!(m["precision"], 1.0);
        assert_eq!(m["recall"], 1.0);
        assert_eq!(m["f1"], 1.0);
        assert_eq!(m["onset_delay_minutes"]["median"], 0);
        assert_eq!(m["end_delay_minutes"]["p90"], 0);
        for (number, e) in m["relative_errors"].as_object().unwrap() {
            assert_eq!(e["max"], 0.0, "{number}");
            assert_eq!(e["pairs"], 76, "{number}");
        }
        for (attribute, a) in m["attributions"].as_object().unwrap() {
            assert_eq!(a["top1_agreement"], 1.0, "{attribute}");
            assert_eq!(a["top5_jaccard_mean"], 1.0, "{attribute}");
        }
        assert_eq!(
            report["validation"]["reproduced"],
            76,
            "{}",
            stdout(&output)
        );
        let v = verdicts(&report);
        assert_eq!(v.len(), 76);
        assert!(v.iter().all(|v| v == "reproduced"));
        // Every number of every record was checked: 5 statistics on a pair (baselineDuration
        // and the averages on both records, insightDuration on the End) and two lists per
        // attribution per record.
        let checks: usize = report["insights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["validation"]["checks"].as_array().unwrap().len())
            .sum();
        assert!(checks > 76 * 15, "{checks}");
        let table = stdout(&output);
        assert!(
            table
                .contains("76 matched, 0 missed, 0 extra; precision 1.000, recall 1.000, F1 1.000"),
            "{table}"
        );
        assert!(
            table.contains("76 reproduced, 0 trail incomplete, 0 differs"),
            "{table}"
        );
    }
}

/// AWS's documented CompleteLifecycleAction example as CloudTrail events: one call in the
/// baseline, three in five minutes at 2020-07-21T20:56Z. The record's recipientAccountId is
/// 838185438692 while the roles are in 012345678901, so the events are too.
fn seed_calls() -> Vec<(&'static str, u32)> {
    vec![
        ("2020-07-16T09:12:40Z", 1),
        ("2020-07-21T20:56:10Z", 1),
        ("2020-07-21T20:58:30Z", 2),
        ("2020-07-21T21:00:59Z", 3),
    ]
}

fn call(time: &str, name: &str, id: String, role: u32, read_only: bool) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole",
            "arn": format!("arn:aws:sts::012345678901:assumed-role/CodeDeployRole{role}/AutoScaling-{role}"),
            "accountId": "012345678901"},
        "eventTime": time,
        "eventSource": if read_only { "ec2.amazonaws.com" } else { "autoscaling.amazonaws.com" },
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "codedeploy.amazonaws.com",
        "userAgent": "codedeploy.amazonaws.com",
        "requestParameters": {"lifecycleHookName": "hook", "autoScalingGroupName": "asg"},
        "responseElements": null,
        "eventID": id,
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "838185438692",
        "eventCategory": "Management"
    })
}

/// A CloudTrail S3 tree from 2020-07-14T00:00Z to 2020-07-21T22:00Z: a log file every 5
/// minutes with two read-only calls in it (the account's background), and the seed's
/// CompleteLifecycleAction calls plus `extra` in the files of their periods. Files delivered in
/// `[hole.0, hole.1)` are left out.
fn seed_trail(root: &Path, hole: Option<(&str, &str)>, extra: &[(&str, u32)]) {
    let calls: Vec<(&str, u32)> = seed_calls()
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    write_trail(
        root,
        ("2020-07-14T00:00:00Z", "2020-07-21T22:00:00Z"),
        hole,
        &calls,
        0,
    );
}

/// The files of [`seed_trail`] for the periods of `[from, to)`; event IDs are numbered from
/// `first_id`.
fn write_trail(
    root: &Path,
    (from, to): (&str, &str),
    hole: Option<(&str, &str)>,
    calls: &[(&str, u32)],
    first_id: u64,
) {
    let (from, to) = (minute(from), minute(to));
    let hole = hole.map(|(a, b)| (minute(a), minute(b)));
    let mut serial = first_id;
    let mut id = || {
        serial += 1;
        format!("00000000-0000-4000-8000-{serial:012}")
    };
    let mut period = from;
    while period < to {
        let delivered = period.plus(5);
        let stamp = |s: i64| Timestamp(period.0 * 60 + s).to_string();
        let mut records = vec![
            call(&stamp(0), "DescribeInstances", id(), 9, true),
            call(&stamp(150), "DescribeInstances", id(), 9, true),
        ];
        for &(time, role) in calls {
            if minute(time) >= period && minute(time) < delivered {
                records.push(call(time, "CompleteLifecycleAction", id(), role, false));
            }
        }
        let skip = hole.is_some_and(|(a, b)| a <= delivered && delivered < b);
        if !skip {
            let text = delivered.to_string();
            let (date, hhmm) = (text[..10].replace('-', ""), text[11..16].replace(':', ""));
            let folder = root
                .join("AWSLogs/838185438692/CloudTrail/us-east-1")
                .join(&text[0..4])
                .join(&text[5..7])
                .join(&text[8..10]);
            fs::create_dir_all(&folder).unwrap();
            let name = format!(
                "838185438692_CloudTrail_us-east-1_{date}T{hhmm}Z_f{:011}.json.gz",
                delivered.0
            );
            fs::write(
                folder.join(name),
                gzip(json!({"Records": records}).to_string().as_bytes()),
            )
            .unwrap();
        }
        period = delivered;
    }
}

fn check<'a>(row: &'a Value, record: &str, number: &str) -> &'a Value {
    row["validation"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["record"] == record && c["number"] == number)
        .unwrap_or_else(|| panic!("no {record} {number} in {row:#}"))
}

/// AWS's record reproduces to the digit on a trail built from its documentation: the aligned
/// baselineDuration, the baseline (one call in 11336 minutes, printed as 8.82145e-05), the
/// Start's average over its own 5-minute window (0.6), and every attribution, the roles' session
/// names dropped.
#[test]
fn aws_seed_record_reproduces_on_its_trail() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    seed_trail(&trail, None, &[]);
    let reference = dir.path().join("aws.jsonl");
    fs::write(&reference, sample_line(3) + "\n").unwrap();
    let (output, report) = replay(dir.path(), &[p(&trail), "-r", p(&reference)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(report["reference"]["start_without_end"], 1);
    assert_eq!(report["matching"]["matched"], 1, "{}", stdout(&output));
    assert_eq!(report["matching"]["extra"], 0);
    let row = &report["insights"][0];
    assert_eq!(row["status"], "matched");
    assert_eq!(row["reference"]["records"], "start-without-end");
    assert_eq!(
        row["reference"]["shared_event_id"],
        "7bb000gg-22b3-4c03-94af-c74tj0c8m7c0"
    );
    assert_eq!(row["comparison"]["onset_delay_minutes"], 0);
    assert_eq!(
        row["validation"]["verdict"], "reproduced",
        "{:#}",
        row["validation"]
    );
    assert_eq!(row["validation"]["missing_spans"], json!([]));
    let duration = check(row, "Start", "baselineDuration");
    assert_eq!(
        (&duration["aws"], &duration["ours"]),
        (&json!(11336), &json!(11336))
    );
    let baseline = check(row, "Start", "baseline.average");
    assert_eq!(baseline["aws"], 8.82145e-05);
    assert_eq!(baseline["ours"], 0.0000882145);
    assert!(
        baseline["rule"]
            .as_str()
            .unwrap()
            .starts_with("1 event in 11336 minutes")
    );
    let insight = check(row, "Start", "insight.average");
    assert_eq!(
        (&insight["aws"], &insight["ours"]),
        (&json!(0.6), &json!(0.6))
    );
    assert_eq!(
        insight["window"],
        json!({"from": "2020-07-21T20:56:00Z", "to": "2020-07-21T21:01:00Z"})
    );
    let roles = check(row, "Start", "attributions.userIdentityArn.insight");
    assert_eq!(roles["agrees"], true);
    assert_eq!(roles["ours"].as_array().unwrap().len(), 3);
    assert!(
        roles["rule"]
            .as_str()
            .unwrap()
            .contains("session names dropped")
    );
    for number in [
        "attributions.userIdentityArn.baseline",
        "attributions.userAgent.insight",
        "attributions.userAgent.baseline",
        "attributions.errorCode.insight",
        "attributions.errorCode.baseline",
    ] {
        assert_eq!(check(row, "Start", number)["agrees"], true, "{number}");
    }
    let table = stdout(&output);
    assert!(table.contains("1 matched, 0 missed, 0 extra"), "{table}");
    assert!(
        table.contains("reference: start without end (7bb000gg-22b3-4c03-94af-c74tj0c8m7c0)"),
        "{table}"
    );
}

/// Files delivered long before or after the reference's windows (a synced bucket holds years)
/// are not read a second time, and change nothing.
#[test]
fn files_far_from_every_window_are_not_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    seed_trail(&trail, None, &[]);
    // A day a month before, with a call of the same API, and a day a month after.
    let before = ("2020-06-01T00:00:00Z", "2020-06-02T00:00:00Z");
    write_trail(
        &trail,
        before,
        None,
        &[("2020-06-01T10:00:00Z", 1)],
        1_000_000,
    );
    let after = ("2020-08-20T00:00:00Z", "2020-08-21T00:00:00Z");
    write_trail(&trail, after, None, &[], 2_000_000);
    let reference = dir.path().join("aws.jsonl");
    fs::write(&reference, sample_line(3) + "\n").unwrap();
    let (output, report) = replay(dir.path(), &[p(&trail), "-r", p(&reference)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(report["recount"]["files_skipped"], 2 * 288);
    assert_eq!(report["recount"]["files_read"], 2280);
    let row = &report["insights"][0];
    assert_eq!(
        row["validation"]["verdict"], "reproduced",
        "{:#}",
        row["validation"]
    );
    assert_eq!(row["validation"]["missing_spans"], json!([]));
}

/// The same trail without the files delivered between 06:00 and 12:00 on 2020-07-16, which held
/// the baseline's only call: the baseline no longer reproduces, and the report says the trail
/// lacks that span.
#[test]
fn a_hole_in_the_trail_is_found_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    seed_trail(
        &trail,
        Some(("2020-07-16T06:05:00Z", "2020-07-16T12:05:00Z")),
        &[],
    );
    let reference = dir.path().join("aws.jsonl");
    fs::write(&reference, sample_line(3) + "\n").unwrap();
    let (output, report) = replay(dir.path(), &[p(&trail), "-r", p(&reference)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let row = &report["insights"][0];
    let v = &row["validation"];
    assert_eq!(v["verdict"], "trail-incomplete", "{v:#}");
    let baseline = check(row, "Start", "baseline.average");
    assert_eq!(baseline["agrees"], false);
    assert_eq!(baseline["ours"], 0.0);
    assert_eq!(baseline["relative_error"], 1.0);
    // The insight window itself is complete.
    assert_eq!(check(row, "Start", "insight.average")["agrees"], true);
    let spans = v["missing_spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(spans[0]["from"], "2020-07-16T06:00:00Z");
    assert_eq!(spans[0]["to"], "2020-07-16T12:05:00Z");
    let evidence = spans[0]["evidence"].to_string();
    assert!(
        evidence.contains("no events for 6 h") && evidence.contains("no delivery files"),
        "{evidence}"
    );
    let table = stdout(&output);
    assert!(table.contains("trail incomplete"), "{table}");
    assert!(table.contains("differs: Start baseline.average: reference 8.82145e-05, trail 0.0, relative error 100.00%"), "{table}");
    assert!(
        table.contains("missing: 2020-07-16T06:00Z – 2020-07-16T12:05Z (6 h 5 min)"),
        "{table}"
    );
    assert!(
        table.contains("0 reproduced, 1 trail incomplete"),
        "{table}"
    );
}

/// A fourth call in the insight window, with the trail complete: the Start's average differs
/// (0.8 against AWS's 0.6), and nothing explains it.
#[test]
fn a_number_that_differs_on_a_complete_trail() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    seed_trail(&trail, None, &[("2020-07-21T20:59:00Z", 2)]);
    let reference = dir.path().join("aws.jsonl");
    fs::write(&reference, sample_line(3) + "\n").unwrap();
    let (output, report) = replay(dir.path(), &[p(&trail), "-r", p(&reference)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let row = &report["insights"][0];
    assert_eq!(row["validation"]["verdict"], "differs");
    let insight = check(row, "Start", "insight.average");
    assert_eq!(
        (&insight["aws"], &insight["ours"]),
        (&json!(0.6), &json!(0.8))
    );
    let error = insight["relative_error"].as_f64().unwrap();
    assert!((error - 1.0 / 3.0).abs() < 1e-9, "{error}");
    assert_eq!(check(row, "Start", "baseline.average")["agrees"], true);
    assert_eq!(
        check(row, "Start", "attributions.userIdentityArn.insight")["agrees"],
        false
    );
    assert_eq!(row["validation"]["missing_spans"], json!([]));
}

/// A reference with the End of one insight and the Start of another left out: both are
/// reported as such, still matched, and the lone End validates over the start its duration
/// implies.
#[test]
fn lone_starts_and_ends_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let golden = fs::read_to_string(fixtures().join("golden/sample-trail.jsonl")).unwrap();
    let records: Vec<Value> = golden
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let end_of = |name: &str, state: &str| {
        records
            .iter()
            .position(|r| {
                r["insightDetails"]["eventName"] == name
                    && r["insightDetails"]["insightType"] == "ApiCallRateInsight"
                    && r["insightDetails"]["state"] == state
            })
            .unwrap()
    };
    let (drop_end, drop_start) = (
        end_of("DeleteParameter", "End"),
        end_of("CreateRole", "Start"),
    );
    let kept: String = records
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != drop_end && i != drop_start)
        .map(|(_, r)| r.to_string() + "\n")
        .collect();
    let reference = dir.path().join("partial.jsonl");
    fs::write(&reference, kept).unwrap();
    let (output, report) = replay(
        dir.path(),
        &[p(&fixtures().join("sample-trail")), "-r", p(&reference)],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let r = &report["reference"];
    assert_eq!(
        (
            r["complete"].as_u64(),
            r["start_without_end"].as_u64(),
            r["end_without_start"].as_u64()
        ),
        (Some(74), Some(1), Some(1))
    );
    assert_eq!(report["matching"]["matched"], 76);
    assert_eq!(report["validation"]["reproduced"], 76);
    let row = |name: &str| {
        report["insights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| {
                row["key"]["event_name"] == name
                    && row["key"]["insight_type"] == "ApiCallRateInsight"
            })
            .unwrap()
    };
    let lone_start = row("DeleteParameter");
    assert_eq!(lone_start["reference"]["records"], "start-without-end");
    assert_eq!(lone_start["reference"]["end_minute"], Value::Null);
    let lone_end = row("CreateRole");
    assert_eq!(lone_end["reference"]["records"], "end-without-start");
    // CreateRole ran from 11:54 to 12:28: the End's insightDuration gives its start back.
    assert_eq!(
        lone_end["reference"]["first_minute"],
        "2023-07-10T11:54:00Z"
    );
    assert_eq!(check(lone_end, "End", "insight.average")["agrees"], true);
    let table = stdout(&output);
    assert!(
        table.contains("74 start and end, 1 start without end, 1 end without start"),
        "{table}"
    );
    assert!(
        table.contains("    reference: start without end ("),
        "{table}"
    );
    assert!(
        table.contains("    reference: end without start ("),
        "{table}"
    );
}

/// The trail-schema record as CloudTrail Lake writes it.
fn lake(record: &Value) -> Value {
    let d = &record["insightDetails"];
    let c = &d["insightContext"];
    let s = &c["statistics"];
    let mut out = json!({
        "eventVersion": record["eventVersion"], "eventCategory": "Insight",
        "eventType": "AwsCloudTrailInsight", "eventID": record["eventID"],
        "eventTime": record["eventTime"], "awsRegion": record["awsRegion"],
        "recipientAccountId": record["recipientAccountId"], "sharedEventID": record["sharedEventID"],
        "insightSource": "arn:aws:cloudtrail:us-east-1:838185438692:eventdatastore/EXAMPLE",
        "insightState": d["state"], "insightEventSource": d["eventSource"],
        "insightEventName": d["eventName"], "insightType": d["insightType"],
        "insightContext": {"baselineAverage": s["baseline"]["average"],
            "insightAverage": s["insight"]["average"], "baselineDuration": s["baselineDuration"],
            "insightDuration": s["insightDuration"], "attributions": c["attributions"]}
    });
    if let Some(code) = d.get("errorCode") {
        out["insightErrorCode"] = code.clone();
    }
    out
}

/// The parts of the report's reference side that do not depend on the format it came in.
fn parsed_references(report: &Value) -> Vec<Value> {
    report["insights"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row.get("reference").filter(|r| !r.is_null()).cloned())
        .map(|mut side| {
            side.as_object_mut().unwrap().remove("sources");
            for record in ["start", "end"] {
                if let Some(r) = side[record].as_object_mut() {
                    // What only the Lake schema changes.
                    for key in ["schema", "source_event_category", "insight_source", "notes"] {
                        r.remove(key);
                    }
                }
            }
            side
        })
        .collect()
}

/// The same reference records (AWS's seed Start, its 2024 DescribeQuery pair, SEKOIA's real End)
/// read from every source users have give the same parsed reference.
#[test]
fn every_reference_format_gives_the_same_parsed_reference() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail.json");
    let mut seed: Vec<Value> = seed_calls()
        .iter()
        .enumerate()
        .map(|(i, &(t, role))| call(t, "CompleteLifecycleAction", format!("id-{i}"), role, false))
        .collect();
    // Data from the start of the baseline window, so that the detector reports the burst.
    seed.push(call(
        "2020-07-14T00:00:00Z",
        "DescribeInstances",
        "id-first".into(),
        9,
        true,
    ));
    fs::write(&trail, json!({"Records": seed}).to_string()).unwrap();
    let lines: Vec<String> = [3, 8, 9, 2].iter().map(|&n| sample_line(n)).collect();
    let records: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let jsonl = |values: Vec<Value>| -> Vec<u8> {
        values
            .iter()
            .map(|v| v.to_string() + "\n")
            .collect::<String>()
            .into_bytes()
    };
    let envelope = |r: &Value| json!({"version": "0", "id": "e", "detail-type": "AWS Insight via CloudTrail", "source": "aws.cloudtrail", "account": "838185438692", "detail": r});
    let insight_dir = dir
        .path()
        .join("bucket/AWSLogs/838185438692/CloudTrail-Insight/us-east-1/2020/07/21");
    fs::create_dir_all(&insight_dir).unwrap();
    let formats: Vec<(&str, Vec<u8>)> = vec![
        ("records.json.gz", gzip(json!({"Records": records}).to_string().as_bytes())),
        ("lines.jsonl", lines.iter().map(|l| l.clone() + "\n").collect::<String>().into_bytes()),
        ("lookup-inline.json", json!({"NextToken": "x", "Events": records}).to_string().into_bytes()),
        (
            "lookup-strings.json",
            json!({"Events": records.iter().map(|r| json!({"EventId": r["eventID"], "EventName": r["insightDetails"]["eventName"],
                "EventTime": 1595364960.0, "EventSource": "cloudtrail.amazonaws.com", "Resources": [],
                "CloudTrailEvent": r.to_string()})).collect::<Vec<_>>()}).to_string().into_bytes(),
        ),
        ("eventbridge.jsonl", jsonl(records.iter().map(envelope).collect())),
        ("eventbridge-array.json", Value::Array(records.iter().map(envelope).collect()).to_string().into_bytes()),
        ("lake.json", Value::Array(records.iter().map(lake).collect()).to_string().into_bytes()),
        ("lake.jsonl.gz", gzip(&jsonl(records.iter().map(lake).collect()))),
    ];
    let mut seen: Vec<(String, Vec<Value>)> = Vec::new();
    for (name, bytes) in &formats {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        let (output, report) = replay(dir.path(), &[p(&trail), "-r", p(&path)]);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(report["reference"]["records"], 4, "{name}");
        assert_eq!(report["reference"]["bad_records"], 0, "{name}");
        assert_eq!(report["reference"]["insights"], 3, "{name}");
        seen.push((name.to_string(), parsed_references(&report)));
    }
    // An Insights file in the trail's own tree is taken as reference without --reference.
    let in_tree = insight_dir
        .join("838185438692_CloudTrail-Insight_us-east-1_20200721T2100Z_abcdefghijklmnop.json.gz");
    fs::write(
        &in_tree,
        gzip(json!({"Records": records}).to_string().as_bytes()),
    )
    .unwrap();
    let (output, report) = replay(dir.path(), &[p(&trail), p(&dir.path().join("bucket"))]);
    assert!(output.status.success(), "{}", stderr(&output));
    seen.push(("in the trail".into(), parsed_references(&report)));
    let (first_name, first) = &seen[0];
    assert_eq!(first.len(), 3);
    for (name, parsed) in &seen[1..] {
        assert_eq!(parsed, first, "{name} differs from {first_name}");
    }
    // The seed Start reproduces on the one-file trail too.
    assert_eq!(report["matching"]["matched"], 1);
    let seed_row = report["insights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"]["event_name"] == "CompleteLifecycleAction")
        .unwrap();
    assert_eq!(
        seed_row["validation"]["verdict"], "reproduced",
        "{:#}",
        seed_row["validation"]
    );
    // The two others have no data in this trail.
    assert_eq!(report["validation"]["trail-incomplete"], 2);
}

/// Every public Insights sample parses through the command, whatever its generation and shape;
/// without a trail to check them against, none is reproduced and none crashes anything.
#[test]
fn every_public_sample_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    let samples = fixtures().join("corpus/insights-samples");
    let examples = fixtures().join("corpus/insights-examples");
    let (output, report) = replay(
        dir.path(),
        &[p(&empty), "-r", p(&samples), "-r", p(&examples)],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let r = &report["reference"];
    // 12 lines + 12 in the per-source files + 6 in the example files; the truncated fivexl
    // excerpt is a .txt file, which directory walks skip.
    assert_eq!(r["records"], 30, "{r:#}");
    assert_eq!(r["bad_records"], 0, "{}", stderr(&output));
    assert_eq!(r["duplicates"], 18);
    assert_eq!(r["insights"], 9);
    assert_eq!(r["complete"], 3);
    assert_eq!(report["validation"]["trail-incomplete"], 8);
    // The elastic/beats record, without insightContext, has nothing to check.
    assert_eq!(report["validation"]["unverifiable"], 1);
    let table = stdout(&output);
    assert!(
        table.contains("note: End: no insightContext (unknown keys: insffightContext)"),
        "{table}"
    );
}

#[test]
fn bad_reference_input_is_reported_and_strict_fails() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail.json");
    fs::write(&trail, json!({"Records": []}).to_string()).unwrap();
    let mut broken: Value = serde_json::from_str(&sample_line(8)).unwrap();
    broken.as_object_mut().unwrap().remove("sharedEventID");
    let reference = dir.path().join("bad.jsonl");
    fs::write(
        &reference,
        format!("{}\n{broken}\n{{\"eventVersion\": \n", sample_line(9)),
    )
    .unwrap();
    let (output, report) = replay(dir.path(), &[p(&trail), "-r", p(&reference)]);
    assert!(
        output.status.success(),
        "bad input alone never fails the run"
    );
    let err = stderr(&output);
    assert!(err.contains("bad.jsonl: record 1 (byte"), "{err}");
    assert!(err.contains("sharedEventID: missing"), "{err}");
    assert!(err.contains("bad.jsonl: record 2 (byte"), "{err}");
    assert_eq!(report["reference"]["bad_records"], 2);
    assert_eq!(report["reference"]["end_without_start"], 1);
    let strict = trailsight(&["replay", "-q", "--strict", p(&trail), "-r", p(&reference)]);
    assert_eq!(strict.status.code(), Some(2));
    let stdin = trailsight(&["replay", "-", "-r", p(&reference)]);
    assert_eq!(stdin.status.code(), Some(1));
    assert!(
        stderr(&stdin).contains("cannot be standard input"),
        "{}",
        stderr(&stdin)
    );
    let trail_events = trailsight(&[
        "replay",
        "-q",
        p(&trail),
        "-r",
        p(&fixtures().join("golden/seed-complete-lifecycle-action.jsonl")),
    ]);
    assert!(trail_events.status.success());
}

fn sample_trail_id(name: &str) -> String {
    let golden = fs::read_to_string(fixtures().join("golden/sample-trail.jsonl")).unwrap();
    golden
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| {
            r["insightDetails"]["eventName"] == name
                && r["insightDetails"]["insightType"] == "ApiCallRateInsight"
        })
        .map(|r| r["sharedEventID"].as_str().unwrap().to_owned())
        .unwrap()
}

/// explain on the sample trail's DeleteParameter burst: 78 calls in one minute by one user,
/// each listed with its parameter.
#[test]
fn explain_shows_the_raw_events_and_the_counts() {
    let id = sample_trail_id("DeleteParameter");
    let trail = fixtures().join("sample-trail");
    let text = trailsight(&[
        "explain",
        "-q",
        "--trail",
        p(&trail),
        "--id",
        &id,
        "--max-events",
        "100",
    ]);
    assert!(text.status.success(), "{}", stderr(&text));
    let out = stdout(&text);
    for expected in [
        &format!("insight {id} (found by trailsight)") as &str,
        "DeleteParameter (ssm.amazonaws.com), ApiCallRateInsight",
        "insight window 2023-07-10T12:08:00Z – 2023-07-10T12:09:00Z: 78 events in 1 min = 78.0/min",
        "0 events in 10808 min = 0.0/min",
        "  2023-07-10T12:08Z *     78 ##################################################",
        "events in the insight window: 78 (78 shown)",
        "name=/credentials/stratus-red-team/credentials-",
        "       78  arn:aws:iam::123837392027:user/bert-jan",
        "       78  192.168.10.20",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    let json = trailsight(&[
        "explain",
        "-q",
        "--json",
        "--trail",
        p(&trail),
        "--id",
        &id,
        "--max-events",
        "10",
    ]);
    assert!(json.status.success(), "{}", stderr(&json));
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["insight"]["side"], "trailsight");
    assert_eq!(v["insight_window"]["events"], 78);
    assert_eq!(v["events"]["total"], 78);
    assert_eq!(v["events"]["shown"], 10);
    assert_eq!(v["events"]["list"].as_array().unwrap().len(), 10);
    let first = &v["events"]["list"][0];
    assert!(
        first["request_parameters"]["name"]
            .as_str()
            .unwrap()
            .starts_with("/credentials/stratus-red-team/")
    );
    assert!(
        first["source"]
            .as_str()
            .unwrap()
            .contains("218007301253_CloudTrail_us-east-1_20230710T")
    );
    assert_eq!(
        v["top"]["principals"][0],
        json!({"value": "arn:aws:iam::123837392027:user/bert-jan", "events": 78})
    );
    let series = v["series"].as_array().unwrap();
    assert_eq!(series.len(), 31);
    let inside: Vec<&Value> = series.iter().filter(|p| p["in_insight"] == true).collect();
    assert_eq!(inside.len(), 1);
    assert_eq!(inside[0]["events"], 78);
    assert_eq!(inside[0]["minute"], "2023-07-10T12:08:00Z");
}

/// explain with the reference record given as a file: AWS's seed Start on its trail.
#[test]
fn explain_a_reference_record_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    seed_trail(&trail, None, &[]);
    let reference = dir.path().join("aws.json");
    fs::write(&reference, sample_line(3)).unwrap();
    let output = trailsight(&[
        "explain",
        "-q",
        "--trail",
        p(&trail),
        "--insight",
        p(&reference),
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let v: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(v["insight"]["side"], "reference");
    assert_eq!(v["insight"]["records"], "start-without-end");
    assert_eq!(v["baseline"]["events"], 1);
    assert_eq!(v["baseline"]["minutes"], 11336);
    assert_eq!(v["insight_window"]["events"], 3);
    assert_eq!(v["insight_window"]["to"], "2020-07-21T21:01:00Z");
    let principals: Vec<&str> = v["top"]["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        principals,
        [
            "arn:aws:sts::012345678901:assumed-role/CodeDeployRole1/AutoScaling-1",
            "arn:aws:sts::012345678901:assumed-role/CodeDeployRole2/AutoScaling-2",
            "arn:aws:sts::012345678901:assumed-role/CodeDeployRole3/AutoScaling-3"
        ]
    );
    assert_eq!(
        v["events"]["list"][0]["request_summary"],
        "autoScalingGroupName=asg lifecycleHookName=hook"
    );
    // Several insights in the file need --id.
    let many = dir.path().join("many.jsonl");
    fs::write(
        &many,
        [3, 8, 9]
            .iter()
            .map(|&n| sample_line(n) + "\n")
            .collect::<String>(),
    )
    .unwrap();
    let ambiguous = trailsight(&["explain", "-q", "--trail", p(&trail), "--insight", p(&many)]);
    assert_eq!(ambiguous.status.code(), Some(1));
    assert!(
        stderr(&ambiguous).contains("2 insights found; choose one with --id"),
        "{}",
        stderr(&ambiguous)
    );
    let chosen = trailsight(&[
        "explain",
        "-q",
        "--trail",
        p(&trail),
        "--insight",
        p(&many),
        "--id",
        "7bb000gg-22b3-4c03-94af-c74tj0c8m7c0",
    ]);
    assert!(chosen.status.success(), "{}", stderr(&chosen));
    assert!(stdout(&chosen).contains("events in the insight window: 3 (3 shown)"));
    let unknown = trailsight(&["explain", "-q", "--trail", p(&trail), "--id", "no-such-id"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no insight with sharedEventID no-such-id"));
}

/// One failed call of `source`/`name` in `account`/`region`.
#[allow(clippy::too_many_arguments)]
fn failed_call(
    time: &str,
    (account, region): (&str, &str),
    (source, name, code): (&str, &str, &str),
    arn: &str,
    user_agent: &str,
    id: String,
) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": if arn.ends_with(":root") { "Root" } else { "AssumedRole" }, "arn": arn, "accountId": account},
        "eventTime": time, "eventSource": source, "eventName": name, "awsRegion": region,
        "sourceIPAddress": "198.51.100.7", "userAgent": user_agent,
        "errorCode": code, "errorMessage": "not found",
        "requestParameters": {"queryId": "q-1"}, "responseElements": null,
        "eventID": id, "readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": account, "eventCategory": "Management"
    })
}

/// A JSON lines export for `account`/`region` over `[from, to)`: a read-only background call
/// every 5 minutes, and `events`.
fn export(
    path: &Path,
    (account, region): (&str, &str),
    (from, to): (&str, &str),
    events: Vec<Value>,
) {
    let (from, to) = (minute(from), minute(to));
    let mut lines = String::new();
    for (i, m) in (from.0..to.0).step_by(5).enumerate() {
        let background = json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "AWSService", "invokedBy": "config.amazonaws.com"},
            "eventTime": Minute(m).to_string(), "eventSource": "ec2.amazonaws.com",
            "eventName": "DescribeInstances", "awsRegion": region,
            "eventID": format!("ffffffff-0000-4000-8000-{i:012}"), "readOnly": true,
            "eventType": "AwsApiCall", "recipientAccountId": account, "eventCategory": "Management"
        });
        lines += &(background.to_string() + "\n");
    }
    for e in events {
        lines += &(e.to_string() + "\n");
    }
    fs::write(path, lines).unwrap();
}

/// AWS's 2024 DescribeQuery error-rate example: the Start averages over its 5-minute window
/// (1.2 = 6/5), the End over the insight's one minute (6), both with an empty baseline list.
#[test]
fn aws_2024_error_rate_pair_reproduces() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("export.jsonl");
    let place = ("888888888888", "us-east-1");
    let api = (
        "cloudtrail.amazonaws.com",
        "DescribeQuery",
        "QueryIdNotFoundException",
    );
    let browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    let errors = (0..6)
        .map(|i| {
            failed_call(
                &format!("2024-12-11T16:52:{:02}Z", 5 + i * 9),
                place,
                api,
                "arn:aws:sts::888888888888:assumed-role/Admin/alice",
                browser,
                format!("eeeeeeee-0000-4000-8000-{i:012}"),
            )
        })
        .collect();
    export(
        &trail,
        place,
        ("2024-12-04T00:00:00Z", "2024-12-11T18:00:00Z"),
        errors,
    );
    let reference = dir.path().join("aws.jsonl");
    fs::write(&reference, sample_line(8) + "\n" + &sample_line(9) + "\n").unwrap();
    let (output, report) = replay(dir.path(), &[p(&trail), "-r", p(&reference)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(report["reference"]["complete"], 1);
    let row = &report["insights"][0];
    assert_eq!(
        row["validation"]["verdict"], "reproduced",
        "{:#}",
        row["validation"]
    );
    assert_eq!(check(row, "Start", "insight.average")["ours"], 1.2);
    assert_eq!(check(row, "End", "insight.average")["ours"], 6.0);
    assert_eq!(check(row, "End", "insightDuration")["ours"], 1);
    assert_eq!(check(row, "End", "baselineDuration")["ours"], 11092);
    // trailsight finds it too; its own Start reports the one unusual minute.
    assert_eq!(row["status"], "matched");
    let start_average = row["comparison"]["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == "Start insight.average")
        .unwrap();
    assert_eq!(
        (&start_average["reference"], &start_average["trailsight"]),
        (&json!(1.2), &json!(6.0))
    );
}

/// SEKOIA's real 2022 capture (an End without its Start): 4 NoSuchBucketPolicy errors in 3
/// minutes against 23 in the 10542-minute baseline, one of them by an AWS Config role whose
/// session name the record keeps. On a trail consistent with it every number reproduces, the
/// baseline identities with session names kept.
#[test]
fn a_real_capture_reproduces_with_session_names_kept() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("export.jsonl");
    let place = ("1111111111", "eu-west-3");
    let api = ("s3.amazonaws.com", "GetBucketPolicy", "NoSuchBucketPolicy");
    let console = |kernel: &str| {
        format!(
            "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.11.1030 Linux/5.4.{kernel}.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.302-b08 java/1.8.0_302 vendor/Oracle_Corporation cfg/retry-mode/standard]"
        )
    };
    let (ua204, ua207) = (console("204-124.362"), console("207-126.363"));
    let root = "arn:aws:iam::1111111111:root";
    let config = "arn:aws:sts::1111111111:assumed-role/AWSServiceRoleForConfig/AWSConfig-Describe";
    let mut events = Vec::new();
    let mut id = 0;
    let mut add = |time: String, arn: &str, ua: &str| {
        id += 1;
        events.push(failed_call(
            &time,
            place,
            api,
            arn,
            ua,
            format!("dddddddd-0000-4000-8000-{id:012}"),
        ));
    };
    // The baseline: 22 by root (11 with one console agent, 9 with the other, 2 "AWS Internal"),
    // and one by AWS Config with the second agent: 23 in all, from 2022-08-29 to 07:42.
    for i in 0..22 {
        let ua = match i {
            0..11 => &ua204,
            11..20 => &ua207,
            _ => "AWS Internal",
        };
        add(
            format!("2022-08-{:02}T1{}:{:02}:00Z", 29 + i % 3, i % 10, 3 + i),
            root,
            ua,
        );
    }
    add("2022-09-02T03:04:05Z".into(), config, &ua207);
    // The insight: 4 by root from 07:42 to 07:44, two with each agent.
    for (i, ua) in [&ua204, &ua207, &ua204, &ua207].into_iter().enumerate() {
        add(format!("2022-09-05T07:4{}:1{i}Z", 2 + i % 3), root, ua);
    }
    export(
        &trail,
        place,
        ("2022-08-29T00:00:00Z", "2022-09-05T09:00:00Z"),
        events,
    );
    let reference = dir.path().join("sekoia.json");
    fs::copy(
        fixtures().join("corpus/insights-samples/sekoia-intake-formats_test_insight.record.json"),
        &reference,
    )
    .unwrap();
    let (output, report) = replay(dir.path(), &[p(&trail), "-r", p(&reference)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let row = &report["insights"][0];
    assert_eq!(row["reference"]["records"], "end-without-start");
    assert_eq!(row["reference"]["first_minute"], "2022-09-05T07:42:00Z");
    assert_eq!(
        row["validation"]["verdict"], "reproduced",
        "{:#}",
        row["validation"]
    );
    assert!(
        check(row, "End", "baseline.average")["rule"]
            .as_str()
            .unwrap()
            .starts_with("23 events in 10542 minutes")
    );
    let identities = check(row, "End", "attributions.userIdentityArn.baseline");
    assert!(
        identities["rule"]
            .as_str()
            .unwrap()
            .ends_with("session names kept"),
        "{identities:#}"
    );
    // Without a Start, the End's duration is not checked against anything.
    assert!(
        row["validation"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["number"] != "insightDuration")
    );
}

/// A file over `--max-document-mib` is read in pieces by the recount as by the detect pass, so
/// both sides see the same events. Here the big file holds a fourth call in the insight's
/// window: both count it (0.8 against AWS's 0.6).
#[test]
fn the_recount_reads_what_the_counting_pass_read_over_the_size_cap() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    seed_trail(&trail, None, &[]);
    let extra = call(
        "2020-07-21T20:57:00Z",
        "CompleteLifecycleAction",
        "00000000-0000-4000-8000-999999999999".into(),
        4,
        false,
    );
    // Two MiB of JSON once decompressed: the call, then spaces.
    let mut text = json!({"Records": [extra]}).to_string().into_bytes();
    text.resize(2 << 20, b' ');
    let folder = trail.join("AWSLogs/838185438692/CloudTrail/us-east-1/2020/07/21");
    let name = "838185438692_CloudTrail_us-east-1_20200721T2100Z_big00000000.json.gz";
    fs::write(folder.join(name), gzip(&text)).unwrap();
    let reference = dir.path().join("aws.jsonl");
    fs::write(&reference, sample_line(3) + "\n").unwrap();
    let args = [p(&trail), "-r", p(&reference), "--max-document-mib", "1"];
    let (output, report) = replay(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    // Read in pieces by both passes: the call counts in both, and the spaces after it, a run
    // over the cap, end the document with a located error.
    assert!(
        stderr(&output).contains(&format!(
            "{name}: a single JSON value (or run of white space)"
        )),
        "{}",
        stderr(&output)
    );
    let row = &report["insights"][0];
    let insight = check(row, "Start", "insight.average");
    assert_eq!(
        (&insight["aws"], &insight["ours"]),
        (&json!(0.6), &json!(0.8)),
        "{insight:#}"
    );
}

/// Two records claim one `sharedEventID` and state (a record edited by hand, two exports that disagree):
/// one is dropped. It used to be missing from the text summary, whose counts then did not add
/// up, and `--strict` exited 0.
#[test]
fn a_conflicting_reference_record_is_counted_listed_and_fails_strict() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail.json");
    fs::write(&trail, json!({"Records": []}).to_string()).unwrap();
    let start: Value = serde_json::from_str(&sample_line(9)).unwrap();
    let mut other = start.clone();
    let id = start["eventID"].as_str().unwrap().to_owned();
    other["eventID"] = json!("00000000-0000-4000-8000-00000000beef");
    let reference = dir.path().join("conflict.jsonl");
    fs::write(&reference, format!("{start}\n{other}\n")).unwrap();
    let output = trailsight(&["replay", p(&trail), "-r", p(&reference)]);
    let text = stdout(&output);
    assert!(
        text.contains("1 conflicting dropped") && text.contains("from 2 records"),
        "{text}"
    );
    let shared = start["sharedEventID"].as_str().unwrap();
    let (kept, dropped) = if id.as_str() < "00000000-0000-4000-8000-00000000beef" {
        (id.as_str(), "00000000-0000-4000-8000-00000000beef")
    } else {
        ("00000000-0000-4000-8000-00000000beef", id.as_str())
    };
    assert!(
        text.contains(&format!(
            "conflict: two {} records of {shared}: kept eventID {kept}, dropped {dropped}",
            start["insightDetails"]["state"].as_str().unwrap()
        )),
        "{text}"
    );
    let (_, report) = replay(dir.path(), &[p(&trail), "-r", p(&reference)]);
    assert_eq!(report["reference"]["conflicting"], 1);
    let strict = trailsight(&["replay", "-q", "--strict", p(&trail), "-r", p(&reference)]);
    assert_eq!(strict.status.code(), Some(2), "{}", stderr(&strict));
}

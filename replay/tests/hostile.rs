//! Hostile and broken input, end to end: each case is read without a panic, reported, and
//! accounted for: every record found is an event, an Insights record, an aggregated record or a
//! bad record, and every event is counted, a duplicate, not analysed, too late or in the future.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn detect(dir: &Path, args: &[&str]) -> (Output, Value) {
    let summary = dir.join("summary.json");
    let mut all = vec!["detect", "-q", "--summary-json", summary.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(&all)
        .output()
        .unwrap();
    assert!(
        output.status.code().is_some(),
        "killed by a signal: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&fs::read(&summary).unwrap()).unwrap();
    assert_adds_up(&summary);
    (output, summary)
}

fn assert_adds_up(s: &Value) {
    let n = |v: &Value| v.as_u64().unwrap();
    let r = &s["records"];
    assert_eq!(
        n(&r["total"]),
        n(&r["events"]) + n(&r["insights"]) + n(&r["aggregated"]) + n(&r["bad"]),
        "{r}"
    );
    let d = &s["detector"];
    let na = &d["not_analysed"];
    let not_analysed: u64 = na.as_object().unwrap().values().map(n).sum();
    let accounted = n(&d["counted"])
        + n(&d["duplicates"])
        + n(&d["too_late"])
        + n(&d["in_the_future"])
        + not_analysed;
    assert_eq!(n(&d["events"]), accounted, "{d}");
    assert_eq!(r["events"], d["events"]);
}

fn record(time: &str, name: &str, id: usize) -> Value {
    json!({"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
        "eventTime": time, "eventSource": "iam.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.1", "userAgent": "aws-cli/2.15.0", "requestParameters": {"userName": "bob"},
        "responseElements": null, "eventID": format!("00000000-0000-4000-8000-{id:012}"), "readOnly": false,
        "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "111122223333", "eventCategory": "Management"})
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_100_megabyte_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.jsonl");
    let mut file = fs::File::create(&path).unwrap();
    let mut huge = record("2024-03-04T10:00:00Z", "CreateUser", 1);
    huge["requestParameters"] = json!({"policyDocument": "x".repeat(100 << 20)});
    writeln!(file, "{huge}").unwrap();
    // A line of 100 MB that is not JSON at all, then a normal record.
    file.write_all(&vec![b'#'; 100 << 20]).unwrap();
    writeln!(file).unwrap();
    writeln!(file, "{}", record("2024-03-04T10:00:05Z", "CreateUser", 2)).unwrap();
    drop(file);
    let (output, s) = detect(dir.path(), &[path.to_str().unwrap()]);
    assert!(output.status.success());
    assert_eq!(s["detector"]["counted"], 2, "{s}");
    assert_eq!(s["records"]["bad"], 1);
    // The bad line starts right after the 100 MB one.
    assert!(
        stderr(&output).contains("huge.jsonl: record 1 (byte 10485"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn wrong_types_in_every_field_the_engine_reads() {
    let fields: &[(&str, Value, &str)] = &[
        (
            "eventTime",
            json!(1_709_546_400),
            "eventTime: expected string, found number",
        ),
        (
            "eventSource",
            json!({"a": 1}),
            "eventSource: expected string, found object",
        ),
        (
            "eventName",
            json!(["CreateUser"]),
            "eventName: expected string, found array",
        ),
        (
            "awsRegion",
            json!(true),
            "awsRegion: expected string, found boolean",
        ),
        (
            "eventID",
            json!(7),
            "eventID: expected string, found number",
        ),
        (
            "recipientAccountId",
            json!(111122223333u64),
            "recipientAccountId: expected string, found number",
        ),
        (
            "eventType",
            json!(1),
            "eventType: expected string, found number",
        ),
        (
            "eventCategory",
            json!(1),
            "eventCategory: expected string, found number",
        ),
        (
            "errorCode",
            json!(403),
            "errorCode: expected string, found number",
        ),
        (
            "userAgent",
            json!(5),
            "userAgent: expected string, found number",
        ),
        (
            "sourceIPAddress",
            json!([1, 2]),
            "sourceIPAddress: expected string, found array",
        ),
        ("readOnly", json!("maybe"), "readOnly"),
        (
            "userIdentity",
            json!("alice"),
            "userIdentity: expected object, found string",
        ),
    ];
    for (field, value, message) in fields {
        let dir = tempfile::tempdir().unwrap();
        let mut bad = record("2024-03-04T10:00:01Z", "CreateUser", 2);
        bad[*field] = value.clone();
        let doc = json!({"Records": [record("2024-03-04T10:00:00Z", "CreateUser", 1), bad, record("2024-03-04T10:00:02Z", "CreateUser", 3)]});
        let path = dir.path().join("trail.json");
        fs::write(&path, doc.to_string()).unwrap();
        let (output, s) = detect(dir.path(), &[path.to_str().unwrap()]);
        assert!(output.status.success());
        assert_eq!(
            (
                s["detector"]["counted"].as_u64(),
                s["records"]["bad"].as_u64()
            ),
            (Some(2), Some(1)),
            "{field}: {s}"
        );
        let err = stderr(&output);
        assert!(
            err.contains("trail.json: record 1 (byte ") && err.contains(message),
            "{field}: {err}"
        );
    }
    for (field, value, message) in [
        (
            "arn",
            json!(1),
            "userIdentity.arn: expected string, found number",
        ),
        (
            "accountId",
            json!(false),
            "userIdentity.accountId: expected string, found boolean",
        ),
        (
            "invokedBy",
            json!({}),
            "userIdentity.invokedBy: expected string, found object",
        ),
        ("type", json!(null), ""),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut bad = record("2024-03-04T10:00:01Z", "CreateUser", 2);
        bad["userIdentity"][field] = value;
        let path = dir.path().join("trail.json");
        fs::write(&path, json!({"Records": [bad]}).to_string()).unwrap();
        let (output, s) = detect(dir.path(), &[path.to_str().unwrap()]);
        let bad_records = u64::from(!message.is_empty());
        assert_eq!(
            s["records"]["bad"].as_u64(),
            Some(bad_records),
            "{field}: {s}"
        );
        assert!(
            stderr(&output).contains(message),
            "{field}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn directory_with_loops_unreadable_entries_and_100_000_small_files() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    for batch in 0..100 {
        let sub = trail.join(format!("{batch:03}"));
        fs::create_dir_all(&sub).unwrap();
        for i in 0..1000 {
            let n = batch * 1000 + i;
            let time = format!(
                "2024-03-04T{:02}:{:02}:{:02}Z",
                n / 3600 % 24,
                n / 60 % 60,
                n % 60
            );
            fs::write(
                sub.join(format!("{i:04}.json")),
                record(&time, "CreateUser", n).to_string(),
            )
            .unwrap();
        }
    }
    std::os::unix::fs::symlink(&trail, trail.join("000/loop")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), trail.join("dangling.json")).unwrap();
    fs::create_dir(trail.join("looks-like-a-file.json.gz")).unwrap();
    let (output, s) = detect(dir.path(), &[trail.to_str().unwrap()]);
    assert!(output.status.success());
    assert_eq!(s["files"]["read"], 100_000);
    assert_eq!(s["detector"]["counted"], 100_000);
    assert_eq!(
        s["files"]["unreadable"], 2,
        "the loop and the dangling link: {s}"
    );
    let err = stderr(&output);
    assert!(
        err.contains("symbolic link loop") && err.contains("dangling.json"),
        "{err}"
    );
}

#[test]
fn event_times_years_apart_and_odd_forms() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        record("2005-06-01T10:00:00Z", "CreateUser", 1),
        record("2025-06-01T10:00:00Z", "CreateUser", 2),
        record("2025-06-01T12:00:00.123+02:00", "CreateUser", 3),
        record("2025-06-01 10:00:01", "CreateUser", 4),
        record("1999-12-31T23:59:59Z", "CreateUser", 5),
        record("2199-12-31T23:59:59Z", "CreateUser", 6),
        record("2025-13-01T00:00:00Z", "CreateUser", 7),
        record("", "CreateUser", 8),
    ];
    let mut text: String = lines.iter().map(|r| r.to_string() + "\n").collect();
    let mut missing = record("2025-06-01T10:00:00Z", "CreateUser", 9);
    missing.as_object_mut().unwrap().remove("eventTime");
    text += &(missing.to_string() + "\n");
    let path = dir.path().join("times.jsonl");
    fs::write(&path, text).unwrap();
    let (output, s) = detect(dir.path(), &[path.to_str().unwrap()]);
    assert!(output.status.success());
    // 2005, 2025 and the two other spellings of 2025 times are counted; 2199 is in the future
    // for this run.
    assert_eq!(s["detector"]["counted"], 4, "{s}");
    assert_eq!(s["detector"]["duplicates"], 0);
    assert_eq!(s["detector"]["in_the_future"], 1);
    assert_eq!(
        s["records"]["bad"], 4,
        "1999, month 13, empty and missing: {s}"
    );
    let err = stderr(&output);
    assert!(
        err.contains("outside the supported range") && err.contains("missing eventTime"),
        "{err}"
    );
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = record("2024-03-04T10:00:01Z", "CreateUser", 2).to_string();
    let nested = "[".repeat(100_000) + &"]".repeat(100_000);
    bad = bad.replace("{\"userName\":\"bob\"}", &nested);
    let text = format!(
        "{}\n{bad}\n{}\n{}\n",
        record("2024-03-04T10:00:00Z", "CreateUser", 1),
        "[".repeat(1_000_000),
        record("2024-03-04T10:00:02Z", "CreateUser", 3)
    );
    let path = dir.path().join("nested.jsonl");
    fs::write(&path, text).unwrap();
    let (output, s) = detect(dir.path(), &[path.to_str().unwrap()]);
    assert!(output.status.success());
    assert_eq!(s["detector"]["counted"], 2, "{s}");
    assert_eq!(s["records"]["bad"], 2);
    assert!(
        stderr(&output).contains("recursion limit exceeded"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn binary_garbage_gzip_bombs_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    fs::create_dir(&trail).unwrap();
    fs::write(trail.join("empty.json"), b"").unwrap();
    fs::write(trail.join("empty.json.gz"), b"").unwrap();
    fs::write(
        trail.join("garbage.json"),
        (0..=255u8).cycle().take(1 << 16).collect::<Vec<_>>(),
    )
    .unwrap();
    fs::write(
        trail.join("not-gzip.json.gz"),
        b"\x1f\x8b\x08\x00garbage after a gzip magic",
    )
    .unwrap();
    // 64 MB of zeros compressed to 64 KB: read, then rejected as not JSON.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        bomb.write_all(&zeros).unwrap();
    }
    fs::write(trail.join("bomb.json.gz"), bomb.finish().unwrap()).unwrap();
    fs::write(
        trail.join("good.json"),
        json!({"Records": [record("2024-03-04T10:00:00Z", "CreateUser", 1)]}).to_string(),
    )
    .unwrap();
    let (output, s) = detect(dir.path(), &[trail.to_str().unwrap()]);
    assert!(output.status.success());
    assert_eq!(s["detector"]["counted"], 1, "{s}");
    let err = stderr(&output);
    assert!(
        err.contains("not-gzip.json.gz: gzip:") && err.contains("garbage.json: record 0 (byte"),
        "{err}"
    );
    let strict = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(["detect", "-q", "--strict", trail.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
}

#[test]
fn documents_over_the_size_cap_are_read_in_pieces_or_named() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    fs::create_dir(&trail).unwrap();
    // 8 MiB of spaces in 8 KB of gzip: over a 1 MiB cap. libdeflate's path would size its buffer
    // from the trailer, so the trailer lies too (1 KiB) and the streaming path must stop it.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    bomb.write_all(&vec![b' '; 8 << 20]).unwrap();
    let mut bomb = bomb.finish().unwrap();
    fs::write(trail.join("bomb.json.gz"), &bomb).unwrap();
    let at = bomb.len() - 4;
    bomb[at..].copy_from_slice(&1024u32.to_le_bytes());
    fs::write(trail.join("lying-bomb.json.gz"), &bomb).unwrap();
    // A plain file over the cap.
    fs::write(trail.join("big.json"), vec![b' '; (1 << 20) + 1]).unwrap();
    let small = json!({"Records": [record("2024-03-04T10:00:00Z", "CreateUser", 1)]}).to_string();
    fs::write(trail.join("good.json"), &small).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(small.as_bytes()).unwrap();
    fs::write(trail.join("good2.json.gz"), gz.finish().unwrap()).unwrap();

    let args = ["--max-document-mib", "1", trail.to_str().unwrap()];
    let (output, s) = detect(dir.path(), &args);
    // Read in pieces; but white space is kept until the next value starts, so a run of it over
    // the cap ends each of the three with a located error.
    assert!(output.status.success());
    assert_eq!(s["files"]["skipped"].get("too-large"), None, "{s}");
    assert_eq!(s["files"]["read"], 5, "{s}");
    assert_eq!(s["files"]["read_in_pieces"], 3, "{s}");
    assert_eq!(s["files"]["partly_read"], 3, "{s}");
    assert_eq!(s["files"]["unreadable"], 0, "{s}");
    // The same event twice: one counted, one duplicate.
    assert_eq!(s["detector"]["counted"], 1, "{s}");
    let err = stderr(&output);
    for name in ["bomb.json.gz", "lying-bomb.json.gz", "big.json"] {
        assert!(
            err.contains(&format!(
                "{name}: a single JSON value (or run of white space) from byte 0 is over 1 MiB and \
                 cannot be read in pieces; the rest of the document is skipped"
            )),
            "{name}: {err}"
        );
    }
    let strict = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(["detect", "-q", "--strict"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
    // Under the default cap (1,024 MiB) the same files are read whole; the lying trailer is
    // then the one error.
    let (_, s) = detect(dir.path(), &[trail.to_str().unwrap()]);
    assert_eq!(
        (&s["files"]["read"], &s["files"]["partly_read"]),
        (&json!(5), &json!(1)),
        "{s}"
    );
}

/// A trail whose records name the account `../../escaped`: before the parser refused such
/// values, `--out DIR` wrote every Insights file to `DIR/../../escaped/`, outside DIR, exit 0.
#[test]
fn an_account_id_that_is_a_path_never_leaves_the_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-trail");
    let mut lines = String::new();
    let mut stack = vec![sample];
    let mut files = Vec::new();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.to_string_lossy().contains("/CloudTrail/") {
            files.push(path);
        }
    }
    files.sort();
    for path in files {
        let mut json = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(fs::File::open(&path).unwrap()),
            &mut json,
        )
        .unwrap();
        let doc: Value = serde_json::from_str(&json).unwrap();
        for mut record in doc["Records"].as_array().unwrap().iter().cloned() {
            record["recipientAccountId"] = json!("../../escaped");
            lines.push_str(&record.to_string());
            lines.push('\n');
        }
    }
    let trail = dir.path().join("trail.jsonl");
    fs::write(&trail, &lines).unwrap();
    let out = dir.path().join("a/b/out");
    let (output, summary) = detect(
        dir.path(),
        &[
            trail.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--strict",
        ],
    );
    assert!(
        !dir.path().join("a/escaped").exists(),
        "written outside --out"
    );
    assert!(
        !dir.path().join("escaped").exists(),
        "written outside --out"
    );
    let written = out.exists().then(|| fs::read_dir(&out).unwrap().count());
    assert!(written.is_none_or(|n| n == 0), "nothing to write");
    assert_eq!(summary["records"]["bad"], summary["records"]["total"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains(r#"recipientAccountId "../../escaped" is not an AWS account ID (12 digits)"#),
        "{}",
        stderr(&output)
    );
}

/// A Start and an End that share a `sharedEventID` but not their series are kept apart, two
/// insights with one ID: `explain --id` used to answer "choose one with --id", which cannot be
/// followed. It explains the earliest, names the other and why they were kept apart.
#[test]
fn explain_of_an_id_two_insights_share_explains_one_and_names_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let golden = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/golden/sample-trail.jsonl"),
    )
    .unwrap();
    let records: Vec<Value> = golden
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let start = &records[0];
    let id = start["sharedEventID"].as_str().unwrap();
    // Another series' End, given this Start's ID.
    let mut end = records
        .iter()
        .find(|r| {
            r["insightDetails"]["state"] == "End"
                && r["insightDetails"]["eventName"] != start["insightDetails"]["eventName"]
        })
        .unwrap()
        .clone();
    end["sharedEventID"] = json!(id);
    let file = dir.path().join("insights.jsonl");
    fs::write(&file, format!("{start}\n{end}\n")).unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-trail");
    let output = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(["explain", "--trail"])
        .arg(&sample)
        .arg("--insight")
        .arg(&file)
        .args(["--id", id])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "sharedEventID {id}: its Start and End were kept apart"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "warning: 2 insights share sharedEventID {id}: explaining the one starting"
        )),
        "{err}"
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(start["insightDetails"]["eventName"].as_str().unwrap()),
        "{text}"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Issue 15 #2: one record dated after the trail (2025, in a file among the 2023 ones) used to
/// move the account-region's clock so that every later event was too late: 0 of 152 records.
/// Now it is held, never corroborated, and the output is the sample trail's own.
#[test]
fn one_record_dated_after_the_trail_silences_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let trail = dir.path().join("trail");
    copy_tree(&fixtures.join("sample-trail"), &trail);
    let day = trail.join("AWSLogs/123837392027/CloudTrail/us-east-1/2023/07/03");
    let mut outlier = record("2025-01-15T10:00:07Z", "CreateUser", 1);
    outlier["recipientAccountId"] = json!("123837392027");
    let document = json!({ "Records": [outlier] }).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(document.as_bytes()).unwrap();
    fs::write(
        day.join("123837392027_CloudTrail_us-east-1_20230703T0000Z_Outlier2025abcdef.json.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    let (output, summary) = detect(dir.path(), &[trail.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let golden = fs::read_to_string(fixtures.join("golden/sample-trail.jsonl")).unwrap();
    assert_eq!(golden.lines().count(), 152);
    assert_eq!(String::from_utf8_lossy(&output.stdout), golden);
    let d = &summary["detector"];
    assert_eq!(
        (&d["too_late"], &d["held_ahead"], &d["held_at_finish"]),
        (&json!(0), &json!(1), &json!(1)),
        "{d}"
    );
}

//! `--max-document-mib` for every reader of the command: a gzip bomb, a plain document over the
//! cap and an over-long line are each reported with where they were (the file, or `<stdin>
//! line N`), counted as skipped, and the rest of the input is still read: `detect FILE`,
//! `detect -` (plain and gzip), `watch -` (an over-long line, a base64-gzip line inflating past
//! the cap), `watch DIR`, `replay` (trail and `--reference`), `explain`, and the `--html`
//! second pass.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;

use base64::Engine as _;
use serde_json::{Value, json};

const TOO_LARGE: &str = "document larger than --max-document-mib 1 once decompressed; skipped";
const SAMPLE_INSIGHT: &str = "3663e949-36b4-50dc-98f5-18227fbcc422";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trailsight"));
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn run(args: &[&str]) -> Output {
    let output = command(args).stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.code().is_some(),
        "killed: {}",
        stderr(&output)
    );
    output
}

/// Runs with `input` on standard input; the writer may find the pipe closed early (the command
/// stops reading a document at the cap), which is not an error here.
fn run_with_stdin(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = command(args).stdin(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// 8 MiB of spaces in 8 KB of gzip.
fn bomb() -> Vec<u8> {
    gzip(&vec![b' '; 8 << 20])
}

fn record(time: &str, id: usize) -> Value {
    json!({"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
        "eventTime": time, "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "awsRegion": "us-east-1",
        "eventID": format!("00000000-0000-4000-8000-{id:012}"), "readOnly": false,
        "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "111122223333", "eventCategory": "Management"})
}

/// A log file of one good event, numbered `id`.
fn good_file(path: &Path, id: usize) {
    let text = json!({"Records": [record("2024-03-04T10:00:00Z", id)]}).to_string();
    fs::write(path, text).unwrap();
}

fn summary(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

/// 8 MiB of JSON lines in a few KB of gzip, every line the same record (`id`).
fn record_bomb(id: usize) -> Vec<u8> {
    gzip(&repeated_lines(id, 8 << 20))
}

/// At least `bytes` of JSON lines, every line the same record, numbered `id`.
fn repeated_lines(id: usize, bytes: usize) -> Vec<u8> {
    let line = record("2024-03-04T10:00:00Z", id).to_string() + "\n";
    line.repeat(bytes.div_ceil(line.len())).into_bytes()
}

/// A gzip bomb and a plain file over the cap are read in pieces, not skipped: memory holds a
/// piece, and the records in them count. A single record over the cap cannot be read in pieces:
/// it is reported with its file and offset, and fails `--strict`.
#[test]
fn detect_reads_a_file_over_the_cap_in_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let bomb_path = dir.path().join("bomb.json.gz");
    fs::write(&bomb_path, record_bomb(5)).unwrap();
    let good = dir.path().join("good.json");
    good_file(&good, 1);
    let big = dir.path().join("big.json");
    padded_events(&big, 3);
    let json = dir.path().join("summary.json");
    let detect = |extra: &[&str]| {
        let mut args = vec![
            "detect",
            "-q",
            "--max-document-mib",
            "1",
            "--summary-json",
            p(&json),
            p(&bomb_path),
            p(&good),
            p(&big),
        ];
        args.extend_from_slice(extra);
        command(&args).output().unwrap()
    };
    let output = detect(&["--strict"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let s = summary(&json);
    assert_eq!(s["files"]["read"], 3, "{s}");
    assert_eq!(s["files"]["read_in_pieces"], 2, "{s}");
    assert!(s["files"]["skipped"].get("too-large").is_none(), "{s}");
    // One good record, the bomb's one record many times, three padded ones.
    assert_eq!(s["detector"]["counted"], 5, "{s}");

    let huge = dir.path().join("huge.jsonl");
    let text = format!(
        "{}\n{{\"pad\":\"{}\"}}\n",
        record("2024-03-04T10:00:00Z", 7),
        "x".repeat(2 << 20)
    );
    fs::write(&huge, &text).unwrap();
    let output = detect(&[p(&huge), "--strict"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let offset = text.find("{\"pad\"").unwrap();
    assert!(
        stderr(&output).contains(&format!(
            "{}: a single JSON value (or run of white space) from byte {offset} is over 1 MiB and cannot be read in \
             pieces; the rest of the document is skipped",
            p(&huge)
        )),
        "{}",
        stderr(&output)
    );
    let s = summary(&json);
    assert_eq!(s["files"]["partly_read"], 1, "{s}");
    assert_eq!(s["detector"]["counted"], 6, "{s}");
}

/// Standard input over the cap, plain or a gzip bomb, is read in pieces as it arrives, and the
/// other inputs are read.
#[test]
fn detect_reads_standard_input_over_the_cap_in_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    good_file(&good, 1);
    let json = dir.path().join("summary.json");
    for input in [repeated_lines(2, 16 << 20), record_bomb(2)] {
        let args = [
            "detect",
            "-q",
            "--max-document-mib",
            "1",
            "--summary-json",
            p(&json),
            "-",
            p(&good),
        ];
        let output = run_with_stdin(&args, input);
        assert!(output.status.success(), "{}", stderr(&output));
        let s = summary(&json);
        assert_eq!(
            (&s["files"]["read"], &s["files"]["read_in_pieces"]),
            (&json!(2), &json!(1)),
            "{s}"
        );
        assert_eq!(s["detector"]["counted"], 2, "{s}");
    }
    // Standard input is read once, named twice.
    let text = json!({"Records": [record("2024-03-04T10:00:00Z", 2)]}).to_string();
    let output = run_with_stdin(
        &["detect", "-q", "--summary-json", p(&json), "-", "-"],
        gzip(text.as_bytes()),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(summary(&json)["detector"]["counted"], 1);
}

fn watch_status(output: &Output) -> String {
    stderr(output)
        .lines()
        .find(|l| {
            l.starts_with("trailsight watch: end of input")
                || l.starts_with("trailsight watch: idle")
        })
        .unwrap_or_else(|| panic!("no closing line: {}", stderr(output)))
        .to_owned()
}

/// An over-long plain line and a small base64-gzip line inflating past the cap: each reported
/// with its line number and counted as skipped; the lines after them are read.
#[test]
fn watch_standard_input_lines_over_the_cap() {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let bomb_line = b64(&bomb());
    assert!(bomb_line.len() < 64 << 10);
    let mut long = vec![b'{'];
    long.resize(3 << 20, b' ');
    long.push(b'}');
    let mut input = Vec::new();
    for line in [
        record("2024-03-04T10:00:00Z", 1).to_string().into_bytes(),
        long,
        bomb_line.into_bytes(),
        b64(&gzip(
            record("2024-03-04T10:00:01Z", 2).to_string().as_bytes(),
        ))
        .into_bytes(),
        record("2024-03-04T10:00:02Z", 3).to_string().into_bytes(),
    ] {
        input.extend_from_slice(&line);
        input.push(b'\n');
    }
    let output = run_with_stdin(&["watch", "-", "--max-document-mib", "1"], input);
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("<stdin> line 2: longer than 1048576 bytes; skipped"),
        "{err}"
    );
    assert!(
        err.contains(&format!("<stdin> line 3: {TOO_LARGE}")),
        "{err}"
    );
    let status = watch_status(&output);
    assert!(status.contains(": 3 events, 3 counted"), "{status}");
    assert!(
        status.ends_with("; 2 lines or files over --max-document-mib skipped"),
        "{status}"
    );
}

/// A file over the cap in a watched directory is read in pieces, as `detect` reads it.
#[test]
fn watch_a_directory_with_a_file_over_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bomb.json.gz"), record_bomb(5)).unwrap();
    good_file(&dir.path().join("good.json"), 1);
    let output = run(&[
        "watch",
        p(dir.path()),
        "--max-document-mib",
        "1",
        "--poll-seconds",
        "0.2",
        "--until-idle",
        "3",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = repeated_lines(5, 8 << 20)
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    let status = watch_status(&output);
    assert!(
        status.contains(&format!(
            ": {} events, 2 counted (0 late), {} duplicates",
            lines + 1,
            lines - 1
        )),
        "{status}"
    );
    assert!(!status.contains("skipped"), "{status}");
}

/// The sample trail's insights as a reference file, padded past the cap, and a gzip bomb in the
/// trail: both read in pieces, so the replay under a 1 MiB cap is the replay under a cap they fit.
#[test]
fn replay_reads_trail_and_reference_over_the_cap_in_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let mut reference = fs::read(fixtures().join("golden/sample-trail.jsonl")).unwrap();
    reference.resize(2 << 20, b'\n');
    let reference_path = dir.path().join("aws.jsonl.gz");
    fs::write(&reference_path, gzip(&reference)).unwrap();
    let trail_bomb = dir.path().join("bomb.json.gz");
    fs::write(&trail_bomb, record_bomb(1)).unwrap();
    let report = dir.path().join("report.json");
    let sample = fixtures().join("sample-trail");
    let replay = |cap: &str| {
        let output = run(&[
            "replay",
            "-q",
            p(&sample),
            p(&trail_bomb),
            "-r",
            p(&reference_path),
            "--max-document-mib",
            cap,
            "--report",
            p(&report),
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(stderr(&output), "");
        let mut r = summary(&report);
        r.as_object_mut().unwrap().remove("seconds");
        r
    };
    let small = replay("1");
    assert_eq!(small["reference"]["files"], 1);
    assert_eq!(small["reference"]["insights"], 76, "{}", small["reference"]);
    assert_eq!(small["reference"], replay("16")["reference"]);
    assert_eq!(small["matching"], replay("16")["matching"]);
}

/// A plain file of `events` calls of the sample insight's API in its window, among read-only
/// calls that take it to 2 MiB: over a 1 MiB cap, so read in pieces.
fn padded_events(path: &Path, events: usize) {
    let call = |i: usize, name: &str, read_only: bool| {
        json!({"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123837392027:user/x", "accountId": "123837392027"},
            "eventTime": "2023-07-10T12:08:30Z", "eventSource": "ssm.amazonaws.com", "eventName": name,
            "awsRegion": "us-east-1", "eventID": format!("00000000-0000-4000-8000-{i:012}"), "readOnly": read_only,
            "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "123837392027", "eventCategory": "Management",
            "requestParameters": {"name": format!("/parameter/{i}")}})
    };
    let mut records: Vec<Value> = (0..events)
        .map(|i| call(i, "DeleteParameter", false))
        .collect();
    let mut size = 0;
    let mut i = events;
    while size < 2 << 20 {
        let filler = call(i, "GetParameter", true);
        size += filler.to_string().len() + 1;
        records.push(filler);
        i += 1;
    }
    let text = json!({ "Records": records }).to_string().into_bytes();
    fs::write(path, text).unwrap();
}

/// `explain` reads the trail three times (detect, recount, request parameters); each pass reads
/// a file over the cap in pieces, so the explanation is the same as with a cap the file fits.
#[test]
fn explain_reads_what_is_over_the_cap_in_every_pass() {
    let dir = tempfile::tempdir().unwrap();
    let sample = fixtures().join("sample-trail");
    let big = dir.path().join("big.json");
    let explain = |cap: &str| {
        let output = run(&[
            "explain",
            "--trail",
            p(&sample),
            p(&big),
            "--id",
            SAMPLE_INSIGHT,
            "--json",
            "--max-events",
            "200",
            "--max-document-mib",
            cap,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    padded_events(&big, 0);
    let without = explain("1");
    padded_events(&big, 40);
    let with = explain("1");
    assert_ne!(with, without, "the file's calls were not counted");
    assert!(
        with.contains("\"/parameter/39\""),
        "request parameters of the big file"
    );
    assert_eq!(with, explain("16"));
    // A single record over the cap in an --insight file is refused and named.
    let insight = dir.path().join("insight.json");
    fs::write(&insight, format!("{{\"pad\":\"{}\"}}", "x".repeat(2 << 20))).unwrap();
    let output = run(&[
        "explain",
        "--trail",
        p(&sample),
        "--insight",
        p(&insight),
        "--id",
        SAMPLE_INSIGHT,
        "--max-document-mib",
        "1",
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(&format!(
            "{}: a single JSON value (or run of white space) from byte 0 is over 1 MiB",
            p(&insight)
        )),
        "{}",
        stderr(&output)
    );
}

/// The `--html` charts come from a second pass over the trail, which reads a file over the cap
/// in pieces as the first pass does: the page is the one a cap the file fits gives.
#[test]
fn html_second_pass_reads_what_the_first_reads() {
    let dir = tempfile::tempdir().unwrap();
    let sample = fixtures().join("sample-trail");
    let big = dir.path().join("big.json");
    let html = dir.path().join("report.html");
    let page = |cap: &str| {
        let output = run(&[
            "detect",
            "-q",
            p(&sample),
            p(&big),
            "--html",
            p(&html),
            "--max-document-mib",
            cap,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        fs::read_to_string(&html).unwrap()
    };
    padded_events(&big, 40);
    let small = page("1");
    assert!(
        small == page("16"),
        "the chart pass read differently in pieces"
    );
}

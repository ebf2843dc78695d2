//! `trailsight watch` end to end: fed the sample trail in delivery order, by standard input or
//! through a directory that receives its files while watched, killed and restarted from a
//! checkpoint, it writes exactly the records `trailsight detect` writes.

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn golden() -> Vec<String> {
    let mut lines: Vec<String> = fs::read_to_string(fixtures().join("golden/sample-trail.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn sorted_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// The sample trail's log files (digests left out), in CloudTrail delivery order.
fn trail_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("CloudTrail-Digest") {
                    walk(&path, out);
                }
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&fixtures().join("sample-trail"), &mut files);
    let stamp = |p: &PathBuf| -> String {
        let name = p.file_name().unwrap().to_str().unwrap();
        name.split('_')
            .find(|part| part.len() == 14 && part.ends_with('Z'))
            .unwrap()
            .to_owned()
    };
    files.sort_by_key(|p| (stamp(p), p.clone()));
    files
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn watch(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trailsight"));
    command
        .arg("watch")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn with_stdin(mut command: Command, input: &[u8]) -> Output {
    let mut child = command.stdin(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = thread::spawn(move || stdin.write_all(&input).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

#[test]
fn stdin_in_delivery_order_gives_the_detect_records() {
    let mut input = Vec::new();
    for file in trail_files() {
        let document = gunzip(&file);
        let compact: serde_json::Value = serde_json::from_slice(&document).unwrap();
        input.extend_from_slice(compact.to_string().as_bytes());
        input.push(b'\n');
    }
    let output = with_stdin(watch(&["--finish-at-end", "--quiet"]), &input);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(sorted_lines(&output.stdout), golden());
}

#[test]
fn cloudwatch_logs_base64_gzip_lines() {
    // One Kinesis record per file: the CloudWatch Logs subscription message, gzipped, base64.
    let mut input = Vec::new();
    for (n, file) in trail_files().iter().enumerate() {
        let document: serde_json::Value = serde_json::from_slice(&gunzip(file)).unwrap();
        let events: Vec<serde_json::Value> = document["Records"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, r)| serde_json::json!({"id": format!("{n}-{i}"), "timestamp": 0, "message": r.to_string()}))
            .collect();
        let message = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "123837392027",
            "logGroup": "aws-cloudtrail-logs", "logStream": "123837392027_CloudTrail_us-east-1",
            "subscriptionFilters": ["all"], "logEvents": events});
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(message.to_string().as_bytes()).unwrap();
        input.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(gz.finish().unwrap())
                .as_bytes(),
        );
        input.push(b'\n');
    }
    input.extend_from_slice(b"this line is neither JSON nor base64\n");
    let output = with_stdin(watch(&["--finish-at-end", "--quiet"]), &input);
    assert!(output.status.success());
    assert_eq!(sorted_lines(&output.stdout), golden());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("<stdin> line 2220: neither JSON nor base64"),
        "{stderr}"
    );
}

/// Copies `files` under `to`, keeping their place in the trail tree.
fn deliver(files: &[PathBuf], to: &Path) {
    let root = fixtures().join("sample-trail");
    for file in files {
        let target = to.join(file.strip_prefix(&root).unwrap());
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        // Written aside and renamed into place, as `aws s3 sync` does.
        let partial = target.with_file_name(format!(
            ".{}.partial",
            target.file_name().unwrap().to_str().unwrap()
        ));
        fs::copy(file, &partial).unwrap();
        fs::rename(&partial, &target).unwrap();
    }
}

fn processed_files(checkpoint: &Path) -> usize {
    let Ok(bytes) = fs::read(checkpoint) else {
        return 0;
    };
    let Some(newline) = bytes.iter().position(|&b| b == b'\n') else {
        return 0;
    };
    let header: serde_json::Value = serde_json::from_slice(&bytes[..newline]).unwrap();
    header["processed_files"].as_array().unwrap().len()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn finish(child: Child) -> Output {
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Starts `command` with stdout going to `file`: a test that waits on something else before
/// collecting the output must not leave `watch` blocked on a full pipe.
fn spawn_to_file(mut command: Command, file: &Path) -> Child {
    command
        .stdout(fs::File::create(file).unwrap())
        .spawn()
        .unwrap()
}

#[test]
fn directory_receiving_files_while_watched() {
    let dir = tempfile::tempdir().unwrap();
    let files = trail_files();
    let (first, second) = files.split_at(files.len() / 2);
    deliver(first, dir.path());
    let child = watch(&[
        dir.path().to_str().unwrap(),
        "--poll-seconds",
        "0.1",
        "--until-idle",
        "4",
        "--finish-at-end",
        "--quiet",
    ])
    .spawn()
    .unwrap();
    thread::sleep(Duration::from_millis(1500));
    deliver(second, dir.path());
    let output = finish(child);
    assert_eq!(sorted_lines(&output.stdout), golden());
}

#[test]
fn killed_by_sigterm_and_restarted_from_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("watch.checkpoint");
    let trail = dir.path().join("trail");
    // Split after 13:30 on 2023-07-10: the first run's clock has passed most of the attack
    // (11:42-12:37) but not its end, so both runs write records.
    let files = trail_files();
    let at = files
        .iter()
        .position(|f| f.to_str().unwrap().contains("_20230710T1330Z_"))
        .unwrap();
    let (first, second) = files.split_at(at);
    deliver(first, &trail);
    let args = [
        trail.to_str().unwrap(),
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--checkpoint-seconds",
        "0.2",
        "--poll-seconds",
        "0.1",
        "--quiet",
    ];
    let first_out = dir.path().join("first.jsonl");
    let child = spawn_to_file(watch(&args), &first_out);
    wait_for("the first half to be read", || {
        processed_files(&checkpoint) == first.len()
    });
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    finish(child);
    assert_eq!(processed_files(&checkpoint), first.len());
    let first_run = fs::read(&first_out).unwrap();

    deliver(second, &trail);
    let mut rest = args.to_vec();
    rest.extend(["--until-idle", "2", "--finish-at-end"]);
    let second_run = finish(watch(&rest).spawn().unwrap());
    let mut all = sorted_lines(&first_run);
    all.extend(sorted_lines(&second_run.stdout));
    all.sort();
    assert!(!first_run.is_empty() && !second_run.stdout.is_empty());
    assert_eq!(all, golden(), "each record exactly once");
}

#[test]
fn crash_without_a_final_checkpoint_repeats_records_but_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("watch.checkpoint");
    let trail = dir.path().join("trail");
    deliver(&trail_files(), &trail);
    let args = [
        trail.to_str().unwrap(),
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--checkpoint-seconds",
        "0.05",
        "--poll-seconds",
        "0.1",
        "--quiet",
    ];
    let crashed_out = dir.path().join("crashed.jsonl");
    let mut child = spawn_to_file(watch(&args), &crashed_out);
    wait_for("a checkpoint part-way", || {
        processed_files(&checkpoint) > 300
    });
    child.kill().unwrap(); // SIGKILL: no chance to write a last checkpoint
    child.wait().unwrap();
    let crashed = fs::read(&crashed_out).unwrap();
    let mut rest = args.to_vec();
    rest.extend(["--until-idle", "2", "--finish-at-end"]);
    let resumed = finish(watch(&rest).spawn().unwrap());
    let distinct: BTreeSet<String> = sorted_lines(&crashed)
        .into_iter()
        .chain(sorted_lines(&resumed.stdout))
        .collect();
    assert_eq!(distinct.into_iter().collect::<Vec<_>>(), golden());
}

#[test]
fn a_damaged_checkpoint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("bad.checkpoint");
    let mut bytes = b"{\"format\":\"trailsight-watch-checkpoint\",\"version\":1,\"processed_files\":[],\"lines\":0}\nTRLSIGHT".to_vec();
    bytes.extend(trailsight_engine::snapshot::SNAPSHOT_VERSION.to_le_bytes());
    bytes.extend(b"garbage");
    fs::write(&checkpoint, bytes).unwrap();
    let output = with_stdin(watch(&["--checkpoint", checkpoint.to_str().unwrap()]), b"");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("restoring") && stderr.contains("corrupt snapshot"),
        "{stderr}"
    );
}

fn call(n: usize) -> String {
    serde_json::json!({"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
        "eventTime": "2024-03-04T10:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "awsRegion": "us-east-1",
        "eventID": format!("00000000-0000-4000-8000-{n:012}"), "readOnly": false,
        "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "111122223333", "eventCategory": "Management"})
        .to_string()
}

/// The closing line of `watch`, found in its stderr.
fn closing_line(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    stderr
        .lines()
        .find(|l| l.starts_with("trailsight watch: idle") || l.starts_with("trailsight watch: end"))
        .unwrap_or_else(|| panic!("no closing line: {stderr}"))
        .to_owned()
}

/// A writer that pauses in the middle of a file used to get it read in part and marked as read
/// for good (63 of 100 records lost). Now a file cut short is looked at again until it is whole,
/// and a file that changes after it was read is read again, its events already counted being
/// duplicates. The closing line is printed with `--status-seconds 0` too.
#[test]
fn a_paused_writer_is_waited_for_and_a_changed_file_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("state.ckpt");
    let trail = dir.path().join("trail");
    fs::create_dir(&trail).unwrap();
    let records: Vec<String> = (0..100).map(call).collect();
    let export = trail.join("export.json");
    let mut writer = fs::File::create(&export).unwrap();
    write!(writer, "{{\"Records\":[{}", records[..63].join(",")).unwrap();
    writer.flush().unwrap();
    let child = watch(&[
        trail.to_str().unwrap(),
        "--poll-seconds",
        "0.2",
        "--until-idle",
        "5",
        "--status-seconds",
        "0",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--checkpoint-seconds",
        "0.2",
    ])
    .spawn()
    .unwrap();
    thread::sleep(Duration::from_millis(1500));
    write!(writer, ",{}]}}", records[63..].join(",")).unwrap();
    drop(writer);
    wait_for("the export to be read", || {
        processed_files(&checkpoint) == 1
    });
    let lines = trail.join("more.jsonl");
    let more: Vec<String> = (100..110).map(call).collect();
    fs::write(&lines, more[..5].join("\n") + "\n").unwrap();
    wait_for("the lines to be read", || processed_files(&checkpoint) == 2);
    // Appended to after it was read.
    let mut appender = fs::OpenOptions::new().append(true).open(&lines).unwrap();
    appender
        .write_all((more[5..].join("\n") + "\n").as_bytes())
        .unwrap();
    drop(appender);
    let output = finish(child);
    let closing = closing_line(&output);
    assert!(
        closing.contains(": 115 events, 110 counted (0 late), 5 duplicates, 0 too late"),
        "{closing}"
    );
    assert!(
        closing.ends_with("; 1 files read again after they changed"),
        "{closing}"
    );
}

/// Files concatenated in another order than their delivery (here the sample trail backwards;
/// the README's old `zcat AWSLogs/**/*.json.gz | trailsight watch` gave 4 of 152 records) mostly
/// arrive beyond the allowed lateness: `watch` says so, with what to do.
#[test]
fn input_mostly_too_late_is_loud() {
    let mut input = Vec::new();
    for file in trail_files().iter().rev() {
        let document: serde_json::Value = serde_json::from_slice(&gunzip(file)).unwrap();
        input.extend_from_slice(document.to_string().as_bytes());
        input.push(b'\n');
    }
    let output = with_stdin(watch(&["--finish-at-end", "--status-seconds", "0"]), &input);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("(their insights are missed): the input is not in time order")
            && stderr.contains("give `trailsight watch` the directory instead"),
        "{stderr}"
    );
}

/// A checkpoint that cannot be written is an error before any input is read, not at the first
/// save, possibly hours later.
#[test]
fn a_checkpoint_that_cannot_be_written_is_refused_at_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("no-such-folder/state.ckpt");
    let mut child = watch(&["--checkpoint", checkpoint.to_str().unwrap()])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    // Standard input stays open: the refusal cannot wait for its end.
    let _stdin = child.stdin.take().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "still running");
        thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("no-such-folder/state.partial"), "{stderr}");
}

//! The input layer end to end, on files in a directory: discovery, the counting order, and the
//! document and line caps as every reader meets them.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use trailsight_engine::{Detector, DetectorConfig};
use trailsight_input::{
    LineFault, LineReader, ReadLimits, Source, decode_line, discover, parse_only, run,
};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn record(time: &str, id: u32) -> String {
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"{time}","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","eventID":"00000000-0000-4000-8000-{id:012}","readOnly":false,"recipientAccountId":"111122223333","eventCategory":"Management"}}"#
    )
}

fn log_file(records: &[String]) -> String {
    format!(r#"{{"Records":[{}]}}"#, records.join(","))
}

const MIB: ReadLimits = ReadLimits::from_document_mib(1);

/// At least `bytes` of JSON lines, every line the same record (so all but one are duplicates).
fn repeated_lines(bytes: usize) -> Vec<u8> {
    let line = record("2024-03-04T10:00:00Z", 9) + "\n";
    line.repeat(bytes.div_ceil(line.len())).into_bytes()
}

/// A trail with three files over a 1 MiB cap (a gzip bomb of 8 MiB of JSON lines in a few KB,
/// the same bomb with a trailer that lies, a plain file) and three good ones.
fn hostile_trail(dir: &Path) {
    let lines = repeated_lines(8 << 20);
    let mut bomb = gzip(&lines);
    assert!(bomb.len() < 64 << 10);
    fs::write(dir.join("bomb.json.gz"), &bomb).unwrap();
    let at = bomb.len() - 4;
    bomb[at..].copy_from_slice(&1024u32.to_le_bytes());
    fs::write(dir.join("lying-bomb.json.gz"), &bomb).unwrap();
    fs::write(dir.join("big.json"), repeated_lines((1 << 20) + 1)).unwrap();
    let name = |minute: &str, id: &str| {
        format!("111122223333_CloudTrail_us-east-1_20240304T10{minute}Z_{id}.json.gz")
    };
    fs::write(
        dir.join(name("05", "b")),
        gzip(log_file(&[record("2024-03-04T10:01:00Z", 2)]).as_bytes()),
    )
    .unwrap();
    fs::write(
        dir.join(name("05", "a")),
        gzip(log_file(&[record("2024-03-04T10:02:00Z", 3)]).as_bytes()),
    )
    .unwrap();
    // No delivery time: placed by its earliest event, 10:03, before the files delivered at 10:05.
    fs::write(
        dir.join("export.json"),
        log_file(&[record("2024-03-04T10:03:00Z", 1)]),
    )
    .unwrap();
}

/// Documents over the size at which documents are streamed are read in pieces, in their place
/// in the counting order; a whole read is capped, so nothing over the cap is ever held.
#[test]
fn documents_over_the_cap_are_read_in_pieces_and_the_rest_is_counted_in_order() {
    let dir = tempfile::tempdir().unwrap();
    hostile_trail(dir.path());
    let discovery = discover(&[dir.path().to_path_buf()]);
    assert_eq!(discovery.files.len(), 6);
    let mut detector = Detector::new(DetectorConfig::default()).unwrap();
    let mut seen = Vec::new();
    let mut pieces = 0;
    run(&discovery.files, &mut detector, 2, &MIB, |outcome, _| {
        pieces += u32::from(outcome.piece.is_some());
        if outcome.ends_file() {
            let name = outcome.source.file_name().unwrap().to_owned();
            let error = outcome.load_error.as_ref().map(ToString::to_string);
            seen.push((
                name,
                outcome.piece.is_some(),
                outcome.document_bytes_so_far(),
                error,
            ));
        }
    })
    .unwrap();
    let (big, bomb) = (
        repeated_lines((1 << 20) + 1).len() as u64,
        repeated_lines(8 << 20).len() as u64,
    );
    assert_eq!(
        seen,
        [
            // Files without a delivery time, by their first piece's earliest event (10:00).
            ("big.json".to_owned(), true, big, None),
            ("bomb.json.gz".to_owned(), true, bomb, None),
            (
                "lying-bomb.json.gz".to_owned(),
                true,
                bomb,
                Some(format!(
                    "gzip: corrupt gzip stream does not have a matching checksum after {bomb} \
                     decompressed bytes; the records before the damage were read"
                ))
            ),
            ("export.json".to_owned(), false, 286, None),
            (
                "111122223333_CloudTrail_us-east-1_20240304T1005Z_a.json.gz".to_owned(),
                false,
                286,
                None
            ),
            (
                "111122223333_CloudTrail_us-east-1_20240304T1005Z_b.json.gz".to_owned(),
                false,
                286,
                None
            ),
        ]
    );
    // 1 MiB pieces, and a last piece each.
    assert_eq!(pieces, 2 + 9 + 9);
    // The bombs' records are one record many times: counted once.
    assert_eq!(detector.stats().counted, 4);

    let counts = parse_only(&discovery.files, 2, &MIB).unwrap();
    let line = (record("2024-03-04T10:00:00Z", 9).len() + 1) as u64;
    assert_eq!(counts.files, 6);
    assert_eq!(counts.events, 3 + (2 * bomb + big) / line);
    assert_eq!(counts.document_bytes, big + 2 * bomb + 3 * 286);
}

/// A single value over the cap cannot be read in pieces: the records before it are counted,
/// the document is reported with the offset of that value, and nothing after it is read.
#[test]
fn a_value_over_the_cap_ends_a_streamed_document_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let first = record("2024-03-04T10:00:00Z", 1);
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(2 << 20));
    let text = format!("{first}\n{huge}\n{}\n", record("2024-03-04T10:01:00Z", 2));
    fs::write(dir.path().join("export.jsonl"), &text).unwrap();
    let files = discover(&[dir.path().to_path_buf()]).files;
    let mut detector = Detector::new(DetectorConfig::default()).unwrap();
    let mut errors = Vec::new();
    run(&files, &mut detector, 1, &MIB, |outcome, _| {
        if let Some(error) = &outcome.load_error {
            errors.push(error.to_string());
        }
    })
    .unwrap();
    assert_eq!(detector.stats().counted, 1);
    let offset = first.len() + 1;
    assert_eq!(
        errors,
        [format!(
            "a single JSON value (or run of white space) from byte {offset} is over 1 MiB and cannot be read in pieces; \
             the rest of the document is skipped"
        )]
    );
}

/// The output does not depend on the number of threads.
#[test]
fn any_thread_count_gives_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    hostile_trail(dir.path());
    let files = discover(&[dir.path().to_path_buf()]).files;
    let order = |threads| {
        let mut detector = Detector::new(DetectorConfig::default()).unwrap();
        let mut sources: Vec<Source> = Vec::new();
        run(&files, &mut detector, threads, &MIB, |o, _| {
            sources.push(o.source.clone())
        })
        .unwrap();
        sources
    };
    assert_eq!(order(1), order(3));
}

/// A feed of lines: an over-long plain line and a small line inflating past the cap are each
/// refused with their line number, and the lines around them are read.
#[test]
fn line_feed_caps() {
    use base64::Engine as _;
    let small = ReadLimits {
        max_document_bytes: 1 << 20,
        max_line_bytes: 64 << 10,
        stream_above_bytes: 1 << 20,
        in_flight_bytes: 4 << 20,
    };
    let bomb = base64::engine::general_purpose::STANDARD.encode(gzip(&vec![b' '; 4 << 20]));
    assert!(bomb.len() < 16 << 10);
    let good = record("2024-03-04T10:00:00Z", 1);
    let feed = [
        good.clone(),
        "{".to_owned() + &" ".repeat(100 << 10) + "}",
        bomb,
        good.clone(),
    ]
    .join("\n");
    let mut lines = LineReader::new(io::BufReader::new(feed.as_bytes()), &small);
    let mut line = Vec::new();
    let mut outcomes = Vec::new();
    while let Some(result) = lines.next_line(&mut line) {
        outcomes.push(match result {
            Err(error) => {
                assert!(matches!(error.fault, LineFault::TooLong { .. }));
                format!("line {}: too long", error.line_number)
            }
            Ok(number) => match decode_line(&line, &small) {
                Ok(document) => format!("line {number}: {} bytes", document.len()),
                Err(error) => format!("line {number}: {:?}", error.skip_reason()),
            },
        });
    }
    let good_bytes = good.len();
    assert_eq!(
        outcomes,
        [
            format!("line 1: {good_bytes} bytes"),
            "line 2: too long".to_owned(),
            "line 3: Some(TooLarge)".to_owned(),
            format!("line 4: {good_bytes} bytes"),
        ]
    );
    assert_eq!(lines.lines(), 4);
}

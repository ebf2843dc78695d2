//! Documents read in pieces give what the same records give in CloudTrail's file layout: the
//! sample trail's records, as one JSON-lines export (plain and gzip) in delivery order, cut into
//! small pieces, give the same insights, byte for byte, as the trail's files.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use trailsight_engine::{Detector, DetectorConfig, InsightRecord};
use trailsight_input::{InputFile, ReadLimits, discover, load, run, sort_for_counting};

fn sample_trail() -> Vec<InputFile> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-trail");
    let mut files = discover(&[root]).files;
    sort_for_counting(&mut files, |f| (f.delivered, &f.source));
    files
}

/// Every record of `files`, in their order, one JSON value per line.
fn json_lines(files: &[InputFile]) -> String {
    let mut out = String::new();
    for file in files {
        let loaded = load(&file.source, &ReadLimits::default(), Vec::new());
        let document: serde_json::Value = serde_json::from_slice(&loaded.bytes).unwrap();
        for record in document["Records"].as_array().unwrap() {
            out.push_str(&record.to_string());
            out.push('\n');
        }
    }
    out
}

/// The insights of a run over `files`, as JSON lines, and the events counted.
fn insights(files: &[InputFile], threads: usize, limits: &ReadLimits) -> (String, u64, u32) {
    let mut detector = Detector::new(DetectorConfig::default()).unwrap();
    let mut records: Vec<InsightRecord> = Vec::new();
    let mut pieces = 0;
    run(files, &mut detector, threads, limits, |outcome, new| {
        pieces += u32::from(outcome.piece.is_some());
        records.append(new);
    })
    .unwrap();
    detector.finish(&mut records);
    records.sort_by(InsightRecord::output_order);
    let text = records.iter().map(|r| r.to_json() + "\n").collect();
    (text, detector.stats().counted, pieces)
}

#[test]
fn an_export_read_in_pieces_gives_the_trails_insights() {
    let trail = sample_trail();
    let (expected, counted, pieces) = insights(&trail, 2, &ReadLimits::default());
    assert_eq!(pieces, 0);
    assert_eq!(expected.lines().count(), 152);

    let dir = tempfile::tempdir().unwrap();
    let lines = json_lines(&trail);
    fs::write(dir.path().join("export.jsonl"), &lines).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(lines.as_bytes()).unwrap();
    let gz_dir = dir.path().join("gz");
    fs::create_dir(&gz_dir).unwrap();
    fs::write(gz_dir.join("export.jsonl.gz"), gz.finish().unwrap()).unwrap();

    // Pieces of 64 KiB: about fifty records each, so the detector's clock moves often.
    let small_pieces = ReadLimits::default().streaming_above(64 << 10);
    for (path, threads) in [("export.jsonl", 1), ("gz", 2)] {
        let files = discover(&[dir.path().join(path)]).files;
        let (got, got_counted, pieces) = insights(&files, threads, &small_pieces);
        assert!(
            pieces as usize > lines.len() / (64 << 10),
            "{pieces} pieces"
        );
        assert_eq!(got_counted, counted, "{path}");
        assert!(got == expected, "{path}: the insights differ");
    }
    // Read whole, the export gives them too.
    let files = discover(&[dir.path().join("export.jsonl")]).files;
    assert_eq!(insights(&files, 1, &ReadLimits::default()).0, expected);
}

/// `read_items` reads a document whole or in pieces with the same items, and `records_at`
/// reopens the records at their offsets from a document of any size, in any order asked.
#[test]
fn items_and_records_at_their_offsets_whatever_the_size() {
    use trailsight_engine::parse::{ParsedItem, record_at};
    use trailsight_input::{Source, read_items, records_at};

    let trail = sample_trail();
    let lines = json_lines(&trail[..40]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.jsonl.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(lines.as_bytes()).unwrap();
    fs::write(&path, gz.finish().unwrap()).unwrap();
    let source = Source::Path(path);

    let items = |limits: &ReadLimits| {
        let mut seen = Vec::new();
        let read = read_items(&source, limits, &mut |item| {
            if let ParsedItem::Event { event, location } = item {
                seen.push((event.event_id.map(|id| id.into_owned()), location));
            }
        });
        assert!(read.error.is_none());
        assert_eq!(read.document_bytes, lines.len() as u64);
        (seen, read.format)
    };
    let whole = items(&ReadLimits::default());
    let pieces = items(&ReadLimits::default().streaming_above(4 << 10));
    assert!(whole.0.len() > 100);
    assert_eq!(whole, pieces);

    let mut offsets: Vec<u64> = whole.0.iter().map(|(_, l)| l.byte_offset).collect();
    offsets.reverse();
    offsets.push(lines.len() as u64 + 10);
    let limits = ReadLimits::default();
    let got = records_at(&source, &limits, &offsets);
    for (offset, record) in offsets.iter().zip(&got).take(whole.0.len()) {
        let location = whole
            .0
            .iter()
            .find(|(_, l)| l.byte_offset == *offset)
            .unwrap()
            .1;
        let expected = record_at(lines.as_bytes(), location).unwrap();
        assert_eq!(record.as_ref().unwrap(), &expected);
    }
    assert!(got.last().unwrap().is_err(), "an offset past the end");
}

/// A document under the streaming size is one batch however it is read: whole, or (over its
/// thread's share of the memory in flight) as a single piece. So the memory budget and the
/// thread count, which decide that, change nothing in the output.
#[test]
fn the_memory_budget_changes_how_a_document_is_read_not_what_it_gives() {
    let trail = sample_trail();
    let dir = tempfile::tempdir().unwrap();
    let lines = json_lines(&trail);
    assert!(lines.len() > 2 << 20);
    fs::write(dir.path().join("export.jsonl"), &lines).unwrap();
    let files = discover(&[dir.path().to_path_buf()]).files;
    let (expected, _, pieces) = insights(&files, 1, &ReadLimits::default());
    assert_eq!(pieces, 0, "read whole");
    let tight = ReadLimits {
        in_flight_bytes: 1 << 20,
        ..ReadLimits::default()
    };
    for threads in [1, 2, 1000] {
        let (got, _, pieces) = insights(&files, threads, &tight);
        assert_eq!(pieces, 1, "read as one piece");
        assert!(got == expected, "{threads} threads");
    }
    assert_eq!(
        trailsight_input::pipeline::parse_threads(1000),
        trailsight_input::default_threads()
    );
    assert_eq!(trailsight_input::pipeline::parse_threads(0), 1);
}

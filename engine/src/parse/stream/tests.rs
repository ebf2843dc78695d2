//! The stream against the whole-document walk: the same items, whatever the pieces; memory
//! bounded by the window; the size limit. (Every test of `parse/tests.rs` also streams its
//! documents in pieces of several sizes, through its `collect`.)

use proptest::prelude::*;

use super::super::{ParsedItem, parse_document, parse_document_reference};
use super::*;

/// Every item as text, and the format: what two walks must agree on.
fn whole(doc: &[u8], reference: bool) -> String {
    let mut items = Vec::new();
    let mut on_item = |item: ParsedItem<'_>| items.push(format!("{item:?}"));
    let summary = if reference {
        parse_document_reference(doc, &mut on_item)
    } else {
        parse_document(doc, &mut on_item)
    };
    format!("{:?} {}", summary.format, items.join("\n"))
}

/// The same, through a stream cut at `cuts` (offsets, in any order).
fn streamed(doc: &[u8], cuts: &[usize], reference: bool) -> String {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(doc.len())).collect();
    cuts.sort_unstable();
    let mut items = Vec::new();
    let mut on_item = |item: ParsedItem<'_>| items.push(format!("{item:?}"));
    let mut stream = if reference {
        DocumentStream::reference(usize::MAX)
    } else {
        DocumentStream::new(usize::MAX)
    };
    let mut from = 0;
    for cut in cuts.into_iter().chain([doc.len()]) {
        stream.feed(&doc[from..cut], &mut on_item).unwrap();
        from = cut;
    }
    let summary = stream.finish(&mut on_item);
    format!("{:?} {}", summary.format, items.join("\n"))
}

fn record(i: usize, extra: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{i}"}},"eventTime":"2024-03-04T10:{m:02}:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","eventID":"id-{i}","readOnly":false,"userAgent":"caf\u00e9 é","recipientAccountId":"111122223333"{extra}}}"#,
        m = i % 60
    )
}

/// Pieces documents are made of: records and their wrappers, and the ways they go wrong.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..50usize).prop_map(|i| record(i, "")),
        (0..50usize).prop_map(|i| record(i, r#","requestParameters":{"a":[1,2.5e3,true,null]}"#)),
        Just(r#"{"Records":["#.to_owned()),
        Just(r#"{"Events":[{"CloudTrailEvent":"{\"eventTime\":\"2024-03-04T10:00:00Z\",\"eventSource\":\"s\",\"eventName\":\"N\",\"awsRegion\":\"r\"}"}"#.to_owned()),
        Just(r#"{"logEvents":[{"message":"x"}"#.to_owned()),
        Just(r#"],"Records":["#.to_owned()),
        Just(r#"],"NextToken":"t"}"#.to_owned()),
        Just("]}".to_owned()),
        Just(",".to_owned()),
        Just("\n".to_owned()),
        Just("  \r\n\t".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("\u{feff}".to_owned()),
        Just(r#"{"detail-type":"AWS API Call via CloudTrail","detail":"#.to_owned()),
        Just("123".to_owned()),
        Just("\"str\"".to_owned()),
        Just("{\"eventVersion\"".to_owned()),
        Just("garbage!".to_owned()),
        Just("é€😀".to_owned()),
        Just("nul".to_owned()),
    ]
}

fn document() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Mostly well-formed shapes, damaged here and there.
        (prop::collection::vec(0..40usize, 0..8), any::<bool>()).prop_map(|(ids, lines)| {
            let records: Vec<String> = ids.iter().map(|&i| record(i, "")).collect();
            if lines {
                records.join("\n").into_bytes()
            } else {
                format!("{{\"Records\":[{}]}}", records.join(",")).into_bytes()
            }
        }),
        prop::collection::vec(fragment(), 0..14).prop_map(|parts| parts.concat().into_bytes()),
        // Bytes that are not UTF-8 among the fragments.
        (
            prop::collection::vec(fragment(), 0..8),
            prop::collection::vec(any::<u8>(), 0..4)
        )
            .prop_map(|(parts, junk)| {
                let mut doc = parts.concat().into_bytes();
                let at = doc.len() / 2;
                doc.splice(at..at, junk);
                doc
            }),
    ]
}

/// Where to cut a document of `len` bytes: at random offsets, or into pieces of one size
/// (small pieces cut inside every number, literal, key and character).
fn cuts(len: usize, offsets: &[f64], piece: usize, uniform: bool) -> Vec<usize> {
    if uniform {
        (piece..len).step_by(piece).collect()
    } else {
        offsets.iter().map(|f| (f * len as f64) as usize).collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn a_document_streamed_in_any_pieces_gives_the_whole_documents_items(
        doc in document(),
        offsets in prop::collection::vec(0.0..1.0f64, 0..12),
        piece in 1..9usize,
        uniform in any::<bool>(),
        reference in any::<bool>(),
    ) {
        let cuts = cuts(doc.len(), &offsets, piece, uniform);
        prop_assert_eq!(streamed(&doc, &cuts, reference), whole(&doc, reference));
    }
}

/// Real trail files (every format of the corpus), cut at every prime stride.
#[test]
fn real_files_streamed_give_the_same_items() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/corpus");
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut checked = 0;
    for path in files {
        let raw = std::fs::read(&path).unwrap();
        let doc = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out)
                .unwrap();
            out
        } else {
            raw
        };
        let expected = whole(&doc, false);
        for stride in [1031usize, 65_537] {
            let cuts: Vec<usize> = (stride..doc.len()).step_by(stride).collect();
            assert_eq!(streamed(&doc, &cuts, false), expected, "{}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} corpus files");
}

/// JSON lines and a `Records` array of many records keep only about one record in the window.
#[test]
fn the_window_holds_one_record_not_the_document() {
    let lines: String = (0..20_000).map(|i| record(i, "") + "\n").collect();
    let array = format!(
        "{{\"Records\":[{}]}}",
        (0..20_000)
            .map(|i| record(i, ""))
            .collect::<Vec<_>>()
            .join(",")
    );
    for doc in [lines.as_bytes(), array.as_bytes()] {
        let mut stream = DocumentStream::new(1 << 20);
        let (mut events, mut largest) = (0, 0);
        for piece in doc.chunks(64 << 10) {
            stream
                .feed(piece, &mut |item| {
                    events += u32::from(matches!(item, ParsedItem::Event { .. }))
                })
                .unwrap();
            largest = largest.max(stream.window_bytes());
        }
        stream.finish(&mut |_| {});
        assert_eq!(events, 20_000);
        assert!(
            largest < (64 << 10) + 1024,
            "window of {largest} bytes for a {} byte document",
            doc.len()
        );
    }
}

/// A value too long for the limit stops the stream with where it starts; what came before it
/// was reported.
#[test]
fn a_value_over_the_limit_is_an_error_naming_its_offset() {
    let first = record(1, "");
    let huge = record(
        2,
        &format!(r#","requestParameters":"{}""#, "x".repeat(100_000)),
    );
    let doc = format!("{first}\n{huge}\n");
    let mut stream = DocumentStream::new(10_000);
    let mut events = 0;
    let mut result = Ok(());
    for piece in doc.as_bytes().chunks(4096) {
        result = stream.feed(piece, &mut |item| {
            events += u32::from(matches!(item, ParsedItem::Event { .. }))
        });
        if result.is_err() {
            break;
        }
    }
    assert_eq!(events, 1);
    assert_eq!(
        result,
        Err(StreamError::ValueTooLarge {
            byte_offset: first.len() as u64 + 1,
            limit_bytes: 10_000
        })
    );
}

/// `{"Records":[...],"Records":[...]}`: a JSON object may repeat a key, and each array's records
/// are read (serde keeps only the last value of a repeated key; the others were lost).
#[test]
fn a_repeated_records_key_reads_every_array() {
    let (a, b, c) = (record(1, ""), record(2, ""), record(3, ""));
    for doc in [
        format!(r#"{{"Records":[{a}],"Records":[{b},{c}]}}"#),
        format!(r#"{{"Records":[{a}],"NextToken":"x","Records":[{b}],"Records":[{c}]}}"#),
        format!(r#"{{"x":1,"Records":[{a}],"Records":[{b},{c}]}}"#),
    ] {
        let mut ids = Vec::new();
        parse_document(doc.as_bytes(), &mut |item| {
            if let ParsedItem::Event { event, .. } = item {
                ids.push(event.event_id.unwrap().into_owned());
            }
        });
        assert_eq!(ids, ["id-1", "id-2", "id-3"], "{doc}");
        for piece in [1, 7, 100] {
            let cuts: Vec<usize> = (piece..doc.len()).step_by(piece).collect();
            assert_eq!(
                streamed(doc.as_bytes(), &cuts, false),
                whole(doc.as_bytes(), false)
            );
        }
    }
}

/// Cases the fuzzer found, each a document and where it was cut.
#[test]
fn fuzz_findings() {
    // serde_json reports `5e-` at the end of its input as an invalid number at the `-`, not
    // as the end of the input: the window's end must not decide it.
    let doc = b"{\"Records\":[],\n    \"baseline\":[5e-]}";
    assert_eq!(streamed(doc, &[1, 34], false), whole(doc, false));
}

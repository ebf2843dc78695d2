//! Damaged documents: truncation at every byte, garbage, resynchronisation, bad UTF-8, deep
//! nesting and broken JSON lines.

use super::*;

/// Cutting a Records file anywhere never panics, reports each record whose closing brace is
/// before the cut exactly once, and reports exactly one `Truncated` error at the cut unless the
/// cut removed only trailing whitespace. A cut between records, or after the last record but
/// before `]}`, is still an error: the bytes cannot tell whether more records followed.
fn check_every_cut(doc: &str, spans: &[(usize, usize)], complete_end: usize) {
    for cut in 0..=doc.len() {
        let (format, items) = collect(&doc.as_bytes()[..cut]);
        let complete = spans.iter().filter(|(_, end)| *end <= cut).count();
        let expected: Vec<String> = (0..complete).map(|i| format!("id-{i}")).collect();
        let got: Vec<String> = events(&items)
            .iter()
            .map(|e| e.event_id.as_deref().unwrap().to_owned())
            .collect();
        assert_eq!(got, expected, "cut at {cut}");
        let errors = errors(&items);
        if cut == 0 {
            assert_eq!(format, DocumentFormat::Empty);
            assert!(items.is_empty());
        } else if cut >= complete_end {
            assert!(errors.is_empty(), "cut at {cut}: {errors:?}");
        } else {
            assert_eq!(errors.len(), 1, "cut at {cut}: {items:#?}");
            assert_eq!(errors[0].kind, RecordErrorKind::Truncated, "cut at {cut}");
            assert_eq!(errors[0].location.byte_offset, cut as u64);
            assert_eq!(items.len(), complete + 1, "cut at {cut}");
        }
    }
}

#[test]
fn truncated_compact_records_file_at_every_byte() {
    let (doc, spans) = records_doc(&records(3));
    let complete_end = doc.len();
    let doc = format!("{doc}\n");
    check_every_cut(&doc, &spans, complete_end);
}

#[test]
fn truncated_pretty_records_file_at_every_byte() {
    let mut doc = String::from("{\n  \"Records\": [\n");
    let mut spans = Vec::new();
    for i in 0..3 {
        if i > 0 {
            doc.push_str(",\n");
        }
        let value: Value = serde_json::from_str(&record(i)).unwrap();
        let pretty = serde_json::to_string_pretty(&value)
            .unwrap()
            .replace('\n', "\n    ");
        doc.push_str("    ");
        spans.push((doc.len(), doc.len() + pretty.len()));
        doc.push_str(&pretty);
    }
    doc.push_str("\n  ]\n}");
    let complete_end = doc.len();
    doc.push_str("\n\n");
    check_every_cut(&doc, &spans, complete_end);
}

#[test]
fn truncated_records_file_with_one_record_per_line_at_every_byte() {
    let mut doc = String::from("{\"Records\":[\n");
    let mut spans = Vec::new();
    for i in 0..3 {
        if i > 0 {
            doc.push_str(",\n");
        }
        spans.push((doc.len(), doc.len() + record(i).len()));
        doc.push_str(&record(i));
    }
    doc.push_str("\n]}");
    let complete_end = doc.len();
    doc.push('\n');
    check_every_cut(&doc, &spans, complete_end);
}

#[test]
fn truncated_json_lines_at_every_byte() {
    let mut doc = String::new();
    let mut spans = Vec::new();
    for i in 0..3 {
        spans.push((doc.len(), doc.len() + record(i).len()));
        doc.push_str(&record(i));
        doc.push('\n');
    }
    for cut in 0..=doc.len() {
        let (_, items) = collect(&doc.as_bytes()[..cut]);
        let complete = spans.iter().filter(|(_, end)| *end <= cut).count();
        assert_eq!(events(&items).len(), complete, "cut at {cut}");
        let at_boundary = spans
            .iter()
            .any(|(start, end)| (*end..=*end + 1).contains(&cut) || *start == cut);
        let errors = errors(&items);
        if at_boundary || cut == 0 {
            assert!(errors.is_empty(), "cut at {cut}: {errors:?}");
        } else {
            assert_eq!(errors.len(), 1, "cut at {cut}");
            assert_eq!(errors[0].kind, RecordErrorKind::Truncated);
        }
    }
}

fn corrupt_second_of_four(corrupt: impl FnOnce(&str) -> String) -> (String, Vec<(usize, usize)>) {
    let mut texts = records(4);
    texts[1] = corrupt(&texts[1]);
    records_doc(&texts)
}

#[test]
fn garbage_inside_a_record_resyncs_at_the_next_record() {
    let (doc, spans) = corrupt_second_of_four(|r| r.replacen("\"awsRegion\"", "@@#!", 1));
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::Records);
    assert_eq!(summary(&items)[0], "id-0");
    assert_eq!(summary(&items)[2..], ["id-2", "id-3"]);
    match &items[1] {
        Item::Error(RecordError {
            location,
            kind:
                RecordErrorKind::Syntax {
                    message,
                    resumed_at,
                },
        }) => {
            assert_eq!(location.record, 1);
            assert_eq!(location.byte_offset as usize, doc.find("@@#!").unwrap());
            assert_eq!(message, "key must be a string");
            assert_eq!(*resumed_at, Some(spans[2].0 as u64));
        }
        other => panic!("{other:#?}"),
    }
    assert_eq!(
        items[2].location(),
        Location {
            record: 2,
            byte_offset: spans[2].0 as u64
        }
    );
}

#[test]
fn record_cut_short_and_followed_by_the_next_one() {
    // A record that ends mid-key, directly followed by the next record: the parser only notices
    // after it has read into the next record, which must still be found.
    let (doc, _) = corrupt_second_of_four(|r| r[..r.find("eventTime").unwrap() + 5].to_owned());
    let (_, items) = collect(&doc);
    assert_eq!(summary(&items)[0], "id-0");
    assert!(matches!(
        &items[1],
        Item::Error(RecordError {
            kind: RecordErrorKind::Syntax { .. },
            ..
        })
    ));
    assert_eq!(summary(&items)[2..], ["id-2", "id-3"]);
}

#[test]
fn missing_comma_between_records() {
    let (doc, _) = records_doc(&records(3));
    let doc = doc.replacen("},{\"eventVersion\"", "}{\"eventVersion\"", 1);
    let (_, items) = collect(&doc);
    assert_eq!(summary(&items)[0], "id-0");
    assert!(
        matches!(&items[1], Item::Error(RecordError { kind: RecordErrorKind::Syntax { message, .. }, .. }) if message == "expected `,` or `]`")
    );
    assert_eq!(summary(&items)[2..], ["id-1", "id-2"]);
}

#[test]
fn no_record_to_resync_to_stops_with_one_error() {
    let (doc, _) = corrupt_second_of_four(|r| r.replacen("\"awsRegion\"", "@", 1));
    let doc = doc.replace("\"eventVersion\"", "\"v\"");
    let (_, items) = collect(&doc);
    assert_eq!(summary(&items)[0], "id-0");
    assert!(matches!(
        &items[1..],
        [Item::Error(RecordError {
            kind: RecordErrorKind::Syntax {
                resumed_at: None,
                ..
            },
            ..
        })]
    ));
}

#[test]
fn invalid_utf8_inside_a_record() {
    // serde_json checks every string it reads in a document that is not valid UTF-8, so bad
    // bytes in a skipped field and in a field the engine reads both end the record with a syntax
    // error, and the walk resyncs at the next record.
    for (needle, bad) in [("i-1", "i-\u{1}"), ("aws-cli", "aws\u{1}cli")] {
        for byte in [0xFF, 0xC3, 0x80] {
            let (doc, spans) = corrupt_second_of_four(|r| r.replacen(needle, bad, 1));
            let mut bytes = doc.into_bytes();
            let pos = bytes.iter().position(|&b| b == 1).unwrap();
            bytes[pos] = byte;
            let (_, items) = collect(&bytes);
            assert_eq!(summary(&items)[0], "id-0");
            match &items[1] {
                Item::Error(RecordError {
                    location,
                    kind:
                        RecordErrorKind::Syntax {
                            message,
                            resumed_at,
                        },
                }) => {
                    assert_eq!(message, "invalid unicode code point");
                    assert!((spans[1].0..=pos + 1).contains(&(location.byte_offset as usize)));
                    assert_eq!(*resumed_at, Some(spans[2].0 as u64));
                }
                other => panic!("{needle} {byte:x}: {other:#?}"),
            }
            assert_eq!(summary(&items)[2..], ["id-2", "id-3"]);
        }
    }
}

#[test]
fn deep_nesting_never_overflows_the_stack() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    // In a skipped field: serde_json's recursion limit makes the record an error, and the next
    // record is found.
    let bad = record(1).replacen("\"maxResults\":5", &format!("\"maxResults\":{deep}"), 1);
    let (doc, spans) = records_doc(&[record(0), bad, record(2)]);
    let (_, items) = collect(&doc);
    assert_eq!(
        summary(&items),
        [
            "id-0".to_owned(),
            format!(
                "error: invalid JSON: recursion limit exceeded; resumed at byte {}",
                spans[2].0
            ),
            "id-2".to_owned()
        ]
    );
    let recursion_error = |doc: &str| {
        let (_, items) = collect(doc);
        match only_error(&items) {
            RecordErrorKind::Syntax {
                message,
                resumed_at: None,
            } => {
                assert_eq!(message, "recursion limit exceeded")
            }
            other => panic!("{other:?}"),
        }
    };
    // As a whole document, balanced or not.
    assert_eq!(collect(&deep).0, DocumentFormat::JsonArray);
    recursion_error(&deep);
    recursion_error(&"[".repeat(100_000));
    // In a field the engine reads.
    recursion_error(&record(0).replacen("\"aws-cli/2.13.0\"", &deep, 1));
    // Objects, in a Records array and in an embedded record.
    let nested_objects = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    recursion_error(&format!("{{\"Records\":[{nested_objects}]}}"));
    let lookup = json!({ "Events": [{ "CloudTrailEvent": nested_objects }] }).to_string();
    assert_eq!(
        *only_error(&collect(&lookup).1),
        RecordErrorKind::EmbeddedJson {
            field: "CloudTrailEvent",
            message: "recursion limit exceeded".to_owned()
        }
    );
}

#[test]
fn json_lines_with_a_broken_line() {
    let lines = [
        record(0),
        record(1)[..100].to_owned(),
        record(2),
        "not json at all".to_owned(),
        String::new(),
        record(3),
        "[1]".to_owned(),
        r#"{"eventTime":"2023-07-10T11:42:00Z"}"#.to_owned(),
    ];
    let doc = lines.join("\n");
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::JsonLines);
    let line_start = |n: usize| lines[..n].iter().map(|l| l.len() + 1).sum::<usize>() as u64;
    assert_eq!(
        summary(&items),
        [
            "id-0",
            "error: invalid JSON: control character (\\u0000-\\u001F) found while parsing a string; resumed at byte 5",
            "id-2",
            "error: invalid JSON: expected ident; resumed at byte 7",
            "id-3",
            "error: expected a record object, found number",
            "error: missing eventSource",
        ]
        .map(|s| s
            .replace("byte 5", &format!("byte {}", line_start(2)))
            .replace("byte 7", &format!("byte {}", line_start(5))))
    );
    assert_eq!(items[2].location().byte_offset, line_start(2));
    // The element of the `[1]` line is where it is.
    assert_eq!(items[5].location().byte_offset, line_start(6) + 1);
}

#[test]
fn json_lines_with_a_line_that_never_closes() {
    // The open array swallows the later lines (commas make them valid elements) and the parser
    // only fails at the end of the document.
    let doc = format!("{}\n{{\"a\":[\n{},\n{},\n", record(0), record(1), record(2));
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::JsonLines);
    assert_eq!(summary(&items)[0], "id-0");
    match &items[1] {
        Item::Error(RecordError {
            location,
            kind:
                RecordErrorKind::Syntax {
                    message,
                    resumed_at,
                },
        }) => {
            assert_eq!(message, "value not closed before the end of the document");
            assert_eq!(location.byte_offset as usize, record(0).len() + 1);
            assert_eq!(*resumed_at, Some(record(0).len() as u64 + 8));
        }
        other => panic!("{other:#?}"),
    }
    assert_eq!(summary(&items)[2..], ["id-1", "id-2"]);
    // On the last line it is a truncated document.
    let (_, items) = collect(format!("{}\n{{\"a\":[1,", record(0)));
    assert_eq!(
        summary(&items),
        [
            "id-0",
            "error: truncated: the document ends inside a record"
        ]
    );
}

#[test]
fn json_lines_whose_first_line_is_broken() {
    let doc = format!("{{\"eventVersion\": oops}}\n{}\n{}\n", record(1), record(2));
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::JsonLines);
    assert!(matches!(
        &items[0],
        Item::Error(RecordError {
            kind: RecordErrorKind::Syntax { .. },
            ..
        })
    ));
    assert_eq!(summary(&items)[1..], ["id-1", "id-2"]);
}

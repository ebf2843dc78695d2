//! Document shapes: JSON lines, concatenated objects, CloudWatch Logs, lookup-events,
//! EventBridge, arrays, wrappers, and reopening a record by its location.

use proptest::prelude::*;

use super::*;

#[test]
fn json_lines_of_records_wrappers_and_commas() {
    let doc = format!(
        "{}\n{},\n{}",
        records_doc(&records(2)).0,
        record(5),
        records_doc(&[record(6)]).0
    );
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::JsonLines);
    assert_eq!(summary(&items), ["id-0", "id-1", "id-5", "id-6"]);
}

#[test]
fn concatenated_pretty_objects() {
    let pretty = |i| {
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&record(i)).unwrap()).unwrap()
    };
    let broken = pretty(1).replacen(
        "\"awsRegion\": \"us-east-1\"",
        "\"awsRegion\" \"us-east-1\"",
        1,
    );
    let doc = format!("{}\n{}\n{}{}\n", pretty(0), broken, pretty(2), pretty(3));
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::JsonLines);
    assert_eq!(summary(&items)[0], "id-0");
    match &items[1] {
        Item::Error(RecordError {
            kind:
                RecordErrorKind::Syntax {
                    message,
                    resumed_at,
                },
            location,
        }) => {
            assert_eq!(message, "expected `:`");
            assert_eq!(*resumed_at, Some(doc.find(&pretty(2)).unwrap() as u64));
            assert_eq!(
                location.byte_offset as usize,
                doc.find("\"awsRegion\" \"").unwrap() + 12
            );
        }
        other => panic!("{other:#?}"),
    }
    assert_eq!(summary(&items)[2..], ["id-2", "id-3"]);
}

#[test]
fn digest_files_hold_no_records() {
    let doc = r#"{"awsAccountId":"111122223333","digestStartTime":"2023-07-10T11:00:00Z","digestEndTime":"2023-07-10T12:00:00Z","digestS3Bucket":"b","digestS3Object":"o","digestPublicKeyFingerprint":"f","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"2023-07-10T11:59:00Z","oldestEventTime":"2023-07-10T11:00:00Z","previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[{"s3Bucket":"b","s3Object":"o","hashValue":"h","hashAlgorithm":"SHA-256","newestEventTime":"x","oldestEventTime":"y"}]}"#;
    let (format, items) = collect(doc);
    assert_eq!(format, DocumentFormat::Digest);
    assert!(items.is_empty());
}

#[test]
fn cloudwatch_logs_messages() {
    let message = |i: usize, rest: &str| {
        json!({
            "messageType": "DATA_MESSAGE",
            "owner": "111122223333",
            "logGroup": "aws-cloudtrail-logs",
            "logStream": "111122223333_CloudTrail_us-east-1",
            "subscriptionFilters": ["f"],
            "logEvents": [
                { "id": "1", "timestamp": 1688989338000u64, "message": record(i) },
                { "id": "2", "timestamp": 1688989338000u64, "message": rest },
            ]
        })
        .to_string()
    };
    let doc = message(0, &record(1));
    assert!(
        doc.starts_with(r#"{"logEvents""#),
        "serde_json sorts keys: {doc}"
    );
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::CloudWatchLogs);
    assert_eq!(summary(&items), ["id-0", "id-1"]);
    let second = doc.find(r#"{"id":"2""#).unwrap() as u64;
    assert_eq!(items[1].location().byte_offset, second);

    // messageType first, as CloudWatch Logs writes it; one message per line.
    let reordered = |i, rest: &str| {
        let m = message(i, rest);
        format!(
            r#"{{"messageType":"DATA_MESSAGE",{}"#,
            &m[1..].replacen(r#","messageType":"DATA_MESSAGE""#, "", 1)
        )
    };
    let control = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
    let doc = format!(
        "{}\n{control}\n{}\n",
        reordered(2, "not json"),
        reordered(3, &record(4))
    );
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::JsonLines);
    assert_eq!(summary(&items)[0], "id-2");
    assert!(matches!(
        &items[1],
        Item::Error(RecordError {
            kind: RecordErrorKind::EmbeddedJson {
                field: "message",
                ..
            },
            ..
        })
    ));
    assert_eq!(summary(&items)[2..], ["id-3", "id-4"]);

    let (format, items) = collect(control);
    assert_eq!(format, DocumentFormat::CloudWatchLogs);
    assert!(items.is_empty());
}

#[test]
fn lookup_events_output() {
    let element = |i: usize, read_only: &str, record: String| {
        json!({
            "EventId": format!("id-{i}"),
            "EventName": "DescribeInstances",
            "ReadOnly": read_only,
            "EventTime": 1688989338.0,
            "EventSource": "ec2.amazonaws.com",
            "Username": "u",
            "Resources": [],
            "CloudTrailEvent": record,
        })
    };
    let without_read_only = |i| {
        let mut value: Value = serde_json::from_str(&record(i)).unwrap();
        value.as_object_mut().unwrap().remove("readOnly");
        value.to_string()
    };
    let events = json!([
        element(0, "true", record(0)),
        element(1, "false", without_read_only(1)),
        element(2, "TRUE", without_read_only(2)),
        element(3, "false", "{not json".to_owned()),
        element(4, "maybe", without_read_only(4)),
        element(5, "false", record(5)),
    ]);
    let next_token_first = format!(r#"{{"NextToken":"abc","Events":{events}}}"#);
    let events_first = format!(r#"{{"Events":{events},"NextToken":"abc"}}"#);
    for doc in [next_token_first, events_first] {
        let (format, items) = collect(&doc);
        assert_eq!(format, DocumentFormat::LookupEvents);
        let read_only: Vec<Option<bool>> = events_of(&items).map(|e| e.read_only).collect();
        assert_eq!(read_only, [Some(true), Some(false), Some(true), Some(true)]);
        assert!(matches!(
            &items[3],
            Item::Error(RecordError {
                kind: RecordErrorKind::EmbeddedJson {
                    field: "CloudTrailEvent",
                    ..
                },
                ..
            })
        ));
        assert!(matches!(
            &items[4],
            Item::Error(RecordError {
                kind: RecordErrorKind::WrongType {
                    field: "ReadOnly",
                    ..
                },
                ..
            })
        ));
        assert_eq!(
            items[1].location().byte_offset as usize,
            doc.find(r#"{"CloudTrailEvent""#).unwrap()
                + doc[doc.find(r#"{"CloudTrailEvent""#).unwrap() + 1..]
                    .find(r#"{"CloudTrailEvent""#)
                    .unwrap()
                + 1
        );
    }
}

fn events_of(items: &[Item]) -> impl Iterator<Item = &Event<'static>> {
    items.iter().filter_map(|item| match item {
        Item::Event(event, _) => Some(&**event),
        _ => None,
    })
}

#[test]
fn lookup_events_with_inline_records() {
    let doc = format!(
        r#"{{"NextToken":"t","Events":[{},{{"EventId":"x","ReadOnly":"false","eventVersion":"1.08","eventTime":"2023-07-10T11:42:00Z","eventSource":"s","eventName":"n","awsRegion":"eu-west-1"}}]}}"#,
        r#"{"eventVersion":"1.09","eventTime":"2024-12-11T16:52:00Z","awsRegion":"us-east-1","eventType":"AwsCloudTrailInsight","insightDetails":{"state":"Start"},"eventCategory":"Insight"}"#
    );
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::LookupEvents);
    assert!(
        matches!(&items[0], Item::Insight(json, _) if json.starts_with(r#"{"eventVersion":"1.09""#) && json.ends_with(r#""Insight"}"#))
    );
    assert_eq!(events(&items)[0].read_only, Some(false));
}

fn envelope(detail_type: &str, detail: &str) -> String {
    format!(
        r#"{{"version":"0","id":"6f3b","detail-type":"{detail_type}","source":"aws.ec2","account":"111122223333","time":"2023-07-10T11:42:00Z","region":"us-east-1","resources":[],"detail":{detail}}}"#
    )
}

#[test]
fn eventbridge_envelopes() {
    let single = envelope("AWS API Call via CloudTrail", &record(0));
    let (format, items) = collect(&single);
    assert_eq!(format, DocumentFormat::EventBridge);
    assert_eq!(summary(&items), ["id-0"]);
    assert_eq!(items[0].location().byte_offset, 0);

    let insight = r#"{"eventVersion":"1.08","eventTime":"2023-01-02T02:51:00Z","awsRegion":"us-east-1","eventType":"AwsCloudTrailInsight","insightDetails":{"state":"Start"}}"#;
    let lines = [
        envelope("AWS Console Signin via CloudTrail", &record(1)),
        envelope("AWS Insight via CloudTrail", insight),
        envelope(
            "EC2 Instance State-change Notification",
            r#"{"state":"running"}"#,
        ),
        envelope("Amazon API Call via CloudTrail", "null"),
        envelope("AWS Service Event via CloudTrail", &record(2)),
    ];
    let (format, items) = collect(lines.join("\n"));
    assert_eq!(format, DocumentFormat::JsonLines);
    assert_eq!(summary(&items)[0], "id-1");
    assert!(matches!(&items[1], Item::Insight(json, _) if json == insight));
    assert!(
        matches!(&items[2], Item::Error(RecordError { kind: RecordErrorKind::UnsupportedEnvelope { detail_type }, .. }) if detail_type == "EC2 Instance State-change Notification")
    );
    assert!(matches!(
        &items[3],
        Item::Error(RecordError {
            kind: RecordErrorKind::Missing { field: "detail" },
            ..
        })
    ));
    assert_eq!(summary(&items)[4], "id-2");

    let (format, items) = collect(format!("[{}]", lines.join(",\n")));
    assert_eq!(format, DocumentFormat::EventBridge);
    assert_eq!(items.len(), 5);
}

#[test]
fn eventbridge_envelope_in_a_cloudwatch_message() {
    let doc = json!({
        "messageType": "DATA_MESSAGE",
        "logEvents": [{ "id": "1", "timestamp": 1, "message": envelope("AWS API Call via CloudTrail", &record(3)) }]
    })
    .to_string();
    assert_eq!(summary(&collect(&doc).1), ["id-3"]);
}

#[test]
fn json_arrays_and_single_records() {
    let (format, items) = collect(format!("[{}, {}, 5, \"x\", null]", record(0), record(1)));
    assert_eq!(format, DocumentFormat::JsonArray);
    assert_eq!(
        summary(&items),
        [
            "id-0",
            "id-1",
            "error: expected a record object, found number",
            "error: expected a record object, found string",
            "error: expected a record object, found null"
        ]
    );
    let (format, items) = collect(format!("  {}  \n", record(4)));
    assert_eq!(format, DocumentFormat::SingleRecord);
    assert_eq!(
        items[0].location(),
        Location {
            record: 0,
            byte_offset: 2
        }
    );
    let (format, items) = collect("[]");
    assert_eq!(format, DocumentFormat::JsonArray);
    assert!(items.is_empty());
    let (format, items) = collect(r#"{"Records":[]}"#);
    assert_eq!(format, DocumentFormat::Records);
    assert!(items.is_empty());
}

#[test]
fn records_not_first_and_of_the_wrong_type() {
    let doc = format!(r#"{{"note":"x","Records":[{}],"more":1}}"#, record(0));
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::Records);
    assert_eq!(items[0].location().byte_offset, 23);
    let (format, items) = collect(r#"{"Records":null}"#);
    assert_eq!(format, DocumentFormat::Records);
    assert!(matches!(
        only_error(&items),
        RecordErrorKind::WrongType {
            field: "Records",
            found: "null",
            ..
        }
    ));
}

#[test]
fn empty_unknown_and_bom() {
    assert_eq!(collect("").0, DocumentFormat::Empty);
    assert_eq!(collect(" \n\t\r\n").0, DocumentFormat::Empty);
    assert_eq!(collect("\u{feff}").0, DocumentFormat::Empty);
    let labels = r#"[{"id":"a1","kind":"rare_burst","start":"2024-03-12T18:01:00Z"},{"id":"a2"}]"#;
    for doc in [r#"{"hello":"world"}"#, "42", "\"text\"", "null", labels] {
        let (format, items) = collect(doc);
        assert_eq!(format, DocumentFormat::Unknown, "{doc}");
        assert!(items.is_empty(), "{doc}");
    }
    let (format, items) = collect("hello world");
    assert_eq!(format, DocumentFormat::Unknown);
    assert!(matches!(
        only_error(&items),
        RecordErrorKind::Syntax {
            resumed_at: None,
            ..
        }
    ));

    let doc = format!("\u{feff}{}", records_doc(&records(2)).0);
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::Records);
    assert_eq!(summary(&items), ["id-0", "id-1"]);
    assert_eq!(items[0].location().byte_offset, 15);

    // An object that is not a record is reported once other values show it stands for one.
    let (format, items) = collect(format!("{{\"hello\":1}}\n{}", record(1)));
    assert_eq!(format, DocumentFormat::JsonLines);
    assert_eq!(summary(&items), ["error: missing eventTime", "id-1"]);
}

#[test]
fn trailing_garbage_after_a_document() {
    let (doc, _) = records_doc(&records(2));
    let (format, items) = collect(format!("{doc} trailing"));
    assert_eq!(format, DocumentFormat::Records);
    assert_eq!(summary(&items)[..2], ["id-0", "id-1"]);
    assert!(matches!(
        &items[2..],
        [Item::Error(RecordError {
            kind: RecordErrorKind::Syntax { .. },
            ..
        })]
    ));
}

#[test]
fn wrapper_tail_errors() {
    let doc = |tail: &str| format!(r#"{{"Records":[{}]{tail}"#, record(0));
    let (_, items) = collect(doc(" x}"));
    assert_eq!(
        summary(&items),
        ["id-0", "error: invalid JSON: expected `,` or `}`"]
    );
    let (_, items) = collect(doc(r#","NextToken":"abc" "#));
    assert_eq!(
        summary(&items),
        [
            "id-0",
            "error: truncated: the document ends inside a record"
        ]
    );
    let (_, items) = collect(doc(r#","NextToken":"abc","x":[1,{}]}"#));
    assert_eq!(summary(&items), ["id-0"]);
    let (_, items) = collect(doc(r#","NextToken" "abc"}"#));
    assert_eq!(
        summary(&items),
        ["id-0", "error: invalid JSON: expected `:`"]
    );
}

/// The document of shape `shape` (0: Records file, 1: JSON lines, 2: EventBridge envelopes,
/// 3: lookup-events) with `edits` applied: (where, byte, op) with op 0 writing `byte` over the
/// byte there, 1 inserting it, 2 removing the byte there.
fn mutated(shape: usize, edits: &[(prop::sample::Index, u8, u8)]) -> Vec<u8> {
    let base = match shape {
        0 => records_doc(&records(4)).0,
        1 => (0..4).map(record).collect::<Vec<_>>().join("\n"),
        2 => format!("[{}]", (0..4).map(|i| envelope("AWS API Call via CloudTrail", &record(i))).collect::<Vec<_>>().join(",")),
        _ => json!({"NextToken": "t", "Events": (0..4).map(|i| json!({"CloudTrailEvent": record(i), "ReadOnly": "true"})).collect::<Vec<_>>()}).to_string(),
    };
    let mut bytes = base.into_bytes();
    for (index, byte, op) in edits {
        let at = index.index(bytes.len());
        match op {
            0 => bytes[at] = *byte,
            1 => bytes.insert(at, *byte),
            _ => {
                bytes.remove(at);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever happens to the bytes of a document: no panic, offsets inside the document, and
    /// no record reported twice: events come in document order, each at a byte offset after the
    /// last one's, and no ID is reported more often than its bytes occur (an edit can turn
    /// `id-2` into a second `id-0`, which is then rightly reported twice; see
    /// `damaged_lookup_events_element_is_reported_once`). `collect` checks the numbering.
    #[test]
    fn mutated_documents_never_panic_or_repeat(
        shape in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let bytes = mutated(shape, &edits);
        let (_, items) = collect(&bytes);
        let mut last_event_offset = None;
        let mut reports = std::collections::HashMap::<String, usize>::new();
        for item in &items {
            let location = item.location();
            prop_assert!(location.byte_offset <= bytes.len() as u64);
            if let Item::Event(event, _) = item {
                prop_assert!(
                    last_event_offset < Some(location.byte_offset),
                    "event at byte {} after one at {last_event_offset:?}", location.byte_offset
                );
                last_event_offset = Some(location.byte_offset);
                if let Some(id) = &event.event_id
                    && id.starts_with("id-")
                {
                    *reports.entry(id.to_string()).or_default() += 1;
                }
            }
        }
        for (id, reported) in reports {
            let in_bytes = bytes.windows(id.len()).filter(|w| *w == id.as_bytes()).count();
            prop_assert!(reported <= in_bytes, "{id} reported {reported} times, in the bytes {in_bytes} times");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        collect(&bytes);
    }

    #[test]
    fn json_like_bytes_never_panic(text in "[\\[\\]{}\",: a-z0-9\\n\\\\]{0,200}") {
        collect(text.as_bytes());
    }
}

/// `record_at` finds each event's whole record again, whatever holds it.
#[test]
fn record_at_reopens_every_format() {
    let values: Vec<Value> = records(3)
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    let lines = |v: Vec<String>| v.join("\n");
    let docs = [
        records_doc(&records(3)).0,
        serde_json::to_string_pretty(&json!({"Records": values})).unwrap(),
        lines(records(3)),
        lines(vec![records_doc(&records(2)).0, records(3)[2].clone()]),
        json!({"NextToken": "t", "Events": values.iter().map(|v| json!({"EventId": v["eventID"], "CloudTrailEvent": v.to_string(), "ReadOnly": "true"})).collect::<Vec<_>>()}).to_string(),
        json!({"Events": values}).to_string(),
        format!(
            "[{}]",
            records(3)
                .iter()
                .map(|r| envelope("AWS API Call via CloudTrail", r))
                .collect::<Vec<_>>()
                .join(",")
        ),
        json!({"messageType": "DATA_MESSAGE", "logEvents": values.iter().map(|v| json!({"id": "1", "timestamp": 0, "message": v.to_string()})).collect::<Vec<_>>()}).to_string(),
        Value::Array(values.clone()).to_string(),
    ];
    for doc in docs {
        let (_, items) = collect(&doc);
        assert_eq!(items.len(), 3, "{doc}");
        for (item, expected) in items.iter().zip(&values) {
            let Item::Event(event, location) = item else {
                panic!("{item:?} in {doc}");
            };
            let record = record_at(doc.as_bytes(), *location).unwrap();
            assert_eq!(&record, expected, "{doc}");
            assert_eq!(record["eventID"].as_str(), event.event_id.as_deref());
        }
    }
    assert_eq!(
        record_at(
            b"{}",
            Location {
                record: 0,
                byte_offset: 99
            }
        ),
        Err(RecordErrorKind::Truncated)
    );
    assert!(matches!(
        record_at(br#"{"CloudTrailEvent":"not json"}"#, Location::default()),
        Err(RecordErrorKind::EmbeddedJson { .. })
    ));
    assert!(matches!(
        record_at(b"[1]", Location::default()),
        Err(RecordErrorKind::NotAnObject { found: "array" })
    ));
}

/// The case proptest found for `mutated_documents_never_panic_or_repeat` when it still took an
/// ID seen twice for a record reported twice: a lookup-events document with a NUL inserted after
/// its third element and a `0` written over the `2` of that element's `id-2`. The document then
/// holds two records with `eventID` `id-0` (requestIDs `req-0` and `req-2`); each is reported
/// once, at its own element, and the NUL stops the walk before the fourth.
#[test]
fn damaged_lookup_events_element_is_reported_once() {
    // `prop::sample::Index` has no public constructor; the fixed-point multiply it does is
    // repeated here to find where the shrunk edits land.
    let at = |index: u64, len: usize| ((len as u128 * u128::from(index)) >> 64) as usize;
    let mut bytes = json!({"NextToken": "t", "Events": (0..4).map(|i| json!({"CloudTrailEvent": record(i), "ReadOnly": "true"})).collect::<Vec<_>>()}).to_string().into_bytes();
    let nul_at = at(13781659585595109747, bytes.len());
    bytes.insert(nul_at, 0);
    let zero_at = at(12535632713073341706, bytes.len());
    assert_eq!(&bytes[zero_at - 3..=zero_at], b"id-2");
    bytes[zero_at] = b'0';

    let (format, items) = collect(&bytes);
    assert_eq!(format, DocumentFormat::LookupEvents);
    assert_eq!(
        summary(&items),
        [
            "id-0",
            "id-1",
            "id-0",
            "error: invalid JSON: expected `,` or `]`"
        ]
    );
    let third = items[2].location().byte_offset as usize;
    assert!(items[1].location().byte_offset < third as u64);
    assert!(
        (third..nul_at).contains(&zero_at),
        "the second id-0 is the third element's own"
    );
    let record = record_at(&bytes, items[2].location()).unwrap();
    assert_eq!(record["requestID"], "req-2");
    assert_eq!(record["eventID"], "id-0");
}

use std::borrow::Cow;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::event::{Event, EventCategory, UserIdentity};
use crate::time::{TimeError, Timestamp};

/// An owned copy of a [`ParsedItem`], so tests can look at items after the callback returns.
#[derive(Debug)]
enum Item {
    Event(Box<Event<'static>>, Location),
    Insight(String, Location),
    Aggregated(Location),
    Error(RecordError),
}

impl Item {
    fn location(&self) -> Location {
        match self {
            Item::Event(_, location) | Item::Insight(_, location) | Item::Aggregated(location) => {
                *location
            }
            Item::Error(error) => error.location,
        }
    }
}

fn own(cow: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(cow.into_owned())
}

fn own_opt(cow: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    cow.map(own)
}

fn own_event(e: Event<'_>) -> Event<'static> {
    Event {
        event_id: own_opt(e.event_id),
        event_time: e.event_time,
        event_source: own(e.event_source),
        event_name: own(e.event_name),
        aws_region: own(e.aws_region),
        recipient_account_id: own_opt(e.recipient_account_id),
        event_type: own_opt(e.event_type),
        category: e.category,
        read_only: e.read_only,
        error_code: own_opt(e.error_code),
        user_agent: own_opt(e.user_agent),
        source_ip_address: own_opt(e.source_ip_address),
        user_identity: UserIdentity {
            identity_type: own_opt(e.user_identity.identity_type),
            arn: own_opt(e.user_identity.arn),
            account_id: own_opt(e.user_identity.account_id),
            invoked_by: own_opt(e.user_identity.invoked_by),
        },
    }
}

fn own_item(item: ParsedItem<'_>) -> Item {
    match item {
        ParsedItem::Event { event, location } => Item::Event(Box::new(own_event(event)), location),
        ParsedItem::Insight { json, location } => Item::Insight(json.into_owned(), location),
        ParsedItem::Aggregated { location } => Item::Aggregated(location),
        ParsedItem::Error(error) => Item::Error(error),
    }
}

/// Parses a whole document, and checks that the same bytes streamed in pieces of several sizes
/// give exactly the same items and format: every test of this file is a test of the stream too.
fn collect(doc: impl AsRef<[u8]>) -> (DocumentFormat, Vec<Item>) {
    let doc = doc.as_ref();
    let mut items = Vec::new();
    let summary = parse_document(doc, &mut |item| items.push(own_item(item)));
    assert_ordinals(&items);
    let whole = format!("{:?} {items:?}", summary.format);
    for piece in [1, 3, 16, 97, doc.len() / 2 + 1] {
        let (format, streamed) = stream_in_pieces(doc, piece.max(1), false);
        assert_eq!(
            format!("{format:?} {streamed:?}"),
            whole,
            "streamed in pieces of {piece} bytes"
        );
    }
    (summary.format, items)
}

/// The items of `doc` fed to a [`DocumentStream`] `piece` bytes at a time.
fn stream_in_pieces(doc: &[u8], piece: usize, reference: bool) -> (DocumentFormat, Vec<Item>) {
    let mut items = Vec::new();
    let mut stream = if reference {
        DocumentStream::reference(usize::MAX)
    } else {
        DocumentStream::new(usize::MAX)
    };
    for chunk in doc.chunks(piece) {
        stream
            .feed(chunk, &mut |item| items.push(own_item(item)))
            .expect("no limit");
    }
    let summary = stream.finish(&mut |item| items.push(own_item(item)));
    (summary.format, items)
}

/// Every item is one record-like element, numbered in document order.
fn assert_ordinals(items: &[Item]) {
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item.location().record, i as u64, "{items:#?}");
    }
}

/// A compact short description of each item, for readable assertions.
fn summary(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item {
            Item::Event(event, _) => event
                .event_id
                .as_deref()
                .map_or_else(|| format!("event {}", event.event_name), str::to_owned),
            Item::Insight(..) => "insight".to_owned(),
            Item::Aggregated(_) => "aggregated".to_owned(),
            Item::Error(error) => format!("error: {}", error.kind),
        })
        .collect()
}

fn events(items: &[Item]) -> Vec<&Event<'static>> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Event(event, _) => Some(&**event),
            _ => None,
        })
        .collect()
}

fn errors(items: &[Item]) -> Vec<&RecordError> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Error(error) => Some(error),
            _ => None,
        })
        .collect()
}

fn only_error(items: &[Item]) -> &RecordErrorKind {
    match items {
        [Item::Error(error)] => &error.kind,
        other => panic!("expected one error, got {other:#?}"),
    }
}

/// A compact record in the key order AWS writes, with `eventID` `id-{i}`.
fn record(i: usize) -> String {
    format!(
        concat!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","principalId":"AIDAEXAMPLE","#,
            r#""arn":"arn:aws:iam::111122223333:user/u{i}","accountId":"111122223333","#,
            r#""accessKeyId":"AKIAEXAMPLE","sessionContext":{{"attributes":{{"mfaAuthenticated":"false"}}}}}},"#,
            r#""eventTime":"2023-07-10T11:42:{s:02}Z","eventSource":"ec2.amazonaws.com","#,
            r#""eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","#,
            r#""userAgent":"aws-cli/2.13.0","requestParameters":{{"instancesSet":{{"items":"#,
            r#"[{{"instanceId":"i-{i}"}}]}},"filterSet":{{}},"maxResults":5}},"responseElements":null,"#,
            r#""requestID":"req-{i}","eventID":"id-{i}","readOnly":true,"eventType":"AwsApiCall","#,
            r#""managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","#,
            r#""tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256"}}}}"#
        ),
        i = i,
        s = i % 60
    )
}

/// `{"Records":[...]}` from record texts, and the offset where each record starts and ends.
fn records_doc(records: &[String]) -> (String, Vec<(usize, usize)>) {
    let mut doc = String::from(r#"{"Records":["#);
    let mut spans = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            doc.push(',');
        }
        spans.push((doc.len(), doc.len() + r.len()));
        doc.push_str(r);
    }
    doc.push_str("]}");
    (doc, spans)
}

fn records(n: usize) -> Vec<String> {
    (0..n).map(record).collect()
}

/// `record(0)` as a JSON value with `edit` applied.
fn edited(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut value: Value = serde_json::from_str(&record(0)).unwrap();
    edit(value.as_object_mut().unwrap());
    value.to_string()
}

fn single_event(doc: &str) -> Event<'static> {
    let (_, items) = collect(doc);
    match &items[..] {
        [Item::Event(event, _)] => (**event).clone(),
        other => panic!("expected one event, got {other:#?}"),
    }
}

#[test]
fn compact_records_file() {
    let (doc, spans) = records_doc(&records(3));
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::Records);
    assert_eq!(summary(&items), ["id-0", "id-1", "id-2"]);
    for (item, (start, _)) in items.iter().zip(&spans) {
        assert_eq!(item.location().byte_offset, *start as u64);
    }
    let event = events(&items)[1].clone();
    assert_eq!(
        event,
        Event {
            event_id: Some("id-1".into()),
            event_time: Timestamp::parse("2023-07-10T11:42:01Z").unwrap(),
            event_source: "ec2.amazonaws.com".into(),
            event_name: "DescribeInstances".into(),
            aws_region: "us-east-1".into(),
            recipient_account_id: Some("111122223333".into()),
            event_type: Some("AwsApiCall".into()),
            category: EventCategory::Management,
            read_only: Some(true),
            error_code: None,
            user_agent: Some("aws-cli/2.13.0".into()),
            source_ip_address: Some("192.0.2.1".into()),
            user_identity: UserIdentity {
                identity_type: Some("IAMUser".into()),
                arn: Some("arn:aws:iam::111122223333:user/u1".into()),
                account_id: Some("111122223333".into()),
                invoked_by: None,
            },
        }
    );
}

#[test]
fn strings_borrow_from_the_document_unless_escaped() {
    let doc = records_doc(&[
        record(0),
        edited(|r| {
            r.insert("userAgent".into(), json!("a\"b"));
        }),
    ])
    .0;
    let mut seen = Vec::new();
    parse_document(doc.as_bytes(), &mut |item| {
        if let ParsedItem::Event { event, .. } = item {
            let user_agent = event.user_agent.unwrap();
            let borrowed = matches!(event.event_name, Cow::Borrowed(_));
            seen.push((
                user_agent.to_string(),
                matches!(user_agent, Cow::Owned(_)),
                borrowed,
            ));
        }
    });
    assert_eq!(
        seen,
        [
            ("aws-cli/2.13.0".to_owned(), false, true),
            ("a\"b".to_owned(), true, true)
        ]
    );
}

#[test]
fn pretty_printed_records_file() {
    let records: Vec<Value> = (0..3)
        .map(|i| serde_json::from_str(&record(i)).unwrap())
        .collect();
    let doc = serde_json::to_string_pretty(&json!({ "Records": records })).unwrap();
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::Records);
    assert_eq!(summary(&items), ["id-0", "id-1", "id-2"]);
}

#[test]
fn insights_records_keep_their_exact_text() {
    let insight = r#"{"eventVersion":"1.07","eventTime":"2019-11-14T00:51:00Z","awsRegion":"us-east-1","eventID":"e1","eventType":"AwsCloudTrailInsight","recipientAccountId":"123456789012","sharedEventID":"s1","insightDetails":{"state":"Start","eventSource":"ssm.amazonaws.com","eventName":"UpdateInstanceInformation","insightType":"ApiCallRateInsight","insightContext":{"statistics":{"baseline":{"average":85.4202380952},"insight":{"average":664}}}},"eventCategory":"Insight"}"#;
    // Recognised by insightDetails alone, too.
    let no_type = r#"{ "eventTime": "2019-11-14T00:52:00Z", "insightDetails" : {"state":"End"} }"#;
    let doc = format!("{{\"Records\":[{insight},\n  {no_type}, {}]}}", record(7));
    let (format, items) = collect(&doc);
    assert_eq!(format, DocumentFormat::Records);
    match &items[..] {
        [
            Item::Insight(first, l0),
            Item::Insight(second, l1),
            Item::Event(..),
        ] => {
            assert_eq!(first, insight);
            assert_eq!(second, no_type);
            assert_eq!(l0.byte_offset, 12);
            assert_eq!(l1.byte_offset as usize, doc.find("{ \"eventTime").unwrap());
        }
        other => panic!("{other:#?}"),
    }
}

#[test]
fn aggregated_records_are_reported_as_such() {
    let doc = r#"[{"eventVersion":"1.0","eventCategory":"Aggregated","eventType":"AwsAggregatedEvent","timeWindow":{}},
                  {"eventType":"AwsAggregatedEvent"}, {"eventCategory":"Aggregated"}]"#;
    let (format, items) = collect(doc);
    assert_eq!(format, DocumentFormat::JsonArray);
    assert_eq!(summary(&items), ["aggregated", "aggregated", "aggregated"]);
}

#[test]
fn read_only_as_boolean_or_string() {
    let with = |value: Option<Value>| {
        edited(|r| match value {
            Some(v) => {
                r.insert("readOnly".into(), v);
            }
            None => {
                r.remove("readOnly");
            }
        })
    };
    assert_eq!(
        single_event(&with(Some(json!(false)))).read_only,
        Some(false)
    );
    assert_eq!(
        single_event(&with(Some(json!("true")))).read_only,
        Some(true)
    );
    assert_eq!(
        single_event(&with(Some(json!("FALSE")))).read_only,
        Some(false)
    );
    assert_eq!(
        single_event(&with(Some(json!("True")))).read_only,
        Some(true)
    );
    assert_eq!(single_event(&with(Some(Value::Null))).read_only, None);
    assert_eq!(single_event(&with(None)).read_only, None);
    for (value, found) in [
        (json!(5), "number"),
        (json!("yes"), "string"),
        (json!([]), "array"),
    ] {
        let (_, items) = collect(with(Some(value)));
        assert!(
            matches!(only_error(&items), RecordErrorKind::WrongType { field: "readOnly", found: f, .. } if *f == found),
            "{items:?}"
        );
    }
}

#[test]
fn category_rules() {
    let category =
        |edit: fn(&mut serde_json::Map<String, Value>)| single_event(&edited(edit)).category;
    assert_eq!(category(|_| {}), EventCategory::Management);
    assert_eq!(
        category(|r| {
            r.insert("eventCategory".into(), json!("Data"));
        }),
        EventCategory::Data
    );
    assert_eq!(
        category(|r| {
            r.insert("eventCategory".into(), json!("NetworkActivity"));
        }),
        EventCategory::NetworkActivity
    );
    assert_eq!(
        category(|r| {
            r.insert("eventCategory".into(), json!("SomethingNew"));
        }),
        EventCategory::Other
    );
    assert_eq!(
        category(|r| {
            r.remove("eventCategory");
            r.insert("managementEvent".into(), json!(false));
        }),
        EventCategory::Data
    );
    assert_eq!(
        category(|r| {
            r.remove("eventCategory");
            r.insert("managementEvent".into(), json!("false"));
        }),
        EventCategory::Data
    );
    assert_eq!(
        category(|r| {
            r.remove("eventCategory");
            r.remove("managementEvent");
        }),
        EventCategory::Management
    );
    // managementEvent is only read when eventCategory is absent.
    assert_eq!(
        category(|r| {
            r.insert("managementEvent".into(), json!(7));
        }),
        EventCategory::Management
    );
    let (_, items) = collect(edited(|r| {
        r.remove("eventCategory");
        r.insert("managementEvent".into(), json!(7));
    }));
    assert!(matches!(
        only_error(&items),
        RecordErrorKind::WrongType {
            field: "managementEvent",
            found: "number",
            ..
        }
    ));
}

#[test]
fn error_code_and_optional_fields() {
    let event = single_event(&edited(|r| {
        r.insert("errorCode".into(), json!("AccessDenied"));
        r.insert("userAgent".into(), Value::Null);
        r.remove("sourceIPAddress");
        r.insert(
            "userIdentity".into(),
            json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}),
        );
    }));
    assert_eq!(event.error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(event.user_agent, None);
    assert_eq!(event.source_ip_address, None);
    assert_eq!(
        event.user_identity.invoked_by.as_deref(),
        Some("ec2.amazonaws.com")
    );
    assert_eq!(event.user_identity.arn, None);
    let event = single_event(&edited(|r| {
        r.insert("errorCode".into(), json!(""));
        r.insert("userIdentity".into(), Value::Null);
    }));
    assert_eq!(event.error_code, None);
    assert_eq!(event.user_identity, UserIdentity::default());
}

#[test]
fn missing_required_fields() {
    for field in ["eventTime", "eventSource", "eventName", "awsRegion"] {
        for value in [None, Some(Value::Null)] {
            let bad = edited(|r| match value {
                Some(v) => {
                    r.insert(field.into(), v);
                }
                None => {
                    r.remove(field);
                }
            });
            let (format, items) = collect(records_doc(&[bad, record(1)]).0);
            assert_eq!(format, DocumentFormat::Records);
            match &items[..] {
                [Item::Error(error), Item::Event(event, _)] => {
                    assert_eq!(error.kind, RecordErrorKind::Missing { field });
                    assert_eq!(error.location.byte_offset, 12);
                    assert_eq!(event.event_id.as_deref(), Some("id-1"));
                }
                other => panic!("{field}: {other:#?}"),
            }
        }
    }
}

#[test]
fn at_timestamp_stands_in_for_event_time() {
    let event = single_event(&edited(|r| {
        r.remove("eventTime");
        r.insert("@timestamp".into(), json!("2020-09-14T00:44:23.000Z"));
    }));
    assert_eq!(
        event.event_time,
        Timestamp::parse("2020-09-14T00:44:23Z").unwrap()
    );
    // eventTime wins when both are there.
    let event = single_event(&edited(|r| {
        r.insert("@timestamp".into(), json!("2020-09-14T00:44:23.000Z"));
    }));
    assert_eq!(
        event.event_time,
        Timestamp::parse("2023-07-10T11:42:00Z").unwrap()
    );
    let (_, items) = collect(edited(|r| {
        r.remove("eventTime");
        r.insert("@timestamp".into(), json!(1600044263));
    }));
    assert!(matches!(
        only_error(&items),
        RecordErrorKind::WrongType {
            field: "@timestamp",
            ..
        }
    ));
}

#[test]
fn invalid_event_time() {
    let long = format!("not a time {}", "x".repeat(100));
    let (_, items) = collect(edited(|r| {
        r.insert("eventTime".into(), json!(long));
    }));
    match only_error(&items) {
        RecordErrorKind::InvalidTime { value, error } => {
            assert_eq!(value, &long[..64]);
            assert_eq!(*error, TimeError::Malformed);
        }
        other => panic!("{other:?}"),
    }
    let (_, items) = collect(edited(|r| {
        r.insert("eventTime".into(), json!("1970-01-01T00:00:00Z"));
    }));
    assert!(matches!(
        only_error(&items),
        RecordErrorKind::InvalidTime {
            error: TimeError::OutOfRange,
            ..
        }
    ));
    // The cut lands on a character boundary.
    let (_, items) = collect(edited(|r| {
        r.insert("eventTime".into(), json!("é".repeat(40)));
    }));
    match only_error(&items) {
        RecordErrorKind::InvalidTime { value, .. } => assert_eq!(value, &"é".repeat(32)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_types_in_every_field_read() {
    type Edit = Box<dyn Fn(&mut serde_json::Map<String, Value>)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "eventTime",
            Box::new(|r| {
                r.insert("eventTime".into(), json!(1));
            }),
            "number",
        ),
        (
            "eventSource",
            Box::new(|r| {
                r.insert("eventSource".into(), json!({"a": [1]}));
            }),
            "object",
        ),
        (
            "eventName",
            Box::new(|r| {
                r.insert("eventName".into(), json!(["x"]));
            }),
            "array",
        ),
        (
            "awsRegion",
            Box::new(|r| {
                r.insert("awsRegion".into(), json!(true));
            }),
            "boolean",
        ),
        (
            "eventID",
            Box::new(|r| {
                r.insert("eventID".into(), json!(12));
            }),
            "number",
        ),
        (
            "recipientAccountId",
            Box::new(|r| {
                r.insert("recipientAccountId".into(), json!(111122223333u64));
            }),
            "number",
        ),
        (
            "eventType",
            Box::new(|r| {
                r.insert("eventType".into(), json!({}));
            }),
            "object",
        ),
        (
            "errorCode",
            Box::new(|r| {
                r.insert("errorCode".into(), json!(403));
            }),
            "number",
        ),
        (
            "userAgent",
            Box::new(|r| {
                r.insert("userAgent".into(), json!(5));
            }),
            "number",
        ),
        (
            "sourceIPAddress",
            Box::new(|r| {
                r.insert("sourceIPAddress".into(), json!([192, 0, 2, 1]));
            }),
            "array",
        ),
        (
            "eventCategory",
            Box::new(|r| {
                r.insert("eventCategory".into(), json!(false));
            }),
            "boolean",
        ),
        (
            "readOnly",
            Box::new(|r| {
                r.insert("readOnly".into(), json!({}));
            }),
            "object",
        ),
        (
            "userIdentity",
            Box::new(|r| {
                r.insert("userIdentity".into(), json!("x"));
            }),
            "string",
        ),
        (
            "userIdentity.type",
            Box::new(|r| {
                r["userIdentity"]["type"] = json!(1);
            }),
            "number",
        ),
        (
            "userIdentity.arn",
            Box::new(|r| {
                r["userIdentity"]["arn"] = json!(["arn"]);
            }),
            "array",
        ),
        (
            "userIdentity.accountId",
            Box::new(|r| {
                r["userIdentity"]["accountId"] = json!(1.5);
            }),
            "number",
        ),
        (
            "userIdentity.invokedBy",
            Box::new(|r| {
                r["userIdentity"]["invokedBy"] = json!({"x": null});
            }),
            "object",
        ),
    ];
    for (field, edit, found) in cases {
        let bad = edited(|r| edit(r));
        let (doc, spans) = records_doc(&[record(0), bad, record(2)]);
        let (_, items) = collect(&doc);
        match &items[..] {
            [Item::Event(..), Item::Error(error), Item::Event(next, _)] => {
                assert!(
                    matches!(&error.kind, RecordErrorKind::WrongType { field: f, found: x, .. } if *f == field && *x == found),
                    "{field}: {:?}",
                    error.kind
                );
                assert_eq!(
                    error.location,
                    Location {
                        record: 1,
                        byte_offset: spans[1].0 as u64
                    }
                );
                assert_eq!(next.event_id.as_deref(), Some("id-2"));
            }
            other => panic!("{field}: {other:#?}"),
        }
    }
}

#[test]
fn skipped_fields_may_have_any_type() {
    let event = single_event(&edited(|r| {
        r.insert("requestParameters".into(), json!("a string"));
        r.insert("responseElements".into(), json!([1, [2, {"x": null}]]));
        r.insert("tlsDetails".into(), json!(5));
        r.insert("resources".into(), json!({"ARN": 1}));
        r.insert("eventVersion".into(), json!(1.08));
    }));
    assert_eq!(event.event_id.as_deref(), Some("id-0"));
}

/// Account and region name the output's folders and files (`AWSLogs/<account>/…/<region>/`):
/// values AWS never writes are refused with the record's location, never turned into paths.
#[test]
fn account_and_region_must_be_what_aws_writes() {
    let hostile = [
        ("recipientAccountId", "../../../../tmp/x"),
        ("recipientAccountId", "1234567890123"),
        ("recipientAccountId", "/etc"),
        ("awsRegion", "../../x"),
        ("awsRegion", "us-east-1/../../x"),
        ("awsRegion", "."),
        ("awsRegion", "US-EAST-1"),
    ];
    for (field, value) in hostile {
        let doc = edited(|r| {
            r.insert(field.into(), Value::String(value.into()));
        });
        let (_, items) = collect(format!("{{\"Records\":[{doc},{}]}}", record(1)));
        let error = errors(&items)[0];
        assert_eq!(error.location.record, 0);
        assert_eq!(
            error.kind.to_string(),
            format!(
                "{field} {value:?} is not {}",
                if field == "awsRegion" {
                    "an AWS region name such as us-east-1"
                } else {
                    "an AWS account ID (12 digits)"
                }
            )
        );
        assert_eq!(events(&items).len(), 1, "the next record is still read");
    }
    // A crafted `userIdentity.accountId` is not used as the account either.
    let doc = edited(|r| {
        r.remove("recipientAccountId");
        r["userIdentity"]["accountId"] = Value::String("../x".into());
    });
    assert_eq!(single_event(&doc).account_id(), None);
}

#[test]
fn duplicate_keys_take_the_last_value() {
    let doc = r#"{"eventTime":"2023-07-10T11:42:00Z","eventSource":"a","eventName":"X","eventName":"Y","awsRegion":"eu-west-1"}"#;
    assert_eq!(single_event(doc).event_name, "Y");
}

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

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever happens to the bytes of a document: no panic, items numbered in order, offsets
    /// inside the document, and no record reported twice.
    #[test]
    fn mutated_documents_never_panic_or_repeat(
        shape in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
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
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => { bytes.remove(at); }
            }
        }
        let (_, items) = collect(&bytes);
        let mut ids = std::collections::HashSet::new();
        for item in &items {
            prop_assert!(item.location().byte_offset <= bytes.len() as u64);
            if let Item::Event(event, _) = item
                && let Some(id) = &event.event_id
                && id.starts_with("id-")
            {
                prop_assert!(ids.insert(id.to_string()), "{id} twice");
            }
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

//! Records files and the fields of one record: types, required fields, category rules.

use super::*;

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

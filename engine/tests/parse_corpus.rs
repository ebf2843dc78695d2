//! `parse_document` on real CloudTrail data (see `fixtures/corpus/SOURCES.md`). Expected counts
//! were computed independently with python3's `json` module.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;

use serde_json::{Value, json};
use trailsight_engine::event::EventCategory;
use trailsight_engine::parse::{DocumentFormat, ParsedItem, parse_document};
use trailsight_engine::time::Timestamp;

fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/corpus")
        .join(path);
    let raw = std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    if path.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

/// (eventID, readOnly, errorCode, userAgent, userIdentity.arn) of one event.
type EventKey = (
    String,
    Option<bool>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// What a document yielded, reduced to owned values and counts.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    events: usize,
    insights: Vec<String>,
    aggregated: usize,
    errors: Vec<String>,
    with_error_code: usize,
    read_only: BTreeMap<Option<bool>, usize>,
    event_types: BTreeMap<Option<String>, usize>,
    categories: BTreeMap<EventCategory, usize>,
    with_arn: usize,
    pairs: BTreeSet<(String, String)>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// (eventID, readOnly, errorCode, userAgent, arn) of each event, in order.
    keys: Vec<EventKey>,
}

fn tally(bytes: &[u8]) -> (DocumentFormat, Tally) {
    let mut t = Tally::default();
    let summary = parse_document(bytes, &mut |item| match item {
        ParsedItem::Event { event, .. } => {
            t.events += 1;
            t.with_error_code += usize::from(event.error_code.is_some());
            *t.read_only.entry(event.read_only).or_default() += 1;
            *t.event_types
                .entry(event.event_type.as_deref().map(str::to_owned))
                .or_default() += 1;
            *t.categories.entry(event.category).or_default() += 1;
            t.with_arn += usize::from(event.user_identity.arn.is_some());
            t.pairs
                .insert((event.event_source.to_string(), event.event_name.to_string()));
            t.first = t
                .first
                .min(Some(event.event_time))
                .or(Some(event.event_time));
            t.last = t.last.max(Some(event.event_time));
            t.keys.push((
                event.event_id.as_deref().unwrap_or_default().to_owned(),
                event.read_only,
                event.error_code.as_deref().map(str::to_owned),
                event.user_agent.as_deref().map(str::to_owned),
                event.user_identity.arn.as_deref().map(str::to_owned),
            ));
        }
        ParsedItem::Insight { json, .. } => t.insights.push(json.into_owned()),
        ParsedItem::Aggregated { .. } => t.aggregated += 1,
        ParsedItem::Error(error) => t.errors.push(error.to_string()),
    });
    (summary.format, t)
}

fn time(text: &str) -> Option<Timestamp> {
    Some(Timestamp::parse(text).unwrap())
}

const INVICTUS: [&str; 3] = [
    "invictus-aws_dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1215Z_YMDRJwtmC82bUwAo.json.gz",
    "invictus-aws_dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1225Z_4iD2boYSOwmb6sWd.json.gz",
    "invictus-aws_dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1230Z_AvIajGd5rkz6vTy4.json.gz",
];

#[test]
fn invictus_log_files() {
    // (records, with errorCode, readOnly true, readOnly false, AwsApiCall, AwsServiceEvent,
    //  AwsConsoleSignIn, with userIdentity.arn, distinct pairs, first, last)
    let expected = [
        (
            156,
            17,
            86,
            70,
            134,
            22,
            0,
            134,
            51,
            "2023-07-10T12:07:57Z",
            "2023-07-10T12:12:44Z",
        ),
        (
            12,
            4,
            11,
            1,
            11,
            0,
            1,
            12,
            8,
            "2023-07-10T12:19:38Z",
            "2023-07-10T12:24:28Z",
        ),
        (
            63,
            4,
            60,
            3,
            61,
            0,
            2,
            61,
            34,
            "2023-07-10T12:25:18Z",
            "2023-07-10T12:29:48Z",
        ),
    ];
    for (path, e) in INVICTUS.iter().zip(expected) {
        let (format, t) = tally(&fixture(path));
        assert_eq!(format, DocumentFormat::Records, "{path}");
        assert!(
            t.errors.is_empty() && t.insights.is_empty(),
            "{path}: {t:?}"
        );
        assert_eq!(t.events, e.0, "{path}");
        assert_eq!(t.with_error_code, e.1, "{path}");
        assert_eq!(
            t.read_only,
            BTreeMap::from([(Some(true), e.2), (Some(false), e.3)])
        );
        let types = |name: &str| {
            t.event_types
                .get(&Some(name.to_owned()))
                .copied()
                .unwrap_or(0)
        };
        assert_eq!(
            (
                types("AwsApiCall"),
                types("AwsServiceEvent"),
                types("AwsConsoleSignIn")
            ),
            (e.4, e.5, e.6),
            "{path}"
        );
        assert_eq!(
            t.categories,
            BTreeMap::from([(EventCategory::Management, e.0)])
        );
        assert_eq!(t.with_arn, e.7, "{path}");
        assert_eq!(t.pairs.len(), e.8, "{path}");
        assert_eq!((t.first, t.last), (time(e.9), time(e.10)), "{path}");
    }
}

fn invictus_records() -> Vec<Value> {
    INVICTUS
        .iter()
        .flat_map(|path| {
            let doc: Value = serde_json::from_slice(&fixture(path)).unwrap();
            doc["Records"].as_array().unwrap().clone()
        })
        .collect()
}

fn invictus_keys() -> Vec<EventKey> {
    INVICTUS
        .iter()
        .flat_map(|path| tally(&fixture(path)).1.keys)
        .collect()
}

/// The same records in every other format give the same events.
#[test]
fn invictus_records_in_other_formats() {
    let records = invictus_records();
    let expected = invictus_keys();
    assert_eq!(expected.len(), 231);

    let pretty = serde_json::to_string_pretty(&json!({ "Records": records })).unwrap();
    let array = serde_json::to_string(&records).unwrap();
    let lines: Vec<String> = records.iter().map(Value::to_string).collect();
    let lookup_elements: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut embedded = r.clone();
            let read_only = embedded
                .as_object_mut()
                .unwrap()
                .remove("readOnly")
                .unwrap();
            json!({
                "EventId": r["eventID"],
                "EventName": r["eventName"],
                "ReadOnly": read_only.to_string(),
                "EventTime": 1688991000.0,
                "EventSource": r["eventSource"],
                "Resources": [],
                "CloudTrailEvent": embedded.to_string(),
            })
        })
        .collect();
    let lookup = format!(
        r#"{{"NextToken":"x","Events":{}}}"#,
        serde_json::to_string_pretty(&lookup_elements).unwrap()
    );
    let envelopes: Vec<String> = records
        .iter()
        .map(|r| {
            json!({
                "version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail",
                "source": "aws.x", "account": "123837392027", "time": r["eventTime"],
                "region": "us-east-1", "resources": [], "detail": r,
            })
            .to_string()
        })
        .collect();
    let cloudwatch = json!({
        "messageType": "DATA_MESSAGE", "owner": "123837392027", "logGroup": "g",
        "logStream": "123837392027_CloudTrail_us-east-1", "subscriptionFilters": ["f"],
        "logEvents": records.iter().enumerate().map(|(i, r)| json!({
            "id": i.to_string(), "timestamp": 1688991000000u64, "message": r.to_string(),
        })).collect::<Vec<_>>(),
    })
    .to_string();

    let cases = [
        ("pretty", pretty, DocumentFormat::Records),
        ("array", array, DocumentFormat::JsonArray),
        ("lines", lines.join("\n"), DocumentFormat::JsonLines),
        ("lookup", lookup, DocumentFormat::LookupEvents),
        (
            "eventbridge lines",
            envelopes.join("\n"),
            DocumentFormat::JsonLines,
        ),
        (
            "eventbridge array",
            format!("[{}]", envelopes.join(",")),
            DocumentFormat::EventBridge,
        ),
        ("cloudwatch", cloudwatch, DocumentFormat::CloudWatchLogs),
    ];
    for (name, doc, format) in cases {
        let (got_format, t) = tally(doc.as_bytes());
        assert_eq!(got_format, format, "{name}");
        assert!(t.errors.is_empty(), "{name}: {:?}", t.errors);
        assert_eq!(t.keys, expected, "{name}");
    }
}

#[test]
fn otrf_logstash_json_lines() {
    let (format, t) = tally(&fixture(
        "otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json.gz",
    ));
    assert_eq!(format, DocumentFormat::JsonLines);
    assert!(t.errors.is_empty(), "{:?}", t.errors);
    assert_eq!(t.events, 103);
    assert_eq!(t.read_only, BTreeMap::from([(None, 90), (Some(true), 13)]));
    assert_eq!(
        t.categories,
        BTreeMap::from([(EventCategory::Management, 94), (EventCategory::Data, 9)])
    );
    assert_eq!(t.with_error_code, 0);
    assert_eq!(t.with_arn, 98);
    assert_eq!(t.pairs.len(), 26);
    // eventTime was replaced by @timestamp.
    assert_eq!(
        (t.first, t.last),
        (time("2020-09-14T00:44:20Z"), time("2020-09-14T01:13:20Z"))
    );
}

#[test]
fn permiso_trimmed_json_array() {
    let (format, t) = tally(&fixture(
        "permiso-cloudconsolecartographer/Tests/Sessions/05a71330a1dea36bac1f1e2ee421c7500821f6b791b8a73ecbc52677b14e1bff/InputEvents.json.gz",
    ));
    assert_eq!(format, DocumentFormat::JsonArray);
    assert!(t.errors.is_empty(), "{:?}", t.errors);
    assert_eq!(t.events, 26);
    // Cut down to 10 fields: no readOnly, eventType, eventCategory or userIdentity; errorCode
    // is null throughout.
    assert_eq!(t.read_only, BTreeMap::from([(None, 26)]));
    assert_eq!(t.event_types, BTreeMap::from([(None, 26)]));
    assert_eq!(
        t.categories,
        BTreeMap::from([(EventCategory::Management, 26)])
    );
    assert_eq!((t.with_error_code, t.with_arn), (0, 0));
    assert_eq!(t.pairs.len(), 11);
    assert_eq!(
        (t.first, t.last),
        (time("2023-11-30T07:15:50Z"), time("2023-11-30T07:19:17Z"))
    );
}

#[test]
fn insights_samples_jsonl() {
    let bytes = fixture("insights-samples/insights_samples.jsonl");
    let (format, t) = tally(&bytes);
    assert_eq!(format, DocumentFormat::JsonLines);
    assert!(t.errors.is_empty() && t.events == 0, "{t:?}");
    let lines: Vec<&str> = std::str::from_utf8(&bytes).unwrap().lines().collect();
    assert_eq!(t.insights.len(), 12);
    assert_eq!(t.insights, lines);
    // elastic/beats misspells insightContext; the record is still an Insights record.
    assert!(t.insights[0].contains("\"insffightContext\""));
    let provenance = String::from_utf8(fixture("insights-samples/provenance.tsv")).unwrap();
    assert_eq!(provenance.lines().count(), 1 + 12);
}

#[test]
fn insights_examples() {
    for (path, format, ids) in [
        (
            "insights-examples/2019-11-14_log-file_UpdateInstanceInformation_ApiCallRateInsight.json",
            DocumentFormat::Records,
            [
                "EXAMPLE8-9621-4d00-b913-beca2EXAMPLE",
                "EXAMPLEc-28be-486c-8928-49ce6EXAMPLE",
            ],
        ),
        (
            "insights-examples/2023-01-02_log-file_UpdateInstanceInformation_ApiCallRateInsight.json",
            DocumentFormat::Records,
            [
                "654a30ff-b0f3-4527-81b6-EXAMPLEf2393",
                "258de2fb-e2a9-4fb5-aeb2-EXAMPLE449a4",
            ],
        ),
        (
            "insights-examples/2024-12-11_lookup-events_DescribeQuery_ApiErrorRateInsight.json",
            DocumentFormat::LookupEvents,
            [
                "18378b1e-3653-433d-ba1e-aa11a5958f0c",
                "b32f10a0-f039-419a-bad7-e95468930a4f",
            ],
        ),
    ] {
        let bytes = fixture(path);
        let (got, t) = tally(&bytes);
        assert_eq!(got, format, "{path}");
        assert!(t.errors.is_empty() && t.events == 0, "{path}: {t:?}");
        let text = std::str::from_utf8(&bytes).unwrap();
        let source: Value = serde_json::from_str(text).unwrap();
        let wrapper = if format == DocumentFormat::Records {
            "Records"
        } else {
            "Events"
        };
        assert_eq!(t.insights.len(), 2, "{path}");
        for ((json, id), record) in t
            .insights
            .iter()
            .zip(ids)
            .zip(source[wrapper].as_array().unwrap())
        {
            // The exact text of the record, as it stands in the file.
            assert!(text.contains(json.as_str()), "{path}");
            assert_eq!(&serde_json::from_str::<Value>(json).unwrap(), record);
            assert_eq!(record["eventID"], id);
        }
    }
}

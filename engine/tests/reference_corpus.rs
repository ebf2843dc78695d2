//! The reference parser on every public Insights sample in `fixtures/corpus/` (see
//! `fixtures/corpus/SOURCES.md`): every record of every generation parses, each to the values
//! its text holds, whatever file shape it came in.

use std::path::PathBuf;

use serde_json::Value;
use trailsight_engine::event::EventCategory;
use trailsight_engine::parse::{ParsedItem, RecordErrorKind, parse_document};
use trailsight_engine::reference::{
    InsightSchema, ReferenceErrorKind, ReferenceInsight, SchemaNote, pair,
};
use trailsight_engine::{InsightState, InsightType};

fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/corpus")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The Insights records of a document, parsed; any other item fails the test.
fn references(bytes: &[u8]) -> Vec<ReferenceInsight> {
    let mut out = Vec::new();
    parse_document(bytes, &mut |item| match item {
        ParsedItem::Insight { json, location } => {
            out.push(ReferenceInsight::parse(&json).unwrap_or_else(|e| panic!("{location}: {e}")))
        }
        other => panic!("unexpected item {other:?}"),
    });
    out
}

/// A record's parsed form as JSON, numbers compared by value (`9.82222E-5` = `9.82222e-05`).
fn normalised(r: &ReferenceInsight) -> Value {
    serde_json::to_value(r).unwrap()
}

const JSONL: &str = "insights-samples/insights_samples.jsonl";

/// (state, eventSource, eventName, type, errorCode, baseline, insight, insightDuration,
/// baselineDuration, attributions) of each line of `insights_samples.jsonl`.
type Expected = (
    InsightState,
    &'static str,
    &'static str,
    InsightType,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<u64>,
    Option<u64>,
    Option<usize>,
);

#[test]
fn every_line_of_the_samples_file() {
    use InsightState::{End, Start};
    use InsightType::{ApiCallRateInsight as Call, ApiErrorRateInsight as Error};
    let expected: [Expected; 12] = [
        (
            End,
            "iam.amazonaws.com",
            "AttachUserPolicy",
            Call,
            None,
            None,
            None,
            None,
            None,
            None,
        ),
        (
            End,
            "s3.amazonaws.com",
            "GetBucketPolicy",
            Error,
            Some("NoSuchBucketPolicy"),
            Some("0.0021817492"),
            Some("1.3333333333"),
            Some(3),
            Some(10542),
            Some(2),
        ),
        (
            Start,
            "autoscaling.amazonaws.com",
            "CompleteLifecycleAction",
            Call,
            None,
            Some("8.82145e-05"),
            Some("0.6"),
            Some(5),
            Some(11336),
            Some(3),
        ),
        (
            Start,
            "ssm.amazonaws.com",
            "UpdateInstanceInformation",
            Call,
            None,
            Some("85.4202380952"),
            Some("664"),
            None,
            None,
            None,
        ),
        (
            End,
            "ssm.amazonaws.com",
            "UpdateInstanceInformation",
            Call,
            None,
            Some("85.4202380952"),
            Some("664"),
            Some(1),
            None,
            None,
        ),
        (
            Start,
            "autoscaling.amazonaws.com",
            "CompleteLifecycleAction",
            Call,
            None,
            Some("8.82145e-05"),
            Some("0.6"),
            Some(5),
            Some(11336),
            Some(3),
        ),
        (
            End,
            "autoscaling.amazonaws.com",
            "CompleteLifecycleAction",
            Call,
            None,
            Some("8.82145e-05"),
            Some("0.6"),
            Some(5),
            Some(11336),
            Some(3),
        ),
        (
            Start,
            "cloudtrail.amazonaws.com",
            "DescribeQuery",
            Error,
            Some("QueryIdNotFoundException"),
            Some("0"),
            Some("1.2"),
            Some(5),
            Some(11092),
            Some(2),
        ),
        (
            End,
            "cloudtrail.amazonaws.com",
            "DescribeQuery",
            Error,
            Some("QueryIdNotFoundException"),
            Some("0"),
            Some("6"),
            Some(1),
            Some(11092),
            Some(2),
        ),
        (
            Start,
            "autoscaling.amazonaws.com",
            "CompleteLifecycleAction",
            Call,
            None,
            Some("9.82222e-05"),
            Some("5.0"),
            Some(1),
            Some(10181),
            Some(2),
        ),
        (
            Start,
            "ssm.amazonaws.com",
            "UpdateInstanceInformation",
            Call,
            None,
            Some("84.410596421"),
            Some("669"),
            None,
            None,
            None,
        ),
        (
            End,
            "ssm.amazonaws.com",
            "UpdateInstanceInformation",
            Call,
            None,
            Some("74.156423842"),
            Some("657"),
            Some(1),
            None,
            None,
        ),
    ];
    let text = String::from_utf8(fixture(JSONL)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len());
    for (i, (line, e)) in lines.iter().zip(expected).enumerate() {
        let r = ReferenceInsight::parse(line).unwrap_or_else(|err| panic!("line {}: {err}", i + 1));
        let stats = r.statistics.as_ref();
        let number = |f: fn(
            &trailsight_engine::reference::ReportedStatistics,
        ) -> Option<&trailsight_engine::reference::ReportedNumber>| {
            stats.and_then(f).map(|n| n.text.as_str())
        };
        let got: Expected = (
            r.state,
            leak(&r.event_source),
            leak(&r.event_name),
            r.insight_type,
            r.error_code.as_deref().map(leak),
            number(|s| s.baseline_average.as_ref()).map(leak),
            number(|s| s.insight_average.as_ref()).map(leak),
            r.insight_duration(),
            r.baseline_duration(),
            r.attributions.as_ref().map(Vec::len),
        );
        assert_eq!(got, e, "line {}", i + 1);
        assert_eq!(r.schema, InsightSchema::Trail);
        assert!(r.account.is_some(), "line {}", i + 1);
        // Every value matches the record's own text.
        let original: Value = serde_json::from_str(line).unwrap();
        assert_eq!(r.event_id.as_deref(), original["eventID"].as_str());
        assert_eq!(
            Some(r.shared_event_id.as_str()),
            original["sharedEventID"].as_str()
        );
        assert_eq!(
            Some(r.event_time.to_string().as_str()),
            original["eventTime"].as_str()
        );
        if let Some(attributions) = &r.attributions {
            let listed = &original["insightDetails"]["insightContext"]["attributions"];
            for (a, o) in attributions.iter().zip(listed.as_array().unwrap()) {
                assert_eq!(a.attribute, o["attribute"].as_str().unwrap());
                for (window, list) in [("insight", &a.insight), ("baseline", &a.baseline)] {
                    let values = o[window].as_array().unwrap();
                    assert_eq!(list.len(), values.len());
                    for (v, o) in list.iter().zip(values) {
                        assert_eq!(v.value, o["value"].as_str().unwrap());
                        assert_eq!(v.average.value, o["average"].as_f64().unwrap());
                    }
                }
            }
        }
    }
    // Only the 2024 records carry sourceEventCategory.
    let eight = ReferenceInsight::parse(lines[7]).unwrap();
    assert_eq!(eight.source_event_category, Some(EventCategory::Management));
    // The real SEKOIA capture keeps an assumed role's session name in its baseline list and
    // writes AWS's 6-digit exponent form.
    let two = ReferenceInsight::parse(lines[1]).unwrap();
    let baseline = &two.attribution("userIdentityArn").unwrap().baseline;
    assert_eq!(
        baseline[1].value,
        "arn:aws:sts::1111111111:assumed-role/AWSServiceRoleForConfig/AWSConfig-Describe"
    );
    assert_eq!(baseline[1].average.text, "9.48587e-05");
    assert!(baseline[1].average.agrees_with(1.0 / 10542.0));
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

#[test]
fn the_elastic_typo_parses_without_statistics() {
    for bytes in [
        fixture("insights-samples/elastic-beats_insight-json.log"),
        fixture(JSONL)
            .split(|&b| b == b'\n')
            .next()
            .unwrap()
            .to_vec(),
    ] {
        let records = references(&bytes);
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(
            (r.state, r.event_name.as_str()),
            (InsightState::End, "AttachUserPolicy")
        );
        assert_eq!(r.statistics, None);
        assert_eq!(
            r.notes,
            vec![SchemaNote::NoInsightContext {
                unknown_keys: vec!["insffightContext".into()]
            }]
        );
    }
}

#[test]
fn per_source_files_parse_to_the_same_records_as_the_lines() {
    let text = String::from_utf8(fixture(JSONL)).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| normalised(&ReferenceInsight::parse(l).unwrap()))
        .collect();
    // (file, the jsonl lines it holds, in order)
    let files: [(&str, &[usize]); 5] = [
        (
            "insights-samples/sekoia-intake-formats_test_insight.record.json",
            &[2],
        ),
        ("insights-samples/elastic-beats_insight-json.log", &[1]),
        (
            "insights-samples/awsdocs-archived_insight_examples.json",
            &[3, 4, 5, 6, 7],
        ),
        (
            "insights-samples/aws-docs-current_insight_examples.json",
            &[8, 9, 10],
        ),
        (
            "insights-samples/tracecat_cloudtrail_insights.json",
            &[11, 12],
        ),
    ];
    for (file, expected) in files {
        let records = references(&fixture(file));
        let got: Vec<Value> = records.iter().map(normalised).collect();
        let want: Vec<Value> = expected.iter().map(|&n| lines[n - 1].clone()).collect();
        assert_eq!(got, want, "{file}");
    }
    // AWS's own upper-case exponent, kept as written.
    let current = references(&fixture(
        "insights-samples/aws-docs-current_insight_examples.json",
    ));
    let baseline = current[2]
        .statistics
        .as_ref()
        .unwrap()
        .baseline_average
        .as_ref()
        .unwrap();
    assert_eq!(baseline.text, "9.82222E-5");
    assert!(baseline.agrees_with(1.0 / 10181.0));
}

#[test]
fn the_documentation_example_files() {
    let files = [
        (
            "insights-examples/2019-11-14_log-file_UpdateInstanceInformation_ApiCallRateInsight.json",
            1,
        ),
        (
            "insights-examples/2023-01-02_log-file_UpdateInstanceInformation_ApiCallRateInsight.json",
            0,
        ),
        (
            "insights-examples/2024-12-11_lookup-events_DescribeQuery_ApiErrorRateInsight.json",
            1,
        ),
    ];
    for (file, pairs) in files {
        let records = references(&fixture(file));
        assert_eq!(records.len(), 2, "{file}");
        let pairing = pair(records);
        let complete = pairing
            .intervals
            .iter()
            .filter(|i| i.start.is_some() && i.end.is_some())
            .count();
        assert_eq!(complete, pairs, "{file}");
        assert!(pairing.problems.is_empty(), "{file}");
    }
}

#[test]
fn pairing_the_whole_samples_file() {
    let text = String::from_utf8(fixture(JSONL)).unwrap();
    let records: Vec<ReferenceInsight> = text
        .lines()
        .map(|l| ReferenceInsight::parse(l).unwrap())
        .collect();
    let pairing = pair(records);
    // Three pairs (2019 ssm, 2019 autoscaling, 2024 DescribeQuery) and six lone records.
    assert_eq!(pairing.intervals.len(), 9);
    let pairs: Vec<&str> = pairing
        .intervals
        .iter()
        .filter(|i| i.start.is_some() && i.end.is_some())
        .map(|i| i.shared_event_id.as_str())
        .collect();
    assert_eq!(
        pairs,
        [
            "EXAMPLE8-02b2-4e93-9aab-08ed47ea5fd3",
            "EXAMPLE2-1729-42f1-b735-5d8c0EXAMPLE",
            "fccb064f-dd07-4822-97c0-11115d8b91d4"
        ]
    );
    assert!(pairing.problems.is_empty());
    assert_eq!(pairing.duplicates, 0);
    // The SEKOIA End without its Start began insightDuration (3) minutes before it.
    let sekoia = pairing
        .intervals
        .iter()
        .find(|i| i.shared_event_id == "0a771801-c0cc-406d-a080-219de884f089")
        .unwrap();
    assert_eq!(
        sekoia.first_minute().unwrap().to_string(),
        "2022-09-05T07:42:00Z"
    );
    // 10542 = 10080 + 7h42m: the baseline ends where the insight starts.
    assert_eq!(10080 + 7 * 60 + 42, 10542);
    // The elastic End has no statistics, so no known start.
    let elastic = pairing
        .intervals
        .iter()
        .find(|i| i.shared_event_id == "e672c2b1-e71a-4779-f96c-02da7bb30d2e")
        .unwrap();
    assert_eq!(elastic.first_minute(), None);
}

#[test]
fn the_truncated_real_record_is_an_error_not_a_crash() {
    let text = String::from_utf8(fixture("insights-samples/fivexl-issue71_excerpt.txt")).unwrap();
    let json = text
        .split("----- verbatim excerpt -----\n")
        .nth(1)
        .and_then(|rest| rest.split("\n----- end of visible excerpt -----").next())
        .unwrap();
    assert!(json.contains("\"baselineDuration\": 10723"));
    let mut kinds = Vec::new();
    parse_document(json.as_bytes(), &mut |item| match item {
        ParsedItem::Error(e) => kinds.push(e.kind),
        other => panic!("unexpected item {other:?}"),
    });
    assert_eq!(kinds, vec![RecordErrorKind::Truncated]);
    let error = ReferenceInsight::parse(json).unwrap_err();
    assert!(
        matches!(error.kind, ReferenceErrorKind::Syntax { .. }),
        "{error}"
    );
}

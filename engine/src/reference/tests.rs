use serde_json::{Value, json};

use super::*;
use crate::event::EventCategory;
use crate::insight::{InsightState, InsightType};

/// AWS's 2024 DescribeQuery error-rate Start (documentation example), trail schema.
fn describe_query_start() -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": "2024-12-11T16:52:00Z", "awsRegion": "us-east-1",
        "eventID": "18378b1e-3653-433d-ba1e-aa11a5958f0c", "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": "888888888888",
        "sharedEventID": "fccb064f-dd07-4822-97c0-11115d8b91d4",
        "insightDetails": {
            "state": "Start", "eventSource": "cloudtrail.amazonaws.com",
            "eventName": "DescribeQuery", "insightType": "ApiErrorRateInsight",
            "errorCode": "QueryIdNotFoundException", "sourceEventCategory": "Management",
            "insightContext": {
                "statistics": {"baseline": {"average": 0}, "insight": {"average": 1.2},
                               "insightDuration": 5, "baselineDuration": 11092},
                "attributions": [
                    {"attribute": "userIdentityArn",
                     "insight": [{"value": "arn:aws:sts::888888888888:assumed-role/Admin", "average": 1.2}],
                     "baseline": []},
                    {"attribute": "userAgent", "insight": [{"value": "Mozilla/5.0", "average": 1.2}],
                     "baseline": []}
                ]
            }
        },
        "eventCategory": "Insight"
    })
}

/// The same record in CloudTrail Lake's flattened schema.
fn lake(record: &Value) -> Value {
    let d = &record["insightDetails"];
    let c = &d["insightContext"];
    let s = &c["statistics"];
    let mut out = json!({
        "eventVersion": record["eventVersion"], "eventCategory": "Insight",
        "eventType": "AwsCloudTrailInsight", "eventID": record["eventID"],
        "eventTime": record["eventTime"], "awsRegion": record["awsRegion"],
        "recipientAccountId": record["recipientAccountId"],
        "sharedEventID": record["sharedEventID"],
        "insightSource": "arn:aws:cloudtrail:us-east-1:888888888888:eventdatastore/EXAMPLE",
        "insightState": d["state"], "insightEventSource": d["eventSource"],
        "insightEventName": d["eventName"], "insightType": d["insightType"],
        "insightContext": {
            "baselineAverage": s["baseline"]["average"], "insightAverage": s["insight"]["average"],
            "baselineDuration": s["baselineDuration"], "insightDuration": s["insightDuration"],
            "attributions": c["attributions"]
        }
    });
    if let Some(code) = d.get("errorCode") {
        out["insightErrorCode"] = code.clone();
    }
    out
}

fn parse(value: &Value) -> ReferenceInsight {
    ReferenceInsight::parse(&value.to_string()).unwrap()
}

fn error(text: &str) -> ReferenceError {
    ReferenceInsight::parse(text).unwrap_err()
}

#[test]
fn trail_schema_with_every_field() {
    let r = parse(&describe_query_start());
    assert_eq!(r.schema, InsightSchema::Trail);
    assert_eq!(r.state, InsightState::Start);
    assert_eq!(r.event_time.to_string(), "2024-12-11T16:52:00Z");
    assert_eq!(r.account.as_deref(), Some("888888888888"));
    assert_eq!(r.insight_type, InsightType::ApiErrorRateInsight);
    assert_eq!(r.error_code.as_deref(), Some("QueryIdNotFoundException"));
    assert_eq!(r.source_event_category, Some(EventCategory::Management));
    let s = r.statistics.as_ref().unwrap();
    assert_eq!(s.baseline_average.as_ref().unwrap().text, "0");
    assert_eq!(s.insight_average.as_ref().unwrap().value, 1.2);
    assert_eq!(
        (s.insight_duration, s.baseline_duration),
        (Some(5), Some(11092))
    );
    let attributions = r.attributions.as_ref().unwrap();
    assert_eq!(attributions.len(), 2);
    assert_eq!(attributions[0].insight[0].average.text, "1.2");
    assert!(attributions[0].baseline.is_empty());
    assert!(r.notes.is_empty());
    assert_eq!(
        r.key().to_string(),
        "888888888888 us-east-1 cloudtrail.amazonaws.com DescribeQuery ApiErrorRateInsight QueryIdNotFoundException"
    );
}

#[test]
fn lake_schema_reads_the_same_insight() {
    let trail = parse(&describe_query_start());
    let lake = parse(&lake(&describe_query_start()));
    assert_eq!(lake.schema, InsightSchema::Lake);
    assert_eq!(lake.key(), trail.key());
    assert_eq!(lake.statistics, trail.statistics);
    assert_eq!(lake.attributions, trail.attributions);
    assert!(lake.insight_source.is_some());
    // Lake has no sourceEventCategory.
    assert_eq!(lake.source_event_category, None);
}

#[test]
fn lake_flat_attributions_give_the_top_values_only() {
    let mut record = lake(&describe_query_start());
    record["insightContext"]["attributions"] = json!([
        {"attribute": "userIdentityArn", "insightValue": "arn:aws:iam::1:user/a",
         "insightAverage": 1.2, "baselineValue": "arn:aws:iam::1:user/b", "baselineAverage": 0.5}
    ]);
    let r = parse(&record);
    let a = &r.attributions.as_ref().unwrap()[0];
    assert!(a.top_value_only);
    assert_eq!(a.insight[0].value, "arn:aws:iam::1:user/a");
    assert_eq!(a.baseline[0].average.value, 0.5);
    assert_eq!(
        r.notes,
        vec![SchemaNote::FlatAttributionOnly {
            attribute: "userIdentityArn".into()
        }]
    );
}

#[test]
fn misspelled_context_parses_without_statistics() {
    let mut record = describe_query_start();
    let details = record["insightDetails"].as_object_mut().unwrap();
    let context = details.remove("insightContext").unwrap();
    details.insert("insffightContext".into(), context);
    let r = parse(&record);
    assert_eq!(r.statistics, None);
    assert_eq!(r.attributions, None);
    assert_eq!(
        r.notes,
        vec![SchemaNote::NoInsightContext {
            unknown_keys: vec!["insffightContext".into()]
        }]
    );
    assert!(r.notes[0].to_string().contains("insffightContext"));
}

#[test]
fn numbers_keep_their_text_and_strings_of_numbers_are_read() {
    let mut record = describe_query_start();
    let stats = &mut record["insightDetails"]["insightContext"]["statistics"];
    stats["baseline"]["average"] = json!("PLACEHOLDER");
    stats["insightDuration"] = json!("5");
    // serde_json would re-print the number as 0.0000982222: write AWS's text by hand.
    let text = record.to_string().replace(r#""PLACEHOLDER""#, "9.82222E-5");
    let r = ReferenceInsight::parse(&text).unwrap();
    let s = r.statistics.unwrap();
    let baseline = s.baseline_average.unwrap();
    assert_eq!(baseline.text, "9.82222E-5");
    assert!(baseline.agrees_with(1.0 / 10181.0));
    assert_eq!(s.insight_duration, Some(5));
    assert_eq!(serde_json::to_string(&baseline).unwrap(), "9.82222E-5");
}

#[test]
fn old_records_without_optional_fields() {
    let r = parse(&json!({
        "eventVersion": "1.07", "eventTime": "2019-11-14T00:51:00Z", "awsRegion": "us-east-1",
        "sharedEventID": "EXAMPLE2-1729-42f1-b735-5d8c0EXAMPLE",
        "insightDetails": {"state": "Start", "eventSource": "ssm.amazonaws.com",
            "eventName": "UpdateInstanceInformation", "insightType": "ApiCallRateInsight",
            "insightContext": {"statistics": {"baseline": {"average": 85.4202380952},
                                              "insight": {"average": 664}}}}
    }));
    assert_eq!(r.account, None);
    assert_eq!(r.event_id, None);
    assert_eq!(r.insight_duration(), None);
    assert_eq!(r.baseline_duration(), None);
    assert_eq!(r.attributions, None);
    assert_eq!(r.statistics.unwrap().insight_average.unwrap().text, "664");
}

#[test]
fn errors_name_the_field() {
    let cases: Vec<(String, &str, &str)> = vec![
        ("not json".into(), "", "invalid JSON"),
        ("[1]".into(), "", "expected object, found array"),
        (
            json!({"eventTime": "2024-12-11T16:52:00Z", "sharedEventID": "x"}).to_string(),
            "awsRegion",
            "missing",
        ),
        (
            {
                let mut r = describe_query_start();
                r.as_object_mut().unwrap().remove("sharedEventID");
                r.to_string()
            },
            "sharedEventID",
            "missing",
        ),
        (
            {
                let mut r = describe_query_start();
                r["insightDetails"]["eventName"] = json!(42);
                r.to_string()
            },
            "insightDetails.eventName",
            "expected string, found number",
        ),
        (
            {
                let mut r = describe_query_start();
                r["insightDetails"]["state"] = json!("Middle");
                r.to_string()
            },
            "insightDetails.state",
            "is not Start or End",
        ),
        (
            {
                let mut r = describe_query_start();
                r["insightDetails"]["insightType"] = json!("ApiLatencyInsight");
                r.to_string()
            },
            "insightDetails.insightType",
            "is not ApiCallRateInsight or ApiErrorRateInsight",
        ),
        (
            {
                let mut r = describe_query_start();
                r["eventTime"] = json!("yesterday");
                r.to_string()
            },
            "eventTime",
            "not an ISO 8601",
        ),
        (
            {
                let mut r = describe_query_start();
                r["insightDetails"]["insightContext"]["statistics"]["insightDuration"] = json!(-5);
                r.to_string()
            },
            "insightDetails.insightContext.statistics.insightDuration",
            "whole number of minutes",
        ),
        (
            {
                let mut r = describe_query_start();
                r["insightDetails"]["insightContext"]["statistics"]["baselineDuration"] =
                    json!(1e12);
                r.to_string()
            },
            "insightDetails.insightContext.statistics.baselineDuration",
            "up to 1000000",
        ),
        (
            {
                let mut r = describe_query_start();
                r["insightDetails"]["insightContext"]["statistics"]["baseline"]["average"] =
                    json!({"x": 1});
                r.to_string()
            },
            "insightDetails.insightContext.statistics.baseline.average",
            "expected number, found object",
        ),
        (
            {
                let mut r = describe_query_start();
                r["insightDetails"]["insightContext"]["attributions"][1]["insight"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("average");
                r.to_string()
            },
            "insightDetails.insightContext.attributions[1].insight[0].average",
            "missing",
        ),
        (
            {
                let mut r = describe_query_start();
                r.as_object_mut().unwrap().remove("insightDetails");
                r.to_string()
            },
            "",
            "not an Insights record",
        ),
    ];
    for (text, field, message) in cases {
        let e = error(&text);
        assert_eq!(e.field, field, "{text}: {e}");
        assert!(e.to_string().contains(message), "{text}: {e}");
    }
}

#[test]
fn every_prefix_of_a_record_is_an_error_not_a_panic() {
    let text = describe_query_start().to_string();
    for end in 0..text.len() {
        if text.is_char_boundary(end) {
            assert!(ReferenceInsight::parse(&text[..end]).is_err(), "{end}");
        }
    }
}

#[test]
fn tolerance_follows_the_printed_precision() {
    let n = |text: &str| ReportedNumber {
        value: text.parse().unwrap(),
        text: text.into(),
    };
    assert!(n("9.48587e-05").agrees_with(1.0 / 10542.0));
    assert!(!n("9.48587e-05").agrees_with(2.0 / 10542.0));
    assert!(n("0.0021817492").agrees_with(23.0 / 10542.0));
    assert!(!n("0.0021817492").agrees_with(24.0 / 10542.0));
    assert!(n("154.063788119").agrees_with(1_652_026.0 / 10723.0));
    assert!(!n("154.063788119").agrees_with(1_652_027.0 / 10723.0));
    assert!(n("3574.5950413223").agrees_with(432_526.0 / 121.0));
    assert!(n("6").agrees_with(6.0));
    assert!(n("0").agrees_with(0.0));
    assert!(!n("0").agrees_with(1.0 / 11336.0));
    assert!(n("1.3333333333").agrees_with(4.0 / 3.0));
    assert_eq!(n("8.82145e-05").tolerance(), 1e-10);
}

fn with(record: &Value, edit: impl FnOnce(&mut Value)) -> ReferenceInsight {
    let mut record = record.clone();
    edit(&mut record);
    parse(&record)
}

#[test]
fn pairing_links_starts_and_ends_and_keeps_lone_records() {
    let start = describe_query_start();
    let end = |record: &mut Value| {
        record["eventID"] = json!("b32f10a0-f039-419a-bad7-e95468930a4f");
        record["eventTime"] = json!("2024-12-11T16:53:00Z");
        record["insightDetails"]["state"] = json!("End");
        record["insightDetails"]["insightContext"]["statistics"]["insightDuration"] = json!(1);
    };
    let other = |id: &str, state: &str, time: &str| {
        with(&start, |r| {
            r["sharedEventID"] = json!(id);
            r["eventID"] = json!(format!("{id}-{state}"));
            r["eventTime"] = json!(time);
            r["insightDetails"]["state"] = json!(state);
            r["insightDetails"]["insightContext"]["statistics"]["insightDuration"] = json!(3);
        })
    };
    let records = vec![
        with(&start, end),
        parse(&start),
        parse(&start), // the same record from a second source
        other("lone-end", "End", "2024-12-11T18:00:00Z"),
        other("lone-start", "Start", "2024-12-11T17:00:00Z"),
        with(&start, |r| {
            // Another record claiming to be the same Start.
            r["eventID"] = json!("ffffffff-0000-0000-0000-000000000000");
        }),
    ];
    let pairing = pair(records);
    assert_eq!(pairing.duplicates, 1);
    assert_eq!(pairing.problems.len(), 1, "{:?}", pairing.problems);
    assert!(
        matches!(&pairing.problems[0], PairingProblem::Conflict { kept: Some(k), .. } if k.starts_with("18378b1e"))
    );
    let spans: Vec<(String, String, String, bool, bool)> = pairing
        .intervals
        .iter()
        .map(|i| {
            let (a, b) = i.known_span();
            (
                i.shared_event_id.clone(),
                a.to_string(),
                b.to_string(),
                i.start.is_some(),
                i.end.is_some(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            (
                "fccb064f-dd07-4822-97c0-11115d8b91d4".into(),
                "2024-12-11T16:52:00Z".into(),
                "2024-12-11T16:53:00Z".into(),
                true,
                true
            ),
            // A lone Start covers its own insightDuration.
            (
                "lone-start".into(),
                "2024-12-11T17:00:00Z".into(),
                "2024-12-11T17:03:00Z".into(),
                true,
                false
            ),
            // A lone End starts insightDuration minutes before it.
            (
                "lone-end".into(),
                "2024-12-11T17:57:00Z".into(),
                "2024-12-11T18:00:00Z".into(),
                false,
                true
            ),
        ]
    );
    assert_eq!(
        pairing.intervals[2].first_minute().unwrap().to_string(),
        "2024-12-11T17:57:00Z"
    );
}

#[test]
fn a_start_and_end_of_different_series_are_not_paired() {
    let start = describe_query_start();
    let end = with(&start, |r| {
        r["eventID"] = json!("e");
        r["eventTime"] = json!("2024-12-11T16:53:00Z");
        r["insightDetails"]["state"] = json!("End");
        r["insightDetails"]["eventName"] = json!("GetQueryResults");
    });
    let pairing = pair(vec![parse(&start), end]);
    assert_eq!(pairing.intervals.len(), 2);
    assert!(
        matches!(&pairing.problems[..], [PairingProblem::Mismatch { reason, .. }] if reason.contains("GetQueryResults"))
    );
}

//! Behaviour of the detector through its public API: the documented AWS example, and each rule
//! of the model on hand-built trails.

mod support;

use support::{Call, jsonl, run, seconds};
use trailsight_engine::detector::Observation;
use trailsight_engine::time::{Minute, Timestamp};
use trailsight_engine::{Detector, EventBatch};
use trailsight_engine::{DetectorConfig, InsightState, InsightType};

const ASG: &str = "autoscaling.amazonaws.com";
const CLA: &str = "CompleteLifecycleAction";

/// AWS's documented example: one CompleteLifecycleAction call in the baseline, three calls in
/// five minutes from 2020-07-21T20:56Z. The trail starts at 2020-07-14T00:00Z (a read-only call
/// proves it was recording), and some later activity moves the clock past the burst.
fn seed_trail() -> Vec<Call> {
    let role =
        |n| format!("arn:aws:sts::012345678901:assumed-role/CodeDeployRole{n}/AutoScaling-{n}");
    let ua = "codedeploy.amazonaws.com";
    vec![
        Call::write(
            "2020-07-14T00:00:00Z",
            "ec2.amazonaws.com",
            "DescribeInstances",
        )
        .read(),
        Call::write("2020-07-16T09:12:40Z", ASG, CLA).by(&role(1), ua),
        Call::write("2020-07-21T20:56:10Z", ASG, CLA).by(&role(1), ua),
        Call::write("2020-07-21T20:58:30Z", ASG, CLA).by(&role(2), ua),
        Call::write("2020-07-21T21:00:59Z", ASG, CLA).by(&role(3), ua),
        Call::write(
            "2020-07-21T21:40:00Z",
            "ec2.amazonaws.com",
            "DescribeInstances",
        )
        .read(),
    ]
    .into_iter()
    .map(|c| c.in_account("838185438692", "us-east-1"))
    .collect()
}

#[test]
fn seed_example_reproduces_aws_numbers() {
    let (records, open, _) = run(DetectorConfig::default(), &seed_trail());
    assert!(open.is_empty(), "{open:?}");
    assert_eq!(records.len(), 2, "{}", jsonl(&records));
    let (start, end) = (&records[0], &records[1]);
    assert_eq!(start.state, InsightState::Start);
    assert_eq!(start.event_time.to_string(), "2020-07-21T20:56:00Z");
    assert_eq!(start.baseline.minutes, 11336);
    assert_eq!(start.baseline.to_string(), "0.0000882145");
    assert_eq!((start.insight.events, start.insight.minutes), (3, 5));
    assert_eq!(start.insight.to_string(), "0.6");
    assert_eq!(end.event_time.to_string(), "2020-07-21T21:01:00Z");
    assert_eq!((end.insight.events, end.insight.minutes), (3, 5));
    assert_eq!(end.shared_event_id, start.shared_event_id);
    assert_ne!(end.event_id, start.event_id);
    let json = start.to_json();
    for expected in [
        r#""attributions":[{"attribute":"userIdentityArn","insight":[{"value":"arn:aws:sts::012345678901:assumed-role/CodeDeployRole1","average":0.2},{"value":"arn:aws:sts::012345678901:assumed-role/CodeDeployRole2","average":0.2},{"value":"arn:aws:sts::012345678901:assumed-role/CodeDeployRole3","average":0.2}],"baseline":[{"value":"arn:aws:sts::012345678901:assumed-role/CodeDeployRole1","average":0.0000882145}]}"#,
        r#"{"attribute":"userAgent","insight":[{"value":"codedeploy.amazonaws.com","average":0.6}],"baseline":[{"value":"codedeploy.amazonaws.com","average":0.0000882145}]}"#,
        r#"{"attribute":"errorCode","insight":[{"value":"null","average":0.6}],"baseline":[{"value":"null","average":0.0000882145}]}]"#,
    ] {
        assert!(json.contains(expected), "missing {expected}\nin {json}");
    }
}

#[test]
fn seed_example_matches_golden_file() {
    let (records, _, _) = run(DetectorConfig::default(), &seed_trail());
    let golden = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/golden/seed-complete-lifecycle-action.jsonl"
    );
    let actual = jsonl(&records);
    if std::env::var_os("TRAILSIGHT_BLESS").is_some() {
        std::fs::write(golden, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(golden)
        .expect("golden file; run with TRAILSIGHT_BLESS=1 to create it");
    assert_eq!(actual, expected);
}

#[test]
fn nothing_before_a_full_baseline_window_is_covered() {
    // The same burst, but the trail only starts on 2020-07-14 at 00:01: the baseline window of a
    // start on 2020-07-21 begins at 00:00 on the 14th, one minute before the data.
    let mut trail = seed_trail();
    trail[0].seconds = seconds("2020-07-14T00:01:00Z");
    let (records, open, detector) = run(DetectorConfig::default(), &trail);
    assert!(records.is_empty() && open.is_empty(), "{}", jsonl(&records));
    assert_eq!(detector.stats().suppressed_cold_start, 1);
}

#[test]
fn open_insight_at_end_of_input_is_reported_not_closed() {
    let trail = &seed_trail()[..5];
    let (records, open, _) = run(DetectorConfig::default(), trail);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].state, InsightState::Start);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].start, "2020-07-21T20:56:00Z");
    assert_eq!(
        open[0].shared_event_id,
        records[0].shared_event_id.to_string()
    );
}

#[test]
fn duplicates_count_once() {
    let mut trail = seed_trail();
    let duplicate = trail[3].clone();
    trail.insert(5, duplicate);
    let (records, _, detector) = run(DetectorConfig::default(), &trail);
    assert_eq!(detector.stats().duplicates, 1);
    assert_eq!(records[0].insight.events, 3);
}

#[test]
fn order_within_the_allowed_lateness_does_not_matter() {
    let trail = seed_trail();
    let (expected, _, _) = run(DetectorConfig::default(), &trail);
    let mut reversed = trail.clone();
    reversed[2..5].reverse();
    let (actual, _, _) = run(DetectorConfig::default(), &reversed);
    assert_eq!(jsonl(&actual), jsonl(&expected));
}

#[test]
fn read_only_bursts_never_fire_call_rate() {
    let mut trail =
        vec![Call::write("2024-03-01T00:00:00Z", "s3.amazonaws.com", "ListBuckets").read()];
    for i in 0..500 {
        trail.push(
            Call::at_seconds(
                seconds("2024-03-10T12:00:00Z") + i,
                "s3.amazonaws.com",
                "ListBuckets",
            )
            .read(),
        );
    }
    trail.push(Call::write("2024-03-10T14:00:00Z", "s3.amazonaws.com", "ListBuckets").read());
    let (records, _, detector) = run(DetectorConfig::default(), &trail);
    assert!(records.is_empty(), "{}", jsonl(&records));
    assert_eq!(detector.stats().not_analysed.read_only, 502);
}

#[test]
fn error_storm_on_a_read_api_gives_an_error_rate_insight() {
    let api = ("ec2.amazonaws.com", "GetPasswordData");
    let mut trail = vec![Call::write("2024-03-01T00:00:00Z", api.0, api.1).read()];
    // A few errors of another code, and successful reads, every day: normal.
    for day in 1..=9 {
        let t = seconds(&format!("2024-03-{day:02}T08:00:00Z"));
        trail.push(
            Call::at_seconds(t, api.0, api.1)
                .read()
                .error("Client.DryRunOperation"),
        );
        trail.push(Call::at_seconds(t + 7, api.0, api.1).read());
    }
    let storm_at = seconds("2024-03-10T11:54:00Z");
    for i in 0..29 {
        trail.push(
            Call::at_seconds(storm_at + i * 2, api.0, api.1)
                .read()
                .error("Client.UnauthorizedOperation"),
        );
    }
    trail.push(
        Call::write(
            "2024-03-10T13:00:00Z",
            "ec2.amazonaws.com",
            "DescribeRegions",
        )
        .read(),
    );
    let (records, open, _) = run(DetectorConfig::default(), &trail);
    assert!(open.is_empty());
    assert_eq!(records.len(), 2, "{}", jsonl(&records));
    let start = &records[0];
    assert_eq!(start.insight_type, InsightType::ApiErrorRateInsight);
    assert_eq!(
        start.error_code.as_deref(),
        Some("Client.UnauthorizedOperation")
    );
    assert_eq!(start.event_time.to_string(), "2024-03-10T11:54:00Z");
    assert_eq!(start.baseline.events, 0);
    let kinds: Vec<_> = start
        .attributions
        .iter()
        .map(|a| a.attribute.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["userIdentityArn", "userAgent"],
        "error-rate insights have no errorCode attribution"
    );
    assert!(start.to_json().contains(
        r#""errorCode":"Client.UnauthorizedOperation","sourceEventCategory":"Management""#
    ));
    let end = &records[1];
    assert_eq!(end.event_time.to_string(), "2024-03-10T11:55:00Z");
    assert_eq!((end.insight.events, end.insight.minutes), (29, 1));
}

/// Deploy batches of 20-60 calls at a different time every day are normal; a batch of 400 is not.
#[test]
fn recurring_batches_are_normal_and_a_much_larger_one_is_not() {
    let api = ("ecs.amazonaws.com", "UpdateService");
    let mut trail = vec![Call::write("2024-03-01T00:00:00Z", api.0, api.1).read()];
    let mut rng = 7u64;
    let mut next = |bound: u64| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) % bound
    };
    for day in 1..=12 {
        let at = seconds(&format!("2024-03-{day:02}T00:00:00Z")) + 3600 * (6 + next(12) as i64);
        for i in 0..(20 + next(41) as i64) {
            trail.push(Call::at_seconds(at + i * 4, api.0, api.1));
        }
    }
    let (records, _, _) = run(DetectorConfig::default(), &trail);
    assert!(records.is_empty(), "{}", jsonl(&records));
    let burst = seconds("2024-03-13T03:00:00Z");
    for i in 0..400 {
        trail.push(Call::at_seconds(burst + i / 4, api.0, api.1));
    }
    trail.push(Call::write("2024-03-13T05:00:00Z", api.0, "DescribeServices").read());
    let (records, open, _) = run(DetectorConfig::default(), &trail);
    assert!(open.is_empty());
    assert_eq!(records.len(), 2, "{}", jsonl(&records));
    assert_eq!(records[0].event_time.to_string(), "2024-03-13T03:00:00Z");
}

#[test]
fn late_events_are_counted_but_do_not_start_insights() {
    let mut trail = seed_trail();
    // Move the burst after a clock jump of three hours that four events corroborate (one
    // alone would be held): its minutes are already decided.
    for second in 0..4 {
        let clock = Call::write(
            &format!("2020-07-22T00:00:0{second}Z"),
            "ec2.amazonaws.com",
            "DescribeInstances",
        )
        .read()
        .in_account("838185438692", "us-east-1");
        trail.insert(2, clock);
    }
    let (records, _, detector) = run(DetectorConfig::default(), &trail);
    assert!(records.is_empty(), "{}", jsonl(&records));
    assert_eq!(detector.stats().counted_late, 3);
}

#[test]
fn events_behind_the_dedup_horizon_are_not_counted() {
    let config = DetectorConfig {
        dedup_horizon_minutes: 120,
        ..DetectorConfig::default()
    };
    // Four events start the account-region's clock at 12:00 (fewer would be held).
    let clock = ["ListUsers", "GetUser", "ListRoles", "GetRole"]
        .map(|name| Call::write("2024-03-10T12:00:00Z", "iam.amazonaws.com", name).read());
    let late = Call::write("2024-03-10T08:59:00Z", "iam.amazonaws.com", "CreateUser");
    let mut detector = trailsight_engine::Detector::new(config).unwrap();
    let mut records = Vec::new();
    for call in &clock {
        assert!(matches!(
            detector.observe(&call.event()),
            Observation::NotAnalysed(_)
        ));
    }
    detector.advance(&mut records);
    assert_eq!(detector.observe(&late.event()), Observation::TooLate);
    assert_eq!(detector.stats().too_late, 1);
}

#[test]
fn disabled_override_silences_a_series() {
    let config: DetectorConfig = DetectorConfig {
        overrides: vec![trailsight_engine::KeyOverride {
            event_name: Some("Complete*".into()),
            enabled: Some(false),
            ..Default::default()
        }],
        ..DetectorConfig::default()
    };
    let (records, _, _) = run(config, &seed_trail());
    assert!(records.is_empty(), "{}", jsonl(&records));
}

/// Poisson counts from a fixed seed, by inversion: what a steady API does minute by minute.
struct Traffic(u64);

impl Traffic {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn poisson(&mut self, mean: f64) -> u32 {
        let (mut k, mut p, mut cdf, u) = (0u32, (-mean).exp(), (-mean).exp(), self.uniform());
        while u > cdf && k < 10_000 {
            k += 1;
            p *= mean / f64::from(k);
            cdf += p;
        }
        k
    }

    /// Calls at `mean` per minute over `minutes` minutes from `start`.
    fn calls(
        &mut self,
        start: i64,
        minutes: i64,
        mean: impl Fn(i64) -> f64,
        api: (&str, &str),
    ) -> Vec<Call> {
        let mut calls = Vec::new();
        for m in 0..minutes {
            let minute = start / 60 + m;
            for i in 0..self.poisson(mean(minute)) {
                calls.push(
                    Call::at_seconds(minute * 60 + i64::from(i % 60), api.0, api.1)
                        .id(format!("{}-{minute}-{i}", api.1)),
                );
            }
        }
        calls
    }
}

const MONDAY: &str = "2024-03-04T00:00:00Z";

/// A busy API with a working-hours peak, quiet weekends and a bigger Monday-morning peak, and a
/// nightly cron of 30 calls at 03:00: two weeks of it raise nothing.
#[test]
fn daily_and_weekly_rhythms_and_crons_are_normal() {
    let start = seconds(MONDAY);
    let mut traffic = Traffic(11);
    let rate = |minute: i64| {
        let (day, minute_of_day) = (
            minute.div_euclid(1440) - start / 86_400,
            minute.rem_euclid(1440),
        );
        let weekend = day % 7 >= 5;
        match (weekend, minute_of_day / 60) {
            (true, _) => 1.0,
            (false, 9) if day % 7 == 0 && minute_of_day % 60 < 30 => 30.0,
            (false, 8..=17) => 10.0,
            _ => 2.0,
        }
    };
    let mut trail = traffic.calls(
        start,
        14 * 1440,
        rate,
        ("ssm.amazonaws.com", "UpdateInstanceInformation"),
    );
    for day in 0..14 {
        let at = start + day * 86_400 + 3 * 3600;
        trail.extend((0..30).map(|i| {
            Call::at_seconds(at + i, "ec2.amazonaws.com", "CreateSnapshot")
                .id(format!("cron-{day}-{i}"))
        }));
    }
    trail.sort_by_key(|c| c.seconds);
    let (records, open, detector) = run(DetectorConfig::default(), &trail);
    assert!(detector.stats().counted > 80_000, "{:?}", detector.stats());
    assert!(records.is_empty() && open.is_empty(), "{}", jsonl(&records));
}

/// A quiet API called about once every five minutes goes to 30 times that for 45 minutes.
#[test]
fn sustained_moderate_increase_fires_and_ends_with_it() {
    let start = seconds(MONDAY);
    let mut traffic = Traffic(5);
    let surge_from = start / 60 + 9 * 1440 + 14 * 60; // day 9, 14:00
    let rate = |minute: i64| {
        if (surge_from..surge_from + 45).contains(&minute) {
            6.0
        } else {
            0.2
        }
    };
    let trail = traffic.calls(
        start,
        10 * 1440,
        rate,
        ("ssm.amazonaws.com", "PutParameter"),
    );
    let (records, open, _) = run(DetectorConfig::default(), &trail);
    assert!(open.is_empty());
    assert_eq!(records.len(), 2, "{}", jsonl(&records));
    let (first, last) = (records[0].event_time.0, records[1].event_time.0);
    assert!(
        (surge_from..surge_from + 5).contains(&first),
        "starts at {} for a surge at 14:00",
        records[0].event_time
    );
    assert!(
        (surge_from + 40..=surge_from + 46).contains(&last),
        "ends at {}",
        records[1].event_time
    );
    assert!(
        records[1].insight.events > 200,
        "{}",
        records[1].insight.events
    );
}

/// A level reached twice in the fourteen days before is normal even after those days' counts are
/// dropped (nine days on); fifteen days on, one of the two has been forgotten and it fires.
#[test]
fn a_batch_seen_twice_in_two_weeks_is_normal_and_forgotten_after() {
    let api = ("iam.amazonaws.com", "CreateRole");
    let trail_with_batch_on = |day: u32| {
        let mut trail = vec![Call::write("2024-03-01T00:00:00Z", api.0, "ListRoles").read()];
        for d in 1..=day {
            trail.push(Call::write(
                &format!("2024-03-{d:02}T09:00:00Z"),
                api.0,
                api.1,
            ));
        }
        for d in [2, 3, day] {
            let at = seconds(&format!("2024-03-{d:02}T10:00:00Z"));
            for i in 0..50 {
                trail.push(Call::at_seconds(at + i * 2, api.0, api.1));
            }
        }
        trail.push(Call::write(&format!("2024-03-{day:02}T12:00:00Z"), api.0, "ListRoles").read());
        trail.sort_by_key(|c| c.seconds);
        run(DetectorConfig::default(), &trail).0
    };
    let records = trail_with_batch_on(16);
    assert!(records.is_empty(), "{}", jsonl(&records));
    let records = trail_with_batch_on(17);
    assert_eq!(records.len(), 2, "{}", jsonl(&records));
    assert_eq!(records[0].event_time.to_string(), "2024-03-17T10:00:00Z");
}

/// One record dated far after the trail (a mis-dated export line, clock skew) moves no clock:
/// wherever it comes in the input, the records are those of the trail without it, it is
/// counted, and it is reported as held and, at the end, never corroborated.
#[test]
fn one_far_ahead_record_silences_nothing() {
    let trail = seed_trail();
    let (expected, expected_open, _) = run(DetectorConfig::default(), &trail);
    assert_eq!(expected.len(), 2, "{}", jsonl(&expected));
    let outlier =
        Call::write("2025-01-15T10:00:00Z", ASG, CLA).in_account("838185438692", "us-east-1");
    for at in 0..=trail.len() {
        let mut hostile = trail.clone();
        hostile.insert(at, outlier.clone());
        let (records, open, detector) = run(DetectorConfig::default(), &hostile);
        assert_eq!(jsonl(&records), jsonl(&expected), "outlier at {at}");
        assert_eq!(open, expected_open, "outlier at {at}");
        let stats = detector.stats();
        assert_eq!(stats.counted, 4 + 1, "outlier at {at}");
        assert_eq!(
            (stats.too_late, stats.held_at_finish),
            (0, 1),
            "outlier at {at}"
        );
        // Counted as held ahead of a running clock; before the clock starts (here: until four
        // of the burst's minutes agree) every minute waits the same way.
        assert_eq!(
            stats.held_ahead,
            u64::from(at == trail.len()),
            "outlier at {at}"
        );
    }
}

/// Issue 15 #6: a document delivered long after its events shows that the trail's events may
/// come that late, and the account-region's frontier then stays that far behind its clock, so
/// a later late document's events are still counted before their minutes are decided.
#[test]
fn delivery_lag_raises_the_lateness() {
    let document = |minute: &str, ids: std::ops::Range<usize>| -> Vec<u8> {
        let records: Vec<String> = ids
            .map(|i| {
                format!(
                    r#"{{"eventVersion":"1.09","eventTime":"2024-03-04T{minute}:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventID":"id-{i}","readOnly":false}}"#
                )
            })
            .collect();
        format!(r#"{{"Records":[{}]}}"#, records.join(",")).into_bytes()
    };
    let minute = |text: &str| Timestamp::parse(text).unwrap().minute();
    let late_counted = |first_delivered: Option<Minute>| {
        let mut detector = Detector::new(DetectorConfig::default()).unwrap();
        let mut records = Vec::new();
        let mut first = EventBatch::parse(&document("10:00", 0..4), detector.ingest_options());
        first.delivered = first_delivered;
        detector.observe_batch(&first);
        detector.advance(&mut records);
        let second = EventBatch::parse(&document("12:00", 4..8), detector.ingest_options());
        detector.observe_batch(&second);
        detector.advance(&mut records);
        // Delivered 80 minutes after its event, 75 behind the newest event.
        let third = EventBatch::parse(&document("10:45", 8..9), detector.ingest_options());
        detector.observe_batch(&third);
        detector.stats().counted_late
    };
    // Without delivery times the 60-minute lateness decided 10:45 before it came.
    assert_eq!(late_counted(None), 1);
    // The first document, delivered 90 minutes after its events, keeps the frontier 90 back.
    assert_eq!(late_counted(Some(minute("2024-03-04T11:30:00Z"))), 0);
}

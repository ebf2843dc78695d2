//! The state limits: hostile input with a million distinct names or user agents, oversized
//! strings, too many account-regions or event IDs. Memory stays bounded, nothing is counted twice,
//! and everything set aside is counted.

mod support;

use support::Call;
use trailsight_engine::detector::{DetectorStats, Observation};
use trailsight_engine::ingest::NotAnalysed;
use trailsight_engine::{Detector, DetectorConfig, InsightRecord, Limits};

const START: i64 = 1_709_510_400; // 2024-03-04T00:00:00Z

fn assert_adds_up(stats: &DetectorStats) {
    let na = &stats.not_analysed;
    assert_eq!(
        stats.events,
        stats.counted + stats.duplicates + stats.too_late + stats.in_the_future + na.total(),
        "{stats:?}"
    );
}

#[test]
fn a_million_distinct_event_names() {
    let mut detector = Detector::new(DetectorConfig::default()).unwrap();
    let mut records: Vec<InsightRecord> = Vec::new();
    let mut largest = 0;
    for i in 0..1_000_000i64 {
        let call = Call::at_seconds(START + i / 3, "evil.amazonaws.com", &format!("Action{i}"))
            .id(format!("{i:032x}"));
        detector.observe(&call.event());
        if i % 10_000 == 0 {
            detector.advance(&mut records);
            largest = largest.max(detector.state_size().bytes);
        }
    }
    detector.finish(&mut records);
    let stats = detector.stats();
    assert_adds_up(stats);
    let limits = Limits::default();
    let size = detector.state_size();
    assert_eq!(size.series, limits.max_series_per_account_region);
    assert_eq!(stats.counted, limits.max_series_per_account_region as u64);
    assert_eq!(stats.not_analysed.over_limit, 1_000_000 - stats.counted);
    assert!(largest < 200 << 20, "state grew to {largest} bytes");
    assert!(size.strings <= limits.max_strings);
}

#[test]
fn a_million_distinct_user_agents_are_lumped_once_the_table_is_full() {
    let config = DetectorConfig {
        limits: Limits {
            max_strings: 50_000,
            ..Limits::default()
        },
        ..DetectorConfig::default()
    };
    let mut detector = Detector::new(config).unwrap();
    let mut records = Vec::new();
    for i in 0..1_000_000i64 {
        let mut call = Call::at_seconds(START + i / 2, "ssm.amazonaws.com", "PutParameter")
            .id(format!("{i:032x}"));
        call.user_agent = Some(format!("agent/{i}"));
        detector.observe(&call.event());
        if i % 10_000 == 0 {
            detector.advance(&mut records);
            assert!(detector.state_size().strings <= 50_000);
        }
    }
    detector.finish(&mut records);
    let stats = detector.stats();
    assert_adds_up(stats);
    assert_eq!(stats.counted, 1_000_000, "every call still counts");
    assert!(stats.limits.values_lumped > 900_000, "{:?}", stats.limits);
}

#[test]
fn oversized_strings() {
    let mut detector = Detector::new(DetectorConfig::default()).unwrap();
    let long_name = "A".repeat(3000);
    let call = Call::at_seconds(START, "iam.amazonaws.com", &long_name);
    assert_eq!(
        detector.observe(&call.event()),
        Observation::NotAnalysed(NotAnalysed::OverLimit)
    );
    let mut call = Call::at_seconds(START, "iam.amazonaws.com", "CreateUser").id("x");
    call.user_agent = Some("é".repeat(2000)); // 4000 bytes, cut on a character boundary
    assert_eq!(
        detector.observe(&call.event()),
        Observation::Counted { late: false }
    );
    assert_eq!(detector.stats().limits.values_cut, 1);
    assert_adds_up(detector.stats());
}

#[test]
fn too_many_account_regions() {
    let config = DetectorConfig {
        limits: Limits {
            max_account_regions: 3,
            ..Limits::default()
        },
        ..DetectorConfig::default()
    };
    let mut detector = Detector::new(config).unwrap();
    let regions = [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
    ];
    for (i, region) in regions.iter().enumerate() {
        let call = Call::at_seconds(START, "iam.amazonaws.com", "CreateUser")
            .in_account("111122223333", region)
            .id(format!("{i}"));
        let expected = if i < 3 {
            Observation::Counted { late: false }
        } else {
            Observation::NotAnalysed(NotAnalysed::OverLimit)
        };
        assert_eq!(detector.observe(&call.event()), expected, "{region}");
    }
    assert_eq!(detector.state_size().partitions, 3);
    assert_adds_up(detector.stats());
}

/// With room for 1,000 event IDs, the oldest minutes are forgotten early; a copy of a forgotten
/// event is then too late, never counted twice.
#[test]
fn event_ids_at_capacity_are_forgotten_oldest_first() {
    let config = DetectorConfig {
        limits: Limits {
            max_event_ids_per_account_region: 1000,
            ..Limits::default()
        },
        ..DetectorConfig::default()
    };
    let mut detector = Detector::new(config).unwrap();
    let calls: Vec<Call> = (0..5000i64)
        .map(|i| {
            Call::at_seconds(START + i, "ssm.amazonaws.com", "PutParameter").id(format!("{i:032x}"))
        })
        .collect();
    for call in &calls {
        assert_eq!(
            detector.observe(&call.event()),
            Observation::Counted { late: false }
        );
    }
    let stats = detector.stats().clone();
    assert!(
        stats.limits.event_ids_forgotten >= 4000,
        "{:?}",
        stats.limits
    );
    assert_eq!(
        detector.observe(&calls[10].event()),
        Observation::TooLate,
        "forgotten: too late, not counted again"
    );
    assert_eq!(
        detector.observe(&calls[4999].event()),
        Observation::Duplicate,
        "still remembered"
    );
    let restored = Detector::restore(&detector.snapshot()).unwrap();
    let mut restored = restored;
    assert_eq!(
        restored.observe(&calls[11].event()),
        Observation::TooLate,
        "the floor survives a checkpoint"
    );
    assert_adds_up(restored.stats());
}

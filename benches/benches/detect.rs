//! Attribution counts and the whole detect path on an in-memory simulated trail:
//! `{"Records":[...]}` documents of 300 records (a CloudTrail file), each parsed into an
//! `EventBatch`, counted into the detector and followed by `advance`, as `trailsight detect`
//! does per file.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use trailsight_benches::{documents, trail};
use trailsight_engine::attribution::{AttrValue, RecentMinutes, ValueCounts};
use trailsight_engine::insight::AttributeKind;
use trailsight_engine::intern::Interner;
use trailsight_engine::time::Minute;
use trailsight_engine::{Detector, DetectorConfig, EventBatch, IngestOptions};

fn attribution(c: &mut Criterion) {
    // A day of one account-region, about 100 000 calls; full ARNs, session names included.
    let input = trail(100_000, 1.0, 1, 11).events();
    let mut interner = Interner::new();
    let mut values: Vec<(Minute, [AttrValue; 3])> = input
        .iter()
        .map(|e| {
            let arn = e.identity_attribution(true);
            (
                e.minute(),
                [
                    AttrValue::new(AttributeKind::UserIdentityArn, interner.intern(arn)),
                    AttrValue::new(
                        AttributeKind::UserAgent,
                        interner.intern(e.user_agent_attribution()),
                    ),
                    AttrValue::new(
                        AttributeKind::ErrorCode,
                        interner.intern(e.error_code_attribution()),
                    ),
                ],
            )
        })
        .collect();
    values.sort_by_key(|(minute, _)| *minute);
    let mut group = c.benchmark_group("engine::attribution");
    // Short runs: the whole `cargo bench` stays within a few minutes on two busy cores.
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(20);
    group.throughput(Throughput::Elements(values.len() as u64));
    group.bench_function("RecentMinutes::add", |b| {
        b.iter(|| {
            let mut recent = RecentMinutes::default();
            for (minute, v) in &values {
                recent.add(*minute, v);
            }
            recent
        })
    });
    let mut recent = RecentMinutes::default();
    for (minute, v) in &values {
        recent.add(*minute, v);
    }
    let (first, last) = (values[0].0, values[values.len() - 1].0);
    group.throughput(Throughput::Elements(1));
    group.bench_function("one-day window: accumulate+top", |b| {
        b.iter(|| {
            let mut counts = ValueCounts::default();
            let events = recent.accumulate(first, Minute(last.0 + 1), &mut counts);
            let top = counts.top(AttributeKind::UserIdentityArn, 1440, &interner);
            (events, top)
        })
    });
    group.finish();
}

fn detect(c: &mut Criterion) {
    let mut group = c.benchmark_group("detect path (in memory)");
    // Short runs: the whole `cargo bench` stays within a few minutes on two busy cores.
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(10);
    // One account-region (83 API series), and seven (581 series in seven partitions).
    for (label, accounts) in [("9d-200k-1account", 1), ("9d-200k-7accounts", 7)] {
        let trail = trail(200_000, 9.0, accounts, 5);
        let documents = documents(&trail, 300);
        let options = IngestOptions::new(&DetectorConfig::default());
        group.throughput(Throughput::Elements(trail.record_count() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &documents, |b, docs| {
            b.iter(|| {
                let mut detector = Detector::new(DetectorConfig::default()).expect("valid config");
                let mut records = Vec::new();
                for doc in docs {
                    let batch = EventBatch::parse(doc, &options);
                    detector.observe_batch(&batch);
                    detector.advance(&mut records);
                }
                detector.finish(&mut records);
                records.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, attribution, detect);
criterion_main!(benches);

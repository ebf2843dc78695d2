//! Attribution counts and the whole detect path on an in-memory trail: `{"Records":[...]}`
//! documents of 300 records (a CloudTrail file), each parsed into an `EventBatch`, counted into
//! the detector and followed by `advance`, as `trailsight detect` does per file.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use trailsight_benches::{events, records_document};
use trailsight_engine::attribution::{AttrValue, RecentMinutes, ValueCounts};
use trailsight_engine::insight::AttributeKind;
use trailsight_engine::intern::Interner;
use trailsight_engine::time::Minute;
use trailsight_engine::{Detector, DetectorConfig, EventBatch, IngestOptions};

fn attribution(c: &mut Criterion) {
    let input = events(100_000, 1, 60, 11);
    let mut interner = Interner::new();
    let values: Vec<(Minute, [AttrValue; 3])> = input
        .iter()
        .map(|e| {
            let error = e.error.unwrap_or("null");
            (
                Minute(e.seconds.div_euclid(60)),
                [
                    AttrValue::new(AttributeKind::UserIdentityArn, interner.intern(&e.arn)),
                    AttrValue::new(AttributeKind::UserAgent, interner.intern(e.user_agent)),
                    AttrValue::new(AttributeKind::ErrorCode, interner.intern(error)),
                ],
            )
        })
        .collect();
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
    for (label, n, apis) in [
        ("9d-200k-60apis", 200_000, 60),
        ("9d-200k-600apis", 200_000, 600),
    ] {
        let documents: Vec<Vec<u8>> = events(n, 9, apis, 5)
            .chunks(300)
            .map(records_document)
            .collect();
        let options = IngestOptions::new(&DetectorConfig::default());
        group.throughput(Throughput::Elements(n as u64));
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

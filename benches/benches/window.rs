//! The window core and detector: a simulated trail's events counted per second, with the clock
//! advanced as `trailsight detect` does (after every file, here every 300 events).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use trailsight_benches::trail;
use trailsight_engine::window::MinuteCounts;
use trailsight_engine::{Detector, DetectorConfig};

fn detector(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine::Detector::observe+advance");
    // Short runs: the whole `cargo bench` stays within a few minutes on two busy cores.
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(10);
    // One account-region (83 API series), and seven (581 series in seven partitions).
    for (label, accounts) in [("9d-200k-1account", 1), ("9d-200k-7accounts", 7)] {
        let input = trail(200_000, 9.0, accounts, 7).events();
        group.throughput(Throughput::Elements(input.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &input, |b, input| {
            b.iter(|| {
                let mut detector = Detector::new(DetectorConfig::default()).expect("valid config");
                let mut records = Vec::new();
                for chunk in input.chunks(300) {
                    for e in chunk {
                        detector.observe(e);
                    }
                    detector.advance(&mut records);
                }
                detector.finish(&mut records);
                records.len()
            })
        });
    }
    group.finish();
}

fn minute_counts(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine::window::MinuteCounts");
    // Short runs: the whole `cargo bench` stays within a few minutes on two busy cores.
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    let minutes: Vec<i64> = (0..100_000)
        .map(|i| 28_000_000 + (i * 7919) % (9 * 1440))
        .collect();
    group.throughput(Throughput::Elements(minutes.len() as u64));
    group.bench_function("add", |b| {
        b.iter(|| {
            let mut counts = MinuteCounts::new();
            for &m in &minutes {
                counts.add(trailsight_engine::time::Minute(m), 1);
            }
            counts
        })
    });
    group.finish();
}

criterion_group!(benches, detector, minute_counts);
criterion_main!(benches);

//! Parsing: a CloudTrail log file (`{"Records":[...]}` of realistic ~1.3 KB records) to items
//! and to an `EventBatch`, and gzip decompression plus parsing, in bytes of JSON per second.

use std::io::{Read, Write};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use trailsight_benches::{events, records_document};
use trailsight_engine::parse::{ParsedItem, parse_document};
use trailsight_engine::{DetectorConfig, EventBatch, IngestOptions};

fn parse(c: &mut Criterion) {
    let document = records_document(&events(5_000, 1, 60, 3));
    let options = IngestOptions::new(&DetectorConfig::default());
    let mut group = c.benchmark_group("engine::parse");
    group.throughput(Throughput::Bytes(document.len() as u64));
    group.bench_with_input(
        BenchmarkId::new("parse_document", "5000-records"),
        &document,
        |b, doc| {
            b.iter(|| {
                let mut events = 0usize;
                parse_document(doc, &mut |item| {
                    events += usize::from(matches!(item, ParsedItem::Event { .. }))
                });
                events
            })
        },
    );
    group.bench_with_input(
        BenchmarkId::new("EventBatch::parse", "5000-records"),
        &document,
        |b, doc| b.iter(|| EventBatch::parse(doc, &options).analysed()),
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&document).expect("in memory");
    let compressed = gz.finish().expect("in memory");
    group.bench_with_input(
        BenchmarkId::new("gunzip+EventBatch::parse", "5000-records"),
        &compressed,
        |b, gz| {
            let mut buf = Vec::with_capacity(document.len());
            b.iter(|| {
                buf.clear();
                flate2::read::GzDecoder::new(&gz[..])
                    .read_to_end(&mut buf)
                    .expect("valid gzip");
                EventBatch::parse(&buf, &options).analysed()
            })
        },
    );
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);

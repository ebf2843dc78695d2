//! Parsing: a CloudTrail log file (`{"Records":[...]}` of 5,000 simulated records) to items
//! (the fast path and the serde reference path) and to an `EventBatch`, in bytes of JSON and in
//! records per second; gzip decompression with each backend trailsight could use; and
//! decompression plus parsing, the floor of `trailsight detect`.

use std::io::{Read, Write};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use trailsight_benches::{documents, trail};
use trailsight_engine::parse::{
    DocumentSummary, ParsedItem, parse_document, parse_document_reference,
};
use trailsight_engine::{DetectorConfig, EventBatch, IngestOptions};

const RECORDS: usize = 5_000;

/// `parse_document` or `parse_document_reference`.
type ParseFn = fn(&[u8], &mut dyn for<'x> FnMut(ParsedItem<'x>)) -> DocumentSummary;

fn count_events(parse: ParseFn, doc: &[u8]) -> usize {
    let mut events = 0usize;
    parse(doc, &mut |item| {
        events += usize::from(matches!(item, ParsedItem::Event { .. }))
    });
    events
}

/// The first `RECORDS` records of a simulated day, in one document.
fn document() -> Vec<u8> {
    // About a thousand records more than needed, so that the first document is full.
    let trail = trail(RECORDS + 1_000, 1.0, 1, 3);
    documents(&trail, RECORDS).swap_remove(0)
}

fn parse(c: &mut Criterion) {
    let document = document();
    let options = IngestOptions::new(&DetectorConfig::default());
    let mut group = c.benchmark_group("engine::parse");
    // Short runs: the whole `cargo bench` stays within a few minutes on two busy cores.
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(20);
    for (unit, throughput) in [
        ("MB", Throughput::Bytes(document.len() as u64)),
        ("records", Throughput::Elements(RECORDS as u64)),
    ] {
        group.throughput(throughput);
        group.bench_with_input(
            BenchmarkId::new("parse_document", unit),
            &document,
            |b, doc| b.iter(|| count_events(parse_document, doc)),
        );
        group.bench_with_input(
            BenchmarkId::new("parse_document_reference", unit),
            &document,
            |b, doc| b.iter(|| count_events(parse_document_reference, doc)),
        );
    }
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_with_input(
        BenchmarkId::new("EventBatch::parse", "records"),
        &document,
        |b, doc| b.iter(|| EventBatch::parse(doc, &options).analysed()),
    );
    group.finish();
}

fn gunzip(c: &mut Criterion) {
    let document = document();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&document).expect("in memory");
    let compressed = gz.finish().expect("in memory");
    let mut group = c.benchmark_group("gunzip");
    // Short runs: the whole `cargo bench` stays within a few minutes on two busy cores.
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(20);
    // Throughput in bytes of JSON out, as the decompression rates in docs/benchmarks.md.
    group.throughput(Throughput::Bytes(document.len() as u64));
    let mut buf = Vec::with_capacity(document.len());
    group.bench_function("flate2-zlib-rs", |b| {
        b.iter(|| {
            buf.clear();
            flate2::read::GzDecoder::new(&compressed[..])
                .read_to_end(&mut buf)
                .expect("valid gzip")
        })
    });
    group.bench_function("miniz_oxide", |b| {
        b.iter(|| {
            // The gzip header of flate2's encoder is 10 bytes; the trailer 8.
            let raw = &compressed[10..compressed.len() - 8];
            miniz_oxide::inflate::decompress_to_vec_with_limit(raw, document.len())
                .expect("valid deflate")
                .len()
        })
    });
    let mut out = vec![0u8; document.len()];
    let mut libdeflate = libdeflater::Decompressor::new();
    group.bench_function("libdeflater", |b| {
        b.iter(|| {
            libdeflate
                .gzip_decompress(&compressed, &mut out)
                .expect("valid gzip")
        })
    });
    group.finish();

    let options = IngestOptions::new(&DetectorConfig::default());
    let mut group = c.benchmark_group("gunzip+parse");
    // Short runs: the whole `cargo bench` stays within a few minutes on two busy cores.
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(20);
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("libdeflater+parse_document", |b| {
        b.iter(|| {
            let mut out = vec![0u8; document.len()];
            libdeflate
                .gzip_decompress(&compressed, &mut out)
                .expect("valid gzip");
            count_events(parse_document, &out)
        })
    });
    group.bench_function("libdeflater+EventBatch::parse", |b| {
        b.iter(|| {
            let mut out = vec![0u8; document.len()];
            libdeflate
                .gzip_decompress(&compressed, &mut out)
                .expect("valid gzip");
            EventBatch::parse(&out, &options).analysed()
        })
    });
    group.bench_function("flate2-zlib-rs+parse_document_reference", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(document.len());
            flate2::read::GzDecoder::new(&compressed[..])
                .read_to_end(&mut out)
                .expect("valid gzip");
            count_events(parse_document_reference, &out)
        })
    });
    group.finish();
}

criterion_group!(benches, parse, gunzip);
criterion_main!(benches);

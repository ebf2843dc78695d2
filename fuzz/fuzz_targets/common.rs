#![allow(dead_code)] // each target uses part of it
//! The properties every reader target checks, whatever the bytes.

use trailsight_engine::parse::{ParsedItem, parse_document};
use trailsight_engine::{DetectorConfig, EventBatch, IngestOptions};

/// Parses `bytes` and checks: items come in document order, locations stay inside the
/// document, each record is reported once, and the batch form agrees with the item stream.
pub fn check_document(bytes: &[u8]) {
    let mut last = None;
    let mut events = 0u64;
    let mut errors = 0usize;
    let mut insights = 0usize;
    parse_document(bytes, &mut |item| {
        let location = match &item {
            ParsedItem::Event { location, .. } => {
                events += 1;
                *location
            }
            ParsedItem::Insight { location, .. } => {
                insights += 1;
                *location
            }
            ParsedItem::Aggregated { location } => *location,
            ParsedItem::Error(error) => {
                errors += 1;
                error.location
            }
        };
        assert!(
            location.byte_offset <= bytes.len() as u64,
            "{location:?} beyond {}",
            bytes.len()
        );
        if let Some(previous) = last {
            assert!(
                location.record >= previous,
                "record {} after {previous}",
                location.record
            );
        }
        last = Some(location.record);
    });
    let batch = EventBatch::parse(bytes, &IngestOptions::new(&DetectorConfig::default()));
    assert_eq!(batch.events_parsed, events);
    assert_eq!(batch.errors.len(), errors);
    assert_eq!(batch.insights.len(), insights);
}

/// `text` as a JSON string literal, for embedding fuzz input in a wrapper's string field.
pub fn json_string(bytes: &[u8]) -> String {
    serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()).to_string()
}

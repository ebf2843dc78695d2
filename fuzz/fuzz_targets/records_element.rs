//! Fuzz input as the elements of a CloudTrail log file's `Records` array, between two valid
//! records: the array walk, record fields, lenient types and resynchronisation.
#![no_main]

mod common;

const GOOD: &str = r#"{"eventVersion":"1.09","eventTime":"2024-03-04T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","eventID":"2df05a9f-0f79-42d3-b5d5-f5cc6c312fb1","readOnly":false}"#;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut document = format!("{{\"Records\":[{GOOD},").into_bytes();
    document.extend_from_slice(data);
    document.extend_from_slice(format!(",{GOOD}]}}").as_bytes());
    common::check_document(&document);
});

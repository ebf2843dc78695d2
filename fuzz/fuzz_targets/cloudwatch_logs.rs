//! Fuzz input as the `message` of CloudWatch Logs subscription log events.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let message = common::json_string(data);
    let document = format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{{"id":"1","timestamp":0,"message":{message}}},{{"id":"2","timestamp":0,"message":{message}}}]}}"#
    );
    common::check_document(document.as_bytes());
});

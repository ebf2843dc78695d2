//! Fuzz input as the `detail` of EventBridge events, alone, in an array and as JSON lines.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let detail = String::from_utf8_lossy(data);
    let envelope = format!(
        r#"{{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{detail}}}"#
    );
    common::check_document(envelope.as_bytes());
    common::check_document(format!("[{envelope},{envelope}]").as_bytes());
    common::check_document(format!("{envelope}\n{envelope}\n").as_bytes());
});

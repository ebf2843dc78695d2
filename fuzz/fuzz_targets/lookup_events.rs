//! Fuzz input as the `CloudTrailEvent` string of `aws cloudtrail lookup-events` output: records
//! embedded in JSON strings.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let embedded = common::json_string(data);
    let document = format!(
        r#"{{"Events":[{{"EventId":"1","ReadOnly":"true","CloudTrailEvent":{embedded}}}],"NextToken":"x"}}"#
    );
    common::check_document(document.as_bytes());
    // And inline, as AWS's documentation shows Insights lookups.
    let mut inline = b"{\"NextToken\":null,\"Events\":[".to_vec();
    inline.extend_from_slice(data);
    inline.extend_from_slice(b"]}");
    common::check_document(&inline);
});

//! Differential: `parse_document` (fast path for plain records) must report exactly the items
//! `parse_document_reference` (serde path only) reports, for any bytes. The input is also tried
//! as the element of a `Records` array, where the fast path runs.
#![no_main]

use trailsight_engine::parse::{ParsedItem, parse_document, parse_document_reference};

fn items(bytes: &[u8], reference: bool) -> (String, Vec<String>) {
    let mut out = Vec::new();
    let mut push = |item: ParsedItem<'_>| out.push(format!("{item:?}"));
    let summary = if reference {
        parse_document_reference(bytes, &mut push)
    } else {
        parse_document(bytes, &mut push)
    };
    (format!("{:?}", summary.format), out)
}

fn check(bytes: &[u8]) {
    assert_eq!(items(bytes, false), items(bytes, true));
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    check(data);
    let mut wrapped = b"{\"Records\":[".to_vec();
    wrapped.extend_from_slice(data);
    wrapped.extend_from_slice(b"]}");
    check(&wrapped);
});

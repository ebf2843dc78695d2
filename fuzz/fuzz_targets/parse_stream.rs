//! Differential: a document fed to `DocumentStream` in pieces must report exactly the items
//! and the format `parse_document` reports for it whole. The first two bytes choose the piece
//! sizes (small pieces cut inside every token and character); the rest is the document, tried
//! as is and as the body of a `Records` array.
#![no_main]

use trailsight_engine::parse::{DocumentStream, ParsedItem, parse_document};

fn whole(doc: &[u8]) -> String {
    let mut items = Vec::new();
    let summary = parse_document(doc, &mut |item: ParsedItem<'_>| items.push(format!("{item:?}")));
    format!("{:?} {}", summary.format, items.join("\n"))
}

fn streamed(doc: &[u8], pieces: [usize; 2]) -> String {
    let mut items = Vec::new();
    let mut on_item = |item: ParsedItem<'_>| items.push(format!("{item:?}"));
    let mut stream = DocumentStream::new(usize::MAX);
    let (mut at, mut turn) = (0, 0);
    while at < doc.len() {
        let end = (at + pieces[turn % 2]).min(doc.len());
        stream.feed(&doc[at..end], &mut on_item).expect("no limit");
        (at, turn) = (end, turn + 1);
    }
    let summary = stream.finish(&mut on_item);
    format!("{:?} {}", summary.format, items.join("\n"))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [a, b, doc @ ..] = data else { return };
    let pieces = [usize::from(*a % 16) + 1, usize::from(*b) + 1];
    assert_eq!(streamed(doc, pieces), whole(doc));
    let mut wrapped = b"{\"Records\":[".to_vec();
    wrapped.extend_from_slice(doc);
    wrapped.extend_from_slice(b"]}");
    assert_eq!(streamed(&wrapped, pieces), whole(&wrapped));
});

//! Fuzz input as reference Insights records (`replay --reference`): each line, and the whole
//! input, through `ReferenceInsight::parse`, then every record that parsed through `pair`.
#![no_main]

use trailsight_engine::reference::{ReferenceInsight, pair};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parsed = Vec::new();
    for json in text.lines().chain(std::iter::once(text.as_ref())) {
        if let Ok(insight) = ReferenceInsight::parse(json) {
            // Event times are whole minutes, and the accessors hold for any parsed record.
            let _ = (insight.key(), insight.minute());
            let _ = (insight.insight_duration(), insight.baseline_duration());
            parsed.push(insight);
        }
    }
    let records = parsed.len() as u64;
    let pairing = pair(parsed);
    // Pairing loses nothing: every record is in an interval or counted as a copy.
    let kept: u64 = pairing
        .intervals
        .iter()
        .map(|i| u64::from(i.start.is_some()) + u64::from(i.end.is_some()))
        .sum();
    assert!(kept + pairing.duplicates <= records, "{kept} + {} > {records}", pairing.duplicates);
    for interval in &pairing.intervals {
        let (from, to) = interval.known_span();
        assert!(from <= to, "{from:?} > {to:?}");
        assert!(interval.representative().is_some());
    }
});

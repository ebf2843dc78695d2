//! Snapshot bytes that are not a valid snapshot are refused with an error, never a panic.

use proptest::prelude::*;
use trailsight_engine::snapshot::{SNAPSHOT_MAGIC, SNAPSHOT_VERSION, SnapshotError};
use trailsight_engine::{Detector, DetectorConfig};

mod support;

fn busy_snapshot() -> Vec<u8> {
    let mut detector = Detector::new(DetectorConfig::default()).unwrap();
    for i in 0..500 {
        let call =
            support::Call::at_seconds(1_709_510_400 + i * 97, "ssm.amazonaws.com", "PutParameter")
                .id(format!("{i:032x}"));
        detector.observe(&call.event());
    }
    detector.advance(&mut Vec::new());
    detector.snapshot()
}

#[test]
fn header_is_checked() {
    let bytes = busy_snapshot();
    assert!(bytes.starts_with(SNAPSHOT_MAGIC));
    assert!(matches!(
        Detector::restore(b"not a snapshot"),
        Err(SnapshotError::NotASnapshot)
    ));
    let mut other = bytes.clone();
    other[8..12].copy_from_slice(&(SNAPSHOT_VERSION + 1).to_le_bytes());
    assert_eq!(
        Detector::restore(&other).err(),
        Some(SnapshotError::UnsupportedVersion {
            found: SNAPSHOT_VERSION + 1
        })
    );
    assert!(matches!(
        Detector::restore(&bytes[..bytes.len() / 2]),
        Err(SnapshotError::Corrupt(_))
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        Detector::restore(&longer),
        Err(SnapshotError::Corrupt(_))
    ));
    assert!(Detector::restore(&bytes).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn damaged_snapshots_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = busy_snapshot();
        for (at, value) in flips {
            let at = 12 + at.index(bytes.len() - 12);
            bytes[at] = value;
        }
        // Either refused, or a detector that works.
        if let Ok(mut detector) = Detector::restore(&bytes) {
            let mut records = Vec::new();
            detector.finish(&mut records);
            let _ = detector.snapshot();
        }
    }
}

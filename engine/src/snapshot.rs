//! Checkpoints: a detector's whole state as bytes, and back.
//!
//! The format is an 8-byte magic (`TRLSIGHT`), a 4-byte little-endian version
//! ([`SNAPSHOT_VERSION`]), and the state encoded with [`postcard`] (a compact, specified serde
//! format). Maps are written sorted, so the same state always gives the same bytes. A detector
//! restores only snapshots of its own version: the version changes whenever the state's layout
//! does, and there is no migration between versions (replay the input instead).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The first bytes of every snapshot.
pub const SNAPSHOT_MAGIC: &[u8; 8] = b"TRLSIGHT";

/// The snapshot layout this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 4;

/// Why bytes could not be restored into a detector.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The bytes do not start with [`SNAPSHOT_MAGIC`].
    #[error("not a trailsight snapshot (bad magic)")]
    NotASnapshot,
    /// A snapshot of another version.
    #[error(
        "snapshot version {found} cannot be read by this build, which reads version {SNAPSHOT_VERSION}"
    )]
    UnsupportedVersion {
        /// The version in the bytes.
        found: u32,
    },
    /// The bytes after the header do not decode.
    #[error("corrupt snapshot: {0}")]
    Corrupt(String),
    /// The bytes decode to a state that breaks the detector's invariants.
    #[error("invalid snapshot state: {0}")]
    Invalid(String),
}

/// Prefixes `body` with the header.
pub(crate) fn encode<T: Serialize>(state: &T) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1 << 16);
    bytes.extend_from_slice(SNAPSHOT_MAGIC);
    bytes.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    postcard::to_extend(state, bytes).expect("serialising into a Vec cannot fail")
}

/// Checks the header and decodes the state.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, SnapshotError> {
    let body = bytes
        .strip_prefix(SNAPSHOT_MAGIC.as_slice())
        .ok_or(SnapshotError::NotASnapshot)?;
    let (version, body) = body
        .split_first_chunk::<4>()
        .ok_or(SnapshotError::Corrupt("no version".into()))?;
    let found = u32::from_le_bytes(*version);
    if found != SNAPSHOT_VERSION {
        return Err(SnapshotError::UnsupportedVersion { found });
    }
    let (state, rest) =
        postcard::take_from_bytes(body).map_err(|e| SnapshotError::Corrupt(e.to_string()))?;
    if !rest.is_empty() {
        return Err(SnapshotError::Corrupt(format!(
            "{} trailing bytes",
            rest.len()
        )));
    }
    Ok(state)
}

/// `#[serde(with = "sorted_map")]`: a hash map as a sequence of pairs sorted by key.
pub(crate) mod sorted_map {
    use super::*;

    pub fn serialize<K: Serialize + Ord, V: Serialize, H, S: Serializer>(
        map: &HashMap<K, V, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&K, &V)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_seq(entries)
    }

    pub fn deserialize<'de, K, V, H, D>(deserializer: D) -> Result<HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let entries: Vec<(K, V)> = Vec::deserialize(deserializer)?;
        Ok(entries.into_iter().collect())
    }
}

/// `#[serde(with = "sorted_set")]`: a hash set as a sorted sequence.
pub(crate) mod sorted_set {
    use std::collections::HashSet;

    use super::*;

    pub fn serialize<K: Serialize + Ord, H, S: Serializer>(
        set: &HashSet<K, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut items: Vec<&K> = set.iter().collect();
        items.sort_unstable();
        serializer.collect_seq(items)
    }

    pub fn deserialize<'de, K, H, D>(deserializer: D) -> Result<HashSet<K, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let items: Vec<K> = Vec::deserialize(deserializer)?;
        Ok(items.into_iter().collect())
    }
}

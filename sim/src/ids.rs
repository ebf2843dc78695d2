//! Seeds, identifiers and time formatting shared by the generator.
//!
//! Everything here is a pure function of its inputs (a seed, a hash, or an RNG the caller owns), so
//! the output never depends on which thread runs the work or in which order units finish.

use std::fmt::Write as _;

use rand::{Rng, RngExt};
use trailsight_engine::time::{Day, Timestamp};

/// Independent random streams. Each part of the output draws from its own stream so that, for
/// example, adding a day to a run does not change the events of the days before it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stream {
    /// Generated account ids.
    AccountId = 1,
    /// Per account-region traits: rate multipliers, instances, cron time.
    Profile = 2,
    /// The labelled anomalies of one account-region.
    Anomalies = 3,
    /// One (account, region, day) unit: its events and its log files.
    Unit = 4,
    /// The digest chain of one account-region.
    Digest = 5,
    /// Names shared by the whole run (bucket suffix, key fingerprints).
    Run = 6,
}

/// SplitMix64's finaliser: a cheap bijective mix with good avalanche.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one random stream, derived from the run seed and the indices that identify the
/// work (account, region, day...).
pub(crate) fn derive_seed(seed: u64, stream: Stream, parts: &[u64]) -> u64 {
    let mut h = mix(seed ^ mix(stream as u64));
    for &part in parts {
        h = mix(h ^ mix(part.wrapping_add(0x632B_E59B_D9B4_E019)));
    }
    h
}

/// A stable 64-bit hash of a string (FNV-1a, then mixed), for ids that must be the same every
/// time the same name appears, such as a role's `principalId`.
pub(crate) fn hash_str(text: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in text.as_bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix(h)
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `n` characters of AWS's unique-id alphabet (A-Z, 2-7), taken from `h` and rehashed as
/// needed: the same `h` always gives the same characters.
pub(crate) fn push_base32_of(out: &mut String, mut h: u64, n: usize) {
    for i in 0..n {
        if i % 12 == 11 {
            h = mix(h);
        }
        out.push(char::from(BASE32[(h & 31) as usize]));
        h >>= 5;
    }
}

/// Appends `n` random characters of AWS's unique-id alphabet.
pub(crate) fn push_base32(out: &mut String, rng: &mut impl Rng, n: usize) {
    for _ in 0..n {
        out.push(char::from(BASE32[rng.random_range(0..32usize)]));
    }
}

/// Appends `n` random ASCII letters and digits (the "unique string" of log file names).
pub(crate) fn push_alnum(out: &mut String, rng: &mut impl Rng, n: usize) {
    for _ in 0..n {
        out.push(char::from(ALNUM[rng.random_range(0..ALNUM.len())]));
    }
}

/// Appends `n` random lowercase hex digits.
pub(crate) fn push_hex_random(out: &mut String, rng: &mut impl Rng, n: usize) {
    for _ in 0..n {
        out.push(char::from(HEX[rng.random_range(0..16usize)]));
    }
}

/// Appends `bytes` as lowercase hex.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}

/// Appends a random version 4 UUID in its canonical lowercase form.
pub(crate) fn push_uuid(out: &mut String, rng: &mut impl Rng) {
    let mut bytes = rng.next_u64().to_le_bytes().to_vec();
    bytes.extend_from_slice(&rng.next_u64().to_le_bytes());
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    for (i, chunk) in [0..4, 4..6, 6..8, 8..10, 10..16].into_iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        push_hex(out, &bytes[chunk]);
    }
}

/// A random version 4 UUID.
pub(crate) fn uuid(rng: &mut impl Rng) -> String {
    let mut out = String::with_capacity(36);
    push_uuid(&mut out, rng);
    out
}

/// Calendar fields of a UTC instant: (year, month, day, hour, minute, second).
pub(crate) fn civil(t: i64) -> (i64, u32, u32, i64, i64, i64) {
    let (y, m, d) = Day(t.div_euclid(86_400)).civil();
    let s = t.rem_euclid(86_400);
    (y, m, d, s / 3600, s / 60 % 60, s % 60)
}

/// `YYYY-MM-DDTHH:MM:SSZ` as an owned string.
pub(crate) fn time_string(t: i64) -> String {
    Timestamp(t).to_string()
}

/// The `YYYY/MM/DD` folder of an S3 key.
pub(crate) fn date_folder(t: i64) -> String {
    let (y, m, d, ..) = civil(t);
    format!("{y:04}/{m:02}/{d:02}")
}

/// `Mar 4, 2024, 10:00:00 AM`, the date style STS and IAM use inside `responseElements`.
pub(crate) fn push_us_time(out: &mut String, t: i64) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d, h, min, s) = civil(t);
    let (h12, half) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    let month = MONTHS[(m - 1) as usize];
    let _ = write!(out, "{month} {d}, {y}, {h12}:{min:02}:{s:02} {half}");
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::rng::seeded_rng;

    #[test]
    fn uuids_are_version_4() {
        let mut rng = seeded_rng(7);
        for _ in 0..100 {
            let u = uuid(&mut rng);
            let b = u.as_bytes();
            assert_eq!(u.len(), 36, "{u}");
            assert_eq!([b[8], b[13], b[18], b[23]], [b'-'; 4], "{u}");
            assert_eq!(b[14], b'4', "{u}");
            assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'), "{u}");
            assert!(u.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit()));
        }
    }

    #[test]
    fn derived_seeds_differ_by_every_part() {
        let base = derive_seed(1, Stream::Unit, &[0, 0, 0]);
        assert_ne!(base, derive_seed(2, Stream::Unit, &[0, 0, 0]));
        assert_ne!(base, derive_seed(1, Stream::Profile, &[0, 0, 0]));
        assert_ne!(base, derive_seed(1, Stream::Unit, &[0, 0, 1]));
        assert_ne!(base, derive_seed(1, Stream::Unit, &[0, 1, 0]));
        assert_eq!(base, derive_seed(1, Stream::Unit, &[0, 0, 0]));
    }

    #[test]
    fn time_layouts() {
        let t = Timestamp::parse("2024-03-04T13:05:09Z").unwrap().0;
        let mut s = String::new();
        push_us_time(&mut s, t);
        assert_eq!(s, "Mar 4, 2024, 1:05:09 PM");
        assert_eq!(date_folder(t), "2024/03/04");
        assert_eq!(time_string(t), "2024-03-04T13:05:09Z");
        s.clear();
        push_us_time(&mut s, t - 13 * 3600);
        assert_eq!(s, "Mar 4, 2024, 12:05:09 AM");
    }

    #[test]
    fn base32_of_is_stable_and_in_alphabet() {
        let mut a = String::new();
        let mut b = String::new();
        push_base32_of(&mut a, hash_str("app-server"), 17);
        push_base32_of(&mut b, hash_str("app-server"), 17);
        assert_eq!(a, b);
        assert_eq!(a.len(), 17);
        assert!(a.bytes().all(|c| BASE32.contains(&c)));
    }
}

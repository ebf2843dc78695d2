//! How records reach S3: grouped into log files about every 5 minutes, shuffled, sometimes
//! duplicated, sometimes late, gzipped and written under CloudTrail's key layout.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use flate2::{Compression, GzBuilder};
use rand::{Rng, RngExt};

use crate::error::SimulateError;
use crate::ids::{self, civil, date_folder};
use crate::profile::Profile;
use crate::record::write_record;
use crate::sha256::sha256;
use crate::traffic::Event;

/// CloudTrail publishes log files about every 5 minutes.
const DELIVERY_PERIOD: i64 = 300;
/// A record waits this long (seconds, uniform) before the delivery after it is due; with the
/// 5-minute period, records end up 4 to 12 minutes older than their file.
const MIN_LAG: i64 = 240;
const MAX_LAG: i64 = 420;
/// Share of files delivered late.
const LATE_FILE_SHARE: f64 = 0.01;
/// A late file is held back 20 to 75 minutes more (in 5-minute steps), so its records are
/// 24 to 87 minutes old when it lands.
const LATE_STEPS: std::ops::RangeInclusive<i64> = 4..=15;
/// Share of records delivered twice (same `eventID`, identical bytes).
const DUPLICATE_SHARE: f64 = 0.003;
/// gzip level of the log and digest files.
const GZIP_LEVEL: u32 = 6;

/// A log file written to disk, as the digest files list it.
#[derive(Clone, Debug)]
pub(crate) struct LogFile {
    /// The S3 key, which is also the path under the output directory.
    pub(crate) key: String,
    /// Delivery time (the time in the file name), UTC seconds.
    pub(crate) delivery: i64,
    /// SHA-256 of the uncompressed content.
    pub(crate) sha256: [u8; 32],
    pub(crate) newest_event: i64,
    pub(crate) oldest_event: i64,
}

/// What one unit wrote.
#[derive(Debug, Default)]
pub(crate) struct Delivered {
    pub(crate) files: Vec<LogFile>,
    pub(crate) records: u64,
    pub(crate) duplicates: u64,
    pub(crate) late_files: u64,
    pub(crate) bytes: u64,
}

struct Planned {
    delivery: i64,
    late: bool,
    /// Indices into the unit's events.
    members: Vec<u32>,
}

/// One log file of a unit, rendered: what both the writer and the in-memory trail take.
pub(crate) struct RenderedFile<'a> {
    /// The S3 key.
    pub(crate) key: String,
    /// Delivery time (the time in the file name), UTC seconds.
    pub(crate) delivery: i64,
    pub(crate) late: bool,
    /// The uncompressed `{"Records":[...]}` document.
    pub(crate) body: &'a str,
    /// Where each record ends in `body` (exclusive byte offsets), in file order.
    pub(crate) record_ends: &'a [usize],
    pub(crate) oldest_event: i64,
    pub(crate) newest_event: i64,
}

/// Renders `events` (one account-region, one unit, sorted by time) as the unit's log files, in
/// delivery-slot order, handing each to `each`; the body buffer is reused between files.
pub(crate) fn render_files<E>(
    profile: &Profile,
    events: &[Event],
    rng: &mut impl Rng,
    mut each: impl FnMut(RenderedFile<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let files = plan_files(events, rng);
    let mut body = String::new();
    let mut record_ends = Vec::new();
    for file in files {
        body.clear();
        record_ends.clear();
        body.push_str("{\"Records\":[");
        let (mut oldest, mut newest) = (i64::MAX, i64::MIN);
        for (n, &member) in file.members.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            let event = &events[member as usize];
            oldest = oldest.min(event.time);
            newest = newest.max(event.time);
            write_record(&mut body, event, profile);
            record_ends.push(body.len());
        }
        body.push_str("]}");
        let key = log_file_key(profile, file.delivery, rng);
        each(RenderedFile {
            key,
            delivery: file.delivery,
            late: file.late,
            body: &body,
            record_ends: &record_ends,
            oldest_event: oldest,
            newest_event: newest,
        })?;
    }
    Ok(())
}

/// Writes `events` (one account-region, one unit, sorted by time) as log files under `out_dir`.
pub(crate) fn deliver(
    out_dir: &Path,
    profile: &Profile,
    events: &[Event],
    rng: &mut impl Rng,
) -> Result<Delivered, SimulateError> {
    let mut delivered = Delivered::default();
    let mut gz = Vec::new();
    render_files(profile, events, rng, |file| -> Result<(), SimulateError> {
        gzip(file.body.as_bytes(), &mut gz);
        write_file(out_dir, &file.key, &gz)?;
        delivered.records += file.record_ends.len() as u64;
        delivered.late_files += u64::from(file.late);
        delivered.bytes += gz.len() as u64;
        delivered.files.push(LogFile {
            sha256: sha256(file.body.as_bytes()),
            key: file.key,
            delivery: file.delivery,
            newest_event: file.newest_event,
            oldest_event: file.oldest_event,
        });
        Ok(())
    })?;
    delivered.duplicates = delivered.records - events.len() as u64;
    Ok(delivered)
}

/// Assigns events to files: each to the first delivery after its lag, then late files,
/// duplicates and the in-file shuffle.
fn plan_files(events: &[Event], rng: &mut impl Rng) -> Vec<Planned> {
    let mut slotted: Vec<(i64, u32)> = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let due = event.time + rng.random_range(MIN_LAG..=MAX_LAG);
            let slot = (due + DELIVERY_PERIOD - 1).div_euclid(DELIVERY_PERIOD) * DELIVERY_PERIOD;
            (slot, i as u32)
        })
        .collect();
    slotted.sort_unstable();
    let mut files: Vec<Planned> = Vec::new();
    for (slot, member) in slotted {
        match files.last_mut() {
            Some(file) if file.delivery == slot => file.members.push(member),
            _ => files.push(Planned {
                delivery: slot,
                late: false,
                members: vec![member],
            }),
        }
    }
    // Duplicates go to the same file or the next one, before any delay is applied, so a copy
    // never lands in a file delivered before its event happened.
    let mut copies = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for &member in &file.members {
            if rng.random_bool(DUPLICATE_SHARE) {
                let next = f + 1 < files.len() && rng.random_bool(0.5);
                copies.push((if next { f + 1 } else { f }, member));
            }
        }
    }
    for (f, member) in copies {
        files[f].members.push(member);
    }
    for file in &mut files {
        if rng.random_bool(LATE_FILE_SHARE) {
            file.late = true;
            file.delivery += DELIVERY_PERIOD * rng.random_range(LATE_STEPS);
        }
        // Records inside a file come in no particular order.
        for i in (1..file.members.len()).rev() {
            file.members.swap(i, rng.random_range(0..=i));
        }
    }
    files
}

/// `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`.
fn log_file_key(profile: &Profile, delivery: i64, rng: &mut impl Rng) -> String {
    let (account, region) = (&profile.account, &profile.region);
    let (y, m, d, h, min, _) = civil(delivery);
    let mut key = format!(
        "AWSLogs/{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{y:04}{m:02}{d:02}T{h:02}{min:02}Z_",
        date_folder(delivery)
    );
    ids::push_alnum(&mut key, rng, 16);
    key.push_str(".json.gz");
    key
}

/// Replaces `out` with `bytes` gzipped as CloudTrail's files are (level 6, header mtime 0, so
/// the same bytes always compress to the same file).
pub(crate) fn gzip(bytes: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(out, Compression::new(GZIP_LEVEL));
    // Compressing into memory has no I/O that could fail.
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory");
}

/// Writes `bytes` at `key` under `out_dir`, creating folders as needed.
pub(crate) fn write_file(out_dir: &Path, key: &str, bytes: &[u8]) -> Result<(), SimulateError> {
    let path = out_dir.join(key);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|source| SimulateError::CreateDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    fs::write(&path, bytes).map_err(|source| SimulateError::WriteFile { path, source })
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::rng::seeded_rng;
    use crate::traffic::ErrorChoice;

    #[test]
    fn files_respect_delivery_times_and_duplicate_some_records() {
        let mut rng = seeded_rng(4);
        let start = 1_709_510_400;
        let events: Vec<Event> = (0..100_000)
            .map(|i| Event {
                time: start + i / 2,
                seed: i as u64,
                api: 0,
                principal: None,
                error: ErrorChoice::Sampled,
            })
            .collect();
        let files = plan_files(&events, &mut rng);
        let mut seen = vec![0u32; events.len()];
        let mut late = 0;
        for file in &files {
            assert_eq!(file.delivery % DELIVERY_PERIOD, 0);
            late += usize::from(file.late);
            for &m in &file.members {
                seen[m as usize] += 1;
                let age = file.delivery - events[m as usize].time;
                if file.late {
                    assert!((20 * 60..=95 * 60).contains(&age), "late age {age}");
                } else {
                    assert!((1..=17 * 60).contains(&age), "age {age}");
                }
            }
        }
        assert!(seen.iter().all(|&n| (1..=2).contains(&n)));
        let duplicates = seen.iter().filter(|&&n| n == 2).count();
        assert!((150..450).contains(&duplicates), "{duplicates}");
        assert!(late <= files.len() / 20, "{late} of {}", files.len());
        // One file per 5-minute slot: 50 000 s of events need about 167 files.
        assert!((160..=175).contains(&files.len()), "{}", files.len());
    }
}

//! A simulated trail in memory: the log files' documents, their records and the events the
//! engine reads from them, for tests and benchmarks that need realistic traffic without files.

use std::borrow::Cow;

use rayon::prelude::*;
use trailsight_engine::parse::{ParsedItem, parse_document};
use trailsight_engine::time::Timestamp;
use trailsight_engine::{Event, UserIdentity};

use crate::delivery;
use crate::error::SimulateError;
use crate::labels::{Label, Simulation};
use crate::plan::Plan;
use crate::settings::Settings;

/// One log file of a simulated trail: its S3 key and the document CloudTrail would deliver,
/// uncompressed (the exact bytes [`write_trail`](crate::write_trail) gzips).
#[derive(Clone, Debug)]
pub struct LogDocument {
    /// The S3 key (`AWSLogs/<account>/CloudTrail/<region>/...json.gz`).
    pub key: String,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// Delivery time, the time in the file name.
    pub delivery: Timestamp,
    body: String,
    /// Where each record ends in `body` (exclusive byte offsets).
    record_ends: Vec<usize>,
}

impl LogDocument {
    /// The document, `{"Records":[...]}`.
    pub fn document(&self) -> &[u8] {
        self.body.as_bytes()
    }

    /// The JSON text of each record, in the file's order.
    pub fn records(&self) -> impl Iterator<Item = &str> + '_ {
        // Records start after `{"Records":[` and after each record's separating comma.
        let starts =
            std::iter::once("{\"Records\":[".len()).chain(self.record_ends.iter().map(|e| e + 1));
        starts
            .zip(&self.record_ends)
            .map(|(start, &end)| &self.body[start..end])
    }

    /// Number of records, duplicates included.
    pub fn record_count(&self) -> usize {
        self.record_ends.len()
    }
}

/// A simulated trail in memory: what [`write_trail`](crate::write_trail) writes for the same
/// settings, less the digest files.
#[derive(Clone, Debug)]
pub struct SimulatedTrail {
    /// The settings, as `labels.json` records them.
    pub simulation: Simulation,
    /// The injected anomalies.
    pub labels: Vec<Label>,
    /// The log files of every account-region, in delivery order (by delivery time, then key):
    /// the order `trailsight detect` reads them in.
    pub files: Vec<LogDocument>,
}

impl SimulatedTrail {
    /// Number of records, duplicates included.
    pub fn record_count(&self) -> usize {
        self.files.iter().map(LogDocument::record_count).sum()
    }

    /// The JSON text of every record, file after file.
    pub fn records(&self) -> impl Iterator<Item = &str> + '_ {
        self.files.iter().flat_map(LogDocument::records)
    }

    /// Every record as the engine reads it (its parser on each document), file after file,
    /// owning its strings.
    pub fn events(&self) -> Vec<Event<'static>> {
        let mut events = Vec::with_capacity(self.record_count());
        for file in &self.files {
            parse_document(file.document(), &mut |item| {
                // The simulator writes API calls only, all of which the parser reads.
                if let ParsedItem::Event { event, .. } = item {
                    events.push(owned(event));
                }
            });
        }
        events
    }
}

/// A CloudTrail log file body, `{"Records":[...]}`, of `records` (each one record's JSON text),
/// as the simulator writes its files.
pub fn records_document<'a>(records: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = b"{\"Records\":[".to_vec();
    for (i, record) in records.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(record.as_bytes());
    }
    out.extend_from_slice(b"]}");
    out
}

/// Simulates the trail `settings` describe in memory: the same log files, byte for byte, that
/// [`write_trail`](crate::write_trail) would write (uncompressed), and the same labels.
pub fn simulate(settings: &Settings) -> Result<SimulatedTrail, SimulateError> {
    let plan = Plan::new(settings)?;
    let pool = plan.pool()?;
    let per_unit: Vec<Vec<LogDocument>> = pool.install(|| {
        plan.units
            .par_iter()
            .map(|unit| {
                let (events, mut rng) = plan.unit_events(unit);
                let profile = &plan.profiles[unit.account_region];
                let mut files = Vec::new();
                delivery::render_files(profile, &events, &mut rng, |file| {
                    files.push(LogDocument {
                        key: file.key,
                        account: profile.account.clone(),
                        region: profile.region.clone(),
                        delivery: Timestamp(file.delivery),
                        body: file.body.to_string(),
                        record_ends: file.record_ends.to_vec(),
                    });
                    Ok::<(), std::convert::Infallible>(())
                })
                .unwrap_or_else(|never| match never {});
                files
            })
            .collect()
    });
    let mut files: Vec<LogDocument> = per_unit.into_iter().flatten().collect();
    files.sort_by(|a, b| (a.delivery, &a.key).cmp(&(b.delivery, &b.key)));
    Ok(SimulatedTrail {
        simulation: plan.simulation.clone(),
        labels: plan.labels(),
        files,
    })
}

/// `event` with every string owned, so it outlives the document it was parsed from.
fn owned(event: Event<'_>) -> Event<'static> {
    fn own(text: Cow<'_, str>) -> Cow<'static, str> {
        Cow::Owned(text.into_owned())
    }
    Event {
        event_id: event.event_id.map(own),
        event_time: event.event_time,
        event_source: own(event.event_source),
        event_name: own(event.event_name),
        aws_region: own(event.aws_region),
        recipient_account_id: event.recipient_account_id.map(own),
        event_type: event.event_type.map(own),
        category: event.category,
        read_only: event.read_only,
        error_code: event.error_code.map(own),
        user_agent: event.user_agent.map(own),
        source_ip_address: event.source_ip_address.map(own),
        user_identity: UserIdentity {
            identity_type: event.user_identity.identity_type.map(own),
            arn: event.user_identity.arn.map(own),
            account_id: event.user_identity.account_id.map(own),
            invoked_by: event.user_identity.invoked_by.map(own),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;
    use crate::settings::Accounts;
    use crate::write::write_trail;

    fn settings() -> Settings {
        Settings {
            seed: 5,
            days: 9.0,
            scale: 0.01,
            accounts: Accounts::Generated(1),
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            threads: Some(2),
            ..Settings::default()
        }
    }

    #[test]
    fn the_trail_in_memory_is_the_trail_written() {
        let dir = tempfile::tempdir().unwrap();
        let report = write_trail(&settings(), dir.path()).unwrap();
        let trail = simulate(&Settings {
            threads: Some(1),
            ..settings()
        })
        .unwrap();
        assert_eq!(trail.files.len() as u64, report.files);
        assert_eq!(trail.record_count() as u64, report.records);
        let labels = |labels: &[Label]| serde_json::to_string(labels).unwrap();
        assert!(!trail.labels.is_empty());
        assert_eq!(labels(&trail.labels), labels(&report.anomalies));
        for file in &trail.files {
            let gz = std::fs::read(dir.path().join(&file.key)).unwrap();
            let mut body = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut body)
                .unwrap();
            assert!(body == file.document(), "{} differs", file.key);
            assert!(
                file.key
                    .contains(&format!("/{}/CloudTrail/{}/", file.account, file.region))
            );
        }
        assert!(
            trail
                .files
                .windows(2)
                .all(|w| (w[0].delivery, &w[0].key) < (w[1].delivery, &w[1].key))
        );
    }

    #[test]
    fn records_and_events_are_the_documents() {
        let trail = simulate(&Settings {
            days: 0.5,
            scale: 0.2,
            ..settings()
        })
        .unwrap();
        assert!(trail.record_count() > 1_000, "{}", trail.record_count());
        for file in &trail.files {
            assert_eq!(records_document(file.records()), file.document());
            assert_eq!(file.records().count(), file.record_count());
        }
        let events = trail.events();
        assert_eq!(events.len(), trail.record_count());
        for (record, event) in trail.records().zip(&events) {
            let value: serde_json::Value = serde_json::from_str(record).unwrap();
            assert_eq!(value["eventID"], event.event_id.as_deref().unwrap());
            assert_eq!(value["eventName"], event.event_name.as_ref());
            assert_eq!(value["eventTime"], event.event_time.to_string());
        }
    }
}

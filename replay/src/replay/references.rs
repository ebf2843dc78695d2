//! Reading reference Insights: every record of every file, in any format the parser reads
//! (`CloudTrail-Insight` files, JSON lines, `lookup-events` output, EventBridge events, Lake
//! exports), kept with where it came from.

use std::collections::BTreeMap;
use std::fmt;

use trailsight_engine::InsightState;
use trailsight_engine::parse::{Location, ParsedItem};
use trailsight_engine::reference::{Pairing, ReferenceInsight, pair};
use trailsight_engine::time::Timestamp;

use trailsight_input::{InputFile, ReadLimits, read_items};

/// Where a record was read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    /// The file (or `<stdin>`).
    pub file: String,
    /// Where in it, when known.
    pub location: Option<Location>,
}

impl Origin {
    /// A record of `file`, wherever in it.
    pub fn of_file(file: &str) -> Origin {
        Origin {
            file: file.to_owned(),
            location: None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{}: {location}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// What identifies one record, to find its origins after pairing.
type RecordId = (String, bool, Option<String>, Timestamp);

fn record_id(r: &ReferenceInsight) -> RecordId {
    (
        r.shared_event_id.clone(),
        r.state == InsightState::End,
        r.event_id.clone(),
        r.event_time,
    )
}

/// Insights records read so far, and what went wrong.
#[derive(Debug, Default)]
pub struct References {
    records: Vec<ReferenceInsight>,
    origins: BTreeMap<RecordId, Vec<Origin>>,
    /// Files read.
    pub files: u64,
    /// Files read, by document format.
    pub formats: BTreeMap<String, u64>,
    /// Records read (before pairing and de-duplication).
    pub records_read: u64,
    /// Error lines: a file or record that could not be used, with where.
    pub errors: Vec<String>,
    /// Non-Insights records found in reference files and ignored.
    pub events_ignored: u64,
    /// Files not read: over `--max-document-mib` (their error line is in `errors`).
    pub skipped: u64,
}

impl References {
    /// Reads every Insights record of `files`; a file over the caps of `limits` is reported
    /// and counted in [`References::skipped`].
    pub fn read_files(&mut self, files: &[InputFile], limits: &ReadLimits) {
        for file in files {
            let name = file.source.to_string();
            let read = read_items(&file.source, limits, &mut |item| match item {
                ParsedItem::Insight { json, location } => self.add_json(
                    &json,
                    Origin {
                        file: name.clone(),
                        location: Some(location),
                    },
                ),
                ParsedItem::Event { .. } | ParsedItem::Aggregated { .. } => {
                    self.events_ignored += 1
                }
                ParsedItem::Error(error) => self.errors.push(format!("{name}: {error}")),
            });
            if let Some(error) = &read.error {
                self.errors.push(format!("{name}: {error}"));
            }
            if read.error.is_some() && read.document_bytes == 0 {
                self.skipped += 1;
                continue;
            }
            self.files += 1;
            *self
                .formats
                .entry(read.format.as_str().to_owned())
                .or_insert(0) += 1;
        }
    }

    /// Reads one record's JSON text.
    pub fn add_json(&mut self, json: &str, origin: Origin) {
        self.records_read += 1;
        match ReferenceInsight::parse(json) {
            Ok(record) => {
                self.origins
                    .entry(record_id(&record))
                    .or_default()
                    .push(origin);
                self.records.push(record);
            }
            Err(error) => self.errors.push(format!("{origin}: {error}")),
        }
    }

    /// Pairs the records into intervals; also returns each interval's origins (sorted).
    pub fn pair(self) -> (Pairing, Vec<Vec<Origin>>) {
        let pairing = pair(self.records);
        let origins = pairing
            .intervals
            .iter()
            .map(|i| {
                let mut all: Vec<Origin> = i
                    .start
                    .iter()
                    .chain(&i.end)
                    .flat_map(|r| self.origins.get(&record_id(r)).cloned().unwrap_or_default())
                    .collect();
                all.sort();
                all.dedup();
                all
            })
            .collect();
        (pairing, origins)
    }
}

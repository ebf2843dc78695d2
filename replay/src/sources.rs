//! Where a command reads from: S3 settings (`--profile`, `--endpoint-url`, `--s3-concurrency`;
//! [`S3Args`], every command that reads a trail) and what `detect` reads and reports
//! (`--accounts`, `--regions`, `--since`, `--until`; [`SelectionArgs`]), for local paths and
//! `s3://` alike.
//!
//! A time range selects which insights are reported, by the time of their Start record. The
//! detector still needs the history before `--since`, so files are read from
//! [`history_start`] on: the baseline (seven days, [`model::BASELINE_DAYS`]) and the level
//! rule (fourteen days, [`model::LEVEL_MEMORY_DAYS`]) look back whole days before the day of
//! the decision minute, and the longest detection window ([`MAX_SCALE_MINUTES`]) reaches into
//! the day before those. With `--until`, files delivered after `until` plus the longest window,
//! the allowed lateness and [`DELIVERY_MARGIN_MINUTES`] are not read; insights still open then
//! are reported open, as at the end of any input.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use trailsight_engine::model;
use trailsight_engine::time::{Minute, Timestamp};
use trailsight_engine::window::MAX_SCALE_MINUTES;
use trailsight_engine::{DetectorConfig, InsightRecord, InsightState};
use trailsight_input::s3::{self, S3Fault, S3Options};
use trailsight_input::{Discovery, DiscoveryFault, Selection, discover_selected};

/// Minutes after an event's time by which CloudTrail has delivered the file holding it
/// (AWS: "typically within 5 minutes", up to 15 in practice): with `--until`, the reading goes
/// this far past the lateness window.
pub const DELIVERY_MARGIN_MINUTES: i64 = 60;

/// What `detect` reads and reports: accounts, regions, a time range.
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Only these accounts (12-digit IDs, comma-separated): other accounts' folders are not
    /// listed in S3, and their files are not read from disk.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub accounts: Option<Vec<String>>,

    /// Only these regions (comma-separated), as --accounts.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub regions: Option<Vec<String>>,

    /// Report only insights starting at or after T (RFC 3339, or YYYY-MM-DD for 00:00 UTC).
    /// The 14 days of history before T's day are still read (docs/s3.md).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub since: Option<Minute>,

    /// Report only insights starting before T (RFC 3339, or YYYY-MM-DD for 00:00 UTC); reading
    /// stops a little after T (the longest window, the lateness and the delivery margin).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub until: Option<Minute>,
}

/// How s3:// sources and outputs are reached, for every command that reads a trail.
#[derive(Debug, Args)]
pub struct S3Args {
    /// AWS profile of the shared config files for s3:// sources (SSO and assume-role profiles
    /// included) [default: AWS_PROFILE, else the default chain].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// S3-compatible endpoint for s3:// sources and outputs (path-style requests)
    /// [default: AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// S3 objects fetched at once; memory holds at most this many objects ahead of the parser.
    #[arg(long, value_name = "N", default_value_t = s3::DEFAULT_CONCURRENCY,
          value_parser = clap::builder::ValueParser::new(
              clap::builder::TypedValueParser::map(
                  clap::value_parser!(u16).range(1..=1024), usize::from)))]
    pub s3_concurrency: usize,
}

/// `--since` / `--until` values: RFC 3339, or a date for 00:00 UTC.
fn parse_time(text: &str) -> Result<Minute, String> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    Timestamp::parse(&full)
        .map(Timestamp::minute)
        .map_err(|error| format!("{error} (expected RFC 3339 or YYYY-MM-DD)"))
}

/// The first minute read for insights from `since` on: see the module docs.
pub fn history_start(since: Minute) -> Minute {
    let days = model::BASELINE_DAYS.max(model::LEVEL_MEMORY_DAYS);
    since
        .day()
        .plus(-days)
        .first_minute()
        .plus(-MAX_SCALE_MINUTES)
}

impl S3Args {
    /// Sets up the S3 client (created only when an s3:// source is read).
    pub fn configure(&self) {
        s3::configure(S3Options {
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            concurrency: self.s3_concurrency.max(1),
            ..S3Options::default()
        });
    }
}

impl SelectionArgs {
    /// The files to read for `config`: accounts, regions, and the delivery times the range
    /// needs.
    pub fn selection(&self, config: &DetectorConfig) -> anyhow::Result<Selection> {
        if let (Some(since), Some(until)) = (self.since, self.until)
            && until <= since
        {
            bail!("--until {until} is not after --since {since}");
        }
        let set = |list: &Option<Vec<String>>| {
            list.as_ref().map(|l| {
                l.iter()
                    .map(|s| s.trim().to_owned())
                    .collect::<BTreeSet<_>>()
            })
        };
        Ok(Selection {
            accounts: set(&self.accounts),
            regions: set(&self.regions),
            delivered_from: self.since.map(history_start),
            delivered_until: self.until.map(|until| {
                until.plus(
                    MAX_SCALE_MINUTES
                        + i64::from(config.allowed_lateness_minutes)
                        + DELIVERY_MARGIN_MINUTES,
                )
            }),
        })
    }

    /// Finds the inputs under `paths` (local or `s3://`) that the selection admits. A bucket
    /// that cannot be listed (missing, access denied, no credentials, wrong region, network
    /// down after the retries) is an error: the trail would be silently incomplete. A prefix
    /// with nothing under it is reported as a missing local path is, and the run goes on.
    pub fn discover(
        &self,
        paths: &[PathBuf],
        config: &DetectorConfig,
    ) -> anyhow::Result<Discovery> {
        let discovery = discover_selected(paths, &self.selection(config)?);
        if let Some(error) = discovery.errors.iter().find(|error| {
            matches!(&error.fault, DiscoveryFault::S3(fault) if *fault != S3Fault::NotFound)
        }) {
            bail!("{error}");
        }
        Ok(discovery)
    }

    /// Keeps the records of insights whose Start lies in the time range (Start and End alike);
    /// `true` when a range was given.
    pub fn keep_in_range(&self, records: &mut Vec<InsightRecord>) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return false;
        }
        let in_range = |minute: Minute| {
            self.since.is_none_or(|since| minute >= since)
                && self.until.is_none_or(|until| minute < until)
        };
        let started: std::collections::HashSet<_> = records
            .iter()
            .filter(|r| r.state == InsightState::Start && in_range(r.event_time))
            .map(|r| r.shared_event_id)
            .collect();
        records.retain(|r| started.contains(&r.shared_event_id));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_goes_back_fourteen_days_and_one_window() {
        let since = parse_time("2024-03-20T13:45:00Z").unwrap();
        assert_eq!(history_start(since).to_string(), "2024-03-05T23:00:00Z");
        assert_eq!(
            parse_time("2024-03-20").unwrap().to_string(),
            "2024-03-20T00:00:00Z"
        );
        assert!(parse_time("20 March").is_err());
    }
}

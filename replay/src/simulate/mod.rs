//! `trailsight simulate`: a deterministic generator of CloudTrail trails with labelled anomalies.
//!
//! It writes what a multi-Region trail delivers to S3, under `OUT_DIR` as if it were the bucket:
//!
//! - log files, `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz`,
//!   gzip (header mtime 0) of compact `{"Records":[...]}`;
//! - hourly digest files, `AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_management-events_<home region>_<YYYYMMDDTHHmmssZ>.json.gz`,
//!   chained by real SHA-256 hashes (signatures are random);
//! - `labels.json`, the simulation's arguments and the injected anomalies (see [`LabelsFile`]).
//!
//! The bytes written depend on the arguments only, never on `--threads`: the run is cut into
//! (account, region, day) units, each generated from its own seed derived from `--seed` and its
//! indices, and written to its own files; digests are chained per account-region afterwards. The
//! trail's home Region (in digest names) is the first of `--regions`.
//!
//! # Volume
//!
//! At `--scale 1` one account-region makes about 22 000 records on a weekday and 18 000 on a
//! weekend day (136 000 to 156 000 a week depending on the seed). `--scale` multiplies every
//! rate and the frequency of deploys and scaling waves, so volume is proportional to it.
//! About 1.5 million records:
//!
//! ```text
//! trailsight simulate OUT --days 9 --scale 7.8
//! ```
//!
//! (one account, us-east-1, Monday 2024-03-04 to Wednesday 2024-03-13 00:00 UTC: 1 506 267
//! records, 2 610 log files, 218 digest files, 238 MB gzipped, about 20 s on 2 cores in
//! release). A small trail for fixtures, about 10 000 records:
//! `--account-ids 123837392027 --start 2023-07-01T00:00:00Z --days 9.53 --scale 0.05`.
//!
//! # Traffic model
//!
//! All rates are in the catalogue (`catalogue.rs`); the generator reads it as data.
//!
//! - **Baseline.** 83 management APIs of 15 services, each with a weekday mean rate per
//!   minute at scale 1 (from 2.4/min for KMS `Decrypt` to once a week for IAM `CreateUser`)
//!   times a per-account-region multiplier (x0.67 to x1.5), and a share of "office" traffic. Calls
//!   are Poisson per API and minute. Office traffic follows `1 + 0.7 cos(2π(h - 15)/24)` of the
//!   UTC hour (0.3 at 03:00, 1.7 at 15:00, mean 1) and drops to 40% on weekends; the rest is
//!   machine traffic, flat around the clock.
//! - **Who calls.** Each API has a weighted mix of principals: instance-profile roles (one session
//!   per instance), Lambda execution roles, a Terraform deploy role, SSO administrator and
//!   read-only sessions (console or CLI), two IAM users, a monitoring SaaS role, the Auto Scaling
//!   and Config service-linked roles, and AWS services (`AWSService` with `invokedBy`, or the
//!   identity of an `AwsServiceEvent`). User agents and source IPs follow the principal.
//! - **Errors.** Each API fails at small fixed rates with its own codes (`AccessDenied`,
//!   `Client.UnauthorizedOperation`, `NoSuchBucketPolicy` on 35% of `GetBucketPolicy` calls...).
//! - **Normal bursts (not labelled).** Terraform deploys on workdays between 08:00 and 18:00 UTC
//!   (Poisson, 2 x scale a day; 2-4 write APIs with 20-60 calls each in 2-5 minutes); one nightly
//!   job per account-region (10-30 `CreateSnapshot` or `DeleteSnapshot` calls at a fixed time
//!   between 01:00 and 05:00); Auto Scaling waves (2 x scale a day, 2-10 `RunInstances` or
//!   `TerminateInstances` in 1-3 minutes).
//! - **Anomalies (labelled).** Only in runs of at least 8.5 days, only after the first 8 days (so
//!   a full 7-day baseline exists), at least one of each kind and one of each kind per full day
//!   after day 8, in non-overlapping slots: a burst of 3-20 calls to a rare write API within 1-5
//!   minutes; a 5-10x surge of a busy write API for 10-30 minutes; an error storm of 10-50
//!   errors a minute with one error code on one API for 5-15 minutes; a 20-30x increase of a
//!   quiet write API for 40-50 minutes. Surges and increases multiply the usual rate, but at
//!   least 0.5 (surges) or 0.05 (increases) calls a minute, so that they stay visible at low
//!   scales. `calls` in the label counts the injected calls only, not the baseline beneath them.
//! - **Delivery.** A record waits 4-7 minutes, then goes into the next 5-minute delivery, so
//!   records are 4-12 minutes older than their file; empty slots give no file. 1% of files are
//!   late (records 24-87 minutes old), 0.3% of records are delivered twice (same or next file,
//!   identical bytes), records are shuffled inside a file.
//!
//! # Limits
//!
//! - One log file per account-region and delivery; real trails often write several.
//! - No data events, console sign-ins, Insights records, organization trails or `vpcEndpointId`.
//! - Principals, resources and request shapes are a fixed small cast: plausible, not diverse.
//!   Parameters are drawn independently per record, so sequences (create then delete the same
//!   resource) do not hang together.
//! - Global services (IAM) are logged in us-east-1 only (or the first Region when us-east-1 is
//!   not simulated); STS calls use the regional endpoint.
//! - Output is byte-identical across thread counts and runs with the same dependency versions on
//!   the same platform; the rates use `f64::exp` and `f64::cos`, whose last bits could differ on
//!   another libm.

mod catalogue;
mod delivery;
mod digest;
mod ids;
mod json;
mod profile;
mod record;
mod sha256;
mod traffic;

use std::fmt;
use std::fs;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail, ensure};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use trailsight_engine::time::Timestamp;

use ids::Stream;
use profile::Profile;
use traffic::Span;

/// Arguments of `trailsight simulate`.
#[derive(Clone, Debug, clap::Args)]
pub struct SimulateArgs {
    /// Directory to write the trail into, as if it were the S3 bucket (created if missing).
    pub out_dir: PathBuf,
    /// Seed of every random choice: the same seed and arguments give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Length of the simulated period in days; anomalies need at least 8.5.
    #[arg(long, default_value_t = 9.0)]
    pub days: f64,
    /// Multiplier on every call rate; 1 gives about 20 000 records a day per account-region.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Start of the simulated period (RFC 3339; stored in UTC).
    #[arg(long, default_value = "2024-03-04T00:00:00Z", value_parser = parse_start)]
    pub start: Timestamp,
    /// Number of accounts, each with generated 12-digit ids (ignored with --account-ids).
    #[arg(long, default_value_t = 1)]
    pub accounts: usize,
    /// Regions the trail logs, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "us-east-1")]
    pub regions: Vec<String>,
    /// Account ids to use instead of generated ones, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub account_ids: Option<Vec<String>>,
    /// Do not inject labelled anomalies.
    #[arg(long)]
    pub no_anomalies: bool,
    /// Worker threads (default: all cores). Does not change the output.
    #[arg(long)]
    pub threads: Option<usize>,
}

fn parse_start(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text).map_err(|e| format!("{e}"))
}

/// The kind of an injected anomaly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// A few calls to a write API that is almost never called.
    RareBurst,
    /// A busy write API called several times more than usual for a while.
    WriteSurge,
    /// One API returning one error code many times a minute.
    ErrorStorm,
    /// A quiet write API called tens of times more than usual for most of an hour, at night.
    SustainedIncrease,
    /// A principal never seen before calling a write API many times a minute.
    NewPrincipal,
    /// A steady write API that stops being called for half an hour to two hours.
    DropToZero,
    /// Negative control: a burst of read-only calls, which call-rate insights never count.
    ReadOnlyBurst,
    /// Negative control: the nightly job's run, which happens every day at the same time.
    NormalPeak,
}

impl AnomalyKind {
    /// Every kind, in a fixed order.
    pub const ALL: [AnomalyKind; 8] = [
        AnomalyKind::RareBurst,
        AnomalyKind::WriteSurge,
        AnomalyKind::ErrorStorm,
        AnomalyKind::SustainedIncrease,
        AnomalyKind::NewPrincipal,
        AnomalyKind::DropToZero,
        AnomalyKind::ReadOnlyBurst,
        AnomalyKind::NormalPeak,
    ];

    /// Whether this is a negative control: activity that must not raise an insight.
    pub fn is_control(self) -> bool {
        matches!(self, AnomalyKind::ReadOnlyBurst | AnomalyKind::NormalPeak)
    }

    /// Its name in `labels.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::RareBurst => "rare_burst",
            AnomalyKind::WriteSurge => "write_surge",
            AnomalyKind::ErrorStorm => "error_storm",
            AnomalyKind::SustainedIncrease => "sustained_increase",
            AnomalyKind::NewPrincipal => "new_principal",
            AnomalyKind::DropToZero => "drop_to_zero",
            AnomalyKind::ReadOnlyBurst => "read_only_burst",
            AnomalyKind::NormalPeak => "normal_peak",
        }
    }
}

/// The CloudTrail Insights type an anomaly should raise: the engine's own.
pub use trailsight_engine::InsightType;

/// One injected anomaly, as written to `labels.json` (and read back by `replay --labels`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    /// `<account>-<region>-<n>`, numbered by start time within the account-region.
    pub id: String,
    /// What was injected.
    pub kind: AnomalyKind,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// `eventSource` of the API.
    pub event_source: String,
    /// `eventName` of the API.
    pub event_name: String,
    /// The Insights type expected.
    pub insight_type: InsightType,
    /// The error code of an error storm, else `null`.
    pub error_code: Option<String>,
    /// First minute of the injected calls (`YYYY-MM-DDTHH:MM:00Z`).
    pub start: String,
    /// End of the injected calls, exclusive, on a minute boundary.
    pub end: String,
    /// Number of injected calls (the API's baseline calls in the window are not counted; 0 for
    /// a drop, whose calls were removed, and for the nightly job's normal run).
    pub calls: u64,
    /// A negative control: an insight on this API overlapping the window is a false alarm.
    pub negative_control: bool,
}

/// `labels.json`: how the trail was made and the anomalies injected into it.
#[derive(Debug, Serialize)]
pub struct LabelsFile<'a> {
    /// The arguments that produced the trail.
    pub simulation: Simulation,
    /// The injected anomalies.
    pub labels: &'a [Label],
}

/// The arguments of a simulation, as recorded in `labels.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Simulation {
    /// `--seed`.
    pub seed: u64,
    /// `--days`.
    pub days: f64,
    /// `--scale`.
    pub scale: f64,
    /// `--start`.
    pub start: String,
    /// Account ids.
    pub accounts: Vec<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Whether anomalies were injected.
    pub anomalies: bool,
}

/// What a run wrote.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulateReport {
    /// Account ids, generated or given.
    pub accounts: Vec<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Log files written.
    pub files: u64,
    /// Records written, duplicates included.
    pub records: u64,
    /// Records written a second time.
    pub duplicates: u64,
    /// Log files delivered late.
    pub late_files: u64,
    /// Digest files written.
    pub digest_files: u64,
    /// Bytes written (gzipped log and digest files).
    pub bytes: u64,
    /// The injected anomalies, as in `labels.json`.
    pub anomalies: Vec<Label>,
}

impl fmt::Display for SimulateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "simulated {} account(s) x {} region(s): {} records ({} duplicates) in {} log files ({} late), {} digest files, {} bytes, {} labelled anomalies",
            self.accounts.len(),
            self.regions.len(),
            self.records,
            self.duplicates,
            self.files,
            self.late_files,
            self.digest_files,
            self.bytes,
            self.anomalies.len()
        )
    }
}

/// One (account, region, day) piece of work.
struct Unit {
    account_region: usize,
    day: usize,
    span: Span,
}

/// Generates the trail described by `args` under `args.out_dir`.
pub fn run(args: &SimulateArgs) -> Result<SimulateReport> {
    ensure!(
        args.days.is_finite() && args.days > 0.0 && args.days <= 3660.0,
        "--days must be in (0, 3660]"
    );
    ensure!(
        args.scale.is_finite() && (0.0..=10_000.0).contains(&args.scale),
        "--scale must be in [0, 10000]"
    );
    ensure!(args.threads != Some(0), "--threads must be at least 1");
    let regions = validate_regions(&args.regions)?;
    let accounts = account_ids(args)?;
    let run = Span {
        start: args.start.0,
        end: args.start.0 + (args.days * 86_400.0).round() as i64,
    };
    ensure!(run.end > run.start, "--days is shorter than a second");
    // CloudTrail logs global services (IAM) in us-east-1.
    let global_region = if regions.iter().any(|r| r == "us-east-1") {
        "us-east-1"
    } else {
        regions[0].as_str()
    };

    let mut profiles = Vec::new();
    for (a, account) in accounts.iter().enumerate() {
        for (r, region) in regions.iter().enumerate() {
            let logs_global = region == global_region;
            profiles.push(Profile::new(args.seed, a, r, account, region, logs_global));
        }
    }
    let anomalies: Vec<Vec<traffic::Anomaly>> = profiles
        .iter()
        .enumerate()
        .map(|(i, profile)| {
            if args.no_anomalies {
                return Vec::new();
            }
            let (a, r) = (i / regions.len(), i % regions.len());
            let seed = ids::derive_seed(args.seed, Stream::Anomalies, &[a as u64, r as u64]);
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            traffic::plan_anomalies(profile, args.scale, run, &mut rng)
        })
        .collect();

    let days = ((run.end - run.start + 86_399) / 86_400) as usize;
    let units: Vec<Unit> = (0..profiles.len())
        .flat_map(|account_region| {
            (0..days).map(move |day| {
                let start = run.start + day as i64 * 86_400;
                Unit {
                    account_region,
                    day,
                    span: Span {
                        start,
                        end: (start + 86_400).min(run.end),
                    },
                }
            })
        })
        .collect();

    fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let out_dir = args.out_dir.as_path();
    let bucket = {
        let suffix = ids::derive_seed(args.seed, Stream::Run, &[]) as u32;
        format!("aws-cloudtrail-logs-{}-{suffix:08x}", accounts[0])
    };
    let trail = digest::Trail {
        bucket: &bucket,
        home_region: &regions[0],
        seed: args.seed,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;

    let (delivered, digests) = pool.install(|| -> Result<_> {
        let delivered: Vec<delivery::Delivered> = units
            .par_iter()
            .map(|unit| {
                let profile = &profiles[unit.account_region];
                let (a, r) = (
                    unit.account_region / regions.len(),
                    unit.account_region % regions.len(),
                );
                let seed = ids::derive_seed(
                    args.seed,
                    Stream::Unit,
                    &[a as u64, r as u64, unit.day as u64],
                );
                let mut rng = Pcg64Mcg::seed_from_u64(seed);
                let anomalies = &anomalies[unit.account_region];
                let events =
                    traffic::unit_events(profile, args.scale, unit.span, anomalies, &mut rng);
                delivery::deliver(out_dir, profile, &events, &mut rng)
            })
            .collect::<Result<_>>()?;
        let mut files_by_profile = vec![Vec::new(); profiles.len()];
        for (unit, output) in units.iter().zip(&delivered) {
            files_by_profile[unit.account_region].extend(output.files.iter().cloned());
        }
        let digests: Vec<digest::Digests> = files_by_profile
            .into_par_iter()
            .enumerate()
            .map(|(i, files)| {
                let index = [(i / regions.len()) as u64, (i % regions.len()) as u64];
                digest::write_digests(out_dir, &trail, &profiles[i], index, run, files)
            })
            .collect::<Result<_>>()?;
        Ok((delivered, digests))
    })?;

    let labels: Vec<Label> = anomalies
        .into_iter()
        .flatten()
        .map(|anomaly| anomaly.label)
        .collect();
    // An object rather than a bare array: it records how the trail was made, and a directory
    // walk of the trail does not mistake it for CloudTrail records.
    let labels_file = LabelsFile {
        simulation: Simulation {
            seed: args.seed,
            days: args.days,
            scale: args.scale,
            start: args.start.to_string(),
            accounts: accounts.clone(),
            regions: regions.clone(),
            anomalies: !args.no_anomalies,
        },
        labels: &labels,
    };
    let mut labels_json = serde_json::to_vec_pretty(&labels_file)?;
    labels_json.push(b'\n');
    let labels_path = out_dir.join("labels.json");
    fs::write(&labels_path, &labels_json)
        .with_context(|| format!("writing {}", labels_path.display()))?;

    let sum = |f: fn(&delivery::Delivered) -> u64| delivered.iter().map(f).sum::<u64>();
    Ok(SimulateReport {
        accounts,
        regions,
        files: sum(|d| d.files.len() as u64),
        records: sum(|d| d.records),
        duplicates: sum(|d| d.duplicates),
        late_files: sum(|d| d.late_files),
        digest_files: digests.iter().map(|d| d.files).sum(),
        bytes: sum(|d| d.bytes) + digests.iter().map(|d| d.bytes).sum::<u64>(),
        anomalies: labels,
    })
}

fn validate_regions(regions: &[String]) -> Result<Vec<String>> {
    ensure!(!regions.is_empty(), "--regions is empty");
    let mut seen = Vec::new();
    for region in regions {
        let region = region.trim();
        let valid = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ensure!(valid, "not a Region name: {region:?}");
        ensure!(
            !seen.iter().any(|r| r == region),
            "Region {region} given twice"
        );
        seen.push(region.to_string());
    }
    Ok(seen)
}

/// The account ids of the run: `--account-ids`, or `--accounts` ids drawn from the seed.
fn account_ids(args: &SimulateArgs) -> Result<Vec<String>> {
    if let Some(given) = &args.account_ids {
        let mut ids: Vec<String> = Vec::new();
        for id in given {
            let id = id.trim();
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                bail!("account ids have 12 digits: {id:?}");
            }
            ensure!(!ids.iter().any(|i| i == id), "account {id} given twice");
            ids.push(id.to_string());
        }
        ensure!(!ids.is_empty(), "--account-ids is empty");
        return Ok(ids);
    }
    ensure!(
        (1..=1000).contains(&args.accounts),
        "--accounts must be in 1..=1000"
    );
    let mut ids: Vec<String> = Vec::with_capacity(args.accounts);
    let mut draw = 0u64;
    while ids.len() < args.accounts {
        let value = ids::derive_seed(args.seed, Stream::AccountId, &[draw]);
        draw += 1;
        // 12 digits without a leading zero, as most real account ids look.
        let id = format!("{}", 100_000_000_000 + value % 900_000_000_000);
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

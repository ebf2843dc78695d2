//! `trailsight-sim`: a deterministic generator of CloudTrail trails with labelled anomalies, the
//! simulator behind `trailsight simulate`.
//!
//! [`write_trail`] writes what a multi-Region trail delivers to S3, under a directory as if it
//! were the bucket:
//!
//! - log files, `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz`,
//!   gzip (header mtime 0) of compact `{"Records":[...]}`;
//! - hourly digest files, `AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_management-events_<home region>_<YYYYMMDDTHHmmssZ>.json.gz`,
//!   chained by real SHA-256 hashes (signatures are random);
//! - `labels.json`, the simulation's arguments and the injected anomalies (see [`LabelsFile`]).
//!
//! The bytes written depend on the [`Settings`] only, never on `threads`: the run is cut into
//! (account, region, day) units, each generated from its own seed derived from `seed` and its
//! indices, and written to its own files; digests are chained per account-region afterwards. The
//! trail's home Region (in digest names) is the first of `regions`.
//!
//! # Volume
//!
//! At scale 1 one account-region makes about 22 000 records on a weekday and 18 000 on a
//! weekend day (136 000 to 156 000 a week depending on the seed). `scale` multiplies every
//! rate and the frequency of deploys and scaling waves, so volume is proportional to it.
//! About 1.5 million records (the command's flags are the settings' names):
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
//! All rates are in the catalogue (`catalogue/`); the generator reads it as data.
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
//!
//! # In memory
//!
//! Tests and benchmarks need the same traffic without the files: [`simulate`] returns a
//! [`SimulatedTrail`], whose log files ([`LogDocument`]) hold the exact documents
//! [`write_trail`] gzips, their records' JSON texts, and the engine's [`Event`]s read from them.
//! [`SimRng`] and [`seeded_rng`] are the generator's own seeded random numbers (draw with the
//! re-exported [`rand`] traits), [`poisson`] and [`pick_weighted`] its samplers, and [`rhythm`]
//! the daily and weekly curve of people's traffic.
//!
//! [`Event`]: trailsight_engine::Event

mod catalogue;
mod delivery;
mod digest;
mod error;
mod ids;
mod json;
mod labels;
mod memory;
mod plan;
mod profile;
mod record;
mod rng;
mod settings;
mod sha256;
mod traffic;
mod write;

pub use error::{SettingsError, SimulateError};
pub use labels::{AnomalyKind, InsightType, Label, LabelsFile, Simulation};
pub use memory::{LogDocument, SimulatedTrail, records_document, simulate};
/// The `rand` crate the simulator draws with, for its traits (`Rng`, `RngExt`) on [`SimRng`].
pub use rand;
pub use rng::{SimRng, pick_weighted, poisson, seeded_rng};
pub use settings::{Accounts, Settings};
pub use traffic::rhythm;
pub use write::{TrailReport, write_trail};

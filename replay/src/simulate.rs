//! `trailsight simulate`: the command-line face of the simulator (`trailsight-sim`), which
//! generates a CloudTrail trail in S3 layout with labelled anomalies.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use trailsight_engine::time::Timestamp;
use trailsight_sim::{Accounts, Settings, SettingsError, SimulateError, TrailReport};

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

impl SimulateArgs {
    /// The simulator's settings for these arguments.
    fn settings(&self) -> Settings {
        Settings {
            seed: self.seed,
            days: self.days,
            scale: self.scale,
            start: self.start,
            accounts: match &self.account_ids {
                Some(ids) => Accounts::Given(ids.clone()),
                None => Accounts::Generated(self.accounts),
            },
            regions: self.regions.clone(),
            anomalies: !self.no_anomalies,
            threads: self.threads,
        }
    }
}

/// Generates the trail described by `args` under `args.out_dir`.
pub fn run(args: &SimulateArgs) -> Result<TrailReport> {
    trailsight_sim::write_trail(&args.settings(), &args.out_dir).map_err(|error| match error {
        SimulateError::Settings(error) => anyhow!(flag_message(&error)),
        other => other.into(),
    })
}

/// A settings error in the words of the command's flags.
fn flag_message(error: &SettingsError) -> String {
    match error {
        SettingsError::Days(_) => "--days must be in (0, 3660]".into(),
        SettingsError::ShorterThanASecond(_) => "--days is shorter than a second".into(),
        SettingsError::Scale(_) => "--scale must be in [0, 10000]".into(),
        SettingsError::NoThreads => "--threads must be at least 1".into(),
        SettingsError::NoRegions => "--regions is empty".into(),
        SettingsError::NoAccountIds => "--account-ids is empty".into(),
        SettingsError::AccountCount(_) => "--accounts must be in 1..=1000".into(),
        SettingsError::RegionName(_)
        | SettingsError::RegionTwice(_)
        | SettingsError::AccountId(_)
        | SettingsError::AccountTwice(_) => error.to_string(),
    }
}

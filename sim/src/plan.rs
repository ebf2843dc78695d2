//! A simulation cut into its pieces of work: the account-regions' profiles and anomalies, and
//! the (account, region, day) units, each with its own random stream.

use crate::error::{SettingsError, SimulateError};
use crate::ids::{self, Stream};
use crate::labels::{Label, Simulation};
use crate::profile::Profile;
use crate::rng::{SimRng, seeded_rng};
use crate::settings::Settings;
use crate::traffic::{self, Anomaly, Event, Span};

/// One (account, region, day) piece of work.
pub(crate) struct Unit {
    /// Index into [`Plan::profiles`].
    pub(crate) account_region: usize,
    pub(crate) day: usize,
    pub(crate) span: Span,
}

/// Everything decided before any event is generated.
pub(crate) struct Plan {
    pub(crate) seed: u64,
    pub(crate) scale: f64,
    pub(crate) threads: Option<usize>,
    pub(crate) accounts: Vec<String>,
    pub(crate) regions: Vec<String>,
    pub(crate) run: Span,
    /// One per account-region, account-major.
    pub(crate) profiles: Vec<Profile>,
    /// The labelled anomalies of each profile.
    pub(crate) anomalies: Vec<Vec<Anomaly>>,
    pub(crate) units: Vec<Unit>,
    /// The settings as `labels.json` records them.
    pub(crate) simulation: Simulation,
}

impl Plan {
    /// Checks `settings` and plans the run.
    pub(crate) fn new(settings: &Settings) -> Result<Plan, SettingsError> {
        let checked = settings.check()?;
        let (accounts, regions, run) = (checked.accounts, checked.regions, checked.run);
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
                profiles.push(Profile::new(
                    settings.seed,
                    a,
                    r,
                    account,
                    region,
                    logs_global,
                ));
            }
        }
        let anomalies: Vec<Vec<Anomaly>> = profiles
            .iter()
            .enumerate()
            .map(|(i, profile)| {
                if !settings.anomalies {
                    return Vec::new();
                }
                let (a, r) = (i / regions.len(), i % regions.len());
                let seed =
                    ids::derive_seed(settings.seed, Stream::Anomalies, &[a as u64, r as u64]);
                let mut rng = seeded_rng(seed);
                traffic::plan_anomalies(profile, settings.scale, run, &mut rng)
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
        let simulation = Simulation {
            seed: settings.seed,
            days: settings.days,
            scale: settings.scale,
            start: settings.start.to_string(),
            accounts: accounts.clone(),
            regions: regions.clone(),
            anomalies: settings.anomalies,
        };
        Ok(Plan {
            seed: settings.seed,
            scale: settings.scale,
            threads: settings.threads,
            accounts,
            regions,
            run,
            profiles,
            anomalies,
            units,
            simulation,
        })
    }

    /// (account index, region index) of a profile, as random streams are keyed.
    pub(crate) fn indices(&self, account_region: usize) -> [u64; 2] {
        let regions = self.regions.len();
        [
            (account_region / regions) as u64,
            (account_region % regions) as u64,
        ]
    }

    /// The events of `unit` in time order, and its random stream, which delivery continues.
    pub(crate) fn unit_events(&self, unit: &Unit) -> (Vec<Event>, SimRng) {
        let [a, r] = self.indices(unit.account_region);
        let seed = ids::derive_seed(self.seed, Stream::Unit, &[a, r, unit.day as u64]);
        let mut rng = seeded_rng(seed);
        let profile = &self.profiles[unit.account_region];
        let anomalies = &self.anomalies[unit.account_region];
        let events = traffic::unit_events(profile, self.scale, unit.span, anomalies, &mut rng);
        (events, rng)
    }

    /// The injected anomalies of every account-region, in account-region order.
    pub(crate) fn labels(&self) -> Vec<Label> {
        self.anomalies
            .iter()
            .flatten()
            .map(|anomaly| anomaly.label.clone())
            .collect()
    }

    /// The worker threads the settings ask for.
    pub(crate) fn pool(&self) -> Result<rayon::ThreadPool, SimulateError> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads.unwrap_or(0))
            .build()
            .map_err(SimulateError::Threads)
    }
}

//! In-memory CloudTrail inputs for the benchmarks, made by the simulator (`trailsight-sim`):
//! realistic records as JSON documents, and the same records as engine events.
//!
//! Every workload is a seeded simulated trail, so inputs are identical on every run.

use trailsight_sim::{Accounts, Settings, SimulatedTrail, records_document, simulate};

/// Records one simulated account-region makes a day at scale 1, on average over a week that
/// starts on a Monday (about 22 000 on weekdays, 18 000 on weekends).
const RECORDS_PER_ACCOUNT_REGION_DAY: f64 = 21_000.0;

/// A simulated trail of about `records` records (within a few percent) over `days` days from
/// Monday 2024-03-04, in `accounts` accounts of us-east-1 (each an account-region with its own 83
/// API series), with the simulator's anomalies after the first eight days.
pub fn trail(records: usize, days: f64, accounts: usize, seed: u64) -> SimulatedTrail {
    let at_scale = |scale: f64| {
        simulate(&Settings {
            seed,
            days,
            scale,
            accounts: Accounts::Generated(accounts),
            ..Settings::default()
        })
        .expect("valid simulation settings")
    };
    // Volume is proportional to the scale, but each seed's account-regions have their own rate
    // multipliers: one trial run finds the scale that gives `records`.
    let guess = records as f64 / (RECORDS_PER_ACCOUNT_REGION_DAY * days * accounts as f64);
    let trial = at_scale(guess);
    at_scale(guess * records as f64 / trial.record_count().max(1) as f64)
}

/// The trail's records regrouped, in delivery order, into `{"Records":[...]}` documents of
/// `per_document` records (the last one may be shorter).
pub fn documents(trail: &SimulatedTrail, per_document: usize) -> Vec<Vec<u8>> {
    let records: Vec<&str> = trail.records().collect();
    records
        .chunks(per_document)
        .map(|chunk| records_document(chunk.iter().copied()))
        .collect()
}

//! Writing a simulated trail to a directory in CloudTrail's S3 layout, with `labels.json`.

use std::fmt;
use std::fs;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::delivery;
use crate::digest;
use crate::error::SimulateError;
use crate::ids::{self, Stream};
use crate::labels::{Label, LabelsFile};
use crate::plan::Plan;
use crate::settings::Settings;

/// What [`write_trail`] wrote.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailReport {
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

impl fmt::Display for TrailReport {
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

/// Generates the trail `settings` describe under `out_dir` (created if missing), as if it were
/// the S3 bucket: log files, digest files and `labels.json` (see the [crate] docs).
pub fn write_trail(settings: &Settings, out_dir: &Path) -> Result<TrailReport, SimulateError> {
    let plan = Plan::new(settings)?;
    fs::create_dir_all(out_dir).map_err(|source| SimulateError::CreateDir {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let bucket = {
        let suffix = ids::derive_seed(plan.seed, Stream::Run, &[]) as u32;
        format!("aws-cloudtrail-logs-{}-{suffix:08x}", plan.accounts[0])
    };
    let trail = digest::Trail {
        bucket: &bucket,
        home_region: &plan.regions[0],
        seed: plan.seed,
    };
    let pool = plan.pool()?;

    let (delivered, digests) = pool.install(|| -> Result<_, SimulateError> {
        let delivered: Vec<delivery::Delivered> = plan
            .units
            .par_iter()
            .map(|unit| {
                let (events, mut rng) = plan.unit_events(unit);
                let profile = &plan.profiles[unit.account_region];
                delivery::deliver(out_dir, profile, &events, &mut rng)
            })
            .collect::<Result<_, _>>()?;
        let mut files_by_profile = vec![Vec::new(); plan.profiles.len()];
        for (unit, output) in plan.units.iter().zip(&delivered) {
            files_by_profile[unit.account_region].extend(output.files.iter().cloned());
        }
        let digests: Vec<digest::Digests> = files_by_profile
            .into_par_iter()
            .enumerate()
            .map(|(i, files)| {
                let index = plan.indices(i);
                digest::write_digests(out_dir, &trail, &plan.profiles[i], index, plan.run, files)
            })
            .collect::<Result<_, _>>()?;
        Ok((delivered, digests))
    })?;

    let labels_file = LabelsFile {
        simulation: Some(plan.simulation.clone()),
        labels: plan.labels(),
    };
    // Plain structs of strings and numbers always serialise.
    let mut labels_json = serde_json::to_vec_pretty(&labels_file).expect("labels serialise");
    labels_json.push(b'\n');
    let labels_path = out_dir.join("labels.json");
    fs::write(&labels_path, &labels_json).map_err(|source| SimulateError::WriteFile {
        path: labels_path,
        source,
    })?;

    let sum = |f: fn(&delivery::Delivered) -> u64| delivered.iter().map(f).sum::<u64>();
    Ok(TrailReport {
        accounts: plan.accounts,
        regions: plan.regions,
        files: sum(|d| d.files.len() as u64),
        records: sum(|d| d.records),
        duplicates: sum(|d| d.duplicates),
        late_files: sum(|d| d.late_files),
        digest_files: digests.iter().map(|d| d.files).sum(),
        bytes: sum(|d| d.bytes) + digests.iter().map(|d| d.bytes).sum::<u64>(),
        anomalies: labels_file.labels,
    })
}

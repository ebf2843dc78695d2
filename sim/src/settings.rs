//! What to simulate: [`Settings`], and their validation into the run's accounts, Regions and
//! span.

use trailsight_engine::time::Timestamp;

use crate::error::SettingsError;
use crate::ids::{self, Stream};
use crate::traffic::Span;

/// Which accounts the trail covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accounts {
    /// This many accounts, with 12-digit ids drawn from the seed.
    Generated(usize),
    /// These account ids, in this order.
    Given(Vec<String>),
}

/// Everything a simulation depends on. The same settings give the same trail, byte for byte,
/// whatever `threads` is.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Seed of every random choice.
    pub seed: u64,
    /// Length of the simulated period in days; anomalies need at least 8.5.
    pub days: f64,
    /// Multiplier on every call rate; 1 gives about 20 000 records a day per account-region.
    pub scale: f64,
    /// Start of the simulated period.
    pub start: Timestamp,
    /// The accounts, generated or given.
    pub accounts: Accounts,
    /// Regions the trail logs; the first is the trail's home Region.
    pub regions: Vec<String>,
    /// Whether to inject labelled anomalies.
    pub anomalies: bool,
    /// Worker threads (`None`: all cores). Does not change the output.
    pub threads: Option<usize>,
}

impl Default for Settings {
    /// `trailsight simulate`'s defaults: seed 1, nine days from Monday 2024-03-04 00:00 UTC at
    /// scale 1, one generated account in us-east-1, with anomalies.
    fn default() -> Settings {
        Settings {
            seed: 1,
            days: 9.0,
            scale: 1.0,
            start: Timestamp(1_709_510_400),
            accounts: Accounts::Generated(1),
            regions: vec!["us-east-1".to_string()],
            anomalies: true,
            threads: None,
        }
    }
}

/// Settings checked, with the values the run needs.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) accounts: Vec<String>,
    pub(crate) regions: Vec<String>,
    /// The simulated period.
    pub(crate) run: Span,
}

impl Settings {
    /// Checks the settings, in the order `trailsight simulate` reports them.
    pub(crate) fn check(&self) -> Result<Checked, SettingsError> {
        if !(self.days.is_finite() && self.days > 0.0 && self.days <= 3660.0) {
            return Err(SettingsError::Days(self.days));
        }
        if !(self.scale.is_finite() && (0.0..=10_000.0).contains(&self.scale)) {
            return Err(SettingsError::Scale(self.scale));
        }
        if self.threads == Some(0) {
            return Err(SettingsError::NoThreads);
        }
        let regions = check_regions(&self.regions)?;
        let accounts = self.account_ids()?;
        let run = Span {
            start: self.start.0,
            end: self.start.0 + (self.days * 86_400.0).round() as i64,
        };
        if run.end <= run.start {
            return Err(SettingsError::ShorterThanASecond(self.days));
        }
        Ok(Checked {
            accounts,
            regions,
            run,
        })
    }

    /// The account ids of the run: the given ones, or as many as asked drawn from the seed.
    fn account_ids(&self) -> Result<Vec<String>, SettingsError> {
        let count = match &self.accounts {
            Accounts::Given(given) => {
                let mut ids: Vec<String> = Vec::new();
                for id in given {
                    let id = id.trim();
                    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(SettingsError::AccountId(id.to_string()));
                    }
                    if ids.iter().any(|i| i == id) {
                        return Err(SettingsError::AccountTwice(id.to_string()));
                    }
                    ids.push(id.to_string());
                }
                if ids.is_empty() {
                    return Err(SettingsError::NoAccountIds);
                }
                return Ok(ids);
            }
            &Accounts::Generated(count) => count,
        };
        if !(1..=1000).contains(&count) {
            return Err(SettingsError::AccountCount(count));
        }
        let mut ids: Vec<String> = Vec::with_capacity(count);
        let mut draw = 0u64;
        while ids.len() < count {
            let value = ids::derive_seed(self.seed, Stream::AccountId, &[draw]);
            draw += 1;
            // 12 digits without a leading zero, as most real account ids look.
            let id = format!("{}", 100_000_000_000 + value % 900_000_000_000);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}

fn check_regions(regions: &[String]) -> Result<Vec<String>, SettingsError> {
    if regions.is_empty() {
        return Err(SettingsError::NoRegions);
    }
    let mut seen: Vec<String> = Vec::new();
    for region in regions {
        let region = region.trim();
        let valid = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(SettingsError::RegionName(region.to_string()));
        }
        if seen.iter().any(|r| r == region) {
            return Err(SettingsError::RegionTwice(region.to_string()));
        }
        seen.push(region.to_string());
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_commands() {
        let settings = Settings::default();
        assert_eq!(settings.start.to_string(), "2024-03-04T00:00:00Z");
        let checked = settings.check().unwrap();
        assert_eq!(checked.regions, ["us-east-1"]);
        assert_eq!(checked.accounts.len(), 1);
        assert_eq!(checked.run.end - checked.run.start, 9 * 86_400);
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = |change: fn(&mut Settings)| {
            let mut settings = Settings::default();
            change(&mut settings);
            settings.check().unwrap_err().to_string()
        };
        assert!(bad(|s| s.days = f64::NAN).starts_with("days must be"));
        assert!(bad(|s| s.days = 1e-6).contains("shorter than a second"));
        assert!(bad(|s| s.scale = -1.0).starts_with("scale must be"));
        assert_eq!(bad(|s| s.threads = Some(0)), "threads must be at least 1");
        assert_eq!(bad(|s| s.regions.clear()), "no regions");
        assert_eq!(
            bad(|s| s.regions = vec!["US-EAST-1".into()]),
            "not a Region name: \"US-EAST-1\""
        );
        assert_eq!(
            bad(|s| s.regions = vec!["eu-west-1".into(), " eu-west-1".into()]),
            "Region eu-west-1 given twice"
        );
        assert_eq!(
            bad(|s| s.accounts = Accounts::Given(vec!["12345".into()])),
            "account ids have 12 digits: \"12345\""
        );
        assert_eq!(
            bad(|s| s.accounts = Accounts::Given(vec!["123456789012".into(); 2])),
            "account 123456789012 given twice"
        );
        assert_eq!(
            bad(|s| s.accounts = Accounts::Given(Vec::new())),
            "no account ids"
        );
        assert_eq!(
            bad(|s| s.accounts = Accounts::Generated(0)),
            "accounts must be in 1..=1000, not 0"
        );
    }

    #[test]
    fn generated_accounts_are_distinct_twelve_digit_ids() {
        let settings = Settings {
            accounts: Accounts::Generated(50),
            ..Settings::default()
        };
        let ids = settings.check().unwrap().accounts;
        assert_eq!(ids.len(), 50);
        for (i, id) in ids.iter().enumerate() {
            assert!(id.len() == 12 && !id.starts_with('0'), "{id}");
            assert!(!ids[..i].contains(id), "{id} twice");
        }
    }
}

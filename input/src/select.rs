//! Which trail files a run reads: `--accounts`, `--regions` and the delivery times a time
//! range needs. One rule for directories walked on disk and for S3 listings, which apply it to
//! whole folders (an account, a region, a day) before listing inside them.

use std::collections::BTreeSet;

use trailsight_engine::time::Minute;

use crate::trail::{delivery_time, trail_account_region};

/// Which trail files to read: accounts, regions and a range of delivery times. Files whose names
/// do not say (exports, JSON lines) are always read. The default selects everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Accounts to read (`--accounts`); all when `None`.
    pub accounts: Option<BTreeSet<String>>,
    /// Regions to read (`--regions`); all when `None`.
    pub regions: Option<BTreeSet<String>>,
    /// Earliest delivery time to read, inclusive (the history a `--since` needs).
    pub delivered_from: Option<Minute>,
    /// Latest delivery time to read, inclusive (`--until` plus lateness and delivery margin).
    pub delivered_until: Option<Minute>,
}

impl Selection {
    /// Whether the account (12 digits, as a folder or in a name) is selected.
    pub fn admits_account(&self, account: &str) -> bool {
        self.accounts
            .as_ref()
            .is_none_or(|set| set.contains(account))
    }

    /// Whether the region is selected.
    pub fn admits_region(&self, region: &str) -> bool {
        self.regions.as_ref().is_none_or(|set| set.contains(region))
    }

    /// Whether some minute of `first..=last` lies in the delivery range.
    pub fn admits_minutes(&self, first: Minute, last: Minute) -> bool {
        self.delivered_from.is_none_or(|from| last >= from)
            && self.delivered_until.is_none_or(|until| first <= until)
    }

    /// Whether a file of this name is selected: its account, region and delivery time, when
    /// the name carries them.
    pub fn admits_name(&self, name: &str) -> bool {
        if let Some((account, region)) = trail_account_region(name)
            && !(self.admits_account(account) && self.admits_region(region))
        {
            return false;
        }
        delivery_time(name).is_none_or(|minute| self.admits_minutes(minute, minute))
    }

    /// Whether this selects everything.
    pub fn is_everything(&self) -> bool {
        *self == Selection::default()
    }
}

//! The simulator's errors: settings it cannot simulate, and files it could not write.

use std::io;
use std::path::PathBuf;

/// Settings that describe no trail the simulator can make.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `days` is not finite, not positive, or more than ten years.
    #[error("days must be in (0, 3660], not {0}")]
    Days(f64),
    /// `days` rounds to no whole second.
    #[error("days ({0}) is shorter than a second")]
    ShorterThanASecond(f64),
    /// `scale` is not finite, negative, or over 10 000.
    #[error("scale must be in [0, 10000], not {0}")]
    Scale(f64),
    /// `threads` is `Some(0)`.
    #[error("threads must be at least 1")]
    NoThreads,
    /// `regions` is empty.
    #[error("no regions")]
    NoRegions,
    /// A Region name with characters other than lowercase letters, digits and `-`.
    #[error("not a Region name: {0:?}")]
    RegionName(String),
    /// The same Region twice.
    #[error("Region {0} given twice")]
    RegionTwice(String),
    /// A given account id that is not 12 digits.
    #[error("account ids have 12 digits: {0:?}")]
    AccountId(String),
    /// The same account id twice.
    #[error("account {0} given twice")]
    AccountTwice(String),
    /// [`Accounts::Given`](crate::Accounts::Given) with no ids.
    #[error("no account ids")]
    NoAccountIds,
    /// [`Accounts::Generated`](crate::Accounts::Generated) outside 1..=1000.
    #[error("accounts must be in 1..=1000, not {0}")]
    AccountCount(usize),
}

/// Why a simulation failed.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The settings describe no trail.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The worker thread pool could not be started.
    #[error("starting worker threads")]
    Threads(#[source] rayon::ThreadPoolBuildError),
    /// A directory of the trail could not be created.
    #[error("creating {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
    /// A file of the trail could not be written.
    #[error("writing {}", path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
}

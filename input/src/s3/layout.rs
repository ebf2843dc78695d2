//! Listing a prefix along CloudTrail's layout,
//! `AWSLogs/[o-id/]<account>/CloudTrail/<region>/YYYY/MM/DD/`, so that only what a
//! [`Selection`] needs is listed: delimiter listings find accounts (through the organisation
//! level), then regions, then years, months and days, and only the folders the selection admits
//! are listed further. `CloudTrail-Digest/` and `CloudTrail-Aggregated/` are never listed. A day
//! folder is listed whole (recursively, no delimiter); folders outside the layout are listed one
//! level at a time, so that an `AWSLogs/` under a trail's own key prefix is still found.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use trailsight_engine::time::{Minute, Timestamp};

use super::client::{Page, Store, count_listed};
use super::error::{S3Error, S3Fault};
use super::types::{ListedObject, Listing, S3Url};
use crate::select::Selection;
use crate::trail::skip_reason;

/// Slack, in days, around a day folder's date when pruning by delivery time: a file's folder
/// and the delivery time in its name may straddle midnight; the name decides exactly.
const FOLDER_SLACK_DAYS: i64 = 1;

/// Where a prefix is in the layout: what its next part names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    /// Outside the layout: listed one level at a time, to find an `AWSLogs/` below (trails
    /// may deliver under a key prefix of their own).
    Free,
    /// Under `AWSLogs/`: accounts, or an organisation ID.
    Accounts,
    /// Under an account: `CloudTrail/`, `CloudTrail-Insight/`, `CloudTrail-Digest/`...
    Services,
    /// Under `CloudTrail/`: regions.
    Regions,
    /// Under a region: years.
    Years,
    /// Under a year: months.
    Months(i64),
    /// Under a month: days.
    Days(i64, i64),
    /// A day folder: its objects.
    Day,
    /// Below a day folder: listed whole.
    Whole,
}

impl Level {
    /// Where `part` leads from here, or `None` when the selection prunes it.
    fn child(self, part: &str, selection: &Selection) -> Option<Level> {
        let number = |digits: usize| {
            (part.len() == digits && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<i64>().ok())
                .flatten()
        };
        match self {
            Level::Free => Some(if part == "AWSLogs" {
                Level::Accounts
            } else {
                Level::Free
            }),
            Level::Accounts if part.starts_with("o-") => Some(Level::Accounts),
            Level::Accounts if number(12).is_some() => {
                selection.admits_account(part).then_some(Level::Services)
            }
            Level::Services => match part {
                "CloudTrail" | "CloudTrail-Insight" => Some(Level::Regions),
                "CloudTrail-Digest" | "CloudTrail-Aggregated" => None,
                _ => Some(Level::Free),
            },
            Level::Regions => selection.admits_region(part).then_some(Level::Years),
            Level::Years => match number(4) {
                Some(year) => admits_days(selection, (year, 1, 1), (year + 1, 1, 1))
                    .then_some(Level::Months(year)),
                None => Some(Level::Free),
            },
            Level::Months(year) => match number(2).filter(|m| (1..=12).contains(m)) {
                Some(month) => {
                    let next = if month == 12 {
                        (year + 1, 1, 1)
                    } else {
                        (year, month + 1, 1)
                    };
                    admits_days(selection, (year, month, 1), next)
                        .then_some(Level::Days(year, month))
                }
                None => Some(Level::Free),
            },
            Level::Days(year, month) => match number(2).filter(|d| (1..=31).contains(d)) {
                Some(day) => {
                    let first = civil_minute((year, month, day));
                    let admitted = first.is_none_or(|first| {
                        selection.admits_minutes(
                            first.plus(-FOLDER_SLACK_DAYS * 1440),
                            first.plus((1 + FOLDER_SLACK_DAYS) * 1440 - 1),
                        )
                    });
                    admitted.then_some(Level::Day)
                }
                None => Some(Level::Free),
            },
            Level::Accounts => Some(Level::Free),
            Level::Day | Level::Whole => Some(Level::Whole),
        }
    }

    /// Whether this folder is listed one level at a time (to prune what is under it), or whole.
    fn delimited(self) -> bool {
        !matches!(self, Level::Day | Level::Whole)
    }
}

/// 00:00 of a civil date, if it is one.
fn civil_minute((year, month, day): (i64, i64, i64)) -> Option<Minute> {
    Timestamp::parse(&format!("{year:04}-{month:02}-{day:02}T00:00:00Z"))
        .ok()
        .map(Timestamp::minute)
}

/// Whether any delivery time from `first` (a date) up to `next` (the date after the folder)
/// is selected, with the folder slack.
fn admits_days(selection: &Selection, first: (i64, i64, i64), next: (i64, i64, i64)) -> bool {
    match (civil_minute(first), civil_minute(next)) {
        (Some(first), Some(next)) => selection.admits_minutes(
            first.plus(-FOLDER_SLACK_DAYS * 1440),
            next.plus(FOLDER_SLACK_DAYS * 1440 - 1),
        ),
        _ => true,
    }
}

/// See [`super::list`].
pub(super) fn list(
    store: &Arc<Store>,
    url: &S3Url,
    selection: &Selection,
) -> Result<Listing, S3Error> {
    store.runtime.block_on(list_async(store, url, selection))
}

async fn list_async(
    store: &Arc<Store>,
    url: &S3Url,
    selection: &Selection,
) -> Result<Listing, S3Error> {
    let bucket = url.bucket.as_str();
    let location = format!("s3://{bucket}/{}", url.prefix);
    let mut root = url.prefix.clone();
    if !root.is_empty() && !root.ends_with('/') {
        // A key named exactly (read whatever its name, as a file named on the command line), or
        // a folder given without its slash.
        let page = store.list_level(bucket, &root, true).await?;
        if let Some((key, size)) = page.objects.iter().find(|(key, _)| *key == root) {
            count_listed(1, *size);
            return Ok(Listing {
                objects: vec![ListedObject {
                    bucket: bucket.to_owned(),
                    key: key.clone(),
                    size_bytes: *size,
                }],
                ..Listing::default()
            });
        }
        root.push('/');
        if !page.prefixes.contains(&root) {
            return Err(S3Error::new(&location, S3Fault::NotFound));
        }
    }
    let mut level = Level::Free;
    for part in root.split('/').filter(|part| !part.is_empty()) {
        // Parts named in the URL are not pruned; the names of the objects under them still are.
        level = level
            .child(part, &Selection::default())
            .unwrap_or(Level::Free);
    }
    let permits = Arc::new(Semaphore::new(store.options.concurrency.max(1)));
    let mut listing = Listing::default();
    let mut frontier = vec![(root.clone(), level)];
    let mut anything = false;
    while !frontier.is_empty() {
        let mut tasks = JoinSet::new();
        for (prefix, level) in frontier.drain(..) {
            let (store, permits, bucket) =
                (Arc::clone(store), Arc::clone(&permits), bucket.to_owned());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let page = store.list_level(&bucket, &prefix, level.delimited()).await;
                (prefix, level, page)
            });
        }
        let mut pages: Vec<(String, Level, Result<Page, S3Error>)> = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let done = joined.map_err(|error| {
                S3Error::new(&location, S3Fault::Setup(format!("listing task: {error}")))
            })?;
            pages.push(done);
        }
        // Sorted, so that the error reported (and the next frontier) does not depend on which
        // listing finished first.
        pages.sort_by(|a, b| a.0.cmp(&b.0));
        for (prefix, level, page) in pages {
            let page = page?;
            anything |= !page.objects.is_empty() || !page.prefixes.is_empty();
            for (key, size_bytes) in page.objects {
                let relative = key.strip_prefix(&root).unwrap_or(&key);
                let name = relative.rsplit('/').next().unwrap_or(relative);
                let reason = skip_reason(Path::new(relative)).or_else(|| {
                    (!selection.admits_name(name)).then_some(crate::trail::SkipReason::NotSelected)
                });
                match reason {
                    Some(reason) => *listing.skipped.entry(reason).or_insert(0) += 1,
                    None => {
                        count_listed(1, size_bytes);
                        listing.objects.push(ListedObject {
                            bucket: bucket.to_owned(),
                            key,
                            size_bytes,
                        });
                    }
                }
            }
            for child in page.prefixes {
                let part = child[prefix.len()..].trim_end_matches('/');
                if let Some(next) = level.child(part, selection) {
                    frontier.push((child, next));
                }
            }
        }
    }
    if !anything {
        return Err(S3Error::new(&location, S3Fault::NotFound));
    }
    listing.objects.sort();
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(parts: &[&str], selection: &Selection) -> Option<Level> {
        parts
            .iter()
            .try_fold(Level::Free, |level, part| level.child(part, selection))
    }

    #[test]
    fn the_layout_is_followed_through_organisations_and_pruned() {
        let all = Selection::default();
        let org = [
            "AWSLogs",
            "o-abc",
            "111111111111",
            "CloudTrail",
            "eu-west-1",
        ];
        assert_eq!(walk(&org, &all), Some(Level::Years));
        assert_eq!(
            walk(&["AWSLogs", "111111111111", "CloudTrail-Digest"], &all),
            None
        );
        let picky = Selection {
            accounts: Some(["222222222222".to_owned()].into()),
            regions: Some(["us-east-1".to_owned()].into()),
            delivered_from: civil_minute((2024, 3, 10)),
            delivered_until: civil_minute((2024, 3, 12)),
        };
        assert_eq!(walk(&org, &picky), None);
        let day = |d: &str| {
            walk(
                &[
                    "AWSLogs",
                    "222222222222",
                    "CloudTrail",
                    "us-east-1",
                    "2024",
                    "03",
                    d,
                ],
                &picky,
            )
        };
        // One day of slack either side of the range.
        assert_eq!(day("08"), None);
        assert_eq!(day("09"), Some(Level::Day));
        assert_eq!(day("13"), Some(Level::Day));
        assert_eq!(day("14"), None);
        assert_eq!(
            walk(
                &["AWSLogs", "222222222222", "CloudTrail", "us-east-1", "2023"],
                &picky
            ),
            None
        );
        // Outside the layout nothing is pruned.
        assert_eq!(walk(&["exports", "2020"], &picky), Some(Level::Free));
    }
}

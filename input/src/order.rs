//! The counting order: the one rule by which every reader hands files to a detector, so that
//! the command, the Python package and the Spark job count the same files in the same order and
//! decide the same records.
//!
//! CloudTrail files are counted by the delivery time in their name (the `YYYYMMDDTHHmmZ` in
//! `<acct>_CloudTrail_<region>_<time>_<id>.json.gz`), which is the order CloudTrail wrote them,
//! so event time only moves forward across files except for the few records CloudTrail delivers
//! late. Other files (exports, `lookup-events` output, JSON lines) have no delivery time and are
//! placed by their earliest event, which needs them parsed first. Ties go by source (paths by
//! component), so the order does not depend on the order files were found or given in.

use std::cmp::Ordering;

use trailsight_engine::time::Minute;

use crate::discover::Source;

/// The counting order of two files, each given by its time (the delivery time of a CloudTrail
/// file, the earliest event of any other file; `None` for a file with neither, which goes
/// first) and its source.
pub fn counting_order(a: (Option<Minute>, &Source), b: (Option<Minute>, &Source)) -> Ordering {
    a.cmp(&b)
}

/// Sorts `items` into the counting order of the time and source `key` gives for each (a stable
/// sort: items with equal keys keep their order).
pub fn sort_for_counting<T>(items: &mut [T], key: impl Fn(&T) -> (Option<Minute>, &Source)) {
    items.sort_by(|a, b| counting_order(key(a), key(b)));
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn time_first_then_path_by_component() {
        let path = |p: &str| Source::Path(PathBuf::from(p));
        let mut files = vec![
            (Some(Minute(10)), path("b/x.json")),
            (Some(Minute(10)), path("a-b/x.json")),
            (Some(Minute(10)), path("a/x.json")),
            (None, path("z.json")),
            (Some(Minute(5)), path("y.json")),
        ];
        sort_for_counting(&mut files, |(time, source)| (*time, source));
        let names: Vec<String> = files.iter().map(|(_, s)| s.to_string()).collect();
        // "a/x" before "a-b/x": components compare, not bytes ('-' < '/').
        assert_eq!(
            names,
            ["z.json", "y.json", "a/x.json", "a-b/x.json", "b/x.json"]
        );
    }
}

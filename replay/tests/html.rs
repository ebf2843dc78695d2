//! `--html` end to end: the report of `detect` and of `replay` on the sample trail holds one
//! chart and one table row per insight, the verdicts of a replay, the trail's summary, nothing
//! that reaches beyond the file, and the same bytes for the same input.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn trailsight(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(args)
        .output()
        .expect("trailsight runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `detect --html` on the sample trail: the records on stdout and the page.
fn detect(dir: &Path, threads: &str) -> (String, String) {
    let html = dir.join(format!("detect-{threads}.html"));
    let sample = fixtures().join("sample-trail");
    let output = trailsight(&[
        "detect",
        "-q",
        "-j",
        threads,
        p(&sample),
        "--html",
        p(&html),
    ]);
    (
        String::from_utf8(output.stdout).unwrap(),
        fs::read_to_string(html).unwrap(),
    )
}

fn insights(jsonl: &str) -> BTreeSet<String> {
    jsonl
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            record["sharedEventID"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

/// Nothing the browser would fetch: no external scripts, styles, images, frames or fonts.
fn assert_self_contained(html: &str) {
    for needle in ["<script src", "<link", "<img", "<iframe", "@import", "url("] {
        assert_eq!(count(html, needle), 0, "{needle}");
    }
}

#[test]
fn detect_report_has_a_chart_and_a_row_per_insight() {
    let dir = tempfile::tempdir().unwrap();
    let (jsonl, html) = detect(dir.path(), "2");
    let ids = insights(&jsonl);
    assert!(ids.len() > 10, "{}", ids.len());
    assert_eq!(count(&html, "<svg class=\"chart\""), ids.len());
    assert_eq!(count(&html, "<tr data-i="), ids.len());
    assert_eq!(count(&html, "<article class=\"insight\""), ids.len());
    for id in &ids {
        assert!(html.contains(id.as_str()), "{id}");
    }
    // Every insight trailsight found has its threshold, baseline and Start/End drawn.
    assert_eq!(count(&html, "<line class=\"threshold\""), ids.len());
    assert_eq!(count(&html, "<line class=\"baseline\""), ids.len());
    assert!(count(&html, ">Start</text>") >= ids.len() - 2);
    // The summary: the trail's span, account and region, records and insights by type.
    for needle in [
        "2023-07-02 ",
        "123837392027",
        "us-east-1",
        "9,149",
        "ApiCallRateInsight",
        "calls per minute",
        "UTC",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_self_contained(&html);
}

#[test]
fn detect_report_is_the_same_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (_, one) = detect(dir.path(), "1");
    let (_, two) = detect(dir.path(), "2");
    assert!(one == two, "the page differs between -j 1 and -j 2");
}

/// trailsight's own records as the reference: every row matched and reproduced, and each chart
/// shows both intervals.
#[test]
fn replay_report_shows_both_sides_and_every_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let (jsonl, _) = detect(dir.path(), "2");
    let ids = insights(&jsonl);
    let reference = dir.path().join("reference.jsonl");
    fs::write(&reference, &jsonl).unwrap();
    let html = dir.path().join("replay.html");
    let sample = fixtures().join("sample-trail");
    trailsight(&[
        "replay",
        "-q",
        p(&sample),
        "-r",
        p(&reference),
        "--html",
        p(&html),
    ]);
    let html = fs::read_to_string(html).unwrap();
    let n = ids.len();
    assert_eq!(count(&html, "<svg class=\"chart\""), n);
    assert_eq!(count(&html, "<tr data-i="), n);
    assert_eq!(count(&html, "<rect class=\"band aws\""), n);
    assert_eq!(count(&html, "<rect class=\"band ours\""), n);
    // In the table and on each card.
    assert_eq!(count(&html, "v-reproduced\">reproduced</span>"), 2 * n);
    assert_eq!(count(&html, "s-matched\">matched</span>"), 2 * n);
    assert!(html.contains(&format!("{n} matched, 0 missed, 0 extra")));
    assert!(html.contains(&format!("{n} reproduced")));
    assert_self_contained(&html);
}

#[test]
fn standard_input_is_refused_since_it_cannot_be_read_twice() {
    let output = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(["detect", "-", "--html", "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be standard input"));
}

#[test]
fn a_trail_without_insights_gives_an_empty_report() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("empty.html");
    let seed = fixtures().join("golden/seed-complete-lifecycle-action.jsonl");
    // Insights records only: read, set aside, no events.
    trailsight(&["detect", "-q", p(&seed), "--html", p(&html)]);
    let html = fs::read_to_string(html).unwrap();
    assert_eq!(count(&html, "<svg class=\"chart\""), 0);
    assert!(html.contains("trailsight detect: 0 insights"));
    assert!(html.contains("no events"));
}

//! The fidelity targets of docs/fidelity.md on one small labelled scenario: `trailsight
//! simulate` (seed 1, ten days, one account-region: two days of anomalies after the baseline),
//! then `trailsight replay --labels`, at the default sensitivity. The full table over twenty
//! seeds comes from `scripts/fidelity.sh`.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn trailsight(args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "trailsight {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The `labels` section of `replay --labels LABELS --report`.
fn score(trail: &Path, labels: &Path, report: &Path) -> Value {
    let logs = trail.join("AWSLogs");
    trailsight(&[
        "replay",
        logs.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "-q",
    ]);
    let report: Value = serde_json::from_slice(&fs::read(report).unwrap()).unwrap();
    report["labels"].clone()
}

#[test]
fn the_scenario_of_seed_1_meets_every_target() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    trailsight(&[
        "simulate",
        trail.to_str().unwrap(),
        "--seed",
        "1",
        "--days",
        "10",
    ]);
    let labels = trail.join("labels.json");
    let s = score(&trail, &labels, &dir.path().join("report.json"));

    assert_eq!(s["anomalies"], 12, "{s:#}");
    assert_eq!(s["controls"], 4);
    assert_eq!(s["account_region_days"], 3.0);
    for kind in [
        "rare_burst",
        "write_surge",
        "error_storm",
        "sustained_increase",
        "new_principal",
        "drop_to_zero",
    ] {
        let k = &s["by_kind"][kind];
        assert_eq!(k["hits"], k["labels"], "{kind}: {k}");
    }
    assert!(s["recall"].as_f64().unwrap() >= 0.95);
    assert_eq!(s["controls_fired"], 0);
    assert_eq!(s["false_positives"].as_array().unwrap().len(), 0, "{s:#}");
    assert!(s["burst_onset_max_minutes"].as_i64().unwrap() <= 5);
    for target in ["recall", "controls", "false_positives", "onset"] {
        assert_eq!(s["targets"][target], true, "{target}");
    }

    // The scoring can fail: move one burst a day later in the labels, and the insight that
    // detected it becomes a false positive while the moved label is missed.
    let mut file: Value = serde_json::from_slice(&fs::read(&labels).unwrap()).unwrap();
    let moved = file["labels"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|l| l["kind"] == "rare_burst")
        .unwrap();
    for field in ["start", "end"] {
        let time = moved[field].as_str().unwrap().to_string();
        let day: u32 = time[8..10].parse().unwrap();
        moved[field] = Value::from(format!("{}{:02}{}", &time[..8], day + 1, &time[10..]));
    }
    let shifted = dir.path().join("shifted.json");
    fs::write(&shifted, serde_json::to_vec(&file).unwrap()).unwrap();
    let s = score(&trail, &shifted, &dir.path().join("shifted-report.json"));
    assert_eq!(s["by_kind"]["rare_burst"]["hits"], 1, "{s:#}");
    assert_eq!(s["false_positives"].as_array().unwrap().len(), 1);
    assert_eq!(s["targets"]["recall"], false);
    assert_eq!(s["targets"]["false_positives"], false);
}

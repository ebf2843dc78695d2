//! `trailsight explain`: one insight, AWS's or trailsight's, laid out against the trail: its
//! key and numbers, the per-minute series around it, the raw events behind it and who made
//! them.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;
use serde_json::Value;
use trailsight_engine::Detector;
use trailsight_engine::insight::format_average;
use trailsight_engine::reference::{InsightInterval, PairingProblem};
use trailsight_engine::time::{MINUTES_PER_DAY, Minute};
use trailsight_input::{InputFile, discover, records_at};

use crate::args::{DetectorArgs, RunArgs};
use crate::format::{cut_end, minute_short};
use crate::progress::Progress;
use crate::recount::{
    Detail, RecountSettings, Target, TargetResult, ranked, recount, recount_options, series_span,
};
use crate::replay::references::{Origin, References};
use crate::replay::report::shape;
use crate::replay::validate::category;
use crate::run::{RunSettings, discover_trail, our_intervals, refuse_standard_input, run_detector};
use crate::summary::Stopwatch;

/// Arguments of `trailsight explain`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).multiple(true).args(["insight", "id"])))]
pub struct ExplainArgs {
    /// The trail: CloudTrail files or directories, as for `detect`.
    #[arg(long, required = true, num_args = 1.., value_name = "TRAIL")]
    pub trail: Vec<PathBuf>,

    /// A file with the insight's records (any format `replay --reference` reads). With several
    /// insights in it, choose one with --id.
    #[arg(long, value_name = "FILE")]
    pub insight: Option<PathBuf>,

    /// The insight's sharedEventID: looked up in --insight, else in the Insights records found
    /// in the trail, else among the insights trailsight finds in it.
    #[arg(long, value_name = "SHARED_EVENT_ID")]
    pub id: Option<String>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,

    /// Minutes shown before and after the insight in the per-minute series [default: 15].
    #[arg(long, value_name = "MINUTES", default_value_t = 15)]
    pub context_minutes: u32,

    /// Most raw events listed, earliest first [default: 50].
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub max_events: usize,

    #[command(flatten)]
    pub detector: DetectorArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

/// Error lines printed per file of the trail (`explain` has no `--max-errors-per-file`).
const EXPLAIN_ERRORS_PER_FILE: usize = 10;

/// Rows of the text series at most; longer spans are shown in totals of several minutes.
const MAX_ROWS: i64 = 240;

/// The insight found, and where.
struct Found {
    interval: InsightInterval,
    /// `reference` (a file or the trail's Insights records) or `trailsight` (the detector).
    side: &'static str,
    sources: Vec<String>,
}

/// Runs `trailsight explain`.
pub fn run(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    refuse_standard_input(&args.trail, "the trail is read twice")?;
    let config = args.detector.config()?;
    let threads = args.run.threads();
    let limits = args.detector.read_limits();
    let stderr = io::stderr();
    let mut err = stderr.lock();
    let found = match &args.insight {
        Some(path) => {
            let mut references = References::default();
            references.read_files(&discover(std::slice::from_ref(path)).files, &limits);
            for error in &references.errors {
                writeln!(err, "trailsight: error: {error}")?;
            }
            choose(references, args.id.as_deref(), "reference")?
        }
        None => {
            let id = args.id.as_deref().unwrap_or_default();
            let mut detector = Detector::new(config.clone())?;
            let clock = Stopwatch::start();
            let discovery = discover_trail(&args.trail, &mut err)?;
            let settings = RunSettings {
                threads,
                limits,
                max_errors_per_file: EXPLAIN_ERRORS_PER_FILE,
                quiet: args.run.quiet,
            };
            let trail = run_detector(discovery, &mut detector, &settings, clock, &mut err)?;
            let mut references = References::default();
            for found in &trail.insights {
                references.add_json(&found.json, Origin::of_file(&found.file));
            }
            match choose(references, Some(id), "reference") {
                Ok(found) => found,
                Err(_) => our_intervals(&trail.records)
                    .into_iter()
                    .find(|i| i.shared_event_id == id)
                    .map(|interval| Found {
                        interval,
                        side: "trailsight",
                        sources: Vec::new(),
                    })
                    .with_context(|| {
                        format!(
                            "no insight with sharedEventID {id} among the trail's Insights records or the insights trailsight finds in it"
                        )
                    })?,
            }
        }
    };
    let explanation = explain(args, &config, threads, found)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = if args.json {
        serde_json::to_writer_pretty(&mut out, &explanation)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(out))
    } else {
        explanation.print(&mut out)
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing to stdout")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The one insight of `references` with `id` (or the only one).
fn choose(references: References, id: Option<&str>, side: &'static str) -> anyhow::Result<Found> {
    let (pairing, origins) = references.pair();
    for problem in &pairing.problems {
        let (problem_id, what) = match problem {
            PairingProblem::Conflict {
                shared_event_id,
                state,
                dropped,
                ..
            } => (
                shared_event_id,
                format!(
                    "a second {state:?} record ({}) disagrees with the one kept and was left out",
                    dropped.as_deref().unwrap_or("no eventID")
                ),
            ),
            PairingProblem::Mismatch {
                shared_event_id,
                reason,
            } => (
                shared_event_id,
                format!("its Start and End were kept apart: {reason}"),
            ),
        };
        if id.is_none_or(|id| id == problem_id) {
            eprintln!("trailsight: warning: sharedEventID {problem_id}: {what}");
        }
    }
    let mut candidates: Vec<(InsightInterval, Vec<Origin>)> = pairing
        .intervals
        .into_iter()
        .zip(origins)
        .filter(|(i, _)| id.is_none_or(|id| i.shared_event_id == id))
        .collect();
    match candidates.len() {
        1 => {
            let (interval, origins) = candidates.remove(0);
            Ok(Found {
                interval,
                side,
                sources: origins.iter().map(Origin::to_string).collect(),
            })
        }
        0 => match id {
            Some(id) => bail!("no insight with sharedEventID {id}"),
            None => bail!("no Insights record found"),
        },
        n if id.is_some() => {
            // One ID, several insights (a Start and an End of different series kept apart, say):
            // --id cannot tell them apart, so the earliest is explained and the others named.
            candidates.sort_by(|a, b| (a.0.first_minute(), &a.1).cmp(&(b.0.first_minute(), &b.1)));
            let describe = |(interval, origins): &(InsightInterval, Vec<Origin>)| {
                let from: Vec<String> = origins.iter().map(Origin::to_string).collect();
                format!(
                    "the one starting {} ({})",
                    interval
                        .first_minute()
                        .map_or_else(|| "at no known time".to_owned(), |m| m.to_string()),
                    from.join(", ")
                )
            };
            let others: Vec<String> = candidates[1..].iter().map(describe).collect();
            eprintln!(
                "trailsight: warning: {n} insights share sharedEventID {}: explaining {}; not {}",
                id.unwrap_or_default(),
                describe(&candidates[0]),
                others.join(", nor ")
            );
            let (interval, origins) = candidates.swap_remove(0);
            Ok(Found {
                interval,
                side,
                sources: origins.iter().map(Origin::to_string).collect(),
            })
        }
        n => {
            let ids: Vec<&str> = candidates
                .iter()
                .take(20)
                .map(|(i, _)| i.shared_event_id.as_str())
                .collect();
            bail!(
                "{n} insights found; choose one with --id: {}{}",
                ids.join(", "),
                if n > ids.len() { ", ..." } else { "" }
            )
        }
    }
}

/// A window of the explanation, with its events.
#[derive(Debug, Serialize)]
struct WindowSummary {
    #[serde(serialize_with = "crate::format::minute_text")]
    from: Minute,
    #[serde(serialize_with = "crate::format::minute_text")]
    to: Minute,
    minutes: u64,
    events: u64,
    mean_per_minute: f64,
    /// How the window was chosen.
    rule: &'static str,
}

impl WindowSummary {
    fn new((from, to): (Minute, Minute), events: u64, rule: &'static str) -> WindowSummary {
        let minutes = to.minutes_since(from).max(1) as u64;
        WindowSummary {
            from,
            to,
            minutes,
            events,
            mean_per_minute: events as f64 / minutes as f64,
            rule,
        }
    }
}

#[derive(Debug, Serialize)]
struct SeriesPoint {
    #[serde(serialize_with = "crate::format::minute_text")]
    minute: Minute,
    events: u64,
    in_insight: bool,
}

#[derive(Debug, Serialize)]
struct RawEvent {
    event_time: String,
    event_id: Option<String>,
    principal: String,
    source_ip: Option<String>,
    user_agent: Option<String>,
    error_code: Option<String>,
    request_summary: String,
    request_parameters: Value,
    source: String,
}

#[derive(Debug, Serialize)]
struct Counted {
    value: String,
    events: u64,
}

#[derive(Debug, Serialize)]
struct Top {
    principals: Vec<Counted>,
    source_ips: Vec<Counted>,
    user_agents: Vec<Counted>,
}

#[derive(Debug, Serialize)]
struct Events {
    /// Distinct events in the insight window.
    total: u64,
    /// Listed below, earliest first.
    shown: u64,
    /// Copies of a listed event (same `eventID`), not counted.
    duplicates: u64,
    list: Vec<RawEvent>,
}

#[derive(Debug, Serialize)]
struct InsightSummary {
    shared_event_id: String,
    side: &'static str,
    sources: Vec<String>,
    key: trailsight_engine::SeriesKey,
    category: &'static str,
    records: &'static str,
    #[serde(serialize_with = "crate::format::minute_text")]
    first_minute: Minute,
    end_minute: Option<String>,
    start: Option<trailsight_engine::reference::ReferenceInsight>,
    end: Option<trailsight_engine::reference::ReferenceInsight>,
}

/// Everything `explain` prints.
#[derive(Debug, Serialize)]
struct Explanation {
    insight: InsightSummary,
    baseline: WindowSummary,
    insight_window: WindowSummary,
    series: Vec<SeriesPoint>,
    events: Events,
    top: Top,
}

fn explain(
    args: &ExplainArgs,
    config: &trailsight_engine::DetectorConfig,
    threads: usize,
    found: Found,
) -> anyhow::Result<Explanation> {
    let interval = &found.interval;
    let (first, end) = interval.known_span();
    let insight_rule = match (&interval.start, &interval.end) {
        (Some(_), Some(_)) => "from the Start to the End",
        (Some(_), None) => "no End: the Start's insightDuration",
        _ if interval.first_minute().is_some() => "no Start: the End's insightDuration before it",
        _ => "no Start and no insightDuration: the End's last minute",
    };
    let baseline_minutes = interval
        .start
        .iter()
        .chain(&interval.end)
        .find_map(|r| r.baseline_duration())
        .map_or(7 * MINUTES_PER_DAY + first.minute_of_day(), |d| d as i64);
    let baseline_rule = if interval
        .start
        .iter()
        .chain(&interval.end)
        .any(|r| r.baseline_duration().is_some())
    {
        "the record's baselineDuration"
    } else {
        "from 00:00 UTC seven days before the start's day"
    };
    let baseline = (first.plus(-baseline_minutes), first);
    let series = series_span(first, end, i64::from(args.context_minutes));
    let target = Target {
        key: interval.key.clone(),
        category: category(interval),
        windows: vec![baseline, (first, end)],
        series: Some(series),
        details: Some((first, end)),
    };
    let discovery = discover(&args.trail);
    let settings = RecountSettings {
        threads,
        max_details: args.max_events,
        limits: args.detector.read_limits(),
    };
    let mut scanned = recount(
        &discovery.files,
        std::slice::from_ref(&target),
        &recount_options(config),
        settings,
        &mut Progress::hidden(),
    )?;
    let result: TargetResult = scanned.targets.pop().unwrap_or_default();
    let window_events = |i: usize| result.windows.get(i).map_or(0, |w| w.events);
    let points = (series.0.0..series.1.0)
        .map(Minute)
        .map(|m| SeriesPoint {
            minute: m,
            events: result.series.get(&m).copied().unwrap_or(0),
            in_insight: first <= m && m < end,
        })
        .collect();
    // Request parameters are read again from the files, only for the events listed.
    let mut by_file: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, d) in result.details.iter().enumerate() {
        by_file.entry(d.file).or_default().push(i);
    }
    let mut parameters: Vec<Value> = vec![Value::Null; result.details.len()];
    for (file, indexes) in by_file {
        let Some(input) = discovery.files.get(file) else {
            continue;
        };
        let offsets: Vec<u64> = indexes
            .iter()
            .map(|&i| result.details[i].location.byte_offset)
            .collect();
        let records = records_at(&input.source, &settings.limits, &offsets);
        for (i, record) in indexes.into_iter().zip(records) {
            parameters[i] = record
                .ok()
                .and_then(|mut r| r.get_mut("requestParameters").map(Value::take))
                .unwrap_or(Value::Null);
        }
    }
    let list = result
        .details
        .iter()
        .zip(parameters)
        .map(|(d, p)| raw_event(d, p, &discovery.files))
        .collect::<Vec<_>>();
    let top = |i: usize| -> Vec<Counted> {
        ranked(&result.detail_values[i])
            .into_iter()
            .take(10)
            .map(|(value, events)| Counted { value, events })
            .collect()
    };
    Ok(Explanation {
        insight: InsightSummary {
            shared_event_id: interval.shared_event_id.clone(),
            side: found.side,
            sources: found.sources.clone(),
            key: interval.key.clone(),
            category: category(interval).as_str(),
            records: shape(interval),
            first_minute: first,
            end_minute: interval.end_minute().map(|m| m.to_string()),
            start: interval.start.clone(),
            end: interval.end.clone(),
        },
        baseline: WindowSummary::new(baseline, window_events(0), baseline_rule),
        insight_window: WindowSummary::new((first, end), window_events(1), insight_rule),
        series: points,
        events: Events {
            total: result.detail_events,
            shown: list.len() as u64,
            duplicates: result.duplicates,
            list,
        },
        top: Top {
            principals: top(0),
            source_ips: top(1),
            user_agents: top(2),
        },
    })
}

fn raw_event(d: &Detail, parameters: Value, files: &[InputFile]) -> RawEvent {
    RawEvent {
        event_time: d.event_time.to_string(),
        event_id: d.event_id.clone(),
        principal: d.principal.clone(),
        source_ip: d.source_ip.clone(),
        user_agent: d.user_agent.clone(),
        error_code: d.error_code.clone(),
        request_summary: summary(&parameters, 120),
        request_parameters: parameters,
        source: files
            .get(d.file)
            .map(|f| format!("{}: {}", f.source, d.location))
            .unwrap_or_default(),
    }
}

/// `key=value` pairs of a request's scalar leaves (dotted paths, arrays as their first
/// elements), cut to `limit` characters.
fn summary(parameters: &Value, limit: usize) -> String {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, v, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate().take(3) {
                    walk(&format!("{prefix}[{i}]"), v, out);
                }
                if items.len() > 3 {
                    out.push(format!("{prefix}=[{} items]", items.len()));
                }
            }
            Value::String(s) => out.push(format!("{prefix}={s}")),
            Value::Null => {}
            other => out.push(format!("{prefix}={other}")),
        }
    }
    if parameters.is_null() {
        return "-".into();
    }
    let mut parts = Vec::new();
    walk("", parameters, &mut parts);
    let text = if parts.is_empty() {
        "{}".to_owned()
    } else {
        parts.join(" ")
    };
    cut_end(&text, limit)
}

impl Explanation {
    fn print(&self, out: &mut impl Write) -> io::Result<()> {
        let i = &self.insight;
        writeln!(
            out,
            "insight {} ({}{})",
            i.shared_event_id,
            if i.side == "trailsight" {
                "found by trailsight"
            } else {
                "reference"
            },
            if i.sources.is_empty() {
                String::new()
            } else {
                format!(", from {}", i.sources.join("; "))
            }
        )?;
        writeln!(
            out,
            "  {} ({}), {}{}",
            i.key.event_name,
            i.key.event_source,
            i.key.insight_type,
            i.key
                .error_code
                .as_deref()
                .map(|c| format!(" {c}"))
                .unwrap_or_default()
        )?;
        writeln!(
            out,
            "  account {}, region {}, {} events",
            i.key.account.as_deref().unwrap_or("(any)"),
            i.key.region,
            i.category
        )?;
        writeln!(
            out,
            "  start {}, end {} ({})",
            i.first_minute,
            i.end_minute.as_deref().unwrap_or("(no End record)"),
            i.records.replace('-', " ")
        )?;
        for record in i.start.iter().chain(&i.end) {
            if let Some(s) = &record.statistics {
                let number = |n: &Option<trailsight_engine::reference::ReportedNumber>| {
                    n.as_ref().map_or("-".to_owned(), |n| n.text.clone())
                };
                let minutes = |m: Option<u64>| m.map_or("?".to_owned(), |m| m.to_string());
                writeln!(
                    out,
                    "  {} record: baseline {}/min over {} min, insight {}/min over {} min",
                    record.state.as_str(),
                    number(&s.baseline_average),
                    minutes(s.baseline_duration),
                    number(&s.insight_average),
                    minutes(s.insight_duration)
                )?;
            }
        }
        for (label, w) in [
            ("baseline", &self.baseline),
            ("insight", &self.insight_window),
        ] {
            writeln!(
                out,
                "  trail, {label} window {} – {}: {} events in {} min = {}/min ({})",
                w.from,
                w.to,
                w.events,
                w.minutes,
                format_average(w.mean_per_minute),
                w.rule
            )?;
        }
        self.print_series(out)?;
        let e = &self.events;
        writeln!(out)?;
        writeln!(
            out,
            "events in the insight window: {} ({} shown{})",
            e.total,
            e.shown,
            if e.duplicates > 0 {
                format!(", {} duplicate copies not counted", e.duplicates)
            } else {
                String::new()
            }
        )?;
        if !e.list.is_empty() {
            writeln!(
                out,
                "  {:<20}  {:<50}  {:<15}  {:<30}  {:<20}  REQUEST",
                "TIME", "PRINCIPAL", "SOURCE IP", "USER AGENT", "ERROR"
            )?;
            for r in &e.list {
                let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                writeln!(
                    out,
                    "  {:<20}  {:<50}  {:<15}  {:<30}  {:<20}  {}",
                    r.event_time,
                    cut_end(&r.principal, 50),
                    cut_end(&dash(&r.source_ip), 15),
                    cut_end(&dash(&r.user_agent), 30),
                    cut_end(&dash(&r.error_code), 20),
                    r.request_summary
                )?;
            }
        }
        for (label, values) in [
            ("top principals", &self.top.principals),
            ("top source IPs", &self.top.source_ips),
            ("top user agents", &self.top.user_agents),
        ] {
            writeln!(out, "{label}:")?;
            if values.is_empty() {
                writeln!(out, "  (none)")?;
            }
            for c in values {
                writeln!(out, "  {:>7}  {}", c.events, c.value)?;
            }
        }
        Ok(())
    }

    fn print_series(&self, out: &mut impl Write) -> io::Result<()> {
        let points = &self.series;
        let bucket = points.len().div_ceil(MAX_ROWS as usize).max(1);
        let rows: Vec<(Minute, u64, bool)> = points
            .chunks(bucket)
            .map(|c| {
                (
                    c[0].minute,
                    c.iter().map(|p| p.events).sum(),
                    c.iter().any(|p| p.in_insight),
                )
            })
            .collect();
        let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
        const WIDTH: f64 = 50.0;
        let mean = self.baseline.mean_per_minute * bucket as f64;
        let mean_column = (mean / max as f64 * WIDTH).round() as usize;
        writeln!(out)?;
        writeln!(
            out,
            "events per {}: baseline mean {}/min{}; * marks the insight window{}",
            if bucket == 1 {
                "minute".to_owned()
            } else {
                format!("{bucket} minutes")
            },
            format_average(self.baseline.mean_per_minute),
            if (1..=WIDTH as usize).contains(&mean_column) {
                ", drawn as |"
            } else {
                ""
            },
            if max > 1 {
                format!("; # = {:.1} events", max as f64 / WIDTH)
            } else {
                String::new()
            }
        )?;
        for (minute, events, inside) in rows {
            let bars = (events as f64 / max as f64 * WIDTH).round() as usize;
            let mut bar: Vec<char> = vec!['#'; bars];
            if (1..=WIDTH as usize).contains(&mean_column) {
                while bar.len() < mean_column {
                    bar.push(' ');
                }
                if bar.len() == mean_column {
                    bar.push('|');
                }
            }
            writeln!(
                out,
                "  {} {} {:>6} {}",
                minute_short(minute),
                if inside { '*' } else { ' ' },
                events,
                bar.into_iter().collect::<String>()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_summaries() {
        let p = json!({"autoScalingGroupName": "asg", "lifecycle": {"hook": "h", "n": 2},
                       "ids": ["a", "b", "c", "d", "e"], "none": null});
        assert_eq!(
            summary(&p, 200),
            "autoScalingGroupName=asg ids[0]=a ids[1]=b ids[2]=c ids=[5 items] lifecycle.hook=h lifecycle.n=2"
        );
        assert_eq!(summary(&Value::Null, 10), "-");
        assert_eq!(summary(&json!({}), 10), "{}");
        assert_eq!(summary(&p, 10), "autosca...".replace("autosca", "autoSca"));
    }
}

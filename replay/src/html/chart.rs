//! The chart of one insight as inline SVG, drawn by hand: a per-minute step area, the baseline
//! average and the detection threshold as horizontal lines, each insight interval shaded with
//! its Start and End marked, UTC times on the x axis and events per minute on the y axis.
//!
//! Coordinates are rounded to a tenth of a pixel and a run of equal values is one segment, so a
//! chart of a mostly quiet API is a few hundred bytes of path.

use std::fmt::Write as _;

use trailsight_engine::time::Minute;

use super::content::{Interval, Series};
use super::markup::escape;
use crate::format::{clock, date, rate};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 262.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 42.0;

/// Most points drawn per chart: longer spans are averaged over buckets of several minutes.
pub const MAX_POINTS: i64 = 480;

/// Bucket lengths in minutes, shortest first; the first that fits [`MAX_POINTS`] is used.
const BUCKETS_MINUTES: [i64; 12] = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/// Tick spacings on the time axis, in minutes.
const TICKS_MINUTES: [i64; 12] = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080];

/// One shaded interval on a chart.
pub struct Band<'a> {
    /// The interval.
    pub interval: &'a Interval,
    /// CSS class suffix and the label prefix: `ours` / `""`, or `aws` / `"AWS "`.
    pub class: &'static str,
    /// Prefix of the Start and End labels.
    pub label: &'static str,
}

/// What a chart shows besides the series.
pub struct ChartSpec<'a> {
    /// Text for screen readers and the tooltip.
    pub title: String,
    /// `calls per minute` or `errors per minute`.
    pub unit: &'static str,
    /// The intervals to shade.
    pub bands: Vec<Band<'a>>,
    /// The baseline average, in events per minute.
    pub baseline_per_minute: Option<f64>,
    /// The detection threshold's per-minute share and its label.
    pub threshold: Option<(f64, String)>,
}

/// The bucket length for a span of `minutes`.
pub fn bucket_minutes(minutes: i64) -> i64 {
    BUCKETS_MINUTES
        .iter()
        .copied()
        .find(|b| (minutes + b - 1) / b <= MAX_POINTS)
        .unwrap_or(1440)
}

/// `(first minute, events per minute)` of each bucket of `series`.
fn points(series: &Series, bucket: i64) -> Vec<(Minute, f64)> {
    let mut out = Vec::new();
    let mut from = series.from;
    while from < series.to {
        let to = from.plus(bucket).min(series.to);
        let events: u64 = series.counts.range(from..to).map(|(_, n)| n).sum();
        out.push((from, events as f64 / to.minutes_since(from) as f64));
        from = to;
    }
    out
}

/// A "nice" axis maximum and step for values up to `max`: 1, 2 or 5 times a power of ten.
fn nice_scale(max: f64) -> (f64, f64) {
    let max = if max > 0.0 { max } else { 1.0 };
    let raw = max / 4.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|f| f * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    ((max / step).ceil() * step, step)
}

fn tick_label(value: f64, step: f64) -> String {
    if step >= 1.0 {
        format!("{value:.0}")
    } else {
        let decimals = (-step.log10().floor()) as usize;
        format!("{value:.decimals$}")
    }
}

/// The SVG of one chart.
pub fn render(series: &Series, spec: &ChartSpec<'_>) -> String {
    let span = series.to.minutes_since(series.from).max(1);
    let bucket = bucket_minutes(span);
    let points = points(series, bucket);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let peak = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let lines = spec
        .baseline_per_minute
        .into_iter()
        .chain(spec.threshold.as_ref().map(|t| t.0));
    let (y_max, y_step) = nice_scale(lines.fold(peak, f64::max) * 1.08);
    let x = |m: Minute| LEFT + m.minutes_since(series.from) as f64 / span as f64 * plot_w;
    let y = |v: f64| TOP + plot_h - (v / y_max).min(1.05) * plot_h;
    let bottom = TOP + plot_h;
    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}"><title>{title}</title>"#,
        title = escape(&spec.title)
    );
    // Shaded intervals first, under everything else.
    for band in &spec.bands {
        let (from, to) = (band.interval.start, band.interval.shown_end);
        let (x0, x1) = (
            x(from.max(series.from)),
            x(to.min(series.to)).max(x(from.max(series.from)) + 1.0),
        );
        let _ = write!(
            svg,
            r#"<rect class="band {c}" x="{x0:.1}" y="{TOP}" width="{w:.1}" height="{plot_h}"/>"#,
            c = band.class,
            w = x1 - x0
        );
    }
    // Grid and y axis.
    let mut v = 0.0;
    while v <= y_max + y_step / 2.0 {
        let yy = y(v);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" x2="{r:.1}" y1="{yy:.1}" y2="{yy:.1}"/><text class="tick" x="{tx}" y="{ty:.1}" text-anchor="end">{label}</text>"#,
            r = LEFT + plot_w,
            tx = LEFT - 6.0,
            ty = yy + 4.0,
            label = tick_label(v, y_step)
        );
        v += y_step;
    }
    // Time axis: ticks on multiples of a round spacing from midnight UTC.
    let spacing = TICKS_MINUTES
        .iter()
        .copied()
        .find(|t| span / t <= 8)
        .unwrap_or(10080);
    let mut tick = Minute(series.from.0.div_euclid(spacing) * spacing);
    if tick < series.from {
        tick = tick.plus(spacing);
    }
    let mut last_date = String::new();
    while tick <= series.to {
        let tx = x(tick);
        let day = date(tick);
        let _ = write!(
            svg,
            r#"<line class="axis" x1="{tx:.1}" x2="{tx:.1}" y1="{bottom}" y2="{b5}"/><text class="tick" x="{tx:.1}" y="{b17}" text-anchor="middle">{clock}</text>"#,
            b5 = bottom + 5.0,
            b17 = bottom + 17.0,
            clock = clock(tick)
        );
        if day != last_date {
            let _ = write!(
                svg,
                r#"<text class="tick date" x="{tx:.1}" y="{b29}" text-anchor="middle">{day}</text>"#,
                b29 = bottom + 29.0
            );
            last_date = day;
        }
        tick = tick.plus(spacing);
    }
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" x2="{r:.1}" y1="{bottom}" y2="{bottom}"/><line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/>"#,
        r = LEFT + plot_w
    );
    let _ = write!(
        svg,
        r#"<text class="label" x="{lx:.1}" y="{ly}" text-anchor="end">UTC</text><text class="label" transform="translate(14 {my:.1}) rotate(-90)" text-anchor="middle">{unit}{per}</text>"#,
        lx = LEFT + plot_w,
        ly = HEIGHT - 2.0,
        my = TOP + plot_h / 2.0,
        unit = spec.unit,
        per = if bucket > 1 {
            format!(" ({bucket}-min mean)")
        } else {
            String::new()
        }
    );
    // The series as a step area: one horizontal segment per run of equal values.
    let mut path = format!("M{:.1} {bottom:.1}", x(series.from));
    let mut runs = points.iter().peekable();
    while let Some(&(from, value)) = runs.next() {
        let mut to = from.plus(bucket);
        while let Some(&&(next, _)) = runs.peek().filter(|p| p.1 == value) {
            to = next.plus(bucket);
            runs.next();
        }
        let yy = y(value);
        let _ = write!(
            path,
            "L{:.1} {yy:.1}L{:.1} {yy:.1}",
            x(from),
            x(to.min(series.to))
        );
    }
    let _ = write!(path, "L{:.1} {bottom:.1}Z", x(series.to));
    let _ = write!(svg, r#"<path class="series" d="{path}"/>"#);
    if let Some(b) = spec.baseline_per_minute {
        let yy = y(b);
        // Above the threshold's line too when that is close, so no line crosses the text.
        let label_y = match &spec.threshold {
            Some(t) if (yy - y(t.0)).abs() < 14.0 => yy.min(y(t.0)) - 4.0,
            _ => yy - 4.0,
        };
        let _ = write!(
            svg,
            r#"<line class="baseline" x1="{LEFT}" x2="{r:.1}" y1="{yy:.1}" y2="{yy:.1}"/><text class="note baseline-label" x="{tx:.1}" y="{ty:.1}" text-anchor="end">baseline {b}/min</text>"#,
            r = LEFT + plot_w,
            tx = LEFT + plot_w - 4.0,
            ty = label_y,
            b = rate(b)
        );
    }
    if let Some((t, label)) = &spec.threshold {
        let yy = y(*t);
        let _ = write!(
            svg,
            r#"<line class="threshold" x1="{LEFT}" x2="{r:.1}" y1="{yy:.1}" y2="{yy:.1}"/><text class="note threshold-label" x="{tx:.1}" y="{ty:.1}">{label}</text>"#,
            r = LEFT + plot_w,
            tx = LEFT + 4.0,
            ty = yy - 4.0,
            label = escape(label)
        );
    }
    for (row, band) in spec.bands.iter().enumerate() {
        let i = band.interval;
        // Two bands (AWS and trailsight) label on two rows above the plot.
        let ty = if spec.bands.len() > 1 && row == 0 {
            TOP - 18.0
        } else {
            TOP - 5.0
        };
        let marks = [
            (Some(i.start), "Start", "end", -3.0),
            (i.end, "End", "start", 3.0),
        ];
        for (minute, name, anchor, dx) in marks {
            let Some(minute) = minute.filter(|m| series.from <= *m && *m <= series.to) else {
                continue;
            };
            let xx = x(minute);
            let _ = write!(
                svg,
                r#"<line class="mark {c}" x1="{xx:.1}" x2="{xx:.1}" y1="{TOP}" y2="{bottom}"/><text class="mark-label {c}" x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}">{label}{name}</text>"#,
                c = band.class,
                lx = xx + dx,
                ly = ty,
                label = band.label
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_scale(78.0), (80.0, 20.0));
        assert_eq!(nice_scale(3.2), (4.0, 1.0));
        assert_eq!(nice_scale(0.0), (1.0, 0.5));
        let (max, step) = nice_scale(0.013);
        assert!((max - 0.015).abs() < 1e-12 && (step - 0.005).abs() < 1e-12);
        assert_eq!(tick_label(0.5, 0.5), "0.5");
        assert_eq!(tick_label(20.0, 20.0), "20");
    }

    #[test]
    fn a_burst_is_three_runs_with_its_lines_and_marks() {
        let from = Minute(28_000_000);
        let series = Series {
            from,
            to: from.plus(361),
            counts: [(from.plus(180), 78)].into_iter().collect(),
        };
        let interval = Interval {
            shared_event_id: "id".into(),
            start: from.plus(180),
            end: Some(from.plus(181)),
            shown_end: from.plus(181),
            baseline: None,
            insight: None,
            attributions: Vec::new(),
        };
        let svg = render(
            &series,
            &ChartSpec {
                title: "DeleteParameter <&>".into(),
                unit: "calls per minute",
                bands: vec![Band {
                    interval: &interval,
                    class: "ours",
                    label: "",
                }],
                baseline_per_minute: Some(0.0002),
                threshold: Some((3.0, "threshold 3 in 1 min".into())),
            },
        );
        let path = svg
            .split("class=\"series\" d=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        // Quiet, 78, quiet: two points per run, and the line back to the axis.
        assert_eq!(path.matches('L').count(), 3 * 2 + 1, "{path}");
        for needle in [
            ">Start</text>",
            ">End</text>",
            "DeleteParameter &lt;&amp;&gt;",
            "threshold 3 in 1 min",
            "baseline 2.00e-4/min",
            ">100</text>",
            ">calls per minute</text>",
            "<rect class=\"band ours\"",
        ] {
            assert!(svg.contains(needle), "{needle}");
        }
    }

    #[test]
    fn long_spans_are_bucketed() {
        assert_eq!(bucket_minutes(361), 1);
        assert_eq!(bucket_minutes(481), 2);
        assert_eq!(bucket_minutes(14 * 1440), 60);
    }
}

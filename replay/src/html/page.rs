//! The HTML of the report: the summary, the sortable table and one card per insight.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::chart::{self, Band, ChartSpec};
use super::content::{Card, Interval, Page};
use super::markup::{escape, unit};
use crate::format::{cut_middle, date, duration, minute_spaced, rate, thousands};
use crate::replay::report::Status;
use crate::replay::validate::Verdict;

const STYLE: &str = r#"
:root{--ink:#1d2430;--muted:#5b6472;--line:#d9dee5;--ours:#2f6db5;--aws:#d9730d;--base:#2a9d55;--thr:#c4302b;--bg:#fff;--soft:#f5f7fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
header,main{max-width:1240px;margin:0 auto;padding:0 20px}
header{padding-top:18px}
h1{font-size:22px;margin:0 0 2px}
h2{font-size:17px;margin:26px 0 8px}
h3{font-size:15px;margin:0 0 4px}
.sub,.meta,small{color:var(--muted)}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:12px 0;padding:12px 16px;background:var(--soft);border-radius:6px}
dl.summary dt{font-weight:600}
dl.summary dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{white-space:nowrap}
.scroll{overflow-x:auto}
#insights th[data-sort]{cursor:pointer;white-space:nowrap}
#insights th[data-sort]::after{content:" \2195";color:var(--muted)}
#insights th[aria-sort=ascending]::after{content:" \2191"}
#insights th[aria-sort=descending]::after{content:" \2193"}
#insights tbody tr:hover{background:var(--soft)}
.tag{display:inline-block;padding:0 6px;border-radius:9px;font-size:12px;font-weight:600;background:var(--soft);color:var(--muted)}
.v-reproduced{background:#e3f4e8;color:#1e7a3d}.v-differs{background:#fbe5e3;color:#a8281f}
.v-trail-incomplete{background:#fdf0dc;color:#94560a}.v-unverifiable{background:#eceef1;color:#5b6472}
.s-matched{background:#e3eefb;color:#244f85}.s-missed{background:#fdf0dc;color:#94560a}.s-extra{background:#eceef1;color:#5b6472}
article.insight{border-top:1px solid var(--line);padding:16px 0}
.body{display:grid;grid-template-columns:minmax(0,2fr) minmax(260px,1fr);gap:18px;align-items:start}
@media (max-width:900px){.body{grid-template-columns:1fr}}
figure{margin:0}
figcaption{font-size:12px;color:var(--muted)}
figcaption i{display:inline-block;width:14px;height:9px;margin:0 4px 0 10px;vertical-align:middle}
svg.chart{display:block;width:100%;height:auto;font-size:11px}
svg .grid{stroke:#edf0f3}
svg .axis{stroke:#8a93a0}
svg .tick{fill:#5b6472}
svg .date{font-weight:600}
svg .label{fill:#5b6472;font-size:11px}
svg .series{fill:rgba(47,109,181,.28);stroke:var(--ours);stroke-width:1.2}
svg .band.ours{fill:rgba(47,109,181,.12)}
svg .band.aws{fill:rgba(217,115,13,.16)}
svg .baseline{stroke:var(--base);stroke-width:1.6}
svg .threshold{stroke:var(--thr);stroke-width:1.4;stroke-dasharray:6 4}
svg .note{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px}
svg .baseline-label{fill:var(--base)}
svg .threshold-label{fill:var(--thr)}
svg .mark{stroke-width:1.2;stroke-dasharray:2 2}
svg .mark.ours{stroke:var(--ours)}svg .mark.aws{stroke:var(--aws)}
svg .mark-label{font-size:11px;font-weight:600}
svg .mark-label.ours{fill:var(--ours)}svg .mark-label.aws{fill:var(--aws)}
aside h4{margin:6px 0 2px;font-size:13px}
aside table{font-size:12px;margin-bottom:4px}
aside td.v{word-break:break-all}
aside th{font-weight:600;color:var(--muted)}
ul.details{margin:8px 0 0;padding-left:18px;color:var(--muted);font-size:12px}
"#;

/// Sorts the table by the clicked column's `data-v` values (numbers when both parse), keeping
/// the original order among equal values.
const SCRIPT: &str = r#"
document.querySelectorAll('#insights th[data-sort]').forEach(function (th) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0], i = th.cellIndex;
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    th.closest('tr').querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[i].getAttribute('data-v'), y = b.cells[i].getAttribute('data-v');
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny;
      return c * dir || a.getAttribute('data-i') - b.getAttribute('data-i');
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"#;

fn verdict_class(v: Verdict) -> String {
    format!("v-{}", v.as_str().replace(' ', "-"))
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Matched => "matched",
        Status::Missed => "missed",
        Status::Extra => "extra",
    }
}

/// The whole page.
pub fn render(page: &Page) -> String {
    let mut html = String::with_capacity(16_384 + page.cards.len() * 8_192);
    let span = page.overview.span;
    let title = format!(
        "trailsight {}: {} insight{}{}",
        page.command,
        page.cards.len(),
        if page.cards.len() == 1 { "" } else { "s" },
        span.map(|(a, b)| format!(", {} – {}", date(a), date(b)))
            .unwrap_or_default()
    );
    let _ = writeln!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>",
        escape(&title)
    );
    let _ = writeln!(
        html,
        "<header><h1>{}</h1><p class=\"sub\">Per-minute activity of each insight's API around it, against its baseline. Times are UTC.</p></header><main>",
        escape(&title)
    );
    summary(&mut html, page);
    table(&mut html, page);
    let _ = writeln!(html, "<h2>Charts</h2>");
    for (i, card) in page.cards.iter().enumerate() {
        article(&mut html, i + 1, card);
    }
    let _ = writeln!(html, "</main><script>{SCRIPT}</script></body></html>");
    html
}

fn list(values: &std::collections::BTreeSet<String>, limit: usize) -> String {
    let shown: Vec<String> = values.iter().take(limit).map(|v| escape(v)).collect();
    let more = values.len().saturating_sub(limit);
    format!(
        "{}: {}{}",
        thousands(values.len() as u64),
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

fn summary(html: &mut String, page: &Page) {
    let o = &page.overview;
    let mut rows: Vec<(String, String)> = Vec::new();
    rows.push((
        "Trail span".into(),
        match o.span {
            Some((a, b)) => format!(
                "{} – {} UTC ({})",
                minute_spaced(a),
                minute_spaced(b),
                duration(b.minutes_since(a) + 1)
            ),
            None => "no events".into(),
        },
    ));
    rows.push(("Accounts".into(), list(&o.accounts, 8)));
    rows.push(("Regions".into(), list(&o.regions, 12)));
    rows.push((
        "Records".into(),
        format!(
            "{} ({} events, {} counted by the detector)",
            thousands(page.records.0),
            thousands(page.records.1),
            thousands(page.counted)
        ),
    ));
    let mut by_type: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for card in &page.cards {
        let codes = by_type
            .entry(card.key.insight_type.to_string())
            .or_default();
        *codes
            .entry(card.key.error_code.clone().unwrap_or_default())
            .or_insert(0) += 1;
    }
    let open = page
        .cards
        .iter()
        .filter(|c| c.ours.as_ref().is_some_and(|i| i.end.is_none()))
        .count();
    let types: Vec<String> = by_type
        .iter()
        .map(|(t, codes)| {
            let total: u64 = codes.values().sum();
            let named: Vec<String> = codes
                .iter()
                .filter(|(code, _)| !code.is_empty())
                .map(|(code, c)| format!("{} {c}", escape(code)))
                .collect();
            if named.is_empty() {
                format!("{t} {total}")
            } else {
                format!("{t} {total} ({})", named.join(", "))
            }
        })
        .collect();
    rows.push((
        if page.command == "replay" {
            "Rows".into()
        } else {
            "Insights".into()
        },
        format!(
            "{}{}{}",
            page.cards.len(),
            if types.is_empty() {
                String::new()
            } else {
                format!(": {}", types.join(", "))
            },
            if open > 0 {
                format!("; {open} of trailsight's still open at the end of the trail")
            } else {
                String::new()
            }
        ),
    ));
    let _ = write!(html, "<dl class=\"summary\">");
    for (k, v) in rows
        .iter()
        .map(|(k, v)| (escape(k), v.clone()))
        .chain(page.replay.iter().map(|(k, v)| (escape(k), escape(v))))
    {
        let _ = write!(html, "<dt>{k}</dt><dd>{v}</dd>");
    }
    let _ = writeln!(html, "</dl>");
}

fn table(html: &mut String, page: &Page) {
    let replay = page.command == "replay";
    let _ = writeln!(
        html,
        "<h2>Insights</h2><p class=\"sub\">Click Start, Duration or Ratio to sort; click a number to see its chart.</p><div class=\"scroll\"><table id=\"insights\"><thead><tr><th class=\"n\">#</th><th data-sort>Start (UTC)</th><th class=\"n\" data-sort>Duration</th><th>API</th><th>Type</th><th>Account, region</th><th class=\"n\">Baseline /min</th><th class=\"n\">Insight /min</th><th class=\"n\" data-sort>Ratio</th>{}</tr></thead><tbody>",
        if replay {
            "<th data-sort>Status</th><th data-sort>Verdict</th>"
        } else {
            ""
        }
    );
    for (i, card) in page.cards.iter().enumerate() {
        let p = card.primary();
        let number = |v: &Option<trailsight_engine::reference::ReportedNumber>| {
            v.as_ref().map_or_else(
                || "<td class=\"n\">–</td>".to_owned(),
                |v| {
                    format!(
                        "<td class=\"n\" title=\"{}\">{}</td>",
                        escape(&v.text),
                        rate(v.value)
                    )
                },
            )
        };
        let ratio = p.ratio();
        let _ = write!(
            html,
            "<tr data-i=\"{i}\"><td class=\"n\"><a href=\"#insight-{k}\">{k}</a></td><td class=\"t\" data-v=\"{s}\">{start}</td><td class=\"n\" data-v=\"{d}\">{dur}</td><td>{name} <small>{source}</small></td><td>{ty}</td><td>{account}<br><small>{region}</small></td>{b}{ins}<td class=\"n\" data-v=\"{rv}\">{r}</td>",
            k = i + 1,
            s = p.start.0,
            start = minute_spaced(p.start),
            d = p.minutes(),
            dur = if p.end.is_some() {
                duration(p.minutes())
            } else {
                "open".to_owned()
            },
            name = escape(&card.key.event_name),
            source = escape(&card.key.event_source),
            ty = type_text(card),
            account = escape(card.key.account.as_deref().unwrap_or("–")),
            region = escape(&card.key.region),
            b = number(&p.baseline),
            ins = number(&p.insight),
            rv = ratio.map_or(-1.0, |r| if r.is_finite() { r } else { 1e300 }),
            r = ratio.map_or_else(|| "–".to_owned(), |r| format!("{}×", rate(r)))
        );
        if replay {
            let status = card.status.map_or("", status_str);
            let verdict = card.verdict.as_ref().map_or("", |v| v.verdict.as_str());
            let _ = write!(
                html,
                "<td data-v=\"{status}\"><span class=\"tag s-{status}\">{status}</span></td><td data-v=\"{verdict}\">{}</td>",
                card.verdict.as_ref().map_or(String::new(), |v| format!(
                    "<span class=\"tag {}\">{verdict}</span>",
                    verdict_class(v.verdict)
                ))
            );
        }
        let _ = writeln!(html, "</tr>");
    }
    let _ = writeln!(html, "</tbody></table></div>");
}

fn type_text(card: &Card) -> String {
    let short = match card.key.insight_type {
        trailsight_engine::InsightType::ApiCallRateInsight => "call rate",
        trailsight_engine::InsightType::ApiErrorRateInsight => "error rate",
    };
    match &card.key.error_code {
        Some(code) => format!("{short} <small>{}</small>", escape(code)),
        None => short.to_owned(),
    }
}

fn interval_text(who: &str, i: &Interval) -> String {
    format!(
        "{who}{} – {} ({})",
        minute_spaced(i.start),
        i.end.map_or_else(|| "no End".to_owned(), minute_spaced),
        duration(i.minutes())
    )
}

fn article(html: &mut String, k: usize, card: &Card) {
    let key = &card.key;
    let p = card.primary();
    let _ = write!(
        html,
        "<article class=\"insight\" id=\"insight-{k}\"><h3><a href=\"#insight-{k}\">#{k}</a> {} <small>{}</small> <span class=\"tag\">{}</span>",
        escape(&key.event_name),
        escape(&key.event_source),
        type_text(card)
    );
    if let Some(s) = card.status {
        let s = status_str(s);
        let _ = write!(html, " <span class=\"tag s-{s}\">{s}</span>");
    }
    if let Some(v) = &card.verdict {
        let _ = write!(
            html,
            " <span class=\"tag {}\">{}</span>",
            verdict_class(v.verdict),
            v.verdict.as_str()
        );
    }
    let _ = write!(html, "</h3>");
    let mut meta = vec![format!(
        "account {}, {}, sharedEventID <code>{}</code>",
        escape(key.account.as_deref().unwrap_or("(any)")),
        escape(&key.region),
        escape(&p.shared_event_id)
    )];
    if let Some(r) = &card.reference {
        meta.push(interval_text("AWS ", r));
    }
    if let Some(o) = &card.ours {
        meta.push(interval_text(
            if card.reference.is_some() {
                "trailsight "
            } else {
                ""
            },
            o,
        ));
    }
    if let (Some(b), Some(i)) = (&p.baseline, &p.insight) {
        meta.push(format!(
            "baseline {}/min, insight {}/min{}",
            rate(b.value),
            rate(i.value),
            p.ratio()
                .map(|r| format!(" ({}×)", rate(r)))
                .unwrap_or_default()
        ));
    }
    let _ = write!(
        html,
        "<p class=\"meta\">{}</p><div class=\"body\"><figure>",
        meta.join(" · ")
    );
    let mut bands = Vec::new();
    if let Some(r) = &card.reference {
        bands.push(Band {
            interval: r,
            class: "aws",
            label: "AWS ",
        });
    }
    if let Some(o) = &card.ours {
        bands.push(Band {
            interval: o,
            class: "ours",
            label: if card.reference.is_some() {
                "ours "
            } else {
                ""
            },
        });
    }
    let threshold = card.detection.map(|d| {
        let per_minute = d.threshold_events as f64 / d.window_minutes as f64;
        let label = if d.window_minutes == 1 {
            format!("threshold {} in 1 min", d.threshold_events)
        } else {
            format!(
                "threshold {} in {} min ({}/min)",
                d.threshold_events,
                d.window_minutes,
                rate(per_minute)
            )
        };
        (per_minute, label)
    });
    let spec = ChartSpec {
        title: format!(
            "{} {} per minute, {} – {} UTC",
            key.event_name,
            unit(key.insight_type).replace(" per minute", ""),
            minute_spaced(card.series.from),
            minute_spaced(card.series.to)
        ),
        unit: unit(key.insight_type),
        bands,
        baseline_per_minute: p.baseline.as_ref().map(|b| b.value),
        threshold,
    };
    html.push_str(&chart::render(&card.series, &spec));
    let _ = write!(
        html,
        "<figcaption><i style=\"background:rgba(47,109,181,.35)\"></i>{}",
        unit(key.insight_type)
    );
    if p.baseline.is_some() {
        let _ = write!(
            html,
            "<i style=\"background:var(--base);height:2px\"></i>baseline average"
        );
    }
    if let Some(d) = card.detection {
        let _ = write!(
            html,
            "<i style=\"background:var(--thr);height:2px\"></i>detection threshold at the start ({}-min window, normal ceiling {})",
            d.window_minutes, d.normal_ceiling
        );
    }
    if card.reference.is_some() {
        let _ = write!(
            html,
            "<i style=\"background:rgba(217,115,13,.3)\"></i>AWS insight"
        );
    }
    if card.ours.is_some() {
        let _ = write!(
            html,
            "<i style=\"background:rgba(47,109,181,.2)\"></i>trailsight insight"
        );
    }
    let _ = write!(html, "</figcaption></figure><aside>");
    attributions(html, card);
    let _ = write!(html, "</aside></div>");
    if let Some(v) = &card.verdict
        && !v.details.is_empty()
    {
        let _ = write!(html, "<ul class=\"details\">");
        for d in &v.details {
            let _ = write!(html, "<li>{}</li>", escape(d));
        }
        let _ = write!(html, "</ul>");
    }
    let _ = writeln!(html, "</article>");
}

/// Values longer than this are cut in the table (the whole value is in the tooltip).
const VALUE_CHARS: usize = 160;

fn attributions(html: &mut String, card: &Card) {
    let p = card.primary();
    let who = if card.reference.is_some() {
        "AWS's record"
    } else {
        "trailsight's record"
    };
    if p.attributions.is_empty() {
        let _ = write!(html, "<p class=\"meta\">No attributions in {who}.</p>");
        return;
    }
    let _ = write!(html, "<p class=\"meta\">Top values, from {who}:</p>");
    for a in &p.attributions {
        let _ = write!(
            html,
            "<h4>{}</h4><table><tr><th>insight window</th><th class=\"n\">/min</th></tr>",
            escape(&a.attribute)
        );
        for (label, values) in [("", &a.insight), ("baseline", &a.baseline)] {
            if !label.is_empty() {
                let _ = write!(html, "<tr><th>{label}</th><th class=\"n\">/min</th></tr>");
            }
            if values.is_empty() {
                let _ = write!(html, "<tr><td class=\"v\">(none)</td><td></td></tr>");
            }
            for v in values {
                let shown = cut_middle(&v.value, VALUE_CHARS);
                let _ = write!(
                    html,
                    "<tr><td class=\"v\" title=\"{}\">{}</td><td class=\"n\" title=\"{}\">{}</td></tr>",
                    escape(&v.value),
                    escape(&shown),
                    escape(&v.average.text),
                    rate(v.average.value)
                );
            }
        }
        let _ = write!(html, "</table>");
    }
}

//! `--html FILE`: one self-contained HTML report of a `detect` or `replay` run, for people who
//! triage Insights by looking at them: a summary of the trail, a sortable table of the insights,
//! and for each insight a chart of its per-minute series around it with its attributions.
//!
//! The page needs no network: styles, the sorting script and the charts ([`chart`], hand-made
//! SVG) are inline. It holds nothing that is not derived from the input, so the same input gives
//! the same bytes. The page is a pure function of what it is handed ([`Page`]):
//! the commands recount the series around each insight ([`crate::recount`], a few hours around
//! each only, so the report stays small on long trails), build the page (the `charts` module)
//! and write the file; nothing under `html/` reads or writes one.

mod chart;
mod content;
mod markup;
mod page;

pub use content::{Card, Interval, Page, Series, VerdictView};
pub use page::render;

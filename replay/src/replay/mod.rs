//! The pieces of `trailsight replay` (the `compare` module runs it): reading reference Insights
//! ([`references`]), matching them with trailsight's ([`matching`]), checking every number
//! against the trail ([`mod@validate`]) with the trail's completeness ([`completeness`]), the
//! report ([`report`]) and scoring against simulator labels ([`labels`]). None of them imports
//! the command, the charts or the HTML report.

pub mod completeness;
pub mod labels;
pub mod matching;
pub mod references;
pub mod report;
pub mod validate;

//! `trailsight`: replay CloudTrail trails into CloudTrail Insights records.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::SUCCESS
}

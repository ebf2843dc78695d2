//! `trailsight`: replay CloudTrail trails into CloudTrail Insights records.

mod args;
mod charts;
mod compare;
mod detect;
mod explain;
mod format;
mod html;
mod output;
mod progress;
mod recount;
mod replay;
mod run;
mod simulate;
mod sources;
mod summary;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Find CloudTrail Insights in CloudTrail trails: replay years of log files, on your machine.
#[derive(Debug, Parser)]
#[command(name = "trailsight", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find Insights (unusual API call and error rates) in CloudTrail files and print them as
    /// CloudTrail Insights records.
    Detect(detect::DetectArgs),
    /// Run the detector on a live feed (standard input, or a directory receiving CloudTrail
    /// files), writing Insights as they are decided, with checkpoints.
    Watch(watch::WatchArgs),
    /// Compare trailsight's insights on a trail with reference Insights (AWS's), and check
    /// every number of each reference insight against the trail's events.
    Replay(compare::ReplayArgs),
    /// Show one insight against the trail: its numbers, the per-minute series around it, the
    /// raw events behind it and who made them.
    Explain(explain::ExplainArgs),
    /// Generate a synthetic CloudTrail trail in S3 layout, with labelled anomalies.
    Simulate(simulate::SimulateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Detect(args) => detect::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Replay(args) => compare::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Simulate(args) => simulate::run(args).map(|report| {
            eprintln!("{report}");
            ExitCode::SUCCESS
        }),
    };
    result.unwrap_or_else(|error| {
        eprintln!("trailsight: error: {error:#}");
        ExitCode::from(1)
    })
}

//! `trailsight`: replay CloudTrail trails into CloudTrail Insights records.

mod simulate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "trailsight", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a synthetic CloudTrail trail with labelled anomalies.
    Simulate(simulate::SimulateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Simulate(args) => simulate::run(args).map(|report| eprintln!("{report}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("trailsight: {error:#}");
            ExitCode::FAILURE
        }
    }
}

//! `trailsight watch`: the detector on a live feed.
//!
//! Input is either standard input, one JSON value per line (records, EventBridge events,
//! `{"Records":[...]}` documents, CloudWatch Logs subscription messages, or the base64 + gzip
//! form CloudWatch Logs delivers to Kinesis and Firehose), or a directory that keeps receiving
//! CloudTrail files (an `aws s3 sync` target), whose new files are read once each, in delivery
//! order. Each line or file is counted, then the detector advances, exactly as `detect` does after
//! each file, so a trail fed in delivery order gives the records `detect` gives.
//!
//! With `--checkpoint FILE` the detector's state and the files already read are saved every
//! `--checkpoint-seconds` and on SIGINT, SIGTERM and the end of input, and a restart resumes from
//! it: nothing is counted twice and nothing read before the checkpoint is lost. After a crash
//! (SIGKILL), input read since the last checkpoint is read again from the directory (standard
//! input cannot be re-read: the producer must resend it), and records decided since then are
//! written again, with the same IDs.
//!
//! A line longer than `--max-document-mib`, a line that inflates past it and a file over it are
//! reported, counted as skipped, and the feed goes on.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use trailsight_engine::time::Minute;
use trailsight_engine::{Detector, EventBatch, IngestOptions, InsightRecord};
use trailsight_input::{
    LineError, LineFault, LineReader, ReadLimits, Selection, Source, decode_line,
    discover_selected, load_reusing, recycle,
};

use crate::detect::DetectorArgs;
use crate::output::{write_json_lines, write_s3_layout};

/// Arguments of `trailsight watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// `-` for standard input, or a directory or s3://BUCKET/PREFIX/ that keeps receiving
    /// CloudTrail files.
    #[arg(value_name = "SOURCE", default_value = "-")]
    pub source: PathBuf,

    /// Write Insights in CloudTrail's S3 layout under DIR instead of JSON lines on stdout.
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub detector: DetectorArgs,

    /// Save the state to FILE periodically and on exit, and resume from it if it exists.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,

    /// Seconds between checkpoints.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub checkpoint_seconds: f64,

    /// Seconds between looks at the directory for new files.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub poll_seconds: f64,

    /// Exit after this many seconds without new input (standard input ends at end of file).
    #[arg(long, value_name = "SECONDS")]
    pub until_idle: Option<f64>,

    /// At the end of input (end of file, or idle), decide every remaining minute as `detect`
    /// does. For inputs that are complete; a checkpoint written after it has those minutes
    /// decided.
    #[arg(long)]
    pub finish_at_end: bool,

    /// Seconds between status lines on stderr (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub status_seconds: f64,

    /// No status lines or summary (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

/// What the input thread hands over.
enum Unit {
    /// A parsed line or file; `skipped` when it was over the caps and not read.
    Document {
        label: String,
        file: Option<String>,
        batch: Box<EventBatch>,
        skipped: bool,
    },
    /// A line that could not be read or decoded; `skipped` when it was over the caps.
    Unreadable {
        label: String,
        message: String,
        skipped: bool,
    },
    /// Standard input ended.
    End,
}

/// The first line of a checkpoint file; the detector's snapshot follows it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CheckpointHeader {
    /// [`CHECKPOINT_FORMAT`].
    format: String,
    /// [`CHECKPOINT_VERSION`].
    version: u32,
    /// Files already counted (directory mode).
    processed_files: BTreeSet<String>,
    /// Lines already counted (standard input), for the status line.
    lines: u64,
}

const CHECKPOINT_FORMAT: &str = "trailsight-watch-checkpoint";
const CHECKPOINT_VERSION: u32 = 1;

/// Why the main loop stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Signal,
    EndOfInput,
    Idle,
}

/// Runs `trailsight watch`.
pub fn run(args: &WatchArgs) -> anyhow::Result<std::process::ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    let (mut detector, mut header) = match args.checkpoint.as_deref().filter(|p| p.exists()) {
        Some(path) => {
            let (detector, header) = read_checkpoint(path)?;
            if args.detector.any_given() && !args.quiet {
                eprintln!(
                    "trailsight watch: resuming {}: using the detector settings saved in it",
                    path.display()
                );
            }
            (detector, header)
        }
        None => {
            let header = CheckpointHeader {
                format: CHECKPOINT_FORMAT.into(),
                version: CHECKPOINT_VERSION,
                ..CheckpointHeader::default()
            };
            (Detector::new(args.detector.config()?)?, header)
        }
    };
    let options = detector.ingest_options().clone();
    let (sender, receiver) = mpsc::sync_channel::<Unit>(4);
    let directory = args.source.as_os_str() != "-";
    let limits = args.detector.read_limits();
    if directory {
        let bucket = args.source.to_str().is_some_and(|s| s.starts_with("s3://"));
        if !bucket && !args.source.is_dir() {
            bail!(
                "{}: not a directory (give a directory to watch, or - for standard input)",
                args.source.display()
            );
        }
        let (dir, seen, poll) = (
            args.source.clone(),
            header.processed_files.clone(),
            seconds(args.poll_seconds),
        );
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            watch_directory(&dir, seen, (poll, limits), &options, &sender, &stop)
        });
    } else {
        // Reads block; the thread is left behind when the main loop stops.
        thread::spawn(move || read_lines(&options, &limits, &sender));
    }

    let mut out = Output::new(args.out.clone());
    let mut status = Status::new(args.quiet, args.status_seconds);
    let mut last_input = Instant::now();
    let mut last_checkpoint = Instant::now();
    let reason = loop {
        if stop.load(Ordering::Relaxed) {
            break Stop::Signal;
        }
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(Unit::Document {
                label,
                file,
                batch,
                skipped,
            }) => {
                last_input = Instant::now();
                status.skipped += u64::from(skipped);
                detector.observe_batch(&batch);
                let mut records = Vec::new();
                detector.advance(&mut records);
                out.write(&records)?;
                report_errors(&label, &batch);
                status.files += u64::from(file.is_some());
                match file {
                    Some(file) => {
                        header.processed_files.insert(file);
                    }
                    None => header.lines += 1,
                }
            }
            Ok(Unit::Unreadable {
                label,
                message,
                skipped,
            }) => {
                last_input = Instant::now();
                header.lines += 1;
                status.skipped += u64::from(skipped);
                eprintln!("trailsight: error: {label}: {message}");
            }
            Ok(Unit::End) | Err(RecvTimeoutError::Disconnected) => break Stop::EndOfInput,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if args
            .until_idle
            .is_some_and(|idle| last_input.elapsed() >= seconds(idle))
        {
            break Stop::Idle;
        }
        if let Some(path) = &args.checkpoint
            && last_checkpoint.elapsed() >= seconds(args.checkpoint_seconds)
        {
            write_checkpoint(path, &header, &detector)?;
            last_checkpoint = Instant::now();
        }
        status.tick(&detector, &out);
    };
    if args.finish_at_end && reason != Stop::Signal {
        let mut records = Vec::new();
        detector.finish(&mut records);
        out.write(&records)?;
    }
    if let Some(path) = &args.checkpoint {
        write_checkpoint(path, &header, &detector)?;
    }
    status.finish(&detector, &out, reason);
    Ok(std::process::ExitCode::SUCCESS)
}

fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(value.max(0.0))
}

/// Standard input, one unit per line. A line is JSON, or base64 (optionally of gzip) of JSON as
/// CloudWatch Logs subscriptions deliver to Kinesis and Firehose; lines and their documents are
/// capped by `limits`.
fn read_lines(options: &IngestOptions, limits: &ReadLimits, sender: &SyncSender<Unit>) {
    let mut lines = LineReader::new(io::stdin().lock(), limits);
    let mut line = Vec::new();
    while let Some(result) = lines.next_line(&mut line) {
        let number = match result {
            Ok(number) => number,
            Err(LineError {
                line_number,
                fault: fault @ LineFault::TooLong { .. },
            }) => {
                let unit = Unit::Unreadable {
                    label: format!("<stdin> line {line_number}"),
                    message: fault.to_string(),
                    skipped: true,
                };
                if sender.send(unit).is_err() {
                    return;
                }
                continue;
            }
            Err(LineError {
                fault: LineFault::Read(error),
                ..
            }) => {
                let _ = sender.send(Unit::Unreadable {
                    label: "<stdin>".into(),
                    message: error.to_string(),
                    skipped: false,
                });
                break;
            }
        };
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let label = format!("<stdin> line {number}");
        let unit = match decode_line(text, limits) {
            Ok(bytes) => Unit::Document {
                label,
                file: None,
                batch: Box::new(EventBatch::parse(&bytes, options)),
                skipped: false,
            },
            Err(error) => Unit::Unreadable {
                label,
                skipped: error.skip_reason().is_some(),
                message: error.to_string(),
            },
        };
        if sender.send(unit).is_err() {
            return;
        }
    }
    let _ = sender.send(Unit::End);
}

/// Minutes behind the newest delivery time seen that each look at the source lists again: far
/// more than CloudTrail's delivery delay, so no file delivered out of order is missed.
const RELIST_WINDOW_MINUTES: i64 = 24 * 60;

/// Polls `dir` (a directory or an `s3://` prefix) for files not seen yet; each is parsed and sent once, in delivery order. A file
/// over the caps of `limits` is reported and sent empty.
fn watch_directory(
    dir: &Path,
    mut seen: BTreeSet<String>,
    (poll, limits): (Duration, ReadLimits),
    options: &IngestOptions,
    sender: &SyncSender<Unit>,
    stop: &AtomicBool,
) {
    // CloudTrail does not deliver in key order (a name holds the delivery minute and a random
    // suffix), so each look at a bucket lists again the days of a trailing window behind the
    // newest delivery seen (only those day folders), and the keys seen decide what is new. A
    // local directory is listed whole: that is cheap, and files copied in late are still read.
    let bucket = dir.to_str().is_some_and(|d| d.starts_with("s3://"));
    let mut newest: Option<Minute> = None;
    while !stop.load(Ordering::Relaxed) {
        let selection = Selection {
            delivered_from: newest
                .filter(|_| bucket)
                .map(|m| m.plus(-RELIST_WINDOW_MINUTES)),
            ..Selection::default()
        };
        let discovery = discover_selected(&[dir.to_path_buf()], &selection);
        for error in discovery.errors {
            eprintln!("trailsight: error: {error}");
        }
        for file in discovery.files {
            let name = match &file.source {
                Source::Path(path) => path.display().to_string(),
                source @ Source::S3 { .. } => source.to_string(),
                _ => continue,
            };
            // A file still being written (by a tool that does not rename into place) is read
            // on a later look; an S3 object is whole once listed.
            let settled = match &file.source {
                Source::Path(path) => fs::metadata(path)
                    .and_then(|m| m.modified())
                    .map(|t| t.elapsed().unwrap_or_default() >= Duration::from_millis(500))
                    .unwrap_or(true),
                _ => true,
            };
            if settled {
                newest = newest.max(file.delivered);
            }
            if seen.contains(&name) || !settled {
                continue;
            }
            let loaded = load_reusing(&file.source, &limits);
            if let Some(error) = &loaded.error {
                eprintln!("trailsight: error: {name}: {error}");
            }
            let skipped = loaded.skipped().is_some();
            let batch = Box::new(EventBatch::parse(&loaded.bytes, options));
            recycle(loaded.bytes);
            seen.insert(name.clone());
            let unit = Unit::Document {
                label: name.clone(),
                file: Some(name),
                batch,
                skipped,
            };
            if stop.load(Ordering::Relaxed) || sender.send(unit).is_err() {
                return;
            }
        }
        thread::sleep(poll);
    }
}

fn report_errors(label: &str, batch: &EventBatch) {
    const SHOWN: usize = 10;
    for error in batch.errors.iter().take(SHOWN) {
        eprintln!("trailsight: error: {label}: {error}");
    }
    if batch.errors.len() > SHOWN {
        eprintln!(
            "trailsight: error: {label}: {} more bad records not shown",
            batch.errors.len() - SHOWN
        );
    }
}

fn read_checkpoint(path: &Path) -> anyhow::Result<(Detector, CheckpointHeader)> {
    let bytes = fs::read(path).with_context(|| format!("reading checkpoint {}", path.display()))?;
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .with_context(|| format!("{}: not a trailsight watch checkpoint", path.display()))?;
    let header: CheckpointHeader = serde_json::from_slice(&bytes[..newline])
        .with_context(|| format!("{}: not a trailsight watch checkpoint", path.display()))?;
    if header.format != CHECKPOINT_FORMAT || header.version != CHECKPOINT_VERSION {
        bail!(
            "{}: checkpoint format {} version {} is not {CHECKPOINT_FORMAT} version {CHECKPOINT_VERSION}",
            path.display(),
            header.format,
            header.version
        );
    }
    let detector = Detector::restore(&bytes[newline + 1..])
        .with_context(|| format!("restoring {}", path.display()))?;
    Ok((detector, header))
}

/// Writes the checkpoint next to `path` and renames it into place, so a crash mid-write leaves
/// the previous checkpoint intact.
fn write_checkpoint(
    path: &Path,
    header: &CheckpointHeader,
    detector: &Detector,
) -> anyhow::Result<()> {
    let mut bytes = serde_json::to_vec(header)?;
    bytes.push(b'\n');
    bytes.extend_from_slice(&detector.snapshot());
    let partial = path.with_extension("partial");
    fs::write(&partial, &bytes).with_context(|| format!("writing {}", partial.display()))?;
    fs::rename(&partial, path)
        .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))?;
    Ok(())
}

/// Where records go.
struct Output {
    dir: Option<PathBuf>,
    records: u64,
}

impl Output {
    fn new(dir: Option<PathBuf>) -> Output {
        Output { dir, records: 0 }
    }

    fn write(&mut self, records: &[InsightRecord]) -> anyhow::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.records += records.len() as u64;
        match &self.dir {
            Some(dir) => {
                write_s3_layout(records, dir)?;
            }
            None => {
                let mut out = BufWriter::new(io::stdout().lock());
                match write_json_lines(records, &mut out).and_then(|()| out.flush()) {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                    other => other.context("writing records to stdout")?,
                }
            }
        }
        Ok(())
    }
}

/// The status line.
struct Status {
    every: Option<Duration>,
    terminal: bool,
    last: Instant,
    last_events: u64,
    files: u64,
    /// Lines and files over the caps, not read.
    skipped: u64,
}

impl Status {
    fn new(quiet: bool, every_seconds: f64) -> Status {
        Status {
            every: (!quiet && every_seconds > 0.0).then(|| seconds(every_seconds)),
            terminal: io::stderr().is_terminal(),
            last: Instant::now(),
            last_events: 0,
            files: 0,
            skipped: 0,
        }
    }

    fn tick(&mut self, detector: &Detector, out: &Output) {
        let Some(every) = self.every else { return };
        if self.last.elapsed() < every {
            return;
        }
        let events = detector.stats().events;
        let rate = (events - self.last_events) as f64 / self.last.elapsed().as_secs_f64();
        let line = self.line(detector, out, rate);
        if self.terminal {
            eprint!("\r\x1b[2K{line}");
        } else {
            eprintln!("{line}");
        }
        self.last = Instant::now();
        self.last_events = events;
    }

    fn line(&self, detector: &Detector, out: &Output, rate: f64) -> String {
        let now_minute = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64 / 60);
        let newest = match detector.newest_minute() {
            Some(minute) => format!(
                "newest event {minute} ({} behind)",
                behind(now_minute - minute.0)
            ),
            None => "no event yet".to_owned(),
        };
        format!(
            "trailsight watch: {} events ({:.0}/s), {newest}, {} open insights, {} records written, {} files",
            detector.stats().events,
            rate,
            detector.state_size().open_insights,
            out.records,
            self.files
        )
    }

    fn finish(&mut self, detector: &Detector, out: &Output, reason: Stop) {
        if self.every.is_none() {
            return;
        }
        if self.terminal {
            eprintln!();
        }
        let why = match reason {
            Stop::Signal => "stopped by a signal",
            Stop::EndOfInput => "end of input",
            Stop::Idle => "idle",
        };
        let s = detector.stats();
        let skipped = match self.skipped {
            0 => String::new(),
            n => format!("; {n} lines or files over --max-document-mib skipped"),
        };
        eprintln!(
            "trailsight watch: {why}: {} events, {} counted ({} late), {} duplicates, {} too late; {} records written; {} insights open{skipped}",
            s.events,
            s.counted,
            s.counted_late,
            s.duplicates,
            s.too_late,
            out.records,
            detector.state_size().open_insights
        );
    }
}

/// `95` → `1 h 35 min`.
fn behind(minutes: i64) -> String {
    match minutes.max(0) {
        m if m < 60 => format!("{m} min"),
        m if m < 1440 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} d {} h", m / 1440, m % 1440 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_reads_well() {
        assert_eq!(behind(5), "5 min");
        assert_eq!(behind(95), "1 h 35 min");
        assert_eq!(behind(3 * 1440 + 61), "3 d 1 h");
    }
}

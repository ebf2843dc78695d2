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
//! A line longer than `--max-document-mib`, and a line that inflates past it, are reported,
//! counted as skipped, and the feed goes on; a file over 64 MiB is read in pieces, as `detect`
//! reads it.
//!
//! A file is read once its size and modification time stay the same from one look at the
//! directory to the next (or it is already a few seconds old when first seen). A file that
//! turns out cut short (a document ending inside a record, a gzip stream without its end) is
//! not counted but looked at again, for up to a minute while it stays the same: its writer may
//! only have paused. A file that changes after it was read is read again; its events counted
//! before are duplicates by `eventID` and not counted twice.

use std::collections::{BTreeMap, BTreeSet};
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
use trailsight_engine::parse::RecordErrorKind;
use trailsight_engine::time::Minute;
use trailsight_engine::{Detector, EventBatch, IngestOptions, InsightRecord};
use trailsight_input::{
    FileOutcome, InputFile, LineError, LineFault, LineReader, LoadError, ReadLimits, Selection,
    Source, decode_line, discover_selected, parse_file, stream_file,
};

use crate::args::DetectorArgs;
use crate::format::lag;
use crate::output::{write_json_lines, write_s3_layout};
use crate::summary::late_warning;

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
    /// A parsed line, file or piece of a file (`file` set on a file's last piece only);
    /// `skipped` when it was over the caps and not read; `again` for a file read again because
    /// it changed after it was read.
    Document {
        label: String,
        file: Option<String>,
        batch: Box<EventBatch>,
        skipped: bool,
        again: bool,
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
    // Written once before any input is read, so that a checkpoint that cannot be written is
    // an error now, not after hours of input.
    if let Some(path) = &args.checkpoint {
        write_checkpoint(path, &header, &detector)?;
    }
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
                again,
            }) => {
                last_input = Instant::now();
                status.skipped += u64::from(skipped);
                status.read_again += u64::from(again && file.is_some());
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
                again: false,
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

/// Minutes behind the newest delivery time seen that each look at a bucket lists again: far
/// more than CloudTrail's delivery delay, so no file delivered out of order is missed.
const RELIST_WINDOW_MINUTES: i64 = 24 * 60;

/// A file's size and modification time: when they change, the file has changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Signature {
    bytes: u64,
    modified: Option<SystemTime>,
}

impl Signature {
    /// An S3 object's: old, and the same at every look (an object is whole once listed).
    const OBJECT: Signature = Signature {
        bytes: 0,
        modified: Some(UNIX_EPOCH),
    };

    fn of(path: &Path) -> Option<Signature> {
        let metadata = fs::metadata(path).ok()?;
        Some(Signature {
            bytes: metadata.len(),
            modified: metadata.modified().ok(),
        })
    }

    /// Time since the last change, zero when unknown.
    fn age(&self) -> Duration {
        self.modified
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default()
    }
}

/// A file first seen at least this long after its last change is read at first sight; a
/// younger one when it is unchanged at the next look.
const SETTLED_AFTER: Duration = Duration::from_secs(2);

/// How long a file that is cut short, and unchanged, is waited for before it is read as it is.
const CUT_SHORT_PATIENCE: Duration = Duration::from_secs(60);

/// Whether a file's read ended inside a record or inside its gzip stream: what a file being
/// written looks like.
fn cut_short(outcome: &FileOutcome) -> bool {
    let gzip_cut = matches!(&outcome.load_error, Some(LoadError::Gzip { error, .. })
        if error.kind() == io::ErrorKind::UnexpectedEof);
    let record_cut = outcome
        .record_errors()
        .last()
        .is_some_and(|e| matches!(e.kind, RecordErrorKind::Truncated));
    gzip_cut || record_cut
}

/// Polls `dir` (a directory or an `s3://` prefix) for files not read yet, or changed since they
/// were read, and sends each, parsed,
/// in delivery order (see the module's documentation for when a file is read). A file named in
/// the checkpoint (`read`) counts as read as it is when first seen.
fn watch_directory(
    dir: &Path,
    read: BTreeSet<String>,
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
    let mut read: BTreeMap<String, Option<Signature>> =
        read.into_iter().map(|name| (name, None)).collect();
    // The signature of each file not read as it is, and since when it has had it.
    let mut looked: BTreeMap<String, (Signature, Instant)> = BTreeMap::new();
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
        for file in &discovery.files {
            let (name, signature) = match &file.source {
                Source::Path(path) => match Signature::of(path) {
                    Some(signature) => (path.display().to_string(), signature),
                    None => continue,
                },
                source @ Source::S3 { .. } => (source.to_string(), Signature::OBJECT),
                _ => continue,
            };
            newest = newest.max(file.delivered);
            let again = match read.get_mut(&name) {
                Some(known @ None) => {
                    *known = Some(signature);
                    continue;
                }
                Some(Some(known)) if *known == signature => continue,
                Some(Some(_)) => true,
                None => false,
            };
            let since = match looked.get(&name) {
                Some(&(seen, since)) if seen == signature => since,
                _ => {
                    looked.insert(name.clone(), (signature, Instant::now()));
                    if signature.age() < SETTLED_AFTER {
                        continue;
                    }
                    Instant::now()
                }
            };
            let outcome = parse_file(file, options, &limits.whole_document_cap());
            if outcome.skipped().is_none()
                && cut_short(&outcome)
                && since.elapsed() < CUT_SHORT_PATIENCE
            {
                continue;
            }
            read.insert(name.clone(), Some(signature));
            looked.remove(&name);
            let sent = if outcome.skipped().is_some() {
                // Too large to hold: in pieces, as detect reads it.
                stream_pieces(file, &name, again, options, &limits, sender, stop)
            } else {
                send_outcome(outcome, &name, again, sender, stop)
            };
            if !sent {
                return;
            }
        }
        thread::sleep(poll);
    }
}

/// Sends a file (or piece of one) read; `false` when the receiver is gone or a stop is asked.
fn send_outcome(
    outcome: FileOutcome,
    name: &str,
    again: bool,
    sender: &SyncSender<Unit>,
    stop: &AtomicBool,
) -> bool {
    if let Some(error) = &outcome.load_error {
        eprintln!("trailsight: error: {name}: {error}");
    }
    let unit = Unit::Document {
        label: name.to_owned(),
        file: outcome.ends_file().then(|| name.to_owned()),
        skipped: outcome.skipped().is_some(),
        again,
        batch: Box::new(outcome.batch),
    };
    !stop.load(Ordering::Relaxed) && sender.send(unit).is_ok()
}

fn stream_pieces(
    file: &InputFile,
    name: &str,
    again: bool,
    options: &IngestOptions,
    limits: &ReadLimits,
    sender: &SyncSender<Unit>,
    stop: &AtomicBool,
) -> bool {
    let mut open = true;
    stream_file(file, options, limits, &mut |piece| {
        open = send_outcome(piece, name, again, sender, stop);
        open
    });
    open
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
    /// Files read again because they changed after they were read.
    read_again: u64,
    /// No closing line either.
    quiet: bool,
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
            read_again: 0,
            quiet,
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
                lag(now_minute - minute.0)
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
        if self.quiet {
            return;
        }
        if self.terminal && self.every.is_some() {
            eprintln!();
        }
        let why = match reason {
            Stop::Signal => "stopped by a signal",
            Stop::EndOfInput => "end of input",
            Stop::Idle => "idle",
        };
        let s = detector.stats();
        let mut skipped = match self.skipped {
            0 => String::new(),
            n => format!("; {n} lines or files over --max-document-mib skipped"),
        };
        if self.read_again > 0 {
            skipped += &format!("; {} files read again after they changed", self.read_again);
        }
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
        let advice = "files concatenated by a shell glob (AWSLogs/**/*.json.gz) come by account, \
                      region and path, not by delivery time: give `trailsight watch` the directory \
                      instead, or `trailsight detect` for a finished trail, or raise \
                      --allowed-lateness-minutes";
        if let Some(warning) = late_warning(s, advice) {
            eprintln!("trailsight watch: warning: {warning}");
        }
    }
}

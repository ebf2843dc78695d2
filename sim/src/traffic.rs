//! When calls happen: the baseline Poisson traffic with its daily and weekly rhythm, the normal
//! bursts (deploys, CI releases, the nightly job, Auto Scaling waves) and the labelled anomalies.
//!
//! The output is a list of [`Event`]s: a time, an API and a seed. What the record says is decided
//! later, from the seed alone, by `record/`; so an event can be written twice (a duplicate
//! delivery) and come out byte-identical.

use std::f64::consts::TAU;

use rand::{Rng, RngExt};

use crate::catalogue::{
    APIS, DROP_APIS, ERROR_STORMS, NEW_PRINCIPAL_APIS, Principal, QUIET_APIS, RARE_BURST_APIS,
    READ_BURST_APIS, RELEASE_API, SCALE_IN_API, SCALE_OUT_API, SURGE_APIS, api_index,
};
use crate::ids::time_string;
use crate::labels::{AnomalyKind, EventCategory, InsightType, Label, SeriesKey};
use crate::profile::Profile;
use crate::rng::{pick_weighted, poisson};

/// Daily rhythm: traffic made by people peaks at 15:00 UTC at 1 + this and bottoms out twelve
/// hours later at 1 - this. The curve averages exactly 1 over a day, so catalogue rates are
/// weekday means.
const DAILY_AMPLITUDE: f64 = 0.7;
/// Hour (UTC) of the daily peak.
const PEAK_HOUR: f64 = 15.0;
/// People's traffic on Saturdays and Sundays, relative to a weekday.
const WEEKEND_FACTOR: f64 = 0.4;
/// Mean Terraform deploy batches per workday at scale 1.
const DEPLOYS_PER_WORKDAY: f64 = 2.0;
/// Mean Auto Scaling waves per day at scale 1.
const WAVES_PER_DAY: f64 = 2.0;
/// Mean CI releases per workday at scale 1.
const RELEASES_PER_WORKDAY: f64 = 1.5;
/// Anomalies start after this many days, so that a full 7-day baseline precedes them.
pub(crate) const BASELINE_DAYS: i64 = 8;
/// Runs shorter than this many days get no anomalies (there would be no room after the baseline).
pub(crate) const MIN_DAYS_FOR_ANOMALIES: f64 = 8.5;
/// Surges multiply at least this many calls per minute, so that they stay visible at low scales.
const SURGE_FLOOR: f64 = 0.5;
/// Likewise for sustained increases on quiet APIs.
const QUIET_FLOOR: f64 = 0.05;

/// A half-open interval of UTC seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: i64,
    pub(crate) end: i64,
}

impl Span {
    fn contains(self, t: i64) -> bool {
        self.start <= t && t < self.end
    }

    /// The UTC days this span touches, as their first second.
    fn utc_days(self) -> impl Iterator<Item = i64> {
        let first = self.start.div_euclid(86_400);
        let last = (self.end - 1).div_euclid(86_400);
        (first..=last).map(|day| day * 86_400)
    }
}

/// How an event's error is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorChoice {
    /// Rolled against the API's error rates when the record is written.
    Sampled,
    /// Always this error (index into the API's `errors`).
    Forced(u8),
    /// Never an error.
    Never,
}

/// One API call to be written as a record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    /// `eventTime`, in UTC seconds.
    pub(crate) time: i64,
    /// Seeds every random detail of the record.
    pub(crate) seed: u64,
    /// Index in [`APIS`].
    pub(crate) api: u16,
    /// Who calls; `None` means drawn from the API's principal mix.
    pub(crate) principal: Option<Principal>,
    pub(crate) error: ErrorChoice,
}

/// A labelled anomaly: the calls injected for it, and the calls it removes.
#[derive(Clone, Debug)]
pub(crate) struct Anomaly {
    pub(crate) label: Label,
    pub(crate) events: Vec<Event>,
    /// Calls of this API inside this span are removed (a drop to zero).
    pub(crate) suppress: Option<(u16, Span)>,
}

impl Anomaly {
    fn suppresses(&self, event: &Event) -> bool {
        self.suppress
            .is_some_and(|(api, span)| event.api == api && span.contains(event.time))
    }
}

fn is_weekend(day_start: i64) -> bool {
    // 1970-01-01 was a Thursday: +3 makes Monday 0.
    (day_start.div_euclid(86_400) + 3).rem_euclid(7) >= 5
}

/// The rhythm of people's traffic in `minute` (minutes since the Unix epoch, UTC): the daily
/// curve `1 + 0.7 cos(2π(h - 15)/24)` of the hour `h` (0.3 at 03:00, 1.7 at 15:00, mean 1 over
/// a day) times 0.4 on Saturdays and Sundays. Multiply a weekday mean rate by it.
pub fn rhythm(minute: i64) -> f64 {
    let hour = minute.rem_euclid(1440) as f64 / 60.0;
    let daily = 1.0 + DAILY_AMPLITUDE * (TAU * (hour - PEAK_HOUR) / 24.0).cos();
    if is_weekend(minute * 60) {
        daily * WEEKEND_FACTOR
    } else {
        daily
    }
}

/// Expected calls to `api` in `minute` (its whole baseline rate, scale included).
pub(crate) fn rate_at(profile: &Profile, scale: f64, api: usize, minute: i64) -> f64 {
    base_rate(profile, scale, api) * mix_rhythm(api, rhythm(minute))
}

fn base_rate(profile: &Profile, scale: f64, api: usize) -> f64 {
    if profile.active[api] {
        APIS[api].rate * scale * profile.rate_mult[api]
    } else {
        0.0
    }
}

fn mix_rhythm(api: usize, rhythm: f64) -> f64 {
    let office = APIS[api].office;
    (1.0 - office) + office * rhythm
}

fn shuffle<T>(rng: &mut impl Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.random_range(0..=i));
    }
}

/// Collects events, keeping only those inside the unit's span.
struct Sink<'a, R> {
    span: Span,
    rng: &'a mut R,
    events: Vec<Event>,
}

impl<R: Rng> Sink<'_, R> {
    fn push(&mut self, time: i64, api: usize, principal: Option<Principal>) {
        if self.span.contains(time) {
            let seed = self.rng.next_u64();
            self.events.push(Event {
                time,
                seed,
                api: api as u16,
                principal,
                error: ErrorChoice::Sampled,
            });
        }
    }

    /// `calls` calls spread uniformly over `[start, start + seconds)`.
    fn batch(
        &mut self,
        api: usize,
        principal: Option<Principal>,
        calls: u32,
        start: i64,
        seconds: i64,
    ) {
        for _ in 0..calls {
            let t = start + self.rng.random_range(0..seconds);
            self.push(t, api, principal);
        }
    }
}

/// All events of one account-region with `eventTime` in `span`, in time order.
///
/// Bursts are drawn per UTC day and kept only if they fall in `span`: a day split between two
/// units (a run that does not start at midnight) then still gets the right expected number.
pub(crate) fn unit_events(
    profile: &Profile,
    scale: f64,
    span: Span,
    anomalies: &[Anomaly],
    rng: &mut impl Rng,
) -> Vec<Event> {
    let mut sink = Sink {
        span,
        rng,
        events: Vec::new(),
    };
    baseline(profile, scale, &mut sink);
    for day in span.utc_days() {
        if !is_weekend(day) {
            deploys(profile, scale, day, &mut sink);
            releases(scale, day, &mut sink);
        }
        nightly_job(profile, day, &mut sink);
        scaling_waves(scale, day, &mut sink);
    }
    sink.events
        .retain(|event| !anomalies.iter().any(|a| a.suppresses(event)));
    for anomaly in anomalies {
        sink.events.extend(
            anomaly
                .events
                .iter()
                .filter(|event| span.contains(event.time)),
        );
    }
    let mut events = sink.events;
    events.sort_by_key(|event| event.time);
    events
}

/// Independent Poisson counts per API and minute, at the rhythm-adjusted rate.
fn baseline<R: Rng>(profile: &Profile, scale: f64, sink: &mut Sink<'_, R>) {
    let base: Vec<f64> = (0..APIS.len())
        .map(|api| base_rate(profile, scale, api))
        .collect();
    let first = sink.span.start.div_euclid(60);
    let last = (sink.span.end + 59).div_euclid(60);
    // Timer-driven agents: per API, how many agents report in each minute of the period. The
    // phases come from the profile, not the random stream, so every unit of a run agrees.
    let heartbeats: Vec<Vec<u32>> = base
        .iter()
        .enumerate()
        .map(|(api, &rate)| {
            let period = APIS[api].heartbeat_minutes as usize;
            let mut per_minute = vec![0u32; period];
            if period > 0 {
                let agents = (rate * period as f64).round() as u64;
                for agent in 0..agents {
                    let phase = profile.phase(api, agent) % period as u64;
                    per_minute[phase as usize] += 1;
                }
            }
            per_minute
        })
        .collect();
    for minute in first..last {
        let rhythm = rhythm(minute);
        for (api, &rate) in base.iter().enumerate() {
            if rate == 0.0 {
                continue;
            }
            let calls = match heartbeats[api].len() {
                0 => poisson(sink.rng, rate * mix_rhythm(api, rhythm)),
                period => heartbeats[api][minute.rem_euclid(period as i64) as usize],
            };
            sink.batch(api, None, calls, minute * 60, 60);
        }
    }
}

/// Terraform applies during working hours: each applies one of the account-region's stacks,
/// whose APIs get about their usual number of calls (±25%) in 2-5 minutes.
fn deploys<R: Rng>(profile: &Profile, scale: f64, day: i64, sink: &mut Sink<'_, R>) {
    for _ in 0..poisson(sink.rng, DEPLOYS_PER_WORKDAY * scale) {
        let start = day + sink.rng.random_range(8 * 3600..18 * 3600);
        let stack = &profile.stacks[sink.rng.random_range(0..profile.stacks.len())];
        for &(api, usual, seconds) in &stack.parts {
            let calls = (f64::from(usual) * sink.rng.random_range(0.75..1.25)).round() as u32;
            sink.batch(api, Some(Principal::Deploy), calls, start, seconds);
        }
    }
}

/// CI releases during working hours: 2-8 ECS services redeployed within two minutes.
fn releases<R: Rng>(scale: f64, day: i64, sink: &mut Sink<'_, R>) {
    for _ in 0..poisson(sink.rng, RELEASES_PER_WORKDAY * scale) {
        let start = day + sink.rng.random_range(10 * 3600..17 * 3600);
        let calls = sink.rng.random_range(2..=8);
        sink.batch(
            api_index(RELEASE_API),
            Some(Principal::Deploy),
            calls,
            start,
            120,
        );
    }
}

/// The nightly job: 10-30 calls to one API within 3 minutes of a fixed time, every day.
fn nightly_job<R: Rng>(profile: &Profile, day: i64, sink: &mut Sink<'_, R>) {
    let start = day + profile.cron.minute_of_day * 60;
    let calls = sink.rng.random_range(10..=30);
    sink.batch(profile.cron.api, None, calls, start, 180);
}

/// Auto Scaling launches or terminates 2-10 instances within 1-3 minutes, at any time of day.
fn scaling_waves<R: Rng>(scale: f64, day: i64, sink: &mut Sink<'_, R>) {
    for _ in 0..poisson(sink.rng, WAVES_PER_DAY * scale) {
        let start = day + sink.rng.random_range(0..86_400);
        let name = if sink.rng.random_bool(0.5) {
            SCALE_OUT_API
        } else {
            SCALE_IN_API
        };
        let calls = sink.rng.random_range(2..=10);
        let seconds = 60 * sink.rng.random_range(1..=3);
        sink.batch(
            api_index(name),
            Some(Principal::AsgRole),
            calls,
            start,
            seconds,
        );
    }
}

/// The labelled anomalies of one account-region over the whole run, sorted by start.
///
/// Every UTC day that starts at least [`BASELINE_DAYS`] days into the run (so that a full
/// baseline precedes it) gets one of each kind: the sustained increase at night (01:00-05:00),
/// the normal peak on the nightly job's run, and the others in equal daytime slots (06:00 to
/// midnight, less 15 minutes at the end of the run so that every anomaly is over and delivered
/// before it ends) in a random order, so they never overlap. A last day with less than twelve
/// hours left gets none.
pub(crate) fn plan_anomalies(
    profile: &Profile,
    scale: f64,
    run: Span,
    rng: &mut impl Rng,
) -> Vec<Anomaly> {
    let days = (run.end - run.start) as f64 / 86_400.0;
    if days < MIN_DAYS_FOR_ANOMALIES {
        return Vec::new();
    }
    let active = |name: &str| profile.active[api_index(name)];
    let mut candidates = |list: &[&str]| {
        let mut apis: Vec<usize> = list
            .iter()
            .filter(|name| active(name))
            .map(|name| api_index(name))
            .collect();
        shuffle(rng, &mut apis);
        apis
    };
    let lists = [
        candidates(RARE_BURST_APIS),
        candidates(SURGE_APIS),
        Vec::new(), // error storms pick (API, code) pairs below
        candidates(QUIET_APIS),
        candidates(NEW_PRINCIPAL_APIS),
        candidates(DROP_APIS),
        candidates(READ_BURST_APIS),
        vec![profile.cron.api],
    ];
    let mut storms: Vec<(usize, u8)> = ERROR_STORMS
        .iter()
        .filter(|(name, _)| active(name))
        .map(|&(name, code)| {
            let api = api_index(name);
            let error = APIS[api].errors.iter().position(|e| e.code == code);
            (api, error.expect("storm codes are API errors") as u8)
        })
        .collect();
    shuffle(rng, &mut storms);

    let last_second = run.end - 15 * 60;
    let first_day = (run.start + BASELINE_DAYS * 86_400 + 86_399).div_euclid(86_400) * 86_400;
    let mut used = [0usize; AnomalyKind::ALL.len()];
    let mut anomalies = Vec::new();
    for day in (first_day..last_second).step_by(86_400) {
        let day_end = (day + 86_400).min(last_second);
        if day_end - day < 12 * 3600 {
            break;
        }
        let mut daytime: Vec<AnomalyKind> = AnomalyKind::ALL
            .iter()
            .copied()
            .filter(|k| !matches!(k, AnomalyKind::SustainedIncrease | AnomalyKind::NormalPeak))
            .collect();
        shuffle(rng, &mut daytime);
        let slot = (day_end - (day + 6 * 3600)) / 60 / daytime.len() as i64;
        for kind in AnomalyKind::ALL {
            let nth = used[kind as usize];
            used[kind as usize] += 1;
            let (api, forced_error, minutes) = match kind {
                AnomalyKind::ErrorStorm => {
                    let (api, error) = storms[nth % storms.len()];
                    (api, Some(error), rng.random_range(5..=15))
                }
                _ => {
                    let list = &lists[kind as usize];
                    let minutes = match kind {
                        AnomalyKind::RareBurst => rng.random_range(1..=5),
                        AnomalyKind::WriteSurge | AnomalyKind::NewPrincipal => {
                            rng.random_range(10..=30)
                        }
                        AnomalyKind::SustainedIncrease => rng.random_range(40..=50),
                        AnomalyKind::DropToZero => rng.random_range(30..=120),
                        AnomalyKind::ReadOnlyBurst => rng.random_range(3..=10),
                        AnomalyKind::NormalPeak => 3,
                        AnomalyKind::ErrorStorm => unreachable!("matched above"),
                    };
                    (list[nth % list.len()], None, minutes)
                }
            };
            let start = match kind {
                AnomalyKind::SustainedIncrease => {
                    day / 60 + 60 + rng.random_range(0..(240 - minutes))
                }
                AnomalyKind::NormalPeak => (day + profile.cron.minute_of_day * 60) / 60,
                _ => {
                    let position = daytime
                        .iter()
                        .position(|&k| k == kind)
                        .expect("a daytime kind") as i64;
                    let slot_start = (day + 6 * 3600) / 60 + position * slot;
                    slot_start + rng.random_range(0..(slot - minutes).max(1))
                }
            };
            let window = Span {
                start: start * 60,
                end: (start + minutes) * 60,
            };
            let events = anomaly_events(profile, scale, kind, api, forced_error, window, rng);
            let error_code =
                forced_error.map(|e| APIS[api].errors[usize::from(e)].code.to_string());
            let suppress = (kind == AnomalyKind::DropToZero).then_some((api as u16, window));
            anomalies.push(Anomaly {
                label: Label {
                    id: String::new(),
                    kind,
                    key: SeriesKey {
                        account: Some(profile.account.clone()),
                        region: profile.region.clone(),
                        event_source: APIS[api].service.source.to_string(),
                        event_name: APIS[api].name.to_string(),
                        insight_type: if error_code.is_some() {
                            InsightType::ApiErrorRateInsight
                        } else {
                            InsightType::ApiCallRateInsight
                        },
                        error_code,
                        category: EventCategory::Management,
                    },
                    start: time_string(window.start),
                    end: time_string(window.end),
                    calls: events.len() as u64,
                    negative_control: kind.is_control(),
                },
                events,
                suppress,
            });
        }
    }
    anomalies.sort_by(|a, b| {
        a.label
            .start
            .cmp(&b.label.start)
            .then(a.label.key.event_name.cmp(&b.label.key.event_name))
    });
    for (n, anomaly) in anomalies.iter_mut().enumerate() {
        anomaly.label.id = format!("{}-{}-{:02}", profile.account, profile.region, n + 1);
    }
    anomalies
}

/// The calls of one anomaly, all inside `window`.
fn anomaly_events(
    profile: &Profile,
    scale: f64,
    kind: AnomalyKind,
    api: usize,
    forced_error: Option<u8>,
    window: Span,
    rng: &mut impl Rng,
) -> Vec<Event> {
    // Bursts and storms look like one actor; surges look like more of the usual callers.
    let customers: Vec<(Principal, u32)> = APIS[api]
        .principals
        .iter()
        .copied()
        .filter(|(p, _)| p.is_customer())
        .collect();
    let actor = if customers.is_empty() {
        pick_weighted(rng, APIS[api].principals)
    } else {
        pick_weighted(rng, &customers)
    };
    let mut sink = Sink {
        span: window,
        rng,
        events: Vec::new(),
    };
    let minutes = window.start.div_euclid(60)..window.end.div_euclid(60);
    match kind {
        AnomalyKind::RareBurst => {
            let calls = sink.rng.random_range(3..=20);
            sink.batch(
                api,
                Some(actor),
                calls,
                window.start,
                window.end - window.start,
            );
        }
        AnomalyKind::WriteSurge | AnomalyKind::SustainedIncrease => {
            let (factor, floor) = if kind == AnomalyKind::WriteSurge {
                (sink.rng.random_range(5.0..10.0), SURGE_FLOOR)
            } else {
                (sink.rng.random_range(20.0..30.0), QUIET_FLOOR)
            };
            for minute in minutes {
                let usual = rate_at(profile, scale, api, minute).max(floor);
                let calls = poisson(sink.rng, (factor - 1.0) * usual);
                sink.batch(api, None, calls, minute * 60, 60);
            }
        }
        AnomalyKind::ErrorStorm => {
            let per_minute = sink.rng.random_range(10.0..50.0);
            for minute in minutes {
                let calls = poisson(sink.rng, per_minute);
                sink.batch(api, Some(actor), calls, minute * 60, 60);
            }
        }
        AnomalyKind::NewPrincipal => {
            let per_minute = sink.rng.random_range(2.0..10.0);
            for minute in minutes {
                let calls = poisson(sink.rng, per_minute);
                sink.batch(api, Some(Principal::Intruder), calls, minute * 60, 60);
            }
        }
        AnomalyKind::ReadOnlyBurst => {
            let calls = sink.rng.random_range(300..=2000);
            sink.batch(
                api,
                Some(actor),
                calls,
                window.start,
                window.end - window.start,
            );
            for event in &mut sink.events {
                event.error = ErrorChoice::Never;
            }
        }
        // A drop removes calls (see `Anomaly::suppress`); the normal peak is the nightly job's
        // own run.
        AnomalyKind::DropToZero | AnomalyKind::NormalPeak => {}
    }
    let mut events = sink.events;
    if let Some(error) = forced_error {
        for event in &mut events {
            event.error = ErrorChoice::Forced(error);
        }
    }
    events.sort_by_key(|event| event.time);
    events
}

#[cfg(test)]
mod tests {
    use trailsight_engine::time::Timestamp;

    use super::*;
    use crate::rng::seeded_rng;

    fn ts(text: &str) -> i64 {
        Timestamp::parse(text).unwrap().0
    }

    #[test]
    fn rhythm_averages_one_on_weekdays_and_dips_on_weekends() {
        let monday = ts("2024-03-04T00:00:00Z") / 60;
        let mean = (0..1440).map(|m| rhythm(monday + m)).sum::<f64>() / 1440.0;
        assert!((mean - 1.0).abs() < 1e-9, "{mean}");
        let night = rhythm(monday + 3 * 60);
        let afternoon = rhythm(monday + 15 * 60);
        assert!((night - 0.3).abs() < 1e-9 && (afternoon - 1.7).abs() < 1e-9);
        let saturday = monday + 5 * 1440;
        assert!((rhythm(saturday + 15 * 60) - 1.7 * WEEKEND_FACTOR).abs() < 1e-9);
        assert!(!is_weekend(ts("2024-03-08T23:59:59Z")));
        assert!(is_weekend(ts("2024-03-09T00:00:00Z")));
        assert!(is_weekend(ts("2024-03-10T23:59:59Z")));
    }

    fn profile() -> Profile {
        Profile::new(5, 0, 0, "123456789012", "us-east-1", true)
    }

    #[test]
    fn unit_events_stay_in_span_and_are_sorted() {
        let profile = profile();
        let span = Span {
            start: ts("2024-03-04T06:30:00Z"),
            end: ts("2024-03-04T18:30:00Z"),
        };
        let mut rng = seeded_rng(1);
        let events = unit_events(&profile, 1.0, span, &[], &mut rng);
        assert!(events.len() > 5_000, "{}", events.len());
        assert!(events.windows(2).all(|w| w[0].time <= w[1].time));
        assert!(events.iter().all(|e| span.contains(e.time)));
    }

    #[test]
    fn anomalies_follow_the_baseline_and_do_not_overlap() {
        let profile = profile();
        let start = ts("2024-03-04T00:00:00Z");
        let mut rng = seeded_rng(2);
        let short = Span {
            start,
            end: start + 8 * 86_400,
        };
        assert!(plan_anomalies(&profile, 1.0, short, &mut rng).is_empty());
        let run = Span {
            start,
            end: start + 11 * 86_400,
        };
        let anomalies = plan_anomalies(&profile, 0.05, run, &mut rng);
        assert_eq!(
            anomalies.len(),
            3 * AnomalyKind::ALL.len(),
            "three full days after the baseline"
        );
        let mut daytime_end = start + BASELINE_DAYS * 86_400;
        for anomaly in &anomalies {
            let label = &anomaly.label;
            let (s, e) = (ts(&label.start), ts(&label.end));
            assert!(
                s >= start + BASELINE_DAYS * 86_400 && e > s && e <= run.end - 15 * 60,
                "{label:?}"
            );
            let minute_of_day = s.rem_euclid(86_400) / 60;
            match label.kind {
                AnomalyKind::SustainedIncrease => {
                    assert!((60..300).contains(&minute_of_day), "at night: {label:?}")
                }
                AnomalyKind::NormalPeak => {
                    assert_eq!(minute_of_day, profile.cron.minute_of_day, "the nightly job")
                }
                _ => {
                    assert!(
                        s >= daytime_end && minute_of_day >= 360,
                        "daytime, in its own slot: {label:?}"
                    );
                    daytime_end = e;
                }
            }
            assert_eq!(label.negative_control, label.kind.is_control());
            assert_eq!(label.calls as usize, anomaly.events.len());
            match label.kind {
                AnomalyKind::DropToZero => {
                    assert!(
                        anomaly.events.is_empty() && anomaly.suppress.is_some(),
                        "{label:?}"
                    );
                }
                AnomalyKind::NormalPeak => assert!(anomaly.events.is_empty()),
                _ => assert!(label.calls >= 3, "{label:?}"),
            }
            assert!(anomaly.events.iter().all(|ev| s <= ev.time && ev.time < e));
            let forced = anomaly
                .events
                .iter()
                .all(|ev| matches!(ev.error, ErrorChoice::Forced(_)));
            assert_eq!(
                forced && !anomaly.events.is_empty(),
                label.key.error_code.is_some(),
                "{label:?}"
            );
            if label.kind == AnomalyKind::ReadOnlyBurst {
                assert!(
                    anomaly
                        .events
                        .iter()
                        .all(|ev| ev.error == ErrorChoice::Never)
                );
                assert!(APIS[usize::from(anomaly.events[0].api)].read_only);
            }
        }
        for kind in AnomalyKind::ALL {
            let n = anomalies.iter().filter(|a| a.label.kind == kind).count();
            assert_eq!(n, 3, "{kind:?}");
        }
    }

    #[test]
    fn a_drop_removes_the_api_calls_of_its_window() {
        let profile = profile();
        let start = ts("2024-03-04T00:00:00Z");
        let run = Span {
            start,
            end: start + 10 * 86_400,
        };
        let mut rng = seeded_rng(9);
        let anomalies = plan_anomalies(&profile, 1.0, run, &mut rng);
        let drop = anomalies
            .iter()
            .find(|a| a.label.kind == AnomalyKind::DropToZero)
            .unwrap();
        let (api, window) = drop.suppress.unwrap();
        let day = Span {
            start: window.start.div_euclid(86_400) * 86_400,
            end: window.start.div_euclid(86_400) * 86_400 + 86_400,
        };
        let events = unit_events(&profile, 1.0, day, &anomalies, &mut rng);
        let of_api = |span: Span| {
            events
                .iter()
                .filter(|e| e.api == api && span.contains(e.time))
                .count()
        };
        assert_eq!(of_api(window), 0);
        let before = Span {
            start: window.start - (window.end - window.start),
            end: window.start,
        };
        assert!(of_api(before) > 0, "the API is steady around the drop");
    }
}

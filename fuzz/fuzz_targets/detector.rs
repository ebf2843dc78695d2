//! The window core and detector fed arbitrary sequences of events, clock moves, checkpoints
//! and restores. Checks: no panic; every End has its Start, after it, with the same baseline;
//! the counts add up; a snapshot restores to the same state.
#![no_main]

use std::borrow::Cow;
use std::collections::HashMap;

use arbitrary::Arbitrary;
use trailsight_engine::time::{Minute, Timestamp};
use trailsight_engine::{
    Detector, DetectorConfig, Event, EventCategory, InsightRecord, InsightState, UserIdentity,
};

#[derive(Arbitrary, Debug)]
enum Op {
    Observe {
        minute: u16,
        second: u8,
        api: u8,
        error: Option<u8>,
        read: bool,
        who: u8,
        id: u16,
        account: u8,
    },
    Advance,
    AdvanceTo {
        minute: u16,
    },
    Checkpoint,
}

#[derive(Arbitrary, Debug)]
struct Input {
    sensitivity: u8,
    lateness: u8,
    days: u8,
    ops: Vec<Op>,
}

const BASE: i64 = 28_400_000; // minutes: 2024-01-01

libfuzzer_sys::fuzz_target!(|input: Input| {
    let config = DetectorConfig {
        sensitivity: f64::from(input.sensitivity) / 255.0,
        allowed_lateness_minutes: u32::from(input.lateness),
        ..DetectorConfig::default()
    };
    let mut detector = Detector::new(config).expect("valid");
    let mut records: Vec<InsightRecord> = Vec::new();
    // Spread events over up to 45 days so that baselines exist and days are dropped.
    let span = (i64::from(input.days % 45) + 1) * 1440;
    for op in input.ops {
        match op {
            Op::Observe {
                minute,
                second,
                api,
                error,
                read,
                who,
                id,
                account,
            } => {
                let minute = BASE + i64::from(minute) * span / 65_536;
                let names = ["CreateUser", "PutParameter", "RunInstances", "DeleteBucket"];
                let id = format!("{id:032x}");
                let arn = format!("arn:aws:sts::1:assumed-role/R{}/s{who}", who % 3);
                let event = Event {
                    event_id: Some(Cow::Borrowed(&id)),
                    event_time: Timestamp(minute * 60 + i64::from(second % 60)),
                    event_source: Cow::Borrowed("svc.amazonaws.com"),
                    event_name: Cow::Borrowed(names[usize::from(api % 4)]),
                    aws_region: Cow::Borrowed("us-east-1"),
                    recipient_account_id: Some(Cow::Owned(format!("{}", account % 2))),
                    event_type: None,
                    category: EventCategory::Management,
                    read_only: Some(read),
                    error_code: error.map(|e| Cow::Owned(format!("E{}", e % 3))),
                    user_agent: Some(Cow::Owned(format!("agent-{}", who % 5))),
                    source_ip_address: None,
                    user_identity: UserIdentity {
                        arn: Some(Cow::Borrowed(&arn)),
                        ..UserIdentity::default()
                    },
                };
                detector.observe(&event);
            }
            Op::Advance => detector.advance(&mut records),
            Op::AdvanceTo { minute } => detector.advance_to(
                Minute(BASE + i64::from(minute) * span / 65_536),
                &mut records,
            ),
            Op::Checkpoint => {
                let bytes = detector.snapshot();
                detector = Detector::restore(&bytes).expect("own snapshot");
                assert_eq!(detector.snapshot(), bytes);
            }
        }
    }
    detector.finish(&mut records);
    let stats = detector.stats();
    let na = &stats.not_analysed;
    let not_analysed =
        na.read_only + na.category_not_selected + na.category_never_analysed + na.insight_type_off;
    assert_eq!(
        stats.events,
        stats.counted + stats.duplicates + stats.too_late + stats.in_the_future + not_analysed
    );
    let mut starts: HashMap<_, &InsightRecord> = HashMap::new();
    for record in &records {
        assert!(record.insight.minutes >= 1 && record.baseline.minutes >= 10_080);
        match record.state {
            InsightState::Start => assert!(
                starts.insert(record.shared_event_id, record).is_none(),
                "one Start per insight"
            ),
            InsightState::End => {
                let start = starts
                    .remove(&record.shared_event_id)
                    .expect("every End has its Start");
                assert_eq!(record.baseline, start.baseline);
                assert_eq!(
                    record.event_time.0 - start.event_time.0,
                    record.insight.minutes as i64
                );
            }
        }
    }
});

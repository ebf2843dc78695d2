//! Embedding the detector in a service: events arrive one at a time (here as EventBridge
//! messages, as a Lambda or a queue consumer would get them), records leave through a callback,
//! and the state is checkpointed and restored halfway, as a service would across a restart.
//!
//! Run it with `cargo run -p trailsight-engine --example embed`.

use trailsight_engine::detector::sink;
use trailsight_engine::{Detector, DetectorConfig, InsightRecord};

/// An EventBridge "AWS API Call via CloudTrail" message: a `CompleteLifecycleAction` write by
/// role `role`, or, for role 0, a read that only shows the trail was recording.
fn message(time: &str, role: u32, id: u32) -> String {
    let (name, read_only) = if role == 0 {
        ("DescribeAutoScalingGroups", true)
    } else {
        ("CompleteLifecycleAction", false)
    };
    format!(
        r#"{{"version":"0","id":"{id}","detail-type":"AWS API Call via CloudTrail","source":"aws.autoscaling","detail":{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::012345678901:assumed-role/CodeDeployRole{role}/AutoScaling"}},"eventTime":"{time}","eventSource":"autoscaling.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","userAgent":"codedeploy.amazonaws.com","eventID":"00000000-0000-4000-8000-{id:012}","readOnly":{read_only},"eventType":"AwsApiCall","recipientAccountId":"838185438692","eventCategory":"Management"}}}}"#
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = DetectorConfig {
        sensitivity: 0.5,
        allowed_lateness_minutes: 15,
        ..DetectorConfig::default()
    };
    let mut detector = Detector::new(config)?;
    let print = |record: InsightRecord| println!("{}", record.to_json());

    // A week of history (the baseline needs it), then AWS's documented burst: three calls in
    // five minutes on an API called once that week.
    let stream = [
        ("2020-07-14T00:00:00Z", 0),
        ("2020-07-16T09:12:40Z", 1),
        ("2020-07-21T20:56:10Z", 1),
        ("2020-07-21T20:58:30Z", 2),
        ("2020-07-21T21:00:59Z", 3),
        ("2020-07-21T21:40:00Z", 0),
    ];
    let mut checkpoint = Vec::new();
    for (i, (time, role)) in stream.iter().enumerate() {
        let report = detector.observe_document(message(time, *role, i as u32).as_bytes());
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        // Records are decided as the events' own clock moves: a Start once its minute is more
        // than the allowed lateness behind the newest event, an End when the burst is over.
        detector.advance(&mut sink(print));
        if i == 3 {
            // A service would write this to durable storage, e.g. every minute and at shutdown.
            checkpoint = detector.snapshot();
            eprintln!(
                "checkpoint: {} bytes, state {:?}",
                checkpoint.len(),
                detector.state_size()
            );
        }
    }
    // After a restart, the restored detector continues exactly where the checkpoint left off:
    // feeding it the events after the checkpoint gives the same records as the first one.
    let mut restored = Detector::restore(&checkpoint)?;
    for (i, (time, role)) in stream.iter().enumerate().skip(4) {
        restored.observe_document(message(time, *role, i as u32).as_bytes());
        restored.advance(&mut Vec::new());
    }
    assert_eq!(restored.snapshot(), detector.snapshot());
    eprintln!("stats: {:?}", detector.stats());
    Ok(())
}

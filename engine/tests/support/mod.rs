//! Helpers shared by the engine's integration tests: hand-built events and a runner.

#![allow(dead_code)]

use std::borrow::Cow;

use trailsight_engine::time::Timestamp;
use trailsight_engine::{
    Detector, DetectorConfig, Event, EventCategory, InsightRecord, OpenInsight, UserIdentity,
};

/// A management event, built field by field.
#[derive(Clone, Debug)]
pub struct Call {
    pub id: String,
    pub seconds: i64,
    pub account: &'static str,
    pub region: &'static str,
    pub source: String,
    pub name: String,
    pub read_only: Option<bool>,
    pub error: Option<String>,
    pub arn: Option<String>,
    pub user_agent: Option<String>,
    pub category: EventCategory,
}

pub fn seconds(text: &str) -> i64 {
    Timestamp::parse(text).unwrap().0
}

impl Call {
    pub fn write(at: &str, source: &str, name: &str) -> Call {
        Call::at_seconds(seconds(at), source, name)
    }

    pub fn at_seconds(seconds: i64, source: &str, name: &str) -> Call {
        Call {
            id: format!("id-{seconds}-{source}-{name}"),
            seconds,
            account: "111122223333",
            region: "us-east-1",
            source: source.to_owned(),
            name: name.to_owned(),
            read_only: Some(false),
            error: None,
            arn: Some("arn:aws:iam::111122223333:user/alice".into()),
            user_agent: Some("aws-cli/2.15.0".into()),
            category: EventCategory::Management,
        }
    }

    pub fn id(mut self, id: impl Into<String>) -> Call {
        self.id = id.into();
        self
    }

    pub fn read(mut self) -> Call {
        self.read_only = Some(true);
        self
    }

    pub fn error(mut self, code: &str) -> Call {
        self.error = Some(code.to_owned());
        self
    }

    pub fn by(mut self, arn: &str, user_agent: &str) -> Call {
        self.arn = Some(arn.to_owned());
        self.user_agent = Some(user_agent.to_owned());
        self
    }

    pub fn in_account(mut self, account: &'static str, region: &'static str) -> Call {
        self.account = account;
        self.region = region;
        self
    }

    pub fn event(&self) -> Event<'_> {
        Event {
            event_id: Some(Cow::Borrowed(&self.id)),
            event_time: Timestamp(self.seconds),
            event_source: Cow::Borrowed(&self.source),
            event_name: Cow::Borrowed(&self.name),
            aws_region: Cow::Borrowed(self.region),
            recipient_account_id: Some(Cow::Borrowed(self.account)),
            event_type: Some(Cow::Borrowed("AwsApiCall")),
            category: self.category,
            read_only: self.read_only,
            error_code: self.error.as_deref().map(Cow::Borrowed),
            user_agent: self.user_agent.as_deref().map(Cow::Borrowed),
            source_ip_address: None,
            user_identity: UserIdentity {
                identity_type: Some(Cow::Borrowed("IAMUser")),
                arn: self.arn.as_deref().map(Cow::Borrowed),
                account_id: Some(Cow::Borrowed(self.account)),
                invoked_by: None,
            },
        }
    }
}

/// Observes `calls` in order, advancing after each one, and finishes.
pub fn run(
    config: DetectorConfig,
    calls: &[Call],
) -> (Vec<InsightRecord>, Vec<OpenInsight>, Detector) {
    let mut detector = Detector::new(config).unwrap();
    let mut records = Vec::new();
    for call in calls {
        detector.observe(&call.event());
        detector.advance(&mut records);
    }
    let open = detector.finish(&mut records);
    records.sort_by(InsightRecord::output_order);
    (records, open, detector)
}

pub fn jsonl(records: &[InsightRecord]) -> String {
    records.iter().map(|r| r.to_json() + "\n").collect()
}

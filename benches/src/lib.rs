//! Seeded, in-memory CloudTrail inputs for the benchmarks: realistic records as JSON documents,
//! and the same events as engine [`Event`]s.

use std::borrow::Cow;
use std::fmt::Write;

use trailsight_engine::time::Timestamp;
use trailsight_engine::{Event, EventCategory, UserIdentity};

/// A small deterministic generator (PCG-style LCG), so inputs are identical on every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 31 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// One generated event, owning its strings.
#[derive(Debug, Clone)]
pub struct OwnedEvent {
    /// `eventID`.
    pub id: String,
    /// `eventTime`, seconds since the epoch.
    pub seconds: i64,
    /// `eventSource`.
    pub source: String,
    /// `eventName`.
    pub name: String,
    /// `readOnly`.
    pub read_only: bool,
    /// `errorCode`.
    pub error: Option<&'static str>,
    /// `userIdentity.arn`.
    pub arn: String,
    /// `userAgent`.
    pub user_agent: &'static str,
}

const AGENTS: [&str; 5] = [
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79 exe/x86_64.amzn.2023",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.79 md/arch#x86_64 lang/python#3.11.8",
    "aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.150.0",
    "console.amazonaws.com",
    "ec2.amazonaws.com",
];

/// `events` events over `days` days from 2024-03-04 on `apis` APIs (a fifth of them writes), in
/// time order.
pub fn events(events: usize, days: i64, apis: usize, seed: u64) -> Vec<OwnedEvent> {
    let mut rng = Rng::new(seed);
    let start = Timestamp::parse("2024-03-04T00:00:00Z")
        .expect("valid time")
        .0;
    let span = days * 86_400;
    let mut out: Vec<OwnedEvent> = (0..events)
        .map(|i| {
            // Popularity falls off with the API's rank, as in real trails.
            let rank = (rng.below(apis as u64 * apis as u64) as f64).sqrt() as usize;
            let api = apis - 1 - rank.min(apis - 1);
            OwnedEvent {
                id: format!(
                    "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    rng.next_u64(),
                    i & 0xffff,
                    rng.below(4096),
                    rng.below(4096),
                    rng.next_u64() << 16 | rng.below(65536)
                ),
                seconds: start + (i as i64 * span) / events as i64,
                source: format!("service{}.amazonaws.com", api % 23),
                name: format!(
                    "{}Thing{api}",
                    if api.is_multiple_of(5) {
                        "Put"
                    } else {
                        "Describe"
                    }
                ),
                read_only: !api.is_multiple_of(5),
                error: (rng.below(100) < 6).then_some("AccessDenied"),
                arn: format!(
                    "arn:aws:sts::111122223333:assumed-role/Role{}/session-{}",
                    rng.below(12),
                    rng.below(400)
                ),
                user_agent: AGENTS[rng.below(AGENTS.len() as u64) as usize],
            }
        })
        .collect();
    out.sort_by_key(|e| e.seconds);
    out
}

impl OwnedEvent {
    /// The engine's borrowed view.
    pub fn event(&self) -> Event<'_> {
        Event {
            event_id: Some(Cow::Borrowed(&self.id)),
            event_time: Timestamp(self.seconds),
            event_source: Cow::Borrowed(&self.source),
            event_name: Cow::Borrowed(&self.name),
            aws_region: Cow::Borrowed("us-east-1"),
            recipient_account_id: Some(Cow::Borrowed("111122223333")),
            event_type: Some(Cow::Borrowed("AwsApiCall")),
            category: EventCategory::Management,
            read_only: Some(self.read_only),
            error_code: self.error.map(Cow::Borrowed),
            user_agent: Some(Cow::Borrowed(self.user_agent)),
            source_ip_address: Some(Cow::Borrowed("198.51.100.7")),
            user_identity: UserIdentity {
                identity_type: Some(Cow::Borrowed("AssumedRole")),
                arn: Some(Cow::Borrowed(&self.arn)),
                account_id: Some(Cow::Borrowed("111122223333")),
                invoked_by: None,
            },
        }
    }

    /// The record as CloudTrail writes it (about 1.3 KB, with the fields the engine skips).
    pub fn write_json(&self, out: &mut String) {
        let time = Timestamp(self.seconds).to_string();
        let session = self.arn.rsplit('/').next().unwrap_or("s");
        let role = self.arn.split('/').nth(1).unwrap_or("Role");
        let _ = write!(
            out,
            r#"{{"eventVersion":"1.09","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLEID:{session}","arn":"{arn}","accountId":"111122223333","accessKeyId":"ASIAEXAMPLEKEY","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLEID","arn":"arn:aws:iam::111122223333:role/{role}","accountId":"111122223333","userName":"{role}"}},"attributes":{{"creationDate":"{time}","mfaAuthenticated":"false"}}}}}},"eventTime":"{time}","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"{agent}","requestParameters":{{"resourceId":"r-0123456789abcdef0","filters":[{{"name":"tag:team","values":["payments","search"]}}],"maxResults":100}},"responseElements":{resp},"requestID":"{id}","eventID":"{id}","readOnly":{ro},"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{source}"}}{error}}}"#,
            arn = self.arn,
            source = self.source,
            name = self.name,
            agent = self.user_agent,
            id = self.id,
            ro = self.read_only,
            resp = if self.read_only {
                "null"
            } else {
                r#"{"requestId":"c0ffee00-0000-4000-8000-000000000000","return":true}"#
            },
            error = match self.error {
                Some(code) => format!(
                    r#","errorCode":"{code}","errorMessage":"User is not authorized to perform this operation""#
                ),
                None => String::new(),
            },
        );
    }
}

/// A CloudTrail log file body, `{"Records":[...]}`, of `events`.
pub fn records_document(events: &[OwnedEvent]) -> Vec<u8> {
    let mut out = String::from("{\"Records\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        e.write_json(&mut out);
    }
    out.push_str("]}");
    out.into_bytes()
}

//! The CloudTrail event model: a borrowed view of the fields of one record that the engine reads.
//!
//! Strings borrow from the document they were parsed from ([`Cow::Borrowed`]) unless JSON escapes
//! forced a copy. Nothing else of the record is kept: request and response bodies, TLS details and
//! the rest are skipped by the parser without being materialised.

use std::borrow::Cow;
use std::fmt;

use crate::time::{Minute, Timestamp};

/// One CloudTrail event (an API call, console action, sign-in or service event).
#[derive(Clone, Debug, PartialEq)]
pub struct Event<'a> {
    /// `eventID`, the key CloudTrail documents for de-duplication.
    pub event_id: Option<Cow<'a, str>>,
    /// `eventTime`.
    pub event_time: Timestamp,
    /// `eventSource`, e.g. `ec2.amazonaws.com`.
    pub event_source: Cow<'a, str>,
    /// `eventName`, e.g. `RunInstances`.
    pub event_name: Cow<'a, str>,
    /// `awsRegion`.
    pub aws_region: Cow<'a, str>,
    /// `recipientAccountId`.
    pub recipient_account_id: Option<Cow<'a, str>>,
    /// `eventType`, e.g. `AwsApiCall`.
    pub event_type: Option<Cow<'a, str>>,
    /// `eventCategory`, resolved as described on [`EventCategory`].
    pub category: EventCategory,
    /// `readOnly`, accepted as a boolean or as the strings `"true"`/`"false"`.
    pub read_only: Option<bool>,
    /// `errorCode`; an empty string is treated as absent.
    pub error_code: Option<Cow<'a, str>>,
    /// `userAgent`.
    pub user_agent: Option<Cow<'a, str>>,
    /// `sourceIPAddress`.
    pub source_ip_address: Option<Cow<'a, str>>,
    /// The parts of `userIdentity` used for attribution.
    pub user_identity: UserIdentity<'a>,
}

/// The parts of a record's `userIdentity` that attribution uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserIdentity<'a> {
    /// `userIdentity.type`, e.g. `AssumedRole`, `AWSService`.
    pub identity_type: Option<Cow<'a, str>>,
    /// `userIdentity.arn`.
    pub arn: Option<Cow<'a, str>>,
    /// `userIdentity.accountId`.
    pub account_id: Option<Cow<'a, str>>,
    /// `userIdentity.invokedBy`, e.g. `ec2.amazonaws.com` for calls a service made.
    pub invoked_by: Option<Cow<'a, str>>,
}

/// The category of an event.
///
/// Resolved from `eventCategory` when present. Records written before `eventCategory` existed
/// (`eventVersion` < 1.07) are [`EventCategory::Data`] when `managementEvent` is `false` and
/// [`EventCategory::Management`] otherwise.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum EventCategory {
    /// Control-plane operations (`"Management"`).
    #[serde(alias = "management")]
    Management,
    /// Data-plane operations such as S3 object calls (`"Data"`).
    #[serde(alias = "data")]
    Data,
    /// VPC endpoint network activity (`"NetworkActivity"`); never analysed by Insights.
    NetworkActivity,
    /// A category this engine does not know; never analysed.
    Other,
}

impl EventCategory {
    /// The category as CloudTrail spells it in `sourceEventCategory`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventCategory::Management => "Management",
            EventCategory::Data => "Data",
            EventCategory::NetworkActivity => "NetworkActivity",
            EventCategory::Other => "Other",
        }
    }
}

impl fmt::Display for EventCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The attribution value written for calls without an error code, and for values that are absent.
pub const NULL_VALUE: &str = "null";

impl<'a> Event<'a> {
    /// The minute of `eventTime`.
    pub fn minute(&self) -> Minute {
        self.event_time.minute()
    }

    /// The account the event is keyed by: `recipientAccountId`, or, when a record lacks it,
    /// `userIdentity.accountId` if that is an account ID (it can also be `ANONYMOUS_PRINCIPAL`
    /// or a service's name).
    pub fn account_id(&self) -> Option<&str> {
        self.recipient_account_id.as_deref().or(self
            .user_identity
            .account_id
            .as_deref()
            .filter(|a| is_account_id(a)))
    }

    /// The `userIdentityArn` attribution value of this event.
    ///
    /// - an ARN is used as is, except that assumed-role session ARNs
    ///   (`arn:aws:sts::111122223333:assumed-role/Role/session`) lose the session name unless
    ///   `keep_session_name` is set, as in AWS's documented examples;
    /// - identities without an ARN are attributed to `invokedBy` (the AWS service that made the
    ///   call), then to `userIdentity.accountId`, then to the string `"null"`.
    ///
    /// ```
    /// # use trailsight_engine::event::{Event, UserIdentity};
    /// let arn = "arn:aws:sts::111122223333:assumed-role/Deploy/i-0abc";
    /// assert_eq!(
    ///     trailsight_engine::event::identity_attribution(
    ///         &UserIdentity { arn: Some(arn.into()), ..Default::default() }, false),
    ///     "arn:aws:sts::111122223333:assumed-role/Deploy");
    /// ```
    pub fn identity_attribution(&self, keep_session_name: bool) -> &str {
        identity_attribution(&self.user_identity, keep_session_name)
    }

    /// The `userAgent` attribution value: the user agent, or `"null"` when absent.
    pub fn user_agent_attribution(&self) -> &str {
        self.user_agent.as_deref().unwrap_or(NULL_VALUE)
    }

    /// The `errorCode` attribution value: the error code, or `"null"` for a call without one.
    pub fn error_code_attribution(&self) -> &str {
        self.error_code.as_deref().unwrap_or(NULL_VALUE)
    }

    /// Whether this event is a write, for `ApiCallRateInsight`.
    ///
    /// Uses `readOnly` when the record has it. When it is absent (exports that dropped it, older
    /// tools), `fallback` decides; see [`ReadOnlyFallback`].
    pub fn is_write(&self, fallback: ReadOnlyFallback) -> bool {
        match (self.read_only, fallback) {
            (Some(read_only), _) => !read_only,
            (None, ReadOnlyFallback::InferFromEventName) => !looks_read_only(&self.event_name),
            (None, ReadOnlyFallback::Read) => false,
            (None, ReadOnlyFallback::Write) => true,
        }
    }
}

/// See [`Event::identity_attribution`].
pub fn identity_attribution<'s>(
    identity: &'s UserIdentity<'_>,
    keep_session_name: bool,
) -> &'s str {
    if let Some(arn) = identity.arn.as_deref().filter(|arn| !arn.is_empty()) {
        return if keep_session_name {
            arn
        } else {
            strip_session_name(arn)
        };
    }
    identity
        .invoked_by
        .as_deref()
        .or(identity.account_id.as_deref())
        .filter(|value| !value.is_empty())
        .unwrap_or(NULL_VALUE)
}

/// `arn:<partition>:sts::<account>:assumed-role/<role>/<session>` → `…:assumed-role/<role>`;
/// any other value is returned as is. The rule [`identity_attribution`] applies unless session
/// names are kept.
///
/// ```
/// use trailsight_engine::event::strip_session_name;
/// assert_eq!(strip_session_name("arn:aws:sts::1:assumed-role/R/s"), "arn:aws:sts::1:assumed-role/R");
/// assert_eq!(strip_session_name("ec2.amazonaws.com"), "ec2.amazonaws.com");
/// ```
pub fn strip_session_name(arn: &str) -> &str {
    const MARKER: &str = ":assumed-role/";
    let Some(at) = arn.find(MARKER) else {
        return arn;
    };
    let role_start = at + MARKER.len();
    match arn[role_start..].find('/') {
        Some(slash) => &arn[..role_start + slash],
        None => arn,
    }
}

/// What to assume about an event whose record has no `readOnly` field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadOnlyFallback {
    /// Read-only when `eventName` starts with a read verb of AWS's API naming convention
    /// (see [`READ_ONLY_PREFIXES`]), a write otherwise. The default.
    #[default]
    InferFromEventName,
    /// Never counted as a write.
    Read,
    /// Always counted as a write.
    Write,
}

/// `eventName` prefixes that AWS APIs use for read-only operations. An event without `readOnly`
/// whose name starts with one of these (followed by an upper-case letter or the end of the name)
/// is taken as read-only under [`ReadOnlyFallback::InferFromEventName`].
pub const READ_ONLY_PREFIXES: &[&str] = &[
    "Get",
    "List",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "BatchGet",
    "BatchDescribe",
    "Query",
    "Scan",
    "Select",
    "Filter",
    "Simulate",
    "View",
    "Preview",
    "Estimate",
    "Check",
];

/// Whether `event_name` looks read-only by AWS's naming convention; see [`READ_ONLY_PREFIXES`].
pub fn looks_read_only(event_name: &str) -> bool {
    READ_ONLY_PREFIXES.iter().any(|prefix| {
        event_name.strip_prefix(prefix).is_some_and(|rest| {
            rest.chars()
                .next()
                .is_none_or(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
    })
}

/// A 128-bit key for `eventID`, used for de-duplication.
///
/// Canonical UUIDs (all CloudTrail event IDs) map to their 128-bit value; any other string maps to
/// a 128-bit FNV-1a hash of its bytes.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct EventIdKey(pub u128);

impl EventIdKey {
    /// The key of an `eventID` value.
    pub fn of(event_id: &str) -> EventIdKey {
        EventIdKey(
            parse_uuid(event_id.as_bytes()).unwrap_or_else(|| fnv1a_128(event_id.as_bytes())),
        )
    }
}

fn parse_uuid(b: &[u8]) -> Option<u128> {
    if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let mut value: u128 = 0;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            continue;
        }
        let digit = (c as char).to_digit(16)?;
        value = value << 4 | u128::from(digit);
    }
    Some(value)
}

fn fnv1a_128(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    bytes.iter().fold(OFFSET, |hash, &b| {
        (hash ^ u128::from(b)).wrapping_mul(PRIME)
    })
}

/// Whether `text` can be an AWS account ID: ASCII digits only, at most 12 (AWS writes 12;
/// anonymised samples sometimes shorten them, e.g. `1111111111`). Never a path: no `/`, `.` or
/// anything else a folder name could misuse.
///
/// ```
/// use trailsight_engine::event::is_account_id;
/// assert!(is_account_id("111122223333") && is_account_id("1111111111"));
/// assert!(!is_account_id("../../tmp/x") && !is_account_id("1111222233334") && !is_account_id(""));
/// ```
pub fn is_account_id(text: &str) -> bool {
    (1..=12).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` is an AWS region name: a 2- to 4-letter prefix, one or more words of
/// lower-case letters and a number, joined by `-` (`us-east-1`, `us-gov-west-1`,
/// `eusc-de-east-1`).
///
/// ```
/// use trailsight_engine::event::is_region_name;
/// assert!(is_region_name("us-east-1") && is_region_name("us-gov-west-1") && is_region_name("cn-north-1"));
/// assert!(!is_region_name("../us-east-1") && !is_region_name("us-east") && !is_region_name("US-EAST-1"));
/// ```
pub fn is_region_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let lower = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase());
    match parts.as_slice() {
        [prefix, words @ .., number] if !words.is_empty() => {
            (2..=4).contains(&prefix.len())
                && lower(prefix)
                && words.iter().all(lower)
                && (1..=2).contains(&number.len())
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_assumed_role_session_names() {
        let cases = [
            (
                "arn:aws:sts::1:assumed-role/Admin/alice",
                "arn:aws:sts::1:assumed-role/Admin",
            ),
            (
                "arn:aws-cn:sts::1:assumed-role/R/i-0a",
                "arn:aws-cn:sts::1:assumed-role/R",
            ),
            (
                "arn:aws:sts::1:assumed-role/NoSession",
                "arn:aws:sts::1:assumed-role/NoSession",
            ),
            ("arn:aws:iam::1:user/bob", "arn:aws:iam::1:user/bob"),
            ("arn:aws:iam::1:root", "arn:aws:iam::1:root"),
        ];
        for (arn, expected) in cases {
            assert_eq!(strip_session_name(arn), expected);
        }
    }

    #[test]
    fn identities_without_arn() {
        let service = UserIdentity {
            identity_type: Some("AWSService".into()),
            invoked_by: Some("ec2.amazonaws.com".into()),
            ..Default::default()
        };
        assert_eq!(identity_attribution(&service, false), "ec2.amazonaws.com");
        let account = UserIdentity {
            account_id: Some("111122223333".into()),
            ..Default::default()
        };
        assert_eq!(identity_attribution(&account, false), "111122223333");
        assert_eq!(
            identity_attribution(&UserIdentity::default(), false),
            "null"
        );
    }

    #[test]
    fn read_only_inference() {
        for name in [
            "GetObject",
            "ListBuckets",
            "DescribeInstances",
            "Get",
            "BatchGetItem",
        ] {
            assert!(looks_read_only(name), "{name}");
        }
        for name in [
            "PutObject",
            "Getaway",
            "RunInstances",
            "Listen",
            "CheckoutLicense",
        ] {
            assert!(!looks_read_only(name), "{name}");
        }
    }

    #[test]
    fn event_id_keys() {
        let a = EventIdKey::of("2df05a9f-0f79-42d3-b5d5-f5cc6c312fb1");
        assert_eq!(a.0, 0x2df05a9f0f7942d3b5d5f5cc6c312fb1);
        assert_eq!(a, EventIdKey::of("2DF05A9F-0F79-42D3-B5D5-F5CC6C312FB1"));
        assert_ne!(EventIdKey::of("abc"), EventIdKey::of("abd"));
        assert_eq!(EventIdKey::of("abc"), EventIdKey::of("abc"));
    }
}

//! The record object: the fields the engine reads, deserialized leniently in one pass, and their
//! validation into an [`Event`].

use std::borrow::Cow;
use std::fmt;
use std::mem::take;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::items::RecordErrorKind;
use super::lenient::{
    ARRAY, Accept, BOOLEAN, Key, KeySet, LStr, Lenient, NULL, NUMBER, STRING, Skip, drain_seq,
};
use crate::event::{Event, EventCategory, UserIdentity, is_account_id, is_region_name};
use crate::time::Timestamp;

/// What `readOnly` and `managementEvent` accept, for error messages.
const BOOL_LIKE: &str = "boolean or \"true\"/\"false\"";

/// The `userIdentity` fields attribution uses.
#[derive(Debug, Default)]
pub(crate) struct Identity<'a> {
    pub(super) identity_type: LStr<'a>,
    pub(super) arn: LStr<'a>,
    pub(super) account_id: LStr<'a>,
    pub(super) invoked_by: LStr<'a>,
}

enum IdentityKey {
    Type,
    Arn,
    AccountId,
    InvokedBy,
    Other,
}

impl KeySet for IdentityKey {
    fn from_key(key: &str) -> Self {
        match key {
            "type" => IdentityKey::Type,
            "arn" => IdentityKey::Arn,
            "accountId" => IdentityKey::AccountId,
            "invokedBy" => IdentityKey::InvokedBy,
            _ => IdentityKey::Other,
        }
    }
}

impl<'de> Accept<'de> for Identity<'de> {
    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Lenient<Self>, A::Error> {
        let mut id = Identity::default();
        while let Some(Key(key)) = map.next_key::<Key<IdentityKey>>()? {
            match key {
                IdentityKey::Type => id.identity_type = map.next_value()?,
                IdentityKey::Arn => id.arn = map.next_value()?,
                IdentityKey::AccountId => id.account_id = map.next_value()?,
                IdentityKey::InvokedBy => id.invoked_by = map.next_value()?,
                IdentityKey::Other => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(Lenient::Value(id))
    }
}

/// The fields of one CloudTrail record that the engine reads. Everything else is skipped.
#[derive(Debug, Default)]
pub(crate) struct Record<'a> {
    /// Whether any key of a CloudTrail record was seen, to tell records from other objects.
    pub(crate) any_key: bool,
    pub(super) event_time: LStr<'a>,
    /// Logstash-reshaped exports replace `eventTime` with `@timestamp`.
    pub(super) at_timestamp: LStr<'a>,
    pub(super) event_source: LStr<'a>,
    pub(super) event_name: LStr<'a>,
    pub(super) aws_region: LStr<'a>,
    pub(super) event_id: LStr<'a>,
    pub(super) recipient_account_id: LStr<'a>,
    pub(super) event_type: LStr<'a>,
    pub(super) event_category: LStr<'a>,
    pub(super) management_event: Lenient<bool>,
    pub(crate) read_only: Lenient<bool>,
    pub(super) error_code: LStr<'a>,
    pub(super) user_agent: LStr<'a>,
    pub(super) source_ip_address: LStr<'a>,
    pub(super) user_identity: Lenient<Identity<'a>>,
    pub(super) insight_details: Lenient<()>,
}

/// Every key any top-level object, array element or record may carry that the parser reads.
#[derive(Clone, Copy)]
enum ElementKey {
    EventVersion,
    EventTime,
    AtTimestamp,
    EventSource,
    EventName,
    AwsRegion,
    EventId,
    RecipientAccountId,
    EventType,
    EventCategory,
    ManagementEvent,
    ReadOnly,
    ErrorCode,
    UserAgent,
    SourceIpAddress,
    UserIdentity,
    InsightDetails,
    Records,
    Events,
    LogEvents,
    MessageType,
    DetailType,
    Detail,
    CloudTrailEvent,
    LookupReadOnly,
    Message,
    DigestMarker,
    Other,
}

impl KeySet for ElementKey {
    fn from_key(key: &str) -> Self {
        match key {
            "eventVersion" => ElementKey::EventVersion,
            "eventTime" => ElementKey::EventTime,
            "@timestamp" => ElementKey::AtTimestamp,
            "eventSource" => ElementKey::EventSource,
            "eventName" => ElementKey::EventName,
            "awsRegion" => ElementKey::AwsRegion,
            "eventID" => ElementKey::EventId,
            "recipientAccountId" => ElementKey::RecipientAccountId,
            "eventType" => ElementKey::EventType,
            "eventCategory" => ElementKey::EventCategory,
            "managementEvent" => ElementKey::ManagementEvent,
            "readOnly" => ElementKey::ReadOnly,
            "errorCode" => ElementKey::ErrorCode,
            "userAgent" => ElementKey::UserAgent,
            "sourceIPAddress" => ElementKey::SourceIpAddress,
            "userIdentity" => ElementKey::UserIdentity,
            "insightDetails" => ElementKey::InsightDetails,
            "Records" => ElementKey::Records,
            "Events" => ElementKey::Events,
            "logEvents" => ElementKey::LogEvents,
            "messageType" => ElementKey::MessageType,
            "detail-type" => ElementKey::DetailType,
            "detail" => ElementKey::Detail,
            "CloudTrailEvent" => ElementKey::CloudTrailEvent,
            "ReadOnly" => ElementKey::LookupReadOnly,
            "message" => ElementKey::Message,
            "digestStartTime"
            | "digestEndTime"
            | "digestS3Bucket"
            | "digestS3Object"
            | "digestPublicKeyFingerprint"
            | "digestSignatureAlgorithm"
            | "logFiles" => ElementKey::DigestMarker,
            _ => ElementKey::Other,
        }
    }
}

impl<'de> Record<'de> {
    /// Reads the value of `key` if it is a record field. Returns `false`, without reading the
    /// value, for any other key.
    fn read_field<A: MapAccess<'de>>(
        &mut self,
        key: ElementKey,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match key {
            ElementKey::EventVersion => {
                map.next_value::<Skip>()?;
            }
            ElementKey::EventTime => self.event_time = map.next_value()?,
            ElementKey::AtTimestamp => self.at_timestamp = map.next_value()?,
            ElementKey::EventSource => self.event_source = map.next_value()?,
            ElementKey::EventName => self.event_name = map.next_value()?,
            ElementKey::AwsRegion => self.aws_region = map.next_value()?,
            ElementKey::EventId => self.event_id = map.next_value()?,
            ElementKey::RecipientAccountId => self.recipient_account_id = map.next_value()?,
            ElementKey::EventType => self.event_type = map.next_value()?,
            ElementKey::EventCategory => self.event_category = map.next_value()?,
            ElementKey::ManagementEvent => self.management_event = map.next_value()?,
            ElementKey::ReadOnly => self.read_only = map.next_value()?,
            ElementKey::ErrorCode => self.error_code = map.next_value()?,
            ElementKey::UserAgent => self.user_agent = map.next_value()?,
            ElementKey::SourceIpAddress => self.source_ip_address = map.next_value()?,
            ElementKey::UserIdentity => self.user_identity = map.next_value()?,
            ElementKey::InsightDetails => self.insight_details = map.next_value()?,
            _ => return Ok(false),
        }
        self.any_key = true;
        Ok(true)
    }
}

/// One JSON value where a record may stand: an array element, a line, the whole document, or a
/// record embedded in a string. It holds the record fields and the fields of every wrapper a
/// record can come in, so that one pass tells what the value is.
#[derive(Debug, Default)]
pub(crate) struct Element<'a> {
    /// The JSON type of the value when it is not an object.
    pub(crate) not_object: Option<&'static str>,
    pub(crate) record: Record<'a>,
    /// `Records`, `Events` and `logEvents` when they are not the first key of a top-level object;
    /// they are walked from the document afterwards.
    pub(crate) records: Option<&'a RawValue>,
    pub(crate) events: Option<&'a RawValue>,
    pub(crate) log_events: Option<&'a RawValue>,
    /// Repeats of those keys (a JSON object may repeat a key; the records of every repeat are
    /// read, not only the last one's).
    #[expect(
        clippy::box_collection,
        reason = "almost never there: a box is one word in every Element, a Vec three"
    )]
    pub(crate) repeated: Option<Box<Vec<(Wrapper, &'a RawValue)>>>,
    pub(crate) message_type: LStr<'a>,
    pub(crate) detail_type: LStr<'a>,
    /// What `detail` held. When it is an object, its fields are read into `record`: an envelope
    /// has no record fields of its own, and one record per element keeps `Element` small enough
    /// to move cheaply.
    pub(crate) detail: Lenient<()>,
    pub(crate) cloudtrail_event: LStr<'a>,
    /// LookupEvents' string `ReadOnly`, used when the embedded record has no `readOnly`.
    pub(crate) lookup_read_only: Lenient<bool>,
    pub(crate) message: LStr<'a>,
    pub(crate) digest_marker: bool,
}

/// The keys whose array holds records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wrapper {
    /// `Records` of a CloudTrail log file.
    Records,
    /// `Events` of `lookup-events` output.
    Events,
    /// `logEvents` of a CloudWatch Logs message.
    LogEvents,
}

impl Wrapper {
    /// The key as it is written.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Wrapper::Records => "Records",
            Wrapper::Events => "Events",
            Wrapper::LogEvents => "logEvents",
        }
    }
}

impl<'a> Element<'a> {
    /// Keeps the array of a wrapper key; a repeated key's arrays are all kept, in order.
    fn wrapper(&mut self, wrapper: Wrapper, raw: &'a RawValue) {
        let slot = match wrapper {
            Wrapper::Records => &mut self.records,
            Wrapper::Events => &mut self.events,
            Wrapper::LogEvents => &mut self.log_events,
        };
        if slot.is_none() {
            *slot = Some(raw);
        } else {
            self.repeated.get_or_insert_default().push((wrapper, raw));
        }
    }

    /// The arrays of `wrapper`, in document order.
    pub(crate) fn arrays(&self, wrapper: Wrapper) -> impl Iterator<Item = &'a RawValue> + '_ {
        let first = match wrapper {
            Wrapper::Records => self.records,
            Wrapper::Events => self.events,
            Wrapper::LogEvents => self.log_events,
        };
        let repeats = self.repeated.iter().flat_map(|r| r.iter());
        first.into_iter().chain(
            repeats
                .filter(move |(w, _)| *w == wrapper)
                .map(|(_, raw)| *raw),
        )
    }
}

impl<'de> Deserialize<'de> for Element<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl ElementVisitor {
    fn not_object<'de>(found: &'static str) -> Element<'de> {
        Element {
            not_object: Some(found),
            ..Element::default()
        }
    }
}

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Self::not_object(STRING))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Self::not_object(BOOLEAN))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Self::not_object(NUMBER))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Self::not_object(NUMBER))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Self::not_object(NUMBER))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Self::not_object(NULL))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Self::not_object(ARRAY))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut el = Element::default();
        while let Some(Key(key)) = map.next_key::<Key<ElementKey>>()? {
            if el.record.read_field(key, &mut map)? {
                continue;
            }
            match key {
                ElementKey::Records => {
                    let raw = map.next_value()?;
                    el.wrapper(Wrapper::Records, raw);
                }
                ElementKey::Events => {
                    let raw = map.next_value()?;
                    el.wrapper(Wrapper::Events, raw);
                }
                ElementKey::LogEvents => {
                    let raw = map.next_value()?;
                    el.wrapper(Wrapper::LogEvents, raw);
                }
                ElementKey::MessageType => el.message_type = map.next_value()?,
                ElementKey::DetailType => el.detail_type = map.next_value()?,
                ElementKey::Detail => {
                    el.detail = map.next_value_seed(DetailSeed(&mut el.record))?
                }
                ElementKey::CloudTrailEvent => el.cloudtrail_event = map.next_value()?,
                ElementKey::LookupReadOnly => el.lookup_read_only = map.next_value()?,
                ElementKey::Message => el.message = map.next_value()?,
                ElementKey::DigestMarker => {
                    el.digest_marker = true;
                    map.next_value::<Skip>()?;
                }
                _ => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(el)
    }
}

/// Reads an envelope's `detail` object into the element's record.
struct DetailSeed<'r, 'a>(&'r mut Record<'a>);

impl<'de> DeserializeSeed<'de> for DetailSeed<'_, 'de> {
    type Value = Lenient<()>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DetailSeed<'_, 'de> {
    type Value = Lenient<()>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Lenient::Wrong(STRING))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Lenient::Wrong(BOOLEAN))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Lenient::Wrong(NUMBER))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Lenient::Wrong(NUMBER))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Lenient::Wrong(NUMBER))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Lenient::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Lenient::Wrong(ARRAY))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<ElementKey>>()? {
            if !self.0.read_field(key, &mut map)? {
                map.next_value::<Skip>()?;
            }
        }
        Ok(Lenient::Value(()))
    }
}

/// What kind of record a record object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordKind {
    Insight,
    Aggregated,
    Event,
}

impl Record<'_> {
    pub(crate) fn kind(&self) -> RecordKind {
        let event_type = str_value(&self.event_type);
        let category = str_value(&self.event_category);
        if event_type == Some("AwsCloudTrailInsight")
            || category == Some("Insight")
            || matches!(self.insight_details, Lenient::Value(()))
        {
            RecordKind::Insight
        } else if event_type == Some("AwsAggregatedEvent") || category == Some("Aggregated") {
            RecordKind::Aggregated
        } else {
            RecordKind::Event
        }
    }
}

fn str_value<'s>(field: &'s LStr<'_>) -> Option<&'s str> {
    match field {
        Lenient::Value(s) => Some(s),
        _ => None,
    }
}

fn required<'a>(field: &'static str, value: LStr<'a>) -> Result<Cow<'a, str>, RecordErrorKind> {
    match value {
        Lenient::Value(s) => Ok(s),
        Lenient::Absent | Lenient::Null => Err(RecordErrorKind::Missing { field }),
        Lenient::Wrong(found) => Err(RecordErrorKind::WrongType {
            field,
            expected: STRING,
            found,
        }),
    }
}

fn optional<'a>(
    field: &'static str,
    value: LStr<'a>,
) -> Result<Option<Cow<'a, str>>, RecordErrorKind> {
    match value {
        Lenient::Value(s) => Ok(Some(s)),
        Lenient::Absent | Lenient::Null => Ok(None),
        Lenient::Wrong(found) => Err(RecordErrorKind::WrongType {
            field,
            expected: STRING,
            found,
        }),
    }
}

fn optional_bool(
    field: &'static str,
    value: Lenient<bool>,
) -> Result<Option<bool>, RecordErrorKind> {
    match value {
        Lenient::Value(b) => Ok(Some(b)),
        Lenient::Absent | Lenient::Null => Ok(None),
        Lenient::Wrong(found) => Err(RecordErrorKind::WrongType {
            field,
            expected: BOOL_LIKE,
            found,
        }),
    }
}

/// Cuts `s` to at most `max` bytes at a character boundary.
fn invalid(field: &'static str, value: &str, expected: &'static str) -> RecordErrorKind {
    RecordErrorKind::InvalidValue {
        field,
        value: truncate(value, 64),
        expected,
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    s[..s.floor_char_boundary(max)].to_owned()
}

impl<'a> Record<'a> {
    /// Validates the record into an event. `lookup_read_only` is the `ReadOnly` of a LookupEvents
    /// element, used when the record itself has no `readOnly`.
    /// The strings are taken out of the record, which is left empty, so the record is never
    /// copied as a whole.
    pub(crate) fn take_event(
        &mut self,
        lookup_read_only: Lenient<bool>,
    ) -> Result<Event<'a>, RecordErrorKind> {
        let (time_field, time) = match take(&mut self.event_time) {
            Lenient::Absent | Lenient::Null if !self.at_timestamp.is_absent() => {
                ("@timestamp", take(&mut self.at_timestamp))
            }
            time => ("eventTime", time),
        };
        let time = required(time_field, time)?;
        let event_time = Timestamp::parse(&time).map_err(|error| RecordErrorKind::InvalidTime {
            value: truncate(&time, 64),
            error,
        })?;
        let event_source = required("eventSource", take(&mut self.event_source))?;
        let event_name = required("eventName", take(&mut self.event_name))?;
        let aws_region = required("awsRegion", take(&mut self.aws_region))?;
        // Both name folders and files of the output (`AWSLogs/<account>/…/<region>/`): a value
        // that is not what AWS writes is refused, never turned into a path.
        if !is_region_name(&aws_region) {
            return Err(invalid(
                "awsRegion",
                &aws_region,
                "an AWS region name such as us-east-1",
            ));
        }
        let event_id = optional("eventID", take(&mut self.event_id))?;
        let recipient_account_id =
            optional("recipientAccountId", take(&mut self.recipient_account_id))?;
        if let Some(account) = recipient_account_id.as_deref()
            && !is_account_id(account)
        {
            return Err(invalid(
                "recipientAccountId",
                account,
                "an AWS account ID (12 digits)",
            ));
        }
        let event_type = optional("eventType", take(&mut self.event_type))?;
        let error_code =
            optional("errorCode", take(&mut self.error_code))?.filter(|code| !code.is_empty());
        let user_agent = optional("userAgent", take(&mut self.user_agent))?;
        let source_ip_address = optional("sourceIPAddress", take(&mut self.source_ip_address))?;
        let read_only = match take(&mut self.read_only) {
            Lenient::Absent | Lenient::Null => optional_bool("ReadOnly", lookup_read_only)?,
            read_only => optional_bool("readOnly", read_only)?,
        };
        let category = match take(&mut self.event_category) {
            Lenient::Value(category) => match &*category {
                "Management" => EventCategory::Management,
                "Data" => EventCategory::Data,
                "NetworkActivity" => EventCategory::NetworkActivity,
                _ => EventCategory::Other,
            },
            Lenient::Absent | Lenient::Null => {
                // Records older than eventVersion 1.07 have no eventCategory.
                match optional_bool("managementEvent", take(&mut self.management_event))? {
                    Some(false) => EventCategory::Data,
                    Some(true) | None => EventCategory::Management,
                }
            }
            Lenient::Wrong(found) => {
                return Err(RecordErrorKind::WrongType {
                    field: "eventCategory",
                    expected: STRING,
                    found,
                });
            }
        };
        let user_identity = match take(&mut self.user_identity) {
            Lenient::Value(id) => UserIdentity {
                identity_type: optional("userIdentity.type", id.identity_type)?,
                arn: optional("userIdentity.arn", id.arn)?,
                account_id: optional("userIdentity.accountId", id.account_id)?,
                invoked_by: optional("userIdentity.invokedBy", id.invoked_by)?,
            },
            Lenient::Absent | Lenient::Null => UserIdentity::default(),
            Lenient::Wrong(found) => {
                return Err(RecordErrorKind::WrongType {
                    field: "userIdentity",
                    expected: super::lenient::OBJECT,
                    found,
                });
            }
        };
        Ok(Event {
            event_id,
            event_time,
            event_source,
            event_name,
            aws_region,
            recipient_account_id,
            event_type,
            category,
            read_only,
            error_code,
            user_agent,
            source_ip_address,
            user_identity,
        })
    }
}

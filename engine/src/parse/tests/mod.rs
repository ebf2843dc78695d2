//! The parser's tests: shared helpers here, tests by topic in the submodules.

use std::borrow::Cow;

use serde_json::{Value, json};

use super::*;
use crate::event::{Event, EventCategory, UserIdentity};
use crate::time::{TimeError, Timestamp};

/// An owned copy of a [`ParsedItem`], so tests can look at items after the callback returns.
#[derive(Debug)]
enum Item {
    Event(Box<Event<'static>>, Location),
    Insight(String, Location),
    Aggregated(Location),
    Error(RecordError),
}

impl Item {
    fn location(&self) -> Location {
        match self {
            Item::Event(_, location) | Item::Insight(_, location) | Item::Aggregated(location) => {
                *location
            }
            Item::Error(error) => error.location,
        }
    }
}

fn own(cow: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(cow.into_owned())
}

fn own_opt(cow: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    cow.map(own)
}

fn own_event(e: Event<'_>) -> Event<'static> {
    Event {
        event_id: own_opt(e.event_id),
        event_time: e.event_time,
        event_source: own(e.event_source),
        event_name: own(e.event_name),
        aws_region: own(e.aws_region),
        recipient_account_id: own_opt(e.recipient_account_id),
        event_type: own_opt(e.event_type),
        category: e.category,
        read_only: e.read_only,
        error_code: own_opt(e.error_code),
        user_agent: own_opt(e.user_agent),
        source_ip_address: own_opt(e.source_ip_address),
        user_identity: UserIdentity {
            identity_type: own_opt(e.user_identity.identity_type),
            arn: own_opt(e.user_identity.arn),
            account_id: own_opt(e.user_identity.account_id),
            invoked_by: own_opt(e.user_identity.invoked_by),
        },
    }
}

fn own_item(item: ParsedItem<'_>) -> Item {
    match item {
        ParsedItem::Event { event, location } => Item::Event(Box::new(own_event(event)), location),
        ParsedItem::Insight { json, location } => Item::Insight(json.into_owned(), location),
        ParsedItem::Aggregated { location } => Item::Aggregated(location),
        ParsedItem::Error(error) => Item::Error(error),
    }
}

/// Parses a whole document, and checks that the same bytes streamed in pieces of several sizes
/// give exactly the same items and format: every test of this file is a test of the stream too.
fn collect(doc: impl AsRef<[u8]>) -> (DocumentFormat, Vec<Item>) {
    let doc = doc.as_ref();
    let mut items = Vec::new();
    let summary = parse_document(doc, &mut |item| items.push(own_item(item)));
    assert_ordinals(&items);
    let whole = format!("{:?} {items:?}", summary.format);
    for piece in [1, 3, 16, 97, doc.len() / 2 + 1] {
        let (format, streamed) = stream_in_pieces(doc, piece.max(1), false);
        assert_eq!(
            format!("{format:?} {streamed:?}"),
            whole,
            "streamed in pieces of {piece} bytes"
        );
    }
    (summary.format, items)
}

/// The items of `doc` fed to a [`DocumentStream`] `piece` bytes at a time.
fn stream_in_pieces(doc: &[u8], piece: usize, reference: bool) -> (DocumentFormat, Vec<Item>) {
    let mut items = Vec::new();
    let mut stream = if reference {
        DocumentStream::reference(usize::MAX)
    } else {
        DocumentStream::new(usize::MAX)
    };
    for chunk in doc.chunks(piece) {
        stream
            .feed(chunk, &mut |item| items.push(own_item(item)))
            .expect("no limit");
    }
    let summary = stream.finish(&mut |item| items.push(own_item(item)));
    (summary.format, items)
}

/// Every item is one record-like element, numbered in document order.
fn assert_ordinals(items: &[Item]) {
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item.location().record, i as u64, "{items:#?}");
    }
}

/// A compact short description of each item, for readable assertions.
fn summary(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item {
            Item::Event(event, _) => event
                .event_id
                .as_deref()
                .map_or_else(|| format!("event {}", event.event_name), str::to_owned),
            Item::Insight(..) => "insight".to_owned(),
            Item::Aggregated(_) => "aggregated".to_owned(),
            Item::Error(error) => format!("error: {}", error.kind),
        })
        .collect()
}

fn events(items: &[Item]) -> Vec<&Event<'static>> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Event(event, _) => Some(&**event),
            _ => None,
        })
        .collect()
}

fn errors(items: &[Item]) -> Vec<&RecordError> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Error(error) => Some(error),
            _ => None,
        })
        .collect()
}

fn only_error(items: &[Item]) -> &RecordErrorKind {
    match items {
        [Item::Error(error)] => &error.kind,
        other => panic!("expected one error, got {other:#?}"),
    }
}

/// A compact record in the key order AWS writes, with `eventID` `id-{i}`.
fn record(i: usize) -> String {
    format!(
        concat!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","principalId":"AIDAEXAMPLE","#,
            r#""arn":"arn:aws:iam::111122223333:user/u{i}","accountId":"111122223333","#,
            r#""accessKeyId":"AKIAEXAMPLE","sessionContext":{{"attributes":{{"mfaAuthenticated":"false"}}}}}},"#,
            r#""eventTime":"2023-07-10T11:42:{s:02}Z","eventSource":"ec2.amazonaws.com","#,
            r#""eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","#,
            r#""userAgent":"aws-cli/2.13.0","requestParameters":{{"instancesSet":{{"items":"#,
            r#"[{{"instanceId":"i-{i}"}}]}},"filterSet":{{}},"maxResults":5}},"responseElements":null,"#,
            r#""requestID":"req-{i}","eventID":"id-{i}","readOnly":true,"eventType":"AwsApiCall","#,
            r#""managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","#,
            r#""tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256"}}}}"#
        ),
        i = i,
        s = i % 60
    )
}

/// `{"Records":[...]}` from record texts, and the offset where each record starts and ends.
fn records_doc(records: &[String]) -> (String, Vec<(usize, usize)>) {
    let mut doc = String::from(r#"{"Records":["#);
    let mut spans = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            doc.push(',');
        }
        spans.push((doc.len(), doc.len() + r.len()));
        doc.push_str(r);
    }
    doc.push_str("]}");
    (doc, spans)
}

fn records(n: usize) -> Vec<String> {
    (0..n).map(record).collect()
}

/// `record(0)` as a JSON value with `edit` applied.
fn edited(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut value: Value = serde_json::from_str(&record(0)).unwrap();
    edit(value.as_object_mut().unwrap());
    value.to_string()
}

fn single_event(doc: &str) -> Event<'static> {
    let (_, items) = collect(doc);
    match &items[..] {
        [Item::Event(event, _)] => (**event).clone(),
        other => panic!("expected one event, got {other:#?}"),
    }
}

mod damage;
mod fields;
mod formats;

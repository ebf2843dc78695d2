//! The fast path for plain records (`parse::fast`) against the serde path that defines the
//! behaviour: `parse_document` and `parse_document_reference` must report the same items, in the
//! same order, at the same locations, on real data (the repository's corpus and sample trail,
//! and the project's shared corpus when it is next to the repository), on every cut of a few
//! real documents, and on random edits of them.

use std::io::Read;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use trailsight_engine::parse::{ParsedItem, parse_document, parse_document_reference};

/// Every item of a document, as text (the `Debug` form shows every field and location).
fn items(bytes: &[u8], reference: bool) -> (String, Vec<String>) {
    let mut out = Vec::new();
    let mut push = |item: ParsedItem<'_>| out.push(format!("{item:?}"));
    let summary = if reference {
        parse_document_reference(bytes, &mut push)
    } else {
        parse_document(bytes, &mut push)
    };
    (format!("{:?}", summary.format), out)
}

fn assert_same(bytes: &[u8], what: &str) {
    let fast = items(bytes, false);
    let reference = items(bytes, true);
    if fast != reference {
        let first = fast
            .1
            .iter()
            .zip(&reference.1)
            .position(|(a, b)| a != b)
            .unwrap_or(fast.1.len().min(reference.1.len()));
        panic!(
            "{what}: fast path differs at item {first}:\n fast: {:?} {:?}\n  ref: {:?} {:?}",
            fast.0,
            fast.1.get(first),
            reference.0,
            reference.1.get(first)
        );
    }
}

fn document(path: &Path) -> Option<Vec<u8>> {
    let raw = std::fs::read(path).ok()?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .ok()?;
        Some(out)
    } else {
        Some(raw)
    }
}

fn files_under(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, out);
        } else if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("md" | "tsv" | "txt" | "py" | "sh" | "csv")
        ) {
            out.push(path);
        }
    }
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn fast_path_agrees_on_every_real_document() {
    let mut files = Vec::new();
    for dir in [
        "fixtures/corpus",
        "fixtures/sample-trail",
        "fixtures/golden",
    ] {
        files_under(&repository().join(dir), &mut files);
    }
    let in_repo = files.len();
    // The project's shared corpus, when this clone sits next to it (it is not redistributed).
    files_under(&repository().join("../shared/corpus"), &mut files);
    let mut documents = 0;
    for path in &files {
        if let Some(bytes) = document(path) {
            assert_same(&bytes, &path.display().to_string());
            documents += 1;
        }
    }
    assert!(
        in_repo > 2000 && documents >= in_repo,
        "{documents} of {}",
        files.len()
    );
}

/// A few real documents of different shapes, for cuts and edits.
fn samples() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    files_under(&repository().join("fixtures/corpus"), &mut files);
    let mut docs: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|p| document(p))
        .filter(|d| d.len() < 64 << 10)
        .collect();
    docs.sort_by_key(Vec::len);
    docs.dedup();
    docs
}

#[test]
fn fast_path_agrees_on_every_cut_of_real_documents() {
    for doc in samples().iter().take(6) {
        for cut in 0..doc.len().min(6000) {
            assert_same(&doc[..cut], &format!("cut at {cut}"));
        }
    }
}

#[test]
fn fast_path_agrees_on_hand_made_edge_cases() {
    let base = r#"{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","accountId":"1"},"eventTime":"2024-03-04T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","requestParameters":{"userName":"bob","n":[1,-2.5,0,true,false,null,{}]},"eventID":"00000000-0000-4000-8000-000000000001","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"1","eventCategory":"Management"}"#;
    let edits: &[(&str, &str)] = &[
        ("", ""),
        (r#""bob""#, r#""b\"o\\b\/\u00e9\ud83d\ude00""#),
        (r#""bob""#, r#""\ud83d""#),
        (r#""bob""#, r#""\udc00x""#),
        (r#""bob""#, r#""\x""#),
        (r#""bob""#, "\"b\u{1}b\""),
        (r#""bob""#, "\"b\u{7f}\u{e9}b\""),
        ("-2.5", "1e999"),
        ("-2.5", "1E5"),
        ("-2.5", "01"),
        ("-2.5", "-"),
        ("-2.5", "1."),
        ("-2.5", &"9".repeat(400)),
        ("-2.5", &"9".repeat(30)),
        ("true", "tru"),
        ("null,{}", "nul,{}"),
        ("[1,", "[1,,"),
        ("{}]", "{},]"),
        ("\"readOnly\":false", "\"readOnly\":\"false\""),
        ("\"readOnly\":false", "\"readOnly\":\"TRUE\""),
        ("\"readOnly\":false", "\"readOnly\":1"),
        ("\"readOnly\":false", "\"readOnly\":null"),
        ("\"eventName\":\"CreateUser\"", "\"eventName\":null"),
        ("\"eventName\":\"CreateUser\"", "\"eventName\":5"),
        (
            "\"eventName\":\"CreateUser\"",
            "\"eventName\":\"Create\\u0055ser\"",
        ),
        ("\"eventName\"", "\"event\\u004eame\""),
        (
            "\"eventName\":\"CreateUser\"",
            "\"eventName\":\"A\",\"eventName\":\"B\"",
        ),
        ("\"userIdentity\":{", "\"userIdentity\":null,\"x\":{"),
        ("\"userIdentity\":{", "\"userIdentity\":\"s\",\"x\":{"),
        ("\"arn\":\"arn:aws:iam::1:user/a\"", "\"arn\":7"),
        (
            "\"arn\":\"arn:aws:iam::1:user/a\"",
            "\"arn\":null,\"arn\":\"z\"",
        ),
        (
            "\"eventCategory\":\"Management\"",
            "\"insightDetails\":null",
        ),
        ("\"eventCategory\":\"Management\"", "\"insightDetails\":{}"),
        ("\"eventCategory\":\"Management\"", "\"detail-type\":\"x\""),
        (
            "\"eventCategory\":\"Management\"",
            "\"CloudTrailEvent\":\"{}\"",
        ),
        (
            "\"eventCategory\":\"Management\"",
            "\"eventType\":\"AwsAggregatedEvent\"",
        ),
        (
            "\"eventCategory\":\"Management\"",
            "\"managementEvent\":false",
        ),
        (
            "\"eventCategory\":\"Management\"",
            "\"managementEvent\":\"false\"",
        ),
        (
            "\"eventCategory\":\"Management\"",
            "\"@timestamp\":\"2024-03-04T10:00:00Z\"",
        ),
        (
            "\"eventTime\":\"2024-03-04T10:00:00Z\"",
            "\"eventTime\":\"yesterday\"",
        ),
        (
            "\"eventTime\":\"2024-03-04T10:00:00Z\"",
            "\"eventTime\":null,\"@timestamp\":\"2024-03-04T10:00:00.5+01:00\"",
        ),
        ("\"errorCode\"", "\"errorCode\":\"\",\"x\""),
        (":", " : "),
        (",", " ,\n\t"),
        ("{\"eventVersion", "{ \"eventVersion"),
    ];
    let mut nested = String::from("1");
    for _ in 0..130 {
        nested = format!("[{nested}]");
    }
    let deep = ("-2.5", nested.as_str());
    for (from, to) in edits.iter().copied().chain([deep]) {
        let record = base.replacen(from, to, 1);
        for doc in [
            format!("{{\"Records\":[{record},{base}]}}"),
            format!("{{\"Records\":[\n  {record} ,\n  {base}\n]}}"),
            format!("[{record},{record}]"),
            format!("{{\"Records\":[{record},{{}},[],1,{base},]}}"),
            format!("{{\"Records\":[{record}"),
        ] {
            assert_same(doc.as_bytes(), &doc);
        }
    }
    // Invalid UTF-8 anywhere turns the fast path off for the document; still the same items.
    let mut bytes = format!("{{\"Records\":[{base},{base}]}}").into_bytes();
    let at = bytes.len() - 20;
    bytes[at] = 0xFF;
    assert_same(&bytes, "invalid UTF-8");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Random byte edits (replace, insert, delete) of real documents.
    #[test]
    fn fast_path_agrees_after_random_edits(
        pick in 0usize..1000,
        edits in proptest::collection::vec((0usize..1 << 20, 0u8..3, any::<u8>()), 1..6),
    ) {
        let docs = samples();
        let mut doc = docs[pick % docs.len()].clone();
        for (at, how, byte) in edits {
            let at = at % (doc.len() + 1);
            // Mostly JSON punctuation and quotes: those are what the two paths could disagree on.
            let byte = b"\"\\{}[],:0-.e tfnu\x01\xC3"
                .get(usize::from(byte) % 24)
                .copied()
                .unwrap_or(byte);
            match how {
                0 if at < doc.len() => doc[at] = byte,
                1 => doc.insert(at, byte),
                _ if at < doc.len() => {
                    doc.remove(at);
                }
                _ => doc.push(byte),
            }
        }
        let fast = items(&doc, false);
        let reference = items(&doc, true);
        prop_assert_eq!(fast, reference);
    }
}

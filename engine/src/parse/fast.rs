//! A fast path for the common case: a plain CloudTrail record as an element of a `Records`
//! array, read by a hand-written scanner instead of serde_json.
//!
//! The scanner reads the same fields into the same [`Record`] as the serde path, but it only
//! accepts what it is sure the serde path would read the same way: keys and read fields without
//! escapes, read fields of the expected JSON type (or `null`), skipped values that are valid JSON
//! in a conservative subset (numbers without exponents, escapes other than lone surrogates,
//! bounded nesting), no wrapper keys. On anything else it gives up and the walk parses the
//! element again with serde_json, so behaviour, errors included, is the serde path's by
//! construction. `parse_document_reference` runs the walk without this path; the tests and the
//! `fast_path` fuzz target compare the two.
//!
//! On the simulated trail of docs/benchmarks.md every record takes this path; it roughly halves
//! the parsing time of a record (serde's per-value dispatch and the lenient visitors dominate a
//! record whose fields are mostly skipped).

use std::borrow::Cow;

use super::lenient::Lenient;
use super::record::{Identity, Record};

/// Nesting the scanner follows before giving up; serde_json's limit is 128.
const MAX_DEPTH: u32 = 64;

/// Longest number the scanner accepts; serde_json rejects numbers that overflow `f64`, which
/// needs over 300 digits.
const MAX_NUMBER_BYTES: usize = 40;

/// Reads the record object starting at `at` (a `{`) in `text`. Returns it and the offset just
/// after its `}`, or `None` when the serde path must decide.
pub(crate) fn record(text: &str, at: usize) -> Option<(Record<'_>, usize)> {
    let mut scan = Scan {
        text,
        bytes: text.as_bytes(),
        at,
    };
    let record = scan.record()?;
    Some((record, scan.at))
}

struct Scan<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// Moves to the next `"`, `\\` or control character (which JSON strings cannot hold raw).
    fn skip_to_special(&mut self) -> Option<u8> {
        self.at = special(self.bytes, self.at)?;
        self.peek()
    }

    /// A string without escapes, at its opening quote: its text.
    fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        if self.skip_to_special()? != b'"' {
            return None;
        }
        let s = self.text.get(start..self.at)?;
        self.at += 1;
        Some(s)
    }

    /// Any string, at its opening quote, checked as serde_json would check it.
    fn skip_string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            match self.skip_to_special()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => {
                    self.at += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                        b'u' => {
                            let hex = self.bytes.get(self.at + 1..self.at + 5)?;
                            let hex = std::str::from_utf8(hex).ok()?;
                            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                                return None;
                            }
                            let unit = u16::from_str_radix(hex, 16).ok()?;
                            // Surrogates must pair up; leave that to serde_json.
                            if (0xD800..=0xDFFF).contains(&unit) {
                                return None;
                            }
                            self.at += 5;
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        self.at - start
    }

    /// A number in JSON's grammar, without an exponent.
    fn skip_number(&mut self) -> Option<()> {
        let start = self.at;
        if self.peek()? == b'-' {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) || self.at - start > MAX_NUMBER_BYTES {
            return None;
        }
        Some(())
    }

    fn skip_value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                self.ws();
                if self.eat(b'}').is_some() {
                    return Some(());
                }
                loop {
                    self.skip_string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.at += 1;
                            self.ws();
                        }
                        b'}' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                self.ws();
                if self.eat(b']').is_some() {
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.at += 1;
                            self.ws();
                        }
                        b']' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.skip_number(),
        }
    }

    /// A string field: a plain string or `null`.
    fn str_field(&mut self) -> Option<Lenient<Cow<'a, str>>> {
        match self.peek()? {
            b'"' => Some(Lenient::Value(Cow::Borrowed(self.plain_string()?))),
            b'n' => self.literal(b"null").map(|()| Lenient::Null),
            _ => None,
        }
    }

    /// A boolean field: `true`, `false` or `null` (strings go to the serde path).
    fn bool_field(&mut self) -> Option<Lenient<bool>> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| Lenient::Value(true)),
            b'f' => self.literal(b"false").map(|()| Lenient::Value(false)),
            b'n' => self.literal(b"null").map(|()| Lenient::Null),
            _ => None,
        }
    }

    /// Calls `field` for each member of the object at the cursor (`{`), with the cursor on the
    /// member's value; `field` must consume the value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.plain_string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            field(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.ws();
                }
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn identity(&mut self) -> Option<Lenient<Identity<'a>>> {
        match self.peek()? {
            b'{' => {}
            b'n' => return self.literal(b"null").map(|()| Lenient::Null),
            _ => return None,
        }
        let mut id = Identity::default();
        self.object(|scan, key| {
            match key {
                "type" => id.identity_type = scan.str_field()?,
                "arn" => id.arn = scan.str_field()?,
                "accountId" => id.account_id = scan.str_field()?,
                "invokedBy" => id.invoked_by = scan.str_field()?,
                _ => scan.skip_value(2)?,
            }
            Some(())
        })?;
        Some(Lenient::Value(id))
    }

    fn record(&mut self) -> Option<Record<'a>> {
        let mut record = Record::default();
        self.object(|scan, key| {
            match key {
                "eventVersion" => scan.skip_value(1)?,
                "eventTime" => record.event_time = scan.str_field()?,
                "@timestamp" => record.at_timestamp = scan.str_field()?,
                "eventSource" => record.event_source = scan.str_field()?,
                "eventName" => record.event_name = scan.str_field()?,
                "awsRegion" => record.aws_region = scan.str_field()?,
                "eventID" => record.event_id = scan.str_field()?,
                "recipientAccountId" => record.recipient_account_id = scan.str_field()?,
                "eventType" => record.event_type = scan.str_field()?,
                "eventCategory" => record.event_category = scan.str_field()?,
                "managementEvent" => record.management_event = scan.bool_field()?,
                "readOnly" => record.read_only = scan.bool_field()?,
                "errorCode" => record.error_code = scan.str_field()?,
                "userAgent" => record.user_agent = scan.str_field()?,
                "sourceIPAddress" => record.source_ip_address = scan.str_field()?,
                "userIdentity" => record.user_identity = scan.identity()?,
                // Insights records, envelopes, wrappers and digests: the serde path.
                "insightDetails"
                | "Records"
                | "Events"
                | "logEvents"
                | "messageType"
                | "detail-type"
                | "detail"
                | "CloudTrailEvent"
                | "ReadOnly"
                | "message"
                | "digestStartTime"
                | "digestEndTime"
                | "digestS3Bucket"
                | "digestS3Object"
                | "digestPublicKeyFingerprint"
                | "digestSignatureAlgorithm"
                | "logFiles" => {
                    return None;
                }
                _ => {
                    scan.skip_value(1)?;
                    return Some(());
                }
            }
            record.any_key = true;
            Some(())
        })?;
        Some(record)
    }
}

/// The offset of the first `"`, `\\` or byte below 0x20 at or after `from`, eight bytes at a time.
fn special(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let rest = bytes.get(from..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut offset = from;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        // A byte is flagged when it is below 0x20, or equal to `"` or `\\` (zero after XOR).
        // Borrows can only flag bytes above the first true match, so the lowest flag is exact.
        let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
        let flags =
            below(word, 0x20) | below(word ^ (ONES * 0x22), 1) | below(word ^ (ONES * 0x5C), 1);
        if flags != 0 {
            return Some(offset + (flags.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_finds_the_first_quote_backslash_or_control_byte() {
        let naive = |b: &[u8], from: usize| {
            (from..b.len()).find(|&i| b[i] == b'"' || b[i] == b'\\' || b[i] < 0x20)
        };
        let mut cases: Vec<Vec<u8>> = vec![b"".to_vec(), b"abc".to_vec()];
        for special_byte in [b'"', b'\\', 0, 0x1F, b'\n'] {
            for len in 0..20 {
                for pos in 0..len {
                    let mut v: Vec<u8> = (0..len).map(|i| b"a\xC3\xA9!~ \x7F\xFF"[i % 8]).collect();
                    v[pos] = special_byte;
                    cases.push(v);
                }
            }
        }
        for case in &cases {
            for from in 0..=case.len() {
                assert_eq!(
                    special(case, from),
                    naive(case, from),
                    "{case:?} from {from}"
                );
            }
        }
    }
}

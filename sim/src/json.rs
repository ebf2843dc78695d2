//! A tiny streaming JSON writer.
//!
//! Records are written field by field straight into the output buffer, in the order AWS writes
//! them, without building a `serde_json::Value` or an intermediate struct per record: at 1.5
//! million records the allocation-free path is what keeps generation fast. Nesting is expressed
//! with closures so an object can never be left open.

use std::fmt::{self, Write as _};

/// A JSON object being written; created by [`object`] or by a parent's `obj`.
pub(crate) struct Obj<'a> {
    out: &'a mut String,
    empty: bool,
}

/// A JSON array being written; created by a parent's `arr`.
pub(crate) struct Arr<'a> {
    out: &'a mut String,
    empty: bool,
}

/// Writes one object to `out`.
pub(crate) fn object(out: &mut String, fill: impl FnOnce(&mut Obj<'_>)) {
    out.push('{');
    let mut obj = Obj { out, empty: true };
    fill(&mut obj);
    obj.out.push('}');
}

impl Obj<'_> {
    /// Keys are static identifiers of our own, so they are written without escaping.
    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    /// `"key":"value"`, escaped.
    pub(crate) fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        push_str_literal(self.out, value);
    }

    /// `"key":"<formatted>"`, escaped; saves building a temporary `String` for ARNs and the like.
    pub(crate) fn fmt(&mut self, key: &str, args: fmt::Arguments<'_>) {
        self.key(key);
        self.out.push('"');
        let _ = Escaper(self.out).write_fmt(args);
        self.out.push('"');
    }

    /// `"key":"value"` or `"key":null`.
    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(v) => self.str(key, v),
            None => self.null(key),
        }
    }

    /// `"key":true|false`.
    pub(crate) fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
    }

    /// `"key":<integer>`.
    pub(crate) fn int(&mut self, key: &str, value: i64) {
        self.key(key);
        let _ = write!(self.out, "{value}");
    }

    /// `"key":<number>`; written with a decimal point, as AWS does for float parameters.
    pub(crate) fn float(&mut self, key: &str, value: f64) {
        self.key(key);
        let _ = write!(self.out, "{value:?}");
    }

    /// `"key":null`.
    pub(crate) fn null(&mut self, key: &str) {
        self.key(key);
        self.out.push_str("null");
    }

    /// `"key":{...}`.
    pub(crate) fn obj(&mut self, key: &str, fill: impl FnOnce(&mut Obj<'_>)) {
        self.key(key);
        object(self.out, fill);
    }

    /// `"key":[...]`.
    pub(crate) fn arr(&mut self, key: &str, fill: impl FnOnce(&mut Arr<'_>)) {
        self.key(key);
        self.out.push('[');
        let mut arr = Arr {
            out: self.out,
            empty: true,
        };
        fill(&mut arr);
        arr.out.push(']');
    }
}

impl Arr<'_> {
    fn sep(&mut self) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
    }

    /// An object element.
    pub(crate) fn obj(&mut self, fill: impl FnOnce(&mut Obj<'_>)) {
        self.sep();
        object(self.out, fill);
    }

    /// A string element, escaped.
    pub(crate) fn str(&mut self, value: &str) {
        self.sep();
        push_str_literal(self.out, value);
    }
}

/// Appends `value` as a JSON string literal.
pub(crate) fn push_str_literal(out: &mut String, value: &str) {
    out.push('"');
    push_escaped(out, value);
    out.push('"');
}

fn push_escaped(out: &mut String, value: &str) {
    if !value.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// A `fmt::Write` that escapes what is written into a JSON string.
struct Escaper<'a>(&'a mut String);

impl fmt::Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_escaped(self.0, s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_nested_json() {
        let mut out = String::new();
        object(&mut out, |o| {
            o.str("a", "plain");
            o.str("quote", "say \"hi\"\\\n\u{1}");
            o.fmt(
                "arn",
                format_args!("arn:aws:iam::{}:role/{}", "123", "r\"x"),
            );
            o.bool("t", true);
            o.int("n", -5);
            o.float("f", 80.0);
            o.null("z");
            o.opt_str("o", None);
            o.obj("empty", |_| {});
            o.arr("list", |a| {
                a.str("x");
                a.obj(|e| e.int("k", 1));
            });
        });
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["quote"], "say \"hi\"\\\n\u{1}");
        assert_eq!(v["arn"], "arn:aws:iam::123:role/r\"x");
        assert_eq!(v["f"], 80.0);
        assert_eq!(v["list"][1]["k"], 1);
        assert!(out.starts_with("{\"a\":\"plain\","), "{out}");
        assert!(out.contains("\"empty\":{}"), "{out}");
    }
}

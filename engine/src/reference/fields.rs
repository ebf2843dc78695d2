//! The field reader: one JSON object's fields, read with the path that names them in errors.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::number::ReportedNumber;
use super::types::{MAX_DURATION_MINUTES, Parsed, ReferenceError, ReferenceErrorKind};

const OBJECT: &str = "object";
const ARRAY: &str = "array";
const STRING: &str = "string";
const NUMBER: &str = "number";

/// The JSON type of a raw value, from its first byte.
fn type_of(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => OBJECT,
        Some(b'[') => ARRAY,
        Some(b'"') => STRING,
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => NUMBER,
    }
}

/// `text` cut to at most 64 bytes, on a character boundary, for error messages.
pub(super) fn cut(text: &str) -> String {
    let mut end = text.len().min(64);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The fields of one JSON object, with the path that names them in errors.
pub(super) struct Fields<'a> {
    map: BTreeMap<String, &'a RawValue>,
    path: String,
}

impl<'a> Fields<'a> {
    pub(super) fn of(raw: &'a RawValue, path: String) -> Parsed<Fields<'a>> {
        if type_of(raw) != OBJECT {
            return Err(ReferenceError {
                field: path,
                kind: ReferenceErrorKind::WrongType {
                    expected: OBJECT,
                    found: type_of(raw),
                },
            });
        }
        // Duplicate keys: the last value wins, as in the event parser.
        let map = serde_json::from_str(raw.get()).map_err(|e| ReferenceError {
            field: path.clone(),
            kind: ReferenceErrorKind::Syntax {
                message: e.to_string(),
            },
        })?;
        Ok(Fields { map, path })
    }

    /// The dotted path of this object in the record; empty for the record itself.
    pub(super) fn location(&self) -> &str {
        &self.path
    }

    /// The keys present, sorted.
    pub(super) fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// The dotted path of `key` in this object.
    pub(super) fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(super) fn error(&self, key: &str, kind: ReferenceErrorKind) -> ReferenceError {
        ReferenceError {
            field: self.path(key),
            kind,
        }
    }

    pub(super) fn wrong_type(
        &self,
        key: &str,
        expected: &'static str,
        raw: &RawValue,
    ) -> ReferenceError {
        self.error(
            key,
            ReferenceErrorKind::WrongType {
                expected,
                found: type_of(raw),
            },
        )
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    /// The value of `key`; `None` when absent or null.
    pub(super) fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.map
            .get(key)
            .copied()
            .filter(|raw| type_of(raw) != "null")
    }

    /// A string; an empty string counts as absent.
    pub(super) fn string(&self, key: &str) -> Parsed<Option<String>> {
        let Some(raw) = self.raw(key) else {
            return Ok(None);
        };
        if type_of(raw) != STRING {
            return Err(self.wrong_type(key, STRING, raw));
        }
        let text: String = serde_json::from_str(raw.get()).map_err(|e| {
            self.error(
                key,
                ReferenceErrorKind::Syntax {
                    message: e.to_string(),
                },
            )
        })?;
        Ok(Some(text).filter(|t| !t.is_empty()))
    }

    pub(super) fn required_string(&self, key: &str) -> Parsed<String> {
        self.string(key)?
            .ok_or_else(|| self.error(key, ReferenceErrorKind::Missing))
    }

    /// A number, also accepted as a string holding one (SQL exports stringify numbers).
    pub(super) fn number(&self, key: &str) -> Parsed<Option<ReportedNumber>> {
        let Some(raw) = self.raw(key) else {
            return Ok(None);
        };
        let text = match type_of(raw) {
            NUMBER => raw.get().to_owned(),
            STRING => self.string(key)?.unwrap_or_default(),
            _ => return Err(self.wrong_type(key, NUMBER, raw)),
        };
        match text.trim().parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(Some(ReportedNumber {
                value,
                text: text.trim().to_owned(),
            })),
            _ => Err(self.error(
                key,
                ReferenceErrorKind::InvalidValue {
                    value: cut(&text),
                    expected: "a number",
                },
            )),
        }
    }

    /// A whole number of minutes, at most [`MAX_DURATION_MINUTES`].
    pub(super) fn minutes(&self, key: &str) -> Parsed<Option<u64>> {
        let Some(number) = self.number(key)? else {
            return Ok(None);
        };
        let v = number.value;
        if v >= 0.0 && v.fract() == 0.0 && v <= MAX_DURATION_MINUTES as f64 {
            Ok(Some(v as u64))
        } else {
            Err(self.error(
                key,
                ReferenceErrorKind::InvalidValue {
                    value: cut(&number.text),
                    expected: "a whole number of minutes up to 1000000",
                },
            ))
        }
    }

    pub(super) fn object(&self, key: &str) -> Parsed<Option<Fields<'a>>> {
        self.raw(key)
            .map(|raw| Fields::of(raw, self.path(key)))
            .transpose()
    }

    pub(super) fn array(&self, key: &str) -> Parsed<Option<Vec<&'a RawValue>>> {
        let Some(raw) = self.raw(key) else {
            return Ok(None);
        };
        if type_of(raw) != ARRAY {
            return Err(self.wrong_type(key, ARRAY, raw));
        }
        serde_json::from_str(raw.get()).map(Some).map_err(|e| {
            self.error(
                key,
                ReferenceErrorKind::Syntax {
                    message: e.to_string(),
                },
            )
        })
    }
}

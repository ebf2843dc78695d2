//! Field types that never fail on a JSON type mismatch.
//!
//! A record is deserialized in one pass into a struct of these. A field with the wrong JSON type
//! is drained with [`Skip`] and remembered as [`Lenient::Wrong`], so the deserializer stays
//! in step with the bytes and the next record can be read; whether the mismatch matters is decided
//! afterwards, when the record is validated.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

pub(crate) const STRING: &str = "string";
pub(crate) const NUMBER: &str = "number";
pub(crate) const BOOLEAN: &str = "boolean";
pub(crate) const OBJECT: &str = "object";
pub(crate) const ARRAY: &str = "array";
pub(crate) const NULL: &str = "null";

/// What a field held.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Lenient<T> {
    /// The key was not there.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A value of an accepted type.
    Value(T),
    /// A value of another JSON type, named as in error messages.
    Wrong(&'static str),
}

/// A string field.
pub(crate) type LStr<'a> = Lenient<Cow<'a, str>>;

impl<T> Lenient<T> {
    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Lenient::Absent)
    }
}

/// How each JSON type maps onto a lenient field of type `Self`. Every method defaults to
/// [`Lenient::Wrong`], so a type only states what it accepts.
pub(crate) trait Accept<'de>: Sized {
    fn borrowed_str(s: &'de str) -> Lenient<Self> {
        Self::transient_str(s)
    }
    /// A string that had to be unescaped into a buffer that does not outlive the call.
    fn transient_str(_: &str) -> Lenient<Self> {
        Lenient::Wrong(STRING)
    }
    fn boolean(_: bool) -> Lenient<Self> {
        Lenient::Wrong(BOOLEAN)
    }
    fn number() -> Lenient<Self> {
        Lenient::Wrong(NUMBER)
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Lenient<Self>, A::Error> {
        drain_map(map)?;
        Ok(Lenient::Wrong(OBJECT))
    }
    fn seq<A: SeqAccess<'de>>(seq: A) -> Result<Lenient<Self>, A::Error> {
        drain_seq(seq)?;
        Ok(Lenient::Wrong(ARRAY))
    }
}

pub(crate) fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, Skip>()?.is_some() {}
    Ok(())
}

pub(crate) fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<Skip>()?.is_some() {}
    Ok(())
}

/// Skips any value, like [`IgnoredAny`], but nested objects and arrays recurse on the stack.
///
/// serde_json skips an [`IgnoredAny`] container without recursion, keeping the stack of open
/// containers in its deserializer's scratch buffer. The walk creates one deserializer per record,
/// so that buffer was allocated again for nearly every record (`requestParameters` nests). The
/// recursion here is bounded by serde_json's recursion limit, which turns absurd nesting into an
/// error for the record instead of a stack overflow.
pub(crate) struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Skip, A::Error> {
        drain_map(map).map(|()| Skip)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Skip, A::Error> {
        drain_seq(seq).map(|()| Skip)
    }
}

impl<'de> Accept<'de> for Cow<'de, str> {
    fn borrowed_str(s: &'de str) -> Lenient<Self> {
        Lenient::Value(Cow::Borrowed(s))
    }
    fn transient_str(s: &str) -> Lenient<Self> {
        Lenient::Value(Cow::Owned(s.to_owned()))
    }
}

/// `readOnly`, `managementEvent` and LookupEvents' `ReadOnly`: a boolean, or the strings `"true"`
/// and `"false"` in any case, as Athena and LookupEvents write them.
impl<'de> Accept<'de> for bool {
    fn transient_str(s: &str) -> Lenient<Self> {
        if s.eq_ignore_ascii_case("true") {
            Lenient::Value(true)
        } else if s.eq_ignore_ascii_case("false") {
            Lenient::Value(false)
        } else {
            Lenient::Wrong(STRING)
        }
    }
    fn boolean(b: bool) -> Lenient<Self> {
        Lenient::Value(b)
    }
}

/// Presence of a non-null value of any type (`insightDetails`).
impl<'de> Accept<'de> for () {
    fn transient_str(_: &str) -> Lenient<Self> {
        Lenient::Value(())
    }
    fn boolean(_: bool) -> Lenient<Self> {
        Lenient::Value(())
    }
    fn number() -> Lenient<Self> {
        Lenient::Value(())
    }
    fn map<A: MapAccess<'de>>(map: A) -> Result<Lenient<Self>, A::Error> {
        drain_map(map)?;
        Ok(Lenient::Value(()))
    }
    fn seq<A: SeqAccess<'de>>(seq: A) -> Result<Lenient<Self>, A::Error> {
        drain_seq(seq)?;
        Ok(Lenient::Value(()))
    }
}

impl<'de, T: Accept<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor(PhantomData))
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<'de, T: Accept<'de>> Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(T::borrowed_str(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(T::transient_str(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(T::boolean(v))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(T::number())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(T::number())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(T::number())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Lenient::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Lenient::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        T::seq(seq)
    }
}

/// A set of object keys a struct reads; every other key maps to the set's "other" member and its
/// value is skipped.
pub(crate) trait KeySet: Sized {
    fn from_key(key: &str) -> Self;
}

/// Deserializes one object key into `K` without allocating, even when the key had escapes.
pub(crate) struct Key<K>(pub(crate) K);

impl<'de, K: KeySet> Deserialize<'de> for Key<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(KeyVisitor(PhantomData))
    }
}

struct KeyVisitor<K>(PhantomData<K>);

impl<K: KeySet> Visitor<'_> for KeyVisitor<K> {
    type Value = Key<K>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Key(K::from_key(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<'a, T: Accept<'a>>(json: &'a str) -> Lenient<T> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        assert!(matches!(
            parse::<Cow<str>>(r#""abc""#),
            Lenient::Value(Cow::Borrowed("abc"))
        ));
        match parse::<Cow<str>>(r#""a\"b""#) {
            Lenient::Value(Cow::Owned(s)) => assert_eq!(s, "a\"b"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_types_are_named_not_fatal() {
        assert_eq!(parse::<Cow<str>>("5"), Lenient::Wrong(NUMBER));
        assert_eq!(parse::<Cow<str>>("-5.5e3"), Lenient::Wrong(NUMBER));
        assert_eq!(parse::<Cow<str>>("true"), Lenient::Wrong(BOOLEAN));
        assert_eq!(
            parse::<Cow<str>>(r#"{"a":[1,{"b":2}]}"#),
            Lenient::Wrong(OBJECT)
        );
        assert_eq!(parse::<Cow<str>>(r#"[[],[{}]]"#), Lenient::Wrong(ARRAY));
        assert_eq!(parse::<Cow<str>>("null"), Lenient::Null);
    }

    #[test]
    fn booleans_accept_true_false_strings() {
        assert_eq!(parse::<bool>("true"), Lenient::Value(true));
        assert_eq!(parse::<bool>(r#""TRUE""#), Lenient::Value(true));
        assert_eq!(parse::<bool>(r#""False""#), Lenient::Value(false));
        assert_eq!(parse::<bool>(r#""yes""#), Lenient::Wrong(STRING));
        assert_eq!(parse::<bool>("1"), Lenient::Wrong(NUMBER));
        assert_eq!(parse::<bool>("null"), Lenient::Null);
    }

    #[test]
    fn presence_accepts_anything_but_null() {
        assert_eq!(parse::<()>(r#"{"x":[1]}"#), Lenient::Value(()));
        assert_eq!(parse::<()>("0"), Lenient::Value(()));
        assert_eq!(parse::<()>("null"), Lenient::Null);
    }
}

//! String interning: each distinct account, region, event source, event name, error code,
//! identity and user agent is stored once and referred to by a 4-byte [`Sym`].

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An interned string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Sym(u32);

impl Sym {
    /// The symbol's index, dense from 0 in interning order.
    pub fn index(self) -> u32 {
        self.0
    }

    /// The symbol with index `index`; only meaningful for the table that handed it out.
    pub(crate) fn from_index(index: u32) -> Sym {
        Sym(index)
    }
}

/// A string table handing out one [`Sym`] per distinct string. Each string is allocated once,
/// shared by the lookup map and the index.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: FxHashMap<Arc<str>, Sym>,
    strings: Vec<Arc<str>>,
    bytes: usize,
}

impl Interner {
    /// An empty table.
    pub fn new() -> Interner {
        Interner::default()
    }

    /// The symbol of `text`, adding it if it is new. Allocates only for new strings.
    pub fn intern(&mut self, text: &str) -> Sym {
        if let Some(&sym) = self.ids.get(text) {
            return sym;
        }
        let sym = Sym(u32::try_from(self.strings.len()).expect("more than 2^32 distinct strings"));
        let shared: Arc<str> = text.into();
        self.strings.push(Arc::clone(&shared));
        self.ids.insert(shared, sym);
        self.bytes += text.len();
        sym
    }

    /// Like [`Interner::intern`], but a new string is only added while the table holds fewer
    /// than `max_strings` strings and `max_bytes` bytes of text.
    pub fn try_intern(&mut self, text: &str, max_strings: usize, max_bytes: usize) -> Option<Sym> {
        if let Some(&sym) = self.ids.get(text) {
            return Some(sym);
        }
        (self.strings.len() < max_strings && self.bytes + text.len() <= max_bytes)
            .then(|| self.intern(text))
    }

    /// The symbol of `text` if it was interned.
    pub fn get(&self, text: &str) -> Option<Sym> {
        self.ids.get(text).copied()
    }

    /// The string of `sym`.
    ///
    /// # Panics
    /// If `sym` came from another table.
    pub fn resolve(&self, sym: Sym) -> &str {
        &self.strings[sym.0 as usize]
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Bytes of string text held.
    pub fn string_bytes(&self) -> usize {
        self.bytes
    }
}

/// A table is written as its strings in symbol order.
impl Serialize for Interner {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.strings.iter().map(|s| &**s))
    }
}

impl<'de> Deserialize<'de> for Interner {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Interner, D::Error> {
        let strings: Vec<String> = Vec::deserialize(deserializer)?;
        let mut table = Interner::new();
        for text in &strings {
            if table.get(text).is_some() {
                return Err(serde::de::Error::custom(format!(
                    "string {text:?} listed twice"
                )));
            }
            table.intern(text);
        }
        Ok(table)
    }
}

impl Interner {
    /// Whether `sym` belongs to this table.
    pub(crate) fn holds(&self, sym: Sym) -> bool {
        (sym.0 as usize) < self.strings.len()
    }

    /// A table of the strings whose symbols `keep` holds, in their old order, and the new
    /// symbol of every old one that was kept.
    pub(crate) fn compacted(&self, keep: &[bool]) -> (Interner, Vec<Option<Sym>>) {
        let mut table = Interner::new();
        let mapping = self
            .strings
            .iter()
            .zip(keep)
            .map(|(text, &kept)| kept.then(|| table.intern(text)))
            .collect();
        (table, mapping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once() {
        let mut table = Interner::new();
        let a = table.intern("ec2.amazonaws.com");
        let b = table.intern("RunInstances");
        assert_eq!(table.intern("ec2.amazonaws.com"), a);
        assert_ne!(a, b);
        assert_eq!(table.resolve(b), "RunInstances");
        assert_eq!(table.len(), 2);
        assert_eq!(table.get("nope"), None);
    }
}

//! The items of a session: its keys and JSON values, in insertion order.
//!
//! A list, not `serde_json::Map` (an `IndexMap` hashed with SipHash under a fresh random state per
//! map): a session holds a handful of keys, and comparing them costs less than hashing them. Under
//! callgrind, building the typical session's items on load fell from about 2.8k instructions (hashing
//! and index upkeep) to about 0.4k (BENCHMARKS.md, "The encrypted cookie path"). Lookups scan; a
//! decode with more than [`INDEXED`] keys checks duplicates through a temporary index, and so does the
//! merge's [`Diff`], so a large session never costs quadratic time.

use std::collections::{HashMap, HashSet};

use serde::de::MapAccess;
use serde_json::{Map, Value};

use crate::queue::{QueueChange, is_queue};

/// From how many keys a decode checks duplicates through a hash index rather than by scanning.
const INDEXED: usize = 16;

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Items(Vec<(String, Value)>);

impl Items {
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, value)| value)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// Sets `key` to `value`: in place when present (a dict keeps a key's first position), else last.
    pub(crate) fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => Some(std::mem::replace(old, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Takes `key` out, keeping the order of the rest.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        let index = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(index).1)
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(key, value)| (key.as_str(), value))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(key, _)| key.as_str())
    }

    pub(crate) fn to_map(&self) -> Map<String, Value> {
        self.0.iter().map(|(key, value)| (key.clone(), value.clone())).collect()
    }
}

/// What one request did to the items it loaded: the keys it set (to a value the loaded items did not
/// hold) and the keys it removed. A merge re-applies them on top of what another request stored.
///
/// A reserved queue key (flash messages, CSRF tokens: `queue.rs`) is neither: its [`QueueChange`]
/// replays what the request took from and appended to the list, so parallel requests keep each
/// other's messages.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Diff {
    set: Vec<(String, Value)>,
    removed: Vec<String>,
    queues: Vec<QueueChange>,
}

impl Items {
    /// What turns `base` into these items.
    pub(crate) fn diff_from(&self, base: &Items) -> Diff {
        let mut set: Vec<(String, Value)> = if base.len() <= INDEXED {
            self.0.iter().filter(|(key, value)| base.get(key) != Some(value)).cloned().collect()
        } else {
            let base: HashMap<&str, &Value> = base.iter().collect();
            self.0.iter().filter(|(key, value)| base.get(key.as_str()) != Some(&value)).cloned().collect()
        };
        let mut removed: Vec<String> = if self.len() <= INDEXED {
            base.keys().filter(|key| !self.contains_key(key)).map(str::to_owned).collect()
        } else {
            let ours: HashSet<&str> = self.keys().collect();
            base.keys().filter(|key| !ours.contains(key)).map(str::to_owned).collect()
        };
        // A queue key's change leaves `set` or `removed` for `queues`, when both sides are lists.
        let mut queues = Vec::new();
        let mut queued = |key: &str, ours: Option<&Value>| match is_queue(key)
            .then(|| QueueChange::between(key, base.get(key), ours))
            .flatten()
        {
            Some(change) => {
                queues.push(change);
                true
            }
            None => false,
        };
        set.retain(|(key, value)| !queued(key, Some(value)));
        removed.retain(|key| !queued(key, None));
        Diff { set, removed, queues }
    }

    /// Applies `diff`: each set key takes its value (in place when present, else last), each removed
    /// key goes, each queue change is replayed on the queue held here.
    pub(crate) fn apply(&mut self, diff: &Diff) {
        if !diff.removed.is_empty() {
            let removed: HashSet<&str> = diff.removed.iter().map(String::as_str).collect();
            self.0.retain(|(key, _)| !removed.contains(key.as_str()));
        }
        if self.len() + diff.set.len() <= INDEXED {
            for (key, value) in &diff.set {
                self.insert(key.clone(), value.clone());
            }
        } else {
            self.apply_indexed(&diff.set);
        }
        for change in &diff.queues {
            match change.replay(self.get(&change.key).cloned()) {
                Some(queue) => self.insert(change.key.clone(), queue),
                None => self.remove(&change.key),
            };
        }
    }

    /// Sets many keys through a temporary index: a large session never costs quadratic time.
    fn apply_indexed(&mut self, set: &[(String, Value)]) {
        let mut index: HashMap<String, usize> =
            self.0.iter().enumerate().map(|(at, (key, _))| (key.clone(), at)).collect();
        for (key, value) in set {
            match index.get(key) {
                Some(&at) => self.0[at].1 = value.clone(),
                None => {
                    index.insert(key.clone(), self.0.len());
                    self.0.push((key.clone(), value.clone()));
                }
            }
        }
    }
}

impl From<Map<String, Value>> for Items {
    fn from(map: Map<String, Value>) -> Self {
        Items(map.into_iter().collect())
    }
}

impl Items {
    /// The members of a JSON object being read.
    pub(crate) fn read<'de, A: MapAccess<'de>>(mut members: A) -> Result<Items, A::Error> {
        let mut items: Vec<(String, Value)> = Vec::with_capacity(members.size_hint().unwrap_or(8));
        let mut index: Option<HashMap<String, usize>> = None;
        while let Some((key, value)) = members.next_entry::<String, Value>()? {
            if items.len() == INDEXED && index.is_none() {
                index = Some(items.iter().enumerate().map(|(at, (key, _))| (key.clone(), at)).collect());
            }
            let existing = match &index {
                Some(index) => index.get(&key).copied(),
                None => items.iter().position(|(k, _)| *k == key),
            };
            match existing {
                Some(at) => items[at].1 = value,
                None => {
                    if let Some(index) = &mut index {
                        index.insert(key.clone(), items.len());
                    }
                    items.push((key, value));
                }
            }
        }
        Ok(Items(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Member;
    use serde_json::json;

    /// Items as the payload parse reads them (`Items::read`, through the `session` member).
    fn read(text: &str) -> Items {
        match serde_json::from_str::<Member>(text).unwrap() {
            Member::Items(items) => items,
            _ => panic!("not an object: {text}"),
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_its_last_value() {
        let items = read(r#"{"a": 1, "b": 2, "a": 3}"#);
        assert_eq!(
            items.iter().map(|(k, v)| (k.to_owned(), v.clone())).collect::<Vec<_>>(),
            [("a".to_owned(), json!(3)), ("b".to_owned(), json!(2))]
        );
        let many: String = (0..40).map(|n| format!("\"k{}\": {n}", n % 20)).collect::<Vec<_>>().join(", ");
        let items = read(&format!("{{{many}}}"));
        assert_eq!(items.len(), 20, "duplicates past the indexed size are found too");
        assert_eq!(items.get("k3"), Some(&json!(23)));
        assert_eq!(items.keys().next(), Some("k0"));
    }

    #[test]
    fn it_reads_and_writes_like_serde_json_s_map() {
        let value = json!({"z": [1, {"n": null}], "a": "x", "é": 1.5});
        let items = read(&value.to_string());
        assert_eq!(Value::Object(items.to_map()), value);
        let Value::Object(map) = value else { unreachable!() };
        assert_eq!(Items::from(map.clone()).to_map(), map);
    }

    #[test]
    fn insert_and_remove_keep_the_order() {
        let mut items = Items::default();
        for key in ["a", "b", "c"] {
            assert_eq!(items.insert(key.to_owned(), json!(key)), None);
        }
        assert_eq!(items.insert("b".to_owned(), json!(2)), Some(json!("b")));
        assert_eq!(items.remove("a"), Some(json!("a")));
        assert_eq!(items.keys().collect::<Vec<_>>(), ["b", "c"]);
        assert!(items.contains_key("c") && !items.contains_key("a"));
    }

    fn numbered(keys: impl IntoIterator<Item = usize>) -> Items {
        let mut items = Items::default();
        for n in keys {
            items.insert(format!("k{n}"), json!(n));
        }
        items
    }

    #[test]
    fn a_diff_turns_the_base_into_ours_on_top_of_theirs() {
        // Small (scanned) and large (indexed) sessions alike.
        for size in [4, 400] {
            let base = numbered(0..size);
            let mut ours = base.clone();
            ours.insert("k1".to_owned(), json!("ours"));
            ours.insert("new".to_owned(), json!(true));
            ours.remove("k2");
            let diff = ours.diff_from(&base);
            assert_eq!(diff.set.len(), 2, "{size}: only what this request changed");
            assert_eq!(diff.removed, ["k2"]);

            let mut theirs = numbered(0..size);
            theirs.insert("k0".to_owned(), json!("theirs"));
            theirs.insert("other".to_owned(), json!(1));
            theirs.apply(&diff);
            assert_eq!(theirs.get("k0"), Some(&json!("theirs")), "{size}: their write stays");
            assert_eq!(theirs.get("k1"), Some(&json!("ours")), "{size}: our write wins on our key");
            assert!(!theirs.contains_key("k2") && theirs.contains_key("other") && theirs.contains_key("new"));
            assert_eq!(theirs.len(), size + 1, "{size}");
            assert_eq!(theirs.keys().last(), Some("new"), "{size}: a new key goes last");
        }
    }
}

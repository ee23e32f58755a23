//! What one request changed in a session, so the change can be re-applied on top of what another
//! request saved meanwhile (the merge of compare-and-set storages).

use serde_json::{Map, Value};

/// The writes of one request: which keys it wrote or removed, and whether it invalidated the session.
/// Values are not copied: at merge time this request's value of a touched key is read from its data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    /// `invalidate()` was called: the stored session is replaced, not merged.
    invalidated: bool,
    /// `changed()` was called: a value was mutated in place, so every key this request holds counts
    /// as written.
    all_keys: bool,
    /// Keys inserted or removed (after the last invalidation), first touch first.
    keys: Vec<String>,
}

impl Changes {
    pub(crate) fn key(&mut self, key: &str) {
        if !self.keys.iter().any(|k| k == key) {
            self.keys.push(key.to_owned());
        }
    }

    pub(crate) fn all_keys(&mut self) {
        self.all_keys = true;
    }

    pub(crate) fn invalidate(&mut self) {
        self.invalidated = true;
        self.keys.clear();
    }

    pub(crate) fn is_invalidation(&self) -> bool {
        self.invalidated
    }

    /// `ours` (this request's data) re-applied on top of `theirs` (what is stored now): an
    /// invalidation keeps ours alone; otherwise theirs, with every key this request wrote set to our
    /// value and every key it removed removed. Keys only they wrote survive; on a key both wrote, ours
    /// (the later write) wins.
    pub(crate) fn rebase(&self, ours: &Map<String, Value>, theirs: Map<String, Value>) -> Map<String, Value> {
        if self.invalidated {
            return ours.clone();
        }
        let mut merged = theirs;
        if self.all_keys {
            merged.extend(ours.iter().map(|(key, value)| (key.clone(), value.clone())));
        }
        for key in &self.keys {
            match ours.get(key) {
                Some(value) => {
                    merged.insert(key.clone(), value.clone());
                }
                None => {
                    merged.shift_remove(key);
                }
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn writes_to_different_keys_both_survive() {
        let mut changes = Changes::default();
        changes.key("mine");
        let merged = changes.rebase(&map(json!({"a": 1, "mine": 2})), map(json!({"a": 1, "theirs": 3})));
        assert_eq!(Value::Object(merged), json!({"a": 1, "theirs": 3, "mine": 2}));
    }

    #[test]
    fn on_the_same_key_ours_is_the_later_write() {
        let mut changes = Changes::default();
        changes.key("k");
        assert_eq!(
            Value::Object(changes.rebase(&map(json!({"k": "ours"})), map(json!({"k": "theirs"})))),
            json!({"k": "ours"})
        );
    }

    #[test]
    fn removals_are_reapplied_and_untouched_keys_follow_theirs() {
        let mut changes = Changes::default();
        changes.key("gone");
        let merged = changes.rebase(&map(json!({"a": "stale"})), map(json!({"a": "fresh", "gone": 1})));
        assert_eq!(Value::Object(merged), json!({"a": "fresh"}));
    }

    #[test]
    fn an_invalidation_keeps_only_what_came_after_it() {
        let mut changes = Changes::default();
        changes.key("before");
        changes.invalidate();
        changes.key("after");
        assert!(changes.is_invalidation());
        assert_eq!(
            Value::Object(changes.rebase(&map(json!({"after": 1})), map(json!({"theirs": 2})))),
            json!({"after": 1})
        );
    }

    #[test]
    fn changed_counts_every_key_we_hold() {
        let mut changes = Changes::default();
        changes.all_keys();
        let merged = changes.rebase(&map(json!({"cart": [1, 2]})), map(json!({"cart": [1], "theirs": 3})));
        assert_eq!(Value::Object(merged), json!({"cart": [1, 2], "theirs": 3}));
    }
}

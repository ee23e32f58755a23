//! The reserved keys whose value is a queue (a JSON list that requests append to and drain), and how a
//! merge keeps every request's part of one.
//!
//! Any other key merges as a value: the last request to set it wins. A queue would lose messages that
//! way: 32 parallel requests each adding a flash message would leave one. So for these keys a merge
//! replays what the request did to the list it loaded: it took the loaded messages (all of them, as
//! [`take_flashes`](crate::SessionState::take_flashes) does) or none, and appended its own. What
//! another request appended meanwhile stays.

use serde_json::Value;

/// Flash messages, shown once ([`SessionState::flash`](crate::SessionState::flash)).
pub(crate) const FLASH_KEY: &str = "_flash";
/// The session's CSRF tokens ([`SessionState::csrf_token`](crate::SessionState::csrf_token)): a list,
/// so that two requests that each made one keep both valid.
pub(crate) const CSRF_KEY: &str = "_csrf";

/// Whether `key` holds a queue.
pub(crate) fn is_queue(key: &str) -> bool {
    key == FLASH_KEY || key == CSRF_KEY
}

/// A queue's messages: an absent queue is empty; `None` for a value that is not a list.
fn as_list(value: Option<&Value>) -> Option<&[Value]> {
    match value {
        None => Some(&[]),
        Some(Value::Array(list)) => Some(list),
        Some(_) => None,
    }
}

/// What one request did to a queue it loaded: took `taken` (the loaded list, or nothing) from its
/// front, then appended `appended`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QueueChange {
    pub(crate) key: String,
    taken: Vec<Value>,
    appended: Vec<Value>,
}

impl QueueChange {
    /// The change from `loaded` to `ours` (either absent: an empty queue); `None` when either is not a
    /// list (a peer stored something else there: it merges as a value).
    pub(crate) fn between(key: &str, loaded: Option<&Value>, ours: Option<&Value>) -> Option<QueueChange> {
        let (loaded, ours) = (as_list(loaded)?, as_list(ours)?);
        let (taken, appended) = match ours.strip_prefix(loaded) {
            Some(appended) => (Vec::new(), appended.to_vec()),
            None => (loaded.to_vec(), ours.to_vec()),
        };
        Some(QueueChange { key: key.to_owned(), taken, appended })
    }

    /// The queue after this change, replayed on `theirs` (what another request stored): the taken
    /// messages go if they are still at its front (else that request took them too), the appended ones
    /// follow. `None`: the queue is empty, the key goes.
    pub(crate) fn replay(&self, theirs: Option<Value>) -> Option<Value> {
        let mut list = match theirs {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        if !self.taken.is_empty() && list.starts_with(&self.taken) {
            list.drain(..self.taken.len());
        }
        list.extend(self.appended.iter().cloned());
        (!list.is_empty()).then_some(Value::Array(list))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn replayed(loaded: Value, ours: Value, theirs: Value) -> Value {
        let none = |value: Value| (!value.is_null()).then_some(value);
        let (loaded, ours, theirs) = (none(loaded), none(ours), none(theirs));
        let change = QueueChange::between(FLASH_KEY, loaded.as_ref(), ours.as_ref()).expect("lists");
        change.replay(theirs).unwrap_or(Value::Null)
    }

    #[test]
    fn appends_of_parallel_requests_all_stay_in_order() {
        assert_eq!(replayed(json!(null), json!(["b"]), json!(["a"])), json!(["a", "b"]));
        assert_eq!(replayed(json!(["x"]), json!(["x", "b"]), json!(["x", "a"])), json!(["x", "a", "b"]));
    }

    #[test]
    fn taking_removes_only_what_was_loaded() {
        // Ours showed "x"; another request added "a" meanwhile: "a" is still to be shown.
        assert_eq!(replayed(json!(["x"]), json!(null), json!(["x", "a"])), json!(["a"]));
        // Both showed "x": it goes once, and nothing else.
        assert_eq!(replayed(json!(["x"]), json!(null), json!(["a"])), json!(["a"]));
        assert_eq!(replayed(json!(["x"]), json!(null), json!(["x"])), json!(null));
        // Took, then added its own.
        assert_eq!(replayed(json!(["x"]), json!(["y"]), json!(["x", "a"])), json!(["a", "y"]));
    }

    #[test]
    fn a_value_that_is_not_a_list_merges_as_a_value() {
        assert_eq!(QueueChange::between(FLASH_KEY, Some(&json!("text")), Some(&json!(["a"]))), None);
        assert_eq!(QueueChange::between(FLASH_KEY, Some(&json!(["a"])), Some(&json!(3))), None);
        // Replayed on a value that is not a list (a peer wrote it), the appended messages start one.
        let change = QueueChange::between(FLASH_KEY, None, Some(&json!(["a"]))).expect("lists");
        assert_eq!(change.replay(Some(json!({"odd": true}))), Some(json!(["a"])));
    }

    #[test]
    fn only_the_reserved_keys_are_queues() {
        assert!(is_queue(FLASH_KEY) && is_queue(CSRF_KEY));
        assert!(!is_queue("cart") && !is_queue("_flashes"));
    }
}

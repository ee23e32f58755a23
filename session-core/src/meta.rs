//! What this library keeps in a session besides the application's data: the session's start (for an
//! absolute timeout) and the user it belongs to (for logging a user out everywhere).
//!
//! Python aiohttp-session keeps only `created` and `session`, so these travel inside `session`, under
//! one reserved key: a Python peer keeps them when it writes the session, and drops them when it
//! clears or invalidates it (then the session starts over, which is what invalidation means). Only
//! sessions that use them carry the key, so by default the payload is byte for byte Python's.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// The reserved key inside `session`.
pub(crate) const META_KEY: &str = "__session_meta__";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// Unix seconds when the session started (absolute timeout).
    pub(crate) started: Option<i64>,
    /// The user the application attached.
    pub(crate) user: Option<String>,
    /// Unix milliseconds when the user was attached (log out everywhere ends sessions attached earlier).
    pub(crate) user_since: Option<i64>,
}

impl Meta {
    pub(crate) fn is_empty(&self) -> bool {
        self.started.is_none() && self.user.is_none()
    }

    /// Reads what it can; a field of the wrong type is ignored, like a missing one.
    pub(crate) fn from_value(value: Value) -> Meta {
        let Value::Object(mut fields) = value else {
            return Meta::default();
        };
        let integer = |value: Option<Value>| value.and_then(|v| v.as_i64());
        Meta {
            started: integer(fields.remove("started")),
            user: fields.remove("user").and_then(|v| match v {
                Value::String(user) => Some(user),
                _ => None,
            }),
            user_since: integer(fields.remove("user_since")),
        }
    }
}

impl Serialize for Meta {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(started) = self.started {
            map.serialize_entry("started", &started)?;
        }
        if let Some(user) = &self.user {
            map.serialize_entry("user", user)?;
            if let Some(since) = self.user_since {
                map.serialize_entry("user_since", &since)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_ignores_what_it_cannot_read() {
        let meta = Meta { started: Some(5), user: Some("alice".into()), user_since: Some(7) };
        let value = serde_json::to_value(&meta).unwrap();
        assert_eq!(value, json!({"started": 5, "user": "alice", "user_since": 7}));
        assert_eq!(Meta::from_value(value), meta);
        assert_eq!(Meta::from_value(json!({"started": "x", "user": 3})), Meta::default());
        assert_eq!(Meta::from_value(json!([1])), Meta::default());
    }
}

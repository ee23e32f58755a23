//! What this library keeps in a session besides the application's data: the session's start, the
//! user it belongs to (and the user's epoch when it logged in), its remembered lifetime, and the label
//! of the device it is on.
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
    /// Unix seconds when the session started (absolute timeout), or when its user logged in.
    pub(crate) started: Option<i64>,
    /// The user who logged in.
    pub(crate) user: Option<String>,
    /// The user's epoch when they logged in: log-out-everywhere replaces the epoch in the store, which
    /// ends every session that recorded an earlier one.
    pub(crate) epoch: Option<String>,
    /// Seconds this session lives since its last use (`remember_for`).
    pub(crate) lifetime: Option<u64>,
    /// The cookie lasts until the browser closes (`end_with_browser`).
    pub(crate) browser: bool,
    /// The app's label for the device (`set_device_label`), shown in a user's list of devices.
    pub(crate) device: Option<String>,
}

impl Meta {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Meta::default()
    }

    /// Whether it holds something a session with no items must still keep: a login, a remembered
    /// lifetime, a device label. (A start alone is not worth an entry.)
    pub(crate) fn keeps_session(&self) -> bool {
        self.user.is_some() || self.lifetime.is_some() || self.browser || self.device.is_some()
    }

    /// Reads what it can; a field of the wrong type is ignored, like a missing one.
    pub(crate) fn from_value(value: Value) -> Meta {
        let Value::Object(mut fields) = value else {
            return Meta::default();
        };
        let text = |value: Option<Value>| match value {
            Some(Value::String(text)) => Some(text),
            _ => None,
        };
        Meta {
            started: fields.remove("started").and_then(|v| v.as_i64()),
            user: text(fields.remove("user")),
            epoch: text(fields.remove("epoch")),
            lifetime: fields.remove("lifetime").and_then(|v| v.as_u64()),
            browser: fields.remove("browser").and_then(|v| v.as_bool()).unwrap_or(false),
            device: text(fields.remove("device")),
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
            if let Some(epoch) = &self.epoch {
                map.serialize_entry("epoch", epoch)?;
            }
        }
        if let Some(lifetime) = self.lifetime {
            map.serialize_entry("lifetime", &lifetime)?;
        }
        if self.browser {
            map.serialize_entry("browser", &true)?;
        }
        if let Some(device) = &self.device {
            map.serialize_entry("device", device)?;
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
        let meta = Meta {
            started: Some(5),
            user: Some("alice".into()),
            epoch: Some("e1".into()),
            lifetime: Some(60),
            browser: true,
            device: Some("Firefox".into()),
        };
        let value = serde_json::to_value(&meta).unwrap();
        assert_eq!(
            value,
            json!({"started": 5, "user": "alice", "epoch": "e1", "lifetime": 60, "browser": true, "device": "Firefox"})
        );
        assert_eq!(Meta::from_value(value), meta);
        assert_eq!(Meta::from_value(json!({"started": "x", "user": 3, "browser": "yes"})), Meta::default());
        assert_eq!(Meta::from_value(json!([1])), Meta::default());
        assert!(Meta::default().is_empty() && !meta.is_empty());
    }
}

//! How a session becomes text and back: aiohttp-session's `encoder`/`decoder` pair.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::error::BoxError;
use crate::meta::{META_KEY, Meta};
use crate::python_json;

/// What a storage writes for one session: `{"created": <int>, "session": {...}}`, or `{}` when empty.
///
/// It serializes in that key order with serde, so a codec may hand it to any serde format; serialize
/// it whole, as it also carries what this library keeps beside the data (a session's start and user,
/// under a reserved key inside `session`, only for sessions that use them).
#[derive(Clone, Copy, Debug)]
pub struct SessionRecord<'a> {
    created: i64,
    data: &'a Map<String, Value>,
    meta: &'a Meta,
}

impl<'a> SessionRecord<'a> {
    pub(crate) fn new(created: i64, data: &'a Map<String, Value>, meta: &'a Meta) -> Self {
        SessionRecord { created, data, meta }
    }

    /// `created` as written, or `None` for an empty session (which is written as `{}`).
    pub fn created(&self) -> Option<i64> {
        (!self.data.is_empty()).then_some(self.created)
    }

    /// The session's items in insertion order.
    pub fn data(&self) -> &'a Map<String, Value> {
        self.data
    }
}

impl Serialize for SessionRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.data.is_empty() {
            return serializer.serialize_map(Some(0))?.end();
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("created", &self.created)?;
        map.serialize_entry("session", &Items { data: self.data, meta: self.meta })?;
        map.end()
    }
}

/// The `session` object: the application's items, then the reserved key when there is something to
/// keep in it.
struct Items<'a> {
    data: &'a Map<String, Value>,
    meta: &'a Meta,
}

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let extra = usize::from(!self.meta.is_empty());
        let mut map = serializer.serialize_map(Some(self.data.len() + extra))?;
        for (key, value) in self.data {
            map.serialize_entry(key, value)?;
        }
        if extra == 1 {
            map.serialize_entry(META_KEY, self.meta)?;
        }
        map.end()
    }
}

/// Turns a [`SessionRecord`] into the text a storage keeps, and that text back into a JSON value.
///
/// The default, [`JsonCodec`], writes exactly what Python's `json.dumps` writes, so a Python peer with
/// the default encoder reads our sessions. Replace it (the `encoder`/`decoder` arguments of
/// aiohttp-session) to change the format; every storage of this workspace uses the codec for both
/// writing and reading. Decoding returns a [`Value`]: the storage then applies the session rules
/// (`{}` is new, `created` and `max_age` expiry) itself.
///
/// ```
/// use session_core::BoxError;
/// use session_core::codec::{Codec, SessionRecord};
/// use serde_json::Value;
///
/// /// Compact JSON, for a deployment with no Python peer.
/// struct CompactJson;
///
/// impl Codec for CompactJson {
///     fn encode(&self, record: &SessionRecord<'_>) -> Result<String, BoxError> {
///         Ok(serde_json::to_string(record)?)
///     }
///     fn decode(&self, text: &str) -> Result<Value, BoxError> {
///         Ok(serde_json::from_str(text)?)
///     }
/// }
/// ```
pub trait Codec: Send + Sync + 'static {
    /// The text to store for `record`.
    fn encode(&self, record: &SessionRecord<'_>) -> Result<String, BoxError>;

    /// The value `text` holds. An error here makes the session fresh; it is not reported as a failure.
    fn decode(&self, text: &str) -> Result<Value, BoxError>;
}

/// JSON byte-identical to Python's `json.dumps` (aiohttp-session's default encoder), read with
/// `serde_json`.
///
/// ```
/// use session_core::{ManualClock, StorageConfig};
///
/// let config = StorageConfig::default().with_clock(ManualClock::new(1_700_000_000).clock());
/// let mut session = config.new_session();
/// session.insert("user", "alice")?;
/// session.insert("n", 42)?;
/// assert_eq!(
///     config.encode(&session)?,
///     r#"{"created": 1700000000, "session": {"user": "alice", "n": 42}}"#
/// );
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonCodec;

impl Codec for JsonCodec {
    fn encode(&self, record: &SessionRecord<'_>) -> Result<String, BoxError> {
        Ok(python_json::to_string(record)?)
    }

    fn decode(&self, text: &str) -> Result<Value, BoxError> {
        Ok(serde_json::from_str(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_record_is_an_empty_object() {
        let empty = Map::new();
        let meta = Meta::default();
        let record = SessionRecord::new(5, &empty, &meta);
        assert_eq!(JsonCodec.encode(&record).unwrap(), "{}");
        assert_eq!(record.created(), None);
    }

    #[test]
    fn record_writes_created_first() {
        let Value::Object(data) = json!({"z": 1, "a": "é"}) else { unreachable!() };
        let meta = Meta::default();
        let record = SessionRecord::new(7, &data, &meta);
        assert_eq!(JsonCodec.encode(&record).unwrap(), r#"{"created": 7, "session": {"z": 1, "a": "\u00e9"}}"#);
        assert_eq!(record.created(), Some(7));
    }

    #[test]
    fn meta_goes_last_inside_session_and_only_when_set() {
        let Value::Object(data) = json!({"a": 1}) else { unreachable!() };
        let meta = Meta { started: Some(3), ..Meta::default() };
        assert_eq!(
            JsonCodec.encode(&SessionRecord::new(7, &data, &meta)).unwrap(),
            r#"{"created": 7, "session": {"a": 1, "__session_meta__": {"started": 3}}}"#
        );
    }

    #[test]
    fn decode_reads_any_json() {
        assert_eq!(
            JsonCodec.decode(r#"{"session":{"a":1},"created":3}"#).unwrap(),
            json!({"created": 3, "session": {"a": 1}})
        );
        assert!(JsonCodec.decode("{not json").is_err());
    }
}

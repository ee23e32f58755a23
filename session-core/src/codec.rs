//! How a session becomes text and back: aiohttp-session's `encoder`/`decoder` pair.

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::error::BoxError;
use crate::items::Items;
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
    data: &'a Items,
    meta: &'a Meta,
}

impl<'a> SessionRecord<'a> {
    pub(crate) fn new(created: i64, data: &'a Items, meta: &'a Meta) -> Self {
        SessionRecord { created, data, meta }
    }

    /// Whether it is written as `{}`: no items, and no login (or remembered lifetime) to keep.
    fn is_empty(&self) -> bool {
        self.data.is_empty() && !self.meta.keeps_session()
    }

    /// `created` as written, or `None` for an empty session (which is written as `{}`).
    pub fn created(&self) -> Option<i64> {
        (!self.is_empty()).then_some(self.created)
    }

    /// The session's items in insertion order.
    pub fn items(&self) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.data.iter()
    }
}

impl Serialize for SessionRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.is_empty() {
            return serializer.serialize_map(Some(0))?.end();
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("created", &self.created)?;
        map.serialize_entry("session", &Members { data: self.data, meta: self.meta })?;
        map.end()
    }
}

/// The `session` object: the application's items, then the reserved key when there is something to
/// keep in it.
struct Members<'a> {
    data: &'a Items,
    meta: &'a Meta,
}

impl Serialize for Members<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let extra = usize::from(!self.meta.is_empty());
        let mut map = serializer.serialize_map(Some(self.data.len() + extra))?;
        for (key, value) in self.data.iter() {
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
/// aiohttp-session) to change the format; every storage of this workspace writes and reads through
/// the codec it is given (the default codec's text is read by a typed parse that gives what
/// [`JsonCodec`]'s `decode` gives, without building the outer value). Decoding returns a [`Value`]:
/// the storage then applies the session rules (`{}` is new, `created` and `max_age` expiry) itself.
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
/// An item loaded and not set since is written back as the JSON text it was read from, so what a
/// Python peer wrote passes through a Rust service byte for byte (a value some other writer formatted
/// differently keeps that formatting: the same JSON value). An item set in this library is written
/// as `json.dumps` writes it.
///
/// ```
/// use session_core::{ManualClock, StorageConfig};
///
/// let config = StorageConfig::default().with_clock(ManualClock::new(1_700_000_000).clock());
/// let mut session = config.new_state();
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
        Ok(python_json::record(record.created, record.data, record.meta))
    }

    fn decode(&self, text: &str) -> Result<Value, BoxError> {
        Ok(serde_json::from_str(text)?)
    }
}

/// A decoded payload taken apart: what `{"created": …, "session": …}` holds, or `null`. Anything else
/// is not a session.
pub(crate) enum Payload {
    /// `null`: an empty session that was loaded.
    Null,
    /// An object: its `created` and `session` members, and whether it had any member at all (`{}` is
    /// a new session).
    Record { created: Option<Value>, session: Option<Member>, empty: bool },
    /// Any other JSON value.
    NotAnObject,
}

/// The `session` member of a payload.
#[derive(Debug, PartialEq)]
pub(crate) enum Member {
    /// An object: the session's items.
    Items(Items),
    /// `null`: no items.
    Null,
    /// Anything else: not a session.
    Other,
}

impl From<Value> for Member {
    fn from(value: Value) -> Self {
        match value {
            Value::Object(map) => Member::Items(Items::from(map)),
            Value::Null => Member::Null,
            _ => Member::Other,
        }
    }
}

impl Payload {
    /// The parts of a value a codec decoded.
    pub(crate) fn from_value(value: Value) -> Payload {
        match value {
            Value::Null => Payload::Null,
            Value::Object(mut record) => {
                let empty = record.is_empty();
                let session = record.remove("session").map(Member::from);
                Payload::Record { created: record.remove("created"), session, empty }
            }
            _ => Payload::NotAnObject,
        }
    }

    /// The default codec's text, parsed straight into the parts: no outer JSON object is built and no
    /// key is hashed for it (about 2k instructions a load under callgrind, see BENCHMARKS.md).
    pub(crate) fn from_json(text: &str) -> Result<Payload, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A member name of the payload's outer object, told apart without allocating (serde's `Cow<str>`
/// always copies the name; this runs on every load).
enum RecordKey {
    Created,
    Session,
    Other,
}

impl<'de> Deserialize<'de> for RecordKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl Visitor<'_> for KeyVisitor {
            type Value = RecordKey;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_str<E>(self, name: &str) -> Result<RecordKey, E> {
                Ok(match name {
                    "created" => RecordKey::Created,
                    "session" => RecordKey::Session,
                    _ => RecordKey::Other,
                })
            }
        }

        deserializer.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PayloadVisitor;

        impl<'de> Visitor<'de> for PayloadVisitor {
            type Value = Payload;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a session payload")
            }

            fn visit_unit<E>(self) -> Result<Payload, E> {
                Ok(Payload::Null)
            }

            fn visit_bool<E>(self, _: bool) -> Result<Payload, E> {
                Ok(Payload::NotAnObject)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Payload, E> {
                Ok(Payload::NotAnObject)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Payload, E> {
                Ok(Payload::NotAnObject)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Payload, E> {
                Ok(Payload::NotAnObject)
            }

            fn visit_str<E>(self, _: &str) -> Result<Payload, E> {
                Ok(Payload::NotAnObject)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Payload, A::Error> {
                while items.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Payload::NotAnObject)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Payload, A::Error> {
                let (mut created, mut session, mut empty) = (None, None, true);
                while let Some(key) = members.next_key::<RecordKey>()? {
                    empty = false;
                    // A repeated member: the last one counts, as in Python's `json.loads`.
                    match key {
                        RecordKey::Created => created = Some(members.next_value::<Value>()?),
                        RecordKey::Session => session = Some(members.next_value::<Member>()?),
                        RecordKey::Other => {
                            members.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Payload::Record { created, session, empty })
            }
        }

        deserializer.deserialize_any(PayloadVisitor)
    }
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MemberVisitor;

        impl<'de> Visitor<'de> for MemberVisitor {
            type Value = Member;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the session's items")
            }

            fn visit_unit<E>(self) -> Result<Member, E> {
                Ok(Member::Null)
            }

            fn visit_map<A: MapAccess<'de>>(self, members: A) -> Result<Member, A::Error> {
                Items::read(members).map(Member::Items)
            }

            fn visit_bool<E>(self, _: bool) -> Result<Member, E> {
                Ok(Member::Other)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Member, E> {
                Ok(Member::Other)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Member, E> {
                Ok(Member::Other)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Member, E> {
                Ok(Member::Other)
            }

            fn visit_str<E>(self, _: &str) -> Result<Member, E> {
                Ok(Member::Other)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Member, A::Error> {
                while items.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Member::Other)
            }
        }

        deserializer.deserialize_any(MemberVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_record_is_an_empty_object() {
        let empty = Items::default();
        let meta = Meta::default();
        let record = SessionRecord::new(5, &empty, &meta);
        assert_eq!(JsonCodec.encode(&record).unwrap(), "{}");
        assert_eq!(record.created(), None);
    }

    #[test]
    fn record_writes_created_first() {
        let Value::Object(data) = json!({"z": 1, "a": "é"}) else { unreachable!() };
        let data = Items::from(data);
        let meta = Meta::default();
        let record = SessionRecord::new(7, &data, &meta);
        assert_eq!(JsonCodec.encode(&record).unwrap(), r#"{"created": 7, "session": {"z": 1, "a": "\u00e9"}}"#);
        assert_eq!(record.created(), Some(7));
    }

    #[test]
    fn meta_goes_last_inside_session_and_only_when_set() {
        let Value::Object(data) = json!({"a": 1}) else { unreachable!() };
        let data = Items::from(data);
        let meta = Meta { started: Some(3), ..Meta::default() };
        assert_eq!(
            JsonCodec.encode(&SessionRecord::new(7, &data, &meta)).unwrap(),
            r#"{"created": 7, "session": {"a": 1, "__session_meta__": {"started": 3}}}"#
        );
    }

    /// The typed parse of the default codec sees what the generic one sees, for any JSON.
    #[test]
    fn the_typed_parse_agrees_with_the_generic_one() {
        use proptest::prelude::*;
        let agree = |text: &str| {
            let typed = Payload::from_json(text).ok();
            let generic = serde_json::from_str::<Value>(text).ok().map(Payload::from_value);
            match (typed, generic) {
                (None, None) => true,
                (Some(Payload::Null), Some(Payload::Null)) => true,
                (Some(Payload::NotAnObject), Some(Payload::NotAnObject)) => true,
                (
                    Some(Payload::Record { created: a, session: b, empty: c }),
                    Some(Payload::Record { created: x, session: y, empty: z }),
                ) => (a, b, c) == (x, y, z),
                _ => false,
            }
        };
        for text in [
            "{}",
            "null",
            "[1, {}]",
            "\"x\"",
            "1.5",
            "true",
            r#"{"created": 1, "session": {"a": 1}, "other": [1]}"#,
            r#"{"created": 1, "created": 2, "session": null}"#,
            r#"{"other": 1}"#,
            "{",
        ] {
            assert!(agree(text), "{text}");
        }
        // Any JSON: scalars, and arrays and objects of them, a few levels deep.
        let scalar = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
        ];
        let json = scalar.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::vec(("\\PC{0,6}", inner), 0..4)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        });
        proptest!(|(value in json)| {
            let text = value.to_string();
            prop_assert!(agree(&text), "{}", text);
            let record = serde_json::json!({"created": 5, "session": value}).to_string();
            prop_assert!(agree(&record), "{}", record);
        });
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

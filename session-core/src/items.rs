//! The items of a session: its keys and JSON values, in insertion order.
//!
//! A list, not `serde_json::Map` (an `IndexMap` hashed with SipHash under a fresh random state per
//! map): a session holds a handful of keys, and comparing them costs less than hashing them. Under
//! callgrind, building the typical session's items on load fell from about 2.8k instructions (hashing
//! and index upkeep) to about 0.4k (BENCHMARKS.md, "The encrypted cookie path"). Lookups scan; a
//! decode with more than [`INDEXED`] keys checks duplicates through a temporary index, and so does the
//! merge's [`Diff`], so a large session never costs quadratic time.
//!
//! A loaded item keeps the JSON text it was read from and becomes a [`Value`] only when something
//! reads it: a request reads one or two items of its session, and building a `Value` for every other
//! one (a `String` per key and per string, a `Vec` per list) and encoding it again on save was most
//! of the JSON work. An item loaded and not set again is written back as the text it was read from:
//! what Python's `json.dumps` or this library wrote comes back byte for byte, and a value another
//! writer formatted otherwise keeps that writer's formatting (the same JSON value). The keys and the
//! loaded values' texts share one string. Under callgrind, the typical returning visitor's work beside
//! the cipher fell from 16.5k to 15.6k instructions and from 21 to 10 allocations, a 2.6 KB session's
//! from 104k to 58k instructions (BENCHMARKS.md, "Loaded items stay text").

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::queue::{QueueChange, is_queue};

/// From how many keys a decode checks duplicates through a hash index rather than by scanning.
const INDEXED: usize = 16;

/// Room for the keys and texts of a typical session at once (a string that grows copies itself).
const TEXT_CAPACITY: usize = 256;

#[derive(Clone, Default)]
pub(crate) struct Items {
    /// The keys, and the JSON texts of the loaded values, that the entries point into.
    text: String,
    entries: Vec<Entry>,
}

/// Where a key or a loaded value's text lies in [`Items::text`].
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn of(self, text: &str) -> &str {
        &text[self.start..self.end]
    }

    /// Appends `piece` to `text`: where it now lies.
    fn append(text: &mut String, piece: &str) -> Span {
        let start = text.len();
        text.push_str(piece);
        Span { start, end: text.len() }
    }
}

#[derive(Clone)]
struct Entry {
    key: Span,
    value: Slot,
}

#[derive(Clone)]
enum Slot {
    /// Read from a payload: its JSON text, and the value parsed from it once something asks for it.
    Loaded(Span, OnceLock<Value>),
    /// Set in this request, or taken from a value.
    Set(Value),
}

/// An item's value as the payload writes it.
pub(crate) enum Written<'a> {
    /// The JSON text it was loaded from.
    Text(&'a str),
    /// A value to encode.
    Value(&'a Value),
}

impl Items {
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.entry(key).map(|entry| self.value(entry))
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` to `value`: in place when present (a dict keeps a key's first position), else last.
    pub(crate) fn insert(&mut self, key: &str, value: Value) {
        match self.position(key) {
            Some(at) => self.entries[at].value = Slot::Set(value),
            None => {
                let key = self.push_text(key);
                self.entries.push(Entry { key, value: Slot::Set(value) });
            }
        }
    }

    /// Takes `key` out, keeping the order of the rest.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        Some(match self.take(key)?.value {
            Slot::Set(value) => value,
            Slot::Loaded(span, parsed) => parsed.into_inner().unwrap_or_else(|| parse(self.at(span))),
        })
    }

    /// Takes `key`'s entry out (its text stays until the request ends), without parsing its value.
    fn take(&mut self, key: &str) -> Option<Entry> {
        let at = self.position(key)?;
        Some(self.entries.remove(at))
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|entry| (self.at(entry.key), self.value(entry)))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|entry| self.at(entry.key))
    }

    /// Each item as the payload writes it: a loaded one as the text it was read from, though it was
    /// read since (reading changes nothing), a set one as its value.
    pub(crate) fn written(&self) -> impl Iterator<Item = (&str, Written<'_>)> {
        self.entries.iter().map(|entry| {
            let value = match &entry.value {
                Slot::Loaded(span, _) => Written::Text(self.at(*span)),
                Slot::Set(value) => Written::Value(value),
            };
            (self.at(entry.key), value)
        })
    }

    pub(crate) fn to_map(&self) -> Map<String, Value> {
        self.iter().map(|(key, value)| (key.to_owned(), value.clone())).collect()
    }

    fn at(&self, span: Span) -> &str {
        span.of(&self.text)
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|entry| self.at(entry.key) == key)
    }

    fn entry(&self, key: &str) -> Option<&Entry> {
        self.position(key).map(|at| &self.entries[at])
    }

    fn value<'a>(&'a self, entry: &'a Entry) -> &'a Value {
        match &entry.value {
            Slot::Set(value) => value,
            Slot::Loaded(span, parsed) => parsed.get_or_init(|| parse(self.at(*span))),
        }
    }

    fn push_text(&mut self, text: &str) -> Span {
        Span::append(&mut self.text, text)
    }

    /// Each key's position, for many lookups at once.
    fn key_index(&self) -> HashMap<String, usize> {
        self.keys().enumerate().map(|(at, key)| (key.to_owned(), at)).collect()
    }

    /// Whether `ours` (one of these entries) holds the value `theirs` (an entry of `base`) holds: the
    /// same text read (no parse), or an equal value.
    fn same_value(&self, ours: &Entry, base: &Items, theirs: &Entry) -> bool {
        if let (Slot::Loaded(mine, _), Slot::Loaded(other, _)) = (&ours.value, &theirs.value)
            && self.at(*mine) == base.at(*other)
        {
            return true;
        }
        self.value(ours) == base.value(theirs)
    }
}

/// The value of a loaded item's text. [`Items::read`] accepted the text only [`within_limits`] of a
/// `Value` parse, so the `Null` is never reached; it keeps a read panic-free.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

impl PartialEq for Items {
    fn eq(&self, other: &Items) -> bool {
        self.iter().eq(other.iter())
    }
}

/// The keys only: values may be anything an application keeps (a user's data, a token).
impl fmt::Debug for Items {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.keys()).finish()
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
        let base_index: Option<HashMap<&str, &Entry>> =
            (base.len() > INDEXED).then(|| base.entries.iter().map(|entry| (base.at(entry.key), entry)).collect());
        let theirs = |key: &str| match &base_index {
            Some(index) => index.get(key).copied(),
            None => base.entry(key),
        };
        let mut set: Vec<(String, Value)> = self
            .entries
            .iter()
            .filter(|entry| !theirs(self.at(entry.key)).is_some_and(|theirs| self.same_value(entry, base, theirs)))
            .map(|entry| (self.at(entry.key).to_owned(), self.value(entry).clone()))
            .collect();
        let our_index: Option<HashSet<&str>> = (self.len() > INDEXED).then(|| self.keys().collect());
        let ours = |key: &str| our_index.as_ref().map_or_else(|| self.contains_key(key), |index| index.contains(key));
        let mut removed: Vec<String> = base.keys().filter(|key| !ours(key)).map(str::to_owned).collect();
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
            let text = &self.text;
            self.entries.retain(|entry| !removed.contains(entry.key.of(text)));
        }
        if self.len() + diff.set.len() <= INDEXED {
            for (key, value) in &diff.set {
                self.insert(key, value.clone());
            }
        } else {
            self.apply_indexed(&diff.set);
        }
        for change in &diff.queues {
            match change.replay(self.get(&change.key).cloned()) {
                Some(queue) => self.insert(&change.key, queue),
                None => drop(self.take(&change.key)),
            };
        }
    }

    /// Sets many keys through a temporary index: a large session never costs quadratic time.
    fn apply_indexed(&mut self, set: &[(String, Value)]) {
        let mut index = self.key_index();
        for (key, value) in set {
            match index.get(key) {
                Some(&at) => self.entries[at].value = Slot::Set(value.clone()),
                None => {
                    index.insert(key.clone(), self.entries.len());
                    let key = self.push_text(key);
                    self.entries.push(Entry { key, value: Slot::Set(value.clone()) });
                }
            }
        }
    }
}

impl From<Map<String, Value>> for Items {
    fn from(map: Map<String, Value>) -> Self {
        let mut items = Items {
            text: String::with_capacity(map.keys().map(String::len).sum()),
            entries: Vec::with_capacity(map.len()),
        };
        for (key, value) in map {
            let key = items.push_text(&key);
            items.entries.push(Entry { key, value: Slot::Set(value) });
        }
        items
    }
}

impl Items {
    /// The members of a JSON object being read: each key and value text kept, each value checked to be
    /// one a `Value` parse takes (so a payload a full parse refuses is refused here too), none built.
    ///
    /// The values are borrowed from the text being read, as `serde_json::from_str` and `from_slice`
    /// lend them (the payload parse uses `from_str`).
    pub(crate) fn read<'de, A: MapAccess<'de>>(mut members: A) -> Result<Items, A::Error> {
        let mut items = Items {
            text: String::with_capacity(TEXT_CAPACITY),
            entries: Vec::with_capacity(members.size_hint().unwrap_or(8)),
        };
        let mut index: Option<HashMap<String, usize>> = None;
        while let Some(key) = members.next_key_seed(KeyText(&mut items.text))? {
            let value: &'de RawValue = members.next_value()?;
            if !within_limits(value.get()) {
                return Err(A::Error::custom("a number out of range or nesting too deep"));
            }
            if items.len() == INDEXED && index.is_none() {
                index = Some(items.key_index());
            }
            let existing = match &index {
                Some(index) => index.get(items.at(key)).copied(),
                None => items.position(items.at(key)),
            };
            match existing {
                Some(at) => {
                    // The key is already there: its text, the last one pushed, goes again.
                    items.text.truncate(key.start);
                    let span = items.push_text(value.get());
                    items.entries[at].value = Slot::Loaded(span, OnceLock::new());
                }
                None => {
                    if let Some(index) = &mut index {
                        index.insert(items.at(key).to_owned(), items.len());
                    }
                    let span = items.push_text(value.get());
                    items.entries.push(Entry { key, value: Slot::Loaded(span, OnceLock::new()) });
                }
            }
        }
        Ok(items)
    }
}

/// Reads a member name into the shared text, where it stays (no `String` per key).
struct KeyText<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for KeyText<'_> {
    type Value = Span;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Span, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyText<'_> {
    type Value = Span;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E>(self, key: &str) -> Result<Span, E> {
        Ok(Span::append(self.0, key))
    }
}

/// How deep containers may nest inside an item: serde_json refuses a 128th nested container, and a
/// payload's items sit two levels in (`{"session": {"key": ...}}`).
const ITEM_DEPTH: usize = 125;

/// Whether the text of a loaded value (JSON, as the parser checked) is one a parse of the whole payload
/// into `Value`s takes too: no number beyond `f64`'s range, no deeper nesting than [`ITEM_DEPTH`], no
/// string with a UTF-16 surrogate escape out of its pair (`"\ud83d"` alone: serde_json skips a value
/// without checking these, and refuses them when it builds one). So a payload is refused exactly when
/// it was before items stayed text, and parsing an item later never fails.
///
/// A scan by hand rather than a second serde_json parse of each item into a value that keeps nothing:
/// that parse cost about 1.8k instructions a typical load under callgrind, as much as the whole load
/// saved by keeping the text (BENCHMARKS.md, "Loaded items stay text").
fn within_limits(text: &str) -> bool {
    match text.as_bytes().first() {
        Some(b'"') => string_end(text.as_bytes(), 0).is_some(),
        // `true`, `false` or `null` hold nothing to check.
        Some(b't' | b'f' | b'n') | None => true,
        Some(b'[' | b'{') => containers_within_limits(text),
        Some(_) => number_within_range(text),
    }
}

/// Whether the numbers and strings inside a list or an object are within the limits, and its nesting
/// within [`ITEM_DEPTH`].
fn containers_within_limits(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => match string_end(bytes, at) {
                Some(end) => at = end,
                None => return false,
            },
            b'[' | b'{' => {
                depth += 1;
                if depth > ITEM_DEPTH {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'-' | b'0'..=b'9' => {
                let length = bytes[at..]
                    .iter()
                    .position(|byte| !matches!(byte, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .unwrap_or(bytes.len() - at);
                if !number_within_range(&text[at..at + length]) {
                    return false;
                }
                at += length;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    true
}

/// The string opening at `bytes[at]`: where its closing quote is, or `None` when it holds a surrogate
/// escape out of its pair.
fn string_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    at += 1;
    loop {
        at += memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
        if bytes[at] == b'"' {
            return Some(at);
        }
        at = escape_end(bytes, at)?;
    }
}

/// The escape at `bytes[at]` (a backslash): where it ends, or `None` for a trailing surrogate alone or
/// a leading one not followed by a trailing one, as serde_json refuses them in a string.
fn escape_end(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at + 1) != Some(&b'u') {
        return Some(at + 2);
    }
    match code_unit(bytes, at + 2)? {
        0xDC00..=0xDFFF => None,
        0xD800..=0xDBFF => {
            let paired = bytes.get(at + 6..at + 8) == Some(b"\\u".as_slice())
                && matches!(code_unit(bytes, at + 8)?, 0xDC00..=0xDFFF);
            paired.then_some(at + 12)
        }
        _ => Some(at + 6),
    }
}

/// The four hex digits of a `\u` escape at `bytes[at]`.
fn code_unit(bytes: &[u8], at: usize) -> Option<u16> {
    let digits = std::str::from_utf8(bytes.get(at..at + 4)?).ok()?;
    u16::from_str_radix(digits, 16).ok()
}

/// Whether a JSON number is a finite `f64`: always without an exponent and with fewer than 309
/// characters (it is below 10^308), else as Rust's exact parse finds it.
fn number_within_range(number: &str) -> bool {
    (number.len() < 309 && !number.contains(['e', 'E'])) || number.parse::<f64>().is_ok_and(f64::is_finite)
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

    /// The `session` object `python_json::record` writes for `items`.
    fn written(items: &Items) -> String {
        let record = crate::python_json::record(7, items, &crate::meta::Meta::default());
        record.strip_prefix(r#"{"created": 7, "session": "#).and_then(|rest| rest.strip_suffix('}')).unwrap().to_owned()
    }

    #[test]
    fn loaded_items_are_written_back_as_read_until_set() {
        let text = r#"{"compact":[1,{"k":"\u00e9"}], "read": 1.50, "set": "old", "gone": 0}"#;
        let mut items = read(text);
        assert_eq!(items.get("read"), Some(&json!(1.5)), "a read parses the text");
        items.insert("set", json!("new"));
        assert_eq!(items.remove("gone"), Some(json!(0)));
        items.insert("added", json!(["é"]));
        assert_eq!(
            written(&items),
            r#"{"compact": [1,{"k":"\u00e9"}], "read": 1.50, "set": "new", "added": ["\u00e9"]}"#,
            "untouched and read items keep their text, set ones are encoded"
        );
        assert_eq!(items.get("compact"), Some(&json!([1, {"k": "é"}])));
        let repeated = read(r#"{"a": 1, "b": 2, "a": [3]}"#);
        assert_eq!(written(&repeated), r#"{"a": [3], "b": 2}"#, "a repeated key's last text, in its first place");
    }

    #[test]
    fn a_value_a_full_parse_refuses_is_refused_on_load() {
        for text in [r#"{"a": 1e400}"#, r#"{"a": -1e999}"#, r#"{"a": [1, NaN]}"#, r#"{"a": 1, "b": tru}"#] {
            assert!(serde_json::from_str::<Member>(text).is_err(), "{text}");
        }
        let deep = format!(r#"{{"a": {}1{}}}"#, "[".repeat(200), "]".repeat(200));
        assert!(serde_json::from_str::<Member>(&deep).is_err(), "nesting past the parser's limit");
        let fine = format!(r#"{{"a": {}1{}, "b": 1e300}}"#, "[".repeat(100), "]".repeat(100));
        assert_eq!(read(&fine).len(), 2);
    }

    #[test]
    fn a_payload_loads_exactly_when_serde_json_parses_it_whole() {
        let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let mut values: Vec<String> = [
            "1e308",
            "1.7976931348623157e308",
            "1.8e308",
            "1e309",
            "-1e309",
            "1E400",
            "1e-400",
            "-0.0",
            "123456789012345",
            r#""1e400 [[[ \" {{ 1e999""#,
            r#"{"1e999": [1e5, {"k": -2E-3}]}"#,
            r#"{"k": 1e999}"#,
            "[1, 2e400]",
            r#"["\" [[ 1e999", 1]"#,
            r#"["\\", 1e999]"#,
            r#"{"k\"": [-1e999]}"#,
            r#"["\u0022", 1E+309]"#,
            r#""\ud83d\ude00 \u00e9""#,
            r#""\ud83d""#,
            r#""x\udc00""#,
            r#""\ud83d\u0041""#,
            r#""\ud83d\ud83d\ude00""#,
            r#""\ud83d\n""#,
            r#"["ok", "\ud83d"]"#,
            r#"{"k\udc00": 1}"#,
            r#"[{"k": "\ud83d\ude00", "\\": "\\u"}]"#,
        ]
        .map(str::to_owned)
        .into();
        values.extend([309, 310, 400].map(|digits| "9".repeat(digits)));
        values.extend([124, 125, 126, 127].map(nested));
        values.push(format!(r#"{{"deep": {}}}"#, nested(124)));
        values.push(format!("[{}]", vec![nested(124); 130].join(", ")));
        for value in values {
            let payload = format!(r#"{{"created": 1, "session": {{"a": {value}, "b": 2}}}}"#);
            let whole = serde_json::from_str::<Value>(&payload);
            let ours = crate::codec::Payload::from_json(&payload);
            assert_eq!(ours.is_ok(), whole.is_ok(), "{value}");
            if let (Ok(crate::codec::Payload::Record { session: Some(Member::Items(items)), .. }), Ok(whole)) =
                (ours, whole)
            {
                assert_eq!(Value::Object(items.to_map()), whole["session"], "{value}: the items read later");
            }
        }
    }

    #[test]
    fn items_are_equal_by_keys_order_and_values_and_show_only_their_keys() {
        let items = read(r#"{"a": 1, "b": "secret"}"#);
        assert_eq!(items, read(r#"{"a":1,"b":"secret"}"#), "the same values in other text");
        for other in [
            r#"{"a": 1, "b": "other"}"#,
            r#"{"b": "secret", "a": 1}"#,
            r#"{"a": 1}"#,
            r#"{"a": 1, "b": "secret", "c": 1}"#,
        ] {
            assert_ne!(items, read(other), "{other}");
        }
        assert_eq!(format!("{items:?}"), r#"{"a", "b"}"#);
    }

    #[test]
    fn a_diff_compares_loaded_texts_and_values() {
        let base = read(r#"{"same": [1, 2], "equal": 1.0, "other": 1, "key\u00e9": "x"}"#);
        let ours = read(r#"{"same": [1, 2], "equal": 1.00, "other": 2, "key\u00e9": "x"}"#);
        let diff = ours.diff_from(&base);
        assert_eq!(diff.set, [("other".to_owned(), json!(2))], "an equal value in other text is unchanged");
        assert!(diff.removed.is_empty());
        assert_eq!(ours.keys().last(), Some("keyé"), "an escaped key is read as its text");
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
            items.insert(key, json!(key));
        }
        items.insert("b", json!(2));
        assert_eq!(items.get("b"), Some(&json!(2)));
        assert_eq!(items.remove("a"), Some(json!("a")));
        assert_eq!(items.keys().collect::<Vec<_>>(), ["b", "c"]);
        assert!(items.contains_key("c") && !items.contains_key("a"));
    }

    fn numbered(keys: impl IntoIterator<Item = usize>) -> Items {
        let mut items = Items::default();
        for n in keys {
            items.insert(&format!("k{n}"), json!(n));
        }
        items
    }

    #[test]
    fn a_diff_turns_the_base_into_ours_on_top_of_theirs() {
        // Small (scanned) and large (indexed) sessions alike.
        for size in [4, 400] {
            let base = numbered(0..size);
            let mut ours = base.clone();
            ours.insert("k1", json!("ours"));
            ours.insert("new", json!(true));
            ours.remove("k2");
            let diff = ours.diff_from(&base);
            assert_eq!(diff.set.len(), 2, "{size}: only what this request changed");
            assert_eq!(diff.removed, ["k2"]);

            let mut theirs = numbered(0..size);
            theirs.insert("k0", json!("theirs"));
            theirs.insert("other", json!(1));
            theirs.apply(&diff);
            assert_eq!(theirs.get("k0"), Some(&json!("theirs")), "{size}: their write stays");
            assert_eq!(theirs.get("k1"), Some(&json!("ours")), "{size}: our write wins on our key");
            assert!(!theirs.contains_key("k2") && theirs.contains_key("other") && theirs.contains_key("new"));
            assert_eq!(theirs.len(), size + 1, "{size}");
            assert_eq!(theirs.keys().last(), Some("new"), "{size}: a new key goes last");
        }
    }
}

//! Properties of session-core's wire formats, over generated input (proptest): the cookie quoting, the
//! cookie reader, the JSON payload. Here rather than in session-core so that session-core needs no crate
//! that depends on it.

use std::time::Duration;

use proptest::prelude::*;
use session_core::codec::{Codec, JsonCodec};
use session_core::cookie::{CookieLifetime, find_cookie, quote as cookie_quote, unquote as cookie_unquote};
use session_core::{CookieConfig, ManualClock, SameSite, StorageConfig};
use session_testkit::strategies::{json_value, session_data, text};

proptest! {
    /// Python's quoting and unquoting are inverses, and a quoted value is a single cookie token: no
    /// separator, quote or line break left bare inside it.
    #[test]
    fn unquote_inverts_quote(value in text()) {
        let quoted = cookie_quote(&value);
        prop_assert_eq!(cookie_unquote(&quoted), value.as_str());
        let inner = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')).unwrap_or(&quoted);
        prop_assert!(!inner.contains([';', ',', '\r', '\n', '\0', ' ']) || quoted.starts_with('"'));
        prop_assert!(!quoted.contains(['\r', '\n', ';', ',', '\0']));
    }

    /// Any value becomes one `Set-Cookie` with exactly the configured attributes, and reads back as
    /// itself from a `Cookie` header: no value can inject a header or an attribute.
    #[test]
    fn no_value_injects_a_header_or_an_attribute(value in text(), max_age in proptest::option::of(0u64..100_000)) {
        let config = CookieConfig::builder().domain("example.com").same_site(SameSite::Strict).build().expect("valid");
        let lifetime = max_age.map(|seconds| CookieLifetime { max_age: Duration::from_secs(seconds), now: 1_700_000_000 });
        let Ok(header) = config.set_cookie(&value, lifetime) else {
            return Ok(());
        };
        prop_assert!(!header.contains(['\r', '\n', '\0']));
        let expected = 6 + if max_age.is_some() { 2 } else { 0 };
        prop_assert_eq!(header.split("; ").count(), expected, "{}", header);
        let pair = header.split("; ").next().unwrap_or_default();
        let found = find_cookie([pair], "AIOHTTP_SESSION");
        prop_assert_eq!(found.as_deref(), Some(value.as_str()));
    }

    /// Our JSON (byte-identical to Python's `json.dumps`) is ASCII and parses back to the same session.
    #[test]
    fn our_json_parses_back_to_the_same_value(data in session_data()) {
        let config = StorageConfig::default().with_clock(ManualClock::new(1_700_000_000).clock());
        let mut session = config.new_state();
        for (key, value) in &data {
            session.insert_value(key.clone(), value.clone()).expect("not the reserved key");
        }
        let text = config.encode(&session).expect("encodes");
        prop_assert!(text.is_ascii());
        let parsed = JsonCodec.decode(&text).expect("parses");
        if data.is_empty() {
            prop_assert_eq!(text, "{}");
        } else {
            prop_assert_eq!(&parsed["session"], &serde_json::Value::Object(data));
            prop_assert_eq!(&parsed["created"], &serde_json::json!(1_700_000_000));
        }
    }

    /// Any `Cookie` header is read without panicking, and the value found is the last one named so.
    #[test]
    fn any_cookie_header_is_read_without_panicking(header in "\\PC{0,64}", value in "[A-Za-z0-9]{1,16}") {
        let _ = find_cookie([header.as_str()], "AIOHTTP_SESSION");
        let with_ours = format!("{header}; AIOHTTP_SESSION={value}");
        let found = find_cookie([with_ours.as_str()], "AIOHTTP_SESSION");
        prop_assert_eq!(found.as_deref(), Some(value.as_str()));
    }

    /// On well-formed cookies our single-pass reader finds what the `cookie` crate's parser finds (the
    /// last pair of that name).
    #[test]
    fn the_cookie_reader_agrees_with_the_cookie_crate(
        pairs in proptest::collection::vec(("[A-Za-z][A-Za-z0-9_]{0,6}", "[A-Za-z0-9!#$%&'*+.^_|~:/-]{0,12}"), 1..6),
        pick in 0usize..6,
    ) {
        let header = pairs.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ");
        let name = &pairs[pick % pairs.len()].0;
        let theirs = cookie::Cookie::split_parse(header.as_str())
            .filter_map(Result::ok)
            .filter(|c| c.name() == name)
            .last()
            .map(|c| c.value().to_owned());
        prop_assert_eq!(find_cookie([header.as_str()], name).map(|v| v.into_owned()), theirs);
    }

    /// Loading arbitrary JSON never fails: a payload is a session or a fresh one.
    #[test]
    fn any_payload_loads(payload in json_value()) {
        let config = StorageConfig::default();
        let text = serde_json::to_string(&payload).expect("serializes");
        let session = config.open("property", Some("id".into()), &text);
        prop_assert!(!session.is_changed());
    }
}

//! proptest strategies for what sessions hold: any JSON a session can store.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Any string: ASCII, Latin-1, the rest of the BMP and astral characters (emoji), controls included.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[\\x00-\\x1f\\x7f\"\\\\;,=]{0,6}",
        "\\PC{0,8}",
        any::<Vec<char>>().prop_map(|chars| chars.into_iter().take(8).collect()),
    ]
}

/// Any JSON value serde_json can hold: null, booleans, 64-bit integers, finite floats, strings, and
/// arrays and objects of them, nested a few levels.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..4).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// The data of a session: up to six keys of any JSON.
pub fn session_data() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((text(), json_value()), 0..6).prop_map(|pairs| pairs.into_iter().collect())
}

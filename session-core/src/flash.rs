//! Flash messages: a note queued for the next page a visitor sees ("Saved.", "Wrong password"),
//! shown once. Django's `messages`, Rails' `flash`, gorilla's `AddFlash`.
//!
//! They live in the session under the reserved key `_flash`, a JSON list of
//! `{"level": "info", "text": "…"}` that a Python peer sees as ordinary data, and merge as a queue
//! (`queue.rs`): parallel requests that each add one keep every one. On a cookie storage they count
//! toward the 4096-byte cookie: a queue that outgrows it fails the save with
//! [`Error::CookieTooLarge`](crate::Error::CookieTooLarge), as any value would.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::queue::FLASH_KEY;
use crate::session::SessionState;

/// How a flash message reads: what a template styles it as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashLevel {
    /// For developers.
    Debug,
    /// Something happened.
    Info,
    /// Something worked.
    Success,
    /// Something deserves attention.
    Warning,
    /// Something failed.
    Error,
}

/// One flash message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    /// How it reads.
    pub level: FlashLevel,
    /// What it says.
    pub text: String,
}

impl SessionState {
    /// Queues a message for the next page that calls [`take_flashes`](Self::take_flashes): it survives
    /// a redirect, is shown once, and keeps its place after the messages queued before it.
    ///
    /// ```
    /// use session_core::{FlashLevel, StorageConfig};
    ///
    /// let mut session = StorageConfig::default().new_state();
    /// session.flash(FlashLevel::Success, "Saved.")?;
    /// session.flash(FlashLevel::Info, "Two more to go.")?;
    /// let shown: Vec<String> = session.take_flashes().into_iter().map(|flash| flash.text).collect();
    /// assert_eq!(shown, ["Saved.", "Two more to go."]);
    /// assert!(session.take_flashes().is_empty(), "shown once");
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn flash(&mut self, level: FlashLevel, text: impl Into<String>) -> Result<(), Error> {
        let message = serde_json::to_value(Flash { level, text: text.into() }).map_err(|e| Error::Encode(e.into()))?;
        let mut queue = match self.remove_value(FLASH_KEY) {
            Some(Value::Array(queue)) => queue,
            _ => Vec::new(),
        };
        queue.push(message);
        self.insert_value(FLASH_KEY, Value::Array(queue))
    }

    /// The queued messages, oldest first, taken out of the session: the next call answers none. A
    /// session with none is left unchanged (nothing to save). An entry a peer wrote that is not a
    /// message is dropped.
    pub fn take_flashes(&mut self) -> Vec<Flash> {
        // `remove_value` marks the session changed only when there was a queue.
        messages(self.remove_value(FLASH_KEY).as_ref())
    }

    /// The queued messages, oldest first, left in place.
    pub fn flashes(&self) -> Vec<Flash> {
        messages(self.get_value(FLASH_KEY))
    }
}

fn messages(queue: Option<&Value>) -> Vec<Flash> {
    match queue {
        Some(Value::Array(queue)) => queue.iter().filter_map(|message| Flash::deserialize(message).ok()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::StorageConfig;

    #[test]
    fn messages_are_stored_as_plain_json_a_python_peer_reads() {
        let mut session = StorageConfig::default().new_state();
        session.flash(FlashLevel::Warning, "Check your email").unwrap();
        assert_eq!(session.get_value("_flash"), Some(&json!([{"level": "warning", "text": "Check your email"}])));
        assert!(session.is_changed());
    }

    #[test]
    fn taking_none_changes_nothing_and_garbage_is_dropped() {
        let mut session = StorageConfig::default().new_state();
        assert!(session.take_flashes().is_empty());
        assert!(!session.is_changed(), "a page that shows no flash writes nothing");
        session.insert_value("_flash", json!([{"level": "info", "text": "kept"}, 3, {"level": "shout"}])).unwrap();
        assert_eq!(session.flashes(), [Flash { level: FlashLevel::Info, text: "kept".into() }]);
        assert_eq!(session.take_flashes().len(), 1);
        assert!(!session.contains_key("_flash"));
        session.insert_value("_flash", json!("not a list")).unwrap();
        session.flash(FlashLevel::Error, "fresh").unwrap();
        assert_eq!(session.take_flashes(), [Flash { level: FlashLevel::Error, text: "fresh".into() }]);
    }
}

//! The session's CSRF token (the synchronizer-token pattern): a secret the app puts in its forms, which
//! a cross-site page cannot read, and which every unsafe request must send back.
//!
//! It lives under the reserved key `_csrf`, a list of tokens that merges as a queue (`queue.rs`): two
//! parallel requests that each made a token keep both valid, so neither page's form fails. `login`,
//! `reset` and `cycle_id` drop the list: a token shown before a login is worth nothing after it.
//!
//! `SameSite=Lax`, the default of our cookies, already keeps the session cookie off most cross-site
//! `POST`s; the token covers the rest (older browsers, `SameSite=None` cookies, a sibling subdomain).

use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::hex::random_hex;
use crate::queue::CSRF_KEY;
use crate::session::SessionState;

/// How many of a session's tokens a check looks at: more than parallel first requests ever make.
const CHECKED_TOKENS: usize = 8;

impl SessionState {
    /// The session's CSRF token, to put in a form field or a header: made on first use (256 bits from
    /// the operating system's random source, as hex), the same afterwards until `login`, `reset` or
    /// `cycle_id` drops it.
    ///
    /// ```
    /// use session_core::StorageConfig;
    ///
    /// let mut session = StorageConfig::default().new_state();
    /// let token = session.csrf_token()?;
    /// assert_eq!(token.len(), 64);
    /// assert_eq!(session.csrf_token()?, token, "one token per session");
    /// assert!(session.verify_csrf(&token));
    /// assert!(!session.verify_csrf("guessed"));
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn csrf_token(&mut self) -> Result<String, Error> {
        if let Some(token) = self.csrf_tokens().next() {
            return Ok(token.to_owned());
        }
        let token = random_hex::<32>().map_err(|e| Error::Encode(e.into()))?;
        // Whatever the key held is no token (a peer's value, a list without strings): it is replaced.
        self.insert_value(CSRF_KEY, Value::Array(vec![Value::String(token.clone())]))?;
        Ok(token)
    }

    /// Whether `submitted` is one of this session's CSRF tokens. The comparison takes the same time
    /// wherever the first differing byte is, so response timing tells an attacker nothing about the
    /// token. A session without a token accepts nothing.
    pub fn verify_csrf(&self, submitted: &str) -> bool {
        // Stopping at the token that matched tells only which one did, of a guess that was right anyway.
        self.csrf_tokens().take(CHECKED_TOKENS).any(|token| constant_time_eq(token, submitted))
    }

    /// Drops the session's CSRF tokens (at a new id: a token from before is worth nothing after).
    pub(crate) fn drop_csrf_tokens(&mut self) {
        // Marks the session changed only when there was a token.
        self.remove_value(CSRF_KEY);
    }

    fn csrf_tokens(&self) -> impl Iterator<Item = &str> {
        let tokens = match self.get_value(CSRF_KEY) {
            Some(Value::Array(tokens)) => tokens.as_slice(),
            _ => &[],
        };
        tokens.iter().filter_map(Value::as_str)
    }
}

/// Whether `a` and `b` are equal, in a time that depends on their lengths only (the tokens this
/// library makes all have one length).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::StorageConfig;

    #[test]
    fn tokens_are_random_and_belong_to_their_session() {
        let (mut one, mut other) = (StorageConfig::default().new_state(), StorageConfig::default().new_state());
        let (a, b) = (one.csrf_token().unwrap(), other.csrf_token().unwrap());
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()) && a.len() == 64);
        assert!(one.verify_csrf(&a) && !one.verify_csrf(&b));
        assert_eq!(one.get_value("_csrf"), Some(&json!([a])), "plain JSON a Python peer keeps");
    }

    #[test]
    fn a_session_without_a_token_accepts_nothing() {
        let mut session = StorageConfig::default().new_state();
        assert!(!session.verify_csrf(""));
        session.insert_value("_csrf", json!("not a list")).unwrap();
        assert!(!session.verify_csrf("not a list"));
        session.insert_value("_csrf", json!([7, "t"])).unwrap();
        assert!(session.verify_csrf("t") && !session.verify_csrf("7"));
        assert_eq!(session.csrf_token().unwrap(), "t");
    }

    #[test]
    fn every_token_a_merge_kept_is_valid() {
        let mut session = StorageConfig::default().new_state();
        session.insert_value("_csrf", json!(["first", "second"])).unwrap();
        assert!(session.verify_csrf("first") && session.verify_csrf("second"));
        assert_eq!(session.csrf_token().unwrap(), "first", "the oldest is the one shown");
    }

    #[test]
    fn a_new_id_drops_the_tokens() {
        let mut session = StorageConfig::default().new_state();
        let before = session.csrf_token().unwrap();
        session.rotate(); // what `cycle_id` and `login_keeping_data` do
        assert!(!session.verify_csrf(&before), "a token from before the new id");
        let after = session.csrf_token().unwrap();
        assert_ne!(after, before);
        assert!(session.verify_csrf(&after));
    }

    #[test]
    fn comparison_is_equality_whatever_the_lengths() {
        assert!(constant_time_eq("abc", "abc"));
        for other in ["abd", "ab", "abcd", "", "ABC"] {
            assert!(!constant_time_eq("abc", other), "{other}");
        }
    }
}

//! Session ids: how new ones are made and which cookie values can be one.

use crate::cookie::is_legal;
use crate::error::BoxError;
use crate::hex::random_hex;

/// Makes the ids of new sessions (the cookie value) and recognises ids in cookies, so that a value
/// that could never be an id is a fresh session without a trip to the store. aiohttp-session's
/// `key_factory`.
///
/// Any `Fn() -> String` is a key factory (as in Python); it then accepts cookie values of 1 to 128
/// characters that a cookie carries unquoted (letters, digits, ``!#$%&'*+-.^_`|~:``). Implement the
/// trait for a tighter check.
pub trait KeyFactory: Send + Sync + 'static {
    /// The id of a new session.
    fn new_id(&self) -> Result<String, BoxError>;

    /// Whether `id`, read from a cookie, can be an id this factory made.
    fn accepts(&self, id: &str) -> bool;
}

/// The default ids: 32 lowercase hex characters of 128 bits from the operating system's CSPRNG.
///
/// Same shape as aiohttp-session's `uuid.uuid4().hex`, so Python peers take them as they are, but all
/// 128 bits are random (a UUIDv4 has 122). Only ids of exactly this shape are accepted.
///
/// ```
/// use session_core::server_side::{KeyFactory, RandomHexIds};
///
/// let id = RandomHexIds.new_id()?;
/// assert_eq!(id.len(), 32);
/// assert!(RandomHexIds.accepts(&id));
/// assert!(!RandomHexIds.accepts("0123456789ABCDEF0123456789ABCDEF"));
/// # Ok::<(), session_core::BoxError>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomHexIds;

impl KeyFactory for RandomHexIds {
    fn new_id(&self) -> Result<String, BoxError> {
        Ok(random_hex::<16>()?)
    }

    fn accepts(&self, id: &str) -> bool {
        id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
}

impl<F> KeyFactory for F
where
    F: Fn() -> String + Send + Sync + 'static,
{
    fn new_id(&self) -> Result<String, BoxError> {
        Ok(self())
    }

    fn accepts(&self, id: &str) -> bool {
        (1..=128).contains(&id.len()) && id.bytes().all(is_legal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_distinct_lowercase_hex() {
        let ids: std::collections::HashSet<String> = (0..100).map(|_| RandomHexIds.new_id().unwrap()).collect();
        assert_eq!(ids.len(), 100);
        assert!(ids.iter().all(|id| RandomHexIds.accepts(id)));
    }

    #[test]
    fn random_ids_accept_only_their_shape() {
        assert!(RandomHexIds.accepts("0123456789abcdef0123456789abcdef"));
        for id in ["", "0123456789abcdef", "0123456789abcdef0123456789abcdeg", "0123456789abcdef0123456789abcdef0"] {
            assert!(!RandomHexIds.accepts(id), "{id}");
        }
    }

    #[test]
    fn closure_factories_accept_bare_cookie_values() {
        let factory = || "test-key".to_owned();
        assert_eq!(factory.new_id().unwrap(), "test-key");
        assert!(factory.accepts("test-key"));
        assert!(!factory.accepts("has space"));
        assert!(!factory.accepts(""));
        assert!(!factory.accepts(&"a".repeat(129)));
    }
}

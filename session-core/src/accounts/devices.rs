//! A user's devices: the sessions they are logged in to, listed and ended one by one.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;

use super::hash_hex;
use crate::error::Error;
use crate::session::SessionState;
use crate::storage::AbstractStorage;

/// A storage that lists a user's devices and ends them one by one, as a trait object: what the
/// conformance suite checks of anyone's storage. Applications call the storage's own methods
/// ([`ServerSideStorage::devices`](crate::server_side::ServerSideStorage::devices) and
/// [`end_device`](crate::server_side::ServerSideStorage::end_device)), with nothing to import.
#[async_trait]
pub trait Devices: AbstractStorage {
    /// The sessions `user` is logged in to, one per device.
    async fn devices(&self, user: &str) -> Result<Vec<Device>, Error>;

    /// Ends the session of `user` that `device` names; `false` when there is none.
    async fn end_device(&self, user: &str, device: &DeviceId) -> Result<bool, Error>;
}

/// `<user key>_sessions`: the index of a user's sessions, beside their epoch.
pub(crate) fn user_index_key(user_key: &str) -> String {
    format!("{user_key}_sessions")
}

/// One of a user's sessions, as their list of devices shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Device {
    /// What ends it ([`end_device`](crate::server_side::ServerSideStorage::end_device)): a hash of
    /// the session id, which cannot be used as a cookie.
    pub id: DeviceId,
    /// Unix seconds of the login.
    pub logged_in: Option<i64>,
    /// Unix seconds of the last write or refresh of the session.
    pub last_seen: i64,
    /// The app's label for it ([`SessionState::set_device_label`]), e.g. the browser's user agent.
    pub label: Option<String>,
}

/// The handle of a device: 32 hex characters of the SHA-256 of its session id. It names the session in
/// a list of devices and in a request to end one, and is worth nothing as a cookie.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeviceId(String);

impl DeviceId {
    /// The handle of the session `id` (a handle's `id()`): what tells the current device in a list.
    pub fn of(session_id: &str) -> Self {
        DeviceId(hash_hex(session_id))
    }

    /// The handle as text, for a page or a form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a text is not a device handle.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a device handle is 32 lowercase hex characters")]
pub struct NotADeviceId;

/// Reads a handle back from a form or a path (32 lowercase hex characters).
impl FromStr for DeviceId {
    type Err = NotADeviceId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let valid = text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| DeviceId(text.to_owned())).ok_or(NotADeviceId)
    }
}

/// The device of the session `id`, as it was stored.
pub(crate) fn device_of(id: &str, session: &SessionState) -> Device {
    Device {
        id: DeviceId::of(id),
        logged_in: session.started(),
        last_seen: session.created(),
        label: session.device_label().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_handle_is_a_fixed_length_hash_that_reads_back() {
        let id = DeviceId::of("0123456789abcdef0123456789abcdef");
        assert_eq!(id.as_str().len(), 32);
        assert_ne!(id.as_str(), "0123456789abcdef0123456789abcdef", "not the session id");
        assert_eq!(id.as_str().parse::<DeviceId>(), Ok(id.clone()));
        assert_eq!(id.to_string(), id.as_str(), "shown as the same text a form sends back");
        assert_eq!(DeviceId::of("another"), DeviceId::of("another"));
        assert_ne!(DeviceId::of("another"), id);
        for bad in ["", "ABCDEF0123456789abcdef0123456789", "0123"] {
            assert_eq!(bad.parse::<DeviceId>(), Err(NotADeviceId), "{bad}");
        }
    }
}

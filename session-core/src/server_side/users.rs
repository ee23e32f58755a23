//! Log a user out everywhere: the per-user marker (see the `server_side` module docs).

use std::time::Duration;

use super::backend::{Condition, KeyValueBackend};
use super::deadline::Deadline;
use super::entries::{DEFAULT_ENTRY_TTL, Entries};
use super::ids::push_hex;
use crate::error::Error;
use crate::session::SessionState;

/// [`AbstractStorage::log_out_everywhere`](crate::AbstractStorage::log_out_everywhere): the marker
/// for `user`, now.
pub(super) async fn mark_logged_out(
    backend: &impl KeyValueBackend,
    entries: &Entries,
    user: &str,
    deadline: &Deadline,
) -> Result<(), Error> {
    let key = user_key(entries, user);
    if !backend.accepts_key(&key) {
        return Err(Error::Encode(
            format!("a user name of {} bytes is too long for this store's keys", user.len()).into(),
        ));
    }
    let now = entries.config.clock().now_millis().to_string();
    deadline.run(backend.store(&key, now.as_bytes(), marker_ttl(entries), Condition::Always)).await?;
    Ok(())
}

/// Whether `session` belongs to a user who was logged out everywhere after it was attached.
pub(super) async fn is_revoked(
    backend: &impl KeyValueBackend,
    entries: &Entries,
    session: &SessionState,
    deadline: &Deadline,
) -> Result<bool, Error> {
    let Some(user) = session.user() else {
        return Ok(false);
    };
    let key = user_key(entries, user);
    // A user name too long for a key can never have been logged out everywhere.
    if !backend.accepts_key(&key) {
        return Ok(false);
    }
    let Some(marker) = deadline.run(backend.load(&key)).await? else {
        return Ok(false);
    };
    let logged_out_at = std::str::from_utf8(&marker).ok().and_then(|text| text.parse::<i64>().ok());
    Ok(match (logged_out_at, session.user_since()) {
        (Some(at), Some(since)) => since < at,
        // A marker we cannot read, or a session that does not say when: end it, to be safe.
        _ => true,
    })
}

/// `<prefix><cookie_name>_user_<hex>`: hex, so any user name makes a valid key everywhere.
fn user_key(entries: &Entries, user: &str) -> String {
    let mut hex = String::with_capacity(2 * user.len());
    push_hex(&mut hex, user.as_bytes());
    entries.key_with(&hex, "user_")
}

/// How long a marker must live: as long as the longest entry the storage writes between two writes,
/// so no session attached before the marker outlives it; forever when entries may live forever (no
/// limit in the policy and no default TTL, as the app asked). A session whose own `set_max_age`
/// exceeds every limit of the storage is the one case this cannot bound.
fn marker_ttl(entries: &Entries) -> Option<Duration> {
    let expiry = entries.config.expiry();
    let limits = [expiry.max_age(), expiry.idle_timeout(), expiry.absolute_timeout(), entries.default_ttl];
    if limits.iter().all(Option::is_none) {
        return None;
    }
    limits.into_iter().flatten().chain([DEFAULT_ENTRY_TTL]).max()
}

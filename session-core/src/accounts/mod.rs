//! Accounts: who is logged in to a session, ending every session of a user at once
//! (log-out-everywhere), and listing and ending a user's sessions one by one (their devices). Both
//! storage families keep what this needs in a key-value store: server-side storages in their own,
//! cookie storages in one they borrow for it ([`SealedCookieStorage::with_revocation`]).
//!
//! # Log-out-everywhere: epochs, not clocks
//!
//! Each user who was ever logged out everywhere has an *epoch* in the store: a random value under
//! `<cookie_name>_user_<hash of the user>`. A login records the epoch it finds (none at first);
//! log-out-everywhere writes a new one. A session whose recorded epoch is not the store's is over:
//! its load ends it. Nothing compares the clocks of two hosts, and the store orders the two events.
//! The epoch lives as long as the longest life a session of the storage may have, so every session it
//! must end has been loaded (and ended) or has expired before it goes; a login after it goes finds
//! none again.
//!
//! Store keys hold a hash of the user id (32 hex characters of SHA-256), never the id itself: any
//! user id fits any store's keys, and no user name shows in the store.
//!
//! [`SealedCookieStorage::with_revocation`]: crate::sealed::SealedCookieStorage::with_revocation

mod devices;
mod epochs;

pub use crate::backend::UserIndex;
pub use devices::{Device, DeviceId, Devices, NotADeviceId};
pub(crate) use devices::{device_of, user_index_key};
pub(crate) use epochs::{EpochStore, Epochs, epoch_store};

use sha2::{Digest, Sha256};

use crate::hex::push_hex;

/// 32 hex characters of the SHA-256 of `text`: 128 bits, a fixed length whatever `text` is.
pub(crate) fn hash_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(32);
    push_hex(&mut hex, &digest[..16]);
    hex
}

//! Cookie storages for [`session_core`]: the whole session travels in the cookie, nothing is kept on
//! the server.
//!
//! - [`EncryptedCookieStorage`]: Fernet-encrypted, the storage to use. Byte-compatible with
//!   aiohttp-session's `EncryptedCookieStorage`, with key rotation on top. It is
//!   [`SealedCookieStorage`](session_core::sealed::SealedCookieStorage) over the [`FernetCipher`].
//! - [`SimpleCookieStorage`]: plain JSON that the client can read and forge. Tests only.
//!
//! What a cookie storage cannot do, whatever its crypto: **revoke a cookie**. Logging out deletes the
//! cookie in the browser, but a copy taken earlier stays valid until it expires, so give these
//! storages a `max_age`. The browser also caps a cookie at about 4 KB: a session that would not fit is
//! an [`Error::CookieTooLarge`](session_core::Error::CookieTooLarge) at save time. For large sessions or
//! server-side revocation use a server-side storage. Concurrent requests are last-writer-wins (the
//! client holds the state).
//!
//! ```
//! use std::time::Duration;
//! use session_cookie::{EncryptedCookieStorage, StorageConfig};
//!
//! // In production read the key from your secrets; generate one once with
//! // `EncryptedCookieStorage::generate_key()`.
//! let storage = EncryptedCookieStorage::new(EncryptedCookieStorage::generate_key())?
//!     .with_config(StorageConfig::new().with_max_age(Duration::from_secs(7 * 24 * 3600)));
//! # Ok::<(), session_cookie::KeyError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod fernet;
mod simple;

pub use fernet::{EncryptedCookieStorage, FernetCipher};
pub use simple::SimpleCookieStorage;

/// What building the storage takes: a key, the error of a bad one, and the settings every storage has.
pub use session_core::StorageConfig;
pub use session_core::sealed::{KeyError, SecretKey};

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

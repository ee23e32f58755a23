//! Moving session bytes to and from memcached with the meta protocol: one `mg`, `ms` or `md` each.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use memcache::exp::{AsyncMetaClient, Meta, MetaClientBuilder, MutationStatus};
use session_core::{CasOutcome, Error, KeyValueBackend, Version};

use crate::error::MemcachedStorageError;

/// The default bound on connecting and on one exchange with memcached.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Longest relative expiry memcached accepts; anything longer is read as an absolute Unix time.
const THIRTY_DAYS: u64 = 30 * 24 * 3600;

/// The memcached side of [`MemcachedStorage`](crate::MemcachedStorage): the `memcache` crate's async
/// meta-protocol client over one server or several.
///
/// With several servers each key lives on one of them, chosen by rendezvous hashing: the same key
/// always goes to the same server, and adding a server moves only the keys that now hash to it (about
/// 1/n of them). Connections are pooled per server and dialed lazily, so a server that is down at start
/// is an error at the first request that needs it, not at construction.
#[derive(Clone)]
pub struct MemcachedBackend {
    client: AsyncMetaClient,
    servers: Vec<String>,
}

impl fmt::Debug for MemcachedBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemcachedBackend").field("servers", &self.servers).finish_non_exhaustive()
    }
}

impl MemcachedBackend {
    /// A backend over `servers` (`host:port`, e.g. `127.0.0.1:11211`), with [`DEFAULT_TIMEOUT`] for
    /// connecting and for each exchange. Names are resolved now; keys are routed by the names as given,
    /// so list every server the same way in every app instance.
    pub async fn connect<S: Into<String>>(servers: impl IntoIterator<Item = S>) -> Result<Self, MemcachedStorageError> {
        Self::connect_with(servers, DEFAULT_TIMEOUT).await
    }

    /// As [`connect`](Self::connect), with another timeout: no request waits longer than this for one
    /// memcached exchange.
    pub async fn connect_with<S: Into<String>>(
        servers: impl IntoIterator<Item = S>,
        timeout: Duration,
    ) -> Result<Self, MemcachedStorageError> {
        let servers: Vec<String> = servers.into_iter().map(Into::into).collect();
        let client = MetaClientBuilder::new()
            .connect_timeout(Some(timeout))
            .io_timeout(Some(timeout))
            .connect_multiple_async(servers.iter().map(String::as_str))
            .await
            .map_err(|source| MemcachedStorageError::client("connect", source))?;
        Ok(MemcachedBackend { client, servers })
    }

    /// A backend over a client you configured yourself (hashing, pool sizes, timeouts), connected to
    /// `servers`.
    pub fn from_client(client: AsyncMetaClient, servers: Vec<String>) -> Self {
        MemcachedBackend { client, servers }
    }

    /// The servers it spreads keys over.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }
}

/// memcached's key rule (aiomcache's `^[^\s\x00-\x1F\x7F-\x9F]{1,250}$`): at most 250 bytes, no white
/// space or control characters.
pub(crate) fn is_valid_key(key: &str) -> bool {
    (1..=250).contains(&key.len()) && !key.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// aiohttp-session's exptime: 0 (never) without `max_age`, `max_age` itself up to 30 days, else the
/// absolute time `now + max_age`, which is how memcached reads any value above 30 days.
pub(crate) fn exptime(max_age: Option<u64>, now: i64) -> u32 {
    match max_age {
        None => 0,
        Some(max_age) if max_age <= THIRTY_DAYS => max_age as u32,
        Some(max_age) => {
            let at = now.saturating_add(i64::try_from(max_age).unwrap_or(i64::MAX));
            u32::try_from(at).unwrap_or(u32::MAX)
        }
    }
}

#[async_trait]
impl KeyValueBackend for MemcachedBackend {
    fn name(&self) -> &'static str {
        "memcached"
    }

    fn accepts_key(&self, key: &str) -> bool {
        is_valid_key(key)
    }

    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let reply = self.client.get(key).send().await.map_err(|source| MemcachedStorageError::client("get", source))?;
        Ok(reply.value)
    }

    async fn store(&self, key: &str, payload: &[u8], max_age: Option<u64>, now: i64) -> Result<(), Error> {
        let reply = self
            .client
            .set(key, payload)
            .ttl_raw(exptime(max_age, now))
            .send()
            .await
            .map_err(|source| MemcachedStorageError::client("set", source))?;
        match reply.status {
            MutationStatus::Applied => Ok(()),
            status => Err(MemcachedStorageError::NotStored { command: "set", status: format!("{status:?}") }.into()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.client.delete(key).send().await.map_err(|source| MemcachedStorageError::client("delete", source))?;
        Ok(())
    }

    fn supports_cas(&self) -> bool {
        true
    }

    async fn load_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, Version)>, Error> {
        let reply = self
            .client
            .get(key)
            .meta(Meta::NONE.cas())
            .send()
            .await
            .map_err(|source| MemcachedStorageError::client("get", source))?;
        let cas = reply.item.cas.unwrap_or_default();
        Ok(reply.value.map(|value| (value, Version::new(cas.to_string()))))
    }

    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        max_age: Option<u64>,
        now: i64,
        expected: Option<&Version>,
    ) -> Result<CasOutcome, Error> {
        let set = self.client.set(key, payload).ttl_raw(exptime(max_age, now));
        let set = match expected {
            None => set.add(),
            Some(version) => match version.as_str().parse() {
                Ok(cas) => set.compare_cas(cas),
                // Not a version this backend made: it cannot match.
                Err(_) => return Ok(CasOutcome::Conflict),
            },
        };
        let reply = set.send().await.map_err(|source| MemcachedStorageError::client("set", source))?;
        match reply.status {
            MutationStatus::Applied => Ok(CasOutcome::Stored),
            MutationStatus::AlreadyExists | MutationStatus::CasMismatch | MutationStatus::NotFound => {
                Ok(CasOutcome::Conflict)
            }
            status => Err(MemcachedStorageError::NotStored { command: "set", status: format!("{status:?}") }.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000;

    #[test]
    fn exptime_follows_aiohttp_session() {
        assert_eq!(exptime(None, T), 0);
        assert_eq!(exptime(Some(3600), T), 3600);
        assert_eq!(exptime(Some(THIRTY_DAYS), T), THIRTY_DAYS as u32, "exactly 30 days is still relative");
        // V14 of the reference study: max_age = 31 days at T is sent as 1702678400.
        assert_eq!(exptime(Some(31 * 86_400), T), 1_702_678_400);
        assert_eq!(exptime(Some(u64::MAX), T), u32::MAX);
    }

    #[test]
    fn keys_follow_memcached_rules() {
        assert!(is_valid_key("AIOHTTP_SESSION_0123456789abcdef0123456789abcdef"));
        assert!(is_valid_key(&"k".repeat(250)));
        for key in ["", "has space", "tab\there", "new\nline", "nul\0", "del\u{7f}", "c1\u{85}"] {
            assert!(!is_valid_key(key), "{key:?}");
        }
        assert!(!is_valid_key(&"k".repeat(251)));
    }
}

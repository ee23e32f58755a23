//! Moving session bytes to and from memcached with the meta protocol: one `mg`, `ms` or `md` each.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use memcache::exp::{
    AsyncMetaClient, Delete, Get, GetResult, Meta, MetaClientBuilder, MutationResult, MutationStatus, Op, OpResult, Set,
};
use session_core::Error;
use session_core::server_side::{CasOutcome, CompareAndSet, Condition, KeyValueBackend, Versioned};
use tokio::time::Instant;

use crate::error::MemcachedStorageError;
use crate::pipeline::{Pipeline, Unanswered};

/// The default bound on a request's memcached work, connecting included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Longest relative expiry memcached accepts; anything longer is read as an absolute Unix time.
const THIRTY_DAYS: u64 = 30 * 24 * 3600;

/// The memcached side of [`MemcachedStorage`](crate::MemcachedStorage): the `memcache` crate's async
/// meta-protocol client over one server or several.
///
/// With several servers each key lives on one of them, chosen by rendezvous hashing: the same key
/// always goes to the same server, and adding a server moves only the keys that now hash to it (about
/// 1/n of them). Connections are pooled per server and dialed lazily, so a server that is down at start
/// is an error at the first request that needs it, not at construction. Exchanges that run at the
/// same time go out together, pipelined on one connection per server.
#[derive(Clone)]
pub struct MemcachedBackend {
    pipeline: Arc<Pipeline>,
    servers: Vec<String>,
    timeout: Duration,
}

impl fmt::Debug for MemcachedBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemcachedBackend")
            .field("servers", &self.servers)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl MemcachedBackend {
    /// A backend over `servers` (`host:port`, e.g. `127.0.0.1:11211`), with [`DEFAULT_TIMEOUT`] for each
    /// exchange. Names are resolved now (a name that does not resolve is an error naming it); keys are
    /// routed by the names as given, so list every server the same way in every app instance.
    pub async fn connect<S: Into<String>>(servers: impl IntoIterator<Item = S>) -> Result<Self, MemcachedStorageError> {
        let servers: Vec<String> = servers.into_iter().map(Into::into).collect();
        if servers.is_empty() {
            return Err(MemcachedStorageError::Config { server: String::new(), reason: "no server given".into() });
        }
        for server in &servers {
            check_address(server)?;
        }
        // The client's own timeouts are off: `with_timeout` bounds each exchange, connecting included.
        // The client drops a connection whose exchange is cancelled, so a timeout leaves no stray reply.
        let client = MetaClientBuilder::new()
            .connect_timeout(None)
            .io_timeout(None)
            .connect_multiple_async(servers.iter().map(String::as_str))
            .await
            .map_err(|source| MemcachedStorageError::client("connect", source))?;
        Ok(MemcachedBackend::from_client(client, servers))
    }

    /// A backend over a client you configured yourself (hashing, pool sizes), connected to `servers`.
    pub fn from_client(client: AsyncMetaClient, servers: Vec<String>) -> Self {
        MemcachedBackend { pipeline: Arc::new(Pipeline::new(client)), servers, timeout: DEFAULT_TIMEOUT }
    }

    /// Bounds everything memcached does for one request (connecting included) to `timeout`; the
    /// default is [`DEFAULT_TIMEOUT`]. The storage enforces it around every exchange, so a request
    /// never waits longer than this for memcached.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The servers it spreads keys over.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// Runs one operation within the timeout.
    async fn exchange(&self, command: &'static str, op: impl Into<Op>) -> Result<OpResult, MemcachedStorageError> {
        match self.pipeline.run(op, Instant::now() + self.timeout).await {
            Ok(result) => Ok(result),
            Err(Unanswered::Failed(source)) => Err(MemcachedStorageError::client(command, source)),
            Err(Unanswered::TimedOut) => Err(MemcachedStorageError::Timeout { command, timeout: self.timeout }),
        }
    }

    async fn get(&self, get: Get) -> Result<GetResult, MemcachedStorageError> {
        match self.exchange("get", get).await? {
            OpResult::Get(result) => Ok(result),
            other => Err(unexpected("get", &other)),
        }
    }

    async fn set(&self, set: Set) -> Result<MutationResult, MemcachedStorageError> {
        match self.exchange("set", set).await? {
            OpResult::Mutation(result) => Ok(result),
            other => Err(unexpected("set", &other)),
        }
    }
}

/// A reply of another kind than the operation sent (the client pairs them; not expected).
fn unexpected(command: &'static str, reply: &OpResult) -> MemcachedStorageError {
    let reply = match reply {
        OpResult::Get(_) => "a get reply",
        OpResult::Mutation(_) => "a mutation reply",
        _ => "another reply",
    };
    MemcachedStorageError::NotStored { command, status: format!("memcached answered with {reply}") }
}

/// `host:port` with a port number; the host is resolved by the client.
fn check_address(server: &str) -> Result<(), MemcachedStorageError> {
    let refuse = |reason: &str| MemcachedStorageError::Config { server: server.to_owned(), reason: reason.to_owned() };
    let (host, port) = server.rsplit_once(':').ok_or_else(|| refuse("expected host:port, e.g. 127.0.0.1:11211"))?;
    if host.is_empty() {
        return Err(refuse("the host is empty"));
    }
    port.parse::<u16>().map_err(|_| refuse("the port is not a number from 0 to 65535"))?;
    Ok(())
}

/// memcached's key rule (aiomcache's `^[^\s\x00-\x1F\x7F-\x9F]{1,250}$`): at most 250 bytes, no white
/// space or control characters.
pub(crate) fn is_valid_key(key: &str) -> bool {
    (1..=250).contains(&key.len()) && !key.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// aiohttp-session's exptime: 0 (never) without a TTL, the TTL itself up to 30 days, else the absolute
/// time `now + ttl`, which is how memcached reads any value above 30 days.
pub(crate) fn exptime(ttl: Option<Duration>, now: i64) -> u32 {
    match ttl.map(|ttl| ttl.as_secs()) {
        None => 0,
        // 0 would mean "never"; the shortest expiry is one second.
        Some(seconds) if seconds <= THIRTY_DAYS => seconds.max(1) as u32,
        Some(seconds) => {
            let at = now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
            u32::try_from(at).unwrap_or(u32::MAX)
        }
    }
}

/// Now by the wall clock, as memcached reads an absolute exptime.
fn unix_now() -> i64 {
    session_core::Clock::system().now()
}

#[async_trait]
impl KeyValueBackend for MemcachedBackend {
    /// memcached's CAS value.
    type Token = u64;

    fn name(&self) -> &'static str {
        "memcached"
    }

    fn accepts_key(&self, key: &str) -> bool {
        is_valid_key(key)
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = u64>> {
        Some(self)
    }

    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.get(Get::new(key)).await?.value)
    }

    /// `ms` in add mode (`ME`) for a new id, replace mode (`MR`) for an update, set mode otherwise.
    async fn store(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        condition: Condition,
    ) -> Result<bool, Error> {
        let set = Set::new(key, payload).ttl_raw(exptime(ttl, unix_now()));
        let set = match condition {
            Condition::IfAbsent => set.add(),
            Condition::IfPresent => set.replace(),
            Condition::Always => set,
        };
        match self.set(set).await?.status {
            MutationStatus::Applied => Ok(true),
            // `NS`: the add found an item, the replace found none.
            MutationStatus::AlreadyExists | MutationStatus::NotFound => Ok(false),
            status => Err(MemcachedStorageError::NotStored { command: "set", status: format!("{status:?}") }.into()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.exchange("delete", Delete::new(key)).await?;
        Ok(())
    }
}

/// `mg … c` to load with the CAS value, `ms … C<cas>` to store only over it.
#[async_trait]
impl CompareAndSet for MemcachedBackend {
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<u64>>, Error> {
        let reply = self.get(Get::new(key).meta(Meta::NONE.cas())).await?;
        let token = reply.item.cas.unwrap_or_default();
        Ok(reply.value.map(|bytes| Versioned { bytes, token }))
    }

    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: &Versioned<u64>,
    ) -> Result<CasOutcome<u64>, Error> {
        let set = Set::new(key, payload).ttl_raw(exptime(ttl, unix_now())).return_cas().compare_cas(expected.token);
        let reply = self.set(set).await?;
        match reply.status {
            MutationStatus::Applied => Ok(CasOutcome::Stored(reply.cas.unwrap_or_default())),
            MutationStatus::CasMismatch | MutationStatus::NotFound => Ok(CasOutcome::Conflict),
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
        let ttl = |seconds: u64| Some(Duration::from_secs(seconds));
        assert_eq!(exptime(None, T), 0);
        assert_eq!(exptime(ttl(3600), T), 3600);
        assert_eq!(exptime(ttl(THIRTY_DAYS), T), THIRTY_DAYS as u32, "exactly 30 days is still relative");
        // What aiohttp-session sends for max_age = 31 days at T (an absolute time).
        assert_eq!(exptime(ttl(31 * 86_400), T), 1_702_678_400);
        assert_eq!(exptime(ttl(u64::MAX), T), u32::MAX);
        assert_eq!(exptime(Some(Duration::from_millis(10)), T), 1, "never 0, which means no expiry");
    }

    #[test]
    fn addresses_are_checked_before_connecting() {
        assert!(check_address("127.0.0.1:11211").is_ok());
        assert!(check_address("cache.internal:11211").is_ok());
        for bad in ["nohost", ":11211", "host:port", "host:99999"] {
            let error = check_address(bad).unwrap_err().to_string();
            assert!(error.contains(bad), "{error}");
        }
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

//! Moving session bytes to and from Redis: `GET`, `SET … [EX] [NX|XX]`, `DEL`, one round trip each,
//! and the compare-and-set of merging saves.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis::aio::{ConnectionLike, MultiplexedConnection};
use deadpool_redis::redis::{
    Cmd, ErrorKind, FromRedisValue, Pipeline, RedisError, RedisFuture, Script, ScriptInvocation, ServerErrorKind,
    Value, cmd,
};
use deadpool_redis::{PoolConfig, Runtime, Timeouts};
use session_core::Error;
use session_core::accounts::UserIndex;
use session_core::server_side::{CasOutcome, CompareAndSet, Condition, KeyValueBackend, Versioned};

use crate::error::RedisStorageError;

/// The default bound on a request's Redis work, connection included: the server-side default.
pub use session_core::server_side::DEFAULT_TIMEOUT;

/// Longest `EX` sent: Redis refuses expiries that overflow its millisecond clock.
const MAX_EXPIRY: u64 = i32::MAX as u64;

/// The Redis side of [`RedisStorage`](crate::RedisStorage): a deadpool-redis pool, single node or
/// cluster.
///
/// Pooled Redis connections are multiplexed: one carries any number of concurrent commands. So the
/// backend takes one connection from the pool and shares it (cheap clones) across requests, instead of
/// checking one out per command, which deadpool-redis would precede with a `PING` round trip. When that
/// connection breaks (Redis restarted), the command is retried once on a fresh connection from the pool,
/// so a restart costs no failed request once Redis answers again.
#[derive(Clone)]
pub struct RedisBackend {
    inner: Arc<Inner>,
    timeout: Duration,
}

struct Inner {
    pool: Pool,
    shared: Mutex<Option<Connection>>,
    /// Whether the server has the native conditional `SET … IFEQ`: unknown until the first connection.
    ifeq: AtomicU8,
}

const IFEQ_UNKNOWN: u8 = 0;
const IFEQ_NO: u8 = 1;
const IFEQ_YES: u8 = 2;

enum Pool {
    Single(deadpool_redis::Pool),
    #[cfg(feature = "cluster")]
    Cluster(deadpool_redis::cluster::Pool),
}

#[derive(Clone)]
enum Connection {
    Single(MultiplexedConnection),
    #[cfg(feature = "cluster")]
    Cluster(deadpool_redis::redis::cluster_async::ClusterConnection),
}

/// One kind of connection for commands and scripts, whatever the pool.
impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, command: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(connection) => connection.req_packed_command(command),
            #[cfg(feature = "cluster")]
            Connection::Cluster(connection) => connection.req_packed_command(command),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "cluster")]
            Connection::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(connection) => connection.get_db(),
            #[cfg(feature = "cluster")]
            Connection::Cluster(connection) => connection.get_db(),
        }
    }
}

/// What one Redis round trip sends: a command, or the compare-and-set script.
enum Request<'a> {
    Command(&'a Cmd),
    Script(&'a ScriptInvocation<'a>),
}

impl Request<'_> {
    async fn send<T: FromRedisValue>(&self, connection: &mut Connection) -> Result<T, RedisError> {
        match self {
            Request::Command(command) => command.query_async(connection).await,
            Request::Script(invocation) => invocation.invoke_async(connection).await,
        }
    }
}

/// Sets `KEYS[1]` to `ARGV[2]` (with `EX ARGV[3]` unless empty) only if it still holds exactly the
/// bytes `ARGV[1]`; returns 1 if it wrote. The stored value stays the bare payload, exactly what a
/// Python peer reads and writes. Comparing the bytes costs Redis less than hashing them: see
/// BENCHMARKS.md for `usec_per_call` of both.
const COMPARE_AND_SET: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return 1
";

static COMPARE_AND_SET_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(COMPARE_AND_SET));

/// Adds `ARGV[1]` to the set `KEYS[1]` (a user's sessions) and, unless `ARGV[2]` is empty, has the set
/// expire in `ARGV[2]` seconds: one round trip, and a set that outlives every session it lists.
const INDEX_ADD: &str = r"
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
";

static INDEX_ADD_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(INDEX_ADD));

/// Whether `INFO server` describes a server with `SET … IFEQ`: Valkey from 8.1, Redis from 8.4.
fn has_ifeq(info: &str) -> bool {
    let version = |field: &str| {
        info.lines().find_map(|line| line.strip_prefix(field)).map(|version| {
            let mut parts = version.trim().split('.').map(|part| part.parse::<u32>().unwrap_or(0));
            (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
        })
    };
    match version("valkey_version:") {
        Some(valkey) => valkey >= (8, 1),
        None => version("redis_version:").is_some_and(|redis| redis >= (8, 4)),
    }
}

/// Warns, once per backend, when the server may evict keys under memory pressure
/// (`maxmemory-policy` other than `noeviction`): an evicted session logs its visitor out, and an
/// evicted log-out-everywhere epoch lets the sessions it ended come back. A server that will not say
/// (managed services often refuse `CONFIG`) is left alone, with a debug line.
async fn warn_if_evicting(mut connection: Connection) {
    let reply: Result<HashMap<String, String>, RedisError> =
        cmd("CONFIG").arg("GET").arg("maxmemory-policy").query_async(&mut connection).await;
    match reply.as_ref().map(|config| config.get("maxmemory-policy").map(String::as_str)) {
        Ok(Some("noeviction")) => {}
        Ok(Some(policy)) => tracing::warn!(
            policy,
            "Redis may evict session keys under memory pressure: an evicted session logs its visitor out, an \
             evicted log-out-everywhere epoch brings ended sessions back; set maxmemory-policy noeviction"
        ),
        Ok(None) => tracing::debug!("Redis did not name its maxmemory-policy"),
        Err(error) => tracing::debug!(error = %error, "Redis did not answer CONFIG GET maxmemory-policy"),
    }
}

/// Whether an `INFO server` reply describes servers with `SET … IFEQ`: one node's text, or a
/// cluster's map of every primary's text (then every one of them must have it).
fn reply_has_ifeq(reply: &Value) -> bool {
    match reply {
        Value::Map(nodes) => !nodes.is_empty() && nodes.iter().all(|(_, info)| reply_has_ifeq(info)),
        Value::BulkString(bytes) => std::str::from_utf8(bytes).is_ok_and(has_ifeq),
        Value::VerbatimString { text, .. } | Value::SimpleString(text) => has_ifeq(text),
        _ => false,
    }
}

/// `SET key payload [EX seconds]`, to which the conditional forms add `NX`, `XX` or `IFEQ`.
fn set_command(key: &str, payload: &[u8], ttl: Option<Duration>) -> Cmd {
    let mut set = cmd("SET");
    set.arg(key).arg(payload);
    if let Some(ttl) = ttl {
        set.arg("EX").arg(expiry_seconds(ttl));
    }
    set
}

/// `EX` seconds for a TTL: at least 1 (Redis refuses 0), at most what Redis's millisecond clock holds.
fn expiry_seconds(ttl: Duration) -> u64 {
    ttl.as_secs().clamp(1, MAX_EXPIRY)
}

impl fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.inner.pool {
            Pool::Single(_) => "single node",
            #[cfg(feature = "cluster")]
            Pool::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisBackend").field("pool", &kind).field("timeout", &self.timeout).finish()
    }
}

impl From<deadpool_redis::Pool> for RedisBackend {
    fn from(pool: deadpool_redis::Pool) -> Self {
        RedisBackend::with_pool(Pool::Single(pool))
    }
}

#[cfg(feature = "cluster")]
#[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
impl From<deadpool_redis::cluster::Pool> for RedisBackend {
    fn from(pool: deadpool_redis::cluster::Pool) -> Self {
        RedisBackend::with_pool(Pool::Cluster(pool))
    }
}

/// Bounded waits for the pools this crate builds, so a Redis that hangs cannot hold a request forever.
fn pool_config() -> PoolConfig {
    let timeouts =
        Timeouts { wait: Some(DEFAULT_TIMEOUT), create: Some(DEFAULT_TIMEOUT), recycle: Some(DEFAULT_TIMEOUT) };
    PoolConfig { timeouts, ..PoolConfig::default() }
}

impl RedisBackend {
    fn with_pool(pool: Pool) -> Self {
        let inner = Inner { pool, shared: Mutex::new(None), ifeq: AtomicU8::new(IFEQ_UNKNOWN) };
        RedisBackend { inner: Arc::new(inner), timeout: DEFAULT_TIMEOUT }
    }

    /// A backend on a new pool for the Redis at `url` (`redis://[[user]:password@]host:port[/db]`), with
    /// bounded connection waits.
    ///
    /// `rediss://` (Redis over TLS, as managed Redis services require) takes the `tls` feature; the
    /// server's certificate is then checked against the system's trust store (`SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` are honoured). Without the feature such a URL is refused here, naming it.
    pub fn from_url(url: &str) -> Result<Self, RedisStorageError> {
        refuse_tls_without_feature(url)?;
        tls::install_crypto_provider();
        let mut config = deadpool_redis::Config::from_url(url);
        config.pool = Some(pool_config());
        let pool = config.create_pool(Some(Runtime::Tokio1)).map_err(|e| RedisStorageError::Config(e.into()))?;
        Ok(pool.into())
    }

    /// A backend for the Redis at the `rediss://` `url` whose certificate is checked against
    /// `certificates.root_cert` (a private CA, in PEM) instead of the system's trust store, and which
    /// presents `certificates.client_tls` when the server asks for a client certificate (mutual TLS).
    ///
    /// ```no_run
    /// use deadpool_redis::redis::TlsCertificates;
    /// use session_redis::RedisBackend;
    ///
    /// let ca = std::fs::read("/etc/redis/ca.pem")?;
    /// let certificates = TlsCertificates { client_tls: None, root_cert: Some(ca) };
    /// let backend = RedisBackend::from_url_with_certificates("rediss://app:secret@redis:6380", certificates)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn from_url_with_certificates(
        url: &str,
        certificates: deadpool_redis::redis::TlsCertificates,
    ) -> Result<Self, RedisStorageError> {
        tls::install_crypto_provider();
        let client = deadpool_redis::redis::Client::build_with_tls(url, certificates)
            .map_err(|e| RedisStorageError::Config(e.into()))?;
        // The connection info carries the certificates; deadpool's own `Config` would drop them.
        let manager = deadpool_redis::Manager::new(client.get_connection_info().clone())
            .map_err(|e| RedisStorageError::Config(e.into()))?;
        let pool = deadpool_redis::Pool::builder(manager)
            .config(pool_config())
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| RedisStorageError::Config(e.into()))?;
        Ok(pool.into())
    }

    /// A backend on a new pool for the Redis Cluster that the node `urls` belong to.
    #[cfg(feature = "cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
    pub fn from_cluster_urls(urls: Vec<String>) -> Result<Self, RedisStorageError> {
        for url in &urls {
            refuse_tls_without_feature(url)?;
        }
        tls::install_crypto_provider();
        let mut config = deadpool_redis::cluster::Config::from_urls(urls);
        config.pool = Some(pool_config());
        let pool = config.create_pool(Some(Runtime::Tokio1)).map_err(|e| RedisStorageError::Config(e.into()))?;
        Ok(pool.into())
    }

    /// Bounds everything Redis does for one request (getting a connection included) to `timeout`;
    /// the default is [`DEFAULT_TIMEOUT`]. The storage enforces it around every command, so a request
    /// never waits longer than this for Redis.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The shared connection, or a new one from the pool.
    async fn connection(&self) -> Result<Connection, RedisStorageError> {
        if let Some(connection) = self.inner.shared.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            return Ok(connection);
        }
        let connection = match &self.inner.pool {
            Pool::Single(pool) => Connection::Single((*pool.get().await.map_err(RedisStorageError::Pool)?).clone()),
            #[cfg(feature = "cluster")]
            Pool::Cluster(pool) => Connection::Cluster((*pool.get().await.map_err(cluster_pool_error)?).clone()),
        };
        *self.inner.shared.lock().unwrap_or_else(PoisonError::into_inner) = Some(connection.clone());
        if self.inner.ifeq.load(Ordering::Relaxed) == IFEQ_UNKNOWN {
            self.detect_ifeq(connection.clone()).await;
            warn_if_evicting(connection.clone()).await;
        }
        Ok(connection)
    }

    /// Asks the server, once, whether it has `SET … IFEQ` (Valkey 8.1+, Redis 8.4+): then a merging
    /// save is a plain `SET` instead of a Lua script. A server that will not say is taken to have none.
    async fn detect_ifeq(&self, mut connection: Connection) {
        let info: Result<Value, RedisError> = cmd("INFO").arg("server").query_async(&mut connection).await;
        let supported = info.is_ok_and(|info| reply_has_ifeq(&info));
        self.inner.ifeq.store(if supported { IFEQ_YES } else { IFEQ_NO }, Ordering::Relaxed);
    }

    fn forget_connection(&self) {
        self.inner.shared.lock().unwrap_or_else(PoisonError::into_inner).take();
    }

    /// Runs `command` on the shared connection; if the connection turns out broken, once more on a
    /// fresh one.
    async fn run<T: FromRedisValue>(&self, name: &'static str, command: &Cmd) -> Result<T, RedisStorageError> {
        self.send(name, Request::Command(command)).await
    }

    /// Sends `request`, retrying once on a fresh connection if the shared one is broken. Every request
    /// this storage sends is idempotent (a compare-and-set that did apply then reports a conflict, and
    /// the merge re-applies the same changes), so the retry is safe. The storage bounds the call with
    /// the request's deadline; one dropped before its reply (the deadline passed) leaves a connection
    /// that may have gone silent, which the next request does not trust.
    async fn send<T: FromRedisValue>(&self, name: &'static str, request: Request<'_>) -> Result<T, RedisStorageError> {
        let mut unanswered = Unanswered { backend: self, armed: true };
        let mut connection = self.connection().await?;
        let reply = match request.send(&mut connection).await {
            Ok(reply) => Ok(reply),
            Err(error) if is_broken_connection(&error) => {
                self.forget_connection();
                let mut fresh = self.connection().await?;
                request.send(&mut fresh).await.map_err(|source| {
                    self.forget_connection();
                    RedisStorageError::Command { command: name, source }
                })
            }
            Err(source) => Err(RedisStorageError::Command { command: name, source }),
        };
        unanswered.armed = false;
        reply
    }
}

/// Forgets the shared connection when a command is dropped before its reply.
struct Unanswered<'a> {
    backend: &'a RedisBackend,
    armed: bool,
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.backend.forget_connection();
        }
    }
}

#[cfg(feature = "cluster")]
fn cluster_pool_error(error: deadpool_redis::cluster::PoolError) -> RedisStorageError {
    use deadpool_redis::cluster::PoolError as Cluster;
    // Both pool error types carry the same cases; keep one public type for callers to match on.
    RedisStorageError::Pool(match error {
        Cluster::Timeout(kind) => deadpool_redis::PoolError::Timeout(kind),
        Cluster::Backend(e) => deadpool_redis::PoolError::Backend(e),
        Cluster::Closed => deadpool_redis::PoolError::Closed,
        Cluster::NoRuntimeSpecified => deadpool_redis::PoolError::NoRuntimeSpecified,
        Cluster::PostCreateHook(e) => deadpool_redis::PoolError::PostCreateHook(e),
    })
}

/// A `rediss://` URL without the `tls` feature would fail deep in the client with a message about a
/// feature of a crate the app never named; say which of ours to turn on.
fn refuse_tls_without_feature(url: &str) -> Result<(), RedisStorageError> {
    refuse_tls_unless(url, cfg!(feature = "tls"))
}

fn refuse_tls_unless(url: &str, tls_compiled: bool) -> Result<(), RedisStorageError> {
    let is_tls = url.get(..9).is_some_and(|scheme| scheme.eq_ignore_ascii_case("rediss://"));
    if is_tls && !tls_compiled {
        return Err(RedisStorageError::Config(
            "a `rediss://` URL (Redis over TLS) needs the `tls` feature of session-redis".into(),
        ));
    }
    Ok(())
}

#[cfg(feature = "tls")]
mod tls {
    /// rustls needs one process-wide crypto provider; with ours (ring) and another crate's (aws-lc-rs)
    /// both compiled in, it cannot pick one and the first TLS connection would panic. Installing ring
    /// when the app has installed none keeps that choice with the app if it made one.
    pub(super) fn install_crypto_provider() {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race to another installer is fine: a provider is then installed.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    }
}

#[cfg(not(feature = "tls"))]
mod tls {
    pub(super) fn install_crypto_provider() {}
}

fn is_broken_connection(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
}

#[async_trait]
impl KeyValueBackend for RedisBackend {
    /// Redis compares the stored bytes themselves, so the token carries nothing.
    type Token = ();

    fn name(&self) -> &'static str {
        "redis"
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn compare_and_set(&self) -> Option<&dyn CompareAndSet<Token = ()>> {
        Some(self)
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.run("GET", cmd("GET").arg(key)).await?)
    }

    async fn store(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        condition: Condition,
    ) -> Result<bool, Error> {
        let mut set = set_command(key, payload, ttl);
        match condition {
            Condition::IfAbsent => set.arg("NX"),
            Condition::IfPresent => set.arg("XX"),
            Condition::Always => &mut set,
        };
        match self.run::<Value>("SET", &set).await? {
            Value::Okay => Ok(true),
            Value::SimpleString(ok) if ok == "OK" => Ok(true),
            // The condition did not hold.
            Value::Nil => Ok(false),
            other => Err(RedisStorageError::UnexpectedReply { command: "SET", reply: format!("{other:?}") }.into()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.run::<i64>("DEL", cmd("DEL").arg(key)).await?;
        Ok(())
    }
}

#[async_trait]
impl CompareAndSet for RedisBackend {
    async fn load_versioned(&self, key: &str) -> Result<Option<Versioned<()>>, Error> {
        Ok(self.load(key).await?.map(|bytes| Versioned { bytes, token: () }))
    }

    async fn store_if(
        &self,
        key: &str,
        payload: &[u8],
        ttl: Option<Duration>,
        expected: &Versioned<()>,
    ) -> Result<CasOutcome<()>, Error> {
        let stored = if self.inner.ifeq.load(Ordering::Relaxed) == IFEQ_YES {
            let mut set = set_command(key, payload, ttl);
            set.arg("IFEQ").arg(&expected.bytes[..]);
            match self.run::<Value>("SET", &set).await {
                Ok(reply) => !matches!(reply, Value::Nil),
                // A server that refuses IFEQ after all (a failover to an older one) answers `ERR` (a
                // syntax error): the script from now on. A passing condition (`LOADING`, `READONLY`,
                // `TRYAGAIN`…) is an error of this save only.
                Err(RedisStorageError::Command { source, .. })
                    if source.kind() == ErrorKind::Server(ServerErrorKind::ResponseError) =>
                {
                    self.inner.ifeq.store(IFEQ_NO, Ordering::Relaxed);
                    return self.store_if(key, payload, ttl, expected).await;
                }
                Err(error) => return Err(error.into()),
            }
        } else {
            let mut invocation = COMPARE_AND_SET_SCRIPT.prepare_invoke();
            invocation
                .key(key)
                .arg(&expected.bytes[..])
                .arg(payload)
                .arg(ttl.map(|ttl| expiry_seconds(ttl).to_string()).unwrap_or_default());
            self.send::<i64>("EVALSHA", Request::Script(&invocation)).await? == 1
        };
        Ok(if stored { CasOutcome::Stored(()) } else { CasOutcome::Conflict })
    }
}

/// A user's sessions as a Redis set beside their epoch: `SADD` (with the set's expiry, in one script),
/// `SMEMBERS`, `SREM`. One key per command, so a Redis Cluster routes each.
#[async_trait]
impl UserIndex for RedisBackend {
    async fn index_add(&self, key: &str, id: &str, ttl: Option<Duration>) -> Result<(), Error> {
        let mut invocation = INDEX_ADD_SCRIPT.prepare_invoke();
        invocation.key(key).arg(id).arg(ttl.map(|ttl| expiry_seconds(ttl).to_string()).unwrap_or_default());
        self.send::<i64>("EVALSHA", Request::Script(&invocation)).await?;
        Ok(())
    }

    async fn index_members(&self, key: &str) -> Result<Vec<String>, Error> {
        Ok(self.run("SMEMBERS", cmd("SMEMBERS").arg(key)).await?)
    }

    async fn index_remove(&self, key: &str, id: &str) -> Result<(), Error> {
        self.run::<i64>("SREM", cmd("SREM").arg(key).arg(id)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_url_without_the_feature_names_the_feature() {
        for url in ["rediss://127.0.0.1:6380", "REDISS://app:secret@cache:6380/0"] {
            let error = refuse_tls_unless(url, false).expect_err(url).to_string();
            let source = std::error::Error::source(&refuse_tls_unless(url, false).unwrap_err()).unwrap().to_string();
            assert!(source.contains("`tls` feature of session-redis"), "{error}: {source}");
            assert!(!source.contains("secret"), "{source}");
            assert!(refuse_tls_unless(url, true).is_ok());
        }
        assert!(refuse_tls_unless("redis://127.0.0.1:6379", false).is_ok());
        assert!(refuse_tls_unless("redis", false).is_ok());
    }

    #[test]
    fn ifeq_is_found_from_valkey_8_1_and_redis_8_4() {
        let info = |fields: &str| format!("# Server\r\n{fields}\r\nredis_mode:standalone\r\n");
        assert!(has_ifeq(&info("redis_version:7.2.4\r\nvalkey_version:9.1.2")));
        assert!(has_ifeq(&info("redis_version:7.2.4\r\nvalkey_version:8.1.0")));
        assert!(!has_ifeq(&info("redis_version:7.2.4\r\nvalkey_version:8.0.1")));
        assert!(has_ifeq(&info("redis_version:8.4.0")));
        assert!(!has_ifeq(&info("redis_version:8.2.1")));
        assert!(!has_ifeq(&info("redis_version:7.0.15")));
        assert!(!has_ifeq(""));
    }

    #[test]
    fn a_cluster_has_ifeq_only_if_every_primary_has_it() {
        let node = |version: &str| Value::BulkString(format!("# Server\r\nvalkey_version:{version}\r\n").into_bytes());
        let cluster = |versions: &[&str]| {
            Value::Map(
                versions.iter().enumerate().map(|(n, v)| (Value::SimpleString(format!("node{n}")), node(v))).collect(),
            )
        };
        assert!(reply_has_ifeq(&node("9.1.2")));
        assert!(reply_has_ifeq(&cluster(&["9.1.2", "8.1.0"])));
        assert!(!reply_has_ifeq(&cluster(&["9.1.2", "8.0.1"])));
        assert!(!reply_has_ifeq(&cluster(&[])));
        assert!(!reply_has_ifeq(&Value::Nil));
    }
}

//! The storage conformance suite: what a storage under test is ([`Suite`]), and the macro that writes
//! one test per rule for it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use session_core::accounts::Devices;
use session_core::storage::IntoStorage;
use session_core::{AbstractStorage, StorageConfig};

/// A boxed future, as the suite stores its callbacks.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What kind of storage a suite tests; it decides which rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The cookie is the payload, readable and writable by the client (`SimpleCookieStorage`).
    PlainCookie,
    /// The cookie is the payload, sealed: a changed cookie must not open.
    SealedCookie,
    /// The cookie is an id, the payload is in a store; saves overwrite (last writer wins).
    ServerSide,
    /// As `ServerSide`, and concurrent saves of one session merge (compare-and-set).
    MergingServerSide,
    /// A sealed cookie with a store lent for log-out-everywhere (`with_revocation`).
    RevocableCookie,
    /// A storage that lists a user's devices ([`Devices`]): the rules of that capability alone.
    Devices,
}

impl Kind {
    /// Whether the payload lives in a store the suite can probe.
    pub fn is_server_side(self) -> bool {
        matches!(self, Kind::ServerSide | Kind::MergingServerSide | Kind::Devices)
    }
}

/// What the store holds under one key, seen without the code under test where possible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// How long it still lives; `None` for an entry that never expires.
    pub ttl: Option<Duration>,
}

/// Builds a storage of the kind under test from the configuration a rule chooses (cookie, expiry,
/// codec, a manual clock). Every rule calls it once or more; storages it builds in one test must share
/// their store, as two processes of one app would (two storages are how the merge rules make
/// concurrent writers).
///
/// Any `Fn(StorageConfig) -> impl Future<Output = impl IntoStorage>` is a `MakeStorage` (a storage,
/// or an `Arc<dyn AbstractStorage>` when the closure picks among several).
pub trait MakeStorage: Send + Sync {
    /// A storage configured with `config`.
    fn make(&self, config: StorageConfig) -> BoxFuture<'_, Arc<dyn AbstractStorage>>;
}

impl<F, Fut, S> MakeStorage for F
where
    F: Fn(StorageConfig) -> Fut + Send + Sync,
    Fut: Future<Output = S> + Send + 'static,
    S: IntoStorage,
{
    fn make(&self, config: StorageConfig) -> BoxFuture<'_, Arc<dyn AbstractStorage>> {
        let storage = self(config);
        Box::pin(async move { storage.await.into_storage() })
    }
}

/// Builds a storage that lists a user's devices, configured with `config`, for the `devices` rules.
/// Any `Fn(StorageConfig) -> impl Future<Output = Arc<dyn Devices>>` is a `MakeDevices`.
pub trait MakeDevices: Send + Sync {
    /// A storage configured with `config`.
    fn make(&self, config: StorageConfig) -> BoxFuture<'_, Arc<dyn Devices>>;
}

impl<F, Fut> MakeDevices for F
where
    F: Fn(StorageConfig) -> Fut + Send + Sync,
    Fut: Future<Output = Arc<dyn Devices>> + Send + 'static,
{
    fn make(&self, config: StorageConfig) -> BoxFuture<'_, Arc<dyn Devices>> {
        Box::pin(self(config))
    }
}

/// Looks into the store of a server-side storage: the test-only hook through which the suite checks
/// what a user cannot see (an entry left behind after logout, an entry that never expires). Ask the
/// server directly rather than through the backend under test where you can
/// ([`RedisServer::entry`](crate::RedisServer::entry), [`MemcachedServer::entry`](crate::MemcachedServer::entry)).
///
/// Any `Fn(String) -> impl Future<Output = Option<Entry>>` is a `StoreProbe`.
pub trait StoreProbe: Send + Sync {
    /// The entry under `key`, or `None` when the store holds nothing there.
    fn entry(&self, key: String) -> BoxFuture<'_, Option<Entry>>;
}

impl<F, Fut> StoreProbe for F
where
    F: Fn(String) -> Fut + Send + Sync,
    Fut: Future<Output = Option<Entry>> + Send + 'static,
{
    fn entry(&self, key: String) -> BoxFuture<'_, Option<Entry>> {
        Box::pin(self(key))
    }
}

/// One storage under test: how to build it and, for server-side storages, how to look into its store.
///
/// ```
/// # use session_testkit::{Entry, Suite};
/// # struct MyStorage(session_core::StorageConfig);
/// # #[async_trait::async_trait]
/// # impl session_core::AbstractStorage for MyStorage {
/// #     fn config(&self) -> &session_core::StorageConfig { &self.0 }
/// #     async fn load_session(&self, _: Option<&str>) -> Result<session_core::storage::Loaded, session_core::Error> { Ok(self.new_state().into()) }
/// #     async fn save_session(&self, _: &mut session_core::SessionState, _: session_core::storage::Origin) -> Result<session_core::storage::CookieAction, session_core::Error> { Ok(session_core::storage::CookieAction::Remove) }
/// # }
/// let suite = Suite::new(|config| async move { MyStorage(config) })
///     .probe(|key: String| async move { None::<Entry> /* ask your store about `key` */ });
/// ```
pub struct Suite {
    make: Box<dyn MakeStorage>,
    probe: Option<Box<dyn StoreProbe>>,
    devices: Option<Arc<dyn MakeDevices>>,
    purge_within: Duration,
}

/// How soon after its TTL an entry must have left the store, unless the suite is told otherwise.
const DEFAULT_PURGE_WITHIN: Duration = Duration::from_secs(3);

impl Suite {
    /// A suite whose storages `make` builds.
    pub fn new(make: impl MakeStorage + 'static) -> Self {
        Suite { make: Box::new(make), probe: None, devices: None, purge_within: DEFAULT_PURGE_WITHIN }
    }

    /// A suite of the `devices` rules, whose storages `make` builds (with their `Devices` face).
    pub fn with_devices(make: impl MakeDevices + 'static) -> Self {
        let devices: Arc<dyn MakeDevices> = Arc::new(make);
        let storages = Arc::clone(&devices);
        let make_storage = move |config: StorageConfig| {
            let storages = Arc::clone(&storages);
            async move { storages.make(config).await as Arc<dyn AbstractStorage> }
        };
        Suite { make: Box::new(make_storage), probe: None, devices: Some(devices), purge_within: DEFAULT_PURGE_WITHIN }
    }

    /// How to look into the store (server-side kinds need it).
    pub fn probe(mut self, probe: impl StoreProbe + 'static) -> Self {
        self.probe = Some(Box::new(probe));
        self
    }

    /// How soon after its TTL an expired entry must have left the store (default 3 s): a store that
    /// expires lazily (a SQL table swept by a reaper) says how often it sweeps. Loads must never serve
    /// an expired entry, whatever this says.
    pub fn purge_within(mut self, bound: Duration) -> Self {
        self.purge_within = bound;
        self
    }

    /// The bound of [`purge_within`](Self::purge_within).
    pub fn purge_bound(&self) -> Duration {
        self.purge_within
    }

    /// A storage built with `config`.
    pub async fn storage(&self, config: StorageConfig) -> Arc<dyn AbstractStorage> {
        self.make.make(config).await
    }

    /// A storage built with `config`, as the devices rules use it.
    pub async fn devices(&self, config: StorageConfig) -> Arc<dyn Devices> {
        let make = self.devices.as_ref().expect("the devices rules need a suite made with `Suite::with_devices`");
        make.make(config).await
    }

    /// What the store holds under `key`.
    pub async fn entry(&self, key: &str) -> Option<Entry> {
        let probe =
            self.probe.as_ref().expect("the server-side rules look into the store: give the suite a `.probe(...)`");
        probe.entry(key.to_owned()).await
    }
}

/// Runs `future` to completion on a fresh current-thread tokio runtime with I/O and timers, which is
/// what `#[tokio::test]` does; the suites use it so the calling crate need not name tokio.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime for the test")
        .block_on(future)
}

/// A rule as a function pointer, for [`rules::of`](crate::rules::of). Its future runs on the thread
/// that made it (a rule is run with [`block_on`]).
pub type Rule = for<'a> fn(&'a Suite) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

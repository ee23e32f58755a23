//! One request's session slot: loaded lazily, used by the handler, taken out for the save.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::cookie::{CookieLifetime, find_cookie};
use crate::error::Error;
use crate::session::SessionState;
use crate::storage::{AbstractStorage, CookieAction, Loaded, Origin};

/// One request's session: loaded at most once, when first asked for, and handed to the save after
/// the handler.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// # use session_core::storage::{CookieAction, Loaded, Origin};
/// # use session_core::{Error, SessionState, StorageConfig};
/// # struct PlainCookie(StorageConfig);
/// # #[async_trait::async_trait]
/// # impl AbstractStorage for PlainCookie {
/// #     fn config(&self) -> &StorageConfig { &self.0 }
/// #     async fn load_session(&self, c: Option<&str>) -> Result<Loaded, Error> {
/// #         Ok(c.map_or_else(|| self.new_state(), |t| self.0.open("plain", None, t)).into())
/// #     }
/// #     async fn save_session(&self, s: &mut SessionState, _: Origin) -> Result<CookieAction, Error> {
/// #         Ok(CookieAction::Set(self.0.encode(s)?))
/// #     }
/// # }
/// use std::sync::Arc;
/// use session_core::middleware::RequestSession;
/// use session_core::storage::AbstractStorage;
///
/// let storage: Arc<dyn AbstractStorage> = Arc::new(PlainCookie(StorageConfig::default()));
/// let request = RequestSession::new(Arc::clone(&storage));
/// request.load(["theme=dark"]).await?;                      // no session cookie: a new session
/// request.with(|session| session.insert("user", "alice"))??; // the handler
/// let pending = request.finish(200).expect("changed, so saved");
/// let set_cookie = pending.save().await?.expect("a cookie storage always answers a cookie");
/// assert!(set_cookie.starts_with("AIOHTTP_SESSION="));
/// # Ok::<(), session_core::Error>(())
/// # }).unwrap();
/// ```
pub struct RequestSession {
    storage: Arc<dyn AbstractStorage>,
    /// The same storage as the type the layer was given, for [`storage_as`](Self::storage_as).
    typed: Arc<dyn Any + Send + Sync>,
    state: Mutex<State>,
    /// The [`thread_mark`] of the thread running a closure of [`with`](Self::with) (0: none), so a
    /// nested use from that closure is an error instead of a deadlock.
    user: AtomicUsize,
}

#[allow(clippy::large_enum_variant, reason = "one per request, held in place: boxing would allocate per request")]
enum State {
    Unloaded,
    Loaded(Loaded),
    Finished,
}

impl fmt::Debug for RequestSession {
    /// Never waits: a session in use shows as such.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("RequestSession");
        out.field("cookie", &self.storage.config().cookie().name());
        match self.state.try_lock() {
            Ok(state) => match &*state {
                State::Unloaded => out.field("session", &"<not loaded>"),
                State::Loaded(loaded) => out.field("session", &loaded.session),
                State::Finished => out.field("session", &"<response sent>"),
            },
            Err(_) => out.field("session", &"<in use>"),
        };
        out.finish()
    }
}

impl RequestSession {
    /// The session slot of one request on `storage`; nothing is loaded.
    pub fn new(storage: Arc<dyn AbstractStorage>) -> Self {
        let typed = Arc::new(Arc::clone(&storage));
        Self::typed(storage, typed)
    }

    /// The session slot of one request on `storage`, which is also `typed` as the type the layer was
    /// given ([`IntoStorage::into_typed`](crate::storage::IntoStorage::into_typed)).
    pub fn typed(storage: Arc<dyn AbstractStorage>, typed: Arc<dyn Any + Send + Sync>) -> Self {
        RequestSession { storage, typed, state: Mutex::new(State::Unloaded), user: AtomicUsize::new(0) }
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn AbstractStorage> {
        &self.storage
    }

    /// The storage as `S`, the type the layer was given (`RedisStorage`, say), for what only some
    /// storages can do: a user's devices. [`Error::Unsupported`] when it is another type.
    pub fn storage_as<S: Send + Sync + 'static>(&self) -> Result<Arc<S>, Error> {
        Arc::clone(&self.typed).downcast::<S>().map_err(|_| Error::Unsupported {
            what: "be reached as that type: the session layer was given a storage of another type",
        })
    }

    /// Loads the session from the storage's cookie among the request's `Cookie` header values (pass
    /// them all, as bytes: HTTP/2 clients split cookies over several headers, and other cookies may
    /// hold bytes that are not text), the first time it is asked for; later calls do nothing
    /// (aiohttp's `get_session` caches per request).
    pub async fn load<'h, H>(&self, cookie_headers: impl IntoIterator<Item = &'h H>) -> Result<(), Error>
    where
        H: AsRef<[u8]> + ?Sized + 'h,
    {
        if !matches!(*self.lock_state(), State::Unloaded) {
            return Ok(());
        }
        let name = self.storage.config().cookie().name();
        let cookie = find_cookie(cookie_headers, name);
        let span = tracing::debug_span!("session.load", cookie = name, outcome = Empty, store_us = Empty);
        let started = Stopwatch::start(&span);
        let loaded = within(&span, self.storage.load_session(cookie.as_deref())).await;
        let outcome = match &loaded {
            Ok(loaded) if loaded.session.is_new() => "new",
            Ok(_) => "loaded",
            Err(_) => "error",
        };
        crate::metrics::loaded(outcome, started.close(&span, outcome));
        let loaded = loaded.inspect_err(crate::metrics::failed)?;
        let mut state = self.lock_state();
        // Two handlers of one request that raced to load: the first to finish wins, both read it.
        if matches!(*state, State::Unloaded) {
            *state = State::Loaded(loaded);
        }
        Ok(())
    }

    /// Runs `f` on the loaded session and returns what it returns. One closure at a time: another
    /// thread waits for it, and a use of this same request session from inside `f` is
    /// [`Error::InUse`] (it could only wait forever).
    pub fn with<R>(&self, f: impl FnOnce(&mut SessionState) -> R) -> Result<R, Error> {
        self.with_loaded(|loaded| Ok(f(&mut loaded.session)))
    }

    /// Starts over with a fresh, empty session under a new id (aiohttp-session's `new_session`): at
    /// login, so that an id planted before it is worth nothing. The stored entry of the session it
    /// replaced is deleted once the new one is saved.
    pub fn reset(&self) -> Result<(), Error> {
        let fresh = self.storage.new_state();
        self.with_loaded(|loaded| {
            loaded.session = fresh.replacing(&mut loaded.session);
            Ok(())
        })
    }

    /// Logs `user` in, the one way to: a fresh, empty session under a new id ([`reset`](Self::reset))
    /// with `user` attached ([`SessionState::set_user`]). The stored entry of the session it replaced
    /// is deleted once the new one is saved.
    pub fn login(&self, user: impl Into<String>) -> Result<(), Error> {
        let fresh = self.storage.new_state();
        self.with_loaded(|loaded| {
            loaded.session = fresh.replacing(&mut loaded.session);
            loaded.session.set_user(user);
            Ok(())
        })
    }

    /// Logs `user` in and keeps the session's data (a visitor's cart, say): a new id all the same
    /// ([`cycle_id`](Self::cycle_id)), with `user` attached.
    pub fn login_keeping_data(&self, user: impl Into<String>) -> Result<(), Error> {
        self.with_loaded(|loaded| {
            loaded.session.rotate();
            loaded.session.set_user(user);
            Ok(())
        })
    }

    /// Gives the session a new id and keeps its data (for a privilege change): the entry under the old
    /// id is deleted once the session is saved under the new one. For cookie storages it re-seals the
    /// cookie.
    pub fn cycle_id(&self) -> Result<(), Error> {
        self.with_loaded(|loaded| {
            loaded.session.rotate();
            Ok(())
        })
    }

    /// Whether the handler loaded the session (it varies with the cookie): ask before
    /// [`finish`](Self::finish).
    pub fn is_loaded(&self) -> bool {
        matches!(*self.lock_state(), State::Loaded(_))
    }

    /// After the handler: the save this response needs, if any. Nothing for a session that was never
    /// loaded or not changed, nor for a response of status 500 or above (aiohttp-session saves on
    /// redirects and client errors, not when the handler failed). From now on the session is closed:
    /// a use is [`Error::Finished`].
    pub fn finish(&self, status: u16) -> Option<PendingSave> {
        let state = std::mem::replace(&mut *self.lock_state(), State::Finished);
        let State::Loaded(loaded) = state else {
            return None;
        };
        if status >= 500 || !loaded.session.is_changed() {
            return None;
        }
        Some(PendingSave { storage: Arc::clone(&self.storage), loaded })
    }

    fn with_loaded<R>(&self, f: impl FnOnce(&mut Loaded) -> Result<R, Error>) -> Result<R, Error> {
        let me = thread_mark();
        // Only this thread ever writes its own mark, so a relaxed load sees it exactly when this
        // thread is inside a closure here: a nested use.
        if self.user.load(Ordering::Relaxed) == me {
            return Err(Error::InUse);
        }
        let mut state = self.lock_state();
        self.user.store(me, Ordering::Relaxed);
        let _release = Release(&self.user);
        match &mut *state {
            State::Loaded(loaded) => f(loaded),
            State::Unloaded => Err(Error::NotLoaded),
            State::Finished => Err(Error::Finished),
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A number for the calling thread, never 0 and never another thread's (a `usize` count of threads:
/// 32-bit targets without 64-bit atomics have it too): `ThreadId` has no integer form to keep in an
/// atomic, and a mutex around one cost a lock, an unlock and an `Arc` count of the current `Thread`
/// per handle call (three calls a request, about 0.1 µs in `perf record`).
fn thread_mark() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    thread_local!(static MARK: usize = NEXT.fetch_add(1, Ordering::Relaxed));
    MARK.with(|mark| *mark)
}

/// Clears the thread mark of [`RequestSession::with`] when the closure ends, even by a panic. It is
/// declared after the session's lock guard so that it runs first: cleared after the unlock, the mark
/// could erase the next holder's, whose nested use would then wait forever.
struct Release<'a>(&'a AtomicUsize);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// A changed session taken out of its request, to be saved before the response goes out.
pub struct PendingSave {
    storage: Arc<dyn AbstractStorage>,
    loaded: Loaded,
}

impl fmt::Debug for PendingSave {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSave").field("session", &self.loaded.session).finish_non_exhaustive()
    }
}

impl PendingSave {
    /// Saves the session and answers the `Set-Cookie` header value to send: the session's cookie
    /// (with `Max-Age`/`Expires` from its `max_age`), the removal cookie, or none at all when the
    /// storage found the session removed meanwhile ([`CookieAction::Keep`]).
    pub fn save(self) -> impl Future<Output = Result<Option<String>, Error>> + 'static {
        self.save_then(|saved| saved)
    }

    /// [`save`](Self::save), then `then` on what it answered, as one future: for an adapter, which
    /// boxes the save of every changed session and turns its outcome into the response.
    ///
    /// One future, not an `async fn` that awaits `save()`: a future awaited inside another is kept
    /// twice in it (captured, then pinned for the await), as is an `async fn`'s argument once taken
    /// apart. Nested so, the actix-web adapter's save was 1,616 bytes, over the 1,032 that glibc
    /// serves from its per-thread cache, and every changed session paid a large allocation, a
    /// consolidation of the freed small blocks and the copy (`perf record` of the bench's fresh
    /// visitors); it is about 800 bytes so. Each adapter has a test that keeps it under 1 KiB.
    pub fn save_then<T>(self, then: impl FnOnce(Result<Option<String>, Error>) -> T) -> impl Future<Output = T> {
        let PendingSave { storage, loaded: Loaded { mut session, origin } } = self;
        async move { then(save(&*storage, &mut session, origin).await) }
    }
}

/// What [`PendingSave::save`] does, on the parts it borrows from its future.
async fn save(
    storage: &dyn AbstractStorage,
    session: &mut SessionState,
    origin: Origin,
) -> Result<Option<String>, Error> {
    let config = storage.config();
    let span = tracing::debug_span!("session.save", cookie = config.cookie().name(), outcome = Empty, store_us = Empty);
    let started = Stopwatch::start(&span);
    let action = within(&span, storage.save_session(session, origin)).await;
    let outcome = match &action {
        Ok(CookieAction::Set(_)) => "set",
        Ok(CookieAction::Remove) => "removed",
        Ok(CookieAction::Keep) => "kept",
        Err(_) => "error",
    };
    crate::metrics::saved(outcome, started.close(&span, outcome));
    Ok(match action.inspect_err(crate::metrics::failed)? {
        CookieAction::Set(value) => {
            // The clock is read only for an `Expires` (a clock read is a measurable share of a save).
            let lifetime = session
                .cookie_max_age()
                .map(|seconds| CookieLifetime { max_age: Duration::from_secs(seconds), now: config.now() });
            Some(config.cookie().set_cookie(&value, lifetime)?)
        }
        CookieAction::Remove => Some(config.cookie().removal_cookie().to_owned()),
        CookieAction::Keep => None,
    })
}

/// `call` inside `span` when a subscriber wants the span, bare otherwise. With tracing's `log`
/// feature (actix-web's codec turns it on) a span nobody subscribed to still goes through the log
/// bridge at each enter and exit of every poll: about 250 instructions of a request through actix-web
/// (callgrind of the bench's fresh visitors).
async fn within<T>(span: &Span, call: impl Future<Output = T>) -> T {
    if span.is_disabled() { call.await } else { call.instrument(span.clone()).await }
}

/// The store's time of one load or save, taken only when someone reads it: the span is enabled or
/// the `metrics` feature is on. Two clock reads per load and per save are a measurable share of a
/// request through Redis (callgrind of the bench's parallel row), for a span nobody subscribed to.
struct Stopwatch(Option<Instant>);

impl Stopwatch {
    fn start(span: &Span) -> Self {
        Stopwatch((cfg!(feature = "metrics") || !span.is_disabled()).then(Instant::now))
    }

    /// Closes the span around what the storage did for one load or save of a request (`session.load`,
    /// `session.save`): the outcome and the store's time in microseconds beside the cookie's name,
    /// never an id, a value or a user. Answers the store's time, when taken.
    fn close(self, span: &Span, outcome: &'static str) -> Option<Duration> {
        let took = self.0.map(|started| started.elapsed());
        if span.is_disabled() {
            return took;
        }
        span.record("outcome", outcome);
        if let Some(took) = took {
            span.record("store_us", u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
        }
        took
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::PlainCookie;

    fn request() -> RequestSession {
        RequestSession::new(Arc::new(PlainCookie::default()))
    }

    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(future)
    }

    #[test]
    fn a_use_from_inside_with_is_an_error_not_a_deadlock() {
        let request = request();
        run(request.load(None::<&str>)).unwrap();
        let nested = request.with(|_| request.with(|session| session.len())).unwrap();
        assert!(matches!(nested, Err(Error::InUse)));
        let reset = request.with(|_| request.reset()).unwrap();
        assert!(matches!(reset, Err(Error::InUse)));
        assert_eq!(request.with(|session| session.len()).unwrap(), 0, "usable again afterwards");
        assert!(format!("{request:?}").contains("SessionState"));
    }

    /// Only a use from inside the closure is refused: another thread's use waits for the closure and
    /// then sees what it wrote.
    #[test]
    fn another_thread_waits_for_a_closure_rather_than_failing() {
        use std::sync::mpsc;
        use std::time::Duration;

        let request = Arc::new(request());
        run(request.load(None::<&str>)).unwrap();
        let (inside, entered) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let holder = std::thread::spawn({
            let request = Arc::clone(&request);
            move || {
                request.with(|session| {
                    inside.send(()).unwrap();
                    released.recv().unwrap();
                    session.insert("n", 1)
                })
            }
        });
        entered.recv().unwrap();
        let (answer, answered) = mpsc::channel();
        let other = std::thread::spawn({
            let request = Arc::clone(&request);
            move || answer.send(request.with(|session| session.get::<i64>("n"))).unwrap()
        });
        // Waiting, so nothing answers while the holder is inside (a refusal would, at once).
        assert!(answered.recv_timeout(Duration::from_millis(200)).is_err(), "answered while the closure ran");
        release.send(()).unwrap();
        holder.join().unwrap().unwrap().unwrap();
        other.join().unwrap();
        assert_eq!(answered.recv().unwrap().unwrap().unwrap(), Some(1));
    }

    #[test]
    fn debug_never_waits() {
        let request = request();
        run(request.load(None::<&str>)).unwrap();
        let shown = request.with(|_| format!("{request:?}")).unwrap();
        assert!(shown.contains("<in use>"), "{shown}");
    }

    #[test]
    fn before_load_and_after_finish_are_errors() {
        let request = request();
        assert!(matches!(request.with(|_| ()), Err(Error::NotLoaded)));
        run(request.load(None::<&str>)).unwrap();
        request.with(|session| session.insert("k", 1)).unwrap().unwrap();
        assert!(request.finish(500).is_none(), "a 5xx saves nothing");
        assert!(matches!(request.with(|_| ()), Err(Error::Finished)));
    }

    #[test]
    fn a_pending_save_shows_its_session_and_no_value() {
        let request = request();
        run(request.load(None::<&str>)).unwrap();
        request.with(|session| session.insert("secret", "hunter2")).unwrap().unwrap();
        let shown = format!("{:?}", request.finish(200).expect("changed"));
        assert!(shown.starts_with("PendingSave") && shown.contains("secret"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn only_changed_sessions_are_saved() {
        let request = request();
        run(request.load(None::<&str>)).unwrap();
        request.with(|session| session.len()).unwrap();
        assert!(request.finish(200).is_none());
        assert!(self::request().finish(200).is_none(), "never loaded");
    }
}

//! The session: an insertion-ordered JSON map plus the bookkeeping aiohttp-session keeps beside it.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::items::{Diff, Items};

use crate::clock::Clock;
use crate::codec::{Member, Payload, SessionRecord};
use crate::error::Error;
use crate::expiry::{Expiry, seconds};
use crate::meta::{META_KEY, Meta};

/// One visitor's session: a JSON object with `created`, `max_age`, `identity`, `new` and `changed`
/// tracking, with the semantics of aiohttp-session 2.12's `SessionState`.
///
/// - [`insert`](Self::insert) and [`remove`](Self::remove) mark the session changed **and reset
///   `created` to now**, so `max_age` is an idle timeout counted from the last write.
/// - Mutating a value you took out does not count; call [`changed`](Self::changed), which marks the
///   session without touching `created`.
/// - [`invalidate`](Self::invalidate) empties the data and marks the session changed.
/// - Only changed sessions are saved, and only sessions a handler asked for are loaded.
///
/// Storages make sessions ([`StorageConfig::new_state`](crate::StorageConfig::new_state),
/// [`StorageConfig::open`](crate::StorageConfig::open)); applications get them from the middleware.
///
/// ```
/// use session_core::{ManualClock, StorageConfig};
///
/// let clock = ManualClock::new(1_700_000_000);
/// let mut session = StorageConfig::default().with_clock(clock.clock()).new_state();
/// assert!(session.is_new() && !session.is_changed());
///
/// clock.advance(5);
/// session.insert("cart", vec!["apple"])?;
/// assert_eq!(session.created(), 1_700_000_005);
/// assert_eq!(session.get::<Vec<String>>("cart")?, Some(vec!["apple".to_string()]));
/// assert!(session.is_changed());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SessionState {
    identity: Option<String>,
    created: i64,
    max_age: Option<u64>,
    new: bool,
    changed: bool,
    /// `invalidate()` was called: a concurrent save merges nothing into it.
    invalidated: bool,
    /// `set_user()` was called (a login): the storage records the user's epoch when it saves.
    logged_in: bool,
    /// The login, its remembered lifetime or its device label changed in this request: a merge puts
    /// them over a concurrent save's, and otherwise keeps theirs.
    meta_set: bool,
    /// The longest the storage lets a session be remembered.
    remember_limit: Option<u64>,
    /// Loaded past a limit of the expiry policy: its data was dropped.
    ended: bool,
    /// The identity of the stored session this one replaced in this request (`new_session`,
    /// `cycle_id`): its entry is deleted once this one is stored.
    replaced: Option<String>,
    data: Items,
    meta: Meta,
    clock: Clock,
}

/// Why a decoded payload could not be a session (it then loads as a fresh one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Malformed {
    NotAnObject,
    CreatedNotANumber,
    SessionNotAnObject,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::NotAnObject => "payload is not a JSON object",
            Malformed::CreatedNotANumber => "`created` is not a number",
            Malformed::SessionNotAnObject => "`session` is not a JSON object",
        })
    }
}

impl SessionState {
    /// A fresh session: new, unchanged, no identity, `created` = now; it starts now if the policy
    /// keeps starts.
    pub(crate) fn fresh(expiry: &Expiry, clock: Clock) -> Self {
        let now = clock.now();
        let meta = Meta { started: expiry.tracks_start().then_some(now), ..Meta::default() };
        SessionState {
            identity: None,
            created: now,
            max_age: expiry.max_age_seconds(),
            new: true,
            changed: false,
            invalidated: false,
            logged_in: false,
            meta_set: false,
            remember_limit: expiry.remember_limit().map(seconds),
            ended: false,
            replaced: None,
            data: Items::default(),
            meta,
            clock,
        }
    }

    /// A session from a decoded payload, with the rules of aiohttp-session's `SessionState.__init__`:
    /// `{}` is a new session without identity (the session-fixation guard); `null` is an empty
    /// loaded session; a session past one of the `expiry` limits (a missing or 0 `created` counts as
    /// past an idle limit) loses its data but stays not new. A live session due for a refresh under an
    /// idle timeout is marked changed with `created` moved to now.
    pub(crate) fn from_payload(
        identity: Option<String>,
        payload: Payload,
        expiry: &Expiry,
        clock: Clock,
    ) -> Result<Self, Malformed> {
        let now = clock.now();
        let (created, session) = match payload {
            Payload::Record { empty: true, .. } => return Ok(SessionState::fresh(expiry, clock)),
            Payload::Record { created, session, .. } => (created, session),
            Payload::Null => (None, None),
            Payload::NotAnObject => return Err(Malformed::NotAnObject),
        };
        let created = match created {
            None | Some(Value::Null) => None,
            // Python keeps whatever number it finds; seconds are all we need of a float.
            Some(Value::Number(n)) => Some(n.as_i64().unwrap_or_else(|| n.as_f64().unwrap_or(0.0) as i64)),
            Some(_) => return Err(Malformed::CreatedNotANumber),
        };
        let mut data = match session {
            None | Some(Member::Null) => Items::default(),
            Some(Member::Items(data)) => data,
            Some(Member::Other) => return Err(Malformed::SessionNotAnObject),
        };
        let mut meta = data.remove(META_KEY).map(Meta::from_value).unwrap_or_default();
        let mut session = SessionState {
            identity,
            created: created.unwrap_or(now),
            max_age: expiry.max_age_seconds(),
            new: false,
            changed: false,
            invalidated: false,
            logged_in: false,
            meta_set: false,
            remember_limit: expiry.remember_limit().map(seconds),
            ended: false,
            replaced: None,
            data: Items::default(),
            meta: Meta::default(),
            clock,
        };
        if expiry.has_ended(now, created, meta.started, meta.lifetime) {
            // What is written next is a new session, and starts now.
            session.meta.started = expiry.tracks_start().then_some(now);
            session.ended = true;
            return Ok(session);
        }
        if expiry.tracks_start() && meta.started.is_none() {
            // Written before the policy was on, or by a peer that does not keep it: the last write we
            // know of is the earliest start we can prove.
            meta.started = Some(session.created);
        }
        if (!data.is_empty() || meta.keeps_session()) && expiry.refresh_due(now, session.created, meta.lifetime) {
            session.created = now;
            session.changed = true;
            crate::metrics::refreshed();
        }
        session.data = data;
        session.meta = meta;
        Ok(session)
    }

    /// The backend key (Redis, memcached) this session is stored under; `None` for cookie storages
    /// and for sessions not yet saved.
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// Gives a new session the backend key it will be saved under, instead of a generated one.
    ///
    /// Only a session created in this request can take an identity: a loaded session keeps the one
    /// its cookie names, or a client could move its data under a key it chose.
    ///
    /// ```
    /// # let config = session_core::StorageConfig::default();
    /// let mut session = config.new_state();
    /// session.set_new_identity("0123456789abcdef0123456789abcdef")?;
    /// assert_eq!(session.identity(), Some("0123456789abcdef0123456789abcdef"));
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn set_new_identity(&mut self, identity: impl Into<String>) -> Result<(), Error> {
        if !self.new {
            return Err(Error::IdentityNotNew);
        }
        self.identity = Some(identity.into());
        Ok(())
    }

    /// Unix seconds of the last write (or refresh, or creation): the start of the idle timeouts.
    pub fn created(&self) -> i64 {
        self.created
    }

    /// Unix seconds when the session started, kept when the storage has an absolute timeout.
    pub fn started(&self) -> Option<i64> {
        self.meta.started
    }

    /// Whether this session was created in this request rather than loaded.
    pub fn is_new(&self) -> bool {
        self.new
    }

    /// Whether the session will be saved at the end of the request.
    pub fn is_changed(&self) -> bool {
        self.changed
    }

    /// Marks the session to be saved without touching `created`: call it after mutating a value in
    /// place, which the session cannot see.
    pub fn changed(&mut self) {
        self.changed = true;
    }

    /// Ends the session: empties it, logs its user out here (the login, its remembered lifetime and
    /// device label go) and marks it changed. Cookie storages then delete the cookie, server-side
    /// storages delete the entry. `created`, `identity` and `new` stay; what is written after it in
    /// the same request starts a new session (a new start, no user; server-side, a new id).
    ///
    /// One rule for the login: [`clear`](Self::clear) empties the data and keeps the login;
    /// `invalidate`, and a handle's `reset`, end it; a handle's `login` starts one.
    pub fn invalidate(&mut self) {
        self.data = Items::default();
        self.changed = true;
        self.invalidated = true;
        self.logged_in = false;
        self.meta_set = false;
        let tracks_start = self.meta.started.is_some();
        self.meta = Meta { started: tracks_start.then(|| self.clock.now()), ..Meta::default() };
    }

    /// The lifetime written with this session (cookie `Max-Age`, Redis `EX`, memcached exptime),
    /// defaulting to the storage's `max_age`.
    #[doc(alias = "expires")]
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age.map(Duration::from_secs)
    }

    /// Changes the lifetime written with this session, in whole seconds. The storage's limits still
    /// decide expiry on the next load, as in aiohttp-session.
    pub fn set_max_age(&mut self, max_age: Option<Duration>) {
        self.max_age = max_age.map(seconds);
    }

    /// The user logged in to this session (a handle's `login`).
    pub fn user(&self) -> Option<&str> {
        self.meta.user.as_deref()
    }

    /// Logs `user` in to this session as it is: records who and when, and has the storage record the
    /// user's epoch when it saves, so that log-out-everywhere of `user` ends this session
    /// ([`AbstractStorage::log_out_everywhere`](crate::AbstractStorage::log_out_everywhere)). Marks the
    /// session changed.
    ///
    /// **Applications log in with their handle's `login`**, which also gives the session a new id
    /// (so an id planted before the login is worth nothing). This is the step it ends with.
    pub fn set_user(&mut self, user: impl Into<String>) {
        self.meta.user = Some(user.into());
        self.meta.epoch = None;
        self.meta.started = Some(self.clock.now());
        self.logged_in = true;
        self.meta_set = true;
        self.changed = true;
    }

    /// Keeps this session for `lifetime` since its last use, however short the storage's idle limits
    /// ("remember me"), up to the storage's remember limit (30 days unless configured): the cookie's
    /// `Max-Age`, the payload's age check and the entry's TTL follow it. Reads refresh it, at most
    /// once per half of it. The absolute timeout, if any, still ends it. Marks the session changed.
    #[doc(alias = "remember_me", alias = "persist")]
    pub fn remember_for(&mut self, lifetime: Duration) {
        self.meta.lifetime = Some(seconds(lifetime));
        self.meta.browser = false;
        self.meta_set = true;
        self.changed = true;
    }

    /// Sends the cookie without `Max-Age`, so the browser drops it when it closes; the session still
    /// ends at the storage's limits (and a server-side entry still expires). Undoes
    /// [`remember_for`](Self::remember_for). Marks the session changed.
    pub fn end_with_browser(&mut self) {
        self.meta.lifetime = None;
        self.meta.browser = true;
        self.meta_set = true;
        self.changed = true;
    }

    /// The lifetime this session is remembered for ([`remember_for`](Self::remember_for)), capped at
    /// the storage's remember limit; `None` when it is not remembered.
    pub fn remembered_for(&self) -> Option<Duration> {
        Some(Duration::from_secs(self.meta.lifetime?.min(self.remember_limit?)))
    }

    /// Labels the device this session is on (the user agent, "Alice's phone"): what a list of the
    /// user's devices shows. Marks the session changed.
    pub fn set_device_label(&mut self, label: impl Into<String>) {
        self.meta.device = Some(label.into());
        self.meta_set = true;
        self.changed = true;
    }

    /// The device label ([`set_device_label`](Self::set_device_label)).
    pub fn device_label(&self) -> Option<&str> {
        self.meta.device.as_deref()
    }

    /// The value under `key`, deserialized as `T`; `Ok(None)` when absent, an error when the stored
    /// value is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.data.get(key).map(|value| T::deserialize(value).map_err(|e| Error::Decode(e.into()))).transpose()
    }

    /// The raw JSON value under `key`.
    pub fn get_value(&self, key: &str) -> Option<&Value> {
        self.data.get(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.data.contains_key(key)
    }

    /// Stores `value` under `key` (appended, or in place when the key exists), marks the session
    /// changed and resets `created`.
    pub fn insert<T: Serialize>(&mut self, key: impl AsRef<str>, value: T) -> Result<(), Error> {
        let value = serde_json::to_value(value).map_err(|e| Error::Encode(e.into()))?;
        self.insert_value(key, value)
    }

    /// Stores a raw JSON value; otherwise as [`insert`](Self::insert). The one key this library keeps
    /// for itself, `__session_meta__`, is refused.
    pub fn insert_value(&mut self, key: impl AsRef<str>, value: Value) -> Result<(), Error> {
        let key = key.as_ref();
        if key == META_KEY {
            return Err(Error::Encode(format!("`{META_KEY}` is reserved for the session's own use").into()));
        }
        self.data.insert(key, value);
        self.touch();
        Ok(())
    }

    /// Takes the value under `key` out as `T`. When the value is not a `T` it stays and this is an
    /// error; when the key is absent nothing changes.
    pub fn remove<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, Error> {
        let Some(value) = self.get::<T>(key)? else {
            return Ok(None);
        };
        self.remove_value(key);
        Ok(Some(value))
    }

    /// Takes the raw value under `key` out, keeping the order of the rest. Marks the session changed
    /// and resets `created` only if the key was present.
    pub fn remove_value(&mut self, key: &str) -> Option<Value> {
        let removed = self.data.remove(key);
        if removed.is_some() {
            self.touch();
        }
        removed
    }

    /// Removes every item, as Python's `session.clear()`: changed and `created` reset, unless it was
    /// already empty. The login stays (its user, start, remembered lifetime and device label): use
    /// [`invalidate`](Self::invalidate) to log a user out.
    pub fn clear(&mut self) {
        if !self.data.is_empty() {
            self.data = Items::default();
            self.touch();
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no items. An empty session with no login is written as `{}`, or deletes its
    /// cookie or entry.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Whether nothing of this session is worth keeping: no items and no login (nor remembered
    /// lifetime, nor device label). A storage deletes its cookie or entry.
    pub(crate) fn holds_nothing(&self) -> bool {
        self.data.is_empty() && !self.meta.keeps_session()
    }

    /// The keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.data.keys()
    }

    /// The items in insertion order, as raw JSON.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.data.iter()
    }

    /// A copy of all items as one JSON object (writes go through the methods that track them).
    pub fn to_map(&self) -> Map<String, Value> {
        self.data.to_map()
    }

    /// What a storage writes for this session.
    pub(crate) fn record(&self) -> SessionRecord<'_> {
        SessionRecord::new(self.created, &self.data, &self.meta)
    }

    /// The items alone, as a merge compares with them.
    pub(crate) fn into_items(self) -> Items {
        self.data
    }

    pub(crate) fn max_age_seconds(&self) -> Option<u64> {
        self.max_age
    }

    pub(crate) fn is_invalidated(&self) -> bool {
        self.invalidated
    }

    /// Whether the session was loaded past a limit of the expiry policy (and lost its data).
    pub(crate) fn has_ended(&self) -> bool {
        self.ended
    }

    /// The identity of the stored session this one replaced in this request (`new_session` or
    /// `cycle_id` on a loaded session): a storage that keeps entries deletes that one once this one is
    /// stored. After several replacements in one request it is the first, the only one ever stored.
    pub fn replaced(&self) -> Option<&str> {
        self.replaced.as_deref()
    }

    /// Whether a user logged in during this request (the storage records their epoch at the save).
    pub(crate) fn logged_in(&self) -> bool {
        self.logged_in
    }

    /// The user's epoch recorded at login.
    pub(crate) fn epoch(&self) -> Option<&str> {
        self.meta.epoch.as_deref()
    }

    pub(crate) fn set_epoch(&mut self, epoch: String) {
        self.meta.epoch = Some(epoch);
    }

    /// The remembered lifetime in whole seconds, as stored (uncapped).
    pub(crate) fn lifetime_seconds(&self) -> Option<u64> {
        self.meta.lifetime
    }

    /// The `Max-Age` of the cookie: none for a cookie that ends with the browser, the remembered
    /// lifetime for a remembered session, else the session's `max_age`.
    pub(crate) fn cookie_max_age(&self) -> Option<u64> {
        if self.meta.browser {
            return None;
        }
        match self.remembered_for() {
            Some(lifetime) => Some(lifetime.as_secs()),
            None => self.max_age,
        }
    }

    /// This session, moved out: what is left keeps the identity and the bookkeeping (the cookie's
    /// attributes come from it), not the items.
    pub(crate) fn take(&mut self) -> SessionState {
        SessionState {
            identity: self.identity.clone(),
            replaced: self.replaced.clone(),
            data: std::mem::take(&mut self.data),
            meta: self.meta.clone(),
            clock: self.clock.clone(),
            ..*self
        }
    }

    /// The same data under a new identity, saved at the end of the request (`cycle_id`); the entry
    /// under the identity it had is deleted then.
    pub(crate) fn rotate(&mut self) {
        if let Some(old) = self.identity.take() {
            self.replaced.get_or_insert(old);
        }
        self.new = true;
        self.changed = true;
        self.drop_csrf_tokens();
    }

    /// This fresh session in place of `old` (`new_session`): the entry of `old`, or of the session
    /// `old` itself replaced, is deleted once this one is stored.
    pub(crate) fn replacing(mut self, old: &mut SessionState) -> SessionState {
        self.replaced = old.replaced.take().or_else(|| old.identity.take());
        self
    }

    /// What this request changed in the items it loaded (`base`).
    pub(crate) fn diff_since(&self, base: &Items) -> Diff {
        self.data.diff_from(base)
    }

    /// This request's session re-applied on top of `theirs` (what another request saved meanwhile):
    /// `diff` (from [`diff_since`](Self::diff_since)) on their items, the rest of the
    /// bookkeeping this request's. (An invalidated session is never merged: it ends its entry.)
    pub(crate) fn rebased(&self, diff: &Diff, theirs: SessionState) -> SessionState {
        let created = self.created.max(theirs.created);
        let mut data = theirs.data;
        data.apply(diff);
        // A login this request only loaded may be one that the concurrent save replaced or logged out.
        let meta = if self.meta_set {
            self.meta.clone()
        } else {
            let started = match (self.meta.started, theirs.meta.started) {
                (Some(ours), Some(theirs)) => Some(ours.min(theirs)),
                (ours, theirs) => ours.or(theirs),
            };
            Meta { started, ..theirs.meta }
        };
        SessionState {
            identity: self.identity.clone(),
            replaced: self.replaced.clone(),
            created,
            data,
            meta,
            clock: self.clock.clone(),
            ..*self
        }
    }

    fn touch(&mut self) {
        self.changed = true;
        self.created = self.clock.now();
    }
}

/// Shows the bookkeeping and the keys, never the values, the identity or the user: all can be
/// credentials.
impl fmt::Debug for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionState")
            .field("identity", &self.identity.as_ref().map(|_| "<redacted>"))
            .field("new", &self.new)
            .field("changed", &self.changed)
            .field("created", &self.created)
            .field("max_age", &self.max_age)
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use serde_json::json;

    const T: i64 = 1_700_000_000;

    fn expiry(max_age: Option<u64>) -> Expiry {
        let mut expiry = Expiry::default();
        expiry.set_max_age(max_age.map(Duration::from_secs));
        expiry
    }

    fn load(payload: Value, max_age: Option<u64>, clock: &ManualClock) -> SessionState {
        SessionState::from_payload(Some("id".into()), Payload::from_value(payload), &expiry(max_age), clock.clock())
            .expect("well-formed")
    }

    fn fresh(clock: &ManualClock) -> SessionState {
        SessionState::fresh(&Expiry::default(), clock.clock())
    }

    #[test]
    fn fresh_session_is_new_unchanged_and_created_now() {
        let clock = ManualClock::new(T);
        let session = SessionState::fresh(&expiry(Some(60)), clock.clock());
        assert!(session.is_new());
        assert!(!session.is_changed());
        assert_eq!(session.created(), T);
        assert_eq!(session.identity(), None);
        assert_eq!(session.max_age(), Some(Duration::from_secs(60)));
        assert!(session.is_empty());
    }

    #[test]
    fn insert_marks_changed_and_resets_created() {
        let clock = ManualClock::new(T);
        let mut session = load(json!({"created": T - 100, "session": {"a": 1}}), None, &clock);
        assert_eq!(session.created(), T - 100);
        session.insert("b", 2).unwrap();
        assert!(session.is_changed());
        assert_eq!(session.created(), T);
    }

    #[test]
    fn remove_marks_changed_and_resets_created_only_when_present() {
        let clock = ManualClock::new(T);
        let mut session = load(json!({"created": T - 100, "session": {"a": 1, "b": 2, "c": 3}}), None, &clock);
        assert_eq!(session.remove_value("missing"), None);
        assert!(!session.is_changed());
        assert_eq!(session.created(), T - 100);
        assert_eq!(session.remove::<i64>("a").unwrap(), Some(1));
        assert!(session.is_changed());
        assert_eq!(session.created(), T);
        assert_eq!(session.keys().collect::<Vec<_>>(), ["b", "c"], "order of the rest is kept");
    }

    #[test]
    fn remove_of_the_wrong_type_keeps_the_value() {
        let clock = ManualClock::new(T);
        let mut session = load(json!({"created": T, "session": {"a": "text"}}), None, &clock);
        assert!(matches!(session.remove::<i64>("a"), Err(Error::Decode(_))));
        assert_eq!(session.get_value("a"), Some(&json!("text")));
        assert!(!session.is_changed());
    }

    #[test]
    fn assigning_the_same_value_still_counts_as_a_write() {
        let clock = ManualClock::new(T);
        let mut session = load(json!({"created": T - 5, "session": {"a": 1}}), None, &clock);
        session.insert("a", 1).unwrap();
        assert!(session.is_changed());
        assert_eq!(session.created(), T);
    }

    #[test]
    fn changed_marks_without_touching_created() {
        let clock = ManualClock::new(T);
        let mut session = load(json!({"created": T - 100, "session": {"a": {"k": 1}}}), None, &clock);
        session.changed();
        assert!(session.is_changed());
        assert_eq!(session.created(), T - 100);
    }

    #[test]
    fn mutating_a_value_taken_out_does_not_count() {
        let clock = ManualClock::new(T);
        let session = load(json!({"created": T, "session": {"a": {"k": 1}}}), None, &clock);
        let mut copy: Value = session.get("a").unwrap().unwrap();
        copy["k"] = json!(2);
        assert!(!session.is_changed());
        assert_eq!(session.get_value("a"), Some(&json!({"k": 1})));
    }

    #[test]
    fn invalidate_empties_and_marks_changed_but_keeps_created_identity_new() {
        let clock = ManualClock::new(T);
        let mut session = load(json!({"created": T - 100, "session": {"a": 1}}), None, &clock);
        session.invalidate();
        assert!(session.is_empty());
        assert!(session.is_changed());
        assert_eq!(session.created(), T - 100);
        assert_eq!(session.identity(), Some("id"));
        assert!(!session.is_new());
    }

    #[test]
    fn invalidate_starts_the_next_session_anew() {
        let clock = ManualClock::new(T);
        let mut absolute = Expiry::default();
        absolute.set_absolute_timeout(Some(Duration::from_secs(3600)));
        let payload = json!({"created": T - 100, "session": {"a": 1, META_KEY: {"started": T - 3000}}});
        let mut session =
            SessionState::from_payload(Some("id".into()), Payload::from_value(payload), &absolute, clock.clock())
                .expect("well-formed");
        assert_eq!(session.started(), Some(T - 3000));
        session.invalidate();
        assert_eq!(session.started(), Some(T), "a login after a logout must not inherit the old lifetime");
    }

    #[test]
    fn set_new_identity_only_while_new() {
        let clock = ManualClock::new(T);
        let mut fresh = fresh(&clock);
        fresh.set_new_identity("abc").unwrap();
        assert_eq!(fresh.identity(), Some("abc"));
        assert!(fresh.is_new(), "stays new");
        assert!(!fresh.is_changed(), "does not mark changed");

        let mut loaded = load(json!({"created": T, "session": {"a": 1}}), None, &clock);
        assert!(matches!(loaded.set_new_identity("other"), Err(Error::IdentityNotNew)));
        assert_eq!(loaded.identity(), Some("id"));
    }

    #[test]
    fn empty_object_loads_as_new_without_identity() {
        let clock = ManualClock::new(T);
        let session = load(json!({}), Some(60), &clock);
        assert!(session.is_new());
        assert_eq!(session.identity(), None);
        assert_eq!(session.created(), T);
        assert!(session.is_empty());
    }

    #[test]
    fn null_loads_as_empty_but_not_new() {
        let clock = ManualClock::new(T);
        let session = load(Value::Null, None, &clock);
        assert!(!session.is_new());
        assert_eq!(session.identity(), Some("id"));
        assert_eq!(session.created(), T);
    }

    #[test]
    fn age_equal_to_max_age_is_still_valid() {
        let clock = ManualClock::new(T);
        let session = load(json!({"created": T - 10, "session": {"a": 1}}), Some(10), &clock);
        assert_eq!(session.len(), 1);
    }

    #[test]
    fn age_above_max_age_drops_data_but_not_newness() {
        let clock = ManualClock::new(T);
        let session = load(json!({"created": T - 11, "session": {"a": 1}}), Some(10), &clock);
        assert!(session.is_empty());
        assert!(!session.is_new());
        assert!(!session.is_changed());
        assert_eq!(session.created(), T - 11);
        assert_eq!(session.identity(), Some("id"));
    }

    #[test]
    fn missing_or_zero_created_counts_as_expired_when_max_age_is_set() {
        let clock = ManualClock::new(T);
        assert!(load(json!({"session": {"a": 1}}), Some(10), &clock).is_empty());
        assert!(load(json!({"created": 0, "session": {"a": 1}}), Some(10), &clock).is_empty());
        assert!(load(json!({"session": {"a": 1}}), None, &clock).is_empty(), "the default lifetime is a limit too");
        let mut unbounded = Expiry::default();
        unbounded.set_default_lifetime(None);
        let load = |payload| {
            SessionState::from_payload(Some("id".into()), Payload::from_value(payload), &unbounded, clock.clock())
                .unwrap()
        };
        let no_created = load(json!({"session": {"a": 1}}));
        assert_eq!((no_created.len(), no_created.created()), (1, T));
        let zero = load(json!({"created": 0, "session": {"a": 1}}));
        assert_eq!((zero.len(), zero.created()), (1, 0));
    }

    #[test]
    fn extreme_created_values_do_not_overflow() {
        let clock = ManualClock::new(T);
        assert_eq!(load(json!({"created": i64::MIN, "session": {"a": 1}}), Some(10), &clock).len(), 0);
        assert_eq!(load(json!({"created": i64::MAX, "session": {"a": 1}}), Some(u64::MAX), &clock).len(), 1);
        assert_eq!(load(json!({"created": 1.7e300, "session": {"a": 1}}), Some(10), &clock).len(), 1);
        assert_eq!(load(json!({"created": u64::MAX, "session": {"a": 1}}), None, &clock).len(), 1);
    }

    #[test]
    fn malformed_payloads_are_rejected() {
        let clock = ManualClock::new(T);
        let reject = |payload: Value| {
            SessionState::from_payload(None, Payload::from_value(payload), &Expiry::default(), clock.clock()).err()
        };
        assert_eq!(reject(json!([1, 2])), Some(Malformed::NotAnObject));
        assert_eq!(reject(json!("text")), Some(Malformed::NotAnObject));
        assert_eq!(reject(json!({"created": "yesterday", "session": {}})), Some(Malformed::CreatedNotANumber));
        assert_eq!(reject(json!({"created": 1, "session": [1]})), Some(Malformed::SessionNotAnObject));
        // The reason goes to the log: it must say which.
        assert_eq!(Malformed::CreatedNotANumber.to_string(), "`created` is not a number");
    }

    #[test]
    fn loaded_session_keeps_stored_order_and_appends_new_keys() {
        let clock = ManualClock::new(T);
        let mut session = load(json!({"created": T, "session": {"z": 1, "a": 2}}), None, &clock);
        session.insert("m", 3).unwrap();
        assert_eq!(session.keys().collect::<Vec<_>>(), ["z", "a", "m"]);
    }

    #[test]
    fn storage_max_age_is_the_default_and_session_max_age_is_its_own() {
        let clock = ManualClock::new(T);
        let mut session = load(json!({"created": T, "session": {"a": 1}}), Some(30), &clock);
        assert_eq!(session.max_age(), Some(Duration::from_secs(30)));
        session.set_max_age(Some(Duration::from_millis(3_600_900)));
        assert_eq!(session.max_age(), Some(Duration::from_secs(3600)), "whole seconds");
    }

    #[test]
    fn clear_counts_as_a_write_unless_already_empty() {
        let clock = ManualClock::new(T);
        let mut empty = fresh(&clock);
        empty.clear();
        assert!(!empty.is_changed());
        let mut full = load(json!({"created": T - 9, "session": {"a": 1}}), None, &clock);
        full.clear();
        assert!(full.is_changed() && full.is_empty());
        assert_eq!(full.created(), T);
    }

    #[test]
    fn typed_access_round_trips_and_reports_type_mismatch() {
        let clock = ManualClock::new(T);
        let mut session = fresh(&clock);
        session.insert("s", "é😀").unwrap();
        session.insert("f", 1.5).unwrap();
        session.insert("nested", json!({"l": [1, null, true]})).unwrap();
        assert_eq!(session.get::<String>("s").unwrap().as_deref(), Some("é😀"));
        assert_eq!(session.get::<f64>("f").unwrap(), Some(1.5));
        assert_eq!(session.get::<i64>("missing").unwrap(), None);
        assert!(matches!(session.get::<i64>("s"), Err(Error::Decode(_))));
        assert_eq!(session.iter().count(), 3);
        assert!(session.contains_key("nested"));
        assert!(!session.contains_key("absent"));
    }

    #[test]
    fn values_that_are_not_json_and_the_reserved_key_are_encode_errors() {
        use std::collections::HashMap;
        let clock = ManualClock::new(T);
        let mut session = fresh(&clock);
        let bad: HashMap<(u8, u8), u8> = HashMap::from([((1, 2), 3)]);
        assert!(matches!(session.insert("bad", bad), Err(Error::Encode(_))));
        assert!(matches!(session.insert(META_KEY, 1), Err(Error::Encode(_))));
        assert!(!session.is_changed());
    }

    #[test]
    fn the_reserved_key_is_kept_apart_from_the_data() {
        let clock = ManualClock::new(T);
        let payload = json!({"created": T, "session": {"a": 1, META_KEY: {"started": T - 5, "user": "u"}}});
        let session = load(payload, None, &clock);
        assert_eq!(session.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!((session.started(), session.user()), (Some(T - 5), Some("u")));
    }

    #[test]
    fn rebase_keeps_their_keys_and_our_writes() {
        let clock = ManualClock::new(T);
        let base = json!({"created": T, "session": {"a": 1, "gone": 1, "same": 1}});
        let Value::Object(mut base_record) = base.clone() else { unreachable!() };
        let Some(Value::Object(base_data)) = base_record.remove("session") else { unreachable!() };
        let base_data = Items::from(base_data);
        let mut ours = load(base, None, &clock);
        ours.insert("mine", 2).unwrap();
        ours.remove_value("gone");
        let theirs =
            load(json!({"created": T + 1, "session": {"a": 9, "gone": 1, "same": 1, "theirs": 3}}), None, &clock);
        let ours = ours.rebased(&ours.diff_since(&base_data), theirs);
        assert_eq!(Value::Object(ours.to_map()), json!({"a": 9, "same": 1, "theirs": 3, "mine": 2}));
        assert_eq!(ours.created(), T + 1);
    }

    #[test]
    fn debug_shows_neither_values_nor_identity() {
        let clock = ManualClock::new(T);
        let mut session = load(json!({"created": T, "session": {"user": "alice-secret"}}), None, &clock);
        session.set_user("bob-secret");
        let shown = format!("{session:?}");
        assert!(shown.contains("user"));
        assert!(!shown.contains("alice-secret") && !shown.contains("bob-secret"));
        assert!(!shown.contains("\"id\""));
    }
}

//! When sessions end: aiohttp-session's `max_age`, an idle timeout that reads refresh, an absolute
//! lifetime, the default lifetime of a session no limit bounds, and remembered sessions. The same
//! rules for every storage; the storage's [`StorageConfig`](crate::StorageConfig) holds one.

use std::time::Duration;

/// How long a session lives when no limit bounds it (no `max_age`, no idle timeout): two weeks from
/// its last write, on every storage (a server-side entry expires then too). Change it with
/// [`StorageConfig::with_default_lifetime`](crate::StorageConfig::with_default_lifetime).
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(14 * 24 * 3600);

/// The longest a session may be remembered (`remember_for`) unless the app says otherwise: 30 days.
/// Change it with [`StorageConfig::with_remember_limit`](crate::StorageConfig::with_remember_limit).
pub const DEFAULT_REMEMBER_LIMIT: Duration = Duration::from_secs(30 * 24 * 3600);

/// When sessions end. Each limit is optional and they combine: a session ends at the first one it
/// reaches. Limits are whole seconds (a `Duration` is rounded down), as on the wire.
///
/// | limit | counted from | refreshed by | Python aiohttp-session |
/// |---|---|---|---|
/// | `max_age` | the last write | writes | the same (`max_age`); it is also the cookie's `Max-Age` and the Fernet TTL |
/// | `idle_timeout` | the last request that used the session | writes and reads (a read refreshes at most once per `refresh_interval`) | sees a refresh as a write and keeps the session alive too |
/// | `absolute_timeout` | the session's start | nothing | keeps the start (a key in the session) when it writes, loses it on `clear()`/`invalidate()` |
/// | default lifetime (two weeks) | the last write, when neither `max_age` nor `idle_timeout` is set | writes | judges by its own `max_age` (none: it keeps the session) |
/// | a remembered session's lifetime (`remember_for`), up to the remember limit | the last use, in place of `max_age` and `idle_timeout` | writes and reads | judges by its own `max_age` |
///
/// A refresh is a save without a change of data: a re-sealed cookie, a rewritten entry with a new
/// TTL. It moves `created` to now, which is how a Python peer judges the session alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    max_age: Option<u64>,
    idle_timeout: Option<u64>,
    refresh_interval: Option<u64>,
    absolute_timeout: Option<u64>,
    default_lifetime: Option<u64>,
    remember_limit: Option<u64>,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            max_age: None,
            idle_timeout: None,
            refresh_interval: None,
            absolute_timeout: None,
            default_lifetime: Some(seconds(DEFAULT_LIFETIME)),
            remember_limit: Some(seconds(DEFAULT_REMEMBER_LIMIT)),
        }
    }
}

/// Whole seconds of a lifetime, as the wire carries them.
pub(crate) fn seconds(duration: Duration) -> u64 {
    duration.as_secs()
}

impl Expiry {
    pub(crate) fn set_max_age(&mut self, max_age: Option<Duration>) {
        self.max_age = max_age.map(seconds);
    }

    pub(crate) fn set_idle_timeout(&mut self, idle: Option<Duration>) {
        self.idle_timeout = idle.map(seconds);
    }

    pub(crate) fn set_refresh_interval(&mut self, interval: Option<Duration>) {
        self.refresh_interval = interval.map(seconds);
    }

    pub(crate) fn set_absolute_timeout(&mut self, absolute: Option<Duration>) {
        self.absolute_timeout = absolute.map(seconds);
    }

    pub(crate) fn set_default_lifetime(&mut self, lifetime: Option<Duration>) {
        self.default_lifetime = lifetime.map(seconds);
    }

    pub(crate) fn set_remember_limit(&mut self, limit: Option<Duration>) {
        self.remember_limit = limit.map(seconds);
    }

    /// aiohttp-session's `max_age`: the idle time since the last write after which a session loads
    /// empty, and the lifetime written with each session (cookie `Max-Age`, entry TTL).
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age.map(Duration::from_secs)
    }

    /// The idle time since the last use (reads included) after which a session loads empty.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout.map(Duration::from_secs)
    }

    /// How often a read refreshes a session under an idle timeout: the configured interval, or half
    /// the idle timeout (so an active user is never closer than half of it to the end).
    pub fn refresh_interval(&self) -> Option<Duration> {
        self.refresh_seconds(None).map(Duration::from_secs)
    }

    /// The lifetime from the session's start that neither writes nor refreshes extend.
    pub fn absolute_timeout(&self) -> Option<Duration> {
        self.absolute_timeout.map(Duration::from_secs)
    }

    /// How long after its last write a session that no other limit bounds lives ([`DEFAULT_LIFETIME`]
    /// unless changed); `None`: such a session never ends.
    pub fn default_lifetime(&self) -> Option<Duration> {
        self.default_lifetime.map(Duration::from_secs)
    }

    /// The longest a session may be remembered ([`DEFAULT_REMEMBER_LIMIT`] unless changed); `None`: a
    /// session cannot be remembered beyond the other limits.
    pub fn remember_limit(&self) -> Option<Duration> {
        self.remember_limit.map(Duration::from_secs)
    }

    /// Whether no limit at all ends a session: it would live forever.
    pub fn is_unbounded(&self) -> bool {
        [self.max_age, self.idle_timeout, self.absolute_timeout, self.default_lifetime].iter().all(Option::is_none)
    }

    /// The longest any session of the storage may live between two writes or refreshes: what a
    /// marker that must outlive every session of a user lives. `None` when sessions may live forever.
    pub fn longest_life(&self) -> Option<Duration> {
        if self.is_unbounded() {
            return None;
        }
        let limits =
            [self.max_age, self.idle_timeout, self.absolute_timeout, self.default_lifetime, self.remember_limit];
        limits.into_iter().flatten().max().map(Duration::from_secs)
    }

    pub(crate) fn max_age_seconds(&self) -> Option<u64> {
        self.max_age
    }

    /// A remembered session's own lifetime, capped at the remember limit (`None`: not remembered, or
    /// remembering is off).
    pub(crate) fn remembered(&self, lifetime: Option<u64>) -> Option<u64> {
        Some(lifetime?.min(self.remember_limit?))
    }

    /// The idle limit of a session: its remembered lifetime, else the shortest of `max_age` and the
    /// idle timeout, else the default lifetime.
    fn idle_limit(&self, lifetime: Option<u64>) -> Option<u64> {
        if let Some(remembered) = self.remembered(lifetime) {
            return Some(remembered);
        }
        match (self.max_age, self.idle_timeout) {
            (None, None) => self.default_lifetime,
            (max_age, idle) => [max_age, idle].into_iter().flatten().min(),
        }
    }

    fn refresh_seconds(&self, lifetime: Option<u64>) -> Option<u64> {
        let idle = self.remembered(lifetime).or(self.idle_timeout)?;
        Some(self.refresh_interval.unwrap_or(idle / 2))
    }

    /// Whether the session's start must be kept (an absolute timeout is set).
    pub(crate) fn tracks_start(&self) -> bool {
        self.absolute_timeout.is_some()
    }

    /// Whether a session last written (or refreshed) at `created`, started at `started` and remembered
    /// for `lifetime` has ended by `now`. A missing or zero `created` counts as ended when an idle limit
    /// applies (aiohttp's rule); an age equal to a limit is still valid.
    pub(crate) fn has_ended(
        &self,
        now: i64,
        created: Option<i64>,
        started: Option<i64>,
        lifetime: Option<u64>,
    ) -> bool {
        let age = match created {
            Some(created) if created != 0 => i128::from(now) - i128::from(created),
            _ => i128::from(now),
        };
        let over = |limit: Option<u64>, age: i128| limit.is_some_and(|limit| age > i128::from(limit));
        if over(self.idle_limit(lifetime), age) {
            return true;
        }
        let start = started.or(created).unwrap_or(0);
        over(self.absolute_timeout, i128::from(now) - i128::from(start))
    }

    /// Whether a read at `now` of a session last refreshed at `created` should refresh it.
    pub(crate) fn refresh_due(&self, now: i64, created: i64, lifetime: Option<u64>) -> bool {
        self.refresh_seconds(lifetime).is_some_and(|every| i128::from(now) - i128::from(created) >= i128::from(every))
    }

    /// Seconds left before the absolute timeout of a session started at `started` (none without one).
    pub(crate) fn absolute_remaining(&self, now: i64, started: i64) -> Option<u64> {
        let absolute = self.absolute_timeout?;
        let left = i128::from(started) + i128::from(absolute) - i128::from(now);
        Some(u64::try_from(left.max(0)).unwrap_or(u64::MAX))
    }

    /// The longest an entry written now may have to live: the session's idle limit (its own `max_age`
    /// counting as `max_age`), or what is left of the absolute one if less.
    pub(crate) fn entry_seconds(
        &self,
        now: i64,
        max_age: Option<u64>,
        started: Option<i64>,
        lifetime: Option<u64>,
    ) -> Option<u64> {
        let idle = match self.remembered(lifetime) {
            Some(remembered) => Some(remembered),
            None => Expiry { max_age, ..*self }.idle_limit(None),
        };
        let absolute = started.and_then(|started| self.absolute_remaining(now, started));
        [idle, absolute].into_iter().flatten().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000;
    const DAY: u64 = 24 * 3600;

    fn expiry(max_age: Option<u64>, idle: Option<u64>, absolute: Option<u64>) -> Expiry {
        let mut expiry = Expiry::default();
        expiry.set_max_age(max_age.map(Duration::from_secs));
        expiry.set_idle_timeout(idle.map(Duration::from_secs));
        expiry.set_absolute_timeout(absolute.map(Duration::from_secs));
        expiry
    }

    #[test]
    fn no_limit_at_all_never_ends() {
        let mut unbounded = Expiry::default();
        unbounded.set_default_lifetime(None);
        assert!(unbounded.is_unbounded() && unbounded.longest_life().is_none());
        assert!(!unbounded.has_ended(T, Some(0), None, None));
        assert!(!unbounded.has_ended(T, None, None, None));
        assert!(!Expiry::default().is_unbounded());
    }

    #[test]
    fn without_a_limit_a_session_lives_two_weeks_from_its_last_write() {
        let two_weeks = 14 * DAY;
        assert_eq!(DEFAULT_LIFETIME, Duration::from_secs(two_weeks));
        let e = Expiry::default();
        assert!(!e.has_ended(T, Some(T - two_weeks as i64), None, None));
        assert!(e.has_ended(T, Some(T - two_weeks as i64 - 1), None, None));
        assert!(!e.refresh_due(T, T - two_weeks as i64, None), "reads do not refresh it");
        assert_eq!(e.entry_seconds(T, None, None, None), Some(two_weeks));
        assert_eq!(e.entry_seconds(T, Some(60), None, None), Some(60), "the session's max_age replaces it");
        assert_eq!(
            expiry(None, Some(60), None).entry_seconds(T, None, None, None),
            Some(60),
            "so does an idle timeout"
        );
    }

    #[test]
    fn idle_limits_count_from_created_and_equal_age_is_valid() {
        for e in [expiry(Some(10), None, None), expiry(None, Some(10), None)] {
            assert!(!e.has_ended(T, Some(T - 10), None, None));
            assert!(e.has_ended(T, Some(T - 11), None, None));
            assert!(e.has_ended(T, None, None, None), "a missing created counts as ended");
            assert!(e.has_ended(T, Some(0), None, None), "so does zero");
            assert!(!e.has_ended(T, Some(T + 1000), None, None), "from the future is not ended");
        }
    }

    #[test]
    fn absolute_counts_from_the_start_or_created() {
        let e = expiry(None, None, Some(100));
        assert!(!e.has_ended(T, Some(T), Some(T - 100), None));
        assert!(e.has_ended(T, Some(T), Some(T - 101), None), "writes do not extend it");
        assert!(e.has_ended(T, Some(T - 101), None, None), "without a start, `created` is the start");
    }

    #[test]
    fn refresh_is_due_after_half_the_idle_timeout_or_the_interval() {
        let mut e = expiry(None, Some(60), None);
        assert_eq!(e.refresh_interval(), Some(Duration::from_secs(30)));
        assert!(!e.refresh_due(T, T - 29, None));
        assert!(e.refresh_due(T, T - 30, None));
        e.set_refresh_interval(Some(Duration::from_secs(5)));
        assert!(e.refresh_due(T, T - 5, None));
        assert!(!expiry(Some(60), None, None).refresh_due(T, 0, None), "max_age alone never refreshes on read");
    }

    #[test]
    fn a_remembered_session_lives_its_own_lifetime_up_to_the_limit() {
        let e = expiry(Some(3600), Some(600), None);
        let month = 30 * DAY;
        assert!(!e.has_ended(T, Some(T - 5 * DAY as i64), None, Some(7 * DAY)), "7 days outlive the hour");
        assert!(e.has_ended(T, Some(T - 8 * DAY as i64), None, Some(7 * DAY)));
        assert!(!e.has_ended(T, Some(T - month as i64), None, Some(365 * DAY)), "capped at 30 days");
        assert!(e.has_ended(T, Some(T - month as i64 - 1), None, Some(365 * DAY)));
        assert!(e.refresh_due(T, T - 4 * DAY as i64, Some(7 * DAY)), "reads refresh it at half its lifetime");
        assert_eq!(e.entry_seconds(T, Some(3600), None, Some(365 * DAY)), Some(month));
        let mut off = e;
        off.set_remember_limit(None);
        assert!(off.has_ended(T, Some(T - 3601), None, Some(7 * DAY)), "no remember limit: the storage's limits");
        assert_eq!(off.remembered(Some(7 * DAY)), None);
    }

    #[test]
    fn entries_live_as_long_as_the_shortest_limit() {
        let e = expiry(None, Some(600), Some(3600));
        assert_eq!(e.entry_seconds(T, Some(7200), Some(T - 3500), None), Some(100));
        assert_eq!(e.entry_seconds(T, None, None, None), Some(600));
        let mut unbounded = Expiry::default();
        unbounded.set_default_lifetime(None);
        assert_eq!(unbounded.entry_seconds(T, None, None, None), None);
        assert_eq!(e.absolute_remaining(T, T - 9999), Some(0));
        assert!(expiry(None, None, Some(u64::MAX)).absolute_remaining(T, i64::MIN).is_some_and(|left| left > 1 << 62));
    }

    #[test]
    fn the_longest_life_covers_every_limit() {
        let day = Duration::from_secs(DAY);
        assert_eq!(Expiry::default().longest_life(), Some(DEFAULT_REMEMBER_LIMIT));
        let mut e = expiry(Some(40 * DAY), None, None);
        assert_eq!(e.longest_life(), Some(40 * day));
        e.set_remember_limit(None);
        e.set_max_age(None);
        e.set_absolute_timeout(Some(50 * day));
        assert_eq!(e.longest_life(), Some(50 * day));
        e.set_idle_timeout(Some(60 * day));
        assert_eq!(e.longest_life(), Some(60 * day));
    }

    #[test]
    fn the_getters_answer_what_was_set() {
        let (a, b, c, d, e) = (11, 22, 33, 44, 55);
        let mut set = expiry(Some(a), Some(b), Some(c));
        set.set_default_lifetime(Some(Duration::from_secs(d)));
        set.set_remember_limit(Some(Duration::from_secs(e)));
        let got = [set.max_age(), set.idle_timeout(), set.absolute_timeout(), set.default_lifetime()];
        assert_eq!(got, [a, b, c, d].map(|s| Some(Duration::from_secs(s))));
        assert_eq!(set.remember_limit(), Some(Duration::from_secs(e)));
        let none = Expiry { default_lifetime: None, remember_limit: None, ..expiry(None, None, None) };
        let got = [none.max_age(), none.idle_timeout(), none.absolute_timeout(), none.default_lifetime()];
        assert_eq!(got, [None; 4]);
        assert_eq!(none.remember_limit(), None);
    }
}

//! When sessions end: aiohttp-session's `max_age`, an idle timeout that reads refresh, and an absolute
//! lifetime. The same rules for every storage; the storage's [`StorageConfig`](crate::StorageConfig)
//! holds one.

use std::time::Duration;

/// When sessions end. Each limit is optional and they combine: a session ends at the first one it
/// reaches. Limits are whole seconds (a `Duration` is rounded down), as on the wire.
///
/// | limit | counted from | refreshed by | Python aiohttp-session |
/// |---|---|---|---|
/// | `max_age` | the last write | writes | the same (`max_age`); it is also the cookie's `Max-Age` and the Fernet TTL |
/// | `idle_timeout` | the last request that used the session | writes and reads (a read refreshes at most once per `refresh_interval`) | sees a refresh as a write and keeps the session alive too |
/// | `absolute_timeout` | the session's start | nothing | keeps the start (a key in the session) when it writes, loses it on `clear()`/`invalidate()` |
///
/// A refresh is a save without a change of data: a re-sealed cookie, a rewritten entry with a new
/// TTL. It moves `created` to now, which is how a Python peer judges the session alive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expiry {
    max_age: Option<u64>,
    idle_timeout: Option<u64>,
    refresh_interval: Option<u64>,
    absolute_timeout: Option<u64>,
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
        self.refresh_seconds().map(Duration::from_secs)
    }

    /// The lifetime from the session's start that neither writes nor refreshes extend.
    pub fn absolute_timeout(&self) -> Option<Duration> {
        self.absolute_timeout.map(Duration::from_secs)
    }

    pub(crate) fn max_age_seconds(&self) -> Option<u64> {
        self.max_age
    }

    fn refresh_seconds(&self) -> Option<u64> {
        let idle = self.idle_timeout?;
        Some(self.refresh_interval.unwrap_or(idle / 2))
    }

    /// Whether the session's start must be kept (an absolute timeout is set).
    pub(crate) fn tracks_start(&self) -> bool {
        self.absolute_timeout.is_some()
    }

    /// Whether a session last written (or refreshed) at `created` and started at `started` has ended
    /// by `now`. A missing or zero `created` counts as ended when an idle limit is set (aiohttp's rule);
    /// an age equal to a limit is still valid.
    pub(crate) fn has_ended(&self, now: i64, created: Option<i64>, started: Option<i64>) -> bool {
        let age = match created {
            Some(created) if created != 0 => i128::from(now) - i128::from(created),
            _ => i128::from(now),
        };
        let over = |limit: Option<u64>, age: i128| limit.is_some_and(|limit| age > i128::from(limit));
        if over(self.max_age, age) || over(self.idle_timeout, age) {
            return true;
        }
        let start = started.or(created).unwrap_or(0);
        over(self.absolute_timeout, i128::from(now) - i128::from(start))
    }

    /// Whether a read at `now` of a session last refreshed at `created` should refresh it.
    pub(crate) fn refresh_due(&self, now: i64, created: i64) -> bool {
        self.refresh_seconds().is_some_and(|every| i128::from(now) - i128::from(created) >= i128::from(every))
    }

    /// Seconds left before the absolute timeout of a session started at `started` (none without one).
    pub(crate) fn absolute_remaining(&self, now: i64, started: i64) -> Option<u64> {
        let absolute = self.absolute_timeout?;
        let left = i128::from(started) + i128::from(absolute) - i128::from(now);
        Some(u64::try_from(left.max(0)).unwrap_or(u64::MAX))
    }

    /// The longest an entry written now may have to live: the shortest idle limit, or what is left of
    /// the absolute one.
    pub(crate) fn entry_seconds(&self, now: i64, max_age: Option<u64>, started: Option<i64>) -> Option<u64> {
        let absolute = started.and_then(|started| self.absolute_remaining(now, started));
        [max_age, self.idle_timeout, absolute].into_iter().flatten().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000;

    fn expiry(max_age: Option<u64>, idle: Option<u64>, absolute: Option<u64>) -> Expiry {
        let mut expiry = Expiry::default();
        expiry.set_max_age(max_age.map(Duration::from_secs));
        expiry.set_idle_timeout(idle.map(Duration::from_secs));
        expiry.set_absolute_timeout(absolute.map(Duration::from_secs));
        expiry
    }

    #[test]
    fn no_limit_never_ends() {
        assert!(!Expiry::default().has_ended(T, Some(0), None));
        assert!(!Expiry::default().has_ended(T, None, None));
    }

    #[test]
    fn idle_limits_count_from_created_and_equal_age_is_valid() {
        for e in [expiry(Some(10), None, None), expiry(None, Some(10), None)] {
            assert!(!e.has_ended(T, Some(T - 10), None));
            assert!(e.has_ended(T, Some(T - 11), None));
            assert!(e.has_ended(T, None, None), "a missing created counts as ended");
            assert!(e.has_ended(T, Some(0), None), "so does zero");
            assert!(!e.has_ended(T, Some(T + 1000), None), "from the future is not ended");
        }
    }

    #[test]
    fn absolute_counts_from_the_start_or_created() {
        let e = expiry(None, None, Some(100));
        assert!(!e.has_ended(T, Some(T), Some(T - 100)));
        assert!(e.has_ended(T, Some(T), Some(T - 101)), "writes do not extend it");
        assert!(e.has_ended(T, Some(T - 101), None), "without a start, `created` is the start");
    }

    #[test]
    fn refresh_is_due_after_half_the_idle_timeout_or_the_interval() {
        let mut e = expiry(None, Some(60), None);
        assert_eq!(e.refresh_interval(), Some(Duration::from_secs(30)));
        assert!(!e.refresh_due(T, T - 29));
        assert!(e.refresh_due(T, T - 30));
        e.set_refresh_interval(Some(Duration::from_secs(5)));
        assert!(e.refresh_due(T, T - 5));
        assert!(!expiry(Some(60), None, None).refresh_due(T, 0), "max_age alone never refreshes on read");
    }

    #[test]
    fn entries_live_as_long_as_the_shortest_limit() {
        let e = expiry(None, Some(600), Some(3600));
        assert_eq!(e.entry_seconds(T, Some(7200), Some(T - 3500)), Some(100));
        assert_eq!(e.entry_seconds(T, None, None), Some(600));
        assert_eq!(Expiry::default().entry_seconds(T, None, None), None);
        assert_eq!(e.absolute_remaining(T, T - 9999), Some(0));
        assert!(expiry(None, None, Some(u64::MAX)).absolute_remaining(T, i64::MIN).is_some_and(|left| left > 1 << 62));
    }
}

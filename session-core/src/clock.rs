//! The time source a storage reads: the system clock, or a manual one for tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where a storage and its sessions read "now", in whole Unix seconds.
///
/// Every rule that involves time (`created`, idle expiry, the Fernet TTL, cookie `Expires`, memcached's
/// absolute expiry) reads the clock of the storage that made the session, so a test can move time
/// forward with a [`ManualClock`] instead of sleeping.
///
/// Cloning is cheap: the system clock is a unit value and a manual clock shares one counter.
///
/// ```
/// use session_core::{Clock, ManualClock};
///
/// let manual = ManualClock::new(1_700_000_000);
/// let clock = manual.clock();
/// manual.advance(10);
/// assert_eq!(clock.now(), 1_700_000_010);
/// assert!(Clock::system().now() > 1_700_000_000);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The operating system's wall clock. This is the default of every storage.
    pub const fn system() -> Self {
        Clock { manual: None }
    }

    /// Current Unix time in whole seconds, truncated like Python's `int(time.time())`. The system
    /// clock reads the kernel's coarse clock on Linux and Android, up to one tick (a few
    /// milliseconds) behind.
    pub fn now(&self) -> i64 {
        match &self.manual {
            Some(time) => time.load(Ordering::Relaxed),
            None => system_seconds(),
        }
    }

    /// Current Unix time in milliseconds from the precise clock (a manual clock's seconds × 1000): for
    /// ordering events that may fall in the same second.
    pub fn now_millis(&self) -> i64 {
        match &self.manual {
            Some(time) => time.load(Ordering::Relaxed).saturating_mul(1000),
            None => i64::try_from(since_epoch().as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Whether this is the system clock (the only clock production code should use).
    pub fn is_system(&self) -> bool {
        self.manual.is_none()
    }
}

/// The wall clock in whole seconds; a clock set before 1970 (a broken host) reads as 0.
///
/// On Linux this reads `CLOCK_REALTIME_COARSE`: the time of the kernel's last tick, read from the vDSO
/// page without the TSC read (and, in a VM, its exit) that the precise clock needs. A request reads
/// the seconds three or four times (a new session's `created`, again at each insert as Python does,
/// the Fernet timestamp); on the 2-core VM of `BENCHMARKS.md` a precise read took 25 ns alone and
/// about 40 ns a read under load (`perf`), the coarse one 5.5 ns. It lags by at most one tick (1 to
/// 10 ms), which whole seconds absorb: a reading taken right after a second begins may still show the
/// one before, as a clock a few milliseconds slow would, and never one ahead of the precise clock;
/// nothing orders events by these seconds (log-out-everywhere compares epochs). A host that refuses
/// the coarse clock (a sandbox's filter, an emulator) gets the precise one.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn system_seconds() -> i64 {
    use rustix::time::{ClockId, DynamicClockId, clock_gettime_dynamic};
    match clock_gettime_dynamic(DynamicClockId::Known(ClockId::RealtimeCoarse)) {
        Ok(now) => now.tv_sec.max(0),
        Err(_) => precise_seconds(),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn system_seconds() -> i64 {
    precise_seconds()
}

fn precise_seconds() -> i64 {
    i64::try_from(since_epoch().as_secs()).unwrap_or(i64::MAX)
}

/// The precise wall clock since 1970; zero for a clock set before it (a broken host).
fn since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO)
}

/// A clock that only moves when told to: the test seam for every expiry rule.
///
/// ```
/// use session_core::ManualClock;
///
/// let clock = ManualClock::new(100);
/// clock.set(200);
/// clock.advance(5);
/// assert_eq!(clock.now(), 205);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    time: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `unix_seconds`.
    pub fn new(unix_seconds: i64) -> Self {
        ManualClock { time: Arc::new(AtomicI64::new(unix_seconds)) }
    }

    /// A [`Clock`] that reads this manual clock; hand it to a storage.
    pub fn clock(&self) -> Clock {
        Clock { manual: Some(Arc::clone(&self.time)) }
    }

    /// The time it shows.
    pub fn now(&self) -> i64 {
        self.time.load(Ordering::Relaxed)
    }

    /// Moves the clock to `unix_seconds`.
    pub fn set(&self, unix_seconds: i64) {
        self.time.store(unix_seconds, Ordering::Relaxed);
    }

    /// Moves the clock forward (or back, with a negative value) by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.time.fetch_add(seconds, Ordering::Relaxed);
    }
}

impl From<&ManualClock> for Clock {
    fn from(manual: &ManualClock) -> Self {
        manual.clock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_by_its_clocks() {
        let manual = ManualClock::new(10);
        let a = manual.clock();
        let b = Clock::from(&manual);
        manual.advance(5);
        assert_eq!((a.now(), b.now()), (15, 15));
        assert!(!a.is_system());
        assert!(Clock::system().is_system());
    }

    #[test]
    fn system_clock_reads_the_wall_clock() {
        let wall = || SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs() as i64;
        for _ in 0..1000 {
            let (before, now, after) = (wall(), Clock::system().now(), wall());
            // The coarse clock may show the second before the precise one, never one after.
            assert!(before - 1 <= now && now <= after, "{before} {now} {after}");
            // The precise clock, where the coarse one is missing or refused.
            let (before, precise, after) = (wall(), precise_seconds(), wall());
            assert!(before <= precise && precise <= after, "{before} {precise} {after}");
        }
    }
}

//! Everything the code under test logs, captured for assertions (secrets must never appear in it).

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::subscriber::DefaultGuard;

/// The log lines written on this thread since [`capture`] was called, at every level.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// Whether a span called `name` (`session.load`, `session.save`) closed with `outcome` and the
    /// store's time among its fields.
    pub fn span_closed(&self, name: &str, outcome: &str) -> bool {
        let (opened, outcome) = (format!("{name}{{"), format!("outcome=\"{outcome}\""));
        self.text().lines().any(|line| line.contains(&opened) && line.contains(&outcome) && line.contains("store_us="))
    }
}

impl io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Captures every event (down to `TRACE`), and each span with its fields when it closes, logged on
/// this thread while the guard lives: use it in a current-thread `#[tokio::test]`, where the server
/// under test runs on the same thread.
pub fn capture() -> (DefaultGuard, CapturedLogs) {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (tracing::subscriber::set_default(subscriber), logs)
}

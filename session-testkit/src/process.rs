//! Real server processes for tests: started on a free loopback port, killed on drop.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a server gets to answer after it was started.
const STARTUP: Duration = Duration::from_secs(10);

/// A port on 127.0.0.1 that nothing listens on right now (and, with `plus`, nor on `port + plus`).
pub(crate) fn free_port(plus: Option<u16>) -> io::Result<u16> {
    for _ in 0..200 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port();
        let Some(plus) = plus else {
            return Ok(port);
        };
        if let Some(other) = port.checked_add(plus)
            && TcpListener::bind((Ipv4Addr::LOCALHOST, other)).is_ok()
        {
            return Ok(port);
        }
    }
    Err(io::Error::new(io::ErrorKind::AddrInUse, "no free loopback port pair found"))
}

/// A server `launch` starts on a free port (with `plus`, one whose `port + plus` is free too), once it
/// answers `probe` with a reply that starts with `expect`; started again on another port (up to three
/// tries) when it fails to: a test running beside this one may take the port between its pick and the
/// server's bind. Every server of the testkit starts through here.
pub(crate) async fn start_on_free_port(
    plus: Option<u16>,
    mut launch: impl FnMut(u16) -> io::Result<ServerProcess>,
    probe: &[u8],
    expect: &[u8],
) -> io::Result<(ServerProcess, u16)> {
    let mut last = None;
    for _ in 0..3 {
        let port = free_port(plus)?;
        let answering = match launch(port) {
            Ok(mut process) => wait_until_answers(&mut process, port, probe, expect).await.map(|()| process),
            Err(error) => Err(error),
        };
        match answering {
            Ok(process) => return Ok((process, port)),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no server started")))
}

/// A directory under the system's temp dir, removed with everything in it on drop.
#[derive(Debug)]
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> io::Result<TempDir> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("session-testkit-{label}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server binary run with fixed arguments: started, stopped and started again on the same port.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    program: String,
    package: &'static str,
    args: Vec<String>,
    child: Option<Child>,
    /// The signal that asks the server to shut down cleanly when the handle goes (`None`: SIGKILL).
    shutdown: Option<&'static str>,
}

impl ServerProcess {
    /// Starts `program`; a missing binary is an error that names the Debian `package` to install.
    pub(crate) fn start(program: impl Into<String>, package: &'static str, args: Vec<String>) -> io::Result<Self> {
        let mut process = ServerProcess { program: program.into(), package, args, child: None, shutdown: None };
        process.spawn()?;
        Ok(process)
    }

    pub(crate) fn spawn(&mut self) -> io::Result<()> {
        self.stop();
        let child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| missing_binary(&self.program, self.package, e))?;
        self.child = Some(child);
        Ok(())
    }

    /// Kills the process (SIGKILL: no chance to save anything) and reaps it.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Asks the server to shut down with `signal` (`-INT`, `-TERM`) when the handle is dropped, and
    /// waits for it (at most 10 s, then SIGKILL): servers that leave shared memory or half-written
    /// files behind when killed.
    pub(crate) fn stopped_with(mut self, signal: &'static str) -> Self {
        self.shutdown = Some(signal);
        self
    }

    /// Freezes the process (SIGSTOP): it keeps its connections and answers nothing, like a store
    /// that hangs.
    pub(crate) fn pause(&self) -> io::Result<()> {
        self.signal("-STOP")
    }

    /// Lets a paused process run again (SIGCONT).
    pub(crate) fn resume(&self) -> io::Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> io::Result<()> {
        let pid = self.child.as_ref().map(Child::id).ok_or_else(|| io::Error::other("the server is not running"))?;
        let status = Command::new("kill").arg(signal).arg(pid.to_string()).status()?;
        if status.success() { Ok(()) } else { Err(io::Error::other(format!("kill {signal} {pid} failed"))) }
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub(crate) fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(signal) = self.shutdown {
            // A paused server cannot act on the signal: let it run first.
            let _ = self.signal("-CONT");
            if self.signal(signal).is_ok() {
                let deadline = Instant::now() + Duration::from_secs(10);
                while self.is_running() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        self.stop();
    }
}

/// Turns "file not found" into an error that says which Debian package provides `program`.
pub(crate) fn missing_binary(program: &str, package: &str, error: io::Error) -> io::Error {
    if error.kind() == io::ErrorKind::NotFound {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "`{program}` is not installed: install the Debian package `{package}` (apt-get install -y {package})"
            ),
        )
    } else {
        io::Error::new(error.kind(), format!("could not start `{program}`: {error}"))
    }
}

/// Waits until the server on `port` answers `probe` with a reply that starts with `expect`.
pub(crate) async fn wait_until_answers(
    process: &mut ServerProcess,
    port: u16,
    probe: &[u8],
    expect: &[u8],
) -> io::Result<()> {
    let deadline = Instant::now() + STARTUP;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        if ask(address, probe).await.is_ok_and(|reply| reply.starts_with(expect)) {
            return Ok(());
        }
        if !process.is_running() {
            return Err(io::Error::other(format!("`{}` exited before it answered on port {port}", process.program)));
        }
        if Instant::now() > deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("`{}` did not answer on port {port}", process.program),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends `request` on a new connection and returns the first chunk of the reply.
pub(crate) async fn ask(address: SocketAddr, request: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(request).await?;
    let mut reply = vec![0u8; 16 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut reply))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no reply"))??;
    reply.truncate(n);
    Ok(reply)
}

/// The server in `slot` if one is still in use, or a new one from `start`: a server shared by the tests
/// of one test binary that run at the same time, stopped when the last `Arc` is dropped (a later caller
/// starts another).
pub(crate) async fn shared<T>(
    slot: &tokio::sync::Mutex<Weak<T>>,
    start: impl Future<Output = io::Result<T>>,
) -> io::Result<Arc<T>> {
    let mut shared = slot.lock().await;
    if let Some(server) = shared.upgrade() {
        return Ok(server);
    }
    let server = Arc::new(start.await?);
    *shared = Arc::downgrade(&server);
    Ok(server)
}

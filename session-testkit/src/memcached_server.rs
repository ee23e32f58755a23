//! `memcached` processes for tests.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use std::time::Duration;

use crate::process::{ServerProcess, ask, start_on_free_port, wait_until_answers};
use crate::suite::Entry;

/// A `memcached` on a free 127.0.0.1 port (UDP off), killed on drop.
///
/// ```no_run
/// # session_testkit::block_on(async {
/// let server = session_testkit::MemcachedServer::start().await?;
/// let address = server.address(); // "127.0.0.1:<port>"
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct MemcachedServer {
    process: ServerProcess,
    port: u16,
}

impl MemcachedServer {
    /// Starts `memcached -l 127.0.0.1 -p <free port> -U 0` and waits until it answers `version`.
    pub async fn start() -> io::Result<Self> {
        let launch = |port: u16| {
            // memcached refuses to run as root without -u; as any other user -u is ignored.
            let args = ["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0", "-u", "root"].map(String::from).to_vec();
            ServerProcess::start("memcached", "memcached", args)
        };
        let (process, port) = start_on_free_port(None, launch, b"version\r\n", b"VERSION").await?;
        Ok(MemcachedServer { process, port })
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing is answered, like a store that
    /// hangs.
    pub fn pause(&self) -> io::Result<()> {
        self.process.pause()
    }

    /// Lets a paused server answer again (SIGCONT).
    pub fn resume(&self) -> io::Result<()> {
        self.process.resume()
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the server; everything it held is gone.
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Starts an empty server again on the same port and waits until it answers.
    pub async fn restart(&mut self) -> io::Result<()> {
        self.process.spawn()?;
        wait_until_answers(&mut self.process, self.port, b"version\r\n", b"VERSION").await
    }

    /// Sends one text-protocol command (without the trailing CRLF) and returns the raw reply: for checks
    /// that must not go through the code under test, and to write what a Python peer would write.
    pub async fn command(&self, command: &str) -> io::Result<String> {
        let reply =
            ask(SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)), format!("{command}\r\n").as_bytes()).await?;
        Ok(String::from_utf8_lossy(&reply).into_owned())
    }

    /// What the server holds under `key` (`mg <key> t`): the conformance suite's probe, asking the
    /// server rather than the code under test. `None` when there is no such key.
    pub async fn entry(&self, key: &str) -> io::Result<Option<Entry>> {
        let reply = self.command(&format!("mg {key} t")).await?;
        // `HD t<seconds>` (`t-1`: no expiry) or `EN` (miss).
        let Some(flags) = reply.trim().strip_prefix("HD") else {
            return Ok(None);
        };
        let ttl = flags.split_whitespace().find_map(|flag| flag.strip_prefix('t')).and_then(|t| t.parse::<i64>().ok());
        Ok(Some(Entry { ttl: ttl.filter(|&t| t >= 0).map(|t| Duration::from_secs(t.unsigned_abs())) }))
    }

    /// The value under `key`, read with the text protocol's `get` (as aiomcache reads it).
    pub async fn get(&self, key: &str) -> io::Result<Option<String>> {
        let reply = self.command(&format!("get {key}")).await?;
        // VALUE <key> <flags> <bytes>\r\n<data>\r\nEND\r\n
        Ok(reply
            .strip_prefix("VALUE ")
            .and_then(|rest| rest.split_once("\r\n"))
            .map(|(_, data)| data.strip_suffix("\r\nEND\r\n").unwrap_or(data).to_owned()))
    }

    /// Stores `value` under `key` as aiomcache does: `set <key> 0 <exptime> <bytes>`.
    pub async fn set(&self, key: &str, value: &str, exptime: u32) -> io::Result<String> {
        self.command(&format!("set {key} 0 {exptime} {}\r\n{value}", value.len())).await
    }
}

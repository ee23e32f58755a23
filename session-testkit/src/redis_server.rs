//! `redis-server` processes for tests: one node, or a three-master cluster.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::process::{ServerProcess, TempDir, ask, missing_binary, start_on_free_port, wait_until_answers};
use crate::suite::Entry;

const PACKAGE: &str = "redis-server";
/// What shows a server answers: `PING`, and the reply it starts with.
const PING: &[u8] = b"PING\r\n";
const PONG: &[u8] = b"+PONG";
/// No snapshots, no append-only file: every server here but the persistent one.
const EPHEMERAL: [&str; 4] = ["--save", "", "--appendonly", "no"];

/// A `redis-server` on a free 127.0.0.1 port with its own temp dir, killed on drop.
///
/// ```no_run
/// # session_testkit::block_on(async {
/// let server = session_testkit::RedisServer::start().await?;
/// let url = server.url(); // redis://127.0.0.1:<port>/
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct RedisServer {
    process: ServerProcess,
    port: u16,
    dir: TempDir,
    tls: Option<Tls>,
}

/// The TLS side of a server from [`RedisServer::start_tls`].
#[derive(Debug)]
struct Tls {
    port: u16,
    ca_pem: String,
    /// The certificate and key the server reads, removed with it.
    _files: TempDir,
}

impl RedisServer {
    /// A server without persistence (`--save "" --appendonly no`), answering `PING`.
    pub async fn start() -> io::Result<Self> {
        Self::start_program("redis-server", None, |_| Ok(owned(&EPHEMERAL))).await
    }

    /// A server that writes every command to its append-only file before answering
    /// (`--appendonly yes --appendfsync always`): what it acknowledged survives a `kill -9`.
    pub async fn start_persistent() -> io::Result<Self> {
        let options = ["--save", "", "--appendonly", "yes", "--appendfsync", "always"];
        Self::start_program("redis-server", None, |_| Ok(owned(&options))).await
    }

    /// A server without persistence on `port` of 127.0.0.1 (for a test where an app already points
    /// there, waiting for Redis to come up).
    pub async fn start_on(port: u16) -> io::Result<Self> {
        let dir = TempDir::new("redis")?;
        let mut process = ServerProcess::start("redis-server", PACKAGE, arguments(port, &dir, owned(&EPHEMERAL)))?;
        wait_until_answers(&mut process, port, PING, PONG).await?;
        Ok(RedisServer { process, port, dir, tls: None })
    }

    /// A server without persistence that also listens for TLS on its own free port, with a
    /// certificate for `127.0.0.1` and `localhost` issued by a CA made for this server alone
    /// ([`ca_certificate_pem`](Self::ca_certificate_pem)). The plain port stays open for checks
    /// ([`command`](Self::command), [`entry`](Self::entry)) that must not go through the client under
    /// test. Clients need not present a certificate.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub async fn start_tls() -> io::Result<Self> {
        let dir = TempDir::new("redis-tls")?;
        let issued = crate::certificates::issue(&["127.0.0.1", "localhost"])?;
        let (certificate, key) = (dir.path().join("server.pem"), dir.path().join("server.key"));
        std::fs::write(&certificate, &issued.certificate_pem)?;
        std::fs::write(&key, &issued.key_pem)?;
        let (certificate, key) = (certificate.display().to_string(), key.display().to_string());
        // The TLS port is picked with each try of the plain one; the last pick is the server's.
        let mut tls_port = 0;
        let mut server = Self::start_program("redis-server", None, |port| {
            tls_port = crate::process::free_port(None)?;
            if tls_port == port {
                return Err(io::Error::new(io::ErrorKind::AddrInUse, "the same port twice"));
            }
            let port = tls_port.to_string();
            let tls = [
                "--tls-port",
                &port,
                "--tls-cert-file",
                &certificate,
                "--tls-key-file",
                &key,
                "--tls-auth-clients",
                "no",
            ];
            Ok(owned(&[&EPHEMERAL[..], &tls].concat()))
        })
        .await?;
        server.tls = Some(Tls { port: tls_port, ca_pem: issued.ca_pem, _files: dir });
        Ok(server)
    }

    /// A server without persistence run from `binary`, another `redis-server` build or a Valkey
    /// (`valkey-server`), to test what a newer server offers.
    pub async fn start_binary(binary: impl AsRef<std::path::Path>) -> io::Result<Self> {
        let binary = binary.as_ref().display().to_string();
        Self::start_program(&binary, None, |_| Ok(owned(&EPHEMERAL))).await
    }

    /// `program` on a free port (with `plus`, one whose `port + plus` is free too), with the options
    /// `options` gives for that port.
    async fn start_program(
        program: &str,
        plus: Option<u16>,
        mut options: impl FnMut(u16) -> io::Result<Vec<String>>,
    ) -> io::Result<Self> {
        let dir = TempDir::new("redis")?;
        let launch = |port| ServerProcess::start(program, PACKAGE, arguments(port, &dir, options(port)?));
        let (process, port) = start_on_free_port(plus, launch, PING, PONG).await?;
        Ok(RedisServer { process, port, dir, tls: None })
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

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// `rediss://127.0.0.1:<tls port>/` of a server from [`start_tls`](Self::start_tls); `None` for one
    /// without TLS.
    pub fn tls_url(&self) -> Option<String> {
        self.tls.as_ref().map(|tls| format!("rediss://127.0.0.1:{}/", tls.port))
    }

    /// The PEM certificate of the CA that issued a TLS server's certificate: what a client trusts.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|tls| tls.ca_pem.as_str())
    }

    /// Kills the server (SIGKILL). Its data stays in its directory for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Starts the server again on the same port with the same options, and waits until it answers.
    pub async fn restart(&mut self) -> io::Result<()> {
        self.process.spawn()?;
        wait_until_answers(&mut self.process, self.port, PING, PONG).await
    }

    /// Runs one command (inline protocol) and returns the raw reply: for checks that must not go
    /// through the code under test.
    pub async fn command(&self, command: &str) -> io::Result<String> {
        let reply =
            ask(SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)), format!("{command}\r\n").as_bytes()).await?;
        Ok(String::from_utf8_lossy(&reply).into_owned())
    }

    /// What the server holds under `key` (`PTTL`): the conformance suite's probe, asking the server
    /// rather than the code under test. `None` when there is no such key.
    pub async fn entry(&self, key: &str) -> io::Result<Option<Entry>> {
        Ok(parse_pttl(&self.command(&format!("PTTL {key}")).await?))
    }

    /// The directory it runs in (its append-only file and log).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// `PTTL`'s reply (`:-2` no key, `:-1` no expiry, `:<ms>`) as an entry.
fn parse_pttl(reply: &str) -> Option<Entry> {
    match reply.trim().strip_prefix(':').and_then(|n| n.parse::<i64>().ok()) {
        Some(-1) => Some(Entry { ttl: None }),
        Some(ms) if ms >= 0 => Some(Entry { ttl: Some(Duration::from_millis(ms.unsigned_abs())) }),
        _ => None,
    }
}

/// The arguments of a `redis-server` on `port` of 127.0.0.1 that keeps its files in `dir`, then
/// `options`.
fn arguments(port: u16, dir: &TempDir, options: Vec<String>) -> Vec<String> {
    let mut arguments: Vec<String> = vec![
        "--port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        dir.path().display().to_string(),
        "--logfile".into(),
        dir.path().join("redis.log").display().to_string(),
    ];
    arguments.extend(options);
    arguments
}

fn owned(options: &[&str]) -> Vec<String> {
    options.iter().map(|option| (*option).to_owned()).collect()
}

/// Three `redis-server` masters on free ports, joined with `redis-cli --cluster create`; killed on drop.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three masters with cluster mode on, assigns all slots and waits for `cluster_state:ok`.
    pub async fn start() -> io::Result<Self> {
        let mut nodes = Vec::with_capacity(3);
        for _ in 0..3 {
            let options = ["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"];
            // Cluster nodes also listen on port + 10000 (the cluster bus).
            let options = owned(&[&EPHEMERAL[..], &options].concat());
            nodes.push(RedisServer::start_program("redis-server", Some(10_000), |_| Ok(options.clone())).await?);
        }
        let addresses: Vec<String> = nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)).collect();
        let output = tokio::process::Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .await
            .map_err(|e| missing_binary("redis-cli", "redis-tools", e))?;
        if !output.status.success() {
            return Err(io::Error::other(format!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&output.stdout)
            )));
        }
        let cluster = RedisCluster { nodes };
        cluster.wait_until_ready().await?;
        Ok(cluster)
    }

    /// A cluster shared by the tests of one test binary that run at the same time: started by the
    /// first caller, killed when the last `Arc` is dropped (a later caller starts a new one). Sessions
    /// of different tests never meet: their ids are random.
    pub async fn shared() -> io::Result<Arc<Self>> {
        static SHARED: tokio::sync::Mutex<Weak<RedisCluster>> = tokio::sync::Mutex::const_new(Weak::new());
        crate::process::shared(&SHARED, RedisCluster::start()).await
    }

    async fn wait_until_ready(&self) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &self.nodes {
            loop {
                if node.command("CLUSTER INFO").await.is_ok_and(|info| info.contains("cluster_state:ok")) {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "the cluster did not reach cluster_state:ok"));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// What the cluster holds under `key`, asked of every node (only the key's own node has it).
    pub async fn entry(&self, key: &str) -> io::Result<Option<Entry>> {
        for node in &self.nodes {
            if let Some(entry) = node.entry(key).await? {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    /// `redis://127.0.0.1:<port>/` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }
}

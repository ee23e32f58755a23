//! Throwaway SQL servers for tests: a Postgres cluster made by `initdb` and a MariaDB made by
//! `mariadb-install-db`, each in its own temp dir, on a free 127.0.0.1 port, stopped on drop.
//!
//! Postgres refuses to run as root: when the tests run as root, it runs as the `postgres` user
//! that Debian's `postgresql` package creates (`setpriv`, which execs, so the server is the process
//! this handle stops). Checks that must not go through the code under test use the servers' own
//! clients (`psql`, `mariadb`).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::process::{ServerProcess, TempDir, missing_binary, start_on_free_port};

/// What a Postgres server answers first to an `SSLRequest`: `N` (no TLS) once it accepts connections.
const SSL_REQUEST: &[u8] = &[0, 0, 0, 8, 4, 210, 22, 47];

/// A Postgres server of its own, on a free 127.0.0.1 port, trusting local connections as `postgres`.
///
/// ```no_run
/// # session_testkit::block_on(async {
/// let server = session_testkit::PostgresServer::start().await?;
/// let url = server.url(); // postgres://postgres@127.0.0.1:<port>/postgres
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct PostgresServer {
    process: ServerProcess,
    port: u16,
    bin: PathBuf,
    _dir: TempDir,
}

impl PostgresServer {
    /// Creates a cluster (`initdb`, no fsync) and starts it.
    pub async fn start() -> io::Result<Self> {
        let bin = postgres_bin()?;
        let dir = TempDir::new("postgres")?;
        let data = dir.path().join("data");
        let as_postgres = running_as_root()?;
        if as_postgres {
            let status = std::process::Command::new("chown").arg("-R").arg("postgres:").arg(dir.path()).status()?;
            if !status.success() {
                return Err(io::Error::other("could not hand the temp dir to the postgres user"));
            }
        }
        let initdb = bin.join("initdb").display().to_string();
        let init_args = ["-D", &data.display().to_string(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]
            .map(str::to_owned);
        let output = command_as(as_postgres, &initdb, &init_args)
            .output()
            .map_err(|e| missing_binary(&initdb, "postgresql", e))?;
        if !output.status.success() {
            return Err(io::Error::other(format!("initdb failed: {}", String::from_utf8_lossy(&output.stderr))));
        }
        let server = bin.join("postgres").display().to_string();
        let launch = |port: u16| {
            let args: Vec<String> = [
                "-D",
                &data.display().to_string(),
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-k",
                &dir.path().display().to_string(),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ]
            .map(str::to_owned)
            .to_vec();
            let (program, args) = program_as(as_postgres, &server, args);
            Ok(ServerProcess::start(program, "postgresql", args)?.stopped_with("-INT"))
        };
        let (process, port) = start_on_free_port(None, launch, SSL_REQUEST, b"N").await?;
        let server = PostgresServer { process, port, bin, _dir: dir };
        // The server accepts connections a moment before it serves queries.
        server.wait_for_queries().await?;
        Ok(server)
    }

    /// A server shared by the tests of one test binary that run at the same time: started by the
    /// first caller, stopped when the last `Arc` is dropped.
    pub async fn shared() -> io::Result<Arc<Self>> {
        static SHARED: tokio::sync::Mutex<Weak<PostgresServer>> = tokio::sync::Mutex::const_new(Weak::new());
        crate::process::shared(&SHARED, PostgresServer::start()).await
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's process id (its backends are its children): what a benchmark adds to the app's
    /// CPU time.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Runs `sql` with `psql` and answers its rows, one per line, fields split by `|`.
    pub async fn query(&self, sql: &str) -> io::Result<String> {
        let psql = self.bin.join("psql");
        let output = tokio::process::Command::new(&psql)
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-c")
            .arg(sql)
            .output()
            .await
            .map_err(|e| missing_binary(&psql.display().to_string(), "postgresql-client", e))?;
        if !output.status.success() {
            return Err(io::Error::other(format!("psql: {}", String::from_utf8_lossy(&output.stderr))));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Freezes the server (SIGSTOP on the postmaster: new connections wait).
    pub fn pause(&self) -> io::Result<()> {
        self.process.pause()
    }

    /// Lets a paused server answer again.
    pub fn resume(&self) -> io::Result<()> {
        self.process.resume()
    }

    async fn wait_for_queries(&self) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.query("SELECT 1").await {
                Ok(_) => return Ok(()),
                Err(error) if Instant::now() > deadline => return Err(error),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

/// A MariaDB server of its own, on a free 127.0.0.1 port, without grant tables (anyone connects as
/// `root`), with a database `sessions`.
#[derive(Debug)]
pub struct MariaDbServer {
    process: ServerProcess,
    port: u16,
    _dir: TempDir,
}

impl MariaDbServer {
    /// Creates the data dir (`mariadb-install-db`) and starts `mariadbd` on it.
    pub async fn start() -> io::Result<Self> {
        let dir = TempDir::new("mariadb")?;
        let data = dir.path().join("data");
        let output = std::process::Command::new("mariadb-install-db")
            .args(["--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db", "--user=root"])
            .arg(format!("--datadir={}", data.display()))
            .output()
            .map_err(|e| missing_binary("mariadb-install-db", "mariadb-server", e))?;
        if !output.status.success() {
            return Err(io::Error::other(format!(
                "mariadb-install-db failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let launch = |port: u16| {
            let args = vec![
                "--no-defaults".to_owned(),
                format!("--datadir={}", data.display()),
                format!("--socket={}", dir.path().join("mariadb.sock").display()),
                format!("--pid-file={}", dir.path().join("mariadb.pid").display()),
                format!("--port={port}"),
                "--bind-address=127.0.0.1".to_owned(),
                "--user=root".to_owned(),
                "--skip-grant-tables".to_owned(),
                "--skip-log-bin".to_owned(),
                "--innodb-buffer-pool-size=64M".to_owned(),
                "--innodb-flush-log-at-trx-commit=2".to_owned(),
                "--max-connections=300".to_owned(),
            ];
            Ok(ServerProcess::start("mariadbd", "mariadb-server", args)?.stopped_with("-TERM"))
        };
        // The server greets every new connection first: any reply means it accepts them.
        let (process, port) = start_on_free_port(None, launch, b"", b"").await?;
        let server = MariaDbServer { process, port, _dir: dir };
        server.query("CREATE DATABASE IF NOT EXISTS sessions").await?;
        Ok(server)
    }

    /// A server shared by the tests of one test binary that run at the same time.
    pub async fn shared() -> io::Result<Arc<Self>> {
        static SHARED: tokio::sync::Mutex<Weak<MariaDbServer>> = tokio::sync::Mutex::const_new(Weak::new());
        crate::process::shared(&SHARED, MariaDbServer::start()).await
    }

    /// `mysql://root@127.0.0.1:<port>/sessions`.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/sessions", self.port)
    }

    /// Runs `sql` in the database `sessions` with the `mariadb` client and answers its rows, one per
    /// line, fields split by tabs.
    pub async fn query(&self, sql: &str) -> io::Result<String> {
        let output = tokio::process::Command::new("mariadb")
            .args(["--no-defaults", "-h", "127.0.0.1", "-u", "root", "-N", "-B"])
            .arg(format!("-P{}", self.port))
            .arg("-e")
            .arg(format!("USE sessions; {sql}").replacen("USE sessions; CREATE DATABASE", "CREATE DATABASE", 1))
            .output()
            .await
            .map_err(|e| missing_binary("mariadb", "mariadb-client", e))?;
        if !output.status.success() {
            return Err(io::Error::other(format!("mariadb: {}", String::from_utf8_lossy(&output.stderr))));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Freezes the server (SIGSTOP).
    pub fn pause(&self) -> io::Result<()> {
        self.process.pause()
    }

    /// Lets a paused server answer again.
    pub fn resume(&self) -> io::Result<()> {
        self.process.resume()
    }
}

/// The newest Postgres under Debian's `/usr/lib/postgresql/<version>/bin`.
fn postgres_bin() -> io::Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .max();
    match newest {
        Some(version) => Ok(root.join(version.to_string()).join("bin")),
        None => Err(io::Error::new(
            io::ErrorKind::NotFound,
            "no Postgres under /usr/lib/postgresql: install the Debian package `postgresql`",
        )),
    }
}

/// Whether this process is root, so Postgres must run as `postgres`.
fn running_as_root() -> io::Result<bool> {
    let output = std::process::Command::new("id").arg("-u").output()?;
    Ok(String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// `program args` as the `postgres` user when `as_postgres` (setpriv execs it, keeping the pid).
fn program_as(as_postgres: bool, program: &str, args: Vec<String>) -> (String, Vec<String>) {
    if !as_postgres {
        return (program.to_owned(), args);
    }
    let mut wrapped: Vec<String> =
        ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"].map(str::to_owned).to_vec();
    wrapped.push(program.to_owned());
    wrapped.extend(args);
    ("setpriv".to_owned(), wrapped)
}

fn command_as(as_postgres: bool, program: &str, args: &[String]) -> std::process::Command {
    let (program, args) = program_as(as_postgres, program, args.to_vec());
    let mut command = std::process::Command::new(program);
    command.args(args).current_dir("/");
    command
}

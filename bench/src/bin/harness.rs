//! Serves the `last_visit` workload from each server in turn (pinned to one core), drives it from this
//! process (pinned to the other) as returning and as fresh visitors, and writes the table to
//! BENCHMARKS.md. Run through `./bench/run`, which builds everything and does the pinning.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Parser;
use session_bench::load::{self, Visitor};
use session_bench::report::{self, Kind, Row};
use session_testkit::{MemcachedServer, PostgresServer, RedisServer};
use tokio::process::{Child, Command};

/// Where the hand-written reading of a run begins in BENCHMARKS.md; a re-run keeps it.
const READING_HEADING: &str = "## Reading this run";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[derive(Parser)]
struct Cli {
    /// Seconds measured per run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of warm-up before each measured run.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Concurrent connections (each its own browser).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// The CPU the servers are pinned to.
    #[arg(long, default_value_t = 0)]
    server_cpu: usize,
    /// Only servers whose name contains one of these (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where to write the table (default: BENCHMARKS.md at the repository root; with `--only`,
    /// nowhere unless given).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Passes over every row; each row keeps its pass with the least server CPU per request (the
    /// quietest moment of a shared machine), and the errors of all passes.
    #[arg(long, default_value_t = 1)]
    passes: usize,
    /// A folder with `ours` and `ours_actix` built from another revision (`./bench/run --baseline
    /// REV` builds it): each of our rows is measured again right after with that build, as
    /// "<row> (baseline)", so before and after stand in one run.
    #[arg(long)]
    baseline: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq)]
enum Backend {
    None,
    Redis,
    Memcached,
    /// A Postgres of its own; its processes' CPU counts with the server's.
    Postgres,
    /// A SQLite file in a temp dir.
    Sqlite,
}

struct Spec {
    server: &'static str,
    kind: Kind,
    ours: bool,
    /// A binary of this workspace, or `python` for the aiohttp-session peer.
    program: &'static str,
    args: &'static [&'static str],
    path: &'static str,
    backend: Backend,
}

/// Every server meets all three kinds of visitor but the ceiling, which has no session to share: one
/// browser's parallel requests are returning visitors to it.
fn visitors(spec: &Spec) -> &'static [Visitor] {
    match spec.kind {
        Kind::Ceiling => &[Visitor::Returning, Visitor::Fresh],
        _ => &[Visitor::Returning, Visitor::Fresh, Visitor::OneBrowser],
    }
}

const SPECS: &[Spec] = &[
    Spec {
        server: "axum, no session (ceiling)",
        kind: Kind::Ceiling,
        ours: false,
        program: "axum_plain",
        args: &[],
        path: "/",
        backend: Backend::None,
    },
    Spec {
        server: "actix-web, no session",
        kind: Kind::Ceiling,
        ours: false,
        program: "actix_app",
        args: &["--store", "none"],
        path: "/",
        backend: Backend::None,
    },
    Spec {
        server: "ours: route that never asks",
        kind: Kind::Untouched,
        ours: true,
        program: "ours",
        args: &["--storage", "encrypted", "--secret-key", KEY],
        path: "/untouched",
        backend: Backend::None,
    },
    Spec {
        server: "ours: simple cookie",
        kind: Kind::PlainCookie,
        ours: true,
        program: "ours",
        args: &["--storage", "simple"],
        path: "/",
        backend: Backend::None,
    },
    Spec {
        server: "ours: encrypted cookie",
        kind: Kind::EncryptedCookie,
        ours: true,
        program: "ours",
        args: &["--storage", "encrypted", "--secret-key", KEY],
        path: "/",
        backend: Backend::None,
    },
    Spec {
        server: "ours: nacl cookie",
        kind: Kind::EncryptedCookie,
        ours: true,
        program: "ours",
        args: &["--storage", "nacl", "--secret-key", KEY],
        path: "/",
        backend: Backend::None,
    },
    Spec {
        server: "ours: redis",
        kind: Kind::Redis,
        ours: true,
        program: "ours",
        args: &["--storage", "redis", "--redis-url", "{redis}"],
        path: "/",
        backend: Backend::Redis,
    },
    Spec {
        server: "ours: redis, last writer wins",
        kind: Kind::Redis,
        ours: true,
        program: "ours",
        args: &["--storage", "redis", "--redis-url", "{redis}", "--concurrency", "last-writer-wins"],
        path: "/",
        backend: Backend::Redis,
    },
    Spec {
        server: "ours: memcached",
        kind: Kind::Memcached,
        ours: true,
        program: "ours",
        args: &["--storage", "memcached", "--memcached", "{memcached}"],
        path: "/",
        backend: Backend::Memcached,
    },
    Spec {
        server: "ours: memcached, last writer wins",
        kind: Kind::Memcached,
        ours: true,
        program: "ours",
        args: &["--storage", "memcached", "--memcached", "{memcached}", "--concurrency", "last-writer-wins"],
        path: "/",
        backend: Backend::Memcached,
    },
    Spec {
        server: "ours on actix-web: encrypted cookie",
        kind: Kind::EncryptedCookie,
        ours: true,
        program: "ours_actix",
        args: &["--storage", "encrypted", "--secret-key", KEY],
        path: "/",
        backend: Backend::None,
    },
    Spec {
        server: "ours on actix-web: redis",
        kind: Kind::Redis,
        ours: true,
        program: "ours_actix",
        args: &["--storage", "redis", "--redis-url", "{redis}"],
        path: "/",
        backend: Backend::Redis,
    },
    Spec {
        server: "tower-sessions: MemoryStore",
        kind: Kind::Memory,
        ours: false,
        program: "tower_sessions_app",
        args: &["--store", "memory"],
        path: "/",
        backend: Backend::None,
    },
    Spec {
        server: "tower-sessions: RedisStore",
        kind: Kind::Redis,
        ours: false,
        program: "tower_sessions_app",
        args: &["--store", "redis", "--redis-url", "{redis}"],
        path: "/",
        backend: Backend::Redis,
    },
    Spec {
        server: "actix-session: private cookie",
        kind: Kind::EncryptedCookie,
        ours: false,
        program: "actix_app",
        args: &["--store", "cookie"],
        path: "/",
        backend: Backend::None,
    },
    Spec {
        server: "actix-session: RedisSessionStore",
        kind: Kind::Redis,
        ours: false,
        program: "actix_app",
        args: &["--store", "redis", "--redis-url", "{redis}"],
        path: "/",
        backend: Backend::Redis,
    },
    Spec {
        server: "ours: postgres",
        kind: Kind::Postgres,
        ours: true,
        program: "ours",
        args: &["--storage", "postgres", "--database-url", "{database}"],
        path: "/",
        backend: Backend::Postgres,
    },
    Spec {
        server: "tower-sessions: PostgresStore",
        kind: Kind::Postgres,
        ours: false,
        program: "tower_sessions_app",
        args: &["--store", "postgres", "--database-url", "{database}"],
        path: "/",
        backend: Backend::Postgres,
    },
    Spec {
        server: "ours: sqlite",
        kind: Kind::Sqlite,
        ours: true,
        program: "ours",
        args: &["--storage", "sqlite", "--database-url", "{database}"],
        path: "/",
        backend: Backend::Sqlite,
    },
    Spec {
        server: "tower-sessions: SqliteStore",
        kind: Kind::Sqlite,
        ours: false,
        program: "tower_sessions_app",
        args: &["--store", "sqlite", "--database-url", "{database}"],
        path: "/",
        backend: Backend::Sqlite,
    },
    Spec {
        server: "aiohttp-session: encrypted cookie",
        kind: Kind::EncryptedCookie,
        ours: false,
        program: "python",
        args: &["--storage", "encrypted", "--secret-key", KEY],
        path: "/",
        backend: Backend::None,
    },
    Spec {
        server: "aiohttp-session: redis",
        kind: Kind::Redis,
        ours: false,
        program: "python",
        args: &["--storage", "redis", "--redis-url", "{redis}"],
        path: "/",
        backend: Backend::Redis,
    },
];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository").to_path_buf()
}

/// The virtualenv python with aiohttp-session 2.12.1, or `None` without python3.
fn python() -> Option<PathBuf> {
    let output = std::process::Command::new(repository().join("interop/setup")).output().ok()?;
    output.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// Starts the server of `spec`, from the folder `bin` (this harness's own by default).
async fn start(
    spec: &Spec,
    port: u16,
    cpu: usize,
    backend: &str,
    python: Option<&Path>,
    bin: Option<&Path>,
) -> Option<Child> {
    let here = std::env::current_exe().expect("own path");
    let (program, mut args): (PathBuf, Vec<String>) = if spec.program == "python" {
        (python?.to_path_buf(), vec![repository().join("interop/app.py").display().to_string()])
    } else if let Some(bin) = bin {
        (bin.join(spec.program), Vec::new())
    } else {
        (here.with_file_name(spec.program), Vec::new())
    };
    args.extend(
        spec.args
            .iter()
            .map(|arg| arg.replace("{redis}", backend).replace("{memcached}", backend).replace("{database}", backend)),
    );
    args.extend(["--port".to_owned(), port.to_string()]);
    let child = Command::new("taskset")
        .arg("-c")
        .arg(cpu.to_string())
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server (is taskset installed?)");
    Some(child)
}

async fn wait_until_ready(address: SocketAddr, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let probe = load::run(address, path, Visitor::Fresh, 1, Duration::ZERO, Duration::from_millis(50)).await;
        if probe.ok > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server on {address} did not answer {path}");
}

/// CPU time (user + system) `pid` has used, in µs (from `/proc/<pid>/stat`, in clock ticks of 10 ms).
fn cpu_time(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces, in parentheses): utime is the 12th, stime
    // the 13th of them.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10_000.0
}

/// The processes whose parent is `root` (a Postgres postmaster's backends and workers).
fn children(root: u32) -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc").into_iter().flatten().filter_map(move |entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let parent: u32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
        (parent == root).then_some(pid)
    })
}

/// CPU time of `root` and of its children (a Postgres postmaster and its backends), in µs.
fn tree_cpu_time(root: u32) -> f64 {
    cpu_time(root) + children(root).map(cpu_time).sum::<f64>()
}

/// Moves `root` and its children to `cpu`; the backends it forks later inherit it. The database then
/// shares the server's CPU rather than the load generator's: its CPU time is counted with the
/// server's, and on the load generator's CPU it was preempted by the load it answers, which moved a
/// row's figure by up to 30 % between passes.
fn pin_tree(root: u32, cpu: usize) {
    for pid in std::iter::once(root).chain(children(root)) {
        let _ = std::process::Command::new("taskset")
            .args(["-a", "-p", "-c", &cpu.to_string(), &pid.to_string()])
            .stdout(Stdio::null())
            .status();
    }
}

/// Peak resident memory of `pid`, KiB.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:").map(|v| v.trim().to_owned()))
        .unwrap_or_default();
    // `nproc` would count only the CPU this harness is pinned to.
    let cpus = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    format!("{cpu}, {cpus} CPUs, {memory} memory, {}", command_output("uname", &["-sr"]))
}

fn locked_version(name: &str) -> String {
    let lock = std::fs::read_to_string(repository().join("bench/Cargo.lock")).unwrap_or_default();
    let marker = format!("name = \"{name}\"\nversion = \"");
    lock.split(&marker).nth(1).and_then(|rest| rest.split('"').next()).unwrap_or("?").to_owned()
}

/// One run of `spec` with `visitor`: a fresh store if it needs one, the server (from the folder
/// `baseline` when given), warm-up, the measured window. `None` when the server cannot start (the
/// Python rows without python3).
async fn measure(
    spec: &Spec,
    visitor: Visitor,
    cli: &Cli,
    python: Option<&Path>,
    baseline: Option<&Path>,
) -> Option<Row> {
    let (warmup, duration) = (Duration::from_secs(cli.warmup), Duration::from_secs(cli.seconds));
    let redis =
        if spec.backend == Backend::Redis { Some(RedisServer::start().await.expect("redis-server")) } else { None };
    let memcached = if spec.backend == Backend::Memcached {
        Some(MemcachedServer::start().await.expect("memcached"))
    } else {
        None
    };
    let postgres =
        if spec.backend == Backend::Postgres { Some(PostgresServer::start().await.expect("postgres")) } else { None };
    let sqlite = (spec.backend == Backend::Sqlite)
        .then(|| std::env::temp_dir().join(format!("session-bench-{}-{}.db", std::process::id(), free_port())));
    let backend = redis
        .as_ref()
        .map(RedisServer::url)
        .or(memcached.as_ref().map(MemcachedServer::address))
        .or(postgres.as_ref().map(PostgresServer::url))
        .or(sqlite.as_ref().map(|path| format!("sqlite://{}?mode=rwc", path.display())))
        .unwrap_or_default();
    let port = free_port();
    let mut child = start(spec, port, cli.server_cpu, &backend, python, baseline).await?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    wait_until_ready(address, spec.path).await;
    // The server's CPU time over the measured window, read as it opens and closes.
    let pid = child.id().unwrap_or(0);
    // A database server's processes (the postmaster and a backend per connection) work for the server.
    let database = postgres.as_ref().and_then(PostgresServer::pid);
    if let Some(database) = database {
        pin_tree(database, cli.server_cpu);
    }
    // The app's CPU time and the database's, apart.
    let window = tokio::spawn(async move {
        tokio::time::sleep(warmup).await;
        let before = (cpu_time(pid), database.map_or(0.0, tree_cpu_time));
        tokio::time::sleep(duration).await;
        (cpu_time(pid) - before.0, database.map_or(0.0, tree_cpu_time) - before.1)
    });
    let mut measured = load::run(address, spec.path, visitor, cli.connections, warmup, duration).await;
    let (app_cpu, database_cpu) = window.await.unwrap_or((0.0, 0.0));
    let cpu = app_cpu + database_cpu;
    let peak_rss_kib = child.id().map(peak_rss).unwrap_or(0);
    let _ = child.kill().await;
    if let Some(path) = &sqlite {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    let row = Row {
        server: if baseline.is_some() { format!("{} (baseline)", spec.server) } else { spec.server.to_owned() },
        kind: spec.kind,
        ours: spec.ours,
        visitor,
        rate: measured.rate(),
        cpu_per_request: if measured.ok > 0 { cpu / measured.ok as f64 } else { 0.0 },
        p50: measured.latency(0.50),
        p99: measured.latency(0.99),
        errors: measured.errors,
        round_trip: if measured.ok > 0 { 100.0 * measured.returned as f64 / measured.ok as f64 } else { 0.0 },
        peak_rss_kib,
    };
    eprintln!(
        "{:<40} {:<10} {:>9.0} req/s  {:>6.1} µs CPU/req{}  p50 {:>6} µs  p99 {:>6} µs  errors {:>4}  visit shown {:>5.1} %{}  peak RSS {:>6.1} MiB",
        row.server,
        format!("{visitor:?}").to_lowercase(),
        row.rate,
        row.cpu_per_request,
        match database {
            Some(_) if measured.ok > 0 => format!(" (database {:.1})", database_cpu / measured.ok as f64),
            _ => String::new(),
        },
        row.p50,
        row.p99,
        row.errors,
        row.round_trip,
        if row.valid() { "" } else { " INVALID" },
        row.peak_rss_kib as f64 / 1024.0
    );
    Some(row)
}

/// Adds `row`, or keeps the quieter of it and the same row of an earlier pass (with both passes'
/// errors).
fn keep(rows: &mut Vec<Row>, row: Row) {
    match rows.iter_mut().find(|kept| kept.server == row.server && kept.visitor == row.visitor) {
        Some(kept) => {
            let errors = kept.errors + row.errors;
            // A pass whose sessions did not round-trip makes the row invalid, whichever pass is kept.
            let invalid = [&*kept, &row].into_iter().find(|pass| !pass.valid()).map(|pass| pass.round_trip);
            if row.cpu_per_request < kept.cpu_per_request {
                *kept = row;
            }
            kept.errors = errors;
            if let Some(round_trip) = invalid {
                kept.round_trip = round_trip;
            }
        }
        None => rows.push(row),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let python = python();
    if python.is_none() {
        eprintln!("python3 with venv is not available: the aiohttp-session rows are left out");
    }
    let mut rows: Vec<Row> = Vec::new();
    // Passes go over every row in turn, so each pass of a row falls at a different moment.
    for _ in 0..cli.passes.max(1) {
        for spec in
            SPECS.iter().filter(|s| cli.only.is_empty() || cli.only.iter().any(|only| s.server.contains(only.as_str())))
        {
            for &visitor in visitors(spec) {
                // Our rows, then the same rows from the baseline build right after: one minute of the
                // machine for both.
                let builds = [None, cli.baseline.as_deref().filter(|_| spec.ours)];
                for bin in
                    builds.into_iter().enumerate().filter_map(|(n, bin)| (n == 0 || bin.is_some()).then_some(bin))
                {
                    let Some(row) = measure(spec, visitor, &cli, python.as_deref(), bin).await else { continue };
                    keep(&mut rows, row);
                }
            }
        }
    }
    let table = report::markdown(&rows);
    println!("{table}");
    let document = format!(
        "# Benchmarks\n\n\
         Written by `./bench/run` on {date}. Re-run it to replace this file; the figures are one run on a shared, \
         noisy machine, so compare ratios within this table rather than with other machines.\n\n\
         - Machine: {machine}\n\
         - rustc: {rustc}; axum {axum}, tower-sessions {ts}, tower-sessions-redis-store {tsr}, actix-web {aw}, actix-session {as_}; \
           Python peer: aiohttp-session 2.12.1 on aiohttp 3.14.5 ({python})\n\
         - Method: each server alone, pinned to CPU {cpu} (`taskset`); the load generator (this harness, Rust, HTTP/1.1 \
           keep-alive) pinned to the other CPU; {connections} connections, each one browser: a returning visitor keeps \
           the cookies its responses set, a fresh visitor sends none, and \"one browser, parallel\" sends one session's \
           cookie on every connection (a page firing {connections} requests at once, each writing the session). \
           {warmup} s warm-up, then {seconds} s measured, in {passes} pass(es) over all rows; each row shows its pass \
           with the least server CPU per request, and the errors of all passes. Each request reads `last_visit`, writes it and \
           answers a short text (aiohttp-session's `last_visit` demo). Redis and memcached are started fresh for each \
           run, unpinned; Postgres fresh for each run and pinned to the server's CPU, its processes' CPU time counted \
           with the server's. Server CPU is the server process's user + system time over the measured window (from \
           `/proc`), divided by its successful requests. Peak RSS is the server's `VmHWM`.\n\n{table}\n",
        date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        machine = machine(),
        rustc = command_output("rustc", &["--version"]),
        axum = locked_version("axum"),
        ts = locked_version("tower-sessions"),
        tsr = locked_version("tower-sessions-redis-store"),
        aw = locked_version("actix-web"),
        as_ = locked_version("actix-session"),
        python = python
            .as_ref()
            .map(|p| command_output(&p.display().to_string(), &["--version"]))
            .unwrap_or_else(|| "not run".into()),
        cpu = cli.server_cpu,
        connections = cli.connections,
        warmup = cli.warmup,
        seconds = cli.seconds,
        passes = cli.passes.max(1),
    );
    // A run of some rows is printed only: it must not replace the full table.
    let output = match cli.output {
        Some(output) => output,
        None if cli.only.is_empty() => repository().join("BENCHMARKS.md"),
        None => return,
    };
    // The hand-written reading below the table survives a re-run; only the table above it is ours.
    let reading = std::fs::read_to_string(&output)
        .ok()
        .and_then(|old| old.find(READING_HEADING).map(|at| old[at..].to_owned()))
        .unwrap_or_default();
    let document = if reading.is_empty() { document } else { format!("{document}\n{reading}") };
    std::fs::write(&output, document).expect("write BENCHMARKS.md");
    eprintln!("wrote {}", output.display());
}

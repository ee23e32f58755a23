//! The results table: each figure, and its ratio to the axum ceiling and to the best peer that keeps
//! sessions the same way.

use std::fmt::Write;

use crate::load::Visitor;

/// How a server keeps sessions: rows compare within a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// No sessions at all: the framework alone. The first such row (axum) is the ceiling of the ratios.
    Ceiling,
    /// Our layer on a route that never asks for the session.
    Untouched,
    /// Plain JSON in a cookie.
    PlainCookie,
    /// An encrypted cookie.
    EncryptedCookie,
    /// Sessions in the server's own memory.
    Memory,
    /// Sessions in Redis.
    Redis,
    /// Sessions in memcached.
    Memcached,
    /// Sessions in a Postgres table (the database's CPU counted with the server's).
    Postgres,
    /// Sessions in a SQLite file (inside the server's process).
    Sqlite,
}

/// One server under one kind of visitor.
#[derive(Debug)]
pub struct Row {
    /// e.g. "ours: encrypted".
    pub server: String,
    /// How it keeps sessions.
    pub kind: Kind,
    /// Whether it is ours.
    pub ours: bool,
    /// Returning or fresh visitors.
    pub visitor: Visitor,
    /// Successful requests per second.
    pub rate: f64,
    /// The server's CPU time (user + system) per successful request in the measured window, µs.
    pub cpu_per_request: f64,
    /// Median latency, µs.
    pub p50: u32,
    /// 99th percentile latency, µs.
    pub p99: u32,
    /// The share of answers that showed the previous visit, in percent.
    pub round_trip: f64,
    /// Failed requests.
    pub errors: u64,
    /// The server's peak resident memory (VmHWM), KiB.
    pub peak_rss_kib: u64,
}

fn ratio(value: f64, of: Option<f64>) -> String {
    match of {
        Some(of) if of > 0.0 => format!("{:.2}", value / of),
        _ => "–".to_owned(),
    }
}

impl Row {
    /// Whether the row measured what it says: a session server's returning visitors (and one browser's
    /// parallel requests) see their previous visit on every answer, fresh visitors on none. A server
    /// whose cookie the load generator mangled would be measured on the wrong path.
    pub fn valid(&self) -> bool {
        match (self.kind, self.visitor) {
            (Kind::Ceiling | Kind::Untouched, _) => true,
            (_, Visitor::Fresh) => self.round_trip == 0.0,
            (_, Visitor::Returning | Visitor::OneBrowser) => self.round_trip >= 99.9,
        }
    }

    fn visitor(&self) -> &'static str {
        match self.visitor {
            Visitor::Returning => "returning",
            Visitor::Fresh => "fresh",
            Visitor::OneBrowser => "one browser, parallel",
        }
    }
}

/// The ceiling's rate for `visitor`.
pub fn ceiling(rows: &[Row], visitor: Visitor) -> Option<f64> {
    rows.iter().find(|r| r.kind == Kind::Ceiling && r.visitor == visitor).map(|r| r.rate)
}

/// The peers that keep sessions as `row` does, under the same visitors (for the untouched route: the
/// ceiling).
fn peers<'a>(rows: &'a [Row], row: &'a Row) -> impl Iterator<Item = &'a Row> {
    rows.iter().filter(move |r| {
        if row.kind == Kind::Untouched {
            r.kind == Kind::Ceiling && r.visitor == row.visitor
        } else {
            !r.ours && r.kind == row.kind && r.visitor == row.visitor && r.kind != Kind::Ceiling
        }
    })
}

/// The lowest server CPU per request among the peers of `row`.
pub fn best_peer_cpu(rows: &[Row], row: &Row) -> Option<f64> {
    peers(rows, row).filter(|r| r.valid()).map(|r| r.cpu_per_request).filter(|cpu| *cpu > 0.0).min_by(f64::total_cmp)
}

/// The table, as Markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| server | visitor | req/s | server CPU µs/req | p50 µs | p99 µs | errors | previous visit shown | peak RSS MiB | req/s × ceiling | CPU/req × best peer (lower is better) |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.1} | {} | {} | {} | {:.1} %{} | {:.1} | {} | {} |",
            row.server,
            row.visitor(),
            row.rate,
            row.cpu_per_request,
            row.p50,
            row.p99,
            row.errors,
            row.round_trip,
            if row.valid() { "" } else { " **invalid**" },
            row.peak_rss_kib as f64 / 1024.0,
            ratio(row.rate, ceiling(rows, row.visitor)),
            if row.ours { ratio(row.cpu_per_request, best_peer_cpu(rows, row)) } else { "–".to_owned() },
        );
    }
    out
}

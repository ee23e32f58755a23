//! The SQL each database runs, written once per database when the backend is built, and the table
//! it runs on. The bottom layer of this crate: it knows no pool and no session.
//!
//! Time is the database's own: `expires_at` is written and compared with its clock (`now()` on
//! Postgres, `UTC_TIMESTAMP(6)` on MySQL/MariaDB; SQLite runs inside the app, so its clock is the
//! host's), so app processes whose clocks disagree still agree on which rows are expired.

use std::fmt;

/// The databases this crate speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(all(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, reason = "a build for some of the databases makes statements for those only")
)]
pub(crate) enum Database {
    Postgres,
    MySql,
    Sqlite,
}

/// A table name as the app gave it: letters, digits and `_`, not starting with a digit, with one
/// `schema.` before it on Postgres. Checked once, so it can be spliced into SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableName {
    schema: Option<String>,
    table: String,
}

/// Why a table name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "a table name is letters, digits and `_` (at most 48, not starting with a digit), with one `schema.` before it on Postgres: {0:?}"
)]
pub struct InvalidTableName(String);

impl TableName {
    /// Checks `name` (`sessions`, or `auth.sessions` on Postgres).
    pub fn new(name: &str) -> Result<Self, InvalidTableName> {
        let valid = |part: &str| {
            !part.is_empty()
                && part.len() <= 48
                && !part.starts_with(|c: char| c.is_ascii_digit())
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        let invalid = || InvalidTableName(name.to_owned());
        match name.split_once('.') {
            Some((schema, table)) if valid(schema) && valid(table) => {
                Ok(TableName { schema: Some(schema.to_owned()), table: table.to_owned() })
            }
            None if valid(name) => Ok(TableName { schema: None, table: name.to_owned() }),
            _ => Err(invalid()),
        }
    }

    /// The table itself, schema and all.
    fn qualified(&self, suffix: &str) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}{suffix}", self.table),
            None => format!("{}{suffix}", self.table),
        }
    }
}

impl Default for TableName {
    /// `sessions`.
    fn default() -> Self {
        TableName { schema: None, table: "sessions".to_owned() }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.qualified(""))
    }
}

/// Every statement the backend runs, for one database and one table. Parameters in order:
///
/// - `load`: key → `payload`, `version` of a live row.
/// - `insert_fresh`: key, payload, ttl ms → 1 row if there was no live row (an expired one is taken over).
/// - `update_live`: payload, ttl ms, key → 1 row if there was a live row.
/// - `upsert`: key, payload, ttl ms → always written.
/// - `update_version`: payload, ttl ms, key, version → 1 row if the live row is still at `version`.
/// - `delete`: key.
/// - `index_add`: index key, member, ttl ms; `index_members`: index key → `member`;
///   `index_remove`: index key, member.
/// - `sweeps`: the [`Sweep`] of each table, the sessions' and the index's.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) database: Database,
    pub(crate) load: String,
    pub(crate) insert_fresh: String,
    /// MySQL has no conditional upsert that reports whether it wrote: it clears an expired row first.
    pub(crate) delete_expired: Option<String>,
    pub(crate) update_live: String,
    pub(crate) upsert: String,
    pub(crate) update_version: String,
    pub(crate) delete: String,
    pub(crate) index_add: String,
    pub(crate) index_members: String,
    pub(crate) index_remove: String,
    pub(crate) sweeps: [Sweep; 2],
    pub(crate) migrations: Vec<String>,
}

impl Statements {
    pub(crate) fn new(database: Database, table: &TableName) -> Self {
        let t = table.qualified("");
        let index = table.qualified("_index");
        match database {
            Database::Postgres => Self::standard(
                database,
                table,
                Clock {
                    now: "now()".to_owned(),
                    placeholder: |n| format!("${n}"),
                    later: |n| format!("now() + ${n}::bigint * interval '1 millisecond'"),
                },
                vec![
                    format!(
                        "CREATE TABLE IF NOT EXISTS {t} (id VARCHAR(255) PRIMARY KEY, payload BYTEA NOT NULL, \
                         version BIGINT NOT NULL, expires_at TIMESTAMPTZ)"
                    ),
                    format!(
                        "CREATE TABLE IF NOT EXISTS {index} (index_key VARCHAR(255) NOT NULL, \
                         member VARCHAR(255) NOT NULL, expires_at TIMESTAMPTZ, PRIMARY KEY (index_key, member))"
                    ),
                ],
            ),
            Database::MySql => {
                let now = "UTC_TIMESTAMP(6)";
                let live = format!("(expires_at IS NULL OR expires_at > {now})");
                let expires = format!("{now} + INTERVAL ? * 1000 MICROSECOND");
                Statements {
                    database,
                    load: format!("SELECT payload, version FROM {t} WHERE id = ? AND {live}"),
                    insert_fresh: format!(
                        "INSERT INTO {t} (id, payload, version, expires_at) VALUES (?, ?, 0, {expires})"
                    ),
                    delete_expired: Some(format!("DELETE FROM {t} WHERE id = ? AND expires_at <= {now}")),
                    update_live: format!(
                        "UPDATE {t} SET payload = ?, version = version + 1, expires_at = {expires} WHERE id = ? AND {live}"
                    ),
                    upsert: format!(
                        "INSERT INTO {t} (id, payload, version, expires_at) VALUES (?, ?, 0, {expires}) \
                         ON DUPLICATE KEY UPDATE payload = VALUES(payload), version = version + 1, \
                         expires_at = VALUES(expires_at)"
                    ),
                    update_version: format!(
                        "UPDATE {t} SET payload = ?, version = version + 1, expires_at = {expires} \
                         WHERE id = ? AND version = ? AND {live}"
                    ),
                    delete: format!("DELETE FROM {t} WHERE id = ?"),
                    index_add: format!(
                        "INSERT INTO {index} (index_key, member, expires_at) VALUES (?, ?, {expires}) \
                         ON DUPLICATE KEY UPDATE expires_at = VALUES(expires_at)"
                    ),
                    // A binary collation makes the column read as bytes: cast it back to text.
                    index_members: format!("SELECT CAST(member AS CHAR) FROM {index} WHERE index_key = ? AND {live}"),
                    index_remove: format!("DELETE FROM {index} WHERE index_key = ? AND member = ?"),
                    sweeps: [(&t, "id"), (&index, "index_key")].map(|(table, key)| {
                        Sweep::new(table, key, now, |_| "?".to_owned(), |max| format!("CAST({max} AS CHAR)"))
                    }),
                    migrations: vec![
                        format!(
                            "CREATE TABLE IF NOT EXISTS {t} (id VARCHAR(255) NOT NULL PRIMARY KEY, \
                             payload LONGBLOB NOT NULL, version BIGINT NOT NULL, expires_at DATETIME(6) NULL) \
                             CHARACTER SET ascii COLLATE ascii_bin"
                        ),
                        format!(
                            "CREATE TABLE IF NOT EXISTS {index} (index_key VARCHAR(255) NOT NULL, \
                             member VARCHAR(255) NOT NULL, expires_at DATETIME(6) NULL, \
                             PRIMARY KEY (index_key, member)) CHARACTER SET ascii COLLATE ascii_bin"
                        ),
                    ],
                }
            }
            // Milliseconds since the Unix epoch, from SQLite's own clock.
            Database::Sqlite => Self::standard(
                database,
                table,
                Clock {
                    now: SQLITE_NOW.to_owned(),
                    placeholder: |n| format!("?{n}"),
                    later: |n| format!("{SQLITE_NOW} + ?{n}"),
                },
                vec![
                    format!(
                        "CREATE TABLE IF NOT EXISTS {t} (id TEXT PRIMARY KEY NOT NULL, payload BLOB NOT NULL, \
                         version INTEGER NOT NULL, expires_at INTEGER)"
                    ),
                    format!(
                        "CREATE TABLE IF NOT EXISTS {index} (index_key TEXT NOT NULL, member TEXT NOT NULL, \
                         expires_at INTEGER, PRIMARY KEY (index_key, member))"
                    ),
                ],
            ),
        }
    }

    /// Postgres and SQLite share the SQL standard's upsert (`ON CONFLICT … DO UPDATE … WHERE`); they
    /// differ in their placeholders and their clock.
    fn standard(database: Database, table: &TableName, clock: Clock, migrations: Vec<String>) -> Self {
        let (t, index) = (table.qualified(""), table.qualified("_index"));
        let Clock { now, placeholder: p, later } = clock;
        let live = format!("(expires_at IS NULL OR expires_at > {now})");
        let upsert = |when: &str| {
            format!(
                "INSERT INTO {t} AS t (id, payload, version, expires_at) VALUES ({}, {}, 0, {}) \
                 ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, version = t.version + 1, \
                 expires_at = excluded.expires_at{when}",
                p(1),
                p(2),
                later(3)
            )
        };
        Statements {
            database,
            load: format!("SELECT payload, version FROM {t} WHERE id = {} AND {live}", p(1)),
            insert_fresh: upsert(&format!(" WHERE t.expires_at IS NOT NULL AND t.expires_at <= {now}")),
            delete_expired: None,
            update_live: format!(
                "UPDATE {t} SET payload = {}, version = version + 1, expires_at = {} WHERE id = {} AND {live}",
                p(1),
                later(2),
                p(3)
            ),
            upsert: upsert(""),
            update_version: format!(
                "UPDATE {t} SET payload = {}, version = version + 1, expires_at = {} \
                 WHERE id = {} AND version = {} AND {live}",
                p(1),
                later(2),
                p(3),
                p(4)
            ),
            delete: format!("DELETE FROM {t} WHERE id = {}", p(1)),
            index_add: format!(
                "INSERT INTO {index} (index_key, member, expires_at) VALUES ({}, {}, {}) \
                 ON CONFLICT (index_key, member) DO UPDATE SET expires_at = excluded.expires_at",
                p(1),
                p(2),
                later(3)
            ),
            index_members: format!("SELECT member FROM {index} WHERE index_key = {} AND {live}", p(1)),
            index_remove: format!("DELETE FROM {index} WHERE index_key = {} AND member = {}", p(1), p(2)),
            sweeps: [(&t, "id"), (&index, "index_key")]
                .map(|(table, key)| Sweep::new(table, key, &now, p, str::to_owned)),
            migrations,
        }
    }
}

/// How the reaper deletes a table's expired rows: a walk along its primary key, a bounded chunk of
/// keys at a time, so no statement holds many rows' locks.
///
/// `expires_at` has no index of its own: every save moves it, and on Postgres an update of an indexed
/// column cannot be a HOT update (it writes a new entry into every index of the table). With that
/// index, a `SELECT` and an `UPDATE` per request ran at 0.8× the throughput of the same pair without
/// it under pgbench (CPU-bound, `synchronous_commit = off`): the cost of every save, paid to make
/// the reaper's scan cheaper. The walk costs the reaper a read of the whole key index per sweep.
#[derive(Clone, Debug)]
pub(crate) struct Sweep {
    /// After key, chunk size → the chunk's last key (`NULL` when no key is left) and its size.
    pub(crate) chunk: String,
    /// After key, last key → the expired rows between them deleted.
    pub(crate) delete: String,
}

impl Sweep {
    fn new(table: &str, key: &str, now: &str, p: fn(u8) -> String, text: fn(&str) -> String) -> Self {
        Sweep {
            chunk: format!(
                "SELECT {}, COUNT(*) FROM (SELECT {key} FROM {table} WHERE {key} > {} ORDER BY {key} LIMIT {}) AS chunk",
                text(&format!("MAX({key})")),
                p(1),
                p(2)
            ),
            // `expires_at` is checked on the row itself: a row taken over by a new session since the
            // chunk was read is left alone.
            delete: format!("DELETE FROM {table} WHERE {key} > {} AND {key} <= {} AND expires_at <= {now}", p(1), p(2)),
        }
    }
}

/// SQLite's clock in Unix milliseconds.
const SQLITE_NOW: &str = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

/// How a database names its parameters and tells the time.
struct Clock {
    /// The database's time now.
    now: String,
    /// The `n`th parameter.
    placeholder: fn(u8) -> String,
    /// Now plus the milliseconds of the `n`th parameter (`NULL` stays `NULL`: never expires).
    later: fn(u8) -> String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers_with_a_schema_at_most() {
        for good in ["sessions", "app_sessions", "auth.sessions", "_s2"] {
            assert!(TableName::new(good).is_ok(), "{good}");
        }
        for bad in ["", "2sessions", "a.b.c", "sessions; DROP TABLE x", "s\"x", ".sessions", "x".repeat(49).as_str()] {
            assert!(TableName::new(bad).is_err(), "{bad}");
        }
        assert_eq!(TableName::new("auth.sessions").unwrap().to_string(), "auth.sessions");
        assert_eq!(TableName::default().to_string(), "sessions");
    }

    #[test]
    fn every_statement_names_the_table_and_only_the_database_clock() {
        let table = TableName::new("auth.web_sessions").unwrap();
        for database in [Database::Postgres, Database::MySql, Database::Sqlite] {
            let sql = Statements::new(database, &table);
            assert!(sql.load.contains("auth.web_sessions "), "{database:?}: {}", sql.load);
            assert!(sql.index_members.contains("auth.web_sessions_index "), "{}", sql.index_members);
            // The app host's clock never enters: no bound timestamp, only durations in ms.
            for statement in [&sql.update_live, &sql.update_version, &sql.upsert, &sql.insert_fresh] {
                assert!(statement.contains("version"), "{statement}");
            }
        }
    }
}

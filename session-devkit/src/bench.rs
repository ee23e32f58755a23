//! The criterion benchmarks every storage runs: one request's load and save, as the middleware does
//! it, for a typical and a large session, for a new visitor and a returning one.

use std::sync::Arc;

use criterion::Criterion;
use serde_json::json;
use session_core::middleware::RequestSession;
use session_core::{AbstractStorage, Map, SessionState, Value};
use session_testkit::TestClient;
use tokio::runtime::Runtime;

/// A runtime for the benchmarks (current thread, as one request runs).
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}

/// A typical session: five keys, about 200 bytes of JSON.
pub fn typical_session() -> Map<String, Value> {
    let Value::Object(data) = json!({
        "user_id": 1_234_567,
        "user": "alice@example.com",
        "roles": ["admin", "editor"],
        "csrf": "8f14e45fceea167a5a36dedd4bea2543b1c8f1d1e9a2a3b4",
        "last_visit": 1_764_107_000.123_456,
    }) else {
        unreachable!()
    };
    data
}

/// A large session: the typical one plus about 2.6 KB of history, as big as still fits an encrypted
/// cookie.
pub fn large_session() -> Map<String, Value> {
    let mut data = typical_session();
    let history: Vec<Value> = (0..62).map(|n| json!(format!("/catalog/category-{n:02}/item-{n:04}?ref=h"))).collect();
    data.insert("history".into(), Value::Array(history));
    data
}

/// The JSON payload our storages write for a session holding `data` (what the crypto benches encrypt).
pub fn payload(data: &Map<String, Value>) -> String {
    let config = session_core::StorageConfig::default();
    let mut session = config.new_state();
    for (key, value) in data {
        session.insert_value(key.clone(), value.clone()).expect("a plain key");
    }
    config.encode(&session).expect("JSON")
}

/// One request through the middleware's own path ([`RequestSession`]), as an adapter runs it: the
/// storage's cookie found in `cookie_header` and loaded, `handler` run, the session saved if changed;
/// the `Set-Cookie` header value it answers.
pub async fn request<R>(
    storage: &Arc<dyn AbstractStorage>,
    cookie_header: Option<&str>,
    handler: impl FnOnce(&mut SessionState) -> R,
) -> Option<String> {
    let request = RequestSession::new(Arc::clone(storage));
    request.load(cookie_header).await.expect("load");
    request.with(handler).expect("loaded");
    match request.finish(200) {
        Some(pending) => pending.save().await.expect("save"),
        None => None,
    }
}

/// A new visitor: no cookie, the handler writes `data`, the session is saved. Returns the `Cookie`
/// header the browser then sends.
pub async fn new_visitor(storage: &Arc<dyn AbstractStorage>, data: &Map<String, Value>) -> String {
    let set_cookie = request(storage, None, |session| {
        for (key, value) in data {
            session.insert_value(key.clone(), value.clone()).expect("a plain key");
        }
    })
    .await
    .expect("a cookie");
    set_cookie.split("; ").next().expect("name=value").to_owned()
}

/// A returning visitor: the session is loaded from `cookie_header`, the handler reads and rewrites
/// `last_visit` (the `last_visit` demo), the session is saved.
pub async fn returning_visitor(storage: &Arc<dyn AbstractStorage>, cookie_header: &str) {
    request(storage, Some(cookie_header), |session| {
        let last: Option<f64> = session.get("last_visit").expect("a float");
        session.insert("last_visit", last.unwrap_or_default() + 1.0).expect("a float");
    })
    .await
    .expect("saved");
}

/// Registers `<name>/<typical|large>/<new_visitor|returning_visitor>` for `storage`, which must have
/// been built inside `runtime`.
pub fn storage_benchmarks(c: &mut Criterion, runtime: &Runtime, name: &str, storage: Arc<dyn AbstractStorage>) {
    for (size, data) in [("typical", typical_session()), ("large", large_session())] {
        let mut group = c.benchmark_group(format!("{name}/{size}"));
        group.bench_function("new_visitor", |b| b.to_async(runtime).iter(|| new_visitor(&storage, &data)));
        let cookie = runtime.block_on(new_visitor(&storage, &data));
        group
            .bench_function("returning_visitor", |b| b.to_async(runtime).iter(|| returning_visitor(&storage, &cookie)));
        group.finish();
    }
}

/// Registers `<name>/save/{without_conflict,after_a_concurrent_save}`: the save alone (timed) of a
/// returning visitor's session, first when nothing else wrote it since it was loaded, then when another
/// request saved it in between (a merging storage reloads and retries; last-writer-wins overwrites).
pub fn save_benchmarks(c: &mut Criterion, runtime: &Runtime, name: &str, storage: Arc<dyn AbstractStorage>) {
    let cookie = runtime.block_on(new_visitor(&storage, &typical_session()));
    let mut client = TestClient::new(Arc::clone(&storage));
    client.set_cookie(cookie.split_once('=').map(|(_, value)| value.to_owned()));
    let client = Arc::new(client);
    let mut group = c.benchmark_group(format!("{name}/save"));
    for concurrent in [false, true] {
        let id = if concurrent { "after_a_concurrent_save" } else { "without_conflict" };
        group.bench_function(id, |b| {
            b.to_async(runtime).iter_custom(|iterations| {
                let client = Arc::clone(&client);
                async move {
                    let mut timed = std::time::Duration::ZERO;
                    for n in 0..iterations {
                        let ours = client.begin().await.expect("load");
                        if concurrent {
                            let theirs = client.begin().await.expect("load");
                            theirs.with(|s| s.insert("theirs", n)).expect("with").expect("int");
                            theirs.finish().await.expect("save");
                        }
                        ours.with(|s| s.insert("ours", n)).expect("with").expect("int");
                        let started = std::time::Instant::now();
                        ours.finish().await.expect("save");
                        timed += started.elapsed();
                    }
                    timed
                }
            })
        });
    }
    group.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sessions_have_the_sizes_they_claim() {
        let typical = payload(&typical_session()).len();
        let large = payload(&large_session()).len();
        assert!((170..=240).contains(&typical), "{typical}");
        assert!((2600..=3000).contains(&large), "{large}");
    }
}

//! What a compare-and-set costs Redis itself (`INFO commandstats`, µs per call): the script that
//! compared a SHA-1 of the stored bytes (our first merge), the script that compares the bytes (now on
//! Redis 7), the native `SET … IFEQ` (Valkey 8.1+, Redis 8.4+: run `scripts/valkey-server` first, or
//! set `VALKEY_SERVER`), and a plain `SET` for scale. 20,000 successful compare-and-sets of the typical
//! session each, one connection.
//!
//! `cargo bench -p session-redis --bench cas_cost`

use deadpool_redis::redis::{Script, aio::MultiplexedConnection, cmd};
use session_devkit::bench::{payload, runtime, typical_session};
use session_testkit::RedisServer;

const SHA1_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if current then return 0 end
elseif (not current) or redis.sha1hex(current) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
";

const BYTES_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
";

const ROUNDS: usize = 20_000;

/// `usec_per_call` of `command` in `INFO commandstats`.
fn usec_per_call(stats: &str, command: &str) -> f64 {
    stats
        .lines()
        .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:")))
        .and_then(|fields| fields.split(',').find_map(|field| field.strip_prefix("usec_per_call=")))
        .and_then(|value| value.parse().ok())
        .unwrap_or(f64::NAN)
}

async fn connect(server: &RedisServer) -> MultiplexedConnection {
    let client = deadpool_redis::redis::Client::open(server.url()).expect("client");
    client.get_multiplexed_async_connection().await.expect("connection")
}

/// Two payloads of the typical session's size that each compare-and-set swaps for the other.
fn payloads() -> [String; 2] {
    let one = payload(&typical_session());
    let two = one.replace("alice", "alicf");
    [one, two]
}

async fn script(server: &RedisServer, source: &str, digest: bool) -> f64 {
    let mut connection = connect(server).await;
    let script = Script::new(source);
    let [a, b] = payloads();
    let _: () = cmd("SET").arg("k").arg(&a).query_async(&mut connection).await.expect("SET");
    let _: () = cmd("CONFIG").arg("RESETSTAT").query_async(&mut connection).await.expect("RESETSTAT");
    for round in 0..ROUNDS {
        let (current, next) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let expected =
            if digest { sha1_smol::Sha1::from(current.as_bytes()).digest().to_string() } else { current.clone() };
        let stored: i64 =
            script.key("k").arg(expected).arg(next).arg(3600).invoke_async(&mut connection).await.expect("script");
        assert_eq!(stored, 1);
    }
    let stats: String = cmd("INFO").arg("commandstats").query_async(&mut connection).await.expect("INFO");
    usec_per_call(&stats, "evalsha")
}

async fn native(server: &RedisServer, ifeq: bool) -> f64 {
    let mut connection = connect(server).await;
    let [a, b] = payloads();
    let _: () = cmd("SET").arg("k").arg(&a).query_async(&mut connection).await.expect("SET");
    let _: () = cmd("CONFIG").arg("RESETSTAT").query_async(&mut connection).await.expect("RESETSTAT");
    for round in 0..ROUNDS {
        let (current, next) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let mut set = cmd("SET");
        set.arg("k").arg(next);
        if ifeq {
            set.arg("IFEQ").arg(current);
        }
        let reply: Option<String> = set.arg("EX").arg(3600).query_async(&mut connection).await.expect("SET");
        assert_eq!(reply.as_deref(), Some("OK"));
    }
    let stats: String = cmd("INFO").arg("commandstats").query_async(&mut connection).await.expect("INFO");
    usec_per_call(&stats, "set")
}

fn main() {
    let runtime = runtime();
    runtime.block_on(async {
        let redis = RedisServer::start().await.expect("redis-server");
        println!(
            "redis 7, script comparing a SHA-1 of the bytes: {:.2} µs per call",
            script(&redis, SHA1_SCRIPT, true).await
        );
        println!(
            "redis 7, script comparing the bytes:           {:.2} µs per call",
            script(&redis, BYTES_SCRIPT, false).await
        );
        println!("redis 7, plain SET (no comparison):            {:.2} µs per call", native(&redis, false).await);
        let valkey = std::env::var("VALKEY_SERVER").ok().or_else(|| {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/valkey-server");
            let output = std::process::Command::new(script).output().ok()?;
            output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        });
        match valkey {
            Some(binary) => {
                let valkey = RedisServer::start_binary(binary).await.expect("valkey-server");
                println!(
                    "valkey 9, SET … IFEQ:                          {:.2} µs per call",
                    native(&valkey, true).await
                );
                println!(
                    "valkey 9, script comparing the bytes:          {:.2} µs per call",
                    script(&valkey, BYTES_SCRIPT, false).await
                );
            }
            None => println!("valkey-server not found: no IFEQ figure"),
        }
    });
}

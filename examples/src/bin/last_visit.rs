//! The "last visited" demo of aiohttp-session, on any storage.
//!
//! ```text
//! SESSION_SECRET_KEY=<base64 key> cargo run -p examples --bin last_visit -- --storage encrypted
//! curl -c jar -b jar http://127.0.0.1:8080/    # Last visited: None
//! curl -c jar -b jar http://127.0.0.1:8080/    # Last visited: 1764107000.123456
//! ```
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    examples::run(
        "Serves the \"last visited\" demo: each visit shows when you last came.",
        examples::last_visit::router,
    )
    .await
}

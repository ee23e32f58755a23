//! The "last visited" demo of aiohttp-session on actix-web, on any storage: the same flags, routes
//! and output as `last_visit` (axum).
//!
//! ```text
//! SESSION_SECRET_KEY=<base64 key> cargo run -p examples --features actix --bin last_visit_actix -- --storage encrypted
//! curl -c jar -b jar http://127.0.0.1:8080/    # Last visited: None
//! curl -c jar -b jar http://127.0.0.1:8080/    # Last visited: 1764107000.123456
//! ```
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    actix_web::rt::System::new().block_on(examples::run_actix(
        "Serves the \"last visited\" demo on actix-web: each visit shows when you last came.",
        examples::last_visit_actix::configure,
    ))
}

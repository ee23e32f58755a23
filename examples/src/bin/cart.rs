//! The cart demo of concurrent writes: fire many `POST /cart/{item}` at once with one cookie, then
//! `GET /cart` lists every item (on `--storage redis` or `memcached`, which merge concurrent saves).
//!
//! ```text
//! cargo run -p examples --bin cart -- --storage redis --redis-url redis://127.0.0.1:6379
//! curl -c jar -b jar -X POST http://127.0.0.1:8080/cart/first
//! for i in $(seq 1 50); do curl -s -b jar -X POST http://127.0.0.1:8080/cart/item$i & done; wait
//! curl -b jar http://127.0.0.1:8080/cart     # ["first","item1",...,"item50"] in some order
//! for i in $(seq 1 32); do curl -s -b jar -X POST http://127.0.0.1:8080/cart/late$i & done; \
//!   curl -s -b jar -X POST http://127.0.0.1:8080/logout; wait
//! curl -b jar http://127.0.0.1:8080/cart     # []: no write in flight brings the session back
//! ```
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    examples::run(
        "Serves the cart demo: POST /cart/{item} adds an item, GET /cart lists them, POST /logout ends the session.",
        examples::cart::router,
    )
    .await
}

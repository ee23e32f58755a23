//! The accounts demo: log in, who am I, remember me, my devices, end one, log out everywhere. Devices
//! need `--storage redis`; log-out-everywhere works on Redis, memcached, and on the cookie storages
//! with `--revocation` (their per-user epochs kept in the Redis at `--redis-url`).
//!
//! ```text
//! cargo run -p examples --features redis --bin accounts -- --storage redis
//! curl -c laptop -b laptop -A laptop -X POST http://127.0.0.1:8080/login/alice
//! curl -c phone -b phone -A phone -X POST http://127.0.0.1:8080/login/alice
//! curl -b laptop http://127.0.0.1:8080/devices      # two devices, the laptop marked "(this device)"
//! curl -b laptop -X POST http://127.0.0.1:8080/devices/<the phone's id>/end
//! curl -b phone http://127.0.0.1:8080/whoami        # nobody
//! curl -b laptop -X POST http://127.0.0.1:8080/logout-everywhere
//! curl -b laptop http://127.0.0.1:8080/whoami       # nobody
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let about = "Serves the accounts demo: POST /login/{user}, GET /whoami, POST /remember-me, GET /devices, \
                 POST /devices/{device}/end, POST /logout, POST /logout-everywhere.";
    let prepared = match examples::prepare(about).await {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let app = examples::accounts::router(prepared.storage, prepared.devices);
    match examples::serve(app, prepared.listener, prepared.secure).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => examples::fail(1, &examples::describe(&error)),
    }
}

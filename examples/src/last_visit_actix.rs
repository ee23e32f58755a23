//! aiohttp-session's demo on actix-web and `session-actix`: the same routes and answers as
//! [`last_visit`](crate::last_visit), so the two binaries (and Python's) serve one browser alike.

use std::sync::Arc;

use actix_web::web;
use session_actix::{Session, SessionError, SessionMiddleware};
use session_core::AbstractStorage;

use crate::last_visit::{KEY, LOGGED_OUT, page, unix_time};

/// `GET /`: `Last visited: <previous time or None>`, and stores now; `GET /peek`: the same answer
/// without storing anything; `GET /logout` ends the session. For `App::configure`, once per worker.
pub fn configure(storage: Arc<dyn AbstractStorage>, config: &mut web::ServiceConfig) {
    config.service(
        web::scope("")
            .wrap(SessionMiddleware::new(storage))
            .route("/", web::get().to(index))
            .route("/peek", web::get().to(peek))
            .route("/logout", web::get().to(logout)),
    );
}

async fn index(session: Session) -> Result<String, SessionError> {
    let last_visit = session.get_value(KEY)?;
    session.insert(KEY, unix_time())?;
    Ok(page(last_visit))
}

async fn peek(session: Session) -> Result<String, SessionError> {
    Ok(page(session.get_value(KEY)?))
}

async fn logout(session: Session) -> Result<&'static str, SessionError> {
    session.invalidate()?;
    Ok(LOGGED_OUT)
}

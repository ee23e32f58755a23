//! The HTTP conformance suite every adapter runs, on session-tower (the reference app of
//! `session_devkit::axum_app`).

session_testkit::http_suite!(axum, session_devkit::axum_app::Axum);

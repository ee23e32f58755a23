//! The HTTP conformance suite every adapter runs, on session-actix (the reference app of
//! `session_devkit::actix_app`).

session_testkit::http_suite!(actix, session_devkit::actix_app::Actix);

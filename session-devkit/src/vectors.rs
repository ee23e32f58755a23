//! The reference vectors, made by the real aiohttp-session 2.12 with a fixed clock,
//! key = bytes 0..31, a zero Fernet IV and a zero NaCl nonce, by a handler that did [`login_alice`].

use session_core::SessionState;

/// The fixed clock: 2023-11-14T22:13:20Z.
pub const TIME: i64 = 1_700_000_000;

/// The key, bytes 0 to 31, as url-safe base64 (what `Fernet(key)` takes in Python).
pub const KEY_BASE64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The payload every storage writes for the session.
pub const PAYLOAD: &str = r#"{"created": 1700000000, "session": {"user": "alice", "n": 42}}"#;

/// `EncryptedCookieStorage`'s cookie value (zero IV).
pub const FERNET_TOKEN: &str = "gAAAAABlU_EAAAAAAAAAAAAAAAAAAAAAAO76hUp1afHPQiWkzSlmAk3BKpG1Z084XxuqaMnePcFvSzqIMNuekdBac86KwQUW8aONVsXr_HYc4E4ePT0D7gVFTAYQZfzO-vRSb3kiErBDFevNA1XOcJKQcnwClJdbOA==";

/// `NaClCookieStorage`'s cookie value (zero nonce).
pub const NACL_COOKIE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB9IZQQPn6PsGuSY9BjdfQzEskzP9y8tWOHZILxRxjuLUBETAd9YEbElwLv5PoLBc9z7zdrQd3H3wQNszS7i+Vq6HwrWK7QbhwKv8JrXv";

/// What the vectors' handler did: `session["user"] = "alice"; session["n"] = 42`.
pub fn login_alice(session: &mut SessionState) {
    session.insert("user", "alice").expect("a string is JSON");
    session.insert("n", 42).expect("an integer is JSON");
}

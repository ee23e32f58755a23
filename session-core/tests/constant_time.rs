//! The CSRF token comparison takes the same work wherever two tokens differ, so the time of a 403 tells
//! an attacker nothing about how much of a guess was right. Counted, not timed: this test runs itself
//! under callgrind (valgrind, which `./scripts/test` installs), counting only the instructions inside
//! `constant_time_eq`, for a guess wrong at its first byte, at its last byte, and right. A comparison
//! that stops at the first difference (`==` on strings) gives three different counts.

use std::process::Command;

use session_core::csrf::constant_time_eq;

const TOKEN: &str = "3f9a0c1d2e4b5a6978877665544332211ffeeddccbbaa9988776655443322110";
const ROUNDS: usize = 1000;

/// Under callgrind: compares the token with the guess in `CT_GUESS`, many times.
fn probe(guess: &str) {
    let mut equal = 0;
    for _ in 0..ROUNDS {
        equal += usize::from(constant_time_eq(std::hint::black_box(TOKEN), std::hint::black_box(guess)));
    }
    std::hint::black_box(equal);
}

/// Instructions spent inside `constant_time_eq` comparing the token with `guess`.
fn instructions(guess: &str) -> u64 {
    let out = std::env::temp_dir().join(format!("session-core-ct-{}-{}.out", std::process::id(), guess.len()));
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--toggle-collect=*constant_time_eq*", "-q"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "comparison_work_does_not_depend_on_where_a_guess_differs", "--nocapture"])
        .env("CT_GUESS", guess)
        .status()
        .expect("valgrind runs (./scripts/test installs it: apt-get install valgrind)");
    assert!(status.success(), "the probe under callgrind failed: {status}");
    let profile = std::fs::read_to_string(&out).expect("callgrind's profile");
    let _ = std::fs::remove_file(&out);
    let totals = profile.lines().find_map(|line| line.strip_prefix("totals:")).expect("a totals line");
    totals.split_whitespace().next().and_then(|count| count.parse().ok()).expect("an instruction count")
}

#[test]
fn comparison_work_does_not_depend_on_where_a_guess_differs() {
    if let Ok(guess) = std::env::var("CT_GUESS") {
        return probe(&guess);
    }
    let wrong_first = format!("x{}", &TOKEN[1..]);
    let wrong_last = format!("{}x", &TOKEN[..TOKEN.len() - 1]);
    assert_eq!(TOKEN.len(), 64);
    assert!(wrong_first != TOKEN && wrong_last != TOKEN && wrong_first.len() == TOKEN.len());
    let counts = [instructions(&wrong_first), instructions(&wrong_last), instructions(TOKEN)];
    eprintln!(
        "instructions in constant_time_eq over {ROUNDS} comparisons (first byte wrong, last byte wrong, equal): {counts:?}"
    );
    assert!(counts[0] > 0, "callgrind counted nothing inside constant_time_eq: {counts:?}");
    assert!(counts.iter().all(|&count| count == counts[0]), "the work depends on where the guess differs: {counts:?}");
}

//! Running an example binary as a user would.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};

/// An example binary, serving on a port the OS picked; killed on drop.
pub struct Demo {
    _child: Child,
    pub address: SocketAddr,
    pub first_line: String,
    pub stderr: ChildStderr,
}

/// What an example printed before it exited at start-up, and its exit code.
pub struct Refused {
    pub code: Option<i32>,
    pub stderr: String,
}

/// Runs an example that must refuse to start; gives its exit code and what it printed on stderr.
pub async fn refused(binary: &str, args: &[&str]) -> Refused {
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new(binary).args(args).env_remove("SESSION_SECRET_KEY").stdout(Stdio::null()).output(),
    )
    .await
    .expect("the example exits at start-up")
    .expect("run the example");
    Refused { code: output.status.code(), stderr: String::from_utf8_lossy(&output.stderr).into_owned() }
}

impl Demo {
    pub async fn start(binary: &str, args: &[&str]) -> Demo {
        let mut child = Command::new(binary)
            .args(args)
            .args(["--port", "0"])
            .env_remove("SESSION_SECRET_KEY")
            .env_remove("SESSION_STORAGE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the example");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the example prints its URL")
            .expect("read stdout")
            .expect("a line");
        // `Serving on http://<address>`, maybe followed by a note.
        let address = line
            .strip_prefix("Serving on http://")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let stderr = child.stderr.take().expect("stderr");
        Demo { _child: child, address, first_line: line, stderr }
    }
}

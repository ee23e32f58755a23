//! A closed-loop HTTP/1.1 load generator: each connection sends one `GET` after the other and, for a
//! returning visitor, keeps the cookies its responses set, like one browser tab each.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Who the connections play.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visitor {
    /// Keeps its cookies: the session is loaded and saved on every request.
    Returning,
    /// Sends no cookie: every request starts a session.
    Fresh,
    /// Every connection sends the cookie of one session, made by a first request: one browser firing
    /// its requests in parallel, each of which writes the session.
    OneBrowser,
}

/// What one load run measured.
#[derive(Debug, Default)]
pub struct Measured {
    /// Answers with status 200 inside the measured window.
    pub ok: u64,
    /// Other statuses and failed exchanges inside the window.
    pub errors: u64,
    /// Answers with status 200 that showed a previous visit (`Last visited: <time>`, not `None`): the
    /// session really came back.
    pub returned: u64,
    /// Latency of every measured request, in microseconds.
    pub latencies: Vec<u32>,
    /// The measured window.
    pub window: Duration,
}

impl Measured {
    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    /// The latency at quantile `q` (0..1), in microseconds.
    pub fn latency(&mut self, q: f64) -> u32 {
        if self.latencies.is_empty() {
            return 0;
        }
        self.latencies.sort_unstable();
        self.latencies[((self.latencies.len() as f64 * q) as usize).min(self.latencies.len() - 1)]
    }
}

/// Runs `connections` connections against `path` on `address`: `warmup` unmeasured, then `duration`
/// measured.
pub async fn run(
    address: SocketAddr,
    path: &str,
    visitor: Visitor,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    // One browser's jar: the cookies the first response sets, sent by every connection.
    let shared = match visitor {
        Visitor::OneBrowser => first_visit(address, path).await,
        _ => Vec::new(),
    };
    let start = Instant::now() + warmup;
    let end = start + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (path, jar) = (path.to_owned(), shared.clone());
            tokio::spawn(async move { connection(address, &path, visitor, jar, start, end).await })
        })
        .collect();
    let mut total = Measured { window: duration, ..Measured::default() };
    for task in tasks {
        let part = task.await.expect("a connection task");
        total.ok += part.ok;
        total.errors += part.errors;
        total.returned += part.returned;
        total.latencies.extend(part.latencies);
    }
    total
}

/// The cookies a first visit gets.
async fn first_visit(address: SocketAddr, path: &str) -> Vec<(String, String)> {
    let mut jar = Vec::new();
    if let Ok(mut stream) = TcpStream::connect(address).await
        && let Ok(response) = exchange(&mut stream, path, &[], &mut Vec::new()).await
    {
        for set_cookie in response.set_cookies {
            keep(&mut jar, &set_cookie);
        }
    }
    jar
}

async fn connection(
    address: SocketAddr,
    path: &str,
    visitor: Visitor,
    mut jar: Vec<(String, String)>,
    start: Instant,
    end: Instant,
) -> Measured {
    let mut measured = Measured::default();
    let mut stream: Option<TcpStream> = None;
    let mut buffer = Vec::with_capacity(16 * 1024);
    loop {
        let sent = Instant::now();
        if sent >= end {
            return measured;
        }
        if stream.is_none() {
            stream = TcpStream::connect(address).await.ok();
            if let Some(stream) = &stream {
                let _ = stream.set_nodelay(true);
            }
        }
        let outcome = match stream.as_mut() {
            Some(stream) => exchange(stream, path, &jar, &mut buffer).await,
            None => Err(io::Error::other("connect failed")),
        };
        let counted = sent >= start;
        match outcome {
            Ok(response) => {
                if visitor == Visitor::Returning {
                    for set_cookie in response.set_cookies {
                        keep(&mut jar, &set_cookie);
                    }
                }
                if counted {
                    if response.status == 200 {
                        measured.ok += 1;
                        measured.returned += u64::from(response.showed_a_visit);
                        measured.latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    } else {
                        measured.errors += 1;
                    }
                }
                if response.close {
                    stream = None;
                }
            }
            Err(_) => {
                stream = None;
                if counted {
                    measured.errors += 1;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
}

/// Applies one `Set-Cookie` to the jar.
fn keep(jar: &mut Vec<(String, String)>, set_cookie: &str) {
    let mut parts = set_cookie.split(';');
    let Some((name, value)) = parts.next().and_then(|pair| pair.trim().split_once('=')) else { return };
    let removed = parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
    jar.retain(|(kept, _)| kept != name);
    if !removed {
        jar.push((name.to_owned(), value.to_owned()));
    }
}

struct Response {
    status: u16,
    set_cookies: Vec<String>,
    close: bool,
    /// The body says `Last visited: <time>`: the request's session held a previous visit.
    showed_a_visit: bool,
}

/// One request and its whole response on a kept-alive connection.
async fn exchange(
    stream: &mut TcpStream,
    path: &str,
    jar: &[(String, String)],
    buffer: &mut Vec<u8>,
) -> io::Result<Response> {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: session-bench\r\n");
    if !jar.is_empty() {
        request.push_str("Cookie: ");
        for (index, (name, value)) in jar.iter().enumerate() {
            if index > 0 {
                request.push_str("; ");
            }
            request.push_str(name);
            request.push('=');
            request.push_str(value);
        }
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;

    buffer.clear();
    let head_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at + 4;
        }
        read_more(stream, buffer).await?;
    };
    let head = std::str::from_utf8(&buffer[..head_end]).map_err(|_| io::Error::other("non-UTF-8 head"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::other("no status line"))?;
    let (mut length, mut set_cookies, mut close) = (None, Vec::new(), false);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("set-cookie") {
            set_cookies.push(value.to_owned());
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            close = true;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(io::Error::other("chunked responses are not supported by this load generator"));
        }
    }
    let length = length.ok_or_else(|| io::Error::other("no Content-Length"))?;
    while buffer.len() < head_end + length {
        read_more(stream, buffer).await?;
    }
    let body = &buffer[head_end..head_end + length];
    let showed_a_visit = body.strip_prefix(b"Last visited: ").is_some_and(|visit| visit != b"None");
    Ok(Response { status, set_cookies, close, showed_a_visit })
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    buffer.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

//! A browser for HTTP-level tests: a real HTTP/1.1 client and a cookie jar.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use http::header::{COOKIE, HeaderValue, SET_COOKIE};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use session_core::BoxError;

use crate::client::read_set_cookie;

/// What came back from one request.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// Every `Set-Cookie` header, in order.
    pub set_cookies: Vec<String>,
    /// Every header.
    pub headers: http::HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl Reply {
    /// The `Set-Cookie` header for the cookie `name`, if one was sent.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies.iter().find(|h| h.starts_with(&format!("{name}="))).map(String::as_str)
    }
}

/// A browser: one HTTP client talking to one server, and a cookie jar that keeps what `Set-Cookie`
/// says (a `Max-Age=0` removes the cookie) and sends it back in a `Cookie` header.
///
/// Domain, path and expiry are not modelled: every cookie goes with every request.
pub struct Browser {
    address: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    /// Cookie name to value, as sent back (quoted where the server quoted it).
    pub jar: BTreeMap<String, String>,
}

impl Browser {
    /// A browser with an empty jar for the server at `address`.
    pub fn new(address: SocketAddr) -> Self {
        Browser { address, client: Client::builder(TokioExecutor::new()).build_http(), jar: BTreeMap::new() }
    }

    /// Another tab of this browser: the same server and, from now on, a copy of its cookies (for
    /// requests sent at once).
    pub fn tab(&self) -> Browser {
        Browser { address: self.address, client: self.client.clone(), jar: self.jar.clone() }
    }

    /// Points the browser (and its jar) at another server: one browser visiting two apps that share a
    /// cookie.
    pub fn set_address(&mut self, address: SocketAddr) {
        self.address = address;
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Reply {
        self.send(Method::GET, path).await
    }

    /// A request with an empty body. Panics if the server cannot be reached: this is a test helper
    /// (see [`try_send`](Self::try_send)).
    pub async fn send(&mut self, method: Method, path: &str) -> Reply {
        self.try_send(method, path, Bytes::new()).await.expect("HTTP round trip")
    }

    /// A request with `body` (sent with `Content-Type: application/x-www-form-urlencoded`).
    pub async fn send_body(&mut self, method: Method, path: &str, body: impl Into<Bytes>) -> Reply {
        self.try_send(method, path, body.into()).await.expect("HTTP round trip")
    }

    /// A request with an empty body and one more header.
    pub async fn send_with_header(&mut self, method: Method, path: &str, name: &str, value: &str) -> Reply {
        let request =
            Request::builder().method(method).uri(format!("http://{}{path}", self.address)).header(name, value);
        self.try_send_request(request, Bytes::new()).await.expect("HTTP round trip")
    }

    /// A request, or the transport error if there was no HTTP answer.
    pub async fn try_send(&mut self, method: Method, path: &str, body: Bytes) -> Result<Reply, BoxError> {
        let request = Request::builder().method(method).uri(format!("http://{}{path}", self.address));
        self.try_send_request(request, body).await
    }

    /// `request` with `body`, the jar's cookies and, for a body, the form's content type.
    async fn try_send_request(&mut self, mut request: http::request::Builder, body: Bytes) -> Result<Reply, BoxError> {
        if !body.is_empty() {
            request = request.header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(name, value)| format!("{name}={value}")).collect();
            request = request.header(COOKIE, cookies.join("; "));
        }
        self.exchange(request.body(Full::new(body))?).await
    }

    /// `GET path` with exactly these `Cookie` headers, in order, as raw bytes (several, as HTTP/2
    /// clients send; bytes that are not text, as other sites' scripts may set) instead of the jar's.
    pub async fn get_with_cookie_headers(&mut self, path: &str, headers: &[&[u8]]) -> Reply {
        let mut request = Request::builder().method(Method::GET).uri(format!("http://{}{path}", self.address));
        for header in headers {
            request = request.header(COOKIE, HeaderValue::from_bytes(header).expect("a header value"));
        }
        let request = request.body(Full::new(Bytes::new())).expect("a request");
        self.exchange(request).await.expect("HTTP round trip")
    }

    /// Sends `request`, keeps what it sets in the jar.
    async fn exchange(&mut self, request: Request<Full<Bytes>>) -> Result<Reply, BoxError> {
        let response = self.client.request(request).await?;
        let (status, headers) = (response.status(), response.headers().clone());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let body = response.into_body().collect().await?.to_bytes();
        for (name, value) in set_cookies.iter().filter_map(|header| read_set_cookie(header)) {
            match value {
                Some(value) => self.jar.insert(name.to_owned(), value.to_owned()),
                None => self.jar.remove(name),
            };
        }
        Ok(Reply { status, set_cookies, headers, body: String::from_utf8_lossy(&body).into_owned() })
    }
}

//! Streamable HTTP at `/mcp`, guarded: loopback by default, a bearer token on every
//! request, browser origins and unknown `Host` names refused, request bodies capped.
//!
//! rmcp's `StreamableHttpService` (a tower service) speaks the protocol and checks
//! `Host`, `Origin` and the body size; this module adds the path and the token in front
//! of it, on hyper's HTTP/1.1 connections through hyper-util's tokio glue (no web
//! framework: the server has one route). It also keeps the server alive under abuse: a
//! client must send its request head within [`HttpOptions::header_timeout`], which also
//! ends connections left idle between requests; connections are capped, and when the cap
//! or the process's file-descriptor limit is reached the connection idle the longest is
//! closed to make room (never one with a request in flight); accept errors back off
//! instead of spinning. Shutting down stops accepting and lets requests in flight finish.

use std::{
    collections::BTreeMap,
    convert::Infallible,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::{Request, Response, StatusCode, body::Incoming, header, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager,
};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::server::{NameraServer, ServeError, WalletHandle};

/// How the HTTP transport listens and whom it lets in.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The address to bind (default 127.0.0.1).
    pub host: IpAddr,
    /// The port (0: any free port; see [`HttpServer::local_addr`]).
    pub port: u16,
    /// The bearer token clients must send; `None`: one is generated (see
    /// [`HttpServer::token`]).
    pub token: Option<String>,
    /// Allow binding an address other machines can reach.
    pub allow_non_loopback: bool,
    /// Browser origins allowed to call (e.g. `http://localhost:3000`); any other
    /// `Origin` header is refused. Requests without `Origin` (non-browser clients) pass.
    pub allowed_origins: Vec<String>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Host names (the `Host` header, without port) accepted besides the loopback names
    /// and the bound address: the machine's own name, say, when other machines call.
    pub allowed_hosts: Vec<String>,
    /// How long a client has to send a request's head, counted from the connection's
    /// start or the end of its previous request (so it is also the idle timeout).
    pub header_timeout: Duration,
    /// Connections open at once; past it, the connection idle the longest is closed.
    pub max_connections: usize,
    /// How long shutting down waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8787,
            token: None,
            allow_non_loopback: false,
            allowed_origins: Vec::new(),
            max_body_bytes: 256 * 1024,
            allowed_hosts: Vec::new(),
            header_timeout: Duration::from_secs(10),
            max_connections: 512,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// A bound, not yet serving, HTTP transport.
#[derive(Debug)]
pub struct HttpServer {
    listener: TcpListener,
    token: Arc<str>,
    generated: bool,
    options: HttpOptions,
    wallet: WalletHandle,
}

impl HttpServer {
    /// Bind `options.host:options.port`. Refuses a non-loopback address unless
    /// `allow_non_loopback` is set, and an empty token.
    pub async fn bind(
        wallet: impl Into<WalletHandle>,
        options: HttpOptions,
    ) -> Result<Self, ServeError> {
        let wallet = wallet.into();
        if !options.host.is_loopback() && !options.allow_non_loopback {
            return Err(ServeError::NonLoopback(options.host));
        }
        let (token, generated) = match &options.token {
            Some(t) if t.trim().is_empty() => return Err(ServeError::EmptyToken),
            Some(t) => (t.trim().to_owned(), false),
            None => (alloy_primitives::hex::encode(rand::random::<[u8; 32]>()), true),
        };
        let listener = TcpListener::bind(SocketAddr::new(options.host, options.port)).await?;
        Ok(Self { listener, token: token.into(), generated, options, wallet })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        Ok(self.listener.local_addr()?)
    }

    /// The bearer token clients must send.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether the token was generated here (then the caller shows it once).
    pub const fn token_generated(&self) -> bool {
        self.generated
    }

    /// Serve until `shutdown` is cancelled; then stop accepting, let requests in flight
    /// finish (at most [`HttpOptions::shutdown_grace`]) and return.
    pub async fn serve(self, shutdown: CancellationToken) -> Result<(), ServeError> {
        let local = self.local_addr()?;
        let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
        if !local.ip().is_loopback() {
            hosts.push(local.ip().to_string());
        }
        hosts.extend(self.options.allowed_hosts.iter().cloned());
        // rmcp's own token: cancelled only once the connections are drained, so a tool
        // call in flight is never cut short by shutting down.
        let mcp_stop = CancellationToken::new();
        let config = StreamableHttpServerConfig::default()
            .with_allowed_hosts(hosts)
            .with_allowed_origins(self.options.allowed_origins.clone())
            .enforce_origin_validation()
            .with_max_request_body_bytes(self.options.max_body_bytes)
            // Each request stands alone: no session state to keep, and plain JSON
            // answers for request-response tools.
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_cancellation_token(mcp_stop.clone());
        let handler = NameraServer::new(self.wallet.clone());
        let mcp = StreamableHttpService::new(
            move || Ok(handler.clone()),
            Arc::new(NeverSessionManager::default()),
            config,
        );
        let gate = Arc::new(Gate { token: self.token.clone(), mcp });
        let conns = Arc::new(Connections::default());
        let tasks = TaskTracker::new();
        let mut backoff = Duration::ZERO;
        loop {
            let (stream, _) = tokio::select! {
                () = shutdown.cancelled() => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => {
                        backoff = Duration::ZERO;
                        a
                    }
                    // Out of descriptors (or any other accept error): make room by
                    // closing the connection idle the longest, and wait a little before
                    // accepting again, longer each time, so the loop never spins.
                    Err(_) => {
                        conns.evict_idlest();
                        backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                        tokio::select! {
                            () = shutdown.cancelled() => break,
                            () = tokio::time::sleep(backoff) => continue,
                        }
                    }
                },
            };
            if conns.len() >= self.options.max_connections {
                conns.evict_idlest();
            }
            let (id, evict) = conns.open();
            let (gate, conns, stop) = (gate.clone(), conns.clone(), shutdown.clone());
            let header_timeout = self.options.header_timeout;
            tasks.spawn(async move {
                let in_flight = conns.clone();
                let service = service_fn(move |req| {
                    let (gate, conns) = (gate.clone(), in_flight.clone());
                    async move {
                        conns.busy(id, true);
                        let response = gate.handle(req).await;
                        conns.busy(id, false);
                        Ok::<_, Infallible>(response)
                    }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                let mut conn = std::pin::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => {}
                    () = evict.cancelled() => {}
                    () = stop.cancelled() => {
                        // Finish the request in flight, then close.
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
                conns.close(id);
            });
        }
        tasks.close();
        let _ = tokio::time::timeout(self.options.shutdown_grace, tasks.wait()).await;
        mcp_stop.cancel();
        Ok(())
    }
}

/// The open connections: whether each has a request in flight, and since when it is
/// idle, so the idlest can be closed to make room.
#[derive(Debug, Default)]
struct Connections {
    next: std::sync::atomic::AtomicU64,
    open: Mutex<BTreeMap<u64, Conn>>,
}

#[derive(Debug)]
struct Conn {
    /// `None` while a request is in flight.
    idle_since: Option<Instant>,
    close: CancellationToken,
}

impl Connections {
    fn open(&self) -> (u64, CancellationToken) {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let close = CancellationToken::new();
        self.lock().insert(id, Conn { idle_since: Some(Instant::now()), close: close.clone() });
        (id, close)
    }

    fn busy(&self, id: u64, busy: bool) {
        if let Some(c) = self.lock().get_mut(&id) {
            c.idle_since = (!busy).then(Instant::now);
        }
    }

    fn close(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    /// Close the connection idle the longest (none with a request in flight).
    fn evict_idlest(&self) {
        let mut open = self.lock();
        let idlest = open
            .iter()
            .filter_map(|(id, c)| c.idle_since.map(|t| (t, *id)))
            .min()
            .map(|(_, id)| id);
        if let Some(c) = idlest.and_then(|id| open.remove(&id)) {
            c.close.cancel();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Conn>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type Body = BoxBody<Bytes, Infallible>;

/// The checks in front of the MCP service.
struct Gate {
    token: Arc<str>,
    mcp: StreamableHttpService<NameraServer, NeverSessionManager>,
}

impl Gate {
    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        if req.uri().path() != "/mcp" {
            return plain(StatusCode::NOT_FOUND, "not found: the MCP endpoint is /mcp");
        }
        let authorized = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| bearer(v.as_bytes()))
            .is_some_and(|t| bool::from(t.ct_eq(self.token.as_bytes())));
        if !authorized {
            let mut r = plain(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return r;
        }
        self.mcp.handle(req).await
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is matched
/// without regard to case (RFC 7235). Compared to the server's token in constant time
/// (`subtle`), so it cannot be guessed byte by byte from response times.
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let space = value.iter().position(|b| *b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    scheme.eq_ignore_ascii_case(b"bearer").then(|| rest.trim_ascii())
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
    r
}

/// Bind, announce the address (and a generated token, once) on stderr, and serve until
/// interrupted (see [`HttpServer::serve_until_interrupted`]).
pub async fn serve_http(
    wallet: impl Into<WalletHandle>,
    options: HttpOptions,
) -> Result<(), ServeError> {
    let server = HttpServer::bind(wallet, options).await?;
    eprintln!("namera-mcp: listening on http://{}/mcp", server.local_addr()?);
    if server.token_generated() {
        eprintln!("namera-mcp: bearer token (shown once): {}", server.token());
    }
    server.serve_until_interrupted().await
}

impl HttpServer {
    /// Serve until Ctrl-C (SIGINT) or SIGTERM, then shut down gracefully: requests in
    /// flight finish.
    pub async fn serve_until_interrupted(self) -> Result<(), ServeError> {
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                match signal(SignalKind::terminate()) {
                    Ok(mut term) => tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    },
                    Err(_) => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            stop.cancel();
        });
        self.serve(shutdown).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_token_exact() {
        assert_eq!(bearer(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"BEARER  abc "), Some(&b"abc"[..]));
        assert_eq!(bearer(b"Basic abc"), None);
        assert_eq!(bearer(b"Bearerabc"), None);
    }

    #[test]
    fn the_idlest_connection_makes_room_never_a_busy_one() {
        let conns = Connections::default();
        let (a, close_a) = conns.open();
        let (b, close_b) = conns.open();
        let (_c, close_c) = conns.open();
        conns.busy(a, true);
        conns.evict_idlest();
        assert!(!close_a.is_cancelled(), "a connection with a request in flight stays");
        assert!(close_b.is_cancelled(), "the idlest goes first");
        assert!(!close_c.is_cancelled());
        assert_eq!(conns.len(), 2);
        conns.busy(a, false);
        conns.close(b);
        conns.evict_idlest();
        assert!(close_c.is_cancelled() && !close_a.is_cancelled());
    }
}

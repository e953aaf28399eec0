//! Streamable HTTP at `/mcp`, guarded: loopback by default, a bearer token on every
//! request, browser origins refused unless listed, request bodies capped.
//!
//! rmcp's `StreamableHttpService` speaks the protocol and checks `Host`, `Origin` and the
//! body size; this module adds the path and the token in front of it, on a plain hyper
//! HTTP/1.1 server (no web framework: the server has one route).

use std::{
    convert::Infallible,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::{Request, Response, StatusCode, body::Incoming, header, service::service_fn};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

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

    /// Serve until `shutdown` is cancelled.
    pub async fn serve(self, shutdown: CancellationToken) -> Result<(), ServeError> {
        let local = self.local_addr()?;
        let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
        if !local.ip().is_loopback() {
            hosts.push(local.ip().to_string());
        }
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
            .with_cancellation_token(shutdown.child_token());
        let handler = NameraServer::new(self.wallet.clone());
        let mcp = StreamableHttpService::new(
            move || Ok(handler.clone()),
            Arc::new(NeverSessionManager::default()),
            config,
        );
        let gate = Arc::new(Gate { token: self.token.clone(), mcp });
        loop {
            let (stream, _) = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    // A connection that failed before it was accepted (reset, out of
                    // descriptors) must not stop the server.
                    Err(_) => continue,
                },
            };
            let gate = gate.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let gate = gate.clone();
                    async move { Ok::<_, Infallible>(gate.handle(req).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = conn => {}
                    () = stop.cancelled() => {}
                }
            });
        }
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
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| same(t.trim().as_bytes(), self.token.as_bytes()));
        if !authorized {
            let mut r = plain(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return r;
        }
        self.mcp.handle(req).await
    }
}

/// Compare in time independent of where the first difference is, so the token cannot be
/// guessed byte by byte from response times.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
    r
}

/// Bind, announce the address (and a generated token, once) on stderr, and serve until
/// Ctrl-C.
pub async fn serve_http(
    wallet: impl Into<WalletHandle>,
    options: HttpOptions,
) -> Result<(), ServeError> {
    let server = HttpServer::bind(wallet, options).await?;
    eprintln!("namera-mcp: listening on http://{}/mcp", server.local_addr()?);
    if server.token_generated() {
        eprintln!("namera-mcp: bearer token (shown once): {}", server.token());
    }
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    server.serve(shutdown).await
}

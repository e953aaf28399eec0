//! The MCP server: the wallet's tools on rmcp's router behind its [`ServerHandler`],
//! served over stdio (HTTP is in `http`).

use std::{future::Future, sync::Arc};

use namera::wallet::Wallet;
use rmcp::{
    ServerHandler, ServiceExt,
    handler::server::router::tool::ToolRouter,
    model::{Implementation, ServerCapabilities, ServerConfig},
    tool_handler,
};

use crate::tools::ToolFailure;

/// The wallet a server acts for: ready, or still being prepared (unlocking encrypted keys
/// costs a key derivation per key, and connecting reads each key's state). The MCP
/// handshake and `tools/list` never wait for it; a tool call waits until it is ready.
///
/// ```no_run
/// # async fn build() -> Result<namera::wallet::Wallet, String> { unimplemented!() }
/// # async fn run() {
/// let handle = namera_mcp::WalletHandle::loading(build());
/// namera_mcp::serve_stdio(handle).await.unwrap();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct WalletHandle(tokio::sync::watch::Receiver<Option<Result<Wallet, Arc<str>>>>);

impl WalletHandle {
    /// A wallet that is ready.
    pub fn ready(wallet: Wallet) -> Self {
        Self(tokio::sync::watch::channel(Some(Ok(wallet))).1)
    }

    /// A wallet `build` makes, starting now. Must be called inside a tokio runtime.
    pub fn loading(build: impl Future<Output = Result<Wallet, String>> + Send + 'static) -> Self {
        let (tx, rx) = tokio::sync::watch::channel(None);
        tokio::spawn(async move {
            let _ = tx.send(Some(build.await.map_err(Arc::from)));
        });
        Self(rx)
    }

    /// The wallet, once ready; or why it could not be made.
    pub async fn get(&self) -> Result<Wallet, String> {
        let mut rx = self.0.clone();
        let ready = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| "the wallet loader stopped".to_owned())?;
        match &*ready {
            Some(Ok(w)) => Ok(w.clone()),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("the wallet is not ready".into()),
        }
    }
}

impl From<Wallet> for WalletHandle {
    fn from(wallet: Wallet) -> Self {
        Self::ready(wallet)
    }
}

/// What the agent is told on `initialize`.
const INSTRUCTIONS: &str = "This server acts for one smart account through session keys \
whose policies the chain enforces. Call list_permissions to learn what the keys may do, \
check_transaction to ask whether a request would pass (and which policy refuses it if not), \
then native_transfer or execute_transaction. A refused request comes back as a tool error \
naming the policy; change the request rather than retrying it.";

/// The MCP handler: one wallet and its tools. Cheap to clone (one per HTTP session).
#[derive(Debug, Clone)]
pub struct NameraServer {
    wallet: WalletHandle,
    tool_router: ToolRouter<Self>,
}

impl NameraServer {
    /// A server acting for `wallet` (ready, or a [`WalletHandle`] still loading).
    pub fn new(wallet: impl Into<WalletHandle>) -> Self {
        Self { wallet: wallet.into(), tool_router: Self::tool_router() }
    }

    /// The wallet, waiting for it to load; a tool error when it could not be.
    pub(crate) async fn wallet(&self) -> Result<Wallet, ToolFailure> {
        self.wallet
            .get()
            .await
            .map_err(|e| ToolFailure::Text(format!("the wallet could not be loaded: {e}")))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for NameraServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("namera-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// Serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The MCP session could not start.
    #[error("MCP initialization failed: {0}")]
    Init(String),
    /// The serving task failed.
    #[error("MCP server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Binding or accepting failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A non-loopback address without the explicit flag.
    #[error(
        "refusing to listen on {0}: it is not a loopback address; allow it explicitly (allow_non_loopback) if other machines must reach this server"
    )]
    NonLoopback(std::net::IpAddr),
    /// An empty bearer token.
    #[error("the bearer token must not be empty")]
    EmptyToken,
}

/// Serve `wallet` over stdin/stdout until the client closes the stream. Logs must go to
/// stderr: stdout carries the protocol.
pub async fn serve_stdio(wallet: impl Into<WalletHandle>) -> Result<(), ServeError> {
    let running = NameraServer::new(wallet)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| ServeError::Init(e.to_string()))?;
    running.waiting().await?;
    Ok(())
}

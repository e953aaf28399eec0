//! The MCP server: the tool table behind rmcp's [`ServerHandler`], served over stdio.

use std::sync::Arc;

use rmcp::{
    ErrorData, RoleServer, ServerHandler, ServiceExt,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
        ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
};

use crate::{tools::Toolbox, wallet::Wallet};

/// What the agent is told on `initialize`.
const INSTRUCTIONS: &str = "This server acts for one smart account through session keys \
whose policies the chain enforces. Call list_permissions to learn what the keys may do, \
check_transaction to ask whether a request would pass (and which policy refuses it if not), \
then native_transfer or execute_transaction. A refused request comes back as a tool error \
naming the policy; change the request rather than retrying it.";

/// The MCP handler: one wallet and its tools. Cheap to clone (one per HTTP session).
#[derive(Debug, Clone)]
pub struct NameraServer {
    wallet: Arc<Wallet>,
    tools: Toolbox,
}

impl NameraServer {
    /// A server acting for `wallet`.
    pub fn new(wallet: Arc<Wallet>) -> Self {
        Self { wallet, tools: Toolbox::default() }
    }

    /// The wallet.
    pub fn wallet(&self) -> &Arc<Wallet> {
        &self.wallet
    }
}

impl ServerHandler for NameraServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("namera-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.list()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if !self.tools.has(&request.name) {
            return Err(ErrorData::invalid_params(
                format!("unknown tool {:?}", request.name),
                None,
            ));
        }
        let (wallet, tools) = (self.wallet.clone(), self.tools.clone());
        let name = request.name.into_owned();
        // The SDK blocks on network I/O: keep it off the runtime's threads.
        let result =
            tokio::task::spawn_blocking(move || tools.call(&wallet, &name, request.arguments))
                .await
                .unwrap_or_else(|e| {
                    CallToolResult::error(vec![ContentBlock::text(format!(
                        "internal error, the request was not completed: {e}"
                    ))])
                });
        Ok(result.into())
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
pub async fn serve_stdio(wallet: Arc<Wallet>) -> Result<(), ServeError> {
    let running = NameraServer::new(wallet)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| ServeError::Init(e.to_string()))?;
    running.waiting().await?;
    Ok(())
}

//! Node reads through an alloy [`Provider`] the caller already holds.
//!
//! A Rust service that talks to a chain usually holds an alloy provider already, set up
//! with its endpoint, authentication and retry or rate-limit layers. Handed to the SDK,
//! that provider's transport carries the SDK's node reads too (account state, policy
//! checks, the EntryPoint's events): one connection pool and one set of limits, not a
//! second client beside it. The bundler and the paymaster keep the SDK's own client; a
//! provider speaks to a node.
//!
//! The SDK's clients are blocking, run under the async [`crate::wallet::Wallet`] on
//! threads of their own; the provider's futures run on the tokio runtime that was
//! current when the client was made.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use alloy_provider::ProviderBuilder;
//! use namera::{provider, rpc::RpcStats};
//!
//! // The provider the service already holds (any transport, any layers).
//! let alloy = ProviderBuilder::new().connect_hyper_http("http://127.0.0.1:8545".parse()?);
//! let stats = Arc::new(RpcStats::default());
//! let chain = provider::chain_client(&alloy, "http://127.0.0.1:4337", None, stats).await?;
//! println!("chain {}", chain.chain_id);
//! # Ok(()) }
//! ```

use std::sync::Arc;

use alloy_json_rpc::{Id, Request, RequestPacket, ResponsePacket};
use alloy_provider::{
    Network, Provider,
    transport::{BoxTransport, TransportError, TransportErrorKind},
};
use serde_json::Value;
use tokio::runtime::Handle;
use tower::ServiceExt;

use crate::{
    account::ChainClient,
    node::NodeClient,
    rpc::{RpcClient, RpcError, RpcStats, Transport},
    wallet::unblock,
};

/// How the SDK's node client names a provider in its errors.
const LABEL: &str = "alloy provider";

/// A client was made outside a tokio runtime: the provider's futures would have none to
/// run on.
#[derive(Debug, thiserror::Error)]
#[error("an alloy provider's client must be made inside a tokio runtime")]
pub struct NoRuntime;

/// The [`Transport`] that sends the SDK's JSON-RPC bodies through a provider's own
/// transport (with its layers), a batch as one batch.
pub struct ProviderTransport {
    transport: BoxTransport,
    runtime: Handle,
}

impl std::fmt::Debug for ProviderTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderTransport").finish_non_exhaustive()
    }
}

impl ProviderTransport {
    /// The transport of `provider`, on the tokio runtime current now.
    pub fn new<N: Network>(provider: &impl Provider<N>) -> Result<Self, NoRuntime> {
        let runtime = Handle::try_current().map_err(|_| NoRuntime)?;
        Ok(Self { transport: provider.client().transport().clone(), runtime })
    }
}

impl Transport for ProviderTransport {
    fn exchange(&self, method: &str, body: &Value) -> Result<Value, RpcError> {
        let failed = |reason: String| RpcError::Interrupted {
            url: LABEL.to_owned(),
            method: method.to_owned(),
            reason,
        };
        // Blocking on the runtime from one of its own threads would stall it (tokio
        // panics): the SDK's blocking steps belong on threads of their own, as the
        // wallet's async API runs them.
        if Handle::try_current().is_ok() {
            return Err(failed(
                "called on an async runtime's thread; use the wallet's async API, or run the call under `namera::wallet::unblock`".into(),
            ));
        }
        let packet = packet(body).map_err(|e| failed(format!("cannot form the request: {e}")))?;
        let answer = self.runtime.block_on(self.transport.clone().oneshot(packet));
        match answer {
            Ok(ResponsePacket::Single(r)) => serde_json::to_value(r),
            Ok(ResponsePacket::Batch(rs)) => serde_json::to_value(rs),
            Err(e) => return Err(transport_error(e, failed)),
        }
        .map_err(|e| RpcError::Decode { method: method.to_owned(), reason: e.to_string() })
    }
}

/// The request packet for one JSON-RPC body as [`RpcClient`] writes it (an object, or an
/// array of them).
fn packet(body: &Value) -> Result<RequestPacket, String> {
    let one = |v: &Value| {
        let method = v["method"].as_str().ok_or("no method")?.to_owned();
        let id = v["id"].as_u64().ok_or("no numeric id")?;
        let params = serde_json::value::to_raw_value(&v["params"]).map_err(|e| e.to_string())?;
        Request::new(method, Id::Number(id), params).serialize().map_err(|e| e.to_string())
    };
    match body {
        Value::Array(items) => {
            Ok(RequestPacket::Batch(items.iter().map(one).collect::<Result<Vec<_>, String>>()?))
        }
        single => Ok(RequestPacket::Single(one(single)?)),
    }
}

/// A provider's failure, sorted as the SDK's HTTP client sorts its own: an HTTP status
/// is [`RpcError::Http`]; anything else may have reached the node
/// ([`RpcError::Interrupted`]), which only reads repeat.
fn transport_error(e: TransportError, failed: impl Fn(String) -> RpcError) -> RpcError {
    let http = |h: &alloy_provider::transport::HttpError| RpcError::Http {
        url: LABEL.to_owned(),
        status: h.status,
        body: h.body.chars().take(300).collect(),
    };
    match &e {
        TransportError::Transport(TransportErrorKind::HttpError(h)) => http(h),
        TransportError::Transport(TransportErrorKind::HttpErrorWithRetryAfter {
            error, ..
        }) => http(error),
        _ => failed(e.to_string()),
    }
}

/// A node client whose reads go through `provider` (see the module docs).
pub fn node_client<N: Network>(
    provider: &impl Provider<N>,
    stats: Arc<RpcStats>,
) -> Result<NodeClient, NoRuntime> {
    let transport = Arc::new(ProviderTransport::new(provider)?);
    Ok(NodeClient::new(RpcClient::over(LABEL, transport).with_stats(stats)))
}

/// A chain client whose node reads go through `provider` and whose operations go to the
/// bundler at `bundler` (sponsored by the paymaster at `paymaster`, if given); all of
/// them add to `stats`. Reads the chain id, without blocking the runtime.
pub async fn chain_client<N: Network>(
    provider: &impl Provider<N>,
    bundler: &str,
    paymaster: Option<&str>,
    stats: Arc<RpcStats>,
) -> Result<ChainClient, RpcError> {
    let node = node_client(provider, stats.clone()).map_err(|e| RpcError::Interrupted {
        url: LABEL.to_owned(),
        method: "eth_chainId".into(),
        reason: e.to_string(),
    })?;
    let (bundler, paymaster) = (bundler.to_owned(), paymaster.map(str::to_owned));
    unblock(move || ChainClient::with_node(node, &bundler, paymaster.as_deref(), stats)).await
}

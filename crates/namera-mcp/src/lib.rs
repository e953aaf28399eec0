//! An MCP server that lets AI agents use a ZeroDev Kernel smart account through session
//! keys alone: the owner key never enters this process.
//!
//! The SDK's [`Wallet`] holds the account (on one or several chains) and its session
//! keys; this crate only translates MCP tool calls (rmcp's `#[tool_router]`) into its
//! calls and its answers into tool results. [`serve_stdio`] and [`HttpServer`] /
//! [`serve_http`] serve it. For each request the wallet picks the narrowest session key
//! whose policies allow it, judged offline before anything is sent; if none does, the
//! tool error names each refusing policy and why. Concurrent requests get their own lanes
//! (2D nonce keys), also across processes, so they never collide.
//!
//! ```no_run
//! use namera::{chain::{ChainRegistry, Endpoints}, session_key::SerializedSessionKey};
//! use namera_mcp::{KeySpec, Wallet, serve_stdio};
//! # async fn run(serialized: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let endpoints = Endpoints {
//!     rpc: "http://127.0.0.1:8545".into(),
//!     bundler: "http://127.0.0.1:4337".into(),
//!     paymaster: None,
//! };
//! let key = KeySpec::from_serialized("agent", SerializedSessionKey::from_base64(serialized)?)?;
//! let wallet = Wallet::connect(vec![endpoints], vec![key], None, ChainRegistry::builtin()).await?;
//! serve_stdio(wallet).await?;
//! # Ok(()) }
//! ```

pub mod abi;
pub mod amount;
pub mod describe;
mod http;
mod server;
pub mod tools;

pub use http::{HttpOptions, HttpServer, serve_http};
pub use namera::wallet::{KeySpec, Wallet, WalletError};
pub use server::{NameraServer, ServeError, WalletHandle, serve_stdio};

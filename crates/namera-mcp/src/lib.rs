//! An MCP server that lets AI agents use a ZeroDev Kernel smart account through session
//! keys alone: the owner key never enters this process.
//!
//! A [`Wallet`] holds the account (on one or several chains) and its session keys, built
//! from ZeroDev serialized keys ([`Wallet::from_serialized`]) or from SDK signers
//! ([`Wallet::new`]). [`serve_stdio`] and [`HttpServer`] / [`serve_http`] expose it as
//! MCP tools over rmcp. For each request the server picks the narrowest session key whose
//! policies allow it, judged offline by the SDK's explain function before anything is
//! sent; if none does, the tool error names each refusing policy and why. Concurrent
//! requests get their own lanes (2D nonce keys), so they never collide.
//!
//! ```no_run
//! use std::sync::Arc;
//! use namera::{chain::Endpoints, session_key::SerializedSessionKey};
//! use namera_mcp::{KeySpec, Wallet, serve_stdio};
//! # async fn run(serialized: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let endpoints = Endpoints {
//!     rpc: "http://127.0.0.1:8545".into(),
//!     bundler: "http://127.0.0.1:4337".into(),
//!     paymaster: None,
//! };
//! let key = KeySpec { alias: "agent".into(), key: SerializedSessionKey::from_base64(serialized)? };
//! let wallet = Wallet::from_serialized(&[endpoints], vec![key])?;
//! serve_stdio(Arc::new(wallet)).await?;
//! # Ok(()) }
//! ```

pub mod abi;
pub mod amount;
pub mod describe;
mod http;
mod server;
pub mod tools;
mod wallet;

pub use http::{HttpOptions, HttpServer, serve_http};
pub use server::{NameraServer, ServeError, WalletHandle, serve_stdio};
pub use wallet::{
    ActionError, KeySpec, KeyVerdict, Landed, LaneGuard, Lanes, PolicyRefusal, Wallet, WalletChain,
    WalletError, WalletKey,
};

//! Namera: scoped access to a ZeroDev Kernel v3 smart account.
//!
//! An owner key creates the account; session keys act on it within policies the chain
//! enforces. This crate is the protocol core ([`kernel`], [`policy`], [`permission`],
//! [`session_key`]): pure encodings, byte-identical with ZeroDev's TypeScript SDK.
//! With the `passkey` feature, `passkey` adds WebAuthn (P-256) owners and session keys.

#[cfg(feature = "client")]
pub mod account;
pub mod address;
#[cfg(feature = "client")]
pub mod bundler;
pub mod chain;
pub mod fields;
#[cfg(feature = "client")]
pub mod inclusion;
pub mod kernel;
#[cfg(feature = "client")]
pub mod node;
#[cfg(feature = "passkey")]
pub mod passkey;
pub mod permission;
pub mod policy;
#[cfg(feature = "alloy-provider")]
pub mod provider;
#[cfg(feature = "client")]
pub mod revert;
#[cfg(feature = "client")]
pub mod rpc;
pub mod session_key;
#[cfg(feature = "client")]
pub mod transaction;
pub mod units;
#[cfg(feature = "client")]
pub mod wallet;

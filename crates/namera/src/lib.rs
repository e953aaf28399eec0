//! Namera: scoped access to a ZeroDev Kernel v3 smart account.
//!
//! An owner key creates the account; session keys act on it within policies the chain
//! enforces. This crate is the protocol core ([`kernel`], [`policy`], [`permission`],
//! [`session_key`]): pure encodings, byte-identical with ZeroDev's TypeScript SDK.

pub mod kernel;
pub mod permission;
pub mod policy;
pub mod session_key;

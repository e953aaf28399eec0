//! End-to-end tests against the devnet: one devnet for the whole binary.

mod budgets;
mod deploy;
mod explain;
mod fidelity;
mod inclusion;
mod lanes;
mod multi_chain;
mod passkey;
mod passkey_browser;
mod paymaster;
mod policies;
mod provider;
mod session_key;
mod webauthn;

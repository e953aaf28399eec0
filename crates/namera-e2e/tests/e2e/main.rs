//! End-to-end tests against the devnet: one devnet for the whole binary.

mod deploy;
mod multi_chain;
mod policies;
mod session_key;

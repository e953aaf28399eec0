//! End-to-end tests against the devnet: one devnet for the whole binary.

mod deploy;
mod session_key;

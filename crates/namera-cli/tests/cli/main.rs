//! Integration tests of the `namera` binary: each runs the real executable in a process
//! of its own, as a user, a script or an agent would (ripgrep's layout: one test binary).

mod agent;
mod budget;
mod corrupt;
mod devnet;
mod hardening;
mod input;
mod mcp;
mod passkey;
mod policy_check;
mod prompt;
mod rate_limit;
mod readme;
mod schema;
mod secrets;
mod storage;
mod support;
mod zerodev;

//! One module per command group; each holds its input types (clap flags and `--params`
//! JSON in one) and their `run` functions, which stay thin: parse into the SDK's types,
//! call the SDK, hand the result to the [`Shell`](crate::output::Shell).

pub(crate) mod config;
pub(crate) mod devnet;
pub(crate) mod keystore;
pub(crate) mod mcp;
pub(crate) mod passkey;
pub(crate) mod policy;
pub(crate) mod quickstart;
pub(crate) mod schema;
pub(crate) mod session_key;
pub(crate) mod smart_account;
pub(crate) mod tx;

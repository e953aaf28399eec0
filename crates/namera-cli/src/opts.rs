//! The command tree: the top-level parser, global options and one variant per command
//! group. A new group is a new module under `cmd/` and one variant here.

use clap::{Parser, Subcommand};

use crate::{
    cmd,
    context::Context,
    error::CliError,
    output::OutputFormat,
    params::{ParamsSource, help_example},
};

/// Scoped, policy-bound access to ZeroDev Kernel v3 smart accounts.
///
/// Every command takes its input as flags or as one JSON document (`--params`), whose
/// JSON Schema `namera schema <command>` prints. Without a terminal nothing is ever
/// asked: missing input is an error (exit 2) that lists what is missing.
#[derive(Debug, Parser)]
#[command(name = "namera", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 ok, 2 bad input, 3 not found, 4 wrong password, 5 network or chain, 6 refused by a policy, 1 other.\nStorage: $NAMERA_HOME (default ~/.namera)."
)]
pub(crate) struct Cli {
    /// Output format: `pretty` for people, `json` (one document) or `ndjson` (one object
    /// a line) for programs. Errors follow the format on stderr.
    #[arg(short, long, global = true, value_enum, default_value_t = OutputFormat::Pretty)]
    pub(crate) output: OutputFormat,

    /// The command's input as JSON: inline, `@file.json`, or `-` for stdin. Flags and
    /// params are interchangeable; a field given both ways must agree.
    #[arg(long, global = true, value_name = "JSON|@FILE|-")]
    pub(crate) params: Option<ParamsSource>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The command groups.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Owner keys (Web3 Secret Storage v3 files, readable by geth and `cast wallet`).
    #[command(subcommand, visible_alias = "ks")]
    Keystore(cmd::keystore::KeystoreCommand),
    /// Passkeys (WebAuthn, P-256): owners of smart accounts or signers of session keys.
    #[command(subcommand, visible_alias = "pk")]
    Passkey(cmd::passkey::PasskeyCommand),
    /// Kernel v3 smart accounts owned by a keystore or a passkey.
    #[command(subcommand, visible_alias = "sa")]
    SmartAccount(cmd::smart_account::SmartAccountCommand),
    /// Session keys: scoped, policy-bound keys for agents and automation.
    #[command(subcommand, visible_alias = "sk")]
    SessionKey(cmd::session_key::SessionKeyCommand),
    /// Send calls from a smart account (owner or session key).
    #[command(subcommand)]
    Tx(cmd::tx::TxCommand),
    /// Check a batch against a session key's policies without sending it.
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCommand),
    /// Print the JSON Schema of a command's --params, or with --result of what it prints
    /// (or list the commands).
    #[command(after_help = help_example::<cmd::schema::SchemaArgs>())]
    Schema(cmd::schema::SchemaArgs),
    /// Serve the account to AI agents over MCP, through session keys only.
    #[command(subcommand)]
    Mcp(cmd::mcp::McpCommand),
    /// Chains and their endpoints.
    #[command(subcommand)]
    Config(cmd::config::ConfigCommand),
    /// A local ERC-4337 chain: anvil, EntryPoint v0.7, Kernel v3 and the Alto bundler.
    #[command(subcommand)]
    Devnet(cmd::devnet::DevnetCommand),
    /// The whole story in one go: account, session key, allowed and refused transfers,
    /// revoke; on the local devnet unless --chain says otherwise.
    #[command(after_help = help_example::<cmd::quickstart::Quickstart>())]
    Quickstart(cmd::quickstart::Quickstart),
}

impl Command {
    /// Runs the chosen command.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        match self {
            Self::Keystore(c) => c.run(ctx),
            Self::Passkey(c) => c.run(ctx),
            Self::SmartAccount(c) => c.run(ctx),
            Self::SessionKey(c) => c.run(ctx),
            Self::Tx(c) => c.run(ctx),
            Self::Policy(c) => c.run(ctx),
            Self::Schema(c) => c.run(ctx),
            Self::Mcp(c) => c.run(ctx),
            Self::Config(c) => c.run(ctx),
            Self::Devnet(c) => c.run(ctx),
            Self::Quickstart(c) => c.run(ctx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_tree_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

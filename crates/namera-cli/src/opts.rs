//! The command tree: the top-level parser, global options and one variant per command
//! group. A new group (keystore, account, session-key, tx, policy, schema, mcp) is a new
//! module under `cmd/` and one variant here.

use clap::{Parser, Subcommand};

use crate::{cmd, error::CliError, output::OutputFormat, output::Shell};

/// Scoped, policy-bound access to ZeroDev Kernel v3 smart accounts.
#[derive(Debug, Parser)]
#[command(name = "namera", version, propagate_version = true)]
pub(crate) struct Cli {
    /// Output format: `pretty` for people, `json` (one document) or `ndjson` (one object
    /// a line) for programs. Errors follow the format on stderr.
    #[arg(short, long, global = true, value_enum, default_value_t = OutputFormat::Pretty)]
    pub(crate) output: OutputFormat,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The command groups.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// A local ERC-4337 chain: anvil, EntryPoint v0.7, Kernel v3 and the Alto bundler.
    #[command(subcommand)]
    Devnet(cmd::devnet::DevnetCommand),
}

impl Command {
    /// Runs the chosen command.
    pub(crate) fn run(self, shell: &Shell) -> Result<(), CliError> {
        match self {
            Self::Devnet(command) => command.run(shell),
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

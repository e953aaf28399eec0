//! One error type for everything the devnet can fail at, each variant carrying what a caller
//! (or a human reading the CLI's message) needs to act: the path, the port, the log tail.

use std::{io, path::PathBuf};

/// Why a devnet operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevnetError {
    /// `npm` (or `node`) is not on PATH; the devnet's tools come from the npm registry.
    #[error("`{tool}` was not found on PATH; install Node.js (with npm) to run the devnet")]
    NodeMissing {
        /// The missing program, `npm` or `node`.
        tool: &'static str,
    },
    /// An npm command failed.
    #[error("installing {what} failed (exit status {status}); npm said:\n{stderr_tail}")]
    InstallFailed {
        /// What was being installed.
        what: String,
        /// npm's exit status, as text.
        status: String,
        /// The last lines of npm's standard error.
        stderr_tail: String,
    },
    /// An installed package lacks a file the devnet reads.
    #[error("installed package is missing {path}: {reason}")]
    BadArtifact {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// The plugin contracts could not be built by `contracts/build.mjs`.
    #[error("building the plugin contracts in {dir} failed (exit status {status}):\n{stderr_tail}")]
    ContractsBuildFailed {
        /// The contracts directory.
        dir: PathBuf,
        /// The build's exit status, as text.
        status: String,
        /// The last lines of its standard error.
        stderr_tail: String,
    },
    /// The `NAMERA_PLUGIN_ARTIFACTS` file is unreadable or malformed.
    #[error("plugin artifacts file {path}: {reason}")]
    BadOverride {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A port the devnet wanted is in use.
    #[error("port {port} on {host} is already in use")]
    PortTaken {
        /// The host the port was tried on.
        host: String,
        /// The port.
        port: u16,
    },
    /// A child process exited before it became ready.
    #[error("{process} exited during start-up ({status}); last lines of {log}:\n{log_tail}")]
    ProcessDied {
        /// `anvil` or `alto`.
        process: &'static str,
        /// Its exit status, as text.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The last lines of that log.
        log_tail: String,
    },
    /// A service did not answer within its readiness timeout.
    #[error(
        "{service} at {url} did not answer within {timeout_secs} s; last lines of {log}:\n{log_tail}"
    )]
    NotReady {
        /// `anvil` or `bundler`.
        service: &'static str,
        /// The URL polled.
        url: String,
        /// The timeout, in seconds.
        timeout_secs: u64,
        /// The service's log file.
        log: PathBuf,
        /// The last lines of that log.
        log_tail: String,
    },
    /// A JSON-RPC call to anvil or Alto failed (unreachable, timed out, an error object, or
    /// an answer that did not decode).
    #[error(transparent)]
    Rpc(#[from] namera::rpc::RpcError),
    /// A transaction the devnet sent did not succeed.
    #[error("transaction {hash} failed: {reason}")]
    TransactionFailed {
        /// The transaction.
        hash: alloy_primitives::B256,
        /// Why: it reverted, or no receipt came.
        reason: String,
    },
    /// A deployment step did not produce the expected result.
    #[error("deploying {what} failed: {reason}")]
    Deploy {
        /// What was deployed.
        what: String,
        /// What went wrong.
        reason: String,
    },
    /// No devnet with this name is recorded.
    #[error("no devnet named {name:?} is recorded (looked for {path})")]
    NotRunning {
        /// The devnet's name.
        name: String,
        /// The state file looked for.
        path: PathBuf,
    },
    /// The state file could not be read or parsed.
    #[error("state file {path} is unreadable: {reason}")]
    BadState {
        /// The state file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A configuration value was rejected.
    #[error("invalid devnet configuration: {0}")]
    Config(String),
    /// A file-system or process operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path (or program) involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl DevnetError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io { action, path: path.into(), source }
    }

    /// Whether the failure is about the environment (missing Node.js, failed install) rather
    /// than about the devnet itself.
    pub const fn is_environment(&self) -> bool {
        matches!(self, Self::NodeMissing { .. } | Self::InstallFailed { .. })
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = DevnetError> = std::result::Result<T, E>;

/// The last `n` lines of `text`, each cut to at most 300 characters (logs can hold
/// kilobytes of bytecode on one line).
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|line| match line.char_indices().nth(300) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => (*line).to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last `n` lines of a file, or a note saying it could not be read.
pub(crate) fn file_tail(path: &std::path::Path, n: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => tail(&String::from_utf8_lossy(&bytes), n),
        Err(e) => format!("(could not read {}: {e})", path.display()),
    }
}

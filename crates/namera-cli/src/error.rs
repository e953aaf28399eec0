//! The CLI's one error type: what went wrong, its machine-readable code, a hint for the
//! person (or agent) who has to act, and the kind that decides the exit code.
//!
//! Library errors are mapped here, once, so every command reports the same failure the
//! same way.

use std::io;

use namera::{
    account::AccountError, passkey::PasskeyError, rpc::RpcError, session_key::IssueError,
    wallet::ActionError,
};
use namera_devnet::DevnetError;
use namera_store::{StoreError, keystore::KeystoreError};
use serde::Serialize;

/// The classes of failure, each with its exit code (the project-wide contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Bad input or usage: exit 2.
    Usage,
    /// The thing asked about does not exist: exit 3.
    NotFound,
    /// Wrong password or signer: exit 4.
    Auth,
    /// The network or chain failed us: exit 5.
    Network,
    /// A policy refused the operation: exit 6.
    Policy,
    /// Anything else: exit 1.
    Other,
}

impl ErrorKind {
    /// The process exit code for this kind.
    pub(crate) const fn exit_code(self) -> u8 {
        match self {
            Self::Other => 1,
            Self::Usage => 2,
            Self::NotFound => 3,
            Self::Auth => 4,
            Self::Network => 5,
            Self::Policy => 6,
        }
    }
}

/// A failed command, ready to be reported.
///
/// Serializes as the `error` member of the JSON error envelope:
/// `{"code": "<kebab-case>", "message": "…", "hint": "…"}` (`hint` only when there is one).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, thiserror::Error)]
#[error("{message}")]
#[serde(deny_unknown_fields)]
pub(crate) struct CliError {
    #[serde(skip)]
    kind: ErrorKind,
    /// What went wrong, as a stable kebab-case code (`policy-refused`, `missing-input`…).
    code: String,
    /// What went wrong, in words.
    message: String,
    /// What to do about it, when there is something to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    /// The policy type that refused (`call`, `gas`, …), for exit 6.
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
    #[serde(skip)]
    broken_pipe: bool,
}

impl CliError {
    /// An error of `kind` with a kebab-case `code`.
    pub(crate) fn new(
        kind: ErrorKind,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
            hint: None,
            policy: None,
            broken_pipe: false,
        }
    }

    /// Adds a hint: what to do about it.
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Names the policy that refused.
    pub(crate) fn with_policy(mut self, policy: Option<&str>) -> Self {
        self.policy = policy.map(str::to_owned);
        self
    }

    /// A bug or an impossible state: exit 1.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Other, "internal", message)
    }

    /// A file the user named could not be read.
    pub(crate) fn io_at(what: &str, path: &std::path::Path, e: &io::Error) -> Self {
        let kind = if e.kind() == io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Usage
        };
        Self::new(kind, "io", format!("{what} {}: {e}", path.display()))
    }

    /// A request the SDK wallet did not carry out on `chain`.
    pub(crate) fn from_action(e: &ActionError, chain: &str) -> Self {
        match e {
            ActionError::Refused { keys, .. } => {
                let refusal = keys.iter().flat_map(|k| &k.refusals).next();
                match refusal {
                    // The key itself cannot act (revoked, not approved here).
                    Some(r) if r.policy == "key" => Self::new(
                        ErrorKind::Policy,
                        "key-revoked",
                        format!("the session key cannot act on {chain}: {}", r.reason),
                    )
                    .with_hint("ask the account owner for a new session key"),
                    Some(r) => Self::new(
                        ErrorKind::Policy,
                        "policy-refused",
                        format!(
                            "refused by the {} policy: {}; nothing was sent",
                            r.policy, r.reason
                        ),
                    )
                    .with_policy(Some(&r.policy)),
                    None => Self::new(ErrorKind::Policy, "policy-refused", e.to_string()),
                }
            }
            ActionError::Account(a) => Self::from_account(a).on_chain(chain),
            ActionError::Rpc(r) => Self::from_rpc(r).on_chain(chain),
            ActionError::Input(m) => Self::new(ErrorKind::Usage, "invalid-calls", m.clone()),
            ActionError::NoLane => Self::new(ErrorKind::Other, "no-lane", e.to_string()),
            ActionError::Dropped(_) | ActionError::Race { .. } => {
                Self::new(ErrorKind::Network, "nonce-race", e.to_string()).on_chain(chain)
            }
        }
    }

    fn on_chain(mut self, chain: &str) -> Self {
        self.message = format!("{chain}: {}", self.message);
        self
    }

    fn from_account(e: &AccountError) -> Self {
        match e {
            // AA21: the account cannot pay its prefund. No policy refused anything; the
            // account needs funds (or a paymaster).
            AccountError::Refused { reason, policy: None, .. } if reason.contains("AA21") => {
                Self::new(
                    ErrorKind::Other,
                    "insufficient-funds",
                    format!("the account cannot pay for the operation: {reason}"),
                )
                .with_hint("fund the account (it pays its own gas), or configure a paymaster")
            }
            AccountError::Refused { reason, policy, .. } => {
                let message = match policy {
                    Some(p) => format!("refused by the {p} policy: {reason}"),
                    None => format!("refused: {reason}"),
                };
                Self::new(ErrorKind::Policy, "policy-refused", message).with_policy(*policy)
            }
            AccountError::KeyRevoked { .. } => {
                Self::new(ErrorKind::Policy, "key-revoked", e.to_string())
                    .with_hint("ask the account owner for a new session key")
            }
            AccountError::Rpc(r) => Self::from_rpc(r),
            AccountError::ReceiptTimeout { .. } => {
                Self::new(ErrorKind::Network, "receipt-timeout", e.to_string())
                    .with_hint("the operation may still land; look it up by its hash")
            }
            AccountError::InclusionUnknown { hash } => {
                Self::new(ErrorKind::Network, "inclusion-unknown", e.to_string()).with_hint(
                    format!("look UserOperation {hash} up on an explorer before sending again"),
                )
            }
            AccountError::KernelMissing { version, .. } => {
                Self::new(ErrorKind::Other, "kernel-missing", e.to_string()).with_hint(format!(
                    "use a Kernel release this chain has (the devnet hosts 0.3.1), or a chain with Kernel {version}"
                ))
            }
            AccountError::Execution(_) | AccountError::OutOfRange(_) => {
                Self::new(ErrorKind::Usage, "invalid-calls", e.to_string())
            }
            other => Self::new(ErrorKind::Other, "account", other.to_string()),
        }
    }

    fn from_rpc(e: &RpcError) -> Self {
        let code = match e {
            RpcError::Unreachable { .. } => "unreachable",
            RpcError::Timeout { .. } => "timeout",
            RpcError::Interrupted { .. } => "interrupted",
            RpcError::Http { .. } => "http",
            RpcError::Rpc(_) => "rpc",
            RpcError::Reverted { .. } => "reverted",
            _ => "bad-answer",
        };
        Self::new(ErrorKind::Network, code, e.to_string())
    }

    /// A command line clap rejected.
    pub(crate) fn usage(kind: clap::error::ErrorKind, rendered: String) -> Self {
        // clap's rendering ends with its own usage and help lines; the first line is the
        // message, the rest is the hint.
        let rendered = rendered.trim_end();
        let (first, rest) = rendered.split_once('\n').unwrap_or((rendered, ""));
        let message = first.trim_start_matches("error: ").to_owned();
        let code = match kind {
            clap::error::ErrorKind::InvalidSubcommand => "unknown-command",
            clap::error::ErrorKind::UnknownArgument => "unknown-argument",
            clap::error::ErrorKind::InvalidValue | clap::error::ErrorKind::ValueValidation => {
                "invalid-value"
            }
            clap::error::ErrorKind::MissingRequiredArgument
            | clap::error::ErrorKind::MissingSubcommand
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                "missing-argument"
            }
            _ => "usage",
        };
        let hint = rest.trim();
        let error = Self::new(ErrorKind::Usage, code, message);
        if hint.is_empty() { error } else { error.with_hint(hint) }
    }

    /// Writing to stdout failed. A closed pipe is remembered, because it is not an error.
    pub(crate) fn stdout(e: io::Error) -> Self {
        let broken_pipe = e.kind() == io::ErrorKind::BrokenPipe;
        Self { broken_pipe, ..Self::new(ErrorKind::Other, "io", format!("writing output: {e}")) }
    }

    /// Names `account` in the hint of an `insufficient-funds` error: the address to fund.
    pub(crate) fn with_account_hint(self, account: alloy_primitives::Address) -> Self {
        if self.code == "insufficient-funds" {
            let hint = format!(
                "send native currency to the account {account} (it pays its own gas), or configure a paymaster; then run the command again"
            );
            self.with_hint(hint)
        } else {
            self
        }
    }

    /// The kebab-case code.
    pub(crate) fn code(&self) -> &str {
        &self.code
    }

    /// The kind, which picks the exit code.
    pub(crate) const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The hint, if any (may span lines).
    pub(crate) fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// Whether stdout's reader went away (`namera … | head`).
    pub(crate) const fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }
}

impl From<RpcError> for CliError {
    fn from(e: RpcError) -> Self {
        Self::from_rpc(&e)
    }
}

impl From<AccountError> for CliError {
    fn from(e: AccountError) -> Self {
        Self::from_account(&e)
    }
}

impl From<namera::kernel::ExecutionError> for CliError {
    fn from(e: namera::kernel::ExecutionError) -> Self {
        Self::new(ErrorKind::Usage, "invalid-calls", e.to_string())
    }
}

impl From<IssueError> for CliError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Rpc { source, chain_id } => {
                Self::from_rpc(&source).on_chain(&format!("chain {chain_id}"))
            }
            other => Self::new(ErrorKind::Usage, "approval", other.to_string()),
        }
    }
}

impl From<PasskeyError> for CliError {
    fn from(e: PasskeyError) -> Self {
        let message = e.to_string();
        match e {
            PasskeyError::Timeout { .. } => Self::new(ErrorKind::Other, "passkey-timeout", message)
                .with_hint("run it again and answer the browser's passkey prompt in time (--timeout)"),
            PasskeyError::Cancelled => Self::new(ErrorKind::Other, "cancelled", message),
            PasskeyError::BrowserRefused { .. } => {
                Self::new(ErrorKind::Auth, "passkey-refused", message)
                    .with_hint("the prompt was dismissed, timed out in the browser, or the passkey is not on this device")
            }
            _ => Self::new(ErrorKind::Other, "passkey", message),
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        let (kind, code) = match &e {
            StoreError::NotFound { .. } => (ErrorKind::NotFound, "not-found"),
            StoreError::AliasTaken { .. } => (ErrorKind::Usage, "alias-taken"),
            _ => (ErrorKind::Other, "storage"),
        };
        Self::new(kind, code, message)
    }
}

impl From<KeystoreError> for CliError {
    fn from(e: KeystoreError) -> Self {
        let message = e.to_string();
        match e {
            KeystoreError::WrongPassword => Self::new(ErrorKind::Auth, "wrong-password", message),
            _ => Self::new(ErrorKind::Usage, "invalid-keystore", message),
        }
    }
}

impl From<DevnetError> for CliError {
    fn from(e: DevnetError) -> Self {
        use ErrorKind::{Network, NotFound, Other, Usage};
        let message = e.to_string();
        let (kind, code, hint): (ErrorKind, &str, Option<String>) = match &e {
            DevnetError::NotRunning { name, .. } => (
                NotFound,
                "devnet-not-running",
                Some(format!("start it with `namera devnet up{}`", name_flag(name))),
            ),
            DevnetError::Config(_) => (Usage, "invalid-config", None),
            DevnetError::NodeMissing { .. } => (
                Other,
                "node-missing",
                Some("the devnet installs anvil and Alto from the npm registry".into()),
            ),
            DevnetError::InstallFailed { .. } => (
                Network,
                "install-failed",
                Some("check access to the npm registry, then run the command again".into()),
            ),
            DevnetError::BadArtifact { .. } => (
                Other,
                "bad-artifact",
                Some(
                    "delete the devnet cache folder (see `NAMERA_DEVNET_HOME`) to reinstall".into(),
                ),
            ),
            DevnetError::BadOverride { .. } => (
                Usage,
                "bad-plugin-artifacts",
                Some(
                    "NAMERA_PLUGIN_ARTIFACTS names a JSON object { \"<checksummed address>\": \"0x<runtime code>\" }; fix it or unset it"
                        .into(),
                ),
            ),
            DevnetError::ContractsBuildFailed { .. } => (Other, "contracts-build-failed", None),
            DevnetError::PortTaken { .. } => (
                Other,
                "port-taken",
                Some("stop what listens there, or let the devnet pick free ports".into()),
            ),
            DevnetError::ProcessDied { log, .. } | DevnetError::NotReady { log, .. } => (
                Network,
                if matches!(e, DevnetError::ProcessDied { .. }) {
                    "process-died"
                } else {
                    "not-ready"
                },
                Some(format!("the whole log is {}", log.display())),
            ),
            DevnetError::Rpc(_) => (Network, "rpc", None),
            DevnetError::TransactionFailed { .. } => (Network, "transaction-failed", None),
            DevnetError::Deploy { .. } => (Network, "deploy-failed", None),
            DevnetError::BadState { path, .. } => (
                Other,
                "bad-state",
                Some(format!("remove {} and run `namera devnet up` again", path.display())),
            ),
            DevnetError::Io { .. } => (Other, "io", None),
            _ => (Other, "devnet", None),
        };
        let error = Self::new(kind, code, message);
        match hint {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    }
}

/// ` --name NAME` unless `name` is what the default (`chain-31337`) gives anyway.
fn name_flag(name: &str) -> String {
    let default = namera_devnet::DevnetConfig::new().name();
    if name == default { String::new() } else { format!(" --name {name}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        let codes = [
            (ErrorKind::Other, 1),
            (ErrorKind::Usage, 2),
            (ErrorKind::NotFound, 3),
            (ErrorKind::Auth, 4),
            (ErrorKind::Network, 5),
            (ErrorKind::Policy, 6),
        ];
        for (kind, code) in codes {
            assert_eq!(kind.exit_code(), code, "{kind:?}");
        }
    }

    #[test]
    fn a_missing_devnet_is_not_found_with_a_hint() {
        let e = CliError::from(DevnetError::NotRunning { name: "dev".into(), path: "/x".into() });
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "devnet-not-running");
        assert_eq!(json["hint"], "start it with `namera devnet up --name dev`");
    }

    #[test]
    fn a_closed_pipe_is_recognised() {
        assert!(CliError::stdout(io::Error::from(io::ErrorKind::BrokenPipe)).is_broken_pipe());
        assert!(!CliError::stdout(io::Error::from(io::ErrorKind::Other)).is_broken_pipe());
    }
}

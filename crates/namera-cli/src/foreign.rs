//! The JSON Schemas of results whose types live in other crates (the devnet's state and
//! reports, the V3 keystore file, the SDK's key state, the store's authenticator), which
//! carry no `JsonSchema` of their own and which this crate may not change.
//!
//! Each type here mirrors what the foreign type serializes to and is used only for its
//! schema (`#[schemars(with = …)]`, or as a command's [`Output`]). They are never built,
//! hence the `dead_code` allowance; what keeps them true is the CLI tests, which validate
//! every real output against the published schema.
//!
//! [`Output`]: crate::params::CommandInput::Output

#![allow(dead_code)]

use std::path::PathBuf;

use schemars::JsonSchema;

use crate::values::AddressArg;

/// A Web3 Secret Storage v3 keystore file, as geth and `cast wallet` read it.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct V3Keystore {
    /// Always 3.
    version: u8,
    /// The file's id (a UUID for keystores made here).
    id: String,
    /// The key's address: 40 lowercase hex digits, without `0x` (absent in some old files).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[0-9a-f]{40}$"))]
    address: Option<String>,
    /// The encrypted key.
    crypto: V3Crypto,
}

/// The `crypto` section of a V3 keystore (hex without `0x` throughout, as the format has it).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct V3Crypto {
    /// Always `aes-128-ctr`.
    cipher: String,
    /// The cipher's parameters.
    cipherparams: V3CipherParams,
    /// The encrypted key, hex.
    ciphertext: String,
    /// `scrypt` or `pbkdf2`.
    kdf: String,
    /// The key derivation's parameters: `dklen`, `n`, `p`, `r`, `salt` for scrypt;
    /// `c`, `dklen`, `prf`, `salt` for pbkdf2.
    kdfparams: serde_json::Map<String, serde_json::Value>,
    /// The MAC over the derived key and ciphertext, hex.
    mac: String,
}

/// The cipher's parameters.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct V3CipherParams {
    /// The AES-CTR initial counter, hex.
    iv: String,
}

/// Where a session key stands on one chain (the SDK's `KeyState`, tagged by `state`).
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub(crate) enum KeyState {
    /// Not installed yet: the key installs itself on its first use.
    PendingFirstUse,
    /// Installed and valid.
    Installed {
        /// The account nonce it was installed with.
        nonce: u32,
    },
    /// Uninstalled by the owner; it can never be installed again.
    Uninstalled,
    /// Invalidated by the owner's revoke-all (`invalidateNonce`).
    Invalidated {
        /// The nonce it was installed with.
        nonce: u32,
        /// Validations below this nonce are invalid.
        valid_nonce_from: u32,
    },
}

/// Where a passkey's private key lives.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Authenticator {
    /// A P-256 key generated here and kept encrypted in the record.
    Software,
    /// A platform or roaming authenticator reached through a browser.
    Browser,
}

/// A running devnet: everything recorded about it (its state file).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DevnetState {
    /// The state file's layout version.
    version: u32,
    /// The devnet's name.
    name: String,
    /// Its chain id.
    chain_id: u64,
    /// anvil's JSON-RPC URL (loopback only).
    rpc_url: String,
    /// Alto's JSON-RPC URL.
    bundler_url: String,
    /// The anvil process.
    anvil: ProcessInfo,
    /// The Alto process.
    bundler: ProcessInfo,
    /// The ERC-7677 paymaster's URL (loopback only); absent in state files written before
    /// the devnet had one.
    paymaster_url: Option<String>,
    /// The paymaster contract it sponsors with (Pimlico's singleton paymaster for v0.7).
    paymaster_address: Option<AddressArg>,
    /// The paymaster server's process.
    paymaster: Option<ProcessInfo>,
    /// The watchdog that stops the devnet when its owning process exits, if any.
    watchdog_pid: Option<u32>,
    /// The cache folder.
    home: PathBuf,
    /// The tools used.
    tools: Tools,
    /// The plugin contracts' `artifacts.json`, if they were placed.
    contracts_artifacts: Option<PathBuf>,
    /// The plugin contracts placed.
    placement: Vec<Placement>,
    /// Code placed over ours from a `NAMERA_PLUGIN_ARTIFACTS` file; absent when all is ours.
    plugin_overrides: Option<OverrideRecord>,
    /// The accounts funded on `up`.
    funded: Vec<AddressArg>,
    /// When `up` finished (seconds since the Unix epoch).
    started_at: u64,
    /// How long `up` took, in milliseconds.
    setup_ms: u64,
}

/// A process the devnet started.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProcessInfo {
    /// Its PID (also its process group id).
    pid: u32,
    /// The port it listens on.
    port: u16,
    /// Its log file.
    log: PathBuf,
}

/// Where the devnet's tools are.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Tools {
    /// The anvil executable.
    anvil: PathBuf,
    /// The `node` executable that runs Alto.
    node: PathBuf,
    /// Alto's entry script.
    alto: PathBuf,
    /// EntryPoint v0.7's artifact.
    entry_point_artifact: PathBuf,
    /// Kernel's and KernelFactory's creation code.
    kernel_bytecode: PathBuf,
    /// The script that starts the ERC-7677 paymaster (empty in older state files).
    paymaster: PathBuf,
}

/// A plugin contract placed at its canonical address.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Placement {
    /// The contract's name in `artifacts.json`.
    contract: String,
    /// Its canonical address.
    address: AddressArg,
    /// What was called after placing it, if anything.
    init: Option<serde_json::Value>,
}

/// A devnet's health: its processes and canonical contracts.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DevnetStatus {
    /// The devnet's name.
    name: String,
    /// Its chain id.
    chain_id: u64,
    /// anvil's URL.
    rpc_url: String,
    /// Alto's URL.
    bundler_url: String,
    /// Whether the anvil process is alive.
    anvil_running: bool,
    /// Whether the Alto process is alive.
    bundler_running: bool,
    /// Each canonical contract.
    contracts: Vec<ContractStatus>,
    /// Code placed over ours from a `NAMERA_PLUGIN_ARTIFACTS` file; absent when all is ours.
    plugin_overrides: Option<OverrideRecord>,
}

/// Which addresses got their code from a `NAMERA_PLUGIN_ARTIFACTS` file.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct OverrideRecord {
    /// The file.
    path: PathBuf,
    /// The addresses whose code came from it (instead of our `contracts/`).
    addresses: Vec<AddressArg>,
}

/// One canonical contract.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct ContractStatus {
    /// Its name.
    name: String,
    /// Its canonical address.
    address: AddressArg,
    /// Whether it has code; null when the node could not be asked.
    has_code: Option<bool>,
}

/// What stopping a devnet did.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DownReport {
    /// The devnet's name.
    name: String,
    /// PIDs that were running and are now stopped.
    stopped: Vec<u32>,
    /// PIDs that were already gone.
    already_gone: Vec<u32>,
    /// PIDs that would not stop.
    still_running: Vec<u32>,
}

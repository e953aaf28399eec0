//! What a devnet should look like: name, chain id, cache folder, accounts to fund.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use alloy_primitives::{Address, U256};

use crate::error::{DevnetError, Result};

/// anvil's default chain id.
pub const DEFAULT_CHAIN_ID: u64 = 31_337;

/// How to bring a devnet up (and which one `status`, `env` and `down` mean).
///
/// ```
/// use namera_devnet::DevnetConfig;
/// let config = DevnetConfig::new().chain_id(1337).home("/tmp/namera-devnet-doc");
/// assert_eq!(config.name(), "chain-1337");
/// assert!(config.state_file().ends_with("devnets/chain-1337.json"));
/// ```
#[derive(Debug, Clone)]
pub struct DevnetConfig {
    pub(crate) name: Option<String>,
    pub(crate) chain_id: u64,
    pub(crate) home: PathBuf,
    pub(crate) contracts_dir: Option<PathBuf>,
    pub(crate) plugin_artifacts: Option<PathBuf>,
    pub(crate) fund: Vec<(Address, U256)>,
    pub(crate) anvil_port: Option<u16>,
    pub(crate) bundler_port: Option<u16>,
    pub(crate) tie_to_pid: Option<u32>,
    pub(crate) timeout: Duration,
}

impl Default for DevnetConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl DevnetConfig {
    /// Chain id 31337, the default cache folder ([`default_home`]), the workspace's
    /// `contracts/` if found (or `NAMERA_CONTRACTS_DIR`), `NAMERA_PLUGIN_ARTIFACTS` if set, random ports, 60 s timeouts.
    pub fn new() -> Self {
        Self {
            name: None,
            chain_id: DEFAULT_CHAIN_ID,
            home: default_home(),
            contracts_dir: default_contracts_dir(),
            plugin_artifacts: crate::PluginOverrides::env_path(),
            fund: Vec::new(),
            anvil_port: None,
            bundler_port: None,
            tie_to_pid: None,
            timeout: Duration::from_secs(60),
        }
    }

    /// The chain id anvil reports.
    pub const fn chain_id(mut self, chain_id: u64) -> Self {
        self.chain_id = chain_id;
        self
    }

    /// Names the devnet (default `chain-<id>`). One state file per name, so devnets with
    /// different names run side by side.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The cache folder for tools, state files and logs.
    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = home.into();
        self
    }

    /// The folder holding `build.mjs` and `placement.json`; `None` skips the plugin contracts.
    pub fn contracts_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.contracts_dir = dir;
        self
    }

    /// Runtime code to place at canonical addresses instead of ours (see
    /// [`crate::PluginOverrides`]); defaults to `$NAMERA_PLUGIN_ARTIFACTS`.
    pub fn plugin_artifacts(mut self, file: Option<PathBuf>) -> Self {
        self.plugin_artifacts = file;
        self
    }

    /// Gives `address` a balance of `wei` (anvil_setBalance) on `up`.
    pub fn fund(mut self, address: Address, wei: U256) -> Self {
        self.fund.push((address, wei));
        self
    }

    /// A fixed port for anvil (on 127.0.0.1) instead of a random free one.
    pub const fn anvil_port(mut self, port: u16) -> Self {
        self.anvil_port = Some(port);
        self
    }

    /// A fixed port for Alto instead of a random free one. Alto listens on all interfaces.
    pub const fn bundler_port(mut self, port: u16) -> Self {
        self.bundler_port = Some(port);
        self
    }

    /// Stops the devnet when process `pid` exits (a watchdog child); used by test harnesses.
    pub const fn tie_to_process(mut self, pid: u32) -> Self {
        self.tie_to_pid = Some(pid);
        self
    }

    /// How long each service may take to answer at start-up.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The configured chain id.
    pub const fn chain_id_value(&self) -> u64 {
        self.chain_id
    }

    /// The devnet's name.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("chain-{}", self.chain_id))
    }

    /// The cache folder.
    pub fn home_dir(&self) -> &Path {
        &self.home
    }

    /// Where this devnet's state is recorded: `<home>/devnets/<name>.json`.
    pub fn state_file(&self) -> PathBuf {
        self.home.join("devnets").join(format!("{}.json", self.name()))
    }

    /// Where this devnet's logs go: `<home>/logs/<name>/`.
    pub fn log_dir(&self) -> PathBuf {
        self.home.join("logs").join(self.name())
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let name = self.name();
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(DevnetError::Config(format!(
                "devnet name {name:?} must be non-empty ASCII letters, digits, '-', '_' or '.'"
            )));
        }
        if name.starts_with('.') {
            return Err(DevnetError::Config(format!(
                "devnet name {name:?} must not start with '.'"
            )));
        }
        if self.chain_id == 0 {
            return Err(DevnetError::Config("chain id 0 is not allowed".into()));
        }
        Ok(())
    }
}

/// The default cache folder: `$NAMERA_DEVNET_HOME`, else `$NAMERA_HOME/devnet`, else
/// `~/.namera/devnet`, else `<tmp>/namera/devnet`.
pub fn default_home() -> PathBuf {
    if let Some(dir) = std::env::var_os("NAMERA_DEVNET_HOME").filter(|v| !v.is_empty()) {
        return dir.into();
    }
    if let Some(dir) = std::env::var_os("NAMERA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir).join("devnet");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".namera").join("devnet"),
        None => std::env::temp_dir().join("namera").join("devnet"),
    }
}

/// `$NAMERA_CONTRACTS_DIR`, else this workspace's `contracts/` when it exists (a build from
/// the repository), else none.
pub fn default_contracts_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("NAMERA_CONTRACTS_DIR").filter(|v| !v.is_empty()) {
        return Some(dir.into());
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts");
    dir.join("placement.json").is_file().then(|| dir.canonicalize().unwrap_or(dir))
}

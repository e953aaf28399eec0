//! `$NAMERA_HOME/config.json`: per-chain endpoints, so a command does not need
//! `<ALIAS>_RPC_URL` variables every time. Variables still win over the file.

use std::collections::BTreeMap;

use namera_store::Home;
use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// The configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Endpoints by chain alias.
    #[serde(default)]
    pub(crate) chains: BTreeMap<String, ChainEndpoints>,
}

/// One chain's endpoints; any may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChainEndpoints {
    /// The node's JSON-RPC URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rpc_url: Option<String>,
    /// The ERC-4337 bundler's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bundler_url: Option<String>,
    /// An ERC-7677 paymaster's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) paymaster_url: Option<String>,
}

impl ChainEndpoints {
    /// Whether nothing is set.
    pub(crate) const fn is_empty(&self) -> bool {
        self.rpc_url.is_none() && self.bundler_url.is_none() && self.paymaster_url.is_none()
    }
}

impl Config {
    /// The file's content, or the empty configuration when there is no file yet.
    pub(crate) fn load(home: &Home) -> Result<Self, CliError> {
        Ok(Home::read_json(&home.config_path())?.unwrap_or_default())
    }

    /// Writes the file atomically.
    pub(crate) fn save(&self, home: &Home) -> Result<(), CliError> {
        Ok(Home::write_json(&home.config_path(), self)?)
    }
}

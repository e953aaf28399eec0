//! `$NAMERA_HOME/config.json`: per-chain endpoints, so a command does not need
//! `<ALIAS>_RPC_URL` variables every time, and chains of the user's own (a private
//! network, a devnet on another id). Variables still win over the file.

use std::collections::BTreeMap;

use namera::chain::{ChainRegistry, InvalidChain};
use namera_store::Home;
use serde::{Deserialize, Serialize};

use crate::error::{CliError, ErrorKind};

/// The configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Endpoints by chain alias.
    #[serde(default)]
    pub(crate) chains: BTreeMap<String, ChainEndpoints>,
}

/// One chain's endpoints and, for a chain of the user's own, what it is; any may be absent.
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
    /// The chain id of a chain that is not built in (or of `local`, the devnet, when it
    /// runs another id than 31337).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chain_id: Option<u64>,
    /// The native currency's symbol, for amounts shown to people (default `ETH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) native_symbol: Option<String>,
    /// How passkey signatures are verified there: the RIP-7212 precompile at 0x100, or
    /// Daimo's verifier contract (the default for chains of the user's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) p256_verifier: Option<P256VerifierKind>,
}

/// Which P-256 verifier a chain has.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum P256VerifierKind {
    /// The RIP-7212 / EIP-7951 precompile at 0x…0100.
    Precompile,
    /// Daimo's verifier contract at 0xc2b7…4De4.
    Daimo,
}

impl ChainEndpoints {
    /// Whether nothing is set.
    pub(crate) const fn is_empty(&self) -> bool {
        self.rpc_url.is_none()
            && self.bundler_url.is_none()
            && self.paymaster_url.is_none()
            && !self.defines_chain()
    }

    /// Whether it says what the chain is (id, symbol, verifier), not only where it is.
    pub(crate) const fn defines_chain(&self) -> bool {
        self.chain_id.is_some() || self.native_symbol.is_some() || self.p256_verifier.is_some()
    }
}

impl Config {
    /// The file's content, or the empty configuration when there is no file yet.
    pub(crate) fn load(home: &Home) -> Result<Self, CliError> {
        Ok(Home::read_json(&home.config_path())?.unwrap_or_default())
    }

    /// The chains known here: the built-in ones, then those `config.json` defines, then
    /// those the environment defines with `<ALIAS>_CHAIN_ID` (which wins, as variables do:
    /// `namera devnet env` prints `LOCAL_CHAIN_ID` for a devnet on another id).
    pub(crate) fn registry(&self) -> Result<ChainRegistry, CliError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        self.registry_with(&env)
    }

    fn registry_with(&self, env: &[(String, String)]) -> Result<ChainRegistry, CliError> {
        let mut chains = ChainRegistry::builtin();
        let invalid = |source: &str, e: InvalidChain| {
            CliError::new(ErrorKind::Usage, "invalid-chain", format!("{source}: {e}"))
        };
        let mut defined: BTreeMap<String, (Option<u64>, &ChainEndpoints)> = BTreeMap::new();
        for (alias, entry) in self.chains.iter().filter(|(_, e)| e.defines_chain()) {
            defined.insert(alias.clone(), (entry.chain_id, entry));
        }
        let empty = ChainEndpoints::default();
        for (var, value) in env {
            let Some(prefix) = var.strip_suffix("_CHAIN_ID") else { continue };
            if value.is_empty() || prefix.is_empty() {
                continue;
            }
            let id = value.parse::<u64>().map_err(|_| {
                CliError::new(
                    ErrorKind::Usage,
                    "invalid-chain",
                    format!("{var}={value:?} is not a decimal chain id"),
                )
            })?;
            let alias = prefix.to_ascii_lowercase().replace('_', "-");
            let entry = self.chains.get(&alias).unwrap_or(&empty);
            defined.insert(alias, (Some(id), entry));
        }
        for (alias, (id, entry)) in defined {
            let source = format!("chain {alias}");
            let id = match (id, chains.find(&alias)) {
                (Some(id), _) => id,
                (None, Ok(known)) => known.id,
                (None, Err(_)) => {
                    return Err(CliError::new(
                        ErrorKind::Usage,
                        "invalid-chain",
                        format!("{source} in config.json has no chain_id"),
                    ));
                }
            };
            let builtin = namera::chain::ChainInfo::find(&alias).ok();
            let mut chain = match builtin {
                Some(b) if b.id == id => b,
                _ => {
                    namera::chain::ChainInfo::custom(&alias, id).map_err(|e| invalid(&source, e))?
                }
            };
            if let Some(symbol) = &entry.native_symbol {
                chain = chain.with_native_symbol(symbol).map_err(|e| invalid(&source, e))?;
            }
            if let Some(verifier) = entry.p256_verifier {
                chain.p256_precompile = verifier == P256VerifierKind::Precompile;
            } else if let Some(b) = builtin {
                chain.p256_precompile = b.p256_precompile;
            }
            chains.define(chain).map_err(|e| invalid(&source, e))?;
        }
        Ok(chains)
    }

    /// Writes the file atomically.
    pub(crate) fn save(&self, home: &Home) -> Result<(), CliError> {
        Ok(Home::write_json(&home.config_path(), self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_environment_moves_the_devnet_and_defines_chains() {
        let chains = Config::default()
            .registry_with(&env(&[("LOCAL_CHAIN_ID", "31338"), ("MY_L3_CHAIN_ID", "777001")]))
            .unwrap();
        assert_eq!(chains.find("local").unwrap().id, 31338);
        let l3 = chains.find("my-l3").unwrap();
        assert_eq!((l3.id, l3.native_symbol, l3.p256_precompile), (777_001, "ETH", false));
        // The devnet keeps its precompile when it moves.
        assert!(chains.find("local").unwrap().p256_precompile);
    }

    #[test]
    fn config_defines_chains_and_the_environment_wins() {
        let mut config = Config::default();
        config.chains.insert(
            "my-l3".into(),
            ChainEndpoints {
                chain_id: Some(5_000_001),
                native_symbol: Some("GAS".into()),
                p256_verifier: Some(P256VerifierKind::Precompile),
                ..Default::default()
            },
        );
        let chains = config.registry_with(&[]).unwrap();
        let l3 = chains.find("my-l3").unwrap();
        assert_eq!((l3.id, l3.native_symbol, l3.p256_precompile), (5_000_001, "GAS", true));
        let chains = config.registry_with(&env(&[("MY_L3_CHAIN_ID", "5000002")])).unwrap();
        let l3 = chains.find("my-l3").unwrap();
        assert_eq!((l3.id, l3.native_symbol), (5_000_002, "GAS"));
    }

    #[test]
    fn bad_definitions_are_usage_errors() {
        for (pairs, needle) in [
            (&[("LOCAL_CHAIN_ID", "x")][..], "is not a decimal chain id"),
            (&[("BASE_MAINNET_CHAIN_ID", "5")][..], "cannot be redefined"),
            (&[("MY_L3_CHAIN_ID", "8453")][..], "already belongs to base-mainnet"),
            (&[("MY_L3_CHAIN_ID", "0")][..], "chain id 0"),
        ] {
            let e = serde_json::to_value(Config::default().registry_with(&env(pairs)).unwrap_err())
                .unwrap();
            assert_eq!(e["code"], "invalid-chain", "{pairs:?}");
            assert!(e["message"].as_str().unwrap().contains(needle), "{pairs:?}: {e}");
        }
        let mut config = Config::default();
        config.chains.insert(
            "my-l3".into(),
            ChainEndpoints { native_symbol: Some("GAS".into()), ..Default::default() },
        );
        let e = serde_json::to_value(config.registry_with(&[]).unwrap_err()).unwrap();
        assert!(e["message"].as_str().unwrap().contains("has no chain_id"), "{e}");
    }
}

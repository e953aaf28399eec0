//! Chains by alias, and where their node, bundler and paymaster live.
//!
//! Endpoints come from the caller, or from `<ALIAS>_RPC_URL`, `<ALIAS>_BUNDLER_URL` and
//! `<ALIAS>_PAYMASTER_URL` (alias upper-cased, `-` → `_`), so the same command works on
//! the devnet (`LOCAL_RPC_URL`, which `namera devnet env` prints) and on public chains.

use std::fmt;

/// A known chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainInfo {
    /// The alias used on the command line (`base-sepolia`).
    pub alias: &'static str,
    /// The EIP-155 chain id.
    pub id: u64,
    /// Whether a P-256 verifier precompile answers at 0x100 (RIP-7212 / EIP-7951):
    /// passkey signatures then verify cheaply; elsewhere they need the Daimo verifier.
    pub p256_precompile: bool,
    /// Whether it is a test network.
    pub testnet: bool,
}

/// The local devnet's default chain id (anvil's).
pub const LOCAL_CHAIN_ID: u64 = 31337;

const fn chain(alias: &'static str, id: u64, p256: bool, testnet: bool) -> ChainInfo {
    ChainInfo { alias, id, p256_precompile: p256, testnet }
}

/// Every chain known by alias.
pub const CHAINS: &[ChainInfo] = &[
    chain("eth-mainnet", 1, true, false),
    chain("eth-sepolia", 11_155_111, true, true),
    chain("base-mainnet", 8453, true, false),
    chain("base-sepolia", 84_532, true, true),
    chain("opt-mainnet", 10, true, false),
    chain("opt-sepolia", 11_155_420, true, true),
    chain("arb-mainnet", 42_161, true, false),
    chain("arb-sepolia", 421_614, true, true),
    chain("polygon-mainnet", 137, true, false),
    chain("polygon-amoy", 80_002, true, true),
    chain("avax-mainnet", 43_114, false, false),
    chain("avax-fuji", 43_113, false, true),
    chain("unichain-mainnet", 130, true, false),
    chain("unichain-sepolia", 1301, true, true),
    chain("scroll-mainnet", 534_352, true, false),
    chain("scroll-sepolia", 534_351, true, true),
    chain("celo-mainnet", 42_220, true, false),
    chain("zora-mainnet", 7_777_777, true, false),
    chain("monad-testnet", 10_143, true, true),
    chain("local", LOCAL_CHAIN_ID, true, true),
];

/// An alias nobody knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown chain {0:?}: known aliases are {known}", known = known_aliases())]
pub struct UnknownChain(pub String);

fn known_aliases() -> String {
    CHAINS.iter().map(|c| c.alias).collect::<Vec<_>>().join(", ")
}

impl ChainInfo {
    /// Look up an alias, or a chain id written in decimal.
    ///
    /// ```
    /// use namera::chain::ChainInfo;
    /// assert_eq!(ChainInfo::find("base-sepolia")?.id, 84532);
    /// assert_eq!(ChainInfo::find("8453")?.alias, "base-mainnet");
    /// assert!(ChainInfo::find("moon").is_err());
    /// # Ok::<(), namera::chain::UnknownChain>(())
    /// ```
    pub fn find(alias_or_id: &str) -> Result<Self, UnknownChain> {
        CHAINS
            .iter()
            .find(|c| c.alias == alias_or_id || alias_or_id.parse() == Ok(c.id))
            .copied()
            .ok_or_else(|| UnknownChain(alias_or_id.to_owned()))
    }

    /// The chain with this id, if it has an alias.
    pub fn by_id(id: u64) -> Option<Self> {
        CHAINS.iter().find(|c| c.id == id).copied()
    }

    /// The environment-variable prefix: `base-sepolia` → `BASE_SEPOLIA`.
    pub fn env_prefix(&self) -> String {
        self.alias.to_uppercase().replace('-', "_")
    }
}

impl fmt::Display for ChainInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.alias, self.id)
    }
}

/// Where to reach a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The node's JSON-RPC URL.
    pub rpc: String,
    /// The ERC-4337 bundler's URL.
    pub bundler: String,
    /// An ERC-7677 paymaster's URL, when operations are sponsored.
    pub paymaster: Option<String>,
}

/// A chain has no endpoint configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {what} URL for {chain}: set {var} or pass it explicitly")]
pub struct MissingEndpoint {
    /// The chain alias.
    pub chain: String,
    /// rpc or bundler.
    pub what: &'static str,
    /// The environment variable that would provide it.
    pub var: String,
}

impl Endpoints {
    /// Endpoints from `<ALIAS>_RPC_URL`, `<ALIAS>_BUNDLER_URL`, `<ALIAS>_PAYMASTER_URL`.
    pub fn from_env(chain: &ChainInfo) -> Result<Self, MissingEndpoint> {
        Self::from_lookup(chain, |k| std::env::var(k).ok())
    }

    /// The same, reading variables through `lookup` (for tests and config files).
    pub fn from_lookup(
        chain: &ChainInfo,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, MissingEndpoint> {
        let prefix = chain.env_prefix();
        let get = |what: &'static str, suffix: &str| {
            let var = format!("{prefix}_{suffix}");
            lookup(&var).filter(|v| !v.is_empty()).ok_or(MissingEndpoint {
                chain: chain.alias.to_owned(),
                what,
                var,
            })
        };
        Ok(Self {
            rpc: get("rpc", "RPC_URL")?,
            bundler: get("bundler", "BUNDLER_URL")?,
            paymaster: get("paymaster", "PAYMASTER_URL").ok(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_ids_are_unique() {
        for (i, a) in CHAINS.iter().enumerate() {
            for b in &CHAINS[i + 1..] {
                assert_ne!(a.alias, b.alias);
                assert_ne!(a.id, b.id);
            }
        }
    }

    #[test]
    fn endpoints_from_env_names() {
        let base = ChainInfo::find("base-sepolia").unwrap();
        let env = |k: &str| match k {
            "BASE_SEPOLIA_RPC_URL" => Some("http://rpc".to_owned()),
            "BASE_SEPOLIA_BUNDLER_URL" => Some("http://bundler".to_owned()),
            _ => None,
        };
        let e = Endpoints::from_lookup(&base, env).unwrap();
        assert_eq!(
            (e.rpc.as_str(), e.bundler.as_str(), e.paymaster),
            ("http://rpc", "http://bundler", None)
        );
        let missing = Endpoints::from_lookup(&base, |_| None).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "no rpc URL for base-sepolia: set BASE_SEPOLIA_RPC_URL or pass it explicitly"
        );
    }
}

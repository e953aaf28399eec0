//! Chains by alias, and where their node, bundler and paymaster live.
//!
//! Endpoints come from the caller, or from `<ALIAS>_RPC_URL`, `<ALIAS>_BUNDLER_URL` and
//! `<ALIAS>_PAYMASTER_URL` (alias upper-cased, `-` → `_`), so the same command works on
//! the devnet (`LOCAL_RPC_URL`, which `namera devnet env` prints) and on public chains.

use std::{
    collections::HashSet,
    fmt,
    sync::{Mutex, OnceLock},
};

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
    /// The native currency's symbol (`ETH`, `POL`, …), for amounts shown to people.
    pub native_symbol: &'static str,
}

/// The local devnet's default chain id (anvil's).
pub const LOCAL_CHAIN_ID: u64 = 31337;

const fn chain(alias: &'static str, id: u64, p256: bool, testnet: bool) -> ChainInfo {
    ChainInfo { alias, id, p256_precompile: p256, testnet, native_symbol: "ETH" }
}

const fn with_symbol(chain: ChainInfo, native_symbol: &'static str) -> ChainInfo {
    ChainInfo { native_symbol, ..chain }
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
    with_symbol(chain("polygon-mainnet", 137, true, false), "POL"),
    with_symbol(chain("polygon-amoy", 80_002, true, true), "POL"),
    with_symbol(chain("avax-mainnet", 43_114, false, false), "AVAX"),
    with_symbol(chain("avax-fuji", 43_113, false, true), "AVAX"),
    chain("unichain-mainnet", 130, true, false),
    chain("unichain-sepolia", 1301, true, true),
    chain("scroll-mainnet", 534_352, true, false),
    chain("scroll-sepolia", 534_351, true, true),
    with_symbol(chain("celo-mainnet", 42_220, true, false), "CELO"),
    chain("zora-mainnet", 7_777_777, true, false),
    with_symbol(chain("monad-testnet", 10_143, true, true), "MON"),
    chain("local", LOCAL_CHAIN_ID, true, true),
];

/// A well-known ERC-20 on a known chain: what budgets and balances are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KnownToken {
    /// The chain.
    pub chain_id: u64,
    /// Its symbol (`USDC`).
    pub symbol: &'static str,
    /// Its contract.
    pub address: alloy_primitives::Address,
    /// Its `decimals()`.
    pub decimals: u8,
}

const fn token(
    chain_id: u64,
    symbol: &'static str,
    address: alloy_primitives::Address,
    decimals: u8,
) -> KnownToken {
    KnownToken { chain_id, symbol, address, decimals }
}

use alloy_primitives::address as a;

/// Well-known tokens per chain (Circle's USDC, Tether's USDT, Maker's DAI, canonical WETH).
pub const TOKENS: &[KnownToken] = &[
    token(1, "USDC", a!("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), 6),
    token(1, "USDT", a!("0xdAC17F958D2ee523a2206206994597C13D831ec7"), 6),
    token(1, "DAI", a!("0x6B175474E89094C44Da98b954EedeAC495271d0F"), 18),
    token(1, "WETH", a!("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"), 18),
    token(11_155_111, "USDC", a!("0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238"), 6),
    token(8453, "USDC", a!("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"), 6),
    token(8453, "WETH", a!("0x4200000000000000000000000000000000000006"), 18),
    token(84_532, "USDC", a!("0x036CbD53842c5426634e7929541eC2318f3dCF7e"), 6),
    token(10, "USDC", a!("0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85"), 6),
    token(10, "WETH", a!("0x4200000000000000000000000000000000000006"), 18),
    token(42_161, "USDC", a!("0xaf88d065e77c8cC2239327C5EDb3A432268e5831"), 6),
    token(137, "USDC", a!("0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359"), 6),
];

impl KnownToken {
    /// The well-known token at `address` on chain `chain_id`, if it is one.
    ///
    /// ```
    /// use namera::chain::KnownToken;
    /// let usdc = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913".parse()?;
    /// assert_eq!(KnownToken::find(8453, usdc).map(|t| (t.symbol, t.decimals)), Some(("USDC", 6)));
    /// assert_eq!(KnownToken::find(1, usdc), None);
    /// # Ok::<(), alloy_primitives::hex::FromHexError>(())
    /// ```
    pub fn find(chain_id: u64, address: alloy_primitives::Address) -> Option<Self> {
        TOKENS.iter().find(|t| t.chain_id == chain_id && t.address == address).copied()
    }
}

/// The symbol of a built-in chain's native currency, as [`CHAINS`] gives it (`ETH` for
/// a chain it does not know).
pub fn native_symbol(chain_id: u64) -> &'static str {
    ChainInfo::by_id(chain_id).map_or("ETH", |c| c.native_symbol)
}

/// An alias nobody knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown chain {name:?}: known aliases are {known}")]
pub struct UnknownChain {
    /// What was asked for.
    pub name: String,
    /// The aliases that are known, comma-separated.
    pub known: String,
}

impl UnknownChain {
    fn among(name: &str, chains: &[ChainInfo]) -> Self {
        let known = chains.iter().map(|c| c.alias).collect::<Vec<_>>().join(", ");
        Self { name: name.to_owned(), known }
    }
}

/// A chain definition that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidChain {
    /// The alias is not lowercase letters, digits and inner dashes.
    #[error(
        "chain alias {0:?} must be lowercase letters, digits and '-' (not at either end), at most 64 characters"
    )]
    Alias(String),
    /// Chain id 0 names no chain.
    #[error("chain id 0 is not a chain id")]
    ZeroId,
    /// The native symbol is empty or not short printable ASCII.
    #[error("native symbol {0:?} must be 1 to 11 letters or digits")]
    Symbol(String),
    /// A built-in alias other than `local` cannot be given another id.
    #[error("{alias} is built in with chain id {builtin}; it cannot be redefined as {id}")]
    BuiltIn {
        /// The alias.
        alias: String,
        /// Its built-in id.
        builtin: u64,
        /// The id asked for.
        id: u64,
    },
    /// Another chain already has this id.
    #[error("chain id {id} already belongs to {other}")]
    IdTaken {
        /// The id.
        id: u64,
        /// The chain that has it.
        other: String,
    },
}

/// One copy of each distinct user-defined name, alive for the whole process.
///
/// [`ChainInfo`] is a small `Copy` value passed everywhere with `&'static str` names; a
/// chain the user defines at run time gets its names interned here, so each distinct
/// name is allocated once however often a registry is built.
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
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
        find_in(CHAINS, alias_or_id)
    }

    /// A chain that is not built in (a private network, a devnet with an id of its own),
    /// with the P-256 precompile assumed absent, a test network, native symbol `ETH`.
    ///
    /// ```
    /// use namera::chain::ChainInfo;
    /// let chain = ChainInfo::custom("my-devnet", 31338)?.with_native_symbol("TST")?;
    /// assert_eq!((chain.alias, chain.id, chain.native_symbol), ("my-devnet", 31338, "TST"));
    /// assert!(ChainInfo::custom("My Devnet", 31338).is_err());
    /// # Ok::<(), namera::chain::InvalidChain>(())
    /// ```
    pub fn custom(alias: &str, id: u64) -> Result<Self, InvalidChain> {
        let valid = !alias.is_empty()
            && alias.len() <= 64
            && alias.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !alias.starts_with('-')
            && !alias.ends_with('-');
        if !valid {
            return Err(InvalidChain::Alias(alias.to_owned()));
        }
        if id == 0 {
            return Err(InvalidChain::ZeroId);
        }
        Ok(Self {
            alias: intern(alias),
            id,
            p256_precompile: false,
            testnet: true,
            native_symbol: "ETH",
        })
    }

    /// The same chain with another native symbol.
    pub fn with_native_symbol(self, symbol: &str) -> Result<Self, InvalidChain> {
        if symbol.is_empty()
            || symbol.len() > 11
            || !symbol.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(InvalidChain::Symbol(symbol.to_owned()));
        }
        Ok(Self { native_symbol: intern(symbol), ..self })
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

fn find_in(chains: &[ChainInfo], alias_or_id: &str) -> Result<ChainInfo, UnknownChain> {
    chains
        .iter()
        .find(|c| c.alias == alias_or_id || alias_or_id.parse() == Ok(c.id))
        .copied()
        .ok_or_else(|| UnknownChain::among(alias_or_id, chains))
}

/// The chains a program knows: the built-in ones, plus those its user defined.
///
/// `local` (the devnet) may be given another id, since a devnet can run any; every other
/// built-in alias keeps its id, and no two chains share an id.
///
/// ```
/// use namera::chain::{ChainInfo, ChainRegistry};
/// let mut chains = ChainRegistry::builtin();
/// chains.define(ChainInfo::custom("local", 31338)?)?;
/// chains.define(ChainInfo::custom("my-l3", 777_001)?)?;
/// assert_eq!(chains.find("local")?.id, 31338);
/// assert_eq!(chains.find("777001")?.alias, "my-l3");
/// assert!(chains.define(ChainInfo::custom("base-mainnet", 5)?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRegistry {
    chains: Vec<ChainInfo>,
}

impl ChainRegistry {
    /// The built-in chains ([`CHAINS`]).
    pub fn builtin() -> Self {
        Self { chains: CHAINS.to_vec() }
    }

    /// Adds `chain`, or redefines `local`. A built-in chain given with its own id is
    /// taken as is (its other settings may differ, e.g. a native symbol).
    pub fn define(&mut self, chain: ChainInfo) -> Result<(), InvalidChain> {
        if let Some(builtin) = CHAINS.iter().find(|c| c.alias == chain.alias)
            && builtin.id != chain.id
            && builtin.id != LOCAL_CHAIN_ID
        {
            return Err(InvalidChain::BuiltIn {
                alias: chain.alias.to_owned(),
                builtin: builtin.id,
                id: chain.id,
            });
        }
        if let Some(other) = self.chains.iter().find(|c| c.id == chain.id && c.alias != chain.alias)
        {
            return Err(InvalidChain::IdTaken { id: chain.id, other: other.alias.to_owned() });
        }
        match self.chains.iter_mut().find(|c| c.alias == chain.alias) {
            Some(known) => *known = chain,
            None => self.chains.push(chain),
        }
        Ok(())
    }

    /// A chain by alias, or by id written in decimal.
    pub fn find(&self, alias_or_id: &str) -> Result<ChainInfo, UnknownChain> {
        find_in(&self.chains, alias_or_id)
    }

    /// The chain with this id.
    pub fn by_id(&self, id: u64) -> Option<ChainInfo> {
        self.chains.iter().find(|c| c.id == id).copied()
    }

    /// Every chain, built-in ones first.
    pub fn iter(&self) -> impl Iterator<Item = &ChainInfo> {
        self.chains.iter()
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

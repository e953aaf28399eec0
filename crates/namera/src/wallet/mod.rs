//! One smart account on its chains, and the keys that may act for it: the one place
//! where a request becomes a signed, sent and landed UserOperation.
//!
//! A [`Wallet`] connects its chains concurrently, reads each key's state there (pending
//! its first use, installed, revoked) and keeps following it: an enable-mode signer that
//! finds its key installed by anyone switches to plain signatures, a key the chain says
//! was revoked is reported revoked. For each request it picks the narrowest key whose
//! policies allow it (judged offline before anything is sent, and again against the
//! estimate for gas budgets), prepares, signs, sends on a lane no other operation in
//! flight uses, and waits. A nonce race (`AA25`, `AA10`, "already known", an operation
//! the bundler dropped) is retried on a fresh lane with the state read again, and named
//! when it persists; it is never reported as a policy's refusal.
//!
//! The API is async and needs no particular runtime: each blocking step runs on a
//! thread of its own behind a future (see [`unblock`]).
//!
//! ```no_run
//! use namera::{chain::{ChainRegistry, Endpoints}, kernel::Call, session_key::SerializedSessionKey,
//!     wallet::{KeySpec, Wallet}};
//! # async fn run(serialized: &str, to: alloy_primitives::Address) -> Result<(), Box<dyn std::error::Error>> {
//! let endpoints = Endpoints {
//!     rpc: "http://127.0.0.1:8545".into(),
//!     bundler: "http://127.0.0.1:4337".into(),
//!     paymaster: None,
//! };
//! let key = KeySpec::from_serialized("agent", SerializedSessionKey::from_base64(serialized)?)?;
//! let wallet = Wallet::connect(vec![endpoints], vec![key], None, ChainRegistry::builtin()).await?;
//! let chain = wallet.chains()[0].id();
//! let landed = wallet.execute(chain, vec![Call::transfer(to, 1u64.try_into()?)], None).await?;
//! println!("{} signed {}", landed.key, landed.hash);
//! # Ok(()) }
//! ```

mod keys;
mod lanes;
mod unblock;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, Bytes};
pub use keys::{KeySpec, WalletKey};
pub use lanes::{BLOCK, LaneGuard, LaneLease, Lanes};
pub use unblock::{Unblock, unblock};

use crate::{
    account::{
        AccountError, ChainClient, NonceUse, OperationSigner, SentOperation, SessionKeySigner,
        SmartAccount,
    },
    bundler::UserOperationReceipt,
    chain::{ChainInfo, ChainRegistry, Endpoints},
    kernel::{AccountConfig, Call, ExecType, LaneKey, UserOperation, encode_calls},
    permission::PermissionSigner,
    policy::{PolicyKind, Verdict},
    rpc::{RpcError, RpcStats},
    session_key::{KeyState, SerializedKeyError, explain_operation, key_state},
    transaction::Batch,
};

/// How often a nonce race is tried again before it is reported.
const RACE_ATTEMPTS: usize = 5;

/// After how long without a receipt the bundler is asked whether it still holds the
/// operation (one that lost a race is dropped, and would otherwise be waited for).
const DROP_CHECK: Duration = Duration::from_secs(2);

/// How long the wallet waits for an operation's receipt by default.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// How often a refused enabling signer looks for its key installed by another.
const INSTALL_LOOKS: usize = 6;

/// Where a sent operation stands, asked of the chain (never concluded from a missing
/// bundler receipt alone, which can lag: see [`crate::inclusion`]).
enum Standing {
    /// It landed.
    Landed(Box<UserOperationReceipt>),
    /// It can never land: another operation took its nonce, or (in enable mode) another
    /// installed the key it installs, which makes its enable signature stale.
    Lost,
    /// It has not landed and still may.
    Pending,
}

fn standing(
    account: &SmartAccount,
    sent: &SentOperation,
    signer: &dyn OperationSigner,
) -> Result<Standing, AccountError> {
    let (key, _) = crate::kernel::NonceKey::split(sent.operation.nonce);
    let enabling = key.mode() == Some(crate::kernel::ValidationMode::Enable);
    // The key's state is read before the nonce: had this very operation installed the
    // key in between, the nonce read after shows it.
    let installed = match signer.permission_validation_id() {
        Some(vid) if enabling => matches!(key_state(account, vid)?, KeyState::Installed { .. }),
        _ => false,
    };
    Ok(match account.nonce_use(sent)? {
        NonceUse::Landed(receipt) => Standing::Landed(receipt),
        NonceUse::Taken(_) => Standing::Lost,
        NonceUse::Unused if installed => Standing::Lost,
        NonceUse::Unused => Standing::Pending,
    })
}

/// The wallet could not be built.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// No chain endpoints were given.
    #[error("no chains: give at least one chain's endpoints")]
    NoChains,
    /// No keys were given.
    #[error("no keys: give at least one")]
    NoKeys,
    /// A chain did not answer.
    #[error("connecting to {rpc}: {source}")]
    Connect {
        /// The node URL.
        rpc: String,
        /// Why.
        source: RpcError,
    },
    /// Two chains with the same id.
    #[error("chain {0} is given twice")]
    DuplicateChain(u64),
    /// A serialized key without its private key.
    #[error("session key {alias:?} carries no private key: the wallet can only act with it")]
    NoPrivateKey {
        /// The key.
        alias: String,
    },
    /// A serialized key that does not decode or verify.
    #[error("session key {alias:?}: {source}")]
    Key {
        /// The key.
        alias: String,
        /// Why.
        source: SerializedKeyError,
    },
    /// A private key that is not a secp256k1 scalar.
    #[error("session key {alias:?}: its private key is not a valid secp256k1 key")]
    BadPrivateKey {
        /// The key.
        alias: String,
    },
    /// Keys for different accounts.
    #[error("key {alias:?} acts for {found}, but the wallet is {expected}")]
    DifferentAccounts {
        /// The key.
        alias: String,
        /// The wallet's account.
        expected: Address,
        /// The key's account.
        found: Address,
    },
    /// Two keys with one alias.
    #[error("two keys are called {0:?}")]
    DuplicateAlias(String),
    /// A key's signers disagree on the permission.
    #[error(
        "session key {0:?}: its parts (signers, or serialized keys under one alias) are for different permissions"
    )]
    MixedPermissions(String),
    /// Reading a key's state failed.
    #[error("reading key {alias:?} on chain {chain_id}: {source}")]
    State {
        /// The key.
        alias: String,
        /// The chain.
        chain_id: u64,
        /// Why.
        source: RpcError,
    },
}

/// Why a request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The input is wrong; the message says how.
    #[error("{0}")]
    Input(String),
    /// No key's policies allow the operation; nothing was sent.
    #[error("{}", refusal_words(.chain, .keys))]
    Refused {
        /// The chain.
        chain: String,
        /// Every key considered, with its refusing policies.
        keys: Vec<KeyVerdict>,
    },
    /// The bundler or chain refused or failed.
    #[error("{0}")]
    Account(#[from] AccountError),
    /// A node or bundler request failed.
    #[error("{0}")]
    Rpc(#[from] RpcError),
    /// Every lane is in use.
    #[error("too many requests in flight: every lane is in use")]
    NoLane,
    /// The bundler accepted the operation, then dropped it (another operation took its
    /// nonce, or installed its key first).
    #[error(
        "UserOperation {0} can no longer land: another operation took its nonce or installed its key"
    )]
    Dropped(B256),
    /// Another client kept winning the nonce: not a refusal, the operation never ran.
    #[error(
        "nonce race: {attempts} attempts lost to other operations on the same key (last: {last}); nothing was refused, try again"
    )]
    Race {
        /// How many attempts were made.
        attempts: usize,
        /// What the last one met.
        last: String,
    },
}

impl ActionError {
    /// Whether this is a lost nonce race rather than an answer about the operation.
    fn is_race(&self) -> bool {
        match self {
            Self::Dropped(_) => true,
            Self::Account(AccountError::Refused { refusal, source, .. }) => {
                matches!(refusal.aa_code.as_deref(), Some("AA25" | "AA10"))
                    || race_message(&source.to_string())
            }
            Self::Account(AccountError::Rpc(e)) | Self::Rpc(e) => race_message(&e.to_string()),
            _ => false,
        }
    }
}

/// A bundler's words for "another operation has this nonce".
fn race_message(m: &str) -> bool {
    let m = m.to_ascii_lowercase();
    m.contains("already known") || m.contains("replacement") || m.contains("invalid account nonce")
}

fn refusal_words(chain: &str, keys: &[KeyVerdict]) -> String {
    if keys.is_empty() {
        return format!("no key can act on {chain}; nothing was sent");
    }
    let each: Vec<String> = keys
        .iter()
        .map(|k| {
            let why: Vec<String> = k
                .refusals
                .iter()
                .map(|r| match r.index {
                    Some(i) => format!("policies[{i}] ({}) refuses: {}", r.policy, r.reason),
                    None => format!("{}: {}", r.policy, r.reason),
                })
                .collect();
            format!("session key {:?}: {}", k.key, why.join("; "))
        })
        .collect();
    format!("no session key allows this on {chain}; nothing was sent. {}", each.join(". "))
}

/// One key's answer to "would this pass?".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct KeyVerdict {
    /// The key's alias.
    pub key: String,
    /// Whether every policy passes.
    pub passes: bool,
    /// The policies that refuse, and why.
    pub refusals: Vec<PolicyRefusal>,
}

/// A policy that refuses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct PolicyRefusal {
    /// Its type (`call`, `gas`, `timestamp`, `rate-limit`, …), or `key` when the key
    /// itself cannot act (revoked, not approved for this chain).
    pub policy: String,
    /// Its position in the permission.
    pub index: Option<usize>,
    /// Why, in words.
    pub reason: String,
}

fn verdict_of(key: &WalletKey, verdicts: &[Verdict]) -> KeyVerdict {
    let refusals: Vec<PolicyRefusal> = verdicts
        .iter()
        .filter_map(|v| {
            v.refusal.as_ref().map(|r| PolicyRefusal {
                policy: v.policy.to_owned(),
                index: Some(v.index),
                reason: r.clone(),
            })
        })
        .collect();
    KeyVerdict { key: key.alias.clone(), passes: refusals.is_empty(), refusals }
}

/// A batch that was carried out.
#[derive(Debug, Clone)]
pub struct Landed {
    /// The key that signed.
    pub key: String,
    /// The chain.
    pub chain_id: u64,
    /// The lane it used.
    pub lane: LaneKey,
    /// The UserOperation hash.
    pub hash: B256,
    /// Its receipt.
    pub receipt: UserOperationReceipt,
}

/// An operation the bundler took (see [`Wallet::send`]).
#[derive(Clone)]
pub struct Sent {
    /// The key that signed.
    pub key: String,
    /// The chain.
    pub chain_id: u64,
    /// The lane it used.
    pub lane: LaneKey,
    /// The UserOperation hash.
    pub hash: B256,
    /// The operation as sent.
    pub operation: SentOperation,
    signer: Arc<dyn OperationSigner>,
}

impl std::fmt::Debug for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sent")
            .field("key", &self.key)
            .field("chain_id", &self.chain_id)
            .field("lane", &self.lane)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// An operation on its way: who signed it, and the first-operation lock when it holds it.
struct Sending<'w> {
    key: &'w WalletKey,
    signer: Arc<dyn OperationSigner>,
    sent: SentOperation,
    _alone: Option<MutexGuard<'w, ()>>,
}

/// What happened to one of [`Wallet::execute_batches`]'s batches.
#[derive(Debug)]
pub enum Outcome {
    /// Sent and included (see the receipt for whether its execution succeeded).
    Landed(Box<Landed>),
    /// Not carried out.
    Failed {
        /// The lane it was on.
        lane: LaneKey,
        /// Why.
        error: ActionError,
    },
    /// Not sent: batch `.0` before it on its lane failed.
    Skipped {
        /// The lane.
        lane: LaneKey,
        /// The failed batch.
        after: usize,
    },
}

/// The account on one chain, and the lock that lets a first operation land alone.
#[derive(Debug)]
pub struct WalletChain {
    account: SmartAccount,
    /// What the wallet's chain registry says about it (alias, P-256 verifier).
    info: Option<ChainInfo>,
    /// Held by an operation that deploys the account or installs a key (enable mode):
    /// others on the chain would try the same and collide, so they wait for it.
    first_alone: Mutex<()>,
}

impl WalletChain {
    /// The account on this chain.
    pub const fn account(&self) -> &SmartAccount {
        &self.account
    }

    /// The chain id.
    pub const fn id(&self) -> u64 {
        self.account.chain().chain_id
    }

    /// The chain's alias, or its id in decimal.
    pub fn name(&self) -> String {
        self.info.map_or_else(|| self.id().to_string(), |c| c.alias.to_owned())
    }

    /// Hold the chain's first-operation lock when `signer`'s next operation changes the
    /// account for the others; `None` when it can go at once.
    fn alone_if_needed(
        &self,
        signer: &dyn OperationSigner,
    ) -> Result<Option<MutexGuard<'_, ()>>, RpcError> {
        let needed = |s: &dyn OperationSigner| -> Result<bool, RpcError> {
            Ok(s.is_enabling() || !self.account.is_deployed()?)
        };
        if !needed(signer)? {
            return Ok(None);
        }
        let guard = self.first_alone.lock().unwrap_or_else(PoisonError::into_inner);
        // The operation we waited for may have done it already; then go concurrently.
        Ok(needed(signer)?.then_some(guard))
    }
}

/// A key's signer on one chain, or why it cannot act there.
type ChainSigner = Result<Arc<dyn OperationSigner>, String>;

/// A key's signers, by chain.
type Signers = Vec<(u64, Arc<dyn OperationSigner>)>;

/// Chains where a key cannot act, and why.
type Unusable = Vec<(u64, String)>;

#[derive(Debug)]
struct Inner {
    address: Address,
    chains: Vec<WalletChain>,
    keys: Vec<WalletKey>,
    lanes: Arc<Lanes>,
    receipt_timeout: Duration,
    stats: Arc<RpcStats>,
    registry: ChainRegistry,
}

/// One smart account on its chains and the keys that may act for it. Cheap to clone
/// (clones share everything); see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Wallet(Arc<Inner>);

impl Wallet {
    /// A wallet over `accounts` (one account on several chains, already connected) and
    /// `keys`. With `lease`, lanes are leased across processes (see [`LaneLease`]).
    pub fn new(
        accounts: Vec<SmartAccount>,
        keys: Vec<WalletKey>,
        lease: Option<Arc<dyn LaneLease>>,
    ) -> Result<Self, WalletError> {
        Self::on(accounts, keys, lease, ChainRegistry::builtin())
    }

    /// [`Self::new`], naming chains (and choosing passkeys' P-256 verifiers) from
    /// `registry`, which may hold chains of the user's own.
    pub fn on(
        accounts: Vec<SmartAccount>,
        keys: Vec<WalletKey>,
        lease: Option<Arc<dyn LaneLease>>,
        registry: ChainRegistry,
    ) -> Result<Self, WalletError> {
        let Some(first) = accounts.first() else { return Err(WalletError::NoChains) };
        if keys.is_empty() {
            return Err(WalletError::NoKeys);
        }
        let address = first.address();
        let stats = first.chain().node.rpc().stats().clone();
        let mut seen = BTreeSet::new();
        for a in &accounts {
            if !seen.insert(a.chain().chain_id) {
                return Err(WalletError::DuplicateChain(a.chain().chain_id));
            }
            if a.address() != address {
                return Err(WalletError::DifferentAccounts {
                    alias: String::new(),
                    expected: address,
                    found: a.address(),
                });
            }
        }
        let mut aliases = BTreeSet::new();
        for k in &keys {
            if !aliases.insert(k.alias.clone()) {
                return Err(WalletError::DuplicateAlias(k.alias.clone()));
            }
        }
        let chains = accounts
            .into_iter()
            .map(|account| WalletChain {
                info: registry.by_id(account.chain().chain_id),
                account,
                first_alone: Mutex::new(()),
            })
            .collect();
        Ok(Self(Arc::new(Inner {
            address,
            chains,
            keys,
            lanes: Arc::new(Lanes::new(address, lease)),
            receipt_timeout: RECEIPT_TIMEOUT,
            stats,
            registry,
        })))
    }

    /// Connect to `endpoints` (all chains at once) and build a wallet of session keys.
    ///
    /// Reads, per key and chain, whether the key is installed, pending its first use, or
    /// revoked. A pending key acts on a chain only where its owner approval verifies
    /// against the account's live nonce (the approval names the chain); elsewhere, and
    /// where it is revoked, it is listed as unusable with the reason.
    ///
    /// Chains are named, and a passkey key's P-256 verifier chosen, from `chains` (the
    /// built-in ones, [`ChainRegistry::builtin`], and any of the user's own).
    pub async fn connect(
        endpoints: Vec<Endpoints>,
        keys: Vec<KeySpec>,
        lease: Option<Arc<dyn LaneLease>>,
        chains: ChainRegistry,
    ) -> Result<Self, WalletError> {
        unblock(move || Self::connect_blocking(&endpoints, keys, lease, chains)).await
    }

    fn connect_blocking(
        endpoints: &[Endpoints],
        specs: Vec<KeySpec>,
        lease: Option<Arc<dyn LaneLease>>,
        registry: ChainRegistry,
    ) -> Result<Self, WalletError> {
        if endpoints.is_empty() {
            return Err(WalletError::NoChains);
        }
        if specs.is_empty() {
            return Err(WalletError::NoKeys);
        }
        // Decode every key first: bad input fails before any chain is asked.
        let mut config: Option<AccountConfig> = None;
        let mut decoded: Vec<(KeySpec, crate::permission::Permission)> = Vec::new();
        for spec in specs {
            let who = spec.secret.permission_signer();
            let mut permission = None;
            for part in &spec.parts {
                let key_err = |source| WalletError::Key { alias: spec.alias.clone(), source };
                let this = part.account_config().map_err(key_err)?;
                match &config {
                    None => config = Some(this),
                    Some(c) if c.address() != this.address() => {
                        return Err(WalletError::DifferentAccounts {
                            alias: spec.alias.clone(),
                            expected: c.address(),
                            found: this.address(),
                        });
                    }
                    Some(_) => {}
                }
                let p = part.permission(who.clone()).map_err(key_err)?;
                match &permission {
                    Some(q) if *q != p => return Err(WalletError::MixedPermissions(spec.alias)),
                    _ => permission = Some(p),
                }
            }
            let permission = permission.ok_or(WalletError::NoChains)?;
            // The same alias given twice (one serialized key per chain): one key.
            match decoded.iter_mut().find(|(s, _)| s.alias == spec.alias) {
                Some((s, p)) if *p == permission => s.parts.extend(spec.parts),
                Some(_) => return Err(WalletError::MixedPermissions(spec.alias)),
                None => decoded.push((spec, permission)),
            }
        }
        let config = config.ok_or(WalletError::NoKeys)?;
        let stats = Arc::new(RpcStats::default());
        // Each chain: connect, then every key's state there, chains at once.
        let per_chain: Vec<Result<(SmartAccount, Vec<ChainSigner>), WalletError>> =
            std::thread::scope(|s| {
                let handles: Vec<_> = endpoints
                    .iter()
                    .map(|e| {
                        let (stats, config, decoded) = (stats.clone(), &config, &decoded);
                        let registry = &registry;
                        s.spawn(move || {
                            let client = ChainClient::connect(e, stats).map_err(|source| {
                                WalletError::Connect { rpc: e.rpc.clone(), source }
                            })?;
                            let account = SmartAccount::new(config.clone(), client);
                            // Known from now on (a deployed account stays deployed): the
                            // first operation then needs no guess about it.
                            account.is_deployed().map_err(|source| WalletError::Connect {
                                rpc: e.rpc.clone(),
                                source,
                            })?;
                            let signers = decoded
                                .iter()
                                .map(|(spec, p)| signer_on(&account, spec, p, registry))
                                .collect::<Result<Vec<_>, _>>()?;
                            Ok((account, signers))
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().expect("connect thread panicked")).collect()
            });
        let mut accounts = Vec::new();
        let mut by_key: Vec<(Signers, Unusable)> =
            decoded.iter().map(|_| (Vec::new(), Vec::new())).collect();
        for chain in per_chain {
            let (account, signers) = chain?;
            let id = account.chain().chain_id;
            if accounts.iter().any(|a: &SmartAccount| a.chain().chain_id == id) {
                return Err(WalletError::DuplicateChain(id));
            }
            for (k, s) in signers.into_iter().enumerate() {
                match s {
                    Ok(signer) => by_key[k].0.push((id, signer)),
                    Err(why) => by_key[k].1.push((id, why)),
                }
            }
            accounts.push(account);
        }
        let keys = decoded
            .into_iter()
            .zip(by_key)
            .map(|((spec, permission), (signers, unusable))| {
                let validity = spec.parts[0].validity;
                WalletKey::with(spec.alias, Some(permission), validity, signers, unusable)
            })
            .collect();
        Self::on(accounts, keys, lease, registry)
    }

    /// Wait at most `timeout` for a receipt (default 120 s). Set it on a wallet not yet
    /// cloned: a shared wallet is returned unchanged.
    #[must_use]
    pub fn with_receipt_timeout(self, timeout: Duration) -> Self {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.receipt_timeout = timeout;
                Self(Arc::new(inner))
            }
            Err(shared) => Self(shared),
        }
    }

    /// The account's address (the same on every chain).
    pub fn address(&self) -> Address {
        self.0.address
    }

    /// The chains, in the order given.
    pub fn chains(&self) -> &[WalletChain] {
        &self.0.chains
    }

    /// The keys, in the order given.
    pub fn keys(&self) -> &[WalletKey] {
        &self.0.keys
    }

    /// The lanes handed to requests.
    pub fn lanes(&self) -> &Arc<Lanes> {
        &self.0.lanes
    }

    /// Every node, bundler and paymaster request the wallet made, counted.
    pub fn stats(&self) -> &Arc<RpcStats> {
        &self.0.stats
    }

    /// The chain named by `name` (alias or id), or the only chain when `None`.
    pub fn chain(&self, name: Option<&str>) -> Result<&WalletChain, ActionError> {
        let known = || self.chains().iter().map(WalletChain::name).collect::<Vec<_>>().join(", ");
        match name.map(str::trim) {
            None | Some("") => match self.chains() {
                [one] => Ok(one),
                _ => Err(ActionError::Input(format!(
                    "the wallet is on several chains; name one in `chain`: {}",
                    known()
                ))),
            },
            Some(n) => {
                let id = self.0.registry.find(n).map(|c| c.id).ok().or_else(|| n.parse().ok());
                id.and_then(|id| self.chain_by_id(id)).ok_or_else(|| {
                    ActionError::Input(format!(
                        "chain {n:?} is not one of the wallet's chains: {}",
                        known()
                    ))
                })
            }
        }
    }

    fn chain_by_id(&self, id: u64) -> Option<&WalletChain> {
        self.chains().iter().find(|c| c.id() == id)
    }

    fn chain_or_err(&self, id: u64) -> Result<&WalletChain, ActionError> {
        self.chain_by_id(id)
            .ok_or_else(|| ActionError::Input(format!("chain {id} is not one of the wallet's")))
    }

    /// What every key says about `calls` on chain `chain_id`, narrowest keys first (each
    /// with its alias). Keys that cannot act there are listed with why. Nothing is sent;
    /// a gas budget is judged against the estimate only when sending.
    pub async fn explain(
        &self,
        chain_id: u64,
        calls: Vec<Call>,
    ) -> Result<Vec<KeyVerdict>, ActionError> {
        let w = self.clone();
        unblock(move || {
            let chain = w.chain_or_err(chain_id)?;
            Ok(w.explain_on(chain, &calls)?.into_iter().map(|(_, v)| v).collect())
        })
        .await
    }

    fn explain_on(
        &self,
        chain: &WalletChain,
        calls: &[Call],
    ) -> Result<Vec<(Option<&WalletKey>, KeyVerdict)>, ActionError> {
        let call_data = self.call_data(calls)?;
        // Before estimation the cost is unknown: the gas budget is judged after it.
        let op = UserOperation { sender: self.address(), call_data, ..Default::default() };
        let mut keys: Vec<&WalletKey> = self.keys().iter().collect();
        keys.sort_by_key(|k| k.is_broad());
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if key.signer(chain.id()).is_none() {
                let reason = key.unusable_reason(chain.id()).unwrap_or_default().to_owned();
                out.push((
                    None,
                    KeyVerdict {
                        key: key.alias.clone(),
                        passes: false,
                        refusals: vec![PolicyRefusal { policy: "key".into(), index: None, reason }],
                    },
                ));
                continue;
            }
            let verdict = match &key.permission {
                Some(p) => verdict_of(key, &explain_operation(&chain.account, p, &op)?),
                None => KeyVerdict { key: key.alias.clone(), passes: true, refusals: Vec::new() },
            };
            out.push((Some(key), verdict));
        }
        Ok(out)
    }

    fn call_data(&self, calls: &[Call]) -> Result<Bytes, ActionError> {
        if calls.is_empty() {
            return Err(ActionError::Input("a batch needs at least one call".into()));
        }
        encode_calls(self.address(), calls, false, ExecType::Default)
            .map_err(|e| ActionError::Input(e.to_string()))
    }

    /// Carry out `calls` on chain `chain_id`, signed by the narrowest key that allows
    /// them, and wait for the receipt. On `lane`, or (`None`) on a lane of the wallet's
    /// own that no other operation in flight uses. Nothing is sent unless a key's
    /// policies allow it.
    pub async fn execute(
        &self,
        chain_id: u64,
        calls: Vec<Call>,
        lane: Option<LaneKey>,
    ) -> Result<Landed, ActionError> {
        let w = self.clone();
        unblock(move || w.execute_blocking(chain_id, &calls, lane)).await
    }

    /// Carry out `batches`: in order within a (chain, lane), different lanes and chains
    /// at once; a failed batch's later batches on its lane are skipped. Unnamed lanes
    /// share one fresh lane of the request's own.
    pub async fn execute_batches(&self, batches: Vec<Batch>) -> Vec<Outcome> {
        let w = self.clone();
        unblock(move || w.execute_batches_blocking(&batches)).await
    }

    fn execute_batches_blocking(&self, batches: &[Batch]) -> Vec<Outcome> {
        let own = self.0.lanes.take();
        let mut groups: BTreeMap<(u64, LaneKey), Vec<usize>> = BTreeMap::new();
        let mut outcomes: Vec<Option<Outcome>> = batches.iter().map(|_| None).collect();
        for (n, b) in batches.iter().enumerate() {
            match b.lane.or_else(|| own.as_ref().map(LaneGuard::lane)) {
                Some(lane) => groups.entry((b.chain, lane)).or_default().push(n),
                None => {
                    outcomes[n] = Some(Outcome::Failed {
                        lane: LaneKey::DEFAULT,
                        error: ActionError::NoLane,
                    });
                }
            }
        }
        let done: Vec<(usize, Outcome)> = std::thread::scope(|s| {
            let handles: Vec<_> = groups
                .into_iter()
                .map(|((chain, lane), members)| {
                    s.spawn(move || {
                        let mut out = Vec::with_capacity(members.len());
                        let mut failed: Option<usize> = None;
                        for n in members {
                            let o = match failed {
                                Some(after) => Outcome::Skipped { lane, after },
                                None => match self.execute_blocking(
                                    chain,
                                    &batches[n].calls,
                                    Some(lane),
                                ) {
                                    Ok(l) if l.receipt.success => Outcome::Landed(Box::new(l)),
                                    Ok(l) => {
                                        failed = Some(n);
                                        Outcome::Landed(Box::new(l))
                                    }
                                    Err(error) => {
                                        failed = Some(n);
                                        Outcome::Failed { lane, error }
                                    }
                                },
                            };
                            out.push((n, o));
                        }
                        out
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("lane thread panicked")).collect()
        });
        drop(own);
        for (n, o) in done {
            outcomes[n] = Some(o);
        }
        outcomes.into_iter().map(|o| o.expect("every batch has an outcome")).collect()
    }

    /// The blocking body of [`Self::execute`]: send, wait; a lost race (before sending,
    /// or found while waiting) is tried again on a fresh lane.
    // The closure's error is send_once's (see there).
    #[allow(clippy::result_large_err)]
    fn execute_blocking(
        &self,
        chain_id: u64,
        calls: &[Call],
        lane: Option<LaneKey>,
    ) -> Result<Landed, ActionError> {
        let chain = self.chain_or_err(chain_id)?;
        let mut last = None;
        // Lanes that lost a race stay busy until this request ends, so the next attempt
        // takes another.
        let mut lost = Vec::new();
        for _ in 0..RACE_ATTEMPTS {
            // A lane of our own per attempt.
            let guard = match lane {
                Some(_) => None,
                None => Some(self.0.lanes.take().ok_or(ActionError::NoLane)?),
            };
            let on = lane.or_else(|| guard.as_ref().map(LaneGuard::lane)).unwrap_or_default();
            let outcome = self.send_once(chain, calls, on).and_then(|sending| {
                let receipt = self
                    .wait(&chain.account, &sending.sent, sending.signer.as_ref())
                    .map_err(|e| (e, false))?;
                sending.signer.landed();
                Ok(Landed {
                    key: sending.key.alias.clone(),
                    chain_id,
                    lane: on,
                    hash: sending.sent.hash,
                    receipt,
                })
            });
            match outcome {
                Ok(landed) => return Ok(landed),
                Err((e, raced)) if raced || e.is_race() => {
                    last = Some(e);
                    lost.push(guard);
                }
                Err((e, _)) => return Err(e),
            }
        }
        Err(ActionError::Race {
            attempts: RACE_ATTEMPTS,
            last: last.map(|e| e.to_string()).unwrap_or_default(),
        })
    }

    /// Sign and send `calls` on chain `chain_id` and `lane` with the narrowest key that
    /// allows them, without waiting: [`Self::wait`] for the receipt. A nonce race before
    /// the bundler took the operation is tried again (on the same lane); one found later
    /// is the caller's to handle, which [`Self::execute`] does. Use `execute` for an
    /// account's or a key's first operation, which must land before others are sent.
    pub async fn send(
        &self,
        chain_id: u64,
        calls: Vec<Call>,
        lane: LaneKey,
    ) -> Result<Sent, ActionError> {
        let w = self.clone();
        unblock(move || {
            let chain = w.chain_or_err(chain_id)?;
            let mut last = None;
            for _ in 0..RACE_ATTEMPTS {
                match w.send_once(chain, &calls, lane) {
                    Ok(s) => {
                        return Ok(Sent {
                            key: s.key.alias.clone(),
                            chain_id,
                            lane,
                            hash: s.sent.hash,
                            operation: s.sent,
                            signer: s.signer,
                        });
                    }
                    Err((e, raced)) if raced || e.is_race() => last = Some(e),
                    Err((e, _)) => return Err(e),
                }
            }
            Err(ActionError::Race {
                attempts: RACE_ATTEMPTS,
                last: last.map(|e| e.to_string()).unwrap_or_default(),
            })
        })
        .await
    }

    /// Wait for a sent operation's receipt; once it landed, its signer knows its key is
    /// installed.
    pub async fn wait_for(&self, sent: Sent) -> Result<UserOperationReceipt, ActionError> {
        let w = self.clone();
        unblock(move || {
            let chain = w.chain_or_err(sent.chain_id)?;
            let receipt = w.wait(&chain.account, &sent.operation, sent.signer.as_ref())?;
            sent.signer.landed();
            Ok(receipt)
        })
        .await
    }

    /// The narrowest key a guess without chain reads would pick: its policies judged
    /// with the local clock and their install values.
    fn likely_key(&self, chain: &WalletChain, call_data: &Bytes) -> Option<&WalletKey> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let facts = crate::policy::Operation {
            sender: chain.account().address(),
            call_data,
            max_cost: alloy_primitives::U256::ZERO,
            paymaster: None,
            now,
        };
        let mut keys: Vec<&WalletKey> = self.keys().iter().collect();
        keys.sort_by_key(|k| k.is_broad());
        keys.into_iter().find(|k| {
            k.signer(chain.id()).is_some()
                && k.permission.as_ref().is_none_or(|p| {
                    crate::policy::explain(&p.policies, &facts, &[])
                        .iter()
                        .all(|v| v.refusal.is_none())
                })
        })
    }

    /// One try, up to the bundler taking the operation. The live policy check (one
    /// batched node read) runs while the likeliest key's operation is prepared and
    /// estimated, so choosing a key costs no round trip of its own; when the check picks
    /// another key, that key's operation is prepared afterwards. Gas budgets are judged
    /// again against the estimate. On failure: the error, and whether it was a lost race
    /// (an enabling signer whose key someone else installed meanwhile).
    // Private, and its error is handled at once by the caller: boxing would only add an
    // allocation on the failure path.
    #[allow(clippy::result_large_err)]
    fn send_once<'w>(
        &'w self,
        chain: &'w WalletChain,
        calls: &[Call],
        lane: LaneKey,
    ) -> Result<Sending<'w>, (ActionError, bool)> {
        let plain = |e: ActionError| (e, false);
        let account = &chain.account;
        let call_data = self.call_data(calls).map_err(plain)?;
        let guess = self.likely_key(chain, &call_data);
        let guess_signer = guess.and_then(|k| k.signer(chain.id()).cloned());
        let mut alone = match &guess_signer {
            Some(s) => chain.alone_if_needed(s.as_ref()).map_err(|e| plain(e.into()))?,
            None => None,
        };
        let (verdicts, prepared) = std::thread::scope(|s| {
            let live = s.spawn(|| self.explain_on(chain, calls));
            let prepared = guess_signer
                .as_ref()
                .map(|signer| account.prepare_call_data(signer.as_ref(), call_data.clone(), lane));
            (live.join().expect("policy check thread panicked"), prepared)
        });
        let verdicts = verdicts.map_err(plain)?;
        let Some(key) = verdicts.iter().find(|(k, v)| k.is_some() && v.passes).and_then(|v| v.0)
        else {
            return Err(plain(ActionError::Refused {
                chain: chain.name(),
                keys: verdicts.into_iter().map(|(_, v)| v).collect(),
            }));
        };
        let Some(signer) = key.signer(chain.id()).cloned() else {
            return Err(plain(ActionError::Input(format!("key {:?} cannot act here", key.alias))));
        };
        let fail = |e: AccountError| {
            let e = ActionError::from(e);
            if matches!(e, ActionError::Account(AccountError::KeyRevoked { .. })) {
                key.mark_revoked(chain.id());
            }
            let raced = self.installed_meanwhile(chain, key, signer.as_ref(), &e);
            (e, raced)
        };
        let op = match prepared {
            Some(op) if guess.is_some_and(|g| std::ptr::eq(g, key)) => op.map_err(fail)?,
            _ => {
                drop(alone.take());
                alone = chain.alone_if_needed(signer.as_ref()).map_err(|e| plain(e.into()))?;
                account.prepare_call_data(signer.as_ref(), call_data, lane).map_err(fail)?
            }
        };
        if key.has_gas_policy()
            && let Some(p) = &key.permission
        {
            let v =
                verdict_of(key, &explain_operation(account, p, &op).map_err(|e| plain(e.into()))?);
            if !v.passes {
                return Err(plain(ActionError::Refused { chain: chain.name(), keys: vec![v] }));
            }
        }
        let sent = account.sign_and_send(signer.as_ref(), op).map_err(fail)?;
        Ok(Sending { key, signer, sent, _alone: alone })
    }

    /// An enabling signer's operation was refused without a policy named: if anyone
    /// installed its key meanwhile (another process, say), switch the signer to plain
    /// signatures and call it a race. The bundler may simulate against a state the node
    /// does not show yet, so the install is looked for a few times.
    fn installed_meanwhile(
        &self,
        chain: &WalletChain,
        key: &WalletKey,
        signer: &dyn OperationSigner,
        e: &ActionError,
    ) -> bool {
        let ActionError::Account(AccountError::Refused { policy: None, .. }) = e else {
            return false;
        };
        if !signer.is_enabling() {
            return false;
        }
        let Some(vid) = signer.permission_validation_id() else { return false };
        for _ in 0..INSTALL_LOOKS {
            match key_state(&chain.account, vid) {
                Ok(KeyState::Installed { .. }) => {
                    signer.landed();
                    return true;
                }
                Ok(s) if s.is_revoked() => {
                    key.mark_revoked(chain.id());
                    return false;
                }
                Ok(_) => std::thread::sleep(Duration::from_millis(500)),
                Err(_) => return false,
            }
        }
        false
    }

    /// Wait for the receipt. Every [`DROP_CHECK`] without one, ask the chain where the
    /// operation stands: landed (its receipt comes from the chain when the bundler's
    /// lags), lost to another operation (a race, safe to try again), or still pending.
    fn wait(
        &self,
        account: &SmartAccount,
        sent: &SentOperation,
        signer: &dyn OperationSigner,
    ) -> Result<UserOperationReceipt, ActionError> {
        let start = Instant::now();
        loop {
            let remaining = self.0.receipt_timeout.saturating_sub(start.elapsed());
            match account.wait(sent.hash, remaining.min(DROP_CHECK)) {
                Ok(r) => return Ok(r),
                Err(AccountError::ReceiptTimeout { .. }) if !remaining.is_zero() => {}
                Err(e) => return Err(e.into()),
            }
            match standing(account, sent, signer)? {
                Standing::Landed(receipt) => return Ok(*receipt),
                Standing::Lost => return Err(ActionError::Dropped(sent.hash)),
                Standing::Pending => {}
            }
            // Pending, and the bundler no longer holds it: something it depends on changed
            // since it was accepted (another key drew the shared budget it counted on,
            // say). Simulate it again: if the chain refuses it now, that refusal is the
            // answer, not a receipt that will never come. A failed simulation may also
            // mean it just landed (its nonce is used now), so the chain is asked again.
            let bundler = &account.chain().bundler;
            if bundler.by_hash(sent.hash)?.is_none()
                && let Err(e @ RpcError::Rpc(_)) = bundler.estimate(&sent.operation)
            {
                return match standing(account, sent, signer)? {
                    Standing::Landed(receipt) => Ok(*receipt),
                    Standing::Lost => Err(ActionError::Dropped(sent.hash)),
                    Standing::Pending => {
                        Err(crate::account::refusal(e, signer, &sent.operation).into())
                    }
                };
            }
        }
    }

    /// Live state of `key` on chain `chain_id`: installation and, for stateful policies,
    /// the budgets left (in words). What it learns is kept: an installed key signs
    /// plainly from now on, a revoked one no longer acts.
    pub async fn key_status(
        &self,
        alias: String,
        chain_id: u64,
    ) -> Result<(Option<KeyState>, Vec<Verdict>), ActionError> {
        let w = self.clone();
        unblock(move || {
            let chain = w.chain_or_err(chain_id)?;
            let key = w
                .keys()
                .iter()
                .find(|k| k.alias == alias)
                .ok_or_else(|| ActionError::Input(format!("no key is called {alias:?}")))?;
            Ok(w.status_of(key, chain)?)
        })
        .await
    }

    fn status_of(
        &self,
        key: &WalletKey,
        chain: &WalletChain,
    ) -> Result<(Option<KeyState>, Vec<Verdict>), RpcError> {
        let Some(permission) = &key.permission else { return Ok((None, Vec::new())) };
        let state = key_state(&chain.account, permission.validation_id())?;
        self.learn(key, chain, state);
        let stateful = permission.policies.iter().any(|p| {
            matches!(
                p.kind,
                PolicyKind::Gas { .. } | PolicyKind::RateLimit { .. } | PolicyKind::Budget(_)
            )
        });
        let verdicts = if stateful {
            explain_operation(&chain.account, permission, &UserOperation::default())?
        } else {
            Vec::new()
        };
        Ok((Some(state), verdicts))
    }

    fn learn(&self, key: &WalletKey, chain: &WalletChain, state: KeyState) {
        match state {
            KeyState::Installed { .. } => {
                if let Some(s) = key.signer(chain.id()) {
                    s.landed();
                }
            }
            s if s.is_revoked() => key.mark_revoked(chain.id()),
            _ => {}
        }
    }

    /// Read every key's state on every chain again and follow it (see
    /// [`Self::key_status`]).
    pub async fn refresh(&self) -> Result<(), ActionError> {
        let w = self.clone();
        unblock(move || {
            for chain in w.chains() {
                for key in w.keys().iter().filter(|k| k.has_onchain_state()) {
                    w.status_of(key, chain)?;
                }
            }
            Ok(())
        })
        .await
    }
}

/// The signer of `spec` on `account`'s chain (see [`session_signer`]), naming the
/// chain's P-256 verifier for a passkey key; otherwise why it cannot act.
fn signer_on(
    account: &SmartAccount,
    spec: &KeySpec,
    permission: &crate::permission::Permission,
    registry: &ChainRegistry,
) -> Result<ChainSigner, WalletError> {
    let chain_id = account.chain().chain_id;
    // Only a passkey signer names a verifier.
    #[cfg(not(feature = "passkey"))]
    let _ = registry;
    let signer = session_signer(account, &spec.secret, permission, &spec.parts)
        .map_err(|source| WalletError::State { alias: spec.alias.clone(), chain_id, source })?;
    Ok(signer
        .map(|s| {
            #[cfg(feature = "passkey")]
            let s = s.with_verifier(match registry.by_id(chain_id) {
                Some(c) if !c.p256_precompile => crate::passkey::P256Verifier::Daimo,
                _ => crate::passkey::P256Verifier::Precompile,
            });
            Arc::new(s) as Arc<dyn OperationSigner>
        })
        .map_err(|e| e.to_string()))
}

/// Why a session key cannot act on a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CannotAct {
    /// The owner uninstalled it or invalidated it.
    #[error("revoked by the owner ({0})")]
    Revoked(KeyState),
    /// Not installed, and no owner approval that holds on this chain at the account's
    /// current nonce (none given, one for another chain, or one the owner's revoke-all
    /// has outdated).
    #[error("{0}")]
    NoApproval(String),
}

/// The signer of a session key (`secret`, for `permission`) on `account`'s chain, from
/// its state there: plain when installed; enabling when pending, with the first of
/// `approvals` (its serialized forms) whose owner approval verifies on this chain at
/// the account's live kernel nonce; otherwise why it cannot act. One or two reads (the
/// key's state, and the kernel nonce when pending).
pub fn session_signer(
    account: &SmartAccount,
    secret: &crate::account::SessionKey,
    permission: &crate::permission::Permission,
    approvals: &[crate::session_key::SerializedSessionKey],
) -> Result<Result<SessionKeySigner, CannotAct>, RpcError> {
    let chain_id = account.chain().chain_id;
    let (state, valid_nonce_from) =
        crate::session_key::read_state(account, permission.validation_id())?;
    Ok(match state {
        KeyState::Installed { .. } => {
            Ok(SessionKeySigner::installed(secret.clone(), permission.clone()))
        }
        KeyState::PendingFirstUse => {
            let nonce = account.kernel_nonce()?;
            // The permission names its signer (a stand-in secret may sign estimates).
            let who: PermissionSigner = permission.signer.clone();
            let mut why = String::from("not installed here and it carries no owner approval");
            let approved = approvals.iter().find_map(|part| {
                let sig = part.enable_signature.clone()?;
                // A passkey owner's (WebAuthn) approval is not checked here: the chain
                // checks it.
                if part
                    .account_config()
                    .is_ok_and(|c| matches!(c.root, crate::kernel::RootValidator::WebAuthn(_)))
                {
                    return Some(sig);
                }
                match part.verify_enable_signature(who.clone(), chain_id, nonce) {
                    Ok(_) => Some(sig),
                    Err(e) => {
                        why = format!("the owner's approval does not hold here: {e}");
                        None
                    }
                }
            });
            match approved {
                Some(sig) => {
                    Ok(SessionKeySigner::enabling(secret.clone(), permission.clone(), nonce, sig))
                }
                // An approval signed below `validNonceFrom` was killed by the owner's
                // revoke-all: say so. Which nonce it was signed at is found offline (the
                // signature verifies at exactly one), costing no round trip.
                None => match (1..valid_nonce_from).find(|n| {
                    approvals
                        .iter()
                        .any(|p| p.verify_enable_signature(who.clone(), chain_id, *n).is_ok())
                }) {
                    Some(signed_at) => Err(CannotAct::Revoked(KeyState::Invalidated {
                        nonce: signed_at,
                        valid_nonce_from,
                    })),
                    None => Err(CannotAct::NoApproval(why)),
                },
            }
        }
        revoked => Err(CannotAct::Revoked(revoked)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_words_name_each_key_and_policy() {
        let keys = vec![KeyVerdict {
            key: "agent".into(),
            passes: false,
            refusals: vec![PolicyRefusal {
                policy: "call".into(),
                index: Some(0),
                reason: "CallViolatesValueRule: value 2 exceeds the limit 1".into(),
            }],
        }];
        assert_eq!(
            refusal_words("local", &keys),
            "no session key allows this on local; nothing was sent. session key \"agent\": \
             policies[0] (call) refuses: CallViolatesValueRule: value 2 exceeds the limit 1"
        );
    }

    #[test]
    fn nonce_races_are_named_by_the_bundlers_words() {
        assert!(race_message("Already known"));
        assert!(race_message("AA25 invalid account nonce"));
        assert!(race_message("replacement op must increase maxFeePerGas"));
        assert!(!race_message("AA23 reverted 0x756688fe"));
    }
}

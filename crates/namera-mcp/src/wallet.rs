//! The wallet the server acts for: one smart account (on one or several chains) and the
//! session keys that may act on it. No owner key is ever part of it.
//!
//! Everything here is blocking (the SDK is synchronous); the server calls it from
//! `spawn_blocking`.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use alloy_primitives::{Address, B256, Bytes};
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{AccountError, ChainClient, OperationSigner, SessionKeySigner, SmartAccount},
    bundler::UserOperationReceipt,
    chain::{ChainInfo, Endpoints},
    kernel::{AccountConfig, Call, ExecType, LaneKey, UserOperation, encode_calls},
    permission::{Permission, PermissionSigner},
    policy::{PolicyKind, Verdict},
    rpc::{RpcError, RpcStats},
    session_key::{
        KeyState, SerializedKeyError, SerializedSessionKey, ValidityData, explain_operation,
        key_state,
    },
};

/// A session key as the caller hands it over: a name for people and agents, and the key
/// in ZeroDev's serialized form with its private key.
///
/// A key approved on several chains comes as one serialized key per chain (each with its
/// own approval); give them under one alias and they act as one key.
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// How the key is called in answers (`"trading-bot"`).
    pub alias: String,
    /// The serialized key; its private key must be included.
    pub key: SerializedSessionKey,
}

/// The wallet could not be built.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// No chain endpoints were given.
    #[error("no chains: give at least one chain's endpoints")]
    NoChains,
    /// No session keys were given.
    #[error("no session keys: give at least one")]
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
    #[error("session key {alias:?} carries no private key: the server can only act with it")]
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
    #[error("session key {alias:?} acts for {found}, but the wallet is {expected}")]
    DifferentAccounts {
        /// The key.
        alias: String,
        /// The wallet's account.
        expected: Address,
        /// The key's account.
        found: Address,
    },
    /// Two keys with one alias.
    #[error("two session keys are called {0:?}")]
    DuplicateAlias(String),
    /// A key's signers disagree on the permission.
    #[error(
        "session key {0:?}: its parts (signers, or serialized keys under one alias) are for different permissions"
    )]
    MixedPermissions(String),
    /// Reading a key's state failed.
    #[error("reading session key {alias:?} on chain {chain_id}: {source}")]
    State {
        /// The key.
        alias: String,
        /// The chain.
        chain_id: u64,
        /// Why.
        source: RpcError,
    },
}

/// One session key of the wallet: its alias, permission and a signer per chain where it
/// can act (the SDK's `SessionKey` is the secret inside each signer).
#[derive(Debug)]
pub struct WalletKey {
    alias: String,
    permission: Permission,
    validity: ValidityData,
    signers: Vec<(u64, SessionKeySigner)>,
    /// Chains where it cannot act, and why (revoked, approval for another chain, …).
    unusable: Vec<(u64, String)>,
    /// Chains where the chain said, while serving, that the owner revoked it: later
    /// requests skip it there without asking the bundler again.
    revoked: Mutex<BTreeSet<u64>>,
}

impl WalletKey {
    /// A key named `alias` acting through `signers` (chain id, signer), all for one
    /// permission.
    pub fn new(
        alias: impl Into<String>,
        validity: ValidityData,
        signers: Vec<(u64, SessionKeySigner)>,
    ) -> Result<Self, WalletError> {
        let alias = alias.into();
        let Some((_, first)) = signers.first() else {
            return Err(WalletError::NoChains);
        };
        let permission = first.permission().clone();
        if signers.iter().any(|(_, s)| s.permission() != &permission) {
            return Err(WalletError::MixedPermissions(alias));
        }
        Ok(Self {
            alias,
            permission,
            validity,
            signers,
            unusable: Vec::new(),
            revoked: Mutex::default(),
        })
    }

    /// Its name.
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// Its permission (signer and policies).
    pub const fn permission(&self) -> &Permission {
        &self.permission
    }

    /// The validity window recorded with it.
    pub const fn validity(&self) -> ValidityData {
        self.validity
    }

    /// The session key's own address.
    /// (`None` for a passkey session key, which has no address.)
    pub const fn key_address(&self) -> Option<Address> {
        match self.permission.signer {
            PermissionSigner::Ecdsa(key) => Some(key),
            PermissionSigner::WebAuthn(_) => None,
        }
    }

    /// Its signer on `chain_id`, if it can act there.
    pub fn signer(&self, chain_id: u64) -> Option<&SessionKeySigner> {
        if self.is_revoked_on(chain_id) {
            return None;
        }
        self.signers.iter().find(|(c, _)| *c == chain_id).map(|(_, s)| s)
    }

    /// Why it cannot act on `chain_id`, when it cannot.
    pub fn unusable_reason(&self, chain_id: u64) -> Option<&str> {
        if self.is_revoked_on(chain_id) {
            return Some("revoked by the owner");
        }
        self.unusable.iter().find(|(c, _)| *c == chain_id).map(|(_, r)| r.as_str())
    }

    fn is_revoked_on(&self, chain_id: u64) -> bool {
        self.revoked.lock().unwrap_or_else(PoisonError::into_inner).contains(&chain_id)
    }

    fn mark_revoked(&self, chain_id: u64) {
        self.revoked.lock().unwrap_or_else(PoisonError::into_inner).insert(chain_id);
    }

    /// Whether a key allows everything (sudo) — chosen last, so that a request is signed
    /// by the narrowest key that allows it.
    fn is_broad(&self) -> bool {
        self.permission.policies.iter().any(|p| matches!(p.kind, PolicyKind::Sudo))
    }

    fn has_gas_policy(&self) -> bool {
        self.permission.policies.iter().any(|p| matches!(p.kind, PolicyKind::Gas { .. }))
    }
}

/// The account on one chain, and the lock that lets a first operation land alone.
#[derive(Debug)]
pub struct WalletChain {
    account: SmartAccount,
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
        ChainInfo::by_id(self.id()).map_or_else(|| self.id().to_string(), |c| c.alias.to_owned())
    }

    /// Hold the chain's first-operation lock when `signer`'s next operation changes the
    /// account for the others; `None` when it can go at once.
    fn alone_if_needed(
        &self,
        signer: &SessionKeySigner,
    ) -> Result<Option<MutexGuard<'_, ()>>, RpcError> {
        let needed = |s: &SessionKeySigner| -> Result<bool, RpcError> {
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

/// Lanes (2D nonce keys) handed to requests in flight, so that concurrent requests never
/// share one and never wait for each other's sequence.
#[derive(Debug, Default)]
pub struct Lanes {
    busy: Mutex<BTreeSet<u16>>,
}

/// A lane taken for one request; given back when dropped.
#[derive(Debug)]
pub struct LaneGuard<'a> {
    lanes: &'a Lanes,
    lane: LaneKey,
}

impl LaneGuard<'_> {
    /// The lane.
    pub const fn lane(&self) -> LaneKey {
        self.lane
    }
}

impl Drop for LaneGuard<'_> {
    fn drop(&mut self) {
        self.lanes.busy.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.lane.0);
    }
}

impl Lanes {
    /// The lowest free lane from 1 (lane 0 is the default one other tools use). Reusing low
    /// lanes keeps the account's cached sequences warm.
    pub fn take(&self) -> Option<LaneGuard<'_>> {
        let mut busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        let free = (1..=u16::MAX).find(|l| !busy.contains(l))?;
        busy.insert(free);
        Some(LaneGuard { lanes: self, lane: LaneKey(free) })
    }
}

/// Why a request was not carried out. Each is answered to the agent as a tool error.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The input is wrong; the message says how.
    #[error("{0}")]
    Input(String),
    /// No session key's policies allow the operation; nothing was sent.
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
}

fn refusal_words(chain: &str, keys: &[KeyVerdict]) -> String {
    if keys.is_empty() {
        return format!("no session key can act on {chain}; nothing was sent");
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct KeyVerdict {
    /// The key's alias.
    pub key: String,
    /// Whether every policy passes.
    pub passes: bool,
    /// The policies that refuse, and why.
    pub refusals: Vec<PolicyRefusal>,
}

/// A policy that refuses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
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
#[derive(Debug)]
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

/// One smart account, the chains it is used on, and its session keys.
#[derive(Debug)]
pub struct Wallet {
    address: Address,
    chains: Vec<WalletChain>,
    keys: Vec<WalletKey>,
    lanes: Lanes,
    receipt_timeout: Duration,
}

impl Wallet {
    /// A wallet over `accounts` (one account on several chains) and `keys`.
    pub fn new(accounts: Vec<SmartAccount>, keys: Vec<WalletKey>) -> Result<Self, WalletError> {
        let Some(first) = accounts.first() else { return Err(WalletError::NoChains) };
        if keys.is_empty() {
            return Err(WalletError::NoKeys);
        }
        let address = first.address();
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
            .map(|account| WalletChain { account, first_alone: Mutex::new(()) })
            .collect();
        Ok(Self {
            address,
            chains,
            keys,
            lanes: Lanes::default(),
            receipt_timeout: Duration::from_secs(120),
        })
    }

    /// A wallet from serialized session keys (with their private keys) and the endpoints
    /// of the chains to use them on.
    ///
    /// Reads, per key and chain, whether the key is installed, pending its first use, or
    /// revoked. A pending key acts on a chain only where its owner approval verifies (the
    /// approval names the chain); elsewhere it is listed as unusable, with the reason.
    /// Each private key is moved into its signer and the decoded copy is zeroized.
    pub fn from_serialized(
        endpoints: &[Endpoints],
        specs: Vec<KeySpec>,
    ) -> Result<Self, WalletError> {
        if endpoints.is_empty() {
            return Err(WalletError::NoChains);
        }
        let stats = Arc::new(RpcStats::default());
        let clients = endpoints
            .iter()
            .map(|e| {
                ChainClient::connect(e, stats.clone())
                    .map_err(|source| WalletError::Connect { rpc: e.rpc.clone(), source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut config: Option<AccountConfig> = None;
        let mut decoded: Vec<(String, PrivateKeySigner, Permission, Vec<SerializedSessionKey>)> =
            Vec::with_capacity(specs.len());
        for mut spec in specs {
            let alias = spec.alias.clone();
            let secret = spec
                .key
                .private_key
                .take()
                .ok_or_else(|| WalletError::NoPrivateKey { alias: alias.clone() })?;
            // `secret` is zeroized when it drops at the end of this statement's scope.
            let signer = PrivateKeySigner::from_bytes(secret.expose())
                .map_err(|_| WalletError::BadPrivateKey { alias: alias.clone() })?;
            drop(secret);
            let key_err = |source| WalletError::Key { alias: alias.clone(), source };
            let this_config = spec.key.account_config().map_err(key_err)?;
            match &config {
                None => config = Some(this_config),
                Some(c) if c.address() != this_config.address() => {
                    return Err(WalletError::DifferentAccounts {
                        alias,
                        expected: c.address(),
                        found: this_config.address(),
                    });
                }
                Some(_) => {}
            }
            let permission =
                spec.key.permission(PermissionSigner::Ecdsa(signer.address())).map_err(key_err)?;
            // One key approved on several chains comes as one serialized key per chain
            // (each with its own approval): under one alias they are one key.
            match decoded.iter_mut().find(|(a, ..)| *a == alias) {
                Some((_, _, p, parts)) if *p == permission => parts.push(spec.key),
                Some(_) => return Err(WalletError::MixedPermissions(alias)),
                None => decoded.push((alias, signer, permission, vec![spec.key])),
            }
        }
        let Some(config) = config else { return Err(WalletError::NoKeys) };
        let accounts: Vec<SmartAccount> =
            clients.into_iter().map(|c| SmartAccount::new(config.clone(), c)).collect();
        let mut keys = Vec::with_capacity(decoded.len());
        for (alias, signer, permission, parts) in decoded {
            let mut key = WalletKey {
                alias: alias.clone(),
                permission: permission.clone(),
                validity: parts[0].validity,
                signers: Vec::new(),
                unusable: Vec::new(),
                revoked: Mutex::default(),
            };
            for account in &accounts {
                let chain_id = account.chain().chain_id;
                let state_err =
                    |source| WalletError::State { alias: alias.clone(), chain_id, source };
                let state = key_state(account, permission.validation_id()).map_err(state_err)?;
                match state {
                    KeyState::Installed { .. } => key.signers.push((
                        chain_id,
                        SessionKeySigner::installed(signer.clone(), permission.clone()),
                    )),
                    KeyState::PendingFirstUse => {
                        let nonce = account.kernel_nonce().map_err(state_err)?;
                        let mut why = "not installed here and it carries no owner approval".into();
                        let approved = parts.iter().find_map(|part| {
                            let sig = part.enable_signature.clone()?;
                            let who = PermissionSigner::Ecdsa(signer.address());
                            match part.verify_enable_signature(who, chain_id, nonce) {
                                Ok(_) => Some(sig),
                                Err(e) => {
                                    why = format!("the owner's approval does not hold here: {e}");
                                    None
                                }
                            }
                        });
                        match approved {
                            Some(sig) => key.signers.push((
                                chain_id,
                                SessionKeySigner::enabling(
                                    signer.clone(),
                                    permission.clone(),
                                    nonce,
                                    sig,
                                ),
                            )),
                            None => key.unusable.push((chain_id, why)),
                        }
                    }
                    revoked => {
                        key.unusable.push((chain_id, format!("revoked by the owner ({revoked})")))
                    }
                }
            }
            keys.push(key);
        }
        Self::new(accounts, keys)
    }

    /// Wait at most `timeout` for a receipt (default 120 s).
    #[must_use]
    pub const fn with_receipt_timeout(mut self, timeout: Duration) -> Self {
        self.receipt_timeout = timeout;
        self
    }

    /// The account's address (the same on every chain).
    pub const fn address(&self) -> Address {
        self.address
    }

    /// The chains, in the order given.
    pub fn chains(&self) -> &[WalletChain] {
        &self.chains
    }

    /// The session keys, in the order given.
    pub fn keys(&self) -> &[WalletKey] {
        &self.keys
    }

    /// The lanes handed to requests.
    pub const fn lanes(&self) -> &Lanes {
        &self.lanes
    }

    /// The chain named by `name` (alias or id), or the only chain when `None`.
    pub fn chain(&self, name: Option<&str>) -> Result<&WalletChain, ActionError> {
        let known = || self.chains.iter().map(WalletChain::name).collect::<Vec<_>>().join(", ");
        match name.map(str::trim) {
            None | Some("") => match self.chains.as_slice() {
                [one] => Ok(one),
                _ => Err(ActionError::Input(format!(
                    "the wallet is on several chains; name one in `chain`: {}",
                    known()
                ))),
            },
            Some(n) => {
                let id = ChainInfo::find(n).map(|c| c.id).ok().or_else(|| n.parse().ok());
                id.and_then(|id| self.chains.iter().find(|c| c.id() == id)).ok_or_else(|| {
                    ActionError::Input(format!(
                        "chain {n:?} is not one of the wallet's chains: {}",
                        known()
                    ))
                })
            }
        }
    }

    /// What every key says about `calls` on `chain`, narrowest keys first. Keys that
    /// cannot act on the chain are listed with why.
    pub fn explain(
        &self,
        chain: &WalletChain,
        calls: &[Call],
    ) -> Result<Vec<(Option<&WalletKey>, KeyVerdict)>, ActionError> {
        let call_data = self.call_data(calls)?;
        // Before estimation the cost is unknown: the gas budget is judged after it.
        let op = UserOperation { sender: self.address, call_data, ..Default::default() };
        let mut keys: Vec<&WalletKey> = self.keys.iter().collect();
        keys.sort_by_key(|k| k.is_broad());
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if key.signer(chain.id()).is_none() {
                let reason =
                    key.unusable_reason(chain.id()).unwrap_or("no signer for this chain").into();
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
            let verdicts = explain_operation(&chain.account, &key.permission, &op)?;
            out.push((Some(key), verdict_of(key, &verdicts)));
        }
        Ok(out)
    }

    fn call_data(&self, calls: &[Call]) -> Result<Bytes, ActionError> {
        if calls.is_empty() {
            return Err(ActionError::Input("a batch needs at least one call".into()));
        }
        encode_calls(self.address, calls, false, ExecType::Default)
            .map_err(|e| ActionError::Input(e.to_string()))
    }

    /// The key that will sign `calls` on `chain`: the narrowest whose policies all pass.
    fn select(&self, chain: &WalletChain, calls: &[Call]) -> Result<&WalletKey, ActionError> {
        let verdicts = self.explain(chain, calls)?;
        if let Some(key) = verdicts.iter().find(|(k, v)| k.is_some() && v.passes).and_then(|v| v.0)
        {
            return Ok(key);
        }
        Err(ActionError::Refused {
            chain: chain.name(),
            keys: verdicts.into_iter().map(|(_, v)| v).collect(),
        })
    }

    /// Carry out `calls` on `chain`, on `lane`, signed by the narrowest key that allows
    /// them, and wait for the receipt. Nothing is sent unless a key's policies allow it
    /// (judged before estimation, and again with the estimated cost for gas budgets).
    pub fn execute(
        &self,
        chain: &WalletChain,
        calls: &[Call],
        lane: LaneKey,
    ) -> Result<Landed, ActionError> {
        let key = self.select(chain, calls)?;
        let Some(signer) = key.signer(chain.id()) else {
            return Err(ActionError::Input(format!("key {:?} cannot act here", key.alias)));
        };
        let _alone = chain.alone_if_needed(signer)?;
        let account = &chain.account;
        let prepare = || -> Result<UserOperation, ActionError> {
            let op = account.prepare(signer, calls, lane)?;
            if key.has_gas_policy() {
                let v = verdict_of(key, &explain_operation(account, &key.permission, &op)?);
                if !v.passes {
                    return Err(ActionError::Refused { chain: chain.name(), keys: vec![v] });
                }
            }
            Ok(op)
        };
        let revoked = |e: ActionError| {
            if matches!(e, ActionError::Account(AccountError::KeyRevoked { .. })) {
                key.mark_revoked(chain.id());
            }
            e
        };
        let sent = match account.sign_and_send(signer, prepare().map_err(revoked)?) {
            // Another client used the lane since its sequence was cached: read it again.
            Err(AccountError::Refused { refusal, .. })
                if refusal.aa_code.as_deref() == Some("AA25") =>
            {
                account
                    .sign_and_send(signer, prepare().map_err(revoked)?)
                    .map_err(|e| revoked(e.into()))?
            }
            other => other.map_err(|e| revoked(e.into()))?,
        };
        let receipt = account.wait(sent.hash, self.receipt_timeout)?;
        signer.landed();
        Ok(Landed { key: key.alias.clone(), chain_id: chain.id(), lane, hash: sent.hash, receipt })
    }

    /// Live state of `key` on `chain`: installation and, for stateful policies, the
    /// budgets left (in words).
    pub fn key_status(
        &self,
        key: &WalletKey,
        chain: &WalletChain,
    ) -> Result<(KeyState, Vec<Verdict>), RpcError> {
        let state = key_state(&chain.account, key.permission.validation_id())?;
        let stateful = key
            .permission
            .policies
            .iter()
            .any(|p| matches!(p.kind, PolicyKind::Gas { .. } | PolicyKind::RateLimit { .. }));
        let verdicts = if stateful {
            explain_operation(&chain.account, &key.permission, &UserOperation::default())?
        } else {
            Vec::new()
        };
        Ok((state, verdicts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_in_flight_are_distinct_and_given_back() {
        let lanes = Lanes::default();
        let a = lanes.take().unwrap();
        let b = lanes.take().unwrap();
        assert_eq!((a.lane(), b.lane()), (LaneKey(1), LaneKey(2)));
        drop(a);
        // The lowest free lane again: its cached sequence is still warm.
        let c = lanes.take().unwrap();
        assert_eq!(c.lane(), LaneKey(1));
        let held: Vec<_> = (0..100).map(|_| lanes.take().unwrap()).collect();
        let mut seen: BTreeSet<u16> = held.iter().map(|g| g.lane().0).collect();
        seen.extend([b.lane().0, c.lane().0]);
        assert_eq!(seen.len(), 102, "no lane handed out twice while in flight");
    }

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
}

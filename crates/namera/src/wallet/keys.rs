//! The keys of a wallet: who may sign, for which permission, on which chains.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, PoisonError},
};

use alloy_primitives::Address;

use super::WalletError;
use crate::{
    account::{OperationSigner, SessionKey, SessionKeySigner},
    permission::{Permission, PermissionSigner},
    policy::PolicyKind,
    session_key::{SerializedSessionKey, ValidityData},
};

/// A session key as handed to [`super::Wallet::connect`]: a name for people and agents,
/// the secret that signs, and the key in ZeroDev's serialized form, once per chain it was
/// approved on (each with its own owner approval).
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// How the key is called in answers (`"trading-bot"`).
    pub alias: String,
    /// What signs (a secp256k1 key or a passkey).
    pub secret: SessionKey,
    /// The serialized key, per chain (the private key, if it was inside, is taken out).
    pub parts: Vec<SerializedSessionKey>,
}

impl KeySpec {
    /// A key whose secret travels inside the serialized key (ZeroDev's format with its
    /// private key). The secret is moved into the signer and the decoded copy zeroized.
    pub fn from_serialized(
        alias: impl Into<String>,
        mut key: SerializedSessionKey,
    ) -> Result<Self, WalletError> {
        let alias = alias.into();
        let secret = key
            .private_key
            .take()
            .ok_or_else(|| WalletError::NoPrivateKey { alias: alias.clone() })?;
        let signer = alloy_signer_local::PrivateKeySigner::from_bytes(secret.expose())
            .map_err(|_| WalletError::BadPrivateKey { alias: alias.clone() })?;
        drop(secret);
        Ok(Self { alias, secret: SessionKey::Ecdsa(signer), parts: vec![key] })
    }
}

/// One key of the wallet: its alias, its permission (none for the owner, who may do
/// anything) and a signer per chain where it can act.
pub struct WalletKey {
    pub(super) alias: String,
    pub(super) permission: Option<Permission>,
    pub(super) validity: ValidityData,
    pub(super) signers: Vec<(u64, Arc<dyn OperationSigner>)>,
    /// Chains where it cannot act, and why (approval for another chain, …).
    pub(super) unusable: Vec<(u64, String)>,
    /// Chains where the chain said the owner revoked it: requests skip it there.
    revoked: Mutex<BTreeSet<u64>>,
}

impl std::fmt::Debug for WalletKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletKey")
            .field("alias", &self.alias)
            .field("permission", &self.permission)
            .field("chains", &self.signers.iter().map(|(c, _)| *c).collect::<Vec<_>>())
            .field("unusable", &self.unusable)
            .finish_non_exhaustive()
    }
}

impl WalletKey {
    /// A session key named `alias` acting through `signers` (chain id, signer), all for
    /// one permission.
    pub fn session(
        alias: impl Into<String>,
        validity: ValidityData,
        signers: Vec<(u64, SessionKeySigner)>,
    ) -> Result<Self, WalletError> {
        let alias = alias.into();
        let Some((_, first)) = signers.first() else { return Err(WalletError::NoChains) };
        let permission = first.permission().clone();
        if signers.iter().any(|(_, s)| s.permission() != &permission) {
            return Err(WalletError::MixedPermissions(alias));
        }
        let signers = signers
            .into_iter()
            .map(|(c, s)| (c, Arc::new(s) as Arc<dyn OperationSigner>))
            .collect();
        Ok(Self::with(alias, Some(permission), validity, signers, Vec::new()))
    }

    /// The owner (or any key with no permission to judge: it may do anything), acting
    /// through `signers` (chain id, signer). Chosen last, after every narrower key.
    pub fn owner(alias: impl Into<String>, signers: Vec<(u64, Arc<dyn OperationSigner>)>) -> Self {
        Self::with(alias.into(), None, ValidityData::default(), signers, Vec::new())
    }

    pub(super) fn with(
        alias: String,
        permission: Option<Permission>,
        validity: ValidityData,
        signers: Vec<(u64, Arc<dyn OperationSigner>)>,
        unusable: Vec<(u64, String)>,
    ) -> Self {
        Self { alias, permission, validity, signers, unusable, revoked: Mutex::default() }
    }

    /// Its name.
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// Its permission (signer and policies); `None` for the owner.
    pub const fn permission(&self) -> Option<&Permission> {
        self.permission.as_ref()
    }

    /// The validity window recorded with it.
    pub const fn validity(&self) -> ValidityData {
        self.validity
    }

    /// The session key's own address (`None` for a passkey or the owner).
    pub const fn key_address(&self) -> Option<Address> {
        match &self.permission {
            Some(Permission { signer: PermissionSigner::Ecdsa(key), .. }) => Some(*key),
            _ => None,
        }
    }

    /// Its signer on `chain_id`, if it can act there.
    pub fn signer(&self, chain_id: u64) -> Option<&Arc<dyn OperationSigner>> {
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
        if self.signers.iter().any(|(c, _)| *c == chain_id) {
            return None;
        }
        Some(
            self.unusable
                .iter()
                .find(|(c, _)| *c == chain_id)
                .map_or("no signer for this chain", |(_, r)| r.as_str()),
        )
    }

    pub(super) fn is_revoked_on(&self, chain_id: u64) -> bool {
        self.revoked.lock().unwrap_or_else(PoisonError::into_inner).contains(&chain_id)
    }

    pub(super) fn mark_revoked(&self, chain_id: u64) {
        self.revoked.lock().unwrap_or_else(PoisonError::into_inner).insert(chain_id);
    }

    /// Whether a key allows everything (the owner, or a sudo policy): chosen last, so
    /// that a request is signed by the narrowest key that allows it.
    pub(super) fn is_broad(&self) -> bool {
        self.permission
            .as_ref()
            .is_none_or(|p| p.policies.iter().any(|p| matches!(p.kind, PolicyKind::Sudo)))
    }

    pub(super) fn has_gas_policy(&self) -> bool {
        self.permission
            .as_ref()
            .is_some_and(|p| p.policies.iter().any(|p| matches!(p.kind, PolicyKind::Gas { .. })))
    }

    /// Whether its state can change under it (a permission: installed, revoked).
    pub(super) fn has_onchain_state(&self) -> bool {
        self.permission.is_some()
    }
}

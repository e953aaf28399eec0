//! The serialized session key: what one program hands another so it can act with a key.
//!
//! The format is ZeroDev's: standard base64 of UTF-8 JSON with big integers as decimal
//! strings. We write it byte for byte as the TypeScript SDK does (key order, address
//! casing), so a key made here works there and the other way round.

use alloy_primitives::{Address, B256, Bytes, FixedBytes, Signature};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value};
use zeroize::Zeroize;

use crate::{
    kernel::{
        AccountConfig, DecodedFactoryData, FactoryRoute, InvalidFactoryData, KernelVersion,
        PermissionId, RootValidator, abi::IKernel, factory_data_sdk_hex,
    },
    permission::{EnableRequest, MerkleTree, Permission, PermissionSigner, kernel_domain},
    policy::{Policy, PolicyError},
};
use alloy_sol_types::SolCall;

/// A session key's secp256k1 private key. Zeroed on drop and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionPrivateKey(B256);

impl SessionPrivateKey {
    /// Wrap 32 secret bytes.
    pub const fn new(secret: B256) -> Self {
        Self(secret)
    }

    /// The secret bytes. Callers decide where they go; nothing here logs them.
    pub const fn expose(&self) -> &B256 {
        &self.0
    }
}

impl std::fmt::Debug for SessionPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionPrivateKey(<redacted>)")
    }
}

impl Drop for SessionPrivateKey {
    fn drop(&mut self) {
        self.0.0.zeroize();
    }
}

/// The validity window the SDK records next to the permission (informational; the
/// timestamp policy is what the chain enforces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ValidityData {
    /// Start (0 = none).
    pub valid_after: u64,
    /// End (0 = none).
    pub valid_until: u64,
}

/// The account a key acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountParams {
    /// The account's `factoryData` (the SDK calls it `initCode`).
    pub factory_data: Bytes,
    /// The account.
    pub account_address: Address,
}

/// A session key in ZeroDev's interchange form.
///
/// ```
/// use namera::session_key::SerializedSessionKey;
/// let err = SerializedSessionKey::from_base64("not base64!").unwrap_err();
/// assert!(err.to_string().contains("base64"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializedSessionKey {
    /// The permission's policies, in order.
    pub policies: Vec<Policy>,
    /// The permission id the owner approved.
    pub permission_id: PermissionId,
    /// The selector and action contract the permission is granted (`execute`, none).
    pub action_selector: FixedBytes<4>,
    /// The action contract (zero: the account's own `execute`).
    pub action_address: Address,
    /// The recorded validity window.
    pub validity: ValidityData,
    /// The account.
    pub account: AccountParams,
    /// The owner's enable signature (absent when the permission is pre-installed).
    pub enable_signature: Option<Bytes>,
    /// The session key itself, when the key travels with its secret.
    pub private_key: Option<SessionPrivateKey>,
    /// Whether the permission was installed at account creation. `None` omits the field,
    /// as the SDK's multi-chain serializer does.
    pub is_pre_installed: Option<bool>,
}

/// A serialized key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SerializedKeyError {
    /// Not standard base64.
    #[error("serialized session key is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Not UTF-8.
    #[error("serialized session key is not UTF-8 text")]
    Utf8,
    /// Not the expected JSON.
    #[error("serialized session key JSON: {0}")]
    Json(String),
    /// A policy inside it is invalid.
    #[error("serialized session key policy {index}: {source}")]
    Policy {
        /// Which policy (0-based).
        index: usize,
        /// Why.
        source: PolicyError,
    },
    /// The account's factory data cannot be decoded.
    #[error("serialized session key account: {0}")]
    Account(#[from] InvalidFactoryData),
    /// The enable signature does not come from the account's owner.
    #[error("enable signature was made by {recovered}, not the account owner {owner}")]
    WrongSigner {
        /// Who signed.
        recovered: Address,
        /// The owner.
        owner: Address,
    },
    /// The enable signature is malformed or its Merkle proof fails.
    #[error("enable signature is invalid: {0}")]
    BadEnableSignature(String),
    /// The permission rebuilt from the key has another id than the one recorded.
    #[error("policies and signer give permission {computed}, but the key records {recorded}")]
    PermissionMismatch {
        /// Rebuilt.
        computed: PermissionId,
        /// Recorded.
        recorded: PermissionId,
    },
}

fn jerr(msg: impl Into<String>) -> SerializedKeyError {
    SerializedKeyError::Json(msg.into())
}

fn get<'a>(o: &'a Map<String, Value>, k: &str) -> Result<&'a Value, SerializedKeyError> {
    o.get(k).ok_or_else(|| jerr(format!("missing `{k}`")))
}

fn obj<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, SerializedKeyError> {
    v.as_object().ok_or_else(|| jerr(format!("`{what}` must be an object")))
}

fn hex_bytes(v: &Value, what: &str) -> Result<Bytes, SerializedKeyError> {
    let s = v.as_str().ok_or_else(|| jerr(format!("`{what}` must be a hex string")))?;
    s.parse().map_err(|e| jerr(format!("`{what}`: {e}")))
}

fn uint48(v: Option<&Value>, what: &str) -> Result<u64, SerializedKeyError> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(v) => {
            v.as_u64().ok_or_else(|| jerr(format!("`{what}` must be a non-negative integer")))
        }
    }
}

impl SerializedSessionKey {
    /// A key for `permission` on `account`, approved by `enable_signature` (or
    /// pre-installed when `None`), with the SDK's default action and no validity window.
    pub fn new(
        permission: &Permission,
        account: &AccountConfig,
        enable_signature: Option<Bytes>,
        private_key: Option<SessionPrivateKey>,
    ) -> Self {
        let (action_selector, action_address) = Self::default_action();
        Self {
            policies: permission.policies.clone(),
            permission_id: permission.id(),
            action_selector,
            action_address,
            validity: ValidityData::default(),
            account: AccountParams {
                factory_data: account.factory_data(),
                account_address: account.address(),
            },
            is_pre_installed: Some(enable_signature.is_none()),
            enable_signature,
            private_key,
        }
    }

    /// The JSON text, byte for byte as the SDK writes it.
    pub fn to_json_string(&self) -> String {
        let mut root = Map::new();
        let policies: Vec<Value> = self
            .policies
            .iter()
            .map(|p| {
                let mut m = Map::new();
                m.insert("policyParams".into(), p.to_json());
                Value::Object(m)
            })
            .collect();
        let mut pp = Map::new();
        pp.insert("policies".into(), policies.into());
        pp.insert("permissionId".into(), self.permission_id.to_string().into());
        root.insert("permissionParams".into(), pp.into());
        let mut action = Map::new();
        action.insert("selector".into(), self.action_selector.to_string().into());
        action.insert("address".into(), self.action_address.to_checksum(None).into());
        root.insert("action".into(), action.into());
        let mut validity = Map::new();
        validity.insert("validAfter".into(), self.validity.valid_after.into());
        validity.insert("validUntil".into(), self.validity.valid_until.into());
        root.insert("validityData".into(), validity.into());
        let mut account = Map::new();
        account.insert("initCode".into(), factory_data_sdk_hex(&self.account.factory_data).into());
        account
            .insert("accountAddress".into(), self.account.account_address.to_checksum(None).into());
        root.insert("accountParams".into(), account.into());
        if let Some(sig) = &self.enable_signature {
            root.insert("enableSignature".into(), sig.to_string().into());
        }
        if let Some(pk) = &self.private_key {
            root.insert("privateKey".into(), pk.expose().to_string().into());
        }
        if let Some(pre) = self.is_pre_installed {
            root.insert("isPreInstalled".into(), pre.into());
        }
        // Serializing a Value tree cannot fail.
        serde_json::to_string(&Value::Object(root)).expect("JSON value")
    }

    /// The base64 string, as the SDK writes it.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.to_json_string())
    }

    /// Read a serialized key.
    ///
    /// The decoded text may hold the private key: it is zeroized before this returns.
    pub fn from_base64(s: &str) -> Result<Self, SerializedKeyError> {
        let raw = zeroize::Zeroizing::new(STANDARD.decode(s.trim())?);
        let text = std::str::from_utf8(&raw).map_err(|_| SerializedKeyError::Utf8)?;
        Self::from_json_str(text)
    }

    /// Read the JSON form.
    ///
    /// The parsed copy of the private key (if any) is zeroized before this returns; the
    /// key itself lives on only in the returned [`SessionPrivateKey`].
    pub fn from_json_str(text: &str) -> Result<Self, SerializedKeyError> {
        let mut v: Value = serde_json::from_str(text).map_err(|e| jerr(e.to_string()))?;
        let read = Self::from_json_value(&v);
        if let Some(Value::String(secret)) = v.get_mut("privateKey") {
            secret.zeroize();
        }
        read
    }

    fn from_json_value(v: &Value) -> Result<Self, SerializedKeyError> {
        let root = obj(v, "session key")?;
        if root.contains_key("eip7702Auth") {
            return Err(jerr("EIP-7702 session keys are not supported"));
        }
        let pp = obj(get(root, "permissionParams")?, "permissionParams")?;
        let policies = get(pp, "policies")?
            .as_array()
            .ok_or_else(|| jerr("`policies` must be an array"))?
            .iter()
            .enumerate()
            .map(|(index, p)| {
                let params = p
                    .get("policyParams")
                    .ok_or_else(|| jerr(format!("policy {index} has no `policyParams`")))?;
                Policy::from_json(params)
                    .map_err(|source| SerializedKeyError::Policy { index, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let permission_id = get(pp, "permissionId")?
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| jerr("`permissionId` must be 4 bytes of hex"))?;
        let action = obj(get(root, "action")?, "action")?;
        let action_selector = get(action, "selector")?
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| jerr("`action.selector` must be 4 bytes of hex"))?;
        let action_address = get(action, "address")?
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| jerr("`action.address` must be an address"))?;
        let validity = match root.get("validityData") {
            None | Some(Value::Null) => ValidityData::default(),
            Some(v) => {
                let o = obj(v, "validityData")?;
                ValidityData {
                    valid_after: uint48(o.get("validAfter"), "validAfter")?,
                    valid_until: uint48(o.get("validUntil"), "validUntil")?,
                }
            }
        };
        let ap = obj(get(root, "accountParams")?, "accountParams")?;
        let account = AccountParams {
            factory_data: hex_bytes(get(ap, "initCode")?, "initCode")?,
            account_address: get(ap, "accountAddress")?
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| jerr("`accountAddress` must be an address"))?,
        };
        let enable_signature = match root.get("enableSignature") {
            None | Some(Value::Null) => None,
            Some(v) => Some(hex_bytes(v, "enableSignature")?),
        };
        let private_key = match root.get("privateKey") {
            None | Some(Value::Null) => None,
            Some(v) => Some(SessionPrivateKey(
                v.as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| jerr("`privateKey` must be 32 bytes of hex"))?,
            )),
        };
        let is_pre_installed = match root.get("isPreInstalled") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(jerr("`isPreInstalled` must be a boolean")),
        };
        Ok(Self {
            policies,
            permission_id,
            action_selector,
            action_address,
            validity,
            account,
            enable_signature,
            private_key,
            is_pre_installed,
        })
    }

    /// The default action: the account's own `execute`, no action contract.
    pub const fn default_action() -> (FixedBytes<4>, Address) {
        (FixedBytes(IKernel::executeCall::SELECTOR), Address::ZERO)
    }

    /// The account's configuration, decoded from its factory data.
    ///
    /// The direct `createAccount` route does not name the Kernel version, so the version
    /// is the one whose counterfactual address is the recorded account address; with the
    /// meta factory the named KernelFactory decides, and the address must agree too.
    pub fn account_config(&self) -> Result<AccountConfig, SerializedKeyError> {
        let decoded =
            DecodedFactoryData::decode(&self.account.factory_data, KernelVersion::default())?;
        let root = decoded.root_validator()?;
        let candidates: Vec<KernelVersion> = match decoded.route {
            FactoryRoute::MetaFactory => {
                AccountConfig::version_of_factory(decoded.kernel_factory).into_iter().collect()
            }
            FactoryRoute::Direct => KernelVersion::ALL.to_vec(),
        };
        candidates
            .into_iter()
            .map(|version| AccountConfig {
                version,
                root: root.clone(),
                index: decoded.index,
                route: decoded.route,
            })
            .find(|c| c.address() == self.account.account_address)
            .ok_or_else(|| {
                InvalidFactoryData(format!(
                    "factory data (KernelFactory {}) does not derive the recorded account {}",
                    decoded.kernel_factory, self.account.account_address
                ))
                .into()
            })
    }

    /// The permission for `signer`, checked against the recorded permission id.
    pub fn permission(&self, signer: PermissionSigner) -> Result<Permission, SerializedKeyError> {
        let permission = Permission {
            signer,
            policies: self.policies.clone(),
            flag: crate::policy::PolicyFlag::ALL,
        };
        let computed = permission.id();
        if computed != self.permission_id {
            return Err(SerializedKeyError::PermissionMismatch {
                computed,
                recorded: self.permission_id,
            });
        }
        Ok(permission)
    }

    /// Check the enable signature: it must come from the account's owner, for this
    /// permission, on `chain_id` with the account at `kernel_nonce`. Returns the owner.
    ///
    /// A multi-chain signature (`sig ‖ root ‖ proof`) is checked by its Merkle proof
    /// and the owner's EIP-191 signature over the root.
    pub fn verify_enable_signature(
        &self,
        signer: PermissionSigner,
        chain_id: u64,
        kernel_nonce: u32,
    ) -> Result<Address, SerializedKeyError> {
        let config = self.account_config()?;
        let permission = self.permission(signer)?;
        let sig = self
            .enable_signature
            .as_ref()
            .ok_or_else(|| SerializedKeyError::BadEnableSignature("the key carries none".into()))?;
        let domain = kernel_domain(config.version, chain_id, self.account.account_address);
        let digest = EnableRequest::for_permission(&permission, kernel_nonce).digest(&domain);
        let parse = |b: &[u8]| {
            Signature::from_raw(b)
                .map_err(|e| SerializedKeyError::BadEnableSignature(e.to_string()))
        };
        let recovered = match (&config.root, sig.len()) {
            (_, 65) => parse(sig)?.recover_address_from_prehash(&digest),
            (RootValidator::MultiChainEcdsa { .. }, n) if n > 97 => {
                let root = B256::from_slice(&sig[65..97]);
                let proof = <Vec<B256> as alloy_sol_types::SolValue>::abi_decode(&sig[97..])
                    .map_err(|e| SerializedKeyError::BadEnableSignature(format!("proof: {e}")))?;
                if !MerkleTree::verify(digest, &proof, root) {
                    return Err(SerializedKeyError::BadEnableSignature(format!(
                        "Merkle proof does not lead from this chain's enable digest to root {root}"
                    )));
                }
                parse(&sig[..65])?.recover_address_from_msg(root.as_slice())
            }
            (_, n) => {
                return Err(SerializedKeyError::BadEnableSignature(format!(
                    "unexpected length {n} for a {} root validator",
                    if config.root.is_multi_chain() { "multi-chain" } else { "single-chain" }
                )));
            }
        }
        .map_err(|e| SerializedKeyError::BadEnableSignature(e.to_string()))?;
        let owner = config.root.owner().ok_or_else(|| {
            SerializedKeyError::BadEnableSignature(
                "a WebAuthn owner's approval is an assertion, not an ECDSA signature".into(),
            )
        })?;
        if recovered != owner {
            return Err(SerializedKeyError::WrongSigner { recovered, owner });
        }
        Ok(owner)
    }
}

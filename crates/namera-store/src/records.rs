//! The records the store keeps, and their JSON.
//!
//! The JSON is a stable, documented format: other tools (and future versions) read it.
//! Conventions:
//!
//! - every record starts with `"version": 1` ([`Version1`]); a file with another version
//!   is refused rather than half-understood;
//! - field names are `snake_case`;
//! - addresses are EIP-55 checksummed hex (`0x…`); on read any case is accepted, but a
//!   mixed-case address must have a valid checksum (mixed case *is* a checksum claim);
//! - 256-bit integers are decimal strings (`"0"`, `"115792…"`), which survive JavaScript's
//!   number parsing;
//! - times are unix seconds (JSON numbers);
//! - secrets are never stored in the clear: private keys sit in a Web3 Secret Storage
//!   `crypto` object ([`KeystoreCrypto`]).

use alloy_primitives::{Address, FixedBytes, U256};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Alias;
use crate::keystore::KeystoreCrypto;

/// The record format version: serializes as the number 1 and refuses anything else.
///
/// ```
/// use namera_store::records::Version1;
///
/// assert_eq!(serde_json::to_string(&Version1).unwrap(), "1");
/// let err = serde_json::from_str::<Version1>("2").unwrap_err();
/// assert_eq!(err.to_string(), "unsupported record version 2; this build reads version 1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Version1;

impl Serialize for Version1 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(1)
    }
}

impl<'de> Deserialize<'de> for Version1 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u64::deserialize(d)? {
            1 => Ok(Self),
            v => Err(serde::de::Error::custom(format!(
                "unsupported record version {v}; this build reads version 1"
            ))),
        }
    }
}

/// Serde for [`Address`] as EIP-55 checksummed hex.
pub mod checksummed {
    use super::*;

    /// Writes the checksummed form.
    pub fn serialize<S: Serializer>(address: &Address, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&address.to_checksum(None))
    }

    /// Reads `0x`-prefixed hex; mixed case must carry a valid checksum.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }

    pub(super) fn parse(s: &str) -> Result<Address, String> {
        let hex =
            s.strip_prefix("0x").ok_or_else(|| format!("address {s:?} lacks the 0x prefix"))?;
        let mixed = hex.chars().any(|c| c.is_ascii_lowercase())
            && hex.chars().any(|c| c.is_ascii_uppercase());
        if mixed {
            Address::parse_checksummed(s, None)
                .map_err(|e| format!("address {s:?} has a wrong checksum: {e}"))
        } else {
            s.parse().map_err(|e| format!("invalid address {s:?}: {e}"))
        }
    }
}

/// Serde for [`U256`] as a decimal string.
pub mod decimal_u256 {
    use super::*;

    /// Writes the decimal string.
    pub fn serialize<S: Serializer>(value: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    /// Reads a decimal string (digits only, no sign, no `0x`).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(serde::de::Error::custom(format!(
                "expected a decimal integer string, got {s:?}"
            )));
        }
        U256::from_str_radix(&s, 10)
            .map_err(|e| serde::de::Error::custom(format!("{s:?} is not a 256-bit integer: {e}")))
    }
}

/// Who owns (is the root validator of) a smart account.
///
/// JSON: `{"kind": "keystore", "alias": "owner", "address": "0x…"}` or
/// `{"kind": "passkey", "alias": "laptop"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OwnerRef {
    /// An ECDSA key in `keystores/<alias>.json`.
    Keystore {
        /// The keystore's alias.
        alias: Alias,
        /// The key's address, kept so the account can be shown without unlocking it.
        #[serde(with = "checksummed")]
        address: Address,
    },
    /// A WebAuthn key in `passkeys/<alias>.json`.
    Passkey {
        /// The passkey's alias.
        alias: Alias,
    },
    /// An owner whose key is not in this home: the account was recorded because a
    /// session key for it was imported (an agent's machine holds no owner key).
    External {
        /// The owner's address.
        #[serde(with = "checksummed")]
        address: Address,
    },
}

/// Which validator is a smart account's root (its owner's validator).
///
/// Accounts made here are rooted in the multi-chain ECDSA validator (one owner signature
/// approves a session key on every chain) or the WebAuthn validator (a passkey owner).
/// ZeroDev's SDK roots accounts in the plain ECDSA validator by default, so an account
/// recorded from one of its serialized keys says so: the root is part of the account's
/// address and of every owner signature, and cannot be guessed from the owner alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootValidatorKind {
    /// ZeroDev's ECDSA validator (0x845A…CE57).
    Ecdsa,
    /// ZeroDev's multi-chain ECDSA validator (0x5C97…4f5F).
    MultiChainEcdsa,
    /// The WebAuthn (passkey) validator.
    WebAuthn,
}

/// A Kernel v3 smart account this home knows about.
///
/// ```
/// use namera_store::{Alias, records::{OwnerRef, SmartAccountRecord}};
/// use alloy_primitives::{U256, address};
///
/// let record = SmartAccountRecord::new(
///     address!("0x52908400098527886e0f7030069857d2e4169ee7"),
///     OwnerRef::Passkey { alias: Alias::parse("laptop")? },
///     U256::from(7),
///     vec!["sepolia".into()],
///     1_700_000_000,
/// );
/// let json = serde_json::to_value(&record)?;
/// assert_eq!(json, serde_json::json!({
///     "version": 1,
///     "address": "0x52908400098527886E0F7030069857D2E4169EE7",
///     "owner": {"kind": "passkey", "alias": "laptop"},
///     "index": "7",
///     "kernel_version": "0.3.1",
///     "chains": ["sepolia"],
///     "created_at": 1700000000u64,
/// }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmartAccountRecord {
    /// Always 1.
    pub version: Version1,
    /// The account's (counterfactual) address.
    #[serde(with = "checksummed")]
    pub address: Address,
    /// Its owner.
    pub owner: OwnerRef,
    /// The factory salt index it was derived with.
    #[serde(with = "decimal_u256")]
    pub index: U256,
    /// Kernel version, e.g. `"0.3.1"`.
    pub kernel_version: String,
    /// Chain aliases the account is used on.
    pub chains: Vec<String>,
    /// When the record was made (unix seconds).
    pub created_at: u64,
    /// The root validator, when it is not the one the owner implies (see
    /// [`SmartAccountRecord::root_validator`]); absent in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_validator: Option<RootValidatorKind>,
}

impl SmartAccountRecord {
    /// The Kernel version accounts are created with.
    pub const KERNEL_VERSION: &'static str = "0.3.1";

    /// A record for a Kernel [`KERNEL_VERSION`](Self::KERNEL_VERSION) account.
    pub fn new(
        address: Address,
        owner: OwnerRef,
        index: U256,
        chains: Vec<String>,
        created_at: u64,
    ) -> Self {
        Self {
            version: Version1,
            address,
            owner,
            index,
            kernel_version: Self::KERNEL_VERSION.to_owned(),
            chains,
            created_at,
            root_validator: None,
        }
    }

    /// The account's root validator: the recorded one, else what the owner implies (a key
    /// owner is multi-chain ECDSA, a passkey owner WebAuthn), which is how this home makes
    /// accounts.
    ///
    /// ```
    /// use namera_store::{Alias, records::{OwnerRef, RootValidatorKind, SmartAccountRecord}};
    /// use alloy_primitives::{U256, address};
    ///
    /// let owner = OwnerRef::External { address: address!("0x4b7a2a0d0e46bf7f7507c77989d28a0a37cfe032") };
    /// let mut record = SmartAccountRecord::new(Default::default(), owner, U256::ZERO, vec![], 0);
    /// assert_eq!(record.root_validator(), RootValidatorKind::MultiChainEcdsa);
    /// record.root_validator = Some(RootValidatorKind::Ecdsa);
    /// assert_eq!(record.root_validator(), RootValidatorKind::Ecdsa);
    /// ```
    pub fn root_validator(&self) -> RootValidatorKind {
        self.root_validator.unwrap_or(match self.owner {
            OwnerRef::Passkey { .. } => RootValidatorKind::WebAuthn,
            OwnerRef::Keystore { .. } | OwnerRef::External { .. } => {
                RootValidatorKind::MultiChainEcdsa
            }
        })
    }
}

/// What signs for a session key.
///
/// JSON: `{"kind": "ecdsa"}` (a secp256k1 key encrypted in the record) or
/// `{"kind": "passkey", "alias": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SignerRef {
    /// An ECDSA session key whose private key is in the record's `crypto`.
    Ecdsa,
    /// A WebAuthn key in `passkeys/<alias>.json`.
    Passkey {
        /// The passkey's alias.
        alias: Alias,
    },
}

/// One chain a session key was issued on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionKeyChain {
    /// Chain alias, e.g. `"base-sepolia"`.
    pub chain: String,
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// ZeroDev's base64 serialized permission account for this chain, *without* the
    /// private key (that is in the record's `crypto`, encrypted).
    pub serialized: String,
    /// The account's kernel nonce the owner's approval was signed at: the enabling
    /// operation must present it, and the serialized form does not carry it.
    pub kernel_nonce: u32,
}

/// A session key: scoped, policy-bound access to a smart account.
///
/// `permission_id` is the 4-byte Kernel permission id as `0x`-prefixed hex (the same JSON
/// as `namera::kernel::PermissionId`). `policies` is the `policyParams` array exactly as
/// the SDK writes it; the store does not interpret it.
///
/// ```
/// use namera_store::{Alias, records::{SessionKeyRecord, SignerRef}};
/// use namera_store::keystore::{KdfStrength, KeystoreCrypto};
/// use alloy_primitives::{address, fixed_bytes};
///
/// let session_secret = [0x33; 32];
/// let record = SessionKeyRecord {
///     version: Default::default(),
///     smart_account: Alias::parse("main")?,
///     account: address!("0x1111111111111111111111111111111111111111"),
///     key_address: address!("0x2222222222222222222222222222222222222222"),
///     signer: SignerRef::Ecdsa,
///     crypto: Some(KeystoreCrypto::encrypt(&session_secret, b"pw", KdfStrength::Light)?),
///     permission_id: fixed_bytes!("0xab65750b"),
///     policies: serde_json::json!([]),
///     chains: vec![],
///     valid_after: 0,
///     valid_until: 1_900_000_000,
///     created_at: 1_700_000_000,
///     label: None,
/// };
/// let json = serde_json::to_value(&record)?;
/// assert_eq!(json["permission_id"], "0xab65750b");
/// assert_eq!(json["signer"], serde_json::json!({"kind": "ecdsa"}));
/// let back: SessionKeyRecord = serde_json::from_value(json)?;
/// assert_eq!(back.crypto.unwrap().decrypt(b"pw")?.as_slice(), &session_secret);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionKeyRecord {
    /// Always 1.
    pub version: Version1,
    /// Alias of the smart account (in `smart-accounts/`) the key acts for.
    pub smart_account: Alias,
    /// That account's address (kept so the record stands on its own).
    #[serde(with = "checksummed")]
    pub account: Address,
    /// The session key's signer address (for a passkey signer, its validator address).
    #[serde(with = "checksummed")]
    pub key_address: Address,
    /// What signs.
    pub signer: SignerRef,
    /// The session private key, encrypted with the session-key password; `None` (JSON
    /// `null`) for passkey signers.
    pub crypto: Option<KeystoreCrypto>,
    /// The Kernel permission id (4 bytes, `0x` hex).
    pub permission_id: FixedBytes<4>,
    /// The policies, as the SDK's `policyParams` JSON array.
    pub policies: serde_json::Value,
    /// Per-chain serialized permission accounts.
    pub chains: Vec<SessionKeyChain>,
    /// Not valid before (unix seconds).
    pub valid_after: u64,
    /// Not valid after (unix seconds).
    pub valid_until: u64,
    /// When the record was made (unix seconds).
    pub created_at: u64,
    /// A free-form note for humans.
    #[serde(default)]
    pub label: Option<String>,
}

/// Where a passkey's private key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authenticator {
    /// A P-256 key generated by namera and kept encrypted in the record (`crypto`).
    Software,
    /// A platform or roaming authenticator reached through a browser; the key never
    /// leaves it.
    Browser,
}

/// A WebAuthn (P-256) credential.
///
/// JSON: `{"version": 1, "credential_id": "<base64url>", "public_key_x": "<decimal>",
/// "public_key_y": "<decimal>", "rp_id": "…", "authenticator": "software" | "browser",
/// "crypto": {…} | null, "created_at": …}`.
///
/// ```
/// use namera_store::records::{Authenticator, PasskeyRecord};
/// use alloy_primitives::U256;
///
/// let json = serde_json::json!({
///     "version": 1, "credential_id": "AQID", "public_key_x": "1", "public_key_y": "2",
///     "rp_id": "localhost", "authenticator": "browser", "crypto": null, "created_at": 5
/// });
/// let record: PasskeyRecord = serde_json::from_value(json.clone())?;
/// assert_eq!(record.authenticator, Authenticator::Browser);
/// assert_eq!(record.public_key_y, U256::from(2));
/// assert_eq!(serde_json::to_value(&record)?, json);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRecord {
    /// Always 1.
    pub version: Version1,
    /// The WebAuthn credential id, base64url without padding.
    pub credential_id: String,
    /// Public key x coordinate.
    #[serde(with = "decimal_u256")]
    pub public_key_x: U256,
    /// Public key y coordinate.
    #[serde(with = "decimal_u256")]
    pub public_key_y: U256,
    /// The WebAuthn relying-party id.
    pub rp_id: String,
    /// Where the private key lives.
    pub authenticator: Authenticator,
    /// For [`Authenticator::Software`]: the P-256 secret, encrypted. `None` otherwise.
    pub crypto: Option<KeystoreCrypto>,
    /// When the record was made (unix seconds).
    pub created_at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;
    use serde_json::json;

    #[test]
    fn checksummed_addresses() {
        let a = address!("0x52908400098527886e0f7030069857d2e4169ee7");
        assert_eq!(checksummed::parse("0x52908400098527886e0f7030069857d2e4169ee7"), Ok(a));
        assert_eq!(checksummed::parse("0x52908400098527886E0F7030069857D2E4169EE7"), Ok(a));
        assert!(
            checksummed::parse("0x52908400098527886E0F7030069857D2E4169Ee7")
                .unwrap_err()
                .contains("wrong checksum")
        );
        assert!(
            checksummed::parse("52908400098527886e0f7030069857d2e4169ee7")
                .unwrap_err()
                .contains("0x prefix")
        );
    }

    #[test]
    fn decimal_u256_round_trip_and_refusals() {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct W(#[serde(with = "decimal_u256")] U256);
        assert_eq!(serde_json::to_string(&W(U256::MAX)).unwrap(), format!("\"{}\"", U256::MAX));
        assert_eq!(serde_json::from_str::<W>(&format!("\"{}\"", U256::MAX)).unwrap(), W(U256::MAX));
        for bad in ["\"0x10\"", "\"-1\"", "\"\"", "\"1e3\"", "12"] {
            assert!(serde_json::from_str::<W>(bad).is_err(), "{bad}");
        }
        let too_big =
            "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"";
        assert!(
            serde_json::from_str::<W>(too_big)
                .unwrap_err()
                .to_string()
                .contains("not a 256-bit integer")
        );
    }

    #[test]
    fn owner_ref_json() {
        let owner = OwnerRef::Keystore {
            alias: Alias::parse("owner").unwrap(),
            address: address!("0x52908400098527886e0f7030069857d2e4169ee7"),
        };
        assert_eq!(
            serde_json::to_value(&owner).unwrap(),
            json!({"kind": "keystore", "alias": "owner", "address": "0x52908400098527886E0F7030069857D2E4169EE7"})
        );
        let err = serde_json::from_value::<OwnerRef>(json!({"kind": "ledger", "alias": "x"}))
            .unwrap_err();
        assert!(err.to_string().contains("unknown variant `ledger`"), "{err}");
        let err =
            serde_json::from_value::<OwnerRef>(json!({"kind": "passkey", "alias": "bad alias"}))
                .unwrap_err();
        assert!(err.to_string().contains("' '"), "{err}");
    }

    #[test]
    fn signer_ref_json() {
        assert_eq!(serde_json::to_value(SignerRef::Ecdsa).unwrap(), json!({"kind": "ecdsa"}));
        assert_eq!(
            serde_json::from_value::<SignerRef>(json!({"kind": "passkey", "alias": "yubi"}))
                .unwrap(),
            SignerRef::Passkey { alias: Alias::parse("yubi").unwrap() }
        );
    }

    #[test]
    fn refuses_other_versions() {
        let mut json = serde_json::to_value(SmartAccountRecord::new(
            Address::ZERO,
            OwnerRef::Passkey { alias: Alias::parse("p").unwrap() },
            U256::ZERO,
            vec![],
            0,
        ))
        .unwrap();
        json["version"] = json!(2);
        let err = serde_json::from_value::<SmartAccountRecord>(json).unwrap_err();
        assert_eq!(err.to_string(), "unsupported record version 2; this build reads version 1");
    }
}

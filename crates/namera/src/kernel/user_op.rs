//! EntryPoint v0.7 UserOperations: the typed form, the packed on-chain form, the JSON
//! form bundlers take, and the hash every signature covers.

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::SolValue;
use serde::{Deserialize, Serialize};

use super::{abi::PackedUserOperation, addresses::ENTRY_POINT_V07};

/// A v0.7 UserOperation with its fields unpacked, as bundlers exchange it over JSON-RPC.
///
/// Serde gives the bundler form: camelCase keys, hex quantities, and `factory*` /
/// `paymaster*` keys only when set.
///
/// ```
/// use alloy_primitives::{address, U256};
/// use namera::kernel::UserOperation;
/// let op = UserOperation {
///     sender: address!("0x3fb1598bccf6ba7a7fc801db3c8f5846f62f0270"),
///     ..Default::default()
/// };
/// assert_eq!(
///     op.hash(namera::kernel::addresses::ENTRY_POINT_V07, 1).to_string(),
///     "0x34762156e414e7c4d9d931ada69084c10c142f3e5d5cc5284ae5ead6b09309c5",
/// );
/// let json = serde_json::to_value(&op)?;
/// assert_eq!(json["callGasLimit"], "0x0");
/// assert!(json.get("factory").is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOperation {
    /// The smart account.
    pub sender: Address,
    /// `key << 64 | sequence`.
    pub nonce: U256,
    /// The factory for an undeployed account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factory: Option<Address>,
    /// The factory call data (empty without a factory).
    #[serde(default, skip_serializing_if = "<[u8]>::is_empty")]
    pub factory_data: Bytes,
    /// What the account executes.
    pub call_data: Bytes,
    /// Gas for the execution phase.
    #[serde(with = "quantity")]
    pub call_gas_limit: u128,
    /// Gas for the validation phase (including deployment).
    #[serde(with = "quantity")]
    pub verification_gas_limit: u128,
    /// Gas the bundler charges for calldata and overhead.
    pub pre_verification_gas: U256,
    /// EIP-1559 max fee per gas.
    #[serde(with = "quantity")]
    pub max_fee_per_gas: u128,
    /// EIP-1559 max priority fee per gas.
    #[serde(with = "quantity")]
    pub max_priority_fee_per_gas: u128,
    /// The paymaster and its limits, when one sponsors the operation.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub paymaster: Option<Paymaster>,
    /// The account's signature; not covered by the hash.
    pub signature: Bytes,
}

/// A paymaster's part of a UserOperation (ERC-7677 answers fill these fields).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paymaster {
    /// The paymaster contract.
    pub paymaster: Address,
    /// Gas for the paymaster's validation.
    #[serde(with = "quantity")]
    pub paymaster_verification_gas_limit: u128,
    /// Gas for the paymaster's postOp.
    #[serde(with = "quantity")]
    pub paymaster_post_op_gas_limit: u128,
    /// Paymaster-specific data.
    #[serde(default)]
    pub paymaster_data: Bytes,
}

impl UserOperation {
    /// `factory ‖ factoryData`, or empty for a deployed account.
    pub fn init_code(&self) -> Bytes {
        match self.factory {
            Some(f) => [f.as_slice(), &self.factory_data].concat().into(),
            None => Bytes::new(),
        }
    }

    /// `paymaster ‖ verificationGas(16) ‖ postOpGas(16) ‖ data`, or empty.
    pub fn paymaster_and_data(&self) -> Bytes {
        match &self.paymaster {
            Some(p) => {
                let mut out = p.paymaster.to_vec();
                out.extend_from_slice(&p.paymaster_verification_gas_limit.to_be_bytes());
                out.extend_from_slice(&p.paymaster_post_op_gas_limit.to_be_bytes());
                out.extend_from_slice(&p.paymaster_data);
                out.into()
            }
            None => Bytes::new(),
        }
    }

    /// The packed form the EntryPoint takes on chain.
    pub fn pack(&self) -> PackedUserOperation {
        PackedUserOperation {
            sender: self.sender,
            nonce: self.nonce,
            initCode: self.init_code(),
            callData: self.call_data.clone(),
            accountGasLimits: pack_u128s(self.verification_gas_limit, self.call_gas_limit),
            preVerificationGas: self.pre_verification_gas,
            gasFees: pack_u128s(self.max_priority_fee_per_gas, self.max_fee_per_gas),
            paymasterAndData: self.paymaster_and_data(),
            signature: self.signature.clone(),
        }
    }

    /// Unpack the on-chain form (the inverse of [`Self::pack`]).
    pub fn unpack(p: &PackedUserOperation) -> Result<Self, UnpackError> {
        let (factory, factory_data) = match p.initCode.len() {
            0 => (None, Bytes::new()),
            n if n < 20 => return Err(UnpackError::InitCode(n)),
            _ => (Some(Address::from_slice(&p.initCode[..20])), p.initCode.slice(20..)),
        };
        let paymaster = match p.paymasterAndData.len() {
            0 => None,
            n if n < 52 => return Err(UnpackError::PaymasterAndData(n)),
            _ => {
                let d = &p.paymasterAndData;
                Some(Paymaster {
                    paymaster: Address::from_slice(&d[..20]),
                    paymaster_verification_gas_limit: high_u128(&d[20..36]),
                    paymaster_post_op_gas_limit: high_u128(&d[36..52]),
                    paymaster_data: d.slice(52..),
                })
            }
        };
        Ok(Self {
            sender: p.sender,
            nonce: p.nonce,
            factory,
            factory_data,
            call_data: p.callData.clone(),
            verification_gas_limit: high_u128(&p.accountGasLimits[..16]),
            call_gas_limit: high_u128(&p.accountGasLimits[16..]),
            pre_verification_gas: p.preVerificationGas,
            max_priority_fee_per_gas: high_u128(&p.gasFees[..16]),
            max_fee_per_gas: high_u128(&p.gasFees[16..]),
            paymaster,
            signature: p.signature.clone(),
        })
    }

    /// The UserOperation hash for `entry_point` on `chain_id`; the signature is excluded.
    pub fn hash(&self, entry_point: Address, chain_id: u64) -> B256 {
        let inner = (
            self.sender,
            self.nonce,
            keccak256(self.init_code()),
            keccak256(&self.call_data),
            pack_u128s(self.verification_gas_limit, self.call_gas_limit),
            self.pre_verification_gas,
            pack_u128s(self.max_priority_fee_per_gas, self.max_fee_per_gas),
            keccak256(self.paymaster_and_data()),
        )
            .abi_encode_params();
        keccak256((keccak256(inner), entry_point, U256::from(chain_id)).abi_encode_params())
    }

    /// The hash against EntryPoint v0.7.
    pub fn hash_v07(&self, chain_id: u64) -> B256 {
        self.hash(ENTRY_POINT_V07, chain_id)
    }

    /// The most this operation can cost its payer, in wei:
    /// `(preVerificationGas + verificationGasLimit + callGasLimit) × maxFeePerGas`.
    ///
    /// This is the figure the GasPolicy charges against its allowance (paymaster gas
    /// limits are not counted there).
    pub fn max_cost(&self) -> U256 {
        (self.pre_verification_gas
            + U256::from(self.verification_gas_limit)
            + U256::from(self.call_gas_limit))
            * U256::from(self.max_fee_per_gas)
    }
}

fn high_u128(b: &[u8]) -> u128 {
    let mut a = [0u8; 16];
    a.copy_from_slice(b);
    u128::from_be_bytes(a)
}

/// A packed UserOperation whose variable-length fields are too short to unpack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnpackError {
    /// initCode must be empty or start with a 20-byte factory.
    #[error("initCode of {0} bytes: must be empty or at least 20 (factory address)")]
    InitCode(usize),
    /// paymasterAndData must be empty or hold address and both gas limits.
    #[error("paymasterAndData of {0} bytes: must be empty or at least 52")]
    PaymasterAndData(usize),
}

fn pack_u128s(high: u128, low: u128) -> B256 {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(&high.to_be_bytes());
    out[16..].copy_from_slice(&low.to_be_bytes());
    B256::from(out)
}

/// Hex quantities (`"0x1a"`) for `u128` fields, as JSON-RPC writes them.
pub(crate) mod quantity {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:#x}"))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let s = String::deserialize(d)?;
        let digits = s
            .strip_prefix("0x")
            .ok_or_else(|| D::Error::custom(format!("quantity {s:?} must start with 0x")))?;
        u128::from_str_radix(digits, 16)
            .map_err(|e| D::Error::custom(format!("quantity {s:?}: {e}")))
    }
}

//! The owner's approval of a new validation: Kernel's EIP-712 `Enable` struct.

use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::{Eip712Domain, SolStruct, SolValue, eip712_domain};

use super::Permission;
use crate::kernel::{
    KernelVersion, ValidationId,
    abi::{Enable, IKernel, Kernel},
};
use alloy_sol_types::SolCall;

/// The EIP-712 domain of an account: name "Kernel", the Kernel version, chain and account.
pub fn kernel_domain(version: KernelVersion, chain_id: u64, account: Address) -> Eip712Domain {
    eip712_domain! {
        name: "Kernel",
        version: version.as_str(),
        chain_id: chain_id,
        verifying_contract: account,
    }
}

/// `selectorData` as ZeroDev's SDK writes it: grant the validation `execute`, with no
/// action contract and no hook:
/// `execute selector ‖ 0(20) ‖ 0(20) ‖ abi.encode(bytes 0xff, bytes 0x0000)`.
pub fn selector_data() -> Bytes {
    let mut out = IKernel::executeCall::SELECTOR.to_vec();
    out.extend_from_slice(&[0u8; 40]);
    out.extend(
        (Bytes::from_static(&[0xff]), Bytes::from_static(&[0x00, 0x00])).abi_encode_params(),
    );
    out.into()
}

/// Everything the owner approves when enabling a validation on one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnableRequest {
    /// The validation being enabled.
    pub validation_id: ValidationId,
    /// The account's `currentNonce()` (1 for an undeployed account).
    pub nonce: u32,
    /// The validation's hook (zero for none).
    pub hook: Address,
    /// Install data for the validation.
    pub validator_data: Bytes,
    /// Install data for the hook.
    pub hook_data: Bytes,
    /// Which selectors it may call; [`selector_data`].
    pub selector_data: Bytes,
}

impl EnableRequest {
    /// The request that enables `permission` with the account at `kernel_nonce`.
    pub fn for_permission(permission: &Permission, kernel_nonce: u32) -> Self {
        Self {
            validation_id: permission.validation_id(),
            nonce: kernel_nonce,
            hook: Address::ZERO,
            validator_data: permission.install_data(),
            hook_data: Bytes::new(),
            selector_data: selector_data(),
        }
    }

    fn as_struct(&self) -> Enable {
        Enable {
            validationId: self.validation_id.into_inner(),
            nonce: self.nonce,
            hook: self.hook,
            validatorData: self.validator_data.clone(),
            hookData: self.hook_data.clone(),
            selectorData: self.selector_data.clone(),
        }
    }

    /// The EIP-712 struct hash type: `Enable(bytes21 validationId,uint32 nonce,…)`.
    pub fn type_hash() -> B256 {
        alloy_primitives::keccak256(Enable::eip712_encode_type().as_bytes())
    }

    /// The digest the root validator signs, for the account's domain.
    pub fn digest(&self, domain: &Eip712Domain) -> B256 {
        Self::digest_of(self.struct_hash(), domain)
    }

    /// The EIP-712 struct hash: the same on every chain for the same nonce, so a
    /// multi-chain approval computes it once.
    pub fn struct_hash(&self) -> B256 {
        self.as_struct().eip712_hash_struct()
    }

    /// `keccak256(0x1901 ‖ domainSeparator ‖ structHash)`.
    pub fn digest_of(struct_hash: B256, domain: &Eip712Domain) -> B256 {
        let mut buf = [0u8; 66];
        buf[..2].copy_from_slice(&[0x19, 0x01]);
        buf[2..34].copy_from_slice(domain.separator().as_slice());
        buf[34..].copy_from_slice(struct_hash.as_slice());
        alloy_primitives::keccak256(buf)
    }
}

/// The hash an ERC-1271 signature through Kernel covers: EIP-712 `Kernel(bytes32 hash)`
/// in the account's domain. Signing this (not the raw hash) stops a signature made for one
/// account from being replayed on another account of the same owner.
pub fn kernel_wrapped_hash(domain: &Eip712Domain, hash: B256) -> B256 {
    Kernel { hash }.eip712_signing_hash(domain)
}

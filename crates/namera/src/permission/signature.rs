//! Signature layouts Kernel expects from permissions and in enable mode.

use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::SolValue;

use crate::kernel::PermissionId;

/// A permission's UserOperation signature: no per-policy data, then `0xff`, then the
/// signer's signature (what ZeroDev's SDK sends).
pub fn permission_user_op_signature(signer_signature: &[u8]) -> Bytes {
    permission_user_op_signature_with(&[], signer_signature)
}

/// A permission's UserOperation signature with data for some policies: for each
/// `(policy index, data)`, in increasing index order, `u8 index ‖ u64 length ‖ data`, then
/// `0xff` and the signer's signature. Kernel hands each policy its own data as
/// `userOp.signature` (an empty one to the others) and reverts on indices out of order.
///
/// ```
/// use namera::permission::permission_user_op_signature_with;
/// let sig = permission_user_op_signature_with(&[(1, &[0xaa, 0xbb][..])], &[0x11]);
/// assert_eq!(sig.as_ref(), &[1, 0, 0, 0, 0, 0, 0, 0, 2, 0xaa, 0xbb, 0xff, 0x11]);
/// ```
pub fn permission_user_op_signature_with(
    policy_data: &[(u8, &[u8])],
    signer_signature: &[u8],
) -> Bytes {
    let mut out = Vec::new();
    for (index, data) in policy_data {
        debug_assert!(*index < 0xff, "0xff marks the signer's part");
        out.push(*index);
        out.extend_from_slice(&(data.len() as u64).to_be_bytes());
        out.extend_from_slice(data);
    }
    out.push(0xff);
    out.extend_from_slice(signer_signature);
    out.into()
}

/// Sign a UserOperation hash with an ECDSA session key: `0xff ‖ EIP-191 signature`.
pub fn sign_permission_user_op(
    session_key: &alloy_signer_local::PrivateKeySigner,
    user_op_hash: B256,
) -> Result<Bytes, alloy_signer::Error> {
    crate::kernel::sign::sign_hash_message(session_key, user_op_hash)
        .map(|sig| permission_user_op_signature(&sig))
}

/// An ERC-1271 signature through a permission: `0x02 ‖ permissionId ‖ 0xff ‖ signature`,
/// where the signature covers the account's EIP-712 `Kernel(bytes32 hash)` wrapping.
pub fn erc1271_permission_signature(id: PermissionId, signer_signature: &[u8]) -> Bytes {
    let mut out = vec![0x02];
    out.extend_from_slice(id.as_bytes());
    out.push(0xff);
    out.extend_from_slice(signer_signature);
    out.into()
}

/// Sign `hash` for ERC-1271 validation through a permission: the session key signs the
/// account's EIP-712 `Kernel(bytes32 hash)` wrapping (EIP-191 form, as the ECDSASigner
/// checks it), laid out by [`erc1271_permission_signature`].
pub fn sign_erc1271_with_permission(
    session_key: &alloy_signer_local::PrivateKeySigner,
    id: PermissionId,
    domain: &alloy_sol_types::Eip712Domain,
    hash: B256,
) -> Result<Bytes, alloy_signer::Error> {
    let wrapped = super::kernel_wrapped_hash(domain, hash);
    let sig = crate::kernel::sign::sign_hash_message(session_key, wrapped)?;
    Ok(erc1271_permission_signature(id, &sig))
}

/// A multi-chain enable signature for one chain: `ownerSig ‖ root ‖ abi.encode(proof)`.
pub fn multi_chain_enable_signature(owner_signature: &[u8], root: B256, proof: &[B256]) -> Bytes {
    let mut out = owner_signature.to_vec();
    out.extend_from_slice(root.as_slice());
    out.extend(proof.to_vec().abi_encode());
    out.into()
}

/// The signature of an enable-mode UserOperation: the owner's approval and the
/// validation's own signature together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnableModeSignature {
    /// The validation's hook (zero for none).
    pub hook: Address,
    /// Install data of the validation.
    pub validator_data: Bytes,
    /// Install data of the hook.
    pub hook_data: Bytes,
    /// [`super::selector_data`].
    pub selector_data: Bytes,
    /// The root validator's signature over the `Enable` digest.
    pub enable_signature: Bytes,
    /// The validation's UserOperation signature.
    pub user_op_signature: Bytes,
}

impl EnableModeSignature {
    /// The enable-mode signature for `request`, approved by `enable_signature`, with the
    /// validation's own `user_op_signature`.
    pub fn new(
        request: &super::EnableRequest,
        enable_signature: Bytes,
        user_op_signature: Bytes,
    ) -> Self {
        Self {
            hook: request.hook,
            validator_data: request.validator_data.clone(),
            hook_data: request.hook_data.clone(),
            selector_data: request.selector_data.clone(),
            enable_signature,
            user_op_signature,
        }
    }

    /// `hook(20) ‖ abi.encode(validatorData, hookData, selectorData, enableSig, userOpSig)`.
    pub fn encode(&self) -> Bytes {
        let mut out = self.hook.to_vec();
        out.extend(
            (
                self.validator_data.clone(),
                self.hook_data.clone(),
                self.selector_data.clone(),
                self.enable_signature.clone(),
                self.user_op_signature.clone(),
            )
                .abi_encode_params(),
        );
        out.into()
    }

    /// Split an enable-mode signature into its parts.
    pub fn decode(sig: &[u8]) -> Option<Self> {
        if sig.len() < 20 {
            return None;
        }
        let (v, h, s, e, u) =
            <(Bytes, Bytes, Bytes, Bytes, Bytes)>::abi_decode_params(&sig[20..]).ok()?;
        Some(Self {
            hook: Address::from_slice(&sig[..20]),
            validator_data: v,
            hook_data: h,
            selector_data: s,
            enable_signature: e,
            user_op_signature: u,
        })
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Signature, address, b256};
    use alloy_signer_local::PrivateKeySigner;

    use super::*;
    use crate::{kernel::KernelVersion, permission::kernel_domain};

    #[test]
    fn erc1271_permission_signature_layout_and_signer() {
        let key = PrivateKeySigner::random();
        let id = PermissionId("0xab65750b".parse().unwrap());
        let account = address!("0xc16ae5f9280de1a49acc5592f924dd46539c183d");
        let domain = kernel_domain(KernelVersion::V0_3_1, 1, account);
        let hash = b256!("0x1111111111111111111111111111111111111111111111111111111111111111");
        let sig = sign_erc1271_with_permission(&key, id, &domain, hash).unwrap();
        assert_eq!(sig.len(), 1 + 4 + 1 + 65);
        assert_eq!(&sig[..6], &[0x02, 0xab, 0x65, 0x75, 0x0b, 0xff]);
        let inner = Signature::from_raw(&sig[6..]).unwrap();
        let wrapped = super::super::kernel_wrapped_hash(&domain, hash);
        assert_ne!(wrapped, hash, "the hash is wrapped in the account's domain");
        assert_eq!(inner.recover_address_from_msg(wrapped).unwrap(), key.address());
        // Another account's domain gives another digest: no cross-account replay.
        let other = kernel_domain(KernelVersion::V0_3_1, 1, Address::ZERO);
        assert_ne!(super::super::kernel_wrapped_hash(&other, hash), wrapped);
    }
}

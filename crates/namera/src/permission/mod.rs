//! Permissions: a signer plus policies, installed on the account as one validation.
//!
//! A session key is a permission whose signer is the key. The owner approves it once,
//! off chain, by signing the EIP-712 `Enable` struct; the key's first UserOperation
//! carries that approval and installs the permission on the way ("enable mode").

mod enable;
mod merkle;
mod signature;
mod signer;

use alloy_primitives::{Address, Bytes, FixedBytes, keccak256};
use alloy_sol_types::{SolCall, SolValue};

pub use enable::{EnableRequest, kernel_domain, kernel_wrapped_hash, selector_data};
pub use merkle::MerkleTree;
pub use signature::{
    EnableModeSignature, erc1271_permission_signature, multi_chain_enable_signature,
    permission_user_op_signature, permission_user_op_signature_with, sign_erc1271_with_permission,
    sign_permission_user_op,
};
pub use signer::PermissionSigner;

use crate::{
    kernel::{
        Call, ExecType, Execution7579, KernelVersion, PermissionId, ValidationId, abi::IKernel,
    },
    policy::{Policy, PolicyError, PolicyFlag},
};

/// A signer and the policies every one of its operations must pass.
///
/// ```
/// use alloy_primitives::address;
/// use namera::permission::{Permission, PermissionSigner};
/// use namera::policy::Policy;
/// let key = address!("0xd5252a5eeef8bf29dab82a26ac942d6b224ed716");
/// let p = Permission::new(PermissionSigner::Ecdsa(key), vec![Policy::sudo()])?;
/// assert_eq!(p.id().to_string(), "0xab65750b");
/// # Ok::<(), namera::policy::PolicyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// Who signs.
    pub signer: PermissionSigner,
    /// What they may do; all must pass.
    pub policies: Vec<Policy>,
    /// Which validations the permission serves (UserOperations, signatures, both).
    pub flag: PolicyFlag,
}

impl Permission {
    /// A permission for UserOperations and signatures, with its policies validated.
    ///
    /// Several budget policies (spending limits, an operation cap) become one element of the
    /// budget contract ([`crate::policy::merge_budgets`]): Kernel installs each element under
    /// the permission's id, and a second one at the same contract would not install.
    pub fn new(signer: PermissionSigner, policies: Vec<Policy>) -> Result<Self, PolicyError> {
        let policies = crate::policy::merge_budgets(policies)?;
        for p in &policies {
            p.validate()?;
        }
        Ok(Self { signer, policies, flag: PolicyFlag::ALL })
    }

    /// The same permission with another flag.
    pub const fn with_flag(mut self, flag: PolicyFlag) -> Self {
        self.flag = flag;
        self
    }

    /// The policies' install elements, in order.
    pub fn policy_elements(&self) -> Vec<Bytes> {
        self.policies.iter().map(Policy::element).collect()
    }

    /// `abi.encode(bytes[] policyElements)`.
    pub fn policy_id(&self) -> Bytes {
        self.policy_elements().abi_encode().into()
    }

    /// `abi.encode(bytes signerContract ‖ signerData)`.
    pub fn signer_id(&self) -> Bytes {
        let mut raw = self.signer.address().to_vec();
        raw.extend_from_slice(&self.signer.data());
        Bytes::from(raw).abi_encode().into()
    }

    /// The permission id: `keccak256(abi.encode([policyId, flag, signerId]))[..4]`.
    pub fn id(&self) -> PermissionId {
        let parts: Vec<Bytes> =
            vec![self.policy_id(), Bytes::copy_from_slice(&self.flag.to_bytes()), self.signer_id()];
        PermissionId(FixedBytes::from_slice(&keccak256(parts.abi_encode())[..4]))
    }

    /// The validation id, `0x02 ‖ permissionId ‖ 0…0`.
    pub fn validation_id(&self) -> ValidationId {
        ValidationId::permission(self.id())
    }

    /// The signer's install element: `flag ‖ signer ‖ signerData`.
    pub fn signer_element(&self) -> Bytes {
        let mut out = self.flag.to_bytes().to_vec();
        out.extend_from_slice(self.signer.address().as_slice());
        out.extend_from_slice(&self.signer.data());
        out.into()
    }

    /// The per-policy data of a UserOperation signed at `now` (seconds): the budget
    /// policy's time slot, the only policy here that reads one. In index order.
    pub fn policy_signatures(&self, now: u64) -> Vec<(u8, Bytes)> {
        self.policies
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match &p.kind {
                crate::policy::PolicyKind::Budget(b) => {
                    b.policy_signature(now).map(|d| (u8::try_from(i).unwrap_or(0xfe), d))
                }
                _ => None,
            })
            .collect()
    }

    /// The install data (`validatorData`): `abi.encode(bytes[] [policies…, signer])`.
    ///
    /// The same bytes uninstall the permission.
    pub fn install_data(&self) -> Bytes {
        let mut elements = self.policy_elements();
        elements.push(self.signer_element());
        elements.abi_encode().into()
    }

    /// `initConfig` entries that pre-install this permission when the account is created:
    /// `installValidations` for the permission, and a delegatecall to the Kernel 0.3.3
    /// implementation's `grantAccess` so the permission may call `execute`.
    pub fn init_config(&self) -> Vec<Bytes> {
        let vid = self.validation_id().into_inner();
        let install = IKernel::installValidationsCall {
            vIds: vec![vid],
            configs: vec![IKernel::ValidationConfig { nonce: 1, hook: Address::ZERO }],
            validationData: vec![self.install_data()],
            hookData: vec![Bytes::new()],
        }
        .abi_encode();
        let grant = IKernel::grantAccessCall {
            vId: vid,
            selector: IKernel::executeCall::SELECTOR.into(),
            allow: true,
        }
        .abi_encode();
        let delegate = Execution7579::from_calls(
            &[Call::new(KernelVersion::V0_3_3.implementation(), grant.into())],
            true,
        )
        // One call without value is always a valid delegatecall.
        .expect("single delegatecall")
        .encode(ExecType::Default);
        vec![install.into(), delegate]
    }
}

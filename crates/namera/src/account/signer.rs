//! Who signs a UserOperation: the owner through the root validator, or a session key
//! through its permission (in enable mode on its first use).

use alloy_primitives::{Address, B256, Bytes, hex};
use alloy_signer_local::PrivateKeySigner;

use super::AccountError;
use crate::kernel::UserOperation;
#[cfg(feature = "passkey")]
use crate::passkey::{P256Verifier, PasskeySigner};
use crate::{
    kernel::{LaneKey, NonceKey, ValidationMode, sign::sign_hash_message},
    permission::{
        EnableModeSignature, EnableRequest, Permission, PermissionSigner,
        permission_user_op_signature_with,
    },
};

/// A 65-byte ECDSA signature that parses but matches no key: validation fails without
/// reverting, which is what gas estimation needs (ZeroDev's SDK uses the same bytes).
pub const STUB_ECDSA_SIGNATURE: [u8; 65] = hex!(
    "fffffffffffffffffffffffffffffff0000000000000000000000000000000007aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1c"
);

/// Signs UserOperations for one validation of an account.
pub trait OperationSigner: Send + Sync {
    /// The nonce key for `lane`.
    fn nonce_key(&self, lane: LaneKey) -> NonceKey;
    /// A signature of the right shape for gas estimation.
    fn stub_signature(&self) -> Bytes;
    /// Sign a UserOperation hash.
    fn sign(&self, user_op_hash: B256) -> Result<Bytes, String>;
    /// Sign a UserOperation hash, with a typed error: what [`super::SmartAccount`] calls
    /// before sending. Signers that check their signature first (passkeys) say here
    /// precisely why they refuse; others keep the default, which wraps [`Self::sign`].
    fn sign_operation(&self, user_op_hash: B256) -> Result<Bytes, AccountError> {
        self.sign(user_op_hash).map_err(AccountError::Sign)
    }
    /// Whether the next operation installs this signer's validation (enable mode): it must
    /// then land alone before others follow, or they would all try to install it.
    fn is_enabling(&self) -> bool {
        false
    }
    /// Called when an operation signed by this signer landed.
    fn landed(&self) {}
    /// The type of policy number `index` of this signer's permission, if it has one.
    fn policy_type(&self, index: u64) -> Option<&'static str> {
        let _ = index;
        None
    }
    /// Which of this signer's policies set a validity window (`validAfter`/`validUntil`):
    /// the EntryPoint refuses an operation outside it as AA22 without naming the policy.
    fn window_policies(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// The policy that must revert with no data on `op`, and why, when one of this signer's
    /// policies does so by design: a gas policy that requires a given paymaster when the
    /// operation has none, or a call policy shown call data that is not `execute`. The
    /// EntryPoint then reports a bare `AA23 reverted 0x`, which names nobody.
    fn bare_revert_policy(&self, op: &UserOperation) -> Option<(&'static str, String)> {
        let _ = op;
        None
    }
    /// The EntryPoint sequence of `key` if the signer knows it without asking the chain
    /// (a freshly issued key's nonce keys have never been used: 0). A wrong hint costs
    /// one retry after the bundler's AA25.
    fn sequence_hint(&self, key: NonceKey) -> Option<u64> {
        let _ = key;
        None
    }
    /// The permission's validation id, for a session-key signer.
    fn permission_validation_id(&self) -> Option<crate::kernel::ValidationId> {
        None
    }
}

/// The owner, through the account's root validator.
#[derive(Debug, Clone)]
pub struct OwnerSigner {
    key: PrivateKeySigner,
    root: crate::kernel::ValidationId,
}

impl OwnerSigner {
    /// The owner key of an account whose root validator is `root`.
    pub const fn new(key: PrivateKeySigner, root: crate::kernel::ValidationId) -> Self {
        Self { key, root }
    }
}

impl OperationSigner for OwnerSigner {
    fn nonce_key(&self, lane: LaneKey) -> NonceKey {
        NonceKey::root(self.root, lane)
    }

    fn stub_signature(&self) -> Bytes {
        Bytes::from_static(&STUB_ECDSA_SIGNATURE)
    }

    fn sign(&self, hash: B256) -> Result<Bytes, String> {
        sign_hash_message(&self.key, hash).map_err(|e| e.to_string())
    }
}

/// The secret side of a session key: what signs its operations.
#[derive(Clone)]
pub enum SessionKey {
    /// A secp256k1 key (the ECDSASigner).
    Ecdsa(PrivateKeySigner),
    /// A passkey (the WebAuthnSigner); its signatures are checked before sending.
    #[cfg(feature = "passkey")]
    Passkey(std::sync::Arc<dyn PasskeySigner>),
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ecdsa(key) => f.debug_tuple("Ecdsa").field(&key.address()).finish(),
            #[cfg(feature = "passkey")]
            Self::Passkey(p) => f.debug_tuple("Passkey").field(p.credential()).finish(),
        }
    }
}

impl From<PrivateKeySigner> for SessionKey {
    fn from(key: PrivateKeySigner) -> Self {
        Self::Ecdsa(key)
    }
}

impl SessionKey {
    /// The permission signer this key is checked by.
    pub fn permission_signer(&self) -> PermissionSigner {
        match self {
            Self::Ecdsa(key) => PermissionSigner::Ecdsa(key.address()),
            #[cfg(feature = "passkey")]
            Self::Passkey(p) => PermissionSigner::WebAuthn(p.credential().key()),
        }
    }

    /// The signer's part of a stub signature (before the `0xff` prefix).
    fn stub(&self, _verifier: Verifier) -> Bytes {
        match self {
            Self::Ecdsa(_) => Bytes::from_static(&STUB_ECDSA_SIGNATURE),
            #[cfg(feature = "passkey")]
            Self::Passkey(_) => crate::passkey::stub_signature(_verifier),
        }
    }

    /// The signer's signature over a UserOperation hash (before the `0xff` prefix).
    fn sign(&self, hash: B256, _verifier: Verifier) -> Result<Bytes, AccountError> {
        match self {
            Self::Ecdsa(key) => {
                sign_hash_message(key, hash).map_err(|e| AccountError::Sign(e.to_string()))
            }
            #[cfg(feature = "passkey")]
            Self::Passkey(p) => Ok(p.sign(hash, _verifier)?.encode()),
        }
    }
}

/// The P-256 verifier a passkey session key's signatures name (nothing without passkeys).
#[cfg(feature = "passkey")]
type Verifier = P256Verifier;
#[cfg(not(feature = "passkey"))]
type Verifier = ();

/// A session key acting through its permission.
///
/// With `enable` set, the operation installs the permission on its way (enable mode):
/// the owner's approval travels in the signature. Without it, the permission must
/// already be installed.
#[derive(Debug)]
pub struct SessionKeySigner {
    key: SessionKey,
    verifier: Verifier,
    permission: Permission,
    enable: Option<(EnableRequest, Bytes)>,
    /// Set once the enabling operation landed; later operations are plain.
    installed: std::sync::atomic::AtomicBool,
    /// Seconds added to this machine's clock for the time a budget policy is told.
    clock_offset: i64,
}

impl SessionKeySigner {
    /// A signer for an installed permission.
    pub fn installed(key: impl Into<SessionKey>, permission: Permission) -> Self {
        Self {
            key: key.into(),
            verifier: Verifier::default(),
            permission,
            enable: None,
            installed: std::sync::atomic::AtomicBool::new(true),
            clock_offset: 0,
        }
    }

    /// A signer that installs the permission with the owner's `enable_signature`, made
    /// with the account at `kernel_nonce`.
    pub fn enabling(
        key: impl Into<SessionKey>,
        permission: Permission,
        kernel_nonce: u32,
        enable_signature: Bytes,
    ) -> Self {
        let request = EnableRequest::for_permission(&permission, kernel_nonce);
        Self {
            key: key.into(),
            verifier: Verifier::default(),
            permission,
            enable: Some((request, enable_signature)),
            installed: std::sync::atomic::AtomicBool::new(false),
            clock_offset: 0,
        }
    }

    /// The same signer on a chain whose P-256 verifier is `verifier` (passkey keys only;
    /// the default is the precompile).
    #[cfg(feature = "passkey")]
    pub const fn with_verifier(mut self, verifier: P256Verifier) -> Self {
        self.verifier = verifier;
        self
    }

    /// The same signer telling time-dependent policies (budgets) this machine's time plus
    /// `seconds`: for a chain whose clock runs apart from the wall clock (a devnet that
    /// travelled in time). The time named must fall in the period of the block that
    /// includes the operation, or the EntryPoint refuses it (AA22).
    pub const fn with_clock_offset(mut self, seconds: i64) -> Self {
        self.clock_offset = seconds;
        self
    }

    /// The time this signer names to budget policies now.
    pub fn now(&self) -> u64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        wall.saturating_add_signed(self.clock_offset)
    }

    /// `policy data ‖ 0xff ‖ signer signature`, the policy data for an operation signed now.
    fn user_op_signature(&self, signer_signature: &[u8]) -> Bytes {
        let data = self.permission.policy_signatures(self.now());
        let slices: Vec<(u8, &[u8])> = data.iter().map(|(i, d)| (*i, d.as_ref())).collect();
        permission_user_op_signature_with(&slices, signer_signature)
    }

    /// The permission.
    pub const fn permission(&self) -> &Permission {
        &self.permission
    }

    /// The session key's address, for a secp256k1 key.
    pub fn address(&self) -> Option<Address> {
        match &self.key {
            SessionKey::Ecdsa(key) => Some(key.address()),
            #[cfg(feature = "passkey")]
            SessionKey::Passkey(_) => None,
        }
    }

    /// The key that signs.
    pub const fn key(&self) -> &SessionKey {
        &self.key
    }

    /// After the enabling operation landed: later operations are plain.
    pub fn mark_installed(&self) {
        self.installed.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn pending_enable(&self) -> Option<&(EnableRequest, Bytes)> {
        if self.installed.load(std::sync::atomic::Ordering::Relaxed) {
            None
        } else {
            self.enable.as_ref()
        }
    }

    fn wrap(&self, user_op_signature: Bytes) -> Bytes {
        match self.pending_enable() {
            None => user_op_signature,
            Some((request, enable_sig)) => {
                EnableModeSignature::new(request, enable_sig.clone(), user_op_signature).encode()
            }
        }
    }
}

impl OperationSigner for SessionKeySigner {
    fn nonce_key(&self, lane: LaneKey) -> NonceKey {
        let mode = if self.pending_enable().is_some() {
            ValidationMode::Enable
        } else {
            ValidationMode::Default
        };
        NonceKey::permission(mode, self.permission.validation_id(), lane)
    }

    // Without passkeys the verifier is `()`, passed along so both builds share one path.
    #[cfg_attr(not(feature = "passkey"), allow(clippy::unit_arg))]
    fn stub_signature(&self) -> Bytes {
        self.wrap(self.user_op_signature(&self.key.stub(self.verifier)))
    }

    fn sign(&self, hash: B256) -> Result<Bytes, String> {
        self.sign_operation(hash).map_err(|e| e.to_string())
    }

    #[cfg_attr(not(feature = "passkey"), allow(clippy::unit_arg))]
    fn sign_operation(&self, hash: B256) -> Result<Bytes, AccountError> {
        let sig = self.key.sign(hash, self.verifier)?;
        Ok(self.wrap(self.user_op_signature(&sig)))
    }

    fn is_enabling(&self) -> bool {
        self.pending_enable().is_some()
    }

    fn landed(&self) {
        self.mark_installed();
    }

    fn policy_type(&self, index: u64) -> Option<&'static str> {
        let i = usize::try_from(index).ok()?;
        self.permission.policies.get(i).map(crate::policy::Policy::type_name)
    }

    fn bare_revert_policy(&self, op: &UserOperation) -> Option<(&'static str, String)> {
        use crate::policy::PolicyKind;
        self.permission.policies.iter().filter(|p| p.flag.0 & 0x0001 == 0).find_map(|p| {
            match &p.kind {
                PolicyKind::Gas { enforce_paymaster: true, allowed_paymaster, .. }
                    if !allowed_paymaster.is_zero() && op.paymaster.is_none() =>
                {
                    Some(("gas", format!("only paymaster {allowed_paymaster} may pay, and the operation has none")))
                }
                PolicyKind::Call(_) if !op.call_data.starts_with(&<crate::kernel::abi::IKernel::executeCall as alloy_sol_types::SolCall>::SELECTOR) => {
                    Some(("call", "the call data is not an ERC-7579 execute call".to_owned()))
                }
                _ => None,
            }
        })
    }

    fn window_policies(&self) -> Vec<&'static str> {
        use crate::policy::PolicyKind;
        let mut out = Vec::new();
        for p in &self.permission.policies {
            let name = match p.kind {
                PolicyKind::Timestamp { .. } => "timestamp",
                PolicyKind::RateLimit { .. } => "rate-limit",
                PolicyKind::Budget(_) => "budget",
                _ => continue,
            };
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    fn permission_validation_id(&self) -> Option<crate::kernel::ValidationId> {
        Some(self.permission.validation_id())
    }

    fn sequence_hint(&self, _key: NonceKey) -> Option<u64> {
        // A signer made by `enabling` holds a key the owner has just approved: none of
        // its nonce keys (enable or default mode, any lane) has been used yet.
        self.enable.is_some().then_some(0)
    }
}

//! A passkey as the account's owner, and which P-256 verifier a chain has.

use std::sync::Arc;

use alloy_primitives::{B256, Bytes};

use super::{P256Verifier, PasskeySigner, SoftwarePasskey, WebAuthnSignature, stub_signature};
use crate::{
    account::{AccountError, OperationSigner},
    kernel::{
        LaneKey, NonceKey, ValidationId,
        addresses::{P256_PRECOMPILE, WEBAUTHN_VALIDATOR},
    },
    node::NodeClient,
    rpc::RpcError,
};

/// The owner of an account whose root validator is the WebAuthn validator: it signs
/// UserOperation hashes with a passkey, and checks each signature as the validator will
/// before it is sent.
///
/// ```
/// use std::sync::Arc;
/// use alloy_primitives::U256;
/// use namera::kernel::{AccountConfig, KernelVersion, RootValidator};
/// use namera::passkey::{P256Verifier, PasskeyOwnerSigner, PasskeySigner, SoftwarePasskey};
/// let passkey = Arc::new(SoftwarePasskey::generate("localhost")?);
/// let root = RootValidator::WebAuthn(passkey.credential().key());
/// let config = AccountConfig::new(KernelVersion::V0_3_1, root, U256::ZERO);
/// let owner = PasskeyOwnerSigner::new(passkey, P256Verifier::Precompile);
/// // `SmartAccount::new(config, chain).execute(&owner, …)` deploys and acts.
/// # let _ = (config, owner);
/// # Ok::<(), namera::passkey::PasskeyError>(())
/// ```
#[derive(Clone)]
pub struct PasskeyOwnerSigner {
    passkey: Arc<dyn PasskeySigner>,
    verifier: P256Verifier,
}

impl std::fmt::Debug for PasskeyOwnerSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyOwnerSigner")
            .field("credential", self.passkey.credential())
            .field("verifier", &self.verifier)
            .finish()
    }
}

impl PasskeyOwnerSigner {
    /// The owner `passkey`, on a chain whose P-256 verifier is `verifier`.
    pub fn new(passkey: Arc<dyn PasskeySigner>, verifier: P256Verifier) -> Self {
        Self { passkey, verifier }
    }

    /// The passkey.
    pub fn passkey(&self) -> &Arc<dyn PasskeySigner> {
        &self.passkey
    }

    /// The verifier signatures name.
    pub const fn verifier(&self) -> P256Verifier {
        self.verifier
    }

    /// Approve `digest` (a UserOperation hash, an `Enable` digest): the checked signature.
    pub fn sign_digest(&self, digest: B256) -> Result<WebAuthnSignature, super::PasskeyError> {
        self.passkey.sign(digest, self.verifier)
    }
}

impl OperationSigner for PasskeyOwnerSigner {
    fn nonce_key(&self, lane: LaneKey) -> NonceKey {
        NonceKey::root(ValidationId::validator(WEBAUTHN_VALIDATOR), lane)
    }

    fn stub_signature(&self) -> Bytes {
        stub_signature(self.verifier)
    }

    fn sign(&self, hash: B256) -> Result<Bytes, String> {
        self.sign_operation(hash).map_err(|e| e.to_string())
    }

    fn sign_operation(&self, hash: B256) -> Result<Bytes, AccountError> {
        // The root validator takes the WebAuthn signature as is, over the raw hash.
        Ok(self.sign_digest(hash)?.encode())
    }
}

/// Which P-256 verifier `node`'s chain offers: a known-valid signature is sent to the
/// precompile address; only a chain with the precompile answers `1`.
pub fn detect_verifier(node: &NodeClient) -> Result<P256Verifier, RpcError> {
    // A fixed key and message: the probe is the same bytes on every chain.
    let probe = SoftwarePasskey::from_secret(&[0x5a; 32], b"probe".to_vec(), "probe")
        .and_then(|p| {
            let sig = p.sign(B256::ZERO, P256Verifier::Precompile)?;
            let key = p.credential().key();
            let mut input = sig.message().to_vec();
            for word in [sig.r, sig.s, key.x, key.y] {
                input.extend_from_slice(&word.to_be_bytes::<32>());
            }
            Ok(input)
        })
        .map_err(|e| RpcError::Decode { method: "P-256 probe".into(), reason: e.to_string() })?;
    let answer = node.call(P256_PRECOMPILE, &probe)?;
    let one = B256::with_last_byte(1);
    Ok(if answer.as_ref() == one.as_slice() {
        P256Verifier::Precompile
    } else {
        P256Verifier::Daimo
    })
}

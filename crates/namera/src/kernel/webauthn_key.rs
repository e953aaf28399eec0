//! A passkey's public key as Kernel's WebAuthn validator and signer store it.
//!
//! Pure data: the P-256 point and the hash of the credential id. The cryptography that
//! produces and checks signatures for it lives in [`crate::passkey`] (feature `passkey`),
//! so the protocol core can compute account addresses and permission ids without it.

use alloy_primitives::{B256, Bytes, U256, keccak256};
use alloy_sol_types::SolValue;

/// A P-256 public key and the credential it belongs to, as the WebAuthn validator
/// (`initData`) and the WebAuthn signer (`signerData`) take it:
/// `abi.encode((uint256 x, uint256 y), bytes32 keccak256(credentialId))`.
///
/// ```
/// use alloy_primitives::U256;
/// use namera::kernel::WebAuthnKey;
/// let key = WebAuthnKey::new(U256::from(1), U256::from(2), b"credential");
/// let data = key.data();
/// assert_eq!(data.len(), 96);
/// assert_eq!(WebAuthnKey::decode(&data), Some(key));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WebAuthnKey {
    /// The point's x coordinate.
    pub x: U256,
    /// The point's y coordinate.
    pub y: U256,
    /// `keccak256(credentialId)`: the contracts keep it so a wallet can find which
    /// credential to ask the authenticator for.
    pub authenticator_id_hash: B256,
}

impl WebAuthnKey {
    /// The key `(x, y)` of the credential whose raw id is `credential_id`.
    pub fn new(x: U256, y: U256, credential_id: &[u8]) -> Self {
        Self { x, y, authenticator_id_hash: keccak256(credential_id) }
    }

    /// `abi.encode((x, y), authenticatorIdHash)`: 96 bytes.
    pub fn data(&self) -> Bytes {
        ((self.x, self.y), self.authenticator_id_hash).abi_encode_params().into()
    }

    /// Read [`Self::data`] back; `None` unless it is exactly that layout.
    pub fn decode(data: &[u8]) -> Option<Self> {
        if data.len() != 96 {
            return None;
        }
        let ((x, y), authenticator_id_hash) =
            <((U256, U256), B256)>::abi_decode_params(data).ok()?;
        Some(Self { x, y, authenticator_id_hash })
    }
}

//! Permission signers: the key a session key's operations are signed with.

use alloy_primitives::{Address, Bytes};

use crate::kernel::{
    WebAuthnKey,
    addresses::{ECDSA_SIGNER, WEBAUTHN_SIGNER},
};

/// The signer of a permission.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PermissionSigner {
    /// A secp256k1 session key, checked by the ECDSASigner contract.
    Ecdsa(Address),
    /// A passkey (P-256, WebAuthn) session key, checked by the WebAuthnSigner contract.
    WebAuthn(WebAuthnKey),
}

impl PermissionSigner {
    /// The signer contract.
    pub const fn address(&self) -> Address {
        match self {
            Self::Ecdsa(_) => ECDSA_SIGNER,
            Self::WebAuthn(_) => WEBAUTHN_SIGNER,
        }
    }

    /// The data the signer contract's `onInstall` receives after the permission id.
    pub fn data(&self) -> Bytes {
        match self {
            Self::Ecdsa(key) => Bytes::copy_from_slice(key.as_slice()),
            Self::WebAuthn(key) => key.data(),
        }
    }
}

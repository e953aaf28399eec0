//! ECDSA signatures in the two forms Kernel's validators check.
//!
//! Kernel's ECDSA validator and signer accept 65-byte `r ‖ s ‖ v` signatures with
//! `v ∈ {27, 28}`. A UserOperation hash and a Merkle root are signed as EIP-191 personal
//! messages; an EIP-712 digest (the `Enable` approval) is signed as is.

use alloy_primitives::{B256, Bytes, Signature};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

/// 65 bytes `r ‖ s ‖ v` with `v = 27 + parity`.
pub fn signature_bytes(sig: &Signature) -> Bytes {
    Bytes::copy_from_slice(&sig.as_bytes())
}

/// Sign a 32-byte digest as is (EIP-712 digests).
pub fn sign_digest(signer: &PrivateKeySigner, digest: B256) -> Result<Bytes, alloy_signer::Error> {
    signer.sign_hash_sync(&digest).map(|s| signature_bytes(&s))
}

/// Sign a 32-byte hash as an EIP-191 personal message (UserOperation hashes, Merkle roots).
pub fn sign_hash_message(
    signer: &PrivateKeySigner,
    hash: B256,
) -> Result<Bytes, alloy_signer::Error> {
    signer.sign_message_sync(hash.as_slice()).map(|s| signature_bytes(&s))
}

//! The owner's one signature that enables a session key on every chosen chain.

use alloy_primitives::{B256, Bytes};
use alloy_signer_local::PrivateKeySigner;

use crate::{
    kernel::{
        AccountConfig,
        sign::{sign_digest, sign_hash_message},
    },
    permission::{
        EnableRequest, MerkleTree, Permission, kernel_domain, multi_chain_enable_signature,
    },
};

/// The chain state an approval depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainNonce {
    /// The chain.
    pub chain_id: u64,
    /// The account's `currentNonce()` there (1 when not deployed).
    pub kernel_nonce: u32,
}

/// The approval for one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainApproval {
    /// The chain.
    pub chain_id: u64,
    /// The account's kernel nonce the approval was signed at: the enable-mode operation
    /// must present the same one, so whoever stores the key must store this too.
    pub kernel_nonce: u32,
    /// The `Enable` digest on this chain (a Merkle leaf for multi-chain approvals).
    pub digest: B256,
    /// The proof from the digest to the root (empty for a single-chain approval).
    pub proof: Vec<B256>,
    /// What goes into the enable-mode signature on this chain.
    pub enable_signature: Bytes,
}

/// The owner's approval of a permission on one or more chains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerApproval {
    /// The Merkle root the owner signed (for a multi-chain root validator).
    pub merkle_root: Option<B256>,
    /// The one owner signature.
    pub owner_signature: Bytes,
    /// One entry per chain, in the order given.
    pub chains: Vec<ChainApproval>,
}

/// Why an approval could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// No chains were given.
    #[error("no chains given: a session key needs at least one chain")]
    NoChains,
    /// A single-chain root validator asked to approve several chains with one signature.
    #[error(
        "the account's root validator is single-chain; approving {0} chains with one signature needs the multi-chain ECDSA validator"
    )]
    NotMultiChain(usize),
    /// The same chain twice.
    #[error("chain {0} is listed twice")]
    DuplicateChain(u64),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(#[from] alloy_signer::Error),
    /// The account's root validator is not owned by this kind of key (an ECDSA key for
    /// a passkey-owned account, a passkey for an ECDSA-owned one, or another passkey).
    #[error("the account's root validator is not owned by this key")]
    NotTheOwner,
    /// The passkey could not approve (or its approval would not verify).
    #[cfg(feature = "passkey")]
    #[error("passkey: {0}")]
    Passkey(#[from] crate::passkey::PasskeyError),
}

/// The `Enable` digest of `permission` for `account` on one chain.
fn enable_digest(account: &AccountConfig, permission: &Permission, chain: ChainNonce) -> B256 {
    EnableRequest::for_permission(permission, chain.kernel_nonce).digest(&kernel_domain(
        account.version,
        chain.chain_id,
        account.address(),
    ))
}

impl OwnerApproval {
    /// Approve `permission` on one chain with a plain signature over its `Enable` digest,
    /// whatever the root validator (the multi-chain validator accepts this form too).
    /// This is what ZeroDev's SDK does when one account enables a key for itself.
    pub fn sign_single_chain(
        owner: &PrivateKeySigner,
        account: &AccountConfig,
        permission: &Permission,
        chain: ChainNonce,
    ) -> Result<Self, ApprovalError> {
        if account.root.owner().is_none() {
            return Err(ApprovalError::NotTheOwner);
        }
        let digest = enable_digest(account, permission, chain);
        Self::sign_digest_directly(owner, chain, digest)
    }

    /// Approve `permission` on one chain with the account's owner passkey: the WebAuthn
    /// validator checks an assertion whose challenge is the chain's `Enable` digest.
    /// There is no multi-chain WebAuthn validator, so each chain needs its own approval
    /// (one user gesture per chain); `verifier` is that chain's P-256 verifier.
    #[cfg(feature = "passkey")]
    pub fn sign_with_passkey(
        owner: &dyn crate::passkey::PasskeySigner,
        account: &AccountConfig,
        permission: &Permission,
        chain: ChainNonce,
        verifier: crate::passkey::P256Verifier,
    ) -> Result<Self, ApprovalError> {
        if account.root.webauthn_key() != Some(&owner.credential().key()) {
            return Err(ApprovalError::NotTheOwner);
        }
        let digest = enable_digest(account, permission, chain);
        let sig = owner.sign(digest, verifier)?.encode();
        Ok(Self::single(chain, digest, sig))
    }

    fn sign_digest_directly(
        owner: &PrivateKeySigner,
        chain: ChainNonce,
        digest: B256,
    ) -> Result<Self, ApprovalError> {
        Ok(Self::single(chain, digest, sign_digest(owner, digest)?))
    }

    fn single(chain: ChainNonce, digest: B256, sig: Bytes) -> Self {
        Self {
            merkle_root: None,
            owner_signature: sig.clone(),
            chains: vec![ChainApproval {
                chain_id: chain.chain_id,
                kernel_nonce: chain.kernel_nonce,
                digest,
                proof: Vec::new(),
                enable_signature: sig,
            }],
        }
    }

    /// Sign the approval of `permission` for `account` on `chains` with ONE signature.
    ///
    /// With the multi-chain validator as root, the owner signs (EIP-191) the root of a
    /// Merkle tree over the chains' `Enable` digests, and each chain gets
    /// `signature ‖ root ‖ proof`, even for a single chain (as the SDK's multi-chain
    /// serializer writes it). With the plain ECDSA validator, exactly one chain is allowed
    /// and the owner signs its digest directly.
    pub fn sign(
        owner: &PrivateKeySigner,
        account: &AccountConfig,
        permission: &Permission,
        chains: &[ChainNonce],
    ) -> Result<Self, ApprovalError> {
        if chains.is_empty() {
            return Err(ApprovalError::NoChains);
        }
        for (i, c) in chains.iter().enumerate() {
            if chains[..i].iter().any(|d| d.chain_id == c.chain_id) {
                return Err(ApprovalError::DuplicateChain(c.chain_id));
            }
        }
        if account.root.owner().is_none() {
            return Err(ApprovalError::NotTheOwner);
        }
        let address = account.address();
        // The struct hash depends only on the kernel nonce; chains differ by domain.
        let mut struct_hashes: Vec<(u32, B256)> = Vec::new();
        let digests: Vec<B256> = chains
            .iter()
            .map(|c| {
                let struct_hash = match struct_hashes.iter().find(|(n, _)| *n == c.kernel_nonce) {
                    Some((_, h)) => *h,
                    None => {
                        let h =
                            EnableRequest::for_permission(permission, c.kernel_nonce).struct_hash();
                        struct_hashes.push((c.kernel_nonce, h));
                        h
                    }
                };
                EnableRequest::digest_of(
                    struct_hash,
                    &kernel_domain(account.version, c.chain_id, address),
                )
            })
            .collect();
        if !account.root.is_multi_chain() {
            if chains.len() != 1 {
                return Err(ApprovalError::NotMultiChain(chains.len()));
            }
            return Self::sign_digest_directly(owner, chains[0], digests[0]);
        }
        let tree = MerkleTree::new(digests);
        let root = tree.root();
        let owner_signature = sign_hash_message(owner, root)?;
        let chains = chains
            .iter()
            .enumerate()
            .map(|(i, c)| {
                // Every index is a leaf of the tree just built.
                let proof = tree.proof(i).unwrap_or_default();
                ChainApproval {
                    chain_id: c.chain_id,
                    kernel_nonce: c.kernel_nonce,
                    digest: tree.leaves()[i],
                    enable_signature: multi_chain_enable_signature(&owner_signature, root, &proof),
                    proof,
                }
            })
            .collect();
        Ok(Self { merkle_root: Some(root), owner_signature, chains })
    }
}

//! Issue a session key on accounts on several chains: with one owner signature for an
//! ECDSA owner, with one passkey approval per chain for a passkey owner.

use alloy_signer_local::PrivateKeySigner;

use super::{ApprovalError, ChainNonce, OwnerApproval};
use crate::{
    account::{SessionKey, SessionKeySigner, SmartAccount},
    permission::Permission,
    rpc::RpcError,
};

/// Issuing a key failed.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// Reading an account's nonce failed.
    #[error("reading the account nonce on chain {chain_id}: {source}")]
    Rpc {
        /// The chain.
        chain_id: u64,
        /// Why.
        source: RpcError,
    },
    /// The accounts are not one account on several chains.
    #[error("the accounts differ: a session key is issued for one account on several chains")]
    DifferentAccounts,
    /// Approving failed.
    #[error(transparent)]
    Approval(#[from] ApprovalError),
}

/// Approve `permission` (signed by `key`) on every account in `accounts` (the same account
/// on different chains) with ONE owner signature, and return a signer per chain, in order.
///
/// The accounts' `currentNonce()` are read concurrently. Each signer installs the
/// permission on its chain with its first operation (enable mode). `key` is a
/// `PrivateKeySigner` or any [`SessionKey`] (a passkey session key, for instance).
pub fn issue<K: Into<SessionKey> + Clone>(
    owner: &PrivateKeySigner,
    accounts: &[&SmartAccount],
    permission: &Permission,
    key: &K,
) -> Result<(OwnerApproval, Vec<SessionKeySigner>), IssueError> {
    let states = chain_nonces(accounts)?;
    let approval = OwnerApproval::sign(owner, accounts[0].config(), permission, &states)?;
    let signers = approval
        .chains
        .iter()
        .zip(&states)
        .map(|(c, s)| {
            SessionKeySigner::enabling(
                key.clone(),
                permission.clone(),
                s.kernel_nonce,
                c.enable_signature.clone(),
            )
        })
        .collect();
    Ok((approval, signers))
}

/// Approve `permission` (signed by `key`) on every account in `accounts` for an account
/// owned by a passkey: ONE passkey approval PER CHAIN (there is no multi-chain WebAuthn
/// validator), each named with that chain's P-256 verifier, which the session key's
/// signer on that chain uses too. Returns the approvals and a signer per chain, in order.
#[cfg(feature = "passkey")]
pub fn issue_with_passkey_owner<K: Into<SessionKey> + Clone>(
    owner: &dyn crate::passkey::PasskeySigner,
    accounts: &[(&SmartAccount, crate::passkey::P256Verifier)],
    permission: &Permission,
    key: &K,
) -> Result<(Vec<OwnerApproval>, Vec<SessionKeySigner>), IssueError> {
    let plain: Vec<&SmartAccount> = accounts.iter().map(|(a, _)| *a).collect();
    let states = chain_nonces(&plain)?;
    let mut approvals = Vec::with_capacity(accounts.len());
    let mut signers = Vec::with_capacity(accounts.len());
    for ((account, verifier), state) in accounts.iter().zip(&states) {
        let approval = OwnerApproval::sign_with_passkey(
            owner,
            account.config(),
            permission,
            *state,
            *verifier,
        )?;
        let signer = SessionKeySigner::enabling(
            key.clone(),
            permission.clone(),
            state.kernel_nonce,
            approval.chains[0].enable_signature.clone(),
        )
        .with_verifier(*verifier);
        approvals.push(approval);
        signers.push(signer);
    }
    Ok((approvals, signers))
}

/// Each account's `currentNonce()`, read concurrently; the accounts must be one account
/// on distinct chains (at least one).
fn chain_nonces(accounts: &[&SmartAccount]) -> Result<Vec<ChainNonce>, IssueError> {
    let Some(first) = accounts.first() else {
        return Err(ApprovalError::NoChains.into());
    };
    if accounts.iter().any(|a| a.config() != first.config()) {
        return Err(IssueError::DifferentAccounts);
    }
    for (i, a) in accounts.iter().enumerate() {
        let id = a.chain().chain_id;
        if accounts[..i].iter().any(|b| b.chain().chain_id == id) {
            return Err(ApprovalError::DuplicateChain(id).into());
        }
    }
    let nonces: Vec<Result<u32, IssueError>> = std::thread::scope(|s| {
        let handles: Vec<_> = accounts
            .iter()
            .map(|a| {
                s.spawn(move || {
                    a.kernel_nonce()
                        .map_err(|source| IssueError::Rpc { chain_id: a.chain().chain_id, source })
                })
            })
            .collect();
        // A panic in a nonce read is a bug here; surface it.
        handles.into_iter().map(|h| h.join().expect("nonce thread panicked")).collect()
    });
    accounts
        .iter()
        .zip(nonces)
        .map(|(a, n)| Ok(ChainNonce { chain_id: a.chain().chain_id, kernel_nonce: n? }))
        .collect()
}

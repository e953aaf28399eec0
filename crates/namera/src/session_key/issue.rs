//! Issue a session key on accounts on several chains with one owner signature.

use alloy_signer_local::PrivateKeySigner;

use super::{ApprovalError, ChainNonce, OwnerApproval};
use crate::{
    account::{SessionKeySigner, SmartAccount},
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
/// permission on its chain with its first operation (enable mode).
pub fn issue(
    owner: &PrivateKeySigner,
    accounts: &[&SmartAccount],
    permission: &Permission,
    key: &PrivateKeySigner,
) -> Result<(OwnerApproval, Vec<SessionKeySigner>), IssueError> {
    let Some(first) = accounts.first() else {
        return Err(ApprovalError::NoChains.into());
    };
    if accounts.iter().any(|a| a.config() != first.config()) {
        return Err(IssueError::DifferentAccounts);
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
    let states = accounts
        .iter()
        .zip(nonces)
        .map(|(a, n)| Ok(ChainNonce { chain_id: a.chain().chain_id, kernel_nonce: n? }))
        .collect::<Result<Vec<_>, IssueError>>()?;
    let approval = OwnerApproval::sign(owner, first.config(), permission, &states)?;
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

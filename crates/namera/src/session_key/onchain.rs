//! A session key's state on chain, and the owner operations that revoke keys.

use alloy_primitives::{Address, Bytes};
use alloy_sol_types::SolCall;
use serde_json::json;

use crate::{
    account::SmartAccount,
    kernel::{Call, ValidationId, abi::IKernel},
    node::{block_timestamp, call_answer, eth_call_request},
    permission::Permission,
    rpc::RpcError,
};

/// Where a session key stands on one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum KeyState {
    /// Not installed yet: the key installs itself on its first use (enable mode).
    PendingFirstUse,
    /// Installed and valid.
    Installed {
        /// The account nonce it was installed with.
        nonce: u32,
    },
    /// Uninstalled by the owner; it can never be installed again.
    Uninstalled,
    /// Invalidated by the owner's revoke-all (`invalidateNonce`).
    Invalidated {
        /// The nonce it was installed with.
        nonce: u32,
        /// Validations below this nonce are invalid.
        valid_nonce_from: u32,
    },
}

/// The state in words: one wording for the CLI and the MCP server.
impl std::fmt::Display for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PendingFirstUse => {
                f.write_str("approved; installs itself with its first operation")
            }
            Self::Installed { nonce } => write!(f, "installed (account nonce {nonce})"),
            Self::Uninstalled => f.write_str("revoked: the owner uninstalled it"),
            Self::Invalidated { nonce, valid_nonce_from } => write!(
                f,
                "revoked: the owner invalidated every key below nonce {valid_nonce_from} (this one has {nonce})"
            ),
        }
    }
}

impl KeyState {
    /// Whether operations signed by the key can pass.
    pub const fn is_usable(&self) -> bool {
        matches!(self, Self::PendingFirstUse | Self::Installed { .. })
    }

    /// Whether the owner revoked it (one way or the other).
    pub const fn is_revoked(&self) -> bool {
        matches!(self, Self::Uninstalled | Self::Invalidated { .. })
    }
}

/// Read the key's state: `validationConfig(vId)` and `validNonceFrom()` in one round trip.
///
/// Kernel clears the hook on uninstall but keeps the nonce, so a zero hook with a
/// non-zero nonce means "uninstalled", and a zero nonce means "never installed".
pub fn key_state(
    account: &SmartAccount,
    validation_id: ValidationId,
) -> Result<KeyState, RpcError> {
    read_state(account, validation_id).map(|(state, _)| state)
}

/// The state of a key whose owner approval was signed at account nonce `approval_nonce`
/// (what the store records): as [`key_state`], except that a key not installed yet whose
/// approval lies below `validNonceFrom` is [`KeyState::Invalidated`]. The owner's
/// revoke-all raised the nonce past it, so its enable signature can never verify again
/// (Kernel hashes the current nonce into the approval, and the multi-chain root validator
/// refuses it: ZeroDev's reverts "hash is not in proof").
pub fn approved_key_state(
    account: &SmartAccount,
    validation_id: ValidationId,
    approval_nonce: u32,
) -> Result<KeyState, RpcError> {
    let (state, valid_nonce_from) = read_state(account, validation_id)?;
    Ok(match state {
        KeyState::PendingFirstUse if approval_nonce < valid_nonce_from => {
            KeyState::Invalidated { nonce: approval_nonce, valid_nonce_from }
        }
        other => other,
    })
}

/// The key's state and the account's `validNonceFrom` (0 when not deployed), in one
/// round trip.
pub(crate) fn read_state(
    account: &SmartAccount,
    validation_id: ValidationId,
) -> Result<(KeyState, u32), RpcError> {
    let to = account.address();
    let answers = account.chain().node.rpc().batch(&[
        eth_call_request(
            to,
            &IKernel::validationConfigCall { vId: validation_id.into_inner() }.abi_encode(),
        ),
        eth_call_request(to, &IKernel::validNonceFromCall {}.abi_encode()),
    ])?;
    let raw = |i: usize| call_answer(to, &answers[i]);
    let config = raw(0)?;
    if config.is_empty() {
        // No code: the account is not deployed, so nothing is installed yet.
        return Ok((KeyState::PendingFirstUse, 0));
    }
    let decode_err = |e: alloy_sol_types::Error| RpcError::Decode {
        method: "eth_call".into(),
        reason: e.to_string(),
    };
    let config = IKernel::validationConfigCall::abi_decode_returns(&config).map_err(decode_err)?;
    let valid_nonce_from =
        IKernel::validNonceFromCall::abi_decode_returns(&raw(1)?).map_err(decode_err)?;
    let state = match (config.hook == Address::ZERO, config.nonce) {
        (true, 0) => KeyState::PendingFirstUse,
        (true, _) => KeyState::Uninstalled,
        (false, nonce) if nonce < valid_nonce_from => {
            KeyState::Invalidated { nonce, valid_nonce_from }
        }
        (false, nonce) => KeyState::Installed { nonce },
    };
    Ok((state, valid_nonce_from))
}

/// The owner's call that uninstalls `permission` from `account`: the account calls
/// itself, so it is sent as raw call data.
pub fn revoke_call(account: Address, permission: &Permission) -> Call {
    Call::new(
        account,
        IKernel::uninstallValidationCall {
            vId: permission.validation_id().into_inner(),
            deinitData: permission.install_data(),
            hookDeinitData: Bytes::new(),
        }
        .abi_encode()
        .into(),
    )
}

/// The owner's call that invalidates every session key installed so far: raise
/// `validNonceFrom` past the account's current nonce. Keys approved afterwards (with the
/// new `currentNonce()`) work.
pub fn revoke_all_call(account: Address, current_nonce: u32, valid_nonce_from: u32) -> Call {
    let nonce = current_nonce.max(valid_nonce_from) + 1;
    Call::new(account, IKernel::invalidateNonceCall { nonce }.abi_encode().into())
}

/// Read what [`revoke_all_call`] needs: `currentNonce()` and `validNonceFrom()`. An
/// account not deployed yet has neither getter; it will start at (1, 0), which is what
/// approvals made for it were signed at, so revoking there deploys it and invalidates.
pub fn nonces(account: &SmartAccount) -> Result<(u32, u32), RpcError> {
    if !account.is_deployed()? {
        return Ok((account.kernel_nonce()?, 0));
    }
    let node = &account.chain().node;
    let current = node.view(account.address(), &IKernel::currentNonceCall {})?;
    let from = node.view(account.address(), &IKernel::validNonceFromCall {})?;
    Ok((current, from))
}

alloy_sol_types::sol! {
    /// The state getters of the stateful policy contracts.
    interface IStatefulPolicies {
        function gasPolicyConfig(bytes32 id, address account)
            external view returns (uint128 allowed, bool enforcePaymaster, address allowedPaymaster);
        function rateLimitConfigs(bytes32 id, address account)
            external view returns (uint48 interval, uint48 count, uint48 startAt);
    }
}

/// Would `op` pass `permission`'s policies on `account` now? Reads the chain time, whether
/// the permission is installed, and the live gas and rate-limit budgets in ONE batched
/// round trip, then judges offline with [`crate::policy::explain`].
pub fn explain_operation(
    account: &SmartAccount,
    permission: &Permission,
    op: &crate::kernel::UserOperation,
) -> Result<Vec<crate::policy::Verdict>, RpcError> {
    use crate::policy::{LiveState, Operation, PolicyKind, explain};
    let id = {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(permission.id().as_bytes());
        alloy_primitives::B256::from(b)
    };
    let call = |to: Address, data: Vec<u8>| eth_call_request(to, &data);
    let mut calls = vec![
        ("eth_getBlockByNumber", json!(["latest", false])),
        call(
            account.address(),
            IKernel::validationConfigCall { vId: permission.validation_id().into_inner() }
                .abi_encode(),
        ),
    ];
    for p in &permission.policies {
        let who = account.address();
        calls.push(match p.kind {
            PolicyKind::Gas { .. } => call(
                p.address(),
                IStatefulPolicies::gasPolicyConfigCall { id, account: who }.abi_encode(),
            ),
            PolicyKind::RateLimit { .. } => call(
                p.address(),
                IStatefulPolicies::rateLimitConfigsCall { id, account: who }.abi_encode(),
            ),
            // Stateless: a cheap placeholder keeps answers aligned with policies.
            _ => ("eth_chainId", json!([])),
        });
    }
    let answers = account.chain().node.rpc().batch(&calls)?;
    let bad = |reason: String| RpcError::Decode { method: "explain".into(), reason };
    let now =
        block_timestamp(&answers[0].clone()?).ok_or_else(|| bad("no block timestamp".into()))?;
    let bytes_of = |i: usize, to: Address| call_answer(to, &answers[i]);
    let installed =
        IKernel::validationConfigCall::abi_decode_returns(&bytes_of(1, account.address())?)
            .map(|c| c.hook != Address::ZERO)
            .unwrap_or(false);
    let mut state = Vec::with_capacity(permission.policies.len());
    for (i, p) in permission.policies.iter().enumerate() {
        let live = match (&p.kind, installed) {
            (PolicyKind::Gas { .. }, true) => {
                let r = IStatefulPolicies::gasPolicyConfigCall::abi_decode_returns(&bytes_of(
                    i + 2,
                    p.address(),
                )?)
                .map_err(|e| bad(e.to_string()))?;
                LiveState::Gas { left: r.allowed }
            }
            (PolicyKind::RateLimit { .. }, true) => {
                let r = IStatefulPolicies::rateLimitConfigsCall::abi_decode_returns(&bytes_of(
                    i + 2,
                    p.address(),
                )?)
                .map_err(|e| bad(e.to_string()))?;
                LiveState::RateLimit {
                    uses_left: r.count.to::<u64>(),
                    next_at: r.startAt.to::<u64>(),
                }
            }
            // Several counters: read after the batch (one call per limit). Shared budgets
            // count before the key is installed too.
            (PolicyKind::Budget(b), installed) => {
                LiveState::Budget(crate::policy::read_budget_live(
                    &account.chain().node,
                    permission.id(),
                    account.address(),
                    b,
                    installed,
                )?)
            }
            _ => LiveState::Install,
        };
        state.push(live);
    }
    let facts = Operation {
        sender: account.address(),
        call_data: &op.call_data,
        max_cost: op.max_cost(),
        paymaster: op.paymaster.as_ref().map(|p| p.paymaster),
        now,
    };
    Ok(explain(&permission.policies, &facts, &state))
}

/// An ERC-1271 signature request the account refused.
#[derive(Debug, thiserror::Error)]
pub enum SignatureCheckError {
    /// A policy of the permission refused the request: the account reverted with
    /// `PolicyFailed(index)`.
    #[error("policies[{index}] ({policy}) refused the signature request: {revert}")]
    PolicyRefused {
        /// The refusing policy's type (`"signature-caller"`, …).
        policy: &'static str,
        /// Its position in the permission.
        index: u64,
        /// The revert, decoded.
        revert: Box<crate::revert::Revert>,
    },
    /// The node call failed, or reverted for another reason (its decoded revert is in
    /// [`RpcError::Reverted`]).
    #[error(transparent)]
    Rpc(#[from] RpcError),
}

/// Whether `account` accepts `signature` (made with a session key of `permission`, as
/// [`crate::permission::sign_erc1271_with_permission`] makes it) for `hash` when `caller`
/// asks: ERC-1271 `isValidSignature` through `eth_call` from `caller`. `Ok(true)` is the
/// magic value, `Ok(false)` any other answer; a policy that refuses the caller makes the
/// account revert, returned as [`SignatureCheckError::PolicyRefused`] naming it. The
/// offline prediction is [`crate::policy::explain_signature`].
pub fn check_signature(
    account: &SmartAccount,
    permission: &Permission,
    caller: Address,
    hash: alloy_primitives::B256,
    signature: Bytes,
) -> Result<bool, SignatureCheckError> {
    const MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];
    let data = IKernel::isValidSignatureCall { hash, signature }.abi_encode();
    match account.chain().node.call_from(caller, account.address(), &data) {
        Ok(out) => Ok(out.len() >= 4 && out[..4] == MAGIC),
        Err(RpcError::Reverted { revert, method, to }) => {
            let refusing = revert
                .decoded
                .policy_index
                .and_then(|i| Some((i, permission.policies.get(usize::try_from(i).ok()?)?)));
            match (revert.decoded.error, refusing) {
                (Some("PolicyFailed"), Some((index, p))) => {
                    Err(SignatureCheckError::PolicyRefused { policy: p.type_name(), index, revert })
                }
                _ => Err(RpcError::Reverted { method, to, revert }.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

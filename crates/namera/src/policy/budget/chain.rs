//! The budget policy on a chain: is it there, deploy it, read a key's counters.

use std::time::Duration;

use alloy_primitives::{Address, U256};

use super::{BudgetLive, IBudgetPolicy, MAX_LIMITS, budget_policy_address, deployment_call_data};
use crate::{
    account::{AccountError, OperationSigner, SmartAccount},
    kernel::{Call, LaneKey, PermissionId, addresses::DETERMINISTIC_DEPLOYER},
    node::NodeClient,
    rpc::RpcError,
};

/// Whether the budget policy has code on `node`'s chain.
pub fn is_deployed(node: &NodeClient) -> Result<bool, RpcError> {
    Ok(!node.code(budget_policy_address())?.is_empty())
}

/// Deploys the budget policy through the deterministic deployment proxy where it is
/// missing, with one UserOperation of `account` (signed by `signer`, normally the owner)
/// calling the proxy. Permissionless: whoever deploys it, the code and address are the same.
/// Returns whether it deployed it (false: it was there).
pub fn ensure_deployed(
    account: &SmartAccount,
    signer: &dyn OperationSigner,
    timeout: Duration,
) -> Result<bool, AccountError> {
    let node = &account.chain().node;
    if is_deployed(node)? {
        return Ok(false);
    }
    if node.code(DETERMINISTIC_DEPLOYER)?.is_empty() {
        return Err(AccountError::Sign(format!(
            "the deterministic deployment proxy {DETERMINISTIC_DEPLOYER} is missing on this chain; the budget policy cannot be deployed at its address"
        )));
    }
    let call = Call::new(DETERMINISTIC_DEPLOYER, deployment_call_data());
    account.execute(signer, &[call], LaneKey::default(), timeout)?;
    if !is_deployed(node)? {
        return Err(AccountError::Sign(format!(
            "the deployment landed but {} has no code",
            budget_policy_address()
        )));
    }
    Ok(true)
}

/// The counters the permission `id` of `account` draws on (shared or private), and its
/// tokens' decimals, for [`crate::policy::explain`].
pub fn read_live(
    node: &NodeClient,
    id: PermissionId,
    account: Address,
    limits: usize,
) -> Result<BudgetLive, RpcError> {
    alloy_sol_types::sol! {
        function decimals() external view returns (uint8);
    }
    let mut live = BudgetLive { chain_id: node.chain_id()?, ..BudgetLive::default() };
    let mut id32 = [0u8; 32];
    id32[..4].copy_from_slice(id.as_bytes());
    let at = budget_policy_address();
    for i in (0..limits.min(MAX_LIMITS)).chain([MAX_LIMITS]) {
        let call = IBudgetPolicy::counterCall { id: id32.into(), account, i: U256::from(i) };
        let r = node.view(at, &call)?;
        live.counters[i] = (r.index.to::<u64>(), r.used);
    }
    let config = node.view(at, &IBudgetPolicy::configCall { id: id32.into(), account })?;
    for (i, l) in config.limits.iter().enumerate().take(MAX_LIMITS) {
        // A token without `decimals()` is shown in base units.
        live.decimals[i] = if l.token == super::NATIVE_TOKEN {
            Some(18)
        } else {
            node.view(l.token, &decimalsCall {}).ok()
        };
    }
    Ok(live)
}

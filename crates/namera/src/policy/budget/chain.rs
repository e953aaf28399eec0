//! The budget policy on a chain: is it there, deploy it, read a key's counters.

use std::time::Duration;

use alloy_primitives::{Address, U256};

use super::{
    Budget, BudgetLive, IBudgetPolicy, MAX_LIMITS, NATIVE_TOKEN, budget_policy_address,
    deployment_call_data,
};
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

/// The counters the permission `id` of `account` with `budget` draws on, and its tokens'
/// decimals, for [`crate::policy::explain`]. A shared budget's counter is read by its name
/// even before the key is installed (other keys may have used it); a private counter and
/// the operation counter only once it is (`installed`), before that they are unused.
pub fn read_live(
    node: &NodeClient,
    id: PermissionId,
    account: Address,
    budget: &Budget,
    installed: bool,
) -> Result<BudgetLive, RpcError> {
    alloy_sol_types::sol! {
        function decimals() external view returns (uint8);
        function sharedBudget(bytes32 name, address token, address account) external view
            returns (bool set, uint128 amount, uint48 period, uint48 start, uint48 index, uint128 used);
    }
    let mut live = BudgetLive { chain_id: node.chain_id()?, ..BudgetLive::default() };
    let mut id32 = [0u8; 32];
    id32[..4].copy_from_slice(id.as_bytes());
    let at = budget_policy_address();
    let counter = |i: usize| -> Result<(u64, u128), RpcError> {
        let r = node
            .view(at, &IBudgetPolicy::counterCall { id: id32.into(), account, i: U256::from(i) })?;
        Ok((r.index.to::<u64>(), r.used))
    };
    for (i, l) in budget.limits.iter().enumerate().take(MAX_LIMITS) {
        live.counters[i] = match &l.budget {
            Some(name) => {
                let r = node.view(
                    at,
                    &sharedBudgetCall { name: name.to_bytes32(), token: l.token, account },
                )?;
                (r.index.to::<u64>(), r.used)
            }
            None if installed => counter(i)?,
            None => (0, 0),
        };
        // A token without `decimals()` is shown in base units.
        live.decimals[i] = if l.token == NATIVE_TOKEN {
            Some(18)
        } else {
            node.view(l.token, &decimalsCall {}).ok()
        };
    }
    if installed && budget.ops.is_some() {
        live.counters[MAX_LIMITS] = counter(MAX_LIMITS)?;
    }
    Ok(live)
}

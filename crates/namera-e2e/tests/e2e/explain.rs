//! The explain function agrees with the chain for the stateful and time-bound policies:
//! it reads the live budgets and the chain's time, and says "passes" exactly when the
//! operation lands, naming the same policy when it does not. The agreement is checked by
//! the one helper every policy case uses ([`super::policies::assert_explain_agrees`]).

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{SessionKeySigner, SmartAccount},
    kernel::{Call, LaneKey, UserOperation},
    permission::{Permission, PermissionSigner},
    policy::{Policy, PolicyKind, chain_refusal},
    session_key::{explain_operation, issue},
};
use namera_e2e::{RECEIPT_TIMEOUT, ether, new_account, random_address};

use super::policies::{assert_explain_agrees, chain_verdict};

fn key_with(policies: Vec<Policy>) -> (SmartAccount, Permission, SessionKeySigner) {
    let (owner, account, _) = new_account(false, ether(1));
    let key = PrivateKeySigner::random();
    let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), policies).unwrap();
    let signer = issue(&owner, &[&account], &permission, &key).unwrap().1.remove(0);
    (account, permission, signer)
}

/// Explain `op`, then send the same calls; both must agree. Returns the policy explain
/// names (the one the chain reports).
fn agree(
    account: &SmartAccount,
    permission: &Permission,
    signer: &SessionKeySigner,
    op: &UserOperation,
    calls: &[Call],
) -> Option<&'static str> {
    let verdicts = explain_operation(account, permission, op).unwrap();
    let result = account.execute(signer, calls, LaneKey::DEFAULT, RECEIPT_TIMEOUT);
    if let Ok(r) = &result {
        assert!(r.success, "{r:?}");
    }
    assert_explain_agrees("explain", &verdicts, chain_verdict(&result));
    chain_refusal(&verdicts).map(|v| v.policy)
}

#[test]
fn gas_budget_explained_as_the_chain_charges_it() {
    // A budget for one first operation (which deploys the account and installs the key)
    // plus 1%: the first fits, and what is left after it fits no further operation.
    let calls = [Call::transfer(random_address(), U256::from(1))];
    let gas = |allowed| {
        Policy::new(PolicyKind::Gas {
            allowed,
            enforce_paymaster: false,
            allowed_paymaster: Default::default(),
        })
    };
    let (probe_account, _, probe) = key_with(vec![gas(u128::MAX >> 1)]);
    let first_cost = probe_account.prepare(&probe, &calls, LaneKey::DEFAULT).unwrap().max_cost();
    let budget: u128 = (first_cost * U256::from(101) / U256::from(100)).to();
    let (account, permission, signer) = key_with(vec![gas(budget)]);
    let first = account.prepare(&signer, &calls, LaneKey::DEFAULT).unwrap();
    assert_eq!(
        agree(&account, &permission, &signer, &first, &calls),
        None,
        "the first operation fits"
    );
    // The next operation is cheaper (no deployment, no install), but not cheaper than
    // what is left; explain it with its own shape (default mode, deployed).
    let mut next = first.clone();
    next.factory = None;
    next.factory_data = Default::default();
    next.verification_gas_limit /= 4;
    let verdicts = explain_operation(&account, &permission, &next).unwrap();
    assert!(verdicts[0].budget.is_some(), "the live budget is reported");
    assert_eq!(
        agree(&account, &permission, &signer, &next, &calls),
        Some("gas"),
        "the rest of the budget does not fit"
    );
}

#[test]
fn rate_limit_explained_from_live_uses() {
    let calls = [Call::transfer(random_address(), U256::from(1))];
    let (account, permission, signer) =
        key_with(vec![Policy::new(PolicyKind::RateLimit { interval: 0, count: 1, start_at: 0 })]);
    let op = UserOperation { call_data: Default::default(), ..Default::default() };
    assert_eq!(agree(&account, &permission, &signer, &op, &calls), None);
    let verdicts = explain_operation(&account, &permission, &op).unwrap();
    assert_eq!(verdicts[0].refusal.as_deref(), Some("every allowed use has been spent"));
    assert_eq!(agree(&account, &permission, &signer, &op, &calls), Some("rate-limit"));
}

#[test]
fn time_window_explained_with_the_chains_clock() {
    let calls = [Call::transfer(random_address(), U256::from(1))];
    let now = namera_e2e::chain().node.timestamp().unwrap();
    let op = UserOperation::default();
    let (account, permission, signer) = key_with(vec![Policy::new(PolicyKind::Timestamp {
        valid_after: 1,
        valid_until: now - 10,
    })]);
    assert_eq!(
        agree(&account, &permission, &signer, &op, &calls),
        Some("timestamp"),
        "ended window"
    );
    let (account, permission, signer) = key_with(vec![Policy::new(PolicyKind::Timestamp {
        valid_after: 1,
        valid_until: now + 3600,
    })]);
    assert_eq!(agree(&account, &permission, &signer, &op, &calls), None, "open window");
}

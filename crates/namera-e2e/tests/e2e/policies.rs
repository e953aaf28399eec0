//! Every policy type enforced on chain: an allowed operation lands (and its effect is
//! checked), a violating one is refused at estimation, naming the policy when the chain does.
//! In every case the explain function, asked first with the chain's live state, must
//! predict the chain's verdict (one helper, [`assert_explain_agrees`]): for UserOperations
//! through [`run`], for ERC-1271 requests with `explain_signature`.
//!
//! The call-policy cases are a table: `(name, calls, expected)` run in order against one
//! permission on one fresh account; the permission installs itself with the first
//! operation that lands, later cases act plainly.

use std::{
    collections::HashMap,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, sol};
use namera::{
    account::{AccountError, SessionKeySigner, SmartAccount},
    kernel::{
        Call, ExecType, KernelVersion, LaneKey, UserOperation, abi::IKernel, addresses::GAS_POLICY,
        encode_calls,
    },
    permission::{Permission, PermissionSigner, kernel_domain, sign_erc1271_with_permission},
    policy::{
        ArgRule, ArgValue, BARE, CallPermission, CallPolicy, ParamCondition, Policy, PolicyKind,
        Verdict, chain_refusal, explain_signature,
    },
    session_key::{
        ChainNonce, KeyState, OwnerApproval, SignatureCheckError, check_signature,
        explain_operation, key_state, revoke_call,
    },
};
use namera_e2e::{RECEIPT_TIMEOUT, ether, new_account, random_address};
use serde_json::json;

sol! {
    function transfer(address to, uint256 amount);
    function approve(address spender, uint256 amount);
    function greet(string message);
    function gasPolicyConfig(bytes32 id, address account) external view returns (uint128 allowed, bool enforcePaymaster, address allowedPaymaster);
}

fn token_abi() -> serde_json::Value {
    let two = |name: &str, first: &str| {
        json!({"type": "function", "name": name, "stateMutability": "nonpayable",
            "inputs": [{"name": first, "type": "address"}, {"name": "amount", "type": "uint256"}],
            "outputs": [{"type": "bool"}]})
    };
    json!([two("transfer", "to"), two("approve", "spender"),
        {"type": "function", "name": "greet", "stateMutability": "nonpayable",
            "inputs": [{"name": "message", "type": "string"}], "outputs": []}])
}

// ---------------------------------------------------------------------------------------
// Helpers

/// What a case expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// The operation lands and every call's value arrives.
    Lands,
    /// Refused at estimation: the SDK names `policy`; `error` is the custom error read
    /// from the revert (`None` when there is none to read).
    Refused { policy: Option<&'static str>, error: Option<&'static str> },
    /// Refused as `AA22 expired or not due`: a policy's validAfter/validUntil window
    /// (timestamp or rate limit) excludes now. Kernel reports no policy index for these;
    /// the SDK names the permission's window policies instead.
    OutsideWindow,
}

const fn refused(policy: &'static str, error: &'static str) -> Expect {
    Expect::Refused { policy: Some(policy), error: Some(error) }
}

/// Refused by the call policy with `error`.
const fn call(error: &'static str) -> Expect {
    refused("call", error)
}

/// Refused with Kernel's `PolicyFailed(i)`, `i` being the named policy.
const fn failed(policy: &'static str) -> Expect {
    refused(policy, "PolicyFailed")
}

/// One row of a table.
struct Case {
    name: &'static str,
    calls: Vec<Call>,
    expect: Expect,
}

fn case(name: &'static str, calls: Vec<Call>, expect: Expect) -> Case {
    Case { name, calls, expect }
}

/// A call with data and `value` wei (so that its effect shows in `to`'s balance).
fn data_call(to: Address, value: u64, data: Vec<u8>) -> Call {
    Call { to, value: U256::from(value), data: data.into() }
}

fn transfer_of(token: Address, amount: u64) -> Call {
    data_call(
        token,
        1,
        transferCall { to: random_address(), amount: U256::from(amount) }.abi_encode(),
    )
}

/// A session key whose first operation enables `policies` on `account`.
fn issue(
    owner: &PrivateKeySigner,
    account: &SmartAccount,
    policies: Vec<Policy>,
) -> SessionKeySigner {
    let key = PrivateKeySigner::random();
    let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), policies).unwrap();
    enable_with_fresh_approval(owner, account, key, permission)
}

fn enable_with_fresh_approval(
    owner: &PrivateKeySigner,
    account: &SmartAccount,
    key: PrivateKeySigner,
    permission: Permission,
) -> SessionKeySigner {
    namera::session_key::issue(owner, &[account], &permission, &key).unwrap().1.remove(0)
}

/// What actually happened, in the table's terms.
fn outcome<T: std::fmt::Debug>(result: &Result<T, AccountError>) -> Expect {
    match result {
        Ok(_) => Expect::Lands,
        Err(AccountError::Refused { refusal, policy: Some(_), .. })
            if refusal.error.is_none() && refusal.aa_code.as_deref() == Some("AA22") =>
        {
            Expect::OutsideWindow
        }
        Err(e @ AccountError::Refused { refusal, .. }) => {
            Expect::Refused { policy: e.refusing_policy(), error: refusal.error }
        }
        Err(e) => panic!("neither landed nor refused: {e:?}"),
    }
}

/// A verdict as the chain gives it: the outcome and, for `PolicyFailed(i)`, the index.
pub(crate) type ChainVerdict = (Expect, Option<u64>);

/// The chain's verdict on a UserOperation.
pub(crate) fn chain_verdict<T: std::fmt::Debug>(result: &Result<T, AccountError>) -> ChainVerdict {
    let index = match result {
        Err(AccountError::Refused { refusal, .. }) => refusal.policy_index,
        _ => None,
    };
    (outcome(result), index)
}

/// The call policy's errors (both versions), as explain's refusals start with them.
const CALL_ERRORS: [&str; 6] = [
    "InvalidCallData",
    "CallViolatesTargetRule",
    "InvalidCallType",
    "CallViolatesValueRule",
    "CallViolatesParamRule",
    "ParamTooShort",
];

/// What explain predicts the chain will say: [`chain_refusal`] picks the refusal the
/// chain reports (the first outright failure, else a window).
fn predicted(verdicts: &[Verdict]) -> ChainVerdict {
    match chain_refusal(verdicts) {
        None => (Expect::Lands, None),
        Some(v) if v.outside_window => (Expect::OutsideWindow, None),
        // The contract reverts with no data: no error name, the SDK attributes it.
        Some(v) if v.refusal.as_deref().is_some_and(|r| r.starts_with(BARE)) => {
            (Expect::Refused { policy: Some(v.policy), error: None }, None)
        }
        Some(v) if v.policy == "call" => {
            let r = v.refusal.as_deref().unwrap_or_default();
            let error = CALL_ERRORS.into_iter().find(|e| r.starts_with(&format!("{e}: ")));
            assert!(error.is_some(), "explain's call refusal names no error: {r}");
            (Expect::Refused { policy: Some("call"), error }, None)
        }
        Some(v) => (
            Expect::Refused { policy: Some(v.policy), error: Some("PolicyFailed") },
            Some(v.index as u64),
        ),
    }
}

/// THE agreement check, for every case of every policy: explain's verdict, taken before
/// the chain was asked, is the chain's.
#[track_caller]
pub(crate) fn assert_explain_agrees(what: &str, verdicts: &[Verdict], chain: ChainVerdict) {
    eprintln!("[policies] {what}: chain {chain:?}, explain {:?}", chain_refusal(verdicts));
    assert_eq!(
        predicted(verdicts),
        chain,
        "{what}: explain disagrees with the chain: {verdicts:#?}"
    );
}

/// Explain `calls` for `signer`, then run them, and check both said the same. The
/// operation explained is the one the chain judged: the estimated one when the bundler
/// took it, or, when the bundler refused the estimate, the one it simulated for it
/// ([`estimated_as`]). On success the receipt is checked, the key marked installed and
/// the operation returned.
#[track_caller]
fn run(
    account: &SmartAccount,
    signer: &mut SessionKeySigner,
    calls: &[Call],
) -> Result<UserOperation, AccountError> {
    run_as("run", account, signer, calls)
}

/// [`run`], naming the case in a disagreement.
#[track_caller]
fn run_as(
    what: &str,
    account: &SmartAccount,
    signer: &mut SessionKeySigner,
    calls: &[Call],
) -> Result<UserOperation, AccountError> {
    let (verdicts, result) = match account.prepare(signer, calls, LaneKey::DEFAULT) {
        Ok(op) => {
            let verdicts = explain_operation(account, signer.permission(), &op).unwrap();
            let landed = account.sign_and_send(signer, op).and_then(|sent| {
                let receipt = account.wait(sent.hash, RECEIPT_TIMEOUT)?;
                assert!(receipt.success, "execution failed: {receipt:?}");
                Ok(sent.operation)
            });
            (verdicts, landed)
        }
        Err(e) => {
            let call_data =
                encode_calls(account.address(), calls, false, ExecType::Default).unwrap();
            (
                explain_operation(account, signer.permission(), &estimated_as(account, call_data))
                    .unwrap(),
                Err(e),
            )
        }
    };
    assert_explain_agrees(what, &verdicts, chain_verdict(&result));
    if result.is_ok() {
        signer.mark_installed();
    }
    result
}

/// The operation the bundler judged when it refused an estimate: Alto simulates the
/// estimate with its own gas figures (maxFeePerGas 1 wei, preVerificationGas 0, 10 M
/// verification and call gas: its defaults, which the devnet keeps), so the gas policy
/// is charged 20 M wei there, not the operation's real cost.
fn estimated_as(account: &SmartAccount, call_data: alloy_primitives::Bytes) -> UserOperation {
    UserOperation {
        sender: account.address(),
        call_data,
        max_fee_per_gas: 1,
        max_priority_fee_per_gas: 1,
        pre_verification_gas: U256::ZERO,
        verification_gas_limit: 10_000_000,
        call_gas_limit: 10_000_000,
        ..Default::default()
    }
}

/// Run without explaining, for a permission the owner revoked: explain judges the
/// policies, not whether the permission is still installed.
fn run_revoked(
    account: &SmartAccount,
    signer: &SessionKeySigner,
    calls: &[Call],
) -> Result<namera::bundler::UserOperationReceipt, AccountError> {
    account.execute(signer, calls, LaneKey::DEFAULT, RECEIPT_TIMEOUT)
}

/// Run a table of cases in order on one fresh account with one permission. Balances of
/// every call target are checked after each case: a landed case adds its values, a refused
/// one changes nothing.
fn run_table(test: &str, policies: Vec<Policy>, cases: Vec<Case>) {
    let (owner, account, _) = new_account(false, ether(1));
    let mut signer = issue(&owner, &account, policies);
    run_table_on(test, &account, &mut signer, cases);
}

fn run_table_on(
    test: &str,
    account: &SmartAccount,
    signer: &mut SessionKeySigner,
    cases: Vec<Case>,
) {
    let node = &account.chain().node;
    let mut expected: HashMap<Address, U256> = HashMap::new();
    for c in cases {
        for call in &c.calls {
            expected.entry(call.to).or_insert_with(|| node.balance(call.to).unwrap());
        }
        let started = Instant::now();
        let result = run_as(&format!("{test} / {}", c.name), account, signer, &c.calls);
        let got = outcome(&result);
        eprintln!(
            "[policies] {test} / {}: {got:?} in {} ms{}",
            c.name,
            started.elapsed().as_millis(),
            result.as_ref().err().map(|e| format!(" — {e}")).unwrap_or_default()
        );
        assert_eq!(got, c.expect, "{test} / {}: {result:?}", c.name);
        if got == Expect::Lands {
            for call in &c.calls {
                *expected.get_mut(&call.to).unwrap() += call.value;
            }
        }
        for (a, want) in &expected {
            assert_eq!(node.balance(*a).unwrap(), *want, "{test} / {}: balance of {a}", c.name);
        }
    }
}

fn call_policy(permissions: Vec<CallPermission>) -> Policy {
    Policy::new(PolicyKind::Call(CallPolicy { permissions, ..CallPolicy::default() }))
}

/// `transfer(to, amount)` on `token` with one rule on `amount`, value up to 1 000 wei.
fn amount_rule(token: Address, rule: ArgRule) -> Policy {
    let p = CallPermission::from_abi(token, token_abi(), "transfer", None, vec![None, Some(rule)])
        .unwrap()
        .with_value_limit(U256::from(1000));
    call_policy(vec![p])
}

fn compare(condition: ParamCondition, v: u64) -> ArgRule {
    ArgRule::Compare { condition, value: ArgValue::uint(U256::from(v)) }
}

fn wall_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The chain's time now: mine a block (anvil stamps it with its clock) and read it.
fn chain_now(account: &SmartAccount) -> u64 {
    let rpc = account.chain().node.rpc();
    let _: serde_json::Value = rpc.call("evm_mine", json!([])).unwrap();
    account.chain().node.timestamp().unwrap()
}

/// Sleep until the wall clock reads at least `t` (whole seconds, as Alto reads it), then
/// mine a block: Alto simulates against the latest block, whose timestamp on an idle
/// anvil lags the wall clock, so a just-reached validAfter would still be "not due".
fn wait_until(account: &SmartAccount, t: u64) {
    sleep_until(t);
    assert!(chain_now(account) >= t);
}

fn sleep_until(t: u64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let target = Duration::from_secs(t);
    if target > now {
        let wait = target - now + Duration::from_millis(50);
        assert!(wait <= Duration::from_secs(6), "would wait {wait:?}");
        std::thread::sleep(wait);
    }
}

fn expect_refused<T: std::fmt::Debug>(result: Result<T, AccountError>, what: &str) -> AccountError {
    match result {
        Ok(r) => panic!("{what}: landed but should have been refused: {r:?}"),
        Err(e) => {
            eprintln!("[policies] {what}: refused — {e}");
            assert!(
                e.refusal().is_some(),
                "{what}: refused by the bundler, not an RPC failure: {e:?}"
            );
            e
        }
    }
}

/// `e` is the bundler's `AA22 expired or not due` for a window of `policy`. The chain
/// does not say which policy set the window; the SDK names the permission's only window
/// policy.
fn assert_outside_window(e: &AccountError, policy: &str) {
    let r = refusal_of(e);
    assert_eq!(r.aa_code.as_deref(), Some("AA22"), "{e:?}");
    assert_eq!((r.error, r.policy_index), (None, None), "{e:?}");
    assert_eq!(e.refusing_policy(), Some(policy), "{e:?}");
}

fn refusal_of(e: &AccountError) -> &namera::revert::Refusal {
    match e {
        AccountError::Refused { refusal, .. } => refusal,
        _ => panic!("not a refusal: {e:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// 1. Call policy

#[test]
fn call_policy_target_and_selector() {
    let token = random_address();
    let p = CallPermission::from_abi(token, token_abi(), "transfer", None, vec![])
        .unwrap()
        .with_value_limit(U256::from(1000));
    run_table(
        "call target/selector",
        vec![call_policy(vec![p])],
        vec![
            case(
                "other target",
                vec![transfer_of(random_address(), 5)],
                call("CallViolatesTargetRule"),
            ),
            case("allowed target and selector", vec![transfer_of(token, 5)], Expect::Lands),
            case(
                "selector not allowed (approve)",
                vec![data_call(
                    token,
                    1,
                    approveCall { spender: random_address(), amount: U256::from(5) }.abi_encode(),
                )],
                call("CallViolatesTargetRule"),
            ),
            case(
                "plain transfer (no selector) not allowed",
                vec![Call::transfer(token, U256::from(1))],
                call("CallViolatesTargetRule"),
            ),
            case("allowed again, installed", vec![transfer_of(token, 6)], Expect::Lands),
        ],
    );
}

#[test]
fn call_policy_equal_from_sdk_json() {
    let token = random_address();
    let to = with_last_byte(random_address(), 0x80);
    let policy = Policy::from_json(&json!({
        "type": "call", "policyVersion": "0.0.5",
        "permissions": [{"target": token, "abi": token_abi(), "functionName": "transfer",
            "valueLimit": "1000",
            "args": [{"condition": "EQUAL", "value": format!("{to:#x}")}, null]}]
    }))
    .unwrap();
    let pay =
        |to: Address| data_call(token, 1, transferCall { to, amount: U256::from(1) }.abi_encode());
    let (below, above) = (with_last_byte(to, 0x7f), with_last_byte(to, 0x81));
    run_table(
        "call EQUAL (address, SDK JSON)",
        vec![policy],
        vec![
            case("to = allowed - 1", vec![pay(below)], call("CallViolatesParamRule")),
            case("to = allowed", vec![pay(to)], Expect::Lands),
            case("to = allowed + 1", vec![pay(above)], call("CallViolatesParamRule")),
        ],
    );
}

/// One table per comparison over `amount` with the bound 100: the values on both sides.
fn comparison_table(condition: ParamCondition, lands: &[u64], refused_at: &[u64]) {
    let token = random_address();
    let mut cases = Vec::new();
    // Refusals first: the permission is still being enabled, which must not change them.
    for &v in refused_at {
        cases.push(case(
            leak(format!("amount {v}")),
            vec![transfer_of(token, v)],
            call("CallViolatesParamRule"),
        ));
    }
    for &v in lands {
        cases.push(case(leak(format!("amount {v}")), vec![transfer_of(token, v)], Expect::Lands));
    }
    // And once more after install.
    for &v in refused_at.iter().take(1) {
        cases.push(case(
            leak(format!("amount {v} (installed)")),
            vec![transfer_of(token, v)],
            call("CallViolatesParamRule"),
        ));
    }
    run_table(condition.name(), vec![amount_rule(token, compare(condition, 100))], cases);
}

fn with_last_byte(a: Address, b: u8) -> Address {
    let mut bytes = a.0.0;
    bytes[19] = b;
    Address::from(bytes)
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn call_policy_equal() {
    comparison_table(ParamCondition::Equal, &[100], &[99, 101]);
}

#[test]
fn call_policy_greater_than() {
    comparison_table(ParamCondition::GreaterThan, &[101], &[100, 99]);
}

#[test]
fn call_policy_less_than() {
    comparison_table(ParamCondition::LessThan, &[99], &[100, 101]);
}

#[test]
fn call_policy_greater_than_or_equal() {
    comparison_table(ParamCondition::GreaterThanOrEqual, &[100, 101], &[99]);
}

#[test]
fn call_policy_less_than_or_equal() {
    comparison_table(ParamCondition::LessThanOrEqual, &[100, 99], &[101]);
}

#[test]
fn call_policy_not_equal() {
    comparison_table(ParamCondition::NotEqual, &[99, 101], &[100]);
}

#[test]
fn call_policy_one_of() {
    let token = random_address();
    let rule = ArgRule::OneOf(vec![ArgValue::uint(U256::from(10)), ArgValue::uint(U256::from(20))]);
    let t = |v| vec![transfer_of(token, v)];
    run_table(
        "ONE_OF {10, 20}",
        vec![amount_rule(token, rule)],
        vec![
            case("amount 9", t(9), call("CallViolatesParamRule")),
            case("amount 10", t(10), Expect::Lands),
            case("amount 11", t(11), call("CallViolatesParamRule")),
            case("amount 19", t(19), call("CallViolatesParamRule")),
            case("amount 20", t(20), Expect::Lands),
            case("amount 21", t(21), call("CallViolatesParamRule")),
        ],
    );
}

#[test]
fn call_policy_slice_equal() {
    let target = random_address();
    let rule = ArgRule::SliceEqual { value: ArgValue::Text("hello".into()), start: 0, length: 5 };
    let p = CallPermission::from_abi(target, token_abi(), "greet", None, vec![Some(rule)])
        .unwrap()
        .with_value_limit(U256::from(1000));
    let g = |m: &str| vec![data_call(target, 1, greetCall { message: m.into() }.abi_encode())];
    run_table(
        "SLICE_EQUAL \"hello\" at 0..5 (v0.0.5)",
        vec![call_policy(vec![p])],
        vec![
            case("\"hallo world\"", g("hallo world"), call("CallViolatesParamRule")),
            case("\"hello world\"", g("hello world"), Expect::Lands),
            case("\"hello\" exactly", g("hello"), Expect::Lands),
            case("\"Hello world\"", g("Hello world"), call("CallViolatesParamRule")),
            // Shorter than the slice: the policy reverts ParamTooShort().
            case("\"hell\" (too short)", g("hell"), call("ParamTooShort")),
        ],
    );
}

#[test]
fn call_policy_value_limit() {
    let to = random_address();
    let pay = |v: u64| vec![Call::transfer(to, U256::from(v))];
    run_table(
        "value limit 1000 on a native transfer",
        vec![call_policy(vec![CallPermission::transfer(to, U256::from(1000))])],
        vec![
            case("1001 wei", pay(1001), call("CallViolatesValueRule")),
            case("1000 wei (the limit)", pay(1000), Expect::Lands),
            case("999 wei", pay(999), Expect::Lands),
            case("1001 wei (installed)", pay(1001), call("CallViolatesValueRule")),
            case(
                "data to a transfer-only target",
                vec![transfer_of(to, 1)],
                call("CallViolatesTargetRule"),
            ),
        ],
    );
}

#[test]
fn call_policy_checks_batch_items_one_by_one() {
    let token = random_address();
    let to = random_address();
    let policy = call_policy(vec![
        CallPermission::from_abi(
            token,
            token_abi(),
            "transfer",
            None,
            vec![None, Some(compare(ParamCondition::LessThanOrEqual, 100))],
        )
        .unwrap()
        .with_value_limit(U256::from(1000)),
        CallPermission::transfer(to, U256::from(1000)),
    ]);
    let ok_pay = Call::transfer(to, U256::from(7));
    run_table(
        "batch",
        vec![policy],
        vec![
            case(
                "allowed + forbidden target",
                vec![ok_pay.clone(), transfer_of(random_address(), 1)],
                call("CallViolatesTargetRule"),
            ),
            case(
                "allowed + rule broken",
                vec![transfer_of(token, 100), transfer_of(token, 101)],
                call("CallViolatesParamRule"),
            ),
            case(
                "allowed + value over limit",
                vec![transfer_of(token, 1), Call::transfer(to, U256::from(1001))],
                call("CallViolatesValueRule"),
            ),
            case("two allowed", vec![transfer_of(token, 100), ok_pay.clone()], Expect::Lands),
            case(
                "three allowed (installed)",
                vec![ok_pay.clone(), transfer_of(token, 1), ok_pay],
                Expect::Lands,
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// 2. Gas policy

fn gas(allowed: u128) -> Policy {
    Policy::new(PolicyKind::Gas {
        allowed,
        enforce_paymaster: false,
        allowed_paymaster: Address::ZERO,
    })
}

fn gas_remaining(account: &SmartAccount, permission: &Permission) -> u128 {
    let mut id = B256::ZERO;
    id[..4].copy_from_slice(permission.id().0.as_slice());
    account
        .chain()
        .node
        .view(GAS_POLICY, &gasPolicyConfigCall { id, account: account.address() })
        .unwrap()
        .allowed
}

/// Deploy `account` with an owner operation, so that later operations do not pay for it.
fn deploy(account: &SmartAccount, owner_signer: &namera::account::OwnerSigner) {
    let r = account
        .execute(
            owner_signer,
            &[Call::transfer(random_address(), U256::from(1))],
            LaneKey::DEFAULT,
            RECEIPT_TIMEOUT,
        )
        .unwrap();
    assert!(r.success, "{r:?}");
}

#[test]
fn gas_policy_budget_covers_one_operation_not_two() {
    let (owner, account, owner_signer) = new_account(false, ether(1));
    deploy(&account, &owner_signer);
    let to = random_address();
    let calls = [Call::transfer(to, U256::from(11))];
    // What the enabling operation costs at most: estimate it with a key whose budget
    // is ample (same install-data size, so the same gas).
    let probe = issue(&owner, &account, vec![gas(u128::MAX / 2)]);
    let probe_cost: u128 =
        account.prepare(&probe, &calls, LaneKey::DEFAULT).unwrap().max_cost().to();
    let allowed = probe_cost + probe_cost / 10;

    let mut signer = issue(&owner, &account, vec![gas(allowed)]);
    let charged: u128 = run(&account, &mut signer, &calls).unwrap().max_cost().to();
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(11));
    // The policy charged exactly the operation's maximum cost.
    let remaining = gas_remaining(&account, signer.permission());
    eprintln!(
        "[policies] gas: allowed {allowed}, first op charged {charged}, remaining {remaining}"
    );
    assert_eq!(remaining, allowed - charged);
    // Explain reads the same budget.
    let left =
        &explain_operation(&account, signer.permission(), &UserOperation::default()).unwrap()[0];
    assert_eq!(left.budget, Some(format!("{remaining} wei of gas budget left")));

    let e = expect_refused(run(&account, &mut signer, &calls), "gas: second operation");
    assert_eq!(e.refusing_policy(), Some("gas"), "{e:?}");
    assert_eq!(refusal_of(&e).error, Some("PolicyFailed"));
    assert_eq!(refusal_of(&e).policy_index, Some(0));
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(11), "nothing more sent");
    assert_eq!(gas_remaining(&account, signer.permission()), remaining, "nothing charged");
}

/// The paymaster rules as the canonical GasPolicy applies them (contracts/CANONICAL.md), with
/// explain agreeing on each: `enforcePaymaster` with no paymaster named checks nothing, so an
/// unsponsored operation lands; with one named, an operation without a paymaster makes the
/// contract revert with no data, which the SDK still attributes to the gas policy.
#[test]
fn gas_policy_paymaster_rules_as_the_canonical_contract() {
    let to = random_address();
    let enforce = |allowed_paymaster| {
        vec![Policy::new(PolicyKind::Gas {
            allowed: u128::MAX / 2,
            enforce_paymaster: true,
            allowed_paymaster,
        })]
    };
    run_table(
        "gas: enforce, no paymaster named",
        enforce(Address::ZERO),
        vec![case("without a paymaster", vec![Call::transfer(to, U256::from(3))], Expect::Lands)],
    );
    run_table(
        "gas: enforce, a paymaster named",
        enforce(random_address()),
        vec![case(
            "without a paymaster",
            vec![Call::transfer(to, U256::from(4))],
            Expect::Refused { policy: Some("gas"), error: None },
        )],
    );
}

// ---------------------------------------------------------------------------------------
// 3. Timestamp policy

fn window(valid_after: u64, valid_until: u64) -> Policy {
    Policy::new(PolicyKind::Timestamp { valid_after, valid_until })
}

#[test]
fn timestamp_policy_window_that_ended_is_refused() {
    let (owner, account, _) = new_account(false, ether(1));
    let to = random_address();
    let pay = |v: u64| [Call::transfer(to, U256::from(v))];
    // Alto refuses ops that expire within 5 s of its wall clock: end the window 9 s ahead.
    let until = chain_now(&account).max(wall_now()) + 9;
    let mut signer = issue(&owner, &account, vec![window(0, until)]);
    run(&account, &mut signer, &pay(1)).unwrap();
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(1));

    // Move the chain past the window's end.
    let rpc = account.chain().node.rpc();
    let jump = until + 2 - chain_now(&account);
    let _: serde_json::Value = rpc.call("evm_increaseTime", json!([jump])).unwrap();
    assert!(chain_now(&account) > until);
    let e = expect_refused(run(&account, &mut signer, &pay(2)), "timestamp: after the window");
    assert_outside_window(&e, "timestamp");
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(1));
}

#[test]
fn timestamp_policy_window_in_the_future_lands_once_open() {
    let (owner, account, _) = new_account(false, ether(1));
    let to = random_address();
    let pay = |v: u64| [Call::transfer(to, U256::from(v))];
    let after = wall_now() + 4;
    let mut signer = issue(&owner, &account, vec![window(after, 0)]);
    let e = expect_refused(run(&account, &mut signer, &pay(1)), "timestamp: not open yet");
    assert_outside_window(&e, "timestamp");
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::ZERO);
    wait_until(&account, after);
    run(&account, &mut signer, &pay(2)).unwrap();
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(2));
}

// ---------------------------------------------------------------------------------------
// 4. Rate-limit policy

fn rate_limit(interval: u64, count: u64, start_at: u64) -> Policy {
    Policy::rate_limit(interval, count, start_at)
}

#[test]
fn rate_limit_policy_spaces_uses_and_stops_after_count() {
    let (owner, account, _) = new_account(false, ether(1));
    let to = random_address();
    let pay = |v: u64| [Call::transfer(to, U256::from(v))];
    // Start now: the chain's time, but not past the wall clock Alto judges by.
    let start = chain_now(&account).min(wall_now());
    let mut signer = issue(&owner, &account, vec![rate_limit(3, 2, start)]);
    run(&account, &mut signer, &pay(1)).unwrap();
    let budget = &explain_operation(&account, signer.permission(), &UserOperation::default())
        .unwrap()[0]
        .budget;
    assert_eq!(
        budget.as_deref(),
        Some(
                format!(
                    "1 of 2 uses left in all, the next allowed from {} (each at least 3 s after the previous)",
                    start + 3
                )
                .as_str()
            )
    );
    let e = expect_refused(run(&account, &mut signer, &pay(2)), "rate-limit: immediate second use");
    assert_outside_window(&e, "rate-limit");
    wait_until(&account, start + 3);
    run(&account, &mut signer, &pay(4)).unwrap();
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(5));
    let e = expect_refused(run(&account, &mut signer, &pay(8)), "rate-limit: third use");
    assert_eq!(e.refusing_policy(), Some("rate-limit"), "{e:?}");
    assert_eq!(refusal_of(&e).error, Some("PolicyFailed"));
    wait_until(&account, start + 6);
    let e = expect_refused(
        run(&account, &mut signer, &pay(16)),
        "rate-limit: third use, after waiting",
    );
    assert_eq!(e.refusing_policy(), Some("rate-limit"), "{e:?}");
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(5));
}

/// `Policy::rate_limit_from_now` starts at the chain's time, read from the latest block:
/// the first use lands at once, the next one is not due before `interval` has passed
/// (with `startAt` = 0 it would land too).
#[test]
fn rate_limit_from_now_starts_at_the_chains_time() {
    let (owner, account, _) = new_account(false, ether(1));
    let node = &account.chain().node;
    let to = random_address();
    let pay = |v: u64| [Call::transfer(to, U256::from(v))];
    let latest = || {
        let b: serde_json::Value =
            node.rpc().call("eth_getBlockByNumber", json!(["latest", false])).unwrap();
        (b["number"].as_str().unwrap().to_owned(), namera::node::block_timestamp(&b).unwrap())
    };
    chain_now(&account);
    // Other tests mine blocks meanwhile: retry until no block came between the reads.
    let (policy, block_time) = (0..10)
        .find_map(|_| {
            let before = latest();
            let policy = Policy::rate_limit_from_now(node, 60, 2).unwrap();
            (latest() == before).then_some((policy, before.1))
        })
        .expect("a quiet moment on the devnet");
    assert_eq!(policy, rate_limit(60, 2, block_time), "start = the latest block's timestamp");
    // Alto judges validAfter by the wall clock; a devnet that travelled in time (another
    // test moves it past a window's end) runs ahead of it, and the start with it.
    let ahead = block_time.saturating_sub(wall_now());
    assert!(ahead <= 15, "the devnet is {ahead} s ahead of the wall clock");
    std::thread::sleep(Duration::from_secs(ahead));
    let mut signer = issue(&owner, &account, vec![policy]);
    run(&account, &mut signer, &pay(1)).unwrap();
    let e = expect_refused(run(&account, &mut signer, &pay(2)), "rate-limit from now: second use");
    assert_outside_window(&e, "rate-limit");
    assert_eq!(node.balance(to).unwrap(), U256::from(1));
}

// ---------------------------------------------------------------------------------------
// 5. Signature-caller policy

#[test]
fn signature_caller_policy_only_answers_the_allowed_caller() {
    let (owner, account, _) = new_account(false, ether(1));
    let to = random_address();
    let allowed = random_address();
    let key = PrivateKeySigner::random();
    // The signature-caller policy second, so that the chain's index must be mapped.
    let permission = Permission::new(
        PermissionSigner::Ecdsa(key.address()),
        vec![
            call_policy(vec![CallPermission::transfer(to, U256::from(1000))]),
            Policy::new(PolicyKind::SignatureCaller { allowed_callers: vec![allowed] }),
        ],
    )
    .unwrap();
    let mut signer = enable_with_fresh_approval(&owner, &account, key.clone(), permission.clone());
    // UserOperations pass this policy: one installs the permission.
    run(&account, &mut signer, &[Call::transfer(to, U256::from(3))]).unwrap();
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(3));

    let hash = alloy_primitives::keccak256(random_address());
    let domain = kernel_domain(KernelVersion::V0_3_1, account.chain().chain_id, account.address());
    let signature = sign_erc1271_with_permission(&key, permission.id(), &domain, hash).unwrap();
    let ask =
        |caller: Address| check_signature(&account, &permission, caller, hash, signature.clone());
    // The chain's verdict is the account's answer through eth_call from each caller;
    // explain_signature must predict it.
    let stranger = random_address();
    for caller in [allowed, stranger] {
        let chain = match ask(caller) {
            Ok(true) => (Expect::Lands, None),
            Err(SignatureCheckError::PolicyRefused { policy, index, revert }) => {
                (Expect::Refused { policy: Some(policy), error: revert.decoded.error }, Some(index))
            }
            other => panic!("caller {caller}: neither valid nor refused by a policy: {other:?}"),
        };
        let what = if caller == allowed { "allowed caller" } else { "another caller" };
        assert_explain_agrees(what, &explain_signature(&permission.policies, caller), chain);
    }
    // The refusal, exactly: Kernel reverts PolicyFailed(1), the signature-caller policy.
    let mut want = alloy_primitives::keccak256("PolicyFailed(uint256)")[..4].to_vec();
    want.extend_from_slice(&U256::from(1).to_be_bytes::<32>());
    match ask(stranger) {
        Err(SignatureCheckError::PolicyRefused {
            policy: "signature-caller",
            index: 1,
            revert,
        }) => {
            assert_eq!(revert.data.as_ref(), want.as_slice());
            assert_eq!(
                (revert.decoded.error, revert.decoded.policy_index),
                (Some("PolicyFailed"), Some(1))
            );
            assert_eq!(revert.to_string(), "PolicyFailed(1): a policy refused the operation");
        }
        other => panic!("expected the signature-caller policy's refusal, got {other:?}"),
    }
    // A plain eth_call (no caller given: the zero address asks) reverts the same way, as
    // a typed, decoded revert of the node client.
    let data = IKernel::isValidSignatureCall { hash, signature: signature.clone() }.abi_encode();
    match account.chain().node.call(account.address(), &data) {
        Err(namera::rpc::RpcError::Reverted { method, to, revert }) => {
            assert_eq!((method.as_str(), to), ("eth_call", account.address()));
            assert_eq!(revert.data.as_ref(), want.as_slice());
            assert_eq!(revert.decoded.error, Some("PolicyFailed"));
        }
        other => panic!("expected a decoded revert, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// 6. Sudo policy

#[test]
fn sudo_policy_lets_anything_through() {
    let token = random_address();
    let to = random_address();
    run_table(
        "sudo",
        vec![Policy::sudo()],
        vec![
            case("plain transfer", vec![Call::transfer(to, U256::from(5))], Expect::Lands),
            case(
                "call with data, installed",
                vec![data_call(
                    token,
                    9,
                    approveCall { spender: to, amount: U256::MAX }.abi_encode(),
                )],
                Expect::Lands,
            ),
            case(
                "batch",
                vec![transfer_of(token, 1), Call::transfer(to, U256::from(2))],
                Expect::Lands,
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// 7. A composed key: call + gas + timestamp + rate limit

/// `[call, gas, timestamp, rate-limit]` allowing transfers of up to 1 000 wei to `to`.
fn composed(
    to: Address,
    gas_allowed: u128,
    valid: (u64, u64),
    limit: (u64, u64, u64),
) -> Vec<Policy> {
    vec![
        call_policy(vec![CallPermission::transfer(to, U256::from(1000))]),
        gas(gas_allowed),
        window(valid.0, valid.1),
        rate_limit(limit.0, limit.1, limit.2),
    ]
}

const AMPLE_GAS: u128 = 10u128.pow(18);

#[test]
fn composed_key_lands_when_all_hold_and_each_policy_refuses_alone() {
    let to = random_address();
    let pay = |v: u64| vec![Call::transfer(to, U256::from(v))];
    let open = (0, wall_now() + 3600);
    // Rate limit: one use in all, from the start.
    run_table(
        "composed: call, then rate limit",
        composed(to, AMPLE_GAS, open, (1, 1, 0)),
        vec![
            case("call violated (1001 wei)", pay(1001), call("CallViolatesValueRule")),
            case(
                "other target",
                vec![Call::transfer(random_address(), U256::from(1))],
                call("CallViolatesTargetRule"),
            ),
            case("all hold", pay(1000), Expect::Lands),
            case("rate limit used up", pay(1), failed("rate-limit")),
        ],
    );
    run_table(
        "composed: gas",
        composed(to, 1, open, (1, 5, 0)),
        vec![case("gas budget of 1 wei", pay(1), failed("gas"))],
    );
}

#[test]
fn composed_key_time_windows_alone_refuse() {
    let to = random_address();
    let pay = |v: u64| vec![Call::transfer(to, U256::from(v))];
    let now = wall_now();
    run_table(
        "composed: timestamp",
        composed(to, AMPLE_GAS, (now - 100, now - 50), (1, 5, 0)),
        vec![case("window ended 50 s ago", pay(1), Expect::OutsideWindow)],
    );
    run_table(
        "composed: rate limit not started",
        composed(to, AMPLE_GAS, (0, 0), (1, 5, now + 60)),
        vec![case("first use allowed from now + 60 s", pay(1), Expect::OutsideWindow)],
    );
}

/// The same policies with the windows first: when a window excludes now and a later
/// policy fails outright, the chain reports the failure (Kernel reverts at it; the
/// EntryPoint judges windows only after every policy passed), and so must explain.
#[test]
fn composed_key_reports_an_outright_failure_before_a_window() {
    let to = random_address();
    let pay = |v: u64| vec![Call::transfer(to, U256::from(v))];
    let now = wall_now();
    let windows_first = |gas_allowed| {
        let [call, gas, timestamp, rate_limit] = <[Policy; 4]>::try_from(composed(
            to,
            gas_allowed,
            (now - 100, now - 50),
            (1, 5, now + 60),
        ))
        .unwrap();
        vec![timestamp, rate_limit, call, gas]
    };
    run_table(
        "composed, windows first: call",
        windows_first(AMPLE_GAS),
        vec![
            case("call violated, both windows closed", pay(1001), call("CallViolatesValueRule")),
            case("only the windows closed", pay(1), Expect::OutsideWindow),
        ],
    );
    run_table(
        "composed, windows first: gas",
        windows_first(1),
        vec![case("gas budget of 1 wei, both windows closed", pay(1), failed("gas"))],
    );
}

// ---------------------------------------------------------------------------------------
// Install / uninstall

#[test]
fn revoked_permission_is_refused_and_cannot_be_enabled_again() {
    let (owner, account, owner_signer) = new_account(false, ether(1));
    let to = random_address();
    let pay = |v: u64| [Call::transfer(to, U256::from(v))];
    let key = PrivateKeySigner::random();
    let permission = Permission::new(
        PermissionSigner::Ecdsa(key.address()),
        vec![call_policy(vec![CallPermission::transfer(to, U256::from(1000))])],
    )
    .unwrap();
    let mut signer = enable_with_fresh_approval(&owner, &account, key.clone(), permission.clone());
    run(&account, &mut signer, &pay(1)).unwrap();
    run(&account, &mut signer, &pay(2)).unwrap();
    let vid = permission.validation_id();
    assert!(matches!(key_state(&account, vid).unwrap(), KeyState::Installed { .. }));

    let r = account
        .execute(
            &owner_signer,
            &[revoke_call(account.address(), &permission)],
            LaneKey::DEFAULT,
            RECEIPT_TIMEOUT,
        )
        .unwrap();
    assert!(r.success, "{r:?}");
    assert_eq!(key_state(&account, vid).unwrap(), KeyState::Uninstalled);

    // The revoked permission's signer is gone: validation reverts with empty data (AA23,
    // `0x`); the SDK reads the key's state and says it was revoked.
    match run_revoked(&account, &signer, &pay(4)) {
        Err(AccountError::KeyRevoked { state: KeyState::Uninstalled }) => {}
        other => panic!("revoked key: expected KeyRevoked(Uninstalled), got {other:?}"),
    }

    // Enabling it again with a fresh approval at the current kernel nonce: Kernel 0.3.1
    // refuses the install itself (the validation's stored nonce is the current one).
    let kernel_nonce = account.kernel_nonce().unwrap();
    let again = enable_with_fresh_approval(&owner, &account, key.clone(), permission.clone());
    // Kernel reverts InvalidNonce (the validation's stored nonce is the current one); the
    // SDK reads the key's state and reports it revoked.
    match run_revoked(&account, &again, &pay(8)) {
        Err(AccountError::KeyRevoked { state: KeyState::Uninstalled }) => {}
        other => panic!("re-enabling a revoked permission: expected KeyRevoked, got {other:?}"),
    }
    // Nor does the next kernel nonce help: Kernel 0.3.1 checks the approval against
    // currentNonce, so it is not approved.
    let chain = ChainNonce { chain_id: account.chain().chain_id, kernel_nonce: kernel_nonce + 1 };
    let approval =
        OwnerApproval::sign_single_chain(&owner, account.config(), &permission, chain).unwrap();
    let next = SessionKeySigner::enabling(
        key,
        permission,
        kernel_nonce + 1,
        approval.chains[0].enable_signature.clone(),
    );
    let e =
        expect_refused(run_revoked(&account, &next, &pay(16)), "re-enabling at kernel nonce + 1");
    let r = refusal_of(&e);
    assert_eq!(
        (r.aa_code.as_deref(), r.error, e.refusing_policy()),
        (Some("AA23"), Some("EnableNotApproved"), None),
        "{e:?}"
    );
    assert_eq!(key_state(&account, vid).unwrap(), KeyState::Uninstalled);
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(3));
}

//! The budget policy on the devnet, through the SDK: deployed for real at its CREATE2
//! address; a 6-decimal test token; spending limits per period (single ops, batches,
//! approvals), a period turning, two keys sharing one budget (concurrently), an operation
//! cap per period, a native limit, and revocation. Before every operation, explain (with
//! the chain's live counters) predicts the chain's verdict, and the refusal names the
//! contract's error.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy_primitives::{Address, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, sol};
use namera::{
    account::{AccountError, OwnerSigner, SessionKeySigner, SmartAccount},
    kernel::{Call, ExecType, LaneKey, UserOperation, encode_calls},
    permission::{Permission, PermissionSigner},
    policy::{
        BUDGET_POLICY_ADDRESS, Budget, BudgetName, IBudgetPolicy, NATIVE_TOKEN, Policy,
        SpendingLimit, Verdict, budget_policy_deployed, ensure_deployed,
    },
    session_key::{explain_operation, revoke_call},
};
use namera_e2e::{RECEIPT_TIMEOUT, ether, new_account, random_address, test_token_calls};
use serde_json::json;

sol! {
    function transfer(address to, uint256 amount) returns (bool);
    function approve(address spender, uint256 amount) returns (bool);
    function balanceOf(address who) view returns (uint256);
    function decimals() view returns (uint8);
}

/// One token (6 decimals).
const UNIT: u64 = 1_000_000;

fn wall_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Mines a block so that the chain's latest timestamp (what explain reads) is the wall
/// clock's (what the signer names), and returns it.
fn mine(account: &SmartAccount) -> u64 {
    let _: serde_json::Value = account.chain().node.rpc().call("evm_mine", json!([])).unwrap();
    account.chain().node.timestamp().unwrap()
}

/// A fresh account holding 1 000 test tokens, deployed with its first owner operation,
/// which also deploys a new test token through the deterministic deployment proxy (the
/// same way anyone deploys the budget policy where it is missing).
fn funded_account() -> (PrivateKeySigner, SmartAccount, OwnerSigner, Address) {
    let (owner, account, owner_signer) = new_account(false, ether(1));
    let (token, calls) = test_token_calls(account.address(), U256::from(1_000 * UNIT));
    let r = account.execute(&owner_signer, &calls, LaneKey::DEFAULT, RECEIPT_TIMEOUT).unwrap();
    assert!(r.success, "{r:?}");
    let node = &account.chain().node;
    assert_eq!(node.view(token, &decimalsCall {}).unwrap(), 6);
    (owner, account, owner_signer, token)
}

fn issue(
    owner: &PrivateKeySigner,
    account: &SmartAccount,
    policies: Vec<Policy>,
) -> SessionKeySigner {
    let key = PrivateKeySigner::random();
    let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), policies).unwrap();
    namera::session_key::issue(owner, &[account], &permission, &key).unwrap().1.remove(0)
}

fn pay(token: Address, to: Address, tokens_times_unit: u64) -> Call {
    Call::new(token, transferCall { to, amount: U256::from(tokens_times_unit) }.abi_encode().into())
}

fn balance(account: &SmartAccount, token: Address, who: Address) -> U256 {
    account.chain().node.view(token, &balanceOfCall { who }).unwrap()
}

/// What happened: `None` = landed, `Some(error)` = refused naming the budget policy's error.
type Outcome = Option<&'static str>;

/// Explain first (live counters, the chain's time), then send; both must agree: a budget
/// refusal from explain names the error the chain's revert carries.
#[track_caller]
fn run(what: &str, account: &SmartAccount, signer: &SessionKeySigner, calls: &[Call]) -> Outcome {
    mine(account);
    let call_data = encode_calls(account.address(), calls, false, ExecType::Default).unwrap();
    let probe = UserOperation { sender: account.address(), call_data, ..Default::default() };
    let verdicts = explain_operation(account, signer.permission(), &probe).unwrap();
    let predicted = budget_verdict(&verdicts);
    let result = account.execute(signer, calls, LaneKey::DEFAULT, RECEIPT_TIMEOUT);
    let got = match &result {
        Ok(r) => {
            assert!(r.success, "{what}: execution failed: {r:?}");
            None
        }
        Err(e @ AccountError::Refused { refusal, .. }) => {
            eprintln!("[budgets] {what}: refused — {e}");
            assert_eq!(e.refusing_policy(), Some("budget"), "{what}: {e:?}");
            assert!(refusal.budget.is_some(), "{what}: the refusal carries the budget's words");
            refusal.error
        }
        Err(e) => panic!("{what}: neither landed nor refused: {e:?}"),
    };
    eprintln!(
        "[budgets] {what}: chain {got:?}, explain {predicted:?} ({:?})",
        verdicts.iter().find_map(|v| v.budget.clone())
    );
    assert_eq!(predicted, got, "{what}: explain disagrees with the chain: {verdicts:#?}");
    got
}

/// What explain says is left after `calls`.
fn budget_words(account: &SmartAccount, signer: &SessionKeySigner, calls: &[Call]) -> String {
    mine(account);
    let call_data = encode_calls(account.address(), calls, false, ExecType::Default).unwrap();
    let probe = UserOperation { sender: account.address(), call_data, ..Default::default() };
    let verdicts = explain_operation(account, signer.permission(), &probe).unwrap();
    verdicts.into_iter().find_map(|v| v.budget).expect("the budget policy passes")
}

/// The budget policy's verdict from explain: the contract error its refusal starts with.
fn budget_verdict(verdicts: &[Verdict]) -> Outcome {
    let v = verdicts.iter().find(|v| v.policy == "budget").expect("a budget policy");
    let r = v.refusal.as_deref()?;
    let name = r.split(':').next().unwrap();
    Some(
        [
            "BudgetExceeded",
            "TooManyOperations",
            "NativeNotBudgeted",
            "TargetNotBudgeted",
            "SelectorRefused",
            "UnsupportedCallType",
        ]
        .into_iter()
        .find(|k| *k == name)
        .unwrap_or_else(|| panic!("explain's budget refusal names no known error: {r}")),
    )
}

fn sleep_until(t: u64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let target = Duration::from_secs(t) + Duration::from_millis(200);
    if target > now {
        assert!(target - now <= Duration::from_secs(40), "would wait {:?}", target - now);
        std::thread::sleep(target - now);
    }
}

/// The tests of this module use the policy (read); the deployment test removes and
/// redeploys it (write), so it runs alone.
static POLICY: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn using_policy() -> std::sync::RwLockReadGuard<'static, ()> {
    POLICY.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The devnet deployed the policy through the proxy at its CREATE2 address; where it is
/// missing, `ensure_deployed` deploys it with one UserOperation of any account, and the
/// same code lands at the same address.
#[test]
fn budget_policy_is_deployed_at_its_create2_address() {
    let _alone = POLICY.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (_, account, owner_signer) = new_account(false, ether(1));
    let node = &account.chain().node;
    assert!(budget_policy_deployed(node).unwrap());
    assert_eq!(namera::policy::budget_policy_address(), BUDGET_POLICY_ADDRESS);
    let code = node.code(BUDGET_POLICY_ADDRESS).unwrap();
    assert!(code.len() > 1_000, "runtime code is there");
    // Present: nothing to do.
    assert!(!ensure_deployed(&account, &owner_signer, RECEIPT_TIMEOUT).unwrap());

    // Make this chain one without it (no code, nonce 0: CREATE2 can land there again).
    let rpc = node.rpc();
    let _: serde_json::Value =
        rpc.call("anvil_setCode", json!([BUDGET_POLICY_ADDRESS, "0x"])).unwrap();
    let _: serde_json::Value =
        rpc.call("anvil_setNonce", json!([BUDGET_POLICY_ADDRESS, "0x0"])).unwrap();
    assert!(!budget_policy_deployed(node).unwrap());
    assert!(ensure_deployed(&account, &owner_signer, RECEIPT_TIMEOUT).unwrap(), "deployed it");
    assert_eq!(
        node.code(BUDGET_POLICY_ADDRESS).unwrap(),
        code,
        "the same code at the same address"
    );
}

/// The issue's story: 100 tokens per period; 60 lands; 60 more is refused naming the
/// budget; a batch of 3 × 40 is refused; approving 200 is refused; after the period turns,
/// 60 lands again.
#[test]
fn spending_limit_per_period() {
    let _policy = using_policy();
    let (owner, account, _, token) = funded_account();
    const PERIOD: u64 = 24;
    let start = wall_now();
    let policy = Policy::spending_limit(token, (100 * UNIT).into(), PERIOD, start);
    let signer = issue(&owner, &account, vec![policy]);
    let bob = random_address();

    assert_eq!(run("60 lands", &account, &signer, &[pay(token, bob, 60 * UNIT)]), None);
    assert_eq!(balance(&account, token, bob), U256::from(60 * UNIT));
    // explain says what is left, in tokens (decimals read from the token), and when it refills
    mine(&account);
    let call_data =
        encode_calls(account.address(), &[pay(token, bob, 10 * UNIT)], false, ExecType::Default)
            .unwrap();
    let probe = UserOperation { sender: account.address(), call_data, ..Default::default() };
    let words = explain_operation(&account, signer.permission(), &probe).unwrap()[0]
        .budget
        .clone()
        .unwrap();
    let refill = namera::policy::utc(start + PERIOD);
    assert_eq!(
        words,
        format!("after this operation: 30 of 100 of token {token} left until {refill}")
    );
    assert_eq!(
        run("60 more", &account, &signer, &[pay(token, bob, 60 * UNIT)]),
        Some("BudgetExceeded")
    );
    let batch = vec![pay(token, bob, 40 * UNIT); 3];
    assert_eq!(run("batch 3 × 40", &account, &signer, &batch), Some("BudgetExceeded"));
    let approve = Call::new(
        token,
        approveCall { spender: bob, amount: U256::from(200 * UNIT) }.abi_encode().into(),
    );
    assert_eq!(run("approve 200", &account, &signer, &[approve]), Some("BudgetExceeded"));
    let burn = Call::new(token, Bytes::from_static(&[0x42, 0x96, 0x6c, 0x68, 0, 0, 0, 0]));
    assert_eq!(run("another selector", &account, &signer, &[burn]), Some("SelectorRefused"));
    assert!(wall_now() < start + PERIOD, "the refusals all fell in the first period");
    assert_eq!(balance(&account, token, bob), U256::from(60 * UNIT), "nothing more left");

    sleep_until(start + PERIOD);
    assert_eq!(
        run("next period: 60 lands", &account, &signer, &[pay(token, bob, 60 * UNIT)]),
        None
    );
    assert_eq!(balance(&account, token, bob), U256::from(120 * UNIT));
}

/// Two keys of one account draw on one shared budget; sent at the same time, from two
/// threads, exactly one of two 60-token payments lands and the total stays within 100.
#[test]
fn shared_budget_between_two_keys() {
    let _policy = using_policy();
    let (owner, account, _, token) = funded_account();
    let fleet = BudgetName::new("fleet").unwrap();
    let limit = SpendingLimit::new(token, (100 * UNIT).into(), 0, 0).shared(fleet);
    let a = issue(&owner, &account, vec![Policy::budget(Budget::new().limit(limit.clone()))]);
    let b = issue(&owner, &account, vec![Policy::budget(Budget::new().limit(limit))]);
    let bob = random_address();
    // Each key's first operation installs it: 10 + 10.
    assert_eq!(run("key A installs, 10", &account, &a, &[pay(token, bob, 10 * UNIT)]), None);
    // Key B is not installed yet, but the budget it names is already drawn on.
    assert_eq!(
        budget_words(&account, &b, &[pay(token, bob, 10 * UNIT)]),
        format!("after this operation: 80 of 100 of token {token} left")
    );
    assert_eq!(run("key B installs, 10", &account, &b, &[pay(token, bob, 10 * UNIT)]), None);
    assert_eq!(
        run("key B over the shared rest", &account, &b, &[pay(token, bob, 81 * UNIT)]),
        Some("BudgetExceeded")
    );
    // 80 left; both keys try 60 at once.
    let results = std::thread::scope(|s| {
        let ha = s.spawn(|| account.send(&a, &[pay(token, bob, 60 * UNIT)], LaneKey::DEFAULT));
        let hb = s.spawn(|| account.send(&b, &[pay(token, bob, 60 * UNIT)], LaneKey::DEFAULT));
        [ha.join().unwrap(), hb.join().unwrap()]
    });
    let mut landed = 0;
    for r in results {
        match r {
            // Both may pass simulation; the chain counts them one after the other.
            Ok(sent) => {
                if account.wait(sent.hash, Duration::from_secs(20)).is_ok_and(|r| r.success) {
                    landed += 1;
                }
            }
            Err(e) => eprintln!("[budgets] concurrent send refused: {e}"),
        }
    }
    assert_eq!(landed, 1, "exactly one of the two concurrent payments lands");
    assert_eq!(balance(&account, token, bob), U256::from(80 * UNIT), "10 + 10 + 60, within 100");
    let (set, amount, _, _, _, used) = {
        sol! { function sharedBudget(bytes32 name, address token, address account) view returns (bool set, uint128 amount, uint48 period, uint48 start, uint48 index, uint128 used); }
        let r = account
            .chain()
            .node
            .view(
                BUDGET_POLICY_ADDRESS,
                &sharedBudgetCall {
                    name: BudgetName::new("fleet").unwrap().to_bytes32(),
                    token,
                    account: account.address(),
                },
            )
            .unwrap();
        (r.set, r.amount, r.period, r.start, r.index, r.used)
    };
    assert!(set);
    assert_eq!((amount, used), ((100 * UNIT).into(), (80 * UNIT).into()));
}

/// At most 2 operations per period: the third is refused, and lands in the next period.
#[test]
fn ops_per_period() {
    let _policy = using_policy();
    let (owner, account, _) = new_account(false, ether(1));
    const PERIOD: u64 = 20;
    let start = wall_now();
    let signer = issue(&owner, &account, vec![Policy::ops_per_period(2, PERIOD, start)]);
    let ping = [Call::new(random_address(), Bytes::new())];
    assert_eq!(run("op 1", &account, &signer, &ping), None);
    assert_eq!(run("op 2", &account, &signer, &ping), None);
    assert_eq!(run("op 3", &account, &signer, &ping), Some("TooManyOperations"));
    assert!(wall_now() < start + PERIOD, "all three fell in the first period");
    sleep_until(start + PERIOD);
    assert_eq!(run("op 3, next period", &account, &signer, &ping), None);
    // Value needs a native limit; this key has none.
    assert_eq!(
        run(
            "value without a native limit",
            &account,
            &signer,
            &[Call::transfer(random_address(), U256::from(1))]
        ),
        Some("NativeNotBudgeted")
    );
}

/// A native limit over the key's whole life, then revocation clears the key's budget.
#[test]
fn native_limit_and_revocation() {
    let _policy = using_policy();
    let (owner, account, owner_signer) = new_account(false, ether(1));
    let signer = issue(&owner, &account, vec![Policy::spending_limit(NATIVE_TOKEN, 1_000, 0, 0)]);
    let bob = random_address();
    let send = |wei: u64| [Call::transfer(bob, U256::from(wei))];
    assert_eq!(run("600 wei", &account, &signer, &send(600)), None);
    assert_eq!(run("600 wei more", &account, &signer, &send(600)), Some("BudgetExceeded"));
    assert_eq!(run("the last 400 wei", &account, &signer, &send(400)), None);
    assert_eq!(account.chain().node.balance(bob).unwrap(), U256::from(1_000));

    let permission = signer.permission().clone();
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(permission.id().as_bytes());
    let config = |node: &namera::node::NodeClient| {
        node.view(
            BUDGET_POLICY_ADDRESS,
            &IBudgetPolicy::configCall { id: id.into(), account: account.address() },
        )
        .unwrap()
    };
    assert!(config(&account.chain().node).installed);
    let r = account
        .execute(
            &owner_signer,
            &[revoke_call(account.address(), &permission)],
            LaneKey::DEFAULT,
            RECEIPT_TIMEOUT,
        )
        .unwrap();
    assert!(r.success);
    let after = config(&account.chain().node);
    assert!(!after.installed && after.limits.is_empty(), "revocation cleared the budget");
    let counter = account
        .chain()
        .node
        .view(
            BUDGET_POLICY_ADDRESS,
            &IBudgetPolicy::counterCall {
                id: id.into(),
                account: account.address(),
                i: U256::ZERO,
            },
        )
        .unwrap();
    assert_eq!(counter.used, 0, "and its private counter");
    let e = account.execute(&signer, &send(1), LaneKey::DEFAULT, RECEIPT_TIMEOUT).unwrap_err();
    assert!(matches!(e, AccountError::KeyRevoked { .. } | AccountError::Refused { .. }), "{e:?}");
}

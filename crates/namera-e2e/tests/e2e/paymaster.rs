//! Sponsored operations through a real ERC-7677 paymaster: the devnet's
//! `@pimlico/mock-paymaster` (Pimlico's singleton verifying paymaster for EntryPoint v0.7
//! and its JSON-RPC server). Accounts here hold no ETH at all: every operation that lands
//! was paid from the paymaster's EntryPoint deposit, and its paymaster signature covers the
//! final gas figures, so landing proves the SDK's order (stub → estimate → final data →
//! hash → sign) and that its operation hash is the EntryPoint's.

use std::sync::{Arc, Mutex, MutexGuard};

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::sol;
use namera::{
    account::{
        AccountError, ChainClient, OperationSigner, OwnerSigner, SentOperation, SmartAccount,
    },
    bundler::UserOperationReceipt,
    chain::Endpoints,
    kernel::{
        AccountConfig, Call, KernelVersion, LaneKey, RootValidator, addresses::ENTRY_POINT_V07,
    },
    permission::{Permission, PermissionSigner},
    policy::{Policy, PolicyKind},
    rpc::{RpcError, RpcStats},
};
use namera_e2e::{RECEIPT_TIMEOUT, endpoints, ether, rand_u64, random_address, set_balance};

sol! {
    function balanceOf(address account) external view returns (uint256);
}

/// Held while a test reads the paymaster's deposit before and after an operation: every
/// test here spends from that one deposit, and the tests of a binary run in parallel.
static DEPOSIT: Mutex<()> = Mutex::new(());

fn deposit_lock() -> MutexGuard<'static, ()> {
    // A test that panicked while holding the lock left no state behind to distrust.
    DEPOSIT.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The devnet's paymaster URL and contract.
fn paymaster() -> (String, Address) {
    let devnet = namera_devnet::testing::shared();
    let url = devnet.paymaster_url.clone().expect("the test devnet runs a paymaster");
    let address = devnet.paymaster_address.expect("the paymaster's contract is known");
    (url, address)
}

/// Clients whose operations the paymaster at `url` sponsors (`None`: nobody does).
fn chain_with(paymaster_url: Option<String>) -> ChainClient {
    let endpoints = Endpoints { paymaster: paymaster_url, ..endpoints() };
    ChainClient::connect(&endpoints, Arc::new(RpcStats::default())).expect("devnet answers")
}

/// A fresh owner and its undeployed account with no ETH, on `chain`.
fn empty_account(chain: ChainClient) -> (PrivateKeySigner, SmartAccount, OwnerSigner) {
    let owner = PrivateKeySigner::random();
    let config = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::Ecdsa { owner: owner.address() },
        U256::from(rand_u64()),
    );
    let account = SmartAccount::new(config, chain);
    assert_eq!(account.chain().node.balance(account.address()).unwrap(), U256::ZERO);
    let signer = OwnerSigner::new(owner.clone(), account.config().root.validation_id());
    (owner, account, signer)
}

/// The paymaster's deposit in the EntryPoint.
fn deposit(account: &SmartAccount, paymaster: Address) -> U256 {
    account.chain().node.view(ENTRY_POINT_V07, &balanceOfCall { account: paymaster }).unwrap()
}

/// A call that moves no value: 0 wei to a fresh address.
fn zero_value_call() -> [Call; 1] {
    [Call::transfer(random_address(), U256::ZERO)]
}

/// Sends `calls`, waits for the receipt and tells the signer it landed.
fn land(
    account: &SmartAccount,
    signer: &dyn OperationSigner,
    calls: &[Call],
) -> Result<(SentOperation, UserOperationReceipt), AccountError> {
    let sent = account.send(signer, calls, LaneKey::DEFAULT)?;
    let receipt = account.wait(sent.hash, RECEIPT_TIMEOUT)?;
    signer.landed();
    Ok((sent, receipt))
}

/// Lands `calls` sponsored by `paymaster` and checks that the paymaster, not the account,
/// paid: the operation names it, the receipt says it paid exactly the operation's cost
/// out of its deposit, and the account still holds 0 wei.
fn land_sponsored(
    account: &SmartAccount,
    signer: &dyn OperationSigner,
    calls: &[Call],
    paymaster: Address,
) -> UserOperationReceipt {
    let _deposit = deposit_lock();
    let before = deposit(account, paymaster);
    let (sent, receipt) = land(account, signer, calls).expect("a sponsored operation lands");
    assert!(receipt.success, "{receipt:?}");
    assert_eq!(receipt.user_op_hash, sent.hash, "the EntryPoint hashes as the SDK does");
    let pm = sent.operation.paymaster.as_ref().expect("the operation names a paymaster");
    assert_eq!(pm.paymaster, paymaster);
    assert!(pm.paymaster_verification_gas_limit > 0, "{pm:?}");
    assert!(!pm.paymaster_data.is_empty(), "signed paymaster data");
    assert_eq!(receipt.paymaster, Some(paymaster), "the receipt names the paymaster");
    let after = deposit(account, paymaster);
    assert!(receipt.actual_gas_cost > U256::ZERO);
    assert_eq!(before - after, receipt.actual_gas_cost, "the deposit paid the operation");
    assert_eq!(account.chain().node.balance(account.address()).unwrap(), U256::ZERO);
    receipt
}

fn issue(
    owner: &PrivateKeySigner,
    account: &SmartAccount,
    policies: Vec<Policy>,
) -> namera::account::SessionKeySigner {
    let key = PrivateKeySigner::random();
    let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), policies).unwrap();
    namera::session_key::issue(owner, &[account], &permission, &key).unwrap().1.remove(0)
}

fn gas_policy(allowed_paymaster: Address) -> Policy {
    Policy::new(PolicyKind::Gas {
        allowed: ether(1).to(),
        enforce_paymaster: true,
        allowed_paymaster,
    })
}

#[test]
fn paymaster_sponsors_owner_operations_of_an_account_without_eth() {
    let (url, paymaster) = paymaster();
    let (_, account, owner) = empty_account(chain_with(Some(url)));

    // First operation: deploys the account.
    land_sponsored(&account, &owner, &zero_value_call(), paymaster);
    assert!(!account.chain().node.code(account.address()).unwrap().is_empty(), "deployed");
    // A later one, on the deployed account.
    land_sponsored(&account, &owner, &zero_value_call(), paymaster);
}

#[test]
fn paymaster_sponsors_session_key_in_enable_mode_and_after() {
    let (url, paymaster) = paymaster();
    let (owner_key, account, _) = empty_account(chain_with(Some(url)));
    let key = issue(&owner_key, &account, vec![Policy::sudo()]);

    // Enable mode: the key installs itself with the operation that deploys the account.
    land_sponsored(&account, &key, &zero_value_call(), paymaster);
    assert!(!account.chain().node.code(account.address()).unwrap().is_empty(), "deployed");
    // Plain use of the installed key.
    land_sponsored(&account, &key, &zero_value_call(), paymaster);
}

#[test]
fn paymaster_gas_policy_admits_only_its_paymaster() {
    let (url, paymaster) = paymaster();
    let (owner_key, account, _) = empty_account(chain_with(Some(url)));
    let key = issue(&owner_key, &account, vec![gas_policy(paymaster)]);

    // Sponsored by the allowed paymaster: lands, in enable mode and after.
    land_sponsored(&account, &key, &zero_value_call(), paymaster);
    land_sponsored(&account, &key, &zero_value_call(), paymaster);

    // Without a paymaster the same key is refused by its gas policy, though the account
    // could now pay for itself. The canonical policy reverts with no data here (it slices
    // the empty paymasterAndData); the SDK still names the gas policy.
    set_balance(account.address(), ether(1));
    let unsponsored = SmartAccount::new(account.config().clone(), chain_with(None));
    let e = land(&unsponsored, &key, &zero_value_call()).expect_err("no paymaster: refused");
    assert_eq!(e.refusing_policy(), Some("gas"), "{e:?}");
    let AccountError::Refused { refusal, .. } = &e else { unreachable!() };
    assert!(refusal.is_bare(), "{e:?}");
    assert_eq!((refusal.error, refusal.aa_code.as_deref()), (None, Some("AA23")), "{e:?}");
    assert_eq!(account.chain().node.balance(account.address()).unwrap(), ether(1), "unspent");
}

#[test]
fn paymaster_gas_policy_refuses_another_paymaster() {
    let (url, paymaster) = paymaster();
    let (owner_key, account, _) = empty_account(chain_with(Some(url)));
    // The owner allows one paymaster; the devnet's is a different one.
    let other = random_address();
    let key = issue(&owner_key, &account, vec![gas_policy(other)]);

    let _deposit = deposit_lock();
    let before = deposit(&account, paymaster);
    let e = land(&account, &key, &zero_value_call()).expect_err("wrong paymaster: refused");
    assert_eq!(e.refusing_policy(), Some("gas"), "{e:?}");
    let AccountError::Refused { refusal, .. } = &e else { unreachable!() };
    assert_eq!(refusal.error, Some("PolicyFailed"), "{e:?}");
    assert_eq!(refusal.policy_index, Some(0), "{e:?}");
    assert!(account.chain().node.code(account.address()).unwrap().is_empty(), "not deployed");
    assert_eq!(deposit(&account, paymaster), before, "the paymaster paid nothing");
}

#[test]
fn paymaster_unreachable_fails_before_anything_is_sent() {
    // A port nobody listens on: bound, read, released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let (_, account, owner) = empty_account(chain_with(Some(url.clone())));

    let e = account.send(&owner, &zero_value_call(), LaneKey::DEFAULT).expect_err("no paymaster");
    match &e {
        AccountError::Rpc(RpcError::Unreachable { url: u, .. }) => assert_eq!(u, &url),
        other => panic!("expected the paymaster to be unreachable, got {other:?}"),
    }
    assert!(account.chain().node.code(account.address()).unwrap().is_empty(), "not deployed");
    let sequence = account
        .chain()
        .node
        .entry_point_sequence(account.address(), owner.nonce_key(LaneKey::DEFAULT));
    assert_eq!(sequence.unwrap(), 0, "no operation ran");
}

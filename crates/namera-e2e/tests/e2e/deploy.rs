//! The first UserOperation deploys the account through the meta factory and sends value.

use std::sync::Arc;

use alloy_primitives::{B256, U256, b256};
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{ChainClient, OwnerSigner, SmartAccount},
    kernel::{AccountConfig, Call, KernelVersion, LaneKey, RootValidator},
    rpc::RpcStats,
};
use namera_e2e::{
    RECEIPT_TIMEOUT, endpoints, ether, new_account, rand_u64, random_address, set_balance,
};

/// `AccountDeployed(bytes32 userOpHash, address sender, address factory, address paymaster)`.
const ACCOUNT_DEPLOYED: B256 =
    b256!("0xd51a9c61267aa6196961883ecf5ff2da6619c37dac0fa92122513fb32c032d2d");

#[test]
fn first_user_operation_deploys_the_account_and_sends_value() {
    let (_owner, account, signer) = new_account(false, ether(1));
    let node = &account.chain().node;
    assert!(node.code(account.address()).unwrap().is_empty(), "starts undeployed");
    let recipient = random_address();
    let amount = U256::from(123_456_789_000u64);

    let sent =
        account.send(&signer, &[Call::transfer(recipient, amount)], LaneKey::DEFAULT).unwrap();
    assert_eq!(sent.operation.factory, Some(namera::kernel::addresses::META_FACTORY));
    let receipt = account.wait(sent.hash, RECEIPT_TIMEOUT).unwrap();

    assert!(receipt.success, "execution succeeded: {receipt:?}");
    assert_eq!(receipt.sender, account.address());
    assert_eq!(node.balance(recipient).unwrap(), amount, "exactly the amount arrived");
    assert!(!node.code(account.address()).unwrap().is_empty(), "account has code now");
    assert_eq!(account.kernel_nonce().unwrap(), 1);
    // Alto's UserOperation receipt omits AccountDeployed: read the bundle transaction.
    let tx = node.transaction_receipt(receipt.receipt.transaction_hash).unwrap().expect("mined");
    // Other tests' operations may share the bundle: pick this operation's event.
    let deployed = tx
        .logs
        .iter()
        .find(|l| {
            l.topics.first() == Some(&ACCOUNT_DEPLOYED) && l.topics.get(1) == Some(&sent.hash)
        })
        .expect("AccountDeployed event for this UserOperation");
    assert_eq!(&deployed.topics[2][12..], account.address().as_slice());
    // The account paid for itself: balance plus EntryPoint deposit (where the unused
    // prefund went) fell by exactly the amount plus the gas cost.
    let balance = node.balance(account.address()).unwrap();
    let deposit = node.entry_point_deposit(account.address()).unwrap();
    assert_eq!(balance + deposit, ether(1) - amount - receipt.actual_gas_cost);
}

#[test]
fn later_user_operations_use_the_deployed_account() {
    let (_owner, account, signer) = new_account(false, ether(1));
    let to = random_address();
    let r1 = account
        .execute(&signer, &[Call::transfer(to, U256::from(1))], LaneKey::DEFAULT, RECEIPT_TIMEOUT)
        .unwrap();
    assert!(r1.success);
    let sent = account
        .send(
            &signer,
            &[Call::transfer(to, U256::from(2)), Call::transfer(to, U256::from(3))],
            LaneKey::DEFAULT,
        )
        .unwrap();
    assert_eq!(sent.operation.factory, None, "no initCode once deployed");
    assert!(account.wait(sent.hash, RECEIPT_TIMEOUT).unwrap().success);
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(6));
}

/// (requests, HTTP round trips, sequential round trips) of `f`.
fn counted(stats: &RpcStats, f: impl FnOnce()) -> (u64, u64, u64) {
    stats.reset();
    f();
    (stats.requests(), stats.round_trips(), stats.sequential_round_trips())
}

#[test]
fn a_warm_client_prepares_and_sends_in_two_round_trips() {
    // Warm: the chain client knows the chain id and has a recent fee quote (as after any
    // other account's operation on it); the account itself is new to it.
    let stats = Arc::new(RpcStats::default());
    let chain = ChainClient::connect(&endpoints(), stats.clone()).unwrap();
    let owner = PrivateKeySigner::random();
    let config = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::Ecdsa { owner: owner.address() },
        U256::from(rand_u64()),
    );
    let account = SmartAccount::new(config, chain.clone());
    set_balance(account.address(), ether(1));
    let signer = OwnerSigner::new(owner, account.config().root.validation_id());
    let to = random_address();
    let send = |lane: u16, wei: u64| {
        chain.fees().unwrap();
        let mut hash = None;
        let counts = counted(&stats, || {
            let sent = account.send(&signer, &[Call::transfer(to, U256::from(wei))], LaneKey(lane));
            hash = Some(sent.unwrap().hash);
        });
        assert!(account.wait(hash.unwrap(), RECEIPT_TIMEOUT).unwrap().success);
        counts
    };

    // The first operation deploys: the deployment state and the lane's sequence (one
    // batch of two) go out with the estimate, made on the guess that a new account is
    // undeployed; the reads confirm it, then the operation is sent.
    assert_eq!(send(0, 1), (4, 3, 2), "first operation (deploys)");
    // A lane this client has not used: its sequence is read while the estimate, made on
    // the guess that it is unused, is out.
    assert_eq!(send(9, 2), (3, 3, 2), "deployed account, new lane");
    // Everything known: estimate, send.
    assert_eq!(send(9, 3), (2, 2, 2), "deployed account, known lane");
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(6));
}

#[test]
fn a_wrong_guess_costs_a_round_trip_not_a_failure() {
    // A second client of an account that the first client deployed: it guesses
    // "undeployed", the read says otherwise, and it estimates again without the factory.
    let (_owner, first, signer) = new_account(false, ether(1));
    let to = random_address();
    let call = [Call::transfer(to, U256::from(1))];
    assert!(first.execute(&signer, &call, LaneKey::DEFAULT, RECEIPT_TIMEOUT).unwrap().success);
    let stats = Arc::new(RpcStats::default());
    let chain = ChainClient::connect(&endpoints(), stats.clone()).unwrap();
    chain.fees().unwrap();
    let second = SmartAccount::new(first.config().clone(), chain);
    let mut sent = None;
    let counts = counted(&stats, || sent = Some(second.send(&signer, &call, LaneKey::DEFAULT)));
    let sent = sent.unwrap().unwrap();
    assert_eq!(sent.operation.factory, None, "the read corrected the guess");
    assert_eq!(counts, (5, 4, 3), "batched read + wasted estimate, estimate, send");
    assert!(second.wait(sent.hash, RECEIPT_TIMEOUT).unwrap().success);
    assert_eq!(first.chain().node.balance(to).unwrap(), U256::from(2));
}

/// No registry package carries Kernel 0.3.2's or 0.3.3's bytecode, so the devnet hosts only
/// 0.3.1: an account of a later release cannot deploy there, and the error names the release
/// and the missing contract instead of the EntryPoint's bare `AA13 initCode failed`.
#[test]
fn a_kernel_release_the_devnet_lacks_is_named() {
    for version in [KernelVersion::V0_3_2, KernelVersion::V0_3_3] {
        let owner = PrivateKeySigner::random();
        let config = AccountConfig::new(
            version,
            RootValidator::Ecdsa { owner: owner.address() },
            U256::from(rand_u64()),
        );
        let account = SmartAccount::new(config, namera_e2e::chain());
        set_balance(account.address(), ether(1));
        let signer = OwnerSigner::new(owner, account.config().root.validation_id());
        let e = account
            .send(&signer, &[Call::transfer(random_address(), U256::from(1))], LaneKey::DEFAULT)
            .expect_err("the devnet has no Kernel of this release");
        match &e {
            namera::account::AccountError::KernelMissing { version: v, missing, address } => {
                assert_eq!(*v, version.as_str());
                assert_eq!((*missing, *address), ("KernelFactory", version.factory()));
            }
            other => panic!("Kernel {}: expected KernelMissing, got {other:?}", version.as_str()),
        }
        assert!(e.to_string().contains(&format!("lacks Kernel {}", version.as_str())), "{e}");
    }
}

/// The same round trips through the SDK's `Wallet`, which also picks the key and checks
/// its policies live: that check overlaps the estimate, so an owner operation, a session
/// key's first use (enable mode) and its later use each take 2 sequential round trips on
/// a warm client.
#[test]
fn the_wallet_sends_in_two_sequential_round_trips() {
    use namera::{
        chain::ChainRegistry,
        permission::{Permission, PermissionSigner},
        policy::{CallPermission, CallPolicy, Policy, PolicyKind},
        session_key::{SerializedSessionKey, SessionPrivateKey, issue},
        wallet::{KeySpec, Wallet},
    };
    use namera_e2e::block_on;

    let (owner, account, owner_signer) = new_account(true, ether(1));
    let to = random_address();
    let chain_id = account.chain().chain_id;
    // The owner's wallet; its first operation deploys the account.
    let stats = Arc::new(RpcStats::default());
    let chain = ChainClient::connect(&endpoints(), stats.clone()).unwrap();
    let owner_key = namera_e2e::owner_key(chain_id, Arc::new(owner_signer));
    let wallet = namera_e2e::wallet_with(account.config(), chain.clone(), owner_key);
    let pay = |wei: u64| vec![Call::transfer(to, U256::from(wei))];
    assert!(block_on(wallet.execute(chain_id, pay(1), None)).unwrap().receipt.success);
    let send = |w: &Wallet, lane: u16, wei: u64| {
        w.chains()[0].account().chain().fees().unwrap();
        let stats = w.stats().clone();
        let mut sent = None;
        let counts = counted(&stats, || {
            sent = Some(block_on(w.send(chain_id, pay(wei), LaneKey(lane))).unwrap());
        });
        assert!(block_on(w.wait_for(sent.unwrap())).unwrap().success);
        eprintln!("wallet send on lane {lane}: (requests, round trips, sequential) = {counts:?}");
        counts
    };
    assert_eq!(send(&wallet, 9, 2).2, 2, "owner, new lane");
    assert_eq!(send(&wallet, 9, 3), (2, 2, 2), "owner, known lane");

    // A session key (a call policy: transfers to `to`), pending its first use.
    let key = PrivateKeySigner::random();
    let policy = Policy::new(PolicyKind::Call(CallPolicy {
        permissions: vec![CallPermission::transfer(to, ether(1))],
        ..CallPolicy::default()
    }));
    let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), vec![policy]).unwrap();
    let (approval, _) = issue(&owner, &[&account], &permission, &key).unwrap();
    let serialized = SerializedSessionKey::new(
        &permission,
        account.config(),
        Some(approval.chains[0].enable_signature.clone()),
        Some(SessionPrivateKey::new(key.to_bytes())),
    );
    let spec = KeySpec::from_serialized("agent", serialized).unwrap();
    let agent =
        block_on(Wallet::connect(vec![endpoints()], vec![spec], None, ChainRegistry::builtin()))
            .unwrap();
    assert_eq!(send(&agent, 5, 4).2, 2, "session key, first use (installs it)");
    assert_eq!(send(&agent, 5, 5).2, 2, "session key, later use");
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(15));
}

//! Lanes: batches on different lanes run at once; batches on one lane land in order.
//! Carried out by the SDK's wallet, as the CLI and the MCP server do.

use std::sync::Arc;

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{OperationSigner, SmartAccount},
    kernel::{Call, LaneKey, NonceKey},
    permission::{Permission, PermissionSigner},
    policy::Policy,
    session_key::issue,
    transaction::Batch,
    wallet::{ActionError, Outcome, Wallet, WalletKey},
};
use namera_e2e::{
    RECEIPT_TIMEOUT, block_on, ether, new_account, owner_key, random_address, wallet_with,
};

/// A wallet over `account` (its chain client) whose one key is `key`.
fn wallet(account: &SmartAccount, key: WalletKey) -> Wallet {
    wallet_with(account.config(), account.chain().clone(), key)
}

fn owner_wallet(account: &SmartAccount, signer: impl OperationSigner + 'static) -> Wallet {
    wallet(account, owner_key(account.chain().chain_id, Arc::new(signer)))
}

fn landed(outcome: &Outcome) -> &namera::wallet::Landed {
    match outcome {
        Outcome::Landed(l) => l,
        other => panic!("expected a landed batch, got {other:?}"),
    }
}

#[test]
fn ten_lanes_at_once_all_land() {
    let (owner, account, _) = new_account(false, ether(1));
    let key = PrivateKeySigner::random();
    let permission =
        Permission::new(PermissionSigner::Ecdsa(key.address()), vec![Policy::sudo()]).unwrap();
    let chain = account.chain().chain_id;
    // The key's first use (enable mode, deploying the account too) is one of the batches:
    // it lands alone, the other nine after it, at once.
    let signer = issue(&owner, &[&account], &permission, &key).unwrap().1.remove(0);
    let session = WalletKey::session("agent", Default::default(), vec![(chain, signer)]).unwrap();
    let agent = wallet(&account, session);
    let to = random_address();
    let batches: Vec<Batch> = (0..10u16)
        .map(|i| {
            Batch::new(chain, vec![Call::transfer(to, U256::from(1u64 << i))])
                .on_lane(LaneKey(100 + i))
        })
        .collect();

    let outcomes = block_on(agent.execute_batches(batches));

    assert_eq!(outcomes.len(), 10);
    for (i, o) in outcomes.iter().enumerate() {
        let l = landed(o);
        assert!(l.receipt.success, "batch {i}: {l:?}");
        assert_eq!((l.lane, l.key.as_str()), (LaneKey(100 + i as u16), "agent"));
    }
    // Every batch's value arrived exactly once: 1 + 2 + … + 512.
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(1023));
}

#[test]
fn five_batches_on_one_lane_land_in_order() {
    let (_owner, account, owner_signer) = new_account(false, ether(1));
    let chain = account.chain().chain_id;
    let lane = LaneKey::from_name("in-order");
    let to = random_address();
    let batches: Vec<Batch> = (1..=5u64)
        .map(|i| Batch::new(chain, vec![Call::transfer(to, U256::from(i))]).on_lane(lane))
        .collect();

    let outcomes = block_on(owner_wallet(&account, owner_signer).execute_batches(batches));

    let node = &account.chain().node;
    let mut last_block = U256::ZERO;
    for (i, o) in outcomes.iter().enumerate() {
        let r = &landed(o).receipt;
        assert!(r.success);
        // In order: each lands no earlier than the one before.
        assert!(
            r.receipt.block_number >= last_block,
            "batch {i} landed before batch {}",
            i.saturating_sub(1)
        );
        last_block = r.receipt.block_number;
    }
    // The lane's sequence advanced by exactly five.
    let key = NonceKey::root(account.config().root.validation_id(), lane);
    assert_eq!(node.entry_point_sequence(account.address(), key).unwrap(), 5);
    assert_eq!(node.balance(to).unwrap(), U256::from(15));
}

#[test]
fn batch_outcomes_are_per_batch_and_a_failure_hides_nothing() {
    let (_owner, account, owner_signer) = new_account(false, ether(1));
    let chain = account.chain().chain_id;
    let to = random_address();
    let batches = vec![
        Batch::new(chain, vec![Call::transfer(to, U256::from(1))]).on_lane(LaneKey(1)),
        // Unknown chain: this batch alone fails.
        Batch::new(999_999, vec![Call::transfer(to, U256::from(2))]).on_lane(LaneKey(2)),
        Batch::new(chain, vec![Call::transfer(to, U256::from(4))]).on_lane(LaneKey(3)),
        // Its execution would revert (more value than the account holds): the bundler's
        // simulation refuses it, nothing is sent, and the batch after it on its lane is
        // skipped rather than sent out of order.
        Batch::new(chain, vec![Call::transfer(to, ether(5))]).on_lane(LaneKey(4)),
        Batch::new(chain, vec![Call::transfer(to, U256::from(8))]).on_lane(LaneKey(4)),
    ];
    let outcomes = block_on(owner_wallet(&account, owner_signer).execute_batches(batches));
    assert!(landed(&outcomes[0]).receipt.success);
    match &outcomes[1] {
        Outcome::Failed { error: ActionError::Input(m), .. } => {
            assert_eq!(m, "chain 999999 is not one of the wallet's");
        }
        other => panic!("expected the unknown chain to be named, got {other:?}"),
    }
    assert!(landed(&outcomes[2]).receipt.success);
    match &outcomes[3] {
        Outcome::Failed { lane: LaneKey(4), error: ActionError::Account(e) } => {
            assert_eq!(e.refusing_policy(), None, "no policy refused it: {e}");
            assert_eq!(
                e.refusal(),
                Some("UserOperation reverted during simulation with reason: 0x")
            );
        }
        other => panic!("expected the simulation to refuse it, got {other:?}"),
    }
    assert!(
        matches!(outcomes[4], Outcome::Skipped { lane: LaneKey(4), after: 3 }),
        "{:?}",
        outcomes[4]
    );
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(5));
}

#[test]
fn a_stale_lane_sequence_is_read_again() {
    // Two clients of one account share a lane; each caches the lane's sequence, so every
    // other send starts from a stale value, gets AA25 from the bundler, and retries once.
    let (_owner, first, owner_signer) = new_account(false, ether(1));
    let second = SmartAccount::new(first.config().clone(), namera_e2e::chain());
    let to = random_address();
    let lane = LaneKey(77);
    for (i, account) in [&first, &second, &first, &second].into_iter().enumerate() {
        let r = account
            .execute(&owner_signer, &[Call::transfer(to, U256::from(1))], lane, RECEIPT_TIMEOUT)
            .unwrap_or_else(|e| panic!("send {i}: {e}"));
        assert!(r.success);
    }
    let key = NonceKey::root(first.config().root.validation_id(), lane);
    assert_eq!(first.chain().node.entry_point_sequence(first.address(), key).unwrap(), 4);
    assert_eq!(first.chain().node.balance(to).unwrap(), U256::from(4));
}

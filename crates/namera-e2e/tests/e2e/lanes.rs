//! Lanes: batches on different lanes run at once; batches on one lane land in order.

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use namera::{
    kernel::{Call, LaneKey, NonceKey},
    permission::{Permission, PermissionSigner},
    policy::Policy,
    session_key::issue,
    transaction::{Batch, ChainSigner, send_batches},
};
use namera_e2e::{RECEIPT_TIMEOUT, ether, new_account, random_address};

#[test]
fn ten_lanes_at_once_all_land() {
    let (owner, account, _) = new_account(false, ether(1));
    let key = PrivateKeySigner::random();
    let permission =
        Permission::new(PermissionSigner::Ecdsa(key.address()), vec![Policy::sudo()]).unwrap();
    let chain = account.chain().chain_id;
    // The key's first use (enable mode, deploying the account too) is one of the batches.
    let signer = issue(&owner, &[&account], &permission, &key).unwrap().1.remove(0);
    let to = random_address();
    let batches: Vec<Batch> = (0..10u16)
        .map(|i| {
            Batch::new(chain, vec![Call::transfer(to, U256::from(1u64 << i))])
                .on_lane(LaneKey(100 + i))
        })
        .collect();

    let outcomes = send_batches(
        &[ChainSigner { account: &account, signer: &signer }],
        &batches,
        RECEIPT_TIMEOUT,
    );

    assert_eq!(outcomes.len(), 10);
    for o in &outcomes {
        let r = o.result.as_ref().unwrap_or_else(|e| panic!("batch {} failed: {e}", o.index));
        assert!(r.success, "batch {}: {r:?}", o.index);
        assert_eq!(o.lane, LaneKey(100 + o.index as u16));
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

    let outcomes = send_batches(
        &[ChainSigner { account: &account, signer: &owner_signer }],
        &batches,
        RECEIPT_TIMEOUT,
    );

    let node = &account.chain().node;
    let mut last_block = U256::ZERO;
    for (i, o) in outcomes.iter().enumerate() {
        let r = o.result.as_ref().unwrap_or_else(|e| panic!("batch {i} failed: {e}"));
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
    ];
    let outcomes = send_batches(
        &[ChainSigner { account: &account, signer: &owner_signer }],
        &batches,
        RECEIPT_TIMEOUT,
    );
    assert!(outcomes[0].result.as_ref().is_ok_and(|r| r.success));
    assert!(matches!(
        outcomes[1].result,
        Err(namera::transaction::BatchError::UnknownChain(999_999))
    ));
    assert!(outcomes[2].result.as_ref().is_ok_and(|r| r.success));
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(5));
}

#[test]
fn a_stale_lane_sequence_is_read_again() {
    // Two clients of one account share a lane; each caches the lane's sequence, so every
    // other send starts from a stale value, gets AA25 from the bundler, and retries once.
    let (_owner, first, owner_signer) = new_account(false, ether(1));
    let second = namera::account::SmartAccount::new(first.config().clone(), namera_e2e::chain());
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

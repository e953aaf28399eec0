//! Whether an operation landed is asked of the chain, not concluded from a bundler that
//! has no receipt: a send the wallet took for dropped would otherwise run twice.

use std::sync::Arc;

use alloy_primitives::U256;
use namera::{
    account::{ChainClient, NonceUse, OperationSigner, SentOperation},
    chain::Endpoints,
    kernel::{Call, LaneKey},
    rpc::{RpcClient, RpcStats},
};
use namera_e2e::{
    RECEIPT_TIMEOUT, block_on, endpoints, ether, new_account, owner_key, random_address,
    wallet_with,
};
use serde_json::Value;

/// Mine one empty block (anvil), so that the last operation is no longer in the latest
/// block.
fn mine() {
    let rpc = RpcClient::new(endpoints().rpc);
    let _: Value = rpc.call("evm_mine", serde_json::json!([])).expect("evm_mine");
}

#[test]
fn the_chain_names_the_operation_that_used_a_nonce() {
    let (_, account, signer) = new_account(false, ether(1));
    let to = random_address();
    let pay = |wei: u64| [Call::transfer(to, U256::from(wei))];
    let lane = LaneKey(3);
    let first = account.send(&signer, &pay(1), lane).unwrap();
    let from_bundler = account.wait(first.hash, RECEIPT_TIMEOUT).unwrap();
    // The receipt rebuilt from the bundle transaction is the bundler's, field for field
    // (its logs: the transfer's, none of the deployment's EntryPoint events).
    match account.nonce_use(&first).unwrap() {
        NonceUse::Landed(receipt) => assert_eq!(*receipt, from_bundler),
        other => panic!("the first operation landed, got {other:?}"),
    }

    // Two operations for the next nonce on the lane: one prepared and never sent, one sent.
    let unsent = account.prepare(&signer, &pay(2), lane).unwrap();
    let unsent =
        SentOperation { hash: unsent.hash_v07(account.chain().chain_id), operation: unsent };
    assert_eq!(account.nonce_use(&unsent).unwrap(), NonceUse::Unused);
    let second = account.send(&signer, &pay(3), lane).unwrap();
    assert_eq!(second.operation.nonce, unsent.operation.nonce, "the same nonce");
    assert!(account.wait(second.hash, RECEIPT_TIMEOUT).unwrap().success);
    assert_eq!(account.nonce_use(&unsent).unwrap(), NonceUse::Taken(second.hash));
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(4));
}

/// The wallet sends through the devnet's bundler and waits through a second bundler
/// instance (as behind a hosted bundler's load balancer) that never saw the operation
/// and searches only the latest block's logs: once a block has passed, it has no
/// receipt for it. The operation's nonce is
/// used by then, which a wallet that trusted the bundler took for "dropped" (and sent the
/// calls again). It reads the receipt from the chain instead.
#[test]
fn a_receipt_the_bundler_does_not_have_is_read_from_the_chain() {
    let (_, account, owner) = new_account(false, ether(1));
    let chain_id = account.chain().chain_id;
    let signer: Arc<dyn OperationSigner> = Arc::new(owner);
    let wallet_on = |bundler: String| {
        let endpoints = Endpoints { bundler, ..endpoints() };
        let chain = ChainClient::connect(&endpoints, Arc::new(RpcStats::default())).unwrap();
        wallet_with(account.config(), chain, owner_key(chain_id, signer.clone()))
    };
    let devnet = namera_devnet::testing::shared();
    let other = devnet.extra_bundler(0);
    let (sending, waiting) = (wallet_on(endpoints().bundler), wallet_on(other.url().to_owned()));

    let to = random_address();
    let pay = vec![Call::transfer(to, U256::from(7))];
    let sent = block_on(sending.send(chain_id, pay, LaneKey(5))).unwrap();
    let hash = sent.hash;
    let from_devnet_bundler = account.wait(hash, RECEIPT_TIMEOUT).unwrap();
    mine();
    let other_client = namera::bundler::BundlerClient::new(RpcClient::new(other.url()));
    assert_eq!(other_client.receipt(hash).unwrap(), None, "the fault: no receipt there");

    let receipt = block_on(waiting.wait_for(sent)).expect("landed, not dropped");
    assert_eq!(receipt, from_devnet_bundler);
    assert_eq!(account.chain().node.balance(to).unwrap(), U256::from(7), "paid once");
}

//! Flow benchmarks against the devnet (not tests): wall time of parallel lanes against
//! sequential UserOperations, and the requests and round trips each flow needs.
//!
//! `cargo bench -p namera-e2e --bench flows`

use std::{sync::Arc, time::Instant};

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{ChainClient, OperationSigner, OwnerSigner, SessionKeySigner, SmartAccount},
    kernel::{AccountConfig, Call, KernelVersion, LaneKey, RootValidator},
    permission::{Permission, PermissionSigner},
    policy::Policy,
    rpc::RpcStats,
    session_key::{ChainNonce, OwnerApproval},
    transaction::{Batch, ChainSigner, send_batches},
};
use namera_e2e::{RECEIPT_TIMEOUT, endpoints, ether, random_address, set_balance};

const N: u16 = 10;

fn account(stats: &Arc<RpcStats>) -> (PrivateKeySigner, SmartAccount, OwnerSigner) {
    let owner = PrivateKeySigner::random();
    let config = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::Ecdsa { owner: owner.address() },
        U256::from(7),
    );
    let account = SmartAccount::new(
        config,
        ChainClient::connect(&endpoints(), stats.clone()).expect("devnet"),
    );
    set_balance(account.address(), ether(10));
    let signer = OwnerSigner::new(owner.clone(), account.config().root.validation_id());
    (owner, account, signer)
}

fn deployed(stats: &Arc<RpcStats>) -> (PrivateKeySigner, SmartAccount, OwnerSigner) {
    let (o, a, s) = account(stats);
    a.execute(
        &s,
        &[Call::transfer(random_address(), U256::from(1))],
        LaneKey::DEFAULT,
        RECEIPT_TIMEOUT,
    )
    .expect("deploys");
    (o, a, s)
}

fn lanes() {
    let stats = Arc::new(RpcStats::default());
    let (_, account, signer) = deployed(&stats);
    let to = random_address();
    let start = Instant::now();
    for i in 0..N {
        account
            .execute(
                &signer,
                &[Call::transfer(to, U256::from(i + 1))],
                LaneKey::DEFAULT,
                RECEIPT_TIMEOUT,
            )
            .expect("lands");
    }
    let sequential = start.elapsed();
    let batches: Vec<Batch> = (0..N)
        .map(|i| {
            Batch::new(account.chain().chain_id, vec![Call::transfer(to, U256::from(i + 1))])
                .on_lane(LaneKey(1000 + i))
        })
        .collect();
    let start = Instant::now();
    let out = send_batches(
        &[ChainSigner { account: &account, signer: &signer }],
        &batches,
        RECEIPT_TIMEOUT,
    );
    let parallel = start.elapsed();
    assert!(out.iter().all(|o| o.result.as_ref().is_ok_and(|r| r.success)), "all lanes land");
    println!(
        "lanes: {N} sequential UserOperations {:.2} s, {N} parallel lanes {:.2} s, ratio sequential/parallel {:.2}",
        sequential.as_secs_f64(),
        parallel.as_secs_f64(),
        sequential.as_secs_f64() / parallel.as_secs_f64()
    );
}

/// Count requests and round trips from "send this" until the bundler accepted it.
fn count(name: &str, stats: &RpcStats, f: impl FnOnce()) {
    stats.reset();
    f();
    println!(
        "round trips: {name:<32} {:>2} requests, {:>2} HTTP round trips, {} sequential",
        stats.requests(),
        stats.round_trips(),
        stats.sequential_round_trips()
    );
}

fn round_trips() {
    let stats = Arc::new(RpcStats::default());
    let to = random_address();
    let call = [Call::transfer(to, U256::from(1))];
    let send = |a: &SmartAccount, s: &dyn OperationSigner| {
        let sent = a.send(s, &call, LaneKey::DEFAULT).expect("accepted");
        sent.hash
    };

    // Warm clients: the chain id was read when they connected.
    let (_, fresh, owner) = account(&stats);
    let mut hash = None;
    count("first op (deploys)", &stats, || hash = Some(send(&fresh, &owner)));
    fresh.wait(hash.expect("sent"), RECEIPT_TIMEOUT).expect("lands");
    count("owner op, deployed account", &stats, || hash = Some(send(&fresh, &owner)));
    fresh.wait(hash.expect("sent"), RECEIPT_TIMEOUT).expect("lands");

    // A session key on a deployed account.
    let key = PrivateKeySigner::random();
    let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), vec![Policy::sudo()])
        .expect("valid");
    let (owner_key, acct, _) = deployed(&stats);
    let nonce = acct.kernel_nonce().expect("nonce");
    let approval = OwnerApproval::sign_single_chain(
        &owner_key,
        acct.config(),
        &permission,
        ChainNonce { chain_id: acct.chain().chain_id, kernel_nonce: nonce },
    )
    .expect("signs");
    let session = SessionKeySigner::enabling(
        key,
        permission,
        nonce,
        approval.chains[0].enable_signature.clone(),
    );
    count("session key first use (enable)", &stats, || hash = Some(send(&acct, &session)));
    acct.wait(hash.expect("sent"), RECEIPT_TIMEOUT).expect("lands");
    session.landed();
    count("session key later use", &stats, || hash = Some(send(&acct, &session)));
    acct.wait(hash.expect("sent"), RECEIPT_TIMEOUT).expect("lands");

    let batches: Vec<Batch> = (0..N)
        .map(|i| Batch::new(acct.chain().chain_id, call.to_vec()).on_lane(LaneKey(2000 + i)))
        .collect();
    stats.reset();
    let start = Instant::now();
    let _ = send_batches(
        &[ChainSigner { account: &acct, signer: &session }],
        &batches,
        RECEIPT_TIMEOUT,
    );
    println!(
        "round trips: {:<32} {:>2} requests, {:>2} HTTP round trips incl. receipt polling, {:.2} s",
        format!("{N} lanes at once (to receipts)"),
        stats.requests(),
        stats.round_trips(),
        start.elapsed().as_secs_f64()
    );
}

fn main() {
    lanes();
    round_trips();
}

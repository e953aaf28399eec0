//! Flow benchmarks against the devnet (not tests): wall time of parallel lanes against
//! sequential UserOperations, and the requests and round trips each flow needs.
//!
//! `cargo bench -p namera-e2e --bench flows`
//!
//! Round trips are counted from "send this" until the bundler has accepted the operation
//! (its hash is back), on a warm client: one that has read the chain id and holds a
//! recent fee quote. "Sequential" is the longest chain of round trips each of which began
//! after the previous one ended, over every request the flow made. For N lanes sent at
//! once that chain runs across lanes: each lane's own path is the same as a single
//! operation's, but the bundler answers N concurrent requests one after another, so a
//! later lane's send can start after an earlier lane's send ended and the chain grows.

use std::{sync::Arc, time::Instant};

use alloy_primitives::{B256, U256};
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{ChainClient, OperationSigner, OwnerSigner, SessionKeySigner, SmartAccount},
    kernel::{AccountConfig, Call, KernelVersion, LaneKey, RootValidator},
    permission::{Permission, PermissionSigner},
    policy::Policy,
    rpc::RpcStats,
    session_key::{ChainNonce, OwnerApproval},
    transaction::Batch,
    wallet::Outcome,
};
use namera_e2e::{RECEIPT_TIMEOUT, endpoints, ether, random_address, set_balance};

const N: u16 = 10;

/// A new account on `chain` (a clone shares its fee quote cache and its counters).
fn account(chain: &ChainClient) -> (PrivateKeySigner, SmartAccount, OwnerSigner) {
    let owner = PrivateKeySigner::random();
    let config = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::Ecdsa { owner: owner.address() },
        U256::from(7),
    );
    let account = SmartAccount::new(config, chain.clone());
    set_balance(account.address(), ether(10));
    let signer = OwnerSigner::new(owner.clone(), account.config().root.validation_id());
    (owner, account, signer)
}

fn deployed(chain: &ChainClient) -> (PrivateKeySigner, SmartAccount, OwnerSigner) {
    let (o, a, s) = account(chain);
    a.execute(
        &s,
        &[Call::transfer(random_address(), U256::from(1))],
        LaneKey::DEFAULT,
        RECEIPT_TIMEOUT,
    )
    .expect("deploys");
    (o, a, s)
}

fn connect(stats: &Arc<RpcStats>) -> ChainClient {
    ChainClient::connect(&endpoints(), stats.clone()).expect("devnet")
}

fn lanes() {
    let stats = Arc::new(RpcStats::default());
    let (_, account, signer) = deployed(&connect(&stats));
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
    let chain_id = account.chain().chain_id;
    // The same account and chain client (its fee quote), for the wallet to own.
    let owner = namera_e2e::owner_key(chain_id, Arc::new(signer));
    let wallet = namera_e2e::wallet_with(account.config(), account.chain().clone(), owner);
    let start = Instant::now();
    let out = namera_e2e::block_on(wallet.execute_batches(batches));
    let parallel = start.elapsed();
    assert!(
        out.iter().all(|o| matches!(o, Outcome::Landed(l) if l.receipt.success)),
        "all lanes land"
    );
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

    // A warm client: it read the chain id when it connected, and has a recent fee quote
    // (from the operation that deploys the account used for the session key below).
    let chain = connect(&stats);
    let (owner_key, acct, _) = deployed(&chain);
    let (_, fresh, owner) = account(&chain);
    let mut hash = None;
    count("first op (deploys)", &stats, || hash = Some(send(&fresh, &owner)));
    fresh.wait(hash.expect("sent"), RECEIPT_TIMEOUT).expect("lands");
    count("owner op, deployed account", &stats, || hash = Some(send(&fresh, &owner)));
    fresh.wait(hash.expect("sent"), RECEIPT_TIMEOUT).expect("lands");

    // A session key on a deployed account.
    let key = PrivateKeySigner::random();
    let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), vec![Policy::sudo()])
        .expect("valid");
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

    // N lanes sent at once, each on its own thread, counted until the bundler accepted
    // all of them: first on lanes this client has never used, then on the same lanes
    // again (their sequences known). Each lane goes through its own (warm) view of the
    // account, with its own counters, so that each lane's own chain of round trips can be
    // told apart from the chain across all lanes.
    let views: Vec<(Arc<RpcStats>, SmartAccount)> = (0..N)
        .map(|_| {
            let lane_stats = Arc::new(RpcStats::default());
            let view = SmartAccount::new(acct.config().clone(), connect(&lane_stats));
            assert!(view.is_deployed().expect("reads"), "warm: seen deployed");
            (lane_stats, view)
        })
        .collect();
    for name in ["new lanes", "used lanes"] {
        for (lane_stats, view) in &views {
            view.chain().fees().expect("warm: a recent fee quote");
            lane_stats.reset();
        }
        let hashes: Vec<(B256, &SmartAccount)> = std::thread::scope(|s| {
            let sends: Vec<_> = views
                .iter()
                .zip(0u16..)
                .map(|((_, view), i)| {
                    let (session, call) = (&session, &call);
                    s.spawn(move || (send_on(view, session, call, LaneKey(2000 + i)), view))
                })
                .collect();
            sends.into_iter().map(|h| h.join().expect("send thread")).collect()
        });
        let sum = |f: fn(&RpcStats) -> u64| views.iter().map(|(st, _)| f(st)).sum::<u64>();
        let per_lane =
            views.iter().map(|(st, _)| st.sequential_round_trips()).max().unwrap_or_default();
        let all = RpcStats::merged(views.iter().map(|(st, _)| st.as_ref()));
        println!(
            "round trips: {:<32} {:>2} requests, {:>2} HTTP round trips, {per_lane} sequential per lane ({} across all lanes)",
            format!("{N} {name} at once"),
            sum(RpcStats::requests),
            sum(RpcStats::round_trips),
            all.sequential_round_trips(),
        );
        for (h, view) in hashes {
            assert!(view.wait(h, RECEIPT_TIMEOUT).expect("lands").success);
        }
    }
}

fn send_on(a: &SmartAccount, s: &dyn OperationSigner, call: &[Call], lane: LaneKey) -> B256 {
    a.send(s, call, lane).expect("accepted").hash
}

fn main() {
    lanes();
    round_trips();
}

//! One owner signature enables a session key on two chains with different chain ids.

use std::sync::{Arc, OnceLock};

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{ChainClient, SessionKeySigner, SmartAccount},
    chain::Endpoints,
    kernel::{AccountConfig, Call, KernelVersion, LaneKey, RootValidator},
    permission::{Permission, PermissionSigner},
    policy::{Policy, PolicyKind},
    rpc::{RpcClient, RpcStats},
    session_key::{ChainNonce, OwnerApproval, SerializedSessionKey},
};
use namera_devnet::{Devnet, DevnetConfig};
use namera_e2e::{RECEIPT_TIMEOUT, ether, random_address};
use serde_json::json;

/// A second devnet with another chain id, for this test binary only.
fn second_devnet() -> &'static Devnet {
    static SECOND: OnceLock<Devnet> = OnceLock::new();
    SECOND.get_or_init(|| {
        let pid = std::process::id();
        let config = DevnetConfig::new()
            .chain_id(31_338)
            .named(format!("e2e-second-{pid}"))
            .tie_to_process(pid);
        namera_devnet::up(&config).expect("second devnet starts")
    })
}

fn client(rpc: &str, bundler: &str) -> ChainClient {
    let endpoints = Endpoints { rpc: rpc.to_owned(), bundler: bundler.to_owned(), paymaster: None };
    ChainClient::connect(&endpoints, Arc::new(RpcStats::default())).unwrap()
}

#[test]
fn one_owner_signature_enables_a_session_key_on_two_chains() {
    let first = namera_e2e::endpoints();
    let second = second_devnet();
    let chains =
        [client(&first.rpc, &first.bundler), client(second.rpc_url(), second.bundler_url())];
    assert_ne!(chains[0].chain_id, chains[1].chain_id);

    let owner = PrivateKeySigner::random();
    let config = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::MultiChainEcdsa { owner: owner.address() },
        U256::from(42),
    );
    let accounts: Vec<SmartAccount> =
        chains.into_iter().map(|c| SmartAccount::new(config.clone(), c)).collect();
    for a in &accounts {
        let rpc = RpcClient::new(a.chain().node.rpc().url());
        let _: serde_json::Value =
            rpc.call("anvil_setBalance", json!([a.address(), ether(1)])).unwrap();
    }
    let key = PrivateKeySigner::random();
    let policies = vec![
        Policy::sudo(),
        Policy::new(PolicyKind::RateLimit { interval: 0, count: 5, start_at: 0 }),
    ];
    let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), policies).unwrap();
    let states: Vec<ChainNonce> = accounts
        .iter()
        .map(|a| ChainNonce {
            chain_id: a.chain().chain_id,
            kernel_nonce: a.kernel_nonce().unwrap(),
        })
        .collect();

    // ONE signature for both chains.
    let approval = OwnerApproval::sign(&owner, &config, &permission, &states).unwrap();
    assert_eq!(approval.chains.len(), 2);
    assert!(approval.merkle_root.is_some());

    for ((account, chain), state) in accounts.iter().zip(&approval.chains).zip(&states) {
        // The key travels serialized, as it would to an agent, and is read back.
        let serialized = SerializedSessionKey::new(
            &permission,
            &config,
            Some(chain.enable_signature.clone()),
            None,
        );
        let read = SerializedSessionKey::from_base64(&serialized.to_base64()).unwrap();
        read.verify_enable_signature(
            PermissionSigner::Ecdsa(key.address()),
            chain.chain_id,
            state.kernel_nonce,
        )
        .unwrap();
        let signer = SessionKeySigner::enabling(
            key.clone(),
            read.permission(PermissionSigner::Ecdsa(key.address())).unwrap(),
            state.kernel_nonce,
            read.enable_signature.clone().unwrap(),
        );
        let to = random_address();
        let r = account
            .execute(
                &signer,
                &[Call::transfer(to, U256::from(11))],
                LaneKey::DEFAULT,
                RECEIPT_TIMEOUT,
            )
            .unwrap();
        assert!(r.success, "chain {}: {r:?}", chain.chain_id);
        signer.mark_installed();
        let r = account
            .execute(
                &signer,
                &[Call::transfer(to, U256::from(12))],
                LaneKey::DEFAULT,
                RECEIPT_TIMEOUT,
            )
            .unwrap();
        assert!(r.success, "chain {}: {r:?}", chain.chain_id);
        assert_eq!(
            account.chain().node.balance(to).unwrap(),
            U256::from(23),
            "chain {}",
            chain.chain_id
        );
    }
}

//! Protocol-core costs: issuing a session key on N chains, and hashing + signing a
//! UserOperation. `baseline/ecdsa_sign` (one secp256k1 signature) is measured in the same
//! run so results can be read as ratios, independent of the machine.

use std::hint::black_box;

use alloy_primitives::{U256, address};
use alloy_signer_local::PrivateKeySigner;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use namera::{
    kernel::{
        AccountConfig, Call, ExecType, KernelVersion, LaneKey, NonceKey, RootValidator,
        UserOperation, ValidationMode, encode_calls,
        sign::{sign_digest, sign_hash_message},
    },
    permission::{Permission, PermissionSigner, sign_permission_user_op},
    policy::{Policy, PolicyKind},
    session_key::{ChainNonce, OwnerApproval},
};
use serde_json::json;

fn policies() -> Vec<Policy> {
    let call = Policy::from_json(&json!({
        "type": "call", "policyVersion": "0.0.5",
        "permissions": [{
            "target": "0xcb89995bebd57a42562a76a4daccbb44e67c9277",
            "abi": [{"type": "function", "name": "transfer", "stateMutability": "nonpayable",
                     "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
                     "outputs": [{"type": "bool"}]}],
            "functionName": "transfer",
            "args": [{"condition": "EQUAL", "value": "0xfe270cfe48451f21da43f6be42f18d323422b099"},
                     {"condition": "LESS_THAN_OR_EQUAL", "value": "1000000"}]
        }]
    }))
    .expect("valid policy");
    vec![
        call,
        Policy::new(PolicyKind::Gas {
            allowed: 10u128.pow(17),
            enforce_paymaster: false,
            allowed_paymaster: Default::default(),
        }),
        Policy::new(PolicyKind::Timestamp {
            valid_after: 1_700_000_000,
            valid_until: 1_900_000_000,
        }),
        Policy::new(PolicyKind::RateLimit { interval: 60, count: 100, start_at: 1_700_000_000 }),
    ]
}

fn bench(c: &mut Criterion) {
    let owner = PrivateKeySigner::random();
    let session = PrivateKeySigner::random();
    let account = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::MultiChainEcdsa { owner: owner.address() },
        U256::ZERO,
    );
    let digest = alloy_primitives::keccak256(b"baseline");

    c.bench_function("baseline/ecdsa_sign", |b| b.iter(|| sign_digest(&owner, black_box(digest))));

    let mut group = c.benchmark_group("session_key/create");
    for n in [1u64, 10, 100] {
        let chains: Vec<ChainNonce> =
            (1..=n).map(|chain_id| ChainNonce { chain_id, kernel_nonce: 1 }).collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &chains, |b, chains| {
            b.iter(|| {
                // Everything an owner does to issue the key: build the permission (its
                // id hashes every policy), one Enable digest per chain, the Merkle tree,
                // one signature, and each chain's enable signature with its proof.
                let permission =
                    Permission::new(PermissionSigner::Ecdsa(session.address()), policies())
                        .expect("valid");
                OwnerApproval::sign(&owner, &account, &permission, black_box(chains))
                    .expect("signs")
            })
        });
    }
    group.finish();

    let to = address!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a");
    let op = UserOperation {
        sender: account.address(),
        nonce: NonceKey::permission(
            ValidationMode::Default,
            Permission::new(PermissionSigner::Ecdsa(session.address()), policies())
                .expect("valid")
                .validation_id(),
            LaneKey::from_name("bench"),
        )
        .nonce(7),
        call_data: encode_calls(
            account.address(),
            &[Call::transfer(to, U256::from(1))],
            false,
            ExecType::Default,
        )
        .expect("encodes"),
        call_gas_limit: 100_000,
        verification_gas_limit: 500_000,
        pre_verification_gas: U256::from(60_000),
        max_fee_per_gas: 30_000_000_000,
        max_priority_fee_per_gas: 1_500_000_000,
        ..Default::default()
    };
    c.bench_function("user_op/hash", |b| b.iter(|| black_box(&op).hash_v07(8453)));
    c.bench_function("user_op/hash_and_sign_owner", |b| {
        b.iter(|| sign_hash_message(&owner, black_box(&op).hash_v07(8453)))
    });
    c.bench_function("user_op/hash_and_sign_session_key", |b| {
        b.iter(|| sign_permission_user_op(&session, black_box(&op).hash_v07(8453)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);

//! An async agent: a tokio program acts through a session key with the SDK's `Wallet`,
//! sending two batches on two lanes at the same time.
//!
//! On the local devnet (it funds a fresh account with anvil's `anvil_setBalance`):
//!
//! ```sh
//! cargo run -q -p namera-cli -- devnet up
//! set -a; eval "$(cargo run -q -p namera-cli -- devnet env)"; set +a
//! cargo run -p namera --example agent      # both batches land, in one block
//! cargo run -q -p namera-cli -- devnet down
//! ```
//!
//! The SDK needs no runtime of its own: its futures run their network calls on threads
//! of their own, so no tokio worker ever waits on the network.

use std::time::Instant;

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{ChainClient, SmartAccount},
    chain::{ChainInfo, ChainRegistry, Endpoints},
    kernel::{AccountConfig, Call, KernelVersion, LaneKey, RootValidator},
    permission::{Permission, PermissionSigner},
    policy::{CallPermission, CallPolicy, Policy, PolicyKind},
    rpc::RpcStats,
    session_key::{SerializedSessionKey, SessionPrivateKey, issue},
    wallet::{KeySpec, Wallet},
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let local = ChainInfo::find("local")?;
    let endpoints = Endpoints::from_env(&local)?;

    // The owner's side: an account, funded, and a session key that may pay two
    // recipients at most 0.01 ETH per call.
    let owner = PrivateKeySigner::random();
    let config = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::MultiChainEcdsa { owner: owner.address() },
        U256::from(std::process::id()),
    );
    let chain = ChainClient::connect(&endpoints, std::sync::Arc::new(RpcStats::default()))?;
    let _: serde_json::Value = chain.node.rpc().call(
        "anvil_setBalance",
        serde_json::json!([config.address(), U256::from(10u64).pow(U256::from(18))]),
    )?;
    let account = SmartAccount::new(config, chain);
    let (alice, bob) = (PrivateKeySigner::random().address(), PrivateKeySigner::random().address());
    let limit = U256::from(10u64).pow(U256::from(16));
    let policy = Policy::new(PolicyKind::Call(CallPolicy {
        permissions: vec![
            CallPermission::transfer(alice, limit),
            CallPermission::transfer(bob, limit),
        ],
        ..CallPolicy::default()
    }));
    let session = PrivateKeySigner::random();
    let permission = Permission::new(PermissionSigner::Ecdsa(session.address()), vec![policy])?;
    let (approval, _) = issue(&owner, &[&account], &permission, &session)?;
    let handed_over = SerializedSessionKey::new(
        &permission,
        account.config(),
        Some(approval.chains[0].enable_signature.clone()),
        Some(SessionPrivateKey::new(session.to_bytes())),
    )
    .to_base64();

    // The agent's side: only the serialized session key and the endpoints.
    let key = KeySpec::from_serialized("agent", SerializedSessionKey::from_base64(&handed_over)?)?;
    let wallet =
        Wallet::connect(vec![endpoints], vec![key], None, ChainRegistry::builtin()).await?;
    let chain_id = wallet.chains()[0].id();
    println!("smart account  {}", wallet.address());

    // The first operation deploys the account and installs the key: it lands alone.
    let first = wallet.execute(chain_id, vec![Call::transfer(alice, U256::from(1))], None).await?;
    println!("first use      {} in block {}", first.hash, first.receipt.receipt.block_number);

    // Then two batches on two lanes, at once.
    let started = Instant::now();
    let (payroll, refunds) = (LaneKey::from_name("payroll"), LaneKey::from_name("refunds"));
    let (a, b) = tokio::join!(
        wallet.execute(
            chain_id,
            vec![Call::transfer(alice, U256::from(2)), Call::transfer(bob, U256::from(3))],
            Some(payroll)
        ),
        wallet.execute(chain_id, vec![Call::transfer(bob, U256::from(4))], Some(refunds)),
    );
    let (a, b) = (a?, b?);
    for (name, l) in [("payroll", &a), ("refunds", &b)] {
        println!(
            "lane {name:<8} {:>5}  {}  block {}  signed by {}",
            l.lane.0, l.hash, l.receipt.receipt.block_number, l.key
        );
    }
    println!("both landed in {:.1} s", started.elapsed().as_secs_f64());
    let node = &wallet.chains()[0].account().chain().node;
    println!("alice {} wei, bob {} wei", node.balance(alice)?, node.balance(bob)?);
    Ok(())
}

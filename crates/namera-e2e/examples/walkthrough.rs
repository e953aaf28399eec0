//! The whole story on the local devnet, with the chain's evidence at each step:
//! owner key → smart account → session key (call + gas + time window) → an allowed
//! transfer lands → a forbidden one is refused by the chain → revoke → refused again.
//!
//! ```sh
//! cargo run -p namera-e2e --example walkthrough
//! ```
//!
//! The devnet is brought up if it is not running (the first time installs anvil, Alto
//! and solc from npm into `~/.namera/devnet`) and left running; `namera devnet down`
//! stops it.

use std::{sync::Arc, time::Duration};

use alloy_primitives::{U256, utils::format_ether};
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{AccountError, ChainClient, OwnerSigner, SmartAccount},
    chain::Endpoints,
    kernel::{AccountConfig, Call, KernelVersion, LaneKey, RootValidator},
    permission::{Permission, PermissionSigner},
    policy::{CallPermission, CallPolicy, CallPolicyVersion, Policy, PolicyKind},
    rpc::{RpcClient, RpcStats},
    session_key::{issue, key_state, revoke_call},
};
use namera_devnet::DevnetConfig;

const WAIT: Duration = Duration::from_secs(60);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let devnet = namera_devnet::up(&DevnetConfig::new())?;
    println!(
        "devnet       chain {} at {} (bundler {})",
        devnet.chain_id(),
        devnet.rpc_url(),
        devnet.bundler_url()
    );
    let endpoints = Endpoints {
        rpc: devnet.rpc_url().into(),
        bundler: devnet.bundler_url().into(),
        paymaster: None,
    };
    let chain = ChainClient::connect(&endpoints, Arc::new(RpcStats::default()))?;

    let owner = PrivateKeySigner::random();
    let config = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::Ecdsa { owner: owner.address() },
        U256::ZERO,
    );
    let account = SmartAccount::new(config, chain);
    println!("owner key    {} (never leaves this process)", owner.address());
    println!("account      {} (counterfactual: not deployed yet)", account.address());
    let _: serde_json::Value = RpcClient::new(devnet.rpc_url()).call(
        "anvil_setBalance",
        serde_json::json!([account.address(), U256::from(10u64.pow(18))]),
    )?;
    println!("funded       1 ETH (devnet faucet)");

    // The session key may send at most 0.01 ETH per transfer to anyone, spend at most
    // 0.01 ETH on gas in all, for the next hour.
    let now = account.chain().node.timestamp()?;
    let limit = U256::from(10u64.pow(16));
    let key = PrivateKeySigner::random();
    let policies = vec![
        Policy::new(PolicyKind::Call(CallPolicy {
            version: CallPolicyVersion::V0_0_5,
            permissions: vec![CallPermission::transfer(alloy_primitives::Address::ZERO, limit)],
        })),
        Policy::new(PolicyKind::Gas {
            allowed: 10u128.pow(16),
            enforce_paymaster: false,
            allowed_paymaster: Default::default(),
        }),
        Policy::new(PolicyKind::Timestamp {
            valid_after: now.saturating_sub(60),
            valid_until: now + 3600,
        }),
    ];
    let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), policies)?;
    let (_, mut signers) = issue(&owner, &[&account], &permission, &key)?;
    let session = signers.remove(0);
    println!(
        "session key  {} permission {}: transfers ≤ 0.01 ETH, gas ≤ 0.01 ETH, for 1 hour",
        key.address(),
        permission.id()
    );

    let to = PrivateKeySigner::random().address();
    let allowed = U256::from(5 * 10u64.pow(15));
    let r = account.execute(&session, &[Call::transfer(to, allowed)], LaneKey::DEFAULT, WAIT)?;
    println!(
        "allowed      0.005 ETH landed in tx {} (block {}); recipient holds {} ETH; account deployed on the way",
        r.receipt.transaction_hash,
        r.receipt.block_number,
        format_ether(account.chain().node.balance(to)?)
    );

    match account.execute(
        &session,
        &[Call::transfer(to, U256::from(5 * 10u64.pow(16)))],
        LaneKey::DEFAULT,
        WAIT,
    ) {
        Err(e @ AccountError::Refused { .. }) => println!(
            "forbidden    0.05 ETH refused by the chain: {} policy — {}",
            e.refusing_policy().unwrap_or("?"),
            e.refusal().unwrap_or_default()
        ),
        other => return Err(format!("the forbidden transfer was not refused: {other:?}").into()),
    }

    let owner_signer = OwnerSigner::new(owner, account.config().root.validation_id());
    let r = account.execute(
        &owner_signer,
        &[revoke_call(account.address(), &permission)],
        LaneKey::DEFAULT,
        WAIT,
    )?;
    println!(
        "revoke       owner uninstalled the permission in tx {}; state now {:?}",
        r.receipt.transaction_hash,
        key_state(&account, permission.validation_id())?
    );

    match account.execute(&session, &[Call::transfer(to, allowed)], LaneKey::DEFAULT, WAIT) {
        Err(e @ AccountError::KeyRevoked { .. }) => println!("after revoke 0.005 ETH refused: {e}"),
        other => return Err(format!("the revoked key was not refused: {other:?}").into()),
    }
    println!(
        "recipient    still holds {} ETH: only the allowed transfer landed",
        format_ether(account.chain().node.balance(to)?)
    );
    Ok(())
}

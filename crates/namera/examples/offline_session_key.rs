//! Issue a session key for a Kernel v3 account on three chains with ONE owner signature,
//! entirely offline, and print what the owner would hand to an agent.
//!
//! ```sh
//! cargo run -p namera --example offline_session_key
//! ```

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use namera::{
    kernel::{AccountConfig, KernelVersion, RootValidator},
    permission::{Permission, PermissionSigner},
    policy::{Policy, PolicyKind},
    session_key::{ChainNonce, OwnerApproval, SerializedSessionKey},
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let owner = PrivateKeySigner::random();
    let session = PrivateKeySigner::random();
    let account = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::MultiChainEcdsa { owner: owner.address() },
        U256::ZERO,
    );
    println!("owner            {}", owner.address());
    println!("smart account    {} (same on every chain)", account.address());

    // What the key may do: transfers of at most 0.01 ETH, 0.05 ETH of gas in all, for a
    // day, at most 10 times, 60 s apart.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let policies = vec![
        Policy::from_json(&serde_json::json!({
            "type": "call", "policyVersion": "0.0.5",
            "permissions": [{"target": "0x0000000000000000000000000000000000000000", "valueLimit": "10000000000000000"}]
        }))?,
        Policy::new(PolicyKind::Gas {
            allowed: 50_000_000_000_000_000,
            enforce_paymaster: false,
            allowed_paymaster: Default::default(),
        }),
        Policy::new(PolicyKind::Timestamp { valid_after: now, valid_until: now + 86_400 }),
        Policy::new(PolicyKind::RateLimit { interval: 60, count: 10, start_at: now }),
    ];
    let permission = Permission::new(PermissionSigner::Ecdsa(session.address()), policies)?;
    println!("session key      {} (permission {})", session.address(), permission.id());

    let chains = [8453, 10, 42161].map(|chain_id| ChainNonce { chain_id, kernel_nonce: 1 });
    let approval = OwnerApproval::sign(&owner, &account, &permission, &chains)?;
    println!("owner signed     Merkle root {} once", approval.merkle_root.unwrap_or_default());
    for chain in &approval.chains {
        let key = SerializedSessionKey::new(
            &permission,
            &account,
            Some(chain.enable_signature.clone()),
            None,
        );
        let text = key.to_base64();
        println!(
            "chain {:>6}     serialized key {}… ({} chars)",
            chain.chain_id,
            &text[..32],
            text.len()
        );
    }
    Ok(())
}

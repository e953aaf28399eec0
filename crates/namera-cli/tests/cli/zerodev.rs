//! Keys serialized by ZeroDev's own TypeScript SDK, used for real.
//!
//! The vectors file (`../shared/vectors/zerodev-kernel-v3.json`, or `NAMERA_VECTORS`) holds
//! keys the SDK serialized for accounts rooted in ZeroDev's default, the plain ECDSA
//! validator, approved for chain 1. A devnet started with chain id 1 is such a chain as far
//! as the signatures go, so the key can be imported and used exactly as an agent would.

use std::path::PathBuf;

use alloy_primitives::{Address, U256, address};
use namera::{node::NodeClient, rpc::RpcClient};
use namera_devnet::DevnetState;
use serde_json::Value;

use crate::support::{DownOnDrop, Home, assert_exit, json, namera, unique};

fn vectors() -> Value {
    let path = std::env::var_os("NAMERA_VECTORS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/vectors/zerodev-kernel-v3.json")
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the ZeroDev vectors at {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The vector `name` of `category`.
fn case(vectors: &Value, category: &str, name: &str) -> Value {
    vectors["cases"][category]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {category} vector {name}"))
        .clone()
}

#[test]
fn a_zerodev_key_of_an_ecdsa_rooted_account_imports_and_lands() {
    let vector = case(&vectors(), "signed_user_op", "enable_first_use_v031");
    assert_eq!(vector["input"]["rootValidator"], "ecdsa");
    assert_eq!(vector["input"]["chainId"], 1);
    let serialized = vector["expected"]["serializedAccount"].as_str().unwrap();
    let account: Address = vector["expected"]["accountAddress"].as_str().unwrap().parse().unwrap();

    let name = unique("zerodev-chain-1");
    let _guard = DownOnDrop(name.clone());
    let out = namera(&["devnet", "up", "--chain-id", "1", "--name", &name, "-o", "json"]);
    assert_exit(&out, 0);
    let state: DevnetState = serde_json::from_value(json(&out.stdout)).unwrap();
    let rpc = RpcClient::new(&state.rpc_url);
    namera_devnet::anvil::set_balance(&rpc, account, U256::from(10u64.pow(18))).unwrap();

    let home = Home::new("zerodev");
    let env = [
        ("ETH_MAINNET_RPC_URL", state.rpc_url.as_str()),
        ("ETH_MAINNET_BUNDLER_URL", state.bundler_url.as_str()),
        ("SKPW", "session password 1"),
    ];
    let params = serde_json::json!({
        "alias": "zd", "smart_account": "zdacc", "session_password_env": "SKPW", "light_kdf": true,
        "keys": [{"chain": "eth-mainnet", "serialized": serialized}],
    });
    let out =
        home.run(&["session-key", "import", "-o", "json", "--params", &params.to_string()], &env);
    assert_exit(&out, 0);
    assert_eq!(json(&out.stdout)["account"], account.to_checksum(None));
    // The account is recorded with the root its address was made from.
    let record: Value = serde_json::from_slice(
        &std::fs::read(home.path.join("smart-accounts/zdacc.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["root_validator"], "ecdsa", "{record}");
    assert_eq!(record["owner"]["address"], "0x4B7a2A0d0e46bF7f7507C77989d28a0a37cfE032");

    let recipient = address!("0x000000000000000000000000000000000000bEEF");
    let node = NodeClient::new(rpc);
    let before = node.balance(recipient).unwrap();
    // The first use installs the key with the owner's ZeroDev-made enable signature (and
    // deploys the account); the second is a plain session-key operation.
    for (i, value) in ["1000", "2000"].iter().enumerate() {
        let send = serde_json::json!({
            "smart_account": "zdacc", "session_key": "zd", "chain": "eth-mainnet",
            "calls": [{"to": recipient.to_checksum(None), "value": value}],
            "password_env": "SKPW",
        });
        let out = home.run(&["tx", "send", "-o", "json", "--params", &send.to_string()], &env);
        assert_exit(&out, 0);
        assert_eq!(json(&out.stdout)["success"], true, "send {i}");
    }
    assert_eq!(node.balance(recipient).unwrap() - before, U256::from(3000));
    assert!(!node.code(account).unwrap().is_empty(), "the account was deployed");
}

//! The few node methods only a devnet uses: anvil's cheat codes, `debug_traceTransaction`
//! and sending from an unlocked dev account.
//!
//! Everything else (chain id, code, balances, `eth_call`) is the SDK's
//! [`NodeClient`](namera::node::NodeClient); these are small functions over the same
//! transport, [`namera::rpc::RpcClient`], so the devnet has one JSON-RPC client, not two.

use std::time::Duration;

use alloy_primitives::{Address, B256, Bytes, U256};
use namera::rpc::{Idempotence, RpcClient, RpcError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{DevnetError, Result};

/// `anvil_setCode`: puts `code` at `address` (empty code clears it).
pub fn set_code(rpc: &RpcClient, address: Address, code: &[u8]) -> Result<(), RpcError> {
    rpc.call::<Value>("anvil_setCode", json!([address, Bytes::copy_from_slice(code)])).map(drop)
}

/// `anvil_setBalance`: gives `address` exactly `wei`.
pub fn set_balance(rpc: &RpcClient, address: Address, wei: U256) -> Result<(), RpcError> {
    rpc.call::<Value>("anvil_setBalance", json!([address, wei])).map(drop)
}

/// `anvil_setStorageAt`: writes one storage slot of `address`.
pub fn set_storage_at(
    rpc: &RpcClient,
    address: Address,
    slot: B256,
    value: B256,
) -> Result<(), RpcError> {
    rpc.call::<Value>("anvil_setStorageAt", json!([address, slot, value])).map(drop)
}

/// `debug_traceTransaction` with the prestate tracer in diff mode: the storage `tx` wrote
/// in `contract` (what a constructor left behind). Empty when it wrote none.
pub fn written_storage(
    rpc: &RpcClient,
    tx: B256,
    contract: Address,
) -> Result<Vec<(B256, B256)>, RpcError> {
    const METHOD: &str = "debug_traceTransaction";
    let trace: Value = rpc.call(
        METHOD,
        json!([tx, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}]),
    )?;
    let post = trace.get("post").and_then(Value::as_object);
    let entry = post.and_then(|post| {
        post.iter().find(|(k, _)| k.parse::<Address>().is_ok_and(|a| a == contract)).map(|(_, v)| v)
    });
    let Some(storage) = entry.and_then(|e| e.get("storage")).and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    storage
        .iter()
        .map(|(slot, value)| {
            let slot = slot.parse::<B256>();
            let value = serde_json::from_value::<B256>(value.clone());
            match (slot, value) {
                (Ok(slot), Ok(value)) => Ok((slot, value)),
                _ => Err(RpcError::Decode {
                    method: METHOD.into(),
                    reason: format!("unexpected storage entry {slot:?} in {trace}"),
                }),
            }
        })
        .collect()
}

/// The parts of a receipt the devnet reads after sending a transaction.
///
/// The SDK's [`TransactionReceipt`](namera::node::TransactionReceipt) leaves out
/// `contractAddress`, which only deployments need.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentReceipt {
    /// The transaction.
    pub transaction_hash: B256,
    /// 1 = success.
    pub status: U256,
    /// The created contract, for a contract creation.
    #[serde(default)]
    pub contract_address: Option<Address>,
}

/// Sends a transaction from an account the node holds unlocked (anvil's dev accounts),
/// waits for its receipt (anvil mines at once) and fails if it reverted.
pub fn transact(
    rpc: &RpcClient,
    from: Address,
    to: Option<Address>,
    data: &[u8],
    value: U256,
) -> Result<SentReceipt> {
    let mut tx = json!({"from": from, "data": Bytes::copy_from_slice(data), "value": value});
    if let Some(to) = to {
        tx["to"] = json!(to);
    }
    // No gas given: the node estimates, which is exact on an instant-mining chain. A write,
    // so it is only repeated when the node provably did not see it.
    let hash: B256 = rpc.call_with("eth_sendTransaction", json!([tx]), Idempotence::Write)?;
    for _ in 0..100 {
        let receipt: Option<SentReceipt> = rpc.call("eth_getTransactionReceipt", json!([hash]))?;
        if let Some(receipt) = receipt {
            if receipt.status != U256::from(1u8) {
                return Err(DevnetError::TransactionFailed { hash, reason: "it reverted".into() });
            }
            return Ok(receipt);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(DevnetError::TransactionFailed { hash, reason: "no receipt after 5 s".into() })
}

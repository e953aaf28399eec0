//! A minimal blocking JSON-RPC client over HTTP.
//!
//! The devnet only talks to processes on this machine, during set-up and health checks, so
//! a small synchronous client (ureq without TLS) is all it needs; the SDK's real providers
//! are async and live elsewhere.

use std::time::Duration;

use alloy_primitives::{Address, Bytes, U256};
use serde_json::{Value, json};

use crate::error::{DevnetError, Result};

/// A JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub struct RpcClient {
    url: String,
    agent: ureq::Agent,
}

impl RpcClient {
    /// A client for `url` whose calls give up after `timeout`.
    pub fn new(url: impl Into<String>, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Self { url: url.into(), agent }
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with `params` and returns the `result` member.
    pub fn call(&self, method: &str, params: Value) -> Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let rpc_err = |reason: String| DevnetError::Rpc {
            url: self.url.clone(),
            method: method.to_owned(),
            reason,
        };
        let mut response = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(|e| rpc_err(e.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| rpc_err(e.to_string()))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            rpc_err(format!("HTTP {status}, not JSON ({e}): {}", crate::error::tail(&text, 5)))
        })?;
        if let Some(err) = value.get("error") {
            let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
            let mut message = err.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
            if let Some(data) = err.get("data") {
                message.push_str(&format!(" (data: {data})"));
            }
            return Err(DevnetError::RpcError { method: method.to_owned(), code, message });
        }
        value.get("result").cloned().ok_or_else(|| rpc_err(format!("no result in {value}")))
    }

    fn call_as<T: serde::de::DeserializeOwned>(&self, method: &str, params: Value) -> Result<T> {
        let value = self.call(method, params)?;
        serde_json::from_value(value.clone()).map_err(|e| DevnetError::Rpc {
            url: self.url.clone(),
            method: method.to_owned(),
            reason: format!("unexpected result {value}: {e}"),
        })
    }

    /// `eth_chainId`.
    pub fn chain_id(&self) -> Result<u64> {
        let id: U256 = self.call_as("eth_chainId", json!([]))?;
        u64::try_from(id).map_err(|_| DevnetError::Rpc {
            url: self.url.clone(),
            method: "eth_chainId".into(),
            reason: format!("chain id {id} does not fit in u64"),
        })
    }

    /// `eth_getCode` at the latest block.
    pub fn code(&self, address: Address) -> Result<Bytes> {
        self.call_as("eth_getCode", json!([address, "latest"]))
    }

    /// `eth_getBalance` at the latest block.
    pub fn balance(&self, address: Address) -> Result<U256> {
        self.call_as("eth_getBalance", json!([address, "latest"]))
    }

    /// `eth_call` at the latest block.
    pub fn eth_call(&self, to: Address, data: &[u8]) -> Result<Bytes> {
        self.call_as(
            "eth_call",
            json!([{"to": to, "data": Bytes::copy_from_slice(data)}, "latest"]),
        )
    }

    /// `anvil_setCode`.
    pub fn set_code(&self, address: Address, code: &[u8]) -> Result<()> {
        self.call("anvil_setCode", json!([address, Bytes::copy_from_slice(code)])).map(drop)
    }

    /// `anvil_setBalance`.
    pub fn set_balance(&self, address: Address, wei: U256) -> Result<()> {
        self.call("anvil_setBalance", json!([address, wei])).map(drop)
    }

    /// Sends a transaction from an account the node holds unlocked (anvil's dev accounts),
    /// waits for its receipt (anvil mines at once) and fails if it reverted. Returns the receipt.
    pub fn transact(
        &self,
        from: Address,
        to: Option<Address>,
        data: &[u8],
        value: U256,
    ) -> Result<Value> {
        let mut tx = json!({"from": from, "data": Bytes::copy_from_slice(data), "value": value});
        if let Some(to) = to {
            tx["to"] = json!(to);
        }
        // Contract creation of Kernel needs more gas than anvil's default estimate margin
        // sometimes gives; let the node estimate, it is exact on an instant-mining chain.
        let hash: Value = self.call("eth_sendTransaction", json!([tx]))?;
        let mut receipt = Value::Null;
        for _ in 0..100 {
            receipt = self.call("eth_getTransactionReceipt", json!([hash]))?;
            if !receipt.is_null() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if receipt.is_null() {
            return Err(DevnetError::Rpc {
                url: self.url.clone(),
                method: "eth_getTransactionReceipt".into(),
                reason: format!("no receipt for {hash} after 5 s"),
            });
        }
        if receipt.get("status").and_then(Value::as_str) != Some("0x1") {
            return Err(DevnetError::Rpc {
                url: self.url.clone(),
                method: "eth_sendTransaction".into(),
                reason: format!("transaction {hash} reverted"),
            });
        }
        Ok(receipt)
    }
}

//! The chain node's JSON-RPC methods the SDK uses, typed.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::SolCall;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    kernel::{NonceKey, abi::IKernel, addresses::ENTRY_POINT_V07},
    rpc::{RpcClient, RpcError},
};

alloy_sol_types::sol! {
    interface IEntryPointNonce {
        function getNonce(address sender, uint192 key) external view returns (uint256 nonce);
        function balanceOf(address account) external view returns (uint256);
    }
}

/// A node's answer could not be used.
fn bad(method: &str, reason: impl Into<String>) -> RpcError {
    RpcError::Decode { method: method.to_owned(), reason: reason.into() }
}

/// The `eth_call` request at the latest block: the same shape for one call and for a
/// call inside a JSON-RPC batch.
pub fn eth_call_request(to: Address, data: &[u8]) -> (&'static str, Value) {
    ("eth_call", json!([{"to": to, "data": Bytes::copy_from_slice(data)}, "latest"]))
}

/// The bytes one answer of a batch returned (`eth_call`, `eth_getCode`).
pub fn bytes_answer(method: &str, answer: &Result<Value, RpcError>) -> Result<Bytes, RpcError> {
    serde_json::from_value(answer.clone()?).map_err(|e| bad(method, e.to_string()))
}

/// The bytes an `eth_call` to `to` returned in a batch, or its decoded revert
/// ([`RpcError::Reverted`]).
pub fn call_answer(to: Address, answer: &Result<Value, RpcError>) -> Result<Bytes, RpcError> {
    bytes_answer("eth_call", answer).map_err(|e| e.into_revert(to))
}

/// The timestamp of a block object as `eth_getBlockByNumber` returns it.
pub fn block_timestamp(block: &Value) -> Option<u64> {
    let t = block.get("timestamp")?.as_str()?;
    u64::from_str_radix(t.trim_start_matches("0x"), 16).ok()
}

/// A transaction receipt, the parts we read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionReceipt {
    /// The transaction.
    pub transaction_hash: B256,
    /// Its block.
    pub block_number: U256,
    /// 1 = success.
    pub status: U256,
    /// Its logs.
    #[serde(default)]
    pub logs: Vec<Log>,
}

/// One event log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Log {
    /// The emitter.
    pub address: Address,
    /// Indexed topics.
    pub topics: Vec<B256>,
    /// Data.
    pub data: Bytes,
}

/// A chain node.
#[derive(Debug, Clone)]
pub struct NodeClient {
    rpc: RpcClient,
}

impl NodeClient {
    /// Wrap a transport.
    pub const fn new(rpc: RpcClient) -> Self {
        Self { rpc }
    }

    /// The transport.
    pub const fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// `eth_chainId`.
    pub fn chain_id(&self) -> Result<u64, RpcError> {
        let v: U256 = self.rpc.call("eth_chainId", json!([]))?;
        v.try_into().map_err(|_| bad("eth_chainId", "chain id exceeds u64"))
    }

    /// `eth_getCode` at the latest block.
    pub fn code(&self, address: Address) -> Result<Bytes, RpcError> {
        self.rpc.call("eth_getCode", json!([address, "latest"]))
    }

    /// `eth_getBalance` at the latest block.
    pub fn balance(&self, address: Address) -> Result<U256, RpcError> {
        self.rpc.call("eth_getBalance", json!([address, "latest"]))
    }

    /// `eth_call` at the latest block. A revert comes back as [`RpcError::Reverted`],
    /// its data decoded (Kernel's and the policies' errors by name).
    pub fn call(&self, to: Address, data: &[u8]) -> Result<Bytes, RpcError> {
        let (method, params) = eth_call_request(to, data);
        self.rpc.call(method, params).map_err(|e| e.into_revert(to))
    }

    /// `eth_call` at the latest block as if `from` made it (`msg.sender` = `from`): what
    /// an ERC-1271 check answers depends on who asks. Reverts as [`Self::call`].
    pub fn call_from(&self, from: Address, to: Address, data: &[u8]) -> Result<Bytes, RpcError> {
        let params =
            json!([{"from": from, "to": to, "data": Bytes::copy_from_slice(data)}, "latest"]);
        self.rpc.call("eth_call", params).map_err(|e| e.into_revert(to))
    }

    /// Call a typed view function.
    pub fn view<C: SolCall>(&self, to: Address, call: &C) -> Result<C::Return, RpcError> {
        let out = self.call(to, &call.abi_encode())?;
        C::abi_decode_returns(&out).map_err(|e| bad("eth_call", format!("{}: {e}", C::SIGNATURE)))
    }

    /// The latest block's timestamp.
    pub fn timestamp(&self) -> Result<u64, RpcError> {
        let block: Value = self.rpc.call("eth_getBlockByNumber", json!(["latest", false]))?;
        block_timestamp(&block).ok_or_else(|| bad("eth_getBlockByNumber", "no timestamp"))
    }

    /// `eth_getTransactionReceipt`.
    pub fn transaction_receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>, RpcError> {
        self.rpc.call("eth_getTransactionReceipt", json!([hash]))
    }

    /// The EntryPoint v0.7 sequence of `sender` for `key`.
    pub fn entry_point_sequence(&self, sender: Address, key: NonceKey) -> Result<u64, RpcError> {
        let nonce =
            self.view(ENTRY_POINT_V07, &IEntryPointNonce::getNonceCall { sender, key: key.0 })?;
        Ok(NonceKey::split(nonce).1)
    }

    /// The account's code and the EntryPoint sequence of `key`, in one batched round trip.
    pub fn code_and_sequence(
        &self,
        sender: Address,
        key: NonceKey,
    ) -> Result<(Bytes, u64), RpcError> {
        let get_nonce = IEntryPointNonce::getNonceCall { sender, key: key.0 }.abi_encode();
        let answers = self.rpc.batch(&[
            ("eth_getCode", json!([sender, "latest"])),
            eth_call_request(ENTRY_POINT_V07, &get_nonce),
        ])?;
        // `batch` answers every request, in order.
        let code = bytes_answer("eth_getCode", &answers[0])?;
        let raw = call_answer(ENTRY_POINT_V07, &answers[1])?;
        let nonce = IEntryPointNonce::getNonceCall::abi_decode_returns(&raw)
            .map_err(|e| bad("eth_call", format!("getNonce: {e}")))?;
        Ok((code, NonceKey::split(nonce).1))
    }

    /// What `account` has deposited in EntryPoint v0.7. Unused prefund from its
    /// UserOperations is credited here, not to its balance.
    pub fn entry_point_deposit(&self, account: Address) -> Result<U256, RpcError> {
        self.view(ENTRY_POINT_V07, &IEntryPointNonce::balanceOfCall { account })
    }

    /// A Kernel account's `currentNonce()`, or 1 when it has no code yet (what the account
    /// will start with).
    pub fn kernel_nonce(&self, account: Address) -> Result<u32, RpcError> {
        match self.view(account, &IKernel::currentNonceCall {}) {
            Ok(0) => Ok(1),
            Ok(n) => Ok(n),
            Err(RpcError::Decode { .. }) => Ok(1),
            Err(e) => Err(e),
        }
    }
}

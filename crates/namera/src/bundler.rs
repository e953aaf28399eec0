//! ERC-4337 bundler and ERC-7677 paymaster clients.

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    kernel::{UserOperation, addresses::ENTRY_POINT_V07},
    node::Log,
    rpc::{Idempotence, RpcClient, RpcError},
};

/// Gas limits a bundler estimated for a UserOperation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GasEstimate {
    /// Calldata and overhead.
    pub pre_verification_gas: U256,
    /// Validation (and deployment).
    pub verification_gas_limit: U256,
    /// Execution.
    pub call_gas_limit: U256,
    /// The paymaster's validation, when there is one.
    #[serde(default)]
    pub paymaster_verification_gas_limit: Option<U256>,
    /// The paymaster's postOp.
    #[serde(default)]
    pub paymaster_post_op_gas_limit: Option<U256>,
}

/// Fees per gas for a UserOperation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fees {
    /// EIP-1559 max fee.
    pub max_fee_per_gas: U256,
    /// EIP-1559 priority fee.
    pub max_priority_fee_per_gas: U256,
}

/// What happened to a UserOperation once it was included.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOperationReceipt {
    /// The UserOperation hash.
    pub user_op_hash: B256,
    /// The account.
    pub sender: Address,
    /// Whether the execution succeeded (validation passed either way: it was included).
    pub success: bool,
    /// The paymaster that paid, when one sponsored the operation (zero or absent
    /// otherwise).
    #[serde(default)]
    pub paymaster: Option<Address>,
    /// What the account (or its paymaster) paid.
    pub actual_gas_cost: U256,
    /// Gas used.
    pub actual_gas_used: U256,
    /// Revert reason of the execution, if it failed.
    #[serde(default)]
    pub reason: Option<Bytes>,
    /// The UserOperation's own logs.
    #[serde(default)]
    pub logs: Vec<Log>,
    /// The bundle transaction.
    pub receipt: BundleReceipt,
}

/// The bundle transaction that carried a UserOperation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleReceipt {
    /// Transaction hash.
    pub transaction_hash: B256,
    /// Block number.
    pub block_number: U256,
}

/// An ERC-4337 bundler for EntryPoint v0.7.
#[derive(Debug, Clone)]
pub struct BundlerClient {
    rpc: RpcClient,
}

impl BundlerClient {
    /// Wrap a transport.
    pub const fn new(rpc: RpcClient) -> Self {
        Self { rpc }
    }

    /// The transport.
    pub const fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// `eth_supportedEntryPoints`.
    pub fn supported_entry_points(&self) -> Result<Vec<Address>, RpcError> {
        self.rpc.call("eth_supportedEntryPoints", json!([]))
    }

    /// `eth_sendUserOperation`: never retried once the bundler may have seen it.
    pub fn send(&self, op: &UserOperation) -> Result<B256, RpcError> {
        self.rpc.call_with(
            "eth_sendUserOperation",
            json!([op, ENTRY_POINT_V07]),
            Idempotence::Write,
        )
    }

    /// `eth_estimateUserOperationGas` (the operation carries a stub signature).
    pub fn estimate(&self, op: &UserOperation) -> Result<GasEstimate, RpcError> {
        self.rpc.call("eth_estimateUserOperationGas", json!([op, ENTRY_POINT_V07]))
    }

    /// `eth_getUserOperationReceipt`: `None` until included.
    pub fn receipt(&self, hash: B256) -> Result<Option<UserOperationReceipt>, RpcError> {
        self.rpc.call("eth_getUserOperationReceipt", json!([hash]))
    }

    /// `eth_getUserOperationByHash`: the operation as the bundler knows it.
    pub fn by_hash(&self, hash: B256) -> Result<Option<Value>, RpcError> {
        self.rpc.call("eth_getUserOperationByHash", json!([hash]))
    }

    /// The bundler's fee suggestion: `pimlico_getUserOperationGasPrice` (Alto, Pimlico),
    /// then ZeroDev's `zd_getUserOperationGasPrice`; the "standard" tier, taken as is.
    pub fn fees(&self) -> Result<Fees, RpcError> {
        let mut last = None;
        for method in ["pimlico_getUserOperationGasPrice", "zd_getUserOperationGasPrice"] {
            match self.rpc.call::<Value>(method, json!([])) {
                Ok(v) => {
                    return serde_json::from_value(v["standard"].clone()).map_err(|e| {
                        RpcError::Decode { method: method.to_owned(), reason: e.to_string() }
                    });
                }
                Err(e @ RpcError::Rpc(_)) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last
            .unwrap_or_else(|| RpcError::Decode { method: "fees".into(), reason: "none".into() }))
    }
}

/// What an ERC-7677 paymaster returns.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymasterData {
    /// The paymaster.
    pub paymaster: Address,
    /// Its data.
    pub paymaster_data: Bytes,
    /// Its validation gas, when it says.
    #[serde(default)]
    pub paymaster_verification_gas_limit: Option<U256>,
    /// Its postOp gas, when it says.
    #[serde(default)]
    pub paymaster_post_op_gas_limit: Option<U256>,
}

/// An ERC-7677 paymaster service.
#[derive(Debug, Clone)]
pub struct PaymasterClient {
    rpc: RpcClient,
}

impl PaymasterClient {
    /// Wrap a transport.
    pub const fn new(rpc: RpcClient) -> Self {
        Self { rpc }
    }

    /// `pm_getPaymasterStubData`: data good enough for gas estimation.
    pub fn stub_data(
        &self,
        op: &UserOperation,
        chain_id: u64,
        context: &Value,
    ) -> Result<PaymasterData, RpcError> {
        self.rpc.call(
            "pm_getPaymasterStubData",
            json!([op, ENTRY_POINT_V07, format!("{chain_id:#x}"), context]),
        )
    }

    /// `pm_getPaymasterData`: the final data for the estimated operation.
    pub fn data(
        &self,
        op: &UserOperation,
        chain_id: u64,
        context: &Value,
    ) -> Result<PaymasterData, RpcError> {
        self.rpc.call(
            "pm_getPaymasterData",
            json!([op, ENTRY_POINT_V07, format!("{chain_id:#x}"), context]),
        )
    }
}

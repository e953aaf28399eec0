//! Whether a UserOperation was included, asked of the chain itself.
//!
//! A bundler's receipt can lag the chain or never come: Alto, for one, looks an operation
//! up in its own cache and otherwise only in the latest block's logs, so an operation
//! included a block ago can read as "no receipt" while its nonce has already moved; a
//! bundler behind a load balancer may ask an instance that never saw it. Concluding
//! "dropped" from that and sending the calls again would run them twice. The chain is the
//! authority: the EntryPoint's `UserOperationEvent` names which operation used a nonce.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolEvent, sol};
use serde::Deserialize;
use serde_json::json;

use crate::{
    bundler::{BundleReceipt, UserOperationReceipt},
    kernel::addresses::ENTRY_POINT_V07,
    node::{Log, NodeClient, TransactionReceipt},
    rpc::RpcError,
};

sol! {
    /// EntryPoint v0.7's events around an operation's execution.
    interface IEntryPointEvents {
        event UserOperationEvent(bytes32 indexed userOpHash, address indexed sender, address indexed paymaster, uint256 nonce, bool success, uint256 actualGasCost, uint256 actualGasUsed);
        event UserOperationRevertReason(bytes32 indexed userOpHash, address indexed sender, uint256 nonce, bytes revertReason);
        event BeforeExecution();
    }
}

use IEntryPointEvents::{BeforeExecution, UserOperationEvent, UserOperationRevertReason};

/// How many blocks one `eth_getLogs` asks for: within what public providers allow.
const WINDOW: u64 = 500;

/// How far back the operation that used a nonce is looked for. A nonce is looked up once
/// it has moved while this client waited (two minutes at most): 20 windows cover that
/// on chains with quarter-second blocks, and an automining devnet under load.
const MAX_WINDOWS: u64 = 20;

/// The operation that used a nonce, as its `UserOperationEvent` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceUser {
    /// Its hash.
    pub user_op_hash: B256,
    /// The bundle transaction that carried it.
    pub transaction_hash: B256,
}

/// One `eth_getLogs` entry, the parts read here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FoundLog {
    topics: Vec<B256>,
    data: Bytes,
    transaction_hash: B256,
}

/// The operation of `sender` whose full 256-bit nonce is `nonce`, searched back from the
/// latest block. `None` when none is found in the blocks searched (the nonce is unused,
/// or was used longer ago than is looked at).
pub fn nonce_user(
    node: &NodeClient,
    sender: Address,
    nonce: U256,
) -> Result<Option<NonceUser>, RpcError> {
    let latest: U256 = node.rpc().call("eth_blockNumber", json!([]))?;
    let mut to = u64::try_from(latest).map_err(|_| RpcError::Decode {
        method: "eth_blockNumber".into(),
        reason: "over u64".into(),
    })?;
    for _ in 0..MAX_WINDOWS {
        let from = to.saturating_sub(WINDOW - 1);
        let filter = json!([{
            "address": ENTRY_POINT_V07,
            "fromBlock": format!("{from:#x}"),
            "toBlock": format!("{to:#x}"),
            "topics": [UserOperationEvent::SIGNATURE_HASH, null, sender.into_word()],
        }]);
        let logs: Vec<FoundLog> = node.rpc().call("eth_getLogs", filter)?;
        for log in logs.iter().rev() {
            // Topics: signature, userOpHash, sender, paymaster; the nonce is the first
            // data word.
            if log.topics.len() == 4
                && log.data.len() >= 32
                && U256::from_be_slice(&log.data[..32]) == nonce
            {
                return Ok(Some(NonceUser {
                    user_op_hash: log.topics[1],
                    transaction_hash: log.transaction_hash,
                }));
            }
        }
        if from == 0 {
            break;
        }
        to = from - 1;
    }
    Ok(None)
}

impl UserOperationReceipt {
    /// The receipt of operation `hash` read from the bundle transaction that carried it,
    /// the way ERC-4337 bundlers build it: the fields of its `UserOperationEvent`, the
    /// revert reason its `UserOperationRevertReason` gave, and as its own logs those
    /// between the previous operation's event (or `BeforeExecution`) and its own.
    /// `None` when the transaction carries no event for `hash`.
    ///
    /// ```
    /// use namera::{bundler::UserOperationReceipt, node::TransactionReceipt};
    /// use alloy_primitives::{B256, U256};
    ///
    /// let empty = TransactionReceipt {
    ///     transaction_hash: B256::ZERO,
    ///     block_number: U256::from(1),
    ///     status: U256::from(1),
    ///     logs: Vec::new(),
    /// };
    /// assert!(UserOperationReceipt::from_bundle(B256::ZERO, &empty).is_none());
    /// ```
    pub fn from_bundle(hash: B256, tx: &TransactionReceipt) -> Option<Self> {
        let from_entry_point = |log: &&Log| log.address == ENTRY_POINT_V07;
        let mut start = None;
        let mut reason = None;
        for (i, log) in tx.logs.iter().enumerate() {
            if !from_entry_point(&log) {
                continue;
            }
            let Some(&topic) = log.topics.first() else { continue };
            if topic == BeforeExecution::SIGNATURE_HASH {
                start = Some(i);
            } else if topic == UserOperationRevertReason::SIGNATURE_HASH
                && log.topics.get(1) == Some(&hash)
            {
                reason = UserOperationRevertReason::decode_raw_log(
                    log.topics.iter().copied(),
                    &log.data,
                )
                .ok()
                .map(|e| e.revertReason);
            } else if topic == UserOperationEvent::SIGNATURE_HASH {
                if log.topics.get(1) != Some(&hash) {
                    start = Some(i);
                    continue;
                }
                let event =
                    UserOperationEvent::decode_raw_log(log.topics.iter().copied(), &log.data)
                        .ok()?;
                let own = start.map_or(0, |s| s + 1);
                return Some(Self {
                    user_op_hash: hash,
                    sender: event.sender,
                    success: event.success,
                    paymaster: (event.paymaster != Address::ZERO).then_some(event.paymaster),
                    actual_gas_cost: event.actualGasCost,
                    actual_gas_used: event.actualGasUsed,
                    reason,
                    logs: tx.logs[own..i].to_vec(),
                    receipt: BundleReceipt {
                        transaction_hash: tx.transaction_hash,
                        block_number: tx.block_number,
                    },
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolValue;

    fn log(address: Address, topics: Vec<B256>, data: Vec<u8>) -> Log {
        Log { address, topics, data: data.into() }
    }

    fn event(hash: B256, sender: Address, paymaster: Address, success: bool) -> Log {
        let data = (U256::from(7), success, U256::from(1000), U256::from(100)).abi_encode_params();
        log(
            ENTRY_POINT_V07,
            vec![
                UserOperationEvent::SIGNATURE_HASH,
                hash,
                sender.into_word(),
                paymaster.into_word(),
            ],
            data,
        )
    }

    #[test]
    fn an_operations_own_logs_lie_between_the_previous_event_and_its_own() {
        let (first, second) = (B256::repeat_byte(1), B256::repeat_byte(2));
        let sender = Address::repeat_byte(0xaa);
        let token = Address::repeat_byte(0x70);
        let transfer = |n: u8| log(token, vec![B256::repeat_byte(n)], vec![n]);
        let revert = log(
            ENTRY_POINT_V07,
            vec![UserOperationRevertReason::SIGNATURE_HASH, second, sender.into_word()],
            (U256::from(7), Bytes::from_static(b"no")).abi_encode_params(),
        );
        let tx = TransactionReceipt {
            transaction_hash: B256::repeat_byte(9),
            block_number: U256::from(42),
            status: U256::from(1),
            logs: vec![
                log(ENTRY_POINT_V07, vec![BeforeExecution::SIGNATURE_HASH], Vec::new()),
                transfer(1),
                event(first, sender, Address::ZERO, true),
                transfer(2),
                revert.clone(),
                event(second, sender, Address::repeat_byte(0x99), false),
            ],
        };
        let one = UserOperationReceipt::from_bundle(first, &tx).unwrap();
        assert_eq!(one.logs, vec![transfer(1)]);
        assert_eq!((one.success, one.paymaster, one.reason.clone()), (true, None, None));
        assert_eq!((one.actual_gas_cost, one.actual_gas_used), (U256::from(1000), U256::from(100)));
        assert_eq!(one.receipt.block_number, U256::from(42));
        let two = UserOperationReceipt::from_bundle(second, &tx).unwrap();
        assert_eq!(two.logs, vec![transfer(2), revert]);
        assert_eq!(two.paymaster, Some(Address::repeat_byte(0x99)));
        assert_eq!(two.reason, Some(Bytes::from_static(b"no")));
        assert!(!two.success);
        assert!(UserOperationReceipt::from_bundle(B256::repeat_byte(3), &tx).is_none());
    }

    #[test]
    fn events_from_another_contract_are_not_the_entry_points() {
        let hash = B256::repeat_byte(1);
        let mut forged = event(hash, Address::repeat_byte(0xaa), Address::ZERO, true);
        forged.address = Address::repeat_byte(0x66);
        let tx = TransactionReceipt {
            transaction_hash: B256::ZERO,
            block_number: U256::from(1),
            status: U256::from(1),
            logs: vec![forged],
        };
        assert!(UserOperationReceipt::from_bundle(hash, &tx).is_none());
    }
}

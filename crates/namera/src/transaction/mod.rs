//! Transactions in lanes: each batch is one UserOperation (atomic, in order); batches on
//! different lanes run concurrently; each batch names its chain.
//!
//! Lanes are the 16-bit part of the ERC-4337 nonce key: the EntryPoint keeps a separate
//! sequence per lane, so an operation on one lane never waits for another lane's.

use std::{collections::BTreeMap, time::Duration};

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};

use crate::{
    account::{AccountError, OperationSigner, SmartAccount},
    bundler::UserOperationReceipt,
    kernel::{Call, LaneKey},
};

/// One UserOperation's worth of calls.
///
/// ```
/// use alloy_primitives::{U256, address};
/// use namera::{kernel::{Call, LaneKey}, transaction::Batch};
/// let pay = Batch::new(84532, vec![Call::transfer(address!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a"), U256::from(1))])
///     .on_lane(LaneKey::from_name("payroll"));
/// assert_eq!(pay.lane, LaneKey(0x5bcd)); // keccak256("payroll")[..2]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The chain it runs on.
    pub chain: u64,
    /// The calls, executed atomically and in order.
    pub calls: Vec<Call>,
    /// The lane (default 0).
    #[serde(default)]
    pub lane: LaneKey,
}

impl Batch {
    /// A batch on the default lane.
    pub const fn new(chain: u64, calls: Vec<Call>) -> Self {
        Self { chain, calls, lane: LaneKey::DEFAULT }
    }

    /// The same batch on `lane`.
    pub const fn on_lane(mut self, lane: LaneKey) -> Self {
        self.lane = lane;
        self
    }
}

/// What happened to one batch.
#[derive(Debug)]
pub struct BatchOutcome {
    /// The batch's position in the request.
    pub index: usize,
    /// Its chain.
    pub chain: u64,
    /// Its lane.
    pub lane: LaneKey,
    /// The UserOperation hash, once it was sent.
    pub hash: Option<B256>,
    /// The receipt, or why there is none.
    pub result: Result<UserOperationReceipt, BatchError>,
}

/// Why a batch has no receipt.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// No account is configured for the batch's chain.
    #[error("no account on chain {0}")]
    UnknownChain(u64),
    /// Preparing, sending or waiting failed.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// An earlier batch on the same lane failed, so this one was not sent (it would run
    /// out of order otherwise).
    #[error("not sent: batch {0} before it on the same lane failed")]
    Skipped(usize),
}

/// An account on one chain and the signer that acts for it there.
///
/// Session keys need one signer per chain: each chain has its own enable signature.
#[derive(Clone, Copy)]
pub struct ChainSigner<'a> {
    /// The account.
    pub account: &'a SmartAccount,
    /// Who signs its operations.
    pub signer: &'a dyn OperationSigner,
}

impl std::fmt::Debug for ChainSigner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainSigner").field("account", &self.account.address()).finish()
    }
}

/// Send `batches`, each to its chain's account and signer, and wait for them.
///
/// Batches on one (chain, lane) go one after another, in the order given; different
/// lanes and chains go at the same time. On a chain where the first operation must
/// change the account for the others (it deploys the account, or installs a session
/// key's permission), that chain's first batch lands alone first. One failing batch does
/// not stop other lanes; a failed batch's later batches on the same lane are skipped.
pub fn send_batches(
    chains: &[ChainSigner<'_>],
    batches: &[Batch],
    timeout: Duration,
) -> Vec<BatchOutcome> {
    let chain_for =
        |chain: u64| chains.iter().find(|c| c.account.chain().chain_id == chain).copied();
    let mut lanes: BTreeMap<(u64, LaneKey), Vec<usize>> = BTreeMap::new();
    for (i, b) in batches.iter().enumerate() {
        lanes.entry((b.chain, b.lane)).or_default().push(i);
    }
    let mut outcomes: Vec<Option<BatchOutcome>> = (0..batches.len()).map(|_| None).collect();

    // First batches that must land alone, one per chain, concurrently across chains.
    let firsts: Vec<usize> = chains
        .iter()
        .filter(|c| c.signer.is_enabling() || !c.account.is_deployed().unwrap_or(false))
        .filter_map(|c| batches.iter().position(|b| b.chain == c.account.chain().chain_id))
        .collect();
    let first_outcomes =
        run_lanes(firsts.iter().map(|&i| vec![i]).collect(), batches, &chain_for, timeout);
    for o in first_outcomes {
        let (i, failed) = (o.index, o.result.is_err());
        let b = &batches[i];
        let lane = lanes.get_mut(&(b.chain, b.lane)).expect("every batch is in a lane");
        lane.retain(|&x| x != i);
        if failed {
            // Keep order on its lane: the rest of that lane is skipped.
            for later in std::mem::take(lane) {
                outcomes[later] = Some(skipped(batches, later, i));
            }
        }
        outcomes[i] = Some(o);
    }

    let rest = lanes.into_values().filter(|v| !v.is_empty()).collect();
    for o in run_lanes(rest, batches, &chain_for, timeout) {
        let i = o.index;
        outcomes[i] = Some(o);
    }
    outcomes.into_iter().map(|o| o.expect("every batch has an outcome")).collect()
}

/// Run each lane (a list of batch indices) on its own thread, in order within the lane.
fn run_lanes<'a>(
    lanes: Vec<Vec<usize>>,
    batches: &[Batch],
    chain_for: &(dyn Fn(u64) -> Option<ChainSigner<'a>> + Sync),
    timeout: Duration,
) -> Vec<BatchOutcome> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|indices| {
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(indices.len());
                    let mut failed_at = None;
                    for i in indices {
                        let outcome = match failed_at {
                            Some(f) => skipped(batches, i, f),
                            None => run_one(chain_for(batches[i].chain), &batches[i], i, timeout),
                        };
                        if outcome.result.is_err() && failed_at.is_none() {
                            failed_at = Some(i);
                        }
                        out.push(outcome);
                    }
                    out
                })
            })
            .collect();
        // A panicking lane thread is a bug in this crate; surface it.
        handles.into_iter().flat_map(|h| h.join().expect("lane thread panicked")).collect()
    })
}

fn skipped(batches: &[Batch], i: usize, failed: usize) -> BatchOutcome {
    BatchOutcome {
        index: i,
        chain: batches[i].chain,
        lane: batches[i].lane,
        hash: None,
        result: Err(BatchError::Skipped(failed)),
    }
}

fn run_one(
    chain: Option<ChainSigner<'_>>,
    batch: &Batch,
    index: usize,
    timeout: Duration,
) -> BatchOutcome {
    let mut outcome = BatchOutcome {
        index,
        chain: batch.chain,
        lane: batch.lane,
        hash: None,
        result: Err(BatchError::UnknownChain(batch.chain)),
    };
    let Some(ChainSigner { account, signer }) = chain else { return outcome };
    let sent = match account.send(signer, &batch.calls, batch.lane) {
        Ok(s) => s,
        Err(e) => {
            outcome.result = Err(e.into());
            return outcome;
        }
    };
    outcome.hash = Some(sent.hash);
    outcome.result =
        account.wait(sent.hash, timeout).map_err(Into::into).inspect(|_| signer.landed());
    outcome
}

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

/// Send `batches` with `signer`, each to the account on its chain, and wait for them.
///
/// Batches on one (chain, lane) go one after another, in the order given; different
/// lanes and chains go at the same time. A signer whose next operation installs its
/// permission (a session key's first use) gets that operation through alone first, so
/// the others do not all try to install it. One failing batch does not stop other lanes.
pub fn send_batches(
    accounts: &[&SmartAccount],
    signer: &dyn OperationSigner,
    batches: &[Batch],
    timeout: Duration,
) -> Vec<BatchOutcome> {
    let account_for = |chain: u64| accounts.iter().find(|a| a.chain().chain_id == chain).copied();
    let mut lanes: BTreeMap<(u64, LaneKey), Vec<usize>> = BTreeMap::new();
    for (i, b) in batches.iter().enumerate() {
        lanes.entry((b.chain, b.lane)).or_default().push(i);
    }
    let mut outcomes: Vec<Option<BatchOutcome>> = (0..batches.len()).map(|_| None).collect();

    // Enabling first use: run the first batch alone.
    if signer.is_enabling()
        && let Some(first) = batches.first()
    {
        let lane = lanes.get_mut(&(first.chain, first.lane)).expect("first batch is in a lane");
        lane.remove(0);
        let outcome = run_one(account_for(first.chain), signer, first, 0, timeout);
        let failed = outcome.result.is_err();
        outcomes[0] = Some(outcome);
        if failed {
            // Same lane: skipped, to keep order. Other lanes would retry the install and
            // most likely fail the same way, but they are independent requests: run them.
            for i in lanes.remove(&(first.chain, first.lane)).unwrap_or_default() {
                outcomes[i] = Some(skipped(batches, i, 0));
            }
        }
    }

    std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .into_values()
            .filter(|v| !v.is_empty())
            .map(|indices| {
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(indices.len());
                    let mut failed_at = None;
                    for i in indices {
                        let b = &batches[i];
                        let outcome = match failed_at {
                            Some(f) => skipped(batches, i, f),
                            None => run_one(account_for(b.chain), signer, b, i, timeout),
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
        for h in handles {
            // A panicking lane thread is a bug in this crate; surface it.
            for o in h.join().expect("lane thread panicked") {
                let i = o.index;
                outcomes[i] = Some(o);
            }
        }
    });
    outcomes.into_iter().map(|o| o.expect("every batch has an outcome")).collect()
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
    account: Option<&SmartAccount>,
    signer: &dyn OperationSigner,
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
    let Some(account) = account else { return outcome };
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

//! Transactions in lanes: each batch is one UserOperation (atomic, in order); batches on
//! different lanes run concurrently; each batch names its chain. The
//! [`crate::wallet::Wallet`] carries them out ([`crate::wallet::Wallet::execute_batches`]).
//!
//! Lanes are the 16-bit part of the ERC-4337 nonce key: the EntryPoint keeps a separate
//! sequence per lane, so an operation on one lane never waits for another lane's.

use serde::{Deserialize, Serialize};

use crate::kernel::{Call, LaneKey};

/// One UserOperation's worth of calls.
///
/// ```
/// use alloy_primitives::{U256, address};
/// use namera::{kernel::{Call, LaneKey}, transaction::Batch};
/// let to = address!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a");
/// let pay = Batch::new(84532, vec![Call::transfer(to, U256::from(1))])
///     .on_lane(LaneKey::from_name("payroll"));
/// assert_eq!(pay.lane, Some(LaneKey(0x5bcd))); // keccak256("payroll")[..2]
/// // Without a lane, the wallet gives the batch one of its own that nothing else uses.
/// assert_eq!(Batch::new(84532, vec![Call::transfer(to, U256::from(1))]).lane, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The chain it runs on.
    pub chain: u64,
    /// The calls, executed atomically and in order.
    pub calls: Vec<Call>,
    /// The lane; `None`: a fresh lane of the request's own, shared by the request's
    /// batches that name none.
    #[serde(default)]
    pub lane: Option<LaneKey>,
}

impl Batch {
    /// A batch on a lane the wallet picks.
    pub const fn new(chain: u64, calls: Vec<Call>) -> Self {
        Self { chain, calls, lane: None }
    }

    /// The same batch on `lane`.
    pub const fn on_lane(mut self, lane: LaneKey) -> Self {
        self.lane = Some(lane);
        self
    }
}

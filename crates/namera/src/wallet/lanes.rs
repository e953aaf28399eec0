//! Lanes (the 16-bit part of a nonce key) for operations in flight, never shared.
//!
//! Within a process, a lane is handed to one operation at a time. Across processes that
//! act with the same key, each process works in blocks of [`BLOCK`] lanes of its own: a
//! block is taken at random (two processes meet in one with a chance of one in a
//! thousand), or exclusively through a [`LaneLease`] (a lock file in the store, say) when
//! one is given. Should two operations still meet on a lane, the bundler's nonce error is
//! a race the wallet retries on another lane, never a refusal.

use std::{
    collections::BTreeSet,
    hash::{BuildHasher, Hasher},
    sync::{Arc, Mutex, PoisonError},
};

use crate::kernel::LaneKey;

/// Lanes per block.
pub const BLOCK: u16 = 64;

/// Blocks in the 16-bit lane space. Block 0 (lanes 0–63: the default lane, and the low
/// lanes other tools pick by number) is never taken.
const BLOCKS: u16 = u16::MAX / BLOCK;

/// Exclusive use of a block of lanes across processes.
///
/// `try_lease` returns whether this process now holds `block` of the account's lanes; a
/// held block stays held until the lease is dropped (or the process exits).
pub trait LaneLease: Send + Sync + std::fmt::Debug {
    /// Try to hold `block` (lanes `block * BLOCK ..`) of `account`'s lanes.
    fn try_lease(&self, account: alloy_primitives::Address, block: u16) -> bool;
}

/// The lanes a wallet hands out.
#[derive(Debug)]
pub struct Lanes {
    account: alloy_primitives::Address,
    lease: Option<Arc<dyn LaneLease>>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Blocks this process works in, in the order taken.
    blocks: Vec<u16>,
    busy: BTreeSet<u16>,
    /// Where the random search for the next block starts.
    seed: u64,
}

/// A lane taken for one operation; given back when dropped.
#[derive(Debug)]
pub struct LaneGuard {
    lanes: Arc<Lanes>,
    lane: LaneKey,
}

impl LaneGuard {
    /// The lane.
    pub const fn lane(&self) -> LaneKey {
        self.lane
    }
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        self.lanes.state.lock().unwrap_or_else(PoisonError::into_inner).busy.remove(&self.lane.0);
    }
}

/// A random number from the standard library's per-process hash keys (no extra crate).
fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

impl Lanes {
    /// Lanes of `account`, blocks picked at random, or leased through `lease`.
    pub fn new(account: alloy_primitives::Address, lease: Option<Arc<dyn LaneLease>>) -> Self {
        Self { account, lease, state: Mutex::new(State { seed: random_u64(), ..State::default() }) }
    }

    /// A free lane: the lowest free one in the blocks held (reusing low lanes keeps their
    /// cached sequences warm), or the first of a new block. `None` when every block is
    /// in use.
    pub fn take(self: &Arc<Self>) -> Option<LaneGuard> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let free = s
            .blocks
            .iter()
            .find_map(|&b| (b * BLOCK..b * BLOCK + BLOCK).find(|l| !s.busy.contains(l)));
        let lane = match free {
            Some(l) => l,
            None => {
                let block = self.new_block(&mut s)?;
                s.blocks.push(block);
                block * BLOCK
            }
        };
        s.busy.insert(lane);
        Some(LaneGuard { lanes: self.clone(), lane: LaneKey(lane) })
    }

    /// The blocks held so far (for tests and diagnostics).
    pub fn blocks(&self) -> Vec<u16> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).blocks.clone()
    }

    fn new_block(&self, s: &mut State) -> Option<u16> {
        let span = u64::from(BLOCKS - 1);
        // Walk every block once, from a random start, skipping those already held.
        let start = s.seed % span;
        s.seed = s.seed.rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15;
        (0..span).map(|i| 1 + u16::try_from((start + i) % span).unwrap_or(0)).find(|&b| {
            !s.blocks.contains(&b)
                && self.lease.as_ref().is_none_or(|l| l.try_lease(self.account, b))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_in_flight_are_distinct_and_given_back() {
        let lanes = Arc::new(Lanes::new(alloy_primitives::Address::ZERO, None));
        let a = lanes.take().unwrap();
        let b = lanes.take().unwrap();
        let block = lanes.blocks()[0];
        assert!(block >= 1, "block 0 is never taken");
        assert_eq!((a.lane().0, b.lane().0), (block * BLOCK, block * BLOCK + 1));
        drop(a);
        let c = lanes.take().unwrap();
        assert_eq!(c.lane().0, block * BLOCK, "the lowest free lane again");
        let held: Vec<_> = (0..200).map(|_| lanes.take().unwrap()).collect();
        let mut seen: BTreeSet<u16> = held.iter().map(|g| g.lane().0).collect();
        seen.extend([b.lane().0, c.lane().0]);
        assert_eq!(seen.len(), 202, "no lane handed out twice while in flight");
        assert_eq!(lanes.blocks().len(), 4, "new blocks only when the held ones are full");
    }

    #[test]
    fn two_wallets_start_in_different_blocks() {
        // Independent draws: over 20 pairs, a shared block would mean the draw is not random.
        let shared = (0..20)
            .filter(|_| {
                let a = Arc::new(Lanes::new(alloy_primitives::Address::ZERO, None));
                let b = Arc::new(Lanes::new(alloy_primitives::Address::ZERO, None));
                let (_x, _y) = (a.take().unwrap(), b.take().unwrap());
                a.blocks() == b.blocks()
            })
            .count();
        assert!(shared <= 1, "{shared} of 20 pairs of wallets shared a block");
    }

    #[derive(Debug, Default)]
    struct OneHolder(Mutex<BTreeSet<u16>>);
    impl LaneLease for OneHolder {
        fn try_lease(&self, _: alloy_primitives::Address, block: u16) -> bool {
            self.0.lock().unwrap().insert(block)
        }
    }

    #[test]
    fn a_lease_keeps_processes_apart() {
        let lease: Arc<dyn LaneLease> = Arc::new(OneHolder::default());
        let a = Arc::new(Lanes::new(alloy_primitives::Address::ZERO, Some(lease.clone())));
        let b = Arc::new(Lanes::new(alloy_primitives::Address::ZERO, Some(lease)));
        let xs: Vec<_> = (0..100).map(|_| a.take().unwrap()).collect();
        let ys: Vec<_> = (0..100).map(|_| b.take().unwrap()).collect();
        let xa: BTreeSet<u16> = xs.iter().map(|g| g.lane().0).collect();
        assert!(ys.iter().all(|g| !xa.contains(&g.lane().0)), "a leased block was shared");
    }
}

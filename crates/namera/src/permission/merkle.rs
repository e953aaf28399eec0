//! The Merkle tree the multi-chain validator verifies: one owner signature over the root
//! approves one leaf per chain.
//!
//! Layout (as merkletreejs with `sortPairs` builds it, which is what ZeroDev's SDK
//! uses): leaves are not re-hashed; a node is `keccak256(min(a, b) ‖ max(a, b))`; an odd
//! node at the end of a level is promoted unchanged.

use alloy_primitives::{B256, keccak256};

/// A sorted-pair keccak Merkle tree over 32-byte leaves.
///
/// ```
/// use alloy_primitives::B256;
/// use namera::permission::MerkleTree;
/// let leaves = [B256::repeat_byte(1), B256::repeat_byte(2), B256::repeat_byte(3)];
/// let tree = MerkleTree::new(leaves.to_vec());
/// for (i, leaf) in leaves.iter().enumerate() {
///     assert!(MerkleTree::verify(*leaf, &tree.proof(i).unwrap(), tree.root()));
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    /// Level 0 is the leaves; the last level holds the root.
    levels: Vec<Vec<B256>>,
}

fn hash_pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(lo.as_slice());
    buf[32..].copy_from_slice(hi.as_slice());
    keccak256(buf)
}

impl MerkleTree {
    /// Build the tree. An empty list gives the zero root.
    pub fn new(leaves: Vec<B256>) -> Self {
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let level = levels.last().map(Vec::as_slice).unwrap_or_default();
            let next = level
                .chunks(2)
                .map(|pair| match pair {
                    [a, b] => hash_pair(*a, *b),
                    [odd] => *odd,
                    _ => unreachable!("chunks(2) yields one or two items"),
                })
                .collect();
            levels.push(next);
        }
        Self { levels }
    }

    /// The root (zero for an empty tree).
    pub fn root(&self) -> B256 {
        self.levels.last().and_then(|l| l.first()).copied().unwrap_or_default()
    }

    /// The leaves.
    pub fn leaves(&self) -> &[B256] {
        &self.levels[0]
    }

    /// The proof of leaf `index`, bottom up; `None` when out of range.
    pub fn proof(&self, mut index: usize) -> Option<Vec<B256>> {
        if index >= self.leaves().len() {
            return None;
        }
        let mut proof = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = index ^ 1;
            if let Some(s) = level.get(sibling) {
                proof.push(*s);
            }
            index /= 2;
        }
        Some(proof)
    }

    /// Does `proof` lead from `leaf` to `root`?
    pub fn verify(leaf: B256, proof: &[B256], root: B256) -> bool {
        proof.iter().fold(leaf, |acc, p| hash_pair(acc, *p)) == root
    }
}

//! Lane blocks held across processes: `lanes/<account>/<block>.lock`, each locked
//! (an advisory `flock`-style lock) by the one process that works in that block of
//! nonce lanes. The lock goes with the process: a crashed server frees its blocks.

use std::{
    fs::{File, OpenOptions, TryLockError},
    path::PathBuf,
    sync::{Mutex, PoisonError},
};

use alloy_primitives::Address;

use crate::StoreError;

/// The lane blocks this process holds, by lock file under one directory.
#[derive(Debug)]
pub struct LaneLocks {
    dir: PathBuf,
    /// The locked files: a lock lasts as long as its open file.
    held: Mutex<Vec<File>>,
}

impl LaneLocks {
    /// Lock files under `dir` (created, private, when missing).
    pub fn new(dir: PathBuf) -> Result<Self, StoreError> {
        crate::fs::create_private_dir(&dir)
            .map_err(|source| StoreError::Io { path: dir.clone(), source })?;
        Ok(Self { dir, held: Mutex::default() })
    }

    /// Hold `block` of `account`'s lanes for this process, if no other process does.
    /// `false` also when the lock file cannot be opened (the caller tries another block).
    pub fn try_hold(&self, account: Address, block: u16) -> bool {
        let dir = self.dir.join(account.to_string().to_lowercase());
        if crate::fs::create_private_dir(&dir).is_err() {
            return false;
        }
        let Ok(file) = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{block}.lock")))
        else {
            return false;
        };
        match file.try_lock() {
            Ok(()) => {
                self.held.lock().unwrap_or_else(PoisonError::into_inner).push(file);
                true
            }
            Err(TryLockError::WouldBlock | TryLockError::Error(_)) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn one_holder_per_block() {
        let dir = TestDir::new("lanes");
        let a = LaneLocks::new(dir.path().join("lanes")).unwrap();
        let b = LaneLocks::new(dir.path().join("lanes")).unwrap();
        let account = Address::repeat_byte(7);
        assert!(a.try_hold(account, 3));
        assert!(!b.try_hold(account, 3), "a held block is refused to another holder");
        assert!(b.try_hold(account, 4));
        assert!(b.try_hold(Address::repeat_byte(8), 3), "blocks are per account");
        drop(a);
        assert!(b.try_hold(account, 3), "freed when its holder goes");
    }
}

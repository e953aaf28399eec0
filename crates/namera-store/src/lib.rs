//! On-disk storage shared by the `namera` CLI and the MCP server.
//!
//! Everything lives under one [`Home`] directory (`$NAMERA_HOME`, or `~/.namera`):
//!
//! ```text
//! keystores/<alias>.json       owner keys: plain Web3 Secret Storage v3 (cast/geth can read them)
//! smart-accounts/<alias>.json  SmartAccountRecord
//! session-keys/<alias>.json    SessionKeyRecord (session private key encrypted inside)
//! passkeys/<alias>.json        PasskeyRecord
//! config.json                  the CLI's configuration (its type is the CLI's business)
//! lanes/<account>/<n>.lock     nonce-lane blocks held by running processes (see [`lanes`])
//! devnet/                      the local devnet's state (not managed here)
//! ```
//!
//! The parts:
//!
//! - [`keystore`]: Web3 Secret Storage v3 encryption (scrypt/pbkdf2, AES-128-CTR), with a
//!   fast scrypt of our own.
//! - [`fs`]: atomic file writes (temp file, fsync, rename), so a crash never leaves a
//!   half-written record, and race-free "create only if absent".
//! - [`Home`], [`Alias`], [`Collection`]: typed collections of records keyed by alias.
//! - [`records`]: the record types and their stable JSON.
//!
//! ```
//! use namera_store::{Alias, Home, keystore::{KdfStrength, Keystore}};
//!
//! # let dir = std::env::temp_dir().join(format!("namera-store-doc-{}", std::process::id()));
//! let home = Home::at(&dir);
//! let alias = Alias::parse("owner")?;
//! let keystore = Keystore::encrypt(&[0x42; 32], b"pw", KdfStrength::Light)?;
//! home.keystores().create(&alias, &keystore)?;
//!
//! let read = home.keystores().get(&alias)?;
//! assert_eq!(read.decrypt(b"pw")?.secret(), &[0x42; 32]);
//! assert_eq!(home.keystores().list()?.len(), 1);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod fs;
mod home;
pub mod keystore;
pub mod lanes;
pub mod records;

pub use home::{Alias, AliasError, Collection, Home, Readable, RecordKind, StoreError};

#[cfg(test)]
mod test_dir {
    //! Unique scratch directories for unit tests, removed on drop.

    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    pub(crate) struct TestDir(PathBuf);

    impl TestDir {
        pub(crate) fn new(name: &str) -> Self {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir()
                .join(format!("namera-store-{name}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

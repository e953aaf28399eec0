//! The home directory and its typed, alias-keyed collections.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::fs::{create_new_atomic, write_atomic};
use crate::keystore::Keystore;
use crate::records::{PasskeyRecord, SessionKeyRecord, SmartAccountRecord};

/// Everything that can go wrong reading or writing the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// `create` found a record with that alias already; nothing was written.
    #[error("a {kind} named `{alias}` already exists")]
    AliasTaken {
        /// The collection.
        kind: RecordKind,
        /// The alias asked for.
        alias: Alias,
    },
    /// No record with that alias.
    #[error("no {kind} named `{alias}`")]
    NotFound {
        /// The collection.
        kind: RecordKind,
        /// The alias asked for.
        alias: Alias,
    },
    /// A file holds something that does not parse as the expected JSON.
    #[error("corrupt file {}: {source}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser said (it names the field and line).
        #[source]
        source: serde_json::Error,
    },
    /// A value could not be turned into JSON (only possible for exotic `Serialize` impls,
    /// such as maps with non-string keys).
    #[error("cannot serialize the value for {}: {source}", path.display())]
    Serialize {
        /// Where it was to be written.
        path: PathBuf,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// A file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Neither `NAMERA_HOME` nor `HOME` is set, so there is no default home.
    #[error("cannot locate the namera home: neither NAMERA_HOME nor HOME is set")]
    NoHome,
}

impl StoreError {
    fn io(path: &Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::Io { path: path.to_owned(), source }
    }
}

/// Why a string is not an [`Alias`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AliasError {
    /// The string is empty.
    #[error("an alias cannot be empty")]
    Empty,
    /// More than 64 characters.
    #[error("an alias has at most 64 characters, this one has {len}")]
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// The first character is not an ASCII letter or digit.
    #[error("an alias must start with a letter or digit, not {ch:?}")]
    BadStart {
        /// The offending character.
        ch: char,
    },
    /// A character other than ASCII letters, digits, `_`, `.` and `-`.
    #[error(
        "an alias may contain only letters, digits, '_', '.' and '-'; {ch:?} (character {position}) is not allowed"
    )]
    BadChar {
        /// The offending character.
        ch: char,
        /// Its 1-based position in characters.
        position: usize,
    },
}

/// The name of a record, unique within its collection, and its file stem on disk.
///
/// `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`: ASCII only and never starting with `.` or `-`, so an
/// alias is always a plain, visible file name (no `..`, no separators, no flags) and is
/// easy to type in a shell. Comparison and sorting are by bytes (case-sensitive).
///
/// ```
/// use namera_store::{Alias, AliasError};
///
/// let alias = Alias::parse("ops-bot.v2")?;
/// assert_eq!(alias.as_str(), "ops-bot.v2");
/// assert_eq!(Alias::parse("../x"), Err(AliasError::BadStart { ch: '.' }));
/// assert_eq!(Alias::parse("a b"), Err(AliasError::BadChar { ch: ' ', position: 2 }));
/// # Ok::<(), AliasError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Alias(String);

impl Alias {
    /// Most characters an alias may have.
    pub const MAX_LEN: usize = 64;

    /// Checks `s` and wraps it.
    pub fn parse(s: &str) -> Result<Self, AliasError> {
        let mut chars = s.chars();
        let first = chars.next().ok_or(AliasError::Empty)?;
        if !first.is_ascii_alphanumeric() {
            return Err(AliasError::BadStart { ch: first });
        }
        for (i, ch) in chars.enumerate() {
            if !(ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-')) {
                return Err(AliasError::BadChar { ch, position: i + 2 });
            }
        }
        // All characters are ASCII here, so bytes are characters.
        if s.len() > Self::MAX_LEN {
            return Err(AliasError::TooLong { len: s.len() });
        }
        Ok(Self(s.to_owned()))
    }

    /// The alias as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Alias {
    type Err = AliasError;

    fn from_str(s: &str) -> Result<Self, AliasError> {
        Self::parse(s)
    }
}

impl AsRef<str> for Alias {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Alias {
    type Error = AliasError;

    fn try_from(s: String) -> Result<Self, AliasError> {
        Self::parse(&s)
    }
}

impl From<Alias> for String {
    fn from(a: Alias) -> Self {
        a.0
    }
}

/// The kinds of record the store keeps, one directory each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// `keystores/`: V3 keystores of owner keys.
    Keystore,
    /// `smart-accounts/`: [`SmartAccountRecord`]s.
    SmartAccount,
    /// `session-keys/`: [`SessionKeyRecord`]s.
    SessionKey,
    /// `passkeys/`: [`PasskeyRecord`]s.
    Passkey,
}

impl RecordKind {
    /// The directory name under the home.
    pub fn dir_name(self) -> &'static str {
        match self {
            Self::Keystore => "keystores",
            Self::SmartAccount => "smart-accounts",
            Self::SessionKey => "session-keys",
            Self::Passkey => "passkeys",
        }
    }

    /// The human name: "keystore", "smart account", "session key", "passkey".
    pub fn name(self) -> &'static str {
        match self {
            Self::Keystore => "keystore",
            Self::SmartAccount => "smart account",
            Self::SessionKey => "session key",
            Self::Passkey => "passkey",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The namera home directory: the root of all stored state.
///
/// Nothing is created until something is written; directories are then created 0700.
///
/// ```
/// use namera_store::Home;
///
/// let home = Home::at("/tmp/example-namera");
/// assert_eq!(home.config_path(), std::path::Path::new("/tmp/example-namera/config.json"));
/// assert_eq!(home.session_keys().dir(), std::path::Path::new("/tmp/example-namera/session-keys"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// The environment variable that overrides the default location.
    pub const ENV: &'static str = "NAMERA_HOME";

    /// `$NAMERA_HOME` if set and non-empty, else `$HOME/.namera`.
    pub fn from_env() -> Result<Self, StoreError> {
        Self::from_vars(std::env::var_os(Self::ENV), std::env::var_os("HOME"))
    }

    /// [`from_env`](Self::from_env) with the variables passed in, so it can be tested
    /// without mutating the process environment.
    fn from_vars(
        namera_home: Option<OsString>,
        home: Option<OsString>,
    ) -> Result<Self, StoreError> {
        let set = |v: Option<OsString>| v.filter(|v| !v.is_empty());
        if let Some(dir) = set(namera_home) {
            return Ok(Self::at(dir));
        }
        set(home)
            .map(|home| Self::at(PathBuf::from(home).join(".namera")))
            .ok_or(StoreError::NoHome)
    }

    /// A home at an explicit path.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The home directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.json`; read and write it with [`read_json`](Self::read_json) and
    /// [`write_json`](Self::write_json).
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }

    /// The nonce-lane blocks this process holds (`lanes/`), so that servers acting with
    /// one key never share a lane.
    pub fn lane_locks(&self) -> Result<crate::lanes::LaneLocks, StoreError> {
        crate::lanes::LaneLocks::new(self.root.join("lanes"))
    }

    /// `devnet/`, owned by the devnet tooling; this crate never writes there.
    pub fn devnet_dir(&self) -> PathBuf {
        self.root.join("devnet")
    }

    /// Owner keystores (files are plain V3 JSON).
    pub fn keystores(&self) -> Collection<Keystore> {
        self.collection(RecordKind::Keystore)
    }

    /// Smart accounts.
    pub fn smart_accounts(&self) -> Collection<SmartAccountRecord> {
        self.collection(RecordKind::SmartAccount)
    }

    /// Session keys.
    pub fn session_keys(&self) -> Collection<SessionKeyRecord> {
        self.collection(RecordKind::SessionKey)
    }

    /// Passkeys.
    pub fn passkeys(&self) -> Collection<PasskeyRecord> {
        self.collection(RecordKind::Passkey)
    }

    fn collection<T>(&self, kind: RecordKind) -> Collection<T> {
        Collection { dir: self.root.join(kind.dir_name()), kind, _record: PhantomData }
    }

    /// Reads JSON from `path`; `Ok(None)` if the file does not exist.
    pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| StoreError::Corrupt { path: path.to_owned(), source }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io(path)(e)),
        }
    }

    /// Writes `value` as pretty JSON to `path`, atomically (see [`write_atomic`]).
    pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), StoreError> {
        write_atomic(path, &to_json(path, value)?).map_err(StoreError::io(path))
    }
}

fn to_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<Vec<u8>, StoreError> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|source| StoreError::Serialize { path: path.to_owned(), source })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// What [`Collection::list_readable`] returns: the records that read, and the aliases
/// whose files do not, each with its error.
pub type Readable<T> = (Vec<(Alias, T)>, Vec<(Alias, StoreError)>);

/// One directory of records of type `T`, one `<alias>.json` file each.
///
/// All writes are atomic and private (see [`crate::fs`]). Files in the directory whose
/// names are not `<valid alias>.json` (temporary files, editor backups, notes) are ignored.
///
/// ```
/// use namera_store::{Alias, Home, StoreError};
/// use namera_store::records::{OwnerRef, SmartAccountRecord};
/// use alloy_primitives::{U256, address};
///
/// # let dir = std::env::temp_dir().join(format!("namera-coll-doc-{}", std::process::id()));
/// let accounts = Home::at(&dir).smart_accounts();
/// let alias = Alias::parse("main")?;
/// let record = SmartAccountRecord::new(
///     address!("0x1111111111111111111111111111111111111111"),
///     OwnerRef::Keystore {
///         alias: Alias::parse("owner")?,
///         address: address!("0x2222222222222222222222222222222222222222"),
///     },
///     U256::ZERO,
///     vec!["base-sepolia".into()],
///     1_700_000_000,
/// );
/// accounts.create(&alias, &record)?;
/// assert!(matches!(accounts.create(&alias, &record), Err(StoreError::AliasTaken { .. })));
/// assert_eq!(accounts.get(&alias)?, record);
/// accounts.remove(&alias)?;
/// assert!(!accounts.exists(&alias));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Collection<T> {
    dir: PathBuf,
    kind: RecordKind,
    _record: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Collection<T> {
    /// What this collection holds.
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// The collection's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `alias` (whether or not it exists).
    pub fn path(&self, alias: &Alias) -> PathBuf {
        self.dir.join(format!("{alias}.json"))
    }

    /// Whether a record named `alias` exists. An unreadable directory counts as "no".
    pub fn exists(&self, alias: &Alias) -> bool {
        self.path(alias).exists()
    }

    /// Stores a new record; [`StoreError::AliasTaken`] if the alias is in use, in which
    /// case nothing is written (race-free, see [`create_new_atomic`]).
    pub fn create(&self, alias: &Alias, value: &T) -> Result<(), StoreError> {
        let path = self.path(alias);
        let bytes = to_json(&path, value)?;
        create_new_atomic(&path, &bytes).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                StoreError::AliasTaken { kind: self.kind, alias: alias.clone() }
            } else {
                StoreError::io(&path)(e)
            }
        })
    }

    /// Overwrites an existing record atomically; [`StoreError::NotFound`] if there is none.
    ///
    /// The existence check and the write are two steps: a record removed concurrently in
    /// between is recreated. Callers that need more hold a lock of their own.
    pub fn replace(&self, alias: &Alias, value: &T) -> Result<(), StoreError> {
        let path = self.path(alias);
        if !path.exists() {
            return Err(self.not_found(alias));
        }
        write_atomic(&path, &to_json(&path, value)?).map_err(StoreError::io(&path))
    }

    /// Reads a record; [`StoreError::NotFound`] if there is none, [`StoreError::Corrupt`]
    /// (with the path) if it does not parse.
    pub fn get(&self, alias: &Alias) -> Result<T, StoreError> {
        let path = self.path(alias);
        Home::read_json(&path)?.ok_or_else(|| self.not_found(alias))
    }

    /// The aliases present, sorted, without reading the records.
    ///
    /// Works even when some record is corrupt, so a caller can still show what exists.
    /// A missing directory means an empty collection.
    pub fn aliases(&self) -> Result<Vec<Alias>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io(&self.dir)(e)),
        };
        crate::fs::sweep_stale_temps(&self.dir);
        let mut aliases = Vec::new();
        for entry in entries {
            let entry = entry.map_err(StoreError::io(&self.dir))?;
            let name = entry.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if let Ok(alias) = Alias::parse(stem) {
                aliases.push(alias);
            }
        }
        aliases.sort();
        Ok(aliases)
    }

    /// Every record, sorted by alias.
    ///
    /// All or nothing: the first file that cannot be read or parsed fails the whole call
    /// with [`StoreError::Corrupt`] (or [`StoreError::Io`]) naming that file, rather than
    /// silently leaving a record out. Use [`aliases`](Self::aliases) and
    /// [`get`](Self::get) to go record by record instead.
    pub fn list(&self) -> Result<Vec<(Alias, T)>, StoreError> {
        let mut records = Vec::new();
        for alias in self.aliases()? {
            match self.get(&alias) {
                Ok(record) => records.push((alias, record)),
                // Removed between listing and reading: it is simply gone.
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(records)
    }

    /// Every record that reads, sorted by alias, and apart the ones that do not (a
    /// truncated or damaged file), each with its error: one bad file must not hide the
    /// others, nor itself (the caller shows it, so it can be removed).
    pub fn list_readable(&self) -> Result<Readable<T>, StoreError> {
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for alias in self.aliases()? {
            match self.get(&alias) {
                Ok(record) => good.push((alias, record)),
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => bad.push((alias, e)),
            }
        }
        Ok((good, bad))
    }

    /// Deletes a record; [`StoreError::NotFound`] if there is none.
    pub fn remove(&self, alias: &Alias) -> Result<(), StoreError> {
        let path = self.path(alias);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(self.not_found(alias)),
            Err(e) => Err(StoreError::io(&path)(e)),
        }
    }

    fn not_found(&self, alias: &Alias) -> StoreError {
        StoreError::NotFound { kind: self.kind, alias: alias.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_from_environment_variables() {
        let os = |s: &str| Some(OsString::from(s));
        let root = |h: Result<Home, StoreError>| h.unwrap().root().to_path_buf();
        assert_eq!(root(Home::from_vars(os("/srv/n"), os("/home/u"))), PathBuf::from("/srv/n"));
        assert_eq!(root(Home::from_vars(None, os("/home/u"))), PathBuf::from("/home/u/.namera"));
        // An empty NAMERA_HOME counts as unset, as shells make it easy to export one.
        assert_eq!(root(Home::from_vars(os(""), os("/home/u"))), PathBuf::from("/home/u/.namera"));
        assert!(matches!(Home::from_vars(None, None), Err(StoreError::NoHome)));
        assert!(matches!(Home::from_vars(os(""), os("")), Err(StoreError::NoHome)));
        assert_eq!(
            StoreError::NoHome.to_string(),
            "cannot locate the namera home: neither NAMERA_HOME nor HOME is set"
        );
    }
}

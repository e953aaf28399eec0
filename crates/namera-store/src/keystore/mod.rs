//! Web3 Secret Storage v3: password-encrypted keys in the JSON format geth introduced.
//!
//! The same files are read and written by geth, foundry's `cast wallet`, Python's
//! `eth-account` and the TypeScript Namera CLI, so an owner key created by one tool can be
//! used by the others. A file is a [`Keystore`]: an id, the key's address and a
//! [`KeystoreCrypto`] section. The `crypto` section is useful on its own: session-key and
//! passkey records embed one to keep *their* private keys encrypted with the same scheme.
//!
//! Encryption, as every V3 implementation does it:
//!
//! 1. derive a key `dk` from the password with scrypt (or, on read, PBKDF2-HMAC-SHA256);
//! 2. encrypt the secret with AES-128-CTR under `dk[0..16]` and a random 16-byte IV;
//! 3. `mac = keccak256(dk[16..32] ‖ ciphertext)`, which is how a wrong password is told
//!    apart from a right one before anything is decrypted.
//!
//! The KDF dominates the cost: geth's standard scrypt parameters (N = 2^18, r = 8, p = 1)
//! need 256 MiB and most of a second in typical implementations; this crate's own scrypt
//! (in `scrypt.rs`) is tuned for it. Parameters read from a file are checked against
//! [limits](KdfLimits) first, so a hostile file cannot make us allocate gigabytes.
//!
//! ```
//! use namera_store::keystore::{KdfStrength, Keystore, KeystoreError};
//!
//! let secret = [0x11; 32];
//! // `Light` keeps the example fast; real keystores use `KdfStrength::Standard`.
//! let keystore = Keystore::encrypt(&secret, b"correct horse", KdfStrength::Light)?;
//! let json = keystore.to_json();
//!
//! let read = Keystore::from_json(&json)?;
//! let key = read.decrypt(b"correct horse")?;
//! assert_eq!(key.secret(), &secret);
//! assert_eq!(Some(key.address()), read.address());
//! assert!(matches!(read.decrypt(b"wrong"), Err(KeystoreError::WrongPassword)));
//! # Ok::<(), KeystoreError>(())
//! ```

mod scrypt;

use std::fmt;

use aes::cipher::{KeyIvInit, StreamCipher};
use alloy_primitives::{Address, hex, keccak256};
use k256::elliptic_curve::sec1::ToEncodedPoint;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use zeroize::Zeroizing;

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// Everything that can go wrong reading, encrypting or decrypting a keystore.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// The MAC did not match: the password is wrong (or the ciphertext was altered).
    #[error(
        "wrong password, or the keystore file is damaged: its MAC does not match (a wrong password and altered bytes look the same)"
    )]
    WrongPassword,
    /// The text is not JSON of the V3 shape; serde's message names the missing or
    /// mistyped field and its line.
    #[error("malformed keystore JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A field is present but its value is unusable (bad hex, wrong length, ...).
    #[error("keystore field `{field}` is invalid: {reason}")]
    InvalidField {
        /// Dotted path of the field, e.g. `crypto.cipherparams.iv`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `version` is not 3.
    #[error("unsupported keystore version {0} (only version 3 is supported)")]
    UnsupportedVersion(String),
    /// `crypto.cipher` is not `aes-128-ctr`.
    #[error("unsupported keystore cipher `{0}` (only aes-128-ctr is supported)")]
    UnsupportedCipher(String),
    /// `crypto.kdf` is neither `scrypt` nor `pbkdf2`.
    #[error("unsupported keystore kdf `{0}` (scrypt and pbkdf2 are supported)")]
    UnsupportedKdf(String),
    /// `crypto.kdfparams.prf` is not `hmac-sha256`.
    #[error("unsupported pbkdf2 prf `{0}` (only hmac-sha256 is supported)")]
    UnsupportedPrf(String),
    /// A KDF parameter is outside what [`KdfLimits`] allows; refused before any work.
    #[error("kdf parameter `{param}` = {value} is out of range: {reason}")]
    KdfParamOutOfRange {
        /// The parameter (`n`, `r`, `p`, `c`, `dklen`, `salt`, or a product such as `n*r*p`).
        param: &'static str,
        /// Its value (for `salt`, the length in bytes).
        value: u64,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The plaintext to encrypt, or the decrypted key, is not a valid secp256k1 secret
    /// (zero or not below the group order).
    #[error("not a valid secp256k1 secret key")]
    InvalidSecretKey,
    /// The file names an address, but the decrypted key belongs to another one.
    #[error("keystore address {stored} does not match the decrypted key's address {derived}")]
    AddressMismatch {
        /// The address written in the file.
        stored: Address,
        /// The address of the decrypted key.
        derived: Address,
    },
    /// The scrypt table could not be allocated.
    #[error("out of memory: scrypt needs {bytes} bytes")]
    OutOfMemory {
        /// Size of the table that failed to allocate.
        bytes: u64,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

/// Bounds on KDF parameters accepted from a file.
///
/// Exist so that reading an untrusted keystore cannot make us allocate gigabytes or spin
/// for minutes. They admit every parameter set real wallets use (geth standard and light,
/// ethers' N = 2^17, pbkdf2 with c = 262144) with room to spare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfLimits;

impl KdfLimits {
    /// Largest scrypt `n` (2^22).
    pub const MAX_SCRYPT_N: u64 = 1 << 22;
    /// Largest scrypt `r`.
    pub const MAX_SCRYPT_R: u32 = 32;
    /// Largest scrypt `p`.
    pub const MAX_SCRYPT_P: u32 = 16;
    /// Largest scrypt table, `128 * r * n` bytes (1 GiB).
    pub const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
    /// Largest scrypt work, `n * r * p` (8 times geth's standard 2^21).
    pub const MAX_SCRYPT_WORK: u64 = 1 << 24;
    /// Largest PBKDF2 iteration count.
    pub const MAX_PBKDF2_C: u32 = 10_000_000;
    /// Smallest derived key: the AES key and the MAC key take 16 bytes each.
    pub const MIN_DKLEN: u32 = 32;
    /// Largest derived key.
    pub const MAX_DKLEN: u32 = 64;
    /// Largest salt, in bytes.
    pub const MAX_SALT: usize = 1024;
    /// Largest ciphertext, in bytes (secrets here are keys, not documents).
    pub const MAX_CIPHERTEXT: usize = 1024;
}

/// How hard the password-derived key is to brute-force, for newly encrypted data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KdfStrength {
    /// geth's standard scrypt parameters: N = 2^18, r = 8, p = 1 (256 MiB).
    #[default]
    Standard,
    /// geth's "light" scrypt parameters: N = 2^12, r = 8, p = 6 (4 MiB). For tests and
    /// examples, where the standard cost would dominate run time.
    Light,
}

impl KdfStrength {
    /// The scrypt parameters for this strength, with the given salt.
    pub fn scrypt_params(self, salt: Vec<u8>) -> ScryptParams {
        let (n, r, p) = match self {
            Self::Standard => (1 << 18, 8, 1),
            Self::Light => (1 << 12, 8, 6),
        };
        ScryptParams { n, r, p, dklen: 32, salt }
    }
}

/// scrypt parameters as stored in `crypto.kdfparams`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScryptParams {
    /// CPU/memory cost; a power of two.
    pub n: u64,
    /// Block size.
    pub r: u32,
    /// Parallelism.
    pub p: u32,
    /// Derived key length in bytes.
    pub dklen: u32,
    /// Salt bytes.
    pub salt: Vec<u8>,
}

/// PBKDF2-HMAC-SHA256 parameters as stored in `crypto.kdfparams` (`prf: "hmac-sha256"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pbkdf2Params {
    /// Iteration count.
    pub c: u32,
    /// Derived key length in bytes.
    pub dklen: u32,
    /// Salt bytes.
    pub salt: Vec<u8>,
}

/// The key derivation function of a `crypto` section and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kdf {
    /// `"kdf": "scrypt"`.
    Scrypt(ScryptParams),
    /// `"kdf": "pbkdf2"`.
    Pbkdf2(Pbkdf2Params),
}

impl Kdf {
    /// Checks the parameters against [`KdfLimits`] without doing any work.
    pub fn check(&self) -> Result<(), KeystoreError> {
        let out_of_range = |param, value: u64, reason| {
            Err(KeystoreError::KdfParamOutOfRange { param, value, reason })
        };
        let (dklen, salt) = match self {
            Self::Scrypt(s) => (s.dklen, &s.salt),
            Self::Pbkdf2(p) => (p.dklen, &p.salt),
        };
        if dklen < KdfLimits::MIN_DKLEN {
            return out_of_range("dklen", dklen.into(), "must be at least 32");
        }
        if dklen > KdfLimits::MAX_DKLEN {
            return out_of_range("dklen", dklen.into(), "must be at most 64");
        }
        if salt.len() > KdfLimits::MAX_SALT {
            return out_of_range("salt", salt.len() as u64, "must be at most 1024 bytes");
        }
        match self {
            Self::Scrypt(s) => {
                if s.n < 2 || !s.n.is_power_of_two() {
                    return out_of_range("n", s.n, "must be a power of two greater than 1");
                }
                if s.n > KdfLimits::MAX_SCRYPT_N {
                    return out_of_range("n", s.n, "must be at most 2^22");
                }
                if s.r == 0 || s.r > KdfLimits::MAX_SCRYPT_R {
                    return out_of_range("r", s.r.into(), "must be between 1 and 32");
                }
                if s.p == 0 || s.p > KdfLimits::MAX_SCRYPT_P {
                    return out_of_range("p", s.p.into(), "must be between 1 and 16");
                }
                // Both products fit in u64: n <= 2^22, r <= 2^5, p <= 2^4.
                let memory = 128 * u64::from(s.r) * s.n;
                if memory > KdfLimits::MAX_SCRYPT_MEMORY {
                    return out_of_range("128*r*n", memory, "scrypt memory must be at most 1 GiB");
                }
                let work = s.n * u64::from(s.r) * u64::from(s.p);
                if work > KdfLimits::MAX_SCRYPT_WORK {
                    return out_of_range("n*r*p", work, "scrypt work must be at most 2^24");
                }
            }
            Self::Pbkdf2(p) => {
                if p.c == 0 || p.c > KdfLimits::MAX_PBKDF2_C {
                    return out_of_range("c", p.c.into(), "must be between 1 and 10000000");
                }
            }
        }
        Ok(())
    }

    /// Derives the key for `password` (after [`check`](Self::check)ing the parameters).
    fn derive(&self, password: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
        self.check()?;
        match self {
            Self::Scrypt(s) => {
                let mut dk = Zeroizing::new(vec![0u8; s.dklen as usize]);
                scrypt(password, &s.salt, s.n, s.r, s.p, &mut dk)?;
                Ok(dk)
            }
            Self::Pbkdf2(p) => {
                let mut dk = Zeroizing::new(vec![0u8; p.dklen as usize]);
                pbkdf2::pbkdf2_hmac::<Sha256>(password, &p.salt, p.c, &mut dk);
                Ok(dk)
            }
        }
    }
}

/// scrypt (RFC 7914) with this crate's fast implementation.
///
/// Public so benchmarks and callers with their own formats can use it; parameters are
/// *not* checked against [`KdfLimits`] here (only for being defined at all: `n` a power
/// of two above 1, `r` and `p` positive).
///
/// ```
/// use namera_store::keystore::scrypt;
///
/// // RFC 7914, section 12, second vector.
/// let mut out = [0u8; 64];
/// scrypt(b"password", b"NaCl", 1024, 8, 16, &mut out)?;
/// assert_eq!(out[..8], [0xfd, 0xba, 0xbe, 0x1c, 0x9d, 0x34, 0x72, 0x00]);
/// # Ok::<(), namera_store::keystore::KeystoreError>(())
/// ```
pub fn scrypt(
    password: &[u8],
    salt: &[u8],
    n: u64,
    r: u32,
    p: u32,
    out: &mut [u8],
) -> Result<(), KeystoreError> {
    scrypt::scrypt(password, salt, n, r, p, out).map_err(|e| match e {
        scrypt::ScryptFailure::OutOfMemory => {
            KeystoreError::OutOfMemory { bytes: 128u64.saturating_mul(r.into()).saturating_mul(n) }
        }
        scrypt::ScryptFailure::BadParams => KeystoreError::KdfParamOutOfRange {
            param: "n",
            value: n,
            reason: "scrypt needs n a power of two greater than 1, and r, p positive",
        },
    })
}

fn random<const N: usize>() -> Result<[u8; N], KeystoreError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| KeystoreError::Random(e.to_string()))?;
    Ok(buf)
}

/// Compares in time independent of where the first difference is.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn mac(dk: &[u8], ciphertext: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(16 + ciphertext.len());
    input.extend_from_slice(&dk[16..32]);
    input.extend_from_slice(ciphertext);
    let out = keccak256(&input).0;
    // `input` holds half of the derived key.
    zeroize::Zeroize::zeroize(&mut input);
    out
}

/// The `crypto` section of a V3 keystore: a secret encrypted under a password.
///
/// Besides being the heart of [`Keystore`], it is embedded in session-key and passkey
/// records to keep their private keys encrypted. Only `aes-128-ctr` is supported, as in
/// every V3 implementation in use.
///
/// ```
/// use namera_store::keystore::{KdfStrength, KeystoreCrypto};
///
/// let crypto = KeystoreCrypto::encrypt(b"any secret bytes", b"pw", KdfStrength::Light)?;
/// let json = serde_json::to_value(&crypto)?;
/// assert_eq!(json["cipher"], "aes-128-ctr");
/// assert_eq!(json["kdf"], "scrypt");
///
/// let back: KeystoreCrypto = serde_json::from_value(json)?;
/// assert_eq!(back.decrypt(b"pw")?.as_slice(), b"any secret bytes");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeystoreCrypto {
    iv: [u8; 16],
    ciphertext: Vec<u8>,
    kdf: Kdf,
    mac: [u8; 32],
}

impl KeystoreCrypto {
    /// Encrypts `plaintext` under `password` with scrypt of the given strength, a random
    /// salt and a random IV.
    pub fn encrypt(
        plaintext: &[u8],
        password: &[u8],
        strength: KdfStrength,
    ) -> Result<Self, KeystoreError> {
        let kdf = Kdf::Scrypt(strength.scrypt_params(random::<32>()?.to_vec()));
        Self::encrypt_with(plaintext, password, &kdf, random::<16>()?)
    }

    /// Encrypts with an explicit KDF (salt included) and IV.
    ///
    /// Deterministic, which is what reproducing published test vectors needs. Never reuse
    /// a salt and IV pair for two secrets under one password: CTR mode would leak their xor.
    pub fn encrypt_with(
        plaintext: &[u8],
        password: &[u8],
        kdf: &Kdf,
        iv: [u8; 16],
    ) -> Result<Self, KeystoreError> {
        if plaintext.len() > KdfLimits::MAX_CIPHERTEXT {
            return Err(KeystoreError::InvalidField {
                field: "crypto.ciphertext",
                reason: format!("{} bytes is over the 1024-byte limit", plaintext.len()),
            });
        }
        let dk = kdf.derive(password)?;
        let mut ciphertext = plaintext.to_vec();
        let mut cipher = Aes128Ctr::new(dk[..16].into(), &iv.into());
        cipher.apply_keystream(&mut ciphertext);
        let mac = mac(&dk, &ciphertext);
        Ok(Self { iv, ciphertext, kdf: kdf.clone(), mac })
    }

    /// Decrypts with `password`. A wrong password is [`KeystoreError::WrongPassword`].
    pub fn decrypt(&self, password: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
        let dk = self.kdf.derive(password)?;
        if !ct_eq(&mac(&dk, &self.ciphertext), &self.mac) {
            return Err(KeystoreError::WrongPassword);
        }
        let mut plaintext = Zeroizing::new(self.ciphertext.clone());
        let mut cipher = Aes128Ctr::new(dk[..16].into(), &self.iv.into());
        cipher.apply_keystream(&mut plaintext);
        Ok(plaintext)
    }

    /// The key derivation function and its parameters.
    pub fn kdf(&self) -> &Kdf {
        &self.kdf
    }

    /// The AES-128-CTR initial counter block.
    pub fn iv(&self) -> &[u8; 16] {
        &self.iv
    }

    /// The encrypted secret.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }

    /// `keccak256(dk[16..32] ‖ ciphertext)`.
    pub fn mac(&self) -> &[u8; 32] {
        &self.mac
    }
}

/// A decrypted secp256k1 key and its address.
///
/// The secret is wiped from memory on drop, and `Debug` shows only the address.
pub struct DecryptedKey {
    secret: Zeroizing<[u8; 32]>,
    address: Address,
}

impl DecryptedKey {
    /// The 32-byte secret key.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The Ethereum address of the key.
    pub fn address(&self) -> Address {
        self.address
    }
}

impl fmt::Debug for DecryptedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedKey")
            .field("address", &self.address)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The Ethereum address of a secp256k1 secret key.
pub fn secret_key_address(secret: &[u8; 32]) -> Result<Address, KeystoreError> {
    let key = k256::SecretKey::from_slice(secret).map_err(|_| KeystoreError::InvalidSecretKey)?;
    let point = key.public_key().to_encoded_point(false);
    // Uncompressed SEC1: 0x04 ‖ x ‖ y; the address hashes x ‖ y.
    Ok(Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..]))
}

/// A Web3 Secret Storage v3 keystore file.
///
/// Serializes to exactly the V3 fields (`version`, `id`, `address` as lowercase hex
/// without `0x`, `crypto`). On read, `Crypto` is accepted for `crypto` (geth writes it
/// that way in old files) and `address` may be absent (foundry's older keystores omit it);
/// when present it must match the decrypted key.
///
/// ```
/// use namera_store::keystore::{KdfStrength, Keystore};
///
/// let ks = Keystore::encrypt(&[7; 32], b"pw", KdfStrength::Light)?;
/// let json: serde_json::Value = serde_json::from_str(&ks.to_json()).unwrap();
/// assert_eq!(json["version"], 3);
/// assert_eq!(json["address"].as_str().unwrap().len(), 40);
/// assert_eq!(json["crypto"]["kdfparams"]["n"], 4096);
/// # Ok::<(), namera_store::keystore::KeystoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keystore {
    id: String,
    address: Option<Address>,
    crypto: KeystoreCrypto,
}

impl Keystore {
    /// Encrypts a secp256k1 secret key with scrypt of the given strength.
    pub fn encrypt(
        secret: &[u8; 32],
        password: &[u8],
        strength: KdfStrength,
    ) -> Result<Self, KeystoreError> {
        let kdf = Kdf::Scrypt(strength.scrypt_params(random::<32>()?.to_vec()));
        Self::encrypt_with_kdf(secret, password, &kdf)
    }

    /// Encrypts a secp256k1 secret key with an explicit KDF (random IV and id).
    pub fn encrypt_with_kdf(
        secret: &[u8; 32],
        password: &[u8],
        kdf: &Kdf,
    ) -> Result<Self, KeystoreError> {
        let address = secret_key_address(secret)?;
        let crypto = KeystoreCrypto::encrypt_with(secret, password, kdf, random::<16>()?)?;
        Ok(Self { id: uuid_v4(random::<16>()?), address: Some(address), crypto })
    }

    /// Decrypts the key. Fails with [`KeystoreError::WrongPassword`] on a MAC mismatch and
    /// [`KeystoreError::AddressMismatch`] if the file's address is not the key's.
    pub fn decrypt(&self, password: &[u8]) -> Result<DecryptedKey, KeystoreError> {
        let plain = self.crypto.decrypt(password)?;
        let secret: Zeroizing<[u8; 32]> =
            Zeroizing::new(plain.as_slice().try_into().map_err(|_| {
                KeystoreError::InvalidField {
                    field: "crypto.ciphertext",
                    reason: format!("decrypts to {} bytes, a private key has 32", plain.len()),
                }
            })?);
        let derived = secret_key_address(&secret)?;
        match self.address {
            Some(stored) if stored != derived => {
                Err(KeystoreError::AddressMismatch { stored, derived })
            }
            _ => Ok(DecryptedKey { secret, address: derived }),
        }
    }

    /// Parses keystore JSON, with an error naming the first unusable field.
    pub fn from_json(json: &str) -> Result<Self, KeystoreError> {
        Self::try_from(serde_json::from_str::<RawKeystore>(json)?)
    }

    /// The keystore as pretty-printed V3 JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers into a String cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The `id` field (a UUID v4 for keystores made here).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The `address` field, if the file has one.
    pub fn address(&self) -> Option<Address> {
        self.address
    }

    /// The `crypto` section.
    pub fn crypto(&self) -> &KeystoreCrypto {
        &self.crypto
    }
}

/// Formats 16 random bytes as a version-4, RFC 4122-variant UUID.
fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

// ---- JSON shapes -------------------------------------------------------------------------
//
// Reading goes through loosely typed `Raw*` structs so that each semantic problem gets a
// typed error naming its field; serde alone would only say "invalid value at line 7".

#[derive(Deserialize)]
struct RawKeystore {
    version: serde_json::Value,
    id: String,
    #[serde(default)]
    address: Option<String>,
    #[serde(alias = "Crypto")]
    crypto: RawCrypto,
}

#[derive(Deserialize)]
struct RawCrypto {
    cipher: String,
    cipherparams: RawCipherParams,
    ciphertext: String,
    kdf: String,
    kdfparams: serde_json::Value,
    mac: String,
}

#[derive(Deserialize)]
struct RawCipherParams {
    iv: String,
}

#[derive(Deserialize)]
struct RawScrypt {
    n: u64,
    r: u32,
    p: u32,
    dklen: u32,
    salt: String,
}

#[derive(Deserialize)]
struct RawPbkdf2 {
    c: u32,
    dklen: u32,
    prf: String,
    salt: String,
}

fn parse_hex(field: &'static str, s: &str) -> Result<Vec<u8>, KeystoreError> {
    hex::decode(s).map_err(|e| KeystoreError::InvalidField { field, reason: format!("{e}") })
}

fn parse_hex_n<const N: usize>(field: &'static str, s: &str) -> Result<[u8; N], KeystoreError> {
    let bytes = parse_hex(field, s)?;
    bytes.as_slice().try_into().map_err(|_| KeystoreError::InvalidField {
        field,
        reason: format!("expected {N} bytes, got {}", bytes.len()),
    })
}

impl TryFrom<RawCrypto> for KeystoreCrypto {
    type Error = KeystoreError;

    fn try_from(raw: RawCrypto) -> Result<Self, KeystoreError> {
        if raw.cipher != "aes-128-ctr" {
            return Err(KeystoreError::UnsupportedCipher(raw.cipher));
        }
        let kdfparams_error = |e: serde_json::Error| KeystoreError::InvalidField {
            field: "crypto.kdfparams",
            reason: e.to_string(),
        };
        let kdf = match raw.kdf.as_str() {
            "scrypt" => {
                let s: RawScrypt =
                    serde_json::from_value(raw.kdfparams).map_err(kdfparams_error)?;
                Kdf::Scrypt(ScryptParams {
                    n: s.n,
                    r: s.r,
                    p: s.p,
                    dklen: s.dklen,
                    salt: parse_hex("crypto.kdfparams.salt", &s.salt)?,
                })
            }
            "pbkdf2" => {
                let p: RawPbkdf2 =
                    serde_json::from_value(raw.kdfparams).map_err(kdfparams_error)?;
                if p.prf != "hmac-sha256" {
                    return Err(KeystoreError::UnsupportedPrf(p.prf));
                }
                Kdf::Pbkdf2(Pbkdf2Params {
                    c: p.c,
                    dklen: p.dklen,
                    salt: parse_hex("crypto.kdfparams.salt", &p.salt)?,
                })
            }
            _ => return Err(KeystoreError::UnsupportedKdf(raw.kdf)),
        };
        kdf.check()?;
        let ciphertext = parse_hex("crypto.ciphertext", &raw.ciphertext)?;
        if ciphertext.len() > KdfLimits::MAX_CIPHERTEXT {
            return Err(KeystoreError::InvalidField {
                field: "crypto.ciphertext",
                reason: format!("{} bytes is over the 1024-byte limit", ciphertext.len()),
            });
        }
        Ok(Self {
            iv: parse_hex_n("crypto.cipherparams.iv", &raw.cipherparams.iv)?,
            ciphertext,
            kdf,
            mac: parse_hex_n("crypto.mac", &raw.mac)?,
        })
    }
}

impl TryFrom<RawKeystore> for Keystore {
    type Error = KeystoreError;

    fn try_from(raw: RawKeystore) -> Result<Self, KeystoreError> {
        if raw.version.as_u64() != Some(3) {
            return Err(KeystoreError::UnsupportedVersion(raw.version.to_string()));
        }
        let address = match raw.address {
            None => None,
            Some(a) => Some(Address::from(parse_hex_n::<20>("address", &a)?)),
        };
        Ok(Self { id: raw.id, address, crypto: raw.crypto.try_into()? })
    }
}

impl<'de> Deserialize<'de> for KeystoreCrypto {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawCrypto::deserialize(d)?.try_into().map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Keystore {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawKeystore::deserialize(d)?.try_into().map_err(serde::de::Error::custom)
    }
}

#[derive(Serialize)]
struct OutCrypto<'a> {
    cipher: &'static str,
    cipherparams: OutCipherParams,
    ciphertext: String,
    kdf: &'static str,
    kdfparams: OutKdfParams<'a>,
    mac: String,
}

#[derive(Serialize)]
struct OutCipherParams {
    iv: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum OutKdfParams<'a> {
    Scrypt { dklen: u32, n: u64, p: u32, r: u32, salt: String },
    Pbkdf2 { c: u32, dklen: u32, prf: &'a str, salt: String },
}

impl Serialize for KeystoreCrypto {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (kdf, kdfparams) = match &self.kdf {
            Kdf::Scrypt(p) => (
                "scrypt",
                OutKdfParams::Scrypt {
                    dklen: p.dklen,
                    n: p.n,
                    p: p.p,
                    r: p.r,
                    salt: hex::encode(&p.salt),
                },
            ),
            Kdf::Pbkdf2(p) => (
                "pbkdf2",
                OutKdfParams::Pbkdf2 {
                    c: p.c,
                    dklen: p.dklen,
                    prf: "hmac-sha256",
                    salt: hex::encode(&p.salt),
                },
            ),
        };
        OutCrypto {
            cipher: "aes-128-ctr",
            cipherparams: OutCipherParams { iv: hex::encode(self.iv) },
            ciphertext: hex::encode(&self.ciphertext),
            kdf,
            kdfparams,
            mac: hex::encode(self.mac),
        }
        .serialize(s)
    }
}

#[derive(Serialize)]
struct OutKeystore<'a> {
    version: u8,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    crypto: &'a KeystoreCrypto,
}

impl Serialize for Keystore {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        OutKeystore {
            version: 3,
            id: &self.id,
            address: self.address.map(hex::encode),
            crypto: &self.crypto,
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests;

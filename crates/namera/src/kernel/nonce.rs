//! ERC-4337 2D nonces as Kernel lays them out.
//!
//! The EntryPoint keeps an independent sequence per 192-bit key. Kernel packs the
//! validation mode, the validation type, the validator (or permission id) and a 16-bit
//! lane into that key, so two UserOperations on different lanes never wait on each other.

use std::fmt;

use alloy_primitives::{U256, aliases::U192, keccak256};
use serde::{Deserialize, Serialize};

use super::validation::{ValidationId, ValidationType};

/// Whether the UserOperation installs its validation on the way (enable mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum ValidationMode {
    /// The validation is already installed.
    #[default]
    Default = 0x00,
    /// The signature carries the owner-approved install data (a session key's first use).
    Enable = 0x01,
}

/// A parallel lane: the low 16 bits of the nonce key.
///
/// Operations on the same lane execute in order; different lanes run independently.
///
/// ```
/// use namera::kernel::LaneKey;
/// // A named lane is the first two bytes of keccak256 of the name, as in ZeroDev's SDK.
/// assert_eq!(LaneKey::from_name("lane-1"), LaneKey(0x355b));
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct LaneKey(pub u16);

impl LaneKey {
    /// The default lane (0).
    pub const DEFAULT: Self = Self(0);

    /// A lane named by a string: the first two bytes of keccak256 of its UTF-8 bytes.
    pub fn from_name(name: &str) -> Self {
        let h = keccak256(name.as_bytes());
        Self(u16::from_be_bytes([h[0], h[1]]))
    }
}

impl fmt::Display for LaneKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The 192-bit key half of a v0.7 nonce.
///
/// ```
/// use namera::kernel::{LaneKey, NonceKey, ValidationId, ValidationMode, ValidationType};
/// use namera::kernel::addresses::ECDSA_VALIDATOR;
/// let key = NonceKey::new(
///     ValidationMode::Default,
///     ValidationType::Root,
///     ValidationId::validator(ECDSA_VALIDATOR),
///     LaneKey::DEFAULT,
/// );
/// assert_eq!(key.to_string(), "0x0000845adb2c711129d4f3966735ed98a9f09fc4ce570000");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NonceKey(pub U192);

impl NonceKey {
    /// Lay out `mode ‖ type ‖ identifier(20) ‖ lane(2)`.
    ///
    /// The identifier is taken from `id` (validator address or permission id padded), and
    /// is kept even for the root validator, as ZeroDev's SDK does.
    pub fn new(
        mode: ValidationMode,
        validation_type: ValidationType,
        id: ValidationId,
        lane: LaneKey,
    ) -> Self {
        let mut b = [0u8; 24];
        b[0] = mode as u8;
        b[1] = validation_type.byte();
        b[2..22].copy_from_slice(&id.identifier());
        b[22..].copy_from_slice(&lane.0.to_be_bytes());
        Self(U192::from_be_bytes(b))
    }

    /// The key for an operation validated by the root validator `id`.
    pub fn root(id: ValidationId, lane: LaneKey) -> Self {
        Self::new(ValidationMode::Default, ValidationType::Root, id, lane)
    }

    /// The key for a permission (session key) operation.
    pub fn permission(mode: ValidationMode, id: ValidationId, lane: LaneKey) -> Self {
        Self::new(mode, ValidationType::Permission, id, lane)
    }

    /// The full nonce `key << 64 | sequence`.
    pub fn nonce(self, sequence: u64) -> U256 {
        (U256::from(self.0) << 64) | U256::from(sequence)
    }

    /// Split a full nonce into key and sequence.
    pub fn split(nonce: U256) -> (Self, u64) {
        let seq = nonce.as_limbs()[0];
        (Self(U192::from(nonce >> 64)), seq)
    }

    /// The mode byte.
    pub fn mode(self) -> Option<ValidationMode> {
        match self.0.to_be_bytes::<24>()[0] {
            0 => Some(ValidationMode::Default),
            1 => Some(ValidationMode::Enable),
            _ => None,
        }
    }

    /// The lane.
    pub fn lane(self) -> LaneKey {
        let b = self.0.to_be_bytes::<24>();
        LaneKey(u16::from_be_bytes([b[22], b[23]]))
    }
}

impl fmt::Display for NonceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", alloy_primitives::hex::encode(self.0.to_be_bytes::<24>()))
    }
}

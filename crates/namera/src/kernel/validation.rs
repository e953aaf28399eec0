//! Validation identifiers: how Kernel names a validator or a permission.

use std::fmt;

use alloy_primitives::{Address, FixedBytes};
use serde::{Deserialize, Serialize};

/// The kind of validation, the first byte of a [`ValidationId`] and byte 1 of a nonce key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValidationType {
    /// The root (sudo) validator.
    Root = 0x00,
    /// A validator module.
    Validator = 0x01,
    /// A permission: a signer plus policies (a session key).
    Permission = 0x02,
}

impl ValidationType {
    /// The type byte.
    pub const fn byte(self) -> u8 {
        self as u8
    }

    /// Parse the type byte.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x00 => Some(Self::Root),
            0x01 => Some(Self::Validator),
            0x02 => Some(Self::Permission),
            _ => None,
        }
    }
}

/// A permission's 4-byte identifier: the first bytes of keccak256 over its policies,
/// flag and signer. Equal permissions have equal ids on every chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PermissionId(pub FixedBytes<4>);

impl PermissionId {
    /// The id's bytes.
    pub const fn as_bytes(&self) -> &[u8; 4] {
        &self.0.0
    }
}

impl fmt::Display for PermissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for PermissionId {
    type Err = alloy_primitives::hex::FromHexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

/// Kernel's `bytes21` validation id: type byte, then a validator address or a permission
/// id padded with zeros.
///
/// ```
/// use namera::kernel::{PermissionId, ValidationId};
/// let pid: PermissionId = "0xab65750b".parse()?;
/// assert_eq!(
///     ValidationId::permission(pid).to_string(),
///     "0x02ab65750b00000000000000000000000000000000",
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ValidationId(FixedBytes<21>);

impl ValidationId {
    /// `0x01 ‖ validator`.
    pub fn validator(validator: Address) -> Self {
        let mut b = [0u8; 21];
        b[0] = ValidationType::Validator.byte();
        b[1..].copy_from_slice(validator.as_slice());
        Self(FixedBytes(b))
    }

    /// `0x02 ‖ permissionId ‖ 0…0`.
    pub fn permission(id: PermissionId) -> Self {
        let mut b = [0u8; 21];
        b[0] = ValidationType::Permission.byte();
        b[1..5].copy_from_slice(id.as_bytes());
        Self(FixedBytes(b))
    }

    /// The raw `bytes21`.
    pub const fn into_inner(self) -> FixedBytes<21> {
        self.0
    }

    /// The type byte, when it is a known type.
    pub const fn validation_type(&self) -> Option<ValidationType> {
        ValidationType::from_byte(self.0.0[0])
    }

    /// The 20 bytes after the type byte, as they go into bytes 2..22 of a nonce key.
    pub fn identifier(&self) -> [u8; 20] {
        let mut out = [0u8; 20];
        out.copy_from_slice(&self.0[1..]);
        out
    }

    /// The validator address, for a validator id.
    pub fn validator_address(&self) -> Option<Address> {
        (self.validation_type() == Some(ValidationType::Validator))
            .then(|| Address::from(self.identifier()))
    }

    /// The permission id, for a permission id.
    pub fn permission_id(&self) -> Option<PermissionId> {
        (self.validation_type() == Some(ValidationType::Permission))
            .then(|| PermissionId(FixedBytes::from_slice(&self.0[1..5])))
    }
}

impl From<FixedBytes<21>> for ValidationId {
    fn from(b: FixedBytes<21>) -> Self {
        Self(b)
    }
}

impl fmt::Display for ValidationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

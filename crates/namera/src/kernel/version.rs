//! Kernel v3 versions and the per-version facts that change addresses and hashes.

use std::{fmt, str::FromStr};

use alloy_primitives::{Address, B256, address, b256};
use serde::{Deserialize, Serialize};

/// A Kernel v3 release that runs on EntryPoint v0.7.
///
/// The version decides the implementation and factory addresses (so the counterfactual
/// account address) and the EIP-712 domain version (so every enable signature).
///
/// ```
/// use namera::kernel::KernelVersion;
/// let v: KernelVersion = "0.3.1".parse()?;
/// assert_eq!(v, KernelVersion::V0_3_1);
/// assert_eq!(v.to_string(), "0.3.1");
/// # Ok::<(), namera::kernel::UnknownKernelVersion>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum KernelVersion {
    /// Kernel 0.3.1, the default: the version our devnet deploys.
    #[default]
    V0_3_1,
    /// Kernel 0.3.2.
    V0_3_2,
    /// Kernel 0.3.3.
    V0_3_3,
}

/// The text did not name a supported Kernel version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Kernel version {0:?}: expected one of 0.3.1, 0.3.2, 0.3.3")]
pub struct UnknownKernelVersion(pub String);

impl KernelVersion {
    /// Every supported version, oldest first.
    pub const ALL: [Self; 3] = [Self::V0_3_1, Self::V0_3_2, Self::V0_3_3];

    /// The version string, as used in the EIP-712 domain.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V0_3_1 => "0.3.1",
            Self::V0_3_2 => "0.3.2",
            Self::V0_3_3 => "0.3.3",
        }
    }

    /// The Kernel implementation every account proxy delegates to.
    pub const fn implementation(self) -> Address {
        match self {
            Self::V0_3_1 => address!("0xBAC849bB641841b44E965fB01A4Bf5F074f84b4D"),
            Self::V0_3_2 => address!("0xD830D15D3dc0C269F3dBAa0F3e8626d33CFdaBe1"),
            Self::V0_3_3 => address!("0xd6CEDDe84be40893d153Be9d467CD6aD37875b28"),
        }
    }

    /// The KernelFactory: the CREATE2 deployer of the account proxy.
    pub const fn factory(self) -> Address {
        match self {
            Self::V0_3_1 => address!("0xaac5D4240AF87249B3f71BC8E4A2cae074A3E419"),
            Self::V0_3_2 => address!("0x7a1dBAB750f12a90EB1B60D2Ae3aD17D4D81EfFe"),
            Self::V0_3_3 => address!("0x2577507b78c2008Ff367261CB6285d44ba5eF2E9"),
        }
    }

    /// keccak256 of the ERC-1967 proxy creation code for this implementation.
    ///
    /// Also derivable with [`crate::kernel::proxy_init_code`]; the constant is what the
    /// public docs list, and a unit test checks the two agree.
    pub const fn proxy_init_code_hash(self) -> B256 {
        match self {
            Self::V0_3_1 => {
                b256!("0x85d96aa1c9a65886d094915d76ccae85f14027a02c1647dde659f869460f03e6")
            }
            Self::V0_3_2 => {
                b256!("0xc7c48c9dd12de68b8a4689b6f8c8c07b61d4d6fa4ddecdd86a6980d045fa67eb")
            }
            Self::V0_3_3 => {
                b256!("0xc452397f1e7518f8cea0566ac057e243bb1643f6298aba8eec8cdee78ee3b3dd")
            }
        }
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KernelVersion {
    type Err = UnknownKernelVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownKernelVersion(s.to_owned()))
    }
}

impl Serialize for KernelVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for KernelVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

//! Counterfactual account address, `initialize` data and factory call data.
//!
//! A Kernel account is an ERC-1967 proxy CREATE2-deployed by the KernelFactory with
//! `salt = keccak256(initData ‖ index)`. Everything here is derivable offline, which is
//! what lets an account receive funds and have session keys issued before it exists.

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::SolCall;

use super::{
    KernelVersion, WebAuthnKey,
    abi::{IKernel, IKernelFactory, IMetaFactory},
    addresses::{ECDSA_VALIDATOR, META_FACTORY, MULTI_CHAIN_ECDSA_VALIDATOR, WEBAUTHN_VALIDATOR},
    validation::{ValidationId, ValidationType},
};

/// The validator an account is created with: it signs owner operations and approves
/// every session key.
///
/// ```
/// use alloy_primitives::address;
/// use namera::kernel::{RootValidator, addresses::ECDSA_VALIDATOR};
/// let owner = address!("0x4b7a2a0d0e46bf7f7507c77989d28a0a37cfe032");
/// assert_eq!(RootValidator::Ecdsa { owner }.address(), ECDSA_VALIDATOR);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RootValidator {
    /// An ECDSA (secp256k1) owner.
    Ecdsa {
        /// The owner's address.
        owner: Address,
    },
    /// An ECDSA owner through the multi-chain validator: one signature over a Merkle root
    /// approves the same thing on many chains.
    MultiChainEcdsa {
        /// The owner's address.
        owner: Address,
    },
    /// A passkey (P-256, WebAuthn) owner through the WebAuthn validator. There is no
    /// multi-chain WebAuthn validator: the owner approves a session key once per chain.
    WebAuthn(WebAuthnKey),
}

impl RootValidator {
    /// The validator contract.
    pub const fn address(&self) -> Address {
        match self {
            Self::Ecdsa { .. } => ECDSA_VALIDATOR,
            Self::MultiChainEcdsa { .. } => MULTI_CHAIN_ECDSA_VALIDATOR,
            Self::WebAuthn(_) => WEBAUTHN_VALIDATOR,
        }
    }

    /// The data passed to the validator's `onInstall`.
    pub fn validator_data(&self) -> Bytes {
        match self {
            Self::Ecdsa { owner } | Self::MultiChainEcdsa { owner } => {
                Bytes::copy_from_slice(owner.as_slice())
            }
            Self::WebAuthn(key) => key.data(),
        }
    }

    /// The owner address, for validators owned by a secp256k1 key (`None` for a passkey).
    pub const fn owner(&self) -> Option<Address> {
        match self {
            Self::Ecdsa { owner } | Self::MultiChainEcdsa { owner } => Some(*owner),
            Self::WebAuthn(_) => None,
        }
    }

    /// The passkey, for a WebAuthn root.
    pub const fn webauthn_key(&self) -> Option<&WebAuthnKey> {
        match self {
            Self::WebAuthn(key) => Some(key),
            _ => None,
        }
    }

    /// Whether one signature over a Merkle root can enable a session key on many chains.
    pub const fn is_multi_chain(&self) -> bool {
        matches!(self, Self::MultiChainEcdsa { .. })
    }

    /// The validation id of this validator (`0x01 ‖ address`).
    pub fn validation_id(&self) -> ValidationId {
        ValidationId::validator(self.address())
    }
}

/// How an undeployed account's `initCode` reaches the KernelFactory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FactoryRoute {
    /// Through the staked meta factory (`deployWithFactory`): what ZeroDev's SDK does by
    /// default, and what bundlers accept without the KernelFactory being staked itself.
    #[default]
    MetaFactory,
    /// Directly to the KernelFactory (`createAccount`).
    Direct,
}

/// Everything that fixes a Kernel account's address.
///
/// ```
/// use alloy_primitives::{U256, address};
/// use namera::kernel::{AccountConfig, KernelVersion, RootValidator};
/// let owner = address!("0x4b7a2a0d0e46bf7f7507c77989d28a0a37cfe032");
/// let account = AccountConfig::new(KernelVersion::V0_3_1, RootValidator::Ecdsa { owner }, U256::ZERO);
/// assert_eq!(
///     account.address(),
///     address!("0xc16ae5f9280de1a49acc5592f924dd46539c183d"),
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountConfig {
    /// The Kernel release.
    pub version: KernelVersion,
    /// The root validator and its owner.
    pub root: RootValidator,
    /// The account index: one owner can have many accounts.
    pub index: U256,
    /// How the first UserOperation deploys the account.
    pub route: FactoryRoute,
}

impl AccountConfig {
    /// An account deployed through the meta factory.
    pub const fn new(version: KernelVersion, root: RootValidator, index: U256) -> Self {
        Self { version, root, index, route: FactoryRoute::MetaFactory }
    }

    /// The same account, deployed by the given route (the address does not change).
    pub const fn with_route(mut self, route: FactoryRoute) -> Self {
        self.route = route;
        self
    }

    /// `initialize(rootValidator, hook, validatorData, hookData, initConfig)` call data.
    pub fn init_data(&self) -> Bytes {
        let root = self.root.validation_id();
        debug_assert_eq!(root.validation_type(), Some(ValidationType::Validator));
        IKernel::initializeCall {
            rootValidator: root.into_inner(),
            hook: Address::ZERO,
            validatorData: self.root.validator_data(),
            hookData: Bytes::new(),
            initConfig: Vec::new(),
        }
        .abi_encode()
        .into()
    }

    /// The index as the bytes32 the factories take.
    pub fn index_bytes(&self) -> B256 {
        B256::from(self.index)
    }

    /// `keccak256(initData ‖ index)`: the CREATE2 salt.
    pub fn salt(&self) -> B256 {
        let mut buf = self.init_data().to_vec();
        buf.extend_from_slice(self.index_bytes().as_slice());
        keccak256(buf)
    }

    /// The counterfactual address, the same before and after deployment.
    pub fn address(&self) -> Address {
        self.version.factory().create2(self.salt(), self.version.proxy_init_code_hash())
    }

    /// The UserOperation `factory` field for an undeployed account.
    pub const fn factory(&self) -> Address {
        match self.route {
            FactoryRoute::MetaFactory => META_FACTORY,
            FactoryRoute::Direct => self.version.factory(),
        }
    }

    /// The UserOperation `factoryData` field for an undeployed account.
    pub fn factory_data(&self) -> Bytes {
        match self.route {
            FactoryRoute::MetaFactory => IMetaFactory::deployWithFactoryCall {
                factory: self.version.factory(),
                createData: self.init_data(),
                salt: self.index_bytes(),
            }
            .abi_encode()
            .into(),
            FactoryRoute::Direct => IKernelFactory::createAccountCall {
                data: self.init_data(),
                salt: self.index_bytes(),
            }
            .abi_encode()
            .into(),
        }
    }

    /// The packed v0.7 `initCode`: `factory ‖ factoryData`.
    pub fn init_code(&self) -> Bytes {
        let mut out = self.factory().to_vec();
        out.extend_from_slice(&self.factory_data());
        out.into()
    }

    /// `factoryData` as ZeroDev's SDK writes it in a serialized session key; see
    /// [`factory_data_sdk_hex`].
    pub fn factory_data_sdk_hex(&self) -> String {
        factory_data_sdk_hex(&self.factory_data())
    }
}

/// Factory call data as ZeroDev's SDK writes it in a serialized session key: lowercase
/// hex except the root validator's address and a 20-byte owner in its validator data,
/// which keep their EIP-55 casing (the SDK splices checksummed address strings into the
/// call data). Byte-identical base64 interchange depends on this. Data of another shape
/// is written in lowercase.
pub fn factory_data_sdk_hex(data: &[u8]) -> String {
    let mut hex = alloy_primitives::hex::encode_prefixed(data);
    // Where initData starts inside the factory call: after the selector, the head words
    // and the length word of the `bytes` argument.
    let init_start = match data.get(..4) {
        Some(s) if s == IMetaFactory::deployWithFactoryCall::SELECTOR => 4 + 32 * 4,
        Some(s) if s == IKernelFactory::createAccountCall::SELECTOR => 4 + 32 * 3,
        _ => return hex,
    };
    let Some(init) = data.get(init_start..) else { return hex };
    let Ok(call) = IKernel::initializeCall::abi_decode(init) else { return hex };
    let Some(validator) = ValidationId::from(call.rootValidator).validator_address() else {
        return hex;
    };
    // initialize's head: selector, the bytes21 word (0x01 then the validator), and
    // validatorData whose length word sits at head offset 0xa0.
    let mut spans = vec![(init_start + 4 + 1, validator)];
    let owner_at = init_start + 4 + 0xa0 + 32;
    if let Ok(owner) = Address::try_from(call.validatorData.as_ref())
        && data.get(owner_at..owner_at + 20) == Some(owner.as_slice())
    {
        spans.push((owner_at, owner));
    }
    for (at, addr) in spans {
        let checksummed = addr.to_checksum(None);
        let start = 2 + at * 2;
        hex.replace_range(start..start + 40, &checksummed[2..]);
    }
    hex
}

impl AccountConfig {
    /// The Kernel version a KernelFactory address belongs to.
    pub fn version_of_factory(factory: Address) -> Option<KernelVersion> {
        KernelVersion::ALL.into_iter().find(|v| v.factory() == factory)
    }
}

/// Decoded `factoryData`: enough to rebuild an [`AccountConfig`] from a serialized key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFactoryData {
    /// The KernelFactory named or implied.
    pub kernel_factory: Address,
    /// The `initialize` call data.
    pub init_data: Bytes,
    /// The account index.
    pub index: U256,
    /// Which route the data takes.
    pub route: FactoryRoute,
}

/// `factoryData` was neither a `deployWithFactory` nor a `createAccount` call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("factory data is neither deployWithFactory nor createAccount call data: {0}")]
pub struct InvalidFactoryData(pub String);

impl DecodedFactoryData {
    /// Decode either factory call.
    pub fn decode(data: &[u8], version: KernelVersion) -> Result<Self, InvalidFactoryData> {
        if let Ok(call) = IMetaFactory::deployWithFactoryCall::abi_decode(data) {
            return Ok(Self {
                kernel_factory: call.factory,
                init_data: call.createData,
                index: call.salt.into(),
                route: FactoryRoute::MetaFactory,
            });
        }
        IKernelFactory::createAccountCall::abi_decode(data)
            .map(|call| Self {
                kernel_factory: version.factory(),
                init_data: call.data,
                index: call.salt.into(),
                route: FactoryRoute::Direct,
            })
            .map_err(|e| InvalidFactoryData(e.to_string()))
    }

    /// The root validator installed by the `initialize` call, when it is one we know.
    pub fn root_validator(&self) -> Result<RootValidator, InvalidFactoryData> {
        let init = IKernel::initializeCall::abi_decode(&self.init_data)
            .map_err(|e| InvalidFactoryData(format!("initialize: {e}")))?;
        let id = ValidationId::from(init.rootValidator);
        if id.validator_address() == Some(WEBAUTHN_VALIDATOR) {
            return WebAuthnKey::decode(&init.validatorData)
                .map(RootValidator::WebAuthn)
                .ok_or_else(|| InvalidFactoryData("validator data is not a WebAuthn key".into()));
        }
        let owner = Address::try_from(init.validatorData.as_ref())
            .map_err(|_| InvalidFactoryData("validator data is not a 20-byte owner".into()))?;
        match id.validator_address() {
            Some(a) if a == ECDSA_VALIDATOR => Ok(RootValidator::Ecdsa { owner }),
            Some(a) if a == MULTI_CHAIN_ECDSA_VALIDATOR => {
                Ok(RootValidator::MultiChainEcdsa { owner })
            }
            other => Err(InvalidFactoryData(format!("unsupported root validator {other:?}"))),
        }
    }
}

/// The ERC-1967 proxy creation code the KernelFactory deploys for `implementation`.
pub fn proxy_init_code(implementation: Address) -> Bytes {
    const HEAD: [u8; 9] = [0x60, 0x3d, 0x3d, 0x81, 0x60, 0x22, 0x3d, 0x39, 0x73];
    const TAIL: &str = "60095155f3363d3d373d3d363d7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc545af43d6000803e6038573d6000fd5b3d6000f3";
    let mut out = HEAD.to_vec();
    out.extend_from_slice(implementation.as_slice());
    // The constant is hex we wrote; decoding it cannot fail.
    out.extend(alloy_primitives::hex::decode(TAIL).expect("constant hex"));
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_init_code_hash_matches_listed_constants() {
        for v in KernelVersion::ALL {
            assert_eq!(keccak256(proxy_init_code(v.implementation())), v.proxy_init_code_hash());
        }
    }
}

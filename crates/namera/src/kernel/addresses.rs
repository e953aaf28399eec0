//! Canonical contract addresses, identical on every chain.
//!
//! These are the deployments ZeroDev's SDK targets. Keeping them in one place means the
//! devnet, the SDK and the tests cannot drift apart: the devnet places our own builds of
//! the plugins at exactly these addresses.

use alloy_primitives::{Address, address};

/// ERC-4337 EntryPoint v0.7.
pub const ENTRY_POINT_V07: Address = address!("0x0000000071727De22E5E9d8BAf0edAc6f37da032");
/// Deterministic deployment proxy (CREATE2 factory) present on most chains.
pub const DETERMINISTIC_DEPLOYER: Address = address!("0x4e59b44847b379578588920ca78fbf26c0b4956c");
/// Kernel meta factory (FactoryStaker): the UserOperation `factory` for every v3 version.
pub const META_FACTORY: Address = address!("0xd703aaE79538628d27099B8c4f621bE4CCd142d5");
/// ECDSA validator (Kernel v3.1+).
pub const ECDSA_VALIDATOR: Address = address!("0x845ADb2C711129d4f3966735eD98a9F09fC4cE57");
/// Multi-chain ECDSA validator: lets one owner signature over a Merkle root serve many chains.
pub const MULTI_CHAIN_ECDSA_VALIDATOR: Address =
    address!("0x5C97aA67Ba578E3c54ec5942A7563Ea9130E4f5F");
/// WebAuthn (passkey) validator, patched v0.0.3.
pub const WEBAUTHN_VALIDATOR: Address = address!("0x7ab16Ff354AcB328452F1D445b3Ddee9a91e9e69");
/// ECDSASigner: the permission signer for a secp256k1 session key.
pub const ECDSA_SIGNER: Address = address!("0x6A6F069E2a08c2468e7724Ab3250CdBFBA14D4FF");
/// WebAuthnSigner, patched v0.0.4: the permission signer for a passkey session key.
pub const WEBAUTHN_SIGNER: Address = address!("0x65DEeC8fEe717dc044D0CFD63cCf55F02cCaC2b3");
/// CallPolicy v0.0.4.
pub const CALL_POLICY_V0_0_4: Address = address!("0x9a52283276A0ec8740DF50bF01B28A80D880eaf2");
/// CallPolicy v0.0.5 (adds SLICE_EQUAL).
pub const CALL_POLICY_V0_0_5: Address = address!("0x85770b902D1e503D5f5141d9eaC16d0d08eEaDd2");
/// GasPolicy.
pub const GAS_POLICY: Address = address!("0xaeFC5AbC67FfD258abD0A3E54f65E70326F84b23");
/// TimestampPolicy.
pub const TIMESTAMP_POLICY: Address = address!("0xB9f8f524bE6EcD8C945b1b87f9ae5C192FdCE20F");
/// RateLimitPolicy.
pub const RATE_LIMIT_POLICY: Address = address!("0xf63d4139B25c836334edD76641356c6b74C86873");
/// SignatureCallerPolicy.
pub const SIGNATURE_CALLER_POLICY: Address = address!("0xF6A936c88D97E6fad13b98d2FD731Ff17eeD591d");
/// SudoPolicy.
pub const SUDO_POLICY: Address = address!("0x67b436caD8a6D025DF6C82C5BB43fbF11fC5B9B7");
/// Daimo P-256 verifier, the fallback where a chain has no P-256 precompile.
pub const DAIMO_P256_VERIFIER: Address = address!("0xc2b78104907F722DABAc4C69f826a522B2754De4");
/// RIP-7212 / EIP-7951 P-256 precompile.
pub const P256_PRECOMPILE: Address = address!("0x0000000000000000000000000000000000000100");

//! The protocol core: pure functions from typed values to the exact bytes Kernel v3 and
//! EntryPoint v0.7 expect, byte-identical with ZeroDev's TypeScript SDK.
//!
//! Nothing here does I/O. Chain state the encodings depend on (is the account deployed,
//! its `currentNonce`, the EntryPoint sequence) comes in as arguments.

pub mod abi;
mod account;
pub mod addresses;
mod execute;
mod nonce;
pub mod sign;
mod user_op;
mod validation;
mod version;
mod webauthn_key;

pub use account::{
    AccountConfig, DecodedFactoryData, FactoryRoute, InvalidFactoryData, RootValidator,
    factory_data_sdk_hex, proxy_init_code,
};
pub use execute::{Call, CallType, ExecType, Execution7579, ExecutionError, encode_calls};
pub use nonce::{LaneKey, NonceKey, ValidationMode};
pub use user_op::{Paymaster, UnpackError, UserOperation};
pub use validation::{PermissionId, ValidationId, ValidationType};
pub use version::{KernelVersion, UnknownKernelVersion};
pub use webauthn_key::WebAuthnKey;

//! Session keys: a permission, the account it acts for, and the owner's approval.

mod approval;
#[cfg(feature = "client")]
mod issue;
#[cfg(feature = "client")]
mod onchain;
mod serialized;

pub use approval::{ApprovalError, ChainApproval, ChainNonce, OwnerApproval};
#[cfg(all(feature = "client", feature = "passkey"))]
pub use issue::issue_with_passkey_owner;
#[cfg(feature = "client")]
pub use issue::{IssueError, issue};
#[cfg(feature = "client")]
pub(crate) use onchain::read_state;
#[cfg(feature = "client")]
pub use onchain::{
    KeyState, SignatureCheckError, approved_key_state, check_signature, explain_operation,
    key_state, nonces, revoke_all_call, revoke_call,
};
pub use serialized::{
    AccountParams, SerializedKeyError, SerializedSessionKey, SessionPrivateKey, ValidityData,
};

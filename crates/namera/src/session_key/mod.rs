//! Session keys: a permission, the account it acts for, and the owner's approval.

mod approval;
mod serialized;

pub use approval::{ApprovalError, ChainApproval, ChainNonce, OwnerApproval};
pub use serialized::{
    AccountParams, SerializedKeyError, SerializedSessionKey, SessionPrivateKey, ValidityData,
};

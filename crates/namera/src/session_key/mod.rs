//! Session keys: a permission, the account it acts for, and the owner's approval.

mod serialized;

pub use serialized::{
    AccountParams, SerializedKeyError, SerializedSessionKey, SessionPrivateKey, ValidityData,
};

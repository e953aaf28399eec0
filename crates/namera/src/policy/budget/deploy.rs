//! Where the budget policy lives: one address on every chain, through the deterministic
//! deployment proxy (CREATE2) with a fixed salt and the committed creation code.
//!
//! The creation code (`BudgetPolicy.initcode.hex`) is compiled from
//! `contracts/budget/src/BudgetPolicy.sol` by `contracts/budget/artifact.mjs` with the pinned
//! solc-js and fixed settings; `artifact.mjs --check` proves a fresh compile gives the same
//! bytes. Anyone can deploy it anywhere (no constructor, no owner): send
//! [`deployment_call_data`] to the proxy.

use alloy_primitives::{Address, B256, Bytes, address, keccak256};

use crate::kernel::addresses::DETERMINISTIC_DEPLOYER;

const INITCODE_HEX: &str = include_str!("BudgetPolicy.initcode.hex");

/// The CREATE2 salt (zero: the address depends on the code alone).
pub const BUDGET_POLICY_SALT: B256 = B256::ZERO;

/// The budget policy's address on every chain ([`budget_policy_address`], pinned; a test
/// checks the two agree, so a change to the contract cannot move it unnoticed).
pub const BUDGET_POLICY_ADDRESS: Address = address!("0xa105f2531c67d2530a285dc459a0ccbb379cc961");

/// The committed creation code.
pub fn budget_policy_initcode() -> Bytes {
    INITCODE_HEX.trim().parse().expect("BudgetPolicy.initcode.hex is hex")
}

/// `DETERMINISTIC_DEPLOYER.create2(salt, keccak256(initcode))`.
pub fn budget_policy_address() -> Address {
    DETERMINISTIC_DEPLOYER.create2(BUDGET_POLICY_SALT, keccak256(budget_policy_initcode()))
}

/// The call data for the deterministic deployment proxy: `salt ‖ initcode`.
pub fn deployment_call_data() -> Bytes {
    let mut out = BUDGET_POLICY_SALT.to_vec();
    out.extend_from_slice(&budget_policy_initcode());
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_address_is_the_create2_address_of_the_committed_code() {
        assert_eq!(budget_policy_address(), BUDGET_POLICY_ADDRESS);
        assert_eq!(&deployment_call_data()[..32], B256::ZERO.as_slice());
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PackedUserOperation, StatefulPolicy, packValidationData} from "./lib/Kernel7579.sol";

/// @title TimestampPolicy (Namera devnet implementation)
/// @notice Kernel v3 policy (type 5) limiting a permission to a time window.
///         Canonical address 0xB9f8f524bE6EcD8C945b1b87f9ae5C192FdCE20F.
///         initData: abi.encode(uint48 validAfter, uint48 validUntil); 0 = unbounded.
///         The window is returned as ERC-4337 validationData (validAfter << 208 | validUntil << 160);
///         the EntryPoint enforces it, so no TIMESTAMP opcode is used during validation.
///         ERC-1271 checks pass while active (as in the public plugin; Kernel itself applies
///         no time window to them through this policy).
contract TimestampPolicy is StatefulPolicy {
    struct Window {
        uint48 validAfter;
        uint48 validUntil;
    }

    /// @dev slot keccak(account ‖ keccak(id ‖ 2)): account-associated.
    mapping(bytes32 id => mapping(address account => Window)) public timestampPolicyConfig;

    function checkUserOpPolicy(bytes32 id, PackedUserOperation calldata) external payable returns (uint256) {
        _requireActive(id, msg.sender);
        Window memory w = timestampPolicyConfig[id][msg.sender];
        return packValidationData(w.validAfter, w.validUntil);
    }

    function _install(bytes32 id, bytes calldata payload) internal override {
        _activate(id);
        (uint48 validAfter, uint48 validUntil) = abi.decode(payload, (uint48, uint48));
        timestampPolicyConfig[id][msg.sender] = Window(validAfter, validUntil);
    }

    function _uninstall(bytes32 id, bytes calldata) internal override {
        _retire(id);
    }
}

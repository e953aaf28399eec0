// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPolicy, PackedUserOperation, PermissionModule, MODULE_TYPE_POLICY, VALIDATION_SUCCESS} from "./lib/Kernel7579.sol";

/// @title SudoPolicy (Namera devnet implementation)
/// @notice Kernel v3 policy (type 5) that allows everything. It only counts installs per account
///         (`usedIds`, `isInitialized`). Canonical address 0x67b436caD8a6D025DF6C82C5BB43fbF11fC5B9B7.
contract SudoPolicy is PermissionModule, IPolicy {
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_POLICY;
    }

    function checkUserOpPolicy(bytes32, PackedUserOperation calldata) external payable returns (uint256) {
        return VALIDATION_SUCCESS;
    }

    function checkSignaturePolicy(bytes32, address, bytes32, bytes calldata) external pure returns (uint256) {
        return VALIDATION_SUCCESS;
    }

    function _install(bytes32, bytes calldata) internal override {}

    function _uninstall(bytes32, bytes calldata) internal override {}
}

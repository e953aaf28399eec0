// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PackedUserOperation, StatefulPolicy, VALIDATION_SUCCESS, VALIDATION_FAILED} from "./lib/Kernel7579.sol";

/// @title SignatureCallerPolicy (Namera devnet implementation)
/// @notice Kernel v3 policy (type 5) restricting who may ask the account for ERC-1271 validation
///         through this permission. Canonical address 0xF6A936c88D97E6fad13b98d2FD731Ff17eeD591d.
///         initData: abi.encode(address[] allowedCallers).
///         checkSignaturePolicy passes iff `sender` (the ERC-1271 caller) is listed; UserOps always pass.
contract SignatureCallerPolicy is StatefulPolicy {
    /// @dev keyed with the account last: slot keccak(account ‖ keccak(caller ‖ keccak(id ‖ 2))).
    mapping(bytes32 id => mapping(address caller => mapping(address wallet => bool))) public allowedCaller;

    function checkUserOpPolicy(bytes32 id, PackedUserOperation calldata) external payable returns (uint256) {
        _requireActive(id, msg.sender);
        return VALIDATION_SUCCESS;
    }

    function checkSignaturePolicy(bytes32 id, address sender, bytes32, bytes calldata)
        external
        view
        override
        returns (uint256)
    {
        _requireActive(id, msg.sender);
        return allowedCaller[id][sender][msg.sender] ? VALIDATION_SUCCESS : VALIDATION_FAILED;
    }

    function _install(bytes32 id, bytes calldata payload) internal override {
        _activate(id);
        address[] memory callers = abi.decode(payload, (address[]));
        for (uint256 i = 0; i < callers.length; i++) {
            allowedCaller[id][callers[i]][msg.sender] = true;
        }
    }

    function _uninstall(bytes32 id, bytes calldata) internal override {
        _retire(id);
    }
}

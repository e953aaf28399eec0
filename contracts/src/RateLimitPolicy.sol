// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PackedUserOperation, StatefulPolicy, packValidationData, VALIDATION_FAILED} from "./lib/Kernel7579.sol";

/// @title RateLimitPolicy (Namera devnet implementation)
/// @notice Kernel v3 policy (type 5): at most `count` uses in total, spaced at least `interval` apart.
///         Canonical address 0xf63d4139B25c836334edD76641356c6b74C86873.
///         initData (packed, 18 bytes): uint48 interval ‖ uint48 count ‖ uint48 startAt.
///         Each use is returned valid from the current `startAt` (validationData validAfter, no expiry)
///         and moves `startAt` forward by `interval`; once `count` uses are spent every op gets 1 (fail).
///         No TIMESTAMP opcode: the EntryPoint judges validAfter. With startAt = 0 only `count` limits,
///         because the allowed start times lie in 1970.
contract RateLimitPolicy is StatefulPolicy {
    struct Limit {
        uint48 interval;
        uint48 count;
        uint48 startAt;
    }

    /// @dev slot keccak(account ‖ keccak(id ‖ 2)): account-associated.
    mapping(bytes32 id => mapping(address kernel => Limit)) public rateLimitConfigs;

    function checkUserOpPolicy(bytes32 id, PackedUserOperation calldata) external payable returns (uint256) {
        _requireActive(id, msg.sender);
        Limit storage l = rateLimitConfigs[id][msg.sender];
        Limit memory cur = l;
        if (cur.count == 0) return VALIDATION_FAILED;
        l.count = cur.count - 1;
        l.startAt = cur.startAt + cur.interval;
        return packValidationData(cur.startAt, 0);
    }

    function _install(bytes32 id, bytes calldata payload) internal override {
        _activate(id);
        rateLimitConfigs[id][msg.sender] = Limit({
            interval: uint48(bytes6(payload[0:6])),
            count: uint48(bytes6(payload[6:12])),
            startAt: uint48(bytes6(payload[12:18]))
        });
    }

    function _uninstall(bytes32 id, bytes calldata) internal override {
        _retire(id);
    }
}

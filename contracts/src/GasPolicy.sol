// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PackedUserOperation, StatefulPolicy, VALIDATION_SUCCESS, VALIDATION_FAILED} from "./lib/Kernel7579.sol";

/// @title GasPolicy (Namera devnet implementation)
/// @notice Kernel v3 policy (type 5): a wei budget for the gas a permission may spend.
///         Canonical address 0xaeFC5AbC67FfD258abD0A3E54f65E70326F84b23.
///         initData: abi.encode(uint128 allowed, bool enforcePaymaster, address allowedPaymaster).
///         Each UserOperation is charged its maximum cost,
///         (preVerificationGas + verificationGasLimit + callGasLimit) × maxFeePerGas
///         (paymaster gas limits are ignored), and refused (validationData 1) if that exceeds what is
///         left; otherwise the budget is reduced by that amount.
///         enforcePaymaster with allowedPaymaster ≠ 0: the op's paymaster must be that one (an op
///         without one — paymasterAndData shorter than 20 bytes — reverts with no data);
///         enforcePaymaster with allowedPaymaster = 0 checks nothing, like the public plugin.
///         The cost is computed first in checked 256-bit arithmetic (an overflow panics, 0x11) and
///         then cut to 128 bits, also as the public plugin does.
contract GasPolicy is StatefulPolicy {
    struct Budget {
        uint128 allowed;
        bool enforcePaymaster;
        address allowedPaymaster;
    }

    /// @dev slots keccak(account ‖ keccak(id ‖ 2)) + {0,1}: account-associated.
    mapping(bytes32 id => mapping(address account => Budget)) public gasPolicyConfig;

    function checkUserOpPolicy(bytes32 id, PackedUserOperation calldata userOp) external payable returns (uint256) {
        _requireActive(id, msg.sender);
        Budget storage b = gasPolicyConfig[id][msg.sender];

        uint256 verificationGasLimit = uint128(bytes16(userOp.accountGasLimits));
        uint256 callGasLimit = uint128(uint256(userOp.accountGasLimits));
        uint256 maxFeePerGas = uint128(uint256(userOp.gasFees));
        uint128 cost = uint128((userOp.preVerificationGas + verificationGasLimit + callGasLimit) * maxFeePerGas);

        if (b.enforcePaymaster && b.allowedPaymaster != address(0)) {
            if (address(bytes20(userOp.paymasterAndData[0:20])) != b.allowedPaymaster) return VALIDATION_FAILED;
        }
        if (cost > b.allowed) return VALIDATION_FAILED;
        b.allowed -= cost;
        return VALIDATION_SUCCESS;
    }

    function _install(bytes32 id, bytes calldata payload) internal override {
        _activate(id);
        (uint128 allowed, bool enforcePaymaster, address allowedPaymaster) =
            abi.decode(payload, (uint128, bool, address));
        gasPolicyConfig[id][msg.sender] = Budget(allowed, enforcePaymaster, allowedPaymaster);
    }

    function _uninstall(bytes32 id, bytes calldata) internal override {
        _retire(id);
    }
}

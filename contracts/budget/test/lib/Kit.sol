// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BudgetPolicy, PackedUserOperation, Execution} from "../../src/BudgetPolicy.sol";

/// A stand-in for a Kernel v3 account in the policy's eyes: it calls the policy (so the policy's
/// msg.sender is the account, as under Kernel), applies the returned window the way the
/// EntryPoint v0.7 does, and executes `execute(bytes32,bytes)` call data decoded exactly as
/// Kernel's ExecLib decodes it (calldata offsets, not abi.decode).
contract FakeKernel {
    error OutOfTimeRange(uint48 validAfter, uint48 validUntil, uint256 now_);
    error CallFailed(uint256 index, bytes reason);

    receive() external payable {}

    function install(BudgetPolicy policy, bytes calldata data) external {
        policy.onInstall(data);
    }

    function uninstall(BudgetPolicy policy, bytes calldata data) external {
        policy.onUninstall(data);
    }

    function check(BudgetPolicy policy, bytes32 id, PackedUserOperation calldata op) external returns (uint256) {
        return policy.checkUserOpPolicy(id, op);
    }

    /// The gas one policy check takes, the way Kernel calls it from validation.
    function checkGas(BudgetPolicy policy, bytes32 id, PackedUserOperation calldata op) external returns (uint256 used) {
        uint256 before = gasleft();
        policy.checkUserOpPolicy(id, op);
        used = before - gasleft();
    }

    function checkSignature(BudgetPolicy policy, bytes32 id) external view returns (uint256) {
        return policy.checkSignaturePolicy(id, address(0x1234), bytes32(uint256(7)), "");
    }

    /// Validation then execution in one transaction, like handleOps: anything failing reverts all.
    function handleOp(BudgetPolicy policy, bytes32 id, PackedUserOperation calldata op) external {
        uint256 vd = policy.checkUserOpPolicy(id, op);
        uint48 validUntil = uint48(vd >> 160);
        uint48 validAfter = uint48(vd >> 208);
        if (validUntil == 0) validUntil = type(uint48).max;
        if (block.timestamp > validUntil || block.timestamp < validAfter) {
            revert OutOfTimeRange(validAfter, validUntil, block.timestamp);
        }
        (bool ok, bytes memory ret) = address(this).call(op.callData);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    function execute(bytes32 mode, bytes calldata exec) external payable {
        require(msg.sender == address(this), "only self");
        bytes1 callType = mode[0];
        bool try_ = mode[1] == 0x01;
        if (callType == 0x00) {
            address target = address(bytes20(exec[0:20]));
            uint256 value = uint256(bytes32(exec[20:52]));
            (bool ok, bytes memory r) = target.call{value: value}(exec[52:]);
            if (!ok && !try_) revert CallFailed(0, r);
        } else if (callType == 0x01) {
            Execution[] calldata batch;
            assembly ("memory-safe") {
                let p := add(exec.offset, calldataload(exec.offset))
                batch.offset := add(p, 32)
                batch.length := calldataload(p)
            }
            for (uint256 i = 0; i < batch.length; i++) {
                (bool ok, bytes memory r) = batch[i].target.call{value: batch[i].value}(batch[i].callData);
                if (!ok && !try_) revert CallFailed(i, r);
            }
        } else {
            revert("Unsupported");
        }
    }
}

/// Builders for install data, call data and user operations.
library Kit {
    bytes4 internal constant EXECUTE = 0xe9ae5c53;
    address internal constant NATIVE = 0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE;

    function installData(
        bytes32 id,
        uint8 flags,
        uint32 opsMax,
        uint48 opsPeriod,
        uint48 opsStart,
        BudgetPolicy.LimitInit[] memory limits
    ) internal pure returns (bytes memory) {
        return abi.encodePacked(id, abi.encode(flags, opsMax, opsPeriod, opsStart, limits));
    }

    function one(address token, uint128 amount, uint48 period, uint48 start, bytes32 budget)
        internal
        pure
        returns (BudgetPolicy.LimitInit[] memory l)
    {
        l = new BudgetPolicy.LimitInit[](1);
        l[0] = BudgetPolicy.LimitInit(token, amount, period, start, budget);
    }

    function single(address target, uint256 value, bytes memory data) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(EXECUTE, bytes32(0), abi.encodePacked(target, value, data));
    }

    function batch(Execution[] memory calls) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(EXECUTE, bytes32(uint256(1) << 248), abi.encode(calls));
    }

    function withMode(bytes32 mode, bytes memory exec) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(EXECUTE, mode, exec);
    }

    function transfer(address to, uint256 amount) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(0xa9059cbb, to, amount);
    }

    function approve(address to, uint256 amount) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(0x095ea7b3, to, amount);
    }

    function op(address sender, bytes memory callData, bytes memory policySig)
        internal
        pure
        returns (PackedUserOperation memory o)
    {
        o.sender = sender;
        o.callData = callData;
        o.signature = policySig;
    }

    function at(uint48 t) internal pure returns (bytes memory) {
        return abi.encodePacked(t);
    }
}

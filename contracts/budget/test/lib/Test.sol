// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// The few forge cheatcodes these tests use (forge-std is not on the npm registry; this is ours).
interface Vm {
    struct DebugStep {
        uint256[] stack;
        bytes memoryInput;
        uint8 opcode;
        uint64 depth;
        bool isOutOfGas;
        address contractAddr;
    }

    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert() external;
    function assume(bool condition) external pure;
    function warp(uint256 timestamp) external;
    function deal(address who, uint256 amount) external;
    function startDebugTraceRecording() external;
    function stopAndReturnDebugTraceRecording() external returns (DebugStep[] memory steps);
    function toString(uint256 value) external pure returns (string memory);
    function readFile(string calldata path) external view returns (string memory);
    function parseBytes(string calldata value) external pure returns (bytes memory);
    function trim(string calldata input) external pure returns (string memory);
    function toString(bytes32 value) external pure returns (string memory);
}

/// Assertions that revert with what differed; a failing test is a reverting test.
abstract contract Test {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// forge's console (prints with -vv).
    function log(string memory what, uint256 value) internal view {
        address console = 0x000000000000000000636F6e736F6c652e6c6f67;
        (bool ok,) = console.staticcall(abi.encodeWithSignature("log(string,uint256)", what, value));
        ok;
    }

    function assertEq(uint256 a, uint256 b, string memory what) internal pure {
        if (a != b) revert(string.concat(what, ": ", vm.toString(a), " != ", vm.toString(b)));
    }

    function assertEq(bytes32 a, bytes32 b, string memory what) internal pure {
        if (a != b) revert(string.concat(what, ": ", vm.toString(a), " != ", vm.toString(b)));
    }

    function assertTrue(bool c, string memory what) internal pure {
        if (!c) revert(what);
    }

    function assertLe(uint256 a, uint256 b, string memory what) internal pure {
        if (a > b) revert(string.concat(what, ": ", vm.toString(a), " > ", vm.toString(b)));
    }

    /// x mapped into [lo, hi] (uniform enough for fuzzing, keeps every input usable).
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        if (hi < lo) revert("bound: hi < lo");
        if (hi - lo == type(uint256).max) return x;
        return lo + (x % (hi - lo + 1));
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BudgetPolicy, PackedUserOperation, Execution} from "../src/BudgetPolicy.sol";
import {TestToken} from "../src/TestToken.sol";
import {Test, Vm} from "./lib/Test.sol";
import {FakeKernel, Kit} from "./lib/Kit.sol";

/// ERC-7562 validation rules, checked on a recorded opcode trace of the policy's validation
/// (what a bundler's tracer sees): no banned opcode, no call out, and every storage slot read or
/// written is associated with the account — the account address itself, or keccak256 of an
/// input that starts with the account (as a 32-byte word) plus at most 128.
contract Erc7562Test is Test {
    BudgetPolicy policy;
    TestToken usd;
    FakeKernel account;
    bytes32 constant ID = bytes32(bytes4(0x11223344));
    bytes32 constant ID2 = bytes32(bytes4(0x55667788));
    uint48 constant START = 1_000_000;

    uint256 slotsChecked;
    uint256 stepsChecked;

    function setUp() public {
        policy = new BudgetPolicy();
        usd = new TestToken();
        account = new FakeKernel();
        vm.warp(START + 10);
        BudgetPolicy.LimitInit[] memory l = new BudgetPolicy.LimitInit[](8);
        l[0] = BudgetPolicy.LimitInit(address(usd), 1e12, 3600, START, "shared");
        l[1] = BudgetPolicy.LimitInit(Kit.NATIVE, 10 ether, 600, START, 0);
        for (uint256 i = 2; i < 8; i++) {
            l[i] = BudgetPolicy.LimitInit(address(uint160(0x1000 + i)), 1e6, 0, 0, bytes32(i % 2));
        }
        account.install(policy, Kit.installData(ID, 0, 100, 60, START, l));
        account.install(policy, Kit.installData(ID2, 1, 0, 0, 0, Kit.one(address(usd), 1e12, 3600, START, "shared")));
    }

    function _banned(uint8 op) internal pure returns (bool) {
        // GASPRICE GASLIMIT PREVRANDAO TIMESTAMP BASEFEE BLOCKHASH NUMBER SELFBALANCE BALANCE ORIGIN
        // COINBASE BLOBHASH BLOBBASEFEE CREATE CREATE2 SELFDESTRUCT, and every call / code read out
        return op == 0x3a || op == 0x45 || op == 0x44 || op == 0x42 || op == 0x48 || op == 0x40 || op == 0x43
            || op == 0x47 || op == 0x31 || op == 0x32 || op == 0x41 || op == 0x49 || op == 0x4a || op == 0xf0
            || op == 0xf5 || op == 0xff || op == 0xf1 || op == 0xf2 || op == 0xf4 || op == 0xfa || op == 0x3b
            || op == 0x3c || op == 0x3f || op == 0x5a || op == 0x5c || op == 0x5d;
    }

    function _checkTrace(Vm.DebugStep[] memory steps) internal {
        bytes32[] memory bases = new bytes32[](steps.length);
        uint256 nBases;
        uint256 sstores;
        for (uint256 i = 0; i < steps.length; i++) {
            Vm.DebugStep memory s = steps[i];
            if (s.contractAddr != address(policy)) continue;
            stepsChecked++;
            if (_banned(s.opcode)) revert(string.concat("banned opcode ", vm.toString(uint256(s.opcode))));
            if (s.opcode == 0x20 && s.memoryInput.length >= 32) {
                if (uint256(bytes32(s.memoryInput)) == uint256(uint160(address(account)))) {
                    bases[nBases++] = keccak256(s.memoryInput);
                }
            }
            if (s.opcode == 0x54 || s.opcode == 0x55) {
                if (s.opcode == 0x55) sstores++;
                uint256 slot = s.stack[0];
                bool ok = slot == uint256(uint160(address(account)));
                for (uint256 b = 0; b < nBases && !ok; b++) {
                    ok = slot >= uint256(bases[b]) && slot - uint256(bases[b]) <= 128;
                }
                if (!ok) revert(string.concat("slot not associated with the account: ", vm.toString(bytes32(slot))));
                slotsChecked++;
            }
        }
        assertTrue(sstores > 0, "the trace shows the counters being written");
    }

    function _traced(bytes32 id, bytes memory callData) internal {
        PackedUserOperation memory op = Kit.op(address(account), callData, Kit.at(uint48(block.timestamp)));
        vm.startDebugTraceRecording();
        account.check(policy, id, op);
        Vm.DebugStep[] memory steps = vm.stopAndReturnDebugTraceRecording();
        _checkTrace(steps);
    }

    function test_singleTransferFollowsErc7562() public {
        _traced(ID, Kit.single(address(usd), 1 ether, Kit.transfer(address(0xB0B), 5)));
        assertTrue(slotsChecked >= 6, "slots were checked");
    }

    function test_batchFollowsErc7562() public {
        Execution[] memory calls = new Execution[](10);
        for (uint256 i = 0; i < 10; i++) {
            calls[i] = Execution(address(usd), i, Kit.transfer(address(0xB0B), i + 1));
        }
        calls[3] = Execution(address(usd), 0, Kit.approve(address(0xB0B), 7));
        calls[4] = Execution(address(usd), 0, abi.encodeWithSelector(0x23b872dd, address(account), address(0xB0B), 1));
        calls[5] = Execution(address(0x1003), 0, Kit.transfer(address(0xB0B), 1));
        _traced(ID, Kit.batch(calls));
        _traced(ID2, Kit.single(address(usd), 0, Kit.transfer(address(0xB0B), 5)));
        assertTrue(stepsChecked > 1000, "the trace is not empty");
    }

    /// The checker itself catches a slot that is not the account's.
    function test_checkerCatchesUnassociatedSlot() public {
        vm.startDebugTraceRecording();
        policy.isInitialized(address(account)); // keccak(account ‖ 2): associated
        Vm.DebugStep[] memory steps = vm.stopAndReturnDebugTraceRecording();
        bool sawSload;
        for (uint256 i = 0; i < steps.length; i++) {
            if (steps[i].contractAddr == address(policy) && steps[i].opcode == 0x54) {
                steps[i].stack[0] += 129; // pretend it read just past the allowance
                sawSload = true;
            }
        }
        assertTrue(sawSload, "an SLOAD was recorded");
        vm.expectRevert();
        this.checkExternal(steps);
    }

    function checkExternal(Vm.DebugStep[] memory steps) external {
        _checkTrace(steps);
    }
}

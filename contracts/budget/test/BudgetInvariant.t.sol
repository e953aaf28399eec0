// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BudgetPolicy, PackedUserOperation, Execution} from "../src/BudgetPolicy.sol";
import {TestToken} from "../src/TestToken.sol";
import {Test} from "./lib/Test.sol";
import {FakeKernel, Kit} from "./lib/Kit.sol";

/// Drives one account with three kinds of session key through random operations: single calls
/// and batches of transfers, transferFroms, approvals, allowance increases, native sends and
/// refused selectors; signer times in the current, a past or a future period; time passing;
/// spenders pulling their allowances; and one key being revoked and re-issued. It measures
/// what actually left the account — balance decreases plus newly granted allowance — per
/// period of wall time, independently of the policy's own counters.
contract Handler is Test {
    uint48 public constant START = 1_000_000;
    uint48 public constant USD_PERIOD = 3600;
    uint48 public constant NATIVE_PERIOD = 600;
    uint48 public constant OPS_PERIOD = 300;
    uint128 public constant USD_LIMIT = 100e6;
    uint128 public constant NATIVE_LIMIT = 1 ether;
    uint32 public constant OPS_MAX = 3;

    BudgetPolicy public policy;
    TestToken public usd;
    FakeKernel public account;
    address[3] internal parties = [address(0xA11CE), address(0xB0B), address(0xCA201)];
    bytes32 public keyA = bytes32(bytes4(0xaaaa0001)); // shared usd + private native
    bytes32 public keyB = bytes32(bytes4(0xbbbb0001)); // shared usd + ops cap; re-issued at times

    mapping(uint256 => uint256) public usdOut; // per usd period
    mapping(uint256 => uint256) public nativeOut; // per native period
    mapping(bytes32 => mapping(uint256 => uint256)) public opsLanded; // per key, per ops period
    uint256 public violations;
    uint256 public landed;
    uint256 public reissues;

    constructor() {
        policy = new BudgetPolicy();
        usd = new TestToken();
        account = new FakeKernel();
        usd.mint(address(account), 1e15);
        vm.deal(address(account), 1_000 ether);
        BudgetPolicy.LimitInit[] memory a = new BudgetPolicy.LimitInit[](2);
        a[0] = BudgetPolicy.LimitInit(address(usd), USD_LIMIT, USD_PERIOD, START, "fleet");
        a[1] = BudgetPolicy.LimitInit(Kit.NATIVE, NATIVE_LIMIT, NATIVE_PERIOD, START, 0);
        account.install(policy, Kit.installData(keyA, 0, 0, 0, 0, a));
        _installB();
    }

    function _installB() internal {
        account.install(
            policy,
            Kit.installData(keyB, 0, OPS_MAX, OPS_PERIOD, START, Kit.one(address(usd), USD_LIMIT, USD_PERIOD, START, "fleet"))
        );
    }

    function _call(uint256 seed) internal view returns (Execution memory) {
        address who = parties[seed % 3];
        uint256 amount = (seed >> 8) % 70e6;
        uint256 kind = (seed >> 128) % 7;
        if (kind == 0 || kind == 1) return Execution(address(usd), 0, Kit.transfer(who, amount));
        if (kind == 2) return Execution(address(usd), 0, Kit.approve(who, amount));
        if (kind == 3) return Execution(address(usd), 0, abi.encodeWithSelector(0x39509351, who, amount));
        if (kind == 4) return Execution(address(usd), 0, abi.encodeWithSelector(0x23b872dd, address(account), who, amount));
        if (kind == 5) return Execution(who, amount * 1e10, ""); // up to 0.7 ether
        return Execution(address(usd), 0, abi.encodeWithSelector(0x40c10f19, who, amount)); // mint: refused
    }

    /// One operation of one key. Reverts (counted as a revert by forge) when it is refused.
    function act(uint256 seed, uint8 shape, bool useB, uint8 timeSel) external {
        bytes32 key = useB ? keyB : keyA;
        uint256 n = 1 + shape % 4;
        bytes memory callData;
        if (n == 1 && shape & 0x10 != 0) {
            Execution memory c = _call(seed);
            callData = Kit.single(c.target, c.value, c.callData);
        } else {
            Execution[] memory calls = new Execution[](n);
            for (uint256 i = 0; i < n; i++) {
                calls[i] = _call(uint256(keccak256(abi.encode(seed, i))));
            }
            callData = Kit.batch(calls);
        }
        uint256 t = block.timestamp;
        if (timeSel % 8 == 0) t = t > 4000 ? t - (seed % 4000) : t; // maybe a past period
        else if (timeSel % 8 == 1) t += seed % 4000; // maybe a future one

        uint256 balance = usd.balanceOf(address(account));
        uint256 native = address(account).balance;
        uint256[3] memory allowances;
        for (uint256 i = 0; i < 3; i++) {
            allowances[i] = usd.allowance(address(account), parties[i]);
        }
        account.handleOp(policy, key, Kit.op(address(account), callData, Kit.at(uint48(t))));

        uint256 out = balance - usd.balanceOf(address(account));
        for (uint256 i = 0; i < 3; i++) {
            uint256 now_ = usd.allowance(address(account), parties[i]);
            if (now_ > allowances[i]) out += now_ - allowances[i];
        }
        uint256 p = (block.timestamp - START) / USD_PERIOD;
        usdOut[p] += out;
        if (usdOut[p] > USD_LIMIT) violations++;
        uint256 q = (block.timestamp - START) / NATIVE_PERIOD;
        nativeOut[q] += native - address(account).balance;
        if (nativeOut[q] > NATIVE_LIMIT) violations++;
        if (useB) {
            uint256 r = (block.timestamp - START) / OPS_PERIOD;
            opsLanded[key][r] += 1;
            if (opsLanded[key][r] > OPS_MAX) violations++;
        }
        landed++;
    }

    /// Time passes (anything from a second to a few periods).
    function wait(uint256 dt) external {
        vm.warp(block.timestamp + bound(dt, 1, 3 * USD_PERIOD));
    }

    /// A spender uses part of its allowance (already counted when it was granted).
    function pull(uint256 seed) external {
        address who = parties[seed % 3];
        uint256 allowed = usd.allowance(address(account), who);
        if (allowed == 0) return;
        vm.prank(who);
        usd.transferFrom(address(account), who, 1 + (seed >> 8) % allowed);
    }

    /// Key B is revoked and a new key naming the same shared budget is issued.
    function reissue() external {
        account.uninstall(policy, abi.encodePacked(keyB));
        keyB = bytes32(uint256(keyB) + (uint256(1) << 224));
        _installB();
        reissues++;
    }
}

contract BudgetInvariantTest is Test {
    Handler handler;

    function setUp() public {
        vm.warp(1_000_000 + 1);
        handler = new Handler();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// In every period, what left the account is at most the limit (and the operation cap holds).
    function invariant_outflowsWithinLimits() public view {
        assertEq(handler.violations(), 0, "violations");
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BudgetPolicy, PackedUserOperation, Execution} from "../src/BudgetPolicy.sol";
import {TestToken} from "../src/TestToken.sol";
import {Test} from "./lib/Test.sol";
import {FakeKernel, Kit} from "./lib/Kit.sol";

/// One test per rule of the policy (see docs/budgets.md).
contract BudgetPolicyTest is Test {
    BudgetPolicy policy;
    TestToken usd;
    TestToken other;
    FakeKernel account;
    address constant BOB = address(0xB0B);
    address constant NATIVE = Kit.NATIVE;
    bytes32 constant ID = bytes32(bytes4(0x11223344));
    bytes32 constant ID2 = bytes32(bytes4(0x55667788));
    uint48 constant START = 1_000_000;
    uint48 constant DAY = 86_400;

    function setUp() public {
        policy = new BudgetPolicy();
        usd = new TestToken();
        other = new TestToken();
        account = new FakeKernel();
        usd.mint(address(account), 1_000e6);
        vm.deal(address(account), 100 ether);
        vm.warp(START + 10);
    }

    // ---------------------------------------------------------------- helpers

    function _install(bytes32 id, uint8 flags, BudgetPolicy.LimitInit[] memory limits) internal {
        account.install(policy, Kit.installData(id, flags, 0, 0, 0, limits));
    }

    function _usdLimit(uint128 amount) internal view returns (BudgetPolicy.LimitInit[] memory) {
        return Kit.one(address(usd), amount, DAY, START, bytes32(0));
    }

    function _op(bytes memory callData) internal view returns (PackedUserOperation memory) {
        return Kit.op(address(account), callData, Kit.at(uint48(block.timestamp)));
    }

    function _send(bytes32 id, bytes memory callData) internal returns (uint256) {
        return account.check(policy, id, _op(callData));
    }

    function _usdTransfer(uint256 amount) internal view returns (bytes memory) {
        return Kit.single(address(usd), 0, Kit.transfer(BOB, amount));
    }

    function _window(uint48 from, uint48 until) internal pure returns (uint256) {
        return (uint256(from) << 208) | (uint256(until) << 160);
    }

    // ---------------------------------------------------------------- module surface

    /// What these tests run is what deploys: the committed creation code (the CREATE2
    /// address's input) is byte for byte the code forge compiled and tested here.
    function test_committedCreationCodeIsTheTestedCode() public view {
        string memory hexText = vm.readFile("../../crates/namera/src/policy/budget/BudgetPolicy.initcode.hex");
        bytes memory committed = vm.parseBytes(vm.trim(hexText));
        assertEq(keccak256(committed), keccak256(type(BudgetPolicy).creationCode), "creation code");
    }

    function test_moduleType() public view {
        assertTrue(policy.isModuleType(5), "type 5");
        assertTrue(!policy.isModuleType(1), "not type 1");
    }

    function test_installStoresConfig() public {
        assertTrue(!policy.isInitialized(address(account)), "fresh");
        BudgetPolicy.LimitInit[] memory l = new BudgetPolicy.LimitInit[](2);
        l[0] = BudgetPolicy.LimitInit(address(usd), 100e6, DAY, START, bytes32(0));
        l[1] = BudgetPolicy.LimitInit(NATIVE, 1 ether, 0, 0, "team");
        account.install(policy, Kit.installData(ID, 3, 5, 3600, START, l));
        assertTrue(policy.isInitialized(address(account)), "initialized");
        (bool installed, uint8 flags, uint32 opsMax, uint48 opsPeriod, uint48 opsStart, BudgetPolicy.Limit[] memory got) =
            policy.config(ID, address(account));
        assertTrue(installed, "installed");
        assertEq(flags, 3, "flags");
        assertEq(opsMax, 5, "opsMax");
        assertEq(opsPeriod, 3600, "opsPeriod");
        assertEq(opsStart, START, "opsStart");
        assertEq(got.length, 2, "count");
        assertEq(uint160(got[1].token), uint160(NATIVE), "token");
        assertEq(got[0].amount, 100e6, "amount");
        assertEq(got[1].budget, bytes32("team"), "budget");
        (bool set, uint128 amount,,,,) = policy.sharedBudget("team", NATIVE, address(account));
        assertTrue(set, "shared set");
        assertEq(amount, 1 ether, "shared amount");
    }

    function test_installRefusals() public {
        vm.expectRevert(BudgetPolicy.InstallDataTooShort.selector);
        account.install(policy, hex"1122");
        BudgetPolicy.LimitInit[] memory nine = new BudgetPolicy.LimitInit[](9);
        for (uint256 i = 0; i < 9; i++) {
            nine[i] = BudgetPolicy.LimitInit(address(uint160(i + 1)), 1, 0, 0, 0);
        }
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.TooManyLimits.selector, 9));
        _install(ID, 0, nine);
        BudgetPolicy.LimitInit[] memory dup = new BudgetPolicy.LimitInit[](2);
        dup[0] = BudgetPolicy.LimitInit(address(usd), 1, 0, 0, 0);
        dup[1] = BudgetPolicy.LimitInit(address(usd), 2, 0, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.DuplicateToken.selector, 1, address(usd)));
        _install(ID, 0, dup);
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.InvalidToken.selector, 0));
        _install(ID, 0, Kit.one(address(0), 1, 0, 0, 0));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.UnknownFlags.selector, 4));
        _install(ID, 4, _usdLimit(1));
        _install(ID, 0, _usdLimit(1));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.AlreadyInstalled.selector, ID, address(account)));
        _install(ID, 0, _usdLimit(1));
    }

    // ---------------------------------------------------------------- counting

    function test_transferChargedThenExceeded() public {
        _install(ID, 0, _usdLimit(100e6));
        uint256 vd = _send(ID, _usdTransfer(60e6));
        assertEq(vd, _window(START, START + DAY - 1), "window of the period");
        (uint48 index, uint128 used) = policy.counter(ID, address(account), 0);
        assertEq(index, 0, "period index");
        assertEq(used, 60e6, "used");
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.BudgetExceeded.selector, 0, address(usd), bytes32(0), 60e6, 60e6, 100e6)
        );
        _send(ID, _usdTransfer(60e6));
        _send(ID, _usdTransfer(40e6)); // exactly the rest
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.BudgetExceeded.selector, 0, address(usd), bytes32(0), 100e6, 1, 100e6)
        );
        _send(ID, _usdTransfer(1));
    }

    function test_batchIsSummed() public {
        _install(ID, 0, _usdLimit(100e6));
        Execution[] memory calls = new Execution[](3);
        for (uint256 i = 0; i < 3; i++) {
            calls[i] = Execution(address(usd), 0, Kit.transfer(BOB, 40e6));
        }
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.BudgetExceeded.selector, 0, address(usd), bytes32(0), 0, 120e6, 100e6)
        );
        _send(ID, Kit.batch(calls));
        Execution[] memory two = new Execution[](2);
        two[0] = calls[0];
        two[1] = calls[1];
        _send(ID, Kit.batch(two));
        (, uint128 used) = policy.counter(ID, address(account), 0);
        assertEq(used, 80e6, "two of three");
    }

    function test_approvalsAreSpends() public {
        _install(ID, 0, _usdLimit(100e6));
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.BudgetExceeded.selector, 0, address(usd), bytes32(0), 0, 200e6, 100e6)
        );
        _send(ID, Kit.single(address(usd), 0, Kit.approve(BOB, 200e6)));
        _send(ID, Kit.single(address(usd), 0, Kit.approve(BOB, 0))); // revoking costs nothing
        _send(ID, Kit.single(address(usd), 0, abi.encodeWithSelector(0x39509351, BOB, 30e6)));
        _send(ID, Kit.single(address(usd), 0, Kit.approve(BOB, 50e6)));
        (, uint128 used) = policy.counter(ID, address(account), 0);
        assertEq(used, 80e6, "increaseAllowance 30 + approve 50");
    }

    function test_transferFrom() public {
        _install(ID, 0, _usdLimit(100e6));
        _send(ID, Kit.single(address(usd), 0, abi.encodeWithSelector(0x23b872dd, address(account), BOB, 70e6)));
        (, uint128 used) = policy.counter(ID, address(account), 0);
        assertEq(used, 70e6, "from the account is charged");
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.TransferFromOther.selector, 0, address(usd), address(0xCAFE))
        );
        _send(ID, Kit.single(address(usd), 0, abi.encodeWithSelector(0x23b872dd, address(0xCAFE), BOB, 1)));
        // an address word with dirty high bits is not the account
        bytes memory dirty = abi.encodeWithSelector(0x23b872dd, address(account), BOB, 1);
        dirty[4] = 0x01;
        vm.expectRevert();
        _send(ID, Kit.single(address(usd), 0, dirty));
    }

    function test_tokenSelectorsAndShortData() public {
        _install(ID, 0, _usdLimit(100e6));
        bytes4 burn = bytes4(keccak256("burn(uint256)"));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.SelectorRefused.selector, 0, address(usd), burn));
        _send(ID, Kit.single(address(usd), 0, abi.encodeWithSelector(burn, 1)));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.SelectorRefused.selector, 0, address(usd), bytes4(0)));
        _send(ID, Kit.single(address(usd), 0, ""));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.SelectorRefused.selector, 0, address(usd), bytes4(0)));
        _send(ID, Kit.single(address(usd), 0, hex"a905"));
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.MalformedTokenCall.selector, 0, address(usd), bytes4(0xa9059cbb))
        );
        _send(ID, Kit.single(address(usd), 0, abi.encodePacked(bytes4(0xa9059cbb), bytes32(uint256(uint160(BOB))), bytes31(0))));
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.MalformedTokenCall.selector, 0, address(usd), bytes4(0x23b872dd))
        );
        _send(ID, Kit.single(address(usd), 0, abi.encodePacked(bytes4(0x23b872dd), bytes32(0), bytes32(0))));
    }

    function test_callShapes() public {
        _install(ID, 0, _usdLimit(100e6));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.NotExecute.selector, bytes4(0x12345678)));
        _send(ID, abi.encodeWithSelector(0x12345678, 1));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.NotExecute.selector, bytes4(0)));
        _send(ID, hex"e9ae");
        bytes memory exec = abi.encodePacked(address(usd), uint256(0), Kit.transfer(BOB, 1));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.UnsupportedCallType.selector, bytes1(0xff)));
        _send(ID, Kit.withMode(bytes32(uint256(0xff) << 248), abi.encodePacked(address(usd), Kit.transfer(BOB, 1))));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.UnsupportedCallType.selector, bytes1(0xfe)));
        _send(ID, Kit.withMode(bytes32(uint256(0xfe) << 248), exec));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.UnsupportedExecType.selector, bytes1(0x02)));
        _send(ID, Kit.withMode(bytes32(uint256(0x02) << 240), exec));
        _send(ID, Kit.withMode(bytes32(uint256(0x01) << 240), exec)); // try-execute is counted the same
        vm.expectRevert(BudgetPolicy.MalformedCallData.selector);
        _send(ID, Kit.withMode(bytes32(0), abi.encodePacked(address(usd), uint128(0))));
        // a batch whose offsets point outside its bytes
        bytes memory bad = abi.encode(uint256(0x20), uint256(1), uint256(0x1000));
        vm.expectRevert();
        _send(ID, Kit.withMode(bytes32(uint256(1) << 248), bad));
    }

    function test_selfCallRefused() public {
        _install(ID, FLAG_ALL, _usdLimit(100e6));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.SelfCall.selector, 0));
        _send(ID, Kit.single(address(account), 0, hex"1f1b92e3"));
        Execution[] memory calls = new Execution[](2);
        calls[0] = Execution(address(usd), 0, Kit.transfer(BOB, 1));
        calls[1] = Execution(address(account), 0, "");
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.SelfCall.selector, 1));
        _send(ID, Kit.batch(calls));
    }

    uint8 constant FLAG_ALL = 3;

    function test_native() public {
        BudgetPolicy.LimitInit[] memory l = new BudgetPolicy.LimitInit[](2);
        l[0] = BudgetPolicy.LimitInit(address(usd), 100e6, DAY, START, 0);
        l[1] = BudgetPolicy.LimitInit(NATIVE, 1 ether, DAY, START, 0);
        _install(ID, 0, l);
        _send(ID, Kit.single(BOB, 0.4 ether, ""));
        // value sent with a token call is charged to native, the token call to the token
        _send(ID, Kit.single(address(usd), 0.5 ether, Kit.transfer(BOB, 10e6)));
        (, uint128 nativeUsed) = policy.counter(ID, address(account), 1);
        (, uint128 usdUsed) = policy.counter(ID, address(account), 0);
        assertEq(nativeUsed, 0.9 ether, "native");
        assertEq(usdUsed, 10e6, "usd");
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.BudgetExceeded.selector, 1, NATIVE, bytes32(0), 0.9 ether, 0.2 ether, 1 ether)
        );
        _send(ID, Kit.single(BOB, 0.2 ether, ""));
        // a call to the ERC-7528 address itself with data is not a token call
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.TargetNotBudgeted.selector, 0, NATIVE));
        _send(ID, Kit.single(NATIVE, 0, Kit.transfer(BOB, 1)));
    }

    function test_nativeWithoutLimitRefused() public {
        _install(ID, 0, _usdLimit(100e6));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.NativeNotBudgeted.selector, 0, 1));
        _send(ID, Kit.single(BOB, 1, ""));
    }

    function test_otherTargets() public {
        _install(ID, 0, _usdLimit(100e6));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.TargetNotBudgeted.selector, 0, address(other)));
        _send(ID, Kit.single(address(other), 0, Kit.transfer(BOB, 1)));
        _send(ID, Kit.single(BOB, 0, "")); // empty call without value moves nothing
        _install(ID2, 2, _usdLimit(100e6));
        _send(ID2, Kit.single(address(other), 0, Kit.transfer(BOB, 1)));
    }

    // ---------------------------------------------------------------- time

    function test_timeRules() public {
        _install(ID, 0, _usdLimit(100e6));
        vm.expectRevert(BudgetPolicy.TimeMissing.selector);
        account.check(policy, ID, Kit.op(address(account), _usdTransfer(1), ""));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.MalformedPolicySignature.selector, 5));
        account.check(policy, ID, Kit.op(address(account), _usdTransfer(1), hex"0000000000"));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.PeriodNotStarted.selector, 0, START, START - 1));
        account.check(policy, ID, Kit.op(address(account), _usdTransfer(1), Kit.at(START - 1)));
        // period 3: window [START + 3 DAY, START + 4 DAY - 1]
        uint48 t = START + 3 * DAY + 5;
        uint256 vd = account.check(policy, ID, Kit.op(address(account), _usdTransfer(100e6), Kit.at(t)));
        assertEq(vd, _window(START + 3 * DAY, START + 4 * DAY - 1), "period 3 window");
        // an older period can no longer be charged
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.PeriodPassed.selector, 0, 3, 2));
        account.check(policy, ID, Kit.op(address(account), _usdTransfer(1), Kit.at(START + 2 * DAY)));
        // the next period starts afresh
        account.check(policy, ID, Kit.op(address(account), _usdTransfer(100e6), Kit.at(START + 4 * DAY)));
        (uint48 index, uint128 used) = policy.counter(ID, address(account), 0);
        assertEq(index, 4, "index");
        assertEq(used, 100e6, "used");
    }

    function test_lifetimeLimitNeedsNoTime() public {
        _install(ID, 0, Kit.one(address(usd), 100e6, 0, 0, 0));
        uint256 vd = account.check(policy, ID, Kit.op(address(account), _usdTransfer(100e6), ""));
        assertEq(vd, 0, "no window");
        vm.warp(START + 400 * DAY);
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.BudgetExceeded.selector, 0, address(usd), bytes32(0), 100e6, 1, 100e6)
        );
        _send(ID, _usdTransfer(1));
    }

    function test_windowsIntersect() public {
        BudgetPolicy.LimitInit[] memory l = new BudgetPolicy.LimitInit[](2);
        l[0] = BudgetPolicy.LimitInit(address(usd), 100e6, DAY, START, 0);
        l[1] = BudgetPolicy.LimitInit(NATIVE, 1 ether, 3600, START + 60, 0);
        account.install(policy, Kit.installData(ID, 0, 10, 600, START + 30, l));
        uint48 t = START + 7200 + 100; // usd period 0, native period 2 [START+7260, +3599], ops period 12 [START+7230, +599]
        uint256 vd = account.check(policy, ID, Kit.op(address(account), Kit.single(address(usd), 1, Kit.transfer(BOB, 1)), Kit.at(t)));
        assertEq(vd, _window(START + 7260, START + 7230 + 599), "latest start, earliest end");
        // an op touching only the token is bounded by the token's and the op counter's windows
        vd = account.check(policy, ID, Kit.op(address(account), _usdTransfer(1), Kit.at(t)));
        assertEq(vd, _window(START + 7230, START + 7230 + 599), "token and ops");
    }

    // ---------------------------------------------------------------- operations per period

    function test_opsPerPeriod() public {
        account.install(policy, Kit.installData(ID, 0, 2, 60, START, new BudgetPolicy.LimitInit[](0)));
        uint48 t = START + 10;
        bytes memory noop = Kit.single(BOB, 0, "");
        assertEq(account.check(policy, ID, Kit.op(address(account), noop, Kit.at(t))), _window(START, START + 59), "1st");
        account.check(policy, ID, Kit.op(address(account), noop, Kit.at(t)));
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.TooManyOperations.selector, 2, 2));
        account.check(policy, ID, Kit.op(address(account), noop, Kit.at(t)));
        assertEq(account.check(policy, ID, Kit.op(address(account), noop, Kit.at(START + 60))), _window(START + 60, START + 119), "next period");
        // a refused op (here: a refused call) does not use up the count
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.NativeNotBudgeted.selector, 0, 1));
        account.check(policy, ID, Kit.op(address(account), Kit.single(BOB, 1, ""), Kit.at(START + 60)));
        account.check(policy, ID, Kit.op(address(account), noop, Kit.at(START + 61)));
    }

    // ---------------------------------------------------------------- sharing and lifecycle

    function test_sharedBudget() public {
        BudgetPolicy.LimitInit[] memory l = Kit.one(address(usd), 100e6, DAY, START, "agents");
        _install(ID, 0, l);
        _install(ID2, 0, l);
        _send(ID, _usdTransfer(60e6));
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.BudgetExceeded.selector, 0, address(usd), bytes32("agents"), 60e6, 60e6, 100e6)
        );
        _send(ID2, _usdTransfer(60e6));
        _send(ID2, _usdTransfer(40e6));
        (,,,, uint48 index, uint128 used) = policy.sharedBudget("agents", address(usd), address(account));
        assertEq(index, 0, "index");
        assertEq(used, 100e6, "one counter for both keys");
        // a key naming the budget with other settings cannot join
        bytes32 id3 = bytes32(bytes4(0x99999999));
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.SharedBudgetMismatch.selector, bytes32("agents"), address(usd), 100e6, DAY, START)
        );
        _install(id3, 0, Kit.one(address(usd), 200e6, DAY, START, "agents"));
        // the same name for another token is another budget
        _install(id3, 0, Kit.one(address(other), 5, DAY, START, "agents"));
    }

    function test_uninstallClearsPrivateKeepsShared() public {
        BudgetPolicy.LimitInit[] memory l = new BudgetPolicy.LimitInit[](2);
        l[0] = BudgetPolicy.LimitInit(address(usd), 100e6, DAY, START, "agents");
        l[1] = BudgetPolicy.LimitInit(NATIVE, 1 ether, DAY, START, 0);
        _install(ID, 0, l);
        _send(ID, Kit.single(address(usd), 0.7 ether, Kit.transfer(BOB, 70e6)));
        account.uninstall(policy, abi.encodePacked(ID));
        assertTrue(!policy.isInitialized(address(account)), "no permission left");
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.NotInstalled.selector, ID, address(account)));
        _send(ID, _usdTransfer(1));
        assertEq(account.checkSignature(policy, ID), 1, "signature refused after uninstall");
        account.uninstall(policy, abi.encodePacked(ID)); // again: no revert, nothing changes
        // re-issued: the private native counter starts fresh, the shared budget continues
        _install(ID, 0, l);
        (, uint128 nativeUsed) = policy.counter(ID, address(account), 1);
        assertEq(nativeUsed, 0, "private counter cleared");
        vm.expectRevert(
            abi.encodeWithSelector(BudgetPolicy.BudgetExceeded.selector, 0, address(usd), bytes32("agents"), 70e6, 31e6, 100e6)
        );
        _send(ID, _usdTransfer(31e6));
        _send(ID, Kit.single(address(usd), 1 ether, Kit.transfer(BOB, 30e6)));
    }

    function test_signaturePolicy() public {
        _install(ID, 0, _usdLimit(1));
        _install(ID2, 1, _usdLimit(1));
        assertEq(account.checkSignature(policy, ID), 1, "refused by default");
        assertEq(account.checkSignature(policy, ID2), 0, "allowed by flag");
        assertEq(account.checkSignature(policy, bytes32(bytes4(0xdeadbeef))), 1, "unknown id");
    }

    function test_otherAccountsAreSeparate() public {
        _install(ID, 0, _usdLimit(100e6));
        FakeKernel second = new FakeKernel();
        vm.expectRevert(abi.encodeWithSelector(BudgetPolicy.NotInstalled.selector, ID, address(second)));
        second.check(policy, ID, Kit.op(address(second), _usdTransfer(1), Kit.at(START + 10)));
    }

    // ---------------------------------------------------------------- end to end (validate + execute)

    function test_handleOpMovesWhatWasCounted() public {
        _install(ID, 0, _usdLimit(100e6));
        account.handleOp(policy, ID, _op(_usdTransfer(60e6)));
        assertEq(usd.balanceOf(BOB), 60e6, "landed");
        // a time from the next period is charged there, and the window refuses it now
        vm.expectRevert(abi.encodeWithSelector(FakeKernel.OutOfTimeRange.selector, START + DAY, START + 2 * DAY - 1, block.timestamp));
        account.handleOp(policy, ID, Kit.op(address(account), _usdTransfer(60e6), Kit.at(START + DAY)));
        vm.warp(START + DAY + 1);
        account.handleOp(policy, ID, _op(_usdTransfer(60e6)));
        assertEq(usd.balanceOf(BOB), 120e6, "next period");
    }

    // ---------------------------------------------------------------- fuzz

    /// Any amounts, any split into single ops and batches within one period: what is accepted
    /// sums to at most the limit, and everything up to the limit is accepted.
    function testFuzz_acceptedNeverExceedsLimit(uint128 limit, uint256[8] memory amounts, uint8 batchMask) public {
        limit = uint128(bound(limit, 0, 1e30));
        _install(ID, 0, _usdLimit(limit));
        uint256 accepted;
        for (uint256 i = 0; i < 8; i++) {
            uint256 a = bound(amounts[i], 0, uint256(limit) * 2 + 1);
            bytes memory cd;
            if (batchMask & (1 << i) != 0) {
                Execution[] memory calls = new Execution[](2);
                calls[0] = Execution(address(usd), 0, Kit.transfer(BOB, a / 2));
                calls[1] = Execution(address(usd), 0, Kit.approve(BOB, a - a / 2));
                cd = Kit.batch(calls);
            } else {
                cd = _usdTransfer(a);
            }
            try account.check(policy, ID, _op(cd)) {
                accepted += a;
            } catch (bytes memory reason) {
                assertEq(bytes32(bytes4(reason)), bytes32(BudgetPolicy.BudgetExceeded.selector), "only refusal");
                assertTrue(accepted + a > limit, "refused though within the limit");
            }
        }
        assertLe(accepted, limit, "accepted");
        (, uint128 used) = policy.counter(ID, address(account), 0);
        assertEq(used, accepted, "counter = accepted");
    }

    /// The returned window always contains the signer's time and is exactly its period.
    function testFuzz_windowContainsTime(uint48 period, uint48 start, uint48 t) public {
        period = uint48(bound(period, 1, 400 days));
        start = uint48(bound(start, 1, type(uint40).max));
        t = uint48(bound(t, start, type(uint40).max + uint256(start)));
        _install(ID, 0, Kit.one(address(usd), 1, period, start, 0));
        uint256 vd = account.check(policy, ID, Kit.op(address(account), _usdTransfer(1), Kit.at(t)));
        uint256 from = uint48(vd >> 208);
        uint256 until = uint48(vd >> 160);
        assertTrue(from <= t && t <= until, "contains t");
        assertEq(until - from + 1, period, "one period");
        assertEq((from - start) % period, 0, "aligned");
    }

    /// Random bytes as call data never pass without being counted: either refused, or every
    /// token amount the executor would move was charged.
    function testFuzz_garbageCallData(bytes calldata junk, bytes32 mode) public {
        _install(ID, 0, _usdLimit(1e6));
        bytes memory cd = abi.encodePacked(bytes4(0xe9ae5c53), mode, junk);
        uint256 before = usd.balanceOf(address(account));
        try account.handleOp(policy, ID, _op(cd)) {
            (, uint128 used) = policy.counter(ID, address(account), 0);
            assertLe(before - usd.balanceOf(address(account)), used, "moved more than charged");
        } catch {}
    }
}

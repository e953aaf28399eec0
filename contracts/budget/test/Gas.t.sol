// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BudgetPolicy, PackedUserOperation, Execution} from "../src/BudgetPolicy.sol";
import {TestToken} from "../src/TestToken.sol";
import {CallPolicyV4} from "standins/CallPolicy.sol";
import {Test} from "./lib/Test.sol";
import {FakeKernel, Kit} from "./lib/Kit.sol";

/// Validation gas of the budget policy next to the call policy (our CallPolicy 0.0.4 stand-in)
/// for the same operations: one ERC-20 transfer, and a batch of 10. Each number is the gas of
/// the policy call as Kernel makes it, with cold storage (one fresh transaction per test).
/// `forge test --match-contract Gas -vv` prints them.
contract GasTest is Test {
    BudgetPolicy budget;
    CallPolicyV4 callPolicy;
    TestToken usd;
    FakeKernel account;
    bytes32 constant ID = bytes32(bytes4(0x11223344));
    uint48 constant START = 1_000_000;
    address constant BOB = address(0xB0B);

    struct ParamRule {
        uint8 condition;
        uint64 offset;
        bytes32[] params;
    }

    struct Permission {
        bytes1 callType;
        address target;
        bytes4 selector;
        uint256 valueLimit;
        ParamRule[] rules;
    }

    function setUp() public {
        budget = new BudgetPolicy();
        callPolicy = new CallPolicyV4();
        usd = new TestToken();
        account = new FakeKernel();
        vm.warp(START + 10);
        account.install(budget, Kit.installData(ID, 0, 0, 0, 0, Kit.one(address(usd), 1e12, 86_400, START, 0)));
        // the call policy's nearest equivalent: transfer on the token, amount ≤ 100e6, single and batch
        Permission[] memory p = new Permission[](2);
        for (uint256 i = 0; i < 2; i++) {
            ParamRule[] memory rules = new ParamRule[](1);
            bytes32[] memory params = new bytes32[](1);
            params[0] = bytes32(uint256(100e6));
            rules[0] = ParamRule(4, 32, params); // LESS_THAN_OR_EQUAL, argument 1
            p[i] = Permission(i == 0 ? bytes1(0x00) : bytes1(0x01), address(usd), 0xa9059cbb, 0, rules);
        }
        account.install(BudgetPolicy(address(callPolicy)), abi.encodePacked(ID, abi.encode(p)));
        // a first op, so that later measurements are of "another op in the same period"
        account.check(budget, ID, _op(Kit.single(address(usd), 0, Kit.transfer(BOB, 1))));
    }

    function _op(bytes memory callData) internal view returns (PackedUserOperation memory) {
        return Kit.op(address(account), callData, Kit.at(uint48(block.timestamp)));
    }

    function _transfer() internal view returns (bytes memory) {
        return Kit.single(address(usd), 0, Kit.transfer(BOB, 5e6));
    }

    function _tenTransfers() internal view returns (bytes memory) {
        Execution[] memory calls = new Execution[](10);
        for (uint256 i = 0; i < 10; i++) {
            calls[i] = Execution(address(usd), 0, Kit.transfer(BOB, 5e6));
        }
        return Kit.batch(calls);
    }

    function test_gas_budget_transfer() public {
        uint256 g = account.checkGas(budget, ID, _op(_transfer()));
        log("BudgetPolicy, 1 ERC-20 transfer", g);
    }

    function test_gas_budget_batch10() public {
        uint256 g = account.checkGas(budget, ID, _op(_tenTransfers()));
        log("BudgetPolicy, batch of 10 transfers", g);
    }

    function test_gas_budget_firstInPeriod() public {
        vm.warp(START + 86_400 + 1);
        uint256 g = account.checkGas(budget, ID, _op(_transfer()));
        log("BudgetPolicy, 1 transfer, first op of a period", g);
    }

    function test_gas_callPolicy_transfer() public {
        uint256 g = account.checkGas(BudgetPolicy(address(callPolicy)), ID, _op(_transfer()));
        log("CallPolicy, 1 ERC-20 transfer", g);
    }

    function test_gas_callPolicy_batch10() public {
        uint256 g = account.checkGas(BudgetPolicy(address(callPolicy)), ID, _op(_tenTransfers()));
        log("CallPolicy, batch of 10 transfers", g);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PackedUserOperation, StatefulPolicy} from "./lib/Kernel7579.sol";

/// @title CallPolicy (Namera devnet implementation), versions 0.0.4 and 0.0.5
/// @notice Kernel v3 policy (type 5) that whitelists what a permission may execute.
///         CallPolicyV4 → 0x9a52283276A0ec8740DF50bF01B28A80D880eaf2 (conditions 0..6)
///         CallPolicyV5 → 0x85770b902D1e503D5f5141d9eaC16d0d08eEaDd2 (adds SLICE_EQUAL = 7)
///         Every path answers as the published plugin of that version does (contracts/CANONICAL.md):
///         the same custom errors, the same Error(string) texts, and the same bare reverts
///         (no data) where the published code reverts on a failed require or an out-of-range
///         calldata slice.
///
/// initData = abi.encode(Permission[]), Permission =
///   (bytes1 callType, address target, bytes4 selector, uint256 valueLimit,
///    (uint8 condition, uint64 offset, bytes32[] params)[] rules)
///
/// UserOperation check (no status check, like the published plugin): callData must start with
/// ERC-7579 execute (0xe9ae5c53), else a bare revert. mode[0] is the call type:
///   0x00 single       executionCalldata = target(20) ‖ value(32) ‖ data
///   0x01 batch        abi.encode((address target, uint256 value, bytes data)[]), each item checked
///                     as a single call (looked up with call type 0x00)
///   0xff delegatecall target(20) ‖ data, value 0
///   other             InvalidCallType()
/// A call is looked up by keccak256(callType ‖ target ‖ selector) (selector 0 for empty data; data of
/// 1..3 bytes is a bare revert), then with target 0 ("any target"). No entry: 0.0.4 reverts
/// InvalidCallData(), 0.0.5 CallViolatesTargetRule(). value > valueLimit → CallViolatesValueRule().
/// Rules compare the 32-byte word at data[4 + offset] (data too short: bare revert) with params as
/// unsigned integers; a failed rule → CallViolatesParamRule(). SLICE_EQUAL (0.0.5): the word is the
/// ABI offset of a dynamic bytes/string argument; params = [start, length, keccak256(expected)];
/// an argument shorter than start + length → ParamTooShort().
///
/// Storage (ERC-7562): every word of a permission entry lives at
///   keccak256(abi.encode(account, keccak256(abi.encode(DOMAIN, id, permissionHash)))) + n
/// i.e. keccak(account ‖ x) + n, associated with the account.
///   +0 header: 1 | ruleCount << 8       +1 valueLimit
///   then per rule: condition | offset << 8 | paramCount << 72, followed by paramCount words.
abstract contract CallPolicyBase is StatefulPolicy {
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

    struct Execution {
        address target;
        uint256 value;
        bytes callData;
    }

    error InvalidCallType();
    error InvalidCallData();
    error CallViolatesParamRule();
    error CallViolatesValueRule();

    uint8 internal constant EQUAL = 0;
    uint8 internal constant GREATER_THAN = 1;
    uint8 internal constant LESS_THAN = 2;
    uint8 internal constant GREATER_THAN_OR_EQUAL = 3;
    uint8 internal constant LESS_THAN_OR_EQUAL = 4;
    uint8 internal constant NOT_EQUAL = 5;
    uint8 internal constant ONE_OF = 6;
    uint8 internal constant SLICE_EQUAL = 7;

    bytes1 internal constant CALLTYPE_SINGLE = 0x00;
    bytes1 internal constant CALLTYPE_BATCH = 0x01;
    bytes1 internal constant CALLTYPE_DELEGATECALL = 0xff;
    bytes4 internal constant EXECUTE_SELECTOR = 0xe9ae5c53;

    bytes32 private constant DOMAIN = keccak256("namera.devnet.CallPolicy.permission");

    /// @dev Highest rule condition this version has (its enum's last member).
    function _maxCondition() internal pure virtual returns (uint8);

    /// @dev What the version reverts with when no permission matches the call.
    function _noPermission() internal pure virtual;

    /// @dev Install-time check of one rule's parameter count (Error(string) texts differ per version).
    function _checkParamCount(uint8 condition, uint256 count) internal pure virtual;

    /// @dev SLICE_EQUAL over `data` (0.0.5 only).
    function _sliceEqual(bytes calldata data, uint256 paramOffset, bytes32[] memory params)
        internal
        pure
        virtual
        returns (bool);

    // ------------------------------------------------------------------ validation

    function checkUserOpPolicy(bytes32 id, PackedUserOperation calldata userOp) external payable returns (uint256) {
        bytes calldata cd = userOp.callData;
        require(bytes4(cd[0:4]) == EXECUTE_SELECTOR);
        bytes1 callType = bytes1(bytes32(cd[4:36]));
        bytes calldata exec = _executionCalldata(cd);
        if (callType == CALLTYPE_SINGLE) {
            _checkCall(id, CALLTYPE_SINGLE, address(bytes20(exec[0:20])), uint256(bytes32(exec[20:52])), exec[52:]);
        } else if (callType == CALLTYPE_BATCH) {
            Execution[] calldata items = _executions(exec);
            for (uint256 i = 0; i < items.length; i++) {
                _checkCall(id, CALLTYPE_SINGLE, items[i].target, items[i].value, items[i].callData);
            }
        } else if (callType == CALLTYPE_DELEGATECALL) {
            _checkCall(id, CALLTYPE_DELEGATECALL, address(bytes20(exec[0:20])), 0, exec[20:]);
        } else {
            revert InvalidCallType();
        }
        return 0;
    }

    /// @dev The `bytes executionCalldata` argument of execute(bytes32, bytes), located by its ABI
    ///      offset word without bounds checks (reads past the end give zeros), as in the published plugin.
    function _executionCalldata(bytes calldata cd) private pure returns (bytes calldata exec) {
        assembly {
            exec.offset := add(add(cd.offset, 0x24), calldataload(add(cd.offset, 0x24)))
            exec.length := calldataload(sub(exec.offset, 0x20))
        }
    }

    /// @dev abi.encode(Execution[]) read in place; Solidity's calldata accessors check each item.
    function _executions(bytes calldata exec) private pure returns (Execution[] calldata items) {
        assembly {
            let head := add(exec.offset, calldataload(exec.offset))
            items.offset := add(head, 0x20)
            items.length := calldataload(head)
        }
    }

    function _checkCall(bytes32 id, bytes1 callType, address target, uint256 value, bytes calldata data) private view {
        bytes4 selector = data.length == 0 ? bytes4(0) : bytes4(data[0:4]);
        uint256 base = _slot(id, msg.sender, keccak256(abi.encodePacked(callType, target, selector)));
        uint256 header = _sload(base);
        if (header == 0) {
            base = _slot(id, msg.sender, keccak256(abi.encodePacked(callType, address(0), selector)));
            header = _sload(base);
            if (header == 0) _noPermission();
        }
        if (value > _sload(base + 1)) revert CallViolatesValueRule();

        uint256 ruleCount = header >> 8;
        uint256 cursor = base + 2;
        bool pass = true;
        for (uint256 i = 0; i < ruleCount && pass; i++) {
            uint256 ruleHeader = _sload(cursor);
            uint8 condition = uint8(ruleHeader);
            // 64-bit arithmetic, as in the published plugin (an offset near 2^64 panics, 0x11)
            uint64 offset = uint64(ruleHeader >> 8);
            uint256 paramOffset = 4 + offset;
            bytes32[] memory params = new bytes32[](ruleHeader >> 72);
            for (uint256 k = 0; k < params.length; k++) {
                params[k] = bytes32(_sload(cursor + 1 + k));
            }
            cursor += 1 + params.length;

            bytes32 arg = bytes32(data[paramOffset:4 + offset + 32]);
            if (condition == ONE_OF) {
                pass = false;
                for (uint256 j = 0; j < params.length && !pass; j++) {
                    pass = arg == params[j];
                }
            } else if (condition == SLICE_EQUAL) {
                pass = _sliceEqual(data, paramOffset, params);
            } else if (condition == EQUAL) {
                pass = arg == params[0];
            } else if (condition == GREATER_THAN) {
                pass = arg > params[0];
            } else if (condition == LESS_THAN) {
                pass = arg < params[0];
            } else if (condition == GREATER_THAN_OR_EQUAL) {
                pass = arg >= params[0];
            } else if (condition == LESS_THAN_OR_EQUAL) {
                pass = arg <= params[0];
            } else if (condition == NOT_EQUAL) {
                pass = arg != params[0];
            }
        }
        if (!pass) revert CallViolatesParamRule();
    }

    // ------------------------------------------------------------------ install / uninstall

    /// @dev Checks in the published order: the id must be unused (bare revert), then per permission
    ///      the duplicate check (Error "duplicate permissionHash"), then per rule the condition's
    ///      range (bare revert, as a calldata enum out of range) and its parameter count.
    function _install(bytes32 id, bytes calldata payload) internal override {
        _activate(id);
        Permission[] calldata perms = _permissions(payload);
        uint8 maxCond = _maxCondition();
        for (uint256 i = 0; i < perms.length; i++) {
            bytes32 permissionHash = keccak256(abi.encodePacked(perms[i].callType, perms[i].target, perms[i].selector));
            uint256 base = _slot(id, msg.sender, permissionHash);
            require(_sload(base) == 0, "duplicate permissionHash");
            ParamRule[] calldata rules = perms[i].rules;
            for (uint256 j = 0; j < rules.length; j++) {
                uint8 condition = rules[j].condition;
                require(condition <= maxCond);
                _checkParamCount(condition, rules[j].params.length);
            }
            _sstore(base, 1 | (rules.length << 8));
            _sstore(base + 1, perms[i].valueLimit);
            uint256 cursor = base + 2;
            for (uint256 j = 0; j < rules.length; j++) {
                bytes32[] calldata params = rules[j].params;
                _sstore(cursor, uint256(rules[j].condition) | (uint256(rules[j].offset) << 8) | (params.length << 72));
                for (uint256 k = 0; k < params.length; k++) {
                    _sstore(cursor + 1 + k, uint256(params[k]));
                }
                cursor += 1 + params.length;
            }
        }
    }

    /// @dev abi.encode(Permission[]) read in place from its head offset word.
    function _permissions(bytes calldata payload) private pure returns (Permission[] calldata perms) {
        assembly {
            perms.offset := add(add(payload.offset, 0x20), calldataload(payload.offset))
            perms.length := calldataload(sub(perms.offset, 0x20))
        }
    }

    /// @dev Like the published plugin, entries are not wiped: the id is retired for good.
    function _uninstall(bytes32 id, bytes calldata) internal override {
        _retire(id);
    }

    // ------------------------------------------------------------------ views

    /// @notice The stored entry for `permissionHash` = keccak256(callType ‖ target ‖ selector) as
    ///         abi.encode(uint256 valueLimit, ParamRule[] rules); empty when absent (the published getter).
    function encodedPermissions(bytes32 id, bytes32 permissionHash, address account)
        external
        view
        returns (bytes memory)
    {
        uint256 base = _slot(id, account, permissionHash);
        uint256 header = _sload(base);
        if (header == 0) return "";
        ParamRule[] memory rules = new ParamRule[](header >> 8);
        uint256 cursor = base + 2;
        for (uint256 i = 0; i < rules.length; i++) {
            uint256 h = _sload(cursor);
            bytes32[] memory params = new bytes32[](h >> 72);
            for (uint256 k = 0; k < params.length; k++) {
                params[k] = bytes32(_sload(cursor + 1 + k));
            }
            rules[i] = ParamRule(uint8(h), uint64(h >> 8), params);
            cursor += 1 + params.length;
        }
        return abi.encode(_sload(base + 1), rules);
    }

    // ------------------------------------------------------------------ helpers

    function _slot(bytes32 id, address account, bytes32 permissionHash) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(account, keccak256(abi.encode(DOMAIN, id, permissionHash)))));
    }

    function _sload(uint256 slot) private view returns (uint256 v) {
        assembly {
            v := sload(slot)
        }
    }

    function _sstore(uint256 slot, uint256 v) private {
        assembly {
            sstore(slot, v)
        }
    }
}

/// @notice CallPolicy 0.0.4: conditions EQUAL … ONE_OF (0..6); no match → InvalidCallData().
contract CallPolicyV4 is CallPolicyBase {
    function _maxCondition() internal pure override returns (uint8) {
        return ONE_OF;
    }

    function _noPermission() internal pure override {
        revert InvalidCallData();
    }

    function _checkParamCount(uint8 condition, uint256 count) internal pure override {
        if (condition != ONE_OF) require(count == 1, "only OneOf condition can have multiple params");
    }

    function _sliceEqual(bytes calldata, uint256, bytes32[] memory) internal pure override returns (bool) {
        return false; // never installed: conditions above ONE_OF are refused
    }
}

/// @notice CallPolicy 0.0.5: adds SLICE_EQUAL (7) over dynamic bytes/string arguments; no match →
///         CallViolatesTargetRule().
contract CallPolicyV5 is CallPolicyBase {
    error CallViolatesTargetRule();
    error ParamTooShort();

    function _maxCondition() internal pure override returns (uint8) {
        return SLICE_EQUAL;
    }

    function _noPermission() internal pure override {
        revert CallViolatesTargetRule();
    }

    function _checkParamCount(uint8 condition, uint256 count) internal pure override {
        if (condition == SLICE_EQUAL) {
            require(count == 3, "substr equal condition must have 3 params");
        } else if (condition != ONE_OF) {
            require(count == 1, "only OneOf and SubstrEqual condition can have multiple params");
        }
    }

    /// @dev The argument's length word sits at data[4 + (word at paramOffset)]; its content follows.
    ///      Positions are taken as given (reads past the end give zeros); start + length is checked
    ///      arithmetic (overflow panics) and must not exceed the argument's length.
    function _sliceEqual(bytes calldata data, uint256 paramOffset, bytes32[] memory params)
        internal
        pure
        override
        returns (bool)
    {
        uint256 start = uint256(params[0]);
        uint256 length = uint256(params[1]);
        uint256 argLength;
        uint256 from;
        assembly {
            let lengthAt := add(calldataload(add(data.offset, paramOffset)), add(data.offset, 0x04))
            argLength := calldataload(lengthAt)
            from := add(lengthAt, add(start, 0x20))
        }
        if (argLength < start + length) revert ParamTooShort();
        bytes32 actual;
        assembly {
            let m := mload(0x40)
            calldatacopy(m, from, length)
            actual := keccak256(m, length)
        }
        return actual == params[2];
    }
}

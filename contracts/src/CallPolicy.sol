// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PackedUserOperation, StatefulPolicy, VALIDATION_SUCCESS} from "./lib/Kernel7579.sol";

/// @title CallPolicy (Namera devnet implementation), versions 0.0.4 and 0.0.5
/// @notice Kernel v3 policy (type 5) that whitelists what a permission may execute.
///         CallPolicyV4 → 0x9a52283276A0ec8740DF50bF01B28A80D880eaf2 (conditions 0..6)
///         CallPolicyV5 → 0x85770b902D1e503D5f5141d9eaC16d0d08eEaDd2 (adds SLICE_EQUAL = 7)
///
/// initData = abi.encode(Permission[]), Permission =
///   (bytes1 callType, address target, bytes4 selector, uint256 valueLimit,
///    (uint8 condition, uint64 offset, bytes32[] params)[] rules)
///
/// UserOperation check: callData must be ERC-7579 execute(bytes32 mode, bytes executionCalldata)
/// (0xe9ae5c53). mode[0] is the call type:
///   0x00 single       executionCalldata = target(20) ‖ value(32) ‖ data
///   0x01 batch        abi.encode((address target, uint256 value, bytes data)[]), each item checked
///                     as a single call (looked up with call type 0x00)
///   0xff delegatecall target(20) ‖ data, value 0
/// A call is looked up by keccak256(callType ‖ target ‖ selector) (selector 0 for empty data), then
/// with target 0 ("any target"). No entry → InvalidCallData; value > valueLimit →
/// CallViolatesValueRule; a failed rule → CallViolatesParamRule. Rules compare the 32-byte word at
/// data[4 + offset] as an unsigned integer with params[0] (ONE_OF: any of params). SLICE_EQUAL
/// (v0.0.5): the word at data[4 + offset] is the ABI offset of a dynamic bytes/string argument;
/// params = [start, length, keccak256(expected)] and keccak256(arg[start:start+length]) must match.
///
/// Storage (ERC-7562): every word of a permission entry lives at
///   keccak256(abi.encode(account, keccak256(abi.encode(DOMAIN, id, lookupKey)))) + n
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
    error DuplicatePermission(bytes1 callType, address target, bytes4 selector);
    error InvalidParamRule(uint256 permissionIndex, uint256 ruleIndex);

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

    /// @notice Highest rule condition this deployment understands.
    function maxCondition() public pure virtual returns (uint8);

    /// @notice "0.0.4" or "0.0.5".
    function policyVersion() external pure virtual returns (string memory);

    // ------------------------------------------------------------------ validation

    function checkUserOpPolicy(bytes32 id, PackedUserOperation calldata userOp) external payable returns (uint256) {
        _requireActive(id, msg.sender);
        bytes calldata cd = userOp.callData;
        if (cd.length < 68 || bytes4(cd[0:4]) != EXECUTE_SELECTOR) revert InvalidCallData();
        bytes1 callType = cd[4];

        // executionCalldata: dynamic `bytes` whose offset (relative to the arguments) is at cd[36:68]
        uint256 rel = uint256(bytes32(cd[36:68]));
        if (rel > cd.length) revert InvalidCallData();
        uint256 lenPos = 4 + rel;
        if (lenPos + 32 > cd.length) revert InvalidCallData();
        uint256 execLen = uint256(bytes32(cd[lenPos:lenPos + 32]));
        if (execLen > cd.length - lenPos - 32) revert InvalidCallData();
        bytes calldata exec = cd[lenPos + 32:lenPos + 32 + execLen];

        if (callType == CALLTYPE_SINGLE) {
            if (exec.length < 52) revert InvalidCallData();
            _checkCall(
                id, CALLTYPE_SINGLE, address(bytes20(exec[0:20])), uint256(bytes32(exec[20:52])), bytes(exec[52:])
            );
        } else if (callType == CALLTYPE_BATCH) {
            Execution[] memory items = abi.decode(exec, (Execution[]));
            for (uint256 i = 0; i < items.length; i++) {
                _checkCall(id, CALLTYPE_SINGLE, items[i].target, items[i].value, items[i].callData);
            }
        } else if (callType == CALLTYPE_DELEGATECALL) {
            if (exec.length < 20) revert InvalidCallData();
            _checkCall(id, CALLTYPE_DELEGATECALL, address(bytes20(exec[0:20])), 0, bytes(exec[20:]));
        } else {
            revert InvalidCallType();
        }
        return VALIDATION_SUCCESS;
    }

    function _checkCall(bytes32 id, bytes1 callType, address target, uint256 value, bytes memory data) internal view {
        bytes4 selector;
        if (data.length == 0) {
            selector = bytes4(0);
        } else if (data.length < 4) {
            revert InvalidCallData();
        } else {
            selector = bytes4(data);
        }
        uint256 base = _slot(id, msg.sender, callType, target, selector);
        uint256 header = _sload(base);
        if (header == 0) {
            base = _slot(id, msg.sender, callType, address(0), selector);
            header = _sload(base);
            if (header == 0) revert InvalidCallData();
        }
        if (value > _sload(base + 1)) revert CallViolatesValueRule();

        uint256 ruleCount = header >> 8;
        uint256 cursor = base + 2;
        for (uint256 i = 0; i < ruleCount; i++) {
            uint256 ruleHeader = _sload(cursor);
            uint8 condition = uint8(ruleHeader);
            uint256 offset = uint64(ruleHeader >> 8);
            uint256 paramCount = ruleHeader >> 72;
            uint256 paramsAt = cursor + 1;
            cursor = paramsAt + paramCount;

            // the 32-byte argument word; calldata too short for it violates the rule
            if (4 + offset + 32 > data.length) revert CallViolatesParamRule();
            uint256 arg = _word(data, 4 + offset);

            bool ok;
            if (condition == ONE_OF) {
                for (uint256 j = 0; j < paramCount; j++) {
                    if (arg == _sload(paramsAt + j)) {
                        ok = true;
                        break;
                    }
                }
            } else if (condition == SLICE_EQUAL) {
                ok = _sliceEqual(data, arg, _sload(paramsAt), _sload(paramsAt + 1), bytes32(_sload(paramsAt + 2)));
            } else {
                uint256 p = _sload(paramsAt);
                if (condition == EQUAL) ok = arg == p;
                else if (condition == GREATER_THAN) ok = arg > p;
                else if (condition == LESS_THAN) ok = arg < p;
                else if (condition == GREATER_THAN_OR_EQUAL) ok = arg >= p;
                else if (condition == LESS_THAN_OR_EQUAL) ok = arg <= p;
                else if (condition == NOT_EQUAL) ok = arg != p;
            }
            if (!ok) revert CallViolatesParamRule();
        }
    }

    /// @dev SLICE_EQUAL over the dynamic argument whose ABI offset (relative to data[4:]) is `argOffset`.
    function _sliceEqual(bytes memory data, uint256 argOffset, uint256 start, uint256 length, bytes32 expected)
        internal
        pure
        virtual
        returns (bool);

    // ------------------------------------------------------------------ install / uninstall

    function _install(bytes32 id, bytes calldata payload) internal override {
        _activate(id);
        Permission[] memory perms = abi.decode(payload, (Permission[]));
        uint8 maxCond = maxCondition();
        for (uint256 i = 0; i < perms.length; i++) {
            Permission memory p = perms[i];
            uint256 base = _slot(id, msg.sender, p.callType, p.target, p.selector);
            if (_sload(base) != 0) revert DuplicatePermission(p.callType, p.target, p.selector);
            _sstore(base, 1 | (p.rules.length << 8));
            _sstore(base + 1, p.valueLimit);
            uint256 cursor = base + 2;
            for (uint256 j = 0; j < p.rules.length; j++) {
                ParamRule memory r = p.rules[j];
                uint256 n = r.params.length;
                if (r.condition > maxCond) revert InvalidParamRule(i, j);
                if (r.condition == SLICE_EQUAL) {
                    if (n != 3) revert InvalidParamRule(i, j);
                } else if (r.condition != ONE_OF && n != 1) {
                    revert InvalidParamRule(i, j);
                }
                _sstore(cursor, uint256(r.condition) | (uint256(r.offset) << 8) | (n << 72));
                for (uint256 k = 0; k < n; k++) {
                    _sstore(cursor + 1 + k, uint256(r.params[k]));
                }
                cursor += 1 + n;
            }
        }
    }

    /// @dev Like the public plugin, entries are not wiped: the id is retired for good.
    function _uninstall(bytes32 id, bytes calldata) internal override {
        _retire(id);
    }

    // ------------------------------------------------------------------ views

    /// @notice The stored entry for an exact (callType, target, selector) as
    ///         abi.encode(uint256 valueLimit, ParamRule[] rules); empty when absent.
    function encodedPermissions(bytes32 id, bytes1 callType, address target, bytes4 selector, address account)
        external
        view
        returns (bytes memory)
    {
        uint256 base = _slot(id, account, callType, target, selector);
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

    function _slot(bytes32 id, address account, bytes1 callType, address target, bytes4 selector)
        internal
        pure
        returns (uint256)
    {
        bytes32 lookupKey = keccak256(abi.encodePacked(callType, target, selector));
        bytes32 inner = keccak256(abi.encode(DOMAIN, id, lookupKey));
        return uint256(keccak256(abi.encode(account, inner)));
    }

    function _sload(uint256 slot) internal view returns (uint256 v) {
        assembly {
            v := sload(slot)
        }
    }

    function _sstore(uint256 slot, uint256 v) internal {
        assembly {
            sstore(slot, v)
        }
    }

    /// @dev 32-byte big-endian word of `data` at byte `pos` (caller checks bounds).
    function _word(bytes memory data, uint256 pos) internal pure returns (uint256 w) {
        assembly {
            w := mload(add(add(data, 0x20), pos))
        }
    }
}

/// @notice CallPolicy 0.0.4: conditions EQUAL … ONE_OF (0..6).
contract CallPolicyV4 is CallPolicyBase {
    function maxCondition() public pure override returns (uint8) {
        return ONE_OF;
    }

    function policyVersion() external pure override returns (string memory) {
        return "0.0.4";
    }

    function _sliceEqual(bytes memory, uint256, uint256, uint256, bytes32) internal pure override returns (bool) {
        return false; // never installed: maxCondition() rejects SLICE_EQUAL rules
    }
}

/// @notice CallPolicy 0.0.5: adds SLICE_EQUAL (7) over dynamic bytes/string arguments.
contract CallPolicyV5 is CallPolicyBase {
    error ParamTooShort();

    function maxCondition() public pure override returns (uint8) {
        return SLICE_EQUAL;
    }

    function policyVersion() external pure override returns (string memory) {
        return "0.0.5";
    }

    function _sliceEqual(bytes memory data, uint256 argOffset, uint256 start, uint256 length, bytes32 expected)
        internal
        pure
        override
        returns (bool)
    {
        // argument layout: data[4 + argOffset] = byte length L, then L bytes of content
        if (argOffset > data.length || start > data.length || length > data.length) revert ParamTooShort();
        uint256 lenPos = 4 + argOffset;
        if (lenPos + 32 > data.length) revert ParamTooShort();
        uint256 argLen = _word(data, lenPos);
        if (start + length > argLen) revert ParamTooShort();
        uint256 from = lenPos + 32 + start;
        if (from + length > data.length) revert ParamTooShort();
        bytes32 actual;
        assembly {
            actual := keccak256(add(add(data, 0x20), from), length)
        }
        return actual == expected;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// ERC-4337 v0.7 packed user operation, as Kernel v3 hands it to a policy (with `signature`
/// replaced by this policy's own slice of the permission signature).
struct PackedUserOperation {
    address sender;
    uint256 nonce;
    bytes initCode;
    bytes callData;
    bytes32 accountGasLimits;
    uint256 preVerificationGas;
    bytes32 gasFees;
    bytes paymasterAndData;
    bytes signature;
}

/// One ERC-7579 execution of a batch, laid out as Kernel decodes it.
struct Execution {
    address target;
    uint256 value;
    bytes callData;
}

/// @title BudgetPolicy — spending limits per period for Kernel v3 permissions
/// @notice A Kernel v3 policy (ERC-7579 module type 5). Each permission (session key) of an
///         account gets up to 8 token limits — native (ERC-7528 address) or ERC-20, an amount
///         per period from a start time — and optionally a cap on operations per period.
///         Everything a UserOperation can move out is counted: the native value of every call,
///         and on a budgeted ERC-20 `transfer`, `transferFrom` from the account, `approve` and
///         `increaseAllowance`; a batch is summed before it is compared. Anything the policy
///         cannot count is refused: delegatecall, calls to the account itself, other selectors
///         on a budgeted token and, unless the owner allows it, calls with data to other targets
///         and ERC-1271 signatures (permits can move tokens and cannot be read from a hash).
///
///         Time: validation may not read TIMESTAMP (ERC-7562). The signer names its "now" T
///         (uint48, 6 bytes) in this policy's slice of the permission signature; every counter
///         the operation charges is the one of the period containing T, and the policy returns
///         that period as validAfter/validUntil, so the EntryPoint refuses the operation outside
///         it. A wrong T can therefore only make the operation fail, never charge the wrong period.
///
///         Storage: only slots associated with the account (ERC-7562): every mapping's last key is
///         the account, and every value is a fixed-size struct (no dynamic arrays or bytes).
///
///         Refusals revert with a precise error (Kernel turns a plain failure into PolicyFailed(i)
///         anyway; the revert data tells the wallet which budget and how much was left).
///
///         Deployed through the deterministic deployment proxy with a fixed salt: no constructor,
///         no owner, no immutables, the same address on every chain.
contract BudgetPolicy {
    // ------------------------------------------------------------------ constants

    /// ERC-7528: the address that stands for the chain's native currency.
    address public constant NATIVE = 0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE;
    /// The most token limits one permission may carry (storage is fixed-size, see above).
    uint256 public constant MAX_LIMITS = 8;
    /// Flag: the permission may pass ERC-1271 signature checks (permits, Permit2, orders).
    uint8 public constant FLAG_ALLOW_SIGNATURES = 1;
    /// Flag: calls with data to targets that carry no limit are allowed (their value is still
    /// charged to the native limit). Off by default: such calls can do anything the budget
    /// cannot see (spend allowances the owner granted, withdraw the EntryPoint deposit, ...).
    uint8 public constant FLAG_ALLOW_OTHER_CALLS = 2;
    /// Domain of shared budget ids: keccak256(abi.encode(BUDGET_DOMAIN, name, token)).
    bytes32 public constant BUDGET_DOMAIN = keccak256("namera.BudgetPolicy.budget.v1");

    bytes4 internal constant EXECUTE = 0xe9ae5c53; // execute(bytes32,bytes)
    bytes4 internal constant TRANSFER = 0xa9059cbb; // transfer(address,uint256)
    bytes4 internal constant TRANSFER_FROM = 0x23b872dd; // transferFrom(address,address,uint256)
    bytes4 internal constant APPROVE = 0x095ea7b3; // approve(address,uint256)
    bytes4 internal constant INCREASE_ALLOWANCE = 0x39509351; // increaseAllowance(address,uint256)

    uint256 internal constant MODULE_TYPE_POLICY = 5;
    uint256 internal constant VALIDATION_FAILED = 1;
    uint256 internal constant NO_LIMIT = type(uint256).max;

    // ------------------------------------------------------------------ storage

    /// One token limit as installed.
    struct Limit {
        address token; // NATIVE or an ERC-20
        uint48 period; // seconds; 0 = the whole life of the permission
        uint48 start; // first period starts here (unix seconds)
        uint128 amount; // base units per period
        bytes32 budget; // shared budget name; 0 = private to this permission
    }

    /// What was spent (or how many operations ran) in period `index`.
    struct Counter {
        uint48 index;
        uint128 used;
    }

    /// A permission's configuration and its private counters.
    struct Config {
        bool installed;
        uint8 flags;
        uint8 count; // number of limits
        uint32 opsMax; // 0 = no operation cap
        uint48 opsPeriod;
        uint48 opsStart;
        Counter ops;
        Limit[8] limits;
        Counter[8] spent; // private limits only
    }

    /// A shared budget of one account: fixed by its first install, then drawn on by every
    /// permission that names it. It outlives the permissions.
    struct Shared {
        uint128 amount;
        uint48 period;
        uint48 start;
        bool set;
        Counter spent;
    }

    /// Install data: one token limit.
    struct LimitInit {
        address token;
        uint128 amount;
        uint48 period;
        uint48 start;
        bytes32 budget;
    }

    mapping(bytes32 id => mapping(address account => Config)) internal _configs;
    mapping(bytes32 budgetId => mapping(address account => Shared)) internal _shared;
    mapping(address account => uint256) public installedPermissions;

    // ------------------------------------------------------------------ errors

    // install / uninstall
    error InstallDataTooShort();
    error AlreadyInstalled(bytes32 id, address account);
    error TooManyLimits(uint256 count);
    error InvalidToken(uint256 limitIndex);
    error DuplicateToken(uint256 limitIndex, address token);
    error UnknownFlags(uint8 flags);
    error SharedBudgetMismatch(bytes32 budget, address token, uint128 amount, uint48 period, uint48 start);

    // validation
    error NotInstalled(bytes32 id, address account);
    error NotExecute(bytes4 selector);
    error UnsupportedCallType(bytes1 callType);
    error UnsupportedExecType(bytes1 execType);
    error MalformedCallData();
    error SelfCall(uint256 callIndex);
    error NativeNotBudgeted(uint256 callIndex, uint256 value);
    error TargetNotBudgeted(uint256 callIndex, address target);
    error SelectorRefused(uint256 callIndex, address token, bytes4 selector);
    error MalformedTokenCall(uint256 callIndex, address token, bytes4 selector);
    error TransferFromOther(uint256 callIndex, address token, address from);
    error TimeMissing();
    error MalformedPolicySignature(uint256 length);
    error PeriodNotStarted(uint256 limitIndex, uint48 start, uint48 time);
    error PeriodPassed(uint256 limitIndex, uint48 storedIndex, uint48 index);
    /// `limitIndex` MAX_LIMITS stands for the operation cap.
    error BudgetExceeded(uint256 limitIndex, address token, bytes32 budget, uint256 used, uint256 requested, uint256 limit);
    error TooManyOperations(uint256 used, uint256 max);

    // ------------------------------------------------------------------ module surface

    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_POLICY;
    }

    function isInitialized(address account) external view returns (bool) {
        return installedPermissions[account] != 0;
    }

    /// @param data `bytes32(bytes4 permissionId) ‖ abi.encode(uint8 flags, uint32 opsMax,
    ///        uint48 opsPeriod, uint48 opsStart, LimitInit[] limits)`.
    function onInstall(bytes calldata data) external payable {
        if (data.length < 32) revert InstallDataTooShort();
        bytes32 id = bytes32(data[0:32]);
        Config storage c = _configs[id][msg.sender];
        if (c.installed) revert AlreadyInstalled(id, msg.sender);
        (uint8 flags, uint32 opsMax, uint48 opsPeriod, uint48 opsStart, LimitInit[] memory limits) =
            abi.decode(data[32:], (uint8, uint32, uint48, uint48, LimitInit[]));
        if (flags & ~(FLAG_ALLOW_SIGNATURES | FLAG_ALLOW_OTHER_CALLS) != 0) revert UnknownFlags(flags);
        if (limits.length > MAX_LIMITS) revert TooManyLimits(limits.length);
        c.installed = true;
        c.flags = flags;
        c.count = uint8(limits.length);
        c.opsMax = opsMax;
        c.opsPeriod = opsPeriod;
        c.opsStart = opsStart;
        for (uint256 i = 0; i < limits.length; i++) {
            LimitInit memory l = limits[i];
            if (l.token == address(0)) revert InvalidToken(i);
            for (uint256 j = 0; j < i; j++) {
                if (limits[j].token == l.token) revert DuplicateToken(i, l.token);
            }
            c.limits[i] = Limit(l.token, l.period, l.start, l.amount, l.budget);
            if (l.budget != bytes32(0)) {
                Shared storage s = _shared[budgetId(l.budget, l.token)][msg.sender];
                if (!s.set) {
                    s.set = true;
                    s.amount = l.amount;
                    s.period = l.period;
                    s.start = l.start;
                } else if (s.amount != l.amount || s.period != l.period || s.start != l.start) {
                    revert SharedBudgetMismatch(l.budget, l.token, s.amount, s.period, s.start);
                }
            }
        }
        installedPermissions[msg.sender] += 1;
    }

    /// Clears the permission's configuration and private counters; shared budgets persist.
    /// Never reverts on a permission that is not installed, so revocation cannot be blocked.
    function onUninstall(bytes calldata data) external payable {
        if (data.length < 32) revert InstallDataTooShort();
        bytes32 id = bytes32(data[0:32]);
        if (!_configs[id][msg.sender].installed) return;
        delete _configs[id][msg.sender];
        installedPermissions[msg.sender] -= 1;
    }

    // ------------------------------------------------------------------ policy checks

    /// ERC-1271 requests: refused (1) unless the owner allowed them; Kernel then reverts.
    function checkSignaturePolicy(bytes32 id, address, bytes32, bytes calldata) external view returns (uint256) {
        Config storage c = _configs[id][msg.sender];
        if (!c.installed || c.flags & FLAG_ALLOW_SIGNATURES == 0) return VALIDATION_FAILED;
        return 0;
    }

    /// Charges the operation to the counters of the period containing the signer's time and
    /// returns that period as validAfter/validUntil. Reverts with the reason when it cannot.
    function checkUserOpPolicy(bytes32 id, PackedUserOperation calldata userOp) external payable returns (uint256) {
        Config storage c = _configs[id][msg.sender];
        if (!c.installed) revert NotInstalled(id, msg.sender);
        uint256 count = c.count;
        Limit[] memory limits = new Limit[](count);
        for (uint256 i = 0; i < count; i++) {
            limits[i] = c.limits[i];
        }
        uint256[] memory amounts = _amounts(limits, c.flags, userOp.callData, msg.sender);

        (bool hasTime, uint48 t) = _time(userOp.signature);
        uint48 validAfter = 0;
        uint48 validUntil = type(uint48).max;

        if (c.opsMax != 0) {
            (uint48 index, uint48 from, uint48 until) =
                _window(MAX_LIMITS, c.opsPeriod, c.opsStart, hasTime, t);
            uint256 used = _charge(c.ops, index, MAX_LIMITS, 1);
            if (used > c.opsMax) revert TooManyOperations(used - 1, c.opsMax);
            if (from > validAfter) validAfter = from;
            if (until < validUntil) validUntil = until;
        }
        for (uint256 i = 0; i < count; i++) {
            if (amounts[i] == 0) continue;
            Limit memory l = limits[i];
            (uint48 index, uint48 from, uint48 until) = _window(i, l.period, l.start, hasTime, t);
            Counter storage k =
                l.budget == bytes32(0) ? c.spent[i] : _shared[budgetId(l.budget, l.token)][msg.sender].spent;
            uint256 before = k.index == index ? k.used : 0;
            uint256 used = _charge(k, index, i, amounts[i]);
            if (used > l.amount) revert BudgetExceeded(i, l.token, l.budget, before, amounts[i], l.amount);
            if (from > validAfter) validAfter = from;
            if (until < validUntil) validUntil = until;
        }
        if (validUntil == type(uint48).max) validUntil = 0; // 0 = no expiry
        return (uint256(validAfter) << 208) | (uint256(validUntil) << 160);
    }

    // ------------------------------------------------------------------ views

    /// The id of the shared budget `name` for `token`.
    function budgetId(bytes32 name, address token) public pure returns (bytes32) {
        return keccak256(abi.encode(BUDGET_DOMAIN, name, token));
    }

    /// The permission's settings: flags, operation cap and its token limits.
    function config(bytes32 id, address account)
        external
        view
        returns (bool installed, uint8 flags, uint32 opsMax, uint48 opsPeriod, uint48 opsStart, Limit[] memory limits)
    {
        Config storage c = _configs[id][account];
        limits = new Limit[](c.count);
        for (uint256 i = 0; i < c.count; i++) {
            limits[i] = c.limits[i];
        }
        return (c.installed, c.flags, c.opsMax, c.opsPeriod, c.opsStart, limits);
    }

    /// The counter limit `i` draws on (shared or private): the period index it last charged
    /// and what was spent in it. `i` = MAX_LIMITS reads the operation counter.
    function counter(bytes32 id, address account, uint256 i) external view returns (uint48 index, uint128 used) {
        Config storage c = _configs[id][account];
        Counter storage k;
        if (i == MAX_LIMITS) {
            k = c.ops;
        } else {
            Limit storage l = c.limits[i];
            k = l.budget == bytes32(0) ? c.spent[i] : _shared[budgetId(l.budget, l.token)][account].spent;
        }
        return (k.index, k.used);
    }

    /// A shared budget's settings and counter.
    function sharedBudget(bytes32 name, address token, address account)
        external
        view
        returns (bool set, uint128 amount, uint48 period, uint48 start, uint48 index, uint128 used)
    {
        Shared storage s = _shared[budgetId(name, token)][account];
        return (s.set, s.amount, s.period, s.start, s.spent.index, s.spent.used);
    }

    // ------------------------------------------------------------------ internals

    /// The signer's time from this policy's signature slice: empty (no time) or 6 bytes.
    function _time(bytes calldata sig) internal pure returns (bool, uint48) {
        if (sig.length == 0) return (false, 0);
        if (sig.length != 6) revert MalformedPolicySignature(sig.length);
        return (true, uint48(bytes6(sig[0:6])));
    }

    /// The period containing `t` for a limit (`which` names it in errors): its index and its
    /// window [from, until] (until inclusive, as the EntryPoint reads validUntil).
    function _window(uint256 which, uint48 period, uint48 start, bool hasTime, uint48 t)
        internal
        pure
        returns (uint48 index, uint48 from, uint48 until)
    {
        if (period == 0 && start == 0) return (0, 0, type(uint48).max);
        if (!hasTime) revert TimeMissing();
        if (t < start || t == 0) revert PeriodNotStarted(which, start, t);
        if (period == 0) return (0, start, type(uint48).max);
        uint256 i = (uint256(t) - start) / period;
        uint256 lo = uint256(start) + i * period;
        uint256 hi = lo + period - 1;
        if (hi > type(uint48).max) hi = type(uint48).max;
        return (uint48(i), uint48(lo), uint48(hi));
    }

    /// Adds `amount` to `k` in period `index` (starting the period afresh when it is newer)
    /// and returns the new total, saturating instead of overflowing.
    function _charge(Counter storage k, uint48 index, uint256 which, uint256 amount) internal returns (uint256) {
        uint48 stored = k.index;
        if (stored > index) revert PeriodPassed(which, stored, index);
        uint256 used = stored == index ? k.used : 0;
        unchecked {
            uint256 total = used + amount;
            if (total < used || total > type(uint128).max) return NO_LIMIT; // over any uint128 limit
            k.index = index;
            k.used = uint128(total);
            return total;
        }
    }

    /// What the operation moves out, per limit. Reverts on anything it cannot count.
    function _amounts(Limit[] memory limits, uint8 flags, bytes calldata callData, address account)
        internal
        pure
        returns (uint256[] memory amounts)
    {
        amounts = new uint256[](limits.length);
        if (callData.length < 4) revert NotExecute(bytes4(0));
        if (bytes4(callData[0:4]) != EXECUTE) revert NotExecute(bytes4(callData[0:4]));
        // Decoded exactly as Kernel's execute(bytes32 mode, bytes executionCalldata) is, but in
        // memory, where every offset is checked against the copied bytes (stricter, never looser).
        (bytes32 mode, bytes memory exec) = abi.decode(callData[4:], (bytes32, bytes));
        bytes1 callType = mode[0];
        bytes1 execType = mode[1];
        if (execType != 0x00 && execType != 0x01) revert UnsupportedExecType(execType);
        if (callType == 0x00) {
            if (exec.length < 52) revert MalformedCallData();
            address target;
            uint256 value;
            assembly ("memory-safe") {
                target := shr(96, mload(add(exec, 32)))
                value := mload(add(exec, 52))
            }
            uint256 len = exec.length - 52;
            bytes memory data = new bytes(len);
            assembly ("memory-safe") {
                mcopy(add(data, 32), add(exec, 84), len)
            }
            _count(amounts, limits, flags, account, 0, target, value, data);
        } else if (callType == 0x01) {
            Execution[] memory batch = abi.decode(exec, (Execution[]));
            for (uint256 n = 0; n < batch.length; n++) {
                _count(amounts, limits, flags, account, n, batch[n].target, batch[n].value, batch[n].callData);
            }
        } else {
            revert UnsupportedCallType(callType);
        }
    }

    /// Adds one call's outflow to `amounts`.
    function _count(
        uint256[] memory amounts,
        Limit[] memory limits,
        uint8 flags,
        address account,
        uint256 n,
        address target,
        uint256 value,
        bytes memory data
    ) internal pure {
        if (target == account) revert SelfCall(n);
        if (value != 0) {
            uint256 native = _find(limits, NATIVE);
            if (native == NO_LIMIT) revert NativeNotBudgeted(n, value);
            amounts[native] = _add(amounts[native], value);
        }
        uint256 li = target == NATIVE ? NO_LIMIT : _find(limits, target);
        if (li == NO_LIMIT) {
            if (data.length != 0 && flags & FLAG_ALLOW_OTHER_CALLS == 0) revert TargetNotBudgeted(n, target);
            return;
        }
        if (data.length < 4) revert SelectorRefused(n, target, bytes4(0));
        bytes4 selector = bytes4(data);
        uint256 amount;
        if (selector == TRANSFER || selector == APPROVE || selector == INCREASE_ALLOWANCE) {
            if (data.length < 68) revert MalformedTokenCall(n, target, selector);
            amount = _word(data, 36);
        } else if (selector == TRANSFER_FROM) {
            if (data.length < 100) revert MalformedTokenCall(n, target, selector);
            uint256 from = _word(data, 4);
            if (from != uint256(uint160(account))) revert TransferFromOther(n, target, address(uint160(from)));
            amount = _word(data, 68);
        } else {
            revert SelectorRefused(n, target, selector);
        }
        amounts[li] = _add(amounts[li], amount);
    }

    function _find(Limit[] memory limits, address token) internal pure returns (uint256) {
        for (uint256 i = 0; i < limits.length; i++) {
            if (limits[i].token == token) return i;
        }
        return NO_LIMIT;
    }

    function _word(bytes memory data, uint256 at) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := mload(add(add(data, 32), at))
        }
    }

    function _add(uint256 a, uint256 b) internal pure returns (uint256) {
        unchecked {
            uint256 s = a + b;
            return s < a ? NO_LIMIT : s;
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Kernel v3 / ERC-7579 module surface (Namera devnet plugins)
/// @notice Types, interfaces and constants the Kernel v3 account uses to talk to its modules.
///         Written from the public interface definitions; function signatures must match
///         byte for byte because the account calls them by selector.

/// ERC-4337 v0.7 packed user operation, as handed to validators, policies and signers.
struct PackedUserOperation {
    address sender;
    uint256 nonce;
    bytes initCode;
    bytes callData;
    bytes32 accountGasLimits; // verificationGasLimit (u128) ‖ callGasLimit (u128)
    uint256 preVerificationGas;
    bytes32 gasFees; // maxPriorityFeePerGas (u128) ‖ maxFeePerGas (u128)
    bytes paymasterAndData;
    bytes signature;
}

uint256 constant MODULE_TYPE_VALIDATOR = 1;
uint256 constant MODULE_TYPE_EXECUTOR = 2;
uint256 constant MODULE_TYPE_FALLBACK = 3;
uint256 constant MODULE_TYPE_HOOK = 4;
uint256 constant MODULE_TYPE_POLICY = 5;
uint256 constant MODULE_TYPE_SIGNER = 6;

uint256 constant VALIDATION_SUCCESS = 0;
uint256 constant VALIDATION_FAILED = 1;

bytes4 constant ERC1271_MAGIC = 0x1626ba7e;
bytes4 constant ERC1271_REJECT = 0xffffffff;

interface IModule {
    error AlreadyInitialized(address smartAccount);
    error NotInitialized(address smartAccount);

    function onInstall(bytes calldata data) external payable;
    function onUninstall(bytes calldata data) external payable;
    function isModuleType(uint256 moduleTypeId) external view returns (bool);
    function isInitialized(address smartAccount) external view returns (bool);
}

interface IValidator is IModule {
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external payable returns (uint256);
    function isValidSignatureWithSender(address sender, bytes32 hash, bytes calldata data)
        external
        view
        returns (bytes4);
}

interface IHook is IModule {
    function preCheck(address msgSender, uint256 msgValue, bytes calldata msgData)
        external
        payable
        returns (bytes memory hookData);
    function postCheck(bytes calldata hookData) external payable;
}

interface IPolicy is IModule {
    function checkUserOpPolicy(bytes32 id, PackedUserOperation calldata userOp) external payable returns (uint256);
    function checkSignaturePolicy(bytes32 id, address sender, bytes32 hash, bytes calldata sig)
        external
        view
        returns (uint256);
}

interface ISigner is IModule {
    function checkUserOpSignature(bytes32 id, PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        payable
        returns (uint256);
    function checkSignature(bytes32 id, address sender, bytes32 hash, bytes calldata sig)
        external
        view
        returns (bytes4);
}

/// @notice ERC-4337 validationData packing: validAfter (48 bits) at 208, validUntil (48 bits) at 160,
///         low 160 bits = 0 for success / 1 for signature failure. validUntil 0 means "no expiry".
function packValidationData(uint48 validAfter, uint48 validUntil) pure returns (uint256) {
    return (uint256(validAfter) << 208) | (uint256(validUntil) << 160);
}

/// @notice Lifecycle of one (permission id, account) entry in a stateful permission module.
///         A removed entry is Deprecated and can never be installed again.
enum EntryState {
    Unused,
    Active,
    Retired
}

/// @notice Shared plumbing for modules that Kernel installs as part of a permission (policies, signers).
///         Kernel hands them `bytes32(bytes4 permissionId) ‖ payload` on install and uninstall.
abstract contract PermissionModule is IModule {
    /// @dev per-account counter of live ids; storage slot keccak(account ‖ 0) is account-associated.
    mapping(address account => uint256) public usedIds;

    /// @dev Data shorter than the 32-byte id reverts with no data (an out-of-range calldata
    ///      slice), as the public plugins do.
    function onInstall(bytes calldata data) external payable {
        _install(bytes32(data[0:32]), data[32:]);
        unchecked {
            usedIds[msg.sender] += 1;
        }
    }

    function onUninstall(bytes calldata data) external payable {
        _uninstall(bytes32(data[0:32]), data[32:]);
        usedIds[msg.sender] -= 1;
    }

    function isInitialized(address account) external view returns (bool) {
        return usedIds[account] != 0;
    }

    function _install(bytes32 id, bytes calldata payload) internal virtual;
    function _uninstall(bytes32 id, bytes calldata payload) internal virtual;
}

/// @notice Base for policies whose per-(id, account) entry moves Unused → Active → Retired.
abstract contract StatefulPolicy is PermissionModule, IPolicy {
    /// @dev slot keccak(account ‖ keccak(id ‖ 1)): account-associated under ERC-7562.
    mapping(bytes32 id => mapping(address account => EntryState)) public status;

    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_POLICY;
    }

    /// @dev A used id (live or retired) reverts with no data, like the public plugins.
    function _activate(bytes32 id) internal {
        require(status[id][msg.sender] == EntryState.Unused);
        status[id][msg.sender] = EntryState.Active;
    }

    function _retire(bytes32 id) internal {
        _requireActive(id, msg.sender);
        status[id][msg.sender] = EntryState.Retired;
    }

    /// @dev An id that is not live reverts with no data, like the public plugins.
    function _requireActive(bytes32 id, address account) internal view {
        require(status[id][account] == EntryState.Active);
    }

    /// @dev default ERC-1271 behaviour: pass while the entry is active.
    function checkSignaturePolicy(bytes32 id, address, bytes32, bytes calldata)
        external
        view
        virtual
        returns (uint256)
    {
        _requireActive(id, msg.sender);
        return VALIDATION_SUCCESS;
    }
}

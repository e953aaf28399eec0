// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IValidator, IHook, MODULE_TYPE_VALIDATOR, MODULE_TYPE_HOOK} from "./Kernel7579.sol";

/// @notice One secp256k1 owner per account. Also usable as a Kernel hook that only lets the owner through.
abstract contract OwnerValidatorBase is IValidator, IHook {
    event OwnerRegistered(address indexed kernel, address indexed owner);


    /// @dev Getter name/shape kept from the public ECDSA validator (`ecdsaValidatorStorage(address) → owner`).
    ///      Slot keccak(account ‖ 0): account-associated under ERC-7562.
    mapping(address account => address owner) public ecdsaValidatorStorage;

    /// @param data 20-byte owner address (longer data: the first 20 bytes are used).
    /// @dev Install data shorter than 20 bytes reverts with no data; a zero owner is stored as
    ///      given (the account then counts as not initialized), as in the public validators.
    function onInstall(bytes calldata data) external payable {
        _beforeInstall();
        address owner = address(bytes20(data[0:20]));
        ecdsaValidatorStorage[msg.sender] = owner;
        emit OwnerRegistered(msg.sender, owner);
    }

    function onUninstall(bytes calldata) external payable {
        if (ecdsaValidatorStorage[msg.sender] == address(0)) revert NotInitialized(msg.sender);
        delete ecdsaValidatorStorage[msg.sender];
    }

    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR || moduleTypeId == MODULE_TYPE_HOOK;
    }

    function isInitialized(address account) external view returns (bool) {
        return ecdsaValidatorStorage[account] != address(0);
    }

    /// @notice Hook mode: only the owner may call the hooked function directly.
    function preCheck(address msgSender, uint256, bytes calldata) external payable returns (bytes memory) {
        require(msgSender == ecdsaValidatorStorage[msg.sender], "ECDSAValidator: sender is not owner");
        return "";
    }

    function postCheck(bytes calldata) external payable {}

    /// @dev What a validator checks before (re)installing: nothing by default.
    function _beforeInstall() internal view virtual {}
}

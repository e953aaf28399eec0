// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PackedUserOperation, VALIDATION_SUCCESS, VALIDATION_FAILED, ERC1271_MAGIC, ERC1271_REJECT} from "./lib/Kernel7579.sol";
import {OwnerValidatorBase} from "./lib/OwnerValidatorBase.sol";
import {SigLib} from "./lib/SigLib.sol";

/// @title ECDSAValidator (Namera devnet implementation)
/// @notice Kernel v3 validator (module type 1, also hook type 4): the account's owner is one
///         secp256k1 key. Canonical address 0x845ADb2C711129d4f3966735eD98a9F09fC4cE57.
///         A signature (65-byte r‖s‖v) is accepted over the raw hash or over its EIP-191
///         personal-message hash, for UserOperations and for ERC-1271 alike.
contract ECDSAValidator is OwnerValidatorBase {
    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        payable
        returns (uint256)
    {
        return SigLib.signedByRawOrPersonal(ecdsaValidatorStorage[msg.sender], userOpHash, userOp.signature)
            ? VALIDATION_SUCCESS
            : VALIDATION_FAILED;
    }

    /// @dev The plain validator refuses a second install (the multi-chain one overwrites).
    function _beforeInstall() internal view override {
        if (ecdsaValidatorStorage[msg.sender] != address(0)) revert AlreadyInitialized(msg.sender);
    }

    function isValidSignatureWithSender(address, bytes32 hash, bytes calldata sig) external view returns (bytes4) {
        return SigLib.signedByRawOrPersonal(ecdsaValidatorStorage[msg.sender], hash, sig) ? ERC1271_MAGIC : ERC1271_REJECT;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    IValidator,
    PackedUserOperation,
    MODULE_TYPE_VALIDATOR,
    VALIDATION_SUCCESS,
    VALIDATION_FAILED,
    ERC1271_MAGIC,
    ERC1271_REJECT
} from "./lib/Kernel7579.sol";
import {WebAuthnLib} from "./lib/WebAuthnLib.sol";

/// @title WebAuthnValidator (Namera devnet implementation)
/// @notice Kernel v3 validator (type 1) for a passkey (P-256 / WebAuthn) owner.
///         Canonical address 0x7ab16Ff354AcB328452F1D445b3Ddee9a91e9e69.
///         Install data: abi.encode((uint256 x, uint256 y), bytes32 authenticatorIdHash).
///         Signature: see WebAuthnLib. The challenge is the userOpHash / ERC-1271 hash itself.
contract WebAuthnValidator is IValidator {
    struct PublicKey {
        uint256 pubKeyX;
        uint256 pubKeyY;
    }

    error InvalidPublicKey();

    event WebAuthnPublicKeyRegistered(
        address indexed kernel, bytes32 indexed authenticatorIdHash, uint256 pubKeyX, uint256 pubKeyY
    );

    /// @dev slots keccak(account ‖ 0) + {0,1}: account-associated.
    mapping(address kernel => PublicKey) public webAuthnValidatorStorage;

    function onInstall(bytes calldata data) external payable {
        if (webAuthnValidatorStorage[msg.sender].pubKeyX != 0) revert AlreadyInitialized(msg.sender);
        (uint256 x, uint256 y, bytes32 authenticatorIdHash) = abi.decode(data, (uint256, uint256, bytes32));
        if (x == 0 || y == 0) revert InvalidPublicKey();
        webAuthnValidatorStorage[msg.sender] = PublicKey(x, y);
        emit WebAuthnPublicKeyRegistered(msg.sender, authenticatorIdHash, x, y);
    }

    function onUninstall(bytes calldata) external payable {
        if (webAuthnValidatorStorage[msg.sender].pubKeyX == 0) revert NotInitialized(msg.sender);
        delete webAuthnValidatorStorage[msg.sender];
    }

    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_VALIDATOR;
    }

    function isInitialized(address account) external view returns (bool) {
        return webAuthnValidatorStorage[account].pubKeyX != 0;
    }

    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        payable
        returns (uint256)
    {
        PublicKey memory key = webAuthnValidatorStorage[msg.sender];
        return WebAuthnLib.verify(userOpHash, userOp.signature, key.pubKeyX, key.pubKeyY)
            ? VALIDATION_SUCCESS
            : VALIDATION_FAILED;
    }

    function isValidSignatureWithSender(address, bytes32 hash, bytes calldata sig) external view returns (bytes4) {
        PublicKey memory key = webAuthnValidatorStorage[msg.sender];
        return WebAuthnLib.verify(hash, sig, key.pubKeyX, key.pubKeyY) ? ERC1271_MAGIC : ERC1271_REJECT;
    }
}

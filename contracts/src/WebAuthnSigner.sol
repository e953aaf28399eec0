// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    ISigner,
    PackedUserOperation,
    PermissionModule,
    MODULE_TYPE_SIGNER,
    VALIDATION_SUCCESS,
    VALIDATION_FAILED,
    ERC1271_MAGIC,
    ERC1271_REJECT
} from "./lib/Kernel7579.sol";
import {WebAuthnLib} from "./lib/WebAuthnLib.sol";

/// @title WebAuthnSigner (Namera devnet implementation)
/// @notice Kernel v3 permission signer (type 6): a passkey (P-256) key per (permission id, account).
///         Canonical address 0x65DEeC8fEe717dc044D0CFD63cCf55F02cCaC2b3.
///         signerData: abi.encode((uint256 x, uint256 y), bytes32 authenticatorIdHash).
///         Signature: see WebAuthnLib; the challenge is the userOpHash (or the ERC-1271 hash Kernel
///         passes, i.e. its EIP-712 `Kernel(bytes32 hash)` wrapper digest).
contract WebAuthnSigner is PermissionModule, ISigner {
    struct PublicKey {
        uint256 pubKeyX;
        uint256 pubKeyY;
    }

    error InvalidPublicKey();

    event WebAuthnPublicKeyRegistered(
        address indexed kernel, bytes32 indexed authenticatorIdHash, uint256 pubKeyX, uint256 pubKeyY
    );

    /// @dev slots keccak(account ‖ keccak(id ‖ 1)) + {0,1}: account-associated.
    mapping(bytes32 id => mapping(address kernel => PublicKey)) public webAuthnSignerStorage;

    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_SIGNER;
    }

    function checkUserOpSignature(bytes32 id, PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        payable
        returns (uint256)
    {
        PublicKey memory key = webAuthnSignerStorage[id][msg.sender];
        return WebAuthnLib.verify(userOpHash, userOp.signature, key.pubKeyX, key.pubKeyY)
            ? VALIDATION_SUCCESS
            : VALIDATION_FAILED;
    }

    function checkSignature(bytes32 id, address, bytes32 hash, bytes calldata sig) external view returns (bytes4) {
        PublicKey memory key = webAuthnSignerStorage[id][msg.sender];
        return WebAuthnLib.verify(hash, sig, key.pubKeyX, key.pubKeyY) ? ERC1271_MAGIC : ERC1271_REJECT;
    }

    function _install(bytes32 id, bytes calldata payload) internal override {
        if (webAuthnSignerStorage[id][msg.sender].pubKeyX != 0) revert AlreadyInitialized(msg.sender);
        (uint256 x, uint256 y, bytes32 authenticatorIdHash) = abi.decode(payload, (uint256, uint256, bytes32));
        if (x == 0 || y == 0) revert InvalidPublicKey();
        webAuthnSignerStorage[id][msg.sender] = PublicKey(x, y);
        emit WebAuthnPublicKeyRegistered(msg.sender, authenticatorIdHash, x, y);
    }

    function _uninstall(bytes32 id, bytes calldata) internal override {
        if (webAuthnSignerStorage[id][msg.sender].pubKeyX == 0) revert NotInitialized(msg.sender);
        delete webAuthnSignerStorage[id][msg.sender];
    }
}

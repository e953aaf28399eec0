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
import {SigLib} from "./lib/SigLib.sol";

/// @title ECDSASigner (Namera devnet implementation)
/// @notice Kernel v3 permission signer (type 6): one secp256k1 session key per (permission id, account).
///         Canonical address 0x6A6F069E2a08c2468e7724Ab3250CdBFBA14D4FF.
///         signerData: 20-byte session key address. Signatures: 65-byte r‖s‖v over the EIP-191
///         personal-message hash of the userOpHash (what the SDK sends) or over the raw hash.
contract ECDSASigner is PermissionModule, ISigner {

    /// @dev slot keccak(account ‖ keccak(id ‖ 1)): account-associated.
    mapping(bytes32 id => mapping(address wallet => address)) public signer;

    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == MODULE_TYPE_SIGNER;
    }

    function checkUserOpSignature(bytes32 id, PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        payable
        returns (uint256)
    {
        return SigLib.signedByRawOrPersonal(signer[id][msg.sender], userOpHash, userOp.signature)
            ? VALIDATION_SUCCESS
            : VALIDATION_FAILED;
    }

    function checkSignature(bytes32 id, address, bytes32 hash, bytes calldata sig) external view returns (bytes4) {
        return SigLib.signedByRawOrPersonal(signer[id][msg.sender], hash, sig) ? ERC1271_MAGIC : ERC1271_REJECT;
    }

    function _install(bytes32 id, bytes calldata payload) internal override {
        // a used id reverts with no data; payload shorter than 20 bytes too (calldata slice);
        // a zero key is stored as given, like the public signer
        require(signer[id][msg.sender] == address(0));
        signer[id][msg.sender] = address(bytes20(payload[0:20]));
    }

    function _uninstall(bytes32 id, bytes calldata) internal override {
        require(signer[id][msg.sender] != address(0));
        delete signer[id][msg.sender];
    }
}

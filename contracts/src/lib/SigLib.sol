// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Signature helpers for the Namera devnet plugins (secp256k1, EIP-191, Merkle proofs).
library SigLib {
    /// @notice A signature that is not 64 or 65 bytes long, or that ecrecover cannot recover
    ///         (v not 27/28, r or s out of range), as the public plugins' signature library reports it.
    error InvalidSignature();

    /// @dev 65-byte r‖s‖v (v used as given, never adjusted) or 64-byte EIP-2098 r‖vs. Reverts
    ///      InvalidSignature() when nothing can be recovered, never returns 0.
    function recover(bytes32 digest, bytes calldata sig) internal view returns (address) {
        if (sig.length == 65) {
            return recoverParts(digest, uint8(sig[64]), bytes32(sig[0:32]), bytes32(sig[32:64]));
        }
        if (sig.length == 64) {
            bytes32 vs = bytes32(sig[32:64]);
            return recoverParts(
                digest, uint8(uint256(vs) >> 255) + 27, bytes32(sig[0:32]), vs & bytes32(type(uint256).max >> 1)
            );
        }
        revert InvalidSignature();
    }

    /// @dev ecrecover (precompile 0x01, allowed during ERC-4337 validation). High-s signatures are
    ///      not rejected: replay is prevented by the account nonce / the hash itself.
    function recoverParts(bytes32 digest, uint8 v, bytes32 r, bytes32 s) internal view returns (address signer) {
        (bool ok, bytes memory out) = address(1).staticcall(abi.encode(digest, v, r, s));
        if (!ok || out.length != 32) revert InvalidSignature();
        signer = abi.decode(out, (address));
    }

    function toEthSignedMessageHash(bytes32 h) internal pure returns (bytes32 out) {
        assembly {
            mstore(0x00, "\x19Ethereum Signed Message:\n32")
            mstore(0x1c, h)
            out := keccak256(0x00, 0x3c)
        }
    }

    /// @dev `owner` signed `digest`, raw or as an EIP-191 personal message. The raw form is tried
    ///      first; a malformed signature reverts InvalidSignature() whoever the owner is (even none).
    function signedByRawOrPersonal(address owner, bytes32 digest, bytes calldata sig) internal view returns (bool) {
        if (recover(digest, sig) == owner) return true;
        return recover(toEthSignedMessageHash(digest), sig) == owner;
    }

    function merkleVerify(bytes32[] memory proof, bytes32 root, bytes32 leaf) internal pure returns (bool) {
        bytes32 node = leaf;
        for (uint256 i = 0; i < proof.length; i++) {
            bytes32 sibling = proof[i];
            node = node < sibling ? _hashPair(node, sibling) : _hashPair(sibling, node);
        }
        return node == root;
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32 h) {
        assembly {
            mstore(0x00, a)
            mstore(0x20, b)
            h := keccak256(0x00, 0x40)
        }
    }
}

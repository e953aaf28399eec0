// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Signature helpers for the Namera devnet plugins (secp256k1, EIP-191, Merkle proofs).
library SigLib {
    /// @notice Recover the signer of `digest` from a 65-byte r‖s‖v (v = 27/28 or 0/1) or a
    ///         64-byte EIP-2098 compact signature. Returns address(0) for anything malformed.
    function recover(bytes32 digest, bytes calldata sig) internal pure returns (address signer) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        if (sig.length == 65) {
            r = bytes32(sig[0:32]);
            s = bytes32(sig[32:64]);
            v = uint8(sig[64]);
            if (v < 27) v += 27;
        } else if (sig.length == 64) {
            r = bytes32(sig[0:32]);
            bytes32 vs = bytes32(sig[32:64]);
            s = vs & bytes32(uint256(type(uint256).max >> 1));
            v = uint8(uint256(vs) >> 255) + 27;
        } else {
            return address(0);
        }
        return recoverParts(digest, v, r, s);
    }

    function recoverMem(bytes32 digest, bytes memory sig) internal pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
        if (v < 27) v += 27;
        return recoverParts(digest, v, r, s);
    }

    function recoverParts(bytes32 digest, uint8 v, bytes32 r, bytes32 s) internal pure returns (address) {
        if (v != 27 && v != 28) return address(0);
        // Like the reference validators, high-s signatures are not rejected here: replay is
        // prevented by the account nonce / the hash itself, not by signature uniqueness.
        // ecrecover (precompile 0x01) is allowed during ERC-4337 validation; returns 0 on failure.
        return ecrecover(digest, v, r, s);
    }

    /// @notice EIP-191 "personal message" hash of a 32-byte value.
    function toEthSignedMessageHash(bytes32 h) internal pure returns (bytes32 out) {
        assembly {
            mstore(0x00, "\x19Ethereum Signed Message:\n32")
            mstore(0x1c, h)
            out := keccak256(0x00, 0x3c)
        }
    }

    /// @notice True iff `owner` (non-zero) signed `digest` either directly or as an EIP-191 message.
    function signedByRawOrPersonal(address owner, bytes32 digest, bytes calldata sig) internal pure returns (bool) {
        if (owner == address(0)) return false;
        if (recover(digest, sig) == owner) return true;
        return recover(toEthSignedMessageHash(digest), sig) == owner;
    }

    function signedByRawOrPersonalMem(address owner, bytes32 digest, bytes memory sig) internal pure returns (bool) {
        if (owner == address(0)) return false;
        if (recoverMem(digest, sig) == owner) return true;
        return recoverMem(toEthSignedMessageHash(digest), sig) == owner;
    }

    /// @notice Sorted-pair keccak Merkle proof; leaves are used as given (not re-hashed).
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

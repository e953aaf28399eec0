// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PackedUserOperation, VALIDATION_SUCCESS, VALIDATION_FAILED, ERC1271_MAGIC, ERC1271_REJECT} from "./lib/Kernel7579.sol";
import {OwnerValidatorBase} from "./lib/OwnerValidatorBase.sol";
import {SigLib} from "./lib/SigLib.sol";

/// @title MultiChainECDSAValidator (Namera devnet implementation)
/// @notice Kernel v3 validator (type 1, also hook type 4) for one secp256k1 owner that can approve
///         many hashes (e.g. the same Enable digest on N chains, or N UserOperations) with a single
///         signature over a Merkle root. Canonical address 0x5C97aA67Ba578E3c54ec5942A7563Ea9130E4f5F.
///
/// Signature forms (UserOperation and ERC-1271):
///   * exactly 65 bytes: plain ECDSA over the hash (raw or EIP-191);
///   * ecdsaSig(65) ‖ merkleRoot(32) ‖ abi.encode(bytes32[] proof): the owner signed the root
///     (raw or EIP-191) and `proof` shows the hash is a leaf (sorted pairs, leaves not re-hashed);
///   * UserOperation only, for gas estimation: when ecdsaSig equals the well-known dummy signature,
///     the tail is abi.encode(bytes32 dummyLeaf, bytes32[] proof) and the proof is checked against
///     dummyLeaf; the ECDSA check then fails and the op is reported as signature-failed (1).
contract MultiChainECDSAValidator is OwnerValidatorBase {

    bytes32 private constant DUMMY_SIG_HASH = keccak256(
        hex"fffffffffffffffffffffffffffffff0000000000000000000000000000000007aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1c"
    );

    function validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash)
        external
        payable
        returns (uint256)
    {
        return _check(ecdsaValidatorStorage[msg.sender], userOpHash, userOp.signature, true)
            ? VALIDATION_SUCCESS
            : VALIDATION_FAILED;
    }

    function isValidSignatureWithSender(address, bytes32 hash, bytes calldata sig) external view returns (bytes4) {
        return _check(ecdsaValidatorStorage[msg.sender], hash, sig, false) ? ERC1271_MAGIC : ERC1271_REJECT;
    }

    function _check(address owner, bytes32 hash, bytes calldata sig, bool allowDummy) private view returns (bool) {
        if (sig.length == 65) {
            return SigLib.signedByRawOrPersonal(owner, hash, sig);
        }
        bytes calldata ecdsaSig = sig[0:65];
        bytes32 root = bytes32(sig[65:97]);
        bytes32 leaf = hash;
        bytes32[] memory proof;
        if (allowDummy && keccak256(ecdsaSig) == DUMMY_SIG_HASH) {
            (leaf, proof) = abi.decode(sig[97:], (bytes32, bytes32[]));
        } else {
            proof = abi.decode(sig[97:], (bytes32[]));
        }
        require(SigLib.merkleVerify(proof, root, leaf), "hash is not in proof");
        return SigLib.signedByRawOrPersonal(owner, root, ecdsaSig);
    }
}

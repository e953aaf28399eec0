// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title P256Verifier (Namera devnet implementation of Daimo's interface)
/// @notice Answers at 0xc2b78104907F722DABAc4C69f826a522B2754De4 exactly as Daimo's
///         p256-verifier does on public chains, so the canonical WebAuthn plugins (which call it
///         even where the precompile exists, e.g. for the estimation placeholder) behave on the
///         devnet as they do there. Calling convention (no selector, like the precompile):
///           input  = hash(32) ‖ r(32) ‖ s(32) ‖ x(32) ‖ y(32), exactly 160 bytes;
///           output = 32 bytes, 1 for a valid signature, 0 for anything else: a wrong input
///                    length, r or s outside [1, n), a key that is not on the curve, or a
///                    signature that does not verify. High s is accepted (no malleability rule).
///         It never reverts on input, but refuses ether like Daimo's (a non-payable fallback).
///         The curve arithmetic is delegated to the RIP-7212 / EIP-7951 precompile at 0x100
///         (anvil --hardfork osaka has it), which answers nothing for an invalid signature and
///         32 bytes of 1 for a valid one, with the same validity rules.
contract P256Verifier {
    address private constant PRECOMPILE = 0x0000000000000000000000000000000000000100;

    fallback(bytes calldata input) external returns (bytes memory) {
        if (input.length != 160) return abi.encode(uint256(0));
        (bool success, bytes memory answer) = PRECOMPILE.staticcall(input);
        bool valid = success && answer.length == 32 && abi.decode(answer, (uint256)) == 1;
        return abi.encode(valid ? uint256(1) : uint256(0));
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title WebAuthn assertion checks for passkey (P-256) signatures.
/// @notice Signature encoding (as produced by the ZeroDev SDK):
///   abi.encode(bytes authenticatorData, string clientDataJSON, uint256 responseTypeLocation,
///              uint256 r, uint256 s, bool usePrecompiled)
///   The WebAuthn challenge is the 32-byte hash itself, base64url without padding, and the text
///   `"challenge":"<b64url>"` must start at byte 23 of clientDataJSON; `"type":"webauthn.get"` must
///   start at responseTypeLocation. Signed message = sha256(authenticatorData ‖ sha256(clientDataJSON)).
library WebAuthnLib {
    /// @dev `"challenge":"` starts right after `{"type":"webauthn.get",` (23 bytes).
    uint256 internal constant CHALLENGE_LOCATION = 23;
    /// @dev P-256 group order n divided by 2 (low-s rule).
    uint256 internal constant P256_HALF_N = 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8;
    /// @dev RIP-7212 / EIP-7951 precompile.
    address internal constant P256_PRECOMPILE = 0x0000000000000000000000000000000000000100;
    /// @dev Daimo's Solidity P-256 verifier (same calling convention as the precompile).
    address internal constant DAIMO_P256_VERIFIER = 0xc2b78104907F722DABAc4C69f826a522B2754De4;

    bytes1 private constant FLAG_UP = 0x01; // user present
    bytes1 private constant FLAG_UV = 0x04; // user verified
    bytes1 private constant FLAG_BE = 0x08; // backup eligible
    bytes1 private constant FLAG_BS = 0x10; // backed up

    bytes private constant B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// @notice Whether `encodedSig` is a valid WebAuthn assertion over `hash` by key (x, y).
    /// @dev Follows the public plugins step by step, because the order is observable: every
    ///      check is collected first, then the curve check runs; a gas-estimation dummy
    ///      (responseTypeLocation = 2^256-1) asks the Daimo verifier and is never valid.
    ///      A malformed `encodedSig` reverts with no data (ABI decoding).
    function verify(bytes32 hash, bytes calldata encodedSig, uint256 x, uint256 y) internal view returns (bool) {
        (
            bytes memory authenticatorData,
            bytes memory clientDataJSON,
            uint256 responseTypeLocation,
            uint256 r,
            uint256 s,
            bool usePrecompiled
        ) = abi.decode(encodedSig, (bytes, bytes, uint256, uint256, uint256, bool));

        bool ok = true;
        if (authenticatorData.length < 37 || !flagsAcceptable(authenticatorData[32])) ok = false;
        if (!containsAt(clientDataJSON, bytes('"type":"webauthn.get"'), responseTypeLocation)) ok = false;
        bytes memory expectedChallenge =
            bytes.concat(bytes('"challenge":"'), base64UrlEncode(abi.encodePacked(hash)), bytes('"'));
        if (!containsAt(clientDataJSON, expectedChallenge, CHALLENGE_LOCATION)) ok = false;

        bytes32 message = sha256(bytes.concat(authenticatorData, sha256(clientDataJSON)));
        if (responseTypeLocation == type(uint256).max) {
            p256Verify(message, r, s, x, y, false);
            return false;
        }
        return p256Verify(message, r, s, x, y, usePrecompiled) && ok;
    }

    /// @notice UP and UV must be set; BS (backed up) without BE (backup eligible) is inconsistent.
    function flagsAcceptable(bytes1 flags) internal pure returns (bool) {
        if (flags & FLAG_UP == 0) return false;
        if (flags & FLAG_UV == 0) return false;
        if (flags & FLAG_BE == 0 && flags & FLAG_BS != 0) return false;
        return true;
    }

    /// @notice True iff `needle` occurs in `haystack` starting exactly at byte `at`.
    function containsAt(bytes memory haystack, bytes memory needle, uint256 at) internal pure returns (bool) {
        if (at > haystack.length || haystack.length - at < needle.length) return false;
        for (uint256 i = 0; i < needle.length; i++) {
            if (haystack[at + i] != needle[i]) return false;
        }
        return true;
    }

    /// @notice P-256 check of `message` by (x, y). A high s (> n/2) is refused before any call.
    ///         The precompile (0x100) answers nothing for an invalid signature, which means
    ///         "invalid"; the Daimo verifier always answers 32 bytes, and an address without it
    ///         answers nothing, which reverts (no data) as in the public plugins.
    function p256Verify(bytes32 message, uint256 r, uint256 s, uint256 x, uint256 y, bool usePrecompiled)
        internal
        view
        returns (bool)
    {
        if (s > P256_HALF_N) return false;
        bytes memory input = abi.encode(message, r, s, x, y);
        if (usePrecompiled) {
            (bool success, bytes memory answer) = P256_PRECOMPILE.staticcall(input);
            if (!success || answer.length == 0) return false;
            return abi.decode(answer, (uint256)) == 1;
        }
        (, bytes memory out) = DAIMO_P256_VERIFIER.staticcall(input);
        return abi.decode(out, (uint256)) == 1;
    }

    /// @notice RFC 4648 §5 base64url, without '=' padding.
    function base64UrlEncode(bytes memory data) internal pure returns (bytes memory out) {
        uint256 len = data.length;
        if (len == 0) return out;
        out = new bytes((len * 8 + 5) / 6);
        bytes memory alphabet = B64URL_ALPHABET;
        uint256 o = 0;
        uint256 i = 0;
        // whole 3-byte groups → 4 characters
        for (; i + 3 <= len; i += 3) {
            uint256 g = (uint256(uint8(data[i])) << 16) | (uint256(uint8(data[i + 1])) << 8) | uint256(uint8(data[i + 2]));
            out[o++] = alphabet[(g >> 18) & 63];
            out[o++] = alphabet[(g >> 12) & 63];
            out[o++] = alphabet[(g >> 6) & 63];
            out[o++] = alphabet[g & 63];
        }
        uint256 rest = len - i;
        if (rest == 1) {
            uint256 g = uint256(uint8(data[i])) << 16;
            out[o++] = alphabet[(g >> 18) & 63];
            out[o++] = alphabet[(g >> 12) & 63];
        } else if (rest == 2) {
            uint256 g = (uint256(uint8(data[i])) << 16) | (uint256(uint8(data[i + 1])) << 8);
            out[o++] = alphabet[(g >> 18) & 63];
            out[o++] = alphabet[(g >> 12) & 63];
            out[o++] = alphabet[(g >> 6) & 63];
        }
    }
}

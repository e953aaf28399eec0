//! Solidity interfaces of the Kernel account, its factories and the EntryPoint.
//!
//! Declared once with `sol!` so selectors and encodings come from the signatures rather
//! than hand-written byte strings.

#![allow(missing_docs)]

use alloy_sol_types::sol;

sol! {
    /// A Kernel v3 account (the parts the SDK calls).
    interface IKernel {
        struct ValidationConfig { uint32 nonce; address hook; }

        function initialize(
            bytes21 rootValidator,
            address hook,
            bytes validatorData,
            bytes hookData,
            bytes[] initConfig
        ) external;
        function execute(bytes32 execMode, bytes executionCalldata) external payable;
        function installValidations(
            bytes21[] vIds,
            ValidationConfig[] configs,
            bytes[] validationData,
            bytes[] hookData
        ) external payable;
        function grantAccess(bytes21 vId, bytes4 selector, bool allow) external payable;
        function uninstallValidation(bytes21 vId, bytes deinitData, bytes hookDeinitData)
            external payable;
        function invalidateNonce(uint32 nonce) external payable;
        function currentNonce() external view returns (uint32);
        function validNonceFrom() external view returns (uint32);
        function rootValidator() external view returns (bytes21);
        function validationConfig(bytes21 vId) external view returns (ValidationConfig);
        function permissionConfig(bytes4 pId)
            external view returns (bytes2 permissionFlag, address signer, bytes22[] policyData);
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4);
    }

    /// The meta factory (FactoryStaker) that forwards to an approved KernelFactory.
    interface IMetaFactory {
        function deployWithFactory(address factory, bytes createData, bytes32 salt)
            external payable returns (address);
    }

    /// The KernelFactory that CREATE2-deploys account proxies.
    interface IKernelFactory {
        function createAccount(bytes data, bytes32 salt) external payable returns (address);
        function getAddress(bytes data, bytes32 salt) external view returns (address);
    }

    /// One item of a batch execution, `abi.encode`d as an array.
    struct Execution { address target; uint256 value; bytes callData; }

    /// EntryPoint v0.7's packed UserOperation.
    struct PackedUserOperation {
        address sender;
        uint256 nonce;
        bytes initCode;
        bytes callData;
        bytes32 accountGasLimits;
        uint256 preVerificationGas;
        bytes32 gasFees;
        bytes paymasterAndData;
        bytes signature;
    }

    /// The EIP-712 struct the root validator signs to enable a validation in enable mode.
    struct Enable {
        bytes21 validationId;
        uint32 nonce;
        address hook;
        bytes validatorData;
        bytes hookData;
        bytes selectorData;
    }

    /// The EIP-712 wrapper Kernel puts around an ERC-1271 hash.
    struct Kernel { bytes32 hash; }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IKernelFactory {
    function createAccount(bytes calldata data, bytes32 salt) external payable returns (address);
}

interface IEntryPointStake {
    function addStake(uint32 unstakeDelaySec) external payable;
    function unlockStake() external;
    function withdrawStake(address payable withdrawAddress) external;
}

/// @title KernelMetaFactory (Namera devnet implementation of the "FactoryStaker" behaviour)
/// @notice The UserOperation `factory` for Kernel v3 accounts: forwards to an approved KernelFactory
///         and holds the EntryPoint stake on its behalf. Canonical address
///         0xd703aaE79538628d27099B8c4f621bE4CCd142d5.
///
/// Placed with anvil_setCode (runtime code only, no constructor), so ownership is set once with
/// `initialize(owner)` while the owner slot is empty. Storage layout (for anvil_setStorageAt instead):
///   slot 0: owner (address, right-aligned)
///   slot 1: mapping(address factory => bool) approved  → approved[f] at keccak256(abi.encode(f, uint256(1)))
contract KernelMetaFactory {
    address public owner;
    mapping(address factory => bool) public approved;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event FactoryApproved(address indexed factory, bool approval);

    error Unauthorized();
    error AlreadyInitialized();
    error NotApprovedFactory();
    error ZeroOwner();

    modifier onlyOwner() {
        if (msg.sender != owner) revert Unauthorized();
        _;
    }

    /// @notice One-time owner setup (constructor replacement). Reverts once an owner is set.
    function initialize(address newOwner) external {
        if (owner != address(0)) revert AlreadyInitialized();
        if (newOwner == address(0)) revert ZeroOwner();
        owner = newOwner;
        emit OwnershipTransferred(address(0), newOwner);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroOwner();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Deploy (or return) a Kernel account through an approved KernelFactory;
    ///         selector 0xc5265d5d. Any ETH sent is forwarded to createAccount.
    function deployWithFactory(address factory, bytes calldata createData, bytes32 salt)
        external
        payable
        returns (address)
    {
        if (!approved[factory]) revert NotApprovedFactory();
        return IKernelFactory(factory).createAccount{value: msg.value}(createData, salt);
    }

    function approveFactory(address factory, bool approval) external payable onlyOwner {
        approved[factory] = approval;
        emit FactoryApproved(factory, approval);
    }

    function stake(address entryPoint, uint32 unstakeDelay) external payable onlyOwner {
        IEntryPointStake(entryPoint).addStake{value: msg.value}(unstakeDelay);
    }

    function unlockStake(address entryPoint) external payable onlyOwner {
        IEntryPointStake(entryPoint).unlockStake();
    }

    function withdrawStake(address entryPoint, address payable recipient) external payable onlyOwner {
        IEntryPointStake(entryPoint).withdrawStake(recipient);
    }

    /// @dev EntryPoint.withdrawStake sends ETH to the recipient, which may be this contract.
    receive() external payable {}
}

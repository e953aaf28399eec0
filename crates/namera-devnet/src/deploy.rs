//! Putting the contracts at their canonical addresses.
//!
//! EntryPoint v0.7 is deployed for real, through the deterministic deployment proxy with the
//! salt that lands it at its mainnet address. Kernel 0.3.1 and its factory were deployed on
//! public chains with salts and a deployer we cannot reproduce, so they are deployed
//! normally and their runtime code is copied to the canonical address with `anvil_setCode`.
//! Their immutables (Kernel's EntryPoint, the factory's implementation) are baked into that
//! runtime code, which is why the factory is constructed with the *canonical*
//! implementation address. The same goes for the plugin contracts from `contracts/`.

use std::{collections::BTreeMap, fs, path::Path};

use alloy_primitives::{Address, B256, Bytes, U256, b256};
use alloy_sol_types::{SolCall, SolValue, sol};
use namera::{
    kernel::{
        AccountConfig, KernelVersion, RootValidator,
        abi::IKernelFactory,
        addresses::{DETERMINISTIC_DEPLOYER, ENTRY_POINT_V07},
    },
    node::NodeClient,
};
use serde::{Deserialize, Serialize};

use crate::{
    anvil,
    error::{DevnetError, Result},
};

/// The Kernel release the devnet places: its implementation and factory addresses come
/// from the SDK ([`KernelVersion::implementation`], [`KernelVersion::factory`]).
pub const KERNEL_VERSION: KernelVersion = KernelVersion::V0_3_1;
/// The salt that puts EntryPoint v0.7 at
/// [`ENTRY_POINT_V07`] through the deterministic
/// deployment proxy.
pub const ENTRY_POINT_SALT: B256 =
    b256!("0x90d8084deab30c2a37c45e8d47f49f2f7965183cb6990a98943ef94940681de3");
/// How much the meta factory stakes in the EntryPoint (Alto's default minimum is 1 ETH).
pub const META_FACTORY_STAKE: U256 = U256::from_limbs([10_000_000_000_000_000_000u64, 0, 0, 0]);
/// The meta factory's unstake delay, in seconds.
pub const META_FACTORY_UNSTAKE_DELAY: u32 = 86_400;

sol! {
    interface IKernelMetaFactory {
        function initialize(address newOwner) external;
        function owner() external view returns (address);
        function approved(address factory) external view returns (bool);
        function approveFactory(address factory, bool approval) external payable;
        function stake(address entryPoint, uint32 unstakeDelay) external payable;
    }
    interface IEntryPointStake {
        struct DepositInfo { uint256 deposit; bool staked; uint112 stake; uint32 unstakeDelaySec; uint48 withdrawTime; }
        function getDepositInfo(address account) external view returns (DepositInfo memory info);
    }
}

/// Deploys EntryPoint v0.7 through the deterministic deployment proxy, unless present.
pub(crate) fn deploy_entry_point(node: &NodeClient, from: Address, creation: &[u8]) -> Result<()> {
    if !node.code(ENTRY_POINT_V07)?.is_empty() {
        return Ok(());
    }
    let what = || "EntryPoint v0.7".to_owned();
    if node.code(DETERMINISTIC_DEPLOYER)?.is_empty() {
        return Err(DevnetError::Deploy {
            what: what(),
            reason: "the deterministic deployment proxy is missing".into(),
        });
    }
    let mut data = ENTRY_POINT_SALT.to_vec();
    data.extend_from_slice(creation);
    anvil::transact(node.rpc(), from, Some(DETERMINISTIC_DEPLOYER), &data, U256::ZERO)
        .map_err(|e| DevnetError::Deploy { what: what(), reason: e.to_string() })?;
    if node.code(ENTRY_POINT_V07)?.is_empty() {
        return Err(DevnetError::Deploy {
            what: what(),
            reason: format!(
                "no code at {ENTRY_POINT_V07} after CREATE2; is this the v0.7.0 artifact?"
            ),
        });
    }
    Ok(())
}

/// Deploys Namera's budget policy for real, as on any chain: its committed creation code
/// through the deterministic deployment proxy, landing at
/// [`namera::policy::BUDGET_POLICY_ADDRESS`]. Skips when it is there.
pub(crate) fn deploy_budget_policy(node: &NodeClient, from: Address) -> Result<()> {
    let at = namera::policy::budget_policy_address();
    if !node.code(at)?.is_empty() {
        return Ok(());
    }
    let err = |reason: String| DevnetError::Deploy { what: "BudgetPolicy".into(), reason };
    let data = namera::policy::budget_deployment_call_data();
    anvil::transact(node.rpc(), from, Some(DETERMINISTIC_DEPLOYER), &data, U256::ZERO)
        .map_err(|e| err(e.to_string()))?;
    if node.code(at)?.is_empty() {
        return Err(err(format!("no code at {at} after CREATE2 through the deployment proxy")));
    }
    Ok(())
}

/// Deploys `creation` (with constructor arguments appended) from `from`, copies the resulting
/// runtime code to `target` and clears the temporary copy. Skips when `target` has code.
pub(crate) fn place(
    node: &NodeClient,
    from: Address,
    what: &str,
    creation: &[u8],
    target: Address,
) -> Result<()> {
    if !node.code(target)?.is_empty() {
        return Ok(());
    }
    let rpc = node.rpc();
    let err = |reason: String| DevnetError::Deploy { what: what.to_owned(), reason };
    let receipt =
        anvil::transact(rpc, from, None, creation, U256::ZERO).map_err(|e| err(e.to_string()))?;
    let deployed = receipt
        .contract_address
        .ok_or_else(|| err(format!("no contractAddress in receipt {receipt:?}")))?;
    let runtime = node.code(deployed)?;
    if runtime.is_empty() {
        return Err(err("the constructor returned no code".into()));
    }
    anvil::set_code(rpc, target, &runtime)?;
    // Storage the constructor wrote travels too: Kernel's constructor locks the
    // implementation (rootValidator = 0xdeadbeef) so nobody can `initialize` it.
    for (slot, value) in anvil::written_storage(rpc, receipt.transaction_hash, deployed)? {
        anvil::set_storage_at(rpc, target, slot, value)?;
    }
    anvil::set_code(rpc, deployed, &[])?;
    Ok(())
}

/// Places Kernel 0.3.1 and its KernelFactory at their canonical addresses.
pub(crate) fn place_kernel(
    node: &NodeClient,
    from: Address,
    kernel: &[u8],
    factory: &[u8],
) -> Result<()> {
    let implementation = KERNEL_VERSION.implementation();
    let mut creation = kernel.to_vec();
    creation.extend_from_slice(&ENTRY_POINT_V07.abi_encode());
    place(node, from, "Kernel 0.3.1", &creation, implementation)?;
    let mut creation = factory.to_vec();
    creation.extend_from_slice(&implementation.abi_encode());
    place(node, from, "KernelFactory 0.3.1", &creation, KERNEL_VERSION.factory())
}

/// Asks the on-chain KernelFactory for the account address (`getAddress`).
pub fn factory_get_address(node: &NodeClient, init_data: &[u8], index: B256) -> Result<Address> {
    let call =
        IKernelFactory::getAddressCall { data: Bytes::copy_from_slice(init_data), salt: index };
    node.view(KERNEL_VERSION.factory(), &call).map_err(|e| DevnetError::Deploy {
        what: "KernelFactory 0.3.1".into(),
        reason: format!("getAddress: {e}"),
    })
}

/// Checks that the placed factory agrees with the SDK's offline address computation
/// ([`AccountConfig::address`]), so a wrong placement fails `up`, not a later test.
pub(crate) fn check_factory(node: &NodeClient) -> Result<()> {
    let account = AccountConfig::new(
        KERNEL_VERSION,
        RootValidator::Ecdsa { owner: crate::DEPLOYER },
        U256::from(7u8),
    );
    let on_chain = factory_get_address(node, &account.init_data(), account.index_bytes())?;
    let offline = account.address();
    if on_chain != offline {
        return Err(DevnetError::Deploy {
            what: "KernelFactory 0.3.1".into(),
            reason: format!(
                "getAddress answered {on_chain}, the offline CREATE2 computation gives {offline}"
            ),
        });
    }
    Ok(())
}

/// One entry of `contracts/placement.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Placement {
    /// The contract's name in `artifacts.json`.
    pub contract: String,
    /// Its canonical address.
    pub address: Address,
    /// What to call after placing it, if anything.
    #[serde(default)]
    pub init: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    bytecode: Bytes,
}

/// Reads `placement.json`.
pub fn read_placement(path: &Path) -> Result<Vec<Placement>> {
    let text = fs::read_to_string(path).map_err(|e| DevnetError::io("reading", path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| DevnetError::BadArtifact { path: path.to_owned(), reason: e.to_string() })
}

/// Places every contract of `placement` from the build's `artifacts.json`, then runs its
/// `init` (the meta factory: initialize, approve the KernelFactory, stake).
pub(crate) fn place_plugins(
    node: &NodeClient,
    from: Address,
    artifacts: &Path,
    placement: &[Placement],
) -> Result<()> {
    let text =
        fs::read_to_string(artifacts).map_err(|e| DevnetError::io("reading", artifacts, e))?;
    let all: BTreeMap<String, Artifact> = serde_json::from_str(&text).map_err(|e| {
        DevnetError::BadArtifact { path: artifacts.to_owned(), reason: e.to_string() }
    })?;
    for p in placement {
        let artifact = all.get(&p.contract).ok_or_else(|| DevnetError::BadArtifact {
            path: artifacts.to_owned(),
            reason: format!("no contract {} (named in placement.json)", p.contract),
        })?;
        place(node, from, &p.contract, &artifact.bytecode, p.address)?;
        if let Some(init) = p.init.as_ref().filter(|i| !i.is_null()) {
            let function = init.get("function").and_then(|f| f.as_str()).unwrap_or("");
            match function {
                "initialize(address)" => init_meta_factory(node, from, p.address)?,
                other => {
                    return Err(DevnetError::Deploy {
                        what: p.contract.clone(),
                        reason: format!(
                            "placement.json asks for init {other:?}, which the devnet does not know"
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// `initialize(owner)`, `approveFactory(KernelFactory, true)` and `stake(EntryPoint)` on the
/// meta factory at `at`, each only if not yet done.
fn init_meta_factory(node: &NodeClient, owner: Address, at: Address) -> Result<()> {
    let err =
        |reason: String| DevnetError::Deploy { what: format!("meta factory at {at}"), reason };
    let send = |call: &[u8], value: U256| {
        anvil::transact(node.rpc(), owner, Some(at), call, value).map_err(|e| err(e.to_string()))
    };
    let factory = KERNEL_VERSION.factory();
    let current = node.view(at, &IKernelMetaFactory::ownerCall {})?;
    if current.is_zero() {
        send(&IKernelMetaFactory::initializeCall { newOwner: owner }.abi_encode(), U256::ZERO)?;
    } else if current != owner {
        return Err(err(format!("owned by {current}, not by the devnet deployer {owner}")));
    }
    if !node.view(at, &IKernelMetaFactory::approvedCall { factory })? {
        let call = IKernelMetaFactory::approveFactoryCall { factory, approval: true };
        send(&call.abi_encode(), U256::ZERO)?;
    }
    let info = node.view(ENTRY_POINT_V07, &IEntryPointStake::getDepositInfoCall { account: at })?;
    if !info.staked {
        let call = IKernelMetaFactory::stakeCall {
            entryPoint: ENTRY_POINT_V07,
            unstakeDelay: META_FACTORY_UNSTAKE_DELAY,
        };
        send(&call.abi_encode(), META_FACTORY_STAKE)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stake_constant_is_ten_ether() {
        assert_eq!(
            META_FACTORY_STAKE,
            U256::from(10u64) * U256::from(10u64).pow(U256::from(18u64))
        );
    }
}

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

use alloy_primitives::{Address, B256, Bytes, U256, address, b256, keccak256};
use alloy_sol_types::{SolCall, SolValue, sol};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    error::{DevnetError, Result},
    rpc::RpcClient,
};

/// EntryPoint v0.7.
pub const ENTRY_POINT: Address = address!("0x0000000071727De22E5E9d8BAf0edAc6f37da032");
/// The deterministic deployment proxy (CREATE2), present in anvil from genesis.
pub const DETERMINISTIC_DEPLOYER: Address = address!("0x4e59b44847b379578588920ca78fbf26c0b4956c");
/// The salt that puts EntryPoint v0.7 at [`ENTRY_POINT`].
pub const ENTRY_POINT_SALT: B256 =
    b256!("0x90d8084deab30c2a37c45e8d47f49f2f7965183cb6990a98943ef94940681de3");
/// Kernel 0.3.1 implementation.
pub const KERNEL_IMPLEMENTATION: Address = address!("0xBAC849bB641841b44E965fB01A4Bf5F074f84b4D");
/// KernelFactory for Kernel 0.3.1.
pub const KERNEL_FACTORY: Address = address!("0xaac5D4240AF87249B3f71BC8E4A2cae074A3E419");
/// The Kernel meta factory (FactoryStaker), from `contracts/`.
pub const META_FACTORY: Address = address!("0xd703aaE79538628d27099B8c4f621bE4CCd142d5");
/// How much the meta factory stakes in the EntryPoint (Alto's default minimum is 1 ETH).
pub const META_FACTORY_STAKE: U256 = U256::from_limbs([10_000_000_000_000_000_000u64, 0, 0, 0]);
/// The meta factory's unstake delay, in seconds.
pub const META_FACTORY_UNSTAKE_DELAY: u32 = 86_400;

sol! {
    interface IKernelFactory {
        function getAddress(bytes calldata data, bytes32 salt) external view returns (address);
    }
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
pub(crate) fn deploy_entry_point(rpc: &RpcClient, from: Address, creation: &[u8]) -> Result<()> {
    if !rpc.code(ENTRY_POINT)?.is_empty() {
        return Ok(());
    }
    let what = || "EntryPoint v0.7".to_owned();
    if rpc.code(DETERMINISTIC_DEPLOYER)?.is_empty() {
        return Err(DevnetError::Deploy {
            what: what(),
            reason: "the deterministic deployment proxy is missing".into(),
        });
    }
    let mut data = ENTRY_POINT_SALT.to_vec();
    data.extend_from_slice(creation);
    rpc.transact(from, Some(DETERMINISTIC_DEPLOYER), &data, U256::ZERO)
        .map_err(|e| DevnetError::Deploy { what: what(), reason: e.to_string() })?;
    if rpc.code(ENTRY_POINT)?.is_empty() {
        return Err(DevnetError::Deploy {
            what: what(),
            reason: format!("no code at {ENTRY_POINT} after CREATE2; is this the v0.7.0 artifact?"),
        });
    }
    Ok(())
}

/// Deploys `creation` (with constructor arguments appended) from `from`, copies the resulting
/// runtime code to `target` and clears the temporary copy. Skips when `target` has code.
pub(crate) fn place(
    rpc: &RpcClient,
    from: Address,
    what: &str,
    creation: &[u8],
    target: Address,
) -> Result<()> {
    if !rpc.code(target)?.is_empty() {
        return Ok(());
    }
    let err = |reason: String| DevnetError::Deploy { what: what.to_owned(), reason };
    let receipt = rpc.transact(from, None, creation, U256::ZERO).map_err(|e| err(e.to_string()))?;
    let deployed: Address = receipt
        .get("contractAddress")
        .and_then(|a| serde_json::from_value(a.clone()).ok())
        .ok_or_else(|| err(format!("no contractAddress in receipt {receipt}")))?;
    let runtime = rpc.code(deployed)?;
    if runtime.is_empty() {
        return Err(err("the constructor returned no code".into()));
    }
    rpc.set_code(target, &runtime)?;
    // Storage the constructor wrote travels too: Kernel's constructor locks the
    // implementation (rootValidator = 0xdeadbeef) so nobody can `initialize` it.
    let hash = receipt.get("transactionHash").cloned().unwrap_or_default();
    for (slot, value) in constructor_storage(rpc, &hash, deployed)? {
        rpc.call("anvil_setStorageAt", json!([target, slot, value]))?;
    }
    rpc.set_code(deployed, &[])?;
    Ok(())
}

/// The storage slots a contract-creating transaction wrote in the new contract, from
/// `debug_traceTransaction` with the prestate tracer in diff mode.
fn constructor_storage(
    rpc: &RpcClient,
    tx: &Value,
    contract: Address,
) -> Result<Vec<(B256, B256)>> {
    let trace = rpc.call(
        "debug_traceTransaction",
        json!([tx, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}]),
    )?;
    let post = trace.get("post").and_then(Value::as_object);
    let entry = post.and_then(|post| {
        post.iter().find(|(k, _)| k.parse::<Address>().is_ok_and(|a| a == contract)).map(|(_, v)| v)
    });
    let Some(storage) = entry.and_then(|e| e.get("storage")).and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    storage
        .iter()
        .map(|(slot, value)| {
            let slot = slot.parse::<B256>();
            let value = serde_json::from_value::<B256>(value.clone());
            match (slot, value) {
                (Ok(slot), Ok(value)) => Ok((slot, value)),
                _ => Err(DevnetError::Rpc {
                    url: rpc.url().to_owned(),
                    method: "debug_traceTransaction".into(),
                    reason: format!("unexpected storage entry {slot:?} in {trace}"),
                }),
            }
        })
        .collect()
}

/// Places Kernel 0.3.1 and its KernelFactory at their canonical addresses.
pub(crate) fn place_kernel(
    rpc: &RpcClient,
    from: Address,
    kernel: &[u8],
    factory: &[u8],
) -> Result<()> {
    let mut creation = kernel.to_vec();
    creation.extend_from_slice(&ENTRY_POINT.abi_encode());
    place(rpc, from, "Kernel 0.3.1", &creation, KERNEL_IMPLEMENTATION)?;
    let mut creation = factory.to_vec();
    creation.extend_from_slice(&KERNEL_IMPLEMENTATION.abi_encode());
    place(rpc, from, "KernelFactory 0.3.1", &creation, KERNEL_FACTORY)
}

/// The ERC-1967 proxy init code the KernelFactory deploys for `implementation`.
pub fn proxy_init_code(implementation: Address) -> Bytes {
    let mut code = alloy_primitives::hex!("603d3d8160223d3973").to_vec();
    code.extend_from_slice(implementation.as_slice());
    code.extend_from_slice(&alloy_primitives::hex!(
        "60095155f3363d3d373d3d363d7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc545af43d6000803e6038573d6000fd5b3d6000f3"
    ));
    code.into()
}

/// The counterfactual Kernel 0.3.1 account for `init_data` and `index`, computed offline:
/// `CREATE2(KernelFactory, keccak256(initData ‖ index), keccak256(proxy init code))`.
pub fn counterfactual_address(init_data: &[u8], index: B256) -> Address {
    let mut salt = init_data.to_vec();
    salt.extend_from_slice(index.as_slice());
    KERNEL_FACTORY.create2(keccak256(salt), keccak256(proxy_init_code(KERNEL_IMPLEMENTATION)))
}

/// Asks the on-chain KernelFactory for the account address (`getAddress`, 0x48aac392).
pub fn factory_get_address(rpc: &RpcClient, init_data: &[u8], index: B256) -> Result<Address> {
    let call =
        IKernelFactory::getAddressCall { data: Bytes::copy_from_slice(init_data), salt: index };
    let out = rpc.eth_call(KERNEL_FACTORY, &call.abi_encode())?;
    IKernelFactory::getAddressCall::abi_decode_returns(&out).map_err(|e| DevnetError::Deploy {
        what: "KernelFactory 0.3.1".into(),
        reason: format!("getAddress returned {out}: {e}"),
    })
}

/// Checks that the placed factory agrees with the offline address computation.
pub(crate) fn check_factory(rpc: &RpcClient) -> Result<()> {
    // Any bytes do for initData: getAddress only hashes them.
    let init_data = b"namera-devnet self-check";
    let index = B256::with_last_byte(7);
    let on_chain = factory_get_address(rpc, init_data, index)?;
    let offline = counterfactual_address(init_data, index);
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
    rpc: &RpcClient,
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
        place(rpc, from, &p.contract, &artifact.bytecode, p.address)?;
        if let Some(init) = p.init.as_ref().filter(|i| !i.is_null()) {
            let function = init.get("function").and_then(|f| f.as_str()).unwrap_or("");
            match function {
                "initialize(address)" => init_meta_factory(rpc, from, p.address)?,
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
fn init_meta_factory(rpc: &RpcClient, owner: Address, at: Address) -> Result<()> {
    let err =
        |reason: String| DevnetError::Deploy { what: format!("meta factory at {at}"), reason };
    let out = rpc.eth_call(at, &IKernelMetaFactory::ownerCall {}.abi_encode())?;
    let current =
        IKernelMetaFactory::ownerCall::abi_decode_returns(&out).map_err(|e| err(e.to_string()))?;
    if current.is_zero() {
        let call = IKernelMetaFactory::initializeCall { newOwner: owner };
        rpc.transact(owner, Some(at), &call.abi_encode(), U256::ZERO)
            .map_err(|e| err(e.to_string()))?;
    } else if current != owner {
        return Err(err(format!("owned by {current}, not by the devnet deployer {owner}")));
    }
    let out = rpc
        .eth_call(at, &IKernelMetaFactory::approvedCall { factory: KERNEL_FACTORY }.abi_encode())?;
    if !IKernelMetaFactory::approvedCall::abi_decode_returns(&out)
        .map_err(|e| err(e.to_string()))?
    {
        let call =
            IKernelMetaFactory::approveFactoryCall { factory: KERNEL_FACTORY, approval: true };
        rpc.transact(owner, Some(at), &call.abi_encode(), U256::ZERO)
            .map_err(|e| err(e.to_string()))?;
    }
    let out = rpc.eth_call(
        ENTRY_POINT,
        &IEntryPointStake::getDepositInfoCall { account: at }.abi_encode(),
    )?;
    let info = IEntryPointStake::getDepositInfoCall::abi_decode_returns(&out)
        .map_err(|e| err(e.to_string()))?;
    if !info.staked {
        let call = IKernelMetaFactory::stakeCall {
            entryPoint: ENTRY_POINT,
            unstakeDelay: META_FACTORY_UNSTAKE_DELAY,
        };
        rpc.transact(owner, Some(at), &call.abi_encode(), META_FACTORY_STAKE)
            .map_err(|e| err(e.to_string()))?;
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

    #[test]
    fn proxy_init_code_hash_matches_the_protocol_table() {
        assert_eq!(
            keccak256(proxy_init_code(KERNEL_IMPLEMENTATION)),
            b256!("0x85d96aa1c9a65886d094915d76ccae85f14027a02c1647dde659f869460f03e6")
        );
    }
}

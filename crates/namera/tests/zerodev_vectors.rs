//! Runs every case of ZeroDev's compatibility vectors (made by running their TypeScript
//! SDK) against our protocol core, and fails on any mismatch or unhandled category.
//!
//! The file is `../shared/vectors/zerodev-kernel-v3.json` beside the repository, or the
//! one named by `NAMERA_VECTORS` (same schema).

use std::{collections::BTreeMap, path::PathBuf, process::ExitCode};

use alloy_primitives::{Address, B256, Bytes, U256, eip191_hash_message, hex};
use alloy_signer_local::PrivateKeySigner;
use namera::{
    kernel::{
        AccountConfig, Call, ExecType, FactoryRoute, KernelVersion, LaneKey, NonceKey, Paymaster,
        RootValidator, UserOperation, ValidationId, ValidationMode, ValidationType,
        addresses::ENTRY_POINT_V07, encode_calls, proxy_init_code, sign::sign_hash_message,
    },
    permission::{
        EnableModeSignature, EnableRequest, MerkleTree, Permission, PermissionSigner,
        kernel_domain, selector_data, sign_permission_user_op,
    },
    policy::{CallPolicy, Policy, PolicyError, PolicyKind},
    session_key::{ChainNonce, OwnerApproval, SerializedSessionKey, SessionPrivateKey},
};
use serde_json::{Value, json};

type Res = Result<(), String>;

/// Compare bytes given as hex (case-insensitive: the SDK mixes cases in places).
fn eq_hex(field: &str, expected: &Value, actual: impl AsRef<[u8]>) -> Res {
    let e = expected.as_str().ok_or_else(|| format!("{field}: expected value is not a string"))?;
    let eb = hex::decode(e).map_err(|err| format!("{field}: bad expected hex: {err}"))?;
    if eb == actual.as_ref() {
        Ok(())
    } else {
        Err(format!("{field}:\n  expected {e}\n  actual   {}", hex::encode_prefixed(actual)))
    }
}

fn eq_str(field: &str, expected: &Value, actual: &str) -> Res {
    match expected.as_str() {
        Some(e) if e == actual => Ok(()),
        _ => Err(format!("{field}:\n  expected {expected}\n  actual   {actual:?}")),
    }
}

fn eq_json(field: &str, expected: &Value, actual: &Value) -> Res {
    fn norm(v: &Value) -> Value {
        match v {
            Value::String(s) if s.starts_with("0x") => Value::String(s.to_lowercase()),
            Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), norm(v))).collect())
            }
            other => other.clone(),
        }
    }
    if norm(expected) == norm(actual) {
        Ok(())
    } else {
        Err(format!("{field}:\n  expected {expected}\n  actual   {actual}"))
    }
}

fn s<'a>(v: &'a Value, k: &str) -> Result<&'a str, String> {
    v.get(k).and_then(Value::as_str).ok_or_else(|| format!("input has no string `{k}`"))
}

fn addr(v: &Value, k: &str) -> Result<Address, String> {
    s(v, k)?.parse().map_err(|e| format!("`{k}`: {e}"))
}

fn uint(v: &Value, k: &str) -> Result<U256, String> {
    match v.get(k) {
        Some(Value::String(t)) => U256::from_str_radix(t, 10).map_err(|e| format!("`{k}`: {e}")),
        Some(Value::Number(n)) => n.as_u64().map(U256::from).ok_or_else(|| format!("`{k}`: {n}")),
        _ => Err(format!("input has no integer `{k}`")),
    }
}

fn u128_of(v: &Value, k: &str) -> Result<u128, String> {
    uint(v, k)?.try_into().map_err(|_| format!("`{k}` exceeds u128"))
}

fn bytes(v: &Value, k: &str) -> Result<Bytes, String> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(Bytes::new()),
        Some(x) => x.as_str().unwrap_or("").parse().map_err(|e| format!("`{k}`: {e}")),
    }
}

fn signer_of(v: &Value, k: &str) -> Result<PrivateKeySigner, String> {
    s(v, k)?.parse().map_err(|e| format!("`{k}`: {e}"))
}

fn version(v: &Value) -> Result<KernelVersion, String> {
    s(v, "kernelVersion")?.parse().map_err(|e: namera::kernel::UnknownKernelVersion| e.to_string())
}

fn root_validator(v: &Value, owner: Address) -> Result<RootValidator, String> {
    let kind = v.get("rootValidator").or_else(|| v.get("validator")).and_then(Value::as_str);
    match kind {
        Some("ecdsa") => Ok(RootValidator::Ecdsa { owner }),
        Some("multi-chain-ecdsa") => Ok(RootValidator::MultiChainEcdsa { owner }),
        other => Err(format!("unknown root validator {other:?}")),
    }
}

fn account(v: &Value) -> Result<AccountConfig, String> {
    let owner = match v.get("ownerPrivateKey") {
        Some(_) => {
            let signer = signer_of(v, "ownerPrivateKey")?;
            if let Ok(given) = addr(v, "ownerAddress")
                && given != signer.address()
            {
                return Err(format!("owner key gives {}, input says {given}", signer.address()));
            }
            signer.address()
        }
        None => addr(v, "ownerAddress")?,
    };
    let mut config = AccountConfig::new(version(v)?, root_validator(v, owner)?, uint(v, "index")?);
    if v.get("useMetaFactory") == Some(&Value::Bool(false)) {
        config = config.with_route(FactoryRoute::Direct);
    }
    Ok(config)
}

fn calls(v: &Value) -> Result<Vec<Call>, String> {
    v.get("calls")
        .and_then(Value::as_array)
        .ok_or("input has no `calls`")?
        .iter()
        .map(|c| {
            Ok(Call {
                to: addr(c, "to")?,
                value: if c.get("value").is_some() { uint(c, "value")? } else { U256::ZERO },
                data: bytes(c, "data")?,
            })
        })
        .collect()
}

fn call_data(v: &Value, sender: Address) -> Result<Bytes, String> {
    let delegate = v.get("callType").and_then(Value::as_str) == Some("delegatecall");
    let exec = match v.get("execType").and_then(Value::as_str) {
        None | Some("0x00") => ExecType::Default,
        Some("0x01") => ExecType::Try,
        Some(other) => return Err(format!("unknown execType {other}")),
    };
    encode_calls(sender, &calls(v)?, delegate, exec).map_err(|e| e.to_string())
}

fn policies(v: &Value) -> Result<Vec<Policy>, String> {
    v.get("policies")
        .and_then(Value::as_array)
        .ok_or("input has no `policies`")?
        .iter()
        .map(|p| Policy::from_json(p).map_err(|e| e.to_string()))
        .collect()
}

fn permission(v: &Value, session_key: Address) -> Result<Permission, String> {
    let mut p = Permission::new(PermissionSigner::Ecdsa(session_key), policies(v)?)
        .map_err(|e| e.to_string())?;
    if let Some(f) = v.get("permissionFlag").and_then(Value::as_str) {
        p = p.with_flag(f.parse().map_err(|e: PolicyError| e.to_string())?);
    }
    Ok(p)
}

fn lane(v: &Value) -> Result<LaneKey, String> {
    let from_name = v.get("nonceKeyString").and_then(Value::as_str).map(LaneKey::from_name);
    match (v.get("customNonceKey"), from_name) {
        (Some(_), Some(named)) => {
            let given = LaneKey(uint(v, "customNonceKey")?.to::<u16>());
            if given != named {
                return Err(format!("customNonceKey {given} != lane of nonceKeyString {named}"));
            }
            Ok(named)
        }
        (Some(_), None) => Ok(LaneKey(
            u16::try_from(uint(v, "customNonceKey")?).map_err(|_| "customNonceKey > u16")?,
        )),
        (None, Some(named)) => Ok(named),
        (None, None) => Ok(LaneKey::DEFAULT),
    }
}

fn check_nonce(e: &Value, key: NonceKey, sequence: u64) -> Res {
    eq_str("nonceKey", &e["nonceKey"], &U256::from(key.0).to_string())?;
    eq_str("nonceKeyHex", &e["nonceKeyHex"], &key.to_string())?;
    let nonce = key.nonce(sequence);
    eq_str("nonce", &e["nonce"], &nonce.to_string())?;
    if let Some(h) = e.get("nonceHex") {
        eq_hex("nonceHex", h, nonce.to_be_bytes::<32>())?;
    }
    Ok(())
}

fn gas_op(
    v: &Value,
    sender: Address,
    nonce: U256,
    call_data: Bytes,
) -> Result<UserOperation, String> {
    let g = v.get("gas").ok_or("input has no `gas`")?;
    let paymaster = match v.get("paymaster") {
        None => None,
        Some(p) => Some(Paymaster {
            paymaster: addr(p, "paymaster")?,
            paymaster_verification_gas_limit: u128_of(p, "paymasterVerificationGasLimit")?,
            paymaster_post_op_gas_limit: u128_of(p, "paymasterPostOpGasLimit")?,
            paymaster_data: bytes(p, "paymasterData")?,
        }),
    };
    Ok(UserOperation {
        sender,
        nonce,
        factory: None,
        factory_data: Bytes::new(),
        call_data,
        call_gas_limit: u128_of(g, "callGasLimit")?,
        verification_gas_limit: u128_of(g, "verificationGasLimit")?,
        pre_verification_gas: uint(g, "preVerificationGas")?,
        max_fee_per_gas: u128_of(g, "maxFeePerGas")?,
        max_priority_fee_per_gas: u128_of(g, "maxPriorityFeePerGas")?,
        paymaster,
        signature: Bytes::new(),
    })
}

fn assumed(v: &Value) -> Result<(bool, u32, u64), String> {
    let a = v.get("assumed").ok_or("input has no `assumed`")?;
    let deployed = a.get("deployed").and_then(Value::as_bool).ok_or("assumed.deployed")?;
    let kernel_nonce = u32::try_from(uint(a, "kernelNonce")?).map_err(|_| "kernelNonce > u32")?;
    let seq = u64::try_from(uint(a, "entryPointSequence")?).map_err(|_| "sequence > u64")?;
    Ok((deployed, kernel_nonce, seq))
}

fn chain_id(v: &Value) -> Result<u64, String> {
    v.get("chainId").and_then(Value::as_u64).ok_or_else(|| "input has no chainId".into())
}

// ---- categories -------------------------------------------------------------------

fn account_address(i: &Value, e: &Value) -> Res {
    let a = account(i)?;
    eq_hex("accountAddress", &e["accountAddress"], a.address())?;
    eq_hex("factory", &e["factory"], a.factory())?;
    eq_hex("factoryData", &e["factoryData"], a.factory_data())?;
    eq_hex("initCode", &e["initCode"], a.init_code())?;
    eq_hex("implementation", &e["implementation"], a.version.implementation())?;
    eq_hex("kernelFactory", &e["kernelFactory"], a.version.factory())?;
    eq_hex("initData", &e["initData"], a.init_data())?;
    eq_hex("validatorAddress", &i["validatorAddress"], a.root.address())?;
    let d = &e["derived"];
    eq_hex("initializeSelector", &d["initializeSelector"], &a.init_data()[..4])?;
    eq_hex("indexBytes32", &d["indexBytes32"], a.index_bytes())?;
    eq_hex("create2Salt", &d["create2Salt"], a.salt())?;
    eq_hex(
        "proxyInitCodeHash",
        &d["proxyInitCodeHash"],
        alloy_primitives::keccak256(proxy_init_code(a.version.implementation())),
    )
}

fn call_data_case(i: &Value, e: &Value) -> Res {
    eq_hex("callData", &e["callData"], call_data(i, addr(i, "accountAddress")?)?)
}

fn nonce_key(i: &Value, e: &Value) -> Res {
    match s(i, "kind")? {
        "custom_nonce_key_from_string" => {
            let l = LaneKey::from_name(s(i, "string")?);
            eq_str("customNonceKey", &e["customNonceKey"], &l.0.to_string())?;
            eq_hex("customNonceKeyHex", &e["customNonceKeyHex"], l.0.to_be_bytes())
        }
        "validator" => {
            let a = account(i)?;
            eq_hex("accountAddress", &i["accountAddress"], a.address())?;
            let mode = match s(i, "mode")? {
                "default" => ValidationMode::Default,
                "enable" => ValidationMode::Enable,
                m => return Err(format!("unknown mode {m}")),
            };
            let lane = lane(i)?;
            let key = match s(i, "validationType")? {
                "root" => {
                    eq_hex("validatorAddress", &i["validatorAddress"], a.root.address())?;
                    NonceKey::new(mode, ValidationType::Root, a.root.validation_id(), lane)
                }
                "permission" => {
                    let p = permission(i, addr(i, "sessionKeyAddress")?)?;
                    eq_hex("permissionId", &i["permissionId"], p.id().as_bytes())?;
                    NonceKey::permission(mode, p.validation_id(), lane)
                }
                t => return Err(format!("unknown validationType {t}")),
            };
            check_nonce(e, key, u64::try_from(uint(i, "sequence")?).map_err(|_| "sequence")?)
        }
        k => Err(format!("unknown nonce_key kind {k}")),
    }
}

fn policy_encoding(i: &Value, e: &Value) -> Res {
    let input = &i["policy"];
    let policy = match Policy::from_json(input) {
        Ok(p) => p,
        // Our API refuses a gas policy without an amount (the SDK's silent default is a
        // cap of zero). Check the refusal, then the SDK's bytes for an explicit 0.
        Err(PolicyError::MissingGasAllowance) => {
            let mut explicit = input.clone();
            explicit["allowed"] = json!("0");
            Policy::from_json(&explicit).map_err(|e| e.to_string())?
        }
        Err(err) => return Err(err.to_string()),
    };
    eq_str("policyFlag", &e["policyFlag"], &policy.flag.to_string())?;
    eq_hex("policyAddress", &e["policyAddress"], policy.address())?;
    eq_hex("initData", &e["initData"], policy.init_data())?;
    eq_hex("policyElement", &e["policyElement"], policy.element())?;
    if let Some(expected) = e.get("resolvedPermissions") {
        let PolicyKind::Call(CallPolicy { permissions, .. }) = &policy.kind else {
            return Err("resolvedPermissions for a non-call policy".into());
        };
        let actual: Vec<Value> = permissions
            .iter()
            .map(|p| {
                json!({
                    "callType": format!("0x{:02x}", p.call_type.byte()),
                    "target": format!("{:#x}", p.target),
                    "selector": p.selector.to_string(),
                    "valueLimit": p.value_limit.to_string(),
                    "rules": p.rules.iter().map(|r| json!({
                        "condition": r.condition as u8,
                        "offset": r.offset,
                        "params": r.params.iter().map(|b| b.to_string()).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        eq_json("resolvedPermissions", expected, &Value::Array(actual))?;
    }
    // The JSON form parses back to the same policy.
    let back = Policy::from_json(&policy.to_json()).map_err(|e| format!("re-parse: {e}"))?;
    if back != policy {
        return Err(format!("JSON round trip changed the policy: {}", policy.to_json()));
    }
    Ok(())
}

fn permission_case(i: &Value, e: &Value) -> Res {
    let p = permission(i, addr(i, "sessionKeyAddress")?)?;
    eq_hex("permissionId", &e["permissionId"], p.id().as_bytes())?;
    eq_hex("validationId", &e["validationId"], &p.validation_id().into_inner()[..5])?;
    eq_hex("validationIdBytes21", &e["validationIdBytes21"], p.validation_id().into_inner())?;
    eq_hex("policyId", &e["policyId"], p.policy_id())?;
    eq_hex("signerId", &e["signerId"], p.signer_id())?;
    eq_hex("signer.address", &e["signer"]["address"], p.signer.address())?;
    eq_hex("signer.data", &e["signer"]["data"], p.signer.data())?;
    eq_hex("validatorData", &e["validatorData"], p.install_data())?;
    let ic = p.init_config();
    let expected = e["initConfig"].as_array().ok_or("initConfig")?;
    if expected.len() != ic.len() {
        return Err(format!("initConfig has {} entries, expected {}", ic.len(), expected.len()));
    }
    for (n, (x, a)) in expected.iter().zip(&ic).enumerate() {
        eq_hex(&format!("initConfig[{n}]"), x, a)?;
    }
    Ok(())
}

fn enable_typed_data(i: &Value, e: &Value) -> Res {
    let a = account(i)?;
    eq_hex("accountAddress", &i["accountAddress"], a.address())?;
    let p = permission(i, addr(i, "sessionKeyAddress")?)?;
    eq_hex("permissionId", &i["permissionId"], p.id().as_bytes())?;
    let chain = chain_id(i)?;
    let nonce = u32::try_from(uint(i, "kernelNonce")?).map_err(|_| "kernelNonce")?;
    let req = EnableRequest::for_permission(&p, nonce);
    let domain = kernel_domain(a.version, chain, a.address());
    eq_json(
        "domain",
        &e["domain"],
        &json!({"name": "Kernel", "version": a.version.as_str(), "chainId": chain, "verifyingContract": format!("{:#x}", a.address())}),
    )?;
    eq_hex("typeHash", &e["typeHash"], EnableRequest::type_hash())?;
    let m = &e["message"];
    eq_hex("message.validationId", &m["validationId"], req.validation_id.into_inner())?;
    if m["nonce"].as_u64() != Some(u64::from(req.nonce)) {
        return Err(format!("message.nonce: expected {}, actual {}", m["nonce"], req.nonce));
    }
    eq_hex("message.hook", &m["hook"], req.hook)?;
    eq_hex("message.validatorData", &m["validatorData"], &req.validator_data)?;
    eq_hex("message.hookData", &m["hookData"], &req.hook_data)?;
    eq_hex("message.selectorData", &m["selectorData"], &req.selector_data)?;
    eq_hex("selectorData", &e["selectorData"], selector_data())?;
    let digest = req.digest(&domain);
    eq_hex("typedDataHash", &e["typedDataHash"], digest)?;
    let owner = signer_of(i, "ownerPrivateKey")?;
    let state = ChainNonce { chain_id: chain, kernel_nonce: nonce };
    let approval =
        OwnerApproval::sign_single_chain(&owner, &a, &p, state).map_err(|e| e.to_string())?;
    if approval.chains[0].digest != digest {
        return Err("approval signed another digest".into());
    }
    eq_hex("enableSignature", &e["enableSignature"], &approval.chains[0].enable_signature)
}

fn session_secret(signer: &PrivateKeySigner) -> SessionPrivateKey {
    SessionPrivateKey::new(B256::from_slice(&signer.to_bytes()[..]))
}

fn check_serialized(
    e: &Value,
    key: &SerializedSessionKey,
    session: Address,
    chain: u64,
    kernel_nonce: u32,
) -> Res {
    eq_str("serializedAccountJson", &e["serializedAccountJson"], &key.to_json_string())?;
    eq_str("serializedAccount", &e["serializedAccount"], &key.to_base64())?;
    let decoded_expected: Value =
        serde_json::from_str(e["serializedAccountJson"].as_str().unwrap_or(""))
            .map_err(|err| format!("serializedAccountJson: {err}"))?;
    eq_json("serializedAccountDecoded", &e["serializedAccountDecoded"], &decoded_expected)?;
    // What the SDK made decodes, re-encodes byte for byte and verifies.
    let theirs = SerializedSessionKey::from_base64(e["serializedAccount"].as_str().unwrap_or(""))
        .map_err(|err| format!("decode SDK key: {err}"))?;
    eq_str("re-encoded SDK key", &e["serializedAccount"], &theirs.to_base64())?;
    theirs
        .verify_enable_signature(PermissionSigner::Ecdsa(session), chain, kernel_nonce)
        .map_err(|err| format!("verify SDK key: {err}"))?;
    Ok(())
}

fn multi_chain_enable(i: &Value, e: &Value) -> Res {
    let a = account(i)?;
    eq_hex("accountAddress", &e["accountAddress"], a.address())?;
    let session_signer = signer_of(i, "sessionPrivateKey")?;
    let session = session_signer.address();
    eq_hex("sessionKeyAddress", &i["sessionKeyAddress"], session)?;
    let p = permission(i, session)?;
    eq_hex("permissionId", &e["permissionId"], p.id().as_bytes())?;
    eq_hex("validationId", &e["validationId"], &p.validation_id().into_inner()[..5])?;
    let chains: Vec<u64> =
        i["chains"].as_array().ok_or("chains")?.iter().filter_map(Value::as_u64).collect();
    let assumed_all = i["assumed"].as_array().ok_or("assumed")?;
    let nonces: Vec<u32> = assumed_all
        .iter()
        .map(|x| uint(x, "kernelNonce").map(|n| n.to::<u32>()))
        .collect::<Result<_, _>>()?;
    let chain_nonces: Vec<ChainNonce> = chains
        .iter()
        .zip(&nonces)
        .map(|(c, n)| ChainNonce { chain_id: *c, kernel_nonce: *n })
        .collect();
    let owner = signer_of(i, "ownerPrivateKey")?;
    let approval = OwnerApproval::sign(&owner, &a, &p, &chain_nonces).map_err(|e| e.to_string())?;
    let root = approval.merkle_root.ok_or("multi-chain approval has no Merkle root")?;
    eq_hex("merkleRoot", &e["merkleRoot"], root)?;
    eq_hex("merkleRootEthSignedHash", &e["merkleRootEthSignedHash"], eip191_hash_message(root))?;
    eq_hex("ownerSignature", &e["ownerSignature"], &approval.owner_signature)?;
    let include_pk = i["includePrivateKeyInSerialization"].as_bool().unwrap_or(false);
    let per = e["perChain"].as_array().ok_or("perChain")?;
    if per.len() != approval.chains.len() {
        return Err(format!("perChain has {} entries for {} chains", per.len(), chains.len()));
    }
    for (n, (pc, ours)) in per.iter().zip(&approval.chains).enumerate() {
        let f = |x: &str| format!("perChain[{n}].{x}");
        if pc["chainId"].as_u64() != Some(ours.chain_id) {
            return Err(f("chainId"));
        }
        eq_hex(&f("enableHash"), &pc["enableHash"], ours.digest)?;
        if !MerkleTree::verify(ours.digest, &ours.proof, root) {
            return Err(f("proof does not verify"));
        }
        let expected_proof: Vec<Value> =
            ours.proof.iter().map(|b| Value::String(b.to_string())).collect();
        eq_json(&f("proof"), &pc["proof"], &Value::Array(expected_proof))?;
        eq_hex(&f("enableSignature"), &pc["enableSignature"], &ours.enable_signature)?;
        let pk = include_pk.then(|| session_secret(&session_signer));
        let mut key = SerializedSessionKey::new(&p, &a, Some(ours.enable_signature.clone()), pk);
        // The SDK's multi-chain serializer writes no isPreInstalled field.
        key.is_pre_installed = None;
        check_serialized(pc, &key, session, ours.chain_id, nonces[n])
            .map_err(|m| format!("perChain[{n}]: {m}"))?;
    }
    Ok(())
}

fn user_op_hash(i: &Value, e: &Value) -> Res {
    let u = &i["userOperation"];
    // The vector keeps gas and paymaster fields flat in the operation.
    let mut wrapped = json!({ "gas": u });
    if u.get("paymaster").is_some() {
        wrapped["paymaster"] = u.clone();
    }
    let mut op = gas_op(&wrapped, addr(u, "sender")?, uint(u, "nonce")?, bytes(u, "callData")?)?;
    if u.get("factory").is_some() {
        op.factory = Some(addr(u, "factory")?);
        op.factory_data = bytes(u, "factoryData")?;
    }
    op.signature = bytes(u, "signature")?;
    let packed = op.pack();
    let p = &e["packed"];
    eq_hex("packed.sender", &p["sender"], packed.sender)?;
    eq_str("packed.nonce", &p["nonce"], &packed.nonce.to_string())?;
    eq_hex("packed.initCode", &p["initCode"], &packed.initCode)?;
    eq_hex("packed.callData", &p["callData"], &packed.callData)?;
    eq_hex("packed.accountGasLimits", &p["accountGasLimits"], packed.accountGasLimits)?;
    eq_str(
        "packed.preVerificationGas",
        &p["preVerificationGas"],
        &packed.preVerificationGas.to_string(),
    )?;
    eq_hex("packed.gasFees", &p["gasFees"], packed.gasFees)?;
    eq_hex("packed.paymasterAndData", &p["paymasterAndData"], &packed.paymasterAndData)?;
    eq_hex("packed.signature", &p["signature"], &packed.signature)?;
    let ep: Address = addr(i, "entryPoint")?;
    eq_hex("userOpHash", &e["userOpHash"], op.hash(ep, chain_id(i)?))?;
    // The bundler JSON form round-trips.
    let back: UserOperation =
        serde_json::from_value(serde_json::to_value(&op).map_err(|e| e.to_string())?)
            .map_err(|e| format!("JSON round trip: {e}"))?;
    if back != op {
        return Err("bundler JSON form does not round-trip".into());
    }
    Ok(())
}

/// The unsigned UserOperation a case describes, checked field by field against the SDK's
/// (nonce, call data, factory, hash), and its hash.
fn unsigned_op(
    i: &Value,
    e: &Value,
    a: &AccountConfig,
    key: NonceKey,
    seq: u64,
    deployed: bool,
    chain: u64,
) -> Result<(UserOperation, B256), String> {
    check_nonce(e, key, seq)?;
    let cd = call_data(i, a.address())?;
    eq_hex("callData", &e["callData"], &cd)?;
    let mut op = gas_op(i, a.address(), key.nonce(seq), cd)?;
    deployment(e, &mut op, a, deployed)?;
    let hash = finish_op(e, &op, chain)?;
    Ok((op, hash))
}

/// An undeployed account's operation carries the factory, exactly as the SDK sent it; a
/// deployed one carries none.
fn deployment(e: &Value, op: &mut UserOperation, a: &AccountConfig, deployed: bool) -> Res {
    if deployed {
        return match e.get("factory") {
            Some(_) => Err("deployed account but the SDK sent a factory".into()),
            None => Ok(()),
        };
    }
    op.factory = Some(a.factory());
    op.factory_data = a.factory_data();
    eq_hex("factory", &e["factory"], a.factory())?;
    eq_hex("factoryData", &e["factoryData"], a.factory_data())
}

fn finish_op(e: &Value, op: &UserOperation, chain: u64) -> Result<B256, String> {
    let hash = op.hash(ENTRY_POINT_V07, chain);
    eq_hex("userOpHash", &e["userOpHash"], hash)?;
    Ok(hash)
}

fn check_rpc(e: &Value, op: &UserOperation) -> Res {
    eq_json("rpcRequest", &e["rpcRequest"], &serde_json::to_value(op).map_err(|e| e.to_string())?)
}

fn signed_user_op(i: &Value, e: &Value) -> Res {
    let chain = chain_id(i)?;
    let (deployed, kernel_nonce, seq) = assumed(i)?;
    let session_signer = signer_of(i, "sessionPrivateKey")?;
    let session = session_signer.address();
    eq_hex("sessionKeyAddress", &i["sessionKeyAddress"], session)?;
    // Either build the key from its inputs, or take the one the SDK serialized.
    let (a, p, their_enable_sig) = match i.get("fromSerialized") {
        Some(_) => {
            let key = SerializedSessionKey::from_base64(s(i, "serializedAccount")?)
                .map_err(|e| e.to_string())?;
            let a = key.account_config().map_err(|e| e.to_string())?;
            let p = key.permission(PermissionSigner::Ecdsa(session)).map_err(|e| e.to_string())?;
            (a, p, key.enable_signature.clone())
        }
        None => (account(i)?, permission(i, session)?, None),
    };
    eq_hex("accountAddress", &e["accountAddress"], a.address())?;
    eq_hex("permissionId", &e["permissionId"], p.id().as_bytes())?;
    let mode = match s(i, "mode")? {
        "enable" => ValidationMode::Enable,
        "default" => ValidationMode::Default,
        m => return Err(format!("unknown mode {m}")),
    };
    eq_str("mode", &e["mode"], s(i, "mode")?)?;
    let key = NonceKey::permission(mode, p.validation_id(), lane(i)?);
    let (mut op, hash) = unsigned_op(i, e, &a, key, seq, deployed, chain)?;
    let session_sig = sign_hash_message(&session_signer, hash).map_err(|e| e.to_string())?;
    eq_hex("sessionKeySignature", &e["sessionKeySignature"], &session_sig)?;
    let user_op_sig = sign_permission_user_op(&session_signer, hash).map_err(|e| e.to_string())?;
    // Default-mode cases record it at the top level, enable-mode ones among the parts.
    let expected_user_op_sig =
        e.get("userOpSignature").unwrap_or(&e["enableModeParts"]["userOpSignature"]);
    eq_hex("userOpSignature", expected_user_op_sig, &user_op_sig)?;
    op.signature = match mode {
        ValidationMode::Default => user_op_sig,
        ValidationMode::Enable => {
            let req = EnableRequest::for_permission(&p, kernel_nonce);
            let digest = req.digest(&kernel_domain(a.version, chain, a.address()));
            eq_hex("enableTypedDataHash", &e["enableTypedDataHash"], digest)?;
            let enable_sig = match their_enable_sig {
                Some(sig) => sig,
                None => {
                    let owner = signer_of(i, "ownerPrivateKey")?;
                    let state = ChainNonce { chain_id: chain, kernel_nonce };
                    OwnerApproval::sign_single_chain(&owner, &a, &p, state)
                        .map_err(|e| e.to_string())?
                        .chains
                        .remove(0)
                        .enable_signature
                }
            };
            let parts = EnableModeSignature::new(&req, enable_sig.clone(), user_op_sig);
            let x = &e["enableModeParts"];
            eq_hex("enableModeParts.hook", &x["hook"], parts.hook)?;
            eq_hex("enableModeParts.validatorData", &x["validatorData"], &parts.validator_data)?;
            eq_hex("enableModeParts.hookData", &x["hookData"], &parts.hook_data)?;
            eq_hex("enableModeParts.selectorData", &x["selectorData"], &parts.selector_data)?;
            eq_hex(
                "enableModeParts.enableSignature",
                &x["enableSignature"],
                &parts.enable_signature,
            )?;
            let encoded = parts.encode();
            if EnableModeSignature::decode(&encoded).as_ref() != Some(&parts) {
                return Err("enable-mode signature does not decode to its parts".into());
            }
            if i["serialize"].as_bool() == Some(true) {
                let pk = Some(session_secret(&session_signer));
                let key = SerializedSessionKey::new(&p, &a, Some(enable_sig), pk);
                check_serialized(e, &key, session, chain, kernel_nonce)?;
            }
            encoded
        }
    };
    eq_hex("signature", &e["signature"], &op.signature)?;
    check_rpc(e, &op)
}

fn owner_signed_user_op(i: &Value, e: &Value) -> Res {
    let chain = chain_id(i)?;
    let (deployed, _, seq) = assumed(i)?;
    let a = account(i)?;
    eq_hex("accountAddress", &e["accountAddress"], a.address())?;
    eq_hex("validatorAddress", &i["validatorAddress"], a.root.address())?;
    let key = NonceKey::root(ValidationId::validator(a.root.address()), lane(i)?);
    let (mut op, hash) = unsigned_op(i, e, &a, key, seq, deployed, chain)?;
    op.signature =
        sign_hash_message(&signer_of(i, "ownerPrivateKey")?, hash).map_err(|e| e.to_string())?;
    eq_hex("signature", &e["signature"], &op.signature)?;
    check_rpc(e, &op)
}

fn vectors_path() -> PathBuf {
    std::env::var_os("NAMERA_VECTORS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/vectors/zerodev-kernel-v3.json")
    })
}

fn main() -> ExitCode {
    let path = vectors_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read vectors {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let doc: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("vectors {} are not JSON: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    type Runner = fn(&Value, &Value) -> Res;
    let runners: BTreeMap<&str, Runner> = BTreeMap::from([
        ("account_address", account_address as Runner),
        ("call_data", call_data_case),
        ("nonce_key", nonce_key),
        ("policy_encoding", policy_encoding),
        ("permission", permission_case),
        ("enable_typed_data", enable_typed_data),
        ("multi_chain_enable", multi_chain_enable),
        ("user_op_hash", user_op_hash),
        ("signed_user_op", signed_user_op),
        ("owner_signed_user_op", owner_signed_user_op),
    ]);
    let Some(cases) = doc.get("cases").and_then(Value::as_object) else {
        eprintln!("vectors {} have no `cases` object", path.display());
        return ExitCode::FAILURE;
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    println!("vectors: {}", path.display());
    for (category, list) in cases {
        let Some(run) = runners.get(category.as_str()) else {
            println!("FAIL category {category}: not handled");
            failed += list.as_array().map_or(1, Vec::len).max(1);
            continue;
        };
        let list = list.as_array().map(Vec::as_slice).unwrap_or_default();
        let mut ok = 0;
        for case in list {
            let name = case["name"].as_str().unwrap_or("?");
            match run(&case["input"], &case["expected"]) {
                Ok(()) => ok += 1,
                Err(msg) => {
                    failed += 1;
                    println!("FAIL {category}/{name}: {msg}");
                }
            }
        }
        passed += ok;
        println!("{category}: {ok}/{} passed", list.len());
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 && passed > 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

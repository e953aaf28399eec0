//! Bad input gets a precise, typed error.

use alloy_primitives::address;
use namera::{
    kernel::{Call, Execution7579, ExecutionError, KernelVersion},
    policy::{Policy, PolicyError},
    session_key::{
        ApprovalError, ChainNonce, OwnerApproval, SerializedKeyError, SerializedSessionKey,
    },
};
use serde_json::json;

fn policy_err(v: serde_json::Value) -> PolicyError {
    Policy::from_json(&v).unwrap_err()
}

#[test]
fn unknown_kernel_version_names_the_choices() {
    let e = "0.3.9".parse::<KernelVersion>().unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"unknown Kernel version "0.3.9": expected one of 0.3.1, 0.3.2, 0.3.3"#
    );
}

#[test]
fn policy_json_errors_are_precise() {
    assert_eq!(policy_err(json!({"type": "gas"})), PolicyError::MissingGasAllowance);
    assert_eq!(
        policy_err(json!({"type": "teleport"})).to_string(),
        r#"policy JSON: unknown policy type "teleport": expected sudo, timestamp, gas, rate-limit, signature-caller, call, budget, spending-limit or ops-per-period"#
    );
    assert_eq!(
        policy_err(json!({"type": "sudo", "policyFlag": "0x1"})),
        PolicyError::InvalidFlag("0x1".into())
    );
    assert_eq!(
        policy_err(json!({"type": "rate-limit", "count": 0})),
        PolicyError::ZeroRateLimitCount
    );
    assert_eq!(
        policy_err(json!({"type": "timestamp", "validAfter": 10, "validUntil": 5})),
        PolicyError::EmptyWindow { valid_after: 10, valid_until: 5 }
    );
    assert_eq!(
        policy_err(json!({"type": "timestamp", "validUntil": 1u64 << 48})),
        PolicyError::Uint48Overflow { field: "validUntil", value: 1 << 48 }
    );
    assert_eq!(
        policy_err(json!({"type": "signature-caller", "allowedCallers": ["0x12"]})).to_string(),
        "policy JSON: allowedCallers: \"0x12\" is not an address: expected 0x and 40 hex digits"
    );
}

#[test]
fn call_permission_errors_name_the_argument() {
    let abi = json!([{"type": "function", "name": "transfer", "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}], "outputs": []}]);
    let base = |args: serde_json::Value| {
        json!({"type": "call", "policyVersion": "0.0.5", "permissions": [
            {"target": "0xcb89995bebd57a42562a76a4daccbb44e67c9277", "abi": abi, "functionName": "transfer", "args": args}
        ]})
    };
    assert_eq!(
        policy_err(base(json!([{"condition": "EQUAL", "value": "0xdead"}]))),
        PolicyError::CallPermission {
            index: 0,
            reason:
                r#"argument 0 (to): value "0xdead" for an argument of type address: invalid string length"#
                    .into()
        }
    );
    assert_eq!(
        policy_err(base(json!([null, {"condition": "ALMOST", "value": "1"}]))),
        PolicyError::CallPermission { index: 0, reason: r#"unknown condition "ALMOST": expected EQUAL, GREATER_THAN, LESS_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN_OR_EQUAL, NOT_EQUAL, ONE_OF or SLICE_EQUAL"#.into() }
    );
    assert_eq!(
        policy_err(base(
            json!([null, {"condition": "SLICE_EQUAL", "value": "ab", "start": 0, "length": 2}])
        )),
        PolicyError::CallPermission {
            index: 0,
            reason:
                "argument 1 (amount): SLICE_EQUAL applies to string or bytes arguments, not uint256"
                    .into()
        }
    );
    assert_eq!(
        policy_err(base(json!([null, null, null]))),
        PolicyError::CallPermission {
            index: 0,
            reason: "3 conditions given for transfer(address,uint256) which takes 2 arguments"
                .into()
        }
    );
    let mut missing = base(json!([]));
    missing["permissions"][0]["functionName"] = json!("approve");
    assert_eq!(
        policy_err(missing),
        PolicyError::CallPermission {
            index: 0,
            reason: r#"function "approve" not found in ABI"#.into()
        }
    );
    let mut v4 = base(json!([]));
    v4["policyVersion"] = json!("0.0.4");
    v4["permissions"][0]["abi"][0]["inputs"][1]["type"] = json!("string");
    v4["permissions"][0]["args"] =
        json!([null, {"condition": "SLICE_EQUAL", "value": "ab", "start": 0, "length": 2}]);
    assert_eq!(
        policy_err(v4),
        PolicyError::CallPermission {
            index: 0,
            reason: "SLICE_EQUAL needs call policy 0.0.5".into()
        }
    );
}

#[test]
fn serialized_key_errors() {
    assert!(matches!(SerializedSessionKey::from_base64("%%%"), Err(SerializedKeyError::Base64(_))));
    use base64::Engine;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    assert!(matches!(
        SerializedSessionKey::from_base64(&b64(&[0xff, 0xfe])),
        Err(SerializedKeyError::Utf8)
    ));
    assert_eq!(
        SerializedSessionKey::from_base64(&b64(b"{}")).unwrap_err().to_string(),
        "serialized session key JSON: missing `permissionParams`"
    );
    assert_eq!(
        SerializedSessionKey::from_base64(&b64(br#"{"permissionParams":{"policies":[{"policyParams":{"type":"gas"}}],"permissionId":"0x00000000"}}"#))
            .unwrap_err()
            .to_string(),
        "serialized session key policy 0: gas policy needs `allowed` (wei); it has no default"
    );
}

#[test]
fn execution_errors() {
    let to = address!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a");
    assert_eq!(Execution7579::from_calls(&[], false), Err(ExecutionError::Empty));
    let c = Call::new(to, Default::default());
    assert_eq!(
        Execution7579::from_calls(&[c.clone(), c.clone()], true),
        Err(ExecutionError::BatchedDelegateCall(2))
    );
    assert_eq!(
        Execution7579::from_calls(&[Call::transfer(to, alloy_primitives::U256::from(1))], true),
        Err(ExecutionError::DelegateCallWithValue)
    );
}

#[test]
fn single_chain_root_refuses_multi_chain_approval() {
    use namera::{
        kernel::{AccountConfig, RootValidator},
        permission::{Permission, PermissionSigner},
    };
    let owner = alloy_signer_local::PrivateKeySigner::random();
    let account = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::Ecdsa { owner: owner.address() },
        Default::default(),
    );
    let p = Permission::new(PermissionSigner::Ecdsa(to_addr()), vec![Policy::sudo()]).unwrap();
    let chains =
        [ChainNonce { chain_id: 1, kernel_nonce: 1 }, ChainNonce { chain_id: 10, kernel_nonce: 1 }];
    assert!(matches!(
        OwnerApproval::sign(&owner, &account, &p, &chains),
        Err(ApprovalError::NotMultiChain(2))
    ));
    assert!(matches!(OwnerApproval::sign(&owner, &account, &p, &[]), Err(ApprovalError::NoChains)));
    let dup = [chains[0], chains[0]];
    let multi = AccountConfig {
        root: RootValidator::MultiChainEcdsa { owner: owner.address() },
        ..account
    };
    assert!(matches!(
        OwnerApproval::sign(&owner, &multi, &p, &dup),
        Err(ApprovalError::DuplicateChain(1))
    ));
}

fn to_addr() -> alloy_primitives::Address {
    address!("0xd5252a5eeef8bf29dab82a26ac942d6b224ed716")
}

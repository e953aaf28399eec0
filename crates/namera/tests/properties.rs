//! Property tests: every encoding we produce decodes back to what we started from, and
//! every Merkle proof verifies against its root.

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256};
use namera::{
    kernel::{
        AccountConfig, Call, ExecType, Execution7579, FactoryRoute, KernelVersion, LaneKey,
        NonceKey, Paymaster, RootValidator, UserOperation, ValidationId, ValidationMode,
        abi::PackedUserOperation,
    },
    permission::{MerkleTree, Permission, PermissionSigner},
    policy::{
        ArgRule, ArgValue, CallPermission, CallPolicy, CallPolicyVersion, MAX_UINT48,
        ParamCondition, ParamRule, Policy, PolicyFlag, PolicyKind,
    },
    session_key::{SerializedSessionKey, SessionPrivateKey},
};
use proptest::{collection::vec, option, prelude::*};
use serde_json::json;

fn address() -> impl Strategy<Value = Address> {
    any::<[u8; 20]>().prop_map(Address::from)
}

fn b256() -> impl Strategy<Value = B256> {
    any::<[u8; 32]>().prop_map(B256::from)
}

fn u256() -> impl Strategy<Value = U256> {
    any::<[u8; 32]>().prop_map(U256::from_be_bytes)
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn user_op() -> impl Strategy<Value = UserOperation> {
    let paymaster = option::of((address(), any::<u128>(), any::<u128>(), bytes(40)).prop_map(
        |(paymaster, v, p, data)| Paymaster {
            paymaster,
            paymaster_verification_gas_limit: v,
            paymaster_post_op_gas_limit: p,
            paymaster_data: data,
        },
    ));
    let factory = option::of((address(), bytes(200)));
    (
        (address(), u256(), factory, bytes(300)),
        (any::<u128>(), any::<u128>(), u256(), any::<u128>(), any::<u128>()),
        (paymaster, bytes(200)),
    )
        .prop_map(|((sender, nonce, factory, call_data), gas, (paymaster, signature))| {
            let (factory, factory_data) = match factory {
                Some((f, d)) => (Some(f), d),
                None => (None, Bytes::new()),
            };
            UserOperation {
                sender,
                nonce,
                factory,
                factory_data,
                call_data,
                call_gas_limit: gas.0,
                verification_gas_limit: gas.1,
                pre_verification_gas: gas.2,
                max_fee_per_gas: gas.3,
                max_priority_fee_per_gas: gas.4,
                paymaster,
                signature,
            }
        })
}

fn flag() -> impl Strategy<Value = PolicyFlag> {
    prop_oneof![
        Just(PolicyFlag::ALL),
        Just(PolicyFlag::SKIP_USER_OP),
        Just(PolicyFlag::SKIP_SIGNATURE)
    ]
}

fn uint48() -> impl Strategy<Value = u64> {
    0..=MAX_UINT48
}

fn condition() -> impl Strategy<Value = ParamCondition> {
    prop::sample::select(ParamCondition::ALL.to_vec())
}

fn manual_permission() -> impl Strategy<Value = CallPermission> {
    let rule = (condition(), 0u64..8, vec(b256(), 1..4))
        .prop_map(|(condition, i, params)| ParamRule { condition, offset: i * 32, params });
    (
        prop::sample::select(vec![
            namera::kernel::CallType::Single,
            namera::kernel::CallType::Batch,
            namera::kernel::CallType::DelegateCall,
        ]),
        address(),
        any::<[u8; 4]>(),
        u256(),
        vec(rule, 0..3),
    )
        .prop_map(|(ct, target, sel, limit, rules)| {
            CallPermission::manual(ct, target, FixedBytes(sel), limit, rules)
        })
}

/// A permission derived from an ABI: `transfer(address,uint256)` with random conditions.
fn abi_permission() -> impl Strategy<Value = CallPermission> {
    let abi = json!([{
        "type": "function", "name": "transfer", "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [{"type": "bool"}]
    }]);
    let to_rule = option::of(prop_oneof![
        address().prop_map(|a| ArgRule::Compare {
            condition: ParamCondition::Equal,
            value: ArgValue::address(a)
        }),
        vec(address(), 1..4)
            .prop_map(|v| ArgRule::OneOf(v.into_iter().map(ArgValue::address).collect())),
    ]);
    let amount_rule = option::of(
        (
            prop::sample::select(ParamCondition::ALL[..6].to_vec()),
            prop_oneof![u256().prop_map(ArgValue::uint), any::<u64>().prop_map(ArgValue::Number)],
        )
            .prop_map(|(condition, value)| ArgRule::Compare { condition, value }),
    );
    (address(), to_rule, amount_rule, option::of(u256())).prop_map(move |(target, a, b, limit)| {
        let p = CallPermission::from_abi(target, abi.clone(), "transfer", None, vec![a, b])
            .expect("valid by construction");
        match limit {
            Some(l) => p.with_value_limit(l),
            None => p,
        }
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    let kind = prop_oneof![
        Just(PolicyKind::Sudo),
        (uint48(), uint48()).prop_map(|(a, b)| PolicyKind::Timestamp {
            valid_after: a.min(b),
            valid_until: a.max(b)
        }),
        (any::<u128>(), any::<bool>(), address()).prop_map(|(allowed, e, p)| PolicyKind::Gas {
            allowed,
            enforce_paymaster: e,
            allowed_paymaster: p
        }),
        (uint48(), 1..=MAX_UINT48, uint48()).prop_map(|(interval, count, start_at)| {
            PolicyKind::RateLimit { interval, count, start_at }
        }),
        vec(address(), 0..4)
            .prop_map(|allowed_callers| PolicyKind::SignatureCaller { allowed_callers }),
        vec(prop_oneof![manual_permission(), abi_permission()], 0..4).prop_map(|permissions| {
            PolicyKind::Call(CallPolicy { version: CallPolicyVersion::V0_0_5, permissions })
        }),
    ];
    (kind, flag()).prop_map(|(kind, flag)| Policy { kind, flag })
}

fn account() -> impl Strategy<Value = AccountConfig> {
    (
        prop::sample::select(KernelVersion::ALL.to_vec()),
        address(),
        any::<bool>(),
        u256(),
        any::<bool>(),
    )
        .prop_map(|(version, owner, multi, index, direct)| {
            let root = if multi {
                RootValidator::MultiChainEcdsa { owner }
            } else {
                RootValidator::Ecdsa { owner }
            };
            let route = if direct { FactoryRoute::Direct } else { FactoryRoute::MetaFactory };
            AccountConfig::new(version, root, index).with_route(route)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn user_op_pack_unpack_round_trip(op in user_op()) {
        let packed: PackedUserOperation = op.pack();
        let back = UserOperation::unpack(&packed).unwrap();
        prop_assert_eq!(&back, &op);
        prop_assert_eq!(back.hash_v07(1), op.hash_v07(1));
    }

    #[test]
    fn user_op_bundler_json_round_trip(op in user_op()) {
        let json = serde_json::to_string(&op).unwrap();
        let back: UserOperation = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, op);
    }

    #[test]
    fn policy_json_round_trip(p in policy()) {
        let json = p.to_json();
        let back = Policy::from_json(&json).unwrap();
        prop_assert_eq!(back.element(), p.element());
        prop_assert_eq!(&back, &p);
        // Writing what we read gives the same JSON, key order included.
        prop_assert_eq!(serde_json::to_string(&back.to_json()).unwrap(), serde_json::to_string(&json).unwrap());
    }

    #[test]
    fn serialized_session_key_round_trip(
        policies in vec(policy(), 1..4),
        key in address(),
        account in account(),
        enable in option::of(bytes(300)),
        secret in option::of(b256()),
    ) {
        let permission = Permission::new(PermissionSigner::Ecdsa(key), policies).unwrap();
        let original = SerializedSessionKey::new(
            &permission,
            &account,
            enable,
            secret.map(SessionPrivateKey::new),
        );
        let text = original.to_base64();
        let back = SerializedSessionKey::from_base64(&text).unwrap();
        prop_assert_eq!(&back, &original);
        prop_assert_eq!(back.to_base64(), text);
        prop_assert_eq!(back.permission(PermissionSigner::Ecdsa(key)).unwrap().install_data(), permission.install_data());
        prop_assert_eq!(back.account_config().unwrap().address(), account.address());
    }

    #[test]
    fn merkle_proofs_verify_against_root(leaves in vec(b256(), 1..70), tamper in b256()) {
        let tree = MerkleTree::new(leaves.clone());
        for (i, leaf) in leaves.iter().enumerate() {
            let proof = tree.proof(i).unwrap();
            prop_assert!(MerkleTree::verify(*leaf, &proof, tree.root()));
            if !leaves.contains(&tamper) {
                prop_assert!(!MerkleTree::verify(tamper, &proof, tree.root()));
            }
        }
        prop_assert!(tree.proof(leaves.len()).is_none());
    }

    #[test]
    fn execute_call_data_round_trip(
        calls in vec((address(), u256(), bytes(100)).prop_map(|(to, value, data)| Call { to, value, data }), 1..5),
        try_exec in any::<bool>(),
        delegate in any::<bool>(),
    ) {
        let exec = if try_exec { ExecType::Try } else { ExecType::Default };
        let calls = if delegate { vec![Call { value: U256::ZERO, ..calls[0].clone() }] } else { calls };
        let execution = Execution7579::from_calls(&calls, delegate).unwrap();
        let (back, back_exec) = Execution7579::decode(&execution.encode(exec)).unwrap();
        prop_assert_eq!(back, execution);
        prop_assert_eq!(back_exec, exec);
    }

    #[test]
    fn nonce_split_round_trip(v in address(), lane in any::<u16>(), seq in any::<u64>(), enable in any::<bool>()) {
        let mode = if enable { ValidationMode::Enable } else { ValidationMode::Default };
        let key = NonceKey::permission(mode, ValidationId::validator(v), LaneKey(lane));
        let (k, s) = NonceKey::split(key.nonce(seq));
        prop_assert_eq!(k, key);
        prop_assert_eq!(s, seq);
        prop_assert_eq!(k.lane(), LaneKey(lane));
        prop_assert_eq!(k.mode(), Some(mode));
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z0-9x_.-]{0,12}".prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "call",
            "gas",
            "sudo",
            "timestamp",
            "rate-limit",
            "signature-caller",
            "0x00",
            "ONE_OF",
            "SLICE_EQUAL"
        ])
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
            vec(
                (
                    prop::sample::select(vec![
                        "type",
                        "permissions",
                        "target",
                        "abi",
                        "functionName",
                        "args",
                        "rules",
                        "condition",
                        "value",
                        "params",
                        "offset",
                        "allowed",
                        "count",
                        "policyFlag",
                        "selector"
                    ]),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| serde_json::Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn policy_parser_never_panics(v in json_value()) {
        let _ = Policy::from_json(&v);
    }

    #[test]
    fn serialized_key_parser_never_panics(s in ".{0,200}", raw in vec(any::<u8>(), 0..200)) {
        let _ = SerializedSessionKey::from_base64(&s);
        let _ = SerializedSessionKey::from_json_str(&s);
        use base64::Engine;
        let _ = SerializedSessionKey::from_base64(&base64::engine::general_purpose::STANDARD.encode(raw));
    }

    #[test]
    fn unpack_and_decoders_never_panic(data in bytes(400)) {
        let _ = Execution7579::decode(&data);
        let _ = namera::permission::EnableModeSignature::decode(&data);
        let _ = namera::kernel::DecodedFactoryData::decode(&data, KernelVersion::V0_3_1);
        let _ = namera::kernel::factory_data_sdk_hex(&data);
    }
}

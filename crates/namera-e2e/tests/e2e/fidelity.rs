//! Byte-exact fidelity of the devnet's plugins to the canonical ones users meet on public
//! chains (contracts/CANONICAL.md lists every path).
//!
//! ONE table of refusals (and a few edge-case answers): each case installs what it needs
//! from a fresh address standing in for the account (anvil impersonation, real
//! transactions), then asks the plugin with `eth_call` from that address, and compares the
//! answer byte for byte: the revert data (custom error, `Error(string)`, `Panic`, or none at
//! all) or the returned bytes.
//!
//! - Always: the plugin at its canonical address must answer exactly the table's bytes.
//!   Without `NAMERA_PLUGIN_ARTIFACTS` that address holds our stand-ins, so CI (which has
//!   no canonical build) still checks our contracts against the expected bytes, which were
//!   verified against ZeroDev's canonical bytecode.
//! - With `NAMERA_PLUGIN_ARTIFACTS` (the canonical bytecode at the canonical addresses), the
//!   test also places our stand-ins at shadow addresses and requires both to answer every
//!   case identically, byte for byte.

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256, address, b256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{Panic, Revert, SolCall, SolError, SolValue, sol};
use namera::{
    kernel::abi::IKernel,
    revert::KnownErrors as Errors,
    rpc::{RpcClient, RpcError},
};
use namera_devnet::testing::shared;
use namera_e2e::{endpoints, ether, set_balance};
use serde_json::{Value, json};

sol! {
    // The EntryPoint v0.7 struct, declared here too so the interface below can name it.
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
    struct ParamRule { uint8 condition; uint64 offset; bytes32[] params; }
    struct Permission { bytes1 callType; address target; bytes4 selector; uint256 valueLimit; ParamRule[] rules; }
    interface IPlugin {
        function onInstall(bytes data) external payable;
        function onUninstall(bytes data) external payable;
        function checkUserOpPolicy(bytes32 id, PackedUserOperation userOp) external payable returns (uint256);
        function checkSignaturePolicy(bytes32 id, address sender, bytes32 hash, bytes sig) external view returns (uint256);
        function checkUserOpSignature(bytes32 id, PackedUserOperation userOp, bytes32 userOpHash) external payable returns (uint256);
        function checkSignature(bytes32 id, address sender, bytes32 hash, bytes sig) external view returns (bytes4);
        function validateUserOp(PackedUserOperation userOp, bytes32 userOpHash) external payable returns (uint256);
        function isValidSignatureWithSender(address sender, bytes32 hash, bytes data) external view returns (bytes4);
        function preCheck(address msgSender, uint256 msgValue, bytes msgData) external payable returns (bytes);
    }
    interface IToken {
        function transfer(address to, uint256 amount) external returns (bool);
        function greet(string text) external;
    }
}

const ECDSA_VALIDATOR: Address = address!("0x845ADb2C711129d4f3966735eD98a9F09fC4cE57");
const MULTI_CHAIN_VALIDATOR: Address = address!("0x5C97aA67Ba578E3c54ec5942A7563Ea9130E4f5F");
const WEBAUTHN_VALIDATOR: Address = address!("0x7ab16Ff354AcB328452F1D445b3Ddee9a91e9e69");
const ECDSA_SIGNER: Address = address!("0x6A6F069E2a08c2468e7724Ab3250CdBFBA14D4FF");
const WEBAUTHN_SIGNER: Address = address!("0x65DEeC8fEe717dc044D0CFD63cCf55F02cCaC2b3");
const CALL_V4: Address = address!("0x9a52283276A0ec8740DF50bF01B28A80D880eaf2");
const CALL_V5: Address = address!("0x85770b902D1e503D5f5141d9eaC16d0d08eEaDd2");
const GAS: Address = address!("0xaeFC5AbC67FfD258abD0A3E54f65E70326F84b23");
const TIMESTAMP: Address = address!("0xB9f8f524bE6EcD8C945b1b87f9ae5C192FdCE20F");
const RATE_LIMIT: Address = address!("0xf63d4139B25c836334edD76641356c6b74C86873");
const SIGNATURE_CALLER: Address = address!("0xF6A936c88D97E6fad13b98d2FD731Ff17eeD591d");
const SUDO: Address = address!("0x67b436caD8a6D025DF6C82C5BB43fbF11fC5B9B7");
const DAIMO: Address = address!("0xc2b78104907F722DABAc4C69f826a522B2754De4");

/// The permission id every case uses (left-aligned bytes4, as Kernel passes it).
const ID: B256 = b256!("0x1122334400000000000000000000000000000000000000000000000000000000");
/// A token the call-policy cases allow.
const TOKEN: Address = address!("0x00000000000000000000000000000000000000aa");
/// A paymaster the gas cases name.
const PAYMASTER: Address = address!("0x00000000000000000000000000000000000000bb");

/// What the plugin answers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// It returned these bytes.
    Returns(Bytes),
    /// It reverted with this data (empty: a bare revert).
    Reverts(Bytes),
}

/// One row: what to install first, then the question.
struct Case {
    name: &'static str,
    plugin: Address,
    /// Transactions from the account to the plugin, each must succeed.
    setup: Vec<Vec<u8>>,
    /// The `eth_call` from the account to the plugin.
    ask: Vec<u8>,
    /// The canonical answer.
    expect: Answer,
}

fn reverts(data: impl Into<Vec<u8>>) -> Answer {
    Answer::Reverts(data.into().into())
}
fn bare() -> Answer {
    Answer::Reverts(Bytes::new())
}
fn error_string(text: &str) -> Answer {
    reverts(Revert::from(text).abi_encode())
}
fn panic(code: u64) -> Answer {
    reverts(Panic { code: U256::from(code) }.abi_encode())
}
fn returns_word(v: u64) -> Answer {
    Answer::Returns(U256::from(v).abi_encode().into())
}

fn with_id(payload: &[u8]) -> Vec<u8> {
    [ID.as_slice(), payload].concat()
}
fn install(payload: &[u8]) -> Vec<u8> {
    IPlugin::onInstallCall { data: with_id(payload).into() }.abi_encode()
}
fn uninstall() -> Vec<u8> {
    IPlugin::onUninstallCall { data: with_id(&[]).into() }.abi_encode()
}

fn user_op(call_data: Vec<u8>) -> PackedUserOperation {
    PackedUserOperation {
        sender: Address::ZERO,
        nonce: U256::ZERO,
        initCode: Bytes::new(),
        callData: call_data.into(),
        // verificationGasLimit 100 000 ‖ callGasLimit 100 000
        accountGasLimits: B256::from(U256::from(100_000u64) << 128 | U256::from(100_000u64)),
        preVerificationGas: U256::from(50_000u64),
        // maxFeePerGas 1 gwei
        gasFees: B256::from(U256::from(1_000_000_000u64)),
        paymasterAndData: Bytes::new(),
        signature: Bytes::new(),
    }
}
fn check_policy(op: PackedUserOperation) -> Vec<u8> {
    IPlugin::checkUserOpPolicyCall { id: ID, userOp: op }.abi_encode()
}
fn check_call(call_data: Vec<u8>) -> Vec<u8> {
    check_policy(user_op(call_data))
}

/// `execute(mode, executionCalldata)` with call type `call_type`.
fn execute(call_type: u8, exec: Vec<u8>) -> Vec<u8> {
    let mut mode = [0u8; 32];
    mode[0] = call_type;
    IKernel::executeCall { execMode: mode.into(), executionCalldata: exec.into() }.abi_encode()
}
fn single(to: Address, value: u64, data: &[u8]) -> Vec<u8> {
    execute(0, [to.as_slice(), &U256::from(value).to_be_bytes::<32>(), data].concat())
}
fn transfer(to: Address, amount: u64) -> Vec<u8> {
    IToken::transferCall { to, amount: U256::from(amount) }.abi_encode()
}

fn rule(condition: u8, offset: u64, params: &[U256]) -> ParamRule {
    ParamRule { condition, offset, params: params.iter().map(|p| B256::from(*p)).collect() }
}
fn permission(
    call_type: u8,
    target: Address,
    selector: [u8; 4],
    value: u64,
    rules: Vec<ParamRule>,
) -> Permission {
    Permission {
        callType: FixedBytes([call_type]),
        target,
        selector: selector.into(),
        valueLimit: U256::from(value),
        rules,
    }
}
fn call_install(perms: Vec<Permission>) -> Vec<u8> {
    install(&perms.abi_encode())
}
const TRANSFER: [u8; 4] = IToken::transferCall::SELECTOR;
/// `transfer(to, amount)` on TOKEN up to 1000 wei, amount == 10.
fn token_policy() -> Vec<u8> {
    call_install(vec![permission(0, TOKEN, TRANSFER, 1000, vec![rule(0, 32, &[U256::from(10)])])])
}
/// `greet(string)` on TOKEN, SLICE_EQUAL over the first 5 bytes = "hello".
fn greet_policy() -> Vec<u8> {
    let sel = IToken::greetCall::SELECTOR;
    call_install(vec![permission(
        0,
        TOKEN,
        sel,
        0,
        vec![rule(7, 0, &[U256::ZERO, U256::from(5), U256::from_be_bytes(keccak256("hello").0)])],
    )])
}
fn greet(text: &str) -> Vec<u8> {
    single(TOKEN, 0, &IToken::greetCall { text: text.into() }.abi_encode())
}

fn gas_install(allowed: u128, enforce: bool, paymaster: Address) -> Vec<u8> {
    install(&(allowed, enforce, paymaster).abi_encode_params())
}
fn with_paymaster(pm: Address) -> PackedUserOperation {
    let mut op = user_op(single(TOKEN, 0, &[]));
    op.paymasterAndData = [pm.as_slice(), &[0u8; 32]].concat().into();
    op
}

fn signer_op(signature: Vec<u8>) -> PackedUserOperation {
    PackedUserOperation { signature: signature.into(), ..user_op(Vec::new()) }
}

/// A valid 65-byte signature of `hash` by a random key (r ‖ s ‖ v, v = 27/28).
fn foreign_signature(hash: B256) -> Vec<u8> {
    namera::kernel::sign::sign_digest(&PrivateKeySigner::random(), hash).unwrap().to_vec()
}

/// `hash ‖ r ‖ s ‖ x ‖ y` of a real P-256 signature, as the verifier takes it.
fn valid_p256_input() -> Vec<u8> {
    use namera::passkey::{
        P256Verifier, PasskeySigner, SoftwarePasskey, WebAuthnSignature, challenge_text,
    };
    let passkey = SoftwarePasskey::generate("namera.test").unwrap();
    let json = format!(
        r#"{{"type":"webauthn.get","challenge":"{}"}}"#,
        challenge_text(B256::repeat_byte(3))
    );
    let authenticator_data = [vec![0u8; 32], vec![0x05], vec![0u8; 4]].concat();
    let assertion = passkey.assertion_over(authenticator_data, json).unwrap();
    let sig = WebAuthnSignature::from_assertion(&assertion, P256Verifier::Precompile).unwrap();
    let key = passkey.credential();
    (sig.message(), sig.r, sig.s, key.x, key.y).abi_encode_params()
}

fn cases() -> Vec<Case> {
    let h = B256::repeat_byte(0x42);
    let stranger = address!("0x00000000000000000000000000000000000000cc");
    let key = address!("0x00000000000000000000000000000000000000dd");
    let eq2 = call_install(vec![permission(
        0,
        TOKEN,
        TRANSFER,
        0,
        vec![rule(0, 0, &[U256::from(1), U256::from(2)])],
    )]);
    let slice1 =
        call_install(vec![permission(0, TOKEN, TRANSFER, 0, vec![rule(7, 0, &[U256::from(1)])])]);
    let dup = call_install(vec![
        permission(0, TOKEN, TRANSFER, 0, vec![]),
        permission(0, TOKEN, TRANSFER, 5, vec![]),
    ]);
    let plain =
        |plugin, name, ask: Vec<u8>, expect| Case { name, plugin, setup: vec![], ask, expect };
    let after = |plugin, name, setup: Vec<Vec<u8>>, ask: Vec<u8>, expect| Case {
        name,
        plugin,
        setup,
        ask,
        expect,
    };
    let sel = |e: [u8; 4]| reverts(e.to_vec());
    let mut out = vec![];
    for (v, plugin, no_match) in [
        ("0.0.5", CALL_V5, Errors::CallViolatesTargetRule::SELECTOR),
        ("0.0.4", CALL_V4, Errors::InvalidCallData::SELECTOR),
    ] {
        let label = |s: &'static str| -> &'static str {
            Box::leak(format!("call {v}: {s}").into_boxed_str())
        };
        out.extend([
            after(
                plugin,
                label("no permission for the target"),
                vec![token_policy()],
                check_call(single(stranger, 0, &transfer(key, 10))),
                sel(no_match),
            ),
            after(
                plugin,
                label("no permission for the selector (plain transfer)"),
                vec![token_policy()],
                check_call(single(TOKEN, 1, &[])),
                sel(no_match),
            ),
            after(
                plugin,
                label("no permission for delegatecall"),
                vec![token_policy()],
                check_call(execute(0xff, [TOKEN.as_slice(), &transfer(key, 10)].concat())),
                sel(no_match),
            ),
            after(
                plugin,
                label("batch: second item has no permission"),
                vec![token_policy()],
                check_call(execute(
                    1,
                    vec![
                        (TOKEN, U256::ZERO, Bytes::from(transfer(key, 10))),
                        (stranger, U256::ZERO, Bytes::from(transfer(key, 10))),
                    ]
                    .abi_encode(),
                )),
                sel(no_match),
            ),
            after(
                plugin,
                label("value above the limit"),
                vec![token_policy()],
                check_call(single(TOKEN, 1001, &transfer(key, 10))),
                sel(Errors::CallViolatesValueRule::SELECTOR),
            ),
            after(
                plugin,
                label("EQUAL rule broken"),
                vec![token_policy()],
                check_call(single(TOKEN, 0, &transfer(key, 11))),
                sel(Errors::CallViolatesParamRule::SELECTOR),
            ),
            after(
                plugin,
                label("allowed call passes"),
                vec![token_policy()],
                check_call(single(TOKEN, 1000, &transfer(key, 10))),
                returns_word(0),
            ),
            after(
                plugin,
                label("rule argument missing (short call data)"),
                vec![token_policy()],
                check_call(single(TOKEN, 0, &transfer(key, 10)[..40])),
                bare(),
            ),
            after(
                plugin,
                label("call data of 2 bytes"),
                vec![token_policy()],
                check_call(single(TOKEN, 0, &[0xa9, 0x05])),
                bare(),
            ),
            after(
                plugin,
                label("call type 0x02"),
                vec![token_policy()],
                check_call(execute(2, vec![])),
                sel(Errors::InvalidCallType::SELECTOR),
            ),
            after(
                plugin,
                label("not an execute call"),
                vec![token_policy()],
                check_call(transfer(key, 10)),
                bare(),
            ),
            after(
                plugin,
                label("call data of 3 bytes"),
                vec![token_policy()],
                check_call(vec![0xe9, 0xae, 0x5c]),
                bare(),
            ),
            after(
                plugin,
                label("re-install of a live id"),
                vec![token_policy()],
                token_policy(),
                bare(),
            ),
            after(
                plugin,
                label("re-install of a retired id"),
                vec![token_policy(), uninstall()],
                token_policy(),
                bare(),
            ),
            after(
                plugin,
                label("retired id still answers"),
                vec![token_policy(), uninstall()],
                check_call(single(TOKEN, 0, &transfer(key, 10))),
                returns_word(0),
            ),
            after(
                plugin,
                label("duplicate permission"),
                vec![],
                dup.clone(),
                error_string("duplicate permissionHash"),
            ),
            plain(
                plugin,
                label("signature check on an unused id"),
                IPlugin::checkSignaturePolicyCall {
                    id: ID,
                    sender: key,
                    hash: h,
                    sig: Bytes::new(),
                }
                .abi_encode(),
                bare(),
            ),
            plain(plugin, label("uninstall of an unused id"), uninstall(), bare()),
        ]);
    }
    out.extend([
        plain(
            CALL_V5,
            "call 0.0.5: EQUAL with two params",
            eq2.clone(),
            error_string("only OneOf and SubstrEqual condition can have multiple params"),
        ),
        plain(
            CALL_V4,
            "call 0.0.4: EQUAL with two params",
            eq2,
            error_string("only OneOf condition can have multiple params"),
        ),
        plain(
            CALL_V5,
            "call 0.0.5: SLICE_EQUAL with one param",
            slice1.clone(),
            error_string("substr equal condition must have 3 params"),
        ),
        plain(CALL_V4, "call 0.0.4: condition 7 does not exist", slice1, bare()),
        after(
            CALL_V5,
            "call 0.0.5: SLICE_EQUAL argument too short",
            vec![greet_policy()],
            check_call(greet("hell")),
            sel(Errors::ParamTooShort::SELECTOR),
        ),
        after(
            CALL_V5,
            "call 0.0.5: SLICE_EQUAL mismatch",
            vec![greet_policy()],
            check_call(greet("help me")),
            sel(Errors::CallViolatesParamRule::SELECTOR),
        ),
        after(
            CALL_V5,
            "call 0.0.5: SLICE_EQUAL match",
            vec![greet_policy()],
            check_call(greet("hello world")),
            returns_word(0),
        ),
        // gas
        plain(GAS, "gas: unused id", check_call(single(TOKEN, 0, &[])), bare()),
        after(
            GAS,
            "gas: paymaster named, none used",
            vec![gas_install(u128::MAX, true, PAYMASTER)],
            check_call(single(TOKEN, 0, &[])),
            bare(),
        ),
        after(
            GAS,
            "gas: paymaster named, another used",
            vec![gas_install(u128::MAX, true, PAYMASTER)],
            check_policy(with_paymaster(stranger)),
            returns_word(1),
        ),
        after(
            GAS,
            "gas: paymaster named and used",
            vec![gas_install(u128::MAX, true, PAYMASTER)],
            check_policy(with_paymaster(PAYMASTER)),
            returns_word(0),
        ),
        after(
            GAS,
            "gas: enforce without a named paymaster checks nothing",
            vec![gas_install(u128::MAX, true, Address::ZERO)],
            check_call(single(TOKEN, 0, &[])),
            returns_word(0),
        ),
        after(
            GAS,
            "gas: over budget",
            vec![gas_install(1, false, Address::ZERO)],
            check_call(single(TOKEN, 0, &[])),
            returns_word(1),
        ),
        after(
            GAS,
            "gas: cost overflows",
            vec![gas_install(1, false, Address::ZERO)],
            check_policy(PackedUserOperation { preVerificationGas: U256::MAX, ..user_op(vec![]) }),
            panic(0x11),
        ),
        after(
            GAS,
            "gas: re-install",
            vec![gas_install(1, false, Address::ZERO)],
            gas_install(1, false, Address::ZERO),
            bare(),
        ),
        plain(
            GAS,
            "gas: install data shorter than the id",
            IPlugin::onInstallCall { data: vec![1u8; 10].into() }.abi_encode(),
            bare(),
        ),
        // rate limit, timestamp, signature caller, sudo
        after(
            RATE_LIMIT,
            "rate limit: count 0",
            vec![install(&[[0u8; 6], [0u8; 6], [0u8; 6]].concat())],
            check_call(vec![]),
            returns_word(1),
        ),
        plain(RATE_LIMIT, "rate limit: install data of 10 bytes", install(&[0u8; 10]), bare()),
        plain(RATE_LIMIT, "rate limit: unused id", check_call(vec![]), bare()),
        plain(TIMESTAMP, "timestamp: unused id", check_call(vec![]), bare()),
        after(
            TIMESTAMP,
            "timestamp: uninstall twice",
            vec![install(&(0u64, 0u64).abi_encode_params()), uninstall()],
            uninstall(),
            bare(),
        ),
        after(
            SIGNATURE_CALLER,
            "signature caller: caller not allowed",
            vec![install(&vec![key].abi_encode())],
            IPlugin::checkSignaturePolicyCall {
                id: ID,
                sender: stranger,
                hash: h,
                sig: Bytes::new(),
            }
            .abi_encode(),
            returns_word(1),
        ),
        plain(
            SIGNATURE_CALLER,
            "signature caller: unused id",
            IPlugin::checkSignaturePolicyCall { id: ID, sender: key, hash: h, sig: Bytes::new() }
                .abi_encode(),
            bare(),
        ),
        plain(SUDO, "sudo: uninstall never installed", uninstall(), panic(0x11)),
        // ECDSA signer and validators
        after(
            ECDSA_SIGNER,
            "ecdsa signer: 10-byte signature",
            vec![install(key.as_slice())],
            IPlugin::checkUserOpSignatureCall {
                id: ID,
                userOp: signer_op(vec![1; 10]),
                userOpHash: h,
            }
            .abi_encode(),
            sel(Errors::InvalidSignature::SELECTOR),
        ),
        after(
            ECDSA_SIGNER,
            "ecdsa signer: v = 0",
            vec![install(key.as_slice())],
            IPlugin::checkUserOpSignatureCall {
                id: ID,
                userOp: signer_op([vec![1; 64], vec![0]].concat()),
                userOpHash: h,
            }
            .abi_encode(),
            sel(Errors::InvalidSignature::SELECTOR),
        ),
        after(
            ECDSA_SIGNER,
            "ecdsa signer: another key's signature",
            vec![install(key.as_slice())],
            IPlugin::checkUserOpSignatureCall {
                id: ID,
                userOp: signer_op(foreign_signature(h)),
                userOpHash: h,
            }
            .abi_encode(),
            returns_word(1),
        ),
        after(
            ECDSA_SIGNER,
            "ecdsa signer: re-install",
            vec![install(key.as_slice())],
            install(key.as_slice()),
            bare(),
        ),
        plain(ECDSA_SIGNER, "ecdsa signer: uninstall unused", uninstall(), bare()),
        after(
            ECDSA_VALIDATOR,
            "ecdsa validator: 3-byte signature",
            vec![IPlugin::onInstallCall { data: key.to_vec().into() }.abi_encode()],
            IPlugin::validateUserOpCall { userOp: signer_op(vec![1; 3]), userOpHash: h }
                .abi_encode(),
            sel(Errors::InvalidSignature::SELECTOR),
        ),
        after(
            ECDSA_VALIDATOR,
            "ecdsa validator: preCheck by another sender",
            vec![IPlugin::onInstallCall { data: key.to_vec().into() }.abi_encode()],
            IPlugin::preCheckCall {
                msgSender: stranger,
                msgValue: U256::ZERO,
                msgData: Bytes::new(),
            }
            .abi_encode(),
            error_string("ECDSAValidator: sender is not owner"),
        ),
        after(
            MULTI_CHAIN_VALIDATOR,
            "multi-chain validator: hash not in the proof",
            vec![IPlugin::onInstallCall { data: key.to_vec().into() }.abi_encode()],
            IPlugin::validateUserOpCall {
                userOp: signer_op(
                    [
                        foreign_signature(h),
                        B256::repeat_byte(7).to_vec(),
                        Vec::<B256>::new().abi_encode(),
                    ]
                    .concat(),
                ),
                userOpHash: h,
            }
            .abi_encode(),
            error_string("hash is not in proof"),
        ),
        after(
            MULTI_CHAIN_VALIDATOR,
            "multi-chain validator: 70-byte signature",
            vec![IPlugin::onInstallCall { data: key.to_vec().into() }.abi_encode()],
            IPlugin::validateUserOpCall { userOp: signer_op(vec![1; 70]), userOpHash: h }
                .abi_encode(),
            bare(),
        ),
        // WebAuthn pair and the Daimo verifier
        plain(
            WEBAUTHN_VALIDATOR,
            "webauthn validator: zero x",
            IPlugin::onInstallCall {
                data: (U256::ZERO, U256::from(1), B256::ZERO).abi_encode_params().into(),
            }
            .abi_encode(),
            sel(Errors::InvalidPublicKey::SELECTOR),
        ),
        plain(
            WEBAUTHN_SIGNER,
            "webauthn signer: zero y",
            install(&(U256::from(1), U256::ZERO, B256::ZERO).abi_encode_params()),
            sel(Errors::InvalidPublicKey::SELECTOR),
        ),
        plain(
            WEBAUTHN_VALIDATOR,
            "webauthn validator: malformed signature",
            IPlugin::validateUserOpCall { userOp: signer_op(vec![1; 10]), userOpHash: h }
                .abi_encode(),
            bare(),
        ),
        plain(DAIMO, "p256 verifier: input of 100 bytes", vec![7; 100], returns_word(0)),
        plain(
            DAIMO,
            "p256 verifier: a signature that does not verify",
            [h.as_slice(), &[1u8; 128]].concat(),
            returns_word(0),
        ),
        plain(DAIMO, "p256 verifier: a valid signature", valid_p256_input(), returns_word(1)),
    ]);
    out
}

/// Cases whose expected revert names the account (`AlreadyInitialized(account)`, …).
fn account_cases(account: Address) -> Vec<Case> {
    let key = address!("0x00000000000000000000000000000000000000dd");
    let owner_install = IPlugin::onInstallCall { data: key.to_vec().into() }.abi_encode();
    let pubkey = (U256::from(1), U256::from(2), B256::ZERO).abi_encode_params();
    vec![
        Case {
            name: "ecdsa validator: second install",
            plugin: ECDSA_VALIDATOR,
            setup: vec![owner_install.clone()],
            ask: owner_install,
            expect: reverts(Errors::AlreadyInitialized { smartAccount: account }.abi_encode()),
        },
        Case {
            name: "ecdsa validator: uninstall when not installed",
            plugin: ECDSA_VALIDATOR,
            setup: vec![],
            ask: IPlugin::onUninstallCall { data: Bytes::new() }.abi_encode(),
            expect: reverts(Errors::NotInitialized { smartAccount: account }.abi_encode()),
        },
        Case {
            name: "webauthn validator: second install",
            plugin: WEBAUTHN_VALIDATOR,
            setup: vec![IPlugin::onInstallCall { data: pubkey.clone().into() }.abi_encode()],
            ask: IPlugin::onInstallCall { data: pubkey.clone().into() }.abi_encode(),
            expect: reverts(Errors::AlreadyInitialized { smartAccount: account }.abi_encode()),
        },
        Case {
            name: "webauthn signer: second install",
            plugin: WEBAUTHN_SIGNER,
            setup: vec![install(&pubkey)],
            ask: install(&pubkey),
            expect: reverts(Errors::AlreadyInitialized { smartAccount: account }.abi_encode()),
        },
        Case {
            name: "webauthn signer: uninstall when not installed",
            plugin: WEBAUTHN_SIGNER,
            setup: vec![],
            ask: uninstall(),
            expect: reverts(Errors::NotInitialized { smartAccount: account }.abi_encode()),
        },
    ]
}

fn rpc() -> RpcClient {
    RpcClient::new(endpoints().rpc)
}

/// A fresh address the node lets us send from (anvil impersonation), funded for gas.
fn impersonated(rpc: &RpcClient) -> Address {
    let account = PrivateKeySigner::random().address();
    let _: Value = rpc.call("anvil_impersonateAccount", json!([account])).unwrap();
    set_balance(account, ether(1));
    account
}

/// Runs one case against the plugin code at `at`, from a fresh account.
fn answer(rpc: &RpcClient, at: Address, account: Address, case: &Case) -> Answer {
    for data in &case.setup {
        namera_devnet::anvil::transact(rpc, account, Some(at), data, U256::ZERO)
            .unwrap_or_else(|e| panic!("{}: setup at {at}: {e}", case.name));
    }
    let node = namera::node::NodeClient::new(rpc.clone());
    let asked: Result<Bytes, RpcError> = node.call_from(account, at, &case.ask);
    match asked {
        Ok(out) => Answer::Returns(out),
        Err(e) => match e.revert() {
            Some(r) => Answer::Reverts(r.data.clone()),
            None => panic!("{}: eth_call at {at} failed without a revert: {e}", case.name),
        },
    }
}

/// Our stand-ins' runtime code, placed at shadow addresses, when the devnet runs other code
/// at the canonical ones (`NAMERA_PLUGIN_ARTIFACTS`): canonical address → shadow address.
fn shadows(rpc: &RpcClient) -> Option<std::collections::BTreeMap<Address, Address>> {
    let devnet = shared().devnet.as_ref()?;
    let state = devnet.state();
    let overrides = state.plugin_overrides.as_ref()?;
    let artifacts = state.contracts_artifacts.as_ref().expect("our contracts were built");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(artifacts).unwrap()).unwrap();
    let mut map = std::collections::BTreeMap::new();
    for p in &state.placement {
        if !overrides.addresses.contains(&p.address) {
            continue;
        }
        let code: Bytes = serde_json::from_value(all[&p.contract]["deployedBytecode"].clone())
            .unwrap_or_else(|e| panic!("no deployedBytecode for {}: {e}", p.contract));
        let shadow = Address::from_word(keccak256(
            [b"namera-ours".as_slice(), p.address.as_slice()].concat(),
        ));
        namera_devnet::anvil::set_code(rpc, shadow, &code).unwrap();
        map.insert(p.address, shadow);
    }
    Some(map)
}

#[test]
fn refusal_table_matches_canonical_bytes() {
    let rpc = rpc();
    let shadow = shadows(&rpc);
    let rows = cases().len() + account_cases(Address::ZERO).len();
    assert!(rows >= 30, "the table has {rows} cases");
    let mut failures = Vec::new();
    let mut compared = 0;
    for i in 0..rows {
        // One account per row; the shadow copy has its own storage, so the same account
        // asks both and their answers must be the same bytes.
        let account = impersonated(&rpc);
        let mut table = cases();
        table.extend(account_cases(account));
        let case = &table[i];
        let got = answer(&rpc, case.plugin, account, case);
        if got != case.expect {
            failures.push(format!(
                "{}: expected {:?}, the devnet answered {got:?}",
                case.name, case.expect
            ));
        }
        if let Some(ours_at) = shadow.as_ref().and_then(|m| m.get(&case.plugin)) {
            compared += 1;
            let ours = answer(&rpc, *ours_at, account, case);
            if ours != got {
                failures.push(format!("{}: canonical answered {got:?}, ours {ours:?}", case.name));
            }
        }
    }
    eprintln!("[fidelity] {rows} cases; {compared} also compared with our stand-ins byte for byte");
    if shadow.is_some() {
        assert_eq!(compared, rows, "every case compared");
    }
    assert!(
        failures.is_empty(),
        "{} of {rows} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

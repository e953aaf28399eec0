//! The WebAuthn validator and the WebAuthn signer, called directly on the devnet.
//!
//! A fresh address stands in for "the account" (the plugin's `msg.sender`): it installs a
//! P-256 passkey with a real transaction (anvil impersonation), then asks the plugin, through
//! `eth_call` from that address, about assertions built here byte by byte: a correct one, and
//! ones with exactly one defect each. Every defective assertion except the foreign-key one is
//! still a valid P-256 signature of its own message under the installed key (checked against
//! the precompile at 0x100 first), so a refusal can only come from the rule under test.
//!
//! Both contract paths are asked each time: ERC-1271 (`0x1626ba7e` / `0xffffffff`) and the
//! UserOperation path (validationData `0` / `1`).

use std::fmt::Write as _;

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256, address, hex, uint};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue, sol};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use namera::rpc::{RpcClient, RpcError};
use namera_e2e::{endpoints, ether, random_address, set_balance};
use p256::ecdsa::{Signature, SigningKey, signature::hazmat::PrehashSigner};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

sol! {
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

    interface IWebAuthnValidator {
        function onInstall(bytes data) external payable;
        function isInitialized(address account) external view returns (bool);
        function webAuthnValidatorStorage(address account) external view returns (uint256 pubKeyX, uint256 pubKeyY);
        function validateUserOp(PackedUserOperation userOp, bytes32 userOpHash) external payable returns (uint256);
        function isValidSignatureWithSender(address sender, bytes32 hash, bytes data) external view returns (bytes4);
    }

    interface IWebAuthnSigner {
        function onInstall(bytes data) external payable;
        function isInitialized(address account) external view returns (bool);
        function webAuthnSignerStorage(bytes32 id, address account) external view returns (uint256 pubKeyX, uint256 pubKeyY);
        function checkUserOpSignature(bytes32 id, PackedUserOperation userOp, bytes32 userOpHash) external payable returns (uint256);
        function checkSignature(bytes32 id, address sender, bytes32 hash, bytes sig) external view returns (bytes4);
    }
}

/// Canonical address of the WebAuthn validator.
const WEBAUTHN_VALIDATOR: Address = address!("0x7ab16Ff354AcB328452F1D445b3Ddee9a91e9e69");
/// Canonical address of the WebAuthn signer.
const WEBAUTHN_SIGNER: Address = address!("0x65DEeC8fEe717dc044D0CFD63cCf55F02cCaC2b3");
/// The P-256 verifier precompile (RIP-7212 / EIP-7951).
const P256_PRECOMPILE: Address = address!("0x0000000000000000000000000000000000000100");
/// Daimo's Solidity P-256 verifier, the `usePrecompiled = false` path (not on the devnet).
const DAIMO_P256_VERIFIER: Address = address!("0xc2b78104907F722DABAc4C69f826a522B2754De4");

/// ERC-1271 "valid".
const ERC1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];
/// ERC-1271 "invalid" as the plugins answer it.
const ERC1271_REJECT: [u8; 4] = [0xff, 0xff, 0xff, 0xff];

/// The P-256 group order n.
const P256_N: U256 = uint!(0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551_U256);

/// authenticatorData flag: user present.
const FLAG_UP: u8 = 0x01;
/// authenticatorData flag: user verified.
const FLAG_UV: u8 = 0x04;
/// authenticatorData flag: backup eligible.
const FLAG_BE: u8 = 0x08;
/// authenticatorData flag: backed up.
const FLAG_BS: u8 = 0x10;

/// Where `"type":"webauthn.get"` starts in the clientDataJSON built here (after `{`).
const RESPONSE_TYPE_LOCATION: u64 = 1;

// ---------------------------------------------------------------------------------------
// WebAuthn encoding, self-contained (the SDK's passkey module does not exist yet)

/// A P-256 passkey and its public key as the plugins store it.
struct Passkey {
    key: SigningKey,
    x: U256,
    y: U256,
    credential_id: Vec<u8>,
}

impl Passkey {
    fn random() -> Self {
        // 32 random bytes (alloy's getrandom feature is off here); retry the ~2^-32 chance
        // that they are not a valid P-256 scalar.
        let key = loop {
            let bytes = random_b256();
            if let Ok(key) = SigningKey::from_bytes(&bytes.0.into()) {
                break key;
            }
        };
        let point = key.verifying_key().to_encoded_point(false);
        let x = U256::from_be_slice(point.x().expect("uncompressed point has x"));
        let y = U256::from_be_slice(point.y().expect("uncompressed point has y"));
        Self { key, x, y, credential_id: random_b256().to_vec() }
    }

    /// signerData / validator install data:
    /// `abi.encode((uint256 x, uint256 y), bytes32 keccak256(credentialId))`.
    fn key_data(&self) -> Vec<u8> {
        ((self.x, self.y), alloy_primitives::keccak256(&self.credential_id)).abi_encode_params()
    }

    /// An ECDSA signature of the 32-byte `message` (signed as is, no further hashing),
    /// `s` normalised to the lower half of the group order.
    fn sign_low_s(&self, message: B256) -> (U256, U256) {
        let signature: Signature = self.key.sign_prehash(message.as_slice()).expect("sign");
        let signature = signature.normalize_s().unwrap_or(signature);
        let bytes = signature.to_bytes();
        (U256::from_be_slice(&bytes[..32]), U256::from_be_slice(&bytes[32..]))
    }
}

/// authenticatorData: `rpIdHash (32) ‖ flags (1) ‖ signCount (4, big endian)`.
fn authenticator_data(flags: u8) -> Vec<u8> {
    let mut data = Sha256::digest(b"namera.test").to_vec();
    data.push(flags);
    data.extend_from_slice(&7u32.to_be_bytes());
    data
}

/// The WebAuthn challenge for a 32-byte hash: base64url without padding.
fn challenge(hash: B256) -> String {
    URL_SAFE_NO_PAD.encode(hash)
}

/// clientDataJSON of an assertion of type `kind` whose challenge text is `challenge`, laid out
/// as browsers do: `{"type":"…","challenge":"…","origin":"…","crossOrigin":false}`.
fn client_data_json(kind: &str, challenge: &str) -> String {
    format!(
        r#"{{"type":"{kind}","challenge":"{challenge}","origin":"https://namera.test","crossOrigin":false}}"#
    )
}

/// The message a passkey signs: `sha256(authenticatorData ‖ sha256(clientDataJSON))`.
fn webauthn_message(authenticator_data: &[u8], client_data_json: &str) -> B256 {
    let mut preimage = authenticator_data.to_vec();
    preimage.extend_from_slice(&Sha256::digest(client_data_json.as_bytes()));
    B256::from_slice(&Sha256::digest(&preimage))
}

/// One WebAuthn assertion as the plugins decode it.
#[derive(Clone)]
struct Assertion {
    authenticator_data: Vec<u8>,
    client_data_json: String,
    response_type_location: U256,
    r: U256,
    s: U256,
    use_precompiled: bool,
}

impl Assertion {
    /// A correctly built and signed assertion over `hash` by `passkey`.
    fn sign(passkey: &Passkey, hash: B256) -> Self {
        Self::sign_parts(
            passkey,
            authenticator_data(FLAG_UP | FLAG_UV),
            client_data_json("webauthn.get", &challenge(hash)),
        )
    }

    /// Sign the given authenticatorData and clientDataJSON as they are.
    fn sign_parts(
        passkey: &Passkey,
        authenticator_data: Vec<u8>,
        client_data_json: String,
    ) -> Self {
        let (r, s) = passkey.sign_low_s(webauthn_message(&authenticator_data, &client_data_json));
        Self {
            authenticator_data,
            client_data_json,
            response_type_location: U256::from(RESPONSE_TYPE_LOCATION),
            r,
            s,
            use_precompiled: true,
        }
    }

    fn message(&self) -> B256 {
        webauthn_message(&self.authenticator_data, &self.client_data_json)
    }

    /// `abi.encode(bytes authenticatorData, string clientDataJSON, uint256 responseTypeLocation,
    /// uint256 r, uint256 s, bool usePrecompiled)`.
    fn encode(&self) -> Bytes {
        (
            Bytes::copy_from_slice(&self.authenticator_data),
            self.client_data_json.clone(),
            self.response_type_location,
            self.r,
            self.s,
            self.use_precompiled,
        )
            .abi_encode_params()
            .into()
    }
}

// ---------------------------------------------------------------------------------------
// The cases

/// One assertion and what the plugins must answer.
struct Case {
    name: &'static str,
    assertion: Assertion,
    /// The plugin accepts it.
    accepted: bool,
    /// The P-256 precompile accepts `(message, r, s)` under the installed key: true for every
    /// case but the foreign key, so that the refusal is the rule under test, not the curve.
    curve_valid: bool,
}

/// The cases for `hash` signed for `passkey` (the installed key); `stranger` is another key.
fn cases(passkey: &Passkey, stranger: &Passkey, hash: B256) -> Vec<Case> {
    let good = Assertion::sign(passkey, hash);
    let with_flags = |flags: u8| {
        Assertion::sign_parts(
            passkey,
            authenticator_data(flags),
            client_data_json("webauthn.get", &challenge(hash)),
        )
    };
    let with_json =
        |json: String| Assertion::sign_parts(passkey, authenticator_data(FLAG_UP | FLAG_UV), json);
    let case = |name, assertion, accepted| Case { name, assertion, accepted, curve_valid: true };

    let high_s = Assertion { s: P256_N - good.s, ..good.clone() };
    assert!(high_s.s > P256_N >> 1, "the flipped s is high");
    let other_hash = random_b256();
    assert_ne!(other_hash, hash);
    let padded = format!("{}=", challenge(hash));
    // "webauthn.create" is 3 bytes longer than "webauthn.get": the challenge also moves off
    // byte 23, so two checks refuse it.
    let create = client_data_json("webauthn.create", &challenge(hash));
    // Same length as "webauthn.get", so the challenge still starts at byte 23 and the type
    // is the only defect.
    let same_length_type = client_data_json("webauthn.pay", &challenge(hash));
    let create_location = create.find(r#""type":"webauthn.get""#);
    assert_eq!(create_location, None, "no get type anywhere in the create JSON");

    vec![
        case("correct assertion (usePrecompiled = true)", good.clone(), true),
        case(
            "correct assertion, authenticator backed up (UP|UV|BE|BS)",
            with_flags(FLAG_UP | FLAG_UV | FLAG_BE | FLAG_BS),
            true,
        ),
        case(
            "challenge of another hash",
            with_json(client_data_json("webauthn.get", &challenge(other_hash))),
            false,
        ),
        case(
            "challenge with '=' padding",
            with_json(client_data_json("webauthn.get", &padded)),
            false,
        ),
        case("high s (n - s)", high_s, false),
        case("UV flag missing", with_flags(FLAG_UP), false),
        case("UP flag missing", with_flags(FLAG_UV), false),
        case("BS without BE", with_flags(FLAG_UP | FLAG_UV | FLAG_BS), false),
        case(
            "responseTypeLocation 0",
            Assertion { response_type_location: U256::ZERO, ..good.clone() },
            false,
        ),
        case(
            "responseTypeLocation 2",
            Assertion { response_type_location: U256::from(2), ..good.clone() },
            false,
        ),
        case(
            "responseTypeLocation 2^256-1 (gas-estimation dummy)",
            Assertion { response_type_location: U256::MAX, ..good.clone() },
            false,
        ),
        case("type webauthn.create", with_json(create), false),
        case("type webauthn.pay (same length)", with_json(same_length_type), false),
        case(
            "usePrecompiled = false (no Daimo verifier on the devnet)",
            Assertion { use_precompiled: false, ..good.clone() },
            false,
        ),
        Case {
            name: "signed by a different key",
            assertion: Assertion::sign(stranger, hash),
            accepted: false,
            curve_valid: false,
        },
    ]
}

// ---------------------------------------------------------------------------------------
// Chain helpers

fn rpc() -> RpcClient {
    RpcClient::new(endpoints().rpc)
}

fn random_b256() -> B256 {
    PrivateKeySigner::random().to_bytes()
}

/// A fresh address the node lets us send from (anvil impersonation), funded for gas.
fn impersonated_account(rpc: &RpcClient) -> Address {
    let account = PrivateKeySigner::random().address();
    let _: Value =
        rpc.call("anvil_impersonateAccount", json!([account])).expect("anvil_impersonateAccount");
    set_balance(account, ether(1));
    account
}

/// Send `data` to `to` from `from` and require success.
fn transact(rpc: &RpcClient, from: Address, to: Address, data: Vec<u8>) {
    let receipt = namera_devnet::anvil::transact(rpc, from, Some(to), &data, U256::ZERO)
        .unwrap_or_else(|e| panic!("transaction from {from} to {to}: {e}"));
    assert_eq!(receipt.status, U256::from(1), "transaction succeeded");
}

/// `eth_call` of `call` on `to` with `msg.sender = from`.
fn call_as<C: SolCall>(rpc: &RpcClient, from: Address, to: Address, call: &C) -> C::Return {
    let out = try_call_as(rpc, from, to, &call.abi_encode())
        .unwrap_or_else(|e| panic!("{} reverted or failed: {e}", C::SIGNATURE));
    C::abi_decode_returns(&out).unwrap_or_else(|e| panic!("{}: {e}", C::SIGNATURE))
}

fn try_call_as(
    rpc: &RpcClient,
    from: Address,
    to: Address,
    data: &[u8],
) -> Result<Bytes, RpcError> {
    rpc.call(
        "eth_call",
        json!([{"from": from, "to": to, "data": Bytes::copy_from_slice(data)}, "latest"]),
    )
}

/// What the P-256 precompile says about `(message, r, s)` under `(x, y)`.
fn precompile_accepts(rpc: &RpcClient, message: B256, r: U256, s: U256, x: U256, y: U256) -> bool {
    let input = (message, r, s, x, y).abi_encode_params();
    let out = try_call_as(rpc, Address::ZERO, P256_PRECOMPILE, &input).expect("precompile call");
    match out.len() {
        0 => false,
        32 => {
            assert_eq!(U256::from_be_slice(&out), U256::from(1), "precompile answers 1 or nothing");
            true
        }
        _ => panic!("unexpected precompile answer {out}"),
    }
}

/// A UserOperation whose only meaningful field is the signature.
fn user_operation(sender: Address, signature: Bytes) -> PackedUserOperation {
    PackedUserOperation {
        sender,
        nonce: U256::ZERO,
        initCode: Bytes::new(),
        callData: Bytes::new(),
        accountGasLimits: B256::ZERO,
        preVerificationGas: U256::ZERO,
        gasFees: B256::ZERO,
        paymasterAndData: Bytes::new(),
        signature,
    }
}

/// The two answers of a plugin for one assertion: ERC-1271 and UserOperation validationData.
#[derive(Debug, PartialEq, Eq)]
struct Answers {
    erc1271: FixedBytes<4>,
    validation_data: U256,
}

impl Answers {
    fn expected(accepted: bool) -> Self {
        if accepted {
            Self { erc1271: ERC1271_MAGIC.into(), validation_data: U256::ZERO }
        } else {
            Self { erc1271: ERC1271_REJECT.into(), validation_data: U256::from(1) }
        }
    }
}

/// Check every case's preconditions, ask the plugin with `ask`, and fail listing every case
/// whose answer differs from the expected one.
fn run_cases(
    rpc: &RpcClient,
    passkey: &Passkey,
    stranger: &Passkey,
    hash: B256,
    ask: impl Fn(B256, Bytes) -> Answers,
) {
    let cases = cases(passkey, stranger, hash);
    let mut mismatches = String::new();
    for case in &cases {
        let a = &case.assertion;
        let curve = precompile_accepts(rpc, a.message(), a.r, a.s, passkey.x, passkey.y);
        assert_eq!(curve, case.curve_valid, "{}: precompile verdict (precondition)", case.name);
        let got = ask(hash, a.encode());
        let want = Answers::expected(case.accepted);
        if got != want {
            let _ = writeln!(mismatches, "  {}: got {got:?}, want {want:?}", case.name);
        }
    }
    assert!(mismatches.is_empty(), "cases with the wrong answer:\n{mismatches}");
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn encoding_helpers_follow_the_webauthn_layout() {
    let hash = B256::repeat_byte(0xab);
    let json = client_data_json("webauthn.get", &challenge(hash));
    assert!(json.starts_with(r#"{"type":"webauthn.get","challenge":""#), "{json}");
    assert_eq!(json.find(r#""challenge":""#), Some(23), "challenge at byte 23");
    assert_eq!(json.find(r#""type":"webauthn.get""#), Some(RESPONSE_TYPE_LOCATION as usize));
    // 0xab repeated: 101010 111010 101110 101011 … → "q6ur" per 3 bytes, last 2 bytes "q6s".
    assert_eq!(challenge(hash), format!("{}q6s", "q6ur".repeat(10)));
    assert_eq!(challenge(hash).len(), 43, "32 bytes, no padding");

    let data = authenticator_data(FLAG_UP | FLAG_UV);
    assert_eq!(data.len(), 37);
    assert_eq!(data[32], 0x05);
    assert_eq!(data[33..], [0, 0, 0, 7]);

    let passkey = Passkey::random();
    let a = Assertion::sign(&passkey, hash);
    assert!(a.s <= P256_N >> 1, "low s");
    let encoded = a.encode();
    // Six head words: offset(authData) = 0xc0, offset(json), location, r, s, bool.
    assert_eq!(U256::from_be_slice(&encoded[..32]), U256::from(0xc0));
    assert_eq!(U256::from_be_slice(&encoded[64..96]), U256::from(RESPONSE_TYPE_LOCATION));
    assert_eq!(U256::from_be_slice(&encoded[96..128]), a.r);
    assert_eq!(U256::from_be_slice(&encoded[128..160]), a.s);
    assert_eq!(U256::from_be_slice(&encoded[160..192]), U256::from(1));
    // The signature verifies in Rust over the WebAuthn message.
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let mut rs = [0u8; 64];
    rs[..32].copy_from_slice(&a.r.to_be_bytes::<32>());
    rs[32..].copy_from_slice(&a.s.to_be_bytes::<32>());
    let signature = Signature::from_slice(&rs).expect("r, s in range");
    passkey
        .key
        .verifying_key()
        .verify_prehash(a.message().as_slice(), &signature)
        .expect("verifies");
    let expected = webauthn_message(&a.authenticator_data, &a.client_data_json);
    let mut manual = a.authenticator_data.clone();
    manual.extend_from_slice(&Sha256::digest(json.as_bytes()));
    assert_eq!(expected, B256::from_slice(&Sha256::digest(&manual)));
}

#[test]
fn webauthn_validator_accepts_only_a_correct_assertion() {
    let rpc = rpc();
    assert!(
        !rpc.call::<Bytes>("eth_getCode", json!([WEBAUTHN_VALIDATOR, "latest"]))
            .unwrap()
            .is_empty(),
        "validator deployed at its canonical address"
    );
    assert!(
        rpc.call::<Bytes>("eth_getCode", json!([DAIMO_P256_VERIFIER, "latest"]))
            .unwrap()
            .is_empty(),
        "no Daimo verifier on the devnet"
    );
    let passkey = Passkey::random();
    let stranger = Passkey::random();
    let account = impersonated_account(&rpc);

    let installed = |who| {
        call_as(&rpc, who, WEBAUTHN_VALIDATOR, &IWebAuthnValidator::isInitializedCall { account })
    };
    assert!(!installed(account), "not installed before onInstall");
    let install = IWebAuthnValidator::onInstallCall { data: passkey.key_data().into() };
    transact(&rpc, account, WEBAUTHN_VALIDATOR, install.abi_encode());
    assert!(installed(account), "installed after onInstall");
    let stored = call_as(
        &rpc,
        account,
        WEBAUTHN_VALIDATOR,
        &IWebAuthnValidator::webAuthnValidatorStorageCall { account },
    );
    assert_eq!((stored.pubKeyX, stored.pubKeyY), (passkey.x, passkey.y), "stored key");
    // A second install is refused (AlreadyInitialized).
    let again = namera_devnet::anvil::transact(
        &rpc,
        account,
        Some(WEBAUTHN_VALIDATOR),
        &install.abi_encode(),
        U256::ZERO,
    );
    assert!(again.is_err(), "second onInstall reverts");

    let ask_as = |who: Address, hash: B256, sig: Bytes| Answers {
        erc1271: call_as(
            &rpc,
            who,
            WEBAUTHN_VALIDATOR,
            &IWebAuthnValidator::isValidSignatureWithSenderCall {
                sender: random_address(),
                hash,
                data: sig.clone(),
            },
        ),
        validation_data: call_as(
            &rpc,
            who,
            WEBAUTHN_VALIDATOR,
            &IWebAuthnValidator::validateUserOpCall {
                userOp: user_operation(who, sig),
                userOpHash: hash,
            },
        ),
    };
    let hash = random_b256();
    run_cases(&rpc, &passkey, &stranger, hash, |hash, sig| ask_as(account, hash, sig));

    // The key is per account: the same correct assertion, asked by another account.
    let good = Assertion::sign(&passkey, hash).encode();
    assert_eq!(ask_as(account, hash, good.clone()), Answers::expected(true));
    assert_eq!(ask_as(random_address(), hash, good), Answers::expected(false), "other account");
}

#[test]
fn webauthn_signer_accepts_only_a_correct_assertion() {
    let rpc = rpc();
    assert!(
        !rpc.call::<Bytes>("eth_getCode", json!([WEBAUTHN_SIGNER, "latest"])).unwrap().is_empty(),
        "signer deployed at its canonical address"
    );
    let passkey = Passkey::random();
    let stranger = Passkey::random();
    let account = impersonated_account(&rpc);
    // Kernel hands the signer bytes32(bytes4 permissionId) ‖ signerData.
    let id = B256::from(hex!("c0ffee0100000000000000000000000000000000000000000000000000000000"));
    let other_id =
        B256::from(hex!("c0ffee0200000000000000000000000000000000000000000000000000000000"));

    let installed =
        || call_as(&rpc, account, WEBAUTHN_SIGNER, &IWebAuthnSigner::isInitializedCall { account });
    assert!(!installed(), "not installed before onInstall");
    let mut data = id.to_vec();
    data.extend_from_slice(&passkey.key_data());
    let install = IWebAuthnSigner::onInstallCall { data: data.into() };
    transact(&rpc, account, WEBAUTHN_SIGNER, install.abi_encode());
    assert!(installed(), "installed after onInstall");
    let stored = call_as(
        &rpc,
        account,
        WEBAUTHN_SIGNER,
        &IWebAuthnSigner::webAuthnSignerStorageCall { id, account },
    );
    assert_eq!((stored.pubKeyX, stored.pubKeyY), (passkey.x, passkey.y), "stored key");

    let ask_as = |who: Address, id: B256, hash: B256, sig: Bytes| Answers {
        erc1271: call_as(
            &rpc,
            who,
            WEBAUTHN_SIGNER,
            &IWebAuthnSigner::checkSignatureCall {
                id,
                sender: random_address(),
                hash,
                sig: sig.clone(),
            },
        ),
        validation_data: call_as(
            &rpc,
            who,
            WEBAUTHN_SIGNER,
            &IWebAuthnSigner::checkUserOpSignatureCall {
                id,
                userOp: user_operation(who, sig),
                userOpHash: hash,
            },
        ),
    };
    let hash = random_b256();
    run_cases(&rpc, &passkey, &stranger, hash, |hash, sig| ask_as(account, id, hash, sig));

    // The key is per (permission id, account).
    let good = Assertion::sign(&passkey, hash).encode();
    assert_eq!(ask_as(account, id, hash, good.clone()), Answers::expected(true));
    assert_eq!(ask_as(account, other_id, hash, good.clone()), Answers::expected(false), "other id");
    assert_eq!(ask_as(random_address(), id, hash, good), Answers::expected(false), "other account");
}

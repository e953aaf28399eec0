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
use namera::{
    passkey::{
        Assertion, FLAG_BE, FLAG_BS, FLAG_UP, FLAG_UV, P256Verifier, PasskeyError, PasskeySigner,
        SoftwarePasskey, WebAuthnSignature, challenge_text,
    },
    rpc::{RpcClient, RpcError},
};
use namera_e2e::{endpoints, ether, random_address, set_balance};
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
/// Daimo's Solidity P-256 verifier, the `usePrecompiled = false` path (on the devnet: our
/// Daimo-compatible contract, or Daimo's own code with `NAMERA_PLUGIN_ARTIFACTS`).
const DAIMO_P256_VERIFIER: Address = address!("0xc2b78104907F722DABAc4C69f826a522B2754De4");

/// ERC-1271 "valid".
const ERC1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];
/// ERC-1271 "invalid" as the plugins answer it.
const ERC1271_REJECT: [u8; 4] = [0xff, 0xff, 0xff, 0xff];

/// The P-256 group order n.
const P256_N: U256 = uint!(0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551_U256);

// ---------------------------------------------------------------------------------------
// Assertions: the SDK signs and encodes; the test only chooses the bytes to sign

/// authenticatorData: `rpIdHash (32) ‖ flags (1) ‖ signCount (4, big endian)`.
fn authenticator_data(flags: u8) -> Vec<u8> {
    let mut data = Sha256::digest(b"namera.test").to_vec();
    data.push(flags);
    data.extend_from_slice(&7u32.to_be_bytes());
    data
}

/// clientDataJSON of an assertion of type `kind` whose challenge text is `challenge`, laid out
/// as browsers do: `{"type":"…","challenge":"…","origin":"…","crossOrigin":false}`.
fn client_data_json(kind: &str, challenge: &str) -> String {
    format!(
        r#"{{"type":"{kind}","challenge":"{challenge}","origin":"https://namera.test","crossOrigin":false}}"#
    )
}

/// A correctly built and signed assertion over `hash` by `passkey`, encoded by the SDK.
fn sign(passkey: &SoftwarePasskey, hash: B256) -> WebAuthnSignature {
    sign_parts(
        passkey,
        authenticator_data(FLAG_UP | FLAG_UV),
        client_data_json("webauthn.get", &challenge_text(hash)),
    )
}

/// The passkey's signature over exactly these bytes, encoded by the SDK. For a clientDataJSON
/// without `"type":"webauthn.get"` (which the SDK refuses to encode), the type location is
/// the one a `webauthn.get` JSON of this layout would have: byte 1.
fn sign_parts(
    passkey: &SoftwarePasskey,
    authenticator_data: Vec<u8>,
    json: String,
) -> WebAuthnSignature {
    let assertion = passkey.assertion_over(authenticator_data, json).expect("sign");
    match WebAuthnSignature::from_assertion(&assertion, P256Verifier::Precompile) {
        Ok(sig) => sig,
        Err(PasskeyError::NotAnAssertion { .. }) => {
            // Only the DER scalars are wanted from the encoder here.
            let as_get = Assertion {
                client_data_json: client_data_json("webauthn.get", ""),
                ..assertion.clone()
            };
            let sig = WebAuthnSignature::from_assertion(&as_get, P256Verifier::Precompile)
                .expect("encodes");
            WebAuthnSignature { client_data_json: assertion.client_data_json, ..sig }
        }
        Err(e) => panic!("encoding: {e}"),
    }
}

fn random_passkey() -> SoftwarePasskey {
    SoftwarePasskey::generate("namera.test").expect("passkey")
}

// ---------------------------------------------------------------------------------------
// The cases

/// One assertion and what the plugins must answer.
struct Case {
    name: &'static str,
    assertion: WebAuthnSignature,
    /// The plugin accepts it.
    accepted: bool,
    /// The P-256 precompile accepts `(message, r, s)` under the installed key: true for every
    /// case but the foreign key, so that the refusal is the rule under test, not the curve.
    curve_valid: bool,
}

/// The cases for `hash` signed for `passkey` (the installed key); `stranger` is another key.
fn cases(passkey: &SoftwarePasskey, stranger: &SoftwarePasskey, hash: B256) -> Vec<Case> {
    let good = sign(passkey, hash);
    let with_flags = |flags: u8| {
        sign_parts(
            passkey,
            authenticator_data(flags),
            client_data_json("webauthn.get", &challenge_text(hash)),
        )
    };
    let with_json = |json: String| sign_parts(passkey, authenticator_data(FLAG_UP | FLAG_UV), json);
    let case = |name, assertion, accepted| Case { name, assertion, accepted, curve_valid: true };

    let high_s = WebAuthnSignature { s: P256_N - good.s, ..good.clone() };
    assert!(high_s.s > P256_N >> 1, "the flipped s is high");
    let other_hash = random_b256();
    assert_ne!(other_hash, hash);
    let padded = format!("{}=", challenge_text(hash));
    // "webauthn.create" is 3 bytes longer than "webauthn.get": the challenge also moves off
    // byte 23, so two checks refuse it.
    let create = client_data_json("webauthn.create", &challenge_text(hash));
    // Same length as "webauthn.get", so the challenge still starts at byte 23 and the type
    // is the only defect.
    let same_length_type = client_data_json("webauthn.pay", &challenge_text(hash));
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
            with_json(client_data_json("webauthn.get", &challenge_text(other_hash))),
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
            WebAuthnSignature { response_type_location: U256::ZERO, ..good.clone() },
            false,
        ),
        case(
            "responseTypeLocation 2",
            WebAuthnSignature { response_type_location: U256::from(2), ..good.clone() },
            false,
        ),
        case(
            "responseTypeLocation 2^256-1 (gas-estimation dummy)",
            WebAuthnSignature { response_type_location: U256::MAX, ..good.clone() },
            false,
        ),
        case("type webauthn.create", with_json(create), false),
        case("type webauthn.pay (same length)", with_json(same_length_type), false),
        case(
            "usePrecompiled = false (Daimo's verifier, present as on public chains)",
            WebAuthnSignature { use_precompiled: false, ..good.clone() },
            true,
        ),
        Case {
            name: "signed by a different key",
            assertion: sign(stranger, hash),
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
    passkey: &SoftwarePasskey,
    stranger: &SoftwarePasskey,
    hash: B256,
    ask: impl Fn(B256, Bytes) -> Answers,
) {
    let cases = cases(passkey, stranger, hash);
    let key = passkey.credential().key();
    let mut mismatches = String::new();
    for case in &cases {
        let a = &case.assertion;
        let curve = precompile_accepts(rpc, a.message(), a.r, a.s, key.x, key.y);
        assert_eq!(curve, case.curve_valid, "{}: precompile verdict (precondition)", case.name);
        let got = ask(hash, a.encode());
        let want = Answers::expected(case.accepted);
        if got != want {
            let _ = writeln!(mismatches, "  {}: got {got:?}, want {want:?}", case.name);
        }
        // The SDK's check before sending agrees with the contract on every case (the devnet
        // has both verifiers: the one the signature names).
        let verifier =
            if a.use_precompiled { P256Verifier::Precompile } else { P256Verifier::Daimo };
        let sdk = a.verify(hash, &key, verifier);
        if sdk.is_ok() != case.accepted {
            let _ = writeln!(mismatches, "  {}: SDK says {sdk:?}", case.name);
        }
    }
    assert!(mismatches.is_empty(), "cases with the wrong answer:\n{mismatches}");
}

// ---------------------------------------------------------------------------------------
// Tests

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
        !rpc.call::<Bytes>("eth_getCode", json!([DAIMO_P256_VERIFIER, "latest"]))
            .unwrap()
            .is_empty(),
        "a Daimo-compatible verifier on the devnet, as on public chains"
    );
    let passkey = random_passkey();
    let stranger = random_passkey();
    let account = impersonated_account(&rpc);

    let installed = |who| {
        call_as(&rpc, who, WEBAUTHN_VALIDATOR, &IWebAuthnValidator::isInitializedCall { account })
    };
    assert!(!installed(account), "not installed before onInstall");
    let install = IWebAuthnValidator::onInstallCall { data: passkey.credential().key().data() };
    transact(&rpc, account, WEBAUTHN_VALIDATOR, install.abi_encode());
    assert!(installed(account), "installed after onInstall");
    let stored = call_as(
        &rpc,
        account,
        WEBAUTHN_VALIDATOR,
        &IWebAuthnValidator::webAuthnValidatorStorageCall { account },
    );
    assert_eq!(
        (stored.pubKeyX, stored.pubKeyY),
        (passkey.credential().x, passkey.credential().y),
        "stored key"
    );
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
    let good = sign(&passkey, hash).encode();
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
    let passkey = random_passkey();
    let stranger = random_passkey();
    let account = impersonated_account(&rpc);
    // Kernel hands the signer bytes32(bytes4 permissionId) ‖ signerData.
    let id = B256::from(hex!("c0ffee0100000000000000000000000000000000000000000000000000000000"));
    let other_id =
        B256::from(hex!("c0ffee0200000000000000000000000000000000000000000000000000000000"));

    let installed =
        || call_as(&rpc, account, WEBAUTHN_SIGNER, &IWebAuthnSigner::isInitializedCall { account });
    assert!(!installed(), "not installed before onInstall");
    let mut data = id.to_vec();
    data.extend_from_slice(&passkey.credential().key().data());
    let install = IWebAuthnSigner::onInstallCall { data: data.into() };
    transact(&rpc, account, WEBAUTHN_SIGNER, install.abi_encode());
    assert!(installed(), "installed after onInstall");
    let stored = call_as(
        &rpc,
        account,
        WEBAUTHN_SIGNER,
        &IWebAuthnSigner::webAuthnSignerStorageCall { id, account },
    );
    assert_eq!(
        (stored.pubKeyX, stored.pubKeyY),
        (passkey.credential().x, passkey.credential().y),
        "stored key"
    );

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
    let good = sign(&passkey, hash).encode();
    assert_eq!(ask_as(account, id, hash, good.clone()), Answers::expected(true));
    assert_eq!(ask_as(account, other_id, hash, good.clone()), Answers::expected(false), "other id");
    assert_eq!(ask_as(random_address(), id, hash, good), Answers::expected(false), "other account");
}

/// The WebAuthnSigner with one key installed for a fresh account under a fixed permission
/// id, asked both ways (ERC-1271 and UserOperation) about signatures.
pub(crate) struct SignerUnderTest {
    rpc: RpcClient,
    account: Address,
    id: B256,
}

impl SignerUnderTest {
    /// Install `key_data` (`abi.encode((x, y), keccak256(credentialId))`).
    pub(crate) fn install(key_data: &[u8]) -> Self {
        let rpc = rpc();
        let account = impersonated_account(&rpc);
        let id =
            B256::from(hex!("5eed000100000000000000000000000000000000000000000000000000000000"));
        let mut data = id.to_vec();
        data.extend_from_slice(key_data);
        let install = IWebAuthnSigner::onInstallCall { data: data.into() };
        transact(&rpc, account, WEBAUTHN_SIGNER, install.abi_encode());
        Self { rpc, account, id }
    }

    /// Whether the signer accepts `sig` for `hash`; both paths must give the same verdict.
    pub(crate) fn accepts(&self, hash: B256, sig: Bytes) -> bool {
        let erc1271 = call_as(
            &self.rpc,
            self.account,
            WEBAUTHN_SIGNER,
            &IWebAuthnSigner::checkSignatureCall {
                id: self.id,
                sender: random_address(),
                hash,
                sig: sig.clone(),
            },
        );
        let validation_data = call_as(
            &self.rpc,
            self.account,
            WEBAUTHN_SIGNER,
            &IWebAuthnSigner::checkUserOpSignatureCall {
                id: self.id,
                userOp: user_operation(self.account, sig),
                userOpHash: hash,
            },
        );
        let answers = Answers { erc1271, validation_data };
        let accepted = answers == Answers::expected(true);
        assert!(accepted || answers == Answers::expected(false), "mixed answers {answers:?}");
        accepted
    }
}

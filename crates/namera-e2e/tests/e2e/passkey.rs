//! Passkeys on the devnet, through the SDK: an account owned by a software passkey
//! deploys itself and sends value; a passkey session key acts within its policies and is
//! refused outside them; the fixed WebAuthn vector verifies in the WebAuthnSigner
//! contract; and an unverifiable passkey signature is refused by the SDK before anything
//! is sent.

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256, hex};
use alloy_sol_types::sol;
use namera::{
    account::{AccountError, ChainClient, SessionKey, SmartAccount},
    kernel::{
        AccountConfig, Call, KernelVersion, LaneKey, NonceKey, RootValidator, ValidationId,
        addresses::{WEBAUTHN_SIGNER, WEBAUTHN_VALIDATOR},
    },
    passkey::{
        Assertion, FLAG_UP, P256Verifier, PasskeyCredential, PasskeyError, PasskeyOwnerSigner,
        PasskeySigner, SoftwarePasskey, WebAuthnSignature, challenge_text, detect_verifier,
    },
    permission::{Permission, PermissionSigner},
    policy::{CallPermission, CallPolicy, Policy, PolicyKind},
    session_key::{KeyState, issue_with_passkey_owner, key_state},
};
use namera_e2e::{RECEIPT_TIMEOUT, chain, ether, random_address, set_balance};
use serde_json::Value;

sol! {
    function rootValidator() external view returns (bytes21);
    function webAuthnValidatorStorage(address account) external view returns (uint256 x, uint256 y);
    function webAuthnSignerStorage(bytes32 id, address account) external view returns (uint256 x, uint256 y);
}

/// An undeployed Kernel 0.3.1 account owned by `passkey`, funded with `funds`, and its
/// owner signer with the devnet's P-256 verifier (asked from the chain).
pub(crate) fn passkey_account(
    passkey: Arc<dyn PasskeySigner>,
    funds: U256,
) -> (SmartAccount, PasskeyOwnerSigner) {
    let chain: ChainClient = chain();
    let verifier = detect_verifier(&chain.node).unwrap();
    assert_eq!(verifier, P256Verifier::Precompile, "the devnet (osaka) has the precompile");
    let index = U256::from_be_slice(&random_address()[..8]);
    let root = RootValidator::WebAuthn(passkey.credential().key());
    let account = SmartAccount::new(AccountConfig::new(KernelVersion::V0_3_1, root, index), chain);
    set_balance(account.address(), funds);
    (account, PasskeyOwnerSigner::new(passkey, verifier))
}

#[test]
fn software_passkey_owner_deploys_the_account_and_sends_value() {
    let passkey = Arc::new(SoftwarePasskey::generate("localhost").unwrap());
    let (account, owner) = passkey_account(passkey.clone(), ether(1));
    let node = &account.chain().node;
    assert!(node.code(account.address()).unwrap().is_empty(), "starts undeployed");
    let to = random_address();

    let sent = account.send(&owner, &[Call::transfer(to, U256::from(4242))], LaneKey::DEFAULT);
    let sent = sent.unwrap();
    // The signature on the wire is the passkey's WebAuthn signature over the hash itself.
    let wire = WebAuthnSignature::decode(&sent.operation.signature).unwrap();
    wire.verify(sent.hash, &passkey.credential().key(), P256Verifier::Precompile).unwrap();
    assert_eq!(NonceKey::split(sent.operation.nonce).1, 0);
    let receipt = account.wait(sent.hash, RECEIPT_TIMEOUT).unwrap();
    assert!(receipt.success, "{receipt:?}");
    assert_eq!(node.balance(to).unwrap(), U256::from(4242));
    assert!(!node.code(account.address()).unwrap().is_empty(), "deployed");
    // The chain holds our passkey as the root.
    let root = node.view(account.address(), &rootValidatorCall {}).unwrap();
    assert_eq!(ValidationId::from(root).validator_address(), Some(WEBAUTHN_VALIDATOR));
    let stored = node
        .view(WEBAUTHN_VALIDATOR, &webAuthnValidatorStorageCall { account: account.address() })
        .unwrap();
    let c = passkey.credential();
    assert_eq!((stored.x, stored.y), (c.x, c.y));

    // A second operation, on the deployed account.
    let r = account
        .execute(&owner, &[Call::transfer(to, U256::from(8))], LaneKey::DEFAULT, RECEIPT_TIMEOUT)
        .unwrap();
    assert!(r.success);
    assert_eq!(node.balance(to).unwrap(), U256::from(4250));
}

#[test]
fn passkey_session_key_acts_within_its_policies_and_is_refused_outside_them() {
    // Both sides are passkeys: the owner approves, a second passkey is the session key.
    let owner_key = Arc::new(SoftwarePasskey::generate("localhost").unwrap());
    let (account, owner) = passkey_account(owner_key.clone(), ether(1));
    let session: Arc<dyn PasskeySigner> = Arc::new(SoftwarePasskey::generate("localhost").unwrap());
    let to = random_address();
    let policy = Policy::new(PolicyKind::Call(CallPolicy {
        permissions: vec![CallPermission::transfer(to, U256::from(1000))],
        ..CallPolicy::default()
    }));
    let permission =
        Permission::new(PermissionSigner::WebAuthn(session.credential().key()), vec![policy])
            .unwrap();
    let (approvals, mut signers) = issue_with_passkey_owner(
        &*owner_key,
        &[(&account, owner.verifier())],
        &permission,
        &SessionKey::Passkey(session.clone()),
    )
    .unwrap();
    assert_eq!(approvals.len(), 1, "one approval per chain");
    let signer = signers.remove(0);
    let vid = permission.validation_id();
    assert_eq!(key_state(&account, vid).unwrap(), KeyState::PendingFirstUse);

    let pay = |to: Address, wei: u64| vec![Call::transfer(to, U256::from(wei))];
    // Within: the first use deploys the account and installs the permission.
    let r = account.execute(&signer, &pay(to, 1000), LaneKey::DEFAULT, RECEIPT_TIMEOUT).unwrap();
    assert!(r.success, "{r:?}");
    assert_eq!(key_state(&account, vid).unwrap(), KeyState::Installed { nonce: 1 });
    let node = &account.chain().node;
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(permission.id().as_bytes());
    let stored = node
        .view(
            WEBAUTHN_SIGNER,
            &webAuthnSignerStorageCall { id: id.into(), account: account.address() },
        )
        .unwrap();
    let c = session.credential();
    assert_eq!((stored.x, stored.y), (c.x, c.y), "the session passkey is the permission's signer");

    // Outside: above the value limit, and to another recipient.
    let over = account.execute(&signer, &pay(to, 1001), LaneKey::DEFAULT, RECEIPT_TIMEOUT);
    let e = over.expect_err("1001 wei is above the limit");
    assert_eq!(e.refusing_policy(), Some("call"), "{e}");
    assert_eq!(refused_with(&e), Some("CallViolatesValueRule"), "{e}");
    let elsewhere =
        account.execute(&signer, &pay(random_address(), 1), LaneKey::DEFAULT, RECEIPT_TIMEOUT);
    let e = elsewhere.expect_err("another recipient is not allowed");
    assert_eq!(e.refusing_policy(), Some("call"), "{e}");
    assert_eq!(refused_with(&e), Some("CallViolatesTargetRule"), "{e}");

    // Within again, plainly (installed).
    let r = account.execute(&signer, &pay(to, 999), LaneKey::DEFAULT, RECEIPT_TIMEOUT).unwrap();
    assert!(r.success);
    assert_eq!(node.balance(to).unwrap(), U256::from(1999), "exactly the allowed payments");
}

/// The contract error the chain refused with.
fn refused_with(e: &AccountError) -> Option<&'static str> {
    match e {
        AccountError::Refused { refusal, .. } => refusal.error,
        _ => None,
    }
}

/// Whether an error is the one a case expects.
type IsExpected = fn(&PasskeyError) -> bool;

/// An authenticator that signs whatever `tamper` makes of the challenge, with the real key.
struct Faulty {
    inner: SoftwarePasskey,
    tamper: fn(&SoftwarePasskey, B256) -> Assertion,
}

impl PasskeySigner for Faulty {
    fn credential(&self) -> &PasskeyCredential {
        self.inner.credential()
    }
    fn get_assertion(&self, challenge: B256) -> Result<Assertion, PasskeyError> {
        Ok((self.tamper)(&self.inner, challenge))
    }
}

fn auth_data(rp_id: &str, flags: u8) -> Vec<u8> {
    use sha2::Digest;
    let mut d = sha2::Sha256::digest(rp_id.as_bytes()).to_vec();
    d.extend_from_slice(&[flags, 0, 0, 0, 1]);
    d
}

fn get_json(challenge: &str) -> String {
    format!(r#"{{"type":"webauthn.get","challenge":"{challenge}","origin":"http://localhost"}}"#)
}

#[test]
fn sdk_refuses_to_send_an_unverifiable_passkey_signature() {
    type Tamper = fn(&SoftwarePasskey, B256) -> Assertion;
    let cases: [(&str, Tamper, IsExpected); 2] = [
        (
            "challenge of another hash",
            |p, _| {
                p.assertion_over(
                    auth_data("localhost", 0x05),
                    get_json(&challenge_text(B256::ZERO)),
                )
                .unwrap()
            },
            |e| matches!(e, PasskeyError::ChallengeMismatch { .. }),
        ),
        (
            "UV flag missing",
            |p, c| {
                p.assertion_over(auth_data("localhost", FLAG_UP), get_json(&challenge_text(c)))
                    .unwrap()
            },
            |e| matches!(e, PasskeyError::UserNotVerified { flags: 0x01 }),
        ),
    ];
    for (name, tamper, expected) in cases {
        let faulty = Faulty { inner: SoftwarePasskey::generate("localhost").unwrap(), tamper };
        let (account, owner) = passkey_account(Arc::new(faulty), ether(1));
        let to = random_address();
        match account.send(&owner, &[Call::transfer(to, U256::from(1))], LaneKey::DEFAULT) {
            Err(AccountError::Passkey(e)) if expected(&e) => {}
            other => panic!("{name}: expected the SDK's precise refusal, got {other:?}"),
        }
        // Nothing reached the chain: no deployment, the lane's sequence untouched.
        let node = &account.chain().node;
        assert!(node.code(account.address()).unwrap().is_empty(), "{name}: not deployed");
        let key = NonceKey::root(ValidationId::validator(WEBAUTHN_VALIDATOR), LaneKey::DEFAULT);
        assert_eq!(node.entry_point_sequence(account.address(), key).unwrap(), 0, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// The fixed vector in the WebAuthnSigner contract

/// The SDK's fixed WebAuthn vector (inputs and the Kernel signature our encoder makes).
const VECTOR: &str = include_str!("../../../namera/tests/vectors/webauthn.json");

fn vector() -> Value {
    serde_json::from_str(VECTOR).unwrap()
}

fn hex_field(v: &Value, k: &str) -> Vec<u8> {
    hex::decode(v[k].as_str().unwrap()).unwrap()
}

#[test]
fn fixed_vector_verifies_in_the_webauthn_signer_and_each_malformed_one_is_refused_by_both() {
    let v = vector();
    let secret: [u8; 32] = hex_field(&v, "secret").try_into().unwrap();
    let rp_id = v["rpId"].as_str().unwrap();
    let passkey =
        SoftwarePasskey::from_secret(&secret, hex_field(&v, "credentialId"), rp_id).unwrap();
    let digest = B256::from_slice(&hex_field(&v, "digest"));
    let assertion = Assertion {
        authenticator_data: hex_field(&v, "authenticatorData").into(),
        client_data_json: v["clientDataJSON"].as_str().unwrap().to_owned(),
        signature: hex_field(&v, "signatureDer").into(),
    };
    let good = WebAuthnSignature::from_assertion(&assertion, P256Verifier::Precompile).unwrap();
    assert_eq!(good.encode().to_vec(), hex_field(&v, "kernelSignature"), "encoder output");

    let signer = crate::webauthn::SignerUnderTest::install(&passkey.credential().key().data());
    let key = passkey.credential().key();
    let check = |sig: &WebAuthnSignature| signer.accepts(digest, sig.encode());
    assert!(check(&good), "the contract accepts the vector");
    good.verify(digest, &key, P256Verifier::Precompile).unwrap();

    let n = U256::from_be_slice(&hex!(
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
    ));
    let signed = |data: Vec<u8>, json: String| {
        let a = passkey.assertion_over(data, json).unwrap();
        WebAuthnSignature::from_assertion(&a, P256Verifier::Precompile).unwrap()
    };
    let json_for =
        |challenge: &str| assertion.client_data_json.replace(&challenge_text(digest), challenge);
    let flags_ok = assertion.authenticator_data[32];
    let mut no_uv = assertion.authenticator_data.to_vec();
    no_uv[32] = flags_ok & !0x04;
    let malformed: Vec<(&str, WebAuthnSignature, IsExpected)> = vec![
        (
            "wrong challenge",
            signed(
                assertion.authenticator_data.to_vec(),
                json_for(&challenge_text(B256::repeat_byte(9))),
            ),
            |e| matches!(e, PasskeyError::ChallengeMismatch { .. }),
        ),
        ("high s", WebAuthnSignature { s: n - good.s, ..good.clone() }, |e| {
            matches!(e, PasskeyError::HighS)
        }),
        ("UV flag missing", signed(no_uv, assertion.client_data_json.clone()), |e| {
            matches!(e, PasskeyError::UserNotVerified { flags: 0x01 })
        }),
        (
            "wrong responseTypeLocation",
            WebAuthnSignature { response_type_location: U256::from(2), ..good.clone() },
            |e| matches!(e, PasskeyError::ResponseTypeLocation { actual: 1, .. }),
        ),
    ];
    for (name, sig, expected) in malformed {
        let e = sig.verify(digest, &key, P256Verifier::Precompile).unwrap_err();
        assert!(expected(&e), "{name}: SDK error {e:?}");
        assert!(!check(&sig), "{name}: the contract refuses it too");
    }
}

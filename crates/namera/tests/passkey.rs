//! Passkey vectors: fixed assertion inputs → exact Kernel signature bytes, registration
//! parsing, and every malformed assertion → its exact error.
//!
//! The malformed assertions are each validly signed over their own (altered) message, so
//! the only thing wrong with each is the rule under test.

use std::sync::Arc;

use alloy_primitives::{B256, Bytes, U256, b256, hex, keccak256, uint};
use namera::{
    kernel::{AccountConfig, KernelVersion, RootValidator, WebAuthnKey, addresses},
    passkey::{
        Assertion, FLAG_BE, FLAG_BS, FLAG_UP, FLAG_UV, P256Verifier, PasskeyCredential,
        PasskeyError, PasskeySigner, SoftwarePasskey, WebAuthnSignature, challenge_text,
        webauthn_message,
    },
    permission::{Permission, PermissionSigner},
    policy::Policy,
    session_key::{ApprovalError, ChainNonce, OwnerApproval},
};
use p256::ecdsa::{Signature, SigningKey, signature::hazmat::PrehashSigner};
use sha2::{Digest, Sha256};

/// The fixed passkey of the vectors.
const SECRET: [u8; 32] = hex!("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
const CREDENTIAL_ID: &[u8] = b"namera-vector-credential";
const RP_ID: &str = "localhost";
/// The digest approved in the vectors (stands for a UserOperation hash).
const DIGEST: B256 = b256!("0x4a8f1e2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7");

const N: U256 = uint!(0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551_U256);

fn passkey() -> SoftwarePasskey {
    SoftwarePasskey::from_secret(&SECRET, CREDENTIAL_ID.to_vec(), RP_ID).unwrap()
}

fn auth_data(flags: u8) -> Vec<u8> {
    let mut d = Sha256::digest(RP_ID.as_bytes()).to_vec();
    d.push(flags);
    d.extend_from_slice(&[0, 0, 0, 9]);
    d
}

fn client_json(kind: &str, challenge: &str) -> String {
    format!(
        r#"{{"type":"{kind}","challenge":"{challenge}","origin":"http://localhost:41234","crossOrigin":false}}"#
    )
}

/// An assertion over exactly these bytes, signed by the vector key; `high_s` picks the
/// upper-half twin of the signature (what about half of real authenticators return).
fn signed(auth_data: Vec<u8>, json: String, high_s: bool) -> Assertion {
    let key = SigningKey::from_slice(&SECRET).unwrap();
    let sig: Signature = key.sign_prehash(webauthn_message(&auth_data, &json).as_slice()).unwrap();
    let sig = sig.normalize_s().unwrap_or(sig);
    let sig = if high_s {
        let (r, s) = sig.split_bytes();
        let s = N - U256::from_be_slice(&s);
        Signature::from_scalars(r, s.to_be_bytes::<32>()).unwrap()
    } else {
        sig
    };
    Assertion {
        authenticator_data: auth_data.into(),
        client_data_json: json,
        signature: Bytes::copy_from_slice(sig.to_der().as_bytes()),
    }
}

/// The fixed assertion of the vectors: high s in DER, as a browser may return it.
pub fn vector_assertion() -> Assertion {
    signed(auth_data(FLAG_UP | FLAG_UV), client_json("webauthn.get", &challenge_text(DIGEST)), true)
}

fn key() -> WebAuthnKey {
    passkey().credential().key()
}

fn good() -> WebAuthnSignature {
    WebAuthnSignature::from_assertion(&vector_assertion(), P256Verifier::Precompile).unwrap()
}

#[test]
fn fixed_key_gives_fixed_public_key_and_install_data() {
    let c = passkey().credential().clone();
    assert_eq!(c.id.as_ref(), CREDENTIAL_ID);
    assert_eq!(
        (c.x, c.y),
        (
            uint!(0x60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6_U256),
            uint!(0x7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299_U256)
        ),
        "the RFC 6979 A.2.5 P-256 test key"
    );
    let data = c.key().data();
    assert_eq!(data.len(), 96);
    assert_eq!(&data[..32], &c.x.to_be_bytes::<32>());
    assert_eq!(&data[32..64], &c.y.to_be_bytes::<32>());
    assert_eq!(&data[64..], keccak256(CREDENTIAL_ID).as_slice());
    // As the validator's initData and the signer's signerData.
    assert_eq!(RootValidator::WebAuthn(c.key()).validator_data(), data);
    assert_eq!(RootValidator::WebAuthn(c.key()).address(), addresses::WEBAUTHN_VALIDATOR);
    assert_eq!(PermissionSigner::WebAuthn(c.key()).data(), data);
    assert_eq!(PermissionSigner::WebAuthn(c.key()).address(), addresses::WEBAUTHN_SIGNER);
}

#[test]
fn passkey_owned_account_address_and_factory_data_round_trip() {
    let root = RootValidator::WebAuthn(key());
    let config = AccountConfig::new(KernelVersion::V0_3_1, root.clone(), U256::from(3));
    let init = config.init_data();
    // initialize(bytes21 0x01‖validator, hook 0, validatorData, …): the validator data is
    // the 96-byte key.
    assert_eq!(&init[..4], &hex!("3c3b752b"));
    // bytes21 is left-aligned in its word.
    assert_eq!(init[4], 0x01);
    assert_eq!(&init[5..25], addresses::WEBAUTHN_VALIDATOR.as_slice());
    let decoded =
        namera::kernel::DecodedFactoryData::decode(&config.factory_data(), KernelVersion::V0_3_1)
            .unwrap();
    assert_eq!(decoded.root_validator().unwrap(), root);
    assert_eq!(decoded.index, U256::from(3));
    // A different key is a different account.
    let other = SoftwarePasskey::generate(RP_ID).unwrap();
    let other = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::WebAuthn(other.credential().key()),
        U256::from(3),
    );
    assert_ne!(other.address(), config.address());
}

#[test]
fn encoder_turns_the_fixed_assertion_into_exact_bytes() {
    let a = vector_assertion();
    let sig = good();
    // DER high s became low s; r unchanged.
    let der = Signature::from_der(&a.signature).unwrap();
    let (r, s) = der.split_bytes();
    assert!(U256::from_be_slice(&s) > N >> 1, "the DER input has high s");
    assert_eq!(sig.r, U256::from_be_slice(&r));
    assert_eq!(sig.s, N - U256::from_be_slice(&s));
    assert_eq!(sig.response_type_location, U256::from(1));
    assert!(sig.use_precompiled);
    assert_eq!(sig.message(), webauthn_message(&a.authenticator_data, &a.client_data_json));
    // The inputs are the file's, byte for byte.
    assert_eq!(hex::encode(SECRET), vector("secret"));
    assert_eq!(hex::encode(CREDENTIAL_ID), vector("credentialId"));
    assert_eq!(hex::encode(DIGEST), vector("digest"));
    assert_eq!(hex::encode(&a.authenticator_data), vector("authenticatorData"));
    assert_eq!(a.client_data_json, vector("clientDataJSON"));
    assert_eq!(hex::encode(&a.signature), vector("signatureDer"));
    let encoded = sig.encode();
    assert_eq!(hex::encode(&encoded), vector("kernelSignature"), "exact Kernel signature bytes");
    assert_eq!(WebAuthnSignature::decode(&encoded).unwrap(), sig);
    sig.verify(DIGEST, &key(), P256Verifier::Precompile).unwrap();
    // The Daimo flavour differs in the last word only.
    let daimo = WebAuthnSignature::from_assertion(&a, P256Verifier::Daimo).unwrap().encode();
    assert_eq!(daimo[..160], encoded[..160]);
    assert_eq!(daimo[160..192], [0u8; 32]);
    assert_eq!(daimo[192..], encoded[192..]);
}

/// The Kernel WebAuthn signature of [`vector_assertion`]; the e2e test checks that the
/// WebAuthnSigner contract accepts exactly these bytes.
/// The fixed vector, shared with the e2e test that hands it to the contract.
const VECTOR: &str = include_str!("vectors/webauthn.json");

fn vector(field: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(VECTOR).unwrap();
    v[field].as_str().unwrap().to_owned()
}

fn err(sig: &WebAuthnSignature) -> PasskeyError {
    sig.verify(DIGEST, &key(), P256Verifier::Precompile).unwrap_err()
}

fn encode(a: &Assertion) -> WebAuthnSignature {
    WebAuthnSignature::from_assertion(a, P256Verifier::Precompile).unwrap()
}

#[test]
fn each_malformed_assertion_is_refused_with_its_own_error() {
    let ok_flags = FLAG_UP | FLAG_UV;
    let get = |c: &str| client_json("webauthn.get", c);
    let other = B256::repeat_byte(0x77);

    let wrong_challenge = encode(&signed(auth_data(ok_flags), get(&challenge_text(other)), false));
    match err(&wrong_challenge) {
        PasskeyError::ChallengeMismatch { expected, found } => {
            assert_eq!(expected, challenge_text(DIGEST));
            assert_eq!(found.as_deref(), Some(challenge_text(other).as_str()));
        }
        e => panic!("wrong challenge: {e:?}"),
    }

    let high_s = WebAuthnSignature { s: N - good().s, ..good() };
    assert!(matches!(err(&high_s), PasskeyError::HighS), "{:?}", err(&high_s));

    let no_uv = encode(&signed(auth_data(FLAG_UP), get(&challenge_text(DIGEST)), false));
    assert!(matches!(err(&no_uv), PasskeyError::UserNotVerified { flags: 0x01 }));

    let location = WebAuthnSignature { response_type_location: U256::from(2), ..good() };
    match err(&location) {
        PasskeyError::ResponseTypeLocation { given, actual } => {
            assert_eq!((given, actual), (U256::from(2), 1));
        }
        e => panic!("type location: {e:?}"),
    }
    let dummy = WebAuthnSignature { response_type_location: U256::MAX, ..good() };
    assert!(matches!(err(&dummy), PasskeyError::ResponseTypeLocation { actual: 1, .. }));

    let no_up = encode(&signed(auth_data(FLAG_UV), get(&challenge_text(DIGEST)), false));
    assert!(matches!(err(&no_up), PasskeyError::UserNotPresent { flags: 0x04 }));

    let bs = encode(&signed(auth_data(ok_flags | FLAG_BS), get(&challenge_text(DIGEST)), false));
    assert!(matches!(err(&bs), PasskeyError::BackupStateWithoutEligibility { flags: 0x15 }));
    let backed_up = encode(&signed(
        auth_data(ok_flags | FLAG_BE | FLAG_BS),
        get(&challenge_text(DIGEST)),
        false,
    ));
    backed_up.verify(DIGEST, &key(), P256Verifier::Precompile).unwrap();

    let short = WebAuthnSignature { authenticator_data: Bytes::from(vec![0; 36]), ..good() };
    assert!(matches!(err(&short), PasskeyError::AuthenticatorDataTooShort { len: 36 }));

    // The right challenge, but after "origin": the contracts look at byte 23 only.
    let moved = format!(
        r#"{{"type":"webauthn.get","origin":"http://localhost","challenge":"{}"}}"#,
        challenge_text(DIGEST)
    );
    let moved = encode(&signed(auth_data(ok_flags), moved, false));
    assert!(
        matches!(err(&moved), PasskeyError::ChallengeOffset { found: 51 }),
        "{:?}",
        err(&moved)
    );

    let padded =
        encode(&signed(auth_data(ok_flags), get(&format!("{}=", challenge_text(DIGEST))), false));
    assert!(matches!(err(&padded), PasskeyError::ChallengeMismatch { .. }));

    let create =
        signed(auth_data(ok_flags), client_json("webauthn.create", &challenge_text(DIGEST)), false);
    match WebAuthnSignature::from_assertion(&create, P256Verifier::Precompile) {
        Err(PasskeyError::NotAnAssertion { found }) => {
            assert_eq!(found.as_deref(), Some("webauthn.create"))
        }
        other => panic!("create type: {other:?}"),
    }

    let daimo = WebAuthnSignature { use_precompiled: false, ..good() };
    assert!(matches!(
        err(&daimo),
        PasskeyError::WrongVerifier {
            signature: P256Verifier::Daimo,
            chain: P256Verifier::Precompile
        }
    ));

    let stranger = SoftwarePasskey::generate(RP_ID).unwrap();
    assert!(matches!(
        good().verify(DIGEST, &stranger.credential().key(), P256Verifier::Precompile),
        Err(PasskeyError::BadSignature)
    ));
    let r_zero = WebAuthnSignature { r: U256::ZERO, ..good() };
    assert!(matches!(err(&r_zero), PasskeyError::ScalarOutOfRange));
    let off_curve = WebAuthnKey { y: key().y + U256::from(1), ..key() };
    assert!(matches!(
        good().verify(DIGEST, &off_curve, P256Verifier::Precompile),
        Err(PasskeyError::InvalidPublicKey)
    ));

    let bad_der =
        Assertion { signature: Bytes::from_static(&[0x30, 0x01, 0x00]), ..vector_assertion() };
    assert!(matches!(
        WebAuthnSignature::from_assertion(&bad_der, P256Verifier::Precompile),
        Err(PasskeyError::SignatureEncoding(_))
    ));
    assert!(matches!(
        WebAuthnSignature::decode(&[1, 2, 3]),
        Err(PasskeyError::NotKernelEncoding(_))
    ));
}

/// An authenticator that returns what another one would, altered by `tamper`: it shows
/// that `PasskeySigner::sign` (what every passkey signing goes through) refuses it.
struct Faulty {
    inner: SoftwarePasskey,
    tamper: fn(B256) -> Assertion,
}

impl PasskeySigner for Faulty {
    fn credential(&self) -> &PasskeyCredential {
        self.inner.credential()
    }
    fn get_assertion(&self, challenge: B256) -> Result<Assertion, PasskeyError> {
        Ok((self.tamper)(challenge))
    }
}

#[test]
fn passkey_signer_refuses_to_hand_out_a_signature_that_would_not_verify() {
    let faulty = |tamper| Faulty { inner: passkey(), tamper };
    let sign = |f: Faulty| f.sign(DIGEST, P256Verifier::Precompile).unwrap_err();
    let e = sign(faulty(|_| {
        signed(
            auth_data(FLAG_UP | FLAG_UV),
            client_json("webauthn.get", &challenge_text(B256::ZERO)),
            false,
        )
    }));
    assert!(matches!(e, PasskeyError::ChallengeMismatch { .. }), "{e:?}");
    let e = sign(faulty(|c| {
        signed(auth_data(FLAG_UP), client_json("webauthn.get", &challenge_text(c)), false)
    }));
    assert!(matches!(e, PasskeyError::UserNotVerified { .. }), "{e:?}");
    let e = sign(faulty(|c| {
        let mut data = auth_data(FLAG_UP | FLAG_UV);
        data[..32].copy_from_slice(&Sha256::digest(b"evil.example"));
        signed(data, client_json("webauthn.get", &challenge_text(c)), false)
    }));
    assert!(matches!(e, PasskeyError::RpIdMismatch { .. }), "{e:?}");
    // A high-s DER from the authenticator is fine: the encoder takes the low twin.
    let ok = faulty(|c| {
        signed(auth_data(FLAG_UP | FLAG_UV), client_json("webauthn.get", &challenge_text(c)), true)
    })
    .sign(DIGEST, P256Verifier::Precompile)
    .unwrap();
    assert!(ok.s <= N >> 1);
}

#[test]
fn software_passkey_round_trips_its_secret_and_signs_deterministically() {
    let p = passkey();
    assert_eq!(*p.secret(), SECRET);
    assert!(!format!("{p:?}").contains("c9afa9d8"), "Debug does not print the secret");
    let a = p.get_assertion(DIGEST).unwrap();
    assert_eq!(a, p.get_assertion(DIGEST).unwrap(), "RFC 6979: same input, same bytes");
    assert_eq!(
        a.client_data_json,
        format!(
            r#"{{"type":"webauthn.get","challenge":"{}","origin":"https://localhost","crossOrigin":false}}"#,
            challenge_text(DIGEST)
        )
    );
    assert_eq!(a.authenticator_data[32], FLAG_UP | FLAG_UV);
    p.sign(DIGEST, P256Verifier::Daimo)
        .unwrap()
        .verify(DIGEST, &key(), P256Verifier::Daimo)
        .unwrap();
    assert!(matches!(
        SoftwarePasskey::from_secret(&[0u8; 32], vec![], RP_ID),
        Err(PasskeyError::InvalidSecret)
    ));
    assert!(matches!(
        SoftwarePasskey::from_secret(&[0xff; 32], vec![], RP_ID),
        Err(PasskeyError::InvalidSecret)
    ));
}

/// CBOR for a registration: `{"fmt": "none", "attStmt": {}, "authData": h'…'}` with
/// attested credential data and an ES256 COSE key.
fn attestation_object(rp_id: &str, id: &[u8], x: &[u8; 32], y: &[u8; 32], alg: u8) -> Vec<u8> {
    let mut cose = vec![0xa5, 0x01, 0x02, 0x03, alg, 0x20, 0x01, 0x21, 0x58, 0x20];
    cose.extend_from_slice(x);
    cose.extend_from_slice(&[0x22, 0x58, 0x20]);
    cose.extend_from_slice(y);
    let mut auth = Sha256::digest(rp_id.as_bytes()).to_vec();
    auth.push(FLAG_UP | FLAG_UV | 0x40);
    auth.extend_from_slice(&[0, 0, 0, 0]);
    auth.extend_from_slice(&[0xad; 16]); // aaguid
    auth.extend_from_slice(&(id.len() as u16).to_be_bytes());
    auth.extend_from_slice(id);
    auth.extend_from_slice(&cose);
    let mut out = vec![0xa3, 0x63];
    out.extend_from_slice(b"fmt");
    out.extend_from_slice(&[0x64]);
    out.extend_from_slice(b"none");
    out.extend_from_slice(&[0x67]);
    out.extend_from_slice(b"attStmt");
    out.push(0xa0);
    out.push(0x68);
    out.extend_from_slice(b"authData");
    out.extend_from_slice(&[0x59]);
    out.extend_from_slice(&(auth.len() as u16).to_be_bytes());
    out.extend_from_slice(&auth);
    out
}

#[test]
fn registration_yields_the_credential_and_refuses_anything_else() {
    let c = passkey().credential().clone();
    let (x, y) = (c.x.to_be_bytes::<32>(), c.y.to_be_bytes::<32>());
    let challenge = [0x42u8; 32];
    let json = format!(
        r#"{{"type":"webauthn.create","challenge":"{}","origin":"http://localhost:5555","crossOrigin":false}}"#,
        challenge_text(B256::from(challenge))
    );
    let object = attestation_object(RP_ID, CREDENTIAL_ID, &x, &y, 0x26);
    let parsed = PasskeyCredential::from_registration(
        &json,
        &object,
        CREDENTIAL_ID,
        RP_ID,
        &challenge,
        Some("http://localhost:5555"),
    )
    .unwrap();
    assert_eq!(parsed, c);

    let reg = |json: &str, object: &[u8], raw_id: &[u8], rp: &str, origin| {
        PasskeyCredential::from_registration(json, object, raw_id, rp, &challenge, origin)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        reg(&json, &object, CREDENTIAL_ID, RP_ID, Some("http://evil")),
        r#"registration: origin "http://localhost:5555", expected "http://evil""#
    );
    assert_eq!(
        reg(&json.replace("webauthn.create", "webauthn.get"), &object, CREDENTIAL_ID, RP_ID, None),
        r#"registration: clientDataJSON type is "webauthn.get", not webauthn.create"#
    );
    assert_eq!(
        reg(&json, &object, b"other", RP_ID, None),
        "registration: the credential id in authenticatorData is not the rawId"
    );
    assert_eq!(
        reg(&json, &object, CREDENTIAL_ID, "example.com", None),
        r#"authenticatorData's rpIdHash is not sha256("example.com")"#
    );
    // RS256 (alg -257 = 0x39 0x01 0x00) is not a P-256 key.
    let mut rsa = attestation_object(RP_ID, CREDENTIAL_ID, &x, &y, 0x26);
    let at = rsa.iter().position(|b| *b == 0x26).unwrap();
    rsa[at] = 0x24; // alg -5
    assert_eq!(
        reg(&json, &rsa, CREDENTIAL_ID, RP_ID, None),
        "registration: COSE alg Some(-5), not ES256 (-7)"
    );
    let mut off = y;
    off[31] ^= 1;
    let off = attestation_object(RP_ID, CREDENTIAL_ID, &x, &off, 0x26);
    assert_eq!(
        reg(&json, &off, CREDENTIAL_ID, RP_ID, None),
        "the public key is not a point on P-256"
    );
    assert_eq!(
        reg(&json, &object[..object.len() - 40], CREDENTIAL_ID, RP_ID, None),
        "registration: attestationObject: CBOR truncated"
    );
}

#[test]
fn passkey_owner_approves_one_chain_at_a_time() {
    let owner = Arc::new(passkey());
    let config = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::WebAuthn(owner.credential().key()),
        U256::ZERO,
    );
    let session = SoftwarePasskey::generate(RP_ID).unwrap();
    let permission = Permission::new(
        PermissionSigner::WebAuthn(session.credential().key()),
        vec![Policy::sudo()],
    )
    .unwrap();
    let chain = ChainNonce { chain_id: 31337, kernel_nonce: 1 };
    let approval = OwnerApproval::sign_with_passkey(
        &*owner,
        &config,
        &permission,
        chain,
        P256Verifier::Precompile,
    )
    .unwrap();
    let c = &approval.chains[0];
    let sig = WebAuthnSignature::decode(&c.enable_signature).unwrap();
    sig.verify(c.digest, &owner.credential().key(), P256Verifier::Precompile).unwrap();
    assert_eq!(approval.merkle_root, None);
    // An ECDSA key cannot approve for a passkey-owned account, nor another passkey.
    let ecdsa = alloy_signer_local::PrivateKeySigner::random();
    assert!(matches!(
        OwnerApproval::sign(&ecdsa, &config, &permission, &[chain]),
        Err(ApprovalError::NotTheOwner)
    ));
    assert!(matches!(
        OwnerApproval::sign_with_passkey(
            &session,
            &config,
            &permission,
            chain,
            P256Verifier::Precompile
        ),
        Err(ApprovalError::NotTheOwner)
    ));
}

#[test]
fn stub_signature_is_a_well_formed_estimation_dummy_for_either_verifier() {
    for verifier in [P256Verifier::Precompile, P256Verifier::Daimo] {
        let stub = namera::passkey::stub_signature(verifier);
        let sig = WebAuthnSignature::decode(&stub).unwrap();
        // 2^256-1: the contracts run the curve check and report failure without reverting.
        assert_eq!(sig.response_type_location, U256::MAX);
        assert_eq!(sig.use_precompiled, verifier == P256Verifier::Precompile);
        assert_eq!(sig.authenticator_data.len(), 37);
        assert_eq!(sig.authenticator_data[32], FLAG_UP | FLAG_UV);
        assert!(sig.client_data_json.starts_with(r#"{"type":"webauthn.get","challenge":""#));
        // Longer than what browsers write (about 130-230 bytes), so the estimate covers it.
        assert!(sig.client_data_json.len() > 250, "{}", sig.client_data_json.len());
        assert!(sig.s <= N >> 1 && !sig.r.is_zero());
        assert!(matches!(
            sig.verify(DIGEST, &key(), verifier),
            Err(PasskeyError::ResponseTypeLocation { given: U256::MAX, actual: 1 })
        ));
    }
}

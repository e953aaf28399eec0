//! Unit tests for keystore parsing, limits and errors. Published vectors and the
//! cross-implementation checks are in `tests/`.

use super::*;
use serde_json::{Value, json};

const SECRET: [u8; 32] = [0x4c; 32];

fn light_json() -> Value {
    serde_json::from_str(&Keystore::encrypt(&SECRET, b"pw", KdfStrength::Light).unwrap().to_json())
        .unwrap()
}

fn parse(v: &Value) -> Result<Keystore, KeystoreError> {
    Keystore::from_json(&v.to_string())
}

#[test]
fn round_trip_and_exact_shape() {
    let v = light_json();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["version", "id", "address", "crypto"]);
    assert_eq!(v["version"], 3);
    let crypto = v["crypto"].as_object().unwrap();
    assert_eq!(
        crypto.keys().collect::<Vec<_>>(),
        ["cipher", "cipherparams", "ciphertext", "kdf", "kdfparams", "mac"]
    );
    assert_eq!(v["crypto"]["cipher"], "aes-128-ctr");
    assert_eq!(v["crypto"]["kdf"], "scrypt");
    let params = &v["crypto"]["kdfparams"];
    assert_eq!(
        (params["n"].as_u64(), params["r"].as_u64(), params["p"].as_u64()),
        (Some(4096), Some(8), Some(6))
    );
    assert_eq!(params["dklen"], 32);
    assert_eq!(params["salt"].as_str().unwrap().len(), 64);
    assert_eq!(v["crypto"]["cipherparams"]["iv"].as_str().unwrap().len(), 32);
    assert_eq!(v["crypto"]["ciphertext"].as_str().unwrap().len(), 64);

    let expected_address = secret_key_address(&SECRET).unwrap();
    assert_eq!(v["address"], hex::encode(expected_address));
    let ks = parse(&v).unwrap();
    let key = ks.decrypt(b"pw").unwrap();
    assert_eq!(key.secret(), &SECRET);
    assert_eq!(key.address(), expected_address);
}

#[test]
fn uuid_is_version_4() {
    let id = Keystore::encrypt(&SECRET, b"pw", KdfStrength::Light).unwrap().id().to_owned();
    let groups: Vec<&str> = id.split('-').collect();
    assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
    assert!(groups[2].starts_with('4'));
    assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
    assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
}

#[test]
fn wrong_password_is_its_own_error() {
    let ks = parse(&light_json()).unwrap();
    assert!(matches!(ks.decrypt(b"pW"), Err(KeystoreError::WrongPassword)));
    assert!(matches!(ks.decrypt(b""), Err(KeystoreError::WrongPassword)));
}

#[test]
fn tampered_ciphertext_fails_the_mac() {
    let mut v = light_json();
    let mut ct = hex::decode(v["crypto"]["ciphertext"].as_str().unwrap()).unwrap();
    ct[0] ^= 1;
    v["crypto"]["ciphertext"] = json!(hex::encode(ct));
    assert!(matches!(parse(&v).unwrap().decrypt(b"pw"), Err(KeystoreError::WrongPassword)));
}

#[test]
fn accepts_capitalized_crypto_and_missing_address() {
    let mut v = light_json();
    let crypto = v.as_object_mut().unwrap().remove("crypto").unwrap();
    v["Crypto"] = crypto;
    v.as_object_mut().unwrap().remove("address");
    let ks = parse(&v).unwrap();
    assert_eq!(ks.address(), None);
    assert_eq!(ks.decrypt(b"pw").unwrap().address(), secret_key_address(&SECRET).unwrap());
    // Written back with the canonical lowercase key.
    let out: Value = serde_json::from_str(&ks.to_json()).unwrap();
    assert!(out.get("crypto").is_some() && out.get("Crypto").is_none());
}

#[test]
fn address_must_match_the_key() {
    let mut v = light_json();
    v["address"] = json!("0000000000000000000000000000000000000001");
    let err = parse(&v).unwrap().decrypt(b"pw").unwrap_err();
    let KeystoreError::AddressMismatch { stored, derived } = err else { panic!("{err:?}") };
    assert_eq!(stored, Address::with_last_byte(1));
    assert_eq!(derived, secret_key_address(&SECRET).unwrap());
}

#[test]
fn address_with_0x_prefix_is_read() {
    let mut v = light_json();
    let a = v["address"].as_str().unwrap().to_owned();
    v["address"] = json!(format!("0x{a}"));
    assert_eq!(parse(&v).unwrap().address(), Some(secret_key_address(&SECRET).unwrap()));
}

fn field_error(v: &Value) -> (&'static str, String) {
    match parse(v) {
        Err(KeystoreError::InvalidField { field, reason }) => (field, reason),
        other => panic!("expected InvalidField, got {other:?}"),
    }
}

#[test]
fn malformed_fields_are_named() {
    let mut v = light_json();
    v["crypto"]["cipherparams"]["iv"] = json!("abcd");
    assert_eq!(field_error(&v), ("crypto.cipherparams.iv", "expected 16 bytes, got 2".into()));

    let mut v = light_json();
    v["crypto"]["mac"] = json!("zz");
    assert_eq!(field_error(&v).0, "crypto.mac");

    let mut v = light_json();
    v["crypto"]["ciphertext"] = json!("0g");
    assert_eq!(field_error(&v).0, "crypto.ciphertext");

    let mut v = light_json();
    v["crypto"]["kdfparams"]["salt"] = json!("xyz");
    assert_eq!(field_error(&v).0, "crypto.kdfparams.salt");

    let mut v = light_json();
    v["address"] = json!("1234");
    assert_eq!(field_error(&v), ("address", "expected 20 bytes, got 2".into()));

    let mut v = light_json();
    v["crypto"]["kdfparams"].as_object_mut().unwrap().remove("n");
    let (field, reason) = field_error(&v);
    assert_eq!(field, "crypto.kdfparams");
    assert!(reason.contains("missing field `n`"), "{reason}");
}

#[test]
fn missing_top_level_fields_are_named_by_serde() {
    for (path, name) in [("mac", "mac"), ("ciphertext", "ciphertext"), ("kdf", "kdf")] {
        let mut v = light_json();
        v["crypto"].as_object_mut().unwrap().remove(path);
        let err = parse(&v).unwrap_err();
        assert!(matches!(err, KeystoreError::Json(_)), "{err:?}");
        assert!(err.to_string().contains(&format!("missing field `{name}`")), "{err}");
    }
    let err = Keystore::from_json(r#"{"version":3,"id":"x"}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `crypto`"), "{err}");
    assert!(matches!(Keystore::from_json("not json"), Err(KeystoreError::Json(_))));
}

#[test]
fn unsupported_things_are_named() {
    let mut v = light_json();
    v["version"] = json!(1);
    assert!(matches!(parse(&v), Err(KeystoreError::UnsupportedVersion(s)) if s == "1"));

    let mut v = light_json();
    v["crypto"]["cipher"] = json!("aes-128-cbc");
    assert!(matches!(parse(&v), Err(KeystoreError::UnsupportedCipher(s)) if s == "aes-128-cbc"));

    let mut v = light_json();
    v["crypto"]["kdf"] = json!("argon2id");
    let err = parse(&v).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported keystore kdf `argon2id` (scrypt and pbkdf2 are supported)"
    );

    let mut v = light_json();
    v["crypto"]["kdf"] = json!("pbkdf2");
    v["crypto"]["kdfparams"] = json!({"c": 1000, "dklen": 32, "prf": "hmac-sha512", "salt": "00"});
    assert!(matches!(parse(&v), Err(KeystoreError::UnsupportedPrf(s)) if s == "hmac-sha512"));
}

fn out_of_range(kdfparams: Value, kdf: &str) -> (&'static str, u64) {
    let mut v = light_json();
    v["crypto"]["kdf"] = json!(kdf);
    v["crypto"]["kdfparams"] = kdfparams;
    match parse(&v) {
        Err(KeystoreError::KdfParamOutOfRange { param, value, .. }) => (param, value),
        other => panic!("expected KdfParamOutOfRange, got {other:?}"),
    }
}

#[test]
fn absurd_kdf_params_are_refused_before_any_work() {
    let s = |n: u64, r: u32, p: u32, dklen: u32| json!({"n": n, "r": r, "p": p, "dklen": dklen, "salt": "00"});
    assert_eq!(out_of_range(s(1000, 8, 1, 32), "scrypt"), ("n", 1000));
    assert_eq!(out_of_range(s(1, 8, 1, 32), "scrypt"), ("n", 1));
    assert_eq!(out_of_range(s(0, 8, 1, 32), "scrypt"), ("n", 0));
    // 2^23 would be 8 GiB at r = 8, and 2^40 would overflow naive size arithmetic.
    assert_eq!(out_of_range(s(1 << 23, 1, 1, 32), "scrypt"), ("n", 1 << 23));
    assert_eq!(out_of_range(s(1 << 40, 8, 1, 32), "scrypt"), ("n", 1 << 40));
    assert_eq!(out_of_range(s(1 << 22, 8, 1, 32), "scrypt"), ("128*r*n", 1 << 32));
    assert_eq!(out_of_range(s(1 << 20, 8, 16, 32), "scrypt"), ("n*r*p", 1 << 27));
    assert_eq!(out_of_range(s(16, 0, 1, 32), "scrypt"), ("r", 0));
    assert_eq!(out_of_range(s(16, 33, 1, 32), "scrypt"), ("r", 33));
    assert_eq!(out_of_range(s(16, 8, 0, 32), "scrypt"), ("p", 0));
    assert_eq!(out_of_range(s(16, 8, 17, 32), "scrypt"), ("p", 17));
    assert_eq!(out_of_range(s(16, 8, 1, 16), "scrypt"), ("dklen", 16));
    assert_eq!(out_of_range(s(16, 8, 1, 65), "scrypt"), ("dklen", 65));
    let salt = "00".repeat(1025);
    assert_eq!(
        out_of_range(json!({"n": 16, "r": 8, "p": 1, "dklen": 32, "salt": salt}), "scrypt"),
        ("salt", 1025)
    );
    let p = |c: u32| json!({"c": c, "dklen": 32, "prf": "hmac-sha256", "salt": "00"});
    assert_eq!(out_of_range(p(0), "pbkdf2"), ("c", 0));
    assert_eq!(out_of_range(p(10_000_001), "pbkdf2"), ("c", 10_000_001));
    // Numbers that do not fit the field type are a JSON-level error for that field.
    let mut v = light_json();
    v["crypto"]["kdfparams"]["r"] = json!(1u64 << 40);
    assert_eq!(field_error(&v).0, "crypto.kdfparams");
}

#[test]
fn error_messages() {
    let e = KeystoreError::KdfParamOutOfRange {
        param: "n",
        value: 3,
        reason: "must be a power of two greater than 1",
    };
    assert_eq!(
        e.to_string(),
        "kdf parameter `n` = 3 is out of range: must be a power of two greater than 1"
    );
    assert_eq!(
        KeystoreError::WrongPassword.to_string(),
        "wrong password, or the keystore file is damaged: its MAC does not match (a wrong password and altered bytes look the same)"
    );
}

#[test]
fn secret_must_be_a_valid_scalar() {
    assert!(matches!(
        Keystore::encrypt(&[0; 32], b"pw", KdfStrength::Light),
        Err(KeystoreError::InvalidSecretKey)
    ));
    // The group order itself is out of range.
    let n =
        hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap();
    assert!(matches!(
        Keystore::encrypt(&n.try_into().unwrap(), b"pw", KdfStrength::Light),
        Err(KeystoreError::InvalidSecretKey)
    ));
}

#[test]
fn keystore_needs_a_32_byte_plaintext() {
    let kdf = Kdf::Scrypt(KdfStrength::Light.scrypt_params(vec![1; 32]));
    let crypto = KeystoreCrypto::encrypt_with(&[1; 31], b"pw", &kdf, [0; 16]).unwrap();
    let ks = Keystore { id: "x".into(), address: None, crypto };
    let err = ks.decrypt(b"pw").unwrap_err();
    assert_eq!(
        err.to_string(),
        "keystore field `crypto.ciphertext` is invalid: decrypts to 31 bytes, a private key has 32"
    );
}

#[test]
fn debug_never_shows_the_secret() {
    let ks = parse(&light_json()).unwrap();
    let key = ks.decrypt(b"pw").unwrap();
    let dbg = format!("{key:?}");
    assert!(dbg.contains("<redacted>"));
    assert!(!dbg.contains(&hex::encode(SECRET)) && !dbg.contains("76, 76"), "{dbg}");
}

#[test]
fn crypto_section_serde_round_trip_with_pbkdf2() {
    let kdf = Kdf::Pbkdf2(Pbkdf2Params { c: 1000, dklen: 32, salt: vec![9; 16] });
    let crypto = KeystoreCrypto::encrypt_with(b"hello", b"pw", &kdf, [3; 16]).unwrap();
    let v = serde_json::to_value(&crypto).unwrap();
    assert_eq!(
        v["kdfparams"],
        json!({"c": 1000, "dklen": 32, "prf": "hmac-sha256", "salt": "09".repeat(16)})
    );
    let back: KeystoreCrypto = serde_json::from_value(v).unwrap();
    assert_eq!(back, crypto);
    assert_eq!(back.decrypt(b"pw").unwrap().as_slice(), b"hello");
    assert!(matches!(back.decrypt(b"nope"), Err(KeystoreError::WrongPassword)));
}

#[test]
fn serde_deserialize_reports_typed_errors_as_text() {
    let mut v = light_json();
    v["crypto"]["cipher"] = json!("des");
    let err = serde_json::from_value::<Keystore>(v).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported keystore cipher `des` (only aes-128-ctr is supported)"
    );
}

//! The store on a real file system: layout, modes, atomicity and error reporting.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use alloy_primitives::{U256, address, fixed_bytes};
use namera_store::keystore::{KdfStrength, Keystore, KeystoreCrypto};
use namera_store::records::{
    Authenticator, OwnerRef, PasskeyRecord, SessionKeyChain, SessionKeyRecord, SignerRef,
    SmartAccountRecord, Version1,
};
use namera_store::{Alias, AliasError, Home, RecordKind, StoreError};
use serde_json::json;

struct TestHome(PathBuf);

impl TestHome {
    fn new(name: &str) -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        Self(dir)
    }

    fn home(&self) -> Home {
        Home::at(&self.0)
    }
}

impl Drop for TestHome {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

fn alias(s: &str) -> Alias {
    Alias::parse(s).unwrap()
}

fn account(index: u64) -> SmartAccountRecord {
    SmartAccountRecord::new(
        address!("0x52908400098527886e0f7030069857d2e4169ee7"),
        OwnerRef::Keystore {
            alias: alias("owner"),
            address: address!("0xde709f2102306220921060314715629080e2fb77"),
        },
        U256::from(index),
        vec!["sepolia".into(), "base-sepolia".into()],
        1_700_000_000,
    )
}

#[test]
fn layout_and_modes() {
    let t = TestHome::new("layout");
    let home = t.home();
    let ks = Keystore::encrypt(&[1; 32], b"pw", KdfStrength::Light).unwrap();
    home.keystores().create(&alias("owner"), &ks).unwrap();
    home.smart_accounts().create(&alias("main"), &account(0)).unwrap();

    assert_eq!(names(&t.0), ["keystores", "smart-accounts"]);
    assert_eq!(mode(&t.0), 0o700);
    assert_eq!(mode(&t.0.join("keystores")), 0o700);
    let ks_path = t.0.join("keystores/owner.json");
    assert_eq!(home.keystores().path(&alias("owner")), ks_path);
    assert_eq!(mode(&ks_path), 0o600);
    assert_eq!(mode(&t.0.join("smart-accounts/main.json")), 0o600);

    // The keystore file is the plain V3 JSON, nothing wrapped around it.
    let on_disk: serde_json::Value = serde_json::from_slice(&fs::read(&ks_path).unwrap()).unwrap();
    assert_eq!(on_disk, serde_json::to_value(&ks).unwrap());
    assert_eq!(Keystore::from_json(&fs::read_to_string(&ks_path).unwrap()).unwrap(), ks);
}

#[test]
fn smart_account_file_is_the_documented_json() {
    let t = TestHome::new("account-json");
    let home = t.home();
    home.smart_accounts().create(&alias("main"), &account(5)).unwrap();
    let text = fs::read_to_string(t.0.join("smart-accounts/main.json")).unwrap();
    assert!(text.ends_with("}\n"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        json!({
            "version": 1,
            "address": "0x52908400098527886E0F7030069857D2E4169EE7",
            // EIP-55's all-lowercase example: its checksum has no capitals.
            "owner": {"kind": "keystore", "alias": "owner",
                      "address": "0xde709f2102306220921060314715629080e2fb77"},
            "index": "5",
            "kernel_version": "0.3.1",
            "chains": ["sepolia", "base-sepolia"],
            "created_at": 1700000000u64
        })
    );
}

#[test]
fn duplicate_alias_is_refused_and_the_file_kept() {
    let t = TestHome::new("dup");
    let accounts = t.home().smart_accounts();
    accounts.create(&alias("main"), &account(1)).unwrap();
    let before = fs::read(accounts.path(&alias("main"))).unwrap();
    let err = accounts.create(&alias("main"), &account(2)).unwrap_err();
    assert!(
        matches!(&err, StoreError::AliasTaken { kind: RecordKind::SmartAccount, alias } if alias.as_str() == "main")
    );
    assert_eq!(err.to_string(), "a smart account named `main` already exists");
    assert_eq!(fs::read(accounts.path(&alias("main"))).unwrap(), before);
    // Nothing else was left in the directory (no temporary file).
    assert_eq!(names(accounts.dir()), ["main.json"]);
}

#[test]
fn failed_create_leaves_nothing_behind() {
    let t = TestHome::new("failed-create");
    let home = t.home();
    // A directory where the record file should go makes the final link fail after the
    // temporary file was written.
    let blocker = home.passkeys().path(&alias("blocked"));
    fs::create_dir_all(&blocker).unwrap();
    let record = PasskeyRecord {
        version: Version1,
        credential_id: "AQID".into(),
        public_key_x: U256::from(1),
        public_key_y: U256::from(2),
        rp_id: "localhost".into(),
        authenticator: Authenticator::Browser,
        crypto: None,
        created_at: 0,
    };
    assert!(home.passkeys().create(&alias("blocked"), &record).is_err());
    assert_eq!(names(home.passkeys().dir()), ["blocked.json"]);
    assert!(names(&blocker).is_empty());
}

#[test]
fn get_replace_remove_and_not_found() {
    let t = TestHome::new("crud");
    let accounts = t.home().smart_accounts();
    let a = alias("main");
    let err = accounts.get(&a).unwrap_err();
    assert_eq!(err.to_string(), "no smart account named `main`");
    assert!(matches!(accounts.replace(&a, &account(1)), Err(StoreError::NotFound { .. })));
    assert!(!accounts.exists(&a));
    assert!(!accounts.dir().exists(), "a failed replace creates nothing");

    accounts.create(&a, &account(1)).unwrap();
    assert!(accounts.exists(&a));
    accounts.replace(&a, &account(2)).unwrap();
    assert_eq!(accounts.get(&a).unwrap().index, U256::from(2));
    assert_eq!(mode(&accounts.path(&a)), 0o600);
    accounts.remove(&a).unwrap();
    assert!(!accounts.exists(&a));
    assert!(matches!(
        accounts.remove(&a),
        Err(StoreError::NotFound { kind: RecordKind::SmartAccount, .. })
    ));
}

#[test]
fn list_is_sorted_and_ignores_foreign_files() {
    let t = TestHome::new("list");
    let accounts = t.home().smart_accounts();
    assert!(accounts.list().unwrap().is_empty(), "a missing directory is an empty collection");
    for (name, i) in [("b", 2), ("A", 0), ("a.2", 3), ("a", 1)] {
        accounts.create(&alias(name), &account(i)).unwrap();
    }
    fs::write(accounts.dir().join(".main.json.1234.tmp"), b"partial").unwrap();
    fs::write(accounts.dir().join("notes.txt"), b"hi").unwrap();
    fs::write(accounts.dir().join("bad name.json"), b"{}").unwrap();
    let listed: Vec<(String, U256)> =
        accounts.list().unwrap().into_iter().map(|(a, r)| (a.to_string(), r.index)).collect();
    assert_eq!(
        listed,
        [("A", 0u64), ("a", 1), ("a.2", 3), ("b", 2)].map(|(a, i)| (a.to_owned(), U256::from(i)))
    );
}

#[test]
fn corrupt_json_names_the_file() {
    let t = TestHome::new("corrupt");
    let home = t.home();
    home.smart_accounts().create(&alias("good"), &account(0)).unwrap();
    let bad = home.smart_accounts().path(&alias("bad"));
    fs::write(&bad, b"{\"version\": 1, \"address\": ").unwrap();

    let err = home.smart_accounts().get(&alias("bad")).unwrap_err();
    let StoreError::Corrupt { path, .. } = &err else { panic!("{err:?}") };
    assert_eq!(path, &bad);
    assert!(err.to_string().starts_with(&format!("corrupt file {}: ", bad.display())), "{err}");

    // `list` fails as a whole, naming the file; `aliases` still shows what exists.
    let err = home.smart_accounts().list().unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { path, .. } if path == &bad), "{err:?}");
    assert_eq!(home.smart_accounts().aliases().unwrap(), [alias("bad"), alias("good")]);

    // A keystore with a bad field is reported with the keystore's own message.
    let ks_path = home.keystores().path(&alias("k"));
    fs::create_dir_all(ks_path.parent().unwrap()).unwrap();
    fs::write(&ks_path, r#"{"version":3,"id":"x","crypto":{"cipher":"aes-256-gcm","cipherparams":{"iv":""},"ciphertext":"","kdf":"scrypt","kdfparams":{},"mac":""}}"#).unwrap();
    let err = home.keystores().get(&alias("k")).unwrap_err();
    assert!(err.to_string().contains("unsupported keystore cipher `aes-256-gcm`"), "{err}");
    assert!(err.to_string().contains("k.json"), "{err}");
}

#[test]
fn session_key_record_round_trips_through_the_store() {
    let t = TestHome::new("session");
    let home = t.home();
    let secret = [0x77; 32];
    let record = SessionKeyRecord {
        version: Version1,
        smart_account: alias("main"),
        account: address!("0x52908400098527886e0f7030069857d2e4169ee7"),
        key_address: address!("0xde709f2102306220921060314715629080e2fb77"),
        signer: SignerRef::Ecdsa,
        crypto: Some(KeystoreCrypto::encrypt(&secret, b"session pw", KdfStrength::Light).unwrap()),
        permission_id: fixed_bytes!("0xab65750b"),
        policies: json!([{"policy": "0x01", "initData": "0x"}]),
        chains: vec![SessionKeyChain {
            chain: "sepolia".into(),
            chain_id: 11155111,
            serialized: "eyJ9".into(),
            kernel_nonce: 1,
        }],
        valid_after: 1,
        valid_until: 2,
        created_at: 3,
        label: Some("bot".into()),
    };
    home.session_keys().create(&alias("bot"), &record).unwrap();
    let back = home.session_keys().get(&alias("bot")).unwrap();
    assert_eq!(back, record);
    assert_eq!(back.crypto.unwrap().decrypt(b"session pw").unwrap().as_slice(), &secret);

    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(home.session_keys().path(&alias("bot"))).unwrap())
            .unwrap();
    assert_eq!(v["signer"], json!({"kind": "ecdsa"}));
    assert_eq!(v["permission_id"], "0xab65750b");
    assert_eq!(
        v["chains"][0],
        json!({"chain": "sepolia", "chain_id": 11155111, "serialized": "eyJ9", "kernel_nonce": 1})
    );
    assert_eq!(v["crypto"]["kdf"], "scrypt");
}

#[test]
fn config_helpers() {
    let t = TestHome::new("config");
    let home = t.home();
    let path = home.config_path();
    assert_eq!(path, t.0.join("config.json"));
    assert_eq!(Home::read_json::<serde_json::Value>(&path).unwrap(), None);
    Home::write_json(&path, &json!({"default_chain": "sepolia"})).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        Home::read_json::<serde_json::Value>(&path).unwrap(),
        Some(json!({"default_chain": "sepolia"}))
    );
    assert_eq!(home.devnet_dir(), t.0.join("devnet"));
}

#[test]
fn alias_rules() {
    assert_eq!(Alias::parse(""), Err(AliasError::Empty));
    assert_eq!(Alias::parse("-x"), Err(AliasError::BadStart { ch: '-' }));
    assert_eq!(Alias::parse("_x"), Err(AliasError::BadStart { ch: '_' }));
    assert_eq!(Alias::parse("é"), Err(AliasError::BadStart { ch: 'é' }));
    assert_eq!(Alias::parse("a/b"), Err(AliasError::BadChar { ch: '/', position: 2 }));
    assert_eq!(Alias::parse("ab\u{e9}"), Err(AliasError::BadChar { ch: 'é', position: 3 }));
    assert!(Alias::parse(&"a".repeat(64)).is_ok());
    assert_eq!(Alias::parse(&"a".repeat(65)), Err(AliasError::TooLong { len: 65 }));
    assert_eq!(
        Alias::parse("a b").unwrap_err().to_string(),
        "an alias may contain only letters, digits, '_', '.' and '-'; ' ' (character 2) is not allowed"
    );
    assert_eq!(
        Alias::parse("..").unwrap_err().to_string(),
        "an alias must start with a letter or digit, not '.'"
    );
    assert!(serde_json::from_str::<Alias>("\"ok-1\"").is_ok());
    assert!(serde_json::from_str::<Alias>("\"../etc\"").is_err());
}

#[test]
fn record_kind_names() {
    let names: Vec<String> = [
        RecordKind::Keystore,
        RecordKind::SmartAccount,
        RecordKind::SessionKey,
        RecordKind::Passkey,
    ]
    .iter()
    .map(|k| format!("{k} in {}/", k.dir_name()))
    .collect();
    assert_eq!(
        names,
        [
            "keystore in keystores/",
            "smart account in smart-accounts/",
            "session key in session-keys/",
            "passkey in passkeys/"
        ]
    );
}

//! Cross-checks with Python's `eth-account`, the reference many tools follow.
//!
//! The first test to need it creates a virtualenv under Cargo's target directory
//! (`target/tmp/eth-account-venv`) and installs `eth-account` from PyPI into it; later runs
//! reuse it. Building happens in a scratch directory that is renamed into place only once
//! the install succeeded, so an interrupted run never leaves a half-made venv behind.
//! Needs `python3` with the `venv` module and access to PyPI; fails (does not skip)
//! without them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use alloy_primitives::{Address, hex};
use namera_store::keystore::{Kdf, KdfStrength, Keystore, Pbkdf2Params};
use serde_json::Value;

/// Talks to eth-account: `make KDF ITERATIONS KEY_HEX` (password on stdin) prints a
/// keystore; `open` (keystore JSON, then a newline and the password, on stdin) prints the
/// key and address.
const HELPER: &str = r#"
import json, sys
from eth_account import Account

cmd = sys.argv[1]
if cmd == "make":
    kdf, iterations, key = sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])
    password = sys.stdin.read()
    print(json.dumps(Account.encrypt(key, password, kdf=kdf, iterations=iterations)))
elif cmd == "open":
    keystore, password = sys.stdin.read().split("\n", 1)
    key = Account.decrypt(json.loads(keystore), password)
    print(json.dumps({"key": key.hex(), "address": Account.from_key(key).address}))
"#;

/// A password with non-ASCII characters: both sides must use its UTF-8 bytes.
const PASSWORD: &str = "correct horse ✓ bätterý";
const KEY: [u8; 32] = [
    0x4c, 0x08, 0x83, 0xa6, 0x91, 0x02, 0x93, 0x7d, 0x62, 0x31, 0x47, 0x1b, 0x5d, 0xbb, 0x62, 0x04,
    0xfe, 0x51, 0x29, 0x61, 0x70, 0x82, 0x79, 0x2a, 0xe4, 0x68, 0xd0, 0x1a, 0x3f, 0x36, 0x23, 0x18,
];

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn has_eth_account(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import eth_account"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The venv's python, creating the venv on first use.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let venv = base.join("eth-account-venv");
        let python = venv.join("bin/python");
        if has_eth_account(&python) {
            return python;
        }
        let scratch = base.join(format!("eth-account-venv.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        run(Command::new("python3").arg("-m").arg("venv").arg(&scratch));
        run(Command::new(scratch.join("bin/python")).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "eth-account",
        ]));
        let _ = std::fs::remove_dir_all(&venv);
        // Another test process may have won the race; either venv will do.
        if std::fs::rename(&scratch, &venv).is_err() {
            let _ = std::fs::remove_dir_all(&scratch);
        }
        assert!(has_eth_account(&python), "eth-account is not importable from {venv:?}");
        python
    })
}

fn helper(args: &[&str], stdin: &str) -> Value {
    let mut child = Command::new(python())
        .args(["-c", HELPER])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("python output");
    assert!(
        out.status.success(),
        "eth-account helper failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("helper prints JSON")
}

fn python_made(kdf: &str, iterations: u32) -> Value {
    helper(&["make", kdf, &iterations.to_string(), &hex::encode(KEY)], PASSWORD)
}

fn python_opens(keystore: &Keystore) -> (Vec<u8>, Address) {
    let out =
        helper(&["open"], &format!("{}\n{PASSWORD}", serde_json::to_string(keystore).unwrap()));
    let key = hex::decode(out["key"].as_str().expect("key")).expect("hex key");
    let address = out["address"].as_str().expect("address").parse().expect("address");
    (key, address)
}

fn check_python_keystore(kdf: &str, iterations: u32) {
    let json = python_made(kdf, iterations);
    assert_eq!(json["crypto"]["kdf"], kdf);
    let ks = Keystore::from_json(&json.to_string()).unwrap();
    let expected: Address = format!("0x{}", json["address"].as_str().unwrap()).parse().unwrap();
    assert_eq!(ks.address(), Some(expected));
    let key = ks.decrypt(PASSWORD.as_bytes()).unwrap();
    assert_eq!(key.secret(), &KEY);
    assert_eq!(key.address(), expected);
}

#[test]
fn eth_account_scrypt_keystore_decrypts_here() {
    check_python_keystore("scrypt", 1 << 14);
}

#[test]
fn eth_account_pbkdf2_keystore_decrypts_here() {
    check_python_keystore("pbkdf2", 10_000);
}

#[test]
fn our_standard_scrypt_keystore_decrypts_in_eth_account() {
    let ks = Keystore::encrypt(&KEY, PASSWORD.as_bytes(), KdfStrength::Standard).unwrap();
    let (key, address) = python_opens(&ks);
    assert_eq!(key, KEY);
    assert_eq!(Some(address), ks.address());
}

#[test]
fn our_light_scrypt_keystore_decrypts_in_eth_account() {
    let ks = Keystore::encrypt(&KEY, PASSWORD.as_bytes(), KdfStrength::Light).unwrap();
    let (key, address) = python_opens(&ks);
    assert_eq!(key, KEY);
    assert_eq!(Some(address), ks.address());
}

#[test]
fn our_pbkdf2_keystore_decrypts_in_eth_account() {
    let kdf = Kdf::Pbkdf2(Pbkdf2Params { c: 10_000, dklen: 32, salt: vec![0xa5; 32] });
    let ks = Keystore::encrypt_with_kdf(&KEY, PASSWORD.as_bytes(), &kdf).unwrap();
    let (key, address) = python_opens(&ks);
    assert_eq!(key, KEY);
    assert_eq!(Some(address), ks.address());
}

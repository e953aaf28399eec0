//! Commands that need no chain: keystores, account records, config, and every kind of
//! bad input, each with its exit code, a message naming the problem, and no file changed.

use std::os::unix::fs::PermissionsExt;

use crate::support::{Home, assert_exit, assert_result_valid, error_of, json, text};

const PW: (&str, &str) = ("TEST_PASSWORD", "correct horse battery staple");

fn create_keystore(home: &Home, alias: &str) -> serde_json::Value {
    let out = home.run(
        &[
            "keystore",
            "create",
            "--alias",
            alias,
            "--light-kdf",
            "--password-env",
            "TEST_PASSWORD",
            "-o",
            "json",
        ],
        &[PW],
    );
    assert_exit(&out, 0);
    assert_result_valid("keystore.create", "json", &out.stdout);
    json(&out.stdout)
}

#[test]
fn keystore_lifecycle() {
    let home = Home::new("ks");
    let created = create_keystore(&home, "owner");
    let address = created["address"].as_str().unwrap().to_owned();
    let file = home.path.join("keystores/owner.json");
    assert_eq!(created["path"], file.display().to_string());
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::metadata(home.path.join("keystores")).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let v3 = json(&std::fs::read(&file).unwrap());
    assert_eq!(v3["version"], 3);
    assert_eq!(v3["crypto"]["kdf"], "scrypt");
    assert_eq!(v3["crypto"]["kdfparams"]["n"], 4096);
    assert_eq!(format!("0x{}", v3["address"].as_str().unwrap()), address.to_lowercase());

    // list (json, ndjson, pretty), info.
    let out = home.run(&["keystore", "list", "-o", "json"], &[]);
    assert_exit(&out, 0);
    assert_result_valid("keystore.list", "json", &out.stdout);
    assert_eq!(json(&out.stdout)[0]["alias"], "owner");
    let out = home.run(&["ks", "ls", "-o", "ndjson"], &[]);
    assert_eq!(text(&out.stdout).lines().count(), 1);
    assert_result_valid("keystore.list", "ndjson", &out.stdout);
    let out = home.run(&["keystore", "list"], &[]);
    assert!(text(&out.stdout).contains(&address), "{}", text(&out.stdout));
    let out = home.run(&["keystore", "info", "owner", "-o", "json"], &[]);
    assert_exit(&out, 0);
    assert_result_valid("keystore.info", "json", &out.stdout);
    assert_eq!(json(&out.stdout)["address"], address.as_str());

    // export: the file as is, or the key when asked for exactly that.
    let out = home.run(&["keystore", "export", "owner", "-o", "json"], &[]);
    assert_exit(&out, 0);
    assert_result_valid("keystore.export", "json", &out.stdout);
    assert_eq!(json(&out.stdout), v3);
    let out = home.run(
        &[
            "keystore",
            "export",
            "owner",
            "--private-key",
            "--password-env",
            "TEST_PASSWORD",
            "-o",
            "json",
        ],
        &[PW],
    );
    assert_exit(&out, 0);
    assert_result_valid("keystore.export", "json", &out.stdout);
    let key = json(&out.stdout)["private_key"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 66);

    // import the same key under another alias: same address.
    let out = home.run(
        &[
            "keystore",
            "import",
            "--alias",
            "copy",
            "--private-key-env",
            "KEY",
            "--light-kdf",
            "--password-env",
            "TEST_PASSWORD",
            "-o",
            "json",
        ],
        &[PW, ("KEY", &key)],
    );
    assert_exit(&out, 0);
    assert_result_valid("keystore.import", "json", &out.stdout);
    assert_eq!(json(&out.stdout)["address"], address.as_str());

    // remove needs --yes without a terminal.
    let out = home.run(&["keystore", "remove", "copy", "-o", "json"], &[]);
    assert_exit(&out, 2);
    assert_eq!(error_of(&out)["code"], "confirmation-needed");
    assert!(home.path.join("keystores/copy.json").exists());
    let out = home.run(&["keystore", "remove", "copy", "--yes", "-o", "ndjson"], &[]);
    assert_exit(&out, 0);
    assert_result_valid("keystore.remove", "ndjson", &out.stdout);
    assert!(!home.path.join("keystores/copy.json").exists());
}

#[test]
fn argv_passwords_work_but_warn() {
    let home = Home::new("argv");
    let out = home
        .run(&["keystore", "create", "--alias", "a", "--light-kdf", "--password", "hunter22"], &[]);
    assert_exit(&out, 0);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("warning: --password puts the keystore password in argv"), "{stderr}");
    assert!(!text(&out.stdout).contains("hunter22") && !stderr.contains("hunter22"));
    let pw_file = home.path.join("pw.txt");
    std::fs::write(&pw_file, "hunter22\n").unwrap();
    let out = home.run(
        &["keystore", "export", "a", "--private-key", "--password-file", pw_file.to_str().unwrap()],
        &[],
    );
    assert_exit(&out, 0);
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
}

/// Each bad input: its exit code, its error code, words the message must contain, and
/// the home left exactly as it was.
#[test]
fn bad_input_is_refused_precisely_and_changes_nothing() {
    let home = Home::new("bad");
    create_keystore(&home, "owner");
    let out = home.run(
        &[
            "smart-account",
            "create",
            "--alias",
            "main",
            "--keystore",
            "owner",
            "--chain",
            "local",
            "-o",
            "json",
        ],
        &[],
    );
    assert_exit(&out, 0);
    let account = json(&out.stdout)["account"]["address"].as_str().unwrap().to_owned();
    let wrong_pw = ("TEST_PASSWORD", "wrong");
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], i32, &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        (
            &["keystore", "create", "--params", "{\"alias\": \"x\""],
            &[],
            2,
            "malformed-json",
            "--params is not valid JSON",
        ),
        (
            &["keystore", "create", "--params", "{\"alias\":\"x\",\"colour\":1}"],
            &[],
            2,
            "unknown-field",
            "unknown field `colour`",
        ),
        (
            &["keystore", "create", "--params", "[]"],
            &[],
            2,
            "invalid-params",
            "must be a JSON object",
        ),
        (
            &["keystore", "create", "--alias", "owner", "--password-env", "TEST_PASSWORD"],
            &[PW],
            2,
            "alias-taken",
            "a keystore named owner already exists",
        ),
        (
            &["keystore", "create", "--alias", "../evil", "--password-env", "TEST_PASSWORD"],
            &[PW],
            2,
            "invalid-alias",
            "../evil",
        ),
        (
            &["keystore", "create", "--alias", "nopw"],
            &[],
            2,
            "missing-input",
            "the keystore password is needed",
        ),
        (&["keystore", "create"], &[], 2, "missing-input", "--alias"),
        (&["keystore", "info", "ghost"], &[], 3, "not-found", "ghost"),
        (
            &["keystore", "export", "owner", "--private-key", "--password-env", "TEST_PASSWORD"],
            &[wrong_pw],
            4,
            "wrong-password",
            "password",
        ),
        (
            &["keystore", "export", "owner", "--private-key", "--password-env", "UNSET_VAR_X"],
            &[],
            2,
            "password-env",
            "UNSET_VAR_X",
        ),
        (
            &[
                "keystore",
                "import",
                "--alias",
                "k2",
                "--private-key-env",
                "KEY",
                "--password-env",
                "TEST_PASSWORD",
            ],
            &[PW, ("KEY", "0x1234")],
            2,
            "invalid-key",
            "32 bytes",
        ),
        (
            &[
                "keystore",
                "import",
                "--alias",
                "k2",
                "--private-key-env",
                "KEY",
                "--password-env",
                "TEST_PASSWORD",
            ],
            &[PW, ("KEY", "0xzz34567890123456789012345678901234567890123456789012345678901234")],
            2,
            "invalid-key",
            "32 bytes",
        ),
        (
            &[
                "smart-account",
                "create",
                "--alias",
                "main",
                "--keystore",
                "owner",
                "--chain",
                "local",
            ],
            &[],
            2,
            "alias-taken",
            "smart account named main",
        ),
        (
            &["smart-account", "create", "--alias", "b", "--keystore", "ghost", "--chain", "local"],
            &[],
            3,
            "not-found",
            "ghost",
        ),
        (
            &["smart-account", "create", "--alias", "b", "--keystore", "owner", "--chain", "moon"],
            &[],
            2,
            "unknown-chain",
            "moon",
        ),
        (
            &[
                "smart-account",
                "create",
                "--alias",
                "b",
                "--keystore",
                "owner",
                "--chain",
                "local",
                "--index=-1",
            ],
            &[],
            2,
            "invalid-value",
            "\"-1\" is not an unsigned integer",
        ),
        (
            &[
                "smart-account",
                "create",
                "--params",
                "{\"alias\":\"b\",\"keystore\":\"owner\",\"chains\":[\"local\"],\"index\":-1}",
            ],
            &[],
            2,
            "invalid-params",
            "index: expected a string, got -1",
        ),
        (
            &[
                "smart-account",
                "import",
                "--alias",
                "b",
                "--keystore",
                "owner",
                "--chain",
                "local",
                "--address",
                "0x1234",
            ],
            &[],
            2,
            "invalid-value",
            "40 hex digits",
        ),
        (
            &[
                "smart-account",
                "import",
                "--params",
                "{\"alias\":\"b\",\"keystore\":\"owner\",\"chains\":[\"local\"],\"address\":\"0x12\"}",
            ],
            &[],
            2,
            "invalid-params",
            "address: \"0x12\" is not an address",
        ),
        (
            &[
                "smart-account",
                "import",
                "--alias",
                "b",
                "--keystore",
                "owner",
                "--chain",
                "local",
                "--address",
                "0x923AB44bEF75E86F4Ea1eE2D84dD27831d32958a",
            ],
            &[],
            2,
            "invalid-value",
            "checksum",
        ),
        (
            &[
                "smart-account",
                "import",
                "--alias",
                "b",
                "--keystore",
                "owner",
                "--chain",
                "local",
                "--address",
                "0x0000000000000000000000000000000000000001",
            ],
            &[],
            2,
            "address-mismatch",
            &account,
        ),
        (
            &["smart-account", "info", "--params", "{\"alias\":\"main\"}", "nope"],
            &[],
            2,
            "conflicting-input",
            "alias",
        ),
        (&["session-key", "info", "ghost"], &[], 3, "not-found", "session key"),
        (
            &["tx", "send", "--smart-account", "main", "--to", "0xabc"],
            &[],
            2,
            "invalid-value",
            "0xabc",
        ),
        (
            &[
                "tx",
                "send",
                "--params",
                "{\"smart_account\":\"main\",\"calls\":[{\"to\":\"0x0000000000000000000000000000000000000001\",\"data\":\"0xabc\"}]}",
            ],
            &[],
            2,
            "invalid-params",
            "\"0xabc\" is not hex data: odd number of digits",
        ),
        (
            &[
                "tx",
                "send",
                "--smart-account",
                "main",
                "--to",
                "0x0000000000000000000000000000000000000001",
                "--value",
                "1.5wei",
            ],
            &[],
            2,
            "invalid-value",
            "more than 0 decimals",
        ),
        (&["config", "set", "local", "--rpc-url", "ftp://x"], &[], 2, "invalid-url", "http"),
        (&["schema", "nonsense.command"], &[], 3, "unknown-command", "nonsense.command"),
        (
            &["keystore", "create", "--params", "@/nonexistent/p.json"],
            &[],
            3,
            "params-file",
            "/nonexistent/p.json",
        ),
    ];
    for (args, env, code, error_code, words) in cases {
        let before = home.snapshot();
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let out = home.run(&args, env);
        assert_exit(&out, *code);
        let error = error_of(&out);
        assert_eq!(error["code"], *error_code, "{args:?}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{args:?}: {message:?} should mention {words:?}");
        assert!(out.stdout.is_empty(), "{args:?} wrote {}", text(&out.stdout));
        assert_eq!(home.snapshot(), before, "{args:?} changed the home");
    }
}

#[test]
fn params_and_flags_are_interchangeable() {
    let home = Home::new("params");
    let by_params = home.run_with_stdin(
        &["keystore", "create", "--params", "-", "-o", "json"],
        &[PW],
        r#"{"alias":"p","light_kdf":true,"password_env":"TEST_PASSWORD"}"#,
    );
    assert_exit(&by_params, 0);
    let file = home.path.join("params.json");
    std::fs::write(&file, r#"{"keystore":"p","chains":["local","base-sepolia"],"index":"7"}"#)
        .unwrap();
    let out = home.run(
        &[
            "smart-account",
            "create",
            "--alias",
            "acc",
            "--params",
            &format!("@{}", file.display()),
            "-o",
            "json",
        ],
        &[],
    );
    assert_exit(&out, 0);
    let account = json(&out.stdout)["account"].clone();
    assert_eq!(account["index"], "7");
    assert_eq!(account["chains"], serde_json::json!(["local", "base-sepolia"]));
    // The same account by flags only (index as a number) gives the same address.
    let out = home.run(
        &[
            "smart-account",
            "import",
            "--alias",
            "acc2",
            "--keystore",
            "p",
            "--chain",
            "local",
            "--index",
            "7",
            "--address",
            account["address"].as_str().unwrap(),
            "-o",
            "json",
        ],
        &[],
    );
    assert_exit(&out, 0);
    // A different index is a different account.
    let out = home.run(
        &[
            "smart-account",
            "create",
            "--alias",
            "acc3",
            "--keystore",
            "p",
            "--chain",
            "local",
            "--index",
            "8",
            "-o",
            "json",
        ],
        &[],
    );
    assert_ne!(json(&out.stdout)["account"]["address"], account["address"]);
}

#[test]
fn config_endpoints_round_trip() {
    let home = Home::new("config");
    let out = home.run(
        &[
            "config",
            "set",
            "base-sepolia",
            "--rpc-url",
            "https://rpc.example",
            "--bundler-url",
            "https://b.example",
            "-o",
            "json",
        ],
        &[],
    );
    assert_exit(&out, 0);
    assert_result_valid("config.set", "json", &out.stdout);
    let file = home.path.join("config.json");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let out = home.run(&["config", "chains", "-o", "json"], &[]);
    assert_result_valid("config.chains", "json", &out.stdout);
    let rows = json(&out.stdout);
    let base = rows.as_array().unwrap().iter().find(|r| r["alias"] == "base-sepolia").unwrap();
    assert_eq!(base["endpoints"], "config");
    assert_eq!(base["chain_id"], 84532);
    let out =
        home.run(&["config", "chains", "-o", "json"], &[("BASE_SEPOLIA_RPC_URL", "http://x")]);
    let rows = json(&out.stdout);
    assert_eq!(
        rows.as_array().unwrap().iter().find(|r| r["alias"] == "base-sepolia").unwrap()["endpoints"],
        "env"
    );
    let out = home.run(&["config", "unset", "base-sepolia", "-o", "json"], &[]);
    assert_result_valid("config.unset", "json", &out.stdout);
    assert_eq!(json(&out.stdout)["removed"], true);
    let out = home.run(&["config", "chains", "-o", "ndjson"], &[]);
    assert_result_valid("config.chains", "ndjson", &out.stdout);
    assert!(json(&std::fs::read(&file).unwrap())["chains"].as_object().unwrap().is_empty());
}

#[test]
fn a_chain_without_endpoints_says_what_to_set() {
    let home = Home::new("noendpoint");
    create_keystore(&home, "owner");
    let out = home.run(
        &[
            "smart-account",
            "create",
            "--alias",
            "a",
            "--keystore",
            "owner",
            "--chain",
            "opt-sepolia",
        ],
        &[],
    );
    assert_exit(&out, 0);
    let out = home.run(&["smart-account", "status", "a", "-o", "json"], &[]);
    assert_exit(&out, 2);
    let error = error_of(&out);
    assert_eq!(error["code"], "missing-endpoint");
    assert!(error["message"].as_str().unwrap().contains("OPT_SEPOLIA_RPC_URL"), "{error}");
    assert!(error["hint"].as_str().unwrap().contains("namera config set opt-sepolia"), "{error}");
}

#[test]
fn an_unreachable_rpc_is_a_network_error() {
    let home = Home::new("unreachable");
    create_keystore(&home, "owner");
    let out = home.run(
        &[
            "smart-account",
            "create",
            "--alias",
            "a",
            "--keystore",
            "owner",
            "--chain",
            "base-sepolia",
            "-o",
            "json",
        ],
        &[],
    );
    assert_exit(&out, 0);
    let before = home.snapshot();
    let out = home.run(
        &["smart-account", "status", "a", "-o", "json"],
        &[
            ("BASE_SEPOLIA_RPC_URL", "http://127.0.0.1:9"),
            ("BASE_SEPOLIA_BUNDLER_URL", "http://127.0.0.1:9"),
        ],
    );
    assert_exit(&out, 5);
    assert_eq!(error_of(&out)["code"], "unreachable");
    assert_eq!(home.snapshot(), before);
}

/// Keystores move between us and another implementation (Python's eth-account, from
/// PyPI): its files import here and decrypt to the same key; ours decrypt there.
#[test]
fn keystores_interoperate_with_eth_account() {
    use crate::support::py;
    let home = Home::new("compat");
    let key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    for kdf in ["scrypt", "pbkdf2"] {
        let file = home.path.join(format!("theirs-{kdf}.json"));
        let address = py(
            r#"
import json, sys
from eth_account import Account
ks = Account.encrypt(sys.argv[1], "their password", kdf=sys.argv[2], iterations=(2 if sys.argv[2] == "scrypt" else 1) * 1024)
open(sys.argv[3], "w").write(json.dumps(ks))
print(Account.from_key(sys.argv[1]).address)
"#,
            &[key, kdf, file.to_str().unwrap()],
        );
        let alias = format!("theirs-{kdf}");
        let out = home.run(
            &[
                "keystore",
                "import",
                "--alias",
                &alias,
                "--keystore-file",
                file.to_str().unwrap(),
                "--password-env",
                "P",
                "-o",
                "json",
            ],
            &[("P", "their password")],
        );
        assert_exit(&out, 0);
        assert_eq!(json(&out.stdout)["address"], address.trim());
        let out = home.run(
            &["keystore", "export", &alias, "--private-key", "--password-env", "P", "-o", "json"],
            &[("P", "their password")],
        );
        assert_exit(&out, 0);
        assert_eq!(json(&out.stdout)["private_key"], key);
        // A wrong password for their file is exit 4 here too.
        let out = home.run(
            &[
                "keystore",
                "import",
                "--alias",
                "x",
                "--keystore-file",
                file.to_str().unwrap(),
                "--password-env",
                "P",
                "-o",
                "json",
            ],
            &[("P", "not it")],
        );
        assert_exit(&out, 4);
    }
    // Ours (standard scrypt, n = 2^18) decrypts in eth-account.
    let out = home.run(
        &[
            "keystore",
            "import",
            "--alias",
            "ours",
            "--private-key-env",
            "K",
            "--password-env",
            "P",
            "-o",
            "json",
        ],
        &[("K", key), ("P", "our password")],
    );
    assert_exit(&out, 0);
    let decrypted = py(
        r#"
import json, sys
from eth_account import Account
print("0x" + Account.decrypt(json.load(open(sys.argv[1])), "our password").hex().removeprefix("0x"))
"#,
        &[home.path.join("keystores/ours.json").to_str().unwrap()],
    );
    assert_eq!(decrypted.trim(), key);
}

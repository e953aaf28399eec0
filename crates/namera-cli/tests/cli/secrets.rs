//! No secret in any output: every case of an error table (bad input, conflicts, wrong
//! passwords, malformed keys, unknown chains…) is run, and everything it wrote (stdout
//! and stderr) is searched for the passwords and private keys it was given.

use base64::Engine;
use serde_json::json;

use crate::{agent::Agent, support::text};

/// A private key used only here (never funded anywhere).
const OWNER_KEY: &str = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

#[test]
fn no_error_path_prints_a_password_or_a_private_key() {
    let agent = Agent::new("secrets");
    // An owner imported from a known key, an account, and a session key whose serialized
    // form (with its private key) the table feeds back in.
    let mut env: Vec<(&str, String)> = agent.env.clone();
    env.push(("OWNER_KEY", OWNER_KEY.to_owned()));
    env.push(("BAD_KEY", OWNER_KEY[..63].to_owned()));
    let as_env = |env: &[(&'static str, String)]| -> Vec<(&'static str, String)> { env.to_vec() };
    let run = |args: &[&str], extra: &[(&'static str, String)]| {
        let mut all = as_env(&env);
        all.extend_from_slice(extra);
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        agent.home.run(args, &pairs)
    };
    let ok = |args: &[&str]| {
        let out = run(args, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        out
    };
    ok(&[
        "keystore",
        "import",
        "--alias",
        "owner",
        "--private-key-env",
        "OWNER_KEY",
        "--light-kdf",
        "--password-env",
        "OWNER_PW",
    ]);
    ok(&["smart-account", "create", "--alias", "acc", "--keystore", "owner", "--chain", "local"]);
    ok(&[
        "session-key",
        "create",
        "--alias",
        "k",
        "--smart-account",
        "acc",
        "--light-kdf",
        "--policy",
        r#"{"type":"sudo"}"#,
        "--password-env",
        "OWNER_PW",
        "--session-password-env",
        "AGENT_PW",
    ]);
    let exported =
        ok(&["session-key", "export", "k", "--session-password-env", "AGENT_PW", "-o", "json"]);
    let serialized =
        crate::support::json(&exported.stdout)[0]["serialized"].as_str().unwrap().to_owned();
    let decoded: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD.decode(&serialized).unwrap(),
    )
    .unwrap();
    let session_key = decoded["privateKey"].as_str().unwrap().trim_start_matches("0x").to_owned();
    assert_eq!(session_key.len(), 64);

    let secrets: Vec<String> = vec![
        "owner password".into(),
        "agent password".into(),
        OWNER_KEY.into(),
        OWNER_KEY[..63].into(),
        session_key.clone(),
        // Without its base64 padding, so a key split at its `=` is caught too.
        serialized.trim_end_matches('=').to_owned(),
        "Apassword-1f".into(),
        "Bpassword-2e".into(),
        "12345678".into(),
        "wrong-pw-x9".into(),
    ];
    let key_arg = format!("local={serialized}");
    // Base64 padding is an `=`: a key given without `CHAIN=` must not become a "chain".
    let padded = format!("{serialized}=");
    let damaged = format!("local={}A", &serialized[..serialized.len() - 1]);
    let pk_file = agent.home.path.join("pk.txt");
    std::fs::write(&pk_file, format!("{OWNER_KEY}zz\n")).unwrap();
    let pk_path = pk_file.to_str().unwrap();
    let import_unknown_chain = json!({"alias":"k2","smart_account":"acc","keys":[{"chain":"nowhere","serialized":serialized}],"session_password_env":"AGENT_PW"}).to_string();
    let import_conflict = json!({"keys":[{"chain":"local","serialized":"eyJ9"}]}).to_string();
    let table: Vec<(&str, Vec<&str>)> = vec![
        (
            "conflicting keystore password",
            vec![
                "keystore",
                "create",
                "--alias",
                "x",
                "--password",
                "Apassword-1f",
                "--params",
                r#"{"password":"Bpassword-2e"}"#,
            ],
        ),
        (
            "numeric password",
            vec!["keystore", "create", "--params", r#"{"alias":"x","password":12345678}"#],
        ),
        (
            "password given twice in one document",
            vec![
                "keystore",
                "create",
                "--params",
                r#"{"alias":"x","password":"Apassword-1f","password":"Bpassword-2e"}"#,
            ],
        ),
        (
            "misspelt password field",
            vec!["keystore", "create", "--params", r#"{"alias":"x","passwrd":"Apassword-1f"}"#],
        ),
        (
            "two password sources",
            vec![
                "keystore",
                "create",
                "--alias",
                "x",
                "--password",
                "Apassword-1f",
                "--password-env",
                "OWNER_PW",
            ],
        ),
        (
            "short private key",
            vec![
                "keystore",
                "import",
                "--alias",
                "y",
                "--private-key-env",
                "BAD_KEY",
                "--password-env",
                "OWNER_PW",
            ],
        ),
        (
            "private key with junk",
            vec![
                "keystore",
                "import",
                "--alias",
                "y",
                "--private-key-file",
                pk_path,
                "--password-env",
                "OWNER_PW",
            ],
        ),
        (
            "private key, alias taken",
            vec![
                "keystore",
                "import",
                "--alias",
                "owner",
                "--private-key-env",
                "OWNER_KEY",
                "--password-env",
                "OWNER_PW",
            ],
        ),
        (
            "wrong keystore password",
            vec!["keystore", "export", "owner", "--private-key", "--password", "wrong-pw-x9"],
        ),
        (
            "export, two password sources",
            vec![
                "keystore",
                "export",
                "owner",
                "--private-key",
                "--password",
                "Apassword-1f",
                "--password-env",
                "OWNER_PW",
            ],
        ),
        (
            "conflicting session password",
            vec![
                "session-key",
                "create",
                "--session-password",
                "Apassword-1f",
                "--params",
                r#"{"session_password":"Bpassword-2e"}"#,
            ],
        ),
        (
            "alias and name for one password",
            vec![
                "session-key",
                "create",
                "--params",
                r#"{"sessionKeyPassword":"Apassword-1f","session_password":"Bpassword-2e"}"#,
            ],
        ),
        (
            "owner password conflict by alias",
            vec![
                "session-key",
                "create",
                "--password",
                "Apassword-1f",
                "--params",
                r#"{"ownerKeystorePassword":"Bpassword-2e"}"#,
            ],
        ),
        (
            "serialized key without chain",
            vec![
                "session-key",
                "import",
                "--alias",
                "k2",
                "--smart-account",
                "acc",
                "--key",
                &serialized,
            ],
        ),
        (
            "serialized key with padding, no chain",
            vec![
                "session-key",
                "import",
                "--alias",
                "k2",
                "--smart-account",
                "acc",
                "--key",
                &padded,
            ],
        ),
        (
            "serialized key, unknown chain",
            vec!["session-key", "import", "--params", &import_unknown_chain],
        ),
        (
            "serialized key given two ways",
            vec![
                "session-key",
                "import",
                "--alias",
                "k2",
                "--smart-account",
                "acc",
                "--key",
                &key_arg,
                "--params",
                &import_conflict,
            ],
        ),
        (
            "damaged serialized key",
            vec![
                "session-key",
                "import",
                "--alias",
                "k3",
                "--smart-account",
                "acc",
                "--key",
                &damaged,
                "--session-password-env",
                "AGENT_PW",
            ],
        ),
        (
            "wrong session password",
            vec!["session-key", "export", "k", "--session-password", "wrong-pw-x9"],
        ),
        (
            "tx send password conflict",
            vec![
                "tx",
                "send",
                "--smart-account",
                "acc",
                "--session-key",
                "k",
                "--to",
                "0x0000000000000000000000000000000000000001",
                "--password",
                "Apassword-1f",
                "--params",
                r#"{"password":"Bpassword-2e"}"#,
            ],
        ),
        (
            "tx send wrong session password",
            vec![
                "tx",
                "send",
                "--smart-account",
                "acc",
                "--session-key",
                "k",
                "--to",
                "0x0000000000000000000000000000000000000001",
                "--password",
                "wrong-pw-x9",
            ],
        ),
        (
            "mcp start, unknown account",
            vec!["mcp", "start", "--smart-account", "nope", "--session-key", "k=Apassword-1f"],
        ),
        (
            "mcp start, wrong key password",
            vec!["mcp", "start", "--smart-account", "acc", "--session-key", "k=wrong-pw-x9"],
        ),
        (
            "mcp start, two passwords for a key",
            vec![
                "mcp",
                "start",
                "--smart-account",
                "acc",
                "--session-key",
                "k=Apassword-1f",
                "--key-password",
                "k=Bpassword-2e",
            ],
        ),
        (
            "mcp start, conflicting keys",
            vec![
                "mcp",
                "start",
                "--session-key",
                "k=Apassword-1f",
                "--params",
                r#"{"session_keys":["k=Bpassword-2e"]}"#,
            ],
        ),
    ];
    let mut leaks = Vec::new();
    for (name, args) in &table {
        for format in ["pretty", "json"] {
            let mut args = args.clone();
            args.extend(["-o", format]);
            let out = run(&args, &[]);
            assert_ne!(out.status.code(), Some(0), "{name} should fail: {}", text(&out.stdout));
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            for s in &secrets {
                if all.contains(s.as_str()) {
                    leaks.push(format!("{name} (-o {format}) printed {s:?}:\n{all}"));
                }
            }
        }
    }
    eprintln!(
        "secrets: {} error cases × 2 formats, {} secrets searched, {} leaks",
        table.len(),
        secrets.len(),
        leaks.len()
    );
    assert!(leaks.is_empty(), "{}", leaks.join("\n---\n"));
}

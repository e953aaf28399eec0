//! The one input layer (issue 13): unknown fields refused everywhere (also inside policy
//! JSON) with their path and the name meant, duplicate keys refused, no secret's value in
//! any message, a bad value inside a flattened group named by its path, and the original
//! tool's parameter names accepted.

use crate::support::{Home, assert_exit, error_of, text};

fn run_json(home: &Home, args: &[&str]) -> std::process::Output {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    home.run(&args, &[])
}

#[test]
fn a_typo_in_a_policy_is_refused_naming_its_path_and_the_name_meant() {
    let home = Home::new("policy-typo");
    let cases = [
        (
            r#"{"type":"timestamp","valid_until":1000}"#,
            "policies[0]: unknown field `valid_until`; did you mean `validUntil`?",
        ),
        (
            r#"{"type":"rate-limit","count":2,"intervall":60}"#,
            "policies[0]: unknown field `intervall`; did you mean `interval`?",
        ),
        (
            r#"{"type":"gas","allowed":"1","enforcePaymastr":true}"#,
            "policies[0]: unknown field `enforcePaymastr`; did you mean `enforcePaymaster`?",
        ),
    ];
    for (policy, message) in cases {
        let params = format!(
            r#"{{"alias":"k","smart_account":"acc","policies":[{policy}],"password_env":"X"}}"#
        );
        let out = run_json(&home, &["session-key", "create", "--params", &params]);
        assert_exit(&out, 2);
        let e = error_of(&out);
        assert_eq!(e["code"], "invalid-params", "{e}");
        assert_eq!(e["message"], message, "{e}");
        // The same through the flag.
        let out = run_json(
            &home,
            &[
                "session-key",
                "create",
                "--alias",
                "k",
                "--smart-account",
                "acc",
                "--policy",
                policy,
            ],
        );
        assert_exit(&out, 2);
        assert!(
            text(&out.stderr).contains(&message["policies[0]: ".len()..]),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn an_unknown_top_level_field_suggests_the_name_meant() {
    let home = Home::new("unknown-field");
    let out =
        run_json(&home, &["keystore", "create", "--params", r#"{"alias":"o","pasword_env":"X"}"#]);
    assert_exit(&out, 2);
    let e = error_of(&out);
    assert_eq!(e["code"], "unknown-field");
    assert_eq!(e["message"], "unknown field `pasword_env`; did you mean `password_env`?");
}

#[test]
fn duplicate_keys_in_params_are_refused() {
    let home = Home::new("dup-keys");
    let out = run_json(&home, &["keystore", "create", "--params", r#"{"alias":"a","alias":"b"}"#]);
    assert_exit(&out, 2);
    let e = error_of(&out);
    assert_eq!(e["code"], "duplicate-key", "{e}");
    assert!(e["message"].as_str().unwrap().contains("duplicate key `alias`"), "{e}");
    // Nested: a doubled valueLimit inside a policy.
    let params = r#"{"alias":"k","smart_account":"a","policies":[{"type":"call","permissions":[{"target":"0x0000000000000000000000000000000000000001","valueLimit":"1","valueLimit":"99"}]}]}"#;
    let out = run_json(&home, &["session-key", "create", "--params", params]);
    assert_exit(&out, 2);
    let e = error_of(&out);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("duplicate key `policies[0].permissions[0].valueLimit`"),
        "{e}"
    );
    assert!(home.snapshot().is_empty(), "nothing written");
}

#[test]
fn a_conflicting_password_is_named_never_printed() {
    let home = Home::new("conflict-secret");
    for args in [
        vec![
            "keystore",
            "create",
            "--alias",
            "o",
            "--password",
            "Apassword1",
            "--params",
            r#"{"password":"Bpassword2"}"#,
        ],
        vec![
            "tx",
            "send",
            "--smart-account",
            "a",
            "--password",
            "Apassword1",
            "--params",
            r#"{"password":"Bpassword2"}"#,
        ],
        vec![
            "session-key",
            "create",
            "--session-password",
            "Apassword1",
            "--params",
            r#"{"session_password":"Bpassword2"}"#,
        ],
    ] {
        let out = run_json(&home, &args);
        assert_exit(&out, 2);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains("Apassword1") && !all.contains("Bpassword2"), "{all}");
        let e = error_of(&out);
        assert_eq!(e["code"], "conflicting-input", "{e}");
        assert!(e["message"].as_str().unwrap().contains("password`"), "{e}");
    }
}

#[test]
fn a_wrongly_typed_password_is_named_by_its_field_not_its_value() {
    let home = Home::new("typed-secret");
    let out = run_json(
        &home,
        &["keystore", "create", "--params", r#"{"alias":"o","password":12345678}"#],
    );
    assert_exit(&out, 2);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains("12345678"), "{all}");
    let e = error_of(&out);
    assert_eq!(e["code"], "invalid-params");
    assert!(e["message"].as_str().unwrap().starts_with("password: invalid type"), "{e}");
}

#[test]
fn a_bad_value_in_a_flattened_group_is_named_by_its_path() {
    let home = Home::new("flattened");
    let out = run_json(
        &home,
        &[
            "session-key",
            "create",
            "--params",
            r#"{"alias":"k","smart_account":"a","policies":[{"type":"sudo"}],"session_password_env":["X"]}"#,
        ],
    );
    assert_exit(&out, 2);
    let e = error_of(&out);
    assert!(
        e["message"].as_str().unwrap().starts_with("session_password_env: invalid type: sequence"),
        "{e}"
    );
}

/// The original tool's published example: its parameter names are accepted (the input
/// passes; the account it names does not exist in an empty home, which is exit 3).
#[test]
fn the_original_tools_parameter_names_are_accepted() {
    let home = Home::new("seed");
    let seed = r#"{"alias":"my-agent-key","smartAccountAlias":"my-wallet","chains":["eth-mainnet"],"policyParams":[{"type":"gas","allowed":"100000000000000000"}]}"#;
    let out = run_json(&home, &["session-key", "create", "--params", seed]);
    assert_exit(&out, 3);
    let e = error_of(&out);
    assert!(e["message"].as_str().unwrap().contains("my-wallet"), "{e}");
    // Both names for one field is a conflict; the passwords are secrets.
    let out = run_json(
        &home,
        &["session-key", "create", "--params", r#"{"smart_account":"a","smartAccountAlias":"b"}"#],
    );
    assert_exit(&out, 2);
    assert_eq!(error_of(&out)["code"], "conflicting-input");
    let out = run_json(
        &home,
        &[
            "session-key",
            "create",
            "--session-password",
            "Apassword1",
            "--params",
            r#"{"sessionKeyPassword":"Bpassword2","ownerKeystorePassword":7}"#,
        ],
    );
    assert_exit(&out, 2);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains("Apassword1") && !all.contains("Bpassword2"), "{all}");
}

/// A rate limit is `count` uses in all, each at least `interval` after the previous;
/// people read "rate limit" as "N per window", so every description says which it is.
#[test]
fn rate_limit_words_say_in_all_not_per_window() {
    let home = Home::new("rate-words");
    let out = run_json(&home, &["schema", "session-key.create"]);
    assert_exit(&out, 0);
    let schema = text(&out.stdout);
    assert!(schema.contains("a total, not `count` per `interval`"), "{schema}");
    let help = text(&home.run(&["session-key", "create", "--help"], &[]).stdout);
    assert!(help.contains("allows `count` uses in all (not per period)"), "{help}");
    let p = namera::policy::Policy::rate_limit(3600, 5, 0);
    assert_eq!(
        p.describe(),
        "rate limit: at most 5 use(s) in all (not per period), each at least 1 hour(s) after the previous"
    );
}

/// `--lane 70000` was hashed as the name "70000"; digits are a lane number, and one
/// out of range is refused.
#[test]
fn a_lane_number_out_of_range_is_refused() {
    let home = Home::new("lane");
    let out = run_json(
        &home,
        &[
            "tx",
            "send",
            "--smart-account",
            "a",
            "--to",
            "0x0000000000000000000000000000000000000001",
            "--lane",
            "70000",
        ],
    );
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("lane 70000 is out of range"), "{}", text(&out.stderr));
    for params in [
        r#"{"smart_account":"a","calls":[{"to":"0x0000000000000000000000000000000000000001"}],"lane":70000}"#,
        r#"{"smart_account":"a","calls":[{"to":"0x0000000000000000000000000000000000000001"}],"lane":"70000"}"#,
    ] {
        let out = run_json(&home, &["tx", "send", "--params", params]);
        assert_exit(&out, 2);
        let e = error_of(&out);
        assert_eq!(
            e["message"],
            "lane: lane 70000 is out of range: a lane number is 0–65535 (or give a name)",
            "{e}"
        );
    }
}

/// `config set` accepted `http://`, `http://a b/` and `http://[::1`.
#[test]
fn config_set_refuses_malformed_urls() {
    let home = Home::new("config-url");
    for bad in ["http://", "http://a b/", "http://[::1", "localhost:8545"] {
        let out = run_json(&home, &["config", "set", "local", "--rpc-url", bad]);
        assert_exit(&out, 2);
        assert_eq!(error_of(&out)["code"], "invalid-url", "{bad}");
    }
    assert!(!home.path.join("config.json").exists());
    let out = run_json(&home, &["config", "set", "local", "--rpc-url", "http://[::1]:8545"]);
    assert_exit(&out, 0);
}

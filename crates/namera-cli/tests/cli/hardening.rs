//! Issue 13 against the devnet: what the owner is told before signing, and the wrong or
//! unclear answers the hostile-user pass found, each now a clear one.

use serde_json::json;

use crate::{
    agent::Agent,
    support::{assert_exit, error_of, json as parse, text},
};

/// The original tool's published `session-key create` (its parameter names), here on the
/// devnet's chain: accepted, and the owner is warned, before signing, of a window that
/// already ended and of a key with no call policy, on stderr and in the JSON result.
#[test]
fn the_seed_create_is_accepted_and_an_ended_window_is_warned_of() {
    let agent = Agent::new("seed-warn");
    agent.account();
    let env: Vec<(&str, &str)> = agent.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let seed = json!({"alias": "my-agent-key", "smartAccountAlias": "acc", "chains": ["local"],
        "policyParams": [{"type": "gas", "allowed": "100000000000000000"},
                         {"type": "timestamp", "validUntil": 1000}],
        "ownerKeystorePassword": "owner password", "sessionKeyPassword": "agent password",
        "light_kdf": true})
    .to_string();
    let out = agent.home.run(&["session-key", "create", "--params", &seed, "-o", "json"], &env);
    assert_exit(&out, 0);
    let key = parse(&out.stdout);
    let warnings = key["warnings"].as_array().expect("warnings in the result");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("policies[1]: the time window ended at 1970-01-01T00:16:40Z"),
        "{key}"
    );
    assert!(warnings[1].as_str().unwrap().starts_with("no call policy"), "{key}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the time window ended"), "{stderr}");
    assert!(!stderr.contains("owner password") && !stderr.contains("agent password"), "{stderr}");
    assert!(stderr.contains("argv"), "the argv warning for passwords in --params: {stderr}");
    assert_eq!(key["policies"][0]["allowed"], "100000000000000000");

    // Pretty mode says it loudly on stderr; a key with a call policy and an open window
    // has nothing to warn of.
    let out = agent.home.run(
        &[
            "session-key",
            "create",
            "--alias",
            "k2",
            "--smart-account",
            "acc",
            "--light-kdf",
            "--policy",
            r#"{"type":"timestamp","validUntil":1000}"#,
            "--password-env",
            "OWNER_PW",
            "--session-password-env",
            "AGENT_PW",
        ],
        &env,
    );
    assert_exit(&out, 0);
    assert!(
        text(&out.stderr).contains("warning: policies[0]: the time window ended"),
        "{}",
        text(&out.stderr)
    );
    let fine = agent.ok(
        &["session-key", "create"],
        &json!({"alias": "k3", "smart_account": "acc", "light_kdf": true,
                "policies": [{"type": "call", "permissions": [{"target": "0x0000000000000000000000000000000000000001"}]}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    assert!(fine.get("warnings").is_none(), "{fine}");
    let _ = error_of;
}

/// `revoke K --chain local,local` used to revoke, then exit 6 `reverted 0x09ee6468` on
/// the second; a chain named twice is now refused up front (exit 2), as `create` does.
#[test]
fn a_chain_named_twice_is_refused_before_anything_is_sent() {
    let agent = Agent::new("dup-chain");
    agent.account();
    agent.ok(
        &["session-key", "create"],
        &json!({"alias": "k", "smart_account": "acc", "light_kdf": true,
                "policies": [{"type": "call", "permissions": [{"target": "0x0000000000000000000000000000000000000001"}]}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    for (command, params) in [
        (
            ["session-key", "revoke"],
            json!({"alias": "k", "chains": ["local", "local"], "password_env": "OWNER_PW"}),
        ),
        (["session-key", "status"], json!({"alias": "k", "chains": ["local", "local"]})),
    ] {
        let out = agent.run(&command, &params);
        assert_exit(&out, 2);
        assert_eq!(error_of(&out)["code"], "duplicate-chain", "{}", error_of(&out));
    }
    // And an account on no chain at all is refused.
    let out = agent.run(
        &["smart-account", "create"],
        &json!({"alias": "nowhere", "keystore": "owner", "chains": []}),
    );
    assert_exit(&out, 2);
    assert_eq!(error_of(&out)["code"], "missing-input");
    assert!(!agent.home.path.join("smart-accounts/nowhere.json").exists());
}

/// revoke-all on an account not deployed (and not funded) on a chain used to exit 5
/// `currentNonce(): ABI decoding failed` and revoke nothing anywhere. Now each chain is
/// tried: this one reports that the account must be funded (its address named), the
/// result says per chain what happened; funded, revoke-all deploys and invalidates.
/// After it, a key never used shows as not usable, and `tx send` with it is refused in
/// words, before anything is sent (not the chain's undecoded AA23 revert, whatever the
/// validator's bytecode says).
#[test]
fn revoke_all_on_an_undeployed_account_reports_per_chain_then_kills_unused_keys() {
    let agent = Agent::new("revoke-undeployed");
    agent.ok(
        &["keystore", "create"],
        &json!({"alias": "owner", "light_kdf": true, "password_env": "OWNER_PW"}),
    );
    let made = agent.ok(
        &["smart-account", "create"],
        &json!({"alias": "acc", "keystore": "owner", "chains": ["local"]}),
    );
    let address: alloy_primitives::Address =
        made["account"]["address"].as_str().unwrap().parse().unwrap();
    agent.ok(
        &["session-key", "create"],
        &json!({"alias": "unused", "smart_account": "acc", "light_kdf": true, "policies": [{"type": "sudo"}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    let out = agent.run(
        &["session-key", "revoke-all"],
        &json!({"smart_account": "acc", "yes": true, "password_env": "OWNER_PW"}),
    );
    assert_exit(&out, 1);
    let e = error_of(&out);
    assert_eq!(e["code"], "insufficient-funds", "{e}");
    assert!(e["message"].as_str().unwrap().contains("invalidated on: none"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains(&address.to_checksum(None)), "{e}");
    let rows = parse(&out.stdout);
    assert_eq!(rows["chains"][0]["chain"], "local", "{rows}");
    assert_eq!(rows["chains"][0]["outcome"], "failed", "{rows}");

    agent.fund(address);
    let done = agent.ok(
        &["session-key", "revoke-all"],
        &json!({"smart_account": "acc", "yes": true, "password_env": "OWNER_PW"}),
    );
    assert_eq!(done["chains"][0]["outcome"], "invalidated", "{done}");
    let status = agent.ok(&["session-key", "status"], &json!({"alias": "unused"}));
    assert_eq!(status["chains"][0]["usable"], false, "{status}");
    assert_eq!(status["chains"][0]["state"], "invalidated", "{status}");
    let to = crate::agent::random_address();
    let out = agent.run(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "unused", "calls": [{"to": to, "value": "1"}],
                "password_env": "AGENT_PW"}),
    );
    assert_exit(&out, 6);
    let e = error_of(&out);
    assert_eq!(e["code"], "key-revoked", "{e}");
    assert!(e["message"].as_str().unwrap().contains("invalidated every key below nonce 2"), "{e}");
    assert_eq!(agent.balance(to), alloy_primitives::U256::ZERO);
}

/// An unfunded `smart-account create --deploy` used to exit 6 `policy-refused` (AA21),
/// saving nothing and never showing the address to fund. Now the account is recorded,
/// and the error says it is not deployed, why, and which address to fund.
#[test]
fn an_unfunded_deploy_keeps_the_record_and_names_the_address_to_fund() {
    let agent = Agent::new("unfunded-deploy");
    agent.ok(
        &["keystore", "create"],
        &json!({"alias": "owner", "light_kdf": true, "password_env": "OWNER_PW"}),
    );
    let out = agent.run(
        &["smart-account", "create"],
        &json!({"alias": "acc", "keystore": "owner", "chains": ["local"], "deploy": true,
                "password_env": "OWNER_PW"}),
    );
    assert_exit(&out, 1);
    let e = error_of(&out);
    assert_eq!(e["code"], "insufficient-funds", "{e}");
    let info = agent.ok(&["smart-account", "info"], &json!({"alias": "acc"}));
    let address = info["address"].as_str().unwrap();
    assert!(e["message"].as_str().unwrap().contains("is recorded but not deployed"), "{e}");
    assert!(e["message"].as_str().unwrap().contains(address), "{e}");
    assert!(e["hint"].as_str().unwrap().contains(address), "{e}");
}

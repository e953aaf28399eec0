//! Passkeys from the command line, the agent's way (`--params`, `-o json`) against the
//! devnet, with the software authenticator (no person to answer a browser prompt): a
//! passkey owns an account, sends as its owner, approves a session key whose policy the
//! chain enforces, and signs for a session key of its own. Balances are read on chain.

use alloy_primitives::{Address, U256};
use serde_json::{Value, json};

use crate::{
    agent::{Agent, random_address},
    support::{assert_exit, error_of, text},
};

/// The WebAuthnSigner contract: a passkey session key's `key_address`.
const WEBAUTHN_SIGNER: &str = "0x65DEeC8fEe717dc044D0CFD63cCf55F02cCaC2b3";

#[test]
fn a_passkey_owns_an_account_approves_keys_and_signs_for_one() {
    let agent = Agent::new("passkey");
    let registered = agent.ok(
        &["passkey", "register"],
        &json!({"alias": "owner-pk", "authenticator": "software", "light_kdf": true,
                "password_env": "OWNER_PW"}),
    );
    assert_eq!(registered["authenticator"], "software");
    assert_eq!(registered["rp_id"], "localhost");
    let file: Value = serde_json::from_slice(
        &std::fs::read(agent.home.path.join("passkeys/owner-pk.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(file["authenticator"], "software");
    assert!(file["crypto"].is_object(), "the software secret is stored encrypted: {file}");
    assert_eq!(agent.ok(&["passkey", "list"], &json!({}))[0]["alias"], "owner-pk");

    let made = agent.ok(
        &["smart-account", "create"],
        &json!({"alias": "acc", "owner_passkey": "owner-pk", "chains": ["local"]}),
    );
    assert_eq!(made["account"]["owner_passkey"], "owner-pk");
    assert_eq!(made["account"]["owner"], Value::Null);
    let account: Address = made["account"]["address"].as_str().unwrap().parse().unwrap();
    agent.fund(account);
    let (friend, stranger) = (random_address(), random_address());

    // The owner sends (and deploys the account) with a passkey signature.
    let sent = agent.ok(
        &["tx", "send"],
        &json!({"smart_account": "acc", "chain": "local",
                "calls": [{"to": friend, "value": "500"}], "password_env": "OWNER_PW"}),
    );
    assert_eq!(sent["success"], true, "{sent}");
    assert_eq!(agent.balance(friend), U256::from(500));

    // A session key approved by the passkey owner: its call policy holds on chain.
    let key = agent.ok(
        &["session-key", "create"],
        &json!({"alias": "bot", "smart_account": "acc", "light_kdf": true,
                "policies": [{"type": "call", "permissions": [{"target": friend, "valueLimit": "1000"}]}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    assert_eq!(key["chains"], json!(["local"]));
    assert_eq!(key["signer"], "ecdsa");
    let sent = agent.ok(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "bot", "chain": "local",
                "calls": [{"to": friend, "value": "1000"}], "password_env": "AGENT_PW"}),
    );
    assert_eq!(sent["success"], true, "{sent}");
    assert_eq!(agent.balance(friend), U256::from(1500));
    let out = agent.run(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "bot", "chain": "local",
                "calls": [{"to": stranger, "value": "1"}], "password_env": "AGENT_PW"}),
    );
    assert_exit(&out, 6);
    let error = error_of(&out);
    assert_eq!(error["code"], "policy-refused", "{error}");
    assert_eq!(error["policy"], "call", "{error}");
    assert_eq!(agent.balance(stranger), U256::ZERO);

    // A session key whose signer is a passkey: no secret of its own is stored.
    agent.ok(
        &["passkey", "register"],
        &json!({"alias": "agent-pk", "authenticator": "software", "light_kdf": true,
                "password_env": "AGENT_PW"}),
    );
    let key = agent.ok(
        &["session-key", "create"],
        &json!({"alias": "pk-bot", "smart_account": "acc", "signer": "passkey:agent-pk",
                "policies": [{"type": "sudo"}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    assert_eq!(key["key_address"], WEBAUTHN_SIGNER);
    assert_eq!(key["signer"], "passkey:agent-pk");
    let file: Value = serde_json::from_slice(
        &std::fs::read(agent.home.path.join("session-keys/pk-bot.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(file["signer"], json!({"kind": "passkey", "alias": "agent-pk"}));
    assert_eq!(file["crypto"], Value::Null);
    let sent = agent.ok(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "pk-bot", "chain": "local",
                "calls": [{"to": stranger, "value": "7"}], "password_env": "AGENT_PW"}),
    );
    assert_eq!(sent["success"], true, "{sent}");
    assert_eq!(agent.balance(stranger), U256::from(7));
    let check = agent.ok(
        &["policy", "check"],
        &json!({"session_key": "pk-bot", "calls": [{"to": stranger, "value": "7"}]}),
    );
    assert_eq!(check["passes"], true, "{check}");
    let out = agent.run(
        &["session-key", "export"],
        &json!({"alias": "pk-bot", "session_password_env": "AGENT_PW"}),
    );
    assert_exit(&out, 2);
    assert_eq!(error_of(&out)["code"], "passkey-signer");

    // The passkey owner revokes it; the same transfer is then refused.
    let revoked = agent
        .ok(&["session-key", "revoke"], &json!({"alias": "pk-bot", "password_env": "OWNER_PW"}));
    assert_eq!(revoked["chains"][0]["outcome"], "revoked", "{revoked}");
    let out = agent.run(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "pk-bot", "chain": "local",
                "calls": [{"to": stranger, "value": "7"}], "password_env": "AGENT_PW"}),
    );
    assert_exit(&out, 6);
    assert_eq!(error_of(&out)["code"], "key-revoked");
    assert_eq!(agent.balance(stranger), U256::from(7));

    // revoke-all by the passkey owner: the call-policy key is dead too.
    agent.ok(
        &["session-key", "revoke-all"],
        &json!({"smart_account": "acc", "yes": true, "password_env": "OWNER_PW"}),
    );
    let out = agent.run(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "bot", "chain": "local",
                "calls": [{"to": friend, "value": "1"}], "password_env": "AGENT_PW"}),
    );
    assert_exit(&out, 6);
    assert_eq!(error_of(&out)["code"], "key-revoked");

    // `create --deploy` with a passkey owner: the (funded) counterfactual address deploys.
    let second = json!({"alias": "acc2", "owner_passkey": "owner-pk", "chains": ["local"],
                        "index": 1});
    let made = agent.ok(&["smart-account", "create"], &second);
    let address: Address = made["account"]["address"].as_str().unwrap().parse().unwrap();
    agent.ok(&["smart-account", "remove"], &json!({"alias": "acc2", "yes": true}));
    agent.fund(address);
    let mut deploy = second.clone();
    deploy["deploy"] = json!(true);
    deploy["password_env"] = json!("OWNER_PW");
    let made = agent.ok(&["smart-account", "create"], &deploy);
    assert_eq!(made["deployments"][0]["already_deployed"], false, "{made}");
    let status = agent.ok(&["smart-account", "status"], &json!({"alias": "acc2"}));
    assert_eq!(status["chains"][0]["deployed"], true, "{status}");

    // Bad input: exit code and error code as documented, nothing written.
    let cases: [(&[&str], Value, i32, &str, &str); 5] = [
        (
            &["tx", "send"],
            json!({"smart_account": "acc", "chain": "local",
                   "calls": [{"to": friend, "value": "1"}], "password_env": "AGENT_PW"}),
            4,
            "wrong-password",
            "",
        ),
        (
            &["smart-account", "create"],
            json!({"alias": "acc3", "owner_passkey": "nope", "chains": ["local"]}),
            3,
            "not-found",
            "nope",
        ),
        (
            &["passkey", "register"],
            json!({"alias": "owner-pk", "authenticator": "software", "light_kdf": true,
                   "password_env": "OWNER_PW"}),
            2,
            "alias-taken",
            "owner-pk",
        ),
        (
            &["passkey", "remove"],
            json!({"alias": "owner-pk", "yes": true}),
            2,
            "in-use",
            "smart account acc",
        ),
        (
            &["session-key", "create"],
            json!({"alias": "k2", "smart_account": "acc", "signer": "passkey:nope",
                   "policies": [{"type": "sudo"}], "password_env": "OWNER_PW"}),
            3,
            "not-found",
            "nope",
        ),
    ];
    for (command, params, code, error_code, words) in cases {
        let before = agent.home.snapshot();
        let out = agent.run(command, &params);
        assert_exit(&out, code);
        let error = error_of(&out);
        assert_eq!(error["code"], error_code, "{command:?}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{command:?}: {message:?} should mention {words:?}");
        assert!(out.stdout.is_empty(), "{command:?} wrote {}", text(&out.stdout));
        assert_eq!(agent.home.snapshot(), before, "{command:?} changed the home");
    }
    assert_eq!(agent.balance(friend), U256::from(1500));
}

#[test]
fn passkey_info_remove_and_schema() {
    let agent = Agent::new("passkey-views");
    let registered = agent.ok(
        &["passkey", "register"],
        &json!({"alias": "pk", "authenticator": "software", "rp_id": "example.org",
                "light_kdf": true, "password_env": "OWNER_PW"}),
    );
    let info = agent.ok(&["passkey", "info"], &json!({"alias": "pk"}));
    assert_eq!(info, registered);
    assert_eq!(info["rp_id"], "example.org");
    assert_eq!(info["public_key_x"].as_str().unwrap().len(), 66);
    // Browser-only flags are refused for a software passkey, and the reverse.
    let out = agent.run(
        &["passkey", "register"],
        &json!({"alias": "b", "authenticator": "software", "open": "browser",
                "password_env": "OWNER_PW"}),
    );
    assert_exit(&out, 2);
    assert_eq!(error_of(&out)["code"], "conflicting-input");
    let out = agent.run(
        &["passkey", "register"],
        &json!({"alias": "b", "authenticator": "browser", "rp_id": "example.org"}),
    );
    assert_exit(&out, 2);
    assert_eq!(error_of(&out)["code"], "invalid-rp-id");
    let out = agent.run(&["passkey", "remove"], &json!({"alias": "pk"}));
    assert_exit(&out, 2);
    assert_eq!(error_of(&out)["code"], "confirmation-needed");
    let removed = agent.ok(&["passkey", "remove"], &json!({"alias": "pk", "yes": true}));
    assert_eq!(removed["removed"], "pk");
    assert_eq!(agent.ok(&["passkey", "list"], &json!({})), json!([]));
    let schema = agent.ok(&["schema", "passkey.register"], &json!({}));
    assert_eq!(schema["required"], json!(["alias", "authenticator"]));
    let kinds: Vec<&str> = schema["$defs"]["AuthenticatorArg"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["const"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["software", "browser"]);
}

/// The browser authenticator's CLI side without a browser: the page's URL is printed on
/// stderr, and nobody answering ends in a clear timeout error with nothing stored.
#[test]
fn browser_register_prints_the_page_and_times_out_cleanly() {
    let agent = Agent::new("passkey-browser");
    let before = agent.home.snapshot();
    let out = agent.run(
        &["passkey", "register"],
        &json!({"alias": "laptop", "authenticator": "browser", "timeout": 1}),
    );
    assert_exit(&out, 1);
    let error = error_of(&out);
    assert_eq!(error["code"], "passkey-timeout", "{error}");
    assert_eq!(error["message"], "no answer from the browser within 1 s");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("http://localhost:"), "the URL is printed: {stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(agent.home.snapshot(), before);
}

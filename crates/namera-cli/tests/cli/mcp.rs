//! `namera mcp start`: an MCP client (the PyPI `mcp` package's, not ours) uses the
//! account through a session key served from the CLI's store — with the owner's keystore
//! password nowhere in the server's environment.

use alloy_primitives::{Address, U256};
use serde_json::{Value, json};

use crate::{
    agent::Agent,
    support::{assert_exit, error_of, json as parse, py_file},
};

#[test]
fn mcp_start_serves_session_keys_without_the_owner_key() {
    let agent = Agent::new("mcp");
    let account = agent.account();
    let friend: Address = alloy_signer_local::PrivateKeySigner::random().address();
    let stranger = alloy_signer_local::PrivateKeySigner::random().address();
    agent.ok(
        &["session-key", "create"],
        &json!({"alias": "bot", "smart_account": "acc", "light_kdf": true,
                "policies": [{"type": "call", "permissions": [{"target": friend, "valueLimit": "1000"}]}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    let mut env = serde_json::Map::new();
    for (k, v) in &agent.env {
        // The owner's password is not given to the server: it could not unlock the owner
        // key even if it tried.
        if *k != "OWNER_PW" {
            env.insert((*k).to_owned(), json!(v));
        }
    }
    env.insert("NAMERA_HOME".into(), json!(agent.home.path));
    env.insert("PATH".into(), json!(std::env::var("PATH").unwrap_or_default()));
    let plan = json!({
        "transport": "stdio",
        "command": env!("CARGO_BIN_EXE_namera"),
        "args": ["mcp", "start", "--smart-account", "acc", "--session-key", "bot",
                 "--session-password-env", "AGENT_PW"],
        "env": env,
        "calls": [
            {"name": "get_wallet_address", "arguments": {}},
            {"name": "native_transfer", "arguments": {"to": friend.to_string(), "amount": "1000", "unit": "wei"}},
            {"name": "native_transfer", "arguments": {"to": stranger.to_string(), "amount": "1", "unit": "wei"}},
            {"name": "list_permissions", "arguments": {}}
        ]
    });
    let plan_file = agent.home.path.join("plan.json");
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    let client = concat!(env!("CARGO_MANIFEST_DIR"), "/../namera-mcp/tests/client.py");
    let report: Value = parse(py_file(client, &[plan_file.to_str().unwrap()]).as_bytes());
    let names: Vec<&str> =
        report["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for tool in [
        "get_wallet_address",
        "get_balance",
        "native_transfer",
        "execute_transaction",
        "check_transaction",
        "list_permissions",
    ] {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
    let results = report["results"].as_array().unwrap();
    assert_eq!(results[0]["is_error"], false, "{report}");
    assert!(results[0]["text"].as_str().unwrap().contains(&account.to_checksum(None)), "{report}");
    assert_eq!(results[1]["is_error"], false, "{}", results[1]);
    assert_eq!(agent.balance(friend), U256::from(1000));
    assert_eq!(results[2]["is_error"], true, "{}", results[2]);
    assert!(results[2]["text"].as_str().unwrap().contains("call"), "{}", results[2]);
    assert_eq!(agent.balance(stranger), U256::ZERO);
    assert!(results[3]["text"].as_str().unwrap().contains("bot"), "{}", results[3]);
}

#[test]
fn mcp_start_refuses_a_wrong_session_password_before_serving() {
    let agent = Agent::new("mcp-badpw");
    agent.account();
    agent.ok(
        &["session-key", "create"],
        &json!({"alias": "bot", "smart_account": "acc", "light_kdf": true, "policies": [{"type": "sudo"}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    let out = agent.run(
        &["mcp", "start"],
        &json!({"smart_account": "acc", "session_keys": ["bot"], "session_password_env": "OWNER_PW"}),
    );
    assert_exit(&out, 4);
    assert_eq!(error_of(&out)["code"], "wrong-password");
}

/// The original tool's `--session-key KEY=PASSWORD`: accepted, the password treated as
/// a secret (the argv warning, never echoed) and used to unlock the key.
#[test]
fn mcp_start_takes_the_original_tools_key_equals_password_form() {
    let agent = Agent::new("mcp-keypw");
    agent.account();
    agent.ok(
        &["session-key", "create"],
        &json!({"alias": "my-agent-key", "smart_account": "acc", "light_kdf": true,
                "policies": [{"type": "sudo"}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    let env: Vec<(&str, &str)> = agent.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let wrong = agent.home.run(
        &["mcp", "start", "--smart-account", "acc", "--session-key", "my-agent-key=not-the-pw-7"],
        &env,
    );
    assert_exit(&wrong, 4);
    let all =
        format!("{}{}", crate::support::text(&wrong.stdout), crate::support::text(&wrong.stderr));
    assert!(!all.contains("not-the-pw-7"), "{all}");
    assert!(all.contains("argv"), "the argv warning: {all}");
    // The right password: an MCP client is served by the key.
    let mut served_env = serde_json::Map::new();
    for (k, v) in &agent.env {
        served_env.insert((*k).to_owned(), json!(v));
    }
    served_env.insert("NAMERA_HOME".into(), json!(agent.home.path));
    let plan = json!({
        "transport": "stdio",
        "command": env!("CARGO_BIN_EXE_namera"),
        "args": ["mcp", "start", "--smart-account", "acc", "--session-key", "my-agent-key=agent password"],
        "env": served_env,
        "calls": [{"name": "list_permissions", "arguments": {}}]
    });
    let plan_file = agent.home.path.join("plan.json");
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    let client = concat!(env!("CARGO_MANIFEST_DIR"), "/../namera-mcp/tests/client.py");
    let report: Value = parse(py_file(client, &[plan_file.to_str().unwrap()]).as_bytes());
    let result = &report["results"][0];
    assert_eq!(result["is_error"], false, "{report}");
    assert!(result["text"].as_str().unwrap().contains("my-agent-key"), "{report}");
}

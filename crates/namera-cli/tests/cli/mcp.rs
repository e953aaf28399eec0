//! `namera mcp start`: an MCP client (the PyPI `mcp` package's, not ours) uses the
//! account through a session key served from the CLI's store — with the owner's keystore
//! password nowhere in the server's environment.

use alloy_primitives::{Address, U256};
use serde_json::{Value, json};

use crate::{
    agent::{Agent, random_address},
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
    let env = server_env(&agent);
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

/// An agent with a fresh session key (pending its first use, the account not yet
/// deployed) allowed plain transfers to `to`; the environment for `namera mcp start`
/// (no owner password in it).
fn fresh_key_agent(tag: &str, to: Address) -> (Agent, serde_json::Map<String, Value>) {
    let agent = Agent::new(tag);
    agent.account();
    agent.ok(
        &["session-key", "create"],
        &json!({"alias": "bot", "smart_account": "acc", "light_kdf": true,
                "policies": [{"type": "call", "permissions": [{"target": to, "valueLimit": "1000000"}]}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    let env = server_env(&agent);
    (agent, env)
}

/// The environment for `namera mcp start`: the agent's, without the owner's password
/// (the server could not unlock the owner key even if it tried).
fn server_env(agent: &Agent) -> serde_json::Map<String, Value> {
    let mut env = serde_json::Map::new();
    for (k, v) in &agent.env {
        if *k != "OWNER_PW" {
            env.insert((*k).to_owned(), json!(v));
        }
    }
    env.insert("NAMERA_HOME".into(), json!(agent.home.path));
    env.insert("PATH".into(), json!(std::env::var("PATH").unwrap_or_default()));
    env
}

/// `count` transfers to `to` of distinct amounts `base + i` wei, all at once.
fn transfers(to: Address, base: u64, count: u64) -> Vec<Value> {
    (0..count)
        .map(|i| {
            json!({"name": "native_transfer", "arguments": {"to": to.to_string(),
                "amount": (base + i).to_string(), "unit": "wei"}})
        })
        .collect()
}

/// Runs the MCP client on each plan at the same time; their reports.
fn clients_at_once(agent: &Agent, plans: &[Value]) -> Vec<Value> {
    let client = concat!(env!("CARGO_MANIFEST_DIR"), "/../namera-mcp/tests/client.py");
    std::thread::scope(|s| {
        let handles: Vec<_> = plans
            .iter()
            .enumerate()
            .map(|(n, plan)| {
                let file = agent.home.path.join(format!("plan-{n}.json"));
                std::fs::write(&file, plan.to_string()).unwrap();
                s.spawn(move || parse(py_file(client, &[file.to_str().unwrap()]).as_bytes()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Every transfer landed exactly once, none was reported as refused, and the sum arrived.
fn assert_all_landed(agent: &Agent, to: Address, reports: &[Value], amounts: &[u64]) {
    let mut hashes = std::collections::BTreeSet::new();
    for r in reports.iter().flat_map(|r| r["results"].as_array().unwrap()) {
        assert_eq!(r["is_error"], false, "a transfer failed: {r}");
        hashes.insert(r["structured"]["user_op_hash"].as_str().unwrap().to_owned());
    }
    assert_eq!(hashes.len(), amounts.len(), "one UserOperation per request");
    assert_eq!(agent.balance(to), U256::from(amounts.iter().sum::<u64>()));
}

/// Two `namera mcp start` stdio servers on one fresh session key, 25 transfers each, all
/// at once: the first operation (deploys the account, installs the key) is raced by both
/// servers, and their lanes come from the store's lane locks. All 50 land; none is
/// reported as a policy refusal.
#[test]
fn two_stdio_servers_on_one_fresh_key_land_all_fifty() {
    let to = random_address();
    let (agent, env) = fresh_key_agent("mcp-two-stdio", to);
    let plan = |base: u64| {
        json!({"transport": "stdio", "command": env!("CARGO_BIN_EXE_namera"),
            "args": ["mcp", "start", "--smart-account", "acc", "--session-key", "bot",
                     "--session-password-env", "AGENT_PW"],
            "env": env, "concurrent": true, "calls": transfers(to, base, 25)})
    };
    let started = std::time::Instant::now();
    let reports = clients_at_once(&agent, &[plan(1000), plan(2000)]);
    eprintln!("two stdio servers, 50 transfers: {:.1} s", started.elapsed().as_secs_f64());
    let amounts: Vec<u64> = (0..25).map(|i| 1000 + i).chain((0..25).map(|i| 2000 + i)).collect();
    assert_all_landed(&agent, to, &reports, &amounts);
}

/// One HTTP server, two clients, 25 transfers each, all at once, on a fresh key.
#[test]
fn one_http_server_two_clients_land_all_fifty() {
    use std::io::BufRead;
    let to = random_address();
    let (agent, env) = fresh_key_agent("mcp-two-http", to);
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_namera"))
        .args(["mcp", "start", "--smart-account", "acc", "--session-key", "bot"])
        .args(["--session-password-env", "AGENT_PW", "--transport", "http", "--port", "0"])
        .args(["--token-env", "MCP_TOKEN"])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())))
        .env("MCP_TOKEN", "tok")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the server exited before listening").unwrap();
        if let Some(i) = line.find("http://") {
            break line[i..].trim().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let plan = |base: u64| {
        json!({"transport": "http", "url": url, "token": "tok", "concurrent": true,
            "calls": transfers(to, base, 25)})
    };
    let started = std::time::Instant::now();
    let reports = clients_at_once(&agent, &[plan(1000), plan(2000)]);
    eprintln!(
        "one HTTP server, two clients, 50 transfers: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let _ = server.kill();
    let _ = server.wait();
    let amounts: Vec<u64> = (0..25).map(|i| 1000 + i).chain((0..25).map(|i| 2000 + i)).collect();
    assert_all_landed(&agent, to, &reports, &amounts);
}

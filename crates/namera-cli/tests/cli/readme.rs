//! The README's MCP client configurations work as pasted: each block marked
//! `<!-- mcp-config: … -->` is read from README.md, and the server is started exactly as
//! that client would start it (stdio: `command` found on the PATH, `args`, `env`) or
//! reached as it would reach it (HTTP: the README's server command, then the client's URL
//! and `Authorization` header), then used by a real MCP client (the PyPI `mcp` package).
//!
//! Placeholders are filled as the user (or the client: `${VAR}`, `${input:…}`) would
//! fill them. The only change: the HTTP port is 0 (a free one) instead of 8787, so tests
//! running at once do not collide; the clients' URLs get the port actually bound.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use serde_json::{Value, json};

use crate::{
    agent::Agent,
    support::{json as parse, py_file},
};

const SESSION_PASSWORD: &str = "agent password";
const TOKEN: &str = "readme-test-token-5b1c9e";

/// `(name, block)` for every marked block of README.md.
fn marked_blocks() -> Vec<(String, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let mut out = Vec::new();
    let mut rest = readme.as_str();
    while let Some(at) = rest.find("<!-- mcp-config: ") {
        rest = &rest[at + "<!-- mcp-config: ".len()..];
        let name = rest[..rest.find(" -->").unwrap()].to_owned();
        let open = rest.find("```").unwrap();
        let body_start = open + rest[open..].find('\n').unwrap() + 1;
        let body_len = rest[body_start..].find("```").unwrap();
        out.push((name, rest[body_start..body_start + body_len].to_owned()));
        rest = &rest[body_start + body_len..];
    }
    out
}

/// What the user, or the client, puts in place of each placeholder.
fn fill(text: &str) -> String {
    text.replace("<the session key's password>", SESSION_PASSWORD)
        .replace("${NAMERA_BOT_PASSWORD}", SESSION_PASSWORD)
        .replace("${input:namera-bot-password}", SESSION_PASSWORD)
        .replace("<a long random token>", TOKEN)
        .replace("<the token>", TOKEN)
        .replace("${MCP_TOKEN}", TOKEN)
        .replace("${input:namera-token}", TOKEN)
}

/// The server entry of a client configuration (`mcpServers`, or VS Code's `servers`).
fn server_entry(config: &Value) -> &Value {
    let servers = config.get("mcpServers").or_else(|| config.get("servers"));
    let entry = &servers.expect("a servers map")["namera"];
    assert!(entry.is_object(), "a `namera` server in {config}");
    entry
}

fn client(agent: &Agent, plan: &Value) -> Value {
    let file = agent.home.path.join("readme-plan.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../namera-mcp/tests/client.py");
    parse(py_file(script, &[file.to_str().unwrap()]).as_bytes())
}

fn assert_served(name: &str, report: &Value, account: &str) {
    let results = report["results"].as_array().unwrap_or_else(|| panic!("{name}: {report}"));
    assert_eq!(results[0]["is_error"], false, "{name}: {report}");
    assert!(results[0]["text"].as_str().unwrap().contains(account), "{name}: {report}");
    assert_eq!(results[1]["is_error"], false, "{name}: {report}");
    assert!(results[1]["text"].as_str().unwrap().contains("bot"), "{name}: {report}");
}

#[test]
fn every_mcp_client_configuration_in_the_readme_works_as_pasted() {
    let blocks = marked_blocks();
    let names: Vec<&str> = blocks.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "claude-desktop stdio",
        "claude-code stdio",
        "cursor stdio",
        "vscode stdio",
        "http-server",
        "claude-code http",
        "cursor http",
        "vscode http",
    ] {
        assert!(names.contains(&expected), "README lacks {expected}: {names:?}");
    }
    let agent = Agent::new("readme");
    let account = agent.account().to_checksum(None);
    agent.ok(
        &["session-key", "create"],
        &json!({"alias": "bot", "smart_account": "acc", "light_kdf": true,
                "policies": [{"type": "call", "permissions": [{"target": "0x0000000000000000000000000000000000000001"}]}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    // `namera` found on the PATH, as the configurations expect.
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_namera")).parent().unwrap().to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    // The machine's part of the environment: where the store and the devnet are.
    let machine = |env: &mut serde_json::Map<String, Value>| {
        env.insert("PATH".into(), json!(path));
        env.insert("NAMERA_HOME".into(), json!(agent.home.path));
        for (k, v) in &agent.env {
            if k.starts_with("LOCAL_") {
                env.insert((*k).to_owned(), json!(v));
            }
        }
    };
    let calls = json!([{"name": "get_wallet_address", "arguments": {}},
                       {"name": "list_permissions", "arguments": {}}]);

    for (name, block) in blocks.iter().filter(|(n, _)| n.ends_with(" stdio")) {
        let config: Value =
            serde_json::from_str(&fill(block)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let server = server_entry(&config);
        assert!(server.get("type").is_none_or(|t| t == "stdio"), "{name}");
        assert_eq!(server["command"], "namera", "{name}");
        let mut env = server["env"].as_object().cloned().unwrap_or_default();
        machine(&mut env);
        let plan = json!({"transport": "stdio", "command": server["command"], "args": server["args"],
                          "env": env, "calls": calls});
        assert_served(name, &client(&agent, &plan), &account);
    }

    // HTTP: the README's server command (variables before it, backslash continuations),
    // with a free port instead of 8787.
    // Placeholders hold spaces: they become single words first, and are filled per word.
    let command = blocks
        .iter()
        .find(|(n, _)| n == "http-server")
        .unwrap()
        .1
        .replace("<a long random token>", "@TOKEN@")
        .replace("<the session key's password>", "@PASSWORD@")
        .replace("\\\n", " ")
        .replace("--port 8787", "--port 0");
    let filled: Vec<String> = command
        .split_whitespace()
        .map(|w| w.replace("@TOKEN@", TOKEN).replace("@PASSWORD@", SESSION_PASSWORD))
        .collect();
    let mut words = filled.iter().map(String::as_str);
    let mut env = serde_json::Map::new();
    machine(&mut env);
    let mut program = None;
    for w in words.by_ref() {
        match w.split_once('=') {
            Some((k, v))
                if program.is_none() && k.chars().all(|c| c.is_ascii_uppercase() || c == '_') =>
            {
                env.insert(k.to_owned(), json!(v));
            }
            _ => {
                program = Some(w.to_owned());
                break;
            }
        }
    }
    let rest: Vec<String> = words.map(str::to_owned).collect();
    assert_eq!(program.as_deref(), Some("namera"));
    let mut server = Command::new("namera")
        .args(&rest)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut url = None;
    for _ in 0..50 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(at) = line.find("http://") {
            url = Some(line[at..].trim().trim_end_matches(['"', '}']).to_owned());
            break;
        }
    }
    let url = url.expect("the server says where it listens");
    let port = url.trim_start_matches("http://").split(['/', ':']).nth(1).unwrap().to_owned();
    for (name, block) in blocks.iter().filter(|(n, _)| n.ends_with(" http")) {
        let config: Value =
            serde_json::from_str(&fill(block)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let entry = server_entry(&config);
        let client_url = entry["url"].as_str().unwrap().replace(":8787", &format!(":{port}"));
        let header = entry["headers"]["Authorization"].as_str().unwrap();
        let token = header.strip_prefix("Bearer ").unwrap_or_else(|| panic!("{name}: {header}"));
        let plan = json!({"transport": "http", "url": client_url, "token": token, "calls": calls});
        assert_served(name, &client(&agent, &plan), &account);
    }
    let _ = server.kill();
    let _ = server.wait();
}

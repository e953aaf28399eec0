//! `namera devnet`: each runs the real executable in a separate
//! process, as a user or a script would, so the state file is what carries a devnet from
//! `up` to `status`, `env` and `down`.
//!
//! Devnets started here get names of their own (`cli-test-<pid>-…`), which isolates their
//! state files and logs while the tool cache stays the shared default one (≈435 MB, filled
//! once per machine or CI cache; see namera-devnet's README). A guard stops each devnet
//! when its test ends, passed or not.

use std::process::Command;

use alloy_primitives::{Address, U256, address};
use namera::{node::NodeClient, rpc::RpcClient};
use namera_devnet::{DevnetState, DownReport, Status, canonical_contracts};

use crate::support::{
    DownOnDrop, Home, assert_exit, assert_result_valid, json, namera, text, unique,
};

#[test]
fn devnet_up_status_env_down_across_processes() {
    let name = unique("life");
    let _guard = DownOnDrop(name.clone());
    let select = ["--name", name.as_str()];

    let out =
        namera(&[&["devnet", "up", "--chain-id", "31338", "-o", "json"][..], &select].concat());
    assert_exit(&out, 0);
    assert_result_valid("devnet.up", "json", &out.stdout);
    let state: DevnetState = serde_json::from_value(json(&out.stdout)).unwrap();
    assert_eq!(state.name, name);
    assert_eq!(state.chain_id, 31338);
    assert!(state.rpc_url.starts_with("http://127.0.0.1:"), "{}", state.rpc_url);

    // A second `up` from another process reuses the running devnet.
    let out =
        namera(&[&["devnet", "up", "--chain-id", "31338", "-o", "json"][..], &select].concat());
    assert_exit(&out, 0);
    let again: DevnetState = serde_json::from_value(json(&out.stdout)).unwrap();
    assert_eq!(again.anvil.pid, state.anvil.pid);

    let out = namera(&[&["devnet", "status", "-o", "json"][..], &select].concat());
    assert_exit(&out, 0);
    assert_result_valid("devnet.status", "json", &out.stdout);
    let raw = json(&out.stdout);
    assert_eq!(raw["rpc_url"], state.rpc_url.as_str());
    assert_eq!(raw["bundler_url"], state.bundler_url.as_str());
    let status: Status = serde_json::from_value(raw).unwrap();
    let expected = canonical_contracts(&state.placement);
    assert!(expected.len() > 4, "the plugin contracts were not placed: {expected:?}");
    let shown: Vec<_> = status.contracts.iter().map(|c| (c.name.clone(), c.address)).collect();
    assert_eq!(shown, expected);
    let missing: Vec<_> = status.contracts.iter().filter(|c| c.has_code != Some(true)).collect();
    assert!(missing.is_empty(), "no code at {missing:?}");
    assert!(status.is_complete(), "{status:?}");

    let out = namera(&[&["devnet", "status"][..], &select].concat());
    assert_exit(&out, 0);
    let pretty = text(&out.stdout);
    for (contract, address) in &expected {
        assert!(pretty.contains(contract.as_str()), "{pretty}");
        assert!(pretty.contains(&address.to_string()), "{pretty}");
    }

    let out = namera(&[&["devnet", "env"][..], &select].concat());
    assert_exit(&out, 0);
    let env = text(&out.stdout);
    assert_eq!(
        env,
        format!(
            "export LOCAL_RPC_URL={}\nexport LOCAL_BUNDLER_URL={}\nexport LOCAL_CHAIN_ID=31338\n",
            state.rpc_url, state.bundler_url
        )
    );
    let out = namera(&[&["devnet", "env", "-o", "json"][..], &select].concat());
    assert_exit(&out, 0);
    assert_result_valid("devnet.env", "json", &out.stdout);
    let vars = json(&out.stdout);
    assert_eq!(vars["LOCAL_RPC_URL"], state.rpc_url.as_str());
    assert_eq!(vars["LOCAL_BUNDLER_URL"], state.bundler_url.as_str());

    a_devnet_on_its_own_chain_id_is_used_after_eval(&name, &state);

    let out = namera(&[&["devnet", "down", "-o", "json"][..], &select].concat());
    assert_exit(&out, 0);
    assert_result_valid("devnet.down", "json", &out.stdout);
    let report: DownReport = serde_json::from_value(json(&out.stdout)).unwrap();
    assert!(report.stopped.contains(&state.anvil.pid), "{report:?}");
    assert!(report.stopped.contains(&state.bundler.pid), "{report:?}");
    assert!(report.still_running.is_empty(), "{report:?}");

    let out = namera(&[&["devnet", "status", "-o", "json"][..], &select].concat());
    assert_exit(&out, 3);
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let error = json(&out.stderr);
    assert_eq!(error["error"]["code"], "devnet-not-running", "{error}");
    assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains(&name)), "{error}");
    assert!(error["error"]["hint"].as_str().is_some_and(|h| h.contains("namera devnet up")));
}

/// `eval "$(namera devnet env …)"` exports the devnet's endpoints and chain id to the
/// commands the shell runs next: `local` then means chain 31338, and an operation lands
/// there (signed for 31338: the owner's signature covers the chain id).
fn a_devnet_on_its_own_chain_id_is_used_after_eval(name: &str, state: &DevnetState) {
    let home = Home::new("custom-chain");
    let bin = env!("CARGO_BIN_EXE_namera");
    let shell = |commands: &str| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                r#"set -e; vars="$("$NAMERA" devnet env --name {name})"; eval "$vars"; {commands}"#
            ))
            .env("NAMERA", bin)
            // The devnet's state sits in the tool cache, which a test home would move.
            .env("NAMERA_DEVNET_HOME", namera_devnet::default_home())
            .env("NAMERA_HOME", &home.path)
            .env("PW", "owner password 1")
            .env_remove("LOCAL_RPC_URL")
            .env_remove("LOCAL_BUNDLER_URL")
            .env_remove("LOCAL_CHAIN_ID")
            .output()
            .unwrap();
        assert_exit(&out, 0);
        json(&out.stdout)
    };
    let account = shell(
        r#""$NAMERA" keystore create -o json --params '{"alias":"owner","password_env":"PW","light_kdf":true}' >/dev/null
           "$NAMERA" smart-account create -o json --params '{"alias":"acc","keystore":"owner","chains":["local"]}'"#,
    );
    let address: Address = account["account"]["address"].as_str().unwrap().parse().unwrap();
    let rpc = RpcClient::new(&state.rpc_url);
    namera_devnet::anvil::set_balance(&rpc, address, U256::from(10u64.pow(18))).unwrap();
    let recipient = address!("0x000000000000000000000000000000000000bEEF");
    let before = NodeClient::new(rpc.clone()).balance(recipient).unwrap();
    let sent = shell(
        r#""$NAMERA" tx send -o json --params '{"smart_account":"acc","chain":"local","calls":[{"to":"0x000000000000000000000000000000000000bEEF","value":"1234"}],"password_env":"PW"}'"#,
    );
    assert_eq!(sent["success"], true, "{sent}");
    assert_eq!(sent["chain"], "local", "{sent}");
    let after = NodeClient::new(rpc).balance(recipient).unwrap();
    assert_eq!(after - before, U256::from(1234));
    // The chain list says where `local` is now.
    let chains = shell(r#""$NAMERA" config chains -o json"#);
    let local = chains.as_array().unwrap().iter().find(|c| c["alias"] == "local").unwrap();
    assert_eq!(
        (local["chain_id"].as_u64(), local["endpoints"].as_str()),
        (Some(31338), Some("env"))
    );
}

#[test]
fn a_devnet_that_never_ran_is_not_found() {
    let name = unique("never");
    let out = namera(&["devnet", "status", "--name", &name]);
    assert_exit(&out, 3);
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(&format!("hint: start it with `namera devnet up --name {name}`")));
    for command in ["env", "down"] {
        let out = namera(&["devnet", command, "--name", &name, "-o", "ndjson"]);
        assert_exit(&out, 3);
        assert_eq!(json(&out.stderr)["error"]["code"], "devnet-not-running");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["devnet", "bogus"][..],
        &["--bogus"],
        &["devnet", "status", "--bogus"],
        &["devnet", "status", "--chain-id", "0"],
        &["devnet", "status", "--chain-id", "x"],
        &["-o", "yaml", "devnet", "status"],
        &[],
    ] {
        let out = namera(args);
        assert_exit(&out, 2);
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    }
    // A name the devnet rejects is bad input too.
    assert_exit(&namera(&["devnet", "status", "--name", "../escape"]), 2);

    let out = namera(&["-o", "json", "devnet", "bogus"]);
    assert_exit(&out, 2);
    let error = json(&out.stderr);
    assert_eq!(error["error"]["code"], "unknown-command", "{error}");
    assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains("bogus")), "{error}");
}

#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["devnet", "--help"], &["devnet", "up", "-h"], &["help"]] {
        let out = namera(args);
        assert_exit(&out, 0);
        assert!(text(&out.stdout).contains("Usage"), "{args:?}");
    }
    let out = namera(&["--version"]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).starts_with("namera "));
}

/// A malformed `NAMERA_PLUGIN_ARTIFACTS` file stops `up` before anything starts: exit 2, the
/// file and the bad entry named, no devnet recorded.
#[test]
fn a_bad_plugin_artifacts_file_is_refused() {
    let name = unique("override");
    let dir = std::env::temp_dir().join(format!("namera-cli-override-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("not-json.json", "{", "not JSON"),
        (
            "lowercase.json",
            r#"{"0x845adb2c711129d4f3966735ed98a9f09fc4ce57": "0x60"}"#,
            "is not checksummed (EIP-55: 0x845ADb2C711129d4f3966735eD98a9F09fC4cE57)",
        ),
        (
            "bad-hex.json",
            r#"{"0x845ADb2C711129d4f3966735eD98a9F09fC4cE57": "0xzz"}"#,
            "not valid hex",
        ),
    ];
    for (file, content, reason) in cases {
        let path = dir.join(file);
        std::fs::write(&path, content).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_namera"))
            .args(["devnet", "up", "--name", &name, "-o", "json"])
            .env("NAMERA_PLUGIN_ARTIFACTS", &path)
            .output()
            .expect("the namera binary should start");
        assert_exit(&out, 2);
        let error = json(&out.stderr);
        assert_eq!(error["error"]["code"], "bad-plugin-artifacts", "{error}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(file) && message.contains(reason), "{file}: {message}");
    }
    let out = namera(&["devnet", "status", "--name", &name]);
    assert_exit(&out, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

//! The agent's way: `--params` and `-o json` only, against the devnet (real anvil, real
//! Alto, real Kernel): keystore → smart account → session key (two policies) → an allowed
//! transfer lands → a forbidden one is refused by the chain (exit 6, the policy named) →
//! revoke → refused again. Balances are read from the chain after each step.

use alloy_primitives::{Address, U256};
use namera::{node::NodeClient, rpc::RpcClient};
use serde_json::{Value, json};

use crate::support::{Home, assert_exit, assert_result_valid, error_of, json as parse};

pub(crate) struct Agent {
    pub(crate) home: Home,
    pub(crate) env: Vec<(&'static str, String)>,
    node: NodeClient,
}

impl Agent {
    pub(crate) fn new(tag: &str) -> Self {
        let devnet = namera_devnet::testing::shared();
        Self {
            home: Home::new(tag),
            env: vec![
                ("LOCAL_RPC_URL", devnet.rpc_url.clone()),
                ("LOCAL_BUNDLER_URL", devnet.bundler_url.clone()),
                ("OWNER_PW", "owner password".into()),
                ("AGENT_PW", "agent password".into()),
            ],
            node: NodeClient::new(RpcClient::new(&devnet.rpc_url)),
        }
    }

    /// `namera <command> --params <params> -o json`; whatever it prints on stdout (also
    /// when it fails, as `policy check` does) must conform to the command's published
    /// result schema.
    pub(crate) fn run(&self, command: &[&str], params: &Value) -> std::process::Output {
        let params = params.to_string();
        let mut args = command.to_vec();
        args.extend(["--params", &params, "-o", "json"]);
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = self.home.run(&args, &env);
        if !out.stdout.is_empty() {
            // `schema` and `quickstart` are commands of one word; the rest are two.
            let name = match command {
                [one @ ("schema" | "quickstart"), ..] => (*one).to_owned(),
                words => words[..2].join("."),
            };
            assert_result_valid(&name, "json", &out.stdout);
        }
        out
    }

    pub(crate) fn ok(&self, command: &[&str], params: &Value) -> Value {
        let out = self.run(command, params);
        assert_exit(&out, 0);
        parse(&out.stdout)
    }

    /// The devnet's node RPC.
    pub(crate) fn rpc(&self) -> &RpcClient {
        self.node.rpc()
    }

    pub(crate) fn balance(&self, who: Address) -> U256 {
        self.node.balance(who).unwrap()
    }

    /// Owner keystore and a funded account on the devnet.
    pub(crate) fn account(&self) -> Address {
        self.ok(
            &["keystore", "create"],
            &json!({"alias": "owner", "light_kdf": true, "password_env": "OWNER_PW"}),
        );
        let made = self.ok(
            &["smart-account", "create"],
            &json!({"alias": "acc", "keystore": "owner", "chains": ["local"]}),
        );
        let address: Address = made["account"]["address"].as_str().unwrap().parse().unwrap();
        self.fund(address);
        address
    }

    /// Gives `address` 1 ETH on the devnet.
    pub(crate) fn fund(&self, address: Address) {
        let _: Value = self
            .node
            .rpc()
            .call("anvil_setBalance", json!([address, U256::from(10u64).pow(U256::from(18))]))
            .unwrap();
    }
}

pub(crate) fn random_address() -> Address {
    Address::from(rand_bytes())
}

fn rand_bytes() -> [u8; 20] {
    alloy_signer_local::PrivateKeySigner::random().address().0.0
}

#[test]
fn agent_run_with_params_and_json_only() {
    let agent = Agent::new("agent");
    let account = agent.account();
    let (friend, stranger) = (random_address(), random_address());

    let key = agent.ok(
        &["session-key", "create"],
        &json!({
            "alias": "bot", "smart_account": "acc", "chains": ["local"], "light_kdf": true,
            "policies": [
                {"type": "call", "permissions": [{"target": friend, "valueLimit": "1000"}]},
                {"type": "gas", "allowed": "50000000000000000"}
            ],
            "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"
        }),
    );
    assert_eq!(key["account"], account.to_checksum(None));
    assert_eq!(key["policies"].as_array().unwrap().len(), 2);
    let record = agent.home.path.join("session-keys/bot.json");
    assert!(record.exists());
    let status = agent.ok(&["session-key", "status"], &json!({"alias": "bot"}));
    assert_eq!(status["chains"][0]["state"], "pending-first-use");

    // Explain says yes and no before anything is sent.
    let check = agent.ok(
        &["policy", "check"],
        &json!({"session_key": "bot", "calls": [{"to": friend, "value": "1000"}]}),
    );
    assert_eq!(check["passes"], true, "{check}");
    let out = agent.run(
        &["policy", "check"],
        &json!({"session_key": "bot", "calls": [{"to": stranger, "value": "1"}]}),
    );
    assert_exit(&out, 6);
    assert_eq!(error_of(&out)["policy"], "call");
    assert_eq!(parse(&out.stdout)["policies"][0]["passes"], false);

    // Allowed: lands (and deploys the account, and installs the key).
    let sent = agent.ok(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "bot", "chain": "local",
                "calls": [{"to": friend, "value": "1000"}], "password_env": "AGENT_PW"}),
    );
    assert_eq!(sent["success"], true, "{sent}");
    assert!(sent["transaction"].as_str().unwrap().starts_with("0x"));
    assert_eq!(agent.balance(friend), U256::from(1000));
    let status = agent.ok(&["session-key", "status"], &json!({"alias": "bot"}));
    assert_eq!(status["chains"][0]["state"], "installed", "{status}");

    // Forbidden by the call policy: the chain refuses, exit 6 names the policy.
    for (to, value) in [(stranger, "1"), (friend, "1001")] {
        let out = agent.run(
            &["tx", "send"],
            &json!({"smart_account": "acc", "session_key": "bot", "chain": "local",
                    "calls": [{"to": to, "value": value}], "password_env": "AGENT_PW"}),
        );
        assert_exit(&out, 6);
        let error = error_of(&out);
        assert_eq!(error["code"], "policy-refused", "{error}");
        assert_eq!(error["policy"], "call", "{error}");
    }
    assert_eq!(agent.balance(stranger), U256::ZERO);
    assert_eq!(agent.balance(friend), U256::from(1000));

    // Wrong session password: exit 4, nothing sent.
    let out = agent.home.run(
        &[
            "tx",
            "send",
            "--smart-account",
            "acc",
            "--session-key",
            "bot",
            "--to",
            &friend.to_string(),
            "--value",
            "1",
            "--password-env",
            "OWNER_PW",
            "-o",
            "json",
        ],
        &agent.env.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
    );
    assert_exit(&out, 4);

    // Revoke (owner-signed), then the same allowed transfer is refused.
    let revoked =
        agent.ok(&["session-key", "revoke"], &json!({"alias": "bot", "password_env": "OWNER_PW"}));
    assert_eq!(revoked["chains"][0]["outcome"], "revoked", "{revoked}");
    let status = agent.ok(&["session-key", "status"], &json!({"alias": "bot"}));
    assert_eq!(status["chains"][0]["state"], "uninstalled");
    let out = agent.run(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "bot", "chain": "local",
                "calls": [{"to": friend, "value": "1000"}], "password_env": "AGENT_PW"}),
    );
    assert_exit(&out, 6);
    assert_eq!(error_of(&out)["code"], "key-revoked");
    assert_eq!(agent.balance(friend), U256::from(1000));
}

#[test]
fn batches_lanes_export_import_and_revoke_all() {
    let agent = Agent::new("batch");
    agent.account();
    let (a, b) = (random_address(), random_address());
    // Owner batches on two lanes: both land.
    let results = agent.ok(
        &["tx", "batch"],
        &json!({"smart_account": "acc", "password_env": "OWNER_PW", "batches": [
            {"chain": "local", "lane": "payroll", "calls": [{"to": a, "value": "7"}, {"to": b, "value": "8"}]},
            {"chain": "local", "lane": 9, "calls": [{"to": a, "value": "10"}]}
        ]}),
    );
    assert_eq!(results.as_array().unwrap().len(), 2);
    assert!(results.as_array().unwrap().iter().all(|r| r["success"] == true), "{results}");
    assert_eq!(agent.balance(a), U256::from(17));
    assert_eq!(agent.balance(b), U256::from(8));

    // A sudo key, exported and imported into another home (the agent's machine, which
    // has no owner key at all), still works there.
    agent.ok(
        &["session-key", "create"],
        &json!({"alias": "k", "smart_account": "acc", "light_kdf": true, "policies": [{"type": "sudo"}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    let exported = agent
        .ok(&["session-key", "export"], &json!({"alias": "k", "session_password_env": "AGENT_PW"}));
    let serialized = exported[0]["serialized"].as_str().unwrap().to_owned();
    let elsewhere =
        Agent { home: Home::new("elsewhere"), env: agent.env.clone(), node: agent.node.clone() };
    elsewhere.ok(
        &["session-key", "import"],
        &json!({"alias": "k", "smart_account": "acc", "light_kdf": true,
                "keys": [{"chain": "local", "serialized": serialized}], "session_password_env": "AGENT_PW"}),
    );
    let sent = elsewhere.ok(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "k", "calls": [{"to": b, "value": "5"}], "password_env": "AGENT_PW"}),
    );
    assert_eq!(agent.balance(b), U256::from(13));
    // Without --lane, the send took a lane of a block leased from the store (as an MCP
    // server on the key does), never the low lanes others pick by number.
    let lane = sent["lane"].as_u64().unwrap();
    assert!(lane >= 64, "{sent}");
    let account = agent.ok(&["smart-account", "info"], &json!({"alias": "acc"}))["address"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let lock = elsewhere.home.path.join("lanes").join(account).join(format!("{}.lock", lane / 64));
    assert!(lock.is_file(), "no lease at {}", lock.display());

    // revoke-all from the owner's home: the imported key is dead too.
    agent.ok(
        &["session-key", "revoke-all"],
        &json!({"smart_account": "acc", "yes": true, "password_env": "OWNER_PW"}),
    );
    let out = elsewhere.run(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "k", "calls": [{"to": b, "value": "5"}], "password_env": "AGENT_PW"}),
    );
    assert_exit(&out, 6);
    assert_eq!(agent.balance(b), U256::from(13));

    // The read-only views, and removal (local only; refused while keys depend on it).
    let accounts = agent.ok(&["smart-account", "list"], &json!({}));
    assert_eq!(accounts[0]["alias"], "acc");
    let info = agent.ok(&["smart-account", "info"], &json!({"alias": "acc"}));
    assert_eq!(info["owner_keystore"], "owner");
    let status = agent.ok(&["smart-account", "status"], &json!({"alias": "acc"}));
    assert_eq!(status["chains"][0]["deployed"], true);
    let keys = agent.ok(&["session-key", "list"], &json!({"smart_account": "acc"}));
    assert_eq!(keys[0]["alias"], "k");
    let info = agent.ok(&["session-key", "info"], &json!({"alias": "k"}));
    assert_eq!(info["policies_in_words"][0], "sudo: anything the owner could do");
    let public = agent.ok(&["session-key", "export"], &json!({"alias": "k", "public": true}));
    assert!(public[0]["serialized"].as_str().unwrap().len() > 100);
    let status = agent.ok(&["session-key", "status"], &json!({"alias": "k"}));
    assert_eq!(status["chains"][0]["state"], "invalidated", "{status}");
    let out = agent.run(&["smart-account", "remove"], &json!({"alias": "acc", "yes": true}));
    assert_exit(&out, 2);
    assert_eq!(error_of(&out)["code"], "in-use");
    agent.ok(&["session-key", "remove"], &json!({"alias": "k", "yes": true}));
    agent.ok(&["smart-account", "remove"], &json!({"alias": "acc", "yes": true}));
    assert_eq!(agent.ok(&["smart-account", "list"], &json!({})), json!([]));
}

#[test]
fn session_key_create_writes_nothing_when_a_chain_is_unreachable() {
    let agent = Agent::new("halfmade");
    agent.ok(
        &["keystore", "create"],
        &json!({"alias": "owner", "light_kdf": true, "password_env": "OWNER_PW"}),
    );
    agent.ok(
        &["smart-account", "create"],
        &json!({"alias": "acc", "keystore": "owner", "chains": ["local", "base-sepolia"]}),
    );
    let mut env = agent.env.clone();
    env.push(("BASE_SEPOLIA_RPC_URL", "http://127.0.0.1:9".into()));
    env.push(("BASE_SEPOLIA_BUNDLER_URL", "http://127.0.0.1:9".into()));
    let unreachable =
        Agent { home: Home { path: agent.home.path.clone() }, env, node: agent.node.clone() };
    let before = agent.home.snapshot();
    let out = unreachable.run(
        &["session-key", "create"],
        &json!({"alias": "k", "smart_account": "acc", "light_kdf": true, "policies": [{"type": "sudo"}],
                "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    assert_exit(&out, 5);
    assert!(error_of(&out)["message"].as_str().unwrap().contains("127.0.0.1:9"));
    assert_eq!(agent.home.snapshot(), before, "a half-made key was written");
    // `unreachable` shares the home; keep it from deleting it twice.
    std::mem::forget(unreachable);
}

#[test]
fn quickstart_tells_the_whole_story_with_evidence() {
    let agent = Agent::new("quickstart");
    let out = agent.run(&["quickstart"], &json!({}));
    assert_exit(&out, 0);
    let steps = parse(&out.stdout);
    let names: Vec<&str> =
        steps.as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "owner key",
            "account",
            "funded",
            "session key",
            "allowed",
            "forbidden",
            "revoke",
            "refused",
            "evidence"
        ]
    );
    let step =
        |name: &str| steps.as_array().unwrap().iter().find(|s| s["step"] == name).unwrap().clone();
    assert!(step("allowed")["transaction"].as_str().unwrap().starts_with("0x"));
    assert!(step("forbidden")["said"].as_str().unwrap().contains("call policy"), "{steps}");
    assert!(step("revoke")["said"].as_str().unwrap().contains("revoked"), "{steps}");
    assert!(step("refused")["said"].as_str().unwrap().contains("revoked"), "{steps}");
    assert!(
        step("evidence")["said"]
            .as_str()
            .unwrap()
            .contains("holds 0.0001 ETH and the stranger 0.0 ETH"),
        "{steps}"
    );
}

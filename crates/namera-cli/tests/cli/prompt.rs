//! A person at a terminal: `session-key create` without policies asks for them step by
//! step — a call policy from an ABI file and a function picker, a condition per argument,
//! then a summary to confirm. Driven through a real pseudo-terminal by Python's pexpect.

use serde_json::json;

use crate::{
    agent::Agent,
    support::{json as parse, py},
};

const TOKEN_ABI: &str = r#"[
  {"type":"function","name":"transfer","stateMutability":"nonpayable",
   "inputs":[{"name":"to","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[{"type":"bool"}]},
  {"type":"function","name":"approve","stateMutability":"nonpayable",
   "inputs":[{"name":"spender","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[{"type":"bool"}]}
]"#;

/// Runs `namera session-key create --alias <alias>` on the agent's account (passwords from
/// its environment, then `extra`) at a pseudo-terminal and plays `dialogue`: Python over
/// pexpect, with `child`, `step(prompt, keys)`, `DOWN` and `values` (the strings of
/// `values`) at hand. Returns what the terminal showed, ending in `EXIT <code>`.
fn create_at_terminal(
    agent: &Agent,
    alias: &str,
    extra: &[&str],
    values: &[&str],
    dialogue: &str,
) -> String {
    let mut env = serde_json::Map::new();
    for (k, v) in &agent.env {
        env.insert((*k).to_owned(), json!(v));
    }
    env.insert("NAMERA_HOME".into(), json!(agent.home.path));
    let mut args = vec!["session-key", "create", "--alias", alias, "--smart-account", "acc"];
    args.extend([
        "--light-kdf",
        "--password-env",
        "OWNER_PW",
        "--session-password-env",
        "AGENT_PW",
    ]);
    args.extend(extra);
    let script = format!(
        r#"
import json, os, sys, pexpect
binary, env, args, values = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4:]
full_env = dict(os.environ); full_env.update(env); full_env["TERM"] = "xterm"
child = pexpect.spawn(binary, args, env=full_env, encoding="utf-8", timeout=60, dimensions=(40, 200))
child.logfile_read = sys.stderr
DOWN = "\x1b[B"
def step(prompt, keys):
    child.expect_exact(prompt)
    child.send(keys)
{dialogue}
child.expect(pexpect.EOF)
child.close()
print("EXIT", child.exitstatus)
"#
    );
    let (env, args) = (serde_json::Value::Object(env).to_string(), json!(args).to_string());
    let mut argv = vec![env!("CARGO_BIN_EXE_namera"), env.as_str(), args.as_str()];
    argv.extend(values);
    py(&script, &argv)
}

#[test]
fn a_call_policy_is_built_at_the_prompt() {
    let agent = Agent::new("pty");
    agent.account();
    let abi = agent.home.path.join("token.abi.json");
    std::fs::write(&abi, TOKEN_ABI).unwrap();
    let token = "0x1111111111111111111111111111111111111111";
    let friend = "0x2222222222222222222222222222222222222222";
    let dialogue = r#"
token, abi, friend = values
step("Add a policy:", "\r")                               # call
step("Contract (or recipient) address:", token + "\r")
step("Most value one call may send:", "0\r")
step("Pick a function from an ABI file?", "y\r")
step("ABI file (JSON):", abi + "\r")
step("Function:", "\r")                                   # transfer(address,uint256)
step("Argument to (address):", DOWN + "\r")               # EQUAL
step("Value:", friend + "\r")
step("Argument amount (uint256):", DOWN * 4 + "\r")       # LESS_THAN_OR_EQUAL
step("Value:", "100\r")
child.expect_exact("added: calls: only transfer()")
step("Add another policy", "done\r")
child.expect_exact("Create the session key with these policies?")
child.send("\r")
child.expect_exact("created session key typed")
"#;
    let values = [token, abi.to_str().unwrap(), friend];
    let report = create_at_terminal(&agent, "typed", &[], &values, dialogue);
    assert!(report.contains("EXIT 0"), "{report}");
    let record = parse(&std::fs::read(agent.home.path.join("session-keys/typed.json")).unwrap());
    let policy = &record["policies"][0];
    assert_eq!(policy["type"], "call");
    let permission = &policy["permissions"][0];
    assert_eq!(permission["target"].as_str().unwrap().to_lowercase(), token);
    assert_eq!(permission["functionName"], "transfer");
    // The record keeps the SDK's serialized form: conditions by number (EQUAL = 0,
    // LESS_THAN_OR_EQUAL = 4).
    assert_eq!(permission["args"][0]["condition"], 0, "{permission}");
    assert_eq!(permission["args"][0]["value"].as_str().unwrap().to_lowercase(), friend);
    assert_eq!(permission["args"][1]["condition"], 4, "{permission}");
    assert_eq!(permission["args"][1]["value"], "100", "{permission}");
}

#[test]
fn no_prompt_without_a_terminal() {
    let agent = Agent::new("notty");
    agent.account();
    // The same command with stdin not a terminal: an exit-2 error listing what is missing.
    let out = agent.run(
        &["session-key", "create"],
        &json!({"alias": "k", "smart_account": "acc", "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    crate::support::assert_exit(&out, 2);
    let error = crate::support::error_of(&out);
    assert_eq!(error["code"], "missing-input");
    assert!(error["message"].as_str().unwrap().contains("\"policies\""), "{error}");
}

/// At a terminal, a key whose window already ended (or with no call policy) is shown
/// to the owner with the warning and needs a yes; a no writes nothing.
#[test]
fn an_ended_window_asks_the_owner_to_confirm() {
    let agent = Agent::new("pty-warn");
    agent.account();
    let dialogue = r#"
child.expect_exact("the time window ended")
child.expect_exact("no call policy")
child.expect_exact("Create the session key anyway?")
child.send("n\r")
"#;
    let window = ["--policy", r#"{"type":"timestamp","validUntil":1000}"#];
    let report = create_at_terminal(&agent, "late", &window, &[], dialogue);
    assert!(report.contains("EXIT 1"), "cancelled: {report}");
    assert!(!agent.home.path.join("session-keys/late.json").exists());
}

/// At the prompt a spending limit may be written for people ("0.5 ETH"): the symbol is
/// checked against the key's chain (a wrong one is named, and asked again) and the amount
/// is stored in base units, shown both ways.
#[test]
fn a_spending_limit_is_written_with_its_symbol_at_the_prompt() {
    let agent = Agent::new("pty-budget");
    agent.account();
    let dialogue = r#"
step("Add a policy:", DOWN * 4 + "\r")                    # spending limit
step("Token:", "\r")                                      # native
step("At most how much per period?", "0.5 DOGE\r")
child.expect_exact('is "ETH" on ')
child.expect_exact(', not "DOGE"')
step("At most how much per period?", "0.5 ETH\r")
child.expect_exact("0.5 ETH = 500000000000000000 base units")
step("How long is a period?", "1h\r")
step("Shared budget name", "\r")
child.expect_exact("added: budget: at most ")
step("Add another policy", "done\r")
step("Create the session key with these policies?", "\r")
child.expect_exact("created session key capped")
"#;
    let report = create_at_terminal(&agent, "capped", &[], &[], dialogue);
    assert!(report.contains("EXIT 0"), "{report}");
    let record = parse(&std::fs::read(agent.home.path.join("session-keys/capped.json")).unwrap());
    // Stored as the SDK serializes a budget policy, the amount in base units.
    let policy = &record["policies"][0];
    assert_eq!(policy["type"], "budget");
    assert_eq!(
        policy["limits"],
        json!([{"token": "native", "amount": "500000000000000000", "period": 3600, "start": 0}])
    );
}

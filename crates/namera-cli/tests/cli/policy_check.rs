//! `policy check` names the policy the chain would name, even when the bundler refuses
//! to estimate the operation (then its gas is unknown and explain alone sees budgets
//! untouched).

use serde_json::json;

use crate::{
    agent::{Agent, random_address},
    support::{assert_exit, error_of, json as parse},
};

#[test]
fn a_gas_budget_too_small_to_estimate_is_named() {
    let agent = Agent::new("policy-check-gas");
    agent.account();
    agent.ok(
        &["session-key", "create"],
        &json!({
            "alias": "tiny", "smart_account": "acc", "chains": ["local"], "light_kdf": true,
            "policies": [{"type": "gas", "allowed": "1"}],
            "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"
        }),
    );
    let out = agent.run(
        &["policy", "check"],
        &json!({"session_key": "tiny", "calls": [{"to": random_address(), "value": "1"}]}),
    );
    assert_exit(&out, 6);
    let error = error_of(&out);
    assert_eq!(error["code"], "policy-refused", "{error}");
    assert_eq!(error["policy"], "gas", "{error}");
    let view = parse(&out.stdout);
    assert_eq!(view["passes"], false);
    assert!(view["simulation"].as_str().unwrap().starts_with("refused: "), "{view}");
}

/// `"simulation":"passes"` stood beside `passes:false`, and a passing check never said
/// what the operation may cost. Now an estimate beside a refusing policy says so, and a
/// passing check shows the estimated cost (to size a gas policy with).
#[test]
fn the_simulation_never_contradicts_the_verdict_and_a_pass_shows_its_cost() {
    let agent = Agent::new("policy-check-words");
    agent.account();
    let friend = random_address();
    agent.ok(
        &["session-key", "create"],
        &json!({
            "alias": "k", "smart_account": "acc", "chains": ["local"], "light_kdf": true,
            "policies": [
                {"type": "call", "permissions": [{"target": friend, "valueLimit": "1000"}]},
                {"type": "rate-limit", "count": 1, "interval": 3600}
            ],
            "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"
        }),
    );
    let pass = agent.ok(
        &["policy", "check"],
        &json!({"session_key": "k", "calls": [{"to": friend, "value": "10"}]}),
    );
    assert_eq!(pass["passes"], true, "{pass}");
    assert_eq!(pass["simulation"], "passes", "{pass}");
    let cost: u128 = pass["estimated_cost"].as_str().unwrap().parse().unwrap();
    assert!(cost > 0, "{pass}");
    // The one use spent: the rate limit refuses what the bundler still estimates.
    agent.ok(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": "k", "calls": [{"to": friend, "value": "10"}],
                "password_env": "AGENT_PW"}),
    );
    let out = agent.run(
        &["policy", "check"],
        &json!({"session_key": "k", "calls": [{"to": friend, "value": "10"}]}),
    );
    assert_exit(&out, 6);
    let view = parse(&out.stdout);
    assert_eq!(view["passes"], false, "{view}");
    assert_ne!(view["simulation"], "passes", "{view}");
    let error = error_of(&out);
    assert!(
        error["message"].as_str().unwrap().starts_with("policies[1] (rate-limit) would refuse"),
        "{error}"
    );
}

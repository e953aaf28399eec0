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

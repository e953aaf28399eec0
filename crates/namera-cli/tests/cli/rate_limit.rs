//! A rate limit given without `startAt` starts now (the chain's time, or this machine's
//! if earlier), so it really spaces uses. (ZeroDev's default of 0 puts every allowed time in 1970: such a limit only
//! counts, and a second use right after the first would land.)

use serde_json::json;

use crate::{
    agent::{Agent, random_address},
    support::{assert_exit, error_of},
};

#[test]
fn a_rate_limit_without_start_is_spaced_from_the_chains_time() {
    let agent = Agent::new("rate-limit");
    agent.account();
    let node = namera::node::NodeClient::new(namera::rpc::RpcClient::new(
        &namera_devnet::testing::shared().rpc_url,
    ));
    let wall = || {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        since.unwrap().as_secs()
    };
    // The start is the chain's time, or this machine's clock if that is earlier (bundlers
    // judge by their own clock, and a devnet's block time runs ahead of it).
    let before = node.timestamp().unwrap().min(wall());
    let key = agent.ok(
        &["session-key", "create"],
        &json!({
            "alias": "hourly", "smart_account": "acc", "chains": ["local"], "light_kdf": true,
            "policies": [{"type": "rate-limit", "interval": 3600, "count": 5}],
            "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"
        }),
    );
    let start = key["policies"][0]["startAt"].as_u64().expect("startAt is set");
    let after = node.timestamp().unwrap().min(wall());
    assert!((before..=after).contains(&start), "{before} <= {start} <= {after}");

    let to = random_address();
    let send = || {
        agent.run(
            &["tx", "send"],
            &json!({"smart_account": "acc", "session_key": "hourly", "chain": "local",
                    "calls": [{"to": to, "value": "7"}], "password_env": "AGENT_PW"}),
        )
    };
    // The first use is allowed at once; the second, inside the hour, is refused by the
    // chain and the rate limit named.
    assert_exit(&send(), 0);
    let out = send();
    assert_exit(&out, 6);
    assert_eq!(error_of(&out)["policy"], "rate-limit", "{}", error_of(&out));
    assert_eq!(agent.balance(to), alloy_primitives::U256::from(7));
}

//! The budget story through the CLI, on the devnet (real anvil, Alto, EntryPoint and the
//! budget policy at its CREATE2 address), with a 6-decimal test ERC-20: a key with a
//! `spending-limit` of 100 tokens per period; 60 lands; 60 more, a batch of 3 × 40 and an
//! `approve` of 200 are refused (exit 6, the budget named, what is left said); after the
//! period turns, 60 lands again. `policy check` predicts each outcome first.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy_primitives::{Address, U256, hex};
use serde_json::{Value, json};

use crate::{
    agent::{Agent, random_address},
    support::{assert_exit, error_of, json as parse},
};

const TOKEN_INITCODE: &str = include_str!("../../../namera-e2e/src/TestToken.initcode.hex");
/// One token (6 decimals).
const UNIT: u64 = 1_000_000;

/// `session-key create` of `alias` on the account `acc` with `policies`.
fn create_key(agent: &Agent, alias: &str, policies: Value) -> Value {
    agent.ok(
        &["session-key", "create"],
        &json!({
            "alias": alias, "smart_account": "acc", "chains": ["local"], "light_kdf": true,
            "policies": policies, "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"
        }),
    )
}

fn wall_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A fresh TestToken (6 decimals), deployed and minted to `holder` from an impersonated,
/// funded address (its `mint` is open to anyone).
fn deploy_token(agent: &Agent, holder: Address, amount: U256) -> Address {
    let deployer = random_address();
    agent.fund(deployer);
    let rpc = agent.rpc();
    let _: Value = rpc.call("anvil_impersonateAccount", json!([deployer])).unwrap();
    let send = |tx: Value| -> Value {
        let hash: String = rpc.call("eth_sendTransaction", json!([tx])).unwrap();
        for _ in 0..100 {
            let r: Value = rpc.call("eth_getTransactionReceipt", json!([hash])).unwrap();
            if !r.is_null() {
                assert_eq!(r["status"], "0x1", "{r}");
                return r;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no receipt for {hash}");
    };
    let r = send(json!({"from": deployer, "data": TOKEN_INITCODE.trim(), "gas": "0x500000"}));
    let token: Address = r["contractAddress"].as_str().unwrap().parse().unwrap();
    let mint = format!("0x40c10f19{}", words(holder, amount));
    send(json!({"from": deployer, "to": token, "data": mint, "gas": "0x100000"}));
    token
}

/// `address ‖ uint256` as two ABI words (hex, no 0x).
fn words(a: Address, amount: U256) -> String {
    format!("{:0>64}{:064x}", hex::encode(a), amount)
}

fn transfer(token: Address, to: Address, tokens: u64) -> Value {
    json!({"to": token, "data": format!("0xa9059cbb{}", words(to, U256::from(tokens * UNIT)))})
}

fn approve(token: Address, spender: Address, tokens: u64) -> Value {
    json!({"to": token, "data": format!("0x095ea7b3{}", words(spender, U256::from(tokens * UNIT)))})
}

fn balance_of(agent: &Agent, token: Address, who: Address) -> U256 {
    let data = format!("0x70a08231{:0>64}", hex::encode(who));
    let r: String =
        agent.rpc().call("eth_call", json!([{"to": token, "data": data}, "latest"])).unwrap();
    U256::from_str_radix(r.trim_start_matches("0x"), 16).unwrap()
}

/// `policy check`, then `tx send` of the same calls: both agree. `None` = landed,
/// `Some(error message)` = refused by the budget (exit 6 from both).
fn check_then_send(agent: &Agent, what: &str, calls: &[Value]) -> Option<String> {
    check_then_send_by(agent, "spender", what, calls)
}

fn check_then_send_by(agent: &Agent, key: &str, what: &str, calls: &[Value]) -> Option<String> {
    // The chain's latest block time is what `policy check` judges at: mine one now.
    let _: Value = agent.rpc().call("evm_mine", json!([])).unwrap();
    let check = agent.run(&["policy", "check"], &json!({"session_key": key, "calls": calls}));
    let sent = agent.run(
        &["tx", "send"],
        &json!({"smart_account": "acc", "session_key": key, "chain": "local",
                "calls": calls, "password_env": "AGENT_PW"}),
    );
    match check.status.code() {
        Some(0) => {
            assert_exit(&sent, 0);
            assert_eq!(parse(&sent.stdout)["success"], true, "{what}");
            eprintln!("[cli budget] {what}: landed ({})", parse(&check.stdout)["policies"][0]);
            None
        }
        Some(6) => {
            assert_eq!(error_of(&check)["policy"], "budget", "{what}");
            assert_exit(&sent, 6);
            let e = error_of(&sent);
            assert_eq!(e["code"], "policy-refused", "{what}: {e}");
            assert_eq!(e["policy"], "budget", "{what}: {e}");
            let message = e["message"].as_str().unwrap_or_default().to_owned();
            eprintln!("[cli budget] {what}: refused — {message}");
            Some(message)
        }
        other => panic!(
            "{what}: policy check exited {other:?}: {}",
            String::from_utf8_lossy(&check.stderr)
        ),
    }
}

#[test]
fn a_spending_limit_per_period_through_the_cli() {
    let agent = Agent::new("budget");
    let account = agent.account();
    let token = deploy_token(&agent, account, U256::from(1_000 * UNIT));
    let friend = random_address();
    // Periods of 40 s from just now: the story before the turn fits in one period.
    let period = 40;
    let start = wall_now() - 1;
    // The amount written for people: the token's decimals (6) are read from the chain and
    // its symbol checked; a wrong symbol is refused before anything is signed.
    let limit = |amount: &str| json!([{"type": "spending-limit", "token": token, "amount": amount, "period": period, "start": start}]);
    let out = agent.run(
        &["session-key", "create"],
        &json!({"alias": "wrong", "smart_account": "acc", "chains": ["local"], "light_kdf": true,
                "policies": limit("100 USDC"), "password_env": "OWNER_PW",
                "session_password_env": "AGENT_PW"}),
    );
    assert_exit(&out, 2);
    let e = error_of(&out);
    assert!(e["message"].as_str().unwrap().contains("\"NTD\""), "{e}");
    let key = create_key(&agent, "spender", limit("100 NTD"));
    assert_eq!(key["policies"][0]["type"], "budget", "{key}");
    assert_eq!(key["policies"][0]["limits"][0]["amount"], "100000000", "{key}");

    let t0 = std::time::Instant::now();
    assert_eq!(check_then_send(&agent, "60", &[transfer(token, friend, 60)]), None);
    // `session-key status` reads what is left from the chain.
    let status = agent.ok(&["session-key", "status"], &json!({"alias": "spender"}));
    let budgets = status["chains"][0]["budgets"].to_string();
    let standing = format!("now: 40 of 100 of token {} left until ", token.to_checksum(None));
    assert!(budgets.contains(&standing), "{status}");
    let refused = check_then_send(&agent, "60 more", &[transfer(token, friend, 60)]).unwrap();
    assert!(
        refused.contains("BudgetExceeded") && refused.contains("40000000 of 100000000 left"),
        "{refused}"
    );
    let batch =
        [transfer(token, friend, 40), transfer(token, friend, 40), transfer(token, friend, 40)];
    assert!(check_then_send(&agent, "3 × 40 in one batch", &batch).is_some());
    let refused = check_then_send(&agent, "approve 200", &[approve(token, friend, 200)]).unwrap();
    assert!(refused.contains("200000000 asked"), "{refused}");
    assert!(
        t0.elapsed() < Duration::from_secs(period - 5),
        "the story before the turn must fit in one period (took {:?})",
        t0.elapsed()
    );
    assert_eq!(balance_of(&agent, token, friend), U256::from(60 * UNIT));

    // The period turns: 60 lands again.
    let next = start + period;
    while wall_now() < next + 1 {
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        check_then_send(&agent, "60 in the next period", &[transfer(token, friend, 60)]),
        None
    );
    assert_eq!(balance_of(&agent, token, friend), U256::from(120 * UNIT));
    assert_eq!(balance_of(&agent, token, account), U256::from(880 * UNIT));
}

/// Two keys of one account share the budget "fleet" (100 tokens); two `namera tx send`
/// processes send 80 each at once, when 80 are left: both pass the local check and the
/// bundler's simulation, and the shared onchain counter lets exactly one through. The
/// total landed is the budget, exactly. The other is refused by the chain (exit 6, the
/// budget named): at once, or, when both reached the bundler, once the bundler dropped it
/// and the wallet simulated it again (it does not wait out a receipt that cannot come).
#[test]
fn two_keys_sharing_a_budget_send_concurrently() {
    let agent = Agent::new("budget-shared");
    let account = agent.account();
    let token = deploy_token(&agent, account, U256::from(1_000 * UNIT));
    let friend = random_address();
    let shared = json!([{"type": "spending-limit", "token": token,
                         "amount": (100 * UNIT).to_string(), "budget": "fleet"}]);
    create_key(&agent, "a", shared.clone());
    create_key(&agent, "b", shared);
    // `a` deploys the account and installs itself; `b` installs itself: 20 used.
    assert_eq!(check_then_send_by(&agent, "a", "a: 10", &[transfer(token, friend, 10)]), None);
    assert_eq!(check_then_send_by(&agent, "b", "b: 10", &[transfer(token, friend, 10)]), None);
    for (round, tokens) in [(1, 80)] {
        let started = std::time::Instant::now();
        let outs: Vec<std::process::Output> = std::thread::scope(|s| {
            let handles: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|key| {
                    let agent = &agent;
                    s.spawn(move || {
                        agent.run(
                            &["tx", "send"],
                            &json!({"smart_account": "acc", "session_key": key, "chain": "local",
                                    "calls": [transfer(token, friend, tokens)],
                                    "password_env": "AGENT_PW"}),
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let landed: Vec<bool> = outs.iter().map(|o| o.status.code() == Some(0)).collect();
        for (key, o) in ["a", "b"].iter().zip(&outs) {
            eprintln!(
                "[cli budget] round {round}, {key}: {tokens} tokens, exit {:?} {}",
                o.status.code(),
                String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or_default()
            );
        }
        assert_eq!(landed.iter().filter(|l| **l).count(), 1, "round {round}: exactly one lands");
        let loser = outs.iter().find(|o| o.status.code() != Some(0)).unwrap();
        let error = error_of(loser);
        assert_eq!(
            (loser.status.code(), error["code"].as_str()),
            (Some(6), Some("policy-refused")),
            "round {round}: {error}"
        );
        assert!(error["message"].as_str().unwrap().contains("(budget \"fleet\")"), "{error}");
        // Far below the 120 s receipt timeout.
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "{:?}", started.elapsed());
    }
    // 10 + 10 + 80: the budget, exactly; nothing more left the account.
    assert_eq!(balance_of(&agent, token, friend), U256::from(100 * UNIT));
    assert_eq!(balance_of(&agent, token, account), U256::from(900 * UNIT));
    let refused = check_then_send_by(&agent, "b", "b: 1 more", &[transfer(token, friend, 1)]);
    assert!(refused.unwrap().contains("(budget \"fleet\")"));
}

/// `ops-per-period` 2 (with a native limit, so that a 1-wei send is allowed): a third
/// operation in the period is refused by the chain (TooManyOperations); after the turn
/// it lands.
#[test]
fn ops_per_period_refuses_the_third_until_the_period_turns() {
    let agent = Agent::new("budget-ops");
    agent.account();
    let friend = random_address();
    let period = 40;
    let start = wall_now() - 1;
    create_key(
        &agent,
        "spender",
        json!([
            {"type": "spending-limit", "token": "native", "amount": "1000", "period": period, "start": start},
            {"type": "ops-per-period", "count": 2, "period": period, "start": start}
        ]),
    );
    let one_wei = [json!({"to": friend, "value": "1"})];
    let t0 = std::time::Instant::now();
    assert_eq!(check_then_send(&agent, "op 1", &one_wei), None);
    assert_eq!(check_then_send(&agent, "op 2", &one_wei), None);
    let refused = check_then_send(&agent, "op 3", &one_wei).unwrap();
    assert!(refused.contains("TooManyOperations"), "{refused}");
    assert!(t0.elapsed() < Duration::from_secs(period - 5), "took {:?}", t0.elapsed());
    assert_eq!(agent.balance(friend), U256::from(2));
    while wall_now() < start + period + 1 {
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(check_then_send(&agent, "op 3 in the next period", &one_wei), None);
    assert_eq!(agent.balance(friend), U256::from(3));
}

/// On a chain that lacks the budget policy (a devnet of its own, its code removed),
/// `session-key create` with a spending limit deploys it first through the owner's
/// operation, at its one CREATE2 address, and the key is created.
#[test]
fn session_key_create_deploys_the_budget_policy_where_a_chain_lacks_it() {
    use namera::{node::NodeClient, policy::BUDGET_POLICY_ADDRESS, rpc::RpcClient};

    use crate::support::{DownOnDrop, Home, namera, unique};

    let name = unique("budget-missing");
    let _guard = DownOnDrop(name.clone());
    let out = namera(&["devnet", "up", "--chain-id", "31340", "--name", &name, "-o", "json"]);
    assert_exit(&out, 0);
    let state = parse(&out.stdout);
    let (rpc_url, bundler_url) =
        (state["rpc_url"].as_str().unwrap(), state["bundler_url"].as_str().unwrap());
    let rpc = RpcClient::new(rpc_url);
    let node = NodeClient::new(rpc.clone());
    let code = node.code(BUDGET_POLICY_ADDRESS).unwrap();
    assert!(!code.is_empty(), "the devnet deploys it");
    let _: Value = rpc.call("anvil_setCode", json!([BUDGET_POLICY_ADDRESS, "0x"])).unwrap();
    let _: Value = rpc.call("anvil_setNonce", json!([BUDGET_POLICY_ADDRESS, "0x0"])).unwrap();

    let home = Home::new("budget-missing");
    let env = [
        ("LOCAL_RPC_URL", rpc_url),
        ("LOCAL_BUNDLER_URL", bundler_url),
        ("LOCAL_CHAIN_ID", "31340"),
        ("OWNER_PW", "owner password 1"),
        ("AGENT_PW", "agent password 1"),
    ];
    let run = |args: &[&str], params: Value| {
        let params = params.to_string();
        let out = home.run(&[args, &["-o", "json", "--params", params.as_str()]].concat(), &env);
        assert_exit(&out, 0);
        parse(&out.stdout)
    };
    run(
        &["keystore", "create"],
        json!({"alias": "owner", "password_env": "OWNER_PW", "light_kdf": true}),
    );
    let account = run(
        &["smart-account", "create"],
        json!({"alias": "acc", "keystore": "owner", "chains": ["local"]}),
    );
    let address: Address = account["account"]["address"].as_str().unwrap().parse().unwrap();
    namera_devnet::anvil::set_balance(&rpc, address, U256::from(10u64.pow(18))).unwrap();
    run(
        &["session-key", "create"],
        json!({"alias": "bot", "smart_account": "acc", "light_kdf": true,
               "policies": [{"type": "spending-limit", "token": "native", "amount": "1000", "period": 3600}],
               "password_env": "OWNER_PW", "session_password_env": "AGENT_PW"}),
    );
    assert_eq!(
        node.code(BUDGET_POLICY_ADDRESS).unwrap(),
        code,
        "the same code, at the same address"
    );
}

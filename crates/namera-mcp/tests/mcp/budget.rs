//! The budget policy through the MCP server: a key with a spending limit of 100 test
//! tokens (6 decimals, symbol NTD) per day; `erc20_transfer` within it lands, over it is refused
//! naming the budget and what is left, and `list_permissions` and `get_token_balance`
//! show what is left on chain.

use alloy_primitives::U256;
use alloy_signer_local::PrivateKeySigner;
use namera::{kernel::LaneKey, policy::Policy};
use namera_e2e::{RECEIPT_TIMEOUT, ether, new_account, random_address, test_token_calls};
use serde_json::json;

use crate::support::{SERVER, run_client, write_keys_file};

const UNIT: u64 = 1_000_000;

#[test]
fn erc20_transfers_under_a_budget() {
    let (owner, account, owner_signer) = new_account(false, ether(1));
    let (token, calls) = test_token_calls(account.address(), U256::from(1_000 * UNIT));
    let r = account.execute(&owner_signer, &calls, LaneKey::DEFAULT, RECEIPT_TIMEOUT).unwrap();
    assert!(r.success, "{r:?}");
    let spender = PrivateKeySigner::random();
    let limit = Policy::spending_limit(token, (100 * UNIT).into(), 86_400, 0);
    let (keys_file, _) =
        write_keys_file(&owner, &account, vec![("spender", &spender, vec![limit])]);
    let e = namera_e2e::endpoints();
    let to = random_address();
    let hex = |a: alloy_primitives::Address| a.to_checksum(None);
    let call =
        |name: &str, arguments: serde_json::Value| json!({"name": name, "arguments": arguments});
    let calls = vec![
        call("erc20_transfer", json!({"token": hex(token), "to": hex(to), "amount": "60"})), // 0
        call("erc20_transfer", json!({"token": hex(token), "to": hex(to), "amount": "40.5"})), // 1
        call("list_permissions", json!({})),                                                 // 2
        call("get_token_balance", json!({"token": hex(token), "owner": hex(to)})),           // 3
        call("get_token_balance", json!({"token": hex(token)})),                             // 4
        call("erc20_transfer", json!({"token": hex(token), "to": hex(to), "amount": "40"})), // 5
        call("erc20_transfer", json!({"token": hex(token), "to": hex(to), "amount": "0.0000001"})), // 6
        call("get_token_balance", json!({"token": "NOPE"})), // 7
    ];
    let args = vec![
        "stdio".to_owned(),
        "--rpc".into(),
        e.rpc.clone(),
        "--bundler".into(),
        e.bundler.clone(),
        "--keys-file".into(),
        keys_file.to_string_lossy().into_owned(),
    ];
    let plan = json!({"transport": "stdio", "command": SERVER, "args": args, "calls": calls});
    let report = run_client(&plan);
    let r = report["results"].as_array().unwrap();
    let ok = |i: usize| -> &serde_json::Value {
        assert_eq!(r[i]["is_error"], false, "call {i}: {}", r[i]);
        &r[i]["structured"]
    };
    let err = |i: usize| -> String {
        assert_eq!(r[i]["is_error"], true, "call {i} should fail: {}", r[i]);
        r[i]["text"].as_str().unwrap().to_owned()
    };
    let landed = ok(0);
    assert_eq!(
        (landed["raw"].as_str(), landed["formatted"].as_str(), landed["symbol"].as_str()),
        (Some("60000000"), Some("60"), Some("NTD"))
    );
    assert_eq!(landed["key"], "spender");
    // 60 + 40.5 > 100: refused by the budget, naming what is left (40 of 100).
    let refused = err(1);
    eprintln!("[mcp budget] over budget: {refused}");
    assert!(refused.contains("(budget) refuses"), "{refused}");
    assert!(
        refused.contains("BudgetExceeded")
            && refused.contains("40500000 asked, 40000000 of 100000000 left in this period"),
        "{refused}"
    );
    let keys = &ok(2)["keys"][0];
    let budgets = keys["chains"][0]["budgets"].to_string();
    eprintln!("[mcp budget] list_permissions: {budgets}");
    let standing = format!("now: 40 of 100 of token {} left until ", hex(token));
    assert!(budgets.contains(&standing), "{budgets}");
    assert_eq!(ok(3)["formatted"], "60");
    assert_eq!(ok(4)["formatted"], "940");
    // Exactly what is left lands.
    assert_eq!(ok(5)["formatted"], "40");
    let too_fine = err(6);
    assert!(too_fine.contains("decimal"), "{too_fine}");
    let unknown = err(7);
    assert!(unknown.contains("NOPE"), "{unknown}");
    // The chain agrees: 100 tokens moved in all, nothing more.
    sol_balance_is(&account, token, to, 100 * UNIT);
}

fn sol_balance_is(
    account: &namera::account::SmartAccount,
    token: alloy_primitives::Address,
    who: alloy_primitives::Address,
    expected: u64,
) {
    alloy_sol_types::sol! {
        function balanceOf(address who) view returns (uint256);
    }
    let got = account.chain().node.view(token, &balanceOfCall { who }).unwrap();
    assert_eq!(got, U256::from(expected));
}

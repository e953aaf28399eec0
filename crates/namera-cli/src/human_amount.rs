//! A spending limit's amount written for people: `"amount":"100 USDC"` (a decimal number,
//! a space, the token's symbol). At `session-key create` the token's `decimals()` are read
//! from each chain (18 for native) and its symbol checked (the chain registry's for a
//! well-known token, else the token's `symbol()`, the chain's coin for native), and the
//! policy is stored in base units, so a key's record and its bytes never depend on it.

use alloy_primitives::{Address, U256};
use namera::{account::ChainClient, chain::ChainInfo, policy::NATIVE_TOKEN};
use serde_json::Value;

/// The `amount` fields of a policy's limits: a `spending-limit`'s own, or a `budget`'s
/// `limits[i].amount`.
fn limits_mut(policy: &mut Value) -> Vec<&mut serde_json::Map<String, Value>> {
    match policy["type"].as_str() {
        Some("spending-limit") => policy.as_object_mut().into_iter().collect(),
        Some("budget") => policy["limits"]
            .as_array_mut()
            .map(|a| a.iter_mut().filter_map(Value::as_object_mut).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// `("100", "USDC")` when `amount` is written for people.
fn split(amount: &Value) -> Option<(&str, &str)> {
    amount.as_str()?.trim().split_once(' ').map(|(n, s)| (n.trim(), s.trim()))
}

/// Whether `policy` has an amount written for people.
pub(crate) fn has_human_amount(policy: &Value) -> bool {
    let mut p = policy.clone();
    limits_mut(&mut p).iter().any(|l| l.get("amount").and_then(split).is_some())
}

/// `policy` with every amount written for people replaced by 1 base unit: what the SDK's
/// parser checks before the chain is read.
pub(crate) fn placeholder(policy: &Value) -> Value {
    let mut p = policy.clone();
    for l in limits_mut(&mut p) {
        if l.get("amount").and_then(split).is_some() {
            l.insert("amount".into(), "1".into());
        }
    }
    p
}

/// Writes `policy`'s amounts in base units, read from `clients` (one per chain of
/// `infos`); every chain must agree on the decimals. The error says which amount and why.
pub(crate) fn resolve(
    policy: &mut Value,
    infos: &[ChainInfo],
    clients: &[ChainClient],
) -> Result<(), String> {
    alloy_sol_types::sol! {
        function decimals() external view returns (uint8);
        function symbol() external view returns (string);
    }
    for l in limits_mut(policy) {
        let Some((number, symbol)) = l.get("amount").and_then(split) else { continue };
        let (number, symbol) = (number.to_owned(), symbol.to_owned());
        let token = match l.get("token").and_then(Value::as_str) {
            Some("native") => NATIVE_TOKEN,
            Some(t) => t.parse::<Address>().map_err(|e| format!("token {t:?}: {e}"))?,
            None => return Err("a spending limit needs `token`".into()),
        };
        let mut decimals = None;
        for (info, client) in infos.iter().zip(clients) {
            let (d, s) = if token == NATIVE_TOKEN {
                (18, info.native_symbol.to_owned())
            } else {
                let node = &client.node;
                let d = node.view(token, &decimalsCall {}).map_err(|e| {
                    format!(
                        "amount {number} {symbol}: {token} answers no decimals() on {}: {e}",
                        info.alias
                    )
                })?;
                let s = namera::chain::KnownToken::find(info.id, token)
                    .map(|k| k.symbol.to_owned())
                    .or_else(|| node.view(token, &symbolCall {}).ok())
                    .unwrap_or_default();
                (d, s)
            };
            if !s.eq_ignore_ascii_case(&symbol) {
                return Err(format!(
                    "amount {number} {symbol}: the token {token} is {s:?} on {}, not {symbol:?}",
                    info.alias
                ));
            }
            if decimals.is_some_and(|d0| d0 != d) {
                return Err(format!(
                    "amount {number} {symbol}: the token's decimals differ between chains; give base units"
                ));
            }
            decimals = Some(d);
        }
        let d = decimals.ok_or("no chain to read the token's decimals from")?;
        let base: U256 = namera::units::parse_units(&number, d)
            .map_err(|e| format!("amount {number} {symbol}: {e}"))?;
        l.insert("amount".into(), base.to_string().into());
    }
    Ok(())
}

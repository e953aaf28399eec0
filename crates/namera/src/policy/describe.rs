//! Policies in plain words, for people and agents deciding what a key may do.
//!
//! One wording for every face (CLI `info`, MCP `list_permissions`), so a user reading the
//! terminal and an agent reading a tool result are told the same thing.

use alloy_primitives::{Address, U256};

use super::{CallPermission, ParamCondition, Policy, PolicyKind};

/// A wei amount with its ether value when that reads better (`1000000000000000 wei
/// (0.001 ETH)`).
pub fn wei_in_words(wei: U256) -> String {
    let ether = U256::from(10).pow(U256::from(15));
    if wei < ether {
        return format!("{wei} wei");
    }
    let unit = U256::from(10).pow(U256::from(18));
    let (whole, frac) = (wei / unit, wei % unit);
    let frac = format!("{frac:0>18}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{wei} wei ({whole} ETH)")
    } else {
        format!("{wei} wei ({whole}.{frac} ETH)")
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
///
/// ```
/// assert_eq!(namera::policy::utc(951_782_400), "2000-02-29T00:00:00Z");
/// ```
pub fn utc(t: u64) -> String {
    let (date, time) = civil(t);
    format!("{date}T{time}Z")
}

fn time_in_words(t: u64) -> String {
    let (date, time) = civil(t);
    format!("{date} {time} UTC ({t})")
}

/// `(YYYY-MM-DD, HH:MM:SS)` of a Unix time.
fn civil(t: u64) -> (String, String) {
    // Civil date from days since the epoch (proleptic Gregorian; Howard Hinnant's
    // well-known arithmetic, written out here).
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!("{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60),
    )
}

fn duration_in_words(s: u64) -> String {
    match s {
        0 => "no wait".into(),
        s if s % 86_400 == 0 => format!("{} day(s)", s / 86_400),
        s if s % 3600 == 0 => format!("{} hour(s)", s / 3600),
        s if s % 60 == 0 => format!("{} minute(s)", s / 60),
        s => format!("{s} second(s)"),
    }
}

pub(crate) fn condition_in_words(c: ParamCondition) -> &'static str {
    match c {
        ParamCondition::Equal => "=",
        ParamCondition::GreaterThan => ">",
        ParamCondition::LessThan => "<",
        ParamCondition::GreaterThanOrEqual => "≥",
        ParamCondition::LessThanOrEqual => "≤",
        ParamCondition::NotEqual => "≠",
        ParamCondition::OneOf => "one of",
        ParamCondition::SliceEqual => "slice equal to",
    }
}

/// An argument as the ABI names it (`` `to` (address) ``), else by position.
pub(crate) fn argument_in_words(arg: Option<&(String, String)>, offset: u64) -> String {
    match arg {
        Some((name, ty)) if !name.is_empty() => format!("`{name}` ({ty})"),
        Some((_, ty)) => format!("argument {} ({ty})", offset / 32),
        None if offset.is_multiple_of(32) => format!("argument {}", offset / 32),
        None => format!("the word at byte {offset} of the arguments"),
    }
}

/// A 32-byte argument word as its type reads: an address as an EIP-55 address, a small
/// number in decimal, anything bigger in hex.
pub(crate) fn word_in_words(v: U256, ty: Option<&str>) -> String {
    if ty == Some("address") && v < (U256::from(1) << 160) {
        return Address::from_word(v.to_be_bytes::<32>().into()).to_checksum(None);
    }
    if v <= U256::from(u64::MAX) { v.to_string() } else { format!("{v:#x}") }
}

fn call_in_words(p: &CallPermission) -> String {
    let target =
        if p.target == Address::ZERO { "any contract".to_owned() } else { p.target.to_string() };
    let what = match (&p.source, p.selector.is_zero()) {
        (Some(src), _) => format!("{}()", src.function_name),
        (None, true) => "plain transfers (no call data)".to_owned(),
        (None, false) => format!("function {}", p.selector),
    };
    let mut words = format!("{what} on {target}, sending at most {}", wei_in_words(p.value_limit));
    for r in &p.rules {
        let arg = p.argument_at(r.offset);
        let ty = arg.as_ref().map(|(_, t)| t.as_str());
        if r.condition == ParamCondition::SliceEqual {
            let [start, length, _] = r.params.as_slice() else { continue };
            words.push_str(&format!(
                "; {} bytes {}..+{} must hash to the given value",
                argument_in_words(arg.as_ref(), r.offset),
                U256::from_be_bytes(start.0),
                U256::from_be_bytes(length.0)
            ));
            continue;
        }
        let values: Vec<String> =
            r.params.iter().map(|b| word_in_words(U256::from_be_bytes(b.0), ty)).collect();
        words.push_str(&format!(
            "; {} {} {}",
            argument_in_words(arg.as_ref(), r.offset),
            condition_in_words(r.condition),
            values.join(" | ")
        ));
    }
    words
}

fn per_period(period: u64, start: u64) -> String {
    let from = if start == 0 { String::new() } else { format!(" from {}", time_in_words(start)) };
    if period == 0 {
        format!("in all{from}")
    } else {
        format!("per {}{from}", duration_in_words(period))
    }
}

fn budget_in_words(b: &super::Budget) -> String {
    let mut parts: Vec<String> = b
        .limits
        .iter()
        .map(|l| {
            let token = if l.token == super::NATIVE_TOKEN {
                format!("{} of native currency", wei_in_words(U256::from(l.amount)))
            } else {
                format!("{} base units of token {}", l.amount, l.token)
            };
            let shared = l
                .budget
                .as_ref()
                .map(|n| format!(" (shared budget {:?})", n.as_str()))
                .unwrap_or_default();
            format!("{token} {}{shared}", per_period(l.period, l.start))
        })
        .collect();
    if let Some(o) = b.ops {
        parts.push(format!("{} operation(s) {}", o.count, per_period(o.period, o.start)));
    }
    let mut w = if parts.is_empty() {
        "budget: nothing may be spent".to_owned()
    } else {
        format!("budget: at most {}", parts.join("; "))
    };
    w.push_str(if b.allow_other_calls {
        "; calls to other contracts allowed"
    } else {
        "; nothing else"
    });
    if b.allow_signatures {
        w.push_str("; ERC-1271 signatures (permits) allowed");
    }
    w
}

impl Policy {
    /// What the policy allows, in one line.
    ///
    /// ```
    /// use namera::policy::{Policy, PolicyKind};
    /// let p = Policy::new(PolicyKind::RateLimit { interval: 3600, count: 5, start_at: 0 });
    /// assert_eq!(
    ///     p.describe(),
    ///     "rate limit: at most 5 use(s) in all (not per period), each at least 1 hour(s) after the previous"
    /// );
    /// ```
    pub fn describe(&self) -> String {
        let only = match self.flag.0 {
            0x0001 => " (ERC-1271 signatures only)",
            0x0002 => " (UserOperations only)",
            _ => "",
        };
        let words = match &self.kind {
            PolicyKind::Sudo => "sudo: anything the owner could do".to_owned(),
            PolicyKind::Timestamp { valid_after, valid_until } => {
                let from = if *valid_after == 0 {
                    "any time".to_owned()
                } else {
                    time_in_words(*valid_after)
                };
                let until = if *valid_until == 0 {
                    "no end".to_owned()
                } else {
                    time_in_words(*valid_until)
                };
                format!("time window: from {from} until {until}")
            }
            PolicyKind::Gas { allowed, enforce_paymaster, allowed_paymaster } => {
                let mut w = format!("gas budget: {} in all", wei_in_words(U256::from(*allowed)));
                if *enforce_paymaster {
                    if *allowed_paymaster == Address::ZERO {
                        w.push_str("; a paymaster must pay");
                    } else {
                        w.push_str(&format!("; paymaster {allowed_paymaster} must pay"));
                    }
                }
                w
            }
            PolicyKind::RateLimit { interval, count, start_at } => {
                let mut w = format!(
                    "rate limit: at most {count} use(s) in all (not per period), each at least {} after the previous",
                    duration_in_words(*interval)
                );
                if *start_at != 0 {
                    w.push_str(&format!(", from {}", time_in_words(*start_at)));
                }
                w
            }
            PolicyKind::SignatureCaller { allowed_callers } => {
                let list: Vec<String> = allowed_callers.iter().map(Address::to_string).collect();
                format!(
                    "signature callers: only {} may check its ERC-1271 signatures",
                    list.join(", ")
                )
            }
            PolicyKind::Call(c) => {
                let list: Vec<String> = c.permissions.iter().map(call_in_words).collect();
                format!("calls: only {}", list.join("; or "))
            }
            PolicyKind::Budget(b) => budget_in_words(b),
        };
        format!("{words}{only}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_amounts_read_as_people_write_them() {
        assert_eq!(time_in_words(0), "1970-01-01 00:00:00 UTC (0)");
        assert_eq!(time_in_words(1_893_456_000), "2030-01-01 00:00:00 UTC (1893456000)");
        assert_eq!(time_in_words(951_782_400), "2000-02-29 00:00:00 UTC (951782400)");
        assert_eq!(wei_in_words(U256::from(999)), "999 wei");
        assert_eq!(
            wei_in_words(U256::from(1_500_000_000_000_000_000u128)),
            "1500000000000000000 wei (1.5 ETH)"
        );
        assert_eq!(duration_in_words(7200), "2 hour(s)");
        assert_eq!(duration_in_words(61), "61 second(s)");
    }

    #[test]
    fn a_transfer_permission_in_words() {
        let to: Address = "0x923ab44bef75e86f4ea1ee2d84dd27831d32958a".parse().unwrap();
        let p = Policy::new(PolicyKind::Call(super::super::CallPolicy {
            version: Default::default(),
            permissions: vec![CallPermission::transfer(to, U256::from(10))],
        }));
        assert_eq!(
            p.describe(),
            "calls: only plain transfers (no call data) on 0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A, sending at most 10 wei"
        );
    }

    /// Refusals and descriptions use the ABI's names and types: an address reads as an
    /// address (ONE_OF printed it as a decimal number), SLICE_EQUAL names the bytes (it
    /// said "fails for 32", the ABI offset), and arguments are named (`to`, not
    /// "argument 0"); rules are numbered `rules[i]` as in the JSON.
    #[test]
    fn refusals_and_descriptions_use_the_abis_words() {
        use alloy_primitives::address;
        use alloy_sol_types::SolCall;
        use serde_json::json;

        use crate::kernel::{Call, ExecType, encode_calls};
        use crate::policy::{Operation, explain};

        let (a, b, c) = (
            address!("0x1111111111111111111111111111111111111111"),
            address!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a"),
            address!("0x52908400098527886e0f7030069857d2e4169ee7"),
        );
        let token = address!("0x00000000000000000000000000000000000000aa");
        let abi = json!([
            {"type":"function","name":"transfer","stateMutability":"nonpayable",
             "inputs":[{"name":"to","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[]},
            {"type":"function","name":"post","stateMutability":"nonpayable",
             "inputs":[{"name":"data","type":"bytes"}],"outputs":[]}
        ]);
        let policy = Policy::from_json(&json!({"type":"call","permissions":[
            {"target": token, "abi": abi, "functionName": "transfer",
             "args": [{"condition":"ONE_OF","value":[a, b]}, {"condition":"LESS_THAN_OR_EQUAL","value":100}]},
            {"target": token, "abi": abi, "functionName": "post",
             "args": [{"condition":"SLICE_EQUAL","value":"0x68656c6c6f","start":0,"length":5}]}
        ]}))
        .unwrap();
        assert_eq!(
            policy.describe(),
            format!(
                "calls: only transfer() on {token}, sending at most 0 wei; `to` (address) one of {} | {}; `amount` (uint256) ≤ 100; or post() on {token}, sending at most 0 wei; `data` (bytes) bytes 0..+5 must hash to the given value",
                a.to_checksum(None),
                b.to_checksum(None)
            )
        );
        alloy_sol_types::sol! {
            function transfer(address to, uint256 amount);
            function post(bytes data);
        }
        let judge = |data: Vec<u8>| {
            let cd = encode_calls(
                Address::ZERO,
                &[Call::new(token, data.into())],
                false,
                ExecType::Default,
            )
            .unwrap();
            let op = Operation {
                sender: Default::default(),
                call_data: &cd,
                max_cost: U256::ZERO,
                paymaster: None,
                now: 0,
            };
            explain(std::slice::from_ref(&policy), &op, &[])[0].refusal.clone()
        };
        assert_eq!(
            judge(transferCall { to: c, amount: U256::from(5) }.abi_encode()).as_deref(),
            Some(
                format!(
                    "CallViolatesParamRule: rules[0] (ONE_OF on `to` (address)): {} is not one of {} | {}",
                    c.to_checksum(None),
                    a.to_checksum(None),
                    b.to_checksum(None)
                )
                .as_str()
            )
        );
        assert_eq!(
            judge(transferCall { to: a, amount: U256::from(101) }.abi_encode()).as_deref(),
            Some(
                "CallViolatesParamRule: rules[1] (LESS_THAN_OR_EQUAL on `amount` (uint256)): 101 is not ≤ 100"
            )
        );
        assert_eq!(
            judge(postCall { data: b"hallo world".to_vec().into() }.abi_encode()).as_deref(),
            Some(
                "CallViolatesParamRule: rules[0] (SLICE_EQUAL on `data` (bytes)): the bytes 0..+5 do not hash to the allowed value"
            )
        );
        assert_eq!(judge(transferCall { to: b, amount: U256::from(100) }.abi_encode()), None);
    }
}

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

fn condition_in_words(c: ParamCondition) -> &'static str {
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
        let values: Vec<String> = r
            .params
            .iter()
            .map(|b| {
                let v = U256::from_be_bytes(b.0);
                // Small numbers read as amounts; big ones (addresses, hashes) as hex.
                if v <= U256::from(u64::MAX) { v.to_string() } else { format!("{v:#x}") }
            })
            .collect();
        words.push_str(&format!(
            "; argument {} {} {}",
            r.offset / 32,
            condition_in_words(r.condition),
            values.join(" | ")
        ));
    }
    words
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
}

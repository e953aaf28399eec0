//! Policies in plain words, for `list_permissions`: an agent (or the person behind it)
//! should read what a key may do without knowing the encodings.

use alloy_primitives::{Address, U256};
use namera::policy::{CallPermission, Policy, PolicyKind};

use crate::amount::format_units;

/// What `policy` allows, in one sentence.
pub fn policy_words(policy: &Policy) -> String {
    match &policy.kind {
        PolicyKind::Sudo => "may do anything the account can (sudo)".into(),
        PolicyKind::Timestamp { valid_after, valid_until } => match (*valid_after, *valid_until) {
            (0, 0) => "no time limit".into(),
            (a, 0) => format!("valid from {}", utc(a)),
            (0, u) => format!("valid until {}", utc(u)),
            (a, u) => format!("valid from {} until {}", utc(a), utc(u)),
        },
        PolicyKind::Gas { allowed, enforce_paymaster, allowed_paymaster } => {
            let mut s = format!(
                "may spend at most {} ETH ({allowed} wei) on gas in total",
                format_units(U256::from(*allowed), 18)
            );
            if *enforce_paymaster {
                if *allowed_paymaster == Address::ZERO {
                    s.push_str(", only through a paymaster");
                } else {
                    s.push_str(&format!(", only through paymaster {allowed_paymaster}"));
                }
            }
            s
        }
        PolicyKind::RateLimit { interval, count, start_at } => {
            let mut s = format!("at most {count} operation(s)");
            if *interval > 0 {
                s.push_str(&format!(", at least {interval} s apart"));
            }
            if *start_at > 0 {
                s.push_str(&format!(", from {}", utc(*start_at)));
            }
            s
        }
        PolicyKind::SignatureCaller { allowed_callers } => format!(
            "may sign messages (ERC-1271) only for {}",
            allowed_callers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ),
        PolicyKind::Call(c) => {
            let each: Vec<String> = c.permissions.iter().map(call_words).collect();
            format!("may only: {}", each.join("; "))
        }
    }
}

fn call_words(p: &CallPermission) -> String {
    let target = if p.target == Address::ZERO {
        "any address".to_owned()
    } else {
        p.target.to_checksum(None)
    };
    let what = if p.selector.0 == [0; 4] {
        format!("send native value to {target}")
    } else {
        let name = match &p.source {
            Some(s) => format!("{} ({})", s.function_name, p.selector),
            None => format!("function {}", p.selector),
        };
        format!("call {name} on {target}")
    };
    let value = if p.value_limit.is_zero() {
        "with no value".to_owned()
    } else {
        format!(
            "with at most {} ETH ({} wei) per call",
            format_units(p.value_limit, 18),
            p.value_limit
        )
    };
    let rules = if p.rules.is_empty() {
        String::new()
    } else {
        let r: Vec<String> = p
            .rules
            .iter()
            .map(|r| format!("argument {} {}", r.offset / 32, r.condition.name()))
            .collect();
        format!(", provided {}", r.join(", "))
    };
    format!("{what} {value}{rules}")
}

/// The latest end of the key's timestamp policies (0: none).
pub fn valid_until(policies: &[Policy]) -> u64 {
    policies
        .iter()
        .filter_map(|p| match p.kind {
            PolicyKind::Timestamp { valid_until, .. } if valid_until != 0 => Some(valid_until),
            _ => None,
        })
        .min()
        .unwrap_or(0)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn utc(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil, on non-negative days.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn words() {
        let p = Policy::new(PolicyKind::RateLimit { interval: 60, count: 3, start_at: 0 });
        assert_eq!(policy_words(&p), "at most 3 operation(s), at least 60 s apart");
        let g = Policy::new(PolicyKind::Gas {
            allowed: 10u128.pow(16),
            enforce_paymaster: false,
            allowed_paymaster: Address::ZERO,
        });
        assert_eq!(
            policy_words(&g),
            "may spend at most 0.01 ETH (10000000000000000 wei) on gas in total"
        );
    }
}

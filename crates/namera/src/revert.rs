//! Turn a refusal into words: which AA code, which policy, which rule.
//!
//! One decoder for both ways the chain says no: a bundler refusing a UserOperation
//! ([`Refusal`], read from its error message and data) and an `eth_call` that reverted
//! ([`Revert`]: the revert data the node returns in the JSON-RPC error's `data`).

use alloy_primitives::{Bytes, U256, keccak256};
use serde_json::Value;

use crate::rpc::ErrorObject;

/// Custom errors Kernel and the policy contracts revert with.
const KNOWN_ERRORS: &[(&str, &str)] = &[
    ("PolicyFailed(uint256)", "a policy refused the operation"),
    ("CallViolatesParamRule()", "an argument breaks a rule of the call policy"),
    ("CallViolatesValueRule()", "the value exceeds the call policy's limit"),
    ("InvalidCallData()", "no call-policy permission allows this target and function"),
    ("InvalidCallType()", "the call policy does not allow this call type"),
    ("ParamTooShort()", "an argument is shorter than the call policy's slice rule needs"),
    ("EnableNotApproved()", "the owner's enable signature is not valid for this account"),
    ("InvalidNonce()", "the nonce is not valid for this validation"),
];

/// Errors only the call policy raises.
const CALL_POLICY_ERRORS: [&str; 5] = [
    "CallViolatesParamRule",
    "CallViolatesValueRule",
    "InvalidCallData",
    "InvalidCallType",
    "ParamTooShort",
];

/// What we could read from a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Refusal {
    /// The custom error, when we know it (`PolicyFailed`, `CallViolatesParamRule`, …).
    pub error: Option<&'static str>,
    /// What it means.
    pub meaning: Option<&'static str>,
    /// The index of the refusing policy in the permission, when the chain says.
    pub policy_index: Option<u64>,
    /// The EntryPoint's AA code (`AA22`, `AA24`, …), when present.
    pub aa_code: Option<String>,
    /// Whether the call policy refused (its own errors say so).
    pub call_policy: bool,
    /// The budget policy's refusal in words (`BudgetExceeded: …`), when it refused.
    pub budget: Option<String>,
}

/// An `eth_call` that reverted, with its revert data and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revert {
    /// The raw revert data (empty for a bare `revert()`).
    pub data: Bytes,
    /// The decoded error: its name and meaning when it is one Kernel or a policy
    /// contract raises, the refusing policy's index for `PolicyFailed(i)`.
    pub decoded: Refusal,
    /// The node's message.
    pub message: String,
}

impl Revert {
    /// The revert in a JSON-RPC error, when it is one: the node put revert data (hex) in
    /// `data`, or said "revert" with none (a bare `revert()`).
    pub(crate) fn from_error(obj: &ErrorObject) -> Option<Self> {
        let hex = match obj.data.as_ref() {
            Some(Value::String(s)) => Some(s.as_str()),
            Some(Value::Object(o)) => o.get("data").and_then(Value::as_str),
            _ => None,
        };
        let data = match hex {
            Some(h) => h.parse::<Bytes>().ok()?,
            None if obj.message.contains("revert") => Bytes::new(),
            None => return None,
        };
        let decoded = parse("", Some(&Value::String(data.to_string())));
        Some(Self { data, decoded, message: obj.message.clone() })
    }
}

impl std::fmt::Display for Revert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.decoded.error, self.decoded.policy_index, self.decoded.meaning) {
            (Some(e), Some(i), Some(m)) => write!(f, "{e}({i}): {m}"),
            (Some(e), None, Some(m)) => write!(f, "{e}(): {m}"),
            _ if self.data.is_empty() => write!(f, "no revert data ({})", self.message),
            _ => write!(f, "unknown error {} ({})", self.data, self.message),
        }
    }
}

/// Read a bundler error message and its data.
pub(crate) fn parse(message: &str, data: Option<&Value>) -> Refusal {
    let mut out = Refusal {
        aa_code: message.find("AA").and_then(|i| {
            let code = message.get(i..i + 4)?;
            code[2..].chars().all(|c| c.is_ascii_digit()).then(|| code.to_owned())
        }),
        ..Refusal::default()
    };
    let mut hexes = Vec::new();
    if let Some(d) = data {
        collect_hex(d, &mut hexes);
    }
    collect_words_hex(message, &mut hexes);
    for raw in hexes.iter().filter_map(|h| h.parse::<Bytes>().ok()) {
        // The error may sit anywhere inside a wrapping revert (FailedOpWithRevert etc.).
        for start in 0..raw.len().saturating_sub(3) {
            if let Some((name, words)) = budget_error(&raw[start..]) {
                out.error = Some(name);
                out.meaning = Some("the budget policy refused the operation");
                out.budget = Some(words);
                return out;
            }
            for (sig, meaning) in KNOWN_ERRORS {
                if raw[start..start + 4] == keccak256(sig.as_bytes())[..4] {
                    let name = sig.split('(').next().unwrap_or(sig);
                    out.error = Some(name);
                    out.meaning = Some(meaning);
                    out.call_policy = CALL_POLICY_ERRORS.contains(&name);
                    if name == "PolicyFailed" && raw.len() >= start + 36 {
                        out.policy_index =
                            U256::from_be_slice(&raw[start + 4..start + 36]).try_into().ok();
                    }
                    return out;
                }
            }
        }
    }
    out
}

/// The budget policy's error at the start of `data`, named and in words.
fn budget_error(data: &[u8]) -> Option<(&'static str, String)> {
    use alloy_sol_types::SolInterface;

    use crate::policy::{BudgetName, IBudgetPolicy::IBudgetPolicyErrors as E};
    if data.len() < 4 || !E::valid_selector(data[..4].try_into().ok()?) {
        return None;
    }
    let e = E::abi_decode(data).ok()?;
    let name = |b: alloy_primitives::B256| {
        BudgetName::from_bytes32(b)
            .map(|n| format!(" (budget {:?})", n.as_str()))
            .unwrap_or_default()
    };
    let words = match &e {
        E::BudgetExceeded(x) => format!(
            "BudgetExceeded: limit {} on {}{}: {} asked, {} of {} left in this period",
            x.limitIndex,
            x.token,
            name(x.budget),
            x.requested,
            x.limit.saturating_sub(x.used),
            x.limit
        ),
        E::TooManyOperations(x) => {
            format!("TooManyOperations: {} of {} operations used in this period", x.used, x.max)
        }
        E::NativeNotBudgeted(x) => format!(
            "NativeNotBudgeted: call {} sends {} wei and the key has no native limit",
            x.callIndex, x.value
        ),
        E::TargetNotBudgeted(x) => format!(
            "TargetNotBudgeted: call {} calls {}, which carries no limit",
            x.callIndex, x.target
        ),
        E::SelectorRefused(x) => format!(
            "SelectorRefused: call {} calls {} on token {}",
            x.callIndex, x.selector, x.token
        ),
        E::TransferFromOther(x) => format!(
            "TransferFromOther: call {} moves {}'s tokens of {}",
            x.callIndex, x.from, x.token
        ),
        E::SelfCall(x) => format!("SelfCall: call {} calls the account itself", x.callIndex),
        E::UnsupportedCallType(x) => format!("UnsupportedCallType: call type {}", x.callType),
        E::PeriodNotStarted(x) => format!(
            "PeriodNotStarted: limit {} starts at {}, the operation names {}",
            x.limitIndex, x.start, x.time
        ),
        E::PeriodPassed(x) => format!(
            "PeriodPassed: limit {} already counts period {}, the operation names period {}",
            x.limitIndex, x.storedIndex, x.index
        ),
        E::NotInstalled(x) => {
            format!("NotInstalled: permission {} has no budget on {}", x.id, x.account)
        }
        other => {
            format!("BudgetPolicy error 0x{}", alloy_primitives::hex::encode(other.selector()))
        }
    };
    let label = words.split(':').next().unwrap_or("BudgetPolicy");
    let known: &'static str = [
        "BudgetExceeded",
        "TooManyOperations",
        "NativeNotBudgeted",
        "TargetNotBudgeted",
        "SelectorRefused",
        "TransferFromOther",
        "SelfCall",
        "UnsupportedCallType",
        "PeriodNotStarted",
        "PeriodPassed",
        "NotInstalled",
    ]
    .into_iter()
    .find(|k| *k == label)
    .unwrap_or("BudgetPolicy");
    Some((known, words))
}

fn collect_hex(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => collect_words_hex(s, out),
        Value::Array(a) => a.iter().for_each(|x| collect_hex(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_hex(x, out)),
        _ => {}
    }
}

fn collect_words_hex(s: &str, out: &mut Vec<String>) {
    for (i, _) in s.match_indices("0x") {
        let hex_part: String = s[i + 2..].chars().take_while(char::is_ascii_hexdigit).collect();
        if hex_part.len() >= 8 && hex_part.len().is_multiple_of(2) {
            out.push(format!("0x{hex_part}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_policy_failed_inside_a_wrapped_revert() {
        let sel = hex_sel("PolicyFailed(uint256)");
        let data = format!("0x65c8fd4d{}{sel}{:064x}", "00".repeat(40), 2);
        let r = parse(
            "UserOperation reverted during simulation with reason: AA23 reverted",
            Some(&Value::String(data)),
        );
        assert_eq!(
            (r.error, r.policy_index, r.aa_code.as_deref(), r.call_policy),
            (Some("PolicyFailed"), Some(2), Some("AA23"), false)
        );
    }

    #[test]
    fn names_call_policy_errors() {
        let msg = format!("AA23 reverted 0x{}", hex_sel("CallViolatesValueRule()"));
        let r = parse(&msg, None);
        assert_eq!((r.error, r.call_policy), (Some("CallViolatesValueRule"), true));
    }

    #[test]
    fn decodes_an_eth_call_revert() {
        let data = format!("0x{}{:064x}", hex_sel("PolicyFailed(uint256)"), 3);
        let obj = ErrorObject {
            method: "eth_call".into(),
            code: 3,
            message: "execution reverted".into(),
            data: Some(Value::String(data.clone())),
        };
        let r = Revert::from_error(&obj).unwrap();
        assert_eq!(r.data.to_string(), data);
        assert_eq!((r.decoded.error, r.decoded.policy_index), (Some("PolicyFailed"), Some(3)));
        assert_eq!(r.to_string(), "PolicyFailed(3): a policy refused the operation");
        let bare = ErrorObject { data: None, ..obj.clone() };
        assert_eq!(
            Revert::from_error(&bare).unwrap().to_string(),
            "no revert data (execution reverted)"
        );
        let not_a_revert = ErrorObject { message: "header not found".into(), data: None, ..obj };
        assert_eq!(Revert::from_error(&not_a_revert), None);
    }

    fn hex_sel(sig: &str) -> String {
        alloy_primitives::hex::encode(&keccak256(sig.as_bytes())[..4])
    }
}

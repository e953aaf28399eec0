//! The JSON form of a policy: ZeroDev's `policyParams`.
//!
//! Output follows the SDK's key order exactly (it is part of a serialized key's bytes).
//! Input accepts both what the SDK serializes (numeric conditions, resolved selector and
//! rules) and what a person writes (condition names, an ABI and per-argument values).

use alloy_primitives::{Address, B256, FixedBytes, U256};
use serde_json::{Map, Value, json};

use super::{
    Budget, BudgetName, OpsLimit, Policy, PolicyError, PolicyFlag, PolicyKind, SpendingLimit,
    call::{
        AbiSource, ArgRule, ArgValue, CallPermission, CallPolicy, CallPolicyVersion, KeyLayout,
        ParamCondition, ParamRule, PermissionCallType, resolve_abi,
    },
};

const CANONICAL_ORDER: [&str; 8] =
    ["callType", "target", "valueLimit", "abi", "functionName", "selector", "args", "rules"];

impl Policy {
    /// The SDK's `policyParams` JSON for this policy.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), self.type_name().into());
        if let PolicyKind::Call(c) = &self.kind {
            m.insert("policyVersion".into(), c.version.as_str().into());
        } else {
            m.insert("policyAddress".into(), self.address().to_checksum(None).into());
        }
        m.insert("policyFlag".into(), self.flag.to_string().into());
        match &self.kind {
            PolicyKind::Sudo => {}
            PolicyKind::Timestamp { valid_after, valid_until } => {
                m.insert("validAfter".into(), (*valid_after).into());
                m.insert("validUntil".into(), (*valid_until).into());
            }
            PolicyKind::Gas { allowed, enforce_paymaster, allowed_paymaster } => {
                m.insert("allowed".into(), allowed.to_string().into());
                m.insert("enforcePaymaster".into(), (*enforce_paymaster).into());
                m.insert("allowedPaymaster".into(), format!("{allowed_paymaster:#x}").into());
            }
            PolicyKind::RateLimit { interval, count, start_at } => {
                m.insert("interval".into(), (*interval).into());
                m.insert("count".into(), (*count).into());
                m.insert("startAt".into(), (*start_at).into());
            }
            PolicyKind::SignatureCaller { allowed_callers } => {
                let callers: Vec<Value> =
                    allowed_callers.iter().map(|a| format!("{a:#x}").into()).collect();
                m.insert("allowedCallers".into(), callers.into());
            }
            PolicyKind::Call(c) => {
                let perms: Vec<Value> = c.permissions.iter().map(permission_to_json).collect();
                m.insert("permissions".into(), perms.into());
            }
            PolicyKind::Budget(b) => budget_to_json(b, &mut m),
        }
        Value::Object(m)
    }

    /// Parse `policyParams` JSON.
    pub fn from_json(v: &Value) -> Result<Self, PolicyError> {
        let o = v.as_object().ok_or_else(|| err("a policy must be a JSON object"))?;
        let ty = str_field(o, "type")?;
        let own: &[&str] = match ty {
            "timestamp" => &["validAfter", "validUntil"],
            "gas" => &["allowed", "enforcePaymaster", "allowedPaymaster"],
            "rate-limit" => &["interval", "count", "startAt"],
            "signature-caller" => &["allowedCallers"],
            "call" => &["policyVersion", "permissions"],
            "budget" => &["limits", "ops", "allowSignatures", "allowOtherCalls"],
            "spending-limit" => SPENDING_LIMIT_FIELDS,
            "ops-per-period" => OPS_FIELDS,
            _ => &[],
        };
        let known: Vec<&str> = ["type", "policyAddress", "policyFlag"]
            .into_iter()
            .chain(own.iter().copied())
            .collect();
        deny_unknown(o, "", &known).map_err(PolicyError::UnknownField)?;
        let flag = match o.get("policyFlag") {
            None | Some(Value::Null) => PolicyFlag::ALL,
            Some(Value::String(s)) => s.parse()?,
            Some(other) => return Err(PolicyError::InvalidFlag(other.to_string())),
        };
        let kind = match ty {
            "sudo" => PolicyKind::Sudo,
            "timestamp" => PolicyKind::Timestamp {
                valid_after: u64_field(o, "validAfter")?.unwrap_or(0),
                valid_until: u64_field(o, "validUntil")?.unwrap_or(0),
            },
            "gas" => PolicyKind::Gas {
                allowed: match o.get("allowed") {
                    None | Some(Value::Null) => return Err(PolicyError::MissingGasAllowance),
                    Some(v) => uint_value(v, "allowed")?
                        .try_into()
                        .map_err(|_| err("allowed does not fit in uint128"))?,
                },
                enforce_paymaster: match o.get("enforcePaymaster") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(other) => {
                        return Err(err(format!(
                            "enforcePaymaster: expected a boolean, got {other}"
                        )));
                    }
                },
                allowed_paymaster: match o.get("allowedPaymaster") {
                    None | Some(Value::Null) => Address::ZERO,
                    Some(v) => address_value(v, "allowedPaymaster")?,
                },
            },
            "rate-limit" => PolicyKind::RateLimit {
                interval: u64_field(o, "interval")?.unwrap_or(0),
                count: u64_field(o, "count")?.ok_or_else(|| err("rate-limit needs `count`"))?,
                start_at: u64_field(o, "startAt")?.unwrap_or(0),
            },
            "signature-caller" => PolicyKind::SignatureCaller {
                allowed_callers: o
                    .get("allowedCallers")
                    .and_then(Value::as_array)
                    .ok_or_else(|| err("signature-caller needs an `allowedCallers` array"))?
                    .iter()
                    .map(|v| address_value(v, "allowedCallers"))
                    .collect::<Result<_, _>>()?,
            },
            "call" => {
                let version = match o.get("policyVersion") {
                    None | Some(Value::Null) => CallPolicyVersion::default(),
                    Some(Value::String(s)) => CallPolicyVersion::parse(s).ok_or_else(|| {
                        err(format!(
                            "unsupported call policy version {s:?}: expected 0.0.4 or 0.0.5"
                        ))
                    })?,
                    Some(other) => {
                        return Err(err(format!("policyVersion: expected a string, got {other}")));
                    }
                };
                let permissions = match o.get("permissions") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items
                        .iter()
                        .enumerate()
                        .map(|(index, p)| {
                            permission_from_json(p)
                                .map_err(|reason| PolicyError::CallPermission { index, reason })
                        })
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err(err("`permissions` must be an array")),
                };
                let policy = CallPolicy { version, permissions };
                policy.validate()?;
                PolicyKind::Call(policy)
            }
            "budget" => PolicyKind::Budget(budget_from_json(o)?),
            "spending-limit" => {
                PolicyKind::Budget(Budget::new().limit(spending_limit_from_json(o)?))
            }
            "ops-per-period" => {
                let count =
                    u64_field(o, "count")?.ok_or_else(|| err("ops-per-period needs `count`"))?;
                let count = u32::try_from(count)
                    .map_err(|_| err(format!("count = {count} does not fit in uint32")))?;
                PolicyKind::Budget(Budget::new().ops_per_period(
                    count,
                    u64_field(o, "period")?.unwrap_or(0),
                    u64_field(o, "start")?.unwrap_or(0),
                ))
            }
            other => {
                return Err(err(format!(
                    "unknown policy type {other:?}: expected sudo, timestamp, gas, rate-limit, signature-caller, call, budget, spending-limit or ops-per-period"
                )));
            }
        };
        let policy = Self { kind, flag };
        policy.validate()?;
        Ok(policy)
    }
}

/// Namera's own JSON for the budget policy (ZeroDev's SDK has no such policy): `limits`
/// (`token`, `amount` as a decimal string, `period`, `start`, optional `budget` name),
/// optional `ops` (`count`, `period`, `start`), `allowSignatures`, `allowOtherCalls`.
fn budget_to_json(b: &Budget, m: &mut Map<String, Value>) {
    let limits: Vec<Value> = b
        .limits
        .iter()
        .map(|l| {
            let mut o = json!({
                "token": if l.token == super::NATIVE_TOKEN { "native".to_owned() } else { l.token.to_checksum(None) },
                "amount": l.amount.to_string(),
                "period": l.period,
                "start": l.start,
            });
            if let Some(name) = &l.budget {
                o["budget"] = name.as_str().into();
            }
            o
        })
        .collect();
    m.insert("limits".into(), limits.into());
    if let Some(o) = b.ops {
        m.insert("ops".into(), json!({"count": o.count, "period": o.period, "start": o.start}));
    }
    m.insert("allowSignatures".into(), b.allow_signatures.into());
    m.insert("allowOtherCalls".into(), b.allow_other_calls.into());
}

/// `{"type":"spending-limit","token":"native"|"0x…","amount":"<base units>","period":<s>,
/// "start":<s>,"budget":"<shared name>"}`: one limit. Without `start`, periods count from
/// the epoch (a 24 h period turns at 00:00 UTC).
const SPENDING_LIMIT_FIELDS: &[&str] = &["token", "amount", "period", "start", "budget"];
const OPS_FIELDS: &[&str] = &["count", "period", "start"];

fn spending_limit_from_json(l: &Map<String, Value>) -> Result<SpendingLimit, PolicyError> {
    let token = match l.get("token") {
        Some(Value::String(s)) if s == "native" => super::NATIVE_TOKEN,
        Some(v) => address_value(v, "token")?,
        None => return Err(err("spending-limit needs `token` (\"native\" or an ERC-20 address)")),
    };
    let amount =
        uint_value(l.get("amount").ok_or_else(|| err("spending-limit needs `amount`"))?, "amount")?;
    let amount = u128::try_from(amount)
        .map_err(|_| err(format!("amount = {amount} does not fit in uint128")))?;
    let mut limit = SpendingLimit::new(
        token,
        amount,
        u64_field(l, "period")?.unwrap_or(0),
        u64_field(l, "start")?.unwrap_or(0),
    );
    match l.get("budget") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => limit = limit.shared(BudgetName::new(name)?),
        Some(other) => return Err(err(format!("budget: expected a name, got {other}"))),
    }
    Ok(limit)
}

fn budget_from_json(o: &Map<String, Value>) -> Result<Budget, PolicyError> {
    let bool_field = |key: &str| match o.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(err(format!("{key}: expected true or false, got {other}"))),
    };
    let mut b = Budget {
        allow_signatures: bool_field("allowSignatures")?,
        allow_other_calls: bool_field("allowOtherCalls")?,
        ..Budget::default()
    };
    let limits = match o.get("limits") {
        None | Some(Value::Null) => &Vec::new(),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(err("`limits` must be an array")),
    };
    for (i, l) in limits.iter().enumerate() {
        let l = l.as_object().ok_or_else(|| err(format!("limits[{i}] must be an object")))?;
        deny_unknown(l, &format!("limits[{i}]"), SPENDING_LIMIT_FIELDS)
            .map_err(PolicyError::UnknownField)?;
        let limit = spending_limit_from_json(l).map_err(|e| match e {
            PolicyError::Json(m) => err(format!("limits[{i}]: {m}")),
            other => other,
        })?;
        b.limits.push(limit);
    }
    match o.get("ops") {
        None | Some(Value::Null) => {}
        Some(Value::Object(ops)) => {
            deny_unknown(ops, "ops", OPS_FIELDS).map_err(PolicyError::UnknownField)?;
            let count = u64_field(ops, "count")?.ok_or_else(|| err("ops needs `count`"))?;
            let count = u32::try_from(count)
                .map_err(|_| err(format!("ops.count = {count} does not fit in uint32")))?;
            b.ops = Some(OpsLimit {
                count,
                period: u64_field(ops, "period")?.unwrap_or(0),
                start: u64_field(ops, "start")?.unwrap_or(0),
            });
        }
        Some(_) => return Err(err("`ops` must be an object")),
    }
    Ok(b)
}

/// Refuses a key of `o` not in `known` (ignoring one would silently drop a constraint:
/// `valid_until` for `validUntil` makes a key valid forever), naming its path under
/// `prefix` and the name probably meant.
fn deny_unknown(o: &Map<String, Value>, prefix: &str, known: &[&str]) -> Result<(), String> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            Err(crate::fields::unknown_field_message(&path, k, known))
        }
    }
}

fn err(msg: impl Into<String>) -> PolicyError {
    PolicyError::Json(msg.into())
}

fn str_field<'a>(o: &'a Map<String, Value>, key: &str) -> Result<&'a str, PolicyError> {
    o.get(key).and_then(Value::as_str).ok_or_else(|| err(format!("missing string field `{key}`")))
}

fn u64_field(o: &Map<String, Value>, key: &str) -> Result<Option<u64>, PolicyError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let n = uint_value(v, key)?;
            u64::try_from(n).map(Some).map_err(|_| err(format!("{key} = {n} is too large")))
        }
    }
}

/// An unsigned integer written as a JSON number, a decimal string or a 0x-hex string.
fn uint_value(v: &Value, what: &str) -> Result<U256, PolicyError> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| err(format!("{what}: {n} is not a non-negative integer"))),
        Value::String(s) => {
            let parsed = match s.strip_prefix("0x") {
                Some(h) => U256::from_str_radix(h, 16),
                None => U256::from_str_radix(s, 10),
            };
            parsed.map_err(|e| err(format!("{what}: {s:?} is not an unsigned integer ({e})")))
        }
        other => Err(err(format!("{what}: expected an integer, got {other}"))),
    }
}

fn address_value(v: &Value, what: &str) -> Result<Address, PolicyError> {
    let s =
        v.as_str().ok_or_else(|| err(format!("{what}: expected an address string, got {v}")))?;
    crate::address::parse_address(s).map_err(|e| err(format!("{what}: {e}")))
}

fn arg_value_to_json(v: &ArgValue) -> Value {
    match v {
        ArgValue::Text(s) => s.clone().into(),
        ArgValue::Number(n) => (*n).into(),
        ArgValue::Bool(b) => (*b).into(),
    }
}

fn arg_value_from_json(v: &Value) -> Result<ArgValue, String> {
    match v {
        Value::String(s) => Ok(ArgValue::Text(s.clone())),
        Value::Bool(b) => Ok(ArgValue::Bool(*b)),
        Value::Number(n) => n
            .as_u64()
            .map(ArgValue::Number)
            .ok_or_else(|| format!("{n} is not a non-negative integer")),
        other => Err(format!("unsupported argument value {other}")),
    }
}

fn arg_rule_to_json(rule: &ArgRule) -> Value {
    match rule {
        ArgRule::Compare { condition, value } => {
            json!({ "condition": *condition as u8, "value": arg_value_to_json(value) })
        }
        ArgRule::OneOf(values) => json!({
            "condition": ParamCondition::OneOf as u8,
            "value": values.iter().map(arg_value_to_json).collect::<Vec<_>>(),
        }),
        ArgRule::SliceEqual { value, start, length } => json!({
            "condition": ParamCondition::SliceEqual as u8,
            "value": arg_value_to_json(value),
            "start": start,
            "length": length,
        }),
    }
}

fn condition_from_json(v: Option<&Value>) -> Result<ParamCondition, String> {
    match v {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .and_then(ParamCondition::from_u8)
            .ok_or_else(|| format!("unknown condition {n}")),
        Some(Value::String(s)) => ParamCondition::from_name(s).ok_or_else(|| {
            format!("unknown condition {s:?}: expected EQUAL, GREATER_THAN, LESS_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN_OR_EQUAL, NOT_EQUAL, ONE_OF or SLICE_EQUAL")
        }),
        _ => Err("a rule needs a `condition`".into()),
    }
}

fn arg_rule_from_json(index: usize, v: &Value) -> Result<Option<ArgRule>, String> {
    let o = match v {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        other => {
            return Err(format!("an argument condition must be an object or null, got {other}"));
        }
    };
    deny_unknown(o, &format!("args[{index}]"), &["condition", "value", "start", "length"])?;
    let condition = condition_from_json(o.get("condition"))?;
    let value = o.get("value").ok_or("an argument condition needs a `value`")?;
    Ok(Some(match condition {
        ParamCondition::OneOf => ArgRule::OneOf(
            value
                .as_array()
                .ok_or("ONE_OF needs an array of values")?
                .iter()
                .map(arg_value_from_json)
                .collect::<Result<_, _>>()?,
        ),
        ParamCondition::SliceEqual => {
            let n = |k: &str| {
                o.get(k).and_then(Value::as_u64).ok_or(format!("SLICE_EQUAL needs a numeric `{k}`"))
            };
            ArgRule::SliceEqual {
                value: arg_value_from_json(value)?,
                start: n("start")?,
                length: n("length")?,
            }
        }
        condition => ArgRule::Compare { condition, value: arg_value_from_json(value)? },
    }))
}

fn rule_to_json(r: &ParamRule) -> Value {
    let params: Vec<Value> = r.params.iter().map(|p| p.to_string().into()).collect();
    json!({ "params": params, "offset": r.offset, "condition": r.condition as u8 })
}

fn rule_from_json(index: usize, v: &Value) -> Result<ParamRule, String> {
    let o = v.as_object().ok_or("a rule must be an object")?;
    deny_unknown(o, &format!("rules[{index}]"), &["condition", "offset", "params"])?;
    let condition = condition_from_json(o.get("condition"))?;
    let offset =
        o.get("offset").and_then(Value::as_u64).ok_or("a rule needs a numeric `offset`")?;
    let word = |p: &Value| -> Result<B256, String> {
        let s = p.as_str().ok_or("rule params must be hex strings")?;
        let raw = alloy_primitives::hex::decode(s).map_err(|e| format!("rule param {s:?}: {e}"))?;
        if raw.len() > 32 {
            return Err(format!("rule param {s:?} is longer than 32 bytes"));
        }
        let mut w = B256::ZERO;
        w[32 - raw.len()..].copy_from_slice(&raw);
        Ok(w)
    };
    let params = match o.get("params") {
        Some(Value::Array(items)) => items.iter().map(word).collect::<Result<_, _>>()?,
        Some(single @ Value::String(_)) => vec![word(single)?],
        _ => return Err("a rule needs `params`".into()),
    };
    Ok(ParamRule { condition, offset, params })
}

fn permission_to_json(p: &CallPermission) -> Value {
    let l = &p.layout;
    let present = |k: &str| match k {
        "callType" => l.explicit_call_type,
        "valueLimit" => l.explicit_value_limit,
        "selector" => l.explicit_selector,
        "rules" => l.explicit_rules,
        "target" => true,
        "abi" | "functionName" => p.source.is_some(),
        "args" => p
            .source
            .as_ref()
            .is_some_and(|s| !s.args.is_empty() || l.read_order.iter().any(|k| k == "args")),
        _ => false,
    };
    let value = |k: &str| -> Value {
        match k {
            "callType" => format!("0x{:02x}", p.call_type.byte()).into(),
            "target" => format!("{:#x}", p.target).into(),
            "valueLimit" => p.value_limit.to_string().into(),
            "abi" => p.source.as_ref().map(|s| s.abi.clone()).unwrap_or_default(),
            "functionName" => {
                p.source.as_ref().map(|s| s.function_name.clone()).unwrap_or_default().into()
            }
            "selector" => p.selector.to_string().into(),
            "args" => p
                .source
                .as_ref()
                .map(|s| {
                    s.args
                        .iter()
                        .map(|a| a.as_ref().map_or(Value::Null, arg_rule_to_json))
                        .collect::<Vec<_>>()
                        .into()
                })
                .unwrap_or_default(),
            "rules" => p.rules.iter().map(rule_to_json).collect::<Vec<_>>().into(),
            _ => Value::Null,
        }
    };
    let mut m = Map::new();
    // The author's keys first (in the order read, or canonical order), then the ones
    // ZeroDev's SDK fills in, in the order it appends them.
    let authored = l.read_order.iter().map(String::as_str).chain(CANONICAL_ORDER);
    for k in authored {
        if present(k) && !m.contains_key(k) {
            m.insert(k.to_owned(), value(k));
        }
    }
    for k in ["callType", "selector", "valueLimit", "rules"] {
        if !m.contains_key(k) {
            m.insert(k.to_owned(), value(k));
        }
    }
    Value::Object(m)
}

fn permission_from_json(v: &Value) -> Result<CallPermission, String> {
    let o = v.as_object().ok_or("a permission must be an object")?;
    deny_unknown(o, "", &CANONICAL_ORDER)?;
    let target: Address = match o.get("target") {
        Some(Value::String(s)) => {
            crate::address::parse_address(s).map_err(|e| format!("target: {e}"))?
        }
        _ => return Err("a permission needs a `target` address (0x000…0 for any)".into()),
    };
    let call_type = match o.get("callType") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "0x00" | "call" => PermissionCallType::Single,
            "0x01" | "batch" => PermissionCallType::Batch,
            "0xff" | "delegatecall" => PermissionCallType::DelegateCall,
            other => {
                return Err(format!("unknown callType {other:?}: expected 0x00, 0x01 or 0xff"));
            }
        }),
        Some(other) => return Err(format!("callType: expected a string, got {other}")),
    };
    let selector: Option<FixedBytes<4>> = match o.get("selector") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.parse().map_err(|e| format!("selector {s:?}: {e}"))?),
        Some(other) => return Err(format!("selector: expected a hex string, got {other}")),
    };
    let value_limit = match o.get("valueLimit") {
        None | Some(Value::Null) => None,
        Some(v) => Some(uint_value(v, "valueLimit").map_err(|e| e.to_string())?),
    };
    let rules = match o.get("rules") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, r)| rule_from_json(i, r))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err("`rules` must be an array".into()),
    };
    let source = match (o.get("abi"), o.get("functionName")) {
        (Some(abi), Some(Value::String(name))) if !abi.is_null() => {
            let args = match o.get("args") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, a)| arg_rule_from_json(i, a))
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("`args` must be an array".into()),
            };
            Some(AbiSource { abi: abi.clone(), function_name: name.clone(), args })
        }
        (Some(abi), None) if !abi.is_null() => return Err("`abi` needs a `functionName`".into()),
        _ => None,
    };
    // As in ZeroDev's SDK: explicit selector and rules win; otherwise derive from the ABI.
    let derived = match &source {
        Some(s) if selector.is_none() || rules.is_none() => Some(resolve_abi(s, selector)?),
        _ => None,
    };
    let layout = KeyLayout {
        explicit_call_type: call_type.is_some(),
        explicit_selector: selector.is_some(),
        explicit_value_limit: value_limit.is_some(),
        explicit_rules: rules.is_some(),
        read_order: o.keys().cloned().collect(),
    };
    Ok(CallPermission {
        call_type: call_type.unwrap_or(PermissionCallType::Single),
        target,
        selector: selector.or(derived.as_ref().map(|d| d.0)).unwrap_or(FixedBytes::ZERO),
        value_limit: value_limit.unwrap_or(U256::ZERO),
        rules: rules.or(derived.map(|d| d.1)).unwrap_or_default(),
        source,
        layout,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Every one of these was silently ignored, widening the key (issue 13).
    #[test]
    fn typos_in_policy_fields_are_refused_with_the_name_meant() {
        let cases = [
            (
                json!({"type":"timestamp","valid_until":1000}),
                "unknown field `valid_until`; did you mean `validUntil`?",
            ),
            (
                json!({"type":"rate-limit","count":3,"intervall":60}),
                "unknown field `intervall`; did you mean `interval`?",
            ),
            (
                json!({"type":"gas","allowed":"1","enforcePaymastr":true}),
                "unknown field `enforcePaymastr`; did you mean `enforcePaymaster`?",
            ),
            (
                json!({"type":"call","permissions":[{"target":"0x0000000000000000000000000000000000000001","valueLimt":"5"}]}),
                "permissions[0]: unknown field `valueLimt`; did you mean `valueLimit`?",
            ),
            (
                json!({"type":"call","permissions":[{"target":"0x0000000000000000000000000000000000000001",
                    "abi":[{"type":"function","name":"f","inputs":[{"name":"x","type":"uint256"}],"outputs":[],"stateMutability":"nonpayable"}],
                    "functionName":"f","args":[{"condition":"EQUAL","value":1,"lenght":1}]}]}),
                "permissions[0]: unknown field `args[0].lenght`; did you mean `length`?",
            ),
            (
                json!({"type":"sudo","colour":1}),
                "unknown field `colour`; expected one of type, policyAddress, policyFlag",
            ),
        ];
        for (policy, message) in cases {
            let e = Policy::from_json(&policy).unwrap_err();
            assert_eq!(e.to_string(), message, "{policy}");
        }
    }

    #[test]
    fn policy_addresses_follow_the_one_checksum_rule() {
        let typo = "0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958a";
        let e =
            Policy::from_json(&json!({"type":"call","permissions":[{"target":typo}]})).unwrap_err();
        assert!(e.to_string().contains("wrong EIP-55 checksum"), "{e}");
        let e = Policy::from_json(&json!({"type":"signature-caller","allowedCallers":[typo]}))
            .unwrap_err();
        assert!(e.to_string().contains("wrong EIP-55 checksum"), "{e}");
        let lower = typo.to_lowercase();
        assert!(
            Policy::from_json(&json!({"type":"call","permissions":[{"target":lower}]})).is_ok()
        );
    }

    #[test]
    fn what_the_sdk_writes_reads_back() {
        for p in [
            json!({"type":"gas","allowed":"1","enforcePaymaster":true,"allowedPaymaster":"0x0000000000000000000000000000000000000002"}),
            json!({"type":"rate-limit","count":3,"interval":60,"startAt":5}),
            json!({"type":"call","permissions":[{"target":"0x0000000000000000000000000000000000000001","valueLimit":"5"}]}),
        ] {
            let policy = Policy::from_json(&p).unwrap();
            assert_eq!(Policy::from_json(&policy.to_json()).unwrap(), policy);
        }
    }
}

//! Interactive prompts: only for a person at a terminal (see [`Shell::interactive`]).
//! Agents and scripts never reach this module.
//!
//! [`Shell::interactive`]: crate::output::Shell::interactive

use namera::{chain::ChainInfo, policy::Policy};
use serde_json::{Map, Value, json};

use crate::{
    context::Context,
    error::{CliError, ErrorKind},
    params::CommandInput,
    policy_input::PolicyArg,
    values::{AddressArg, AmountArg},
};

/// A prompt that could not finish: the person cancelled it, or the terminal failed.
pub(crate) fn prompt_error(e: inquire::InquireError) -> CliError {
    use inquire::InquireError as E;
    match e {
        E::OperationCanceled | E::OperationInterrupted => CliError::new(
            ErrorKind::Other,
            "cancelled",
            "cancelled at the prompt; nothing was changed",
        ),
        other => CliError::new(ErrorKind::Other, "prompt", format!("the prompt failed: {other}")),
    }
}

/// Asks for each missing field that fits on one line, using its schema's description
/// as the help text. Lists are asked comma-separated.
pub(crate) fn fill_missing<T: CommandInput>(
    missing: &[&str],
    merged: &mut Map<String, Value>,
) -> Result<(), CliError> {
    let schema = serde_json::to_value(crate::params::schema_of::<T>()).unwrap_or_default();
    for &field in missing {
        let prop = &schema["properties"][field];
        let is_list = prop["type"] == "array";
        let item_is_text = prop["items"]["type"] == "string" || prop["items"].is_null();
        if is_list && !item_is_text {
            // Policies, calls, batches: the command asks for them its own way.
            continue;
        }
        let help = prop["description"].as_str().unwrap_or("");
        let label = format!("{}:", field.replace('_', " "));
        let answer = inquire::Text::new(&label)
            .with_help_message(help)
            .with_validator(|s: &str| {
                Ok(if s.trim().is_empty() {
                    inquire::validator::Validation::Invalid("required".into())
                } else {
                    inquire::validator::Validation::Valid
                })
            })
            .prompt()
            .map_err(prompt_error)?;
        let value = if is_list {
            Value::Array(answer.split(',').map(|p| Value::String(p.trim().to_owned())).collect())
        } else {
            Value::String(answer.trim().to_owned())
        };
        merged.insert(field.to_owned(), value);
    }
    Ok(())
}

fn text(label: &str, help: &str) -> Result<String, CliError> {
    inquire::Text::new(label).with_help_message(help).prompt().map_err(prompt_error)
}

fn parsed<T: std::str::FromStr<Err = String>>(
    label: &str,
    help: &str,
    default: Option<&str>,
) -> Result<T, CliError> {
    loop {
        let mut p = inquire::Text::new(label).with_help_message(help);
        if let Some(d) = default {
            p = p.with_default(d);
        }
        let answer = p.prompt().map_err(prompt_error)?;
        match answer.trim().parse() {
            Ok(v) => return Ok(v),
            Err(e) => eprintln!("  {e}"),
        }
    }
}

const POLICY_KINDS: [&str; 8] = [
    "call: which contract and function, down to argument values",
    "gas: a total budget for what the key may spend on gas",
    "time window: valid from / until",
    "rate limit: at most N uses in all (not per period), each at least an interval after the previous",
    "spending limit: at most an amount of one token per period, enforced on chain (optionally a budget shared by several keys)",
    "ops per period: at most N operations in each period",
    "sudo: anything the owner could do",
    "done",
];

/// Builds a key's policies step by step, then shows them in words for confirmation.
/// `chains` are the key's: a spending limit written as "100 USDC" is turned into base
/// units with the decimals read there.
pub(crate) fn build_policies(
    ctx: &Context,
    chains: &[ChainInfo],
) -> Result<Vec<PolicyArg>, CliError> {
    let mut policies: Vec<PolicyArg> = Vec::new();
    loop {
        let mut kinds = POLICY_KINDS.to_vec();
        if policies.is_empty() {
            kinds.pop();
        }
        let choice = inquire::Select::new(
            if policies.is_empty() {
                "Add a policy:"
            } else {
                "Add another policy (every one must pass):"
            },
            kinds,
        )
        .prompt()
        .map_err(prompt_error)?;
        let policy = match choice.split(':').next().unwrap_or_default() {
            "call" => call_policy()?,
            "gas" => {
                let budget: AmountArg =
                    parsed("Gas budget:", "e.g. 0.01ether or a wei amount", None)?;
                json!({ "type": "gas", "allowed": budget.0.to_string() })
            }
            "time window" => {
                let after = parsed::<When>(
                    "Valid from:",
                    "now, +1h, 2026-12-24, 2026-12-24 18:00 (UTC) or unix seconds",
                    Some("now"),
                )?;
                let until = parsed::<When>(
                    "Valid until:",
                    "+1d, +2h, a date (UTC) or unix seconds",
                    Some("+1d"),
                )?;
                json!({ "type": "timestamp", "validAfter": after.0, "validUntil": until.0 })
            }
            "rate limit" => {
                let count: u64 = parsed::<Count>(
                    "At most how many uses in all (a total, not per period)?",
                    "a whole number ≥ 1",
                    Some("10"),
                )?
                .0;
                let interval = parsed::<Span>(
                    "Each use at least how long after the previous?",
                    "e.g. 30s, 10m, 1h, 1d",
                    Some("1h"),
                )?;
                json!({ "type": "rate-limit", "count": count, "interval": interval.0 })
            }
            "spending limit" => spending_limit(ctx, chains)?,
            "ops per period" => {
                let count = parsed::<Count>(
                    "At most how many operations in each period?",
                    "a whole number ≥ 1",
                    Some("10"),
                )?
                .0;
                let period =
                    parsed::<Span>("How long is a period?", "e.g. 10m, 1h, 1d", Some("1d"))?;
                json!({ "type": "ops-per-period", "count": count, "period": period.0 })
            }
            "sudo" => json!({ "type": "sudo" }),
            _ => break,
        };
        // The SDK's parser is the judge; a policy it refuses is not added.
        match Policy::from_json(&policy) {
            Ok(p) => {
                eprintln!("  added: {}", p.describe());
                policies.push(PolicyArg(policy));
            }
            Err(e) => eprintln!("  not added: {e}"),
        }
    }
    eprintln!("The session key will be allowed only this (every policy must pass):");
    for (i, p) in policies.iter().enumerate() {
        let words = Policy::from_json(&p.0).map(|p| p.describe()).unwrap_or_default();
        eprintln!("  [{i}] {words}");
    }
    let ok = inquire::Confirm::new("Create the session key with these policies?")
        .with_default(true)
        .prompt()
        .map_err(prompt_error)?;
    if !ok {
        return Err(CliError::new(
            ErrorKind::Other,
            "cancelled",
            "not confirmed; nothing was changed",
        ));
    }
    Ok(policies)
}

/// A `spending-limit` policy: the token, an amount (written for people, "100 USDC", or in
/// base units), a period, and an optional shared budget name (periods count from the
/// epoch: a 1d period turns at 00:00 UTC). An amount for people is turned into base units
/// at once, with the token's decimals read from the key's chains, and shown both ways.
fn spending_limit(ctx: &Context, chains: &[ChainInfo]) -> Result<Value, CliError> {
    let token = loop {
        let answer = inquire::Text::new("Token:")
            .with_help_message("native, or the ERC-20's address (0x…)")
            .with_default("native")
            .prompt()
            .map_err(prompt_error)?;
        let answer = answer.trim();
        if answer == "native" {
            break answer.to_owned();
        }
        match answer.parse::<AddressArg>() {
            Ok(a) => break a.0.to_checksum(None),
            Err(e) => eprintln!("  {e}"),
        }
    };
    let mut clients = None;
    let amount = loop {
        let answer = inquire::Text::new("At most how much per period?")
            .with_help_message(
                "with the token's symbol (100 USDC, 0.5 ETH), or in base units (100000000)",
            )
            .prompt()
            .map_err(prompt_error)?;
        let answer = answer.trim().to_owned();
        if !answer.contains(' ') {
            match answer.parse::<AmountArg>() {
                Ok(a) => break a.0.to_string(),
                Err(e) => {
                    eprintln!("  {e}");
                    continue;
                }
            }
        }
        if clients.is_none() {
            clients = Some(ctx.connect_all(chains)?);
        }
        let mut limit = json!({"type": "spending-limit", "token": token, "amount": answer});
        match crate::human_amount::resolve(&mut limit, chains, clients.as_deref().unwrap_or(&[])) {
            Ok(()) => {
                let base = limit["amount"].as_str().unwrap_or_default().to_owned();
                eprintln!("  {answer} = {base} base units");
                break base;
            }
            Err(e) => eprintln!("  {e}"),
        }
    };
    let period = parsed::<Span>("How long is a period?", "e.g. 10m, 1h, 1d", Some("1d"))?;
    let budget = inquire::Text::new("Shared budget name (empty: this key's own):")
        .with_help_message("keys of the account that name the same budget draw on one counter")
        .with_default("")
        .prompt()
        .map_err(prompt_error)?;
    let mut policy = json!({
        "type": "spending-limit", "token": token, "amount": amount, "period": period.0
    });
    if !budget.trim().is_empty() {
        policy["budget"] = budget.trim().into();
    }
    Ok(policy)
}

fn call_policy() -> Result<Value, CliError> {
    let target: AddressArg = parsed("Contract (or recipient) address:", "0x…", None)?;
    let limit: AmountArg =
        parsed("Most value one call may send:", "e.g. 0, 1000, 0.01ether", Some("0"))?;
    let use_abi =
        inquire::Confirm::new("Pick a function from an ABI file? (no: plain transfers only)")
            .with_default(false)
            .prompt()
            .map_err(prompt_error)?;
    let mut permission =
        json!({ "target": target.0.to_checksum(None), "valueLimit": limit.0.to_string() });
    if use_abi {
        let (abi, function) = pick_function()?;
        let inputs = function["inputs"].as_array().cloned().unwrap_or_default();
        let mut args = Vec::new();
        for input in &inputs {
            let name = input["name"].as_str().unwrap_or("");
            let ty = input["type"].as_str().unwrap_or("");
            let conditions = vec![
                "any value",
                "EQUAL",
                "NOT_EQUAL",
                "LESS_THAN",
                "LESS_THAN_OR_EQUAL",
                "GREATER_THAN",
                "GREATER_THAN_OR_EQUAL",
                "ONE_OF",
            ];
            let c = inquire::Select::new(&format!("Argument {name} ({ty}):"), conditions)
                .prompt()
                .map_err(prompt_error)?;
            if c == "any value" {
                args.push(Value::Null);
                continue;
            }
            let help = if c == "ONE_OF" {
                "values separated by commas"
            } else {
                "the value to compare with"
            };
            let raw = text("Value:", help)?;
            let value = if c == "ONE_OF" {
                Value::Array(raw.split(',').map(|v| Value::String(v.trim().to_owned())).collect())
            } else {
                Value::String(raw.trim().to_owned())
            };
            args.push(json!({ "condition": c, "value": value }));
        }
        permission["abi"] = abi;
        permission["functionName"] = function["name"].clone();
        permission["args"] = Value::Array(args);
    }
    Ok(json!({ "type": "call", "permissions": [permission] }))
}

/// Reads an ABI file and lets the person pick one of its functions.
fn pick_function() -> Result<(Value, Value), CliError> {
    loop {
        let path = text(
            "ABI file (JSON):",
            "a path to the contract's ABI (an array, or an object with an \"abi\" field)",
        )?;
        let parsed = std::fs::read_to_string(path.trim())
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()));
        let abi = match parsed {
            Ok(Value::Object(mut o)) if o.contains_key("abi") => {
                o.remove("abi").unwrap_or_default()
            }
            Ok(v @ Value::Array(_)) => v,
            Ok(_) => {
                eprintln!("  not an ABI: expected a JSON array");
                continue;
            }
            Err(e) => {
                eprintln!("  {e}");
                continue;
            }
        };
        let functions: Vec<Value> = abi
            .as_array()
            .map(|a| a.iter().filter(|i| i["type"] == "function").cloned().collect())
            .unwrap_or_default();
        if functions.is_empty() {
            eprintln!("  that ABI has no functions");
            continue;
        }
        let labels: Vec<String> = functions
            .iter()
            .map(|f| {
                let args: Vec<&str> = f["inputs"]
                    .as_array()
                    .map(|i| i.iter().filter_map(|x| x["type"].as_str()).collect())
                    .unwrap_or_default();
                format!("{}({})", f["name"].as_str().unwrap_or("?"), args.join(","))
            })
            .collect();
        let picked =
            inquire::Select::new("Function:", labels.clone()).prompt().map_err(prompt_error)?;
        let at = labels.iter().position(|l| *l == picked).unwrap_or(0);
        return Ok((abi, functions[at].clone()));
    }
}

/// A point in time a person typed: `now`, `+1h`, `2026-12-24`, `2026-12-24 18:00` (UTC)
/// or unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct When(pub(crate) u64);

impl std::str::FromStr for When {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let s = s.trim();
        if s == "now" {
            return Ok(Self(now));
        }
        if let Some(span) = s.strip_prefix('+') {
            return span.parse::<Span>().map(|d| Self(now + d.0));
        }
        if let Ok(secs) = s.parse::<u64>() {
            return Ok(Self(secs));
        }
        let (date, time) = s.split_once([' ', 'T']).unwrap_or((s, "00:00"));
        let bad = || {
            format!(
                "{s:?} is not a time: use now, +1h, 2026-12-24, 2026-12-24 18:00 or unix seconds"
            )
        };
        let d: Vec<i64> =
            date.split('-').map(|p| p.parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
        let t: Vec<u64> =
            time.split(':').map(|p| p.parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
        let [year, month, day] = d[..] else { return Err(bad()) };
        let (hour, minute) = match t[..] {
            [h, m] | [h, m, _] => (h, m),
            _ => return Err(bad()),
        };
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || year < 1970
        {
            return Err(bad());
        }
        // Days since the epoch from a civil date (the inverse of the usual algorithm).
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let days = u64::try_from(days).map_err(|_| bad())?;
        Ok(Self(days * 86_400 + hour * 3600 + minute * 60))
    }
}

/// A duration a person typed: `90`, `30s`, `10m`, `2h`, `1d`, `1w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span(pub(crate) u64);

impl std::str::FromStr for Span {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (n, unit) = s.split_at(split);
        let n: u64 =
            n.parse().map_err(|_| format!("{s:?} is not a duration (e.g. 30s, 10m, 2h, 1d)"))?;
        let scale = match unit.trim() {
            "" | "s" | "sec" | "secs" | "seconds" => 1,
            "m" | "min" | "mins" | "minutes" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 604_800,
            other => return Err(format!("{s:?}: unknown unit {other:?} (s, m, h, d, w)")),
        };
        n.checked_mul(scale).map(Self).ok_or_else(|| format!("{s:?} is too long"))
    }
}

/// A count of at least one.
struct Count(u64);

impl std::str::FromStr for Count {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok(Self(n)),
            _ => Err(format!("{s:?} is not a whole number ≥ 1")),
        }
    }
}

/// Lets the person pick some of `chains` (all preselected).
pub(crate) fn pick_chains(chains: &[String]) -> Result<Vec<String>, CliError> {
    let all: Vec<usize> = (0..chains.len()).collect();
    let picked = inquire::MultiSelect::new("Approve the key on which chains?", chains.to_vec())
        .with_default(&all)
        .prompt()
        .map_err(prompt_error)?;
    if picked.is_empty() {
        return Err(CliError::new(ErrorKind::Usage, "missing-input", "no chain picked"));
    }
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_write_times_and_durations_many_ways() {
        assert_eq!("2030-01-01".parse::<When>(), Ok(When(1_893_456_000)));
        assert_eq!("2030-01-01 01:30".parse::<When>(), Ok(When(1_893_456_000 + 5400)));
        assert_eq!("2000-02-29T00:00".parse::<When>(), Ok(When(951_782_400)));
        assert_eq!("1893456000".parse::<When>(), Ok(When(1_893_456_000)));
        assert!("2030-13-01".parse::<When>().is_err());
        assert!("tomorrow".parse::<When>().unwrap_err().contains("is not a time"));
        assert_eq!("90".parse::<Span>(), Ok(Span(90)));
        assert_eq!("10m".parse::<Span>(), Ok(Span(600)));
        assert_eq!("2 hours".parse::<Span>(), Ok(Span(7200)));
        assert_eq!("1w".parse::<Span>(), Ok(Span(604_800)));
        assert!("1y".parse::<Span>().unwrap_err().contains("unknown unit"));
    }
}

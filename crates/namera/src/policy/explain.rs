//! "Would this pass?": every policy of a permission judged against one UserOperation,
//! offline, with the same rules the policy contracts apply, and in words.
//!
//! The chain state the answer depends on (gas budget left, rate-limit uses left and the
//! next allowed time, the current time) comes in as [`LiveState`]; reading it is the
//! caller's job (the SDK's session-key client does it in one batched round trip).
//!
//! Every policy gets a [`Verdict`]; which refusal the chain *reports* when several
//! policies refuse follows Kernel's order of checks, and [`chain_refusal`] picks it:
//! Kernel runs the policies in installation order and reverts at the first one that
//! fails (`PolicyFailed(i)`, or the call policy's own error), while a validity window
//! (timestamp, rate-limit spacing) that excludes now is only judged by the EntryPoint
//! after every policy has passed (`AA22`, naming no policy).
//!
//! ERC-1271 signatures made with a session key pass the same policies through another
//! entry point (`checkSignaturePolicy`); [`explain_signature`] judges a request by its
//! caller.
//!
//! ```
//! use alloy_primitives::U256;
//! use namera::policy::{LiveState, Operation, Policy, PolicyKind, chain_refusal, explain};
//! let policies = [
//!     Policy::new(PolicyKind::Timestamp { valid_after: 0, valid_until: 100 }),
//!     Policy::new(PolicyKind::RateLimit { interval: 60, count: 1, start_at: 0 }),
//! ];
//! let op = Operation { sender: Default::default(), call_data: &[], max_cost: U256::ZERO, paymaster: None, now: 200 };
//! let spent = LiveState::RateLimit { uses_left: 0, next_at: 60 };
//! let verdicts = explain(&policies, &op, &[LiveState::Install, spent]);
//! // Both refuse; the chain reports the rate limit (#1 fails outright), not the window (#0).
//! assert!(verdicts[0].outside_window && !verdicts[1].outside_window);
//! assert_eq!(chain_refusal(&verdicts).map(|v| v.index), Some(1));
//! ```

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::SolValue;

use super::{CallPermission, CallPolicy, CallPolicyVersion, ParamCondition, Policy, PolicyKind};
use crate::kernel::{CallType, abi::IKernel};

/// What is known about the operation being judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation<'a> {
    /// The account (zero when not known: the budget policy's checks of calls to the
    /// account itself and of `transferFrom`'s `from` are then skipped).
    pub sender: Address,
    /// The UserOperation's call data.
    pub call_data: &'a [u8],
    /// Its maximum cost in wei, as the gas policy charges it
    /// ([`crate::kernel::UserOperation::max_cost`]).
    pub max_cost: U256,
    /// The paymaster, if any.
    pub paymaster: Option<Address>,
    /// The current time (seconds), as the chain sees it.
    pub now: u64,
}

/// A stateful policy's state on chain (after installation it differs from its install
/// values: budgets shrink, the rate limit's next start moves).
// The budget's counters (288 bytes) make it the large variant; a state is built once per
// policy per explanation, so copying it is cheaper than a heap allocation would be.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    /// Nothing read: judge with the install values (a key not yet installed).
    Install,
    /// The gas policy's allowance left, in wei.
    Gas {
        /// Wei left.
        left: u128,
    },
    /// The budget policy's counters ([`super::read_budget_live`]).
    Budget(super::BudgetLive),
    /// The rate limit's uses left and the earliest time of the next use.
    RateLimit {
        /// Uses left.
        uses_left: u64,
        /// The next use is valid from this second.
        next_at: u64,
    },
}

/// One policy's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The policy's position in the permission.
    pub index: usize,
    /// Its type (`"call"`, `"gas"`, …).
    pub policy: &'static str,
    /// `None` when it would pass; otherwise why not, in words.
    pub refusal: Option<String>,
    /// What is left of its budget, in words, for stateful policies.
    pub budget: Option<String>,
    /// Whether the refusal is a validity window that excludes now (the timestamp window,
    /// the rate limit's next allowed time). The chain judges those after every policy has
    /// run (the EntryPoint's `AA22`), so any policy that fails outright is reported
    /// first, whatever its position.
    pub outside_window: bool,
}

impl Verdict {
    /// Policy `index` (`policy`) passes, until a rule says otherwise.
    fn passing(index: usize, policy: &Policy) -> Self {
        Self {
            index,
            policy: policy.type_name(),
            refusal: None,
            budget: None,
            outside_window: false,
        }
    }

    /// Whether the policy would pass.
    pub const fn passes(&self) -> bool {
        self.refusal.is_none()
    }
}

/// The refusal the chain reports among `verdicts` (as [`explain`] or
/// [`explain_signature`] return them): the first policy, in installation order, that fails
/// outright (Kernel reverts there), or, when none does, the first validity window that
/// excludes now. `None` when every policy passes.
pub fn chain_refusal(verdicts: &[Verdict]) -> Option<&Verdict> {
    verdicts
        .iter()
        .find(|v| !v.passes() && !v.outside_window)
        .or_else(|| verdicts.iter().find(|v| !v.passes()))
}

/// Judge an ERC-1271 signature request from `caller` against every policy, as the
/// policies' `checkSignaturePolicy` does: only the signature-caller policy looks at the
/// request (its caller); the others, time windows and budgets included, let signatures
/// through. Policies that skip signatures pass. A refusal makes the account revert with
/// `PolicyFailed(i)` (the first refusing policy's index).
pub fn explain_signature(policies: &[Policy], caller: Address) -> Vec<Verdict> {
    policies
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let mut v = Verdict::passing(index, p);
            if p.flag.0 & 0x0002 != 0 {
                return v;
            }
            if let PolicyKind::Budget(b) = &p.kind
                && !b.allow_signatures
            {
                v.refusal = Some(
                    "the budget policy refuses ERC-1271 signatures (a permit could move tokens it cannot count)"
                        .into(),
                );
            }
            if let PolicyKind::SignatureCaller { allowed_callers } = &p.kind
                && !allowed_callers.contains(&caller)
            {
                v.refusal = Some(format!(
                    "{caller} may not ask for signature validation (allowed: {})",
                    allowed_callers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ));
            }
            v
        })
        .collect()
}

/// Judge `op` against every policy. `state[i]` is policy `i`'s live state (missing
/// entries mean [`LiveState::Install`]). Policies that skip UserOperations pass.
pub fn explain(policies: &[Policy], op: &Operation<'_>, state: &[LiveState]) -> Vec<Verdict> {
    policies
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let live = state.get(index).copied().unwrap_or(LiveState::Install);
            let mut v = Verdict::passing(index, p);
            if p.flag.0 & 0x0001 != 0 {
                return v;
            }
            match &p.kind {
                PolicyKind::Sudo | PolicyKind::SignatureCaller { .. } => {}
                PolicyKind::Timestamp { valid_after, valid_until } => {
                    v.refusal = window(op.now, *valid_after, *valid_until);
                    v.outside_window = v.refusal.is_some();
                }
                PolicyKind::Gas { allowed, enforce_paymaster, allowed_paymaster } => {
                    let left = match live {
                        LiveState::Gas { left } => left,
                        _ => *allowed,
                    };
                    v.budget = Some(format!("{left} wei of gas budget left"));
                    // As the contract: enforcePaymaster checks only when a paymaster is named
                    // (none named: nothing is checked); with one named, an operation without
                    // a paymaster reverts with no data, another paymaster fails the policy.
                    let named = *enforce_paymaster && *allowed_paymaster != Address::ZERO;
                    v.refusal = if named && op.paymaster.is_none() {
                        Some(format!(
                            "{BARE}: only paymaster {allowed_paymaster} may pay, and the operation has none"
                        ))
                    } else if named && op.paymaster != Some(*allowed_paymaster) {
                        Some(format!("only paymaster {allowed_paymaster} is allowed"))
                    } else if charged(op.max_cost) > U256::from(left) {
                        Some(format!(
                            "the operation may cost up to {} wei but only {left} wei of gas budget is left",
                            op.max_cost
                        ))
                    } else {
                        None
                    };
                }
                PolicyKind::RateLimit { count, start_at, interval } => {
                    let (uses_left, next_at) = match live {
                        LiveState::RateLimit { uses_left, next_at } => (uses_left, next_at),
                        _ => (*count, *start_at),
                    };
                    v.budget = Some(format!(
                        "{uses_left} of {count} uses left in all, the next allowed from {next_at} (each at least {interval} s after the previous)"
                    ));
                    v.refusal = if uses_left == 0 {
                        Some("every allowed use has been spent".into())
                    } else if op.now < next_at {
                        v.outside_window = true;
                        Some(format!("the next use is allowed from {next_at}, {} s from now", next_at - op.now))
                    } else {
                        None
                    };
                }
                PolicyKind::Call(c) => v.refusal = check_call_policy(c, op.call_data).err(),
                PolicyKind::Budget(b) => {
                    let live = match &live {
                        LiveState::Budget(l) => Some(l),
                        _ => None,
                    };
                    match super::budget_check(b, op.sender, op.call_data, op.now, live) {
                        Ok(charges) => {
                            v.budget = Some(budget_left_in_words(&charges, live.copied().unwrap_or_default()));
                        }
                        // A refusal still says where the budget stands (and so does a
                        // probe with no call data, as a key's status is read).
                        Err(e) => {
                            v.budget = live.map(|l| {
                                format!("now: {}", super::budget_standing(b, l, op.now))
                            });
                            v.refusal = Some(e);
                        }
                    }
                }
            }
            v
        })
        .collect()
}

/// "37500000 of 100000000 left until 2026-12-05 14:00:00 UTC" for each limit an operation
/// touches (after the operation).
fn budget_left_in_words(charges: &[super::BudgetCharge], live: super::BudgetLive) -> String {
    if charges.is_empty() {
        return "spends nothing that is counted".into();
    }
    let parts: Vec<String> = charges
        .iter()
        .map(|c| {
            let after = U256::from(c.left()).saturating_sub(c.requested);
            let what = if c.limit_index == super::MAX_LIMITS {
                format!("{after} of {} operations left", c.limit)
            } else {
                format!(
                    "{} left",
                    live.left_in_words(c.limit_index, c.token, after, U256::from(c.limit))
                )
            };
            match c.window {
                Some((_, until)) => format!("{what} until {}", super::utc(until + 1)),
                None => what,
            }
        })
        .collect();
    format!("after this operation: {}", parts.join("; "))
}

/// How a refusal reverting with no data is named (where a contract error name would be).
pub const BARE: &str = "bare revert";

/// Keep the contract's error name first (`Name: context: details`), so callers can
/// match it.
fn with_context(e: &str, context: &str) -> String {
    match e.split_once(": ") {
        Some((name, rest)) => format!("{name}: {context}: {rest}"),
        None => format!("{context}: {e}"),
    }
}

/// What the gas policy charges for a cost: its low 128 bits (the contract casts to uint128).
fn charged(max_cost: U256) -> U256 {
    max_cost & U256::from(u128::MAX)
}

fn window(now: u64, after: u64, until: u64) -> Option<String> {
    if now < after {
        Some(format!("valid from {after}, {} s from now", after - now))
    } else if until != 0 && now > until {
        Some(format!("expired at {until}, {} s ago", now - until))
    } else {
        None
    }
}

/// The call policy's decision, as the published contract of its version makes it
/// (contracts/CANONICAL.md): the error name first, [`BARE`] where the contract reverts with
/// no data (call data that is not `execute`, too short for what it must hold).
fn check_call_policy(policy: &CallPolicy, cd: &[u8]) -> Result<(), String> {
    use alloy_sol_types::SolCall;
    if cd.len() < 36 || cd[..4] != IKernel::executeCall::SELECTOR {
        return Err(format!("{BARE}: the call data is not an ERC-7579 execute call"));
    }
    let call = IKernel::executeCall::abi_decode(cd)
        .map_err(|e| format!("{BARE}: execute arguments do not decode ({e})"))?;
    let exec = &call.executionCalldata;
    match CallType::from_byte(call.execMode[0]) {
        Some(CallType::Single) => {
            if exec.len() < 52 {
                return Err(format!("{BARE}: single execution shorter than 52 bytes"));
            }
            let to = Address::from_slice(&exec[..20]);
            check_call(
                policy,
                CallType::Single,
                to,
                U256::from_be_slice(&exec[20..52]),
                &exec[52..],
            )
        }
        Some(CallType::Batch) => {
            let items = Vec::<crate::kernel::abi::Execution>::abi_decode(exec)
                .map_err(|e| format!("{BARE}: batch does not decode ({e})"))?;
            for (i, it) in items.iter().enumerate() {
                check_call(policy, CallType::Single, it.target, it.value, &it.callData)
                    .map_err(|e| with_context(&e, &format!("batch item {i}")))?;
            }
            Ok(())
        }
        Some(CallType::DelegateCall) => {
            if exec.len() < 20 {
                return Err(format!("{BARE}: delegatecall shorter than 20 bytes"));
            }
            check_call(
                policy,
                CallType::DelegateCall,
                Address::from_slice(&exec[..20]),
                U256::ZERO,
                &exec[20..],
            )
        }
        None => {
            Err(format!("InvalidCallType: call type 0x{:02x} is not allowed", call.execMode[0]))
        }
    }
}

/// The error each version reverts with when no permission matches.
const fn no_match_error(version: CallPolicyVersion) -> &'static str {
    match version {
        CallPolicyVersion::V0_0_4 => "InvalidCallData",
        CallPolicyVersion::V0_0_5 => "CallViolatesTargetRule",
    }
}

fn check_call(
    policy: &CallPolicy,
    ct: CallType,
    to: Address,
    value: U256,
    data: &[u8],
) -> Result<(), String> {
    let selector: [u8; 4] = match data.len() {
        0 => [0; 4],
        1..=3 => return Err(format!("{BARE}: call data shorter than a selector")),
        _ => [data[0], data[1], data[2], data[3]],
    };
    let find = |target: Address| -> Option<&CallPermission> {
        policy
            .permissions
            .iter()
            .find(|p| p.call_type == ct && p.target == target && p.selector.0 == selector)
    };
    let Some(p) = find(to).or_else(|| find(Address::ZERO)) else {
        return Err(format!(
            "{}: no permission allows {} to {to} with selector 0x{}",
            no_match_error(policy.version),
            if selector == [0; 4] { "a plain transfer".to_owned() } else { "a call".to_owned() },
            alloy_primitives::hex::encode(selector)
        ));
    };
    if value > p.value_limit {
        return Err(format!(
            "CallViolatesValueRule: value {value} exceeds the limit {}",
            p.value_limit
        ));
    }
    for (n, r) in p.rules.iter().enumerate() {
        let named = p.argument_at(r.offset);
        let argument = super::describe::argument_in_words(named.as_ref(), r.offset);
        let at = 4 + r.offset as usize;
        let Some(word) = data.get(at..at + 32) else {
            return Err(format!("{BARE}: rules[{n}]: the call has no {argument}"));
        };
        let arg = U256::from_be_slice(word);
        let ok = match r.condition {
            ParamCondition::SliceEqual => slice_equal(data, arg, &r.params)
                .map_err(|e| with_context(&e, &format!("rules[{n}] ({argument})")))?,
            c => c.holds(arg, &r.params),
        };
        if !ok {
            let ty = named.as_ref().map(|(_, t)| t.as_str());
            let given = super::describe::word_in_words(arg, ty);
            let allowed: Vec<String> = r
                .params
                .iter()
                .map(|w| super::describe::word_in_words(U256::from_be_bytes(w.0), ty))
                .collect();
            return Err(match r.condition {
                // SLICE_EQUAL's word is the offset of the bytes, not a value to show.
                ParamCondition::SliceEqual => format!(
                    "CallViolatesParamRule: rules[{n}] (SLICE_EQUAL on {argument}): the bytes \
                     {}..+{} do not hash to the allowed value",
                    allowed.first().map_or("?", String::as_str),
                    allowed.get(1).map_or("?", String::as_str)
                ),
                c => format!(
                    "CallViolatesParamRule: rules[{n}] ({} on {argument}): {given} is not {} {}",
                    c.name(),
                    condition_words(c),
                    allowed.join(" | ")
                ),
            });
        }
    }
    Ok(())
}

/// What a condition requires, to follow "is not": "`x` is not ≤ 100".
fn condition_words(c: ParamCondition) -> &'static str {
    match c {
        ParamCondition::NotEqual => "other than",
        c => super::describe::condition_in_words(c),
    }
}

/// SLICE_EQUAL as 0.0.5 computes it: the argument's length word at `4 + argOffset`, its
/// bytes after it, positions taken as given and read as zeros past the end of the data.
fn slice_equal(data: &[u8], arg_offset: U256, params: &[B256]) -> Result<bool, String> {
    let [start, length, expected] = params else { return Err("SLICE_EQUAL needs 3 params".into()) };
    let (start, length) = (U256::from_be_bytes(start.0), U256::from_be_bytes(length.0));
    let padded = |from: U256, n: usize| -> Vec<u8> {
        let mut out = vec![0u8; n];
        if let Ok(from) = usize::try_from(from) {
            for (i, b) in out.iter_mut().enumerate() {
                if let Some(x) = from.checked_add(i).and_then(|at| data.get(at)) {
                    *b = *x;
                }
            }
        }
        out
    };
    let len_pos = arg_offset.wrapping_add(U256::from(4));
    let arg_len = U256::from_be_slice(&padded(len_pos, 32));
    let end = start
        .checked_add(length)
        .ok_or_else(|| "panic 0x11: start + length overflows".to_owned())?;
    if arg_len < end {
        return Err("ParamTooShort: the argument is shorter than the slice".to_owned());
    }
    let length = usize::try_from(length).map_err(|_| "the slice is too long to hash".to_owned())?;
    let from = len_pos.wrapping_add(U256::from(32)).wrapping_add(start);
    Ok(keccak256(padded(from, length)) == *expected)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Bytes, address};

    use super::*;
    use crate::kernel::{Call, ExecType, encode_calls};

    fn op(call_data: &[u8], max_cost: u64, now: u64) -> Operation<'_> {
        Operation {
            sender: Address::ZERO,
            call_data,
            max_cost: U256::from(max_cost),
            paymaster: None,
            now,
        }
    }

    fn transfer_data(value: u64) -> Bytes {
        let to = address!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a");
        encode_calls(
            Address::ZERO,
            &[Call::transfer(to, U256::from(value))],
            false,
            ExecType::Default,
        )
        .unwrap()
    }

    #[test]
    fn timestamp_window() {
        let p = [Policy::new(PolicyKind::Timestamp { valid_after: 100, valid_until: 200 })];
        let d = transfer_data(1);
        assert_eq!(
            explain(&p, &op(&d, 0, 99), &[])[0].refusal.as_deref(),
            Some("valid from 100, 1 s from now")
        );
        assert!(explain(&p, &op(&d, 0, 100), &[])[0].passes());
        assert!(explain(&p, &op(&d, 0, 200), &[])[0].passes());
        assert_eq!(
            explain(&p, &op(&d, 0, 205), &[])[0].refusal.as_deref(),
            Some("expired at 200, 5 s ago")
        );
    }

    #[test]
    fn gas_budget_uses_live_state() {
        let p = [Policy::new(PolicyKind::Gas {
            allowed: 1000,
            enforce_paymaster: false,
            allowed_paymaster: Address::ZERO,
        })];
        let d = transfer_data(1);
        assert!(explain(&p, &op(&d, 1000, 0), &[])[0].passes(), "install values: 1000 left");
        let v = &explain(&p, &op(&d, 1000, 0), &[LiveState::Gas { left: 999 }])[0];
        assert_eq!(
            v.refusal.as_deref(),
            Some("the operation may cost up to 1000 wei but only 999 wei of gas budget is left")
        );
        assert_eq!(v.budget.as_deref(), Some("999 wei of gas budget left"));
    }

    #[test]
    fn rate_limit_uses_and_next_time() {
        let p = [Policy::new(PolicyKind::RateLimit { interval: 60, count: 2, start_at: 1000 })];
        let d = transfer_data(1);
        assert!(explain(&p, &op(&d, 0, 1000), &[])[0].passes());
        let soon = LiveState::RateLimit { uses_left: 1, next_at: 1060 };
        assert_eq!(
            explain(&p, &op(&d, 0, 1030), &[soon])[0].refusal.as_deref(),
            Some("the next use is allowed from 1060, 30 s from now")
        );
        assert!(explain(&p, &op(&d, 0, 1060), &[soon])[0].passes());
        let spent = LiveState::RateLimit { uses_left: 0, next_at: 1120 };
        assert_eq!(
            explain(&p, &op(&d, 0, 9999), &[spent])[0].refusal.as_deref(),
            Some("every allowed use has been spent")
        );
    }

    #[test]
    fn call_policy_names_the_error_first() {
        let to = address!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a");
        let p = [Policy::new(PolicyKind::Call(CallPolicy {
            permissions: vec![CallPermission::transfer(to, U256::from(10))],
            ..CallPolicy::default()
        }))];
        assert!(explain(&p, &op(&transfer_data(10), 0, 0), &[])[0].passes());
        let over = explain(&p, &op(&transfer_data(11), 0, 0), &[]);
        assert_eq!(
            over[0].refusal.as_deref(),
            Some("CallViolatesValueRule: value 11 exceeds the limit 10")
        );
        let not_execute = explain(&p, &op(&[0u8; 70], 0, 0), &[]);
        assert!(not_execute[0].refusal.as_deref().unwrap().starts_with("bare revert: "));
        let other = address!("0x1111111111111111111111111111111111111111");
        let stranger = encode_calls(
            Address::ZERO,
            &[Call::transfer(other, U256::from(1))],
            false,
            ExecType::Default,
        )
        .unwrap();
        let v5 = explain(&p, &op(&stranger, 0, 0), &[]);
        assert!(v5[0].refusal.as_deref().unwrap().starts_with("CallViolatesTargetRule: "));
        let mut old = p[0].clone();
        if let PolicyKind::Call(c) = &mut old.kind {
            c.version = CallPolicyVersion::V0_0_4;
        }
        let v4 = explain(&[old], &op(&stranger, 0, 0), &[]);
        assert!(v4[0].refusal.as_deref().unwrap().starts_with("InvalidCallData: "));
    }

    #[test]
    fn gas_paymaster_rules_follow_the_contract() {
        let pm = address!("0x3333333333333333333333333333333333333333");
        let gas = |allowed_paymaster| {
            [Policy::new(PolicyKind::Gas {
                allowed: 10,
                enforce_paymaster: true,
                allowed_paymaster,
            })]
        };
        let d = transfer_data(1);
        let with = |paymaster| Operation { paymaster, ..op(&d, 1, 0) };
        // enforcePaymaster with no paymaster named checks nothing
        assert!(explain(&gas(Address::ZERO), &with(None), &[])[0].passes());
        // a paymaster named and none used: the contract reverts with no data
        let none = explain(&gas(pm), &with(None), &[]);
        assert!(none[0].refusal.as_deref().unwrap().starts_with("bare revert: "), "{none:?}");
        // another paymaster: the policy fails
        let other = explain(
            &gas(pm),
            &with(Some(address!("0x0000000000000000000000000000000000000001"))),
            &[],
        );
        assert_eq!(
            other[0].refusal.as_deref(),
            Some(format!("only paymaster {pm} is allowed").as_str())
        );
        assert!(explain(&gas(pm), &with(Some(pm)), &[])[0].passes());
    }

    #[test]
    fn a_policy_that_skips_user_operations_passes() {
        let p = [Policy::new(PolicyKind::Timestamp { valid_after: 100, valid_until: 0 })
            .with_flag(crate::policy::PolicyFlag::SKIP_USER_OP)];
        assert!(explain(&p, &op(&transfer_data(1), 0, 0), &[])[0].passes());
    }

    #[test]
    fn the_chain_reports_the_first_outright_failure_before_any_window() {
        let to = address!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a");
        let p = [
            Policy::new(PolicyKind::Timestamp { valid_after: 0, valid_until: 50 }),
            Policy::new(PolicyKind::RateLimit { interval: 10, count: 3, start_at: 500 }),
            Policy::new(PolicyKind::Call(CallPolicy {
                permissions: vec![CallPermission::transfer(to, U256::from(10))],
                ..CallPolicy::default()
            })),
            Policy::new(PolicyKind::Gas {
                allowed: 5,
                enforce_paymaster: false,
                allowed_paymaster: Address::ZERO,
            }),
        ];
        let pick = |value: u64, cost: u64, now: u64| {
            let d = transfer_data(value);
            let v = explain(&p, &op(&d, cost, now), &[]);
            chain_refusal(&v).map(|v| (v.index, v.outside_window))
        };
        // Everything refuses: the call policy, policies[2], is the first outright failure.
        assert_eq!(pick(11, 6, 100), Some((2, false)));
        // Only the windows and gas: gas (#3), though both windows come first.
        assert_eq!(pick(10, 6, 100), Some((3, false)));
        // Only the windows: the first window, the timestamp (#0).
        assert_eq!(pick(10, 5, 100), Some((0, true)));
        // Inside the timestamp window, before the rate limit's start.
        assert_eq!(pick(10, 5, 40), Some((1, true)));
        assert_eq!(chain_refusal(&explain(&p[3..], &op(&transfer_data(1), 5, 0), &[])), None);
    }

    #[test]
    fn signatures_are_judged_by_their_caller_only() {
        let allowed = address!("0x1111111111111111111111111111111111111111");
        let other = address!("0x2222222222222222222222222222222222222222");
        let p = [
            Policy::new(PolicyKind::Timestamp { valid_after: 0, valid_until: 1 }),
            Policy::new(PolicyKind::SignatureCaller { allowed_callers: vec![allowed] }),
        ];
        assert_eq!(chain_refusal(&explain_signature(&p, allowed)), None, "windows do not apply");
        let refused = explain_signature(&p, other);
        let first = chain_refusal(&refused).unwrap();
        assert_eq!(
            (first.index, first.policy, first.outside_window),
            (1, "signature-caller", false)
        );
        assert_eq!(
            first.refusal.as_deref(),
            Some(
                "0x2222222222222222222222222222222222222222 may not ask for signature validation \
                 (allowed: 0x1111111111111111111111111111111111111111)"
            )
        );
        let skipping = [p[1].clone().with_flag(crate::policy::PolicyFlag::SKIP_SIGNATURE)];
        assert_eq!(chain_refusal(&explain_signature(&skipping, other)), None);
    }
}

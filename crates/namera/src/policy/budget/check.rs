//! The budget policy's decision, offline: the same counting and the same refusals as the
//! contract's `checkUserOpPolicy`, so `explain` agrees with the chain.

use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, SolValue};

use super::{Budget, MAX_LIMITS, NATIVE_TOKEN};
use crate::kernel::abi::{Execution, IKernel};

const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
const TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];
const APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];
const INCREASE_ALLOWANCE: [u8; 4] = [0x39, 0x50, 0x93, 0x51];

/// The counters a permission's budget draws on, as read from the chain: for each limit
/// (index `0..MAX_LIMITS`) and the operation cap (index `MAX_LIMITS`), the period index it
/// last charged and what it used in that period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BudgetLive {
    /// `(period index, used)` per limit, then the operation counter.
    pub counters: [(u64, u128); MAX_LIMITS + 1],
    /// The chain (for token symbols from [`crate::chain::TOKENS`]).
    pub chain_id: u64,
    /// Each limit's token decimals (`decimals()`, 18 for native), when read.
    pub decimals: [Option<u8>; MAX_LIMITS],
}

impl BudgetLive {
    /// How amounts of limit `i`'s `token` read: its decimals (when known) and its unit
    /// ("USDC", "ETH", or "of token 0x…").
    pub fn unit(&self, i: usize, token: Address) -> (Option<u8>, String) {
        let known = crate::chain::KnownToken::find(self.chain_id, token);
        let decimals = self.decimals.get(i).copied().flatten().or(known.map(|k| k.decimals));
        let unit = if token == NATIVE_TOKEN {
            crate::chain::native_symbol(self.chain_id).to_owned()
        } else if let Some(k) = known {
            k.symbol.to_owned()
        } else if decimals.is_some() {
            format!("of token {token}")
        } else {
            format!("base units of {token}")
        };
        (decimals, unit)
    }

    /// `left` of `limit` of limit `i`'s token as people write it: "37.5 of 100 USDC", or in
    /// base units when the decimals are not known.
    pub fn left_in_words(&self, i: usize, token: Address, left: U256, limit: U256) -> String {
        let (decimals, unit) = self.unit(i, token);
        let n =
            |v: U256| decimals.map_or_else(|| v.to_string(), |d| crate::units::format_units(v, d));
        format!("{} of {} {unit}", n(left), n(limit))
    }
}

/// What an operation takes from one limit (or, with `limit_index` = [`MAX_LIMITS`], from
/// the operation cap), and what is left after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetCharge {
    /// Which limit ([`MAX_LIMITS`] for the operation cap).
    pub limit_index: usize,
    /// Its token ([`Address::ZERO`] for the operation cap).
    pub token: Address,
    /// The limit per period.
    pub limit: u128,
    /// Used in this period before the operation.
    pub used: u128,
    /// What the operation takes.
    pub requested: U256,
    /// The period's window (inclusive) and when the counter refills (`until + 1`); `None`
    /// for a limit over the key's whole life.
    pub window: Option<(u64, u64)>,
}

impl BudgetCharge {
    /// What is left in this period before the operation.
    pub const fn left(&self) -> u128 {
        self.limit.saturating_sub(self.used)
    }
}

/// The period containing `t` for a limit of `period` seconds from `start`: its index and
/// inclusive window `[from, until]`, as the contract computes them. `None` when `t` is
/// before `start` (refused). A lifetime limit (`period` 0) is one period from `start` on.
///
/// ```
/// use namera::policy::period_window;
/// assert_eq!(period_window(3600, 1_000, 1_000 + 7_300), Some((2, 1_000 + 7_200, 1_000 + 10_799)));
/// assert_eq!(period_window(3600, 1_000, 999), None);
/// ```
pub fn period_window(period: u64, start: u64, t: u64) -> Option<(u64, u64, u64)> {
    const MAX: u64 = crate::policy::MAX_UINT48;
    if period == 0 && start == 0 {
        return Some((0, 0, MAX));
    }
    if t < start || t == 0 {
        return None;
    }
    if period == 0 {
        return Some((0, start, MAX));
    }
    let i = (t - start) / period;
    let from = start + i * period;
    Some((i, from, (from + period - 1).min(MAX)))
}

/// Judges an operation of `account` (zero when unknown: calls to the account and
/// `transferFrom`'s `from` are then not checked) at time `now` against `budget` with the
/// counters `live` (`None`: as installed, nothing used). `Ok` lists what each touched limit
/// is charged; `Err` is the contract's refusal: its error name, then the details.
pub fn budget_check(
    budget: &Budget,
    account: Address,
    call_data: &[u8],
    now: u64,
    live: Option<&BudgetLive>,
) -> Result<Vec<BudgetCharge>, String> {
    let amounts = amounts(budget, account, call_data)?;
    let live = live.copied().unwrap_or_default();
    let mut out = Vec::new();
    let current = |which: usize, period: u64, start: u64| {
        let (stored, used) = live.counters[which];
        let (i, from, until) = period_window(period, start, now).ok_or_else(|| {
            format!("PeriodNotStarted: limit {which} starts at {start}, after {now}")
        })?;
        if stored > i {
            return Err(format!(
                "PeriodPassed: limit {which} already counts period {stored}, not {i}"
            ));
        }
        let window = (period != 0).then_some((from, until));
        Ok((if stored == i { used } else { 0 }, window))
    };
    if let Some(o) = budget.ops {
        let (used, window) = current(MAX_LIMITS, o.period, o.start)?;
        if used >= u128::from(o.count) {
            return Err(format!(
                "TooManyOperations: {used} of {} operations used in this period",
                o.count
            ));
        }
        out.push(BudgetCharge {
            limit_index: MAX_LIMITS,
            token: Address::ZERO,
            limit: u128::from(o.count),
            used,
            requested: U256::from(1),
            window,
        });
    }
    for (i, l) in budget.limits.iter().enumerate() {
        if amounts[i].is_zero() {
            continue;
        }
        let (used, window) = current(i, l.period, l.start)?;
        let charge = BudgetCharge {
            limit_index: i,
            token: l.token,
            limit: l.amount,
            used,
            requested: amounts[i],
            window,
        };
        if U256::from(used) + amounts[i] > U256::from(l.amount) {
            let name = l
                .budget
                .as_ref()
                .map(|b| format!(" (budget {:?})", b.as_str()))
                .unwrap_or_default();
            return Err(format!(
                "BudgetExceeded: limit {i} on {}{name}: {} asked, {} of {} left in this period",
                l.token,
                amounts[i],
                charge.left(),
                l.amount
            ));
        }
        out.push(charge);
    }
    Ok(out)
}

/// Where `budget` stands at time `now` with the counters `live`, before any operation:
/// each limit's "40 of 100 USDC left until 2026-12-05T00:00:00Z" (what refills then), and
/// the operation cap's "1 of 2 operations left until …", joined by "; ". A limit whose
/// period has not started says so.
///
/// ```
/// use namera::policy::{Budget, BudgetLive, NATIVE_TOKEN, SpendingLimit, budget_standing};
/// let b = Budget::new().limit(SpendingLimit::new(NATIVE_TOKEN, 10u128.pow(18), 3600, 0));
/// let mut live = BudgetLive { chain_id: 1, ..BudgetLive::default() };
/// live.decimals[0] = Some(18);
/// live.counters[0] = (1, 25 * 10u128.pow(16)); // period 1 used 0.25 ETH
/// assert_eq!(
///     budget_standing(&b, &live, 3600 + 5),
///     "0.75 of 1 ETH left until 1970-01-01T02:00:00Z"
/// );
/// assert_eq!(budget_standing(&b, &live, 7200), "1 of 1 ETH left until 1970-01-01T03:00:00Z");
/// ```
pub fn budget_standing(budget: &Budget, live: &BudgetLive, now: u64) -> String {
    let standing = |which: usize, period: u64, start: u64, limit: u128| {
        let (stored, used) = live.counters[which];
        let (i, _, until) = period_window(period, start, now)?;
        let used = if stored == i { used } else { 0 };
        let window = (period != 0).then_some(until);
        Some((limit.saturating_sub(used), window))
    };
    let until = |w: Option<u64>| match w {
        Some(until) => format!(" until {}", crate::policy::utc(until + 1)),
        None => String::new(),
    };
    let mut parts = Vec::new();
    for (i, l) in budget.limits.iter().enumerate() {
        parts.push(match standing(i, l.period, l.start, l.amount) {
            Some((left, w)) => format!(
                "{} left{}{}",
                live.left_in_words(i, l.token, U256::from(left), U256::from(l.amount)),
                l.budget
                    .as_ref()
                    .map(|b| format!(" (budget {:?})", b.as_str()))
                    .unwrap_or_default(),
                until(w)
            ),
            None => format!("limit {i} starts at {}", crate::policy::utc(l.start)),
        });
    }
    if let Some(o) = budget.ops {
        parts.push(match standing(MAX_LIMITS, o.period, o.start, u128::from(o.count)) {
            Some((left, w)) => format!("{left} of {} operations left{}", o.count, until(w)),
            None => format!("the operation cap starts at {}", crate::policy::utc(o.start)),
        });
    }
    parts.join("; ")
}

/// What the operation moves out, per limit, or the contract's refusal.
fn amounts(budget: &Budget, account: Address, cd: &[u8]) -> Result<Vec<U256>, String> {
    let mut amounts = vec![U256::ZERO; budget.limits.len()];
    if cd.len() < 4 || cd[..4] != IKernel::executeCall::SELECTOR {
        return Err("NotExecute: the call data is not an ERC-7579 execute call".into());
    }
    let call = IKernel::executeCall::abi_decode(cd)
        .map_err(|e| format!("NotExecute: execute arguments do not decode ({e})"))?;
    let (call_type, exec_type) = (call.execMode[0], call.execMode[1]);
    if exec_type > 1 {
        return Err(format!("UnsupportedExecType: exec type 0x{exec_type:02x}"));
    }
    let exec = &call.executionCalldata;
    match call_type {
        0x00 => {
            if exec.len() < 52 {
                return Err("MalformedCallData: single execution shorter than 52 bytes".into());
            }
            let to = Address::from_slice(&exec[..20]);
            count(
                budget,
                account,
                &mut amounts,
                0,
                to,
                U256::from_be_slice(&exec[20..52]),
                &exec[52..],
            )?;
        }
        0x01 => {
            let items = Vec::<Execution>::abi_decode(exec)
                .map_err(|e| format!("MalformedCallData: batch does not decode ({e})"))?;
            for (n, it) in items.iter().enumerate() {
                count(budget, account, &mut amounts, n, it.target, it.value, &it.callData)?;
            }
        }
        other => {
            return Err(format!(
                "UnsupportedCallType: call type 0x{other:02x} (only single and batch calls can be counted)"
            ));
        }
    }
    Ok(amounts)
}

fn count(
    budget: &Budget,
    account: Address,
    amounts: &mut [U256],
    n: usize,
    to: Address,
    value: U256,
    data: &[u8],
) -> Result<(), String> {
    if account != Address::ZERO && to == account {
        return Err(format!("SelfCall: call {n} calls the account itself"));
    }
    if !value.is_zero() {
        let (i, _) = budget.limit_for(NATIVE_TOKEN).ok_or_else(|| {
            format!("NativeNotBudgeted: call {n} sends {value} wei and the key has no native limit")
        })?;
        amounts[i] = amounts[i].saturating_add(value);
    }
    let limit = if to == NATIVE_TOKEN { None } else { budget.limit_for(to) };
    let Some((i, _)) = limit else {
        if !data.is_empty() && !budget.allow_other_calls {
            return Err(format!("TargetNotBudgeted: call {n} calls {to}, which carries no limit"));
        }
        return Ok(());
    };
    let word = |at: usize| U256::from_be_slice(&data[at..at + 32]);
    if data.len() < 4 {
        return Err(format!("SelectorRefused: call {n} to token {to} has no selector"));
    }
    let selector: [u8; 4] = [data[0], data[1], data[2], data[3]];
    let malformed =
        || format!("MalformedTokenCall: call {n} to {to} is too short for its arguments");
    let amount = match selector {
        TRANSFER | APPROVE | INCREASE_ALLOWANCE => {
            if data.len() < 68 {
                return Err(malformed());
            }
            word(36)
        }
        TRANSFER_FROM => {
            if data.len() < 100 {
                return Err(malformed());
            }
            let from = word(4);
            if account != Address::ZERO && from != U256::from_be_slice(account.as_slice()) {
                return Err(format!(
                    "TransferFromOther: call {n} moves tokens of {from:#x}, not of the account"
                ));
            }
            word(68)
        }
        s => {
            return Err(format!(
                "SelectorRefused: call {n} calls 0x{} on token {to}; only transfer, transferFrom (from the account), approve and increaseAllowance are counted",
                alloy_primitives::hex::encode(s)
            ));
        }
    };
    amounts[i] = amounts[i].saturating_add(amount);
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Bytes, address};

    use super::*;
    use crate::{
        kernel::{Call, ExecType, encode_calls},
        policy::{BudgetName, SpendingLimit},
    };

    const USD: Address = address!("0x1111111111111111111111111111111111111111");
    const BOB: Address = address!("0x000000000000000000000000000000000000b0b0");
    const ACCOUNT: Address = address!("0x2222222222222222222222222222222222222222");

    fn transfer(amount: u64) -> Call {
        let mut d = TRANSFER.to_vec();
        d.extend((BOB, U256::from(amount)).abi_encode_params());
        Call::new(USD, Bytes::from(d))
    }

    fn cd(calls: &[Call]) -> Bytes {
        encode_calls(ACCOUNT, calls, false, ExecType::Default).unwrap()
    }

    fn budget() -> Budget {
        Budget::new()
            .limit(SpendingLimit::new(USD, 100, 60, 1_000).shared(BudgetName::new("a").unwrap()))
    }

    #[test]
    fn sums_batches_and_names_the_budget() {
        let b = budget();
        let ok = budget_check(&b, ACCOUNT, &cd(&[transfer(60)]), 1_010, None).unwrap();
        assert_eq!(ok[0].requested, U256::from(60));
        assert_eq!(ok[0].window, Some((1_000, 1_059)));
        let batch = cd(&[transfer(40), transfer(40), transfer(40)]);
        let e = budget_check(&b, ACCOUNT, &batch, 1_010, None).unwrap_err();
        assert!(e.starts_with("BudgetExceeded: limit 0"), "{e}");
        assert!(e.contains("(budget \"a\")") && e.contains("120 asked, 100 of 100 left"), "{e}");
    }

    #[test]
    fn live_counters_of_this_period_count_older_ones_do_not() {
        let b = budget();
        let mut live = BudgetLive::default();
        live.counters[0] = (0, 60);
        assert!(budget_check(&b, ACCOUNT, &cd(&[transfer(60)]), 1_010, Some(&live)).is_err());
        // period 1 starts at 1_060: the counter of period 0 no longer applies
        let ok = budget_check(&b, ACCOUNT, &cd(&[transfer(60)]), 1_060, Some(&live)).unwrap();
        assert_eq!(ok[0].used, 0);
        live.counters[0] = (2, 1);
        assert!(
            budget_check(&b, ACCOUNT, &cd(&[transfer(1)]), 1_060, Some(&live))
                .unwrap_err()
                .starts_with("PeriodPassed")
        );
        assert!(
            budget_check(&b, ACCOUNT, &cd(&[transfer(1)]), 999, None)
                .unwrap_err()
                .starts_with("PeriodNotStarted")
        );
    }

    #[test]
    fn refuses_what_cannot_be_counted() {
        let b = budget();
        let e = budget_check(&b, ACCOUNT, &cd(&[Call::transfer(BOB, U256::from(1))]), 1_010, None)
            .unwrap_err();
        assert!(e.starts_with("NativeNotBudgeted"), "{e}");
        let other = Call::new(BOB, Bytes::from_static(&[1, 2, 3, 4]));
        assert!(
            budget_check(&b, ACCOUNT, &cd(std::slice::from_ref(&other)), 1_010, None)
                .unwrap_err()
                .starts_with("TargetNotBudgeted")
        );
        assert!(
            budget_check(&b.clone().allowing_other_calls(), ACCOUNT, &cd(&[other]), 1_010, None)
                .is_ok()
        );
        let burn = Call::new(USD, Bytes::from_static(&[0x42, 0x96, 0x6c, 0x68, 0, 0]));
        assert!(
            budget_check(&b, ACCOUNT, &cd(&[burn]), 1_010, None)
                .unwrap_err()
                .starts_with("SelectorRefused")
        );
        let own = Call::new(ACCOUNT, Bytes::new());
        assert!(
            budget_check(&b, ACCOUNT, &cd(&[transfer(1), own]), 1_010, None)
                .unwrap_err()
                .starts_with("SelfCall")
        );
        let mut pull = TRANSFER_FROM.to_vec();
        pull.extend((BOB, ACCOUNT, U256::from(1)).abi_encode_params());
        let pull = Call::new(USD, Bytes::from(pull));
        assert!(
            budget_check(&b, ACCOUNT, &cd(std::slice::from_ref(&pull)), 1_010, None)
                .unwrap_err()
                .starts_with("TransferFromOther")
        );
        assert!(
            budget_check(&b, Address::ZERO, &cd(&[pull]), 1_010, None).is_ok(),
            "account unknown"
        );
        let delegate = encode_calls(ACCOUNT, &[transfer(1)], true, ExecType::Default).unwrap();
        assert!(
            budget_check(&b, ACCOUNT, &delegate, 1_010, None)
                .unwrap_err()
                .starts_with("UnsupportedCallType")
        );
    }

    #[test]
    fn amounts_in_words_use_the_chain_registry_and_read_decimals() {
        let usdc = address!("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913");
        let base = BudgetLive { chain_id: 8453, ..BudgetLive::default() };
        assert_eq!(
            base.left_in_words(0, usdc, U256::from(37_500_000), U256::from(100_000_000)),
            "37.5 of 100 USDC"
        );
        assert_eq!(
            base.left_in_words(
                0,
                NATIVE_TOKEN,
                U256::from(10u128.pow(16)),
                U256::from(10u128.pow(17))
            ),
            "10000000000000000 of 100000000000000000 ETH",
            "native decimals come from the read (18), not assumed"
        );
        let mut read = base;
        read.decimals[0] = Some(18);
        assert_eq!(
            read.left_in_words(
                0,
                NATIVE_TOKEN,
                U256::from(10u128.pow(16)),
                U256::from(10u128.pow(17))
            ),
            "0.01 of 0.1 ETH"
        );
        let polygon =
            BudgetLive { chain_id: 137, decimals: [Some(18); MAX_LIMITS], ..BudgetLive::default() };
        assert_eq!(
            polygon.left_in_words(
                0,
                NATIVE_TOKEN,
                U256::from(10u128.pow(18)),
                U256::from(10u128.pow(18))
            ),
            "1 of 1 POL"
        );
        assert_eq!(
            BudgetLive::default().left_in_words(0, USD, U256::from(5), U256::from(9)),
            format!("5 of 9 base units of {USD}")
        );
    }

    #[test]
    fn ops_cap() {
        let b = Budget::new().ops_per_period(2, 60, 1_000);
        let noop = cd(&[Call::new(BOB, Bytes::new())]);
        let mut live = BudgetLive::default();
        live.counters[MAX_LIMITS] = (0, 2);
        assert!(
            budget_check(&b, ACCOUNT, &noop, 1_030, Some(&live))
                .unwrap_err()
                .starts_with("TooManyOperations")
        );
        let next = budget_check(&b, ACCOUNT, &noop, 1_060, Some(&live)).unwrap();
        assert_eq!((next[0].used, next[0].window), (0, Some((1_060, 1_119))));
    }
}

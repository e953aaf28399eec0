//! Budgets: "up to 100 USDC per day, and nothing outside of that", enforced on chain by
//! Namera's own `BudgetPolicy` contract (`contracts/budget/`, semantics in
//! `docs/budgets.md`).
//!
//! A [`Budget`] is one policy element of a permission: up to [`MAX_LIMITS`] token limits
//! (native or ERC-20, an amount per period from a start time, optionally drawn from a budget
//! shared by several keys of the account) and an optional cap on operations per period.
//! Every UserOperation names its time in the policy's signature slot
//! ([`Budget::policy_signature`]); the contract charges the period containing that time and
//! returns the period as the operation's validity window.
//!
//! ```
//! use namera::policy::{Budget, Policy, SpendingLimit, NATIVE_TOKEN};
//! let usdc = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913".parse()?;
//! let day = 86_400;
//! let p = Policy::budget(
//!     Budget::new()
//!         .limit(SpendingLimit::new(usdc, 100_000_000, day, 1_800_000_000))
//!         .limit(SpendingLimit::new(NATIVE_TOKEN, 10u128.pow(16), day, 1_800_000_000))
//!         .ops_per_period(20, 3600, 1_800_000_000),
//! );
//! assert_eq!(p.type_name(), "budget");
//! p.validate()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "client")]
mod chain;
mod check;
mod deploy;

use alloy_primitives::{Address, B256, Bytes, address, aliases::U48};
use alloy_sol_types::{SolValue, sol};

#[cfg(feature = "client")]
pub use chain::{ensure_deployed, is_deployed, read_live};
pub use check::{BudgetCharge, BudgetLive, budget_check, budget_standing, period_window};
pub use deploy::{
    BUDGET_POLICY_ADDRESS, BUDGET_POLICY_SALT, budget_policy_address, budget_policy_initcode,
    deployment_call_data,
};

use super::{PolicyError, uint48};

/// ERC-7528's stand-in address for the chain's native currency.
pub const NATIVE_TOKEN: Address = address!("0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE");
/// The most token limits one permission's budget holds (the contract's storage is fixed-size).
pub const MAX_LIMITS: usize = 8;

sol! {
    /// The contract's install element for one limit.
    struct LimitInit {
        address token;
        uint128 amount;
        uint48 period;
        uint48 start;
        bytes32 budget;
    }

    /// The install data after the permission id (encoded as parameters, not as a struct).
    struct BudgetInit {
        uint8 flags;
        uint32 opsMax;
        uint48 opsPeriod;
        uint48 opsStart;
        LimitInit[] limits;
    }

    /// The budget policy's views and errors.
    interface IBudgetPolicy {
        struct Limit { address token; uint48 period; uint48 start; uint128 amount; bytes32 budget; }
        function config(bytes32 id, address account) external view returns (bool installed, uint8 flags, uint32 opsMax, uint48 opsPeriod, uint48 opsStart, Limit[] limits);
        function counter(bytes32 id, address account, uint256 i) external view returns (uint48 index, uint128 used);
        function isInitialized(address account) external view returns (bool);

        error NotInstalled(bytes32 id, address account);
        error NotExecute(bytes4 selector);
        error UnsupportedCallType(bytes1 callType);
        error UnsupportedExecType(bytes1 execType);
        error MalformedCallData();
        error SelfCall(uint256 callIndex);
        error NativeNotBudgeted(uint256 callIndex, uint256 value);
        error TargetNotBudgeted(uint256 callIndex, address target);
        error SelectorRefused(uint256 callIndex, address token, bytes4 selector);
        error MalformedTokenCall(uint256 callIndex, address token, bytes4 selector);
        error TransferFromOther(uint256 callIndex, address token, address from);
        error TimeMissing();
        error MalformedPolicySignature(uint256 length);
        error PeriodNotStarted(uint256 limitIndex, uint48 start, uint48 time);
        error PeriodPassed(uint256 limitIndex, uint48 storedIndex, uint48 index);
        error BudgetExceeded(uint256 limitIndex, address token, bytes32 budget, uint256 used, uint256 requested, uint256 limit);
        error TooManyOperations(uint256 used, uint256 max);
        error AlreadyInstalled(bytes32 id, address account);
        error SharedBudgetMismatch(bytes32 budget, address token, uint128 amount, uint48 period, uint48 start);
    }
}

/// The name of a budget several session keys of one account share: up to 32 bytes of
/// UTF-8, stored left-aligned in a `bytes32` as Solidity's `bytes32("name")` does.
///
/// ```
/// use namera::policy::BudgetName;
/// let n = BudgetName::new("agents")?;
/// assert_eq!(&n.to_bytes32()[..6], b"agents");
/// assert_eq!(n.as_str(), "agents");
/// # Ok::<(), namera::policy::PolicyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetName(String);

impl BudgetName {
    /// A name of 1 to 32 bytes without NUL characters.
    pub fn new(name: &str) -> Result<Self, PolicyError> {
        if name.is_empty() || name.len() > 32 || name.contains('\0') {
            return Err(PolicyError::Json(format!(
                "budget name {name:?} must be 1 to 32 bytes of UTF-8 without NUL"
            )));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as the contract stores it.
    pub fn to_bytes32(&self) -> B256 {
        let mut out = [0u8; 32];
        out[..self.0.len()].copy_from_slice(self.0.as_bytes());
        B256::from(out)
    }

    /// The name back from its `bytes32` (`None` for zero: a private limit).
    pub fn from_bytes32(b: B256) -> Option<Self> {
        let end = b.iter().position(|&c| c == 0).unwrap_or(32);
        let s = std::str::from_utf8(&b[..end]).ok()?;
        (!s.is_empty()).then(|| Self(s.to_owned()))
    }
}

/// How much of one token may leave the account per period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendingLimit {
    /// [`NATIVE_TOKEN`] or an ERC-20 contract.
    pub token: Address,
    /// Base units per period (wei for native).
    pub amount: u128,
    /// Period length in seconds; 0 = one period for the key's whole life.
    pub period: u64,
    /// When the first period starts (seconds since the epoch).
    pub start: u64,
    /// The shared budget this limit draws on; `None` = private to this key.
    pub budget: Option<BudgetName>,
}

impl SpendingLimit {
    /// A private limit of `amount` base units of `token` per `period` seconds from `start`.
    pub const fn new(token: Address, amount: u128, period: u64, start: u64) -> Self {
        Self { token, amount, period, start, budget: None }
    }

    /// The same limit, drawn from the account's shared budget `name` (every key naming it
    /// for this token draws on one counter; its amount, period and start must agree).
    pub fn shared(mut self, name: BudgetName) -> Self {
        self.budget = Some(name);
        self
    }

    /// Whether this limit's counter depends on the time (periodic, or starting later).
    pub const fn needs_time(&self) -> bool {
        self.period != 0 || self.start != 0
    }
}

/// At most `count` UserOperations per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpsLimit {
    /// Operations per period (at least 1).
    pub count: u32,
    /// Period length in seconds; 0 = in all.
    pub period: u64,
    /// When the first period starts.
    pub start: u64,
}

/// The budget policy of one permission. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Budget {
    /// Token limits (at most [`MAX_LIMITS`], one per token).
    pub limits: Vec<SpendingLimit>,
    /// The operation cap, if any.
    pub ops: Option<OpsLimit>,
    /// Let the key pass ERC-1271 signature checks (permits, Permit2, off-chain orders):
    /// off by default, because a signed permit moves tokens the budget never sees.
    pub allow_signatures: bool,
    /// Let the key call contracts that carry no limit, with call data (their value is still
    /// charged to the native limit). Off by default: such calls can do what the budget cannot
    /// count (spend allowances the owner granted, withdraw the EntryPoint deposit, ...).
    pub allow_other_calls: bool,
}

/// The flag bits the contract knows.
const FLAG_ALLOW_SIGNATURES: u8 = 1;
const FLAG_ALLOW_OTHER_CALLS: u8 = 2;

impl Budget {
    /// An empty budget: nothing may be spent until limits are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a token limit.
    pub fn limit(mut self, limit: SpendingLimit) -> Self {
        self.limits.push(limit);
        self
    }

    /// Caps the operations per period.
    pub const fn ops_per_period(mut self, count: u32, period: u64, start: u64) -> Self {
        self.ops = Some(OpsLimit { count, period, start });
        self
    }

    /// See [`Self::allow_signatures`](Budget#structfield.allow_signatures).
    pub const fn allowing_signatures(mut self) -> Self {
        self.allow_signatures = true;
        self
    }

    /// See [`Self::allow_other_calls`](Budget#structfield.allow_other_calls).
    pub const fn allowing_other_calls(mut self) -> Self {
        self.allow_other_calls = true;
        self
    }

    /// The limit for `token`, with its index.
    pub fn limit_for(&self, token: Address) -> Option<(usize, &SpendingLimit)> {
        self.limits.iter().enumerate().find(|(_, l)| l.token == token)
    }

    /// Checks what the contract would refuse at install time (and more: zero counts).
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.limits.len() > MAX_LIMITS {
            return Err(PolicyError::Json(format!(
                "a budget holds at most {MAX_LIMITS} token limits, not {}",
                self.limits.len()
            )));
        }
        for (i, l) in self.limits.iter().enumerate() {
            if l.token == Address::ZERO {
                return Err(PolicyError::Json(format!(
                    "limit {i}: token 0x0 (use {NATIVE_TOKEN} for native)"
                )));
            }
            if self.limits[..i].iter().any(|o| o.token == l.token) {
                return Err(PolicyError::Json(format!(
                    "limit {i}: a second limit for {}",
                    l.token
                )));
            }
            uint48("period", l.period)?;
            uint48("start", l.start)?;
        }
        if let Some(o) = self.ops {
            if o.count == 0 {
                return Err(PolicyError::ZeroRateLimitCount);
            }
            uint48("period", o.period)?;
            uint48("start", o.start)?;
        }
        Ok(())
    }

    /// `abi.encode(uint8 flags, uint32 opsMax, uint48 opsPeriod, uint48 opsStart, LimitInit[])`.
    pub fn init_data(&self) -> Bytes {
        let flags = (u8::from(self.allow_signatures) * FLAG_ALLOW_SIGNATURES)
            | (u8::from(self.allow_other_calls) * FLAG_ALLOW_OTHER_CALLS);
        let ops = self.ops.unwrap_or(OpsLimit { count: 0, period: 0, start: 0 });
        let limits: Vec<LimitInit> = self
            .limits
            .iter()
            .map(|l| LimitInit {
                token: l.token,
                amount: l.amount,
                period: U48::from(l.period),
                start: U48::from(l.start),
                budget: l.budget.as_ref().map(BudgetName::to_bytes32).unwrap_or_default(),
            })
            .collect();
        BudgetInit {
            flags,
            opsMax: ops.count,
            opsPeriod: U48::from(ops.period),
            opsStart: U48::from(ops.start),
            limits,
        }
        .abi_encode_params()
        .into()
    }

    /// Whether operations must name their time (any periodic or later-starting limit).
    pub fn needs_time(&self) -> bool {
        self.limits.iter().any(SpendingLimit::needs_time)
            || self.ops.is_some_and(|o| o.period != 0 || o.start != 0)
    }

    /// This policy's slice of the permission signature for an operation signed at `now`:
    /// the 6-byte `uint48` time, or nothing when no limit depends on time.
    pub fn policy_signature(&self, now: u64) -> Option<Bytes> {
        self.needs_time().then(|| Bytes::copy_from_slice(&now.to_be_bytes()[2..]))
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::hex;

    use super::*;

    #[test]
    fn init_data_exact_bytes() {
        let token = address!("0x1111111111111111111111111111111111111111");
        let b = Budget::new()
            .limit(
                SpendingLimit::new(token, 100_000_000, 86_400, 1_000_000)
                    .shared(BudgetName::new("agents").unwrap()),
            )
            .ops_per_period(2, 60, 1_000_000)
            .allowing_signatures();
        let expected = hex!(
            "0000000000000000000000000000000000000000000000000000000000000001" // flags
            "0000000000000000000000000000000000000000000000000000000000000002" // opsMax
            "000000000000000000000000000000000000000000000000000000000000003c" // opsPeriod
            "00000000000000000000000000000000000000000000000000000000000f4240" // opsStart
            "00000000000000000000000000000000000000000000000000000000000000a0" // offset of limits
            "0000000000000000000000000000000000000000000000000000000000000001" // one limit
            "0000000000000000000000001111111111111111111111111111111111111111" // token
            "0000000000000000000000000000000000000000000000000000000005f5e100" // amount 100e6
            "0000000000000000000000000000000000000000000000000000000000015180" // period 86400
            "00000000000000000000000000000000000000000000000000000000000f4240" // start
            "6167656e74730000000000000000000000000000000000000000000000000000" // "agents"
        );
        assert_eq!(b.init_data().as_ref(), expected.as_slice());
    }

    #[test]
    fn policy_signature_is_six_bytes_of_time_when_needed() {
        let lifetime = Budget::new().limit(SpendingLimit::new(NATIVE_TOKEN, 1, 0, 0));
        assert_eq!(lifetime.policy_signature(1_800_000_000), None);
        let daily = Budget::new().limit(SpendingLimit::new(NATIVE_TOKEN, 1, 86_400, 0));
        assert_eq!(
            daily.policy_signature(0x0102_0304_0506).unwrap().as_ref(),
            &hex!("010203040506")
        );
        assert!(Budget::new().ops_per_period(1, 0, 5).needs_time());
    }

    #[test]
    fn json_forms() {
        use crate::policy::{Policy, PolicyKind};
        let token = address!("0x1111111111111111111111111111111111111111");
        let p = Policy::from_json(&serde_json::json!({
            "type": "spending-limit", "token": token.to_string(), "amount": "100000000",
            "period": 86_400, "budget": "agents"
        }))
        .unwrap();
        let expected = Budget::new().limit(
            SpendingLimit::new(token, 100_000_000, 86_400, 0)
                .shared(BudgetName::new("agents").unwrap()),
        );
        assert_eq!(p.kind, PolicyKind::Budget(expected));
        let native = Policy::from_json(
            &serde_json::json!({"type": "spending-limit", "token": "native", "amount": 5}),
        )
        .unwrap();
        assert_eq!(native, Policy::spending_limit(NATIVE_TOKEN, 5, 0, 0));
        let ops = Policy::from_json(
            &serde_json::json!({"type": "ops-per-period", "count": 2, "period": 60}),
        )
        .unwrap();
        assert_eq!(ops, Policy::ops_per_period(2, 60, 0));
        // the full form round-trips
        let full = Policy::budget(
            Budget::new()
                .limit(SpendingLimit::new(NATIVE_TOKEN, 7, 60, 5))
                .limit(SpendingLimit::new(token, 1, 0, 0).shared(BudgetName::new("x").unwrap()))
                .ops_per_period(3, 10, 1)
                .allowing_other_calls(),
        );
        let json = full.to_json();
        assert_eq!(json["type"], "budget");
        assert_eq!(json["limits"][0]["token"], "native");
        assert_eq!(Policy::from_json(&json).unwrap(), full);
        for bad in [
            serde_json::json!({"type": "spending-limit", "amount": "1"}),
            serde_json::json!({"type": "spending-limit", "token": "native", "amount": "340282366920938463463374607431768211456"}),
            serde_json::json!({"type": "ops-per-period", "count": 0, "period": 60}),
            serde_json::json!({"type": "spending-limit", "token": "native", "amount": "1", "budget": ""}),
        ] {
            assert!(Policy::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn permissions_hold_one_budget_element() {
        use crate::{
            permission::{Permission, PermissionSigner},
            policy::Policy,
        };
        let key = PermissionSigner::Ecdsa(Address::with_last_byte(9));
        let p = Permission::new(
            key.clone(),
            vec![Policy::spending_limit(NATIVE_TOKEN, 1, 60, 0), Policy::ops_per_period(2, 60, 0)],
        )
        .unwrap();
        assert_eq!(p.policies.len(), 1);
        let twice = vec![Policy::ops_per_period(2, 60, 0), Policy::ops_per_period(3, 60, 0)];
        assert!(Permission::new(key, twice).is_err());
    }

    #[test]
    fn validation_refuses_what_the_contract_refuses() {
        let t = address!("0x1111111111111111111111111111111111111111");
        let nine = (0..9u8).fold(Budget::new(), |b, i| {
            b.limit(SpendingLimit::new(Address::with_last_byte(i + 1), 1, 0, 0))
        });
        assert!(nine.validate().is_err());
        let dup = Budget::new()
            .limit(SpendingLimit::new(t, 1, 0, 0))
            .limit(SpendingLimit::new(t, 2, 0, 0));
        assert!(dup.validate().unwrap_err().to_string().contains("second limit"));
        assert!(
            Budget::new().limit(SpendingLimit::new(Address::ZERO, 1, 0, 0)).validate().is_err()
        );
        assert!(Budget::new().ops_per_period(0, 1, 1).validate().is_err());
        assert!(
            Budget::new().limit(SpendingLimit::new(t, 1, 1 << 48, 0)).validate().is_err(),
            "period beyond uint48"
        );
        assert!(BudgetName::new(&"x".repeat(33)).is_err());
        assert_eq!(
            BudgetName::from_bytes32(BudgetName::new("fleet").unwrap().to_bytes32())
                .unwrap()
                .as_str(),
            "fleet"
        );
    }
}

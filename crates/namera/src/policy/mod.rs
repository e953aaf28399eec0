//! Policies: the onchain rules a session key must pass, every one of them, every time.
//!
//! Each [`Policy`] encodes to the install element Kernel hands its contract
//! (`flag ‖ contract ‖ initData`) and to the JSON that ZeroDev's TypeScript SDK keeps
//! in a serialized session key (`policyParams`), so keys move between the two.
//!
//! ```
//! use namera::policy::{Policy, PolicyKind};
//! let window = Policy::new(PolicyKind::Timestamp { valid_after: 1_700_000_000, valid_until: 1_800_000_000 });
//! let json = window.to_json();
//! assert_eq!(json["type"], "timestamp");
//! assert_eq!(Policy::from_json(&json)?, window);
//! # Ok::<(), namera::policy::PolicyError>(())
//! ```

mod budget;
mod call;
mod describe;
mod explain;
mod json;

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolValue;

pub use budget::{
    BUDGET_POLICY_ADDRESS, BUDGET_POLICY_SALT, Budget, BudgetCharge, BudgetLive, BudgetName,
    IBudgetPolicy, MAX_LIMITS, NATIVE_TOKEN, OpsLimit, SpendingLimit, budget_check,
    budget_policy_address, budget_policy_initcode, budget_standing,
    deployment_call_data as budget_deployment_call_data, period_window,
};
#[cfg(feature = "client")]
pub use budget::{
    ensure_deployed, is_deployed as budget_policy_deployed, read_live as read_budget_live,
};
pub use call::{
    AbiSource, ArgRule, ArgValue, CallPermission, CallPolicy, CallPolicyVersion, ParamCondition,
    ParamRule, PermissionCallType,
};
pub use describe::{utc, wei_in_words};
pub use explain::{BARE, LiveState, Operation, Verdict, chain_refusal, explain, explain_signature};

use crate::kernel::addresses::{
    GAS_POLICY, RATE_LIMIT_POLICY, SIGNATURE_CALLER_POLICY, SUDO_POLICY, TIMESTAMP_POLICY,
};

/// Merges every budget policy of `policies` into the first one's place: their limits in
/// order, the operation cap (at most one), the flags of all. Other policies keep their
/// order. A permission can hold only one element of the budget contract.
///
/// ```
/// use namera::policy::{Policy, PolicyKind, NATIVE_TOKEN, merge_budgets};
/// let merged = merge_budgets(vec![
///     Policy::spending_limit(NATIVE_TOKEN, 1_000, 86_400, 0),
///     Policy::sudo(),
///     Policy::ops_per_period(10, 3600, 0),
/// ])?;
/// assert_eq!(merged.len(), 2);
/// let PolicyKind::Budget(b) = &merged[0].kind else { panic!() };
/// assert_eq!((b.limits.len(), b.ops.map(|o| o.count)), (1, Some(10)));
/// # Ok::<(), namera::policy::PolicyError>(())
/// ```
pub fn merge_budgets(policies: Vec<Policy>) -> Result<Vec<Policy>, PolicyError> {
    let mut out: Vec<Policy> = Vec::with_capacity(policies.len());
    let mut first: Option<usize> = None;
    for p in policies {
        let PolicyKind::Budget(b) = p.kind else {
            out.push(p);
            continue;
        };
        let Some(i) = first else {
            first = Some(out.len());
            out.push(Policy { kind: PolicyKind::Budget(b), flag: p.flag });
            continue;
        };
        let target = &mut out[i];
        if target.flag != p.flag {
            return Err(PolicyError::Json(format!(
                "budget policies with different flags ({} and {}) cannot share the one budget element",
                target.flag, p.flag
            )));
        }
        let PolicyKind::Budget(into) = &mut target.kind else { unreachable!("index of a budget") };
        if into.ops.is_some() && b.ops.is_some() {
            return Err(PolicyError::Json("at most one ops-per-period cap per key".into()));
        }
        into.limits.extend(b.limits);
        into.ops = into.ops.or(b.ops);
        into.allow_signatures |= b.allow_signatures;
        into.allow_other_calls |= b.allow_other_calls;
    }
    Ok(out)
}

/// The largest value a `uint48` field holds (timestamps, intervals, counts).
pub const MAX_UINT48: u64 = (1 << 48) - 1;

/// `value` of `field` fits a uint48 field onchain, or the error naming it.
fn uint48(field: &'static str, value: u64) -> Result<(), PolicyError> {
    if value > MAX_UINT48 { Err(PolicyError::Uint48Overflow { field, value }) } else { Ok(()) }
}

/// Which validations a policy (or a whole permission) applies to.
///
/// ```
/// use namera::policy::PolicyFlag;
/// assert_eq!(PolicyFlag::SKIP_USER_OP.to_string(), "0x0001");
/// assert_eq!("0x0002".parse::<PolicyFlag>()?, PolicyFlag::SKIP_SIGNATURE);
/// # Ok::<(), namera::policy::PolicyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PolicyFlag(pub u16);

impl PolicyFlag {
    /// Applies to UserOperations and ERC-1271 signatures alike.
    pub const ALL: Self = Self(0x0000);
    /// Not checked for UserOperations.
    pub const SKIP_USER_OP: Self = Self(0x0001);
    /// Not checked for ERC-1271 signatures.
    pub const SKIP_SIGNATURE: Self = Self(0x0002);

    /// The two bytes as they go on the wire.
    pub const fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

impl std::fmt::Display for PolicyFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{:04x}", self.0)
    }
}

impl std::str::FromStr for PolicyFlag {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PolicyError::InvalidFlag(s.to_owned());
        let digits = s.strip_prefix("0x").ok_or_else(bad)?;
        if digits.len() != 4 {
            return Err(bad());
        }
        u16::from_str_radix(digits, 16).map(Self).map_err(|_| bad())
    }
}

/// What a policy checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyKind {
    /// Allows everything: the session key may do what the owner can.
    Sudo,
    /// Valid only inside a time window (seconds since the epoch; 0 = unbounded).
    Timestamp {
        /// First valid second.
        valid_after: u64,
        /// Last valid second.
        valid_until: u64,
    },
    /// A total budget in wei for the operations' maximum cost.
    Gas {
        /// The budget: each operation charges
        /// `(preVerificationGas + verificationGasLimit + callGasLimit) × maxFeePerGas`.
        allowed: u128,
        /// Require a paymaster.
        enforce_paymaster: bool,
        /// The one paymaster allowed (zero = any, when enforced).
        allowed_paymaster: Address,
    },
    /// At most `count` uses in all, each at least `interval` seconds after the previous.
    RateLimit {
        /// Seconds between uses.
        interval: u64,
        /// Total number of uses.
        count: u64,
        /// The first use is valid from this second.
        start_at: u64,
    },
    /// Who may ask the account to validate an ERC-1271 signature made by this key.
    SignatureCaller {
        /// The allowed callers.
        allowed_callers: Vec<Address>,
    },
    /// Which contracts and functions may be called, down to argument values.
    Call(CallPolicy),
    /// Token limits per period and an operation cap: Namera's own budget policy
    /// ([`Budget`]).
    Budget(Budget),
}

/// One policy of a permission: what it checks and when it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The rule.
    pub kind: PolicyKind,
    /// When it applies.
    pub flag: PolicyFlag,
}

/// A policy could not be built, encoded or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A policy flag that is not `0x` and four hex digits.
    #[error("invalid policy flag {0:?}: expected 0x followed by 4 hex digits, e.g. 0x0000")]
    InvalidFlag(String),
    /// A value outside its Solidity type.
    #[error("{field} = {value} does not fit in uint48 (max {MAX_UINT48})")]
    Uint48Overflow {
        /// The field.
        field: &'static str,
        /// The value given.
        value: u64,
    },
    /// A rate limit of zero uses.
    #[error("rate-limit count must be at least 1")]
    ZeroRateLimitCount,
    /// A time window that ends before it starts.
    #[error("timestamp window ends ({valid_until}) before it starts ({valid_after})")]
    EmptyWindow {
        /// Start.
        valid_after: u64,
        /// End.
        valid_until: u64,
    },
    /// The gas policy needs an explicit amount: ZeroDev's SDK silently uses 0 (a cap of
    /// zero wei), which makes the key useless.
    #[error("gas policy needs `allowed` (wei); it has no default")]
    MissingGasAllowance,
    /// A malformed policy JSON document.
    #[error("policy JSON: {0}")]
    Json(String),
    /// A field the policy type does not have (its path, and the name probably meant).
    #[error("{0}")]
    UnknownField(String),
    /// A call-policy permission could not be resolved.
    #[error("permissions[{index}]: {reason}")]
    CallPermission {
        /// Which permission (0-based).
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

impl Policy {
    /// A policy that applies to UserOperations and signatures.
    pub const fn new(kind: PolicyKind) -> Self {
        Self { kind, flag: PolicyFlag::ALL }
    }

    /// The same policy with another flag.
    pub const fn with_flag(mut self, flag: PolicyFlag) -> Self {
        self.flag = flag;
        self
    }

    /// The sudo policy.
    pub const fn sudo() -> Self {
        Self::new(PolicyKind::Sudo)
    }

    /// At most `count` uses, each at least `interval` seconds after the previous one, the
    /// first allowed from `start_at` (seconds since the epoch).
    ///
    /// `start_at` is what makes "per interval" hold: with 0 (the TypeScript SDK's
    /// default) every allowed start lies in 1970, so uses are never spaced and only
    /// `count` limits. [`Self::rate_limit_from_now`] starts at the chain's current time.
    ///
    /// ```
    /// use namera::policy::{Policy, PolicyKind};
    /// let p = Policy::rate_limit(3600, 24, 1_800_000_000);
    /// assert_eq!(p.kind, PolicyKind::RateLimit { interval: 3600, count: 24, start_at: 1_800_000_000 });
    /// ```
    pub const fn rate_limit(interval: u64, count: u64, start_at: u64) -> Self {
        Self::new(PolicyKind::RateLimit { interval, count, start_at })
    }

    /// A rate limit (see [`Self::rate_limit`]) whose first use is allowed from the chain's
    /// current time: the latest block's timestamp as `node` reports it. Not the local
    /// clock: the policy's start is compared with block time, and a chain's clock can
    /// run apart from this machine's (a devnet that travelled in time, for one).
    ///
    /// ```no_run
    /// use namera::{node::NodeClient, policy::Policy, rpc::RpcClient};
    /// let node = NodeClient::new(RpcClient::new("http://127.0.0.1:8545"));
    /// // One use per hour, 24 in all, the first one right away.
    /// let hourly = Policy::rate_limit_from_now(&node, 3600, 24)?;
    /// # Ok::<(), namera::rpc::RpcError>(())
    /// ```
    #[cfg(feature = "client")]
    pub fn rate_limit_from_now(
        node: &crate::node::NodeClient,
        interval: u64,
        count: u64,
    ) -> Result<Self, crate::rpc::RpcError> {
        Ok(Self::rate_limit(interval, count, node.timestamp()?))
    }

    /// A budget policy ([`Budget`]): token limits per period, an operation cap.
    pub const fn budget(budget: Budget) -> Self {
        Self::new(PolicyKind::Budget(budget))
    }

    /// A budget of one private token limit: at most `amount` base units of `token`
    /// ([`NATIVE_TOKEN`] or an ERC-20) per `period` seconds (0 = in all) from `start`.
    ///
    /// ```
    /// use namera::policy::{Policy, NATIVE_TOKEN};
    /// let p = Policy::spending_limit(NATIVE_TOKEN, 10u128.pow(17), 86_400, 1_800_000_000);
    /// assert_eq!(p.type_name(), "budget");
    /// ```
    pub fn spending_limit(token: Address, amount: u128, period: u64, start: u64) -> Self {
        Self::budget(Budget::new().limit(SpendingLimit::new(token, amount, period, start)))
    }

    /// A budget that only caps the operations: at most `count` per `period` seconds from
    /// `start` (a window, unlike the rate-limit policy's spacing). Nothing may be spent:
    /// combine limits and a cap in one [`Budget`] (one permission holds one budget policy).
    ///
    /// ```
    /// use namera::policy::Policy;
    /// let p = Policy::ops_per_period(2, 60, 1_800_000_000);
    /// assert_eq!(p.type_name(), "budget");
    /// ```
    pub fn ops_per_period(count: u32, period: u64, start: u64) -> Self {
        Self::budget(Budget::new().ops_per_period(count, period, start))
    }

    /// The type name used in JSON (`"call"`, `"gas"`, …).
    pub const fn type_name(&self) -> &'static str {
        match self.kind {
            PolicyKind::Sudo => "sudo",
            PolicyKind::Timestamp { .. } => "timestamp",
            PolicyKind::Gas { .. } => "gas",
            PolicyKind::RateLimit { .. } => "rate-limit",
            PolicyKind::SignatureCaller { .. } => "signature-caller",
            PolicyKind::Call(_) => "call",
            PolicyKind::Budget(_) => "budget",
        }
    }

    /// The policy contract.
    pub const fn address(&self) -> Address {
        match &self.kind {
            PolicyKind::Sudo => SUDO_POLICY,
            PolicyKind::Timestamp { .. } => TIMESTAMP_POLICY,
            PolicyKind::Gas { .. } => GAS_POLICY,
            PolicyKind::RateLimit { .. } => RATE_LIMIT_POLICY,
            PolicyKind::SignatureCaller { .. } => SIGNATURE_CALLER_POLICY,
            PolicyKind::Call(c) => c.version.address(),
            PolicyKind::Budget(_) => BUDGET_POLICY_ADDRESS,
        }
    }

    /// Check the values fit their onchain types.
    pub fn validate(&self) -> Result<(), PolicyError> {
        match &self.kind {
            PolicyKind::Timestamp { valid_after, valid_until } => {
                uint48("validAfter", *valid_after)?;
                uint48("validUntil", *valid_until)?;
                if *valid_until != 0 && valid_until < valid_after {
                    return Err(PolicyError::EmptyWindow {
                        valid_after: *valid_after,
                        valid_until: *valid_until,
                    });
                }
                Ok(())
            }
            PolicyKind::RateLimit { interval, count, start_at } => {
                uint48("interval", *interval)?;
                uint48("count", *count)?;
                uint48("startAt", *start_at)?;
                if *count == 0 {
                    return Err(PolicyError::ZeroRateLimitCount);
                }
                Ok(())
            }
            PolicyKind::Budget(b) => b.validate(),
            _ => Ok(()),
        }
    }

    /// The data the policy contract's `onInstall` receives after the permission id.
    pub fn init_data(&self) -> Bytes {
        match &self.kind {
            PolicyKind::Sudo => Bytes::new(),
            PolicyKind::Timestamp { valid_after, valid_until } => {
                (U256::from(*valid_after), U256::from(*valid_until)).abi_encode_params().into()
            }
            PolicyKind::Gas { allowed, enforce_paymaster, allowed_paymaster } => {
                (U256::from(*allowed), *enforce_paymaster, *allowed_paymaster)
                    .abi_encode_params()
                    .into()
            }
            PolicyKind::RateLimit { interval, count, start_at } => {
                let mut out = Vec::with_capacity(18);
                for v in [interval, count, start_at] {
                    out.extend_from_slice(&v.to_be_bytes()[2..]);
                }
                out.into()
            }
            PolicyKind::SignatureCaller { allowed_callers } => allowed_callers.abi_encode().into(),
            PolicyKind::Call(c) => c.init_data(),
            PolicyKind::Budget(b) => b.init_data(),
        }
    }

    /// The install element: `flag(2) ‖ contract(20) ‖ initData`.
    pub fn element(&self) -> Bytes {
        let data = self.init_data();
        let mut out = Vec::with_capacity(22 + data.len());
        out.extend_from_slice(&self.flag.to_bytes());
        out.extend_from_slice(self.address().as_slice());
        out.extend_from_slice(&data);
        out.into()
    }
}

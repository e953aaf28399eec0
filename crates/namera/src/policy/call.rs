//! The call policy: which calls a session key may make, down to argument values.
//!
//! A permission names a call type, a target (zero = any), a selector (zero = plain
//! transfer), a value limit and rules over the call's ABI-encoded arguments. Rules can be
//! written directly, or derived from a function ABI and per-argument conditions the way
//! ZeroDev's SDK does, so that the same inputs give the same install data and the same
//! permission id.

use alloy_json_abi::Function;
use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256, keccak256};
use alloy_sol_types::{SolValue, sol};

use super::PolicyError;
use crate::kernel::addresses::{CALL_POLICY_V0_0_4, CALL_POLICY_V0_0_5};

sol! {
    struct SolParamRule { uint8 condition; uint64 offset; bytes32[] params; }
    struct SolPermission {
        bytes1 callType;
        address target;
        bytes4 selector;
        uint256 valueLimit;
        SolParamRule[] rules;
    }
}

/// Which deployed CallPolicy the permission uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CallPolicyVersion {
    /// v0.0.4: conditions EQUAL … ONE_OF.
    V0_0_4,
    /// v0.0.5: adds SLICE_EQUAL.
    #[default]
    V0_0_5,
}

impl CallPolicyVersion {
    /// The version string used in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V0_0_4 => "0.0.4",
            Self::V0_0_5 => "0.0.5",
        }
    }

    /// The policy contract.
    pub const fn address(self) -> Address {
        match self {
            Self::V0_0_4 => CALL_POLICY_V0_0_4,
            Self::V0_0_5 => CALL_POLICY_V0_0_5,
        }
    }

    /// Parse `"0.0.4"` / `"0.0.5"`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "0.0.4" => Some(Self::V0_0_4),
            "0.0.5" => Some(Self::V0_0_5),
            _ => None,
        }
    }
}

/// How an argument word is compared with the rule's parameters (as unsigned 256-bit
/// integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ParamCondition {
    /// `arg == param`.
    Equal = 0,
    /// `arg > param`.
    GreaterThan = 1,
    /// `arg < param`.
    LessThan = 2,
    /// `arg >= param`.
    GreaterThanOrEqual = 3,
    /// `arg <= param`.
    LessThanOrEqual = 4,
    /// `arg != param`.
    NotEqual = 5,
    /// `arg` is one of the params.
    OneOf = 6,
    /// A slice of a dynamic `bytes`/`string` argument hashes to the param (v0.0.5).
    SliceEqual = 7,
}

impl ParamCondition {
    /// Every condition, in wire order.
    pub const ALL: [Self; 8] = [
        Self::Equal,
        Self::GreaterThan,
        Self::LessThan,
        Self::GreaterThanOrEqual,
        Self::LessThanOrEqual,
        Self::NotEqual,
        Self::OneOf,
        Self::SliceEqual,
    ];

    /// The SDK's name (`"EQUAL"`, `"ONE_OF"`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Equal => "EQUAL",
            Self::GreaterThan => "GREATER_THAN",
            Self::LessThan => "LESS_THAN",
            Self::GreaterThanOrEqual => "GREATER_THAN_OR_EQUAL",
            Self::LessThanOrEqual => "LESS_THAN_OR_EQUAL",
            Self::NotEqual => "NOT_EQUAL",
            Self::OneOf => "ONE_OF",
            Self::SliceEqual => "SLICE_EQUAL",
        }
    }

    /// From the wire number.
    pub fn from_u8(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n)).copied()
    }

    /// From the SDK's name.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }

    /// Does `arg` satisfy the condition against `params` (not for SLICE_EQUAL, which
    /// needs the whole call data)?
    pub fn holds(self, arg: U256, params: &[B256]) -> bool {
        let p = |i: usize| params.get(i).map(|b| U256::from_be_bytes(b.0));
        match self {
            Self::Equal => p(0) == Some(arg),
            Self::GreaterThan => p(0).is_some_and(|v| arg > v),
            Self::LessThan => p(0).is_some_and(|v| arg < v),
            Self::GreaterThanOrEqual => p(0).is_some_and(|v| arg >= v),
            Self::LessThanOrEqual => p(0).is_some_and(|v| arg <= v),
            Self::NotEqual => p(0).is_some_and(|v| arg != v),
            Self::OneOf => params.iter().any(|b| U256::from_be_bytes(b.0) == arg),
            Self::SliceEqual => false,
        }
    }
}

/// A resolved rule: compare the 32-byte word at `4 + offset` of the call data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParamRule {
    /// The comparison.
    pub condition: ParamCondition,
    /// Byte offset into the arguments (argument index × 32).
    pub offset: u64,
    /// The values compared with.
    pub params: Vec<B256>,
}

/// The call type a permission applies to (the ERC-7579 call type byte).
pub type PermissionCallType = crate::kernel::CallType;

/// A value given for an ABI argument, kept as its author wrote it so that it can be
/// shown and serialized unchanged; it is interpreted against the argument's ABI type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArgValue {
    /// A string: hex (`0x…`), a decimal integer, or text for SLICE_EQUAL on `string`.
    Text(String),
    /// A JSON number.
    Number(u64),
    /// A boolean.
    Bool(bool),
}

impl ArgValue {
    /// An address value.
    pub fn address(a: Address) -> Self {
        Self::Text(format!("{a:#x}"))
    }

    /// An unsigned integer, written in decimal as the SDK writes big integers.
    pub fn uint(v: U256) -> Self {
        Self::Text(v.to_string())
    }

    fn describe(&self) -> String {
        match self {
            Self::Text(s) => format!("{s:?}"),
            Self::Number(n) => n.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }

    /// The bytes32 word this value has as an argument of Solidity type `ty`.
    pub fn to_word(&self, ty: &str) -> Result<B256, String> {
        let bad =
            |why: &str| format!("value {} for an argument of type {ty}: {why}", self.describe());
        let as_uint = || -> Result<U256, String> {
            match self {
                Self::Number(n) => Ok(U256::from(*n)),
                Self::Bool(_) => Err(bad("expected an integer")),
                Self::Text(s) => match s.strip_prefix("0x") {
                    Some(h) => U256::from_str_radix(h, 16).map_err(|e| bad(&e.to_string())),
                    None => U256::from_str_radix(s, 10).map_err(|e| bad(&e.to_string())),
                },
            }
        };
        match ty {
            "address" => match self {
                Self::Text(s) => {
                    s.parse::<Address>().map(|a| a.into_word()).map_err(|e| bad(&e.to_string()))
                }
                _ => Err(bad("expected a 0x-prefixed 20-byte address")),
            },
            "bool" => match self {
                Self::Bool(b) => Ok(B256::from(U256::from(u8::from(*b)))),
                Self::Number(n @ (0 | 1)) => Ok(B256::from(U256::from(*n))),
                _ => Err(bad("expected true or false")),
            },
            t if t.starts_with("uint") => {
                let v = as_uint()?;
                let bits: usize = t[4..].parse().unwrap_or(256);
                if bits < 256 && v >> bits != U256::ZERO {
                    return Err(bad(&format!("does not fit in {t}")));
                }
                Ok(B256::from(v))
            }
            t if t.starts_with("int") => {
                // Only non-negative values: the policy compares words as unsigned, so a
                // rule over negative numbers would not mean what it says.
                let v = as_uint()?;
                if v.bit(255) {
                    return Err(bad("negative values cannot be compared by the call policy"));
                }
                Ok(B256::from(v))
            }
            t if t.starts_with("bytes") && t.len() > 5 => {
                let n: usize = t[5..].parse().map_err(|_| bad("unknown bytesN type"))?;
                let Self::Text(s) = self else { return Err(bad("expected hex")) };
                let raw = alloy_primitives::hex::decode(s).map_err(|e| bad(&e.to_string()))?;
                if raw.len() != n {
                    return Err(bad(&format!("expected {n} bytes, got {}", raw.len())));
                }
                // bytesN is left-aligned in its ABI word.
                let mut w = B256::ZERO;
                w[..n].copy_from_slice(&raw);
                Ok(w)
            }
            _ => Err(bad(
                "only static types (address, bool, intN, uintN, bytesN) can be compared; use SLICE_EQUAL for string and bytes",
            )),
        }
    }

    /// The bytes a SLICE_EQUAL value stands for, for an argument of type `ty`.
    fn slice_bytes(&self, ty: &str) -> Result<Vec<u8>, String> {
        match (ty, self) {
            ("string", Self::Text(s)) => Ok(s.as_bytes().to_vec()),
            ("bytes", Self::Text(s)) if s.starts_with("0x") => {
                alloy_primitives::hex::decode(s).map_err(|e| format!("value {s:?}: {e}"))
            }
            ("bytes", Self::Text(s)) => Ok(s.as_bytes().to_vec()),
            ("string" | "bytes", v) => Err(format!("value {} must be a string", v.describe())),
            _ => Err(format!("SLICE_EQUAL applies to string or bytes arguments, not {ty}")),
        }
    }
}

/// A condition on one ABI argument, before it is resolved to a [`ParamRule`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArgRule {
    /// EQUAL, GREATER_THAN, LESS_THAN, …, NOT_EQUAL against one value.
    Compare {
        /// The comparison (not ONE_OF or SLICE_EQUAL).
        condition: ParamCondition,
        /// The value.
        value: ArgValue,
    },
    /// The argument is one of these values.
    OneOf(Vec<ArgValue>),
    /// Bytes `start .. start + length` of a dynamic argument equal `value` (v0.0.5).
    SliceEqual {
        /// The expected slice.
        value: ArgValue,
        /// Start of the slice.
        start: u64,
        /// Its length; must equal the value's length.
        length: u64,
    },
}

impl ArgRule {
    /// The condition.
    pub const fn condition(&self) -> ParamCondition {
        match self {
            Self::Compare { condition, .. } => *condition,
            Self::OneOf(_) => ParamCondition::OneOf,
            Self::SliceEqual { .. } => ParamCondition::SliceEqual,
        }
    }

    /// Resolve against the argument's Solidity type and position.
    fn resolve(&self, index: usize, ty: &str) -> Result<ParamRule, String> {
        let params = match self {
            Self::Compare { condition, value } => {
                if matches!(condition, ParamCondition::OneOf | ParamCondition::SliceEqual) {
                    return Err(format!("{} needs its own form", condition.name()));
                }
                vec![value.to_word(ty)?]
            }
            Self::OneOf(values) => {
                if values.is_empty() {
                    return Err("ONE_OF needs at least one value".into());
                }
                values.iter().map(|v| v.to_word(ty)).collect::<Result<_, _>>()?
            }
            Self::SliceEqual { value, start, length } => {
                let bytes = value.slice_bytes(ty)?;
                if bytes.len() as u64 != *length {
                    return Err(format!(
                        "SLICE_EQUAL value is {} bytes but length is {length}",
                        bytes.len()
                    ));
                }
                vec![
                    B256::from(U256::from(*start)),
                    B256::from(U256::from(*length)),
                    keccak256(&bytes),
                ]
            }
        };
        Ok(ParamRule { condition: self.condition(), offset: index as u64 * 32, params })
    }
}

/// Where a permission's selector and rules came from: a function in an ABI and a
/// condition per argument (`None` = unconstrained).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbiSource {
    /// The ABI as given (a JSON array), kept verbatim for display and interchange.
    pub abi: serde_json::Value,
    /// The function's name.
    pub function_name: String,
    /// One entry per argument, in order; shorter lists leave the rest unconstrained.
    pub args: Vec<Option<ArgRule>>,
}

impl AbiSource {
    /// Find the function: by name, and by selector among overloads.
    pub fn function(&self, selector: Option<FixedBytes<4>>) -> Result<Function, String> {
        let items = self.abi.as_array().ok_or("abi must be a JSON array")?;
        let mut found = Vec::new();
        for item in items {
            if item.get("type").and_then(|t| t.as_str()) != Some("function")
                || item.get("name").and_then(|n| n.as_str()) != Some(&self.function_name)
            {
                continue;
            }
            let f: Function = serde_json::from_value(item.clone())
                .map_err(|e| format!("abi item {}: {e}", self.function_name))?;
            found.push(f);
        }
        match (found.len(), selector) {
            (0, _) => Err(format!("function {:?} not found in ABI", self.function_name)),
            (1, None) => Ok(found.remove(0)),
            (_, Some(sel)) => found
                .into_iter()
                .find(|f| f.selector() == sel)
                .ok_or_else(|| format!("no {} overload has selector {sel}", self.function_name)),
            (n, None) => Err(format!(
                "{n} overloads of {:?}: give the selector of the one you mean ({})",
                self.function_name,
                found.iter().map(|f| f.signature()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

/// Which of a permission's resolved fields its author gave explicitly, and in which
/// order its JSON keys were read. Only the JSON form uses this: ZeroDev's SDK keeps the
/// author's keys in order and appends the ones it fills in, and byte-identical
/// serialized keys depend on reproducing that.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct KeyLayout {
    pub(crate) explicit_call_type: bool,
    pub(crate) explicit_selector: bool,
    pub(crate) explicit_value_limit: bool,
    pub(crate) explicit_rules: bool,
    /// Keys in the order they were read, when parsed from JSON.
    pub(crate) read_order: Vec<String>,
}

/// One allowed kind of call.
///
/// ```
/// use alloy_primitives::{U256, address};
/// use namera::policy::{ArgRule, ArgValue, CallPermission, ParamCondition};
/// let abi = serde_json::json!([{
///     "type": "function", "name": "transfer", "stateMutability": "nonpayable",
///     "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
///     "outputs": [{"type": "bool"}]
/// }]);
/// let token = address!("0xcb89995bebd57a42562a76a4daccbb44e67c9277");
/// let p = CallPermission::from_abi(token, abi, "transfer", None, vec![
///     None,
///     Some(ArgRule::Compare { condition: ParamCondition::LessThanOrEqual, value: ArgValue::uint(U256::from(1000)) }),
/// ])?;
/// assert_eq!(p.selector.to_string(), "0xa9059cbb");
/// assert_eq!(p.rules[0].offset, 32);
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Eq)]
pub struct CallPermission {
    /// Single, batch or delegatecall.
    pub call_type: PermissionCallType,
    /// The contract (zero = any target).
    pub target: Address,
    /// The function selector (zero = a call without data, i.e. a plain transfer).
    pub selector: FixedBytes<4>,
    /// The most wei one call may send.
    pub value_limit: U256,
    /// Argument rules; all must hold.
    pub rules: Vec<ParamRule>,
    /// The ABI the selector and rules were derived from, if any.
    pub source: Option<AbiSource>,
    pub(crate) layout: KeyLayout,
}

impl PartialEq for CallPermission {
    // The JSON key layout is presentation, not meaning.
    fn eq(&self, o: &Self) -> bool {
        self.call_type == o.call_type
            && self.target == o.target
            && self.selector == o.selector
            && self.value_limit == o.value_limit
            && self.rules == o.rules
            && self.source == o.source
    }
}

impl CallPermission {
    /// The ABI's name and type of the argument a rule at `offset` constrains (its head
    /// word), when the permission was written with an ABI; so refusals and descriptions
    /// say `to` (address) rather than "argument 0".
    pub fn argument_at(&self, offset: u64) -> Option<(String, String)> {
        if !offset.is_multiple_of(32) {
            return None;
        }
        let function = self.source.as_ref()?.function(Some(self.selector)).ok()?;
        let input = function.inputs.get(usize::try_from(offset / 32).ok()?)?;
        Some((input.name.clone(), input.selector_type().into_owned()))
    }

    /// A permission for plain transfers (empty call data) to `target`, up to `value_limit`.
    pub fn transfer(target: Address, value_limit: U256) -> Self {
        Self {
            call_type: PermissionCallType::Single,
            target,
            selector: FixedBytes::ZERO,
            value_limit,
            rules: Vec::new(),
            source: None,
            layout: KeyLayout { explicit_value_limit: true, ..KeyLayout::default() },
        }
    }

    /// A permission written directly: selector and rules given as they go on chain.
    pub fn manual(
        call_type: PermissionCallType,
        target: Address,
        selector: FixedBytes<4>,
        value_limit: U256,
        rules: Vec<ParamRule>,
    ) -> Self {
        Self {
            call_type,
            target,
            selector,
            value_limit,
            rules,
            source: None,
            layout: KeyLayout {
                explicit_call_type: true,
                explicit_selector: true,
                explicit_value_limit: true,
                explicit_rules: true,
                read_order: Vec::new(),
            },
        }
    }

    /// A permission for `function_name` of `abi` on `target`, with a condition per
    /// argument. `selector` picks among overloads.
    pub fn from_abi(
        target: Address,
        abi: serde_json::Value,
        function_name: &str,
        selector: Option<FixedBytes<4>>,
        args: Vec<Option<ArgRule>>,
    ) -> Result<Self, String> {
        let source = AbiSource { abi, function_name: function_name.to_owned(), args };
        let (selector_resolved, rules) = resolve_abi(&source, selector)?;
        Ok(Self {
            call_type: PermissionCallType::Single,
            target,
            selector: selector_resolved,
            value_limit: U256::ZERO,
            rules,
            source: Some(source),
            layout: KeyLayout { explicit_selector: selector.is_some(), ..KeyLayout::default() },
        })
    }

    /// The same permission with a value limit.
    pub fn with_value_limit(mut self, limit: U256) -> Self {
        self.value_limit = limit;
        self.layout.explicit_value_limit = true;
        self
    }

    /// The same permission for another call type.
    pub fn with_call_type(mut self, call_type: PermissionCallType) -> Self {
        self.call_type = call_type;
        self.layout.explicit_call_type = true;
        self
    }

    fn to_sol(&self) -> SolPermission {
        SolPermission {
            callType: FixedBytes([self.call_type.byte()]),
            target: self.target,
            selector: self.selector,
            valueLimit: self.value_limit,
            rules: self
                .rules
                .iter()
                .map(|r| SolParamRule {
                    condition: r.condition as u8,
                    offset: r.offset,
                    params: r.params.clone(),
                })
                .collect(),
        }
    }
}

/// Resolve an ABI source into a selector and rules.
pub(crate) fn resolve_abi(
    source: &AbiSource,
    selector: Option<FixedBytes<4>>,
) -> Result<(FixedBytes<4>, Vec<ParamRule>), String> {
    let function = source.function(selector)?;
    if source.args.len() > function.inputs.len() {
        return Err(format!(
            "{} conditions given for {} which takes {} arguments",
            source.args.len(),
            function.signature(),
            function.inputs.len()
        ));
    }
    let rules = source
        .args
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.as_ref().map(|a| (i, a)))
        .map(|(i, a)| {
            let input = &function.inputs[i];
            a.resolve(i, &input.selector_type())
                .map_err(|e| format!("argument {i} ({}): {e}", input.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((function.selector(), rules))
}

/// The call policy: a list of allowed calls; a call must match one of them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallPolicy {
    /// Which deployed contract enforces it.
    pub version: CallPolicyVersion,
    /// The allowed calls.
    pub permissions: Vec<CallPermission>,
}

impl CallPolicy {
    /// `abi.encode(Permission[])`.
    pub fn init_data(&self) -> Bytes {
        self.permissions.iter().map(CallPermission::to_sol).collect::<Vec<_>>().abi_encode().into()
    }

    /// Check the permissions can be enforced by the chosen version.
    pub fn validate(&self) -> Result<(), PolicyError> {
        for (index, p) in self.permissions.iter().enumerate() {
            if self.version == CallPolicyVersion::V0_0_4
                && p.rules.iter().any(|r| r.condition == ParamCondition::SliceEqual)
            {
                return Err(PolicyError::CallPermission {
                    index,
                    reason: "SLICE_EQUAL needs call policy 0.0.5".into(),
                });
            }
        }
        Ok(())
    }
}

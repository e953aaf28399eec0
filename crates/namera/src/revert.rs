//! Turn a refusal into words: which AA code, which policy, which rule.
//!
//! One decoder for both ways the chain says no: a bundler refusing a UserOperation
//! ([`Refusal`], read from its error message and data) and an `eth_call` that reverted
//! ([`Revert`]: the revert data the node returns in the JSON-RPC error's `data`).
//!
//! Revert data is decoded by its ABI structure: the EntryPoint's `FailedOp` /
//! `FailedOpWithRevert` by their fields, the revert they carry as one of the errors Kernel
//! and the canonical plugins declare ([`KnownError`]), Solidity's `Error(string)` or
//! `Panic(uint256)`, or no data at all (a bare `revert()`, which several canonical plugins
//! use for a failed `require`). Alto, the bundler, puts the EntryPoint's reason and the
//! inner revert in its message (`AA23 reverted 0x007e472e`), already decoded to text when
//! it is an `Error(string)` or a panic; both forms are read.
//!
//! The table of errors follows `contracts/CANONICAL.md`, which lists every path of every
//! canonical plugin and what it reverts with.

use alloy_primitives::{Bytes, U256};
use alloy_sol_types::{Panic, Revert as SolRevert, SolError, SolInterface, sol};
use serde_json::Value;

use crate::rpc::ErrorObject;

sol! {
    /// The errors Kernel v3.1 and the canonical plugins (ZeroDev's kernel-7579-plugins,
    /// CallPolicy 0.0.4 and 0.0.5, the validators, and solady's ECDSA library inside the
    /// ECDSA signer and validators) revert with.
    #[derive(Debug, PartialEq, Eq)]
    interface KnownErrors {
        /// Kernel: policy `i` of the permission returned failure.
        error PolicyFailed(uint256 i);
        /// Kernel: the owner's enable signature does not verify.
        error EnableNotApproved();
        /// Kernel: the nonce is below `validNonceFrom` or otherwise not valid.
        error InvalidNonce();
        /// CallPolicy: the call type is not single, batch or delegatecall.
        error InvalidCallType();
        /// CallPolicy 0.0.4: no permission matches the target and selector.
        error InvalidCallData();
        /// CallPolicy 0.0.5: no permission matches the target and selector.
        error CallViolatesTargetRule();
        /// CallPolicy: an argument breaks a rule.
        error CallViolatesParamRule();
        /// CallPolicy: the value exceeds the permission's limit.
        error CallViolatesValueRule();
        /// CallPolicy 0.0.5: a SLICE_EQUAL argument is shorter than the slice.
        error ParamTooShort();
        /// ECDSA validators and signer (solady): the signature has the wrong length or
        /// cannot be recovered.
        error InvalidSignature();
        /// Validators and signers: installed twice.
        error AlreadyInitialized(address smartAccount);
        /// Validators and signers: uninstalled while not installed.
        error NotInitialized(address smartAccount);
        /// WebAuthn validator and signer: a zero public-key coordinate at install.
        error InvalidPublicKey();
    }

    /// The EntryPoint v0.7's validation failures.
    #[derive(Debug, PartialEq, Eq)]
    interface EntryPointErrors {
        error FailedOp(uint256 opIndex, string reason);
        error FailedOpWithRevert(uint256 opIndex, string reason, bytes inner);
    }
}

/// Any error of [`KnownErrors`], decoded from revert data by its selector and fields.
///
/// ```
/// use alloy_sol_types::SolInterface;
/// use namera::revert::KnownError;
/// // CallPolicy 0.0.5's answer when no permission matches the target and selector.
/// let e = KnownError::abi_decode(&alloy_primitives::hex!("007e472e")).unwrap();
/// assert!(matches!(e, KnownError::CallViolatesTargetRule(_)));
/// ```
pub use KnownErrors::KnownErrorsErrors as KnownError;

/// An error's name, what it means, and the policy type that raises it (if a policy does).
struct Entry {
    name: &'static str,
    meaning: &'static str,
    policy: Option<&'static str>,
}

const fn entry(name: &'static str, meaning: &'static str, policy: Option<&'static str>) -> Entry {
    Entry { name, meaning, policy }
}

fn describe(e: &KnownError) -> Entry {
    use KnownError as K;
    const CALL: Option<&str> = Some("call");
    match e {
        K::PolicyFailed(_) => entry("PolicyFailed", "a policy refused the operation", None),
        K::EnableNotApproved(_) => entry(
            "EnableNotApproved",
            "the owner's enable signature is not valid for this account",
            None,
        ),
        K::InvalidNonce(_) => {
            entry("InvalidNonce", "the nonce is not valid for this validation", None)
        }
        K::InvalidCallType(_) => {
            entry("InvalidCallType", "the call policy does not allow this call type", CALL)
        }
        K::InvalidCallData(_) => entry(
            "InvalidCallData",
            "no call-policy permission allows this target and function",
            CALL,
        ),
        K::CallViolatesTargetRule(_) => entry(
            "CallViolatesTargetRule",
            "no call-policy permission allows this target and function",
            CALL,
        ),
        K::CallViolatesParamRule(_) => {
            entry("CallViolatesParamRule", "an argument breaks a rule of the call policy", CALL)
        }
        K::CallViolatesValueRule(_) => {
            entry("CallViolatesValueRule", "the value exceeds the call policy's limit", CALL)
        }
        K::ParamTooShort(_) => entry(
            "ParamTooShort",
            "an argument is shorter than the call policy's slice rule needs",
            CALL,
        ),
        K::InvalidSignature(_) => entry(
            "InvalidSignature",
            "the ECDSA signature has the wrong length or cannot be recovered",
            None,
        ),
        K::AlreadyInitialized(_) => {
            entry("AlreadyInitialized", "the module is already installed for this account", None)
        }
        K::NotInitialized(_) => {
            entry("NotInitialized", "the module is not installed for this account", None)
        }
        K::InvalidPublicKey(_) => {
            entry("InvalidPublicKey", "a passkey public-key coordinate is zero", None)
        }
    }
}

/// `Error(string)` texts the canonical plugins revert with, and which policy says each.
const KNOWN_TEXTS: &[(&str, Option<&str>)] = &[
    ("duplicate permissionHash", Some("call")),
    ("only OneOf condition can have multiple params", Some("call")),
    ("only OneOf and SubstrEqual condition can have multiple params", Some("call")),
    ("substr equal condition must have 3 params", Some("call")),
    ("hash is not in proof", None),
    ("ECDSAValidator: sender is not owner", None),
];

/// What we could read from a refusal.
///
/// ```
/// use namera::revert::Refusal;
/// // Nothing read yet: no AA code, no data, so not a bare revert either.
/// let r = Refusal::default();
/// assert!(!r.is_bare() && r.error.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Refusal {
    /// The custom error, when it is one we know (`PolicyFailed`, `CallViolatesParamRule`, …).
    pub error: Option<&'static str>,
    /// What it means.
    pub meaning: Option<&'static str>,
    /// The index of the refusing policy in the permission, when the chain says.
    pub policy_index: Option<u64>,
    /// The EntryPoint's AA code (`AA22`, `AA24`, …), when present.
    pub aa_code: Option<String>,
    /// The policy type whose own error this is (`"call"` for the call policy's errors).
    pub policy: Option<&'static str>,
    /// The revert data of the account (inside `FailedOpWithRevert`) or of the `eth_call`,
    /// when it was given as bytes. Empty for a bare `revert()`.
    pub data: Option<Bytes>,
    /// A revert reason given as text: an `Error(string)` message, or a panic's description.
    pub text: Option<String>,
    /// The budget policy's refusal in words (`BudgetExceeded: …`), when it refused.
    pub budget: Option<String>,
}

impl Refusal {
    /// Whether the revert carried no data at all (a failed `require` without message in a
    /// canonical plugin, an out-of-range calldata slice, a call to an account without code).
    pub fn is_bare(&self) -> bool {
        self.data.as_ref().is_some_and(|d| d.is_empty())
    }

    /// Read raw revert data by its ABI structure.
    fn read_revert(&mut self, raw: &[u8]) {
        if let Some((name, words)) = budget_error(raw) {
            self.error = Some(name);
            self.meaning = Some("the budget policy refused the operation");
            self.policy = Some("budget");
            self.budget = Some(words);
        } else if let Ok(e) = KnownError::abi_decode(raw) {
            let d = describe(&e);
            self.error = Some(d.name);
            self.meaning = Some(d.meaning);
            self.policy = d.policy;
            if let KnownError::PolicyFailed(p) = e {
                self.policy_index = p.i.try_into().ok();
            }
        } else if let Ok(r) = SolRevert::abi_decode(raw) {
            self.read_text(&r.reason);
        } else if let Ok(p) = Panic::abi_decode(raw) {
            self.text = Some(format!("panic 0x{:02x}", p.code));
        }
        self.data = Some(Bytes::copy_from_slice(raw));
    }

    /// Read a reason given as text (an `Error(string)`, already decoded by the bundler).
    fn read_text(&mut self, text: &str) {
        if let Some((_, policy)) = KNOWN_TEXTS.iter().find(|(t, _)| *t == text) {
            self.policy = *policy;
        }
        self.text = Some(text.to_owned());
    }
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
        let mut decoded = Refusal::default();
        decoded.read_revert(&data);
        Some(Self { data, decoded, message: obj.message.clone() })
    }
}

impl std::fmt::Display for Revert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = &self.decoded;
        match (d.error, d.policy_index, d.meaning, &d.text) {
            (Some(e), Some(i), Some(m), _) => write!(f, "{e}({i}): {m}"),
            (Some(e), None, Some(m), _) => write!(f, "{e}(): {m}"),
            (_, _, _, Some(t)) => write!(f, "reverted: {t}"),
            _ if self.data.is_empty() => write!(f, "no revert data ({})", self.message),
            _ => write!(f, "unknown error {} ({})", self.data, self.message),
        }
    }
}

/// Read a bundler error message and its data.
pub(crate) fn parse(message: &str, data: Option<&Value>) -> Refusal {
    let mut out = Refusal::default();
    let mut hexes = Vec::new();
    if let Some(d) = data {
        collect_hex(d, &mut hexes);
    }
    for raw in &hexes {
        if let Ok(e) = EntryPointErrors::FailedOpWithRevert::abi_decode(raw) {
            out.aa_code = aa_code(&e.reason);
            out.read_revert(&e.inner);
        } else if let Ok(e) = EntryPointErrors::FailedOp::abi_decode(raw) {
            out.aa_code = aa_code(&e.reason);
        } else if out.data.is_none() {
            out.read_revert(raw);
        }
    }
    if out.aa_code.is_none() {
        out.aa_code = aa_code(message);
    }
    if out.data.is_none() && out.text.is_none() {
        read_message_tail(message, &mut out);
    }
    out
}

/// The budget policy's error `data`, named and in words (it is ours: its errors carry
/// which limit, which budget and what is left).
fn budget_error(data: &[u8]) -> Option<(&'static str, String)> {
    use crate::policy::{BudgetName, IBudgetPolicy::IBudgetPolicyErrors as E};
    let e = E::abi_decode(data).ok()?;
    let name = |b: alloy_primitives::B256| {
        BudgetName::from_bytes32(b)
            .map(|n| format!(" (budget {:?})", n.as_str()))
            .unwrap_or_default()
    };
    let (label, detail) = match &e {
        E::BudgetExceeded(x) => (
            "BudgetExceeded",
            format!(
                "limit {} on {}{}: {} asked, {} of {} left in this period",
                x.limitIndex,
                x.token,
                name(x.budget),
                x.requested,
                x.limit.saturating_sub(x.used),
                x.limit
            ),
        ),
        E::TooManyOperations(x) => {
            ("TooManyOperations", format!("{} of {} operations used in this period", x.used, x.max))
        }
        E::NativeNotBudgeted(x) => (
            "NativeNotBudgeted",
            format!("call {} sends {} wei and the key has no native limit", x.callIndex, x.value),
        ),
        E::TargetNotBudgeted(x) => (
            "TargetNotBudgeted",
            format!("call {} calls {}, which carries no limit", x.callIndex, x.target),
        ),
        E::SelectorRefused(x) => (
            "SelectorRefused",
            format!("call {} calls {} on token {}", x.callIndex, x.selector, x.token),
        ),
        E::TransferFromOther(x) => (
            "TransferFromOther",
            format!("call {} moves {}'s tokens of {}", x.callIndex, x.from, x.token),
        ),
        E::SelfCall(x) => ("SelfCall", format!("call {} calls the account itself", x.callIndex)),
        E::UnsupportedCallType(x) => ("UnsupportedCallType", format!("call type {}", x.callType)),
        E::PeriodNotStarted(x) => (
            "PeriodNotStarted",
            format!("limit {} starts at {}, the operation names {}", x.limitIndex, x.start, x.time),
        ),
        E::PeriodPassed(x) => (
            "PeriodPassed",
            format!(
                "limit {} already counts period {}, the operation names period {}",
                x.limitIndex, x.storedIndex, x.index
            ),
        ),
        E::NotInstalled(x) => {
            ("NotInstalled", format!("permission {} has no budget on {}", x.id, x.account))
        }
        other => {
            ("BudgetPolicy", format!("error 0x{}", alloy_primitives::hex::encode(other.selector())))
        }
    };
    Some((label, format!("{label}: {detail}")))
}

/// The EntryPoint's code (`AA23`) at the start of a reason, or anywhere in a message.
fn aa_code(text: &str) -> Option<String> {
    text.match_indices("AA").find_map(|(i, _)| {
        let code = text.get(i..i + 4)?;
        code[2..].chars().all(|c| c.is_ascii_digit()).then(|| code.to_owned())
    })
}

/// Alto writes `… reason: AA23 reverted <inner>`, the inner revert as hex (`0x` when
/// empty), or as text when it decoded an `Error(string)` or a panic.
fn read_message_tail(message: &str, out: &mut Refusal) {
    let Some(code) = out.aa_code.as_deref() else { return };
    let Some(at) = message.find(&format!("{code} reverted")) else { return };
    let tail = message[at + code.len() + " reverted".len()..].trim();
    if tail.is_empty() {
        return;
    }
    match tail.strip_prefix("0x") {
        Some(h) if h.chars().all(|c| c.is_ascii_hexdigit()) => {
            if let Ok(raw) = alloy_primitives::hex::decode(h) {
                out.read_revert(&raw);
            }
        }
        _ => out.read_text(tail),
    }
}

fn collect_hex(v: &Value, out: &mut Vec<Vec<u8>>) {
    match v {
        Value::String(s) => {
            if let Some(raw) =
                s.strip_prefix("0x").and_then(|h| alloy_primitives::hex::decode(h).ok())
            {
                out.push(raw);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_hex(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_hex(x, out)),
        _ => {}
    }
}

/// The 4-byte selector of a known error, for tests and tables.
pub fn selector_of(name: &str) -> Option<[u8; 4]> {
    KnownError::selectors()
        .zip(KnownErrors::KnownErrorsErrors::SIGNATURES.iter())
        .find(|(_, sig)| sig.split('(').next() == Some(name))
        .map(|(sel, _)| sel)
}

/// The revert data a panic with `code` carries (`Panic(uint256)`).
pub fn panic_data(code: u64) -> Bytes {
    Panic { code: U256::from(code) }.abi_encode().into()
}

#[cfg(test)]
mod tests {
    use alloy_primitives::hex;

    use super::*;

    fn known(e: KnownError) -> Vec<u8> {
        e.abi_encode()
    }

    #[test]
    fn reads_failed_op_with_revert_by_its_fields() {
        let inner = known(KnownError::PolicyFailed(KnownErrors::PolicyFailed { i: U256::from(2) }));
        let wrapped = EntryPointErrors::FailedOpWithRevert {
            opIndex: U256::ZERO,
            reason: "AA23 reverted".into(),
            inner: inner.clone().into(),
        }
        .abi_encode();
        let r = parse(
            "UserOperation reverted during simulation with reason: AA23 reverted",
            Some(&Value::String(hex::encode_prefixed(wrapped))),
        );
        assert_eq!(
            (r.error, r.policy_index, r.aa_code.as_deref(), r.policy),
            (Some("PolicyFailed"), Some(2), Some("AA23"), None)
        );
        assert_eq!(r.data.as_ref().map(|d| d.to_vec()), Some(inner));
    }

    #[test]
    fn names_call_policy_errors_of_both_versions() {
        for (error, hex) in
            [("CallViolatesTargetRule", "0x007e472e"), ("CallViolatesValueRule", "0x7b5812d4")]
        {
            let msg = format!(
                "UserOperation reverted during simulation with reason: AA23 reverted {hex}"
            );
            let r = parse(&msg, None);
            assert_eq!((r.error, r.policy), (Some(error), Some("call")), "{msg}");
        }
    }

    #[test]
    fn a_bare_revert_is_bare_and_names_nothing() {
        let r =
            parse("UserOperation reverted during simulation with reason: AA23 reverted 0x", None);
        assert!(r.is_bare());
        assert_eq!((r.error, r.policy, r.aa_code.as_deref()), (None, None, Some("AA23")));
        let not_bare = parse(
            "UserOperation reverted during simulation with reason: AA24 signature error",
            None,
        );
        assert!(!not_bare.is_bare());
    }

    #[test]
    fn error_strings_decoded_by_the_bundler_are_attributed() {
        let r = parse(
            "UserOperation reverted during simulation with reason: AA23 reverted duplicate permissionHash",
            None,
        );
        assert_eq!((r.text.as_deref(), r.policy), (Some("duplicate permissionHash"), Some("call")));
    }

    #[test]
    fn selectors_are_the_canonical_ones() {
        assert_eq!(selector_of("CallViolatesTargetRule"), Some(hex!("007e472e")));
        assert_eq!(selector_of("InvalidSignature"), Some(hex!("8baa579f")));
        assert_eq!(selector_of("Nope"), None);
    }

    #[test]
    fn decodes_an_eth_call_revert() {
        let data =
            hex::encode_prefixed(known(KnownError::PolicyFailed(KnownErrors::PolicyFailed {
                i: U256::from(3),
            })));
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
        let text = ErrorObject {
            data: Some(Value::String(hex::encode_prefixed(
                SolRevert::from("hash is not in proof").abi_encode(),
            ))),
            ..obj.clone()
        };
        assert_eq!(
            Revert::from_error(&text).unwrap().to_string(),
            "reverted: hash is not in proof"
        );
        let not_a_revert = ErrorObject { message: "header not found".into(), data: None, ..obj };
        assert_eq!(Revert::from_error(&not_a_revert), None);
    }
}

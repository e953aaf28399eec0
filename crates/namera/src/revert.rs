//! Turn a bundler's refusal into words: which AA code, which policy error.

use alloy_primitives::Bytes;
use serde_json::Value;

/// Custom errors our plugin contracts and Kernel revert with, by selector.
const KNOWN_ERRORS: &[(&str, &str)] = &[
    ("CallViolatesParamRule()", "call policy: an argument breaks a rule"),
    ("CallViolatesValueRule()", "call policy: the value exceeds the limit"),
    ("InvalidCallData()", "call policy: no permission allows this target and function"),
    ("InvalidCallType()", "call policy: this call type is not allowed"),
    ("PolicyFailed(uint256)", "a policy refused the operation"),
    ("EnableNotApproved()", "the owner's enable signature is not valid for this account"),
    ("InvalidNonce()", "the nonce is not valid for this validation"),
];

/// Describe a bundler error message and its data in words, naming known custom errors.
pub(crate) fn describe(message: &str, data: Option<&Value>) -> String {
    let mut words = message.to_owned();
    let mut hexes: Vec<String> = Vec::new();
    if let Some(d) = data {
        collect_hex(d, &mut hexes);
    }
    collect_words_hex(message, &mut hexes);
    for h in hexes {
        let Ok(raw) = h.parse::<Bytes>() else { continue };
        if raw.len() < 4 {
            continue;
        }
        for (sig, meaning) in KNOWN_ERRORS {
            if raw[..4] == alloy_primitives::keccak256(sig.as_bytes())[..4] {
                let name = sig.split('(').next().unwrap_or(sig);
                let arg =
                    (raw.len() >= 36).then(|| alloy_primitives::U256::from_be_slice(&raw[4..36]));
                words = match (name, arg) {
                    ("PolicyFailed", Some(i)) => {
                        format!("{message} [{name}({i}): policy #{i} refused]")
                    }
                    _ => format!("{message} [{name}: {meaning}]"),
                };
                return words;
            }
        }
    }
    words
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

//! Contract reads from an ABI an agent writes: a JSON fragment or a human-readable
//! signature, arguments as JSON, results back as JSON.
//!
//! Integers travel as decimal strings both ways: JSON numbers lose precision past 2^53,
//! and a balance is usually past that.

use alloy_dyn_abi::{DynSolType, DynSolValue, FunctionExt, JsonAbiExt, Specifier};
use alloy_json_abi::{Function, JsonAbi};
use serde_json::Value;

/// Why a contract read could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbiError {
    /// Neither a fragment nor a signature was given, or both.
    #[error("give exactly one of `abi` (a JSON function fragment or ABI) or `signature`")]
    NoFunction,
    /// The signature does not parse.
    #[error("signature {signature:?} does not parse: {reason}")]
    BadSignature {
        /// As given.
        signature: String,
        /// Why.
        reason: String,
    },
    /// The JSON ABI does not parse or does not hold the function.
    #[error("abi: {0}")]
    BadAbi(String),
    /// Wrong number of arguments.
    #[error("{function} takes {expected} argument(s), {given} given")]
    ArgCount {
        /// The function's signature.
        function: String,
        /// Its arity.
        expected: usize,
        /// How many came.
        given: usize,
    },
    /// An argument does not fit its type.
    #[error("argument {index} ({ty}): {reason}")]
    BadArg {
        /// Which argument.
        index: usize,
        /// Its ABI type.
        ty: String,
        /// Why.
        reason: String,
    },
    /// The contract's answer does not decode as the outputs say.
    #[error("the answer does not decode as ({outputs}): {reason}")]
    BadOutput {
        /// The output types.
        outputs: String,
        /// Why.
        reason: String,
    },
}

/// Resolve the function to call from a JSON ABI (one fragment, or a whole ABI plus the
/// function's name) or a human-readable signature such as
/// `"function balanceOf(address owner) view returns (uint256)"`.
pub fn resolve_function(
    abi: Option<&Value>,
    signature: Option<&str>,
    name: Option<&str>,
) -> Result<Function, AbiError> {
    match (abi, signature) {
        (Some(_), Some(_)) | (None, None) => Err(AbiError::NoFunction),
        (None, Some(sig)) => {
            let s = sig.trim();
            let full =
                if s.starts_with("function ") { s.to_owned() } else { format!("function {s}") };
            Function::parse(&full).map_err(|e| AbiError::BadSignature {
                signature: sig.to_owned(),
                reason: e.to_string(),
            })
        }
        (Some(Value::Array(_)), None) => {
            let abi: JsonAbi = serde_json::from_value(abi.cloned().unwrap_or_default())
                .map_err(|e| AbiError::BadAbi(e.to_string()))?;
            let Some(name) = name else {
                return Err(AbiError::BadAbi(
                    "a whole ABI needs `function`: the name of the function to call".into(),
                ));
            };
            let mut found = abi.function(name).into_iter().flatten();
            match (found.next(), found.next()) {
                (Some(f), None) => Ok(f.clone()),
                (None, _) => Err(AbiError::BadAbi(format!("no function named {name:?}"))),
                (Some(_), Some(_)) => Err(AbiError::BadAbi(format!(
                    "{name:?} is overloaded: pass its fragment or signature instead"
                ))),
            }
        }
        (Some(v), None) => {
            let mut v = v.clone();
            // A fragment without "type" is still clearly a function.
            if let Value::Object(o) = &mut v {
                o.entry("type").or_insert_with(|| "function".into());
                o.entry("outputs").or_insert_with(|| Value::Array(vec![]));
                o.entry("stateMutability").or_insert_with(|| "view".into());
            }
            serde_json::from_value(v).map_err(|e| AbiError::BadAbi(e.to_string()))
        }
    }
}

/// The call data for `function(args…)`.
pub fn encode_call(function: &Function, args: &[Value]) -> Result<Vec<u8>, AbiError> {
    if args.len() != function.inputs.len() {
        return Err(AbiError::ArgCount {
            function: function.signature(),
            expected: function.inputs.len(),
            given: args.len(),
        });
    }
    let values = function
        .inputs
        .iter()
        .zip(args)
        .enumerate()
        .map(|(index, (param, arg))| {
            let bad = |reason: String| AbiError::BadArg { index, ty: param.ty.clone(), reason };
            let ty = param.resolve().map_err(|e| bad(e.to_string()))?;
            coerce(&ty, arg).map_err(bad)
        })
        .collect::<Result<Vec<_>, _>>()?;
    function.abi_encode_input(&values).map_err(|e| AbiError::BadArg {
        index: 0,
        ty: function.signature(),
        reason: e.to_string(),
    })
}

/// The function's outputs decoded from `data`, as JSON values in order.
pub fn decode_output(function: &Function, data: &[u8]) -> Result<Vec<Value>, AbiError> {
    let values = function.abi_decode_output(data).map_err(|e| AbiError::BadOutput {
        outputs: function.outputs.iter().map(|p| p.ty.as_str()).collect::<Vec<_>>().join(","),
        reason: e.to_string(),
    })?;
    Ok(values.iter().map(to_json).collect())
}

/// A JSON value as a value of `ty`: strings go through alloy's coercion (addresses, hex,
/// decimal integers with optional units), arrays fill arrays and tuples element-wise.
fn coerce(ty: &DynSolType, v: &Value) -> Result<DynSolValue, String> {
    let each = |t: &DynSolType, items: &[Value]| {
        items.iter().map(|x| coerce(t, x)).collect::<Result<Vec<_>, _>>()
    };
    match (ty, v) {
        (DynSolType::Array(t), Value::Array(items)) => Ok(DynSolValue::Array(each(t, items)?)),
        (DynSolType::FixedArray(t, n), Value::Array(items)) => {
            if items.len() != *n {
                return Err(format!("expected {n} elements, got {}", items.len()));
            }
            Ok(DynSolValue::FixedArray(each(t, items)?))
        }
        (DynSolType::Tuple(ts), Value::Array(items)) => {
            if items.len() != ts.len() {
                return Err(format!("expected a tuple of {}, got {}", ts.len(), items.len()));
            }
            ts.iter()
                .zip(items)
                .map(|(t, x)| coerce(t, x))
                .collect::<Result<Vec<_>, _>>()
                .map(DynSolValue::Tuple)
        }
        // The SDK's one address rule: alloy's coercion would take a wrong checksum.
        (DynSolType::Address, Value::String(s)) => namera::address::parse_address(s.trim())
            .map(DynSolValue::Address)
            .map_err(|e| e.to_string()),
        (_, Value::String(s)) => ty.coerce_str(s).map_err(|e| e.to_string()),
        (_, Value::Number(n)) if n.is_u64() || n.is_i64() => {
            ty.coerce_str(&n.to_string()).map_err(|e| e.to_string())
        }
        (DynSolType::Bool, Value::Bool(b)) => Ok(DynSolValue::Bool(*b)),
        (_, other) => Err(format!(
            "{other} does not fit; give {} as a string{}",
            ty.sol_type_name(),
            if matches!(other, Value::Number(_)) { " (no fractions or floats)" } else { "" }
        )),
    }
}

fn to_json(v: &DynSolValue) -> Value {
    match v {
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::Int(i, _) => Value::String(i.to_string()),
        DynSolValue::Uint(u, _) => Value::String(u.to_string()),
        DynSolValue::FixedBytes(w, size) => Value::String(hex0x(&w[..*size])),
        DynSolValue::Address(a) => Value::String(a.to_checksum(None)),
        DynSolValue::Function(f) => Value::String(f.to_string()),
        DynSolValue::Bytes(b) => Value::String(hex0x(b)),
        DynSolValue::String(s) => Value::String(s.clone()),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
    }
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", alloy_primitives::hex::encode(b))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn signature_and_fragment_agree() {
        let by_sig =
            resolve_function(None, Some("balanceOf(address) returns (uint256)"), None).unwrap();
        let frag = json!({"name": "balanceOf", "inputs": [{"name": "o", "type": "address"}],
            "outputs": [{"name": "", "type": "uint256"}]});
        let by_frag = resolve_function(Some(&frag), None, None).unwrap();
        assert_eq!(by_sig.selector(), by_frag.selector());
        let data =
            encode_call(&by_sig, &[json!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a")]).unwrap();
        assert_eq!(&data[..4], by_sig.selector().as_slice());
        let out = decode_output(&by_sig, &alloy_primitives::U256::from(12345).to_be_bytes::<32>())
            .unwrap();
        assert_eq!(out, vec![json!("12345")]);
    }

    /// One address rule with the CLI and policy JSON: mixed case must be a valid
    /// checksum (alloy's coercion alone took any).
    #[test]
    fn address_arguments_follow_the_one_checksum_rule() {
        let f = resolve_function(None, Some("function f(address a, address[] b)"), None).unwrap();
        let good = "0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A";
        let typo = "0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958a";
        assert!(encode_call(&f, &[json!(good), json!([good.to_lowercase()])]).is_ok());
        for args in [[json!(typo), json!([])], [json!(good), json!([typo])]] {
            let e = encode_call(&f, &args).unwrap_err();
            assert!(e.to_string().contains("wrong EIP-55 checksum"), "{e}");
        }
    }

    #[test]
    fn bad_inputs_say_what_is_wrong() {
        let f = resolve_function(None, Some("function f(uint8 a, bool b)"), None).unwrap();
        assert!(matches!(
            encode_call(&f, &[json!(1)]),
            Err(AbiError::ArgCount { expected: 2, given: 1, .. })
        ));
        let e = encode_call(&f, &[json!("300"), json!(true)]).unwrap_err();
        assert!(matches!(e, AbiError::BadArg { index: 0, .. }), "{e}");
        let e = encode_call(&f, &[json!(1.5), json!(true)]).unwrap_err();
        assert!(e.to_string().contains("no fractions"), "{e}");
        assert_eq!(resolve_function(None, None, None), Err(AbiError::NoFunction));
        assert!(matches!(
            resolve_function(None, Some("not a (signature"), None),
            Err(AbiError::BadSignature { .. })
        ));
    }
}

//! Policies as the CLI takes them: ZeroDev's `policyParams` JSON (what a serialized key
//! carries), one document per policy, with a JSON Schema that says what each type takes.

use std::borrow::Cow;

use namera::policy::Policy;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// One policy's JSON, kept as written (its key order is part of a serialized key) and
/// checked by the SDK's parser as it is read, so a bad policy is refused with the other
/// input errors, at its path (`policies[1]: unknown field `intervall`…`), before any
/// account is read or any password asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(crate) struct PolicyArg(pub(crate) serde_json::Value);

impl<'de> Deserialize<'de> for PolicyArg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Policy::from_json(&crate::human_amount::placeholder(&value))
            .map_err(serde::de::Error::custom)?;
        Ok(Self(value))
    }
}

impl std::str::FromStr for PolicyArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let value =
            crate::params::parse_json_strict(s).map_err(|e| format!("not a JSON policy: {e}"))?;
        Policy::from_json(&crate::human_amount::placeholder(&value)).map_err(|e| e.to_string())?;
        Ok(Self(value))
    }
}

/// A policy in words (the SDK's wording).
pub(crate) fn describe_policy(p: &Policy) -> String {
    p.describe()
}

impl JsonSchema for PolicyArg {
    fn schema_name() -> Cow<'static, str> {
        "Policy".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let uint = json_schema!({
            "type": ["string", "integer"], "pattern": crate::values::uint_pattern(true), "minimum": 0
        });
        let address =
            json_schema!({ "type": "string", "pattern": crate::values::hex_pattern(Some(20)) });
        let flag = json_schema!({
            "type": "string", "enum": ["0x0000", "0x0001", "0x0002"],
            "description": "0x0000 checks UserOperations and ERC-1271 signatures; 0x0001 skips UserOperations; 0x0002 skips signatures."
        });
        let token = json_schema!({
            "type": "string", "pattern": "^(native|0x[0-9a-fA-F]{40})$",
            "description": "\"native\" (the chain's coin) or an ERC-20's address."
        });
        let seconds = json_schema!({ "type": "integer", "minimum": 0 });
        let limit_properties = json_schema!({
            "token": token,
            "amount": { "type": ["string", "integer"], "pattern": "^([0-9]+|0x[0-9a-fA-F]+|[0-9]*\\.?[0-9]+ [A-Za-z0-9.$-]+)$", "minimum": 0, "description": "At most this much per period: in the token's base units (100 of a 6-decimal token: \"100000000\"; uint128), or for people as a number and the token's symbol (\"100 USDC\", \"0.5 ETH\"), converted with the token's decimals() read from the chain when the key is created." },
            "period": { "type": "integer", "minimum": 0, "description": "The period in seconds; 0 = the key's whole life." },
            "start": { "type": "integer", "minimum": 0, "description": "When periods start counting (seconds since the epoch). Default 0: a 1-day period turns at 00:00 UTC." },
            "budget": { "type": "string", "minLength": 1, "maxLength": 32, "description": "A shared budget's name: every key of the account that names it draws on one counter onchain." }
        });
        let ops_properties = json_schema!({
            "count": { "type": "integer", "minimum": 1, "maximum": 4294967295u64, "description": "At most this many UserOperations in each period." },
            "period": seconds.clone(),
            "start": seconds
        });
        let mut spending = limit_properties.as_object().cloned().unwrap_or_default();
        spending.insert("type".into(), serde_json::json!({ "const": "spending-limit" }));
        spending.insert("policyFlag".into(), flag.clone().to_value());
        spending.insert("policyAddress".into(), address.clone().to_value());
        let mut ops = ops_properties.as_object().cloned().unwrap_or_default();
        ops.insert("type".into(), serde_json::json!({ "const": "ops-per-period" }));
        ops.insert("policyFlag".into(), flag.clone().to_value());
        ops.insert("policyAddress".into(), address.clone().to_value());
        json_schema!({
            "description": "A policy in ZeroDev's policyParams JSON. Every policy of a key must pass.",
            "type": "object",
            "required": ["type"],
            "properties": { "type": { "enum": ["sudo", "timestamp", "gas", "rate-limit", "signature-caller", "call", "spending-limit", "ops-per-period", "budget"] } },
            "oneOf": [
                {
                    "title": "sudo",
                    "description": "Anything the owner could do.",
                    "properties": { "type": { "const": "sudo" }, "policyFlag": flag, "policyAddress": address }
                },
                {
                    "title": "timestamp",
                    "description": "Valid only inside a window (seconds since the epoch; 0 = unbounded).",
                    "properties": {
                        "type": { "const": "timestamp" }, "policyFlag": flag, "policyAddress": address,
                        "validAfter": { "type": "integer", "minimum": 0 },
                        "validUntil": { "type": "integer", "minimum": 0 }
                    }
                },
                {
                    "title": "gas",
                    "description": "A total budget in wei for the operations' maximum cost.",
                    "required": ["allowed"],
                    "properties": {
                        "type": { "const": "gas" }, "policyFlag": flag, "policyAddress": address,
                        "allowed": uint, "enforcePaymaster": { "type": "boolean" }, "allowedPaymaster": address
                    }
                },
                {
                    "title": "rate-limit",
                    "description": "At most `count` uses in all (a total, not `count` per `interval`), each at least `interval` seconds after the previous one.",
                    "required": ["count"],
                    "properties": {
                        "type": { "const": "rate-limit" }, "policyFlag": flag, "policyAddress": address,
                        "interval": { "type": "integer", "minimum": 0, "description": "The least time between two uses, in seconds (not a window for `count` uses)." },
                        "count": { "type": "integer", "minimum": 1, "description": "How many uses in all, ever (not per interval)." },
                        "startAt": { "type": "integer", "minimum": 0, "description": "When the first use is allowed (seconds since the epoch). Default: the chains' current time." }
                    }
                },
                {
                    "title": "signature-caller",
                    "description": "Only these contracts may have the account validate the key's ERC-1271 signatures.",
                    "required": ["allowedCallers"],
                    "properties": {
                        "type": { "const": "signature-caller" }, "policyFlag": flag, "policyAddress": address,
                        "allowedCallers": { "type": "array", "items": address }
                    }
                },
                {
                    "title": "call",
                    "description": "Which contracts and functions may be called, down to argument values.",
                    "required": ["permissions"],
                    "properties": {
                        "type": { "const": "call" }, "policyFlag": flag,
                        "policyVersion": { "enum": ["0.0.4", "0.0.5"] },
                        "permissions": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "properties": {
                                    "target": address,
                                    "valueLimit": uint,
                                    "callType": { "type": ["string", "integer"], "description": "CALL, BATCH_CALL or DELEGATE_CALL" },
                                    "abi": { "type": "array", "description": "The contract's ABI (JSON), to find the function and argument types." },
                                    "functionName": { "type": "string" },
                                    "selector": { "type": "string", "pattern": crate::values::hex_pattern(Some(4)) },
                                    "args": {
                                        "type": "array",
                                        "description": "One entry per function argument: null (unconstrained) or a condition.",
                                        "items": {
                                            "anyOf": [
                                                { "type": "null" },
                                                {
                                                    "type": "object",
                                                    "required": ["condition", "value"],
                                                    "properties": {
                                                        "condition": { "enum": ["EQUAL", "GREATER_THAN", "LESS_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN_OR_EQUAL", "NOT_EQUAL", "ONE_OF", "SLICE_EQUAL"] },
                                                        "value": {},
                                                        "start": { "type": "integer", "minimum": 0 },
                                                        "length": { "type": "integer", "minimum": 0 }
                                                    }
                                                }
                                            ]
                                        }
                                    },
                                    "rules": { "type": "array" }
                                }
                            }
                        }
                    }
                }
                ,
                {
                    "title": "spending-limit",
                    "description": "Namera's budget policy, onchain: at most `amount` of `token` per `period`, counting the whole UserOperation (batches summed; native value; ERC-20 transfer, transferFrom from the account, approve and increaseAllowance). Several spending-limit and ops-per-period policies of one key merge into one budget. See docs/budgets.md.",
                    "required": ["token", "amount"],
                    "properties": spending,
                    "additionalProperties": false
                },
                {
                    "title": "ops-per-period",
                    "description": "Namera's budget policy, onchain: at most `count` UserOperations in each `period` (a window, unlike rate-limit).",
                    "required": ["count"],
                    "properties": ops,
                    "additionalProperties": false
                },
                {
                    "title": "budget",
                    "description": "Namera's budget policy in full: up to 8 `limits` (each as spending-limit, without `type`), an optional `ops` cap, and two flags.",
                    "properties": {
                        "type": { "const": "budget" }, "policyFlag": flag, "policyAddress": address,
                        "limits": {
                            "type": "array", "maxItems": 8,
                            "items": { "type": "object", "required": ["token", "amount"], "properties": limit_properties, "additionalProperties": false }
                        },
                        "ops": { "type": "object", "required": ["count"], "properties": ops_properties, "additionalProperties": false },
                        "allowSignatures": { "type": "boolean", "description": "Let the key's ERC-1271 signatures through (permits can move tokens); default false." },
                        "allowOtherCalls": { "type": "boolean", "description": "Allow calls with data to contracts that carry no limit; default false." }
                    }
                }
            ],
            "examples": [
                { "type": "call", "permissions": [{ "target": "0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A", "valueLimit": "1000000000000000" }] },
                { "type": "gas", "allowed": "10000000000000000" },
                { "type": "timestamp", "validAfter": 0, "validUntil": 1893456000 },
                { "type": "rate-limit", "interval": 3600, "count": 10 },
                { "type": "spending-limit", "token": "0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A", "amount": "100000000", "period": 86400, "budget": "fleet" },
                { "type": "ops-per-period", "count": 10, "period": 3600 }
            ]
        })
    }
}

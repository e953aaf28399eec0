//! Property tests of the input layer: every command's input type, fed arbitrary JSON
//! objects through the real parsing path ([`crate::params::resolve`], as `--params`
//! reaches it), must never panic, and must refuse bad input with an exit-2 error that
//! names where it is wrong (a field, or a path into one).

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::atomic::{AtomicUsize, Ordering},
};

use proptest::{
    collection::{btree_map, vec},
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use serde_json::{Map, Number, Value};

use crate::{cmd::schema::COMMANDS, error::ErrorKind, params};

/// Strings that reach deeper than random text: addresses (one with a wrong checksum),
/// chains, amounts, lanes, policy types, URLs, `KEY=PASSWORD`.
const INTERESTING: &[&str] = &[
    "0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A",
    "0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958a",
    "0x0000000000000000000000000000000000000000",
    "0x",
    "0xzz",
    "0x1234",
    "local",
    "eth-mainnet",
    "1ether",
    "0.5 gwei",
    "70000",
    "-1",
    "",
    "sudo",
    "call",
    "timestamp",
    "gas",
    "rate-limit",
    "signature-caller",
    "EQUAL",
    "ONE_OF",
    "SLICE_EQUAL",
    "ecdsa",
    "passkey:x",
    "http://[::1",
    "agent=hunter2",
    "0x0000",
    "0.0.5",
];

/// Keys that nested objects (policies, calls, batches) use, misspelt ones included.
const NESTED_KEYS: &[&str] = &[
    "type",
    "validUntil",
    "valid_until",
    "validAfter",
    "count",
    "interval",
    "intervall",
    "startAt",
    "allowed",
    "enforcePaymaster",
    "enforcePaymastr",
    "allowedPaymaster",
    "allowedCallers",
    "permissions",
    "target",
    "valueLimit",
    "abi",
    "functionName",
    "args",
    "condition",
    "value",
    "start",
    "length",
    "rules",
    "offset",
    "params",
    "selector",
    "callType",
    "policyFlag",
    "policyVersion",
    "chain",
    "serialized",
    "to",
    "data",
    "calls",
    "lane",
    "name",
    "inputs",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u64..100_000).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        "\\PC{0,12}".prop_map(Value::from),
        prop::sample::select(INTERESTING).prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(NESTED_KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{1,10}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(key(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A `--params` object: mostly the command's own fields (and the original tool's
/// names), with arbitrary values, and sometimes a stranger key.
fn params_object(fields: Vec<String>) -> impl Strategy<Value = Value> {
    let names: Vec<String> =
        fields.into_iter().chain(params::ALIASES.iter().map(|(a, _)| (*a).to_owned())).collect();
    let field = prop_oneof![
        6 => prop::sample::select(names),
        1 => "[a-z_]{1,12}",
    ];
    vec((field, value()), 0..7)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
}

/// The top-level keys an error message may name: the input's keys, the command's
/// fields (a missing one is named), and our names for the aliases given.
fn nameable(input: &Value, fields: &[String]) -> Vec<String> {
    let mut out: Vec<String> = fields.to_vec();
    if let Value::Object(m) = input {
        out.extend(m.keys().cloned());
    }
    out
}

#[test]
fn every_command_refuses_arbitrary_json_cleanly_naming_the_field() {
    const CASES_PER_COMMAND: u32 = 300;
    let (inputs, accepted, refused, panics) =
        (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
    for entry in COMMANDS {
        let schema = serde_json::to_value((entry.schema)()).unwrap();
        let fields: Vec<String> = schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let mut runner = TestRunner::new(Config {
            cases: CASES_PER_COMMAND,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&params_object(fields.clone()), |input| {
            inputs.fetch_add(1, Ordering::Relaxed);
            let text = input.to_string();
            let outcome = catch_unwind(AssertUnwindSafe(|| (entry.resolve)(&text)));
            let Ok(outcome) = outcome else {
                panics.fetch_add(1, Ordering::Relaxed);
                return Err(TestCaseError::fail(format!("{}: panicked on {text}", entry.name)));
            };
            let Err(e) = outcome else {
                accepted.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            };
            refused.fetch_add(1, Ordering::Relaxed);
            prop_assert_eq!(e.kind(), ErrorKind::Usage, "{}: {} on {}", entry.name, e, text);
            let names = nameable(&input, &fields);
            let message = e.message();
            prop_assert!(
                names.iter().any(|n| message.contains(n.as_str())),
                "{}: `{}` names no field of {}",
                entry.name,
                message,
                text
            );
            // A wrong value is named by its path: `field: …` or `field[i]…: …`.
            if e.code() == "invalid-params" {
                let path = message.split(": ").next().unwrap_or_default();
                let top = path.split(['.', '[']).next().unwrap_or_default();
                prop_assert!(
                    names.iter().any(|n| n == top),
                    "{}: no path in `{}`",
                    entry.name,
                    message
                );
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }
    let (inputs, accepted, refused, panics) =
        (inputs.into_inner(), accepted.into_inner(), refused.into_inner(), panics.into_inner());
    eprintln!(
        "input properties: {inputs} generated inputs over {} commands: {accepted} accepted, \
         {refused} refused (each exit 2, naming its field), {panics} panics",
        COMMANDS.len()
    );
    assert!(inputs >= 10_000, "only {inputs} inputs");
    assert_eq!(panics, 0);
}

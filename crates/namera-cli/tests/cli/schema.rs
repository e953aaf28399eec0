//! `namera schema <command>`: valid JSON Schema (draft 2020-12) for every command, and
//! the example each command's `--help` shows validates against it — checked by Python's
//! `jsonschema`, an implementation that is not ours.

use crate::support::{Home, assert_exit, assert_result_valid, json, py, result_violations, text};

/// The `--params '…'` example at the end of a command's help.
fn help_example(home: &Home, command: &str) -> serde_json::Value {
    let mut args: Vec<&str> = command.split('.').collect();
    args.push("--help");
    let out = home.run(&args, &[]);
    assert_exit(&out, 0);
    let help = text(&out.stdout);
    let line = help
        .lines()
        .find(|l| l.trim_start().starts_with("namera ") && l.contains("--params '"))
        .unwrap_or_else(|| panic!("{command}: no example in --help:\n{help}"));
    let start = line.find("--params '").unwrap() + "--params '".len();
    let end = line.rfind('\'').unwrap();
    serde_json::from_str(&line[start..end])
        .unwrap_or_else(|e| panic!("{command}: example is not JSON: {e}"))
}

#[test]
fn every_schema_is_valid_and_its_help_example_validates() {
    let home = Home::new("schema");
    let out = home.run(&["schema", "-o", "json"], &[]);
    assert_exit(&out, 0);
    let names: Vec<String> = serde_json::from_value(json(&out.stdout)).unwrap();
    for expected in [
        "keystore.create",
        "session-key.create",
        "tx.send",
        "tx.batch",
        "policy.check",
        "schema",
        "quickstart",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    let mut cases = Vec::new();
    for name in &names {
        let out = home.run(&["schema", name, "-o", "json"], &[]);
        assert_exit(&out, 0);
        let schema = json(&out.stdout);
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema", "{name}");
        assert!(schema["properties"].is_object(), "{name}: {schema}");
        // The spaced form names the same command.
        let spaced: Vec<&str> = name.split('.').collect();
        let mut args = vec!["schema"];
        args.extend(&spaced);
        args.extend(["-o", "json"]);
        assert_eq!(json(&home.run(&args, &[]).stdout), schema, "{name}");
        // The result's schema: published for every command, described, closed where
        // the result is.
        let out = home.run(&["schema", name, "--result", "-o", "json"], &[]);
        assert_exit(&out, 0);
        let result = json(&out.stdout);
        assert_eq!(result["$schema"], "https://json-schema.org/draft/2020-12/schema", "{name}");
        cases.push(serde_json::json!({
            "name": name, "schema": schema, "example": help_example(&home, name), "result": result
        }));
    }
    let file = home.path.join("cases.json");
    std::fs::write(&file, serde_json::to_vec(&cases).unwrap()).unwrap();
    let report = py(
        r#"
import json, sys
from jsonschema import Draft202012Validator
bad = []
for case in json.load(open(sys.argv[1])):
    try:
        Draft202012Validator.check_schema(case["schema"])
    except Exception as e:
        bad.append(f"{case['name']}: invalid schema: {e}")
        continue
    errors = list(Draft202012Validator(case["schema"]).iter_errors(case["example"]))
    bad += [f"{case['name']}: example does not validate: {e.message}" for e in errors]
    # A document with a field the command does not take must not validate either,
    # or agents would learn nothing from the schema.
    extra = dict(case["example"], not_a_field=1)
    if Draft202012Validator(case["schema"]).is_valid(extra):
        bad.append(f"{case['name']}: accepts an unknown field")
    if not case["schema"].get("description"):
        bad.append(f"{case['name']}: no description")
    try:
        Draft202012Validator.check_schema(case["result"])
    except Exception as e:
        bad.append(f"{case['name']}: invalid result schema: {e}")
    if not case["result"].get("description"):
        bad.append(f"{case['name']}: result schema has no description")
    print(case["name"], "ok")
print("BAD" if bad else "ALL OK")
for b in bad: print(b)
"#,
        &[file.to_str().unwrap()],
    );
    assert!(report.contains("ALL OK"), "{report}");
    assert_eq!(report.lines().filter(|l| l.ends_with(" ok")).count(), names.len(), "{report}");
}

#[test]
fn schemas_say_what_is_required_and_describe_fields() {
    let home = Home::new("schema2");
    let out = home.run(&["schema", "session-key.create", "-o", "json"], &[]);
    let schema = json(&out.stdout);
    assert_eq!(schema["required"], serde_json::json!(["alias"]));
    // The original tool's names stand in for ours (never both).
    let all_of = schema["allOf"].to_string();
    assert!(
        all_of.contains(
            r#"{"anyOf":[{"required":["smart_account"]},{"required":["smartAccountAlias"]}]}"#
        ),
        "{all_of}"
    );
    assert!(
        all_of.contains(r#"{"anyOf":[{"required":["policies"]},{"required":["policyParams"]}]}"#),
        "{all_of}"
    );
    assert!(
        all_of.contains(r#"{"not":{"required":["session_password","sessionKeyPassword"]}}"#),
        "{all_of}"
    );
    assert_eq!(schema["properties"]["policyParams"]["deprecated"], true);
    // The original tool's published example validates; giving both names does not.
    let seed = r#"{"alias":"my-agent-key","smartAccountAlias":"my-wallet","chains":["eth-mainnet"],"policyParams":[{"type":"gas","allowed":"100000000000000000"}]}"#;
    let both =
        r#"{"alias":"a","smart_account":"x","smartAccountAlias":"x","policies":[{"type":"sudo"}]}"#;
    let verdicts = crate::support::py(
        "import json, sys\nfrom jsonschema import Draft202012Validator as V\nv = V(json.loads(sys.argv[1]))\nprint(v.is_valid(json.loads(sys.argv[2])), v.is_valid(json.loads(sys.argv[3])))",
        &[&schema.to_string(), seed, both],
    );
    assert_eq!(verdicts.trim(), "True False");
    assert!(
        schema["properties"]["policies"]["description"].as_str().unwrap().contains("policyParams")
    );
    assert!(schema["properties"]["password_env"].is_object(), "password flags are in params too");
    assert!(schema["properties"]["session_password_file"].is_object());
    // Policies are described per type.
    let text = schema.to_string();
    for ty in ["sudo", "timestamp", "gas", "rate-limit", "signature-caller", "call"] {
        assert!(text.contains(&format!("\"const\":\"{ty}\"")), "{ty}");
    }

    // The result's schema: closed, every field described; a list is an array of items.
    let out = home.run(&["schema", "tx", "send", "--result", "-o", "json"], &[]);
    assert_exit(&out, 0);
    let result = json(&out.stdout);
    assert_eq!(result["additionalProperties"], false, "{result}");
    let fields = result["properties"].as_object().unwrap();
    assert!(fields.contains_key("user_op_hash") && fields.contains_key("error"), "{result}");
    for (name, field) in fields {
        assert!(field["description"].is_string(), "tx.send result field {name} undescribed");
    }
    let out = home.run(&["schema", "tx.batch", "--result", "-o", "json"], &[]);
    let list = json(&out.stdout);
    assert_eq!(list["type"], "array");
    assert_eq!(list["items"]["$ref"], "#/$defs/BatchResult");
    // --result names the command it describes, by flag or in --params.
    assert_exit(&home.run(&["schema", "--result"], &[]), 2);
    let out = home.run(&["schema", "--params", r#"{"result":true}"#, "-o", "json"], &[]);
    assert_exit(&out, 2);
}

/// The result schemas are not vacuous: a real output passes and the same output, broken
/// in each way an agent could be misled, does not (else every check above would pass).
#[test]
fn result_schemas_reject_wrong_documents() {
    let home = Home::new("schema3");
    let out = home.run(
        &["keystore", "create", "--alias", "o", "--light-kdf", "--password-env", "P", "-o", "json"],
        &[("P", "pw")],
    );
    assert_exit(&out, 0);
    assert_result_valid("keystore.create", "json", &out.stdout);
    let good = json(&out.stdout);
    let mut broken = Vec::new();
    for (field, value) in [
        ("address", serde_json::json!("0x1234")),
        ("alias", serde_json::json!(7)),
        ("not_a_field", serde_json::json!(1)),
    ] {
        let mut doc = good.clone();
        doc[field] = value;
        broken.push((field, doc));
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("kdf");
    broken.push(("kdf (missing)", missing));
    for (what, doc) in broken {
        let violations = result_violations("keystore.create", "json", doc.to_string().as_bytes());
        assert!(!violations.is_empty(), "{what}: a wrong document was accepted: {doc}");
    }
    // In NDJSON a list is one item per line, anything else one line.
    let line = good.to_string();
    let two = format!("{line}\n{line}\n");
    assert!(result_violations("keystore.list", "ndjson", two.as_bytes()).is_empty());
    assert!(!result_violations("keystore.info", "ndjson", two.as_bytes()).is_empty());
    assert!(!result_violations("keystore.list", "ndjson", b"{\"alias\":1}\n").is_empty());
}

/// `session-key.create`'s schema documents the budget policies: a spending-limit (with a
/// shared budget) and an ops-per-period validate, and what the CLI's parser refuses (a
/// misspelt field, a token that is neither "native" nor an address, no amount) does not.
#[test]
fn the_create_schema_documents_budget_policies() {
    let home = Home::new("schema-budget");
    let out = home.run(&["schema", "session-key.create", "-o", "json"], &[]);
    assert_exit(&out, 0);
    let schema = json(&out.stdout);
    let doc =
        |policy: &str| format!(r#"{{"alias":"k","smart_account":"w","policies":[{policy}]}}"#);
    let cases = [
        r#"{"type":"spending-limit","token":"0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A","amount":"100000000","period":86400,"budget":"fleet"}"#,
        r#"{"type":"spending-limit","token":"native","amount":1000}"#,
        r#"{"type":"ops-per-period","count":2,"period":60}"#,
        r#"{"type":"spending-limit","token":"native","amount":"0.5 ETH","period":3600}"#,
        r#"{"type":"budget","limits":[{"token":"native","amount":"5","period":60}],"ops":{"count":3}}"#,
        r#"{"type":"spending-limit","token":"native","amount":"1","perod":60}"#,
        r#"{"type":"spending-limit","token":"usdc","amount":"1"}"#,
        r#"{"type":"spending-limit","token":"native"}"#,
        r#"{"type":"ops-per-period","count":0}"#,
    ];
    let docs: Vec<String> = cases.iter().map(|c| doc(c)).collect();
    let mut args = vec![schema.to_string()];
    args.extend(docs.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let verdicts = py(
        "import json, sys\nfrom jsonschema import Draft202012Validator as V\nv = V(json.loads(sys.argv[1]))\nprint(' '.join(str(v.is_valid(json.loads(a))) for a in sys.argv[2:]))",
        &args,
    );
    assert_eq!(verdicts.trim(), "True True True True True False False False False");
    // The CLI's own parser agrees on the misspelt field (refused before any chain is read).
    let out = home.run(&["session-key", "create", "--params", &docs[5]], &[]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("perod"), "{}", text(&out.stderr));
}

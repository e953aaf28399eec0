//! One input model for people and programs: every command's input is one serde type that
//! clap fills from flags and serde fills from `--params '<json>'` (or `@file`, or `-` for
//! stdin). Both end in the same value, validated the same way, and `namera schema
//! <command>` prints that type's JSON Schema, so what an agent reads is what the CLI
//! accepts.
//!
//! Fields are optional at the clap level so that either source can supply them; which
//! ones are required is said once, in [`CommandInput::REQUIRED`], and enforced after the
//! two sources are merged (and written into the schema's `required`).
//!
//! Each command also names its result type, [`CommandInput::Output`]: what `-o json`
//! prints, whose schema `namera schema <command> --result` prints ([`output_schema_of`]).

use std::{io::Read, path::Path};

use schemars::{JsonSchema, Schema};
use serde::{
    Serialize,
    de::{DeserializeOwned, DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor},
};
use serde_json::{Map, Value};

use crate::error::{CliError, ErrorKind};

/// A command's input type.
pub(crate) trait CommandInput:
    Serialize + DeserializeOwned + JsonSchema + clap::Args
{
    /// The command's dotted name (`session-key.create`).
    const NAME: &'static str;
    /// The fields that must be given, by flag or in `--params`.
    const REQUIRED: &'static [&'static str] = &[];
    /// An example `--params` document; it must validate against the schema (tested).
    const EXAMPLE: &'static str = "{}";
    /// What the command prints in `-o json`: a document, or a `Vec` of items for a list
    /// (written one item per line in `-o ndjson`). Its doc comments are the published
    /// output schema's descriptions.
    type Output: JsonSchema;
}

/// Fields whose values are secrets: no message ever prints their value (a conflict or a
/// wrong type names the field only). `session_keys` may carry `KEY=PASSWORD`; `keys`
/// (session-key import) carries serialized keys with their private keys.
pub(crate) const SECRET_FIELDS: &[&str] =
    &["password", "session_password", "key_passwords", "session_keys", "keys"];

/// The original tool's parameter names, accepted for ours: agents trained on its
/// published examples send them. Each maps to the first of our names the command has
/// (`sessionKeyPassword` is `session_password` where a command also takes the owner's
/// `password`, and `password` where the session key's is the only one).
pub(crate) const ALIASES: &[(&str, &[&str])] = &[
    ("smartAccountAlias", &["smart_account"]),
    ("sessionKeyPassword", &["session_password", "password"]),
    ("ownerKeystorePassword", &["password"]),
    ("policyParams", &["policies"]),
];

/// The aliases (their name, our field) that apply to a command taking `known`.
pub(crate) fn aliases_for(known: &[String]) -> Vec<(&'static str, String)> {
    ALIASES
        .iter()
        .filter_map(|(alias, ours)| {
            ours.iter().find(|o| known.iter().any(|k| k == *o)).map(|o| (*alias, (*o).to_owned()))
        })
        .collect()
}

/// Whether `field` (a top-level field name, or a path starting with one) holds a secret.
pub(crate) fn is_secret(field: &str) -> bool {
    let top = field.split(['.', '[']).next().unwrap_or(field);
    SECRET_FIELDS.contains(&top)
}

/// The `Example:` paragraph every command's `--help` ends with; the schema tests check
/// it validates against the command's schema.
pub(crate) fn help_example<T: CommandInput>() -> String {
    format!("Example:\n  namera {} --params '{}'", T::NAME.replace('.', " "), T::EXAMPLE)
}

/// Where `--params` came from, as written on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParamsSource {
    /// Inline JSON.
    Inline(String),
    /// `@path`: a file.
    File(String),
    /// `-`: standard input.
    Stdin,
}

impl std::str::FromStr for ParamsSource {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(if s == "-" {
            Self::Stdin
        } else if let Some(path) = s.strip_prefix('@') {
            Self::File(path.to_owned())
        } else {
            Self::Inline(s.to_owned())
        })
    }
}

impl ParamsSource {
    /// The JSON text and a name for it in error messages.
    fn read(&self) -> Result<(String, String), CliError> {
        match self {
            Self::Inline(text) => Ok((text.clone(), "--params".into())),
            Self::File(path) => std::fs::read_to_string(Path::new(path))
                .map(|t| (t, format!("--params @{path}")))
                .map_err(|e| {
                    let kind = if e.kind() == std::io::ErrorKind::NotFound {
                        ErrorKind::NotFound
                    } else {
                        ErrorKind::Usage
                    };
                    CliError::new(kind, "params-file", format!("reading --params @{path}: {e}"))
                }),
            Self::Stdin => {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text).map_err(|e| {
                    CliError::new(ErrorKind::Usage, "params-stdin", format!("reading stdin: {e}"))
                })?;
                Ok((text, "--params - (stdin)".into()))
            }
        }
    }
}

/// Merges `flags` (what clap parsed) with the `--params` document into one `T`.
///
/// A field given both ways with different values is a usage error: silently preferring
/// one would make a script's behaviour depend on which the reader assumed wins.
///
/// With `interactive` set (a person at a terminal), missing text and list fields are
/// asked for; fields that need more than a line (policies, calls) are left to the
/// command's own prompts. Without it, anything missing is one exit-2 error naming all.
pub(crate) fn resolve<T: CommandInput>(
    flags: &T,
    params: Option<&ParamsSource>,
    interactive: bool,
) -> Result<T, CliError> {
    let flag_values = match serde_json::to_value(flags) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut merged = match params {
        None => Map::new(),
        Some(source) => {
            let (text, origin) = source.read()?;
            let value: Value = parse_json_strict(&text).map_err(|e| {
                let code =
                    if e.starts_with("duplicate key") { "duplicate-key" } else { "malformed-json" };
                CliError::new(ErrorKind::Usage, code, format!("{origin} is not valid JSON: {e}"))
                    .with_hint(format!("`namera schema {}` prints what is expected", T::NAME))
            })?;
            match value {
                Value::Object(m) => m,
                other => {
                    return Err(CliError::new(
                        ErrorKind::Usage,
                        "invalid-params",
                        format!("{origin} must be a JSON object, not {}", json_kind(&other)),
                    ));
                }
            }
        }
    };
    let known = field_names::<T>();
    for (alias, ours) in aliases_for(&known) {
        if let Some(value) = merged.remove(alias) {
            if merged.contains_key(&ours) {
                return Err(CliError::new(
                    ErrorKind::Usage,
                    "conflicting-input",
                    format!("`{alias}` and `{ours}` name the same field; give one"),
                ));
            }
            merged.insert(ours, value);
        }
    }
    if let Some(unknown) = merged.keys().find(|k| !known.iter().any(|f| f == *k)) {
        let names: Vec<&str> = known
            .iter()
            .map(String::as_str)
            .chain(aliases_for(&known).iter().map(|(a, _)| *a))
            .collect();
        let message = match namera::fields::closest(unknown, &names) {
            Some(meant) => format!("unknown field `{unknown}`; did you mean `{meant}`?"),
            None => format!("unknown field `{unknown}`; {} takes {}", T::NAME, known.join(", ")),
        };
        return Err(CliError::new(ErrorKind::Usage, "unknown-field", message)
            .with_hint(format!("`namera schema {}` prints what is expected", T::NAME)));
    }
    for (key, value) in flag_values {
        match merged.get(&key) {
            Some(_) if is_secret(&key) && merged.get(&key) != Some(&value) => {
                return Err(CliError::new(
                    ErrorKind::Usage,
                    "conflicting-input",
                    format!(
                        "`{key}` is given twice with different values, by flag and in \
                         --params (not shown: it is a secret)"
                    ),
                ));
            }
            Some(existing) if existing != &value => {
                return Err(CliError::new(
                    ErrorKind::Usage,
                    "conflicting-input",
                    format!(
                        "`{key}` is given twice with different values: {value} by flag, \
                         {existing} in --params"
                    ),
                ));
            }
            _ => {
                merged.insert(key, value);
            }
        }
    }
    let missing: Vec<&str> =
        T::REQUIRED.iter().copied().filter(|k| merged.get(*k).is_none_or(Value::is_null)).collect();
    if !missing.is_empty() {
        if !interactive {
            return Err(missing_error::<T>(&missing));
        }
        crate::prompt::fill_missing::<T>(&missing, &mut merged)?;
    }
    from_value::<T>(Value::Object(merged))
}

/// The top-level field names `T` accepts, from its schema (so flattened groups such as
/// the password flags count, which serde's `deny_unknown_fields` cannot see through).
pub(crate) fn field_names<T: CommandInput>() -> Vec<String> {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Deserializes `value` into `T`, naming the field that is wrong, never printing a
/// secret's value.
pub(crate) fn from_value<T: CommandInput>(value: Value) -> Result<T, CliError> {
    let (mut path, mut inner) = match deserialize_at::<T>(value.clone()) {
        Ok(t) => return Ok(t),
        Err(e) => e,
    };
    // A flattened group (the password flags) is read from a buffer that forgets where
    // it is, so an error inside it comes back without a path: find the field by reading
    // each one alone (every field is optional to serde; `REQUIRED` is checked apart).
    if path == "."
        && let Value::Object(fields) = &value
    {
        let culprit = fields.iter().find_map(|(k, v)| {
            let alone = Value::Object(Map::from_iter([(k.clone(), v.clone())]));
            deserialize_at::<T>(alone).err().map(|(p, e)| (if p == "." { k.clone() } else { p }, e))
        });
        if let Some((p, e)) = culprit {
            (path, inner) = (p, e);
        }
    }
    if is_secret(&path) {
        inner = redact(&inner);
    }
    let message = if path == "." { inner } else { format!("{path}: {inner}") };
    Err(CliError::new(ErrorKind::Usage, "invalid-params", message)
        .with_hint(format!("`namera schema {}` prints what is expected", T::NAME)))
}

/// `value` as a `T`, or the failing path (`.` at the root) and serde's message.
fn deserialize_at<T: CommandInput>(value: Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
}

/// serde's message without the value it quotes (serde puts values in backticks:
/// "invalid type: integer `12345678`, expected a string").
fn redact(message: &str) -> String {
    let mut out = String::new();
    for (i, part) in message.split('`').enumerate() {
        out.push_str(if i % 2 == 1 { "(value not shown: a secret)" } else { part });
    }
    out
}

/// Parses JSON text, refusing a key given twice in one object: serde_json keeps the
/// last, so `{"alias":"a","alias":"b"}` would silently mean `b` (and a doubled
/// `valueLimit` the larger one, if it came last).
pub(crate) fn parse_json_strict(text: &str) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictValue(String::new()).deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// A JSON value read with duplicate keys refused; holds the path read so far.
struct StrictValue(String);

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) =
            seq.next_element_seed(StrictValue(format!("{}[{}]", self.0, items.len())))?
        {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.0.is_empty() { key.clone() } else { format!("{}.{key}", self.0) };
            if out.contains_key(&key) {
                return Err(A::Error::custom(format!("duplicate key `{path}`")));
            }
            let value = map.next_value_seed(StrictValue(path))?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// The exit-2 error for input that is missing and cannot be asked for.
pub(crate) fn missing_error<T: CommandInput>(missing: &[&str]) -> CliError {
    let command = T::augment_args(clap::Command::new("namera"));
    let flags: Vec<String> = missing
        .iter()
        .map(|k| {
            let arg = command.get_arguments().find(|a| a.get_id() == *k);
            match arg.map(|a| (a.get_long(), a.get_value_names())) {
                Some((Some(long), _)) => format!("--{long} / \"{k}\""),
                Some((None, Some(names))) if !names.is_empty() => {
                    format!("<{}> / \"{k}\"", names[0])
                }
                _ => format!("\"{k}\" in --params"),
            }
        })
        .collect();
    CliError::new(
        ErrorKind::Usage,
        "missing-input",
        format!("{} needs {}", T::NAME.replace('.', " "), flags.join(", ")),
    )
    .with_hint(format!("example: --params '{}'", T::EXAMPLE))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `T`'s JSON Schema (draft 2020-12) with its required fields and example.
pub(crate) fn schema_of<T: CommandInput>() -> Schema {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("title".into(), format!("namera {}", T::NAME.replace('.', " ")).into());
    // Unknown fields are refused (see `resolve`), so the schema says so too.
    if schema.get("properties").is_none() {
        schema.insert("properties".into(), Value::Object(Map::new()));
    }
    // The original tool's names are accepted (see `resolve`): each is a property like
    // ours, never both at once, and either satisfies a requirement.
    let aliases = aliases_for(&field_names::<T>());
    let mut rules: Vec<Value> = Vec::new();
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (alias, ours) in &aliases {
            let Some(mut p) = props.get(ours.as_str()).cloned() else { continue };
            if let Value::Object(m) = &mut p {
                m.insert(
                    "description".into(),
                    format!("The original tool's name for `{ours}`; give one of the two.").into(),
                );
                m.insert("deprecated".into(), true.into());
            }
            props.insert((*alias).to_owned(), p);
            rules.push(serde_json::json!({ "not": { "required": [ours, alias] } }));
        }
    }
    let mut required = Vec::new();
    for field in T::REQUIRED {
        match aliases.iter().find(|(_, ours)| ours == field) {
            Some((alias, _)) => rules.push(serde_json::json!({
                "anyOf": [{ "required": [field] }, { "required": [alias] }]
            })),
            None => required.push(*field),
        }
    }
    if !required.is_empty() {
        schema.insert("required".into(), required.into());
    }
    if !rules.is_empty() {
        schema.insert("allOf".into(), rules.into());
    }
    schema.insert("additionalProperties".into(), false.into());
    // A broken example is a bug caught by the schema tests; here it is left out rather
    // than failing a user's command.
    if let Ok(example) = serde_json::from_str::<Value>(T::EXAMPLE) {
        schema.insert("examples".into(), vec![example].into());
    }
    schema
}

/// The JSON Schema (draft 2020-12) of what `T` prints in `-o json`.
///
/// The convention for lists: the schema is the `-o json` document, `{"type": "array",
/// "items": <item>}`, and each `-o ndjson` line is one `items` document. Any other
/// result is one document, on one line in `-o ndjson`.
pub(crate) fn output_schema_of<T: CommandInput>() -> Schema {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T::Output>();
    let command = format!("namera {}", T::NAME.replace('.', " "));
    schema.insert("title".into(), format!("{command} (result)").into());
    let is_list = schema.get("type").and_then(Value::as_str) == Some("array");
    // A list's root has no doc of its own: its item's says what each element is.
    let item_doc = schema
        .get("items")
        .and_then(|i| i.get("$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| schema.get("$defs")?.get(name)?.get("description")?.as_str());
    let doc = schema.get("description").and_then(Value::as_str).or(item_doc).unwrap_or_default();
    let description = if is_list {
        format!(
            "What `{command} -o json` prints: an array, one item per line in -o ndjson. Each item: {doc}"
        )
    } else {
        format!("What `{command} -o json` prints (one line in -o ndjson): {doc}")
    };
    schema.insert("description".into(), description.into());
    schema
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq, clap::Args)]
    struct Demo {
        #[arg(long)]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alias: Option<String>,
        #[arg(long)]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u32>,
    }

    impl CommandInput for Demo {
        type Output = ();
        const NAME: &'static str = "demo.run";
        const REQUIRED: &'static [&'static str] = &["alias"];
        const EXAMPLE: &'static str = r#"{"alias":"a","count":1}"#;
    }

    fn inline(s: &str) -> Option<ParamsSource> {
        Some(ParamsSource::Inline(s.into()))
    }

    #[test]
    fn flags_and_params_merge_into_one_value() {
        let flags = Demo { alias: Some("a".into()), count: None };
        let got = resolve(&flags, inline(r#"{"count": 3}"#).as_ref(), false).unwrap();
        assert_eq!(got, Demo { alias: Some("a".into()), count: Some(3) });
        let same = resolve(&flags, inline(r#"{"alias": "a"}"#).as_ref(), false).unwrap();
        assert_eq!(same.alias.as_deref(), Some("a"));
    }

    #[test]
    fn bad_params_name_the_problem() {
        let none = Demo::default();
        let cases = [
            (r#"{"alias": "a""#, "malformed-json", "--params is not valid JSON: EOF"),
            ("[1]", "invalid-params", "--params must be a JSON object, not an array"),
            (
                r#"{"alias": "a", "colour": 1}"#,
                "unknown-field",
                "unknown field `colour`; demo.run takes alias, count",
            ),
            (r#"{"alias": "a", "count": "x"}"#, "invalid-params", "count: invalid type"),
            (r#"{"count": 1}"#, "missing-input", "demo run needs --alias / \"alias\""),
        ];
        for (text, code, message) in cases {
            let e = resolve(&none, inline(text).as_ref(), false).unwrap_err();
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["code"], code, "{text}");
            assert!(e.message().contains(message), "{text}: {}", e.message());
            assert_eq!(e.kind(), ErrorKind::Usage);
        }
        let flags = Demo { alias: Some("b".into()), count: None };
        let e = resolve(&flags, inline(r#"{"alias": "a"}"#).as_ref(), false).unwrap_err();
        assert_eq!(
            e.message(),
            "`alias` is given twice with different values: \"b\" by flag, \"a\" in --params"
        );
    }

    #[test]
    fn the_schema_says_what_is_required_and_shows_the_example() {
        let schema = serde_json::to_value(schema_of::<Demo>()).unwrap();
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(schema["required"], serde_json::json!(["alias"]));
        assert_eq!(schema["examples"][0]["count"], 1);
        assert_eq!(schema["title"], "namera demo run");
    }
}

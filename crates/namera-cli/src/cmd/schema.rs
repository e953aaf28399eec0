//! `namera schema [COMMAND]`: the JSON Schema (draft 2020-12) of a command's `--params`,
//! generated from the very types the command parses, so the two cannot disagree; with
//! `--result`, the schema of what the command prints in `-o json`, from the type it
//! prints ([`CommandInput::Output`]).
//!
//! Schemas are built only when asked: the table holds functions, not schemas.

use clap::Args;
use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};

use super::{config, devnet, keystore, passkey, policy, session_key, smart_account, tx};
use crate::{
    context::Context,
    error::{CliError, ErrorKind},
    params::{CommandInput, output_schema_of, schema_of},
};

/// One documented command.
pub(crate) struct Entry {
    /// Dotted name.
    pub(crate) name: &'static str,
    /// Its input's schema.
    pub(crate) schema: fn() -> Schema,
    /// Its result's schema.
    pub(crate) output: fn() -> Schema,
    /// Reads a `--params` document (no flags, no terminal) as the command does; for the
    /// input property tests, which feed every command arbitrary JSON.
    #[cfg(test)]
    pub(crate) resolve: fn(&str) -> Result<(), CliError>,
}

const fn entry<T: CommandInput>() -> Entry {
    Entry {
        name: T::NAME,
        schema: schema_of::<T>,
        output: output_schema_of::<T>,
        #[cfg(test)]
        resolve: resolve_params::<T>,
    }
}

#[cfg(test)]
fn resolve_params<T: CommandInput>(text: &str) -> Result<(), CliError> {
    let no_flags: T = crate::params::from_value(serde_json::json!({}))?;
    let source = crate::params::ParamsSource::Inline(text.to_owned());
    crate::params::resolve(&no_flags, Some(&source), false).map(|_| ())
}

/// Every command that takes `--params`, in the order `--help` lists them.
pub(crate) const COMMANDS: &[Entry] = &[
    entry::<keystore::Create>(),
    entry::<keystore::Import>(),
    entry::<keystore::List>(),
    entry::<keystore::Info>(),
    entry::<keystore::Export>(),
    entry::<keystore::Remove>(),
    entry::<passkey::Register>(),
    entry::<passkey::List>(),
    entry::<passkey::Info>(),
    entry::<passkey::Remove>(),
    entry::<smart_account::Create>(),
    entry::<smart_account::Import>(),
    entry::<smart_account::List>(),
    entry::<smart_account::Info>(),
    entry::<smart_account::Status>(),
    entry::<smart_account::Remove>(),
    entry::<session_key::Create>(),
    entry::<session_key::Import>(),
    entry::<session_key::Export>(),
    entry::<session_key::List>(),
    entry::<session_key::Info>(),
    entry::<session_key::StatusArgs>(),
    entry::<session_key::Revoke>(),
    entry::<session_key::RevokeAll>(),
    entry::<session_key::Remove>(),
    entry::<tx::Send>(),
    entry::<tx::BatchArgs>(),
    entry::<policy::Check>(),
    entry::<config::Chains>(),
    entry::<config::Set>(),
    entry::<config::Unset>(),
    entry::<devnet::Up>(),
    entry::<devnet::Down>(),
    entry::<devnet::Status>(),
    entry::<devnet::Env>(),
    entry::<super::mcp::Start>(),
    entry::<super::quickstart::Quickstart>(),
    entry::<SchemaArgs>(),
];

/// `schema`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct SchemaArgs {
    /// The command, dotted (`session-key.create`) or spaced (`session-key create`); none
    /// lists every command.
    #[arg(value_name = "COMMAND", num_args = 0..=2)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) command: Vec<String>,
    /// Print the schema of the command's result (what `-o json` prints) instead of its
    /// input. (`--output` is taken: it is the global output format.)
    #[arg(long, requires = "command")]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) result: bool,
}

impl CommandInput for SchemaArgs {
    type Output = SchemaResult;
    const NAME: &'static str = "schema";
    const EXAMPLE: &'static str = r#"{"command":["session-key.create"]}"#;
}

crate::values::schema_type!(
    /// What `schema` prints: a list of names, or a [`Schema`].
    SchemaResult,
    |_| schemars::json_schema!({
        "description": "Without a command, the dotted command names (one per line in -o ndjson); with one, a JSON Schema (draft 2020-12) of its input, or with --result of its result.",
        "anyOf": [
            { "type": "array", "items": { "type": "string", "pattern": "^[a-z-]+(\\.[a-z-]+)?$" } },
            { "type": "object", "required": ["$schema"] }
        ]
    })
);

impl SchemaArgs {
    /// Runs the command.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        let a = ctx.input(&self)?;
        if a.command.is_empty() && a.result {
            // clap says so for the flag; `--params '{"result":true}'` needs saying here.
            return Err(CliError::new(
                ErrorKind::Usage,
                "missing-input",
                "schema --result needs the command whose result it describes",
            ));
        }
        if a.command.is_empty() {
            let names: Vec<&str> = COMMANDS.iter().map(|e| e.name).collect();
            return ctx
                .shell()
                .emit_list(&names, |out| names.iter().try_for_each(|n| writeln!(out, "{n}")));
        }
        let wanted = a.command.join(".");
        let found = COMMANDS.iter().find(|e| e.name == wanted).ok_or_else(|| {
            CliError::new(ErrorKind::NotFound, "unknown-command", format!("no command {wanted:?}"))
                .with_hint("`namera schema` lists the commands")
        })?;
        let schema = if a.result { (found.output)() } else { input_schema(found) };
        // The schema is JSON in every output format; pretty mode indents it.
        ctx.shell().emit(&schema, |out| {
            serde_json::to_writer_pretty(&mut *out, &schema)?;
            writeln!(out)
        })
    }
}

/// A command's input schema, described by the command's own help (the one place it is
/// written).
fn input_schema(found: &Entry) -> Schema {
    let mut schema = (found.schema)();
    let tree = <crate::opts::Cli as clap::CommandFactory>::command();
    let about = found
        .name
        .split('.')
        .try_fold(&tree, |cmd, part| cmd.find_subcommand(part))
        .and_then(|cmd| cmd.get_long_about().or(cmd.get_about()))
        .map(|a| a.to_string());
    if let Some(about) = about {
        schema.insert("description".into(), about.into());
    }
    schema
}

//! `namera config …`: known chains and where their endpoints are.

use clap::{Args, Subcommand};
use namera::chain::{CHAINS, ChainInfo};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    config::{ChainEndpoints, Config},
    context::{Context, write_table},
    error::{CliError, ErrorKind},
    params::{CommandInput, help_example},
};

/// The `config` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Every known chain: alias, id, P-256 precompile, and where its endpoints come from.
    #[command(after_help = help_example::<Chains>())]
    Chains(Chains),
    /// Set a chain's endpoints in config.json (environment variables still win).
    #[command(after_help = help_example::<Set>())]
    Set(Set),
    /// Remove a chain's endpoints from config.json.
    #[command(after_help = help_example::<Unset>())]
    Unset(Unset),
}

impl ConfigCommand {
    /// Runs the subcommand.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        match self {
            Self::Chains(a) => chains(ctx, &ctx.input(&a)?),
            Self::Set(a) => set(ctx, &ctx.input(&a)?),
            Self::Unset(a) => unset(ctx, &ctx.input(&a)?),
        }
    }
}

/// `config chains`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Chains {}

impl CommandInput for Chains {
    type Output = Vec<ChainRow>;
    const NAME: &'static str = "config.chains";
}

/// `config set`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Set {
    /// The chain's alias or id.
    #[arg(value_name = "CHAIN")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chain: Option<String>,
    /// The node's JSON-RPC URL (http or https).
    #[arg(long, value_name = "URL")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rpc_url: Option<String>,
    /// The ERC-4337 bundler's URL.
    #[arg(long, value_name = "URL")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bundler_url: Option<String>,
    /// An ERC-7677 paymaster's URL, to sponsor operations.
    #[arg(long, value_name = "URL")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) paymaster_url: Option<String>,
}

impl CommandInput for Set {
    type Output = SetResult;
    const NAME: &'static str = "config.set";
    const REQUIRED: &'static [&'static str] = &["chain"];
    const EXAMPLE: &'static str = r#"{"chain":"base-sepolia","rpc_url":"https://sepolia.base.org","bundler_url":"https://bundler.example/base-sepolia"}"#;
}

/// `config unset`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Unset {
    /// The chain's alias or id; all its endpoints are removed.
    #[arg(value_name = "CHAIN")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chain: Option<String>,
}

impl CommandInput for Unset {
    type Output = UnsetResult;
    const NAME: &'static str = "config.unset";
    const REQUIRED: &'static [&'static str] = &["chain"];
    const EXAMPLE: &'static str = r#"{"chain":"base-sepolia"}"#;
}

/// A known chain, and where its endpoints come from.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChainRow {
    /// The chain's alias.
    alias: &'static str,
    /// Its chain id.
    chain_id: u64,
    /// Whether it is a test network.
    testnet: bool,
    /// Whether it has the RIP-7212 P-256 precompile (cheaper passkey signatures).
    p256_precompile: bool,
    /// Where its endpoints come from: `env`, `config`, `devnet` or `none`.
    #[schemars(regex(pattern = "^(env|config|devnet|none)$"))]
    endpoints: &'static str,
}

/// A chain's endpoints after `config set`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetResult {
    /// The chain's alias.
    chain: &'static str,
    /// Its endpoints in config.json now.
    endpoints: ChainEndpoints,
}

/// What `config unset` did.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnsetResult {
    /// The chain's alias.
    chain: &'static str,
    /// Whether config.json had endpoints for it (now removed).
    removed: bool,
}

fn chains(ctx: &Context, _: &Chains) -> Result<(), CliError> {
    let config = Config::load(ctx.home())?;
    let rows: Vec<ChainRow> = CHAINS
        .iter()
        .map(|c| ChainRow {
            alias: c.alias,
            chain_id: c.id,
            testnet: c.testnet,
            p256_precompile: c.p256_precompile,
            endpoints: source_of(ctx, &config, c),
        })
        .collect();
    ctx.shell().emit_list(&rows, |out| {
        let mut table = vec![vec![
            "ALIAS".to_owned(),
            "ID".to_owned(),
            "NET".to_owned(),
            "P256".to_owned(),
            "ENDPOINTS".to_owned(),
        ]];
        table.extend(rows.iter().map(|r| {
            vec![
                r.alias.to_owned(),
                r.chain_id.to_string(),
                if r.testnet { "test" } else { "main" }.to_owned(),
                if r.p256_precompile { "yes" } else { "no" }.to_owned(),
                r.endpoints.to_owned(),
            ]
        }));
        write_table(out, &table)
    })
}

fn source_of(ctx: &Context, config: &Config, c: &ChainInfo) -> &'static str {
    let var = format!("{}_RPC_URL", c.env_prefix());
    if std::env::var(&var).is_ok_and(|v| !v.is_empty()) {
        "env"
    } else if config.chains.get(c.alias).is_some_and(|e| e.rpc_url.is_some()) {
        "config"
    } else if ctx.endpoints(c).is_ok() {
        "devnet"
    } else {
        "none"
    }
}

fn url(value: Option<&String>, what: &str) -> Result<Option<String>, CliError> {
    match value {
        None => Ok(None),
        Some(u) => match crate::values::check_endpoint_url(u) {
            Ok(()) => Ok(Some(u.clone())),
            Err(why) => {
                Err(CliError::new(ErrorKind::Usage, "invalid-url", format!("{what}: {why}")))
            }
        },
    }
}

fn set(ctx: &Context, a: &Set) -> Result<(), CliError> {
    let chain = ctx.chain(a.chain.as_deref().unwrap_or_default())?;
    let given = ChainEndpoints {
        rpc_url: url(a.rpc_url.as_ref(), "--rpc-url")?,
        bundler_url: url(a.bundler_url.as_ref(), "--bundler-url")?,
        paymaster_url: url(a.paymaster_url.as_ref(), "--paymaster-url")?,
    };
    if given.is_empty() {
        return Err(CliError::new(
            ErrorKind::Usage,
            "missing-input",
            "config set needs --rpc-url, --bundler-url or --paymaster-url",
        ));
    }
    let mut config = Config::load(ctx.home())?;
    let entry = config.chains.entry(chain.alias.to_owned()).or_default();
    if given.rpc_url.is_some() {
        entry.rpc_url = given.rpc_url;
    }
    if given.bundler_url.is_some() {
        entry.bundler_url = given.bundler_url;
    }
    if given.paymaster_url.is_some() {
        entry.paymaster_url = given.paymaster_url;
    }
    let now = entry.clone();
    config.save(ctx.home())?;
    let view = SetResult { chain: chain.alias, endpoints: now };
    let now = &view.endpoints;
    ctx.shell().emit(&view, |out| {
        writeln!(out, "{chain}")?;
        for (name, v) in [
            ("rpc", &now.rpc_url),
            ("bundler", &now.bundler_url),
            ("paymaster", &now.paymaster_url),
        ] {
            if let Some(v) = v {
                writeln!(out, "  {name:<9} {v}")?;
            }
        }
        Ok(())
    })
}

fn unset(ctx: &Context, a: &Unset) -> Result<(), CliError> {
    let chain = ctx.chain(a.chain.as_deref().unwrap_or_default())?;
    let mut config = Config::load(ctx.home())?;
    let removed = config.chains.remove(chain.alias).is_some();
    if removed {
        config.save(ctx.home())?;
    }
    let view = UnsetResult { chain: chain.alias, removed };
    ctx.shell().emit(&view, |out| {
        if removed {
            writeln!(out, "removed the endpoints of {chain}")
        } else {
            writeln!(out, "{chain} had no endpoints in config.json")
        }
    })
}

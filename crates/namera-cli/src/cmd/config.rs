//! `namera config …`: known chains and where their endpoints are.

use clap::{Args, Subcommand};
use namera::chain::ChainInfo;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    config::{ChainEndpoints, Config, P256VerifierKind},
    context::{Context, write_table},
    error::{CliError, ErrorKind},
    params::{CommandInput, help_example},
};

/// The `config` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Every known chain (built in or your own): alias, id, native symbol, P-256
    /// precompile, and where its endpoints come from.
    #[command(after_help = help_example::<Chains>())]
    Chains(Chains),
    /// Set a chain's endpoints in config.json (environment variables still win), or add a
    /// chain of your own with --chain-id.
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
    /// The chain id, for a chain that is not built in (a new alias), or for `local` when
    /// its devnet runs another id.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub(crate) chain_id: Option<u64>,
    /// The native currency's symbol shown in amounts (default ETH).
    #[arg(long, value_name = "SYMBOL")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) native_symbol: Option<String>,
    /// How passkey signatures are verified there: `precompile` (RIP-7212 at 0x100) or
    /// `daimo` (Daimo's verifier contract; the default for chains of your own).
    #[arg(long, value_name = "KIND", value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) p256_verifier: Option<P256VerifierKind>,
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
    /// Its native currency's symbol.
    native_symbol: &'static str,
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
    chain: String,
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
    let rows: Vec<ChainRow> = ctx
        .chains()?
        .iter()
        .map(|c| ChainRow {
            alias: c.alias,
            chain_id: c.id,
            native_symbol: c.native_symbol,
            testnet: c.testnet,
            p256_precompile: c.p256_precompile,
            endpoints: source_of(ctx, &config, c),
        })
        .collect();
    ctx.shell().emit_list(&rows, |out| {
        let mut table = vec![vec![
            "ALIAS".to_owned(),
            "ID".to_owned(),
            "SYMBOL".to_owned(),
            "NET".to_owned(),
            "P256".to_owned(),
            "ENDPOINTS".to_owned(),
        ]];
        table.extend(rows.iter().map(|r| {
            vec![
                r.alias.to_owned(),
                r.chain_id.to_string(),
                r.native_symbol.to_owned(),
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
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => Ok(Some(u.clone())),
        Some(u) => Err(CliError::new(
            ErrorKind::Usage,
            "invalid-url",
            format!("{what} {u:?} must start with http:// or https://"),
        )),
    }
}

fn set(ctx: &Context, a: &Set) -> Result<(), CliError> {
    let name = a.chain.as_deref().unwrap_or_default();
    let given = ChainEndpoints {
        rpc_url: url(a.rpc_url.as_ref(), "--rpc-url")?,
        bundler_url: url(a.bundler_url.as_ref(), "--bundler-url")?,
        paymaster_url: url(a.paymaster_url.as_ref(), "--paymaster-url")?,
        chain_id: a.chain_id,
        native_symbol: a.native_symbol.clone(),
        p256_verifier: a.p256_verifier,
    };
    if given.is_empty() {
        return Err(CliError::new(
            ErrorKind::Usage,
            "missing-input",
            "config set needs --rpc-url, --bundler-url, --paymaster-url, --chain-id, \
             --native-symbol or --p256-verifier",
        ));
    }
    // A known chain by alias or id; an unknown alias becomes a chain of the user's own
    // when its id is given.
    let alias = match ctx.chain(name) {
        Ok(chain) => chain.alias.to_owned(),
        Err(_) if a.chain_id.is_some() => name.to_owned(),
        Err(e) => return Err(e),
    };
    let mut config = Config::load(ctx.home())?;
    let entry = config.chains.entry(alias.clone()).or_default();
    let merge = |slot: &mut Option<String>, value: Option<String>| {
        if value.is_some() {
            *slot = value;
        }
    };
    merge(&mut entry.rpc_url, given.rpc_url);
    merge(&mut entry.bundler_url, given.bundler_url);
    merge(&mut entry.paymaster_url, given.paymaster_url);
    merge(&mut entry.native_symbol, given.native_symbol);
    entry.chain_id = given.chain_id.or(entry.chain_id);
    entry.p256_verifier = given.p256_verifier.or(entry.p256_verifier);
    let now = entry.clone();
    // Nothing is written that the next command could not load.
    config.registry()?;
    config.save(ctx.home())?;
    let view = SetResult { chain: alias, endpoints: now };
    let now = &view.endpoints;
    ctx.shell().emit(&view, |out| {
        writeln!(out, "{}", view.chain)?;
        if let Some(id) = now.chain_id {
            writeln!(out, "  {:<9} {id}", "chain id")?;
        }
        for (name, v) in [
            ("rpc", &now.rpc_url),
            ("bundler", &now.bundler_url),
            ("paymaster", &now.paymaster_url),
            ("symbol", &now.native_symbol),
        ] {
            if let Some(v) = v {
                writeln!(out, "  {name:<9} {v}")?;
            }
        }
        if let Some(v) = now.p256_verifier {
            writeln!(
                out,
                "  {:<9} {}",
                "p256",
                if v == P256VerifierKind::Precompile { "precompile" } else { "daimo" }
            )?;
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

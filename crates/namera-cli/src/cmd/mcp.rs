//! `namera mcp start`: serve the account's session keys to AI agents over MCP (stdio or
//! streamable HTTP). Only session keys are unlocked; the owner's keystore is never read.

use std::{collections::BTreeMap, net::IpAddr, path::PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use namera::{
    chain::ChainInfo,
    session_key::SerializedSessionKey,
    wallet::{KeySpec, Wallet, unblock},
};
use namera_mcp::{HttpOptions, HttpServer, WalletHandle, serve_stdio};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{
    context::Context,
    error::{CliError, ErrorKind},
    params::{CommandInput, help_example},
    secret::{PasswordArgs, SessionPasswordArgs},
    wallet,
};

/// The `mcp` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum McpCommand {
    /// Serve wallet tools to an MCP client, acting only through the named session keys.
    #[command(after_help = help_example::<Start>())]
    Start(Start),
}

impl McpCommand {
    /// Runs the subcommand.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        match self {
            Self::Start(a) => start(ctx, &ctx.input(&a)?),
        }
    }
}

/// How the MCP client reaches the server.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Transport {
    /// JSON-RPC over stdin/stdout (the client starts `namera mcp start`).
    #[default]
    Stdio,
    /// Streamable HTTP at `/mcp`, with a bearer token.
    Http,
}

/// `mcp start`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Start {
    /// The smart account the keys act for.
    #[arg(long, value_name = "ACCOUNT")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) smart_account: Option<String>,
    /// A session key to serve (repeat for several); requests use the narrowest key whose
    /// policies allow them. `KEY=PASSWORD` (the original tool's form) also gives its
    /// password, as `--key-password` does (discouraged: argv is visible to others).
    #[arg(long = "session-key", value_name = "KEY")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) session_keys: Vec<String>,
    /// stdio (default) or http.
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) transport: Option<Transport>,
    /// HTTP: the address to bind (default 127.0.0.1).
    #[arg(long, value_name = "IP")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub(crate) host: Option<IpAddr>,
    /// HTTP: the port (default 8787; 0 picks a free one).
    #[arg(long, value_name = "PORT")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    /// HTTP: allow binding an address other machines can reach.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) allow_non_loopback: bool,
    /// HTTP: a `Host` name to accept besides the loopback names and the bound address
    /// (repeatable): the machine's own name, when other machines call.
    #[arg(long = "allowed-host", value_name = "NAME")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) allowed_hosts: Vec<String>,
    /// HTTP: a browser origin allowed to call (repeatable); other origins are refused.
    #[arg(long = "origin", value_name = "URL")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) origins: Vec<String>,
    /// HTTP: the largest request body in bytes (default 262144).
    #[arg(long, value_name = "BYTES")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_body_bytes: Option<usize>,
    /// HTTP: read the bearer token from this file (else `--token-env`, else one is
    /// generated and printed once on stderr).
    #[arg(long, value_name = "PATH")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token_file: Option<PathBuf>,
    /// HTTP: read the bearer token from this environment variable.
    #[arg(long, value_name = "VAR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token_env: Option<String>,
    /// `KEY=PASSWORD` for one session key (discouraged: argv is visible to other
    /// processes); keys without one use the session password flags.
    #[arg(long = "key-password", value_name = "KEY=PASSWORD")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) key_passwords: Vec<String>,
    /// The session keys' password (one for all keys without a `--key-password`).
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) session_password: SessionPasswordArgs,
}

impl CommandInput for Start {
    type Output = crate::output::NoResult;
    const NAME: &'static str = "mcp.start";
    const REQUIRED: &'static [&'static str] = &["smart_account", "session_keys"];
    const EXAMPLE: &'static str = r#"{"smart_account":"treasury","session_keys":["agent"],"transport":"http","port":8787,"token_env":"MCP_TOKEN","session_password_env":"AGENT_PASSWORD"}"#;
}

fn start(ctx: &Context, a: &Start) -> Result<(), CliError> {
    let transport = a.transport.unwrap_or_default();
    let (_, account) = wallet::account_record(ctx, a.smart_account.as_deref().unwrap_or_default())?;
    // Checked now (a corrupt record fails before anything listens).
    wallet::account_config(ctx, &account)?;
    let mut per_key: BTreeMap<String, Zeroizing<String>> = BTreeMap::new();
    // `--session-key KEY=PASSWORD` is the original tool's form of `--key-password`.
    let inline: Vec<&String> = a.session_keys.iter().filter(|k| k.contains('=')).collect();
    if !a.key_passwords.is_empty() || !inline.is_empty() {
        ctx.shell().warn("--key-password (and --session-key KEY=PASSWORD) puts passwords in argv, visible to other processes; prefer --session-password-file or --session-password-env");
    }
    for item in a.key_passwords.iter().chain(inline) {
        let (alias, password) = item.split_once('=').ok_or_else(|| {
            CliError::new(ErrorKind::Usage, "invalid-params", "--key-password takes KEY=PASSWORD")
        })?;
        if per_key.insert(alias.to_owned(), Zeroizing::new(password.to_owned())).is_some() {
            return Err(CliError::new(
                ErrorKind::Usage,
                "conflicting-input",
                format!("session key {alias} is given two passwords (not shown)"),
            ));
        }
    }
    let session_keys: Vec<&str> = a
        .session_keys
        .iter()
        .map(|k| k.split_once('=').map_or(k.as_str(), |(alias, _)| alias))
        .collect();
    // Everything cheap is checked now (records, passwords at hand, endpoints), so bad
    // input fails before anything listens. The key derivations and chain reads run while
    // the server already answers the handshake.
    let mut keys = Vec::new();
    let mut chains: Vec<ChainInfo> = Vec::new();
    for name in session_keys {
        let (alias, record) = wallet::session_key_of(ctx, name, &account)?;
        let password = match per_key.remove(alias.as_str()) {
            Some(password) => password,
            None => {
                let (args, flag) = a.session_password.as_password();
                let what = format!("password of session key {alias}");
                args.read(ctx.shell(), &what, flag, crate::secret::Purpose::Unlock)?
            }
        };
        let mut parts = Vec::new();
        for c in &record.chains {
            let chain = ctx.chain(&c.chain)?;
            parts.push(SerializedSessionKey::from_base64(&c.serialized).map_err(|e| {
                CliError::new(
                    ErrorKind::Other,
                    "corrupt-record",
                    format!("session key {alias}: {e}"),
                )
            })?);
            if !chains.contains(&chain) {
                chains.push(chain);
            }
        }
        keys.push((alias, record, password, parts));
    }
    let endpoints: Vec<_> = chains.iter().map(|c| ctx.endpoints(c)).collect::<Result<_, _>>()?;
    let shell = crate::output::Shell::new(ctx.shell().format());
    let home = ctx.home().clone();
    let registry = ctx.chains()?.clone();
    let http = match transport {
        Transport::Stdio => None,
        Transport::Http => Some(http_options(ctx, a)?),
    };
    wallet::block_on(async move {
        let handle = WalletHandle::loading(async move {
            match build_wallet(&home, endpoints, registry, keys, &shell).await {
                Ok(w) => Ok(w),
                // Nothing can be served: say why and stop, with the error's exit code
                // (also when the client already hung up: the runtime waits for this).
                Err(e) => {
                    shell.error(&e);
                    std::process::exit(i32::from(e.kind().exit_code()))
                }
            }
        });
        let served = match http {
            None => serve_stdio(handle.clone())
                .await
                .map_err(|e| CliError::new(ErrorKind::Other, "mcp", e.to_string())),
            Some(options) => serve_http_until_interrupted(ctx, handle.clone(), options).await,
        };
        // A client that hung up at once must still learn whether the keys loaded: a
        // failed load exits the process from the loader with its own code.
        let _ = handle.get().await;
        served
    })?
}

/// A key to serve: its alias, record, password and serialized key per chain.
type KeyToServe = (
    namera_store::Alias,
    namera_store::records::SessionKeyRecord,
    Zeroizing<String>,
    Vec<SerializedSessionKey>,
);

/// Unlocks the keys (one key derivation each, off the runtime), then connects the SDK
/// wallet (the chains at once, each key's state read there): the slow part of starting.
/// Lanes are leased from the store, so servers on one key never share a lane.
async fn build_wallet(
    home: &namera_store::Home,
    endpoints: Vec<namera::chain::Endpoints>,
    registry: namera::chain::ChainRegistry,
    keys: Vec<KeyToServe>,
    shell: &crate::output::Shell,
) -> Result<Wallet, CliError> {
    let specs = unblock(move || {
        keys.into_iter()
            .map(|(alias, record, password, parts)| {
                let secret = wallet::unlock_session_key(&alias, &record, password.as_bytes())?;
                Ok(KeySpec { alias: alias.to_string(), secret, parts })
            })
            .collect::<Result<Vec<_>, CliError>>()
    })
    .await?;
    let lease = wallet::lane_lease(home)?;
    let wallet = Wallet::connect(endpoints, specs, Some(lease), registry)
        .await
        .map_err(|e| CliError::new(ErrorKind::Usage, "mcp-wallet", e.to_string()))?;
    for key in wallet.keys() {
        let mut serves = false;
        for c in wallet.chains() {
            match key.unusable_reason(c.id()) {
                None => serves = true,
                Some(why) => shell.warn(&format!(
                    "session key {} is not served on {}: {why}",
                    key.alias(),
                    c.name()
                )),
            }
        }
        if !serves {
            return Err(CliError::new(
                ErrorKind::Policy,
                "key-revoked",
                format!("session key {} can act on none of its chains", key.alias()),
            ));
        }
    }
    Ok(wallet)
}

async fn serve_http_until_interrupted(
    ctx: &Context,
    handle: WalletHandle,
    options: HttpOptions,
) -> Result<(), CliError> {
    let server = HttpServer::bind(handle, options)
        .await
        .map_err(|e| CliError::new(ErrorKind::Usage, "mcp-bind", e.to_string()))?;
    let addr =
        server.local_addr().map_err(|e| CliError::new(ErrorKind::Other, "mcp", e.to_string()))?;
    ctx.shell().warn(&format!("MCP server listening on http://{addr}/mcp"));
    if server.token_generated() {
        // Printed once, on stderr, because it was asked for by not giving one.
        eprintln!("bearer token (shown once): {}", server.token());
    }
    server
        .serve_until_interrupted()
        .await
        .map_err(|e| CliError::new(ErrorKind::Other, "mcp", e.to_string()))
}

fn http_options(ctx: &Context, a: &Start) -> Result<HttpOptions, CliError> {
    let mut options = HttpOptions::default();
    if let Some(host) = a.host {
        options.host = host;
    }
    if let Some(port) = a.port {
        options.port = port;
    }
    options.allow_non_loopback = a.allow_non_loopback;
    options.allowed_origins.clone_from(&a.origins);
    options.allowed_hosts.clone_from(&a.allowed_hosts);
    if let Some(max) = a.max_body_bytes {
        options.max_body_bytes = max;
    }
    let token = PasswordArgs {
        password_file: a.token_file.clone(),
        password_env: a.token_env.clone(),
        password: None,
    };
    if a.token_file.is_some() || a.token_env.is_some() {
        let token =
            token.read(ctx.shell(), "bearer token", "--token", crate::secret::Purpose::Unlock)?;
        options.token = Some(token.to_string());
    }
    Ok(options)
}

//! `namera-mcp`: serve a wallet of session keys over MCP, on stdio or HTTP.
//!
//! ```text
//! namera-mcp stdio|http [--rpc URL --bundler URL]… [--chain ALIAS]… [--keys-file PATH]
//!       [--host IP] [--port N] [--allow-non-loopback] [--allowed-host NAME]… [--origin URL]…
//!       [--max-body BYTES]
//!       [--token-file PATH]
//! ```
//!
//! Keys: one per line, `[alias ]BASE64` (ZeroDev serialized session keys with their
//! private keys), from `--keys-file` or the `NAMERA_MCP_KEYS` variable. Chains: each
//! `--rpc`/`--bundler` pair, or `--chain ALIAS` read from `<ALIAS>_RPC_URL` and
//! `<ALIAS>_BUNDLER_URL`. HTTP token: `--token-file`, else `NAMERA_MCP_TOKEN`, else one is
//! generated and printed once on stderr. No owner key is ever read.

use std::process::ExitCode;

use namera::{
    chain::{ChainInfo, ChainRegistry, Endpoints},
    session_key::SerializedSessionKey,
};
use namera_mcp::{HttpOptions, KeySpec, Wallet, WalletHandle, serve_http, serve_stdio};
use zeroize::Zeroize;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("namera-mcp: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let transport = args.next().ok_or("usage: namera-mcp stdio|http [options]")?;
    let (mut rpcs, mut bundlers, mut endpoints) = (Vec::new(), Vec::new(), Vec::new());
    let mut keys_file = None;
    let mut token_file = None;
    let mut http = HttpOptions::default();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--rpc" => rpcs.push(value()?),
            "--bundler" => bundlers.push(value()?),
            "--chain" => {
                let chain = ChainInfo::find(&value()?).map_err(|e| e.to_string())?;
                endpoints.push(Endpoints::from_env(&chain).map_err(|e| e.to_string())?);
            }
            "--keys-file" => keys_file = Some(value()?),
            "--token-file" => token_file = Some(value()?),
            "--host" => http.host = value()?.parse().map_err(|e| format!("--host: {e}"))?,
            "--port" => http.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--allow-non-loopback" => http.allow_non_loopback = true,
            "--origin" => http.allowed_origins.push(value()?),
            "--allowed-host" => http.allowed_hosts.push(value()?),
            "--max-body" => {
                http.max_body_bytes = value()?.parse().map_err(|e| format!("--max-body: {e}"))?;
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if rpcs.len() != bundlers.len() {
        return Err("give one --bundler per --rpc".into());
    }
    endpoints.extend(rpcs.into_iter().zip(bundlers).map(|(rpc, bundler)| Endpoints {
        rpc,
        bundler,
        paymaster: None,
    }));
    let mut text = match keys_file {
        Some(path) => std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?,
        None => std::env::var("NAMERA_MCP_KEYS")
            .map_err(|_| "no keys: pass --keys-file or set NAMERA_MCP_KEYS")?,
    };
    let specs = parse_keys(&text);
    // The serialized keys hold the private keys: wipe the text once decoded.
    text.zeroize();
    let specs = specs?;
    if transport == "http" {
        http.token = match token_file {
            Some(path) => Some(std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?),
            None => std::env::var("NAMERA_MCP_TOKEN").ok(),
        };
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        // Connecting reads the chains: the handshake does not wait for it, and a wallet
        // that cannot be built stops the process with its reason.
        let wallet = WalletHandle::loading(async move {
            Wallet::connect(endpoints, specs, None, ChainRegistry::builtin()).await.map_err(|e| {
                eprintln!("namera-mcp: {e}");
                std::process::exit(1)
            })
        });
        match transport.as_str() {
            "stdio" => serve_stdio(wallet).await.map_err(|e| e.to_string()),
            "http" => serve_http(wallet, http).await.map_err(|e| e.to_string()),
            other => Err(format!("unknown transport {other:?}: use stdio or http")),
        }
    })
}

fn parse_keys(text: &str) -> Result<Vec<KeySpec>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let (alias, b64) = match line.split_once(char::is_whitespace) {
            Some((a, k)) => (a.to_owned(), k.trim()),
            None => (format!("key-{}", n + 1), line),
        };
        let key = SerializedSessionKey::from_base64(b64).map_err(|e| format!("{alias}: {e}"))?;
        out.push(KeySpec::from_serialized(alias, key).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

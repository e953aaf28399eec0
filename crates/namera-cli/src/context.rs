//! What every command runs with: the shell, the storage home, the `--params` document,
//! and how to reach a chain.
//!
//! Nothing here touches the network or decrypts anything until a command asks, so
//! commands that need neither (`--help`, `schema`, `list`) start at once.

use std::{
    io::Write,
    sync::{Arc, OnceLock},
};

use namera::{
    account::ChainClient,
    chain::{ChainInfo, ChainRegistry, Endpoints},
    rpc::RpcStats,
};
use namera_store::{Alias, Home};

use crate::{
    config::Config,
    error::{CliError, ErrorKind},
    output::Shell,
    params::{CommandInput, ParamsSource, resolve},
};

/// The environment of one command.
#[derive(Debug)]
pub(crate) struct Context {
    shell: Shell,
    home: Home,
    params: Option<ParamsSource>,
    stats: Arc<RpcStats>,
    chains: OnceLock<ChainRegistry>,
}

impl Context {
    /// A context over `shell`, with storage at `$NAMERA_HOME` or `~/.namera`.
    pub(crate) fn new(shell: Shell, params: Option<ParamsSource>) -> Result<Self, CliError> {
        let home = Home::from_env().map_err(CliError::from)?;
        Ok(Self { shell, home, params, stats: Arc::default(), chains: OnceLock::new() })
    }

    /// Where output goes.
    pub(crate) const fn shell(&self) -> &Shell {
        &self.shell
    }

    /// The storage home.
    pub(crate) const fn home(&self) -> &Home {
        &self.home
    }

    /// The command's input: its flags merged with `--params`.
    pub(crate) fn input<T: CommandInput>(&self, flags: &T) -> Result<T, CliError> {
        resolve(flags, self.params.as_ref(), self.shell.interactive())
    }

    /// A valid alias, or the error naming what is wrong with it.
    pub(crate) fn alias(&self, given: Option<&str>) -> Result<Alias, CliError> {
        let text = given.ok_or_else(|| {
            CliError::new(ErrorKind::Usage, "missing-input", "an alias is needed")
        })?;
        Alias::parse(text)
            .map_err(|e| CliError::new(ErrorKind::Usage, "invalid-alias", format!("{text:?}: {e}")))
    }

    /// Fails early, before any prompt or network call, when `alias` is taken.
    pub(crate) fn ensure_free<T>(
        &self,
        collection: namera_store::Collection<T>,
        alias: &Alias,
    ) -> Result<(), CliError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        if collection.exists(alias) {
            return Err(CliError::new(
                ErrorKind::Usage,
                "alias-taken",
                format!("a {} named {alias} already exists", collection.kind()),
            )
            .with_hint("pick another alias, or remove the old one first"));
        }
        Ok(())
    }

    /// Every readable record of `collection`. Each unreadable one (a truncated or damaged
    /// file) is named on stderr with how to delete it: one bad file must hide neither
    /// the others nor itself.
    pub(crate) fn readable<T>(
        &self,
        collection: &namera_store::Collection<T>,
    ) -> Result<Vec<(Alias, T)>, CliError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let (good, bad) = collection.list_readable()?;
        for (alias, e) in bad {
            self.shell.warn(&unreadable_message(collection.kind(), &alias, &e));
        }
        Ok(good)
    }

    /// The record `alias` of `collection` for a command that removes it: `None` when the
    /// file exists but cannot be read (said on stderr), so a damaged record can still be
    /// removed.
    pub(crate) fn record_to_remove<T>(
        &self,
        collection: &namera_store::Collection<T>,
        alias: &Alias,
    ) -> Result<Option<T>, CliError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        match collection.get(alias) {
            Ok(record) => Ok(Some(record)),
            Err(e @ namera_store::StoreError::Corrupt { .. }) => {
                self.shell.warn(&unreadable_message(collection.kind(), alias, &e));
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Asks a yes/no question on a terminal; without one, `yes` must have been given.
    pub(crate) fn confirm(&self, yes: bool, question: &str) -> Result<(), CliError> {
        if yes {
            return Ok(());
        }
        if !self.shell.interactive() {
            return Err(CliError::new(
                ErrorKind::Usage,
                "confirmation-needed",
                format!("{question} Pass --yes to confirm without a terminal."),
            ));
        }
        let ok = inquire::Confirm::new(question)
            .with_default(false)
            .prompt()
            .map_err(crate::prompt::prompt_error)?;
        if ok {
            Ok(())
        } else {
            Err(CliError::new(ErrorKind::Other, "cancelled", "not confirmed; nothing was changed"))
        }
    }

    /// The chains known here: built in, defined in config.json or by `<ALIAS>_CHAIN_ID`.
    pub(crate) fn chains(&self) -> Result<&ChainRegistry, CliError> {
        if let Some(chains) = self.chains.get() {
            return Ok(chains);
        }
        let chains = Config::load(&self.home)?.registry()?;
        Ok(self.chains.get_or_init(|| chains))
    }

    /// A chain by alias or id.
    pub(crate) fn chain(&self, name: &str) -> Result<ChainInfo, CliError> {
        self.chains()?.find(name).map_err(|e| {
            CliError::new(ErrorKind::Usage, "unknown-chain", e.to_string()).with_hint(
                "`namera config chains` lists them; `namera config set ALIAS --chain-id N …` adds one",
            )
        })
    }

    /// Where `chain`'s node, bundler and paymaster are: `<ALIAS>_RPC_URL`-style variables
    /// first, then `config.json`, then (for `local`) the running devnet.
    pub(crate) fn endpoints(&self, chain: &ChainInfo) -> Result<Endpoints, CliError> {
        let config = Config::load(&self.home)?;
        let configured = config.chains.get(chain.alias);
        let from_env = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
        let from_devnet = || -> Option<(String, String)> {
            if chain.alias != "local" {
                return None;
            }
            let config = namera_devnet::DevnetConfig::new().chain_id(chain.id);
            let devnet = namera_devnet::load(&config).ok()?;
            let state = devnet.state();
            Some((state.rpc_url.clone(), state.bundler_url.clone()))
        };
        let prefix = chain.env_prefix();
        let lookup = |var: &str| {
            if let Some(v) = from_env(var) {
                return Some(v);
            }
            match var.strip_prefix(prefix.as_str()) {
                Some("_RPC_URL") => configured
                    .and_then(|c| c.rpc_url.clone())
                    .or_else(|| from_devnet().map(|d| d.0)),
                Some("_BUNDLER_URL") => configured
                    .and_then(|c| c.bundler_url.clone())
                    .or_else(|| from_devnet().map(|d| d.1)),
                Some("_PAYMASTER_URL") => configured.and_then(|c| c.paymaster_url.clone()),
                _ => None,
            }
        };
        Endpoints::from_lookup(chain, lookup).map_err(|e| {
            let hint = if chain.alias == "local" {
                "start the local devnet with `namera devnet up`".to_owned()
            } else {
                format!(
                    "`namera config set {} --rpc-url URL --bundler-url URL`, or set {}",
                    chain.alias, e.var
                )
            };
            CliError::new(ErrorKind::Usage, "missing-endpoint", e.to_string()).with_hint(hint)
        })
    }

    /// Connects to `chain` (one request: the node's chain id, checked against the alias).
    pub(crate) fn connect(&self, chain: &ChainInfo) -> Result<ChainClient, CliError> {
        let endpoints = self.endpoints(chain)?;
        let client = ChainClient::connect(&endpoints, self.stats.clone())
            .map_err(|e| CliError::from(e).with_hint(format!("while connecting to {chain}")))?;
        if client.chain_id != chain.id {
            return Err(CliError::new(
                ErrorKind::Network,
                "wrong-chain",
                format!("{} answers as chain {}, not {chain}", endpoints.rpc, client.chain_id),
            ));
        }
        Ok(client)
    }

    /// Connects to several chains at once; all must answer.
    pub(crate) fn connect_all(&self, chains: &[ChainInfo]) -> Result<Vec<ChainClient>, CliError> {
        std::thread::scope(|s| {
            let handles: Vec<_> = chains.iter().map(|c| s.spawn(move || self.connect(c))).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(CliError::internal("a connection thread panicked")))
                })
                .collect()
        })
    }
}

fn unreadable_message(
    kind: namera_store::RecordKind,
    alias: &Alias,
    e: &namera_store::StoreError,
) -> String {
    format!(
        "{} {alias} is unreadable and left out ({e}); `namera {} remove {alias}` deletes it",
        kind.name(),
        kind.name().replace(' ', "-")
    )
}

/// Writes `rows` as aligned columns (the pretty form of lists).
pub(crate) fn write_table(out: &mut dyn Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

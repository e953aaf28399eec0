//! `namera devnet up|down|status|env`: a thin face over [`namera_devnet`].
//!
//! The devnet records itself in a state file, so `up` in one process and `status`, `env`
//! or `down` in later ones all find it by name.

use std::io::Write;

use clap::{Args, Subcommand};
use namera_devnet::{DevnetConfig, DevnetState, DownReport, Status as DevnetStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    context::Context,
    error::CliError,
    output::Shell,
    params::{CommandInput, help_example},
};

/// The `devnet` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DevnetCommand {
    /// Start a devnet, or reuse it if it already runs; prints its URLs, chain id and PIDs.
    #[command(after_help = help_example::<Up>())]
    Up(Up),
    /// Stop a devnet: only the processes it started.
    #[command(after_help = help_example::<Down>())]
    Down(Down),
    /// Which canonical contracts have code, and whether anvil and Alto run (exit 3 when no
    /// devnet by that name is running).
    #[command(after_help = help_example::<Status>())]
    Status(Status),
    /// `export LOCAL_RPC_URL=…`, `LOCAL_BUNDLER_URL` and `LOCAL_CHAIN_ID` lines: `eval
    /// "$(namera devnet env)"` puts them in the environment of later commands.
    #[command(after_help = help_example::<Env>())]
    Env(Env),
}

/// Which devnet: by name, or by chain id (whose default name is `chain-<id>`).
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Select {
    /// The chain id anvil reports (default 31337); also names the devnet `chain-<id>`
    /// unless `name` is given.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    chain_id: Option<u64>,
    /// The devnet's name (letters, digits, '-', '_', '.'); devnets with different names run
    /// side by side.
    #[arg(long, value_name = "NAME")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

impl Select {
    fn config(&self) -> DevnetConfig {
        let config =
            DevnetConfig::new().chain_id(self.chain_id.unwrap_or(namera_devnet::DEFAULT_CHAIN_ID));
        match &self.name {
            Some(name) => config.named(name),
            None => config,
        }
    }
}

macro_rules! devnet_input {
    ($ty:ident, $name:literal, $output:ty) => {
        #[doc = concat!("`", $name, "`.")]
        #[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
        pub(crate) struct $ty {
            #[command(flatten)]
            #[serde(flatten)]
            select: Select,
        }

        impl CommandInput for $ty {
            type Output = $output;
            const NAME: &'static str = $name;
            const EXAMPLE: &'static str = r#"{"chain_id":31337}"#;
        }
    };
}

devnet_input!(Up, "devnet.up", crate::foreign::DevnetState);
devnet_input!(Down, "devnet.down", crate::foreign::DownReport);
devnet_input!(Status, "devnet.status", crate::foreign::DevnetStatus);
devnet_input!(Env, "devnet.env", EnvVars<'static>);

impl DevnetCommand {
    /// Runs the subcommand.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        let shell = ctx.shell();
        match self {
            Self::Up(a) => up(shell, &ctx.input(&a)?.select.config()),
            Self::Down(a) => down(shell, &ctx.input(&a)?.select.config()),
            Self::Status(a) => status(shell, &ctx.input(&a)?.select.config()),
            Self::Env(a) => env(shell, &ctx.input(&a)?.select.config()),
        }
    }
}

fn up(shell: &Shell, config: &DevnetConfig) -> Result<(), CliError> {
    shell.progress(&format!(
        "starting devnet {} (chain id {}); the first run installs its tools into {} (≈435 MB)…",
        config.name(),
        config.chain_id_value(),
        config.home_dir().display(),
    ));
    let devnet = namera_devnet::up(config)?;
    let state = devnet.state();
    shell.emit(state, |out| write_state(out, state))
}

fn write_state(out: &mut dyn Write, s: &DevnetState) -> std::io::Result<()> {
    writeln!(out, "devnet {} is up (chain id {})", s.name, s.chain_id)?;
    writeln!(out, "  rpc      {}", s.rpc_url)?;
    writeln!(out, "  bundler  {}   (Alto listens on all interfaces)", s.bundler_url)?;
    writeln!(out, "  anvil    pid {:<8} log {}", s.anvil.pid, s.anvil.log.display())?;
    writeln!(out, "  alto     pid {:<8} log {}", s.bundler.pid, s.bundler.log.display())?;
    if let (Some(url), Some(p)) = (&s.paymaster_url, &s.paymaster) {
        let contract = s.paymaster_address.map(|a| a.to_string()).unwrap_or_default();
        writeln!(out, "  paymaster {url}   (ERC-7677; sponsors from {contract})")?;
        writeln!(out, "  paymaster pid {:<8} log {}", p.pid, p.log.display())?;
    }
    if let Some(pid) = s.watchdog_pid {
        writeln!(out, "  watchdog pid {pid}")?;
    }
    Ok(())
}

fn down(shell: &Shell, config: &DevnetConfig) -> Result<(), CliError> {
    let report = namera_devnet::down(config)?;
    shell.emit(&report, |out| write_down(out, &report))?;
    if report.still_running.is_empty() {
        Ok(())
    } else {
        Err(CliError::new(
            crate::error::ErrorKind::Other,
            "still-running",
            format!(
                "processes {:?} of devnet {} would not stop",
                report.still_running, report.name
            ),
        )
        .with_hint("its state file was kept; run `namera devnet down` again or kill them by PID"))
    }
}

fn write_down(out: &mut dyn Write, r: &DownReport) -> std::io::Result<()> {
    let list = |pids: &[u32]| pids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    writeln!(out, "devnet {} is down", r.name)?;
    if !r.stopped.is_empty() {
        writeln!(out, "  stopped       {}", list(&r.stopped))?;
    }
    if !r.already_gone.is_empty() {
        writeln!(out, "  already gone  {}", list(&r.already_gone))?;
    }
    if !r.still_running.is_empty() {
        writeln!(out, "  still running {}", list(&r.still_running))?;
    }
    Ok(())
}

fn status(shell: &Shell, config: &DevnetConfig) -> Result<(), CliError> {
    let status = namera_devnet::status(config)?;
    if !status.anvil_running && !status.bundler_running {
        // A state file whose processes are all gone (a reboot, a kill): nothing runs.
        let error = namera_devnet::DevnetError::NotRunning {
            name: status.name.clone(),
            path: config.state_file(),
        };
        return Err(CliError::from(error)
            .with_hint("its processes are gone; `namera devnet up` starts it again"));
    }
    shell.emit(&status, |out| write_status(out, &status))
}

fn write_status(out: &mut dyn Write, s: &DevnetStatus) -> std::io::Result<()> {
    let running = |up: bool| if up { "running" } else { "NOT running" };
    writeln!(out, "devnet {} (chain id {})", s.name, s.chain_id)?;
    writeln!(out, "  rpc      {}  anvil {}", s.rpc_url, running(s.anvil_running))?;
    writeln!(out, "  bundler  {}  alto {}", s.bundler_url, running(s.bundler_running))?;
    let width = s.contracts.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in &s.contracts {
        let code = match c.has_code {
            Some(true) => "code",
            Some(false) => "NO CODE",
            None => "unknown",
        };
        writeln!(out, "  {:<width$}  {}  {code}", c.name, c.address)?;
    }
    if !s.is_complete() {
        writeln!(out, "incomplete: `namera devnet down` then `namera devnet up` rebuilds it")?;
    }
    Ok(())
}

/// The devnet's endpoints as the environment variables the CLI reads for `local`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub(crate) struct EnvVars<'a> {
    /// anvil's JSON-RPC URL.
    local_rpc_url: &'a str,
    /// Alto's JSON-RPC URL.
    local_bundler_url: &'a str,
    /// The devnet's chain id.
    local_chain_id: u64,
}

fn env(shell: &Shell, config: &DevnetConfig) -> Result<(), CliError> {
    let devnet = namera_devnet::load(config)?;
    let state = devnet.state();
    let vars = EnvVars {
        local_rpc_url: &state.rpc_url,
        local_bundler_url: &state.bundler_url,
        local_chain_id: state.chain_id,
    };
    shell.emit(&vars, |out| out.write_all(state.env_lines().as_bytes()))
}

//! `namera`: the command line over the Namera SDK.
//!
//! This file only parses, dispatches and turns the outcome into an exit code, in one
//! place ([`error::ErrorKind::exit_code`]); every command group lives in its own module
//! under [`cmd`], and all output goes through [`output::Shell`], so human and machine
//! formats cannot drift apart per command.
//!
//! Exit codes (a project-wide contract): 0 ok, 2 bad input or usage, 3 not found, 4 auth,
//! 5 network or chain, 6 refused by policy, 1 anything else.

// The policy JSON Schema is one large `json_schema!` literal.
#![recursion_limit = "512"]

mod cmd;
mod config;
mod context;
mod error;
mod foreign;
mod human_amount;
#[cfg(test)]
mod input_props;
mod opts;
mod output;
mod params;
mod policy_input;
mod prompt;
mod secret;
mod values;
mod wallet;

use std::process::ExitCode;

use clap::Parser;

use crate::{
    context::Context,
    error::CliError,
    opts::Cli,
    output::{OutputFormat, Shell},
};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let shell = Shell::new(cli.output);
    let ctx = match Context::new(shell, cli.params) {
        Ok(ctx) => ctx,
        Err(e) => {
            Shell::new(cli.output).error(&e);
            return ExitCode::from(e.kind().exit_code());
        }
    };
    match cli.command.run(&ctx) {
        Ok(()) => ExitCode::SUCCESS,
        // `namera … | head` closing the pipe early is the reader's choice, not a failure
        // (ripgrep does the same).
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            ctx.shell().error(&e);
            ExitCode::from(e.kind().exit_code())
        }
    }
}

/// `--help` and `--version` exit 0 with clap's text; every other parse failure is a usage
/// error (exit 2), reported as JSON when the raw arguments asked for a JSON format.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as Clap;
    if matches!(e.kind(), Clap::DisplayHelp | Clap::DisplayVersion) {
        // Nothing useful can be done if printing help fails (a closed pipe, say).
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let format = OutputFormat::sniff(std::env::args_os().skip(1));
    let shell = Shell::new(format);
    // clap quotes a value it could not parse; a secret's (a `--key CHAIN=BASE64` holds a
    // private key) must not be.
    let secrets = secret::argv_secrets(std::env::args().skip(1));
    let rendered = secret::redact_all(&e.to_string(), &secrets);
    if format.is_machine() {
        shell.error(&CliError::usage(e.kind(), rendered));
    } else if secrets.is_empty() {
        let _ = e.print();
    } else {
        eprint!("{rendered}");
    }
    ExitCode::from(error::ErrorKind::Usage.exit_code())
}

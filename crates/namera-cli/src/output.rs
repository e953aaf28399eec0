//! Every byte the CLI writes goes through [`Shell`]: results to stdout in the chosen
//! format, progress and errors to stderr.
//!
//! Commands hand [`Shell::emit`] one serializable value plus a closure that renders it for
//! people, so the JSON and the pretty form of a result come from the same value.

use std::{
    ffi::OsString,
    io::{self, IsTerminal, Write},
};

use clap::ValueEnum;
use schemars::json_schema;
use serde::Serialize;

use crate::error::CliError;

crate::values::schema_type!(
    /// The result of a command that prints nothing on stdout (`mcp start`, whose stdout
    /// in stdio mode carries the MCP protocol itself).
    NoResult,
    |_| json_schema!({
        "not": {},
        "description": "Nothing: this command prints no result on stdout."
    })
);

/// A spinner that disappears when dropped.
#[derive(Debug)]
pub(crate) struct Spinner(Option<indicatif::ProgressBar>);

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// How results and errors are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Human-readable text.
    Pretty,
    /// One pretty-printed JSON document.
    Json,
    /// One compact JSON object per line.
    Ndjson,
}

impl OutputFormat {
    /// Whether a program, not a person, reads the output.
    pub(crate) const fn is_machine(self) -> bool {
        matches!(self, Self::Json | Self::Ndjson)
    }

    /// The format asked for in raw arguments that clap rejected, so that a usage error is
    /// still reported in the format the caller reads (pretty when unclear).
    pub(crate) fn sniff(args: impl IntoIterator<Item = OsString>) -> Self {
        let mut format = Self::Pretty;
        let mut args = args.into_iter().map(|a| a.to_string_lossy().into_owned());
        while let Some(arg) = args.next() {
            if arg == "--" {
                break;
            }
            let value = match arg.as_str() {
                "-o" | "--output" => args.next(),
                _ => arg
                    .strip_prefix("--output=")
                    .or_else(|| arg.strip_prefix("-o"))
                    .map(|v| v.trim_start_matches('=').to_owned()),
            };
            if let Some(parsed) = value.and_then(|v| Self::from_str(&v, false).ok()) {
                format = parsed;
            }
        }
        format
    }
}

/// The CLI's stdout and stderr.
#[derive(Debug)]
pub(crate) struct Shell {
    format: OutputFormat,
    progress: bool,
    interactive: bool,
    colour: bool,
    colour_out: bool,
}

/// What a painted word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paint {
    /// Landed, passes.
    Good,
    /// Refused, failed.
    Bad,
    /// Take care.
    Warn,
}

impl Shell {
    /// A shell writing in `format`. Progress is shown only to a person watching a
    /// terminal: never in JSON modes, never into a file or pipe.
    pub(crate) fn new(format: OutputFormat) -> Self {
        let progress = !format.is_machine() && io::stderr().is_terminal();
        // Colour only for a person at a terminal, and never against NO_COLOR
        // (https://no-color.org).
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let colour = progress && !no_colour;
        let colour_out = !format.is_machine() && io::stdout().is_terminal() && !no_colour;
        Self {
            format,
            progress,
            interactive: progress && io::stdin().is_terminal(),
            colour,
            colour_out,
        }
    }

    /// `text` for stderr: in colour when a person is watching, as is otherwise.
    pub(crate) fn paint(&self, paint: Paint, text: &str) -> String {
        Self::painted(self.colour, paint, text)
    }

    /// `text` for stdout: in colour when stdout is a terminal.
    pub(crate) fn paint_out(&self, paint: Paint, text: &str) -> String {
        Self::painted(self.colour_out, paint, text)
    }

    fn painted(on: bool, paint: Paint, text: &str) -> String {
        if !on {
            return text.to_owned();
        }
        let code = match paint {
            Paint::Good => "32",
            Paint::Bad => "1;31",
            Paint::Warn => "33",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Whether a person can be asked: a terminal on stdin and stderr, and not a JSON mode.
    /// Agents and scripts never see a prompt; missing input is an error for them.
    pub(crate) const fn interactive(&self) -> bool {
        self.interactive
    }

    /// The output format.
    pub(crate) const fn format(&self) -> OutputFormat {
        self.format
    }

    /// A warning on stderr, in every format (a JSON reader ignores stderr lines it does
    /// not expect; a person must see it).
    pub(crate) fn warn(&self, message: &str) {
        let mut err = io::stderr().lock();
        let _ = match self.format {
            OutputFormat::Pretty => {
                writeln!(err, "{} {message}", self.paint(Paint::Warn, "warning:"))
            }
            OutputFormat::Json | OutputFormat::Ndjson => {
                writeln!(err, "{}", serde_json::json!({ "warning": message }))
            }
        };
    }

    /// A spinner on stderr while waiting for a chain, shown only where progress is.
    pub(crate) fn spinner(&self, message: impl Into<String>) -> Spinner {
        if !self.progress {
            return Spinner(None);
        }
        let bar = indicatif::ProgressBar::new_spinner().with_message(message.into());
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Spinner(Some(bar))
    }

    /// A progress note on stderr (see [`Shell::new`] for when it shows).
    pub(crate) fn progress(&self, message: &str) {
        if self.progress {
            // A progress note that cannot be written is not worth failing the command for.
            let _ = writeln!(io::stderr().lock(), "{message}");
        }
    }

    /// Writes a command's result: `value` as JSON in the JSON modes, else `pretty`'s text.
    pub(crate) fn emit<T: Serialize>(
        &self,
        value: &T,
        pretty: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), CliError> {
        let mut out = io::stdout().lock();
        let written = match self.format {
            OutputFormat::Pretty => pretty(&mut out),
            OutputFormat::Json => serde_json::to_writer_pretty(&mut out, value)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out)),
            OutputFormat::Ndjson => serde_json::to_writer(&mut out, value)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out)),
        };
        written.and_then(|()| out.flush()).map_err(CliError::stdout)
    }

    /// Writes a list: a JSON array, one NDJSON line per item, or `pretty`'s text.
    pub(crate) fn emit_list<T: Serialize>(
        &self,
        items: &[T],
        pretty: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), CliError> {
        if self.format != OutputFormat::Ndjson {
            return self.emit(&items, pretty);
        }
        let mut out = io::stdout().lock();
        let written = items.iter().try_for_each(|item| {
            serde_json::to_writer(&mut out, item).map_err(io::Error::from)?;
            writeln!(out)
        });
        written.and_then(|()| out.flush()).map_err(CliError::stdout)
    }

    /// Reports `error` on stderr: a JSON envelope in the JSON modes, else `error: …` with
    /// `hint: …` lines.
    pub(crate) fn error(&self, error: &CliError) {
        let mut err = io::stderr().lock();
        // If stderr itself is gone there is nobody left to tell.
        let _ = match self.format {
            OutputFormat::Pretty => {
                let mut text =
                    format!("{} {}\n", self.paint(Paint::Bad, "error:"), error.message());
                for hint in error.hint().into_iter().flat_map(str::lines) {
                    text.push_str(&format!("hint: {hint}\n"));
                }
                err.write_all(text.as_bytes())
            }
            OutputFormat::Json | OutputFormat::Ndjson => {
                let line = serde_json::json!({ "error": error });
                writeln!(err, "{line}")
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(args: &[&str]) -> OutputFormat {
        OutputFormat::sniff(args.iter().map(OsString::from))
    }

    #[test]
    fn sniffs_every_spelling_of_the_output_flag() {
        assert_eq!(sniff(&["devnet", "bogus"]), OutputFormat::Pretty);
        assert_eq!(sniff(&["-o", "json", "devnet", "bogus"]), OutputFormat::Json);
        assert_eq!(sniff(&["devnet", "--output=ndjson", "x"]), OutputFormat::Ndjson);
        assert_eq!(sniff(&["-ojson"]), OutputFormat::Json);
        assert_eq!(sniff(&["-o=json"]), OutputFormat::Json);
        assert_eq!(sniff(&["--output", "yaml"]), OutputFormat::Pretty);
        assert_eq!(sniff(&["--", "-o", "json"]), OutputFormat::Pretty);
    }
}

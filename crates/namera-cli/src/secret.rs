//! Where passwords come from: a file, an environment variable named on the command line,
//! a prompt on a terminal, or (discouraged) argv.
//!
//! argv is readable by every process on the machine (`ps`), so `--password` works but
//! warns. A password is held in [`Zeroizing`] memory and never printed.

use std::path::PathBuf;

use clap::Args;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{
    error::{CliError, ErrorKind},
    output::Shell,
};

/// How to get a password: the flags every command that unlocks or creates a key takes.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordArgs {
    /// Read the password from this file (its first line).
    #[arg(long, value_name = "PATH")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) password_file: Option<PathBuf>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) password_env: Option<String>,
    /// The password itself. Discouraged: argv is visible to other processes.
    #[arg(long, value_name = "PASSWORD")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) password: Option<String>,
}

/// The same choices for a session key's own password (commands that also need the owner's).
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionPasswordArgs {
    /// Read the session key's password from this file (its first line).
    #[arg(long, value_name = "PATH")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session_password_file: Option<PathBuf>,
    /// Read the session key's password from this environment variable.
    #[arg(long, value_name = "VAR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session_password_env: Option<String>,
    /// The session key's password itself. Discouraged: argv is visible to other processes.
    #[arg(long, value_name = "PASSWORD")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session_password: Option<String>,
}

impl SessionPasswordArgs {
    /// As the generic form, with this command's flag names for messages.
    pub(crate) fn as_password(&self) -> (PasswordArgs, &'static str) {
        (
            PasswordArgs {
                password_file: self.session_password_file.clone(),
                password_env: self.session_password_env.clone(),
                password: self.session_password.clone(),
            },
            "--session-password",
        )
    }
}

/// Flags whose values are secrets on the command line: passwords, `KEY=PASSWORD`, and
/// serialized session keys (which carry their private key).
const SECRET_FLAGS: &[&str] =
    &["--password", "--session-password", "--key-password", "--session-key", "--key"];

/// The values given to secret flags in `args` (`--flag VALUE` or `--flag=VALUE`), for
/// taking out of anything printed before the input is parsed (clap's errors quote values).
pub(crate) fn argv_secrets(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut next_is_secret = false;
    for arg in args {
        if next_is_secret {
            out.push(arg);
            next_is_secret = false;
            continue;
        }
        match arg.split_once('=') {
            Some((flag, value)) if SECRET_FLAGS.contains(&flag) => out.push(value.to_owned()),
            _ => next_is_secret = SECRET_FLAGS.contains(&arg.as_str()),
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// `text` with every one of `secrets` replaced by a placeholder.
pub(crate) fn redact_all(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |t, s| t.replace(s.as_str(), "(not shown: a secret)"))
}

/// Whether the password is being chosen (prompt twice) or entered to unlock (once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A new password: asked twice on a terminal.
    New,
    /// An existing password.
    Unlock,
}

impl PasswordArgs {
    /// The password, from the first source given; prompts only when nothing was given
    /// and a person is at a terminal.
    pub(crate) fn read(
        &self,
        shell: &Shell,
        what: &str,
        flag: &str,
        purpose: Purpose,
    ) -> Result<Zeroizing<String>, CliError> {
        let given =
            [self.password_file.is_some(), self.password_env.is_some(), self.password.is_some()];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(CliError::new(
                ErrorKind::Usage,
                "conflicting-input",
                format!("give the {what} one way: {flag}-file, {flag}-env or {flag}"),
            ));
        }
        if let Some(path) = &self.password_file {
            let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                let kind = if e.kind() == std::io::ErrorKind::NotFound {
                    ErrorKind::NotFound
                } else {
                    ErrorKind::Usage
                };
                CliError::new(
                    kind,
                    "password-file",
                    format!("reading {flag}-file {}: {e}", path.display()),
                )
            })?);
            let line = text.lines().next().unwrap_or("");
            return non_empty(Zeroizing::new(line.to_owned()), what);
        }
        if let Some(var) = &self.password_env {
            let value = std::env::var(var).map_err(|_| {
                CliError::new(
                    ErrorKind::Usage,
                    "password-env",
                    format!("{flag}-env names {var}, which is not set (or not UTF-8)"),
                )
            })?;
            return non_empty(Zeroizing::new(value), what);
        }
        if let Some(password) = &self.password {
            shell.warn(&format!(
                "{flag} puts the {what} in argv, visible to other processes; prefer {flag}-file or {flag}-env"
            ));
            return non_empty(Zeroizing::new(password.clone()), what);
        }
        if !shell.interactive() {
            return Err(CliError::new(
                ErrorKind::Usage,
                "missing-input",
                format!("the {what} is needed: give {flag}-file, {flag}-env or {flag}"),
            )
            .with_hint("no prompt is shown when input is not a terminal or the output is JSON"));
        }
        let label = format!("{} password:", capitalise(what));
        let mut prompt =
            inquire::Password::new(&label).with_display_mode(inquire::PasswordDisplayMode::Hidden);
        prompt = match purpose {
            Purpose::New => prompt.with_custom_confirmation_message("Again, to confirm:"),
            Purpose::Unlock => prompt.without_confirmation(),
        };
        let entered = prompt.prompt().map_err(crate::prompt::prompt_error)?;
        non_empty(Zeroizing::new(entered), what)
    }
}

fn non_empty(password: Zeroizing<String>, what: &str) -> Result<Zeroizing<String>, CliError> {
    if password.is_empty() {
        return Err(CliError::new(
            ErrorKind::Usage,
            "empty-password",
            format!("the {what} is empty"),
        ));
    }
    Ok(password)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_flag_values_are_found_and_taken_out() {
        let args = [
            "session-key",
            "import",
            "--key",
            "eyJhIjoxfQ==",
            "--password=hunter22",
            "--alias",
            "k",
        ];
        let found = argv_secrets(args.iter().map(|s| (*s).to_owned()));
        assert_eq!(found, ["eyJhIjoxfQ==", "hunter22"]);
        assert_eq!(
            redact_all("invalid value 'eyJhIjoxfQ==' for '--key'", &found),
            "invalid value '(not shown: a secret)' for '--key'"
        );
        // Names (aliases) are not secrets.
        assert!(argv_secrets(["--alias".to_owned(), "k".to_owned()]).is_empty());
    }
}

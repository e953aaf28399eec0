//! `namera passkey …`: WebAuthn (P-256) credentials under `$NAMERA_HOME/passkeys/<alias>.json`,
//! usable as a smart account's owner (`smart-account create --owner-passkey`) or as a
//! session key's signer (`session-key create --signer passkey:<alias>`).
//!
//! Two authenticators: `browser` registers a real passkey through the user's browser
//! (the key never leaves the authenticator; each signature is a browser prompt), and
//! `software` generates the P-256 key here and keeps it encrypted with a password, for
//! tests and headless servers, where no person answers a prompt.

use std::{io::Write, time::Duration};

use clap::{Args, Subcommand, ValueEnum};
use namera::passkey::{
    BrowserAuthenticator, LOCAL_RP_ID, OpenWith, PasskeyCredential, PasskeySigner, SoftwarePasskey,
};
use namera_store::{
    Alias,
    keystore::KeystoreCrypto,
    records::{Authenticator, OwnerRef, PasskeyRecord, SignerRef},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::smart_account::now;
use crate::{
    context::Context,
    error::{CliError, ErrorKind},
    params::{CommandInput, help_example},
    secret::{PasswordArgs, Purpose},
};

/// The `passkey` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum PasskeyCommand {
    /// Register a passkey: through your browser, or (for tests and headless servers) a
    /// software one whose key is kept here, encrypted with a password.
    #[command(after_help = help_example::<Register>())]
    Register(Register),
    /// List passkeys: alias, authenticator, relying party.
    #[command(alias = "ls", after_help = help_example::<List>())]
    List(List),
    /// Show one passkey: credential id, public key, authenticator.
    #[command(after_help = help_example::<Info>())]
    Info(Info),
    /// Forget a passkey (refused while an account or session key uses it).
    #[command(alias = "rm", after_help = help_example::<Remove>())]
    Remove(Remove),
}

impl PasskeyCommand {
    /// Runs the subcommand.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        match self {
            Self::Register(a) => register(ctx, &ctx.input(&a)?),
            Self::List(a) => list(ctx, &ctx.input(&a)?),
            Self::Info(a) => info(ctx, &ctx.input(&a)?),
            Self::Remove(a) => remove(ctx, &ctx.input(&a)?),
        }
    }
}

/// Which authenticator holds the passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AuthenticatorArg {
    /// A P-256 key generated here and stored encrypted: for tests and headless servers.
    Software,
    /// A real passkey, through the browser's WebAuthn prompt (rp id `localhost`).
    Browser,
}

/// How the browser ceremony's page reaches you.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OpenArg {
    /// Print the URL on stderr (default).
    Print,
    /// Open the system browser too.
    Browser,
}

/// `passkey register`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Register {
    /// The passkey's alias (letters, digits, `_`, `.`, `-`; unique).
    #[arg(long, value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// `browser` (a real passkey) or `software` (key kept here, encrypted; tests and
    /// headless servers).
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) authenticator: Option<AuthenticatorArg>,
    /// The relying-party id (default `localhost`; a browser passkey is always
    /// `localhost`, the origin of the local page).
    #[arg(long, value_name = "RP_ID")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rp_id: Option<String>,
    /// The user name the browser shows for the passkey (default: the alias).
    #[arg(long, value_name = "NAME")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    /// Browser only: `print` the page's URL on stderr (default) or also open the system
    /// `browser`.
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) open: Option<OpenArg>,
    /// Browser only: seconds to wait for the browser (default 300).
    #[arg(long, value_name = "SECONDS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeout: Option<u64>,
    /// Software only: the light key derivation (scrypt n=2^12), for tests.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) light_kdf: bool,
    /// Software only: the password that encrypts the passkey's key.
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) password: PasswordArgs,
}

impl CommandInput for Register {
    type Output = PasskeyView;
    const NAME: &'static str = "passkey.register";
    const REQUIRED: &'static [&'static str] = &["alias", "authenticator"];
    const EXAMPLE: &'static str =
        r#"{"alias":"laptop","authenticator":"browser","open":"browser"}"#;
}

/// `passkey list`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct List {}

impl CommandInput for List {
    type Output = Vec<PasskeyView>;
    const NAME: &'static str = "passkey.list";
}

/// `passkey info`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Info {
    /// The passkey's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
}

impl CommandInput for Info {
    type Output = PasskeyView;
    const NAME: &'static str = "passkey.info";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"laptop"}"#;
}

/// `passkey remove`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Remove {
    /// The passkey's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Do not ask for confirmation (required when no terminal can ask).
    #[arg(long, short)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) yes: bool,
}

impl CommandInput for Remove {
    type Output = RemovedPasskey;
    const NAME: &'static str = "passkey.remove";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"old-laptop","yes":true}"#;
}

/// A passkey: its credential, public key and authenticator.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasskeyView {
    /// The passkey's alias.
    alias: String,
    /// Where its private key lives: `browser` (an authenticator) or `software` (here,
    /// encrypted).
    #[schemars(with = "crate::foreign::Authenticator")]
    authenticator: Authenticator,
    /// The WebAuthn relying-party id.
    rp_id: String,
    /// The credential id, base64url.
    credential_id: String,
    /// The P-256 public key's x coordinate.
    #[schemars(with = "crate::values::Hash32")]
    public_key_x: String,
    /// The P-256 public key's y coordinate.
    #[schemars(with = "crate::values::Hash32")]
    public_key_y: String,
    /// The passkey's record file.
    path: String,
    /// When it was registered (seconds since the Unix epoch).
    created_at: u64,
}

/// A removed passkey.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemovedPasskey {
    /// The alias removed.
    removed: String,
    /// Its credential id, base64url; null when the record could not be read.
    credential_id: Option<String>,
}

impl PasskeyView {
    fn of(ctx: &Context, alias: &Alias, r: &PasskeyRecord) -> Self {
        Self {
            alias: alias.to_string(),
            authenticator: r.authenticator,
            rp_id: r.rp_id.clone(),
            credential_id: r.credential_id.clone(),
            public_key_x: format!("{:#066x}", r.public_key_x),
            public_key_y: format!("{:#066x}", r.public_key_y),
            path: ctx.home().passkeys().path(alias).display().to_string(),
            created_at: r.created_at,
        }
    }

    fn write(&self, out: &mut dyn Write, verb: &str) -> std::io::Result<()> {
        writeln!(out, "{verb}passkey {}", self.alias)?;
        writeln!(out, "  authenticator  {}", authenticator_words(self.authenticator))?;
        writeln!(out, "  rp id          {}", self.rp_id)?;
        writeln!(out, "  credential     {}", self.credential_id)?;
        writeln!(out, "  public key x   {}", self.public_key_x)?;
        writeln!(out, "  public key y   {}", self.public_key_y)?;
        writeln!(out, "  file           {}", self.path)
    }
}

fn authenticator_words(a: Authenticator) -> &'static str {
    match a {
        Authenticator::Browser => "browser (the key stays in your authenticator)",
        Authenticator::Software => {
            "software (key stored here, encrypted; for tests and headless servers only)"
        }
    }
}

fn register(ctx: &Context, a: &Register) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    ctx.ensure_free(ctx.home().passkeys(), &alias)?;
    let authenticator = a.authenticator.ok_or_else(|| {
        CliError::new(ErrorKind::Usage, "missing-input", "give --authenticator software|browser")
    })?;
    let only_for = |flag: &str, given: bool, kind: &str| {
        if given {
            Err(CliError::new(
                ErrorKind::Usage,
                "conflicting-input",
                format!("{flag} is for the {kind} authenticator only"),
            ))
        } else {
            Ok(())
        }
    };
    let (credential, crypto) = match authenticator {
        AuthenticatorArg::Software => {
            only_for("--open", a.open.is_some(), "browser")?;
            only_for("--timeout", a.timeout.is_some(), "browser")?;
            only_for("--user", a.user.is_some(), "browser")?;
            let rp_id = a.rp_id.as_deref().unwrap_or(LOCAL_RP_ID);
            let password =
                a.password.read(ctx.shell(), "passkey password", "--password", Purpose::New)?;
            let passkey = SoftwarePasskey::generate(rp_id)?;
            let crypto = KeystoreCrypto::encrypt(
                passkey.secret().as_slice(),
                password.as_bytes(),
                super::keystore::kdf(a.light_kdf),
            )?;
            (passkey.credential().clone(), Some(crypto))
        }
        AuthenticatorArg::Browser => {
            only_for("--light-kdf", a.light_kdf, "software")?;
            let password_given = a.password.password.is_some()
                || a.password.password_env.is_some()
                || a.password.password_file.is_some();
            only_for("a password", password_given, "software")?;
            if let Some(rp_id) = a.rp_id.as_deref().filter(|r| *r != LOCAL_RP_ID) {
                return Err(CliError::new(
                    ErrorKind::Usage,
                    "invalid-rp-id",
                    format!(
                        "--rp-id {rp_id:?}: a browser passkey belongs to {LOCAL_RP_ID:?}, the origin of the local page"
                    ),
                ));
            }
            (browser_register(ctx, a, &alias)?, None)
        }
    };
    let record = PasskeyRecord {
        version: Default::default(),
        credential_id: credential.id_base64url(),
        public_key_x: credential.x,
        public_key_y: credential.y,
        rp_id: credential.rp_id.clone(),
        authenticator: match authenticator {
            AuthenticatorArg::Software => Authenticator::Software,
            AuthenticatorArg::Browser => Authenticator::Browser,
        },
        crypto,
        created_at: now(),
    };
    ctx.home().passkeys().create(&alias, &record)?;
    if record.authenticator == Authenticator::Software {
        ctx.shell().warn(&format!(
            "passkey {alias} is a software authenticator: its key is stored in this home (encrypted); use it for tests and headless servers only"
        ));
    }
    let view = PasskeyView::of(ctx, &alias, &record);
    ctx.shell().emit(&view, |out| view.write(out, "registered "))
}

/// Runs the browser's registration ceremony; Ctrl-C cancels it cleanly.
fn browser_register(
    ctx: &Context,
    a: &Register,
    alias: &Alias,
) -> Result<PasskeyCredential, CliError> {
    let open = match a.open.unwrap_or(OpenArg::Print) {
        OpenArg::Print => OpenWith::Print,
        OpenArg::Browser => OpenWith::SystemBrowser,
    };
    let seconds = a.timeout.unwrap_or(300);
    if seconds == 0 {
        return Err(CliError::new(
            ErrorKind::Usage,
            "invalid-timeout",
            "--timeout must be above 0",
        ));
    }
    let browser =
        BrowserAuthenticator::new().with_open(open).with_timeout(Duration::from_secs(seconds));
    let user = a.user.clone().unwrap_or_else(|| alias.to_string());
    ctx.shell().progress(&format!(
        "registering passkey {alias} for {user}: approve it in your browser (waiting up to {seconds} s)"
    ));
    Ok(browser.register(&user)?)
}

fn list(ctx: &Context, _: &List) -> Result<(), CliError> {
    let entries = ctx.readable(&ctx.home().passkeys())?;
    let views: Vec<PasskeyView> =
        entries.iter().map(|(alias, r)| PasskeyView::of(ctx, alias, r)).collect();
    ctx.shell().emit_list(&views, |out| {
        if views.is_empty() {
            return writeln!(
                out,
                "no passkeys yet: `namera passkey register --alias NAME --authenticator browser`"
            );
        }
        let width = views.iter().map(|v| v.alias.len()).max().unwrap_or(0);
        for v in &views {
            let kind = match v.authenticator {
                Authenticator::Browser => "browser",
                Authenticator::Software => "software",
            };
            writeln!(out, "{:<width$}  {kind:<8}  {}", v.alias, v.rp_id)?;
        }
        Ok(())
    })
}

fn info(ctx: &Context, a: &Info) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    let record = ctx.home().passkeys().get(&alias)?;
    let view = PasskeyView::of(ctx, &alias, &record);
    ctx.shell().emit(&view, |out| view.write(out, ""))
}

fn remove(ctx: &Context, a: &Remove) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    let record = ctx.record_to_remove(&ctx.home().passkeys(), &alias)?;
    let mut users: Vec<String> = ctx
        .readable(&ctx.home().smart_accounts())?
        .into_iter()
        .filter(|(_, r)| matches!(&r.owner, OwnerRef::Passkey { alias: o } if o == &alias))
        .map(|(a, _)| format!("smart account {a}"))
        .collect();
    users.extend(
        ctx.readable(&ctx.home().session_keys())?
            .into_iter()
            .filter(|(_, r)| matches!(&r.signer, SignerRef::Passkey { alias: o } if o == &alias))
            .map(|(a, _)| format!("session key {a}")),
    );
    // Without the record, an account it owns could never be signed for again from here.
    if !users.is_empty() {
        return Err(CliError::new(
            ErrorKind::Usage,
            "in-use",
            format!("passkey {alias} is used by {}", users.join(", ")),
        )
        .with_hint("remove those first"));
    }
    let question = match record.as_ref().map(|r| r.authenticator) {
        None => format!("Delete the unreadable passkey record {alias}?"),
        Some(Authenticator::Software) => {
            format!("Delete passkey {alias}? Its key is stored only here and is gone for good.")
        }
        Some(Authenticator::Browser) => format!(
            "Forget passkey {alias}? The key stays in your authenticator; this home forgets it."
        ),
    };
    ctx.confirm(a.yes, &question)?;
    ctx.home().passkeys().remove(&alias)?;
    let view = RemovedPasskey {
        removed: alias.to_string(),
        credential_id: record.map(|r| r.credential_id),
    };
    ctx.shell().emit(&view, |out| writeln!(out, "removed passkey {alias}"))
}

//! `namera keystore …`: owner keys in Web3 Secret Storage v3 files under
//! `$NAMERA_HOME/keystores/<alias>.json`, readable by geth and `cast wallet`.

use std::io::Write;

use alloy_signer_local::PrivateKeySigner;
use clap::{Args, Subcommand};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use namera_store::keystore::{Kdf, Keystore};

use crate::{
    context::Context,
    error::{CliError, ErrorKind},
    params::{CommandInput, help_example},
    secret::{PasswordArgs, Purpose},
    values::AddressArg,
};

/// The `keystore` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum KeystoreCommand {
    /// Make a new random owner key, encrypted with a password.
    #[command(after_help = help_example::<Create>())]
    Create(Create),
    /// Import a private key, or a V3 keystore file made by another tool.
    #[command(after_help = help_example::<Import>())]
    Import(Import),
    /// List keystores: alias and address.
    #[command(alias = "ls", after_help = help_example::<List>())]
    List(List),
    /// Show one keystore: address, file, key derivation.
    #[command(after_help = help_example::<Info>())]
    Info(Info),
    /// Print the V3 keystore JSON, or (with --private-key) the decrypted key itself.
    #[command(after_help = help_example::<Export>())]
    Export(Export),
    /// Delete a keystore file.
    #[command(alias = "rm", after_help = help_example::<Remove>())]
    Remove(Remove),
}

impl KeystoreCommand {
    /// Runs the subcommand.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        match self {
            Self::Create(a) => create(ctx, &ctx.input(&a)?),
            Self::Import(a) => import(ctx, &ctx.input(&a)?),
            Self::List(a) => list(ctx, &ctx.input(&a)?),
            Self::Info(a) => info(ctx, &ctx.input(&a)?),
            Self::Export(a) => export(ctx, &ctx.input(&a)?),
            Self::Remove(a) => remove(ctx, &ctx.input(&a)?),
        }
    }
}

/// `keystore create`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Create {
    /// The keystore's alias (letters, digits, `_`, `.`, `-`; unique).
    #[arg(long, value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Use a light key derivation (scrypt n=2^12) instead of the standard n=2^18. Faster
    /// and weaker: for tests and throwaway keys only.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) light_kdf: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) password: PasswordArgs,
}

impl CommandInput for Create {
    type Output = KeystoreView;
    const NAME: &'static str = "keystore.create";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"owner","password_env":"OWNER_PASSWORD"}"#;
}

/// `keystore import`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Import {
    /// The alias to store it under.
    #[arg(long, value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// A V3 keystore file from another tool (geth, cast, eth-account); its password is the
    /// one given with the password flags, and the file is kept as it is.
    #[arg(long, value_name = "PATH")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) keystore_file: Option<std::path::PathBuf>,
    /// Read a hex private key from this file (first line).
    #[arg(long, value_name = "PATH")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) private_key_file: Option<std::path::PathBuf>,
    /// Read a hex private key from this environment variable.
    #[arg(long, value_name = "VAR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) private_key_env: Option<String>,
    /// Use the light key derivation (tests only), as for `create`.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) light_kdf: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) password: PasswordArgs,
}

impl CommandInput for Import {
    type Output = KeystoreView;
    const NAME: &'static str = "keystore.import";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str =
        r#"{"alias":"owner","private_key_env":"OWNER_KEY","password_env":"OWNER_PASSWORD"}"#;
}

/// `keystore list`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct List {}

impl CommandInput for List {
    type Output = Vec<KeystoreView>;
    const NAME: &'static str = "keystore.list";
}

/// `keystore info`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Info {
    /// The keystore's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
}

impl CommandInput for Info {
    type Output = KeystoreView;
    const NAME: &'static str = "keystore.info";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"owner"}"#;
}

/// `keystore export`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Export {
    /// The keystore's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Print the decrypted private key instead of the encrypted file. Asks for the
    /// password; the key is printed only because you asked for exactly that.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) private_key: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) password: PasswordArgs,
}

impl CommandInput for Export {
    type Output = ExportResult<'static>;
    const NAME: &'static str = "keystore.export";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"owner"}"#;
}

/// `keystore remove`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Remove {
    /// The keystore's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Do not ask for confirmation (required when no terminal can ask).
    #[arg(long, short)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) yes: bool,
}

impl CommandInput for Remove {
    type Output = RemovedKeystore;
    const NAME: &'static str = "keystore.remove";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"old-owner","yes":true}"#;
}

/// A keystore: its alias, address, file and key derivation.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeystoreView {
    /// The keystore's alias.
    alias: String,
    /// The owner key's address (EIP-55); null for files written without one (old
    /// foundry keystores).
    address: Option<AddressArg>,
    /// The keystore file.
    path: String,
    /// The key derivation and its parameters (`scrypt n=262144 r=8 p=1`, or
    /// `pbkdf2-hmac-sha256 c=…`).
    kdf: String,
}

impl KeystoreView {
    fn of(
        ctx: &Context,
        alias: &namera_store::Alias,
        ks: &namera_store::keystore::Keystore,
    ) -> Self {
        Self {
            alias: alias.to_string(),
            address: ks.address().map(AddressArg),
            path: ctx.home().keystores().path(alias).display().to_string(),
            kdf: match ks.crypto().kdf() {
                Kdf::Scrypt(p) => format!("scrypt n={} r={} p={}", p.n, p.r, p.p),
                Kdf::Pbkdf2(p) => format!("pbkdf2-hmac-sha256 c={}", p.c),
            },
        }
    }

    fn write(&self, out: &mut dyn Write, verb: &str) -> std::io::Result<()> {
        writeln!(out, "{verb} keystore {}", self.alias)?;
        match self.address {
            Some(a) => writeln!(out, "  address  {a}")?,
            None => writeln!(out, "  address  (not recorded in the file)")?,
        }
        writeln!(out, "  file     {}", self.path)?;
        writeln!(out, "  kdf      {}", self.kdf)
    }
}

/// The key derivation: standard, or light when asked (tests).
pub(crate) fn kdf(light: bool) -> namera_store::keystore::KdfStrength {
    if light {
        namera_store::keystore::KdfStrength::Light
    } else {
        namera_store::keystore::KdfStrength::Standard
    }
}

fn create(ctx: &Context, a: &Create) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    ctx.ensure_free(ctx.home().keystores(), &alias)?;
    let password = a.password.read(ctx.shell(), "keystore password", "--password", Purpose::New)?;
    let secret = Zeroizing::new(PrivateKeySigner::random().to_bytes().0);
    let ks = Keystore::encrypt(&secret, password.as_bytes(), kdf(a.light_kdf))?;
    ctx.home().keystores().create(&alias, &ks)?;
    let view = KeystoreView::of(ctx, &alias, &ks);
    ctx.shell().emit(&view, |out| view.write(out, "created"))
}

fn import(ctx: &Context, a: &Import) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    ctx.ensure_free(ctx.home().keystores(), &alias)?;
    let sources =
        [a.keystore_file.is_some(), a.private_key_file.is_some(), a.private_key_env.is_some()];
    let ks = match sources.iter().filter(|s| **s).count() {
        0 if !ctx.shell().interactive() => {
            return Err(CliError::new(
                ErrorKind::Usage,
                "missing-input",
                "keystore import needs --keystore-file, --private-key-file or --private-key-env",
            ));
        }
        0 | 1 => {
            if let Some(path) = &a.keystore_file {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| CliError::io_at("reading the keystore file", path, &e))?;
                let ks = Keystore::from_json(&text).map_err(|e| {
                    CliError::new(
                        ErrorKind::Usage,
                        "invalid-keystore",
                        format!("{} is not a V3 keystore: {e}", path.display()),
                    )
                })?;
                let password = a.password.read(
                    ctx.shell(),
                    "keystore password",
                    "--password",
                    Purpose::Unlock,
                )?;
                // Decrypting proves the password, and that the file's address is its key's.
                ks.decrypt(password.as_bytes())?;
                ks
            } else {
                let secret = read_private_key(ctx, a)?;
                let password = a.password.read(
                    ctx.shell(),
                    "keystore password",
                    "--password",
                    Purpose::New,
                )?;
                Keystore::encrypt(&secret, password.as_bytes(), kdf(a.light_kdf))?
            }
        }
        _ => {
            return Err(CliError::new(
                ErrorKind::Usage,
                "conflicting-input",
                "give one of --keystore-file, --private-key-file, --private-key-env",
            ));
        }
    };
    ctx.home().keystores().create(&alias, &ks)?;
    let view = KeystoreView::of(ctx, &alias, &ks);
    ctx.shell().emit(&view, |out| view.write(out, "imported"))
}

/// A private key from a file, an env var or a hidden prompt, checked to be a valid
/// secp256k1 scalar.
fn read_private_key(ctx: &Context, a: &Import) -> Result<Zeroizing<[u8; 32]>, CliError> {
    let text: Zeroizing<String> = if let Some(path) = &a.private_key_file {
        let all = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| CliError::io_at("reading the private key file", path, &e))?,
        );
        Zeroizing::new(all.lines().next().unwrap_or("").trim().to_owned())
    } else if let Some(var) = &a.private_key_env {
        Zeroizing::new(
            std::env::var(var)
                .map_err(|_| {
                    CliError::new(
                        ErrorKind::Usage,
                        "private-key-env",
                        format!("--private-key-env names {var}, which is not set"),
                    )
                })?
                .trim()
                .to_owned(),
        )
    } else {
        // `import` checked above that a person is at a terminal.
        debug_assert!(ctx.shell().interactive());
        Zeroizing::new(
            inquire::Password::new("Private key (hex):")
                .without_confirmation()
                .prompt()
                .map_err(crate::prompt::prompt_error)?,
        )
    };
    let hex = text.strip_prefix("0x").unwrap_or(&text);
    let bad = || {
        CliError::new(
            ErrorKind::Usage,
            "invalid-key",
            "the private key must be 32 bytes of hex (64 digits, 0x optional)",
        )
    };
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut key = Zeroizing::new([0u8; 32]);
    alloy_primitives::hex::decode_to_slice(hex, key.as_mut_slice()).map_err(|_| bad())?;
    namera_store::keystore::secret_key_address(&key).map_err(|_| {
        CliError::new(
            ErrorKind::Usage,
            "invalid-key",
            "the private key is not a valid secp256k1 key (zero or above the curve order)",
        )
    })?;
    Ok(key)
}

fn list(ctx: &Context, _: &List) -> Result<(), CliError> {
    let entries = ctx.readable(&ctx.home().keystores())?;
    let views: Vec<KeystoreView> =
        entries.iter().map(|(alias, ks)| KeystoreView::of(ctx, alias, ks)).collect();
    ctx.shell().emit_list(&views, |out| {
        if views.is_empty() {
            return writeln!(out, "no keystores yet: `namera keystore create --alias NAME`");
        }
        let width = views.iter().map(|v| v.alias.len()).max().unwrap_or(0);
        for v in &views {
            let address = v.address.map_or_else(|| "(no address)".to_owned(), |a| a.to_string());
            writeln!(out, "{:<width$}  {address}", v.alias)?;
        }
        Ok(())
    })
}

fn info(ctx: &Context, a: &Info) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    let ks = ctx.home().keystores().get(&alias)?;
    let view = KeystoreView::of(ctx, &alias, &ks);
    ctx.shell().emit(&view, |out| view.write(out, ""))
}

/// What `export` prints: the keystore file as it is, or with `--private-key` the key.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum ExportResult<'a> {
    /// The V3 keystore file (without `--private-key`).
    File(#[schemars(with = "crate::foreign::V3Keystore")] &'a Keystore),
    /// The decrypted key (with `--private-key`).
    PrivateKey(ExportedKey),
}

/// A decrypted owner key.
#[derive(Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedKey {
    /// The keystore's alias.
    alias: String,
    /// The key's address (EIP-55).
    address: AddressArg,
    /// The private key: `0x` and 64 hex digits.
    #[schemars(with = "crate::values::Hash32")]
    private_key: String,
}

/// A removed keystore.
#[derive(Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemovedKeystore {
    /// The alias removed.
    removed: String,
    /// The keystore's address (EIP-55); null when its file did not record one (or could
    /// not be read).
    address: Option<AddressArg>,
}

fn export(ctx: &Context, a: &Export) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    let ks = ctx.home().keystores().get(&alias)?;
    if !a.private_key {
        return ctx.shell().emit(&ExportResult::File(&ks), |out| {
            serde_json::to_writer_pretty(&mut *out, &ks)?;
            writeln!(out)
        });
    }
    let password =
        a.password.read(ctx.shell(), "keystore password", "--password", Purpose::Unlock)?;
    let key = ks.decrypt(password.as_bytes())?;
    let shown = ExportResult::PrivateKey(ExportedKey {
        alias: alias.to_string(),
        address: AddressArg(key.address()),
        private_key: format!("0x{}", alloy_primitives::hex::encode(key.secret())),
    });
    let result = ctx.shell().emit(&shown, |out| match &shown {
        ExportResult::PrivateKey(k) => writeln!(out, "{}", k.private_key),
        ExportResult::File(_) => Ok(()),
    });
    // The caller asked for the key on stdout; our copy of it is wiped.
    if let ExportResult::PrivateKey(mut k) = shown {
        zeroize::Zeroize::zeroize(&mut k.private_key);
    }
    result
}

fn remove(ctx: &Context, a: &Remove) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    let ks = ctx.record_to_remove(&ctx.home().keystores(), &alias)?;
    let users: Vec<String> = ctx.readable(&ctx.home().smart_accounts())?
        .into_iter()
        .filter(|(_, r)| matches!(&r.owner, namera_store::records::OwnerRef::Keystore { alias: o, .. } if o == &alias))
        .map(|(a, _)| a.to_string())
        .collect();
    let question = if users.is_empty() {
        format!("Delete keystore {alias}? The key is gone for good without a backup.")
    } else {
        format!(
            "Delete keystore {alias}? It owns smart account(s) {}; without the key they cannot be used.",
            users.join(", ")
        )
    };
    ctx.confirm(a.yes, &question)?;
    ctx.home().keystores().remove(&alias)?;
    let view = RemovedKeystore {
        removed: alias.to_string(),
        address: ks.and_then(|k| k.address()).map(AddressArg),
    };
    ctx.shell().emit(&view, |out| writeln!(out, "removed keystore {alias}"))
}

//! `namera session-key …`: scoped keys for agents, approved by the owner (a keystore:
//! one signature for all chosen chains; a passkey: one approval per chain, as there is
//! no multi-chain WebAuthn validator), enforced by the account's policies on chain. A
//! key's signer is a new secp256k1 key or a registered passkey.

use std::io::Write;

use alloy_primitives::B256;
use alloy_signer_local::PrivateKeySigner;
use clap::{Args, Subcommand};
use namera::{
    account::{SessionKey, SmartAccount},
    chain::ChainInfo,
    permission::{Permission, PermissionSigner},
    policy::{Policy, PolicyKind},
    session_key::{
        KeyState, SerializedSessionKey, SessionPrivateKey, approved_key_state, issue,
        issue_with_passkey_owner, key_state, nonces, revoke_all_call, revoke_call,
    },
};
use namera_store::{
    keystore::KeystoreCrypto,
    records::{SessionKeyChain, SessionKeyRecord, SignerRef},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::smart_account::now;
use crate::{
    context::{Context, write_table},
    error::{CliError, ErrorKind},
    params::{CommandInput, help_example},
    policy_input::{PolicyArg, describe_policy},
    secret::{PasswordArgs, Purpose, SessionPasswordArgs},
    values::AddressArg,
    wallet,
};

/// The `session-key` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum SessionKeyCommand {
    /// Issue a session key with policies on one or more chains (one owner signature).
    #[command(after_help = help_example::<Create>())]
    Create(Create),
    /// Import session keys serialized by `export` or by ZeroDev's TypeScript SDK.
    #[command(after_help = help_example::<Import>())]
    Import(Import),
    /// Print a chain's serialized key (ZeroDev format, with its secret unless --public).
    #[command(after_help = help_example::<Export>())]
    Export(Export),
    /// List session keys.
    #[command(alias = "ls", after_help = help_example::<List>())]
    List(List),
    /// Show a key's record and its policies in words.
    #[command(after_help = help_example::<Info>())]
    Info(Info),
    /// Read the key's state on each chain: pending first use, installed, or revoked.
    #[command(after_help = help_example::<StatusArgs>())]
    Status(StatusArgs),
    /// Uninstall the key's permission on its chains (owner-signed).
    #[command(after_help = help_example::<Revoke>())]
    Revoke(Revoke),
    /// Invalidate every session key of an account installed or approved so far
    /// (owner-signed `invalidateNonce`).
    #[command(after_help = help_example::<RevokeAll>())]
    RevokeAll(RevokeAll),
    /// Forget a key locally (nothing changes on chain; revoke it first).
    #[command(alias = "rm", after_help = help_example::<Remove>())]
    Remove(Remove),
}

impl SessionKeyCommand {
    /// Runs the subcommand.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        match self {
            Self::Create(a) => create(ctx, ctx.input(&a)?),
            Self::Import(a) => import(ctx, &ctx.input(&a)?),
            Self::Export(a) => export(ctx, &ctx.input(&a)?),
            Self::List(a) => list(ctx, &ctx.input(&a)?),
            Self::Info(a) => info(ctx, &ctx.input(&a)?),
            Self::Status(a) => status(ctx, &ctx.input(&a)?),
            Self::Revoke(a) => revoke(ctx, &ctx.input(&a)?),
            Self::RevokeAll(a) => revoke_all(ctx, &ctx.input(&a)?),
            Self::Remove(a) => remove(ctx, &ctx.input(&a)?),
        }
    }
}

/// `session-key create`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Create {
    /// The key's alias.
    #[arg(long, value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// The smart account it acts for.
    #[arg(long, value_name = "ACCOUNT")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) smart_account: Option<String>,
    /// Chains to approve it on (default: all of the account's chains).
    #[arg(long = "chain", value_name = "CHAIN", value_delimiter = ',')]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) chains: Vec<String>,
    /// A policy as JSON (ZeroDev's `policyParams` form; repeat for several). Every
    /// policy must pass for an operation to be valid. A `rate-limit` allows `count` uses
    /// in all (not per period), each at least `interval` seconds after the previous; without
    /// `startAt` it starts at the chains' current time (so uses are spaced from now).
    #[arg(long = "policy", value_name = "JSON")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) policies: Vec<PolicyArg>,
    /// A note for people: what the key is for.
    #[arg(long, value_name = "TEXT")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) label: Option<String>,
    /// Encrypt the session key with the light key derivation (scrypt n=2^12): for tests.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) light_kdf: bool,
    /// What signs for the key: `ecdsa` (default: a new secp256k1 key, encrypted with the
    /// session password) or `passkey:<alias>` (a registered passkey; nothing new is
    /// stored, and a software passkey is unlocked with the session password flags).
    #[arg(long, value_name = "ecdsa|passkey:ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) signer: Option<String>,
    /// The owner's password (its keystore's, or its software passkey's).
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) password: PasswordArgs,
    /// The new session key's password (encrypts it at rest).
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) session_password: SessionPasswordArgs,
}

impl CommandInput for Create {
    type Output = KeyView;
    const NAME: &'static str = "session-key.create";
    const REQUIRED: &'static [&'static str] = &["alias", "smart_account", "policies"];
    const EXAMPLE: &'static str = r#"{"alias":"agent","smart_account":"treasury","chains":["local"],"policies":[{"type":"call","permissions":[{"target":"0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A","valueLimit":"1000000000000000"}]},{"type":"timestamp","validUntil":1893456000}],"password_env":"OWNER_PASSWORD","session_password_env":"AGENT_PASSWORD"}"#;
}

/// One chain's serialized key for `import`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportedChainKey {
    /// The chain it was approved on (alias or id): the serialized form does not say.
    pub(crate) chain: String,
    /// The base64 serialized key, with its private key.
    pub(crate) serialized: String,
}

impl std::str::FromStr for ImportedChainKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Never echo `s`: the serialized key carries its private key. Base64 has `=`
        // too (padding), so a key given without `CHAIN=` can split into a "chain" that
        // is the key itself: a chain name must look like one (an alias or an id).
        let malformed = || {
            "expected CHAIN=BASE64 (the value given is not shown: it holds a private key)"
                .to_owned()
        };
        let (chain, serialized) = s.split_once('=').ok_or_else(malformed)?;
        let chain_like = !chain.is_empty()
            && chain.len() <= 40
            && chain.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !chain_like {
            return Err(malformed());
        }
        Ok(Self { chain: chain.to_owned(), serialized: serialized.to_owned() })
    }
}

/// `session-key import`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Import {
    /// The alias to store it under.
    #[arg(long, value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// The alias of the smart account it acts for; recorded (owner key absent) when new.
    #[arg(long, value_name = "ACCOUNT")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) smart_account: Option<String>,
    /// `CHAIN=BASE64`, one per chain (the same key approved on each).
    #[arg(long = "key", value_name = "CHAIN=BASE64")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) keys: Vec<ImportedChainKey>,
    /// Encrypt it with the light key derivation (scrypt n=2^12): for tests.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) light_kdf: bool,
    /// The password to encrypt it with here.
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) session_password: SessionPasswordArgs,
}

impl CommandInput for Import {
    type Output = KeyView;
    const NAME: &'static str = "session-key.import";
    const REQUIRED: &'static [&'static str] = &["alias", "smart_account", "keys"];
    const EXAMPLE: &'static str = r#"{"alias":"agent","smart_account":"treasury","keys":[{"chain":"local","serialized":"eyJwb2xpY2llcyI6W119"}],"session_password_env":"AGENT_PASSWORD"}"#;
}

/// `session-key export`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Export {
    /// The key's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Which chain's approval (default: the only one, or all as CHAIN=BASE64 lines).
    #[arg(long, value_name = "CHAIN")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chain: Option<String>,
    /// Leave the private key out (the result can then only be inspected).
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) public: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) session_password: SessionPasswordArgs,
}

impl CommandInput for Export {
    type Output = Vec<ExportedKey>;
    const NAME: &'static str = "session-key.export";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str =
        r#"{"alias":"agent","chain":"local","session_password_env":"AGENT_PASSWORD"}"#;
}

/// `session-key list`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct List {
    /// Only the keys of this smart account.
    #[arg(long, value_name = "ACCOUNT")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) smart_account: Option<String>,
}

impl CommandInput for List {
    type Output = Vec<KeyView>;
    const NAME: &'static str = "session-key.list";
}

/// `session-key info`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Info {
    /// The key's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
}

impl CommandInput for Info {
    type Output = KeyView;
    const NAME: &'static str = "session-key.info";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"agent"}"#;
}

/// `session-key status`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct StatusArgs {
    /// The key's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Only these chains (default: all it is approved on).
    #[arg(long = "chain", value_name = "CHAIN", value_delimiter = ',')]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) chains: Vec<String>,
}

impl CommandInput for StatusArgs {
    type Output = KeyStatus;
    const NAME: &'static str = "session-key.status";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"agent"}"#;
}

/// `session-key revoke`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Revoke {
    /// The key's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Only these chains (default: all it is approved on).
    #[arg(long = "chain", value_name = "CHAIN", value_delimiter = ',')]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) chains: Vec<String>,
    /// The owner keystore's password.
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) password: PasswordArgs,
}

impl CommandInput for Revoke {
    type Output = Revoked;
    const NAME: &'static str = "session-key.revoke";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"agent","password_env":"OWNER_PASSWORD"}"#;
}

/// `session-key revoke-all`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct RevokeAll {
    /// The smart account whose keys are all invalidated.
    #[arg(long, value_name = "ACCOUNT")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) smart_account: Option<String>,
    /// Only these chains (default: all of the account's).
    #[arg(long = "chain", value_name = "CHAIN", value_delimiter = ',')]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) chains: Vec<String>,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) yes: bool,
    /// The owner keystore's password.
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) password: PasswordArgs,
}

impl CommandInput for RevokeAll {
    type Output = RevokedAll;
    const NAME: &'static str = "session-key.revoke-all";
    const REQUIRED: &'static [&'static str] = &["smart_account"];
    const EXAMPLE: &'static str =
        r#"{"smart_account":"treasury","yes":true,"password_env":"OWNER_PASSWORD"}"#;
}

/// `session-key remove`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Remove {
    /// The key's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) yes: bool,
}

impl CommandInput for Remove {
    type Output = RemovedKey;
    const NAME: &'static str = "session-key.remove";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"agent","yes":true}"#;
}

/// A session key: whom it acts for, what signs for it, where it is approved, and its
/// policies.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyView {
    /// The key's alias.
    alias: String,
    /// The alias of the smart account it acts for.
    smart_account: String,
    /// That account's address (EIP-55).
    account: AddressArg,
    /// The key's address: its secp256k1 address, or its passkey's stand-in (EIP-55).
    key_address: AddressArg,
    /// What signs: `ecdsa`, or `passkey:<alias>`.
    #[schemars(regex(pattern = "^(ecdsa|passkey:.+)$"))]
    signer: String,
    /// The permission id Kernel knows it by: `0x` and 8 hex digits.
    #[schemars(with = "PermissionId")]
    permission_id: String,
    /// The chains it is approved on (aliases).
    chains: Vec<String>,
    /// Its policies, in ZeroDev's policyParams JSON; every one must pass.
    policies: Vec<PolicyArg>,
    /// Its policies in words, in the same order.
    policies_in_words: Vec<String>,
    /// A note for people: what the key is for.
    label: Option<String>,
    /// When it was made here (seconds since the Unix epoch).
    created_at: u64,
    /// What the owner was warned of before signing (`create` only): a time window that
    /// has already ended, or no call policy (the key can call anything).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

crate::values::schema_type!(
    /// A Kernel permission id: 4 bytes.
    PermissionId,
    |_| schemars::json_schema!({
        "type": "string",
        "pattern": crate::values::hex_pattern(Some(4)),
        "description": "A Kernel permission id: 4 bytes as 0x-prefixed hex."
    })
);

impl KeyView {
    fn of(alias: &str, r: &SessionKeyRecord) -> Self {
        let policies: Vec<PolicyArg> = match &r.policies {
            serde_json::Value::Array(items) => items.iter().cloned().map(PolicyArg).collect(),
            other => vec![PolicyArg(other.clone())],
        };
        let words = policies
            .iter()
            .map(|p| {
                Policy::from_json(&p.0)
                    .map_or_else(|e| format!("unreadable policy: {e}"), |p| describe_policy(&p))
            })
            .collect();
        Self {
            alias: alias.to_owned(),
            smart_account: r.smart_account.to_string(),
            account: AddressArg(r.account),
            key_address: AddressArg(r.key_address),
            signer: match &r.signer {
                SignerRef::Ecdsa => "ecdsa".to_owned(),
                SignerRef::Passkey { alias } => format!("passkey:{alias}"),
            },
            permission_id: r.permission_id.to_string(),
            chains: r.chains.iter().map(|c| c.chain.clone()).collect(),
            policies,
            policies_in_words: words,
            label: r.label.clone(),
            created_at: r.created_at,
            warnings: Vec::new(),
        }
    }

    fn write(&self, out: &mut dyn Write, verb: &str) -> std::io::Result<()> {
        writeln!(out, "{verb}session key {}", self.alias)?;
        if let Some(label) = &self.label {
            writeln!(out, "  label       {label}")?;
        }
        writeln!(out, "  account     {} ({})", self.account, self.smart_account)?;
        writeln!(out, "  key         {} ({})", self.key_address, self.signer)?;
        writeln!(out, "  permission  {}", self.permission_id)?;
        writeln!(out, "  chains      {}", self.chains.join(", "))?;
        writeln!(out, "  policies (all must pass; numbered as policies[i] in JSON):")?;
        for (i, words) in self.policies_in_words.iter().enumerate() {
            writeln!(out, "    [{i}] {words}")?;
        }
        Ok(())
    }
}

/// What the owner must hear before signing: policies that make the key useless (a
/// window that already ended) or wider than it may look (nothing limits its calls).
fn policy_warnings(policies: &[Policy], now: u64) -> Vec<String> {
    let mut warnings = Vec::new();
    for (i, p) in policies.iter().enumerate() {
        if let PolicyKind::Timestamp { valid_until, .. } = p.kind
            && valid_until != 0
            && valid_until <= now
        {
            warnings.push(format!(
                "policies[{i}]: the time window ended at {}: the key will never be usable",
                namera::policy::utc(valid_until)
            ));
        }
    }
    // A budget without `allowOtherCalls` limits calls too: only its tokens' four
    // selectors and native sends within the limits pass.
    let limits_calls = policies.iter().any(|p| {
        p.flag != namera::policy::PolicyFlag::SKIP_USER_OP
            && match &p.kind {
                PolicyKind::Call(_) => true,
                PolicyKind::Budget(b) => !b.allow_other_calls,
                _ => false,
            }
    });
    if !limits_calls {
        warnings.push(
            "no call policy: the key can call any contract and send anything the account holds \
             (add a `call` policy to limit it)"
                .to_owned(),
        );
    }
    warnings
}

/// Where a rate limit given without a start begins: the latest block time of the chain
/// whose clock is furthest behind (read from every chain at once), or this machine's
/// clock if that is earlier. Then the first use is allowed at once on every chain, and
/// by every bundler: bundlers judge an operation's earliest time by their own clock, and
/// a devnet's block time can run ahead of it.
///
/// Without a start (or with ZeroDev's default of 0) a rate limit's allowed times all lie
/// in 1970 and it never spaces uses; see `Policy::rate_limit`.
fn rate_limit_start(accounts: &[SmartAccount]) -> Result<u64, CliError> {
    let times: Vec<_> = std::thread::scope(|s| {
        let reads: Vec<_> =
            accounts.iter().map(|a| s.spawn(move || a.chain().node.timestamp())).collect();
        // A panicking read thread is a bug here; surface it.
        reads.into_iter().map(|h| h.join().expect("timestamp read panicked")).collect()
    });
    let mut earliest = now();
    for t in times {
        earliest = earliest.min(t?);
    }
    Ok(earliest)
}

fn create(ctx: &Context, mut a: Create) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    ctx.ensure_free(ctx.home().session_keys(), &alias)?;
    let (account_alias, record) =
        wallet::account_record(ctx, a.smart_account.as_deref().unwrap_or_default())?;
    let config = wallet::account_config(ctx, &record)?;
    if a.chains.is_empty() && record.chains.len() > 1 && ctx.shell().interactive() {
        a.chains = crate::prompt::pick_chains(&record.chains)?;
    }
    let chains = wallet::chains_of(ctx, &record, &a.chains)?;
    if a.policies.is_empty() && ctx.shell().interactive() {
        a.policies = crate::prompt::build_policies(ctx, &chains)?;
    }
    // Amounts written for people ("100 USDC") in base units, with decimals from the chain.
    if a.policies.iter().any(|p| crate::human_amount::has_human_amount(&p.0)) {
        let clients = ctx.connect_all(&chains)?;
        for (i, p) in a.policies.iter_mut().enumerate() {
            crate::human_amount::resolve(&mut p.0, &chains, &clients).map_err(|e| {
                CliError::new(ErrorKind::Usage, "invalid-policy", format!("policies[{i}]: {e}"))
            })?;
        }
    }
    let mut policies: Vec<Policy> = a
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Policy::from_json(&p.0).map_err(|e| {
                CliError::new(ErrorKind::Usage, "invalid-policy", format!("policies[{i}]: {e}"))
            })
        })
        .collect::<Result<_, _>>()?;
    // Rate limits given without `startAt` start at the chains' time, read below.
    let start_now: Vec<usize> = a
        .policies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.0["type"] == "rate-limit" && p.0.get("startAt").is_none())
        .map(|(i, _)| i)
        .collect();
    if policies.is_empty() {
        return Err(CliError::new(
            ErrorKind::Usage,
            "missing-input",
            "a session key needs at least one policy (use {\"type\":\"sudo\"} for a key that may do anything)",
        ));
    }
    // Said before any password is asked for or anything signed; a person confirms.
    let warnings = policy_warnings(&policies, now());
    for w in &warnings {
        ctx.shell().warn(w);
    }
    if !warnings.is_empty() && ctx.shell().interactive() {
        ctx.confirm(false, "Create the session key anyway?")?;
    }
    let signer_passkey = match a.signer.as_deref() {
        None | Some("ecdsa") => None,
        Some(other) => match other.strip_prefix("passkey:") {
            Some(p) => Some(ctx.alias(Some(p))?),
            None => {
                return Err(CliError::new(
                    ErrorKind::Usage,
                    "invalid-signer",
                    format!("--signer {other:?}: give `ecdsa` or `passkey:<alias>`"),
                ));
            }
        },
    };
    // The key's secret side: a new secp256k1 key (stored encrypted below), or the passkey.
    let (key, crypto_key) = match &signer_passkey {
        None => {
            let key = PrivateKeySigner::random();
            (SessionKey::Ecdsa(key.clone()), Some(key))
        }
        Some(passkey) => {
            let (args, flag) = a.session_password.as_password();
            (SessionKey::Passkey(wallet::passkey(ctx, passkey, &args, flag)?), None)
        }
    };
    let permission_signer = key.permission_signer();
    let session_password = match &crypto_key {
        Some(_) => {
            let (args, flag) = a.session_password.as_password();
            Some(args.read(ctx.shell(), "session key password", flag, Purpose::New)?)
        }
        None => None,
    };
    let owner = wallet::owner(ctx, &record, &a.password)?;
    // Every chain must answer before anything is signed or written: a key approved on
    // four chains of five would be a half-made key.
    let accounts = wallet::connect_accounts(ctx, &config, &chains)?;
    if !start_now.is_empty() {
        let start = rate_limit_start(&accounts)?;
        for &i in &start_now {
            if let PolicyKind::RateLimit { start_at, .. } = &mut policies[i].kind {
                *start_at = start;
            }
        }
    }
    let permission = Permission::new(permission_signer.clone(), policies.clone())
        .map_err(|e| CliError::new(ErrorKind::Usage, "invalid-policy", e.to_string()))?;
    // The budget policy is ours, at one CREATE2 address on every chain: where a chain
    // lacks it, the owner's operation deploys it there first (permissionless, once per
    // chain), before the approval reads the account's nonce.
    if policies.iter().any(|p| matches!(p.kind, PolicyKind::Budget(_))) {
        for (account, chain) in accounts.iter().zip(&chains) {
            if !namera::policy::budget_policy_deployed(&account.chain().node)? {
                ctx.shell().progress(&format!(
                    "deploying the budget policy on {chain} (once per chain, paid by the account)…"
                ));
                namera::policy::ensure_deployed(
                    account,
                    owner.signer(&config, chain).as_ref(),
                    namera::wallet::RECEIPT_TIMEOUT,
                )?;
            }
        }
    }
    let approvals = match &owner {
        wallet::Owner::Key(owner) => {
            let refs: Vec<&SmartAccount> = accounts.iter().collect();
            let spinner = ctx.shell().spinner("reading account nonces and signing the approval…");
            let (approval, _) = issue(owner, &refs, &permission, &key)?;
            drop(spinner);
            approval.chains
        }
        wallet::Owner::Passkey(owner) => {
            // There is no multi-chain WebAuthn validator: one approval per chain, each a
            // passkey gesture, so each is announced as it is asked for.
            let mut out = Vec::new();
            for (i, (account, chain)) in accounts.iter().zip(&chains).enumerate() {
                ctx.shell().progress(&format!(
                    "approving on {chain} ({}/{}) with passkey…",
                    i + 1,
                    chains.len()
                ));
                let (approvals, _) = issue_with_passkey_owner(
                    owner.as_ref(),
                    &[(account, wallet::verifier(chain))],
                    &permission,
                    &key,
                )?;
                out.extend(approvals.into_iter().flat_map(|a| a.chains));
            }
            out
        }
    };
    let crypto = match (&crypto_key, &session_password) {
        (Some(key), Some(password)) => {
            let secret = Zeroizing::new(key.to_bytes().0);
            Some(KeystoreCrypto::encrypt(
                secret.as_slice(),
                password.as_bytes(),
                super::keystore::kdf(a.light_kdf),
            )?)
        }
        _ => None,
    };
    let chain_entries: Vec<SessionKeyChain> = approvals
        .iter()
        .zip(&chains)
        .map(|(c, info)| {
            let serialized = SerializedSessionKey::new(
                &permission,
                &config,
                Some(c.enable_signature.clone()),
                None,
            );
            SessionKeyChain {
                chain: info.alias.to_owned(),
                chain_id: info.id,
                serialized: serialized.to_base64(),
                kernel_nonce: c.kernel_nonce,
            }
        })
        .collect();
    let record = SessionKeyRecord {
        version: Default::default(),
        smart_account: account_alias.clone(),
        account: record.address,
        key_address: match &crypto_key {
            Some(key) => key.address(),
            None => permission_signer.address(),
        },
        signer: match signer_passkey {
            Some(alias) => SignerRef::Passkey { alias },
            None => SignerRef::Ecdsa,
        },
        crypto,
        permission_id: alloy_primitives::FixedBytes::from_slice(permission.id().as_bytes()),
        policies: serde_json::Value::Array(policies.iter().map(Policy::to_json).collect()),
        chains: chain_entries,
        valid_after: 0,
        valid_until: 0,
        created_at: now(),
        label: a.label.clone(),
    };
    ctx.home().session_keys().create(&alias, &record)?;
    let mut view = KeyView::of(alias.as_str(), &record);
    view.warnings = warnings;
    ctx.shell().emit(&view, |out| {
        view.write(out, "created ")?;
        writeln!(out, "  state       approved; installs itself with its first operation")
    })
}

fn import(ctx: &Context, a: &Import) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    ctx.ensure_free(ctx.home().session_keys(), &alias)?;
    if a.keys.is_empty() {
        return Err(CliError::new(
            ErrorKind::Usage,
            "missing-input",
            "session-key import needs --key CHAIN=BASE64",
        ));
    }
    let account_alias = ctx.alias(a.smart_account.as_deref())?;
    let mut decoded = Vec::new();
    for (i, k) in a.keys.iter().enumerate() {
        let chain = ctx.chain(&k.chain)?;
        let key = SerializedSessionKey::from_base64(k.serialized.trim()).map_err(|e| {
            CliError::new(
                ErrorKind::Usage,
                "invalid-session-key",
                format!("keys[{i}] ({chain}): {e}"),
            )
        })?;
        decoded.push((chain, key));
    }
    let first = &decoded[0].1;
    let secret = first.private_key.as_ref().ok_or_else(|| {
        CliError::new(
            ErrorKind::Usage,
            "invalid-session-key",
            "keys[0] carries no private key: export it without --public",
        )
    })?;
    let key = PrivateKeySigner::from_bytes(secret.expose())
        .map_err(|e| CliError::new(ErrorKind::Usage, "invalid-session-key", e.to_string()))?;
    let permission = first
        .permission(PermissionSigner::Ecdsa(key.address()))
        .map_err(|e| CliError::new(ErrorKind::Usage, "invalid-session-key", e.to_string()))?;
    let config = first
        .account_config()
        .map_err(|e| CliError::new(ErrorKind::Usage, "invalid-session-key", e.to_string()))?;
    for (i, (chain, k)) in decoded.iter().enumerate() {
        if k.account.account_address != first.account.account_address
            || k.permission_id != first.permission_id
        {
            return Err(CliError::new(
                ErrorKind::Usage,
                "invalid-session-key",
                format!("keys[{i}] ({chain}) is another key or account than keys[0]"),
            ));
        }
        if k.private_key.as_ref().is_some_and(|p| p != secret) {
            return Err(CliError::new(
                ErrorKind::Usage,
                "invalid-session-key",
                format!("keys[{i}] has another private key"),
            ));
        }
    }
    // The approval's nonce is not in the serialized form: read the account's current
    // nonce on each chain and check the owner's signature against it, as the TypeScript
    // SDK does when it deserializes.
    let chains: Vec<ChainInfo> = decoded.iter().map(|(c, _)| *c).collect();
    let accounts = wallet::connect_accounts(ctx, &config, &chains)?;
    let mut entries = Vec::new();
    for ((chain, k), account) in decoded.iter().zip(&accounts) {
        let kernel_nonce = account.kernel_nonce()?;
        let state = key_state(account, permission.validation_id())?;
        if !matches!(state, KeyState::Installed { .. }) {
            k.verify_enable_signature(
                PermissionSigner::Ecdsa(key.address()),
                chain.id,
                kernel_nonce,
            )
            .map_err(|e| {
                CliError::new(ErrorKind::Usage, "invalid-session-key", format!("{chain}: {e}"))
            })?;
        }
        let public = SerializedSessionKey { private_key: None, ..k.clone() };
        entries.push(SessionKeyChain {
            chain: chain.alias.to_owned(),
            chain_id: chain.id,
            serialized: public.to_base64(),
            kernel_nonce,
        });
    }
    let password = {
        let (args, flag) = a.session_password.as_password();
        args.read(ctx.shell(), "session key password", flag, Purpose::New)?
    };
    let crypto = KeystoreCrypto::encrypt(
        Zeroizing::new(secret.expose().0).as_slice(),
        password.as_bytes(),
        super::keystore::kdf(a.light_kdf),
    )?;
    let account_exists = ctx.home().smart_accounts().exists(&account_alias);
    if account_exists {
        let existing = ctx.home().smart_accounts().get(&account_alias)?;
        if existing.address != config.address() {
            return Err(CliError::new(
                ErrorKind::Usage,
                "account-mismatch",
                format!(
                    "smart account {account_alias} is {}, but the key is for {}",
                    existing.address,
                    config.address()
                ),
            ));
        }
    }
    let record = SessionKeyRecord {
        version: Default::default(),
        smart_account: account_alias.clone(),
        account: config.address(),
        key_address: key.address(),
        signer: SignerRef::Ecdsa,
        crypto: Some(crypto),
        permission_id: alloy_primitives::FixedBytes::from_slice(permission.id().as_bytes()),
        policies: serde_json::Value::Array(
            permission.policies.iter().map(Policy::to_json).collect(),
        ),
        chains: entries,
        valid_after: first.validity.valid_after,
        valid_until: first.validity.valid_until,
        created_at: now(),
        label: None,
    };
    if !account_exists {
        let account = namera_store::records::SmartAccountRecord {
            version: Default::default(),
            address: config.address(),
            owner: namera_store::records::OwnerRef::External {
                address: config.root.owner().ok_or_else(|| {
                    CliError::new(
                        ErrorKind::Usage,
                        "passkey-owner",
                        "importing keys of a passkey-owned account is not supported",
                    )
                })?,
            },
            index: config.index,
            kernel_version: config.version.as_str().to_owned(),
            chains: chains.iter().map(|c| c.alias.to_owned()).collect(),
            created_at: now(),
            root_validator: Some(wallet::root_validator_kind(&config.root)),
        };
        ctx.home().smart_accounts().create(&account_alias, &account)?;
    }
    if let Err(e) = ctx.home().session_keys().create(&alias, &record) {
        if !account_exists {
            // Leave nothing half-made: the account record came with this key.
            let _ = ctx.home().smart_accounts().remove(&account_alias);
        }
        return Err(e.into());
    }
    let view = KeyView::of(alias.as_str(), &record);
    ctx.shell().emit(&view, |out| view.write(out, "imported "))
}

fn key_record(
    ctx: &Context,
    alias: Option<&str>,
) -> Result<(namera_store::Alias, SessionKeyRecord), CliError> {
    let alias = ctx.alias(alias)?;
    let record = ctx.home().session_keys().get(&alias)?;
    Ok((alias, record))
}

/// One chain's serialized key.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportedKey {
    /// The chain it is approved on (alias).
    chain: String,
    /// The key in ZeroDev's serialized form (base64), with its private key unless
    /// `--public`.
    serialized: String,
}

fn export(ctx: &Context, a: &Export) -> Result<(), CliError> {
    let (alias, record) = key_record(ctx, a.alias.as_deref())?;
    let chosen: Vec<&SessionKeyChain> = match &a.chain {
        Some(name) => {
            let chain = ctx.chain(name)?;
            vec![record.chains.iter().find(|c| c.chain_id == chain.id).ok_or_else(|| {
                CliError::new(
                    ErrorKind::NotFound,
                    "chain-not-approved",
                    format!("session key {alias} is not approved on {chain}"),
                )
            })?]
        }
        None => record.chains.iter().collect(),
    };
    let secret = if a.public {
        None
    } else {
        let (args, flag) = a.session_password.as_password();
        match wallet::session_key(ctx, &alias, &record, &args, flag)? {
            SessionKey::Ecdsa(key) => Some(SessionPrivateKey::new(B256::from(key.to_bytes()))),
            SessionKey::Passkey(_) => {
                return Err(CliError::new(
                    ErrorKind::Usage,
                    "passkey-signer",
                    format!(
                        "session key {alias} is signed by a passkey: there is no key to export"
                    ),
                )
                .with_hint("export it with --public"));
            }
        }
    };
    let mut exported = Vec::new();
    for c in chosen {
        let mut k = SerializedSessionKey::from_base64(&c.serialized)
            .map_err(|e| CliError::new(ErrorKind::Other, "corrupt-record", e.to_string()))?;
        k.private_key = secret.clone();
        exported.push(ExportedKey { chain: c.chain.clone(), serialized: k.to_base64() });
    }
    ctx.shell().emit_list(&exported, |out| {
        if exported.len() == 1 {
            return writeln!(out, "{}", exported[0].serialized);
        }
        for e in &exported {
            writeln!(out, "{}={}", e.chain, e.serialized)?;
        }
        Ok(())
    })
}

fn list(ctx: &Context, a: &List) -> Result<(), CliError> {
    let views: Vec<KeyView> = ctx
        .readable(&ctx.home().session_keys())?
        .iter()
        .filter(|(_, r)| a.smart_account.as_ref().is_none_or(|s| r.smart_account.as_str() == s))
        .map(|(alias, r)| KeyView::of(alias.as_str(), r))
        .collect();
    ctx.shell().emit_list(&views, |out| {
        if views.is_empty() {
            return writeln!(out, "no session keys yet: `namera session-key create`");
        }
        let rows: Vec<Vec<String>> = views
            .iter()
            .map(|v| {
                vec![
                    v.alias.clone(),
                    v.smart_account.clone(),
                    v.key_address.to_string(),
                    v.chains.join(","),
                    v.label.clone().unwrap_or_default(),
                ]
            })
            .collect();
        write_table(out, &rows)
    })
}

fn info(ctx: &Context, a: &Info) -> Result<(), CliError> {
    let (alias, record) = key_record(ctx, a.alias.as_deref())?;
    let view = KeyView::of(alias.as_str(), &record);
    ctx.shell().emit(&view, |out| view.write(out, ""))
}

/// A key's state on each of its chains.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyStatus {
    /// The key's alias.
    alias: String,
    /// One entry per chain asked about.
    chains: Vec<ChainState>,
}

/// One chain's state of a key: `state` and the fields that state has.
#[derive(Debug, Serialize, JsonSchema)]
// Closed, though `additionalProperties` cannot say so next to the flattened state's
// `oneOf`: `unevaluatedProperties` sees the properties of the branch that matched.
#[schemars(extend("unevaluatedProperties" = false))]
pub(crate) struct ChainState {
    /// The chain (alias).
    chain: String,
    /// Where the key stands.
    #[serde(flatten)]
    #[schemars(with = "crate::foreign::KeyState")]
    state: KeyState,
    /// Whether operations signed by it can pass now.
    usable: bool,
    /// The state in words.
    in_words: String,
    /// What is left of each budget now, in words, read from the chain ("now: 40 of 100
    /// USDC left until 2026-12-05T00:00:00Z"; gas and rate limits too); empty for a key
    /// without stateful policies.
    budgets: Vec<String>,
}

/// What is left of `permission`'s budgets on `account`'s chain now, in the SDK's words
/// (its explain of an empty operation reads every stateful policy's counters).
fn budgets_left(account: &SmartAccount, permission: &Permission) -> Result<Vec<String>, CliError> {
    let stateful = permission.policies.iter().any(|p| {
        matches!(
            p.kind,
            PolicyKind::Gas { .. } | PolicyKind::RateLimit { .. } | PolicyKind::Budget(_)
        )
    });
    if !stateful {
        return Ok(Vec::new());
    }
    let probe = namera::kernel::UserOperation::default();
    let verdicts = namera::session_key::explain_operation(account, permission, &probe)?;
    Ok(verdicts.into_iter().filter_map(|v| v.budget).collect())
}

/// The account record a key's commands need (it may be an imported, owner-less one).
fn key_account(
    ctx: &Context,
    record: &SessionKeyRecord,
) -> Result<(namera::kernel::AccountConfig, namera_store::records::SmartAccountRecord), CliError> {
    let (_, account) = wallet::account_record(ctx, record.smart_account.as_str())?;
    Ok((wallet::account_config(ctx, &account)?, account))
}

fn key_chains(
    ctx: &Context,
    record: &SessionKeyRecord,
    names: &[String],
) -> Result<Vec<ChainInfo>, CliError> {
    if names.is_empty() {
        return record.chains.iter().map(|c| ctx.chain(&c.chain)).collect();
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    wallet::distinct_chains(ctx, &names)
}

fn status(ctx: &Context, a: &StatusArgs) -> Result<(), CliError> {
    let (alias, record) = key_record(ctx, a.alias.as_deref())?;
    let (config, _) = key_account(ctx, &record)?;
    let chains = key_chains(ctx, &record, &a.chains)?;
    let ons: Vec<wallet::SessionKeyOnChain> = chains
        .iter()
        .map(|c| wallet::session_key_on(ctx, &alias, &record, c))
        .collect::<Result<_, _>>()?;
    let accounts = wallet::connect_accounts(ctx, &config, &chains)?;
    let states: Vec<ChainState> = std::thread::scope(|s| {
        let handles: Vec<_> = accounts
            .iter()
            .zip(&ons)
            .map(|(account, on)| {
                s.spawn(move || -> Result<ChainState, CliError> {
                    let state = approved_key_state(
                        account,
                        on.permission.validation_id(),
                        on.kernel_nonce,
                    )?;
                    Ok(ChainState {
                        chain: on.chain.alias.to_owned(),
                        state,
                        usable: state.is_usable(),
                        in_words: state.to_string(),
                        budgets: budgets_left(account, &on.permission)?,
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| Err(CliError::internal("a status thread panicked")))
            })
            .collect::<Result<_, _>>()
    })?;
    let json = KeyStatus { alias: alias.to_string(), chains: states };
    ctx.shell().emit(&json, |out| {
        writeln!(out, "session key {alias} ({})", record.key_address)?;
        let rows: Vec<Vec<String>> = json
            .chains
            .iter()
            .flat_map(|s| {
                std::iter::once(vec![s.chain.clone(), s.in_words.clone()])
                    .chain(s.budgets.iter().map(|b| vec![String::new(), b.clone()]))
            })
            .collect();
        write_table(out, &rows)
    })
}

/// A key's revocation on each of its chains.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Revoked {
    /// The key's alias.
    alias: String,
    /// One entry per chain.
    chains: Vec<Revocation>,
}

/// One chain's revocation.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Revocation {
    /// The chain (alias).
    chain: String,
    /// `revoked` (uninstalled now) or `already-revoked`.
    #[schemars(regex(pattern = "^(revoked|already-revoked|not-installed)$"))]
    outcome: &'static str,
    /// The owner's UserOperation hash; null when nothing was sent.
    #[schemars(with = "Option<crate::values::Hash32>")]
    user_op_hash: Option<String>,
    /// The transaction that uninstalled it; null when nothing was sent.
    #[schemars(with = "Option<crate::values::Hash32>")]
    transaction: Option<String>,
}

/// Every key of an account invalidated, per chain.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokedAll {
    /// The smart account's alias.
    smart_account: String,
    /// One entry per chain.
    chains: Vec<Invalidation>,
}

/// One chain's `invalidateNonce`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Invalidation {
    /// The chain (alias).
    chain: String,
    /// `invalidated`, or `failed` (then `error` says why; the keys still work there).
    #[schemars(with = "InvalidationOutcome")]
    outcome: &'static str,
    /// The owner's UserOperation hash (when sent).
    #[schemars(with = "Option<crate::values::Hash32>")]
    user_op_hash: Option<String>,
    /// The transaction that invalidated the keys (when it landed).
    #[schemars(with = "Option<crate::values::Hash32>")]
    transaction: Option<String>,
    /// Why it failed on this chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Invalidation {
    fn fail(&mut self, e: &CliError) {
        self.outcome = "failed";
        self.error = Some(e.message().to_owned());
    }
}

crate::values::schema_type!(
    /// What revoke-all did on one chain.
    InvalidationOutcome,
    |_| schemars::json_schema!({ "enum": ["invalidated", "failed"] })
);

/// A forgotten session key.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemovedKey {
    /// The alias removed.
    removed: String,
    /// The key's address (EIP-55); the key stays valid on chain until revoked. Null when
    /// the record could not be read.
    key_address: Option<AddressArg>,
}

fn revoke(ctx: &Context, a: &Revoke) -> Result<(), CliError> {
    let (alias, record) = key_record(ctx, a.alias.as_deref())?;
    let (config, account_record) = key_account(ctx, &record)?;
    let chains = key_chains(ctx, &record, &a.chains)?;
    let ons: Vec<wallet::SessionKeyOnChain> = chains
        .iter()
        .map(|c| wallet::session_key_on(ctx, &alias, &record, c))
        .collect::<Result<_, _>>()?;
    let owner = wallet::owner(ctx, &account_record, &a.password)?;
    let owner_wallet = wallet::owner_wallet(ctx, &config, &chains, &owner)?;
    let mut results: Vec<Revocation> = Vec::new();
    let mut work = Vec::new();
    for (i, (chain, on)) in owner_wallet.chains().iter().zip(&ons).enumerate() {
        let account = chain.account();
        let state = approved_key_state(account, on.permission.validation_id(), on.kernel_nonce)?;
        let outcome = match state {
            KeyState::Installed { .. } => {
                work.push((i, vec![revoke_call(account.address(), &on.permission)]));
                "revoked"
            }
            KeyState::Uninstalled | KeyState::Invalidated { .. } => "already-revoked",
            KeyState::PendingFirstUse => "not-installed",
        };
        results.push(Revocation {
            chain: on.chain.alias.to_owned(),
            outcome,
            user_op_hash: None,
            transaction: None,
        });
    }
    let pending: Vec<String> =
        results.iter().filter(|r| r.outcome == "not-installed").map(|r| r.chain.clone()).collect();
    if !pending.is_empty() {
        // Kernel cannot uninstall what was never installed, and the owner's approval
        // stays valid; only raising the account nonce kills it. Say so instead of
        // pretending.
        return Err(CliError::new(
            ErrorKind::Usage,
            "not-installed",
            format!(
                "session key {alias} was never used on {}: there is no installed permission to uninstall there",
                pending.join(", ")
            ),
        )
        .with_hint(format!(
            "`namera session-key revoke-all --smart-account {}` invalidates its approval (and every other key's)",
            record.smart_account
        )));
    }
    for (i, receipt) in wallet::owner_operations(ctx, &owner_wallet, &chains, work)? {
        let receipt = receipt?;
        results[i].user_op_hash = Some(format!("{:#x}", receipt.user_op_hash));
        results[i].transaction = Some(format!("{:#x}", receipt.receipt.transaction_hash));
    }
    let json = Revoked { alias: alias.to_string(), chains: results };
    ctx.shell().emit(&json, |out| {
        for r in &json.chains {
            match &r.transaction {
                Some(tx) => writeln!(out, "revoked {alias} on {} (tx {tx})", r.chain)?,
                None => writeln!(out, "{alias} was already revoked on {}", r.chain)?,
            }
        }
        Ok(())
    })
}

fn revoke_all(ctx: &Context, a: &RevokeAll) -> Result<(), CliError> {
    let (alias, record) =
        wallet::account_record(ctx, a.smart_account.as_deref().unwrap_or_default())?;
    let config = wallet::account_config(ctx, &record)?;
    let chains = wallet::chains_of(ctx, &record, &a.chains)?;
    ctx.confirm(
        a.yes,
        &format!(
            "Invalidate every session key of {alias} on {}?",
            chains.iter().map(|c| c.alias).collect::<Vec<_>>().join(", ")
        ),
    )?;
    let owner = wallet::owner(ctx, &record, &a.password)?;
    let owner_wallet = wallet::owner_wallet(ctx, &config, &chains, &owner)?;
    // Each chain on its own: one that fails (an account not deployed and not funded
    // there, say) must not keep the keys alive on the others.
    let mut rows: Vec<Invalidation> = chains
        .iter()
        .map(|c| Invalidation {
            chain: c.alias.to_owned(),
            outcome: "invalidated",
            user_op_hash: None,
            transaction: None,
            error: None,
        })
        .collect();
    let mut failures: Vec<CliError> = Vec::new();
    let mut work = Vec::new();
    for (i, chain) in owner_wallet.chains().iter().enumerate() {
        let account = chain.account();
        match nonces(account) {
            Ok((current, valid_from)) => {
                work.push((i, vec![revoke_all_call(account.address(), current, valid_from)]));
            }
            Err(e) => {
                let e = CliError::from(e);
                rows[i].fail(&e);
                failures.push(e);
            }
        }
    }
    for (i, result) in wallet::owner_operations(ctx, &owner_wallet, &chains, work)? {
        match result {
            Ok(r) => {
                rows[i].user_op_hash = Some(format!("{:#x}", r.user_op_hash));
                rows[i].transaction = Some(format!("{:#x}", r.receipt.transaction_hash));
            }
            Err(e) => {
                rows[i].fail(&e);
                failures.push(e);
            }
        }
    }
    let json = RevokedAll { smart_account: alias.to_string(), chains: rows };
    ctx.shell().emit(&json, |out| {
        for r in &json.chains {
            match (&r.transaction, &r.error) {
                (Some(tx), _) => writeln!(
                    out,
                    "invalidated every session key of {alias} on {} (tx {tx})",
                    r.chain
                )?,
                (None, Some(e)) => writeln!(out, "NOT invalidated on {}: {e}", r.chain)?,
                (None, None) => {}
            }
        }
        Ok(())
    })?;
    match failures.len() {
        0 => Ok(()),
        n => {
            let first = failures.remove(0);
            let done: Vec<&str> = json
                .chains
                .iter()
                .filter(|r| r.error.is_none())
                .map(|r| r.chain.as_str())
                .collect();
            let message = format!(
                "revoke-all failed on {n} of {} chain(s) (invalidated on: {}); first: {}",
                json.chains.len(),
                if done.is_empty() { "none".to_owned() } else { done.join(", ") },
                first.message()
            );
            let e = CliError::new(first.kind(), first.code().to_owned(), message);
            Err(match first.hint() {
                Some(h) => e.with_hint(h.to_owned()),
                None => e,
            })
        }
    }
}

fn remove(ctx: &Context, a: &Remove) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    let record = ctx.record_to_remove(&ctx.home().session_keys(), &alias)?;
    let key =
        record.as_ref().map_or_else(|| "unreadable".to_owned(), |r| r.key_address.to_string());
    ctx.confirm(
        a.yes,
        &format!("Forget session key {alias} ({key})? It stays valid on chain until revoked."),
    )?;
    ctx.home().session_keys().remove(&alias)?;
    let json = RemovedKey {
        removed: alias.to_string(),
        key_address: record.map(|r| AddressArg(r.key_address)),
    };
    ctx.shell()
        .emit(&json, |out| writeln!(out, "removed session key {alias} (nothing changed on chain)"))
}

//! `namera smart-account …`: Kernel v3 accounts owned by a keystore (the multi-chain
//! ECDSA root) or a passkey (the WebAuthn root), one address on every chain
//! (counterfactual until its first operation deploys it).

use std::io::Write;

use alloy_primitives::{Address, U256};
use clap::{Args, Subcommand};
use namera::kernel::{AccountConfig, Call, RootValidator};
use namera_store::records::{OwnerRef, SmartAccountRecord};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    context::{Context, write_table},
    error::{CliError, ErrorKind},
    params::{CommandInput, help_example},
    secret::PasswordArgs,
    values::{AddressArg, UintArg},
    wallet,
};

/// The `smart-account` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum SmartAccountCommand {
    /// Record a new account for a keystore or passkey owner (address computed offline;
    /// `--deploy` also deploys it on its chains now).
    #[command(after_help = help_example::<Create>())]
    Create(Create),
    /// Record an existing account, checked against its owner, index and version.
    #[command(after_help = help_example::<Import>())]
    Import(Import),
    /// List accounts.
    #[command(alias = "ls", after_help = help_example::<List>())]
    List(List),
    /// Show one account's record.
    #[command(after_help = help_example::<Info>())]
    Info(Info),
    /// Read the account on its chains: deployed, balance, EntryPoint deposit.
    #[command(after_help = help_example::<Status>())]
    Status(Status),
    /// Forget an account (nothing changes on chain).
    #[command(alias = "rm", after_help = help_example::<Remove>())]
    Remove(Remove),
}

impl SmartAccountCommand {
    /// Runs the subcommand.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        match self {
            Self::Create(a) => create(ctx, &ctx.input(&a)?),
            Self::Import(a) => import(ctx, &ctx.input(&a)?),
            Self::List(a) => list(ctx, &ctx.input(&a)?),
            Self::Info(a) => info(ctx, &ctx.input(&a)?),
            Self::Status(a) => status(ctx, &ctx.input(&a)?),
            Self::Remove(a) => remove(ctx, &ctx.input(&a)?),
        }
    }
}

/// `smart-account create`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Create {
    /// The account's alias.
    #[arg(long, value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// The owner: a keystore alias (or give --owner-passkey).
    #[arg(long, value_name = "KEYSTORE", conflicts_with = "owner_passkey")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) keystore: Option<String>,
    /// The owner: a passkey alias (`namera passkey register`), instead of --keystore. The
    /// account's root is then the WebAuthn validator: every owner action, and each
    /// chain's session-key approval, is one passkey approval.
    #[arg(long, value_name = "PASSKEY")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner_passkey: Option<String>,
    /// Chains the account is used on (aliases or ids), comma-separated or repeated.
    #[arg(long = "chain", value_name = "CHAIN", value_delimiter = ',')]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) chains: Vec<String>,
    /// The account index: one owner can have many accounts (a number, decimal or 0x
    /// string; default 0).
    #[arg(long, value_name = "N")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) index: Option<UintArg>,
    /// The Kernel version (default 0.3.1).
    #[arg(long, value_name = "VERSION")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kernel_version: Option<String>,
    /// Deploy it now on every chain (an empty owner-signed operation); otherwise its
    /// first operation deploys it.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) deploy: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) password: PasswordArgs,
}

impl CommandInput for Create {
    type Output = Created;
    const NAME: &'static str = "smart-account.create";
    // One of `keystore` and `owner_passkey` is required too; `new_record` says so.
    const REQUIRED: &'static [&'static str] = &["alias", "chains"];
    const EXAMPLE: &'static str =
        r#"{"alias":"treasury","keystore":"owner","chains":["local"],"index":0}"#;
}

/// `smart-account import`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Import {
    /// The account's alias.
    #[arg(long, value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// The account's address.
    #[arg(long, value_name = "ADDRESS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) address: Option<AddressArg>,
    /// The owner: a keystore alias.
    #[arg(long, value_name = "KEYSTORE")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) keystore: Option<String>,
    /// Chains the account is used on.
    #[arg(long = "chain", value_name = "CHAIN", value_delimiter = ',')]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) chains: Vec<String>,
    /// The account index (default 0).
    #[arg(long, value_name = "N")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) index: Option<UintArg>,
    /// The Kernel version (default 0.3.1).
    #[arg(long, value_name = "VERSION")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kernel_version: Option<String>,
}

impl CommandInput for Import {
    type Output = AccountView;
    const NAME: &'static str = "smart-account.import";
    const REQUIRED: &'static [&'static str] = &["alias", "address", "keystore", "chains"];
    const EXAMPLE: &'static str = r#"{"alias":"treasury","address":"0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A","keystore":"owner","chains":["base-sepolia"]}"#;
}

/// `smart-account list`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct List {}

impl CommandInput for List {
    type Output = Vec<AccountView>;
    const NAME: &'static str = "smart-account.list";
}

/// `smart-account info` (and `remove`, `status` share its alias field).
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Info {
    /// The account's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
}

impl CommandInput for Info {
    type Output = AccountView;
    const NAME: &'static str = "smart-account.info";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"treasury"}"#;
}

/// `smart-account status`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Status {
    /// The account's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Only these chains (default: all of the account's).
    #[arg(long = "chain", value_name = "CHAIN", value_delimiter = ',')]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) chains: Vec<String>,
}

impl CommandInput for Status {
    type Output = AccountStatus;
    const NAME: &'static str = "smart-account.status";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"treasury","chains":["local"]}"#;
}

/// `smart-account remove`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Remove {
    /// The account's alias.
    #[arg(value_name = "ALIAS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) yes: bool,
}

impl CommandInput for Remove {
    type Output = RemovedAccount;
    const NAME: &'static str = "smart-account.remove";
    const REQUIRED: &'static [&'static str] = &["alias"];
    const EXAMPLE: &'static str = r#"{"alias":"treasury","yes":true}"#;
}

/// A smart account: its address, owner, index, Kernel version and chains.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountView {
    /// The account's alias.
    alias: String,
    /// The account's address, the same on every chain (EIP-55).
    address: AddressArg,
    /// The owner key's address; null for a passkey-owned account.
    owner: Option<AddressArg>,
    /// The owner keystore's alias; null when the owner is a passkey or not held here.
    owner_keystore: Option<String>,
    /// The owner passkey's alias, for a passkey-owned account (`owner` is then null).
    owner_passkey: Option<String>,
    /// The account index (one owner can have many accounts).
    #[schemars(with = "crate::values::Decimal")]
    index: String,
    /// The Kernel version (`0.3.1`).
    kernel_version: String,
    /// The chains it is used on (aliases).
    chains: Vec<String>,
}

impl AccountView {
    pub(crate) fn of(alias: &str, r: &SmartAccountRecord) -> Self {
        let owner_keystore = match &r.owner {
            OwnerRef::Keystore { alias, .. } => Some(alias.to_string()),
            OwnerRef::Passkey { .. } | OwnerRef::External { .. } => None,
        };
        let owner_passkey = match &r.owner {
            OwnerRef::Passkey { alias } => Some(alias.to_string()),
            OwnerRef::Keystore { .. } | OwnerRef::External { .. } => None,
        };
        Self {
            alias: alias.to_owned(),
            address: AddressArg(r.address),
            owner: wallet::owner_address(r).map(AddressArg),
            owner_keystore,
            owner_passkey,
            index: r.index.to_string(),
            kernel_version: r.kernel_version.clone(),
            chains: r.chains.clone(),
        }
    }

    fn write(&self, out: &mut dyn Write, verb: &str) -> std::io::Result<()> {
        writeln!(out, "{verb}smart account {}", self.alias)?;
        writeln!(out, "  address  {}", self.address)?;
        if let (Some(owner), Some(ks)) = (self.owner, &self.owner_keystore) {
            writeln!(out, "  owner    {owner} (keystore {ks})")?;
        }
        if let Some(passkey) = &self.owner_passkey {
            writeln!(out, "  owner    passkey {passkey}")?;
        }
        writeln!(out, "  index    {}", self.index)?;
        writeln!(out, "  kernel   {}", self.kernel_version)?;
        writeln!(out, "  chains   {}", self.chains.join(", "))
    }
}

fn new_record(
    ctx: &Context,
    keystore: Option<&str>,
    passkey: Option<&str>,
    chains: &[String],
    index: Option<UintArg>,
    version: Option<&str>,
) -> Result<SmartAccountRecord, CliError> {
    let (owner, root) = match (keystore, passkey) {
        (Some(_), Some(_)) => {
            return Err(CliError::new(
                ErrorKind::Usage,
                "conflicting-input",
                "give one owner: --keystore or --owner-passkey",
            ));
        }
        (None, Some(passkey)) => {
            let alias = ctx.alias(Some(passkey))?;
            let key = wallet::passkey_key(ctx, &alias)?;
            (OwnerRef::Passkey { alias }, RootValidator::WebAuthn(key))
        }
        (keystore, None) => {
            if keystore.is_none() {
                return Err(CliError::new(
                    ErrorKind::Usage,
                    "missing-input",
                    "smart-account create needs an owner: --keystore / \"keystore\" or --owner-passkey / \"owner_passkey\"",
                ));
            }
            let ks_alias = ctx.alias(keystore)?;
            let ks = ctx.home().keystores().get(&ks_alias)?;
            let owner = ks.address().ok_or_else(|| {
                CliError::new(
                    ErrorKind::Usage,
                    "keystore-without-address",
                    format!("keystore {ks_alias} does not record its address"),
                )
                .with_hint("import its private key again (`keystore import --private-key-file`) so the file carries it")
            })?;
            (
                OwnerRef::Keystore { alias: ks_alias, address: owner },
                RootValidator::MultiChainEcdsa { owner },
            )
        }
    };
    if chains.is_empty() {
        return Err(CliError::new(
            ErrorKind::Usage,
            "missing-input",
            "a smart account needs at least one chain (--chain / \"chains\")",
        )
        .with_hint("`namera config chains` lists them"));
    }
    let names: Vec<&str> = chains.iter().map(String::as_str).collect();
    let chain_names: Vec<String> =
        wallet::distinct_chains(ctx, &names)?.iter().map(|c| c.alias.to_owned()).collect();
    let version = wallet::kernel_version(version.unwrap_or("0.3.1"))?;
    let mut record = SmartAccountRecord {
        version: Default::default(),
        address: Address::ZERO,
        owner,
        index: index.map_or(U256::ZERO, |i| i.0),
        kernel_version: version.as_str().to_owned(),
        chains: chain_names,
        created_at: now(),
        root_validator: None,
    };
    let config = AccountConfig::new(version, root, record.index);
    record.address = config.address();
    Ok(record)
}

/// Seconds since the Unix epoch (records' `created_at`).
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn create(ctx: &Context, a: &Create) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    ctx.ensure_free(ctx.home().smart_accounts(), &alias)?;
    let record = new_record(
        ctx,
        a.keystore.as_deref(),
        a.owner_passkey.as_deref(),
        &a.chains,
        a.index,
        a.kernel_version.as_deref(),
    )?;
    // Recorded first: the address is fixed whether or not the deployment succeeds, and
    // a failed one (an unfunded account) must leave the owner the address to fund.
    ctx.home().smart_accounts().create(&alias, &record)?;
    let deployed = if a.deploy {
        Some(deploy(ctx, &record, &a.password).map_err(|e| {
            let e = e.with_account_hint(record.address);
            let message = format!(
                "smart account {alias} ({}) is recorded but not deployed: {}",
                record.address,
                e.message()
            );
            let hint = e.hint().map(str::to_owned);
            let out = CliError::new(e.kind(), e.code().to_owned(), message);
            match hint {
                Some(h) => out.with_hint(h),
                None => out,
            }
        })?)
    } else {
        None
    };
    let view = AccountView::of(alias.as_str(), &record);
    let created = Created { account: view, deployments: deployed };
    ctx.shell().emit(&created, |out| {
        created.account.write(out, "created ")?;
        for d in created.deployments.iter().flatten() {
            writeln!(out, "  deployed on {} in tx {}", d.chain, d.transaction)?;
        }
        Ok(())
    })
}

/// A new account, and its deployments when `--deploy` was given.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Created {
    /// The account recorded.
    account: AccountView,
    /// One entry per chain with `--deploy`; null without it.
    deployments: Option<Vec<Deployment>>,
}

/// One chain's deployment.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Deployment {
    /// The chain (alias).
    chain: String,
    /// The deploying UserOperation's hash; empty when it was already deployed.
    #[schemars(with = "HashOrEmpty")]
    user_op_hash: String,
    /// The transaction that deployed it; empty when it was already deployed.
    #[schemars(with = "HashOrEmpty")]
    transaction: String,
    /// Whether it was deployed before this command (nothing was sent).
    already_deployed: bool,
}

crate::values::schema_type!(
    /// A 32-byte hash, or empty when there is none.
    HashOrEmpty,
    |g| {
        let hash = g.subschema_for::<crate::values::Hash32>();
        schemars::json_schema!({ "anyOf": [hash, { "const": "" }] })
    }
);

fn deploy(
    ctx: &Context,
    record: &SmartAccountRecord,
    password: &PasswordArgs,
) -> Result<Vec<Deployment>, CliError> {
    let config = wallet::account_config(ctx, record)?;
    let chains = wallet::chains_of(ctx, record, &[])?;
    let owner = wallet::owner(ctx, record, password)?;
    let owner_wallet = wallet::owner_wallet(ctx, &config, &chains, &owner)?;
    let mut out = Vec::new();
    let mut work = Vec::new();
    for (i, (chain, info)) in owner_wallet.chains().iter().zip(&chains).enumerate() {
        let account = chain.account();
        if account.is_deployed()? {
            out.push(Deployment {
                chain: info.alias.to_owned(),
                user_op_hash: String::new(),
                transaction: String::new(),
                already_deployed: true,
            });
        } else {
            // An empty self-call: the cheapest operation, whose side effect is the
            // deployment.
            work.push((i, vec![Call::transfer(account.address(), U256::ZERO)]));
        }
    }
    for (i, receipt) in wallet::owner_operations(ctx, &owner_wallet, &chains, work)? {
        let receipt = receipt?;
        out.push(Deployment {
            chain: chains[i].alias.to_owned(),
            user_op_hash: format!("{:#x}", receipt.user_op_hash),
            transaction: format!("{:#x}", receipt.receipt.transaction_hash),
            already_deployed: false,
        });
    }
    Ok(out)
}

fn import(ctx: &Context, a: &Import) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    ctx.ensure_free(ctx.home().smart_accounts(), &alias)?;
    let record = new_record(
        ctx,
        a.keystore.as_deref(),
        None,
        &a.chains,
        a.index,
        a.kernel_version.as_deref(),
    )?;
    let given = a.address.map(|x| x.0).unwrap_or_default();
    if record.address != given {
        return Err(CliError::new(
            ErrorKind::Usage,
            "address-mismatch",
            format!(
                "{given} is not the account of this owner at index {} with Kernel {}: that is {}",
                record.index, record.kernel_version, record.address
            ),
        )
        .with_hint("check --index and --kernel-version; the owner's root is the multi-chain ECDSA validator"));
    }
    ctx.home().smart_accounts().create(&alias, &record)?;
    let view = AccountView::of(alias.as_str(), &record);
    ctx.shell().emit(&view, |out| view.write(out, "imported "))
}

fn list(ctx: &Context, _: &List) -> Result<(), CliError> {
    let views: Vec<AccountView> = ctx
        .readable(&ctx.home().smart_accounts())?
        .iter()
        .map(|(alias, r)| AccountView::of(alias.as_str(), r))
        .collect();
    ctx.shell().emit_list(&views, |out| {
        if views.is_empty() {
            return writeln!(out, "no smart accounts yet: `namera smart-account create`");
        }
        let rows: Vec<Vec<String>> = views
            .iter()
            .map(|v| vec![v.alias.clone(), v.address.to_string(), v.chains.join(",")])
            .collect();
        write_table(out, &rows)
    })
}

fn info(ctx: &Context, a: &Info) -> Result<(), CliError> {
    let (alias, record) = wallet::account_record(ctx, a.alias.as_deref().unwrap_or_default())?;
    let view = AccountView::of(alias.as_str(), &record);
    ctx.shell().emit(&view, |out| view.write(out, ""))
}

/// An account as its chains see it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountStatus {
    /// The account's alias.
    alias: String,
    /// Its address (EIP-55).
    address: AddressArg,
    /// One entry per chain asked about.
    chains: Vec<ChainStatus>,
}

/// One chain's view of the account.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChainStatus {
    /// The chain (alias).
    chain: String,
    /// Its chain id.
    chain_id: u64,
    /// Whether the account has code there.
    deployed: bool,
    /// Its native balance, in wei.
    #[schemars(with = "crate::values::Decimal")]
    balance_wei: String,
    /// Its deposit at the EntryPoint (what pays for gas), in wei.
    #[schemars(with = "crate::values::Decimal")]
    entry_point_deposit_wei: String,
}

/// A forgotten account.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemovedAccount {
    /// The alias removed.
    removed: String,
    /// The account's address (EIP-55); it still exists on chain. Null when the record
    /// could not be read.
    address: Option<AddressArg>,
}

fn status(ctx: &Context, a: &Status) -> Result<(), CliError> {
    let (alias, record) = wallet::account_record(ctx, a.alias.as_deref().unwrap_or_default())?;
    let config = wallet::account_config(ctx, &record)?;
    let chains = wallet::chains_of(ctx, &record, &a.chains)?;
    let accounts = wallet::connect_accounts(ctx, &config, &chains)?;
    let rows: Vec<ChainStatus> = std::thread::scope(|s| {
        let handles: Vec<_> = accounts
            .iter()
            .zip(&chains)
            .map(|(account, chain)| {
                s.spawn(move || -> Result<ChainStatus, CliError> {
                    let node = &account.chain().node;
                    Ok(ChainStatus {
                        chain: chain.alias.to_owned(),
                        chain_id: chain.id,
                        deployed: account.is_deployed()?,
                        balance_wei: node.balance(account.address())?.to_string(),
                        entry_point_deposit_wei: node
                            .entry_point_deposit(account.address())?
                            .to_string(),
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
    let json = AccountStatus {
        alias: alias.to_string(),
        address: AddressArg(record.address),
        chains: rows,
    };
    let rows = &json.chains;
    ctx.shell().emit(&json, |out| {
        writeln!(out, "smart account {alias} {}", record.address)?;
        let mut table = vec![vec![
            "CHAIN".into(),
            "DEPLOYED".into(),
            "BALANCE (wei)".into(),
            "DEPOSIT (wei)".into(),
        ]];
        table.extend(rows.iter().map(|r| {
            vec![
                r.chain.clone(),
                if r.deployed { "yes" } else { "no" }.into(),
                r.balance_wei.clone(),
                r.entry_point_deposit_wei.clone(),
            ]
        }));
        write_table(out, &table)
    })
}

fn remove(ctx: &Context, a: &Remove) -> Result<(), CliError> {
    let alias = ctx.alias(a.alias.as_deref())?;
    let record = ctx.record_to_remove(&ctx.home().smart_accounts(), &alias)?;
    let keys: Vec<String> = ctx
        .readable(&ctx.home().session_keys())?
        .into_iter()
        .filter(|(_, k)| k.smart_account == alias)
        .map(|(a, _)| a.to_string())
        .collect();
    if !keys.is_empty() {
        return Err(CliError::new(
            ErrorKind::Usage,
            "in-use",
            format!(
                "smart account {alias} has session keys {}; remove them first",
                keys.join(", ")
            ),
        ));
    }
    let address =
        record.as_ref().map_or_else(|| "unreadable".to_owned(), |r| r.address.to_string());
    ctx.confirm(a.yes, &format!("Forget smart account {alias} ({address})?"))?;
    ctx.home().smart_accounts().remove(&alias)?;
    let json = RemovedAccount {
        removed: alias.to_string(),
        address: record.map(|r| AddressArg(r.address)),
    };
    ctx.shell().emit(&json, |out| {
        writeln!(out, "removed smart account {alias} (nothing changed on chain)")
    })
}

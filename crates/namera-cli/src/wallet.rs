//! From stored records to SDK values: the account's configuration, its owner (a key after
//! a password, or a passkey), a session key's signers per chain, and accounts connected
//! to chains.
//!
//! Every command that acts goes through here, so a record is interpreted one way.

use std::sync::Arc;

use alloy_primitives::{Address, B256};
use alloy_signer_local::PrivateKeySigner;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use namera::{
    account::{OperationSigner, OwnerSigner, SessionKey, SessionKeySigner, SmartAccount},
    bundler::UserOperationReceipt,
    chain::ChainInfo,
    kernel::{AccountConfig, KernelVersion, RootValidator, WebAuthnKey},
    passkey::{
        BrowserAuthenticator, OpenWith, P256Verifier, PasskeyCredential, PasskeyOwnerSigner,
        PasskeySigner, SoftwarePasskey,
    },
    permission::{Permission, PermissionSigner},
    session_key::SerializedSessionKey,
    transaction::Batch,
    wallet::{KeySpec, LaneLease, Outcome, Wallet, WalletError, WalletKey},
};
use namera_store::{
    Alias,
    records::{
        Authenticator, OwnerRef, PasskeyRecord, RootValidatorKind, SessionKeyRecord, SignerRef,
        SmartAccountRecord,
    },
};
use zeroize::Zeroizing;

use crate::{
    context::Context,
    error::{CliError, ErrorKind},
    secret::{PasswordArgs, Purpose},
};

/// A Kernel version by its name (`0.3.1`).
pub(crate) fn kernel_version(name: &str) -> Result<KernelVersion, CliError> {
    KernelVersion::ALL.iter().copied().find(|v| v.as_str() == name).ok_or_else(|| {
        let known: Vec<&str> = KernelVersion::ALL.iter().map(|v| v.as_str()).collect();
        CliError::new(
            ErrorKind::Usage,
            "unknown-kernel-version",
            format!("unknown Kernel version {name:?}: known are {}", known.join(", ")),
        )
    })
}

/// The account's configuration, from its recorded root validator: multi-chain ECDSA for
/// accounts this home made with a key owner (so one owner signature can approve a session
/// key on every chain), plain ECDSA for accounts recorded from a ZeroDev key that says so,
/// the WebAuthn validator for a passkey owner (whose public key is read from its record).
pub(crate) fn account_config(
    ctx: &Context,
    record: &SmartAccountRecord,
) -> Result<AccountConfig, CliError> {
    let key_owner = || match &record.owner {
        OwnerRef::Keystore { address, .. } | OwnerRef::External { address } => Ok(*address),
        OwnerRef::Passkey { alias } => Err(CliError::new(
            ErrorKind::Other,
            "corrupt-record",
            format!(
                "the record roots the account in an ECDSA validator but its owner is passkey {alias}"
            ),
        )),
    };
    let root = match record.root_validator() {
        RootValidatorKind::Ecdsa => RootValidator::Ecdsa { owner: key_owner()? },
        RootValidatorKind::MultiChainEcdsa => {
            RootValidator::MultiChainEcdsa { owner: key_owner()? }
        }
        RootValidatorKind::WebAuthn => match &record.owner {
            OwnerRef::Passkey { alias } => RootValidator::WebAuthn(
                passkey_credential(&ctx.home().passkeys().get(alias)?)?.key(),
            ),
            OwnerRef::Keystore { .. } | OwnerRef::External { .. } => {
                return Err(CliError::new(
                    ErrorKind::Other,
                    "corrupt-record",
                    "the record roots the account in the WebAuthn validator but its owner is no passkey",
                ));
            }
        },
    };
    let config = AccountConfig::new(kernel_version(&record.kernel_version)?, root, record.index);
    if config.address() != record.address {
        return Err(CliError::new(
            ErrorKind::Other,
            "corrupt-record",
            format!(
                "the record says {} but its owner, index and version give {}",
                record.address,
                config.address()
            ),
        ));
    }
    Ok(config)
}

/// How a record names `root`.
pub(crate) const fn root_validator_kind(root: &RootValidator) -> RootValidatorKind {
    match root {
        RootValidator::Ecdsa { .. } => RootValidatorKind::Ecdsa,
        RootValidator::MultiChainEcdsa { .. } => RootValidatorKind::MultiChainEcdsa,
        RootValidator::WebAuthn(_) => RootValidatorKind::WebAuthn,
    }
}

/// The stored smart account called `alias`.
pub(crate) fn account_record(
    ctx: &Context,
    alias: &str,
) -> Result<(Alias, SmartAccountRecord), CliError> {
    let alias = ctx.alias(Some(alias))?;
    let record = ctx.home().smart_accounts().get(&alias)?;
    Ok((alias, record))
}

/// The account's owner, unlocked: what signs for it.
pub(crate) enum Owner {
    /// A keystore's secp256k1 key (the multi-chain ECDSA root).
    Key(PrivateKeySigner),
    /// A passkey (the WebAuthn root).
    Passkey(Arc<dyn PasskeySigner>),
}

impl Owner {
    /// The owner as the operation signer of `config`'s account on `chain`: a passkey's
    /// signatures name that chain's P-256 verifier, so the signer is per chain.
    pub(crate) fn signer(
        &self,
        config: &AccountConfig,
        chain: &ChainInfo,
    ) -> Box<dyn OperationSigner> {
        match self {
            Self::Key(key) => Box::new(OwnerSigner::new(key.clone(), config.root.validation_id())),
            Self::Passkey(passkey) => {
                Box::new(PasskeyOwnerSigner::new(passkey.clone(), verifier(chain)))
            }
        }
    }
}

/// The account's owner, unlocked with its password (exit 4 when it is wrong); a browser
/// passkey asks the browser when it signs.
pub(crate) fn owner(
    ctx: &Context,
    record: &SmartAccountRecord,
    password: &PasswordArgs,
) -> Result<Owner, CliError> {
    let (alias, address) = match &record.owner {
        OwnerRef::Keystore { alias, address } => (alias, address),
        OwnerRef::Passkey { alias } => {
            return Ok(Owner::Passkey(passkey(ctx, alias, password, "--password")?));
        }
        OwnerRef::External { address } => {
            return Err(CliError::new(
                ErrorKind::Usage,
                "no-owner-key",
                format!("the owner {address} of this account has no keystore in this home"),
            )
            .with_hint("only the owner's machine can do this; session keys need no owner key"));
        }
    };
    let keystore = ctx.home().keystores().get(alias)?;
    let what = format!("password of keystore {alias}");
    let password = password.read(ctx.shell(), &what, "--password", Purpose::Unlock)?;
    let key = signer_from(keystore.decrypt(password.as_bytes())?.secret())?;
    if key.address() != *address {
        return Err(CliError::new(
            ErrorKind::Other,
            "owner-mismatch",
            format!(
                "keystore {alias} holds {} but the account's owner is {address}",
                key.address()
            ),
        ));
    }
    Ok(Owner::Key(key))
}

/// The P-256 verifier `chain` offers, from the chain registry.
pub(crate) const fn verifier(chain: &ChainInfo) -> P256Verifier {
    if chain.p256_precompile { P256Verifier::Precompile } else { P256Verifier::Daimo }
}

/// A passkey record's credential (its public key checked to be on P-256).
pub(crate) fn passkey_credential(record: &PasskeyRecord) -> Result<PasskeyCredential, CliError> {
    let corrupt = |m: String| CliError::new(ErrorKind::Other, "corrupt-record", m);
    let id = URL_SAFE_NO_PAD
        .decode(&record.credential_id)
        .map_err(|e| corrupt(format!("credential id {:?}: {e}", record.credential_id)))?;
    PasskeyCredential::new(id.into(), record.public_key_x, record.public_key_y, &record.rp_id)
        .map_err(|e| corrupt(format!("passkey: {e}")))
}

/// The passkey called `alias`, ready to sign: a software one decrypted with its password
/// (read from `password`, named `flag` in messages), a browser one asking through the
/// local page, whose URL is printed on stderr.
pub(crate) fn passkey(
    ctx: &Context,
    alias: &Alias,
    password: &PasswordArgs,
    flag: &str,
) -> Result<Arc<dyn PasskeySigner>, CliError> {
    let record = ctx.home().passkeys().get(alias)?;
    let credential = passkey_credential(&record)?;
    match (record.authenticator, &record.crypto) {
        (Authenticator::Browser, _) => {
            Ok(Arc::new(BrowserAuthenticator::new().with_open(OpenWith::Print).passkey(credential)))
        }
        (Authenticator::Software, None) => Err(CliError::new(
            ErrorKind::Other,
            "corrupt-record",
            format!("software passkey {alias} has no encrypted secret"),
        )),
        (Authenticator::Software, Some(crypto)) => {
            let what = format!("password of passkey {alias}");
            let password = password.read(ctx.shell(), &what, flag, Purpose::Unlock)?;
            let secret = crypto.decrypt(password.as_bytes())?;
            let secret: Zeroizing<[u8; 32]> =
                Zeroizing::new(secret.as_slice().try_into().map_err(|_| {
                    CliError::new(
                        ErrorKind::Other,
                        "corrupt-record",
                        format!("passkey {alias} does not decrypt to 32 bytes"),
                    )
                })?);
            let software =
                SoftwarePasskey::from_secret(&secret, credential.id.to_vec(), &record.rp_id)?;
            if software.credential() != &credential {
                return Err(CliError::new(
                    ErrorKind::Other,
                    "corrupt-record",
                    format!("passkey {alias} decrypts to another key than its public key"),
                ));
            }
            Ok(Arc::new(software))
        }
    }
}

/// The chains named by `names`, or the account's own when none are named; each must be
/// one of the account's chains.
pub(crate) fn chains_of(
    ctx: &Context,
    record: &SmartAccountRecord,
    names: &[String],
) -> Result<Vec<ChainInfo>, CliError> {
    let names: Vec<&str> = if names.is_empty() {
        record.chains.iter().map(String::as_str).collect()
    } else {
        names.iter().map(String::as_str).collect()
    };
    distinct_chains(ctx, &names)
}

/// The chains `names` name (aliases or ids), each once: a chain named twice is refused
/// (exit 2) rather than acted on twice (a second revoke of the same key reverts).
pub(crate) fn distinct_chains(ctx: &Context, names: &[&str]) -> Result<Vec<ChainInfo>, CliError> {
    let mut chains: Vec<ChainInfo> = Vec::new();
    for name in names {
        let chain = ctx.chain(name)?;
        if chains.contains(&chain) {
            return Err(CliError::new(
                ErrorKind::Usage,
                "duplicate-chain",
                format!("{chain} is listed twice"),
            ));
        }
        chains.push(chain);
    }
    Ok(chains)
}

/// The account on each of `chains`, connected (all chains at once; any failure fails all,
/// before anything is signed or written).
pub(crate) fn connect_accounts(
    ctx: &Context,
    config: &AccountConfig,
    chains: &[ChainInfo],
) -> Result<Vec<SmartAccount>, CliError> {
    let clients = ctx.connect_all(chains)?;
    Ok(clients.into_iter().map(|c| SmartAccount::new(config.clone(), c)).collect())
}

/// A session key's secret side: its secp256k1 key decrypted with its password, or the
/// passkey that signs for it (a software passkey's password is read the same way).
pub(crate) fn session_key(
    ctx: &Context,
    alias: &Alias,
    record: &SessionKeyRecord,
    password: &PasswordArgs,
    flag: &str,
) -> Result<SessionKey, CliError> {
    if let SignerRef::Passkey { alias: passkey_alias } = &record.signer {
        return Ok(SessionKey::Passkey(passkey(ctx, passkey_alias, password, flag)?));
    }
    // Refused before asking for a password that would not help.
    record.crypto.as_ref().ok_or_else(|| {
        CliError::new(
            ErrorKind::Other,
            "corrupt-record",
            format!("session key {alias} has no encrypted key"),
        )
    })?;
    let what = format!("password of session key {alias}");
    let password = password.read(ctx.shell(), &what, flag, Purpose::Unlock)?;
    unlock_session_key(alias, record, password.as_bytes())
}

/// A session key's secp256k1 key, decrypted with `password`.
pub(crate) fn unlock_session_key(
    alias: &Alias,
    record: &SessionKeyRecord,
    password: &[u8],
) -> Result<SessionKey, CliError> {
    let crypto = record.crypto.as_ref().ok_or_else(|| {
        CliError::new(
            ErrorKind::Usage,
            "passkey-signer",
            format!("session key {alias} is signed by a passkey"),
        )
    })?;
    let secret = crypto.decrypt(password)?;
    let secret: &[u8; 32] = secret.as_slice().try_into().map_err(|_| {
        CliError::new(
            ErrorKind::Other,
            "corrupt-record",
            format!("session key {alias} does not decrypt to 32 bytes"),
        )
    })?;
    let key = signer_from(secret)?;
    if key.address() != record.key_address {
        return Err(CliError::new(
            ErrorKind::Other,
            "corrupt-record",
            format!(
                "session key {alias} decrypts to {} but records {}",
                key.address(),
                record.key_address
            ),
        ));
    }
    Ok(SessionKey::Ecdsa(key))
}

/// Who a session key's permission names as its signer.
pub(crate) fn permission_signer(
    ctx: &Context,
    record: &SessionKeyRecord,
) -> Result<PermissionSigner, CliError> {
    Ok(match &record.signer {
        SignerRef::Ecdsa => PermissionSigner::Ecdsa(record.key_address),
        SignerRef::Passkey { alias } => PermissionSigner::WebAuthn(passkey_key(ctx, alias)?),
    })
}

/// The public key of the passkey called `alias`.
pub(crate) fn passkey_key(ctx: &Context, alias: &Alias) -> Result<WebAuthnKey, CliError> {
    Ok(passkey_credential(&ctx.home().passkeys().get(alias)?)?.key())
}

/// What a session key's record says about one chain.
pub(crate) struct SessionKeyOnChain {
    /// The serialized key (no secret).
    pub(crate) serialized: SerializedSessionKey,
    /// The permission.
    pub(crate) permission: Permission,
    /// The chain.
    pub(crate) chain: ChainInfo,
    /// The account's kernel nonce the approval was signed at.
    pub(crate) kernel_nonce: u32,
}

/// The session key's permission on `chain`, from its record.
pub(crate) fn session_key_on(
    ctx: &Context,
    alias: &Alias,
    record: &SessionKeyRecord,
    chain: &ChainInfo,
) -> Result<SessionKeyOnChain, CliError> {
    let entry = record.chains.iter().find(|c| c.chain_id == chain.id).ok_or_else(|| {
        let on: Vec<&str> = record.chains.iter().map(|c| c.chain.as_str()).collect();
        CliError::new(
            ErrorKind::Usage,
            "chain-not-approved",
            format!("session key {alias} is approved on {}, not on {chain}", on.join(", ")),
        )
    })?;
    let serialized = SerializedSessionKey::from_base64(&entry.serialized).map_err(|e| {
        CliError::new(ErrorKind::Other, "corrupt-record", format!("session key {alias}: {e}"))
    })?;
    let permission = serialized.permission(permission_signer(ctx, record)?).map_err(|e| {
        CliError::new(ErrorKind::Other, "corrupt-record", format!("session key {alias}: {e}"))
    })?;
    Ok(SessionKeyOnChain {
        serialized,
        permission,
        chain: *chain,
        kernel_nonce: entry.kernel_nonce,
    })
}

/// A signer for the session key on `account`'s chain, as the SDK's wallet makes it
/// (plain when installed, enabling when pending and the owner's approval holds at the
/// account's live nonce); a key that cannot act is refused (exit 6) before anything is
/// signed. A passkey key names the chain's P-256 verifier.
pub(crate) fn session_signer(
    key: impl Into<SessionKey>,
    on: &SessionKeyOnChain,
    account: &SmartAccount,
) -> Result<SessionKeySigner, CliError> {
    let approvals = std::slice::from_ref(&on.serialized);
    match namera::wallet::session_signer(account, &key.into(), &on.permission, approvals)? {
        Ok(signer) => Ok(signer.with_verifier(verifier(&on.chain))),
        Err(why) => Err(CliError::new(
            ErrorKind::Policy,
            "key-revoked",
            format!("the session key cannot act on {}: {why}", on.chain),
        )
        .with_hint("ask the account owner for a new session key")),
    }
}

/// The store's lane locks as the SDK's lane lease: every process acting for one account
/// (a CLI `tx send`, an MCP server) works in lane blocks no other holds.
#[derive(Debug)]
struct StoreLanes(namera_store::lanes::LaneLocks);

impl LaneLease for StoreLanes {
    fn try_lease(&self, account: Address, block: u16) -> bool {
        self.0.try_hold(account, block)
    }
}

/// The lane lease of `home` (see [`StoreLanes`]).
pub(crate) fn lane_lease(home: &namera_store::Home) -> Result<Arc<dyn LaneLease>, CliError> {
    Ok(Arc::new(StoreLanes(home.lane_locks()?)))
}

/// Drives an SDK future to its end on a current-thread runtime (the SDK's futures run
/// their blocking steps on threads of their own, so one thread polls them all).
pub(crate) fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(format!("starting the async runtime: {e}")))?;
    Ok(runtime.block_on(future))
}

/// The account `account_alias` on `chains` as an SDK [`Wallet`] with one key: the owner
/// (no `key`), or the named session key, whose state on each chain the wallet
/// reads and follows. Records and the password are checked before any chain is asked;
/// a session key that cannot act on one of `chains` is refused (exit 6, `key-revoked`)
/// before anything is signed. Lanes are leased from the store.
pub(crate) fn connect_wallet(
    ctx: &Context,
    account_alias: &str,
    key: Option<&str>,
    chains: &[ChainInfo],
    password: &PasswordArgs,
) -> Result<Wallet, CliError> {
    let (_, record) = account_record(ctx, account_alias)?;
    let config = account_config(ctx, &record)?;
    let Some(key_name) = key else {
        let owner = owner(ctx, &record, password)?;
        return owner_wallet(ctx, &config, chains, &owner);
    };
    let (alias, key_record) = session_key_of(ctx, key_name, &record)?;
    let mut parts = Vec::new();
    for chain in chains {
        parts.push(session_key_on(ctx, &alias, &key_record, chain)?.serialized);
    }
    let secret = session_key(ctx, &alias, &key_record, password, "--password")?;
    let endpoints: Vec<_> = chains.iter().map(|c| ctx.endpoints(c)).collect::<Result<_, _>>()?;
    let spec = KeySpec { alias: alias.to_string(), secret, parts };
    let (lease, registry) = (lane_lease(ctx.home())?, ctx.chains()?.clone());
    let wallet = block_on(Wallet::connect(endpoints, vec![spec], Some(lease), registry))?
        .map_err(wallet_error)?;
    for chain in chains {
        if let Some(why) = wallet.keys()[0].unusable_reason(chain.id) {
            return Err(CliError::new(
                ErrorKind::Policy,
                "key-revoked",
                format!("the session key cannot act on {chain}: {why}"),
            )
            .with_hint("ask the account owner for a new session key"));
        }
    }
    Ok(wallet)
}

/// The stored session key called `name`, refused (exit 2) unless it acts for `account`.
pub(crate) fn session_key_of(
    ctx: &Context,
    name: &str,
    account: &SmartAccountRecord,
) -> Result<(Alias, SessionKeyRecord), CliError> {
    let alias = ctx.alias(Some(name))?;
    let record = ctx.home().session_keys().get(&alias)?;
    if record.account != account.address {
        return Err(CliError::new(
            ErrorKind::Usage,
            "wrong-account",
            format!(
                "session key {alias} acts for {}, not {}",
                record.smart_account, account.address
            ),
        ));
    }
    Ok((alias, record))
}

/// The account on `chains` as an SDK [`Wallet`] whose one key is its unlocked `owner`
/// (lanes leased from the store).
pub(crate) fn owner_wallet(
    ctx: &Context,
    config: &AccountConfig,
    chains: &[ChainInfo],
    owner: &Owner,
) -> Result<Wallet, CliError> {
    let accounts = connect_accounts(ctx, config, chains)?;
    let signers = chains.iter().map(|c| (c.id, Arc::from(owner.signer(config, c)))).collect();
    let key = WalletKey::owner("owner", signers);
    Wallet::on(accounts, vec![key], Some(lane_lease(ctx.home())?), ctx.chains()?.clone())
        .map_err(wallet_error)
}

/// One owner operation's receipt, or why it did not land (or reverted).
pub(crate) type OwnerResult = Result<UserOperationReceipt, CliError>;

/// Carries out the owner's `work` (the chain's position in `chains`, and its calls):
/// one UserOperation each, chains at once, each on a lane of the wallet's own. Each
/// result is its receipt, or why it did not land or reverted.
pub(crate) fn owner_operations(
    ctx: &Context,
    wallet: &Wallet,
    chains: &[ChainInfo],
    work: Vec<(usize, Vec<namera::kernel::Call>)>,
) -> Result<Vec<(usize, OwnerResult)>, CliError> {
    let requests = work.iter().map(|(i, calls)| Batch {
        chain: chains[*i].id,
        lane: None,
        calls: calls.clone(),
    });
    let spinner = ctx.shell().spinner(format!("sending {} owner operation(s)…", work.len()));
    let outcomes = block_on(wallet.execute_batches(requests.collect()))?;
    drop(spinner);
    Ok(work
        .iter()
        .zip(outcomes)
        .map(|((i, _), outcome)| {
            let chain = chains[*i].alias;
            let result = match outcome {
                Outcome::Landed(l) if l.receipt.success => Ok(l.receipt),
                Outcome::Landed(_) => Err(CliError::new(
                    ErrorKind::Network,
                    "reverted",
                    format!("the owner operation on {chain} reverted"),
                )),
                Outcome::Failed { error, .. } => {
                    Err(CliError::from_action(&error, chain).with_account_hint(wallet.address()))
                }
                Outcome::Skipped { .. } => {
                    Err(CliError::internal("an owner operation was skipped"))
                }
            };
            (*i, result)
        })
        .collect())
}

fn wallet_error(e: WalletError) -> CliError {
    match e {
        WalletError::Connect { source, .. } | WalletError::State { source, .. } => source.into(),
        other => CliError::new(ErrorKind::Other, "corrupt-record", other.to_string()),
    }
}

/// The addresses a command prints for an account.
pub(crate) fn owner_address(record: &SmartAccountRecord) -> Option<Address> {
    match &record.owner {
        OwnerRef::Keystore { address, .. } | OwnerRef::External { address } => Some(*address),
        OwnerRef::Passkey { .. } => None,
    }
}

/// A secp256k1 signer from secret bytes (which the caller keeps zeroized).
pub(crate) fn signer_from(secret: &[u8; 32]) -> Result<PrivateKeySigner, CliError> {
    PrivateKeySigner::from_bytes(&B256::from(*secret))
        .map_err(|e| CliError::new(ErrorKind::Other, "invalid-key", e.to_string()))
}

//! From stored records to SDK values: the account's configuration, its owner's key (after
//! a password), a session key's signers per chain, and accounts connected to chains.
//!
//! Every command that acts goes through here, so a record is interpreted one way.

use alloy_primitives::{Address, B256};
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{OwnerSigner, SessionKeySigner, SmartAccount},
    chain::ChainInfo,
    kernel::{AccountConfig, KernelVersion, RootValidator},
    permission::{Permission, PermissionSigner},
    session_key::{KeyState, SerializedSessionKey, key_state},
};
use namera_store::{
    Alias,
    records::{OwnerRef, SessionKeyRecord, SmartAccountRecord},
};

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

/// The account's configuration: a multi-chain ECDSA root, so one owner signature can
/// approve a session key on every chain.
pub(crate) fn account_config(record: &SmartAccountRecord) -> Result<AccountConfig, CliError> {
    let owner = match &record.owner {
        OwnerRef::Keystore { address, .. } | OwnerRef::External { address } => *address,
        OwnerRef::Passkey { alias } => {
            return Err(CliError::new(
                ErrorKind::Usage,
                "passkey-owner",
                format!(
                    "smart account owned by passkey {alias}: passkey owners are not supported by this command yet"
                ),
            ));
        }
    };
    let config = AccountConfig::new(
        kernel_version(&record.kernel_version)?,
        RootValidator::MultiChainEcdsa { owner },
        record.index,
    );
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

/// The stored smart account called `alias`.
pub(crate) fn account_record(
    ctx: &Context,
    alias: &str,
) -> Result<(Alias, SmartAccountRecord), CliError> {
    let alias = ctx.alias(Some(alias))?;
    let record = ctx.home().smart_accounts().get(&alias)?;
    Ok((alias, record))
}

/// The owner's key, decrypted with its password (exit 4 when the password is wrong).
pub(crate) fn owner_key(
    ctx: &Context,
    record: &SmartAccountRecord,
    password: &PasswordArgs,
) -> Result<PrivateKeySigner, CliError> {
    let (alias, address) = match &record.owner {
        OwnerRef::Keystore { alias, address } => (alias, address),
        OwnerRef::Passkey { .. } => {
            return Err(CliError::new(
                ErrorKind::Usage,
                "passkey-owner",
                "this account is owned by a passkey",
            ));
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
    Ok(key)
}

/// The owner as an operation signer.
pub(crate) fn owner_signer(config: &AccountConfig, key: PrivateKeySigner) -> OwnerSigner {
    OwnerSigner::new(key, config.root.validation_id())
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

/// A session key's decrypted secp256k1 key.
pub(crate) fn session_key(
    ctx: &Context,
    alias: &Alias,
    record: &SessionKeyRecord,
    password: &PasswordArgs,
    flag: &str,
) -> Result<PrivateKeySigner, CliError> {
    // Refused before asking for a password that would not help.
    record.crypto.as_ref().ok_or_else(|| {
        CliError::new(
            ErrorKind::Usage,
            "passkey-signer",
            format!("session key {alias} is signed by a passkey"),
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
) -> Result<PrivateKeySigner, CliError> {
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
    Ok(key)
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
    let _ = ctx;
    let serialized = SerializedSessionKey::from_base64(&entry.serialized).map_err(|e| {
        CliError::new(ErrorKind::Other, "corrupt-record", format!("session key {alias}: {e}"))
    })?;
    let permission =
        serialized.permission(PermissionSigner::Ecdsa(record.key_address)).map_err(|e| {
            CliError::new(ErrorKind::Other, "corrupt-record", format!("session key {alias}: {e}"))
        })?;
    Ok(SessionKeyOnChain {
        serialized,
        permission,
        chain: *chain,
        kernel_nonce: entry.kernel_nonce,
    })
}

/// A signer for the session key on `account`'s chain: plain when the permission is
/// installed, enabling when it is still pending; a revoked key is refused (exit 6)
/// before anything is signed.
pub(crate) fn session_signer(
    key: PrivateKeySigner,
    on: &SessionKeyOnChain,
    account: &SmartAccount,
) -> Result<SessionKeySigner, CliError> {
    let state = key_state(account, on.permission.validation_id())?;
    match state {
        KeyState::Installed { .. } => Ok(SessionKeySigner::installed(key, on.permission.clone())),
        KeyState::PendingFirstUse => {
            let signature = on.serialized.enable_signature.clone().ok_or_else(|| {
                CliError::new(ErrorKind::Other, "corrupt-record", "the key has no enable signature")
            })?;
            Ok(SessionKeySigner::enabling(key, on.permission.clone(), on.kernel_nonce, signature))
        }
        revoked => Err(CliError::new(
            ErrorKind::Policy,
            "key-revoked",
            format!("the session key is no longer valid on {}: {}", on.chain, revoked),
        )
        .with_hint("ask the account owner for a new session key")),
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

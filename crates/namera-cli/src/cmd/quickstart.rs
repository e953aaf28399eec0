//! `namera quickstart`: the whole story in one command, with the chain's evidence at each
//! step: owner key → smart account → session key (call + gas + time window) → an allowed
//! transfer lands → a forbidden one is refused by the chain (policy named) → revoke →
//! refused again.
//!
//! On the local devnet (the default; brought up if not running) the account is funded
//! from anvil's faucet. On another chain the owner key is fresh too, and the command waits
//! for someone to fund the account it prints.

use std::time::Duration;

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use namera::{
    account::{AccountError, OwnerSigner, SmartAccount},
    chain::ChainInfo,
    kernel::{AccountConfig, Call, KernelVersion, LaneKey, RootValidator},
    permission::{Permission, PermissionSigner},
    policy::{CallPermission, CallPolicy, CallPolicyVersion, Policy, PolicyKind},
    session_key::{issue, key_state, revoke_call},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    context::Context,
    error::{CliError, ErrorKind},
    params::CommandInput,
};

const WAIT: Duration = Duration::from_secs(120);

/// `quickstart`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Quickstart {
    /// The chain (default `local`: the devnet, started if needed).
    #[arg(long, value_name = "CHAIN")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chain: Option<String>,
    /// On a chain other than the devnet: how long to wait for the account to be funded
    /// (seconds, default 600).
    #[arg(long, value_name = "SECONDS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fund_timeout: Option<u64>,
}

impl CommandInput for Quickstart {
    type Output = Vec<Step>;
    const NAME: &'static str = "quickstart";
    const EXAMPLE: &'static str = r#"{"chain":"local"}"#;
}

/// One step of the walk and its evidence (`-o ndjson` prints each as it happens).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Step {
    /// The step: `devnet`, `owner key`, `account`, `funded`, `session key`, `allowed`,
    /// `forbidden`, `revoke`, `refused`, `evidence` (and `fund me` off the devnet).
    step: &'static str,
    /// What happened, in words.
    said: String,
    /// The step's transaction, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::values::Hash32>")]
    transaction: Option<String>,
}

/// Prints each step as it happens (NDJSON: one object per step; JSON: all at the end).
struct Story<'a> {
    ctx: &'a Context,
    steps: Vec<Step>,
}

impl Story<'_> {
    fn say(
        &mut self,
        step: &'static str,
        said: String,
        transaction: Option<String>,
    ) -> Result<(), CliError> {
        let s = Step { step, said, transaction };
        if self.ctx.shell().format() != crate::output::OutputFormat::Json {
            self.ctx.shell().emit(&s, |out| match &s.transaction {
                Some(tx) => writeln!(out, "{:<12} {} (tx {tx})", s.step, s.said),
                None => writeln!(out, "{:<12} {}", s.step, s.said),
            })?;
        }
        self.steps.push(s);
        Ok(())
    }
}

impl Quickstart {
    /// Runs the walk.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        let a = ctx.input(&self)?;
        let chain = ctx.chain(a.chain.as_deref().unwrap_or("local"))?;
        let mut story = Story { ctx, steps: Vec::new() };
        walk(ctx, &mut story, &chain, a.fund_timeout.unwrap_or(600))?;
        if ctx.shell().format() == crate::output::OutputFormat::Json {
            ctx.shell().emit(&story.steps, |_| Ok(()))?;
        }
        Ok(())
    }
}

fn walk(
    ctx: &Context,
    story: &mut Story<'_>,
    chain: &ChainInfo,
    fund_timeout: u64,
) -> Result<(), CliError> {
    if chain.alias == "local" && ctx.endpoints(chain).is_err() {
        let _spinner =
            ctx.shell().spinner("starting the devnet (the first run installs anvil and Alto)…");
        let devnet = namera_devnet::up(&namera_devnet::DevnetConfig::new().chain_id(chain.id))?;
        story.say(
            "devnet",
            format!(
                "chain {} at {} (bundler {})",
                devnet.chain_id(),
                devnet.rpc_url(),
                devnet.bundler_url()
            ),
            None,
        )?;
    }
    let client = ctx.connect(chain)?;
    let owner = PrivateKeySigner::random();
    let config = AccountConfig::new(
        KernelVersion::V0_3_1,
        RootValidator::MultiChainEcdsa { owner: owner.address() },
        U256::ZERO,
    );
    let account = SmartAccount::new(config, client);
    story.say(
        "owner key",
        format!("{} (made for this walk; it never leaves this process)", owner.address()),
        None,
    )?;
    story.say(
        "account",
        format!("{} on {chain} (counterfactual: not deployed yet)", account.address()),
        None,
    )?;
    fund(ctx, story, &account, chain, fund_timeout)?;

    // The session key may send at most 0.001 ETH per transfer, to one recipient only,
    // spend at most 0.01 ETH on gas in all, for the next hour.
    let now = account.chain().node.timestamp()?;
    let recipient = PrivateKeySigner::random().address();
    let limit = U256::from(10u64.pow(15));
    let key = PrivateKeySigner::random();
    let policies = vec![
        Policy::new(PolicyKind::Call(CallPolicy {
            version: CallPolicyVersion::V0_0_5,
            permissions: vec![CallPermission::transfer(recipient, limit)],
        })),
        Policy::new(PolicyKind::Gas {
            allowed: 10u128.pow(16),
            enforce_paymaster: false,
            allowed_paymaster: Address::ZERO,
        }),
        Policy::new(PolicyKind::Timestamp {
            valid_after: now.saturating_sub(60),
            valid_until: now + 3600,
        }),
    ];
    let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), policies)
        .map_err(|e| CliError::internal(format!("the walk's policies are invalid: {e}")))?;
    let (_, mut signers) = issue(&owner, &[&account], &permission, &key)?;
    let session = signers.remove(0);
    story.say(
        "session key",
        format!(
            "{} permission {}: transfers ≤ 0.001 ETH to {recipient} only, gas ≤ 0.01 ETH, for 1 hour",
            key.address(),
            permission.id()
        ),
        None,
    )?;

    let allowed = U256::from(10u64.pow(14));
    let spinner = ctx.shell().spinner(
        "sending the allowed transfer (it deploys the account and installs the key on the way)…",
    );
    let r =
        account.execute(&session, &[Call::transfer(recipient, allowed)], LaneKey::DEFAULT, WAIT)?;
    drop(spinner);
    story.say(
        "allowed",
        format!(
            "0.0001 ETH landed in block {}; the recipient holds {} ETH; the account was deployed on the way",
            r.receipt.block_number,
            ether(account.chain().node.balance(recipient)?)
        ),
        Some(format!("{:#x}", r.receipt.transaction_hash)),
    )?;

    let stranger = PrivateKeySigner::random().address();
    match account.execute(&session, &[Call::transfer(stranger, allowed)], LaneKey::DEFAULT, WAIT) {
        Err(e @ AccountError::Refused { .. }) => story.say(
            "forbidden",
            format!(
                "0.0001 ETH to another address refused by the chain: {} policy — {}",
                e.refusing_policy().unwrap_or("?"),
                e.refusal().unwrap_or_default()
            ),
            None,
        )?,
        Ok(r) => {
            return Err(CliError::internal(format!(
                "the forbidden transfer LANDED in {}",
                r.receipt.transaction_hash
            )));
        }
        Err(e) => return Err(e.into()),
    }

    let owner_signer = OwnerSigner::new(owner, account.config().root.validation_id());
    let spinner = ctx.shell().spinner("the owner revokes the key…");
    let r = account.execute(
        &owner_signer,
        &[revoke_call(account.address(), &permission)],
        LaneKey::DEFAULT,
        WAIT,
    )?;
    drop(spinner);
    let state = key_state(&account, permission.validation_id())?;
    story.say(
        "revoke",
        format!("the owner uninstalled the permission; the account now says: {}", state),
        Some(format!("{:#x}", r.receipt.transaction_hash)),
    )?;

    match account.execute(&session, &[Call::transfer(recipient, allowed)], LaneKey::DEFAULT, WAIT) {
        Err(e @ AccountError::KeyRevoked { .. }) => {
            story.say("refused", format!("the same allowed transfer, after revoke: {e}"), None)?
        }
        Ok(r) => {
            return Err(CliError::internal(format!(
                "the revoked key's transfer LANDED in {}",
                r.receipt.transaction_hash
            )));
        }
        Err(e) => return Err(e.into()),
    }
    story.say(
        "evidence",
        format!(
            "the recipient holds {} ETH and the stranger {} ETH: only the allowed transfer landed",
            ether(account.chain().node.balance(recipient)?),
            ether(account.chain().node.balance(stranger)?)
        ),
        None,
    )
}

/// Funds the account: anvil's faucet on the devnet, a person elsewhere.
fn fund(
    ctx: &Context,
    story: &mut Story<'_>,
    account: &SmartAccount,
    chain: &ChainInfo,
    timeout: u64,
) -> Result<(), CliError> {
    let need = U256::from(2 * 10u64.pow(16));
    if chain.alias == "local" {
        let _: serde_json::Value = account.chain().node.rpc().call(
            "anvil_setBalance",
            serde_json::json!([account.address(), U256::from(10u64.pow(18))]),
        )?;
        return story.say("funded", "1 ETH from the devnet's faucet".into(), None);
    }
    story.say(
        "fund me",
        format!(
            "send at least {} ETH on {chain} to {}; waiting up to {timeout} s",
            ether(need),
            account.address()
        ),
        None,
    )?;
    let _spinner = ctx.shell().spinner("waiting for funds…");
    let deadline = std::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let balance = account.chain().node.balance(account.address())?;
        if balance >= need {
            return story.say("funded", format!("{} ETH arrived", ether(balance)), None);
        }
        if std::time::Instant::now() >= deadline {
            return Err(CliError::new(
                ErrorKind::Network,
                "not-funded",
                format!(
                    "{} holds {} ETH after {timeout} s; it needs {}",
                    account.address(),
                    ether(balance),
                    ether(need)
                ),
            ));
        }
        std::thread::sleep(Duration::from_secs(3));
    }
}

/// Wei as ether with no trailing zeros (`0.0001`, `1.0`).
fn ether(wei: U256) -> String {
    let text = alloy_primitives::utils::format_ether(wei);
    let trimmed = text.trim_end_matches('0');
    if trimmed.ends_with('.') { format!("{trimmed}0") } else { trimmed.to_owned() }
}

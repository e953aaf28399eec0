//! `namera tx send|batch`: calls from a smart account, signed by its owner or by a
//! session key; one batch is one UserOperation, atomic and in order; batches on
//! different lanes or chains go in parallel.

use std::io::Write;

use clap::{Args, Subcommand};
use namera::{
    chain::ChainInfo,
    kernel::{Call, LaneKey},
    transaction::Batch,
    wallet::{ActionError, Outcome},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    context::Context,
    error::{CliError, ErrorKind},
    params::{CommandInput, help_example},
    secret::PasswordArgs,
    values::{AddressArg, AmountArg, HexArg},
    wallet,
};

/// The `tx` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TxCommand {
    /// Send one batch of calls as one UserOperation and wait for its receipt.
    #[command(after_help = help_example::<Send>())]
    Send(Send),
    /// Send several batches (lanes, chains) from JSON; each gets its own result.
    #[command(after_help = help_example::<BatchArgs>())]
    Batch(BatchArgs),
}

impl TxCommand {
    /// Runs the subcommand.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        match self {
            Self::Send(a) => send(ctx, &ctx.input(&a)?),
            Self::Batch(a) => batch(ctx, &ctx.input(&a)?),
        }
    }
}

/// One call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallArg {
    /// The contract or account called.
    pub(crate) to: AddressArg,
    /// Native value sent with it (wei, or with a unit: `0.01ether`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) value: AmountArg,
    /// Call data (default empty: a plain transfer).
    #[serde(default, skip_serializing_if = "is_empty")]
    pub(crate) data: HexArg,
}

fn is_zero(a: &AmountArg) -> bool {
    a.0.is_zero()
}

fn is_empty(h: &HexArg) -> bool {
    h.0.is_empty()
}

impl CallArg {
    pub(crate) fn call(&self) -> Call {
        Call { to: self.to.0, value: self.value.0, data: self.data.0.clone() }
    }
}

/// A lane: a name (hashed to a 16-bit key) or a number 0–65535.
///
/// Digits are always a number: `70000` is refused as out of range, never hashed as the
/// name "70000" (which would put the operation on some other, unrelated lane).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum LaneArg {
    /// A lane number.
    Number(u16),
    /// A lane name.
    Name(String),
}

impl LaneArg {
    fn number(n: &str) -> Result<Self, String> {
        n.parse::<u16>().map(Self::Number).map_err(|_| {
            format!("lane {n} is out of range: a lane number is 0–65535 (or give a name)")
        })
    }
}

impl std::str::FromStr for LaneArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err("a lane name cannot be empty".into());
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return Self::number(s);
        }
        Ok(Self::Name(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for LaneArg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => s.parse().map_err(D::Error::custom),
            serde_json::Value::Number(n) => Self::number(&n.to_string()).map_err(D::Error::custom),
            other => {
                Err(D::Error::custom(format!("a lane is a number 0–65535 or a name, not {other}")))
            }
        }
    }
}

impl LaneArg {
    /// The lane's key; `None` when none was given (the wallet then takes a lane of its
    /// own, leased from the store, so that no other process acting for the account
    /// sends on it).
    pub(crate) fn key(lane: Option<&Self>) -> Option<LaneKey> {
        lane.map(|l| match l {
            Self::Number(n) => LaneKey(*n),
            Self::Name(name) => LaneKey::from_name(name),
        })
    }
}

/// One batch's calls, as `tx send` and `policy check` take them: one call by flags, or
/// several in `calls` (JSON), and the lane.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct CallsInput {
    /// A single call's target (or give `calls`).
    #[arg(long, value_name = "ADDRESS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) to: Option<AddressArg>,
    /// A single call's value (wei, or `0.01ether`, `5gwei`).
    #[arg(long, value_name = "AMOUNT")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<AmountArg>,
    /// A single call's data.
    #[arg(long, value_name = "HEX")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) data: Option<HexArg>,
    /// The calls, executed atomically and in order (JSON only).
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) calls: Vec<CallArg>,
    /// The lane: operations on different lanes do not wait for each other (default: a
    /// lane of the command's own, leased from the store, which no other process acting
    /// for the account uses).
    #[arg(long, value_name = "LANE")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lane: Option<LaneArg>,
}

impl CallsInput {
    /// The calls, from whichever way they were given (exactly one way).
    pub(crate) fn calls(&self, command: &str) -> Result<Vec<Call>, CliError> {
        if self.to.is_none() && (self.value.is_some() || self.data.is_some()) {
            return Err(CliError::new(
                ErrorKind::Usage,
                "missing-input",
                "--value and --data belong to --to",
            ));
        }
        match (self.to, self.calls.is_empty()) {
            (Some(_), false) => Err(CliError::new(
                ErrorKind::Usage,
                "conflicting-input",
                "give either --to (one call) or `calls`, not both",
            )),
            (None, true) => Err(CliError::new(
                ErrorKind::Usage,
                "missing-input",
                format!("{command} needs --to (one call) or `calls` in --params"),
            )),
            (Some(to), true) => Ok(vec![Call {
                to: to.0,
                value: self.value.unwrap_or_default().0,
                data: self.data.clone().unwrap_or_default().0,
            }]),
            (None, false) => Ok(self.calls.iter().map(CallArg::call).collect()),
        }
    }

    /// The lane key, the default lane when none was given (judging a batch does not
    /// depend on its lane; sending does, see [`LaneArg::key`]).
    pub(crate) fn lane(&self) -> LaneKey {
        LaneArg::key(self.lane.as_ref()).unwrap_or_default()
    }
}

/// `tx send`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Send {
    /// The smart account that acts.
    #[arg(long, value_name = "ACCOUNT")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) smart_account: Option<String>,
    /// Sign with this session key (its policies apply); without it, the owner signs.
    #[arg(long, value_name = "KEY")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session_key: Option<String>,
    /// The chain (default: the account's only chain).
    #[arg(long, value_name = "CHAIN")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chain: Option<String>,
    /// What to call.
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) batch: CallsInput,
    /// The signing key's password (the owner's keystore, or the session key's).
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) password: PasswordArgs,
}

impl CommandInput for Send {
    type Output = BatchResult;
    const NAME: &'static str = "tx.send";
    const REQUIRED: &'static [&'static str] = &["smart_account"];
    const EXAMPLE: &'static str = r#"{"smart_account":"treasury","session_key":"agent","chain":"local","calls":[{"to":"0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A","value":"0.0001ether"}],"password_env":"AGENT_PASSWORD"}"#;
}

/// One batch of `tx batch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchArg {
    /// The chain it runs on.
    pub(crate) chain: String,
    /// Its lane (default: one lane of the command's own, leased from the store and
    /// shared by every batch without one, in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lane: Option<LaneArg>,
    /// Its calls, atomic and in order.
    pub(crate) calls: Vec<CallArg>,
}

/// `tx batch`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct BatchArgs {
    /// The smart account that acts.
    #[arg(long, value_name = "ACCOUNT")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) smart_account: Option<String>,
    /// Sign with this session key; without it, the owner signs.
    #[arg(long, value_name = "KEY")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session_key: Option<String>,
    /// The batches (JSON only): one UserOperation each.
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) batches: Vec<BatchArg>,
    /// The signing key's password.
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) password: PasswordArgs,
}

impl CommandInput for BatchArgs {
    type Output = Vec<BatchResult>;
    const NAME: &'static str = "tx.batch";
    const REQUIRED: &'static [&'static str] = &["smart_account", "batches"];
    const EXAMPLE: &'static str = r#"{"smart_account":"treasury","batches":[{"chain":"local","lane":"payroll","calls":[{"to":"0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A","value":"1000"}]},{"chain":"local","lane":"fees","calls":[{"to":"0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A","value":"2000"}]}],"password_env":"OWNER_PASSWORD"}"#;
}

/// One batch's result: its receipt when it landed, its error when it did not.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchResult {
    /// The batch's position in the input (0 for `tx send`).
    index: usize,
    /// The chain (alias).
    chain: String,
    /// The lane's 16-bit nonce key.
    lane: u16,
    /// The UserOperation's hash; null when it was never sent.
    #[schemars(with = "Option<crate::values::Hash32>")]
    user_op_hash: Option<String>,
    /// The transaction that included it; null when it did not land.
    #[schemars(with = "Option<crate::values::Hash32>")]
    transaction: Option<String>,
    /// The block number it landed in.
    #[schemars(with = "Option<crate::values::Decimal>")]
    block: Option<String>,
    /// Whether its calls succeeded (false: landed but reverted, the gas paid).
    success: Option<bool>,
    /// What the account paid for gas, in wei.
    #[schemars(with = "Option<crate::values::Decimal>")]
    actual_gas_cost_wei: Option<String>,
    /// Why it did not land; null when it did.
    error: Option<CliError>,
}

impl BatchResult {
    /// The result of batch `index` on `chain`, from the wallet's outcome.
    fn of(index: usize, outcome: &Outcome, chain: &str) -> (Self, Option<CliError>) {
        let (lane, landed, hash, error) = match outcome {
            Outcome::Landed(l) => (l.lane, Some(l.as_ref()), Some(l.hash), None),
            Outcome::Failed { lane, error } => {
                let hash = match error {
                    ActionError::Dropped(h) => Some(*h),
                    _ => None,
                };
                (*lane, None, hash, Some(CliError::from_action(error, chain)))
            }
            Outcome::Skipped { lane, after } => (
                *lane,
                None,
                None,
                Some(CliError::new(
                    ErrorKind::Other,
                    "skipped",
                    format!("not sent on {chain}: batch {after} before it on the same lane failed"),
                )),
            ),
        };
        let receipt = landed.map(|l| &l.receipt);
        let result = Self {
            index,
            chain: chain.to_owned(),
            lane: lane.0,
            user_op_hash: hash.map(|h| format!("{h:#x}")),
            transaction: receipt.map(|r| format!("{:#x}", r.receipt.transaction_hash)),
            block: receipt.map(|r| r.receipt.block_number.to_string()),
            success: receipt.map(|r| r.success),
            actual_gas_cost_wei: receipt.map(|r| r.actual_gas_cost.to_string()),
            error: error.clone(),
        };
        (result, error)
    }

    fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match (&self.transaction, &self.error) {
            (Some(tx), _) => {
                let status =
                    if self.success == Some(true) { "landed" } else { "landed but REVERTED" };
                writeln!(
                    out,
                    "batch {} on {} lane {}: {status}",
                    self.index, self.chain, self.lane
                )?;
                writeln!(out, "  userOp  {}", self.user_op_hash.as_deref().unwrap_or("-"))?;
                writeln!(out, "  tx      {tx} (block {})", self.block.as_deref().unwrap_or("-"))?;
                writeln!(
                    out,
                    "  paid    {} wei",
                    self.actual_gas_cost_wei.as_deref().unwrap_or("-")
                )
            }
            (None, Some(e)) => {
                let msg = e.message();
                writeln!(out, "batch {} on {} lane {}: {msg}", self.index, self.chain, self.lane)
            }
            (None, None) => writeln!(out, "batch {}: no result", self.index),
        }
    }
}

fn default_chain(ctx: &Context, account: &str, given: Option<&str>) -> Result<ChainInfo, CliError> {
    if let Some(name) = given {
        return ctx.chain(name);
    }
    let (alias, record) = wallet::account_record(ctx, account)?;
    match record.chains.as_slice() {
        [only] => ctx.chain(only),
        _ => Err(CliError::new(
            ErrorKind::Usage,
            "missing-input",
            format!(
                "smart account {alias} is on {}: say which with --chain",
                record.chains.join(", ")
            ),
        )),
    }
}

fn send(ctx: &Context, a: &Send) -> Result<(), CliError> {
    let account = a.smart_account.as_deref().unwrap_or_default();
    let chain = default_chain(ctx, account, a.chain.as_deref())?;
    let calls = a.batch.calls("tx send")?;
    let request = Batch { chain: chain.id, lane: LaneArg::key(a.batch.lane.as_ref()), calls };
    let wallet =
        wallet::connect_wallet(ctx, account, a.session_key.as_deref(), &[chain], &a.password)?;
    let spinner = ctx.shell().spinner(format!("sending on {chain}…"));
    let outcome = wallet::block_on(wallet.execute_batches(vec![request]))?.remove(0);
    drop(spinner);
    let (result, error) = BatchResult::of(0, &outcome, chain.alias);
    if let Some(e) = error {
        return Err(e);
    }
    ctx.shell().emit(&result, |out| result.write(out))?;
    if result.success == Some(false) {
        return Err(CliError::new(
            ErrorKind::Network,
            "reverted",
            "the operation landed but its calls reverted (the account paid the gas)",
        ));
    }
    Ok(())
}

fn batch(ctx: &Context, a: &BatchArgs) -> Result<(), CliError> {
    let account = a.smart_account.as_deref().unwrap_or_default();
    if a.batches.is_empty() {
        return Err(CliError::new(
            ErrorKind::Usage,
            "missing-input",
            "tx batch needs at least one batch",
        ));
    }
    let mut chains: Vec<ChainInfo> = Vec::new();
    let mut requests = Vec::new();
    for (i, b) in a.batches.iter().enumerate() {
        let chain = ctx.chain(&b.chain)?;
        if b.calls.is_empty() {
            return Err(CliError::new(
                ErrorKind::Usage,
                "invalid-params",
                format!("batches[{i}] has no calls"),
            ));
        }
        if !chains.contains(&chain) {
            chains.push(chain);
        }
        requests.push(Batch {
            chain: chain.id,
            lane: LaneArg::key(b.lane.as_ref()),
            calls: b.calls.iter().map(CallArg::call).collect(),
        });
    }
    let wallet =
        wallet::connect_wallet(ctx, account, a.session_key.as_deref(), &chains, &a.password)?;
    let spinner = ctx.shell().spinner(format!("sending {} batch(es)…", requests.len()));
    let outcomes = wallet::block_on(wallet.execute_batches(requests.clone()))?;
    drop(spinner);
    let mut results = Vec::new();
    let mut first_error = None;
    for (index, (o, r)) in outcomes.iter().zip(&requests).enumerate() {
        let chain = chains.iter().find(|c| c.id == r.chain).map_or("?", |c| c.alias);
        let (result, error) = BatchResult::of(index, o, chain);
        if first_error.is_none() {
            first_error = error;
        }
        results.push(result);
    }
    ctx.shell().emit_list(&results, |out| results.iter().try_for_each(|r| r.write(out)))?;
    match first_error {
        Some(e) => Err(e.with_hint("the results of every batch are on stdout")),
        None => Ok(()),
    }
}

//! `namera policy check`: would this batch pass this session key, and if not, which
//! policy refuses and why — without sending anything.

use alloy_signer_local::PrivateKeySigner;
use clap::{Args, Subcommand};
use namera::{
    account::AccountError,
    account::SessionKey,
    kernel::{ExecType, UserOperation, encode_calls},
    passkey::SoftwarePasskey,
    policy::Verdict,
    session_key::explain_operation,
};
use namera_store::records::SignerRef;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::tx::CallsInput;
use crate::{
    context::Context,
    error::{CliError, ErrorKind},
    output::Paint,
    params::{CommandInput, help_example},
    wallet,
};

/// The `policy` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Would this batch pass the session key's policies now? Reads the chain's time and
    /// the live budgets, and simulates with the bundler; sends nothing. Exit 6 when a
    /// policy refuses.
    #[command(after_help = help_example::<Check>())]
    Check(Check),
}

impl PolicyCommand {
    /// Runs the subcommand.
    pub(crate) fn run(self, ctx: &Context) -> Result<(), CliError> {
        match self {
            Self::Check(a) => check(ctx, &ctx.input(&a)?),
        }
    }
}

/// `policy check`.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Check {
    /// The session key to check against.
    #[arg(long, value_name = "KEY")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session_key: Option<String>,
    /// The chain (default: the key's only chain).
    #[arg(long, value_name = "CHAIN")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chain: Option<String>,
    /// The batch to judge.
    #[command(flatten)]
    #[serde(flatten)]
    pub(crate) batch: CallsInput,
}

impl CommandInput for Check {
    type Output = CheckView;
    const NAME: &'static str = "policy.check";
    const REQUIRED: &'static [&'static str] = &["session_key"];
    const EXAMPLE: &'static str = r#"{"session_key":"agent","chain":"local","calls":[{"to":"0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A","value":"1000"}]}"#;
}

/// One policy's verdict.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerdictView {
    /// The policy's position among the key's policies (0-based, as `policies[i]` and
    /// the chain's `PolicyFailed(i)` count).
    index: usize,
    /// The policy's type (`call`, `gas`, `timestamp`…).
    policy: &'static str,
    /// Whether it lets the batch through.
    passes: bool,
    /// Why it refuses, in words; null when it passes.
    refusal: Option<String>,
    /// What is left of its budget, in words, for policies that have one.
    budget: Option<String>,
}

impl From<&Verdict> for VerdictView {
    fn from(v: &Verdict) -> Self {
        Self {
            index: v.index,
            policy: v.policy,
            passes: v.passes(),
            refusal: v.refusal.clone(),
            budget: v.budget.clone(),
        }
    }
}

/// Whether a batch would pass a session key's policies, policy by policy (also printed,
/// with exit 6, when it would not).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckView {
    /// The session key's alias.
    session_key: String,
    /// The chain (alias).
    chain: String,
    /// Whether every policy and the bundler's simulation pass.
    passes: bool,
    /// Each policy's verdict, in the key's order.
    policies: Vec<VerdictView>,
    /// What the bundler's simulation said: `passes` (it estimated the operation and no
    /// policy refuses), `estimated, but policies[i] (type) refuses` (it estimated the
    /// operation, which a policy would still refuse on chain), or `refused: …` (it
    /// would not estimate it, and why).
    simulation: String,
    /// The most the operation may cost its payer, in wei (gas limits × max fee per
    /// gas): the figure a gas policy charges, to size one. Null when the bundler could
    /// not estimate the operation.
    #[schemars(with = "Option<crate::values::Decimal>")]
    estimated_cost: Option<String>,
}

fn check(ctx: &Context, a: &Check) -> Result<(), CliError> {
    let alias = ctx.alias(a.session_key.as_deref())?;
    let record = ctx.home().session_keys().get(&alias)?;
    let chain = match (&a.chain, record.chains.as_slice()) {
        (Some(name), _) => ctx.chain(name)?,
        (None, [only]) => ctx.chain(&only.chain)?,
        (None, _) => {
            return Err(CliError::new(
                ErrorKind::Usage,
                "missing-input",
                "the key is on several chains: say which with --chain",
            ));
        }
    };
    let calls = a.batch.calls("policy check")?;
    let (_, account_record) = wallet::account_record(ctx, record.smart_account.as_str())?;
    let config = wallet::account_config(ctx, &account_record)?;
    let on = wallet::session_key_on(ctx, &alias, &record, &chain)?;
    let account = wallet::connect_accounts(ctx, &config, &[chain])?.remove(0);
    // The key's secret is not needed to judge: a stand-in key of the same kind gives the
    // same nonce key and stub signature, and nothing is signed or sent.
    let stand_in_key = match &record.signer {
        SignerRef::Ecdsa => SessionKey::Ecdsa(PrivateKeySigner::random()),
        SignerRef::Passkey { .. } => {
            SessionKey::Passkey(std::sync::Arc::new(SoftwarePasskey::generate("localhost")?))
        }
    };
    let stand_in = wallet::session_signer(stand_in_key, &on, &account)?;
    let lane = a.batch.lane();
    // When the bundler refuses to estimate, the operation's gas is unknown and explain
    // judges it with none: budgets then look untouched. The simulation's refusal (and the
    // policy it names) is what counts then.
    let (op, simulation, simulation_policy) = match account.prepare(&stand_in, &calls, lane) {
        Ok(op) => (op, "estimated".to_owned(), None),
        Err(e @ AccountError::Refused { .. }) => {
            let call_data = encode_calls(account.address(), &calls, false, ExecType::Default)?;
            let op = UserOperation { sender: account.address(), call_data, ..Default::default() };
            (op, format!("refused: {}", e.refusal().unwrap_or_default()), e.refusing_policy())
        }
        Err(e) => return Err(e.into()),
    };
    let verdicts = explain_operation(&account, &on.permission, &op)?;
    let estimated = simulation == "estimated";
    let estimated_cost = estimated.then(|| op.max_cost().to_string());
    // The simulation's word must not contradict the verdict: an estimate is not a pass
    // when a policy refuses (the bundler's estimate does not judge every policy).
    let simulation = match (estimated, namera::policy::chain_refusal(&verdicts)) {
        (true, None) => "passes".to_owned(),
        (true, Some(v)) => {
            format!("estimated, but policies[{}] ({}) refuses", v.index, v.policy)
        }
        (false, _) => simulation,
    };
    let passes = verdicts.iter().all(Verdict::passes) && simulation == "passes";
    let view = CheckView {
        session_key: alias.to_string(),
        chain: chain.alias.to_owned(),
        passes,
        policies: verdicts.iter().map(VerdictView::from).collect(),
        simulation,
        estimated_cost,
    };
    ctx.shell().emit(&view, |out| {
        let shell = ctx.shell();
        let verdict = if view.passes {
            shell.paint_out(Paint::Good, "would pass")
        } else {
            shell.paint_out(Paint::Bad, "would be REFUSED")
        };
        writeln!(out, "session key {} on {}: {verdict}", view.session_key, view.chain)?;
        for v in &view.policies {
            let mark = if v.passes {
                shell.paint_out(Paint::Good, "ok ")
            } else {
                shell.paint_out(Paint::Bad, "NO ")
            };
            write!(out, "  {mark} policies[{}] {}", v.index, v.policy)?;
            if let Some(r) = &v.refusal {
                write!(out, ": {r}")?;
            }
            if let Some(b) = &v.budget {
                write!(out, " ({b})")?;
            }
            writeln!(out)?;
        }
        writeln!(out, "  bundler simulation: {}", view.simulation)?;
        if let Some(cost) = &view.estimated_cost {
            let wei = cost.parse().unwrap_or_default();
            writeln!(out, "  estimated cost: at most {}", namera::policy::wei_in_words(wei))?;
        }
        Ok(())
    })?;
    if passes {
        return Ok(());
    }
    // The refusal the chain would report: the first outright failure in installation
    // order, else the first closed time window.
    let first = namera::policy::chain_refusal(&verdicts);
    let (message, policy) = match first {
        Some(v) => (
            format!(
                "policies[{}] ({}) would refuse: {}",
                v.index,
                v.policy,
                v.refusal.as_deref().unwrap_or("refused")
            ),
            Some(v.policy),
        ),
        None => (format!("the bundler's simulation {}", view.simulation), simulation_policy),
    };
    Err(CliError::new(ErrorKind::Policy, "policy-refused", message).with_policy(policy))
}

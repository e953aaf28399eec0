//! The tools: their input and output types (the JSON Schemas are derived from them) and
//! what each does over the SDK's [`Wallet`], as rmcp tools (`#[tool_router]`).
//!
//! Every input is parsed here, at the edge, into SDK types; a bad input is answered as a
//! tool error that says what is wrong, so the agent can fix its request.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, sol};
use namera::{
    kernel::{Call, LaneKey},
    transaction::Batch,
    wallet::{ActionError, KeyVerdict, Landed, Outcome, Wallet, unblock},
};
use rmcp::{
    handler::server::{
        tool::IntoCallToolResult,
        wrapper::{Json, Parameters},
    },
    model::{CallToolResponse, CallToolResult, ContentBlock},
    tool, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    abi,
    amount::{Unit, format_units, parse_units},
    describe,
    server::NameraServer,
};

sol! {
    interface IERC20 {
        function balanceOf(address owner) external view returns (uint256);
        function decimals() external view returns (uint8);
        function symbol() external view returns (string);
        function transfer(address to, uint256 amount) external returns (bool);
    }
}

const ADDRESS_PATTERN: &str = "^0x[0-9a-fA-F]{40}$";

// ---------------------------------------------------------------------------------------
// Inputs

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

/// Which balance to read.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetBalanceInput {
    /// The chain (alias such as `base-sepolia`, or chain id); optional when the wallet
    /// is on one chain.
    pub chain: Option<String>,
    /// An ERC-20 token's address; omit for the native token.
    #[schemars(extend("pattern" = ADDRESS_PATTERN))]
    pub token: Option<String>,
    /// Whose balance; omit for the wallet's own.
    #[schemars(extend("pattern" = ADDRESS_PATTERN))]
    pub address: Option<String>,
}

/// A contract read.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadContractInput {
    /// The chain (alias or id); optional when the wallet is on one chain.
    pub chain: Option<String>,
    /// The contract.
    #[schemars(extend("pattern" = ADDRESS_PATTERN))]
    pub address: String,
    /// A human-readable signature, e.g. `"balanceOf(address) view returns (uint256)"`.
    /// Give this or `abi`.
    pub signature: Option<String>,
    /// A JSON ABI: one function fragment, or a whole ABI array together with
    /// `function`. Give this or `signature`.
    pub abi: Option<Value>,
    /// The function's name, when `abi` is a whole ABI.
    pub function: Option<String>,
    /// The arguments in order. Integers as decimal strings (or small JSON numbers),
    /// addresses and bytes as 0x-hex, arrays and tuples as JSON arrays.
    #[serde(default)]
    pub args: Vec<Value>,
}

/// A native-token transfer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NativeTransferInput {
    /// The chain (alias or id); optional when the wallet is on one chain.
    pub chain: Option<String>,
    /// The recipient.
    #[schemars(extend("pattern" = ADDRESS_PATTERN))]
    pub to: String,
    /// The amount as a plain decimal number in `unit` (e.g. `"0.05"`); parsed exactly.
    #[schemars(extend("pattern" = r"^[0-9]*\.?[0-9]*$"))]
    pub amount: String,
    /// The unit of `amount`.
    #[serde(default)]
    pub unit: Unit,
}

/// Whose balance of one ERC-20 token.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBalanceInput {
    /// The chain (alias or id); optional when the wallet is on one chain.
    pub chain: Option<String>,
    /// The ERC-20: its address, or the symbol of a well-known token on the chain (`USDC`).
    pub token: String,
    /// Whose balance; omit for the wallet's own.
    #[schemars(extend("pattern" = ADDRESS_PATTERN))]
    pub owner: Option<String>,
}

/// An ERC-20 transfer from the wallet, in the token's own units.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Erc20TransferInput {
    /// The chain (alias or id); optional when the wallet is on one chain.
    pub chain: Option<String>,
    /// The ERC-20: its address, or the symbol of a well-known token on the chain (`USDC`).
    pub token: String,
    /// The recipient.
    #[schemars(extend("pattern" = ADDRESS_PATTERN))]
    pub to: String,
    /// The amount in whole tokens, as a plain decimal number (`"12.5"`); the token's
    /// `decimals()` say what that is in base units, and more decimals than it has are refused.
    #[schemars(extend("pattern" = r"^[0-9]*\.?[0-9]*$"))]
    pub amount: String,
}

/// One call of a batch.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallInput {
    /// The called address.
    #[schemars(extend("pattern" = ADDRESS_PATTERN))]
    pub to: String,
    /// Native value to send with it, in wei, as a decimal string.
    #[schemars(extend("pattern" = "^[0-9]+$"))]
    pub value: Option<String>,
    /// Call data as 0x-hex (omit for a plain transfer).
    #[schemars(extend("pattern" = "^0x([0-9a-fA-F]{2})*$"))]
    pub data: Option<String>,
}

/// One UserOperation: calls that run atomically and in order.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchInput {
    /// The chain (alias or id); optional when the wallet is on one chain.
    pub chain: Option<String>,
    /// A lane name (or number 0-65535): batches on one lane run in order, different lanes
    /// run at once. Omitted: the request's own fresh lane, shared by its unnamed batches.
    pub lane: Option<String>,
    /// The calls.
    #[schemars(length(min = 1))]
    pub calls: Vec<CallInput>,
}

/// Batches to carry out (or to check).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchesInput {
    /// The batches, each one UserOperation.
    #[schemars(length(min = 1, max = 64))]
    pub batches: Vec<BatchInput>,
}

/// A UserOperation to look up.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// The chain (alias or id); optional when the wallet is on one chain.
    pub chain: Option<String>,
    /// The UserOperation hash (0x and 64 hex digits).
    #[schemars(extend("pattern" = "^0x[0-9a-fA-F]{64}$"))]
    pub hash: String,
}

// ---------------------------------------------------------------------------------------
// Outputs

/// The wallet's address.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WalletAddress {
    /// The smart account (the same on every chain).
    pub address: String,
    /// The chains it is used on.
    pub chains: Vec<ChainSummary>,
}

/// A chain of the wallet.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChainSummary {
    /// Chain id.
    pub chain_id: u64,
    /// Alias (or the id when it has none).
    pub name: String,
    /// Whether the account has code there yet (it deploys with its first operation).
    pub deployed: bool,
}

/// A balance.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Balance {
    /// Chain id.
    pub chain_id: u64,
    /// Whose.
    pub address: String,
    /// The token, or null for the native token.
    pub token: Option<String>,
    /// Its symbol.
    pub symbol: String,
    /// Its decimals.
    pub decimals: u8,
    /// In the smallest unit, as a decimal string.
    pub raw: String,
    /// With decimals, e.g. `"1.5"`.
    pub formatted: String,
}

/// A contract read's result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReadResult {
    /// Chain id.
    pub chain_id: u64,
    /// The contract.
    pub address: String,
    /// The function's signature.
    pub function: String,
    /// The outputs in order (integers as decimal strings).
    pub result: Vec<Value>,
}

/// What happened to one batch.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BatchResult {
    /// Its position in the request.
    pub index: usize,
    /// Chain id (null when the chain was not understood).
    pub chain_id: Option<u64>,
    /// The lane (nonce key) it used.
    pub lane: Option<u16>,
    /// `landed` (executed), `reverted` (included, execution failed), `refused` (no key
    /// allows it: nothing sent), `failed` (sending or waiting failed) or `skipped` (an
    /// earlier batch on its lane failed).
    pub status: String,
    /// The session key that signed it.
    pub key: Option<String>,
    /// The UserOperation hash.
    pub user_op_hash: Option<String>,
    /// The bundle transaction.
    pub transaction_hash: Option<String>,
    /// Its block.
    pub block_number: Option<u64>,
    /// What the operation cost, in wei.
    pub gas_cost_wei: Option<String>,
    /// Why it did not land.
    pub error: Option<String>,
    /// For refusals: every key considered and its refusing policies.
    pub refusals: Option<Vec<KeyVerdict>>,
}

/// Outcomes of `execute_transaction`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExecuteResult {
    /// Whether every batch landed and executed.
    pub all_succeeded: bool,
    /// One entry per batch, in request order.
    pub batches: Vec<BatchResult>,
}

/// A landed transfer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TransferResult {
    /// Chain id.
    pub chain_id: u64,
    /// The recipient.
    pub to: String,
    /// The amount, in wei.
    pub amount_wei: String,
    /// How it landed.
    #[serde(flatten)]
    pub landed: LandedOperation,
}

/// A landed ERC-20 transfer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Erc20TransferResult {
    /// Chain id.
    pub chain_id: u64,
    /// The token.
    pub token: String,
    /// Its symbol.
    pub symbol: String,
    /// Its decimals.
    pub decimals: u8,
    /// The recipient.
    pub to: String,
    /// The amount in base units, as a decimal string.
    pub raw: String,
    /// The amount with decimals, e.g. `"12.5"`.
    pub formatted: String,
    /// How it landed.
    #[serde(flatten)]
    pub landed: LandedOperation,
}

/// How a transfer landed: the key, lane, hashes, block and cost.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LandedOperation {
    /// The session key that signed it.
    pub key: String,
    /// The lane it used.
    pub lane: u16,
    /// The UserOperation hash.
    pub user_op_hash: String,
    /// The bundle transaction.
    pub transaction_hash: String,
    /// Its block.
    pub block_number: u64,
    /// What the operation cost, in wei.
    pub gas_cost_wei: String,
}

/// What the session keys may do.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Permissions {
    /// The smart account.
    pub wallet: String,
    /// Each session key.
    pub keys: Vec<KeyInfo>,
}

/// One session key.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KeyInfo {
    /// Its alias.
    pub alias: String,
    /// The key's own address (null for a passkey session key).
    pub key_address: Option<String>,
    /// Its permission id.
    pub permission_id: String,
    /// When it stops working (UTC), from its timestamp policy; null: no end.
    pub valid_until: Option<String>,
    /// Every policy, in words.
    pub policies: Vec<PolicyInfo>,
    /// Where it can act.
    pub chains: Vec<KeyChain>,
}

/// A policy in words.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PolicyInfo {
    /// Position in the permission.
    pub index: usize,
    /// Type.
    pub policy: String,
    /// What it allows.
    pub words: String,
}

/// A key on one chain.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KeyChain {
    /// Chain id.
    pub chain_id: u64,
    /// Alias.
    pub name: String,
    /// Whether the server can act with it here.
    pub usable: bool,
    /// Its state, in words.
    pub state: String,
    /// Budgets left (gas, uses), in words.
    pub budgets: Vec<String>,
}

/// "Would this pass?" for each batch.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckResult {
    /// Whether every batch would pass.
    pub all_pass: bool,
    /// One per batch.
    pub batches: Vec<CheckBatch>,
}

/// One batch's check.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckBatch {
    /// Position in the request.
    pub index: usize,
    /// Chain id.
    pub chain_id: u64,
    /// Whether a key's policies allow it.
    pub would_pass: bool,
    /// The key that would sign it.
    pub key: Option<String>,
    /// Every key's verdict, narrowest first.
    pub keys: Vec<KeyVerdict>,
}

/// Where a UserOperation stands.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Status {
    /// Chain id.
    pub chain_id: u64,
    /// The UserOperation hash.
    pub hash: String,
    /// `included`, `pending` (the bundler holds it) or `unknown`.
    pub status: String,
    /// For included operations: whether the execution succeeded.
    pub success: Option<bool>,
    /// The bundle transaction.
    pub transaction_hash: Option<String>,
    /// Its block.
    pub block_number: Option<u64>,
    /// What it cost, in wei.
    pub gas_cost_wei: Option<String>,
}

// ---------------------------------------------------------------------------------------
// The tools, on rmcp's router

#[tool_router(vis = "pub(crate)")]
impl NameraServer {
    /// The smart account's address and the chains it is used on.
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_wallet_address(
        &self,
        Parameters(i): Parameters<NoInput>,
    ) -> Result<Json<WalletAddress>, ToolFailure> {
        let w = self.wallet().await?;
        Ok(Json(unblock(move || get_wallet_address(&w, i)).await?))
    }

    /// The native balance, or an ERC-20 token's (given its address), with decimals and symbol.
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_balance(
        &self,
        Parameters(i): Parameters<GetBalanceInput>,
    ) -> Result<Json<Balance>, ToolFailure> {
        let w = self.wallet().await?;
        Ok(Json(unblock(move || get_balance(&w, i)).await?))
    }

    /// An ERC-20 balance (the wallet's, or `owner`'s) in base units and with the token's decimals and symbol.
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_token_balance(
        &self,
        Parameters(i): Parameters<TokenBalanceInput>,
    ) -> Result<Json<Balance>, ToolFailure> {
        let w = self.wallet().await?;
        Ok(Json(unblock(move || get_token_balance(&w, i)).await?))
    }

    /// Send an ERC-20 in whole tokens ("12.5"), signed by a session key whose policies allow it; waits for the receipt. A budget's refusal says which budget and how much is left.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    async fn erc20_transfer(
        &self,
        Parameters(i): Parameters<Erc20TransferInput>,
    ) -> Result<Json<Erc20TransferResult>, ToolFailure> {
        let w = self.wallet().await?;
        let chain_id = w.chain(i.chain.as_deref())?.id();
        let to = address("to", &i.to)?;
        let token = {
            let w = w.clone();
            unblock(move || token_info(&w, i.chain.as_deref(), &i.token)).await?
        };
        let raw = parse_units(&i.amount, token.decimals).map_err(|e| input(e.to_string()))?;
        if raw.is_zero() {
            return Err(input("the amount must be more than zero"));
        }
        let data = IERC20::transferCall { to, amount: raw }.abi_encode().into();
        let landed =
            succeeded(w.execute(chain_id, vec![Call::new(token.address, data)], None).await?)?;
        Ok(Json(Erc20TransferResult {
            chain_id,
            token: token.address.to_checksum(None),
            symbol: token.symbol,
            decimals: token.decimals,
            to: to.to_checksum(None),
            raw: raw.to_string(),
            formatted: format_units(raw, token.decimals),
            landed,
        }))
    }

    /// Call a view function (from a JSON ABI fragment or a human-readable signature) and decode its result.
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn read_contract(
        &self,
        Parameters(i): Parameters<ReadContractInput>,
    ) -> Result<Json<ReadResult>, ToolFailure> {
        let w = self.wallet().await?;
        Ok(Json(unblock(move || read_contract(&w, i)).await?))
    }

    /// Send the native token, signed by a session key whose policies allow it; waits for the receipt.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    async fn native_transfer(
        &self,
        Parameters(i): Parameters<NativeTransferInput>,
    ) -> Result<Json<TransferResult>, ToolFailure> {
        let w = self.wallet().await?;
        let chain_id = w.chain(i.chain.as_deref())?.id();
        let to = address("to", &i.to)?;
        let wei = parse_units(&i.amount, i.unit.decimals()).map_err(|e| input(e.to_string()))?;
        if wei.is_zero() {
            return Err(input("the amount must be more than zero"));
        }
        let landed = succeeded(w.execute(chain_id, vec![Call::transfer(to, wei)], None).await?)?;
        Ok(Json(TransferResult {
            chain_id,
            to: to.to_checksum(None),
            amount_wei: wei.to_string(),
            landed,
        }))
    }

    /// Carry out batches of calls (each batch one atomic UserOperation) on their chains and lanes; returns each batch's hash and receipt.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    async fn execute_transaction(
        &self,
        Parameters(i): Parameters<BatchesInput>,
    ) -> Result<Json<ExecuteResult>, ToolFailure> {
        let w = self.wallet().await?;
        let requests = plan(&w, i)?;
        let outcomes = w.execute_batches(requests.clone()).await;
        let batches: Vec<BatchResult> = outcomes
            .into_iter()
            .zip(&requests)
            .enumerate()
            .map(|(n, (o, r))| batch_result(n, r.chain, o))
            .collect();
        let all_succeeded = batches.iter().all(|b| b.status == "landed");
        let result = ExecuteResult { all_succeeded, batches };
        if all_succeeded {
            return Ok(Json(result));
        }
        let value = serde_json::to_value(result).map_err(|e| input(format!("internal: {e}")))?;
        Err(ToolFailure::Structured(value))
    }

    /// What each session key may do, in plain words: policies, chains, validity and budgets left.
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn list_permissions(
        &self,
        Parameters(_): Parameters<NoInput>,
    ) -> Result<Json<Permissions>, ToolFailure> {
        let w = self.wallet().await?;
        let mut keys = Vec::new();
        for k in w.keys() {
            let Some(permission) = k.permission() else { continue };
            let policies = &permission.policies;
            let until = match describe::valid_until(policies) {
                0 if k.validity().valid_until == 0 => None,
                0 => Some(describe::utc(k.validity().valid_until)),
                u => Some(describe::utc(u)),
            };
            let mut chains = Vec::new();
            for c in w.chains() {
                let (state, verdicts) = w.key_status(k.alias().to_owned(), c.id()).await?;
                let state = state.expect("a session key has a state");
                let usable = k.signer(c.id()).is_some() && state.is_usable();
                let mut words = state.to_string();
                // A revoked state says why by itself.
                if state.is_usable()
                    && let Some(why) = k.unusable_reason(c.id())
                {
                    words = format!("{words}; cannot act here: {why}");
                }
                chains.push(KeyChain {
                    chain_id: c.id(),
                    name: c.name(),
                    usable,
                    state: words,
                    budgets: verdicts.into_iter().filter_map(|v| v.budget).collect(),
                });
            }
            keys.push(KeyInfo {
                alias: k.alias().to_owned(),
                key_address: k.key_address().map(|a| a.to_checksum(None)),
                permission_id: permission.id().to_string(),
                valid_until: until,
                policies: policies
                    .iter()
                    .enumerate()
                    .map(|(index, p)| PolicyInfo {
                        index,
                        policy: p.type_name().into(),
                        words: p.describe(),
                    })
                    .collect(),
                chains,
            });
        }
        Ok(Json(Permissions { wallet: w.address().to_checksum(None), keys }))
    }

    /// Would these batches pass the session keys' policies? Names the refusing policy and why, without sending anything (and without asking the bundler: a gas budget is judged against the estimated cost only when sending).
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn check_transaction(
        &self,
        Parameters(i): Parameters<BatchesInput>,
    ) -> Result<Json<CheckResult>, ToolFailure> {
        let w = self.wallet().await?;
        let mut batches = Vec::new();
        for (index, r) in plan(&w, i)?.into_iter().enumerate() {
            let keys = w.explain(r.chain, r.calls).await?;
            let key = keys.iter().find(|v| v.passes).map(|v| v.key.clone());
            batches.push(CheckBatch {
                index,
                chain_id: r.chain,
                would_pass: key.is_some(),
                key,
                keys,
            });
        }
        Ok(Json(CheckResult { all_pass: batches.iter().all(|b| b.would_pass), batches }))
    }

    /// Where a UserOperation stands: included (with its receipt), pending, or unknown.
    #[tool(annotations(
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_transaction_status(
        &self,
        Parameters(i): Parameters<StatusInput>,
    ) -> Result<Json<Status>, ToolFailure> {
        let w = self.wallet().await?;
        Ok(Json(unblock(move || get_transaction_status(&w, i)).await?))
    }
}

/// A tool's failure, as the agent sees it: a tool error (`isError`), never a protocol
/// error, so the agent can read it and change its request.
#[derive(Debug)]
pub enum ToolFailure {
    /// A message.
    Text(String),
    /// A message with details (`{"error": …, …}`).
    Structured(Value),
}

impl IntoCallToolResult for ToolFailure {
    fn into_call_tool_result(self) -> Result<CallToolResponse, rmcp::ErrorData> {
        Ok(match self {
            Self::Text(t) => CallToolResult::error(vec![ContentBlock::text(t)]),
            Self::Structured(v) => CallToolResult::structured_error(v),
        }
        .into())
    }
}

impl From<ActionError> for ToolFailure {
    fn from(e: ActionError) -> Self {
        match &e {
            ActionError::Refused { keys, .. } => Self::Structured(serde_json::json!({
                "error": e.to_string(),
                "refusals": keys,
            })),
            ActionError::Account(a) if a.refusal().is_some() => {
                Self::Structured(serde_json::json!({
                    "error": e.to_string(),
                    "policy": a.refusing_policy(),
                }))
            }
            _ => Self::Text(e.to_string()),
        }
    }
}

impl From<namera::rpc::RpcError> for ToolFailure {
    fn from(e: namera::rpc::RpcError) -> Self {
        Self::Text(e.to_string())
    }
}

fn input(msg: impl Into<String>) -> ToolFailure {
    ToolFailure::Text(msg.into())
}

/// The SDK's one address rule (mixed case must be a valid EIP-55 checksum), as the CLI.
fn address(what: &str, s: &str) -> Result<Address, ToolFailure> {
    namera::address::parse_address(s.trim())
        .map_err(|e| input(format!("`{what}` must be an address (0x and 40 hex digits): {e}")))
}

// ---------------------------------------------------------------------------------------
// Bodies that read the chain (blocking: they run behind `unblock`)

fn get_wallet_address(w: &Wallet, _: NoInput) -> Result<WalletAddress, ToolFailure> {
    let chains = w
        .chains()
        .iter()
        .map(|c| {
            Ok(ChainSummary {
                chain_id: c.id(),
                name: c.name(),
                deployed: c.account().is_deployed()?,
            })
        })
        .collect::<Result<Vec<_>, ToolFailure>>()?;
    Ok(WalletAddress { address: w.address().to_checksum(None), chains })
}

fn get_balance(w: &Wallet, i: GetBalanceInput) -> Result<Balance, ToolFailure> {
    let c = w.chain(i.chain.as_deref())?;
    let who = match &i.address {
        Some(a) => address("address", a)?,
        None => w.address(),
    };
    let node = &c.account().chain().node;
    let Some(token) = i.token.as_deref().map(|t| address("token", t)).transpose()? else {
        let raw = node.balance(who)?;
        return Ok(Balance {
            chain_id: c.id(),
            address: who.to_checksum(None),
            token: None,
            symbol: namera::chain::native_symbol(c.id()).into(),
            decimals: 18,
            raw: raw.to_string(),
            formatted: format_units(raw, 18),
        });
    };
    if node.code(token)?.is_empty() {
        return Err(input(format!("token {token} has no code on chain {}", c.id())));
    }
    let not_erc20 = |what: &str, e: namera::rpc::RpcError| {
        input(format!("{token} does not answer {what}() like an ERC-20 token: {e}"))
    };
    let raw = node
        .view(token, &IERC20::balanceOfCall { owner: who })
        .map_err(|e| not_erc20("balanceOf", e))?;
    let decimals =
        node.view(token, &IERC20::decimalsCall {}).map_err(|e| not_erc20("decimals", e))?;
    // Some old tokens have no symbol (or a bytes32 one): the balance is still right.
    let symbol = node.view(token, &IERC20::symbolCall {}).unwrap_or_else(|_| "?".into());
    Ok(Balance {
        chain_id: c.id(),
        address: who.to_checksum(None),
        token: Some(token.to_checksum(None)),
        symbol,
        decimals,
        raw: raw.to_string(),
        formatted: format_units(raw, decimals),
    })
}

/// An ERC-20 as the tools show it: where, its decimals and symbol.
struct TokenInfo {
    address: Address,
    decimals: u8,
    symbol: String,
}

/// The ERC-20 `token` names on `chain` (an address, or a well-known symbol from
/// [`namera::chain::TOKENS`]), with its `decimals()` read from the chain (the registry's
/// are only a fallback for the symbol, never trusted over the contract).
fn token_info(w: &Wallet, chain: Option<&str>, token: &str) -> Result<TokenInfo, ToolFailure> {
    let c = w.chain(chain)?;
    let address = if token.starts_with("0x") {
        address("token", token)?
    } else {
        namera::chain::TOKENS
            .iter()
            .find(|t| t.chain_id == c.id() && t.symbol.eq_ignore_ascii_case(token))
            .map(|t| t.address)
            .ok_or_else(|| {
                input(format!(
                    "token {token:?}: not an address, nor a well-known token on chain {}",
                    c.id()
                ))
            })?
    };
    let node = &c.account().chain().node;
    if node.code(address)?.is_empty() {
        return Err(input(format!("token {address} has no code on chain {}", c.id())));
    }
    let decimals = node.view(address, &IERC20::decimalsCall {}).map_err(|e| {
        input(format!("{address} does not answer decimals() like an ERC-20 token: {e}"))
    })?;
    // Some old tokens have no symbol (or a bytes32 one).
    let symbol = node.view(address, &IERC20::symbolCall {}).unwrap_or_else(|_| {
        namera::chain::KnownToken::find(c.id(), address).map_or("?", |t| t.symbol).into()
    });
    Ok(TokenInfo { address, decimals, symbol })
}

fn get_token_balance(w: &Wallet, i: TokenBalanceInput) -> Result<Balance, ToolFailure> {
    let token = token_info(w, i.chain.as_deref(), &i.token)?;
    get_balance(
        w,
        GetBalanceInput {
            chain: i.chain,
            token: Some(token.address.to_checksum(None)),
            address: i.owner,
        },
    )
}

fn read_contract(w: &Wallet, i: ReadContractInput) -> Result<ReadResult, ToolFailure> {
    let c = w.chain(i.chain.as_deref())?;
    let to = address("address", &i.address)?;
    let f = abi::resolve_function(i.abi.as_ref(), i.signature.as_deref(), i.function.as_deref())
        .map_err(|e| input(e.to_string()))?;
    let data = abi::encode_call(&f, &i.args).map_err(|e| input(e.to_string()))?;
    let node = &c.account().chain().node;
    let answer =
        node.call(to, &data).map_err(|e| input(format!("the call reverted or failed: {e}")))?;
    if answer.is_empty() && !f.outputs.is_empty() && node.code(to)?.is_empty() {
        return Err(input(format!("{to} has no code on chain {}", c.id())));
    }
    let result = abi::decode_output(&f, &answer).map_err(|e| input(e.to_string()))?;
    Ok(ReadResult {
        chain_id: c.id(),
        address: to.to_checksum(None),
        function: f.signature(),
        result,
    })
}

fn get_transaction_status(w: &Wallet, i: StatusInput) -> Result<Status, ToolFailure> {
    let c = w.chain(i.chain.as_deref())?;
    let hash: B256 = i
        .hash
        .trim()
        .parse()
        .map_err(|_| input(format!("`hash` must be 0x and 64 hex digits, got {:?}", i.hash)))?;
    let bundler = &c.account().chain().bundler;
    let base = Status {
        chain_id: c.id(),
        hash: hash.to_string(),
        status: "unknown".into(),
        success: None,
        transaction_hash: None,
        block_number: None,
        gas_cost_wei: None,
    };
    if let Some(r) = bundler.receipt(hash)? {
        return Ok(Status {
            status: "included".into(),
            success: Some(r.success),
            transaction_hash: Some(r.receipt.transaction_hash.to_string()),
            block_number: Some(r.receipt.block_number.saturating_to()),
            gas_cost_wei: Some(r.actual_gas_cost.to_string()),
            ..base
        });
    }
    if bundler.by_hash(hash)?.is_some() {
        return Ok(Status { status: "pending".into(), ..base });
    }
    Ok(base)
}

// ---------------------------------------------------------------------------------------
// Batches: parsed at the edge, carried out by the wallet

fn plan(w: &Wallet, i: BatchesInput) -> Result<Vec<Batch>, ToolFailure> {
    if i.batches.is_empty() {
        return Err(input("`batches` is empty: give at least one batch"));
    }
    i.batches
        .into_iter()
        .enumerate()
        .map(|(n, b)| {
            let at = |m: String| input(format!("batch {n}: {m}"));
            let chain = w.chain(b.chain.as_deref()).map_err(|e| at(e.to_string()))?.id();
            if b.calls.is_empty() {
                return Err(at("`calls` is empty".into()));
            }
            let calls = b
                .calls
                .into_iter()
                .enumerate()
                .map(|(k, c)| {
                    let at = |m: String| input(format!("batch {n}, call {k}: {m}"));
                    let to = address("to", &c.to).map_err(|e| at(failure_text(e)))?;
                    let value = match c.value.as_deref() {
                        None => U256::ZERO,
                        Some(v) => {
                            parse_units(v, 0).map_err(|e| at(format!("`value` (wei): {e}")))?
                        }
                    };
                    let data: Bytes = match c.data.as_deref() {
                        None => Bytes::new(),
                        Some(d) => {
                            d.parse().map_err(|e| at(format!("`data` is not 0x-hex: {e}")))?
                        }
                    };
                    Ok(Call { to, value, data })
                })
                .collect::<Result<Vec<_>, ToolFailure>>()?;
            let lane = match b.lane.as_deref().map(str::trim) {
                None => None,
                // Digits are a lane number (as in the CLI), never hashed as a name.
                Some(l) if !l.is_empty() && l.bytes().all(|c| c.is_ascii_digit()) => {
                    Some(LaneKey(l.parse::<u16>().map_err(|_| {
                        at(format!("`lane` {l} is above 65535, the largest lane number"))
                    })?))
                }
                Some(l) => Some(LaneKey::from_name(l)),
            };
            Ok(Batch { chain, lane, calls })
        })
        .collect()
}

/// A transfer that landed, or the error saying its execution reverted.
fn succeeded(landed: Landed) -> Result<LandedOperation, ToolFailure> {
    if !landed.receipt.success {
        return Err(input(format!(
            "the transfer was included but its execution reverted (UserOperation {}, transaction {})",
            landed.hash, landed.receipt.receipt.transaction_hash
        )));
    }
    Ok(LandedOperation {
        key: landed.key,
        lane: landed.lane.0,
        user_op_hash: landed.hash.to_string(),
        transaction_hash: landed.receipt.receipt.transaction_hash.to_string(),
        block_number: landed.receipt.receipt.block_number.saturating_to(),
        gas_cost_wei: landed.receipt.actual_gas_cost.to_string(),
    })
}

fn failure_text(f: ToolFailure) -> String {
    match f {
        ToolFailure::Text(t) => t,
        ToolFailure::Structured(v) => v["error"].as_str().unwrap_or_default().to_owned(),
    }
}

fn empty(index: usize, chain_id: u64, lane: LaneKey) -> BatchResult {
    BatchResult {
        index,
        chain_id: Some(chain_id),
        lane: Some(lane.0),
        status: String::new(),
        key: None,
        user_op_hash: None,
        transaction_hash: None,
        block_number: None,
        gas_cost_wei: None,
        error: None,
        refusals: None,
    }
}

fn batch_result(index: usize, chain_id: u64, o: Outcome) -> BatchResult {
    match o {
        Outcome::Landed(l) => {
            let l = *l;
            BatchResult {
                status: if l.receipt.success { "landed" } else { "reverted" }.into(),
                key: Some(l.key),
                user_op_hash: Some(l.hash.to_string()),
                transaction_hash: Some(l.receipt.receipt.transaction_hash.to_string()),
                block_number: Some(l.receipt.receipt.block_number.saturating_to()),
                gas_cost_wei: Some(l.receipt.actual_gas_cost.to_string()),
                error: (!l.receipt.success).then(|| "included, but its execution reverted".into()),
                ..empty(index, chain_id, l.lane)
            }
        }
        Outcome::Skipped { lane, after } => BatchResult {
            status: "skipped".into(),
            error: Some(format!("batch {after} before it on the same lane failed")),
            ..empty(index, chain_id, lane)
        },
        Outcome::Failed { lane, error } => {
            let refusals = match &error {
                ActionError::Refused { keys, .. } => Some(keys.clone()),
                _ => None,
            };
            let status = if refusals.is_some() { "refused" } else { "failed" };
            BatchResult {
                status: status.into(),
                error: Some(error.to_string()),
                refusals,
                ..empty(index, chain_id, lane)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// `to`, `token`, `contract` arguments: the SDK's one rule, as the CLI's `tx send`
    /// (a wrong EIP-55 checksum was accepted here).
    #[test]
    fn tool_addresses_follow_the_one_checksum_rule() {
        let good = "0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A";
        assert!(super::address("to", good).is_ok());
        assert!(super::address("to", &good.to_lowercase()).is_ok());
        assert!(super::address("to", "0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958a").is_err());
        assert!(super::address("to", "0x1234").is_err());
    }
}

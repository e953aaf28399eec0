//! A smart account on one chain: build, estimate, sign and send UserOperations.
//!
//! The flow is the same whoever signs: the [`OperationSigner`] says which nonce key the
//! operation uses, what stub signature to estimate with, and how to sign the hash. The
//! owner and a session key are two signers over one code path.

mod signer;

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, Bytes, U256};

pub use signer::{
    OperationSigner, OwnerSigner, STUB_ECDSA_SIGNATURE, SessionKey, SessionKeySigner,
};

use crate::{
    bundler::{BundlerClient, Fees, GasEstimate, PaymasterClient, UserOperationReceipt},
    chain::Endpoints,
    kernel::{
        AccountConfig, Call, ExecType, ExecutionError, LaneKey, NonceKey, UserOperation,
        encode_calls,
    },
    node::NodeClient,
    rpc::{RpcClient, RpcError, RpcStats},
};

/// The clients for one chain.
#[derive(Debug, Clone)]
pub struct ChainClient {
    /// The chain id (read from the node once).
    pub chain_id: u64,
    /// The node.
    pub node: NodeClient,
    /// The bundler.
    pub bundler: BundlerClient,
    /// The paymaster, when operations are sponsored.
    pub paymaster: Option<PaymasterClient>,
}

impl ChainClient {
    /// Connect to `endpoints`, reading the chain id from the node; all clients add to
    /// `stats`.
    pub fn connect(
        endpoints: &Endpoints,
        stats: std::sync::Arc<RpcStats>,
    ) -> Result<Self, RpcError> {
        let node = NodeClient::new(RpcClient::new(&endpoints.rpc).with_stats(stats.clone()));
        let chain_id = node.chain_id()?;
        Ok(Self {
            chain_id,
            node,
            bundler: BundlerClient::new(
                RpcClient::new(&endpoints.bundler).with_stats(stats.clone()),
            ),
            paymaster: endpoints
                .paymaster
                .as_ref()
                .map(|p| PaymasterClient::new(RpcClient::new(p).with_stats(stats))),
        })
    }
}

/// Sending or waiting for a UserOperation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A node, bundler or paymaster call failed.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The calls cannot be encoded.
    #[error(transparent)]
    Execution(#[from] ExecutionError),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// The passkey's signature would not verify onchain (or the authenticator failed):
    /// nothing was sent.
    #[cfg(feature = "passkey")]
    #[error("passkey: {0}")]
    Passkey(#[from] crate::passkey::PasskeyError),
    /// The bundler refused the operation in validation: nothing was sent on chain.
    #[error("refused: {reason}")]
    Refused {
        /// In words: which policy or rule, and the bundler's message.
        reason: String,
        /// What could be read from the revert.
        refusal: Box<crate::revert::Refusal>,
        /// The policy that refused, when the chain named it (`gas`, `call`, …).
        policy: Option<&'static str>,
        /// The raw error.
        source: RpcError,
    },
    /// The session key was revoked by the owner: its operations can never pass again.
    #[error("the session key can no longer act ({state}); ask the owner for a new one")]
    KeyRevoked {
        /// What the account says about it.
        state: crate::session_key::KeyState,
    },
    /// No receipt in time.
    #[error("no receipt for UserOperation {hash} after {seconds} s")]
    ReceiptTimeout {
        /// The operation.
        hash: B256,
        /// How long we waited.
        seconds: u64,
    },
    /// A value did not fit the field it goes in.
    #[error("{0} is out of range")]
    OutOfRange(&'static str),
}

impl AccountError {
    /// The bundler's refusal in words, if that is what this is.
    pub fn refusal(&self) -> Option<&str> {
        match self {
            Self::Refused { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The type of the policy that refused (`"call"`, `"gas"`, …), when known.
    pub fn refusing_policy(&self) -> Option<&'static str> {
        match self {
            Self::Refused { policy, .. } => *policy,
            _ => None,
        }
    }
}

/// A sent UserOperation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentOperation {
    /// Its hash.
    pub hash: B256,
    /// The operation as sent.
    pub operation: UserOperation,
}

/// How long a fee quote is reused before asking the bundler again.
const FEES_TTL: Duration = Duration::from_secs(10);

/// A Kernel account on one chain.
///
/// It remembers what it has seen so that a warm client needs few round trips: that the
/// account is deployed, each lane's next EntryPoint sequence (advanced by every operation
/// it sends, forgotten when the bundler says the nonce is wrong), and a recent fee quote.
#[derive(Debug)]
pub struct SmartAccount {
    config: AccountConfig,
    address: Address,
    chain: ChainClient,
    deployed: AtomicBool,
    sequences: Mutex<HashMap<NonceKey, u64>>,
    /// Keys whose next sequence must be read from the chain (after an AA25).
    unsure: Mutex<HashSet<NonceKey>>,
    fees: Mutex<Option<(Fees, Instant)>>,
}

fn u128_of(v: U256, what: &'static str) -> Result<u128, AccountError> {
    v.try_into().map_err(|_| AccountError::OutOfRange(what))
}

impl SmartAccount {
    /// The account `config` on `chain`.
    pub fn new(config: AccountConfig, chain: ChainClient) -> Self {
        Self {
            address: config.address(),
            config,
            chain,
            deployed: AtomicBool::new(false),
            sequences: Mutex::default(),
            unsure: Mutex::default(),
            fees: Mutex::default(),
        }
    }

    /// The account's address (the same on every chain).
    pub const fn address(&self) -> Address {
        self.address
    }

    /// What fixes the address.
    pub const fn config(&self) -> &AccountConfig {
        &self.config
    }

    /// The chain clients.
    pub const fn chain(&self) -> &ChainClient {
        &self.chain
    }

    /// Whether the account has code. Once seen deployed, it stays deployed (cached).
    pub fn is_deployed(&self) -> Result<bool, RpcError> {
        if self.deployed.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let deployed = !self.chain.node.code(self.address)?.is_empty();
        self.deployed.store(deployed, Ordering::Relaxed);
        Ok(deployed)
    }

    /// The account's `currentNonce()` (1 before deployment).
    pub fn kernel_nonce(&self) -> Result<u32, RpcError> {
        self.chain.node.kernel_nonce(self.address)
    }

    /// Build an unsigned, estimated UserOperation for `calls` on `lane`.
    pub fn prepare(
        &self,
        signer: &dyn OperationSigner,
        calls: &[Call],
        lane: LaneKey,
    ) -> Result<UserOperation, AccountError> {
        let call_data = encode_calls(self.address, calls, false, ExecType::Default)?;
        self.prepare_call_data(signer, call_data, lane)
    }

    /// Build an unsigned, estimated UserOperation with raw call data.
    ///
    /// Round trips: the deployment state and the lane's sequence (one batched node
    /// request, skipped when both are known) go out together with the fee quote (skipped
    /// while fresh); then the estimate.
    pub fn prepare_call_data(
        &self,
        signer: &dyn OperationSigner,
        call_data: Bytes,
        lane: LaneKey,
    ) -> Result<UserOperation, AccountError> {
        let key = signer.nonce_key(lane);
        let cached_fees = self
            .fees
            .lock()
            .ok()
            .and_then(|f| *f)
            .filter(|(_, at)| at.elapsed() < FEES_TTL)
            .map(|(f, _)| f);
        let (state, fees) = std::thread::scope(|s| {
            let quote = cached_fees.is_none().then(|| s.spawn(|| self.chain.bundler.fees()));
            let state = self.deployment_and_sequence(key, signer.sequence_hint(key));
            let fees = match quote {
                // A panicking fee thread is a bug here; surface it.
                Some(h) => h.join().expect("fee thread panicked"),
                None => Ok(cached_fees.expect("checked above")),
            };
            (state, fees)
        });
        let (deployed, sequence) = state?;
        let fees = fees?;
        if cached_fees.is_none()
            && let Ok(mut f) = self.fees.lock()
        {
            *f = Some((fees, Instant::now()));
        }
        let mut op = UserOperation {
            sender: self.address,
            nonce: key.nonce(sequence),
            call_data,
            max_fee_per_gas: u128_of(fees.max_fee_per_gas, "maxFeePerGas")?,
            max_priority_fee_per_gas: u128_of(
                fees.max_priority_fee_per_gas,
                "maxPriorityFeePerGas",
            )?,
            signature: signer.stub_signature(),
            ..Default::default()
        };
        if !deployed {
            op.factory = Some(self.config.factory());
            op.factory_data = self.config.factory_data();
        }
        let estimate = self.chain.bundler.estimate(&op).map_err(|e| self.refusal(e, signer));
        if let Err(e) = &estimate {
            self.forget_sequence_on_nonce_error(key, e);
        }
        apply_estimate(&mut op, &estimate?)?;
        Ok(op)
    }

    /// Whether the account is deployed and the lane's next sequence, from the caches or
    /// one batched node request.
    fn deployment_and_sequence(
        &self,
        key: NonceKey,
        hint: Option<u64>,
    ) -> Result<(bool, u64), RpcError> {
        let deployed = self.deployed.load(Ordering::Relaxed);
        let unsure = self.unsure.lock().map(|mut u| u.remove(&key)).unwrap_or(true);
        let cached = if unsure {
            None
        } else {
            self.sequences.lock().ok().and_then(|m| m.get(&key).copied()).or(hint)
        };
        if let (true, Some(seq)) = (deployed, cached) {
            return Ok((true, seq));
        }
        if deployed {
            return Ok((true, self.chain.node.entry_point_sequence(self.address, key)?));
        }
        let (code, sequence) = self.chain.node.code_and_sequence(self.address, key)?;
        let deployed = !code.is_empty();
        self.deployed.store(deployed, Ordering::Relaxed);
        Ok((deployed, sequence))
    }

    /// After an AA25 (invalid nonce) the cached sequence is wrong: read it again next time.
    fn forget_sequence_on_nonce_error(&self, key: NonceKey, e: &AccountError) {
        if let AccountError::Refused { refusal, .. } = e
            && refusal.aa_code.as_deref() == Some("AA25")
            && let Ok(mut m) = self.sequences.lock()
        {
            m.remove(&key);
            if let Ok(mut u) = self.unsure.lock() {
                u.insert(key);
            }
        }
    }

    /// Sign a prepared operation and hand it to the bundler.
    pub fn sign_and_send(
        &self,
        signer: &dyn OperationSigner,
        mut op: UserOperation,
    ) -> Result<SentOperation, AccountError> {
        let hash = op.hash_v07(self.chain.chain_id);
        op.signature = signer.sign_operation(hash)?;
        let (key, sequence) = NonceKey::split(op.nonce);
        let sent = self.chain.bundler.send(&op).map_err(|e| self.refusal(e, signer));
        match &sent {
            Ok(_) => {
                if let Ok(mut m) = self.sequences.lock() {
                    m.insert(key, sequence + 1);
                }
            }
            Err(e) => self.forget_sequence_on_nonce_error(key, e),
        }
        if let Ok(h) = &sent {
            debug_assert_eq!(h, &hash, "the bundler hashes as we do");
        }
        sent?;
        Ok(SentOperation { hash, operation: op })
    }

    /// Prepare, sign and send `calls` on `lane`.
    ///
    /// If the bundler says the nonce is wrong (AA25: another client used the lane since
    /// this one cached its sequence), the sequence is read again and the operation is
    /// prepared and sent once more.
    pub fn send(
        &self,
        signer: &dyn OperationSigner,
        calls: &[Call],
        lane: LaneKey,
    ) -> Result<SentOperation, AccountError> {
        let attempt =
            || self.prepare(signer, calls, lane).and_then(|op| self.sign_and_send(signer, op));
        match attempt() {
            Err(AccountError::Refused { refusal, .. })
                if refusal.aa_code.as_deref() == Some("AA25") =>
            {
                attempt()
            }
            other => other,
        }
    }

    /// Wait for the operation's receipt, polling the bundler.
    pub fn wait(
        &self,
        hash: B256,
        timeout: Duration,
    ) -> Result<UserOperationReceipt, AccountError> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            if let Some(receipt) = self.chain.bundler.receipt(hash)? {
                self.deployed.store(true, Ordering::Relaxed);
                return Ok(receipt);
            }
            if start.elapsed() >= timeout {
                return Err(AccountError::ReceiptTimeout { hash, seconds: timeout.as_secs() });
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }

    /// Send and wait.
    pub fn execute(
        &self,
        signer: &dyn OperationSigner,
        calls: &[Call],
        lane: LaneKey,
        timeout: Duration,
    ) -> Result<UserOperationReceipt, AccountError> {
        let sent = self.send(signer, calls, lane)?;
        let receipt = self.wait(sent.hash, timeout)?;
        signer.landed();
        Ok(receipt)
    }
}

impl SmartAccount {
    /// A refusal, and when it hides a revoked session key, say so: an uninstalled
    /// permission's signer is gone (validation reverts without data), and a key below
    /// `validNonceFrom` reverts `InvalidNonce`.
    fn refusal(&self, e: RpcError, signer: &dyn OperationSigner) -> AccountError {
        let err = refusal(e, signer);
        if let AccountError::Refused { refusal: r, .. } = &err
            && matches!(r.error, None | Some("InvalidNonce"))
            && r.aa_code.as_deref() == Some("AA23")
            && let Some(vid) = signer.permission_validation_id()
            && let Ok(state) = crate::session_key::key_state(self, vid)
            && state.is_revoked()
        {
            return AccountError::KeyRevoked { state };
        }
        err
    }
}

fn apply_estimate(op: &mut UserOperation, e: &GasEstimate) -> Result<(), AccountError> {
    op.pre_verification_gas = e.pre_verification_gas;
    op.verification_gas_limit = u128_of(e.verification_gas_limit, "verificationGasLimit")?;
    op.call_gas_limit = u128_of(e.call_gas_limit, "callGasLimit")?;
    if let Some(pm) = op.paymaster.as_mut() {
        if let Some(v) = e.paymaster_verification_gas_limit {
            pm.paymaster_verification_gas_limit = u128_of(v, "paymasterVerificationGasLimit")?;
        }
        if let Some(v) = e.paymaster_post_op_gas_limit {
            pm.paymaster_post_op_gas_limit = u128_of(v, "paymasterPostOpGasLimit")?;
        }
    }
    Ok(())
}

/// A bundler's JSON-RPC error in validation or simulation means it refused the
/// operation; name the policy when the chain says which.
fn refusal(e: RpcError, signer: &dyn OperationSigner) -> AccountError {
    let RpcError::Rpc(obj) = &e else { return AccountError::Rpc(e) };
    let r = crate::revert::parse(&obj.message, obj.data.as_ref());
    let policy = match (r.call_policy, r.policy_index, r.aa_code.as_deref()) {
        (true, _, _) => Some("call"),
        (false, Some(i), _) => signer.policy_type(i),
        // Outside a validity window: the EntryPoint does not say whose; the signer knows
        // which of its policies set one.
        (false, None, Some("AA22")) => match signer.window_policies().as_slice() {
            [one] => Some(*one),
            [_, _] => Some("timestamp or rate-limit"),
            _ => None,
        },
        _ => None,
    };
    let mut reason = match (policy, r.policy_index, r.meaning) {
        (Some(p), Some(i), _) => format!("the {p} policy (#{i}) refused the operation"),
        (Some(p), None, Some(m)) => format!("the {p} policy refused: {m}"),
        (Some(p), None, None) => format!("outside the {p} policy's time window"),
        (None, _, Some(m)) => m.to_owned(),
        _ => String::new(),
    };
    if !reason.is_empty() {
        reason.push_str(" — ");
    }
    reason.push_str(&obj.message);
    AccountError::Refused { reason, refusal: Box::new(r), policy, source: e }
}

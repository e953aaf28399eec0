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
///
/// Clones share one fee quote cache: every account on a chain pays the same gas prices,
/// so an account that sends its first operation on a client that has quoted fees in the
/// last few seconds does not wait for a quote of its own.
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
    fees: std::sync::Arc<Mutex<Option<(Fees, Instant)>>>,
}

impl ChainClient {
    /// Connect to `endpoints`, reading the chain id from the node; all clients add to
    /// `stats`.
    pub fn connect(
        endpoints: &Endpoints,
        stats: std::sync::Arc<RpcStats>,
    ) -> Result<Self, RpcError> {
        let node = NodeClient::new(RpcClient::new(&endpoints.rpc).with_stats(stats.clone()));
        Self::with_node(node, &endpoints.bundler, endpoints.paymaster.as_deref(), stats)
    }

    /// A node client the caller made (one served by an alloy `Provider`, say: see
    /// [`crate::provider`]) with the bundler at `bundler` and the paymaster at
    /// `paymaster`, which add to `stats`; reads the chain id from the node.
    pub fn with_node(
        node: NodeClient,
        bundler: &str,
        paymaster: Option<&str>,
        stats: std::sync::Arc<RpcStats>,
    ) -> Result<Self, RpcError> {
        let chain_id = node.chain_id()?;
        Ok(Self {
            chain_id,
            node,
            bundler: BundlerClient::new(RpcClient::new(bundler).with_stats(stats.clone())),
            paymaster: paymaster.map(|p| PaymasterClient::new(RpcClient::new(p).with_stats(stats))),
            fees: std::sync::Arc::default(),
        })
    }

    /// The bundler's fee quote if one younger than a few seconds is at hand.
    pub fn recent_fees(&self) -> Option<Fees> {
        let cached = *self.fees.lock().ok()?;
        cached.filter(|(_, at)| at.elapsed() < FEES_TTL).map(|(f, _)| f)
    }

    /// The bundler's fee quote: the recent one, or a new one (which is then kept).
    pub fn fees(&self) -> Result<Fees, RpcError> {
        if let Some(f) = self.recent_fees() {
            return Ok(f);
        }
        let fees = self.bundler.fees()?;
        if let Ok(mut f) = self.fees.lock() {
            *f = Some((fees, Instant::now()));
        }
        Ok(fees)
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
    /// The account's Kernel release is not deployed on this chain, so its first operation
    /// cannot deploy it (the EntryPoint only says `AA13 initCode failed`).
    #[error(
        "Kernel {version} is not on this chain: no code at its {missing} {address}; \
         this chain (a devnet, say) lacks Kernel {version}"
    )]
    KernelMissing {
        /// The Kernel release (`"0.3.3"`).
        version: &'static str,
        /// `"KernelFactory"` or `"implementation"`.
        missing: &'static str,
        /// Where its code should be.
        address: Address,
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
    /// The operation's nonce was used, but the operation that used it was not found in
    /// the blocks searched: whether this one landed is unknown, so it must not simply be
    /// sent again.
    #[error(
        "UserOperation {hash}: its nonce was used, but the chain's recent blocks do not say by which operation; check the account before sending it again"
    )]
    InclusionUnknown {
        /// The operation.
        hash: B256,
    },
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

/// What became of a sent operation's nonce, as the chain tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NonceUse {
    /// Nobody used it yet: the operation has not landed (it may still).
    Unused,
    /// This operation used it: it landed, with this receipt.
    Landed(Box<UserOperationReceipt>),
    /// Another operation (this hash) used it: this one can never land.
    Taken(B256),
}

/// How long a fee quote is reused before asking the bundler again.
const FEES_TTL: Duration = Duration::from_secs(10);

/// A Kernel account on one chain.
///
/// It remembers what it has seen so that a warm client needs few round trips: that the
/// account is deployed, and each lane's next EntryPoint sequence (advanced by every
/// operation it sends, forgotten when the bundler says the nonce is wrong); its
/// [`ChainClient`] keeps a recent fee quote. What it does not know yet it guesses and
/// checks at once (see [`SmartAccount::prepare_call_data`]).
#[derive(Debug)]
pub struct SmartAccount {
    config: AccountConfig,
    address: Address,
    chain: ChainClient,
    deployed: AtomicBool,
    sequences: Mutex<HashMap<NonceKey, u64>>,
    /// Keys whose next sequence must be read from the chain (after an AA25).
    unsure: Mutex<HashSet<NonceKey>>,
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
    /// Round trips: one for the estimate, when the account is known to be deployed, the
    /// lane's sequence is known and the chain client has a recent fee quote. What is not
    /// known is read (the deployment state and the sequence in one batched node request,
    /// the fee quote from the bundler), and while those reads are out the estimate is
    /// already asked for with the likeliest answer: an account not seen deployed is
    /// taken to be undeployed (so every lane's sequence is 0), an unseen lane to be
    /// unused. When the reads confirm the guess, which they do for a new account's first
    /// operation and a new lane's first use, that estimate stands and the whole
    /// preparation took one round trip; when they do not, the guess's estimate is dropped
    /// and the operation estimated again with what was read. The guess needs fee figures
    /// to estimate with, so without a recent quote the estimate waits for it.
    ///
    /// With a paymaster, its stub data comes before the estimate and its signed data after
    /// it (ERC-7677): two round trips more, since each depends on the one before.
    pub fn prepare_call_data(
        &self,
        signer: &dyn OperationSigner,
        call_data: Bytes,
        lane: LaneKey,
    ) -> Result<UserOperation, AccountError> {
        let key = signer.nonce_key(lane);
        let known = self.known_state(key, signer.sequence_hint(key));
        let recent_fees = self.chain.recent_fees();
        let estimate = |op: &UserOperation| {
            self.chain.bundler.estimate(op).map_err(|e| self.refusal(e, signer, op))
        };

        let (mut op, estimated) = match (known, recent_fees) {
            (Some(state), Some(fees)) => {
                let op = self.unsigned(signer, call_data, key, state, fees)?;
                let estimated = estimate(&op);
                (op, estimated)
            }
            _ => {
                let guess = known.unwrap_or_else(|| self.likely_state(key));
                let guessed_op = recent_fees
                    .map(|fees| self.unsigned(signer, call_data.clone(), key, guess, fees))
                    .transpose()?;
                // The reads go to other threads and the estimate runs here: the estimate
                // is the slow one (a simulation), so the quick reads, however late their
                // thread starts, overlap it rather than follow it.
                let (state, fees, guessed) = std::thread::scope(|s| {
                    let read = known.is_none().then(|| s.spawn(|| self.read_state(key)));
                    let quote = recent_fees.is_none().then(|| s.spawn(|| self.chain.fees()));
                    let guessed = guessed_op.as_ref().map(&estimate);
                    // A panicking thread here is a bug in this crate; surface it.
                    let state = match (read, known) {
                        (Some(h), _) => h.join().expect("state read thread panicked"),
                        (None, known) => Ok(known.expect("known, checked above")),
                    };
                    let fees = match quote {
                        Some(h) => h.join().expect("fee quote thread panicked"),
                        None => Ok(recent_fees.expect("a recent quote, checked above")),
                    };
                    (state, fees, guessed)
                });
                let (state, fees) = (state?, fees?);
                match (guessed_op, guessed) {
                    (Some(op), Some(estimated)) if state == guess => (op, estimated),
                    _ => {
                        let op = self.unsigned(signer, call_data, key, state, fees)?;
                        let estimated = estimate(&op);
                        (op, estimated)
                    }
                }
            }
        };
        if let Err(e) = &estimated {
            self.forget_stale_state(key, e);
        }
        apply_estimate(&mut op, &estimated?)?;
        self.paymaster_final(&mut op)?;
        Ok(op)
    }

    /// With a paymaster: its ERC-7677 stub data (`pm_getPaymasterStubData`), so that the
    /// bundler estimates the operation as it will run, paymaster validation included.
    fn paymaster_stub(&self, op: &mut UserOperation) -> Result<(), AccountError> {
        let Some(pm) = &self.chain.paymaster else { return Ok(()) };
        let stub = pm.stub_data(op, self.chain.chain_id, &serde_json::json!({}))?;
        op.paymaster = Some(crate::kernel::Paymaster {
            paymaster: stub.paymaster,
            paymaster_verification_gas_limit: stub
                .paymaster_verification_gas_limit
                .map(|v| u128_of(v, "paymasterVerificationGasLimit"))
                .transpose()?
                .unwrap_or_default(),
            paymaster_post_op_gas_limit: stub
                .paymaster_post_op_gas_limit
                .map(|v| u128_of(v, "paymasterPostOpGasLimit"))
                .transpose()?
                .unwrap_or_default(),
            paymaster_data: stub.paymaster_data,
        });
        Ok(())
    }

    /// With a paymaster: once every gas figure is final, its signed data
    /// (`pm_getPaymasterData`) for exactly this operation, which the paymaster's signature
    /// covers; the operation hash is taken after this. Asked even when the stub said it
    /// was final (ERC-7677 allows it), so there is one path.
    fn paymaster_final(&self, op: &mut UserOperation) -> Result<(), AccountError> {
        let (Some(pm), Some(current)) = (&self.chain.paymaster, op.paymaster.as_ref()) else {
            return Ok(());
        };
        let data = pm.data(op, self.chain.chain_id, &serde_json::json!({}))?;
        let mut paymaster = current.clone();
        paymaster.paymaster = data.paymaster;
        paymaster.paymaster_data = data.paymaster_data;
        if let Some(v) = data.paymaster_verification_gas_limit {
            paymaster.paymaster_verification_gas_limit =
                u128_of(v, "paymasterVerificationGasLimit")?;
        }
        if let Some(v) = data.paymaster_post_op_gas_limit {
            paymaster.paymaster_post_op_gas_limit = u128_of(v, "paymasterPostOpGasLimit")?;
        }
        op.paymaster = Some(paymaster);
        Ok(())
    }

    /// The operation before its gas estimate, for an account in `state` (deployed, next
    /// sequence on `key`).
    fn unsigned(
        &self,
        signer: &dyn OperationSigner,
        call_data: Bytes,
        key: NonceKey,
        (deployed, sequence): (bool, u64),
        fees: Fees,
    ) -> Result<UserOperation, AccountError> {
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
        self.paymaster_stub(&mut op)?;
        Ok(op)
    }

    /// Whether the account is deployed and the lane's next sequence, when both are known
    /// from what this client has seen (and the lane was not put in doubt by an AA25).
    fn known_state(&self, key: NonceKey, hint: Option<u64>) -> Option<(bool, u64)> {
        let unsure = self.unsure.lock().map(|u| u.contains(&key)).unwrap_or(true);
        if unsure || !self.deployed.load(Ordering::Relaxed) {
            return None;
        }
        self.cached_sequence(key).or(hint).map(|seq| (true, seq))
    }

    /// The best guess at what [`Self::read_state`] will say: a deployed account's unseen
    /// lane is unused; an account never seen deployed is new, and a new account's every
    /// lane is at 0 (the EntryPoint counts only operations that ran, and the first one
    /// deploys it).
    fn likely_state(&self, key: NonceKey) -> (bool, u64) {
        if !self.deployed.load(Ordering::Relaxed) {
            return (false, 0);
        }
        (true, self.cached_sequence(key).unwrap_or(0))
    }

    /// The lane's next sequence as this client last saw or advanced it.
    fn cached_sequence(&self, key: NonceKey) -> Option<u64> {
        self.sequences.lock().ok().and_then(|m| m.get(&key).copied())
    }

    /// Reads whether the account is deployed and the lane's next sequence (one batched
    /// node request, or one call once the account is known to be deployed), and keeps
    /// what it learnt.
    fn read_state(&self, key: NonceKey) -> Result<(bool, u64), RpcError> {
        let (deployed, sequence) = if self.deployed.load(Ordering::Relaxed) {
            (true, self.chain.node.entry_point_sequence(self.address, key)?)
        } else {
            let (code, sequence) = self.chain.node.code_and_sequence(self.address, key)?;
            (!code.is_empty(), sequence)
        };
        if deployed {
            self.deployed.store(true, Ordering::Relaxed);
        }
        if let Ok(mut u) = self.unsure.lock() {
            u.remove(&key);
        }
        if let Ok(mut m) = self.sequences.lock() {
            m.insert(key, sequence);
        }
        Ok((deployed, sequence))
    }

    /// After an AA25 (invalid nonce) the cached sequence is wrong, and after an AA10
    /// (the account exists, so the factory must not run) the account was deployed by
    /// someone else meanwhile: either way, read the lane's sequence again next time.
    fn forget_stale_state(&self, key: NonceKey, e: &AccountError) {
        let AccountError::Refused { refusal, .. } = e else { return };
        match refusal.aa_code.as_deref() {
            Some("AA10") => self.deployed.store(true, Ordering::Relaxed),
            Some("AA25") => {}
            _ => return,
        }
        if let Ok(mut m) = self.sequences.lock() {
            m.remove(&key);
        }
        if let Ok(mut u) = self.unsure.lock() {
            u.insert(key);
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
        let sent = self.chain.bundler.send(&op).map_err(|e| self.refusal(e, signer, &op));
        match &sent {
            Ok(_) => {
                if let Ok(mut m) = self.sequences.lock() {
                    m.insert(key, sequence + 1);
                }
            }
            Err(e) => self.forget_stale_state(key, e),
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
    /// this one cached its sequence) or that the account already exists (AA10: another
    /// client deployed it since this one looked), the state is read again and the
    /// operation is prepared and sent once more.
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
                if matches!(refusal.aa_code.as_deref(), Some("AA25" | "AA10")) =>
            {
                attempt()
            }
            other => other,
        }
    }

    /// What became of `sent`'s nonce, read from the chain rather than the bundler (whose
    /// receipt can lag, see [`crate::inclusion`]): unused, used by `sent` itself (its
    /// receipt, rebuilt from the bundle transaction), or used by another operation.
    pub fn nonce_use(&self, sent: &SentOperation) -> Result<NonceUse, AccountError> {
        let (key, sequence) = NonceKey::split(sent.operation.nonce);
        let node = &self.chain.node;
        if node.entry_point_sequence(self.address(), key)? <= sequence {
            return Ok(NonceUse::Unused);
        }
        let Some(user) = crate::inclusion::nonce_user(node, self.address(), sent.operation.nonce)?
        else {
            return Err(AccountError::InclusionUnknown { hash: sent.hash });
        };
        if user.user_op_hash != sent.hash {
            return Ok(NonceUse::Taken(user.user_op_hash));
        }
        let receipt = node
            .transaction_receipt(user.transaction_hash)?
            .and_then(|tx| UserOperationReceipt::from_bundle(sent.hash, &tx))
            .ok_or(AccountError::InclusionUnknown { hash: sent.hash })?;
        self.deployed.store(true, Ordering::Relaxed);
        Ok(NonceUse::Landed(Box::new(receipt)))
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
    /// [`AccountError::KernelMissing`] when the chain has no code for this account's Kernel
    /// release (its factory or implementation): why a deployment fails as `AA13`.
    fn missing_kernel(&self) -> Option<AccountError> {
        let version = self.config().version;
        [("KernelFactory", version.factory()), ("implementation", version.implementation())]
            .into_iter()
            .find(|(_, at)| self.chain.node.code(*at).is_ok_and(|c| c.is_empty()))
            .map(|(missing, address)| AccountError::KernelMissing {
                version: version.as_str(),
                missing,
                address,
            })
    }

    /// A refusal, and when it hides a revoked session key, say so: an uninstalled
    /// permission's signer is gone (validation reverts without data), and a key below
    /// `validNonceFrom` reverts `InvalidNonce`.
    fn refusal(
        &self,
        e: RpcError,
        signer: &dyn OperationSigner,
        op: &UserOperation,
    ) -> AccountError {
        let err = refusal(e, signer, op);
        if let AccountError::Refused { refusal: r, .. } = &err
            && r.aa_code.as_deref() == Some("AA13")
            && let Some(missing) = self.missing_kernel()
        {
            return missing;
        }
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
/// operation; name the policy when the chain says which, or when a bare revert (no data)
/// can only have come from one of the signer's policies (see
/// [`OperationSigner::bare_revert_policy`]).
pub(crate) fn refusal(
    e: RpcError,
    signer: &dyn OperationSigner,
    op: &UserOperation,
) -> AccountError {
    let RpcError::Rpc(obj) = &e else { return AccountError::Rpc(e) };
    let r = crate::revert::parse(&obj.message, obj.data.as_ref());
    let bare = (r.is_bare() && r.aa_code.as_deref() == Some("AA23"))
        .then(|| signer.bare_revert_policy(op))
        .flatten();
    let policy = match (r.policy, r.policy_index, r.aa_code.as_deref()) {
        (Some(p), _, _) => Some(p),
        (None, Some(i), _) => signer.policy_type(i),
        (None, None, _) if bare.is_some() => bare.as_ref().map(|(p, _)| *p),
        // Outside a validity window: the EntryPoint does not say whose; the signer knows
        // which of its policies set one.
        (None, None, Some("AA22")) => match signer.window_policies().as_slice() {
            [one] => Some(*one),
            ["timestamp", "rate-limit"] | ["rate-limit", "timestamp"] => {
                Some("timestamp or rate-limit")
            }
            // the budget policy with one or both of the others
            [_, _] | [_, _, _] => Some("timestamp, rate-limit or budget"),
            _ => None,
        },
        _ => None,
    };
    let mut reason = match (policy, r.policy_index, r.meaning) {
        _ if r.budget.is_some() => {
            format!("the budget policy refused: {}", r.budget.as_deref().unwrap_or_default())
        }
        (Some(p), Some(i), _) => format!("policies[{i}] ({p}) refused the operation"),
        (Some(p), None, None) if bare.is_some() => {
            format!("the {p} policy refused: {}", bare.as_ref().map_or("", |(_, why)| why.as_str()))
        }
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

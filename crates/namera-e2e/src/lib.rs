//! Shared set-up for the end-to-end tests: one devnet per test binary, funded accounts,
//! and clients for it.

use std::{sync::Arc, time::Duration};

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::{ChainClient, OperationSigner, OwnerSigner, SmartAccount},
    chain::Endpoints,
    kernel::{
        AccountConfig, Call, KernelVersion, RootValidator, addresses::DETERMINISTIC_DEPLOYER,
    },
    rpc::{RpcClient, RpcStats},
    wallet::{Wallet, WalletKey},
};
use serde_json::json;

/// How long a test waits for a UserOperation receipt.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// The shared devnet's endpoints.
pub fn endpoints() -> Endpoints {
    let devnet = namera_devnet::testing::shared();
    Endpoints { rpc: devnet.rpc_url.clone(), bundler: devnet.bundler_url.clone(), paymaster: None }
}

/// Clients for the shared devnet.
pub fn chain() -> ChainClient {
    ChainClient::connect(&endpoints(), Arc::new(RpcStats::default())).expect("devnet answers")
}

/// Set `address`'s balance (anvil cheat code).
pub fn set_balance(address: Address, wei: U256) {
    let rpc = RpcClient::new(endpoints().rpc);
    let _: serde_json::Value =
        rpc.call("anvil_setBalance", json!([address, wei])).expect("anvil_setBalance");
}

/// A fresh owner, its (undeployed) Kernel 0.3.1 account funded with `funds`, and the
/// owner's signer.
pub fn new_account(
    multi_chain: bool,
    funds: U256,
) -> (PrivateKeySigner, SmartAccount, OwnerSigner) {
    let owner = PrivateKeySigner::random();
    let root = if multi_chain {
        RootValidator::MultiChainEcdsa { owner: owner.address() }
    } else {
        RootValidator::Ecdsa { owner: owner.address() }
    };
    // A random index keeps accounts of different tests apart even for one owner.
    let index = U256::from(rand_u64());
    let config = AccountConfig::new(KernelVersion::V0_3_1, root, index);
    let account = SmartAccount::new(config, chain());
    set_balance(account.address(), funds);
    let signer = OwnerSigner::new(owner.clone(), account.config().root.validation_id());
    (owner, account, signer)
}

/// A wallet for the account of `config` on `chain` whose one key is `key`.
pub fn wallet_with(config: &AccountConfig, chain: ChainClient, key: WalletKey) -> Wallet {
    Wallet::new(vec![SmartAccount::new(config.clone(), chain)], vec![key], None).expect("a wallet")
}

/// The owner's key for a wallet: `signer` on chain `chain_id`.
pub fn owner_key(chain_id: u64, signer: Arc<dyn OperationSigner>) -> WalletKey {
    WalletKey::owner("owner", vec![(chain_id, signer)])
}

/// The calls that put a fresh 6-decimal test ERC-20 (`TestToken`: `mint`, `transfer`,
/// `transferFrom`, `approve`, `balanceOf`, `decimals`) at a new address through the
/// deterministic deployment proxy and mint `amount` base units to `holder`; and that
/// address. An owner's operation carries them (the same way anyone deploys the budget
/// policy where it is missing).
pub fn test_token_calls(holder: Address, amount: U256) -> (Address, [Call; 2]) {
    use alloy_sol_types::{SolCall, sol};
    sol! {
        function mint(address to, uint256 amount);
    }
    let salt = B256::from(U256::from(rand_u64()));
    let initcode: Bytes = TEST_TOKEN_INITCODE.trim().parse().expect("hex initcode");
    let token = DETERMINISTIC_DEPLOYER.create2(salt, alloy_primitives::keccak256(&initcode));
    let mut deploy = salt.to_vec();
    deploy.extend_from_slice(&initcode);
    let calls = [
        Call::new(DETERMINISTIC_DEPLOYER, deploy.into()),
        Call::new(token, mintCall { to: holder, amount }.abi_encode().into()),
    ];
    (token, calls)
}

/// `TestToken`'s creation code (6 decimals).
pub const TEST_TOKEN_INITCODE: &str = include_str!("TestToken.initcode.hex");

/// A random address nobody controls.
pub fn random_address() -> Address {
    PrivateKeySigner::random().address()
}

/// A random number, for account indexes that keep tests apart.
pub fn rand_u64() -> u64 {
    let b = PrivateKeySigner::random().to_bytes();
    u64::from_be_bytes(b[..8].try_into().expect("8 bytes"))
}

/// 1 ether.
pub fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

/// Drive `future` to completion on this thread: the SDK's async API needs no runtime,
/// so tests await it with nothing more than a parked thread and its waker.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

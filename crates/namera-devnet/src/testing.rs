//! One devnet per test binary.
//!
//! [`shared`] starts a devnet the first time a test asks for it and hands the same one to
//! every later test of the binary. It is tied to the test process by a watchdog child, so
//! it goes away when the binary exits, whether its tests passed, panicked or it was killed;
//! nothing needs to be dropped. When `LOCAL_RPC_URL` and `LOCAL_BUNDLER_URL` are set, the
//! tests attach to that devnet instead (started with `namera devnet up`, say) and start
//! nothing; its paymaster is then `LOCAL_PAYMASTER_URL`, if set.

use std::{sync::OnceLock, time::Duration};

use alloy_primitives::Address;
use namera::{
    bundler::{BundlerClient, PaymasterClient},
    kernel::UserOperation,
    node::NodeClient,
    rpc::RpcClient,
};

use crate::{
    config::{DEFAULT_CHAIN_ID, DevnetConfig, default_home},
    devnet::{Devnet, ExtraBundler, up},
    install,
};

/// The devnet the tests of one binary share.
#[derive(Debug)]
pub struct TestDevnet {
    /// anvil's URL.
    pub rpc_url: String,
    /// Alto's URL.
    pub bundler_url: String,
    /// The chain id.
    pub chain_id: u64,
    /// The mock ERC-7677 paymaster's URL, when there is one.
    pub paymaster_url: Option<String>,
    /// The paymaster contract that sponsors operations through [`Self::paymaster_url`].
    pub paymaster_address: Option<Address>,
    /// The devnet, when this process started it (`None` when attached by env vars).
    pub devnet: Option<Devnet>,
}

impl TestDevnet {
    /// A client for the chain.
    pub fn rpc(&self) -> NodeClient {
        NodeClient::new(RpcClient::new(&self.rpc_url))
    }

    /// A client for the bundler.
    pub fn bundler(&self) -> BundlerClient {
        BundlerClient::new(RpcClient::new(&self.bundler_url))
    }
}

impl TestDevnet {
    /// A second bundler in front of this devnet's chain (see [`ExtraBundler`]) that
    /// searches the last `look_back` blocks for receipts: it knows nothing of the
    /// operations the devnet's own bundler took.
    ///
    /// # Panics
    ///
    /// When it cannot start.
    pub fn extra_bundler(&self, look_back: u64) -> ExtraBundler {
        let tools = match &self.devnet {
            Some(d) => d.state().tools.clone(),
            None => install::install(&default_home()).expect("the devnet tools install"),
        };
        let log = std::env::temp_dir().join(format!(
            "namera-extra-alto-{}-{}.log",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        ExtraBundler::start(&tools, &self.rpc_url, look_back, &log).expect("a second Alto starts")
    }
}

static SHARED: OnceLock<Result<TestDevnet, String>> = OnceLock::new();

/// The test binary's devnet, started on first use (see the module docs), or the error that
/// kept it from starting (repeated to every test that asks).
pub fn try_shared() -> Result<&'static TestDevnet, &'static str> {
    SHARED.get_or_init(start).as_ref().map_err(String::as_str)
}

/// Like [`try_shared`], but panics with the start-up error: meant for tests.
///
/// # Panics
///
/// When the devnet cannot be started.
pub fn shared() -> &'static TestDevnet {
    match try_shared() {
        Ok(devnet) => devnet,
        Err(e) => panic!("the test devnet could not start: {e}"),
    }
}

fn start() -> Result<TestDevnet, String> {
    let rpc = std::env::var("LOCAL_RPC_URL").ok().filter(|v| !v.is_empty());
    let bundler = std::env::var("LOCAL_BUNDLER_URL").ok().filter(|v| !v.is_empty());
    if let (Some(rpc_url), Some(bundler_url)) = (rpc, bundler) {
        let chain_id = NodeClient::new(RpcClient::with_timeout(&rpc_url, Duration::from_secs(10)))
            .chain_id()
            .map_err(|e| format!("LOCAL_RPC_URL is set but does not answer: {e}"))?;
        let paymaster_url = std::env::var("LOCAL_PAYMASTER_URL").ok().filter(|v| !v.is_empty());
        let paymaster_address = match &paymaster_url {
            Some(url) => Some(
                PaymasterClient::new(RpcClient::with_timeout(url, Duration::from_secs(10)))
                    .stub_data(&UserOperation::default(), chain_id, &serde_json::Value::Null)
                    .map_err(|e| format!("LOCAL_PAYMASTER_URL is set but does not answer: {e}"))?
                    .paymaster,
            ),
            None => None,
        };
        return Ok(TestDevnet {
            rpc_url,
            bundler_url,
            chain_id,
            paymaster_url,
            paymaster_address,
            devnet: None,
        });
    }
    let chain_id = std::env::var("NAMERA_DEVNET_CHAIN_ID")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CHAIN_ID);
    let config = DevnetConfig::new()
        .chain_id(chain_id)
        .named(format!("test-{}", std::process::id()))
        .tie_to_process(std::process::id());
    let devnet = up(&config).map_err(|e| e.to_string())?;
    Ok(TestDevnet {
        rpc_url: devnet.rpc_url().to_owned(),
        bundler_url: devnet.bundler_url().to_owned(),
        chain_id,
        paymaster_url: devnet.paymaster_url().map(str::to_owned),
        paymaster_address: devnet.paymaster_address(),
        devnet: Some(devnet),
    })
}

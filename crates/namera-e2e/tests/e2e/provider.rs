//! Node reads through an alloy `Provider` the caller holds (feature `alloy-provider`).

use std::sync::Arc;

use alloy_primitives::U256;
use alloy_provider::{Provider, ProviderBuilder};
use namera::{
    kernel::Call,
    provider,
    rpc::{RpcError, RpcStats},
};
use namera_e2e::{endpoints, ether, new_account, owner_key, random_address, wallet_with};

/// A wallet whose chain client knows no node URL at all, only the caller's provider:
/// everything it reads from the node (deployment, nonces, the policy check, the receipt
/// lookups) went through that provider, and an operation lands.
#[test]
fn a_wallet_on_an_alloy_provider_lands_an_operation() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let (_, account, owner) = new_account(false, ether(1));
        let alloy = ProviderBuilder::new().connect_hyper_http(endpoints().rpc.parse().unwrap());
        let stats = Arc::new(RpcStats::default());
        let chain = provider::chain_client(&alloy, &endpoints().bundler, None, stats)
            .await
            .expect("the chain id, read through the provider");
        assert_eq!(chain.chain_id, alloy.get_chain_id().await.unwrap());
        assert_eq!(chain.node.rpc().url(), "alloy provider", "no node URL of its own");

        let chain_id = chain.chain_id;
        let owner = owner_key(chain_id, Arc::new(owner));
        let wallet = wallet_with(account.config(), chain.clone(), owner);
        let to = random_address();
        let landed = wallet
            .execute(chain_id, vec![Call::transfer(to, U256::from(9))], None)
            .await
            .expect("lands");
        assert!(landed.receipt.success);
        assert_eq!(alloy.get_balance(to).await.unwrap(), U256::from(9));
        assert!(!alloy.get_code_at(account.address()).await.unwrap().is_empty(), "deployed");

        // A blocking read straight from a runtime thread would stall the runtime: it is
        // refused with words that say what to do instead.
        match chain.node.balance(to) {
            Err(RpcError::Interrupted { url, method, reason }) => {
                assert_eq!((url.as_str(), method.as_str()), ("alloy provider", "eth_getBalance"));
                assert!(reason.starts_with("called on an async runtime's thread"), "{reason}");
            }
            other => panic!("expected a refusal on a runtime thread, got {other:?}"),
        }
    });
}

/// The provider's own failures keep the SDK's error kinds: a node that is not there is
/// an interrupted read naming the provider.
#[test]
fn an_unreachable_provider_is_named() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let alloy = ProviderBuilder::new()
            .connect_hyper_http(format!("http://127.0.0.1:{port}").parse().unwrap());
        let stats = Arc::new(RpcStats::default());
        let e = provider::chain_client(&alloy, &endpoints().bundler, None, stats.clone())
            .await
            .expect_err("nobody listens");
        match e {
            RpcError::Interrupted { url, method, .. } => {
                assert_eq!((url.as_str(), method.as_str()), ("alloy provider", "eth_chainId"));
            }
            other => panic!("expected an interrupted read, got {other:?}"),
        }
        // Reads are repeated on such failures, as over the SDK's own HTTP client.
        assert_eq!(stats.round_trips(), 4, "one try and three retries");
    });
}

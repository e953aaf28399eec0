//! End-to-end tests: bring devnets up from nothing (or attach to one given by
//! `LOCAL_RPC_URL`/`LOCAL_BUNDLER_URL`) and check what Namera relies on.
//!
//! Slow by nature (processes, npm on a cold cache), so everything lives in this one test
//! binary and shares one devnet through [`namera_devnet::testing::shared`].

use std::{str::FromStr, time::Duration};

use alloy_primitives::{U256, address, keccak256};
use alloy_signer_local::PrivateKeySigner;
use namera::{
    kernel::{
        AccountConfig, KernelVersion, RootValidator,
        addresses::{ENTRY_POINT_V07 as ENTRY_POINT, META_FACTORY},
        proxy_init_code,
    },
    node::NodeClient,
    rpc::RpcClient,
};
use namera_devnet::{
    BUNDLER_EXECUTOR, BUNDLER_EXECUTOR_KEY, BUNDLER_UTILITY, BUNDLER_UTILITY_KEY, DevnetConfig,
    DevnetError,
    deploy::{self, KERNEL_VERSION},
    pid_alive, testing,
};
use serde_json::{Value, json};

#[test]
fn bundler_keys_belong_to_the_bundler_accounts() {
    let executor = PrivateKeySigner::from_str(BUNDLER_EXECUTOR_KEY).unwrap();
    let utility = PrivateKeySigner::from_str(BUNDLER_UTILITY_KEY).unwrap();
    assert_eq!(executor.address(), BUNDLER_EXECUTOR);
    assert_eq!(utility.address(), BUNDLER_UTILITY);
}

#[test]
fn every_canonical_contract_has_code() {
    let devnet = testing::shared();
    let rpc = devnet.rpc();
    let placement = match &devnet.devnet {
        Some(d) => d.state().placement.clone(),
        None => namera_devnet::default_contracts_dir()
            .map(|dir| deploy::read_placement(&dir.join("placement.json")).unwrap())
            .unwrap_or_default(),
    };
    assert!(!placement.is_empty(), "placement.json was not consumed");
    let missing: Vec<_> = namera_devnet::check_contracts(&rpc, &placement)
        .into_iter()
        .filter(|c| c.has_code != Some(true))
        .collect();
    assert!(missing.is_empty(), "no code at: {missing:?}");
    if let Some(d) = &devnet.devnet {
        assert!(d.status().is_complete(), "{:?}", d.status());
    }
}

#[test]
fn kernel_implementation_is_locked_like_on_mainnet() {
    // Kernel's constructor sets rootValidator to 0xdeadbeef so the implementation itself can
    // never be initialized; the devnet copies that storage along with the code.
    let devnet = testing::shared();
    let root = devnet
        .rpc()
        .call(KERNEL_VERSION.implementation(), &alloy_primitives::hex!("f1f7f0f9"))
        .unwrap();
    assert_eq!(&root[..4], &alloy_primitives::hex!("deadbeef"), "rootValidator() = {root}");
}

#[test]
fn kernel_factory_agrees_with_the_offline_address() {
    let devnet = testing::shared();
    let rpc = devnet.rpc();
    let owner = address!("0x4b7a2a0d0e46bf7f7507c77989d28a0a37cfe032");
    for index in [U256::ZERO, U256::from(1u64), U256::from(987_654_321u64)] {
        let account =
            AccountConfig::new(KernelVersion::V0_3_1, RootValidator::Ecdsa { owner }, index);
        let on_chain =
            deploy::factory_get_address(&rpc, &account.init_data(), account.index_bytes()).unwrap();
        assert_eq!(on_chain, account.address(), "index {index}");
        // The same CREATE2, spelled out from the SDK's proxy init code.
        assert_eq!(
            KERNEL_VERSION.factory().create2(
                account.salt(),
                keccak256(proxy_init_code(KERNEL_VERSION.implementation()))
            ),
            on_chain
        );
    }
}

alloy_sol_types::sol! {
    function owner() external view returns (address);
    function approved(address factory) external view returns (bool);
    struct DepositInfo { uint256 deposit; bool staked; uint112 stake; uint32 unstakeDelaySec; uint48 withdrawTime; }
    function getDepositInfo(address account) external view returns (DepositInfo memory info);
}

#[test]
fn meta_factory_is_initialized_approved_and_staked() {
    use alloy_sol_types::SolCall;
    let devnet = testing::shared();
    let rpc = devnet.rpc();
    let out = rpc.call(META_FACTORY, &ownerCall {}.abi_encode()).unwrap();
    assert_eq!(ownerCall::abi_decode_returns(&out).unwrap(), namera_devnet::DEPLOYER);
    let call = approvedCall { factory: KERNEL_VERSION.factory() };
    let out = rpc.call(META_FACTORY, &call.abi_encode()).unwrap();
    assert!(approvedCall::abi_decode_returns(&out).unwrap());
    let call = getDepositInfoCall { account: META_FACTORY };
    let info =
        getDepositInfoCall::abi_decode_returns(&rpc.call(ENTRY_POINT, &call.abi_encode()).unwrap())
            .unwrap();
    assert!(info.staked);
    assert_eq!(U256::from(info.stake), deploy::META_FACTORY_STAKE);
}

#[test]
fn bundler_answers() {
    let devnet = testing::shared();
    let bundler = devnet.bundler();
    let entry_points = bundler.supported_entry_points().unwrap();
    assert_eq!(entry_points, vec![ENTRY_POINT]);
    assert_eq!(NodeClient::new(bundler.rpc().clone()).chain_id().unwrap(), devnet.chain_id);
    let prices: Value = bundler.rpc().call("pimlico_getUserOperationGasPrice", json!([])).unwrap();
    assert!(prices.get("fast").is_some(), "{prices}");
}

#[test]
fn paymaster_is_placed_funded_and_answers() {
    alloy_sol_types::sol! {
        function balanceOf(address account) external view returns (uint256);
    }
    let devnet = testing::shared();
    let Some(url) = &devnet.paymaster_url else {
        eprintln!("attached to a devnet without LOCAL_PAYMASTER_URL: no paymaster to check");
        return;
    };
    let paymaster = devnet.paymaster_address.expect("known with the URL");
    let rpc = devnet.rpc();
    assert!(!rpc.code(paymaster).unwrap().is_empty(), "no code at the paymaster {paymaster}");
    // The runner deposits 50 ETH; sponsored tests may have spent a little of it.
    let deposit = rpc.view(ENTRY_POINT, &balanceOfCall { account: paymaster }).unwrap();
    assert!(deposit > U256::from(40u64) * U256::from(10u64).pow(U256::from(18)), "{deposit}");
    // ERC-7677: stub data for EntryPoint v0.7 names the same contract.
    let client = namera::bundler::PaymasterClient::new(RpcClient::new(url));
    let stub = client
        .stub_data(&namera::kernel::UserOperation::default(), devnet.chain_id, &json!({}))
        .unwrap();
    assert_eq!(stub.paymaster, paymaster);
    assert!(stub.paymaster_verification_gas_limit.is_some(), "{stub:?}");
}

#[test]
fn p256_precompile_is_present() {
    // hash ‖ r ‖ s ‖ x ‖ y: a secp256r1 signature made with Python's `cryptography`.
    let input = alloy_primitives::hex!(
        "302f9e0734ac8f192097c722e7cc184122122269a5d8706152c7f8b9e36f2095"
        "65f0290c8e16a9124fc03c59af0107529a3f68d942da2bb1bba8a50a22bcb76c"
        "392e5165a8b2a66231db14477f3a26ce957590aca7c1a96a5c4d2586721c0b1b"
        "9fad84aeae08bbef7f010014d82cef6a09de2b0cf871b5ce0c4f1d13a59a5934"
        "07cb45769f1070e2c2470fe5b1bfe63133c0b0cdc64ea4bf3791a8ec2a07fd4f"
    );
    let precompile = address!("0x0000000000000000000000000000000000000100");
    let rpc = testing::shared().rpc();
    let out = rpc.call(precompile, &input).unwrap();
    assert_eq!(U256::from_be_slice(&out), U256::from(1), "valid signature: {out}");
    let mut bad = input;
    bad[0] ^= 1;
    assert!(rpc.call(precompile, &bad).unwrap().is_empty(), "a bad signature must not verify");
}

#[test]
fn two_devnets_side_by_side_then_down() {
    if std::env::var_os("LOCAL_RPC_URL").is_some() {
        eprintln!("LOCAL_RPC_URL is set: not starting extra devnets");
        return;
    }
    let pid = std::process::id();
    let fundee = address!("0x00000000000000000000000000000000000f00d5");
    let configs = [1_337u64, 7_777].map(|id| {
        DevnetConfig::new()
            .chain_id(id)
            .named(format!("test-{pid}-{id}"))
            .fund(fundee, U256::from(id))
            .tie_to_process(pid)
    });
    // Both brought up at once, and the first one twice: the lock makes the twin reuse it.
    let (devnets, twin) = std::thread::scope(|scope| {
        let handles: Vec<_> = [&configs[0], &configs[1], &configs[0]]
            .into_iter()
            .map(|c| scope.spawn(move || namera_devnet::up(c).unwrap()))
            .collect();
        let mut all: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let twin = all.pop().unwrap();
        (all, twin)
    });
    assert_eq!(twin.state().anvil.pid, devnets[0].state().anvil.pid);
    for (devnet, config) in devnets.iter().zip(&configs) {
        assert_eq!(devnet.rpc().chain_id().unwrap(), config.chain_id_value());
        let bundler = NodeClient::new(devnet.bundler().rpc().clone());
        assert_eq!(bundler.chain_id().unwrap(), config.chain_id_value());
        assert_eq!(devnet.rpc().balance(fundee).unwrap(), U256::from(config.chain_id_value()));
        let env = namera_devnet::env(config).unwrap();
        assert!(env.contains(&format!("LOCAL_RPC_URL={}\n", devnet.rpc_url())), "{env}");
        assert!(env.contains(&format!("LOCAL_BUNDLER_URL={}\n", devnet.bundler_url())), "{env}");
        let status = namera_devnet::status(config).unwrap();
        assert!(status.is_complete(), "{status:?}");
        // JSON round trip of the status
        let text = serde_json::to_string(&status).unwrap();
        assert_eq!(serde_json::from_str::<namera_devnet::Status>(&text).unwrap(), status);
    }
    assert_ne!(devnets[0].rpc_url(), devnets[1].rpc_url());

    // `up` again reuses the running devnet.
    let again = namera_devnet::up(&configs[0]).unwrap();
    assert_eq!(again.state().anvil.pid, devnets[0].state().anvil.pid);

    for (devnet, config) in devnets.iter().zip(&configs) {
        let state = devnet.state().clone();
        let report = namera_devnet::down(config).unwrap();
        assert!(report.still_running.is_empty(), "{report:?}");
        assert!(report.stopped.contains(&state.anvil.pid), "{report:?}");
        assert!(report.stopped.contains(&state.bundler.pid), "{report:?}");
        let paymaster = state.paymaster.as_ref().expect("a paymaster was started").pid;
        assert!(report.stopped.contains(&paymaster), "{report:?}");
        assert!(!pid_alive(state.anvil.pid));
        assert!(!pid_alive(state.bundler.pid));
        assert!(!pid_alive(paymaster));
        assert!(!config.state_file().exists());
        let gone = RpcClient::with_timeout(&state.rpc_url, Duration::from_secs(2)).with_retries(0);
        assert!(NodeClient::new(gone).chain_id().is_err());
        assert!(matches!(namera_devnet::status(config), Err(DevnetError::NotRunning { .. })));
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let bad_name = DevnetConfig::new().named("../escape");
    assert!(matches!(namera_devnet::up(&bad_name), Err(DevnetError::Config(_))));
    let missing = DevnetConfig::new().named(format!("never-started-{}", std::process::id()));
    assert!(matches!(namera_devnet::down(&missing), Err(DevnetError::NotRunning { .. })));
}

#[test]
fn a_taken_port_is_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = DevnetConfig::new()
        .named(format!("test-{}-port", std::process::id()))
        .contracts_dir(None)
        .anvil_port(port);
    match namera_devnet::up(&config) {
        Err(DevnetError::PortTaken { port: p, .. }) => assert_eq!(p, port),
        other => panic!("expected PortTaken, got {other:?}"),
    }
}

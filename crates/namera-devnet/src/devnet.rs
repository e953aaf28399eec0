//! `up`, `down`, `status` and `env`, and the state file that lets each run in a different
//! process from the one that started the devnet.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Child,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, U256, address};
use serde::{Deserialize, Serialize};

use namera::{
    bundler::BundlerClient,
    kernel::addresses::{ENTRY_POINT_V07, META_FACTORY},
    node::NodeClient,
    rpc::RpcClient,
};

use crate::{
    anvil,
    config::DevnetConfig,
    deploy::{self, KERNEL_VERSION, Placement},
    error::{DevnetError, Result, file_tail, tail},
    install::{self, Tools},
    overrides::{OverrideRecord, PluginOverrides},
    process,
};

/// anvil's dev account 0 (unlocked): deploys and owns the devnet's contracts.
pub const DEPLOYER: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
/// anvil's dev account 1: Alto's executor (it signs bundles).
pub const BUNDLER_EXECUTOR: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
/// anvil's dev account 2: Alto's utility account (deploys its simulation contract, refills).
pub const BUNDLER_UTILITY: Address = address!("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
/// The private key of [`BUNDLER_EXECUTOR`]: anvil's well-known test key 1, which protects
/// nothing.
pub const BUNDLER_EXECUTOR_KEY: &str =
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// The private key of [`BUNDLER_UTILITY`]: anvil's well-known test key 2.
pub const BUNDLER_UTILITY_KEY: &str =
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

/// The version of the state file layout.
pub const STATE_VERSION: u32 = 1;

/// A started child process, as recorded in the state file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its PID (also its process group id).
    pub pid: u32,
    /// The port it listens on.
    pub port: u16,
    /// Its log file (stdout and stderr).
    pub log: PathBuf,
}

/// Everything recorded about a running devnet: `<home>/devnets/<name>.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DevnetState {
    /// Layout version ([`STATE_VERSION`]).
    pub version: u32,
    /// The devnet's name.
    pub name: String,
    /// Its chain id.
    pub chain_id: u64,
    /// anvil's JSON-RPC URL (loopback only).
    pub rpc_url: String,
    /// Alto's JSON-RPC URL (Alto listens on all interfaces).
    pub bundler_url: String,
    /// The anvil process.
    pub anvil: ProcessInfo,
    /// The Alto process.
    pub bundler: ProcessInfo,
    /// The mock ERC-7677 paymaster's URL (loopback only); `None` in state files written
    /// before the devnet had one.
    #[serde(default)]
    pub paymaster_url: Option<String>,
    /// The paymaster contract it sponsors with (Pimlico's singleton paymaster for v0.7).
    #[serde(default)]
    pub paymaster_address: Option<Address>,
    /// The paymaster server's process.
    #[serde(default)]
    pub paymaster: Option<ProcessInfo>,
    /// The watchdog that stops the devnet when its owning process exits, if any.
    pub watchdog_pid: Option<u32>,
    /// The cache folder.
    pub home: PathBuf,
    /// The tools used.
    pub tools: Tools,
    /// The plugin contracts' `artifacts.json`, if they were placed.
    pub contracts_artifacts: Option<PathBuf>,
    /// The plugin contracts placed (from `placement.json`).
    pub placement: Vec<Placement>,
    /// Code placed from a `NAMERA_PLUGIN_ARTIFACTS` file over ours, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_overrides: Option<OverrideRecord>,
    /// The accounts funded on `up`.
    pub funded: Vec<Address>,
    /// When `up` finished (seconds since the Unix epoch).
    pub started_at: u64,
    /// How long `up` took, in milliseconds.
    pub setup_ms: u64,
}

impl DevnetState {
    /// Reads a state file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = fs::read_to_string(path).map_err(|e| DevnetError::io("reading", path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| DevnetError::BadState { path: path.to_owned(), reason: e.to_string() })
    }

    fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| DevnetError::io("creating", dir, e))?;
        }
        let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| DevnetError::BadState { path: path.to_owned(), reason: e.to_string() })?;
        fs::write(&tmp, text + "\n").map_err(|e| DevnetError::io("writing", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| DevnetError::io("writing", path, e))
    }

    /// `export LOCAL_RPC_URL=…`, `export LOCAL_BUNDLER_URL=…` and `export LOCAL_CHAIN_ID=…`
    /// lines: `eval "$(namera devnet env)"` puts them in the environment of every process
    /// the shell starts afterwards (without `export` they would stay shell variables).
    pub fn env_lines(&self) -> String {
        format!(
            "export LOCAL_RPC_URL={}\nexport LOCAL_BUNDLER_URL={}\nexport LOCAL_CHAIN_ID={}\n",
            self.rpc_url, self.bundler_url, self.chain_id
        )
    }
}

/// A running devnet.
#[derive(Debug, Clone)]
pub struct Devnet {
    state: DevnetState,
    rpc: NodeClient,
    bundler: BundlerClient,
}

const CALL_TIMEOUT: Duration = Duration::from_secs(30);

impl Devnet {
    fn from_state(state: DevnetState) -> Self {
        let rpc = NodeClient::new(RpcClient::with_timeout(&state.rpc_url, CALL_TIMEOUT));
        let bundler = BundlerClient::new(RpcClient::with_timeout(&state.bundler_url, CALL_TIMEOUT));
        Self { state, rpc, bundler }
    }

    /// The recorded state.
    pub const fn state(&self) -> &DevnetState {
        &self.state
    }

    /// anvil's URL.
    pub fn rpc_url(&self) -> &str {
        &self.state.rpc_url
    }

    /// Alto's URL.
    pub fn bundler_url(&self) -> &str {
        &self.state.bundler_url
    }

    /// The chain id.
    pub const fn chain_id(&self) -> u64 {
        self.state.chain_id
    }

    /// A client for anvil (anvil-only methods are in [`crate::anvil`], over
    /// [`NodeClient::rpc`]).
    pub const fn rpc(&self) -> &NodeClient {
        &self.rpc
    }

    /// A client for Alto.
    pub const fn bundler(&self) -> &BundlerClient {
        &self.bundler
    }

    /// The mock ERC-7677 paymaster's URL (`pm_getPaymasterStubData`, `pm_getPaymasterData`).
    pub fn paymaster_url(&self) -> Option<&str> {
        self.state.paymaster_url.as_deref()
    }

    /// The paymaster contract that sponsors operations sent through [`Self::paymaster_url`].
    pub const fn paymaster_address(&self) -> Option<Address> {
        self.state.paymaster_address
    }

    /// Whether the processes are alive and anvil and Alto answer with the right chain id.
    pub fn is_healthy(&self) -> bool {
        process::is_ours(self.state.anvil.pid, "anvil")
            && process::is_ours(self.state.bundler.pid, "alto")
            && self.state.paymaster.as_ref().is_some_and(|p| process::is_ours(p.pid, "paymaster"))
            && self.rpc.chain_id().is_ok_and(|id| id == self.state.chain_id)
            && chain_id_of(self.bundler.rpc()).is_ok_and(|id| id == self.state.chain_id)
    }

    /// Which canonical contracts have code, and whether the processes are up.
    pub fn status(&self) -> Status {
        let anvil_running = process::is_ours(self.state.anvil.pid, "anvil");
        let bundler_running = process::is_ours(self.state.bundler.pid, "alto");
        let contracts = if anvil_running {
            check_contracts(&self.rpc, &self.state.placement)
        } else {
            canonical_contracts(&self.state.placement)
                .into_iter()
                .map(|(name, address)| ContractStatus { name, address, has_code: None })
                .collect()
        };
        Status {
            name: self.state.name.clone(),
            chain_id: self.state.chain_id,
            rpc_url: self.state.rpc_url.clone(),
            bundler_url: self.state.bundler_url.clone(),
            anvil_running,
            bundler_running,
            contracts,
            plugin_overrides: self.state.plugin_overrides.clone(),
        }
    }

    /// Stops the devnet's processes (only the ones it started, by PID) and removes its state
    /// file.
    pub fn down(self) -> Result<DownReport> {
        let path = self.state.home.join("devnets").join(format!("{}.json", self.state.name));
        Ok(stop_state(&self.state, &path))
    }
}

/// The canonical contracts a devnet provides: EntryPoint, Kernel 0.3.1, its factory, the
/// meta factory and every plugin in `placement`.
pub fn canonical_contracts(placement: &[Placement]) -> Vec<(String, Address)> {
    let mut list = vec![
        ("EntryPoint v0.7".to_owned(), ENTRY_POINT_V07),
        ("Kernel 0.3.1".to_owned(), KERNEL_VERSION.implementation()),
        ("KernelFactory 0.3.1".to_owned(), KERNEL_VERSION.factory()),
    ];
    if !placement.iter().any(|p| p.address == META_FACTORY) {
        list.push(("KernelMetaFactory".to_owned(), META_FACTORY));
    }
    list.extend(placement.iter().map(|p| (p.contract.clone(), p.address)));
    list
}

/// Asks `rpc` whether each canonical contract has code: works for any chain, including one
/// this process did not start (e.g. given by `LOCAL_RPC_URL`).
pub fn check_contracts(rpc: &NodeClient, placement: &[Placement]) -> Vec<ContractStatus> {
    canonical_contracts(placement)
        .into_iter()
        .map(|(name, address)| {
            let has_code = rpc.code(address).ok().map(|c| !c.is_empty());
            ContractStatus { name, address, has_code }
        })
        .collect()
}

/// One canonical contract in a [`Status`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContractStatus {
    /// Its name.
    pub name: String,
    /// Its canonical address.
    pub address: Address,
    /// Whether `eth_getCode` returns code there; `None` when the node could not be asked.
    pub has_code: Option<bool>,
}

/// What `status` reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Status {
    /// The devnet's name.
    pub name: String,
    /// Its chain id.
    pub chain_id: u64,
    /// anvil's URL.
    pub rpc_url: String,
    /// Alto's URL.
    pub bundler_url: String,
    /// Whether the anvil process is alive.
    pub anvil_running: bool,
    /// Whether the Alto process is alive.
    pub bundler_running: bool,
    /// Each canonical contract.
    pub contracts: Vec<ContractStatus>,
    /// Which addresses hold code from a `NAMERA_PLUGIN_ARTIFACTS` file instead of ours
    /// (`None`: all ours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_overrides: Option<OverrideRecord>,
}

impl Status {
    /// Whether everything is up and every canonical contract has code.
    pub fn is_complete(&self) -> bool {
        self.anvil_running
            && self.bundler_running
            && self.contracts.iter().all(|c| c.has_code == Some(true))
    }
}

/// What `down` did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DownReport {
    /// The devnet's name.
    pub name: String,
    /// PIDs that were running and are now stopped.
    pub stopped: Vec<u32>,
    /// PIDs that were already gone (or had been recycled by another program).
    pub already_gone: Vec<u32>,
    /// PIDs that would not stop.
    pub still_running: Vec<u32>,
}

fn stop_state(state: &DevnetState, path: &Path) -> DownReport {
    let mut report = DownReport {
        name: state.name.clone(),
        stopped: vec![],
        already_gone: vec![],
        still_running: vec![],
    };
    // The watchdog first, so it does not race us; then the bundler, which talks to anvil.
    let mut targets = Vec::new();
    if let Some(pid) = state.watchdog_pid {
        targets.push((pid, "namera-devnet-watchdog"));
    }
    if let Some(p) = &state.paymaster {
        targets.push((p.pid, "paymaster"));
    }
    targets.push((state.bundler.pid, "alto"));
    targets.push((state.anvil.pid, "anvil"));
    for (pid, marker) in targets {
        if !process::is_ours(pid, marker) {
            report.already_gone.push(pid);
        } else if process::stop(pid, Duration::from_secs(5)) {
            report.stopped.push(pid);
        } else {
            report.still_running.push(pid);
        }
    }
    if report.still_running.is_empty() {
        let _ = fs::remove_file(path);
    }
    report
}

/// Loads the devnet `config` names, if its state file exists.
pub fn load(config: &DevnetConfig) -> Result<Devnet> {
    config.validate()?;
    let path = config.state_file();
    if !path.is_file() {
        return Err(DevnetError::NotRunning { name: config.name(), path });
    }
    DevnetState::load(&path).map(Devnet::from_state)
}

/// The status of the devnet `config` names.
pub fn status(config: &DevnetConfig) -> Result<Status> {
    load(config).map(|d| d.status())
}

/// The `LOCAL_RPC_URL=…`/`LOCAL_BUNDLER_URL=…` lines of the devnet `config` names.
pub fn env(config: &DevnetConfig) -> Result<String> {
    load(config).map(|d| d.state.env_lines())
}

/// Stops the devnet `config` names.
pub fn down(config: &DevnetConfig) -> Result<DownReport> {
    let devnet = load(config)?;
    Ok(stop_state(&devnet.state, &config.state_file()))
}

/// Starts the devnet `config` describes, or reuses it if it already runs and is healthy.
///
/// Two processes bringing up the same name at once are serialised by a lock file next to
/// the state file; the second one then finds the first one's devnet and reuses it.
pub fn up(config: &DevnetConfig) -> Result<Devnet> {
    config.validate()?;
    let _lock = UpLock::acquire(&config.state_file().with_extension("lock"), config.timeout)?;
    up_locked(config)
}

/// A lock file holding the PID of the process bringing a devnet up; removed on drop. A lock
/// whose process is gone is stale and taken over.
struct UpLock(PathBuf);

impl UpLock {
    fn acquire(path: &Path, timeout: Duration) -> Result<Self> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| DevnetError::io("creating", dir, e))?;
        }
        // Installing on a cold cache takes minutes; allow for it on top of the timeout.
        let deadline = Instant::now() + timeout + Duration::from_secs(600);
        loop {
            match fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut file) => {
                    use std::io::Write;
                    let _ = write!(file, "{}", std::process::id());
                    return Ok(Self(path.to_owned()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder =
                        fs::read_to_string(path).ok().and_then(|t| t.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if process::pid_alive(pid) => {}
                        // Dead holder, or a lock written so recently that its PID is not
                        // there yet: only the former is stale.
                        Some(_) => {
                            let _ = fs::remove_file(path);
                            continue;
                        }
                        None => {}
                    }
                    if Instant::now() >= deadline {
                        return Err(DevnetError::Config(format!(
                            "another process (lock {}) is still bringing this devnet up",
                            path.display()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(DevnetError::io("creating", path, e)),
            }
        }
    }
}

impl Drop for UpLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn up_locked(config: &DevnetConfig) -> Result<Devnet> {
    let started = Instant::now();
    let path = config.state_file();
    if path.is_file() {
        match DevnetState::load(&path).map(Devnet::from_state) {
            Ok(existing)
                if existing.is_healthy()
                    && existing.chain_id() == config.chain_id
                    && existing.state.plugin_overrides.as_ref().map(|r| &r.path)
                        == config.plugin_artifacts.as_ref() =>
            {
                fund(&existing.rpc, &config.fund)?;
                return Ok(existing);
            }
            Ok(stale) => {
                stop_state(&stale.state, &path);
            }
            Err(_) => {
                let _ = fs::remove_file(&path);
            }
        }
    }

    // A bad override file is the user's input: refuse it before installing anything.
    let overrides = config.plugin_artifacts.as_deref().map(PluginOverrides::read).transpose()?;
    let tools = install::install(&config.home)?;
    let log_dir = config.log_dir();
    fs::create_dir_all(&log_dir).map_err(|e| DevnetError::io("creating", &log_dir, e))?;

    // Build the plugin contracts before starting anything: it is the step most likely to fail.
    let plugins = match &config.contracts_dir {
        Some(dir) => Some(build_contracts(dir, &config.home)?),
        None => None,
    };

    let (mut anvil, anvil_info) = start_anvil(config, &tools, &log_dir)?;
    let rpc = NodeClient::new(RpcClient::with_timeout(
        format!("http://127.0.0.1:{}", anvil_info.port),
        CALL_TIMEOUT,
    ));
    let mut children = vec![anvil_info.pid];
    let result = (|| {
        wait_ready(rpc.rpc(), &mut anvil, "anvil", &anvil_info.log, config.timeout, |rpc| {
            chain_id_of(rpc).map(drop)
        })?;
        deploy::deploy_entry_point(&rpc, DEPLOYER, &tools.entry_point_creation_code()?)?;
        let kernel = tools.kernel_bytecode()?;
        deploy::place_kernel(&rpc, DEPLOYER, &kernel.kernel, &kernel.kernel_factory)?;
        deploy::check_factory(&rpc)?;
        deploy::deploy_budget_policy(&rpc, DEPLOYER)?;
        let (artifacts, placement) = match &plugins {
            Some((artifacts, placement)) => {
                deploy::place_plugins(&rpc, DEPLOYER, artifacts, placement)?;
                (Some(artifacts.clone()), placement.clone())
            }
            None => (None, Vec::new()),
        };
        if let Some(overrides) = &overrides {
            for (address, code) in &overrides.code {
                anvil::set_code(rpc.rpc(), *address, code)?;
            }
        }
        fund(&rpc, &config.fund)?;

        let (mut alto, bundler_info) =
            start_alto(config.bundler_port, &tools, &rpc, &log_dir.join("alto.log"), &[])?;
        children.push(bundler_info.pid);
        let bundler_url = format!("http://127.0.0.1:{}", bundler_info.port);
        // The paymaster starts while Alto does (it needs only the chain to answer ERC-7677
        // calls; it forwards other methods to Alto), which keeps `up` about as quick as
        // before it had one.
        let (mut pm, paymaster_info) = start_paymaster(&tools, &rpc, &bundler_url, &log_dir)?;
        children.push(paymaster_info.pid);
        let bundler = RpcClient::with_timeout(&bundler_url, CALL_TIMEOUT);
        wait_ready(&bundler, &mut alto, "bundler", &bundler_info.log, config.timeout, |b| {
            BundlerClient::new(b.clone()).supported_entry_points().map(drop)
        })?;

        let paymaster_url = format!("http://127.0.0.1:{}", paymaster_info.port);
        let pm_rpc = RpcClient::with_timeout(&paymaster_url, CALL_TIMEOUT);
        let paymaster_address = std::cell::Cell::new(None);
        wait_ready(&pm_rpc, &mut pm, "paymaster", &paymaster_info.log, config.timeout, |p| {
            let stub = paymaster_probe(p, config.chain_id)?;
            paymaster_address.set(Some(stub.paymaster));
            Ok(())
        })?;

        let watchdog_pid = match config.tie_to_pid {
            Some(parent) => {
                let pid = process::spawn_watchdog(
                    parent,
                    &children,
                    &log_dir.join("watchdog.log"),
                    &path,
                )?;
                children.push(pid);
                Some(pid)
            }
            None => None,
        };
        let state = DevnetState {
            version: STATE_VERSION,
            name: config.name(),
            chain_id: config.chain_id,
            rpc_url: rpc.rpc().url().to_owned(),
            bundler_url,
            anvil: anvil_info.clone(),
            bundler: bundler_info,
            paymaster_url: Some(paymaster_url),
            paymaster_address: paymaster_address.get(),
            paymaster: Some(paymaster_info),
            watchdog_pid,
            home: config.home.clone(),
            tools: tools.clone(),
            contracts_artifacts: artifacts,
            placement,
            plugin_overrides: overrides.as_ref().map(PluginOverrides::record),
            funded: config.fund.iter().map(|(a, _)| *a).collect(),
            started_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            setup_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        state.save(&path)?;
        Ok(Devnet::from_state(state))
    })();
    if result.is_err() {
        for pid in children.into_iter().rev() {
            process::stop(pid, Duration::from_secs(3));
        }
    }
    result
}

fn fund(node: &NodeClient, accounts: &[(Address, U256)]) -> Result<()> {
    for (address, wei) in accounts {
        anvil::set_balance(node.rpc(), *address, *wei)?;
    }
    Ok(())
}

/// `eth_chainId` of any endpoint: Alto answers it too, and a devnet is only healthy when
/// both agree with the recorded chain id.
fn chain_id_of(rpc: &RpcClient) -> Result<u64, namera::rpc::RpcError> {
    NodeClient::new(rpc.clone()).chain_id()
}

/// Builds `contracts/` with its `build.mjs` into `<home>/contracts-build` (which caches by
/// source hash) and reads its `placement.json`.
fn build_contracts(dir: &Path, home: &Path) -> Result<(PathBuf, Vec<Placement>)> {
    let placement = deploy::read_placement(&dir.join("placement.json"))?;
    if !dir.join("node_modules/solc").is_dir() {
        let prefix = dir.to_string_lossy().into_owned();
        install::run_npm(
            &["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", &prefix],
            dir,
            "contracts/ (npm ci)",
        )?;
    }
    let out_dir = home.join("contracts-build");
    let node = install::which("node").ok_or(DevnetError::NodeMissing { tool: "node" })?;
    let out = std::process::Command::new(node)
        .arg(dir.join("build.mjs"))
        .arg("--out")
        .arg(&out_dir)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| DevnetError::io("running", dir.join("build.mjs"), e))?;
    if !out.status.success() {
        return Err(DevnetError::ContractsBuildFailed {
            dir: dir.to_owned(),
            status: out.status.to_string(),
            stderr_tail: tail(&String::from_utf8_lossy(&out.stderr), 30),
        });
    }
    Ok((out_dir.join("artifacts.json"), placement))
}

fn pick_port(host: &str, wanted: Option<u16>) -> Result<u16> {
    match wanted {
        Some(port) if process::port_is_free(host, port) => Ok(port),
        Some(port) => Err(DevnetError::PortTaken { host: host.to_owned(), port }),
        None => process::free_port(host),
    }
}

fn start_anvil(
    config: &DevnetConfig,
    tools: &Tools,
    log_dir: &Path,
) -> Result<(Child, ProcessInfo)> {
    let port = pick_port("127.0.0.1", config.anvil_port)?;
    let log = log_dir.join("anvil.log");
    let args: Vec<String> = [
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--chain-id",
        &config.chain_id.to_string(),
        // Osaka: the P-256 precompile at 0x100 (EIP-7951) for passkeys.
        "--hardfork",
        "osaka",
        // Kernel's runtime is larger than EIP-170 allows; it is deployed here before being
        // copied to its canonical address.
        "--disable-code-size-limit",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let child = process::spawn(&tools.anvil, &args, &log)?;
    let info = ProcessInfo { pid: child.id(), port, log };
    Ok((child, info))
}

fn start_alto(
    wanted_port: Option<u16>,
    tools: &Tools,
    rpc: &NodeClient,
    log: &Path,
    extra_args: &[String],
) -> Result<(Child, ProcessInfo)> {
    // Alto binds every interface (it has no host option), so the port is checked there.
    let port = pick_port("0.0.0.0", wanted_port)?;
    let log = log.to_owned();
    let entry_point = ENTRY_POINT_V07.to_string();
    let args: Vec<String> = [
        tools.alto.to_string_lossy().as_ref(),
        "--entrypoints",
        &entry_point,
        "--executor-private-keys",
        BUNDLER_EXECUTOR_KEY,
        "--utility-private-key",
        BUNDLER_UTILITY_KEY,
        "--safe-mode",
        "false",
        "--rpc-url",
        rpc.rpc().url(),
        "--port",
        &port.to_string(),
        "--max-bundle-interval",
        "100",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(extra_args.iter().cloned())
    .collect();
    let child = process::spawn(&tools.node, &args, &log)?;
    let info = ProcessInfo { pid: child.id(), port, log };
    Ok((child, info))
}

/// How long an extra bundler may take to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Another Alto in front of the same chain, stopped when dropped.
///
/// A hosted bundler runs several instances behind one URL, and an instance that did not
/// bundle an operation knows its receipt only if the operation sits in the blocks it
/// searches: Alto looks in its own cache, then in the logs of the last
/// `--max-block-range` blocks (2,000 by default; providers that limit `eth_getLogs`
/// ranges need less). This one never bundled anything and looks back as far as it is
/// told, which makes that real behaviour easy to meet in a test.
#[derive(Debug)]
pub struct ExtraBundler {
    child: Child,
    url: String,
}

impl ExtraBundler {
    /// Start one for the chain at `rpc_url` that searches the logs of the last
    /// `look_back` blocks for receipts, with the tools `tools` (its log goes to `log`).
    pub fn start(tools: &Tools, rpc_url: &str, look_back: u64, log: &Path) -> Result<Self> {
        let rpc = NodeClient::new(RpcClient::with_timeout(rpc_url, CALL_TIMEOUT));
        let range = ["--max-block-range".to_owned(), look_back.to_string()];
        let (mut child, info) = start_alto(None, tools, &rpc, log, &range)?;
        let url = format!("http://127.0.0.1:{}", info.port);
        let bundler = RpcClient::with_timeout(&url, CALL_TIMEOUT);
        let ready = wait_ready(&bundler, &mut child, "bundler", log, READY_TIMEOUT, |b| {
            BundlerClient::new(b.clone()).supported_entry_points().map(drop)
        });
        let this = Self { child, url };
        ready.map(|()| this)
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ExtraBundler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_paymaster(
    tools: &Tools,
    rpc: &NodeClient,
    bundler_url: &str,
    log_dir: &Path,
) -> Result<(Child, ProcessInfo)> {
    if !tools.paymaster.is_file() {
        return Err(DevnetError::BadArtifact {
            path: tools.paymaster.clone(),
            reason: "the paymaster runner is not installed".into(),
        });
    }
    let port = pick_port("127.0.0.1", None)?;
    let log = log_dir.join("paymaster.log");
    let args = vec![
        tools.paymaster.to_string_lossy().into_owned(),
        rpc.rpc().url().to_owned(),
        bundler_url.to_owned(),
        port.to_string(),
    ];
    let child = process::spawn(&tools.node, &args, &log)?;
    let info = ProcessInfo { pid: child.id(), port, log };
    Ok((child, info))
}

/// Asks the paymaster for stub data for a blank operation: it answers once it has placed
/// and funded its contract, and the answer names that contract.
fn paymaster_probe(
    rpc: &RpcClient,
    chain_id: u64,
) -> Result<namera::bundler::PaymasterData, namera::rpc::RpcError> {
    let op = namera::kernel::UserOperation::default();
    namera::bundler::PaymasterClient::new(rpc.clone()).stub_data(
        &op,
        chain_id,
        &serde_json::Value::Null,
    )
}

/// Polls `probe` until it succeeds, the child exits, or `timeout` passes.
fn wait_ready(
    client: &RpcClient,
    child: &mut Child,
    service: &'static str,
    log: &Path,
    timeout: Duration,
    probe: impl Fn(&RpcClient) -> Result<(), namera::rpc::RpcError>,
) -> Result<()> {
    let process = match service {
        "anvil" => "anvil",
        "paymaster" => "paymaster",
        _ => "alto",
    };
    let deadline = Instant::now() + timeout;
    // Polled every 100 ms already: a probe must fail fast, not retry.
    let quick = RpcClient::with_timeout(client.url(), Duration::from_secs(2)).with_retries(0);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log_tail = file_tail(log, 30);
            if let Some(port) = taken_port(&log_tail, client.url()) {
                return Err(DevnetError::PortTaken { host: "127.0.0.1".into(), port });
            }
            return Err(DevnetError::ProcessDied {
                process,
                status: status.to_string(),
                log: log.to_owned(),
                log_tail,
            });
        }
        if probe(&quick).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(DevnetError::NotReady {
                service,
                url: client.url().to_owned(),
                timeout_secs: timeout.as_secs(),
                log: log.to_owned(),
                log_tail: file_tail(log, 30),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The port of `url` if the log says it was in use (someone took it between our check and
/// the child's bind).
fn taken_port(log_tail: &str, url: &str) -> Option<u16> {
    let lower = log_tail.to_ascii_lowercase();
    if !(lower.contains("address already in use") || lower.contains("eaddrinuse")) {
        return None;
    }
    url.rsplit(':').next()?.trim_end_matches('/').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_in_use_is_recognised() {
        assert_eq!(
            taken_port("Error: Address already in use (os error 98)", "http://127.0.0.1:8545"),
            Some(8545)
        );
        assert_eq!(
            taken_port("listen EADDRINUSE: 0.0.0.0:3000", "http://127.0.0.1:3000/"),
            Some(3000)
        );
        assert_eq!(taken_port("all good", "http://127.0.0.1:8545"), None);
    }

    #[test]
    fn canonical_list_has_core_contracts_and_meta_factory() {
        let list = canonical_contracts(&[]);
        assert_eq!(list.len(), 4);
        assert!(list.iter().any(|(_, a)| *a == META_FACTORY));
    }
}

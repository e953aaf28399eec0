//! What the MCP tests share: a wallet of session keys on a fresh devnet account, the
//! server binary, the PyPI `mcp` client in a cached venv, and a recording bundler proxy.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use namera::{
    account::SmartAccount,
    permission::{Permission, PermissionSigner},
    policy::{CallPermission, CallPolicy, Policy, PolicyKind},
    rpc::RpcClient,
    session_key::{SerializedSessionKey, SessionPrivateKey, issue},
};
use namera_e2e::{endpoints, ether, new_account, random_address};
use serde_json::{Value, json};

/// The server binary.
pub(crate) const SERVER: &str = env!("CARGO_BIN_EXE_namera-mcp");

/// The agent key's per-transfer limit: 0.01 ether.
pub(crate) fn agent_limit() -> U256 {
    ether(1) / U256::from(100)
}

/// A fresh account with two session keys, serialized to a keys file as the CLI would
/// hand them over. The owner key stays in this (test) process.
pub(crate) struct Fixture {
    /// The owner's key (kept only to prove the server never sees it).
    pub(crate) owner: PrivateKeySigner,
    /// The account (clients for the devnet).
    pub(crate) account: SmartAccount,
    /// `agent`: plain transfers to anyone up to 0.01 ether, until `valid_until`, with a
    /// 5 ether gas budget.
    pub(crate) agent: PrivateKeySigner,
    /// `tips`: plain transfers to `tip_jar` only, up to 1 ether.
    pub(crate) tips: PrivateKeySigner,
    /// The only address `tips` may pay.
    pub(crate) tip_jar: Address,
    /// Each key's permission, by alias (`agent`, `tips`).
    pub(crate) permissions: Vec<(&'static str, Permission)>,
    /// The agent key's timestamp policy end.
    pub(crate) valid_until: u64,
    /// `alias base64` lines.
    pub(crate) keys_file: PathBuf,
}

impl Fixture {
    /// A new account funded with 20 ether and its keys.
    pub(crate) fn new() -> Self {
        let (owner, account, _) = new_account(false, ether(20));
        let now = account.chain().node.timestamp().expect("chain time");
        let valid_until = now + 86_400;
        let tip_jar = random_address();
        let call = |p: CallPermission| {
            Policy::new(PolicyKind::Call(CallPolicy {
                permissions: vec![p],
                ..CallPolicy::default()
            }))
        };
        let agent = PrivateKeySigner::random();
        let agent_policies = vec![
            call(CallPermission::transfer(Address::ZERO, agent_limit())),
            Policy::new(PolicyKind::Timestamp { valid_after: 0, valid_until }),
            Policy::new(PolicyKind::Gas {
                allowed: 5 * 10u128.pow(18),
                enforce_paymaster: false,
                allowed_paymaster: Address::ZERO,
            }),
        ];
        let tips = PrivateKeySigner::random();
        let tips_policies = vec![call(CallPermission::transfer(tip_jar, ether(1)))];
        let (keys_file, permissions) = write_keys_file(
            &owner,
            &account,
            vec![("agent", &agent, agent_policies), ("tips", &tips, tips_policies)],
        );
        Self { owner, account, agent, tips, tip_jar, permissions, valid_until, keys_file }
    }

    /// Server arguments naming the chain (with `bundler` in front of the real one).
    pub(crate) fn server_args(&self, transport: &str, bundler: &str) -> Vec<String> {
        let e = endpoints();
        [transport, "--rpc", &e.rpc, "--bundler", bundler, "--keys-file"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([self.keys_file.to_string_lossy().into_owned()])
            .collect()
    }

    /// Native balance.
    pub(crate) fn balance(&self, who: Address) -> U256 {
        self.account.chain().node.balance(who).unwrap()
    }
}

/// Issues each `(alias, key, policies)` on `account` and writes them to a keys file
/// (`alias base64` lines, as the CLI hands them over); returns it and the permissions.
pub(crate) fn write_keys_file(
    owner: &PrivateKeySigner,
    account: &SmartAccount,
    keys: Vec<(&'static str, &PrivateKeySigner, Vec<Policy>)>,
) -> (PathBuf, Vec<(&'static str, Permission)>) {
    let mut lines = String::new();
    let mut permissions = Vec::new();
    for (alias, key, policies) in keys {
        let permission = Permission::new(PermissionSigner::Ecdsa(key.address()), policies).unwrap();
        let (approval, _) = issue(owner, &[account], &permission, key).unwrap();
        let serialized = SerializedSessionKey::new(
            &permission,
            account.config(),
            Some(approval.chains[0].enable_signature.clone()),
            Some(SessionPrivateKey::new(key.to_bytes())),
        );
        lines.push_str(&format!("{alias} {}\n", serialized.to_base64()));
        permissions.push((alias, permission));
    }
    let keys_file = scratch(&format!("keys-{}.txt", account.address()));
    std::fs::write(&keys_file, lines).unwrap();
    (keys_file, permissions)
}

/// A fresh path under the tests' scratch folder.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("namera-mcp-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Put a tiny token at a fresh address: `balanceOf(a)` reads storage slot `a`,
/// `decimals()` is 6, `symbol()` is "TST". Hand-assembled (the devnet has no token).
pub(crate) fn deploy_token(holder: Address, balance: U256) -> Address {
    let token = random_address();
    let tst = format!("545354{}", "00".repeat(29));
    let code = [
        "5f3560e01c",             // selector = calldata[0..4]
        "806370a0823114602557",   // balanceOf → 0x25
        "8063313ce56714603057",   // decimals → 0x30
        "6395d89b4114603957",     // symbol → 0x39
        "5f5ffd",                 // anything else reverts
        "5b600435545f5260205ff3", // 0x25: return sload(arg 0)
        "5b60065f5260205ff3",     // 0x30: return 6
        "5b60205f5260036020527f", // 0x39: string offset, length 3, PUSH32 text
    ]
    .concat();
    let code = format!("0x{code}{tst}60405260605ff3");
    let rpc = RpcClient::new(endpoints().rpc);
    let _: Value = rpc.call("anvil_setCode", json!([token, code])).unwrap();
    let slot = U256::from_be_slice(holder.into_word().as_slice());
    let _: Value = rpc
        .call(
            "anvil_setStorageAt",
            json!([token, format!("{:#066x}", slot), format!("{:#066x}", balance)]),
        )
        .unwrap();
    token
}

/// The venv's python with the PyPI `mcp` package, installed once under the target dir.
pub(crate) fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mcp-venv");
        let python = venv.join("bin/python");
        let has_mcp = || {
            Command::new(&python)
                .args([
                    "-c",
                    "import importlib.metadata as m, mcp.client.streamable_http; \
                     assert m.version('mcp') == '2.3.0'",
                ])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !has_mcp() {
            let ok = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "python3 -m venv failed");
            let ok = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "mcp==2.3.0"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok && has_mcp(), "installing the mcp package failed");
        }
        python
    })
}

/// Run the Python client on `plan`; its report.
pub(crate) fn run_client(plan: &Value) -> Value {
    let path = scratch(&format!("plan-{}.json", unique()));
    std::fs::write(&path, plan.to_string()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/client.py");
    let out = Command::new(python()).arg(script).arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "client failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("client output is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
    })
}

fn unique() -> String {
    let n = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{}-{n}", std::process::id())
}

/// Seconds since the epoch.
pub(crate) fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// A bundler proxy that records each JSON-RPC method it forwards, with the time.
pub(crate) struct Recorder {
    /// Its URL.
    pub(crate) url: String,
    seen: Arc<Mutex<Vec<(f64, String)>>>,
}

impl Recorder {
    /// Forward to `upstream`.
    pub(crate) fn start(upstream: String) -> Self {
        Self::slow(upstream, Duration::ZERO)
    }

    /// Forward to `upstream`, each request `delay` late (a slow bundler).
    pub(crate) fn slow(upstream: String, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<(f64, String)>>> = Arc::default();
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, upstream) = (log.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let _ = proxy_connection(stream, &upstream, &log, delay);
                });
            }
        });
        Self { url, seen }
    }

    /// The methods forwarded between `from` and `to` (epoch seconds).
    pub(crate) fn methods_between(&self, from: f64, to: f64) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|(t, _)| *t >= from && *t <= to).map(|(_, m)| m.clone()).collect()
    }
}

fn proxy_connection(
    stream: TcpStream,
    upstream: &str,
    log: &Mutex<Vec<(f64, String)>>,
    delay: Duration,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).build().into();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let methods: Vec<String> = match &request {
            Value::Array(items) => {
                items.iter().filter_map(|i| i["method"].as_str()).map(Into::into).collect()
            }
            one => one["method"].as_str().map(Into::into).into_iter().collect(),
        };
        {
            let t = now();
            let mut l = log.lock().unwrap();
            l.extend(methods.into_iter().map(|m| (t, m)));
        }
        std::thread::sleep(delay);
        let mut answer = agent
            .post(upstream)
            .header("content-type", "application/json")
            .send(&body[..])
            .map_err(std::io::Error::other)?;
        let status = answer.status().as_u16();
        let text = answer.body_mut().read_to_string().map_err(std::io::Error::other)?;
        write!(
            writer,
            "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
            text.len()
        )?;
        writer.flush()?;
    }
}

/// A running HTTP server process, killed on drop.
pub(crate) struct HttpProcess {
    /// The child.
    pub(crate) child: Child,
    /// `http://127.0.0.1:PORT/mcp`.
    pub(crate) url: String,
}

impl HttpProcess {
    /// Start the server over HTTP on a free port with `token`.
    pub(crate) fn start(fixture: &Fixture, bundler: &str, token: &str, extra: &[&str]) -> Self {
        Self::start_with_fd_limit(fixture, bundler, token, extra, None)
    }

    /// [`Self::start`], with at most `fd_limit` open files in the server (`ulimit -n`).
    pub(crate) fn start_with_fd_limit(
        fixture: &Fixture,
        bundler: &str,
        token: &str,
        extra: &[&str],
        fd_limit: Option<u32>,
    ) -> Self {
        let mut command = match fd_limit {
            None => Command::new(SERVER),
            Some(n) => {
                let mut c = Command::new("sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), SERVER]);
                c
            }
        };
        let mut child = command
            .args(fixture.server_args("http", bundler))
            .args(["--port", "0"])
            .args(extra)
            .env("NAMERA_MCP_TOKEN", token)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            assert!(Instant::now() < deadline, "the server did not say where it listens");
            match lines.next() {
                Some(Ok(l)) => {
                    if let Some(u) = l.strip_prefix("namera-mcp: listening on ") {
                        break u.to_owned();
                    }
                    eprintln!("{l}");
                }
                _ => panic!("the server exited: {:?}", child.wait()),
            }
        };
        // Keep draining its stderr so it never blocks on a full pipe.
        std::thread::spawn(move || {
            lines.for_each(|l| eprintln!("server: {}", l.unwrap_or_default()))
        });
        Self { child, url }
    }
}

impl Drop for HttpProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

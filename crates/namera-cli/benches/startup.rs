//! How fast and light the `namera` binary starts, measured on whole processes.
//!
//! ```sh
//! cargo bench -p namera-cli --bench startup
//! ```
//!
//! Each command runs many times; the median wall time and the largest peak resident
//! memory (GNU time's `%M`) are reported, next to `true` measured the same way in the
//! same run as the baseline (the cost of starting any process here). The issue's targets
//! are printed beside the figures: `--help` and `schema` ≤ 10 ms and ≤ 10 MiB, `keystore
//! create` with scrypt n=2^18 ≤ 0.5 s.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

struct Figure {
    name: &'static str,
    median: Duration,
    peak_kib: u64,
}

fn measure(
    name: &'static str,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
    runs: usize,
    home: &Path,
) -> Figure {
    let mut times = Vec::with_capacity(runs);
    let mut peak_kib = 0;
    let rss_file = home.join("rss.txt");
    for i in 0..runs {
        // Fresh aliases for commands that create something.
        let args: Vec<String> = args.iter().map(|a| a.replace("{i}", &i.to_string())).collect();
        let started = Instant::now();
        let status = Command::new("/usr/bin/time")
            .args(["-f", "%M", "-o"])
            .arg(&rss_file)
            .arg(program)
            .args(&args)
            .env("NAMERA_HOME", home)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("GNU time runs");
        times.push(started.elapsed());
        assert!(status.success(), "{name} failed: {program} {args:?}");
        let kib: u64 = std::fs::read_to_string(&rss_file)
            .ok()
            .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()))
            .unwrap_or(0);
        peak_kib = peak_kib.max(kib);
    }
    times.sort();
    Figure { name, median: times[runs / 2], peak_kib }
}

fn main() {
    let namera = env!("CARGO_BIN_EXE_namera");
    let home = std::env::temp_dir().join(format!("namera-bench-startup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let pw = [("BENCH_PW", "bench password")];
    let baseline = measure("true (baseline)", "true", &[], &[], 50, &home);
    let figures = [
        measure("namera --help", namera, &["--help"], &[], 50, &home),
        measure(
            "namera schema session-key.create",
            namera,
            &["schema", "session-key.create"],
            &[],
            50,
            &home,
        ),
        measure("namera keystore list", namera, &["keystore", "list"], &[], 50, &home),
        measure(
            "namera keystore create (scrypt n=2^18)",
            namera,
            &["keystore", "create", "--alias", "k{i}", "--password-env", "BENCH_PW"],
            &pw,
            7,
            &home,
        ),
    ];
    // An older build to compare with, measured in the same run.
    let before = std::env::var("NAMERA_BEFORE").ok();
    let before_figures: Vec<Figure> = before
        .iter()
        .flat_map(|b| {
            [
                measure("namera --help (NAMERA_BEFORE)", b, &["--help"], &[], 50, &home),
                measure(
                    "namera schema session-key.create (BEFORE)",
                    b,
                    &["schema", "session-key.create"],
                    &[],
                    50,
                    &home,
                ),
            ]
        })
        .collect();
    let mcp = mcp_start(namera, &home);
    let mcp_before = before.as_deref().map(|b| mcp_start(b, &home.join("before")));
    let _ = std::fs::remove_dir_all(&home);
    println!("{:<40} {:>10} {:>10} {:>12}", "command", "median", "× true", "peak RSS");
    for f in std::iter::once(&baseline).chain(&figures).chain(&before_figures) {
        println!(
            "{:<40} {:>8.2}ms {:>9.1}× {:>9.1}MiB",
            f.name,
            f.median.as_secs_f64() * 1e3,
            f.median.as_secs_f64() / baseline.median.as_secs_f64(),
            f.peak_kib as f64 / 1024.0
        );
    }
    println!("targets: --help and schema ≤ 10 ms and ≤ 10 MiB; keystore create ≤ 500 ms");
    println!(
        "namera mcp start (1 key, standard scrypt): initialize answered after {:.1} ms median ({:.1}× true); \
         resident {:.1} MiB while serving once the key is unlocked (target ≤ 50 ms, ≤ 30 MiB)",
        mcp.0.as_secs_f64() * 1e3,
        mcp.0.as_secs_f64() / baseline.median.as_secs_f64(),
        mcp.1 as f64 / 1024.0
    );
    if let Some((d, rss)) = mcp_before {
        println!(
            "  NAMERA_BEFORE: initialize after {:.1} ms median; resident {:.1} MiB",
            d.as_secs_f64() * 1e3,
            rss as f64 / 1024.0
        );
    }
}

/// `namera mcp start` over stdio against the devnet: the time from spawning it to the
/// `initialize` answer (median of 9), and its resident memory after a tool call has
/// waited for the unlocked wallet.
fn mcp_start(namera: &str, home: &Path) -> (Duration, u64) {
    use std::io::{BufRead, BufReader, Write};
    let devnet = namera_devnet::testing::shared();
    let env = [
        ("LOCAL_RPC_URL", devnet.rpc_url.as_str()),
        ("LOCAL_BUNDLER_URL", devnet.bundler_url.as_str()),
        ("OWNER_PW", "owner"),
        ("BOT_PW", "bot"),
    ];
    let run = |args: &[&str]| {
        let ok =
            Command::new(namera).args(args).env("NAMERA_HOME", home).envs(env).output().unwrap();
        assert!(ok.status.success(), "{args:?}: {}", String::from_utf8_lossy(&ok.stderr));
    };
    run(&[
        "keystore",
        "create",
        "--alias",
        "mcp-owner",
        "--light-kdf",
        "--password-env",
        "OWNER_PW",
    ]);
    run(&[
        "smart-account",
        "create",
        "--alias",
        "mcp-acc",
        "--keystore",
        "mcp-owner",
        "--chain",
        "local",
    ]);
    run(&[
        "session-key",
        "create",
        "--alias",
        "mcp-bot",
        "--smart-account",
        "mcp-acc",
        "--policy",
        r#"{"type":"sudo"}"#,
        "--password-env",
        "OWNER_PW",
        "--session-password-env",
        "BOT_PW",
    ]);
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}"#;
    let mut times = Vec::new();
    let mut rss_kib = 0;
    for i in 0..9 {
        let started = Instant::now();
        let mut child = Command::new(namera)
            .args([
                "mcp",
                "start",
                "--smart-account",
                "mcp-acc",
                "--session-key",
                "mcp-bot",
                "--session-password-env",
                "BOT_PW",
            ])
            .env("NAMERA_HOME", home)
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        writeln!(stdin, "{initialize}").unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        times.push(started.elapsed());
        assert!(line.contains("\"serverInfo\""), "{line}");
        if i == 0 {
            // A tool call waits for the unlocked wallet; then the process is serving.
            writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#).unwrap();
            writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"get_wallet_address","arguments":{{}}}}}}"#).unwrap();
            line.clear();
            stdout.read_line(&mut line).unwrap();
            let status =
                std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
            rss_kib = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    times.sort();
    (times[times.len() / 2], rss_kib)
}

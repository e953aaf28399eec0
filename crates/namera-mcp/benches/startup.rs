//! How light the server is: time from process start to the `initialize` answer, and
//! resident memory while serving, each next to a baseline measured in the same run.
//!
//! `cargo bench -p namera-mcp --bench startup` (release build, devnet started or reused).
//! Baselines: `cat` echoing one line (process start plus one pipe round trip: the least
//! any stdio server can take) and `cat`'s own resident memory. Targets: ≤ 50 ms to
//! `initialize`, ≤ 30 MiB resident. With `NAMERA_MCP_BEFORE=/path/to/older/namera-mcp`,
//! that binary's start → `initialize` is measured too, in the same run, to compare.

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/mcp/support.rs"]
mod support;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, ChildStdout, Command, Stdio},
    time::{Duration, Instant},
};

use namera_e2e::random_address;
use serde_json::json;
use support::{Fixture, HttpProcess, SERVER, run_client};

const RUNS: usize = 15;

fn main() {
    let fixture = Fixture::new();
    let bundler = namera_e2e::endpoints().bundler;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"}}})
    .to_string();

    // Start to first answer, median of RUNS.
    let baseline = median((0..RUNS).map(|_| {
        let t = Instant::now();
        let (mut child, mut stdin, mut stdout) = spawn("cat", &[]);
        exchange(&mut stdin, &mut stdout, &init);
        let d = t.elapsed();
        stop(&mut child, stdin);
        d
    }));
    let server_args = fixture.server_args("stdio", &bundler);
    let start_to_init = |program: &str| {
        median((0..RUNS).map(|_| {
            let t = Instant::now();
            let (mut child, mut stdin, mut stdout) = spawn(program, &server_args);
            let answer = exchange(&mut stdin, &mut stdout, &init);
            let d = t.elapsed();
            assert!(answer.contains("\"serverInfo\""), "not an initialize answer: {answer}");
            stop(&mut child, stdin);
            d
        }))
    };
    let before = std::env::var("NAMERA_MCP_BEFORE").ok().map(|b| start_to_init(&b));
    let server = start_to_init(SERVER);

    // Resident memory while serving over stdio: after initialize, tools/list and calls.
    let (mut child, mut stdin, mut stdout) = spawn(SERVER, &server_args);
    exchange(&mut stdin, &mut stdout, &init);
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string());
    let mut id = 2;
    let mut request = |method: &str, params: serde_json::Value| {
        id += 1;
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        exchange(&mut stdin, &mut stdout, &line.to_string())
    };
    request("tools/list", json!({}));
    for _ in 0..3 {
        request("tools/call", json!({"name": "list_permissions", "arguments": {}}));
        let to = random_address().to_checksum(None);
        let r = request(
            "tools/call",
            json!({"name": "native_transfer", "arguments": {"to": to, "amount": "1", "unit": "wei"}}),
        );
        assert!(r.contains("user_op_hash"), "transfer failed: {r}");
    }
    let stdio_rss = rss_kib(child.id(), "VmHWM");
    let _ = child.kill();
    let _ = child.wait();
    let (mut cat, mut cat_in, mut cat_out) = spawn("cat", &[]);
    // After one echo, so that `cat` has surely been exec'd and touched its pages.
    exchange(&mut cat_in, &mut cat_out, &init);
    let cat_rss = rss_kib(cat.id(), "VmHWM");
    stop(&mut cat, cat_in);

    // And over HTTP, through a burst of 20 concurrent transfers.
    let http = HttpProcess::start(&fixture, &bundler, "bench", &[]);
    let to = random_address().to_checksum(None);
    let calls: Vec<_> = (0..20)
        .map(|_| json!({"name": "native_transfer", "arguments": {"to": to, "amount": "1", "unit": "wei"}}))
        .collect();
    let report = run_client(&json!({"transport": "http", "url": http.url, "token": "bench",
        "concurrent": true, "calls": calls}));
    let failed =
        report["results"].as_array().unwrap().iter().filter(|r| r["is_error"] != false).count();
    assert_eq!(failed, 0, "{report}");
    let http_rss = rss_kib(http.child.id(), "VmHWM");
    drop(http);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mib = |k: u64| k as f64 / 1024.0;
    println!("namera-mcp startup and memory (median of {RUNS} starts)");
    println!(
        "  process start → initialize answer: {:7.2} ms   baseline (cat echo) {:6.2} ms   ratio {:5.1}x   target ≤ 50 ms: {}",
        ms(server),
        ms(baseline),
        ms(server) / ms(baseline),
        verdict(ms(server) <= 50.0)
    );
    if let Some(before) = before {
        println!(
            "  … the same for NAMERA_MCP_BEFORE:  {:7.2} ms   (this build {:.2} ms)",
            ms(before),
            ms(server)
        );
    }
    println!(
        "  peak resident, stdio, after calls:  {:7.2} MiB  baseline (cat) {:6.2} MiB  ratio {:5.1}x   target ≤ 30 MiB: {}",
        mib(stdio_rss),
        mib(cat_rss),
        mib(stdio_rss) / mib(cat_rss),
        verdict(mib(stdio_rss) <= 30.0)
    );
    println!(
        "  peak resident, HTTP, 20 concurrent: {:7.2} MiB  baseline (cat) {:6.2} MiB  ratio {:5.1}x   target ≤ 30 MiB: {}",
        mib(http_rss),
        mib(cat_rss),
        mib(http_rss) / mib(cat_rss),
        verdict(mib(http_rss) <= 30.0)
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn spawn(program: &str, args: &[String]) -> (Child, ChildStdin, BufReader<ChildStdout>) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdin, stdout)
}

fn send(stdin: &mut ChildStdin, line: &str) {
    stdin.write_all(line.as_bytes()).unwrap();
    stdin.write_all(b"\n").unwrap();
    stdin.flush().unwrap();
}

fn exchange(stdin: &mut ChildStdin, stdout: &mut BufReader<ChildStdout>, line: &str) -> String {
    send(stdin, line);
    let mut answer = String::new();
    stdout.read_line(&mut answer).unwrap();
    answer
}

fn stop(child: &mut Child, stdin: ChildStdin) {
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
}

fn median(samples: impl Iterator<Item = Duration>) -> Duration {
    let mut v: Vec<Duration> = samples.collect();
    v.sort_unstable();
    v[v.len() / 2]
}

/// A `/proc/PID/status` field in KiB (`VmRSS` now, `VmHWM` the peak).
fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim_start_matches(':')
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

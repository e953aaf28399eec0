//! Child processes: free ports, spawning with logs, liveness by PID, stopping by PID, and
//! the watchdog that keeps test devnets from outliving their test process.
//!
//! Children are started in their own process group, so a devnet started by `namera devnet
//! up` survives the CLI's exit and a Ctrl-C in the terminal, and `down` can stop a child and
//! anything it spawned by signalling the group. Signals are sent with the `kill` program,
//! which keeps this crate free of `unsafe` FFI.

use std::{
    fs::{self, OpenOptions},
    net::TcpListener,
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::error::{DevnetError, Result};

/// A port on `host` that nobody listens on right now.
pub(crate) fn free_port(host: &str) -> Result<u16> {
    let listener =
        TcpListener::bind((host, 0)).map_err(|e| DevnetError::io("binding a port on", host, e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| DevnetError::io("reading the port on", host, e))
}

/// Whether `port` can be bound on `host`.
pub(crate) fn port_is_free(host: &str, port: u16) -> bool {
    TcpListener::bind((host, port)).is_ok()
}

/// Starts `program` in its own process group with stdout and stderr appended to `log`.
pub(crate) fn spawn(program: &Path, args: &[String], log: &Path) -> Result<Child> {
    if let Some(dir) = log.parent() {
        fs::create_dir_all(dir).map_err(|e| DevnetError::io("creating", dir, e))?;
    }
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| DevnetError::io("opening", log, e))?;
    let err = out.try_clone().map_err(|e| DevnetError::io("opening", log, e))?;
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| DevnetError::io("starting", program, e))
}

/// Whether a process with this PID exists and is not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    let stat = Path::new("/proc").join(pid.to_string()).join("stat");
    match fs::read_to_string(&stat) {
        // The state letter follows the parenthesised command name.
        Ok(text) => text
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) if Path::new("/proc/self").exists() => false,
        // No procfs: ask `kill -0`.
        Err(_) => Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
    }
}

/// The command line of a live process, with arguments separated by spaces (Linux only).
pub(crate) fn cmdline(pid: u32) -> Option<String> {
    let bytes = fs::read(Path::new("/proc").join(pid.to_string()).join("cmdline")).ok()?;
    Some(String::from_utf8_lossy(&bytes).replace('\0', " "))
}

/// Whether `pid` still runs the process we started: alive, and (where procfs tells) its
/// command line contains `marker`. Guards against signalling a recycled PID.
pub(crate) fn is_ours(pid: u32, marker: &str) -> bool {
    pid_alive(pid) && cmdline(pid).is_none_or(|c| c.contains(marker))
}

fn signal(sig: &str, target: &str) {
    let _ = Command::new("kill")
        .args([sig, "--", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Stops the process group led by `pid` (SIGTERM, then SIGKILL after `grace`). Returns
/// whether the process is gone.
pub(crate) fn stop(pid: u32, grace: Duration) -> bool {
    if !pid_alive(pid) {
        return true;
    }
    signal("-TERM", &format!("-{pid}"));
    signal("-TERM", &pid.to_string());
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !pid_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    signal("-KILL", &format!("-{pid}"));
    signal("-KILL", &pid.to_string());
    std::thread::sleep(Duration::from_millis(100));
    !pid_alive(pid)
}

/// Starts a watchdog: a tiny `sh` loop that, once process `parent` is gone, stops the
/// process groups of `pids` and removes `state_file`. Returns the watchdog's PID.
///
/// Test binaries keep their devnet in a `static`, which is never dropped; the watchdog is
/// what tears the devnet down when the test process exits, panics or is killed.
pub(crate) fn spawn_watchdog(
    parent: u32,
    pids: &[u32],
    log: &Path,
    state_file: &Path,
) -> Result<u32> {
    const SCRIPT: &str = r#"parent=$1; state=$2; shift 2
while kill -0 "$parent" 2>/dev/null; do
  case "$(cat /proc/$parent/stat 2>/dev/null | sed 's/.*) //' | cut -c1)" in Z|X) break;; esac
  sleep 0.5
done
for p in "$@"; do kill -TERM -- "-$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
sleep 2
for p in "$@"; do kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
rm -f "$state"
"#;
    let mut args = vec![
        "-c".to_owned(),
        SCRIPT.to_owned(),
        "namera-devnet-watchdog".to_owned(),
        parent.to_string(),
        state_file.to_string_lossy().into_owned(),
    ];
    args.extend(pids.iter().map(u32::to_string));
    let child = spawn(Path::new("/bin/sh"), &args, log)?;
    Ok(child.id())
}

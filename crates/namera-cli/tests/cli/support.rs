//! What every CLI test needs: the real `namera` binary in a process of its own, a fresh
//! storage home per test, snapshots of that home (to show a failed command changed
//! nothing), and a Python venv for the tools we check ourselves against.

use std::{
    collections::BTreeMap,
    io::Write,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::OnceLock,
};

use serde_json::Value;

/// Runs the real `namera` with the caller's environment (devnet tests: their devnets'
/// state lives in the shared tool cache, not in a test home).
pub(crate) fn namera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_namera"))
        .args(args)
        .output()
        .expect("the namera binary should start")
}

/// Runs `namera devnet down --name <name>` when dropped, so a failing test leaves no
/// anvil or Alto behind.
pub(crate) struct DownOnDrop(pub(crate) String);

impl Drop for DownOnDrop {
    fn drop(&mut self) {
        let _ = namera(&["devnet", "down", "--name", &self.0]);
    }
}

/// A devnet name of this test process's own (`cli-test-<pid>-<tag>`).
pub(crate) fn unique(tag: &str) -> String {
    format!("cli-test-{}-{tag}", std::process::id())
}

/// A temporary `NAMERA_HOME`, removed when dropped.
pub(crate) struct Home {
    pub(crate) path: PathBuf,
}

impl Home {
    pub(crate) fn new(tag: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("namera-cli-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self { path }
    }

    /// Runs `namera args…` with this home, no terminal, and `env` added.
    pub(crate) fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_with_stdin(args, env, "")
    }

    pub(crate) fn run_with_stdin(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: &str,
    ) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_namera"))
            .args(args)
            .env("NAMERA_HOME", &self.path)
            .env_remove("LOCAL_RPC_URL")
            .env_remove("LOCAL_BUNDLER_URL")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the namera binary should start");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Every file under the home: its bytes and mode.
    pub(crate) fn snapshot(&self) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
        fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, (Vec<u8>, u32)>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for e in entries.flatten() {
                let p = e.path();
                let mode = e.metadata().unwrap().permissions().mode() & 0o777;
                if p.is_dir() {
                    out.insert(p.strip_prefix(root).unwrap().to_owned(), (Vec::new(), mode));
                    walk(&p, root, out);
                } else {
                    out.insert(
                        p.strip_prefix(root).unwrap().to_owned(),
                        (std::fs::read(&p).unwrap(), mode),
                    );
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.path, &self.path, &mut out);
        out
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts `out` exited with `code` and shows everything it wrote when it did not.
#[track_caller]
pub(crate) fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

pub(crate) fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(bytes)))
}

/// The JSON error a failed command wrote on stderr (its last line).
#[track_caller]
pub(crate) fn error_of(out: &Output) -> Value {
    let stderr = text(&out.stderr);
    let line = stderr.lines().last().unwrap_or_default();
    serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("no JSON error ({e}): {stderr}"))
        ["error"]
        .clone()
}

/// Python with the packages the tests compare against, in a venv under the target dir
/// (made once, reused; pinned versions from PyPI).
pub(crate) fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("venv-cli");
        let python = venv.join("bin/python");
        let marker = venv.join(".namera-ready-2");
        if marker.exists() {
            return python;
        }
        // A lock directory keeps two test processes from building it at once.
        let lock = venv.with_extension("lock");
        let started = std::time::Instant::now();
        while std::fs::create_dir(&lock).is_err() {
            if marker.exists() {
                return python;
            }
            assert!(started.elapsed().as_secs() < 600, "stuck waiting for {}", lock.display());
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let run = |cmd: &mut Command| {
            let out = cmd.output().expect("python3 should run");
            assert!(out.status.success(), "{cmd:?}: {}", text(&out.stderr));
        };
        run(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv));
        run(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "jsonschema==4.26.0",
            "eth-account==0.14.0",
            "pexpect==4.9.0",
            "mcp==2.3.0",
        ]));
        std::fs::write(&marker, b"").unwrap();
        let _ = std::fs::remove_dir(&lock);
        python
    })
}

/// Runs a Python snippet in the venv with `args`; its stdout.
#[track_caller]
pub(crate) fn py(script: &str, args: &[&str]) -> String {
    let out = Command::new(python()).arg("-c").arg(script).args(args).output().unwrap();
    assert!(out.status.success(), "python failed: {}\n{}", text(&out.stderr), text(&out.stdout));
    text(&out.stdout)
}

/// Runs a Python script file in the venv with `args`; its stdout.
#[track_caller]
pub(crate) fn py_file(script: &str, args: &[&str]) -> String {
    let out = Command::new(python()).arg(script).args(args).output().unwrap();
    assert!(out.status.success(), "python failed: {}\n{}", text(&out.stderr), text(&out.stdout));
    text(&out.stdout)
}

/// The published schema of `command`'s result (`namera schema <command> --result`),
/// fetched once per command and test process.
fn result_schema(command: &str) -> Value {
    static SCHEMAS: OnceLock<std::sync::Mutex<BTreeMap<String, Value>>> = OnceLock::new();
    let cache = SCHEMAS.get_or_init(Default::default);
    if let Some(schema) = cache.lock().unwrap().get(command) {
        return schema.clone();
    }
    let home = Home::new("result-schema");
    let out = home.run(&["schema", command, "--result", "-o", "json"], &[]);
    assert_exit(&out, 0);
    let schema = json(&out.stdout);
    cache.lock().unwrap().insert(command.to_owned(), schema.clone());
    schema
}

/// Where `stdout`, what `command` (dotted) printed with `-o <format>`, breaks the result
/// schema the CLI publishes for it; empty when it conforms. Checked by Python's
/// `jsonschema` (draft 2020-12), not by our own code.
///
/// `-o json` is one document. In `-o ndjson` a list is one item per line and anything
/// else is one line: the lines conform when the one line is a valid document, or when
/// the lines, as an array, are.
pub(crate) fn result_violations(command: &str, format: &str, stdout: &[u8]) -> Vec<String> {
    let candidates: Vec<Value> = match format {
        "json" => vec![json(stdout)],
        "ndjson" => {
            let lines: Vec<Value> = text(stdout)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
                .collect();
            match lines.as_slice() {
                [one] => vec![one.clone(), Value::Array(lines.clone())],
                _ => vec![Value::Array(lines)],
            }
        }
        other => panic!("{other} is not a JSON output format"),
    };
    let input = serde_json::json!({ "schema": result_schema(command), "candidates": candidates });
    let mut child = Command::new(python())
        .arg("-c")
        .arg(
            r#"
import json, sys
from jsonschema import Draft202012Validator
case = json.load(sys.stdin)
validator = Draft202012Validator(case["schema"])
errors = [[f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(c)] for c in case["candidates"]]
if not any(not e for e in errors):
    for e in errors[-1]: print(e)
"#,
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed: {}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_owned).collect()
}

/// Asserts `stdout` conforms to `command`'s published result schema (see
/// [`result_violations`]).
#[track_caller]
pub(crate) fn assert_result_valid(command: &str, format: &str, stdout: &[u8]) {
    let violations = result_violations(command, format, stdout);
    assert!(
        violations.is_empty(),
        "{command} -o {format} breaks its published result schema:\n{}\n--- output:\n{}",
        violations.join("\n"),
        text(stdout)
    );
}

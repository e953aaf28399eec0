//! Installing the devnet's tools into a cache folder, once.
//!
//! Everything comes from the npm registry, pinned: anvil (unless a recent one is on PATH),
//! the Alto bundler, Pimlico's mock ERC-7677 paymaster (`@pimlico/mock-paymaster`),
//! EntryPoint v0.7's artifact, and Kernel 0.3.1's creation code, which
//! `@rhinestone/modulekit` ships as hex constants in a Solidity file. modulekit is fetched
//! with `npm pack` and unpacked, never `npm install`ed: its dependencies point at git hosts
//! that cannot be reached here.
//!
//! Each install goes to a fresh temporary folder that is renamed into place when complete,
//! so an interrupted install is never mistaken for a good one and two processes installing
//! at once cannot corrupt each other (the loser's copy is discarded).

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use alloy_primitives::{Bytes, hex};
use serde::{Deserialize, Serialize};

use crate::error::{DevnetError, Result, tail};

/// The pinned version of `@foundry-rs/anvil`.
pub const ANVIL_VERSION: &str = "1.7.1";
/// The oldest anvil on PATH that is used instead of installing one (it must know `osaka`).
pub const MIN_PATH_ANVIL: (u64, u64, u64) = (1, 7, 0);
/// The pinned version of `@pimlico/alto`.
pub const ALTO_VERSION: &str = "0.0.20";
/// The pinned version of `@account-abstraction/contracts` (EntryPoint v0.7).
pub const ACCOUNT_ABSTRACTION_VERSION: &str = "0.7.0";
/// The pinned version of `@rhinestone/modulekit` (source of Kernel 0.3.1's bytecode).
pub const MODULEKIT_VERSION: &str = "0.5.9";
/// The pinned version of `@pimlico/mock-paymaster` (an ERC-7677 verifying paymaster).
pub const MOCK_PAYMASTER_VERSION: &str = "0.0.7";
/// The pinned version of `viem`, the mock paymaster's peer dependency.
pub const PAYMASTER_VIEM_VERSION: &str = "2.57.20";
/// The pinned version of `prool`, the mock paymaster's other peer dependency.
pub const PAYMASTER_PROOL_VERSION: &str = "0.0.25";

/// The script that serves the mock paymaster (see its header for why it exists).
const PAYMASTER_RUNNER: &str = include_str!("paymaster.mjs");

/// Where the tools are, once installed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tools {
    /// The anvil executable.
    pub anvil: PathBuf,
    /// The `node` executable used to run Alto.
    pub node: PathBuf,
    /// Alto's entry script (`@pimlico/alto/esm/cli/alto.js`).
    pub alto: PathBuf,
    /// `@account-abstraction/contracts/artifacts/EntryPoint.json`.
    pub entry_point_artifact: PathBuf,
    /// The JSON file holding Kernel 0.3.1's and KernelFactory's creation code.
    pub kernel_bytecode: PathBuf,
    /// The script that starts `@pimlico/mock-paymaster` (run with [`Tools::node`]); empty
    /// in state files written before the devnet had a paymaster.
    #[serde(default)]
    pub paymaster: PathBuf,
}

/// Kernel 0.3.1's creation code, without constructor arguments.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KernelBytecode {
    /// `KERNEL_BYTECODE`; constructor argument: the EntryPoint.
    pub kernel: Bytes,
    /// `KERNEL_FACTORY_BYTECODE`; constructor argument: the implementation.
    pub kernel_factory: Bytes,
}

impl Tools {
    /// Reads EntryPoint v0.7's creation code from its artifact.
    pub fn entry_point_creation_code(&self) -> Result<Bytes> {
        let path = &self.entry_point_artifact;
        let text = fs::read_to_string(path).map_err(|e| DevnetError::io("reading", path, e))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| DevnetError::BadArtifact { path: path.clone(), reason: e.to_string() })?;
        let code = json.get("bytecode").and_then(|b| b.as_str()).ok_or_else(|| {
            DevnetError::BadArtifact { path: path.clone(), reason: "no `bytecode` string".into() }
        })?;
        hex::decode(code).map(Bytes::from).map_err(|e| DevnetError::BadArtifact {
            path: path.clone(),
            reason: format!("bytecode: {e}"),
        })
    }

    /// Reads Kernel 0.3.1's creation code.
    pub fn kernel_bytecode(&self) -> Result<KernelBytecode> {
        let path = &self.kernel_bytecode;
        let text = fs::read_to_string(path).map_err(|e| DevnetError::io("reading", path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| DevnetError::BadArtifact { path: path.clone(), reason: e.to_string() })
    }
}

/// Installs (or finds, if already installed) every tool under `cache_dir`.
pub fn install(cache_dir: &Path) -> Result<Tools> {
    fs::create_dir_all(cache_dir).map_err(|e| DevnetError::io("creating", cache_dir, e))?;
    let node = which("node").ok_or(DevnetError::NodeMissing { tool: "node" })?;

    let anvil = match path_anvil() {
        Some(anvil) => anvil,
        None => {
            let dir = npm_install(
                cache_dir,
                &format!("anvil-{ANVIL_VERSION}"),
                &[format!("@foundry-rs/anvil@{ANVIL_VERSION}")],
            )?;
            find_anvil_binary(&dir)?
        }
    };

    let dir = npm_install(
        cache_dir,
        &format!("alto-{ALTO_VERSION}_aa-{ACCOUNT_ABSTRACTION_VERSION}"),
        &[
            format!("@pimlico/alto@{ALTO_VERSION}"),
            format!("@account-abstraction/contracts@{ACCOUNT_ABSTRACTION_VERSION}"),
        ],
    )?;
    let alto = dir.join("node_modules/@pimlico/alto/esm/cli/alto.js");
    let entry_point_artifact =
        dir.join("node_modules/@account-abstraction/contracts/artifacts/EntryPoint.json");
    for path in [&alto, &entry_point_artifact] {
        if !path.is_file() {
            return Err(DevnetError::BadArtifact {
                path: path.clone(),
                reason: "not installed".into(),
            });
        }
    }

    let kernel_bytecode = modulekit_kernel(cache_dir)?;
    let paymaster = install_paymaster(cache_dir)?;
    Ok(Tools { anvil, node, alto, entry_point_artifact, kernel_bytecode, paymaster })
}

/// Installs `@pimlico/mock-paymaster` with its peer dependencies and puts the runner script
/// next to it; returns the script's path.
fn install_paymaster(cache_dir: &Path) -> Result<PathBuf> {
    let dir = npm_install(
        cache_dir,
        &format!("mock-paymaster-{MOCK_PAYMASTER_VERSION}_viem-{PAYMASTER_VIEM_VERSION}"),
        &[
            format!("@pimlico/mock-paymaster@{MOCK_PAYMASTER_VERSION}"),
            format!("viem@{PAYMASTER_VIEM_VERSION}"),
            format!("prool@{PAYMASTER_PROOL_VERSION}"),
        ],
    )?;
    let relay = dir.join("node_modules/@pimlico/mock-paymaster/_esm/relay.js");
    if !relay.is_file() {
        return Err(DevnetError::BadArtifact { path: relay, reason: "not installed".into() });
    }
    // The script is part of this crate, not of the package: (re)written whenever it differs,
    // through a temporary file so a concurrent reader never sees half of it.
    let script = dir.join("namera-paymaster.mjs");
    if fs::read_to_string(&script).ok().as_deref() != Some(PAYMASTER_RUNNER) {
        let tmp = dir.join(format!(".namera-paymaster.mjs.tmp{}", std::process::id()));
        fs::write(&tmp, PAYMASTER_RUNNER).map_err(|e| DevnetError::io("writing", &tmp, e))?;
        fs::rename(&tmp, &script).map_err(|e| DevnetError::io("writing", &script, e))?;
    }
    Ok(script)
}

/// The first `name` on PATH.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// An anvil on PATH that is recent enough, if any.
fn path_anvil() -> Option<PathBuf> {
    let anvil = which("anvil")?;
    let out = Command::new(&anvil).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = parse_version(&text)?;
    (version >= MIN_PATH_ANVIL).then_some(anvil)
}

/// The first `x.y.z` in `text`.
fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.')).find_map(|word| {
        let mut parts = word.split('.').map(|p| p.parse::<u64>().ok());
        let v = (parts.next()??, parts.next()??, parts.next()??);
        Some(v)
    })
}

fn find_anvil_binary(dir: &Path) -> Result<PathBuf> {
    let scope = dir.join("node_modules/@foundry-rs");
    let entries = fs::read_dir(&scope).map_err(|e| DevnetError::io("listing", &scope, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("anvil-") {
            for bin in ["bin/anvil", "bin/anvil.exe"] {
                let path = entry.path().join(bin);
                if path.is_file() {
                    return Ok(path);
                }
            }
        }
    }
    Err(DevnetError::BadArtifact {
        path: scope,
        reason:
            "no platform package with bin/anvil (is this platform supported by @foundry-rs/anvil?)"
                .into(),
    })
}

/// A unique temporary folder name next to the final one.
fn temp_dir(cache_dir: &Path, tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    cache_dir.join(format!(".tmp-{tag}-{}-{nanos}", std::process::id()))
}

/// Moves a completed temporary folder into place; if another process won the race, keeps
/// theirs.
fn commit_dir(tmp: &Path, dest: &Path) -> Result<()> {
    match fs::rename(tmp, dest) {
        Ok(()) => Ok(()),
        Err(_) if dest.join(".complete").is_file() => {
            let _ = fs::remove_dir_all(tmp);
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_dir_all(tmp);
            Err(DevnetError::io("moving into place", dest, e))
        }
    }
}

pub(crate) fn run_npm(args: &[&str], cwd: &Path, what: &str) -> Result<std::process::Output> {
    let out =
        Command::new("npm").args(args).current_dir(cwd).stdin(Stdio::null()).output().map_err(
            |e| match e.kind() {
                std::io::ErrorKind::NotFound => DevnetError::NodeMissing { tool: "npm" },
                _ => DevnetError::io("running", "npm", e),
            },
        )?;
    if !out.status.success() {
        return Err(DevnetError::InstallFailed {
            what: what.to_owned(),
            status: out.status.to_string(),
            stderr_tail: tail(&String::from_utf8_lossy(&out.stderr), 20),
        });
    }
    Ok(out)
}

/// `npm install`s `packages` into `<cache>/npm/<tag>` unless already there.
fn npm_install(cache_dir: &Path, tag: &str, packages: &[String]) -> Result<PathBuf> {
    let dest = cache_dir.join("npm").join(tag);
    if dest.join(".complete").is_file() {
        return Ok(dest);
    }
    let parent = cache_dir.join("npm");
    fs::create_dir_all(&parent).map_err(|e| DevnetError::io("creating", &parent, e))?;
    let tmp = temp_dir(&parent, tag);
    fs::create_dir_all(&tmp).map_err(|e| DevnetError::io("creating", &tmp, e))?;
    // A package.json of our own stops npm from walking up to an enclosing project.
    let manifest = tmp.join("package.json");
    fs::write(&manifest, "{\"name\":\"namera-devnet-tools\",\"private\":true}\n")
        .map_err(|e| DevnetError::io("writing", &manifest, e))?;
    let mut args = vec!["install", "--no-audit", "--no-fund", "--save-exact", "--loglevel=error"];
    args.extend(packages.iter().map(String::as_str));
    if let Err(e) = run_npm(&args, &tmp, &packages.join(" ")) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let marker = tmp.join(".complete");
    fs::write(&marker, packages.join("\n")).map_err(|e| DevnetError::io("writing", &marker, e))?;
    commit_dir(&tmp, &dest)?;
    Ok(dest)
}

/// Fetches modulekit with `npm pack`, extracts Kernel's creation code to
/// `<cache>/modulekit-<version>/kernel-0.3.1.json` and returns that path.
fn modulekit_kernel(cache_dir: &Path) -> Result<PathBuf> {
    const SOURCE: &str = "package/src/deployment/precompiles/KernelPrecompiles.sol";
    let dest = cache_dir.join(format!("modulekit-{MODULEKIT_VERSION}"));
    let file = dest.join("kernel-0.3.1.json");
    if dest.join(".complete").is_file() && file.is_file() {
        return Ok(file);
    }
    let tmp = temp_dir(cache_dir, "modulekit");
    fs::create_dir_all(&tmp).map_err(|e| DevnetError::io("creating", &tmp, e))?;
    let result = (|| {
        let spec = format!("@rhinestone/modulekit@{MODULEKIT_VERSION}");
        let out = run_npm(&["pack", &spec, "--loglevel=error"], &tmp, &spec)?;
        let tarball =
            String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or("").trim().to_owned();
        let tar_out = Command::new("tar")
            .arg("xzf")
            .arg(&tarball)
            .arg(SOURCE)
            .current_dir(&tmp)
            .output()
            .map_err(|e| DevnetError::io("running tar on", tmp.join(&tarball), e))?;
        if !tar_out.status.success() {
            return Err(DevnetError::InstallFailed {
                what: format!("unpacking {tarball}"),
                status: tar_out.status.to_string(),
                stderr_tail: tail(&String::from_utf8_lossy(&tar_out.stderr), 20),
            });
        }
        let source_path = tmp.join(SOURCE);
        let source = fs::read_to_string(&source_path)
            .map_err(|e| DevnetError::io("reading", &source_path, e))?;
        let bytecode = KernelBytecode {
            kernel: hex_constant(&source, "KERNEL_BYTECODE")
                .ok_or_else(|| bad(&source_path, "KERNEL_BYTECODE"))?,
            kernel_factory: hex_constant(&source, "KERNEL_FACTORY_BYTECODE")
                .ok_or_else(|| bad(&source_path, "KERNEL_FACTORY_BYTECODE"))?,
        };
        let _ = fs::remove_file(tmp.join(&tarball));
        let _ = fs::remove_dir_all(tmp.join("package"));
        let json =
            serde_json::to_string(&bytecode).map_err(|e| bad(&source_path, &e.to_string()))?;
        let out_file = tmp.join("kernel-0.3.1.json");
        fs::write(&out_file, json).map_err(|e| DevnetError::io("writing", &out_file, e))?;
        fs::write(tmp.join(".complete"), spec)
            .map_err(|e| DevnetError::io("writing", tmp.join(".complete"), e))
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dest.exists() && !dest.join(".complete").is_file() {
        let _ = fs::remove_dir_all(&dest);
    }
    commit_dir(&tmp, &dest)?;
    Ok(file)
}

fn bad(path: &Path, what: &str) -> DevnetError {
    DevnetError::BadArtifact { path: path.to_owned(), reason: format!("cannot read {what}") }
}

/// The `hex"…"` value of `bytes public constant NAME =` in a Solidity source.
fn hex_constant(source: &str, name: &str) -> Option<Bytes> {
    let decl = format!("bytes public constant {name} =");
    let start = source.find(&decl)? + decl.len();
    let rest = source[start..].trim_start().strip_prefix("hex\"")?;
    let end = rest.find('"')?;
    hex::decode(&rest[..end]).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("anvil Version: 1.7.1\nCommit SHA: 40"), Some((1, 7, 1)));
        assert_eq!(parse_version("anvil 0.2.0 (abc 2024)"), Some((0, 2, 0)));
        assert_eq!(parse_version("nothing"), None);
    }

    #[test]
    fn hex_constants() {
        let src = "bytes public constant A_BYTECODE =\n        hex\"6001\";\n bytes public constant A =\n hex\"ff\";";
        assert_eq!(hex_constant(src, "A_BYTECODE").unwrap().as_ref(), &[0x60, 0x01]);
        assert_eq!(hex_constant(src, "A").unwrap().as_ref(), &[0xff]);
        assert!(hex_constant(src, "B").is_none());
    }
}

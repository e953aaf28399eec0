//! Other bytecode at the canonical addresses: `NAMERA_PLUGIN_ARTIFACTS`.
//!
//! The devnet hosts our own builds of the plugins (`contracts/`). Users on public chains meet
//! ZeroDev's builds. To prove that everything we say about a refusal holds against the code
//! users meet, the devnet can place any runtime code instead: a JSON object
//! `{ "<checksummed address>": "0x<runtime bytecode>" }`, named by the environment variable
//! [`PLUGIN_ARTIFACTS_ENV`] (or [`crate::DevnetConfig::plugin_artifacts`]). Every address in
//! the file gets that code with `anvil_setCode` after our contracts are placed, so the file
//! wins wherever both name an address. Nothing here is checked against a known code hash:
//! the file is whatever the user built.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use alloy_primitives::{Address, Bytes, hex};
use serde::{Deserialize, Serialize};

use crate::error::{DevnetError, Result};

/// The environment variable naming an override file.
pub const PLUGIN_ARTIFACTS_ENV: &str = "NAMERA_PLUGIN_ARTIFACTS";

/// Runtime code to place at given addresses, read from an override file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginOverrides {
    /// The file it was read from.
    pub path: PathBuf,
    /// Address → runtime code (never empty).
    pub code: BTreeMap<Address, Bytes>,
}

/// What a devnet records about the code it placed from an override file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OverrideRecord {
    /// The override file.
    pub path: PathBuf,
    /// The addresses whose code came from it.
    pub addresses: Vec<Address>,
}

impl PluginOverrides {
    /// The file named by [`PLUGIN_ARTIFACTS_ENV`], if set and not empty.
    pub fn env_path() -> Option<PathBuf> {
        std::env::var_os(PLUGIN_ARTIFACTS_ENV).filter(|v| !v.is_empty()).map(PathBuf::from)
    }

    /// Reads and checks an override file: a JSON object whose keys are EIP-55 checksummed
    /// addresses and whose values are non-empty `0x` hex runtime code.
    ///
    /// # Errors
    ///
    /// [`DevnetError::BadOverride`] naming the file and the first bad entry.
    pub fn read(path: &Path) -> Result<Self> {
        let bad = |reason: String| DevnetError::BadOverride { path: path.to_owned(), reason };
        let text = fs::read_to_string(path).map_err(|e| DevnetError::io("reading", path, e))?;
        Self::parse(&text).map(|code| Self { path: path.to_owned(), code }).map_err(bad)
    }

    fn parse(text: &str) -> Result<BTreeMap<Address, Bytes>, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let object = value.as_object().ok_or_else(|| {
            "expected a JSON object { \"<checksummed address>\": \"0x<runtime code>\" }".to_owned()
        })?;
        if object.is_empty() {
            return Err("the object names no address".into());
        }
        let mut code = BTreeMap::new();
        for (key, value) in object {
            let address = Address::parse_checksummed(key, None).map_err(|_| {
                match key.parse::<Address>() {
                    Ok(a) => format!("address {key:?} is not checksummed (EIP-55: {a})"),
                    Err(_) => format!("{key:?} is not an address (0x and 40 hex digits)"),
                }
            })?;
            let text = value
                .as_str()
                .ok_or_else(|| format!("the code for {key} is not a string of hex"))?;
            let digits = text
                .strip_prefix("0x")
                .ok_or_else(|| format!("the code for {key} does not start with 0x"))?;
            let bytes = hex::decode(digits)
                .map_err(|e| format!("the code for {key} is not valid hex: {e}"))?;
            if bytes.is_empty() {
                return Err(format!("the code for {key} is empty"));
            }
            code.insert(address, Bytes::from(bytes));
        }
        Ok(code)
    }

    /// What a devnet records after placing this file.
    pub fn record(&self) -> OverrideRecord {
        OverrideRecord { path: self.path.clone(), addresses: self.code.keys().copied().collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: &str = "0x845ADb2C711129d4f3966735eD98a9F09fC4cE57";

    fn parse(text: &str) -> Result<BTreeMap<Address, Bytes>, String> {
        PluginOverrides::parse(text)
    }

    #[test]
    fn reads_checksummed_addresses_and_code() {
        let code = parse(&format!(r#"{{"{ADDR}": "0x6001"}}"#)).unwrap();
        assert_eq!(code.len(), 1);
        assert_eq!(code[&ADDR.parse::<Address>().unwrap()].as_ref(), &[0x60, 0x01]);
    }

    #[test]
    fn each_bad_file_gets_its_own_reason() {
        let cases = [
            ("[1]", "expected a JSON object"),
            ("{", "not JSON"),
            ("{}", "names no address"),
            (r#"{"0x12": "0x60"}"#, "is not an address"),
            (
                r#"{"0x845adb2c711129d4f3966735ed98a9f09fc4ce57": "0x60"}"#,
                "is not checksummed (EIP-55: 0x845ADb2C711129d4f3966735eD98a9F09fC4cE57)",
            ),
            (&format!(r#"{{"{ADDR}": "60"}}"#), "does not start with 0x"),
            (&format!(r#"{{"{ADDR}": "0x6g"}}"#), "is not valid hex"),
            (&format!(r#"{{"{ADDR}": "0x"}}"#), "is empty"),
            (&format!(r#"{{"{ADDR}": 7}}"#), "is not a string"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn read_names_the_file() {
        let dir = std::env::temp_dir().join(format!("namera-override-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.json");
        fs::write(&path, "nope").unwrap();
        let err = PluginOverrides::read(&path).unwrap_err().to_string();
        assert!(err.contains("bad.json") && err.contains("not JSON"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}

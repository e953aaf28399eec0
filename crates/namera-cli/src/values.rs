//! Typed command-line values and how they read and describe themselves.
//!
//! Addresses, hex data and big integers arrive as text from flags and as JSON from
//! `--params`; each has one type here that parses both, so a value accepted in one form
//! is accepted in the other. The schema of each is written by hand because the alloy
//! types carry no JSON Schema of their own.

use std::{borrow::Cow, fmt, str::FromStr};

use alloy_primitives::{Address, Bytes, U256};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 20-byte address (`0x` + 40 hex digits; checksum checked when mixed-case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddressArg(pub(crate) Address);

impl FromStr for AddressArg {
    type Err = String;

    /// The SDK's one address rule ([`namera::address`]), as the MCP server and policy
    /// JSON apply it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        namera::address::parse_address(s).map(Self).map_err(|e| e.to_string())
    }
}

/// Checks an endpoint URL (node, bundler, paymaster) before it is saved, so a typo is
/// refused when written rather than found as "unreachable" later: `http://` or
/// `https://`, a host (a name, an IPv4 address, or an IPv6 address in brackets), an
/// optional port 1–65535, then an optional path; no spaces or control characters.
pub(crate) fn check_endpoint_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{url:?} must start with http:// or https://"))?;
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{url:?} contains {c:?}; a URL has no spaces or control characters"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("{url:?}: the IPv6 address has no closing `]`"))?;
        addr.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("{url:?}: {addr:?} is not an IPv6 address"))?;
        match after {
            "" => (v6, None),
            p => (
                v6,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("{url:?}: expected `:port` after `]`"))?,
                ),
            ),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    let bracketed = host_port.starts_with('[');
    if !bracketed
        && !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err(format!("{url:?}: {host:?} is not a host name"));
    }
    if let Some(p) = port {
        match p.parse::<u16>() {
            Ok(n) if n > 0 => {}
            _ => return Err(format!("{url:?}: {p:?} is not a port (1–65535)")),
        }
    }
    Ok(())
}

/// Hex-encoded bytes (`0x…`, an even number of digits).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct HexArg(pub(crate) Bytes);

impl FromStr for HexArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s
            .strip_prefix("0x")
            .ok_or_else(|| format!("{s:?} is not hex data: it must start with 0x"))?;
        if hex.len() % 2 != 0 {
            return Err(format!("{s:?} is not hex data: odd number of digits"));
        }
        if let Some(bad) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(format!("{s:?} is not hex data: {bad:?} is not a hex digit"));
        }
        s.parse().map(Self).map_err(|e| format!("{s:?} is not hex data: {e}"))
    }
}

/// An unsigned 256-bit integer: a JSON number, or a decimal or `0x` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct UintArg(pub(crate) U256);

impl FromStr for UintArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = match s.strip_prefix("0x") {
            Some(hex) => U256::from_str_radix(hex, 16),
            None => U256::from_str_radix(s, 10),
        };
        parsed.map(Self).map_err(|_| format!("{s:?} is not an unsigned integer"))
    }
}

/// A native amount: plain wei (`1000`), or a decimal with a unit (`0.5ether`, `3 gwei`),
/// converted exactly; more decimals than the unit has is an error, never rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct AmountArg(pub(crate) U256);

impl FromStr for AmountArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
        let (number, unit) = (t[..split].trim(), t[split..].trim().to_ascii_lowercase());
        let decimals = match unit.as_str() {
            "" | "wei" => 0,
            "gwei" => 9,
            "ether" | "eth" => 18,
            other => return Err(format!("{s:?}: unknown unit {other:?} (use wei, gwei or ether)")),
        };
        namera::units::parse_units(number, decimals).map(Self).map_err(|e| format!("{s:?}: {e}"))
    }
}

/// The one place hex patterns are written: `0x` and exactly `bytes` bytes of hex, or any
/// whole number of bytes when `None`.
pub(crate) fn hex_pattern(bytes: Option<usize>) -> String {
    match bytes {
        Some(n) => format!("^0x[0-9a-fA-F]{{{}}}$", 2 * n),
        None => "^0x([0-9a-fA-F]{2})*$".to_owned(),
    }
}

/// The pattern of an unsigned integer written as text: decimal, or `0x` hex when
/// `hex_too` (inputs accept both; outputs always write decimal).
pub(crate) fn uint_pattern(hex_too: bool) -> &'static str {
    if hex_too { "^([0-9]+|0x[0-9a-fA-F]+)$" } else { "^[0-9]+$" }
}

/// Declares a type that exists only for its JSON Schema: a result's field written as
/// text (`#[schemars(with = "values::Hash32")]` on a `String`), or a result no Rust type
/// describes. `$schema` builds the schema, given the generator.
macro_rules! schema_type {
    ($(#[$doc:meta])* $name:ident, $schema:expr) => {
        $(#[$doc])*
        pub(crate) struct $name;

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let build: fn(&mut schemars::SchemaGenerator) -> schemars::Schema = $schema;
                build(g)
            }
        }
    };
}
pub(crate) use schema_type;

schema_type!(
    /// 32 bytes as `0x` and 64 hex digits: a hash, a P-256 coordinate, a private key.
    Hash32,
    |_| json_schema!({
        "type": "string",
        "pattern": hex_pattern(Some(32)),
        "description": "32 bytes as 0x-prefixed hex (a hash, a key or a coordinate)."
    })
);

schema_type!(
    /// An unsigned integer as a decimal string (it may exceed what a JSON number holds
    /// exactly).
    Decimal,
    |_| json_schema!({
        "type": "string",
        "pattern": uint_pattern(false),
        "description": "An unsigned integer as a decimal string."
    })
);

macro_rules! text_value {
    ($ty:ident, $display:expr, $schema:expr) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let show: fn(&Self, &mut fmt::Formatter<'_>) -> fmt::Result = $display;
                show(self, f)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Numbers are accepted where a number makes sense (integers, amounts).
                let v = serde_json::Value::deserialize(d)?;
                let text = match &v {
                    serde_json::Value::String(s) => Cow::Borrowed(s.as_str()),
                    serde_json::Value::Number(n) if n.is_u64() => Cow::Owned(n.to_string()),
                    other => {
                        return Err(serde::de::Error::custom(format!(
                            "expected a string, got {other}"
                        )));
                    }
                };
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

text_value!(
    AddressArg,
    |v, f| write!(f, "{}", v.0.to_checksum(None)),
    json_schema!({
        "type": "string",
        "pattern": hex_pattern(Some(20)),
        "description": "A 20-byte address, 0x-prefixed (EIP-55 checksum checked when mixed-case).",
        "examples": ["0x923aB44BeF75e86f4ea1Ee2d84DD27831d32958A"]
    })
);
text_value!(
    HexArg,
    |v, f| write!(f, "{}", v.0),
    json_schema!({
        "type": "string",
        "pattern": hex_pattern(None),
        "description": "Bytes as 0x-prefixed hex.",
        "examples": ["0xa9059cbb"]
    })
);
text_value!(
    UintArg,
    |v, f| write!(f, "{}", v.0),
    json_schema!({
        "type": ["string", "integer"],
        "pattern": uint_pattern(true),
        "minimum": 0,
        "description": "An unsigned 256-bit integer: a JSON number, or a decimal or 0x-hex string.",
        "examples": ["0", 42]
    })
);
text_value!(
    AmountArg,
    |v, f| write!(f, "{}", v.0),
    json_schema!({
        "type": ["string", "integer"],
        "pattern": "^\\s*([0-9]+(\\.[0-9]*)?|\\.[0-9]+)\\s*(wei|gwei|ether|eth)?\\s*$",
        "minimum": 0,
        "description": "A native amount: wei as an integer, or a decimal with a unit (wei, gwei, ether), converted exactly.",
        "examples": ["1000", "0.01ether", "1.5 gwei"]
    })
);

#[cfg(test)]
mod tests {
    #[test]
    fn endpoint_urls_are_checked_when_written() {
        for good in [
            "http://127.0.0.1:8545",
            "https://sepolia.base.org",
            "https://rpc.example/v1/key?x=1",
            "http://[::1]:8545/",
            "http://localhost",
            "https://user:pw@host.example:443/path",
        ] {
            assert_eq!(check_endpoint_url(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("http://", "has no host"),
            ("http://a b/", "contains ' '"),
            ("http://[::1", "no closing `]`"),
            ("http://[::g]:1", "not an IPv6 address"),
            ("ftp://x", "must start with http:// or https://"),
            ("http://host:99999", "is not a port"),
            ("http://host:0", "is not a port"),
            ("http://ho%st/", "is not a host name"),
        ] {
            let e = check_endpoint_url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    use super::*;

    #[test]
    fn amounts_convert_exactly() {
        let wei = |s: &str| s.parse::<AmountArg>().map(|a| a.0);
        assert_eq!(wei("1000"), Ok(U256::from(1000)));
        assert_eq!(wei("0.01ether"), Ok(U256::from(10_000_000_000_000_000u64)));
        assert_eq!(wei("1.5 gwei"), Ok(U256::from(1_500_000_000u64)));
        assert_eq!(wei(".5eth"), Ok(U256::from(500_000_000_000_000_000u64)));
        assert_eq!(wei("0"), Ok(U256::ZERO));
        assert_eq!(
            wei("1.5").unwrap_err(),
            "\"1.5\": the amount \"1.5\" has more than 0 decimals, the most its unit allows"
        );
        assert!(wei("0.0000000001gwei").unwrap_err().contains("more than 9 decimals"));
        assert!(wei("1 btc").unwrap_err().contains("unknown unit \"btc\""));
        assert!(wei("-1").unwrap_err().contains("is not a decimal number"));
        assert!(wei("ether").unwrap_err().contains("the amount is empty"));
    }

    #[test]
    fn addresses_and_hex_say_what_is_wrong() {
        assert!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a".parse::<AddressArg>().is_ok());
        assert!(
            "0x923AB44bEF75E86F4Ea1eE2D84dD27831d32958a"
                .parse::<AddressArg>()
                .unwrap_err()
                .starts_with("\"0x923AB44bEF75E86F4Ea1eE2D84dD27831d32958a\" has a wrong EIP-55 checksum (a typo?)")
        );
        assert!("0x1234".parse::<AddressArg>().unwrap_err().contains("40 hex digits"));
        assert!("923a".parse::<AddressArg>().unwrap_err().contains("must start with 0x"));
        assert!("0xabc".parse::<HexArg>().unwrap_err().contains("odd number"));
        assert!("0xzz".parse::<HexArg>().unwrap_err().contains("'z' is not a hex digit"));
        assert_eq!("0x10".parse::<UintArg>().unwrap().0, U256::from(16));
    }

    #[test]
    fn json_numbers_and_strings_are_both_accepted() {
        let from = |v: serde_json::Value| serde_json::from_value::<UintArg>(v).map(|u| u.0);
        assert_eq!(from(serde_json::json!(7)).unwrap(), U256::from(7));
        assert_eq!(from(serde_json::json!("7")).unwrap(), U256::from(7));
        assert!(from(serde_json::json!(-1)).is_err());
        assert!(from(serde_json::json!(true)).is_err());
    }
}

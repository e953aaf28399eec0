//! The one address rule every face applies (CLI flags, `--params`, policy JSON, MCP
//! arguments): `0x` and 40 hex digits; all-lowercase or all-uppercase digits are an
//! unchecksummed address and accepted as such; mixed case is an EIP-55 checksum claim
//! and must be a valid one, so a typo in a checksummed address is caught rather than
//! sending funds or permissions to a neighbouring address.
//!
//! ```
//! use namera::address::parse_address;
//! let a = parse_address("0x52908400098527886E0F7030069857D2E4169EE7")?;
//! assert_eq!(parse_address("0x52908400098527886e0f7030069857d2e4169ee7")?, a);
//! assert!(parse_address("0x52908400098527886E0F7030069857D2E4169Ee7").is_err());
//! # Ok::<(), namera::address::AddressError>(())
//! ```

use alloy_primitives::Address;

/// Text that is not an address under [the rule](self).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// It does not start with `0x`.
    #[error("{0:?} is not an address: it must start with 0x")]
    NoPrefix(String),
    /// Not exactly 40 hex digits after `0x`.
    #[error("{0:?} is not an address: expected 0x and 40 hex digits")]
    Malformed(String),
    /// Mixed case whose EIP-55 checksum does not match.
    #[error(
        "{0:?} has a wrong EIP-55 checksum (a typo?); write it all-lowercase to skip the check"
    )]
    BadChecksum(String),
}

/// Parses `s` under the one address rule (see [the module](self)).
pub fn parse_address(s: &str) -> Result<Address, AddressError> {
    let hex = s.strip_prefix("0x").ok_or_else(|| AddressError::NoPrefix(s.to_owned()))?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AddressError::Malformed(s.to_owned()));
    }
    let mixed =
        hex.bytes().any(|b| b.is_ascii_lowercase()) && hex.bytes().any(|b| b.is_ascii_uppercase());
    if mixed {
        Address::parse_checksummed(s, None).map_err(|_| AddressError::BadChecksum(s.to_owned()))
    } else {
        s.parse().map_err(|_| AddressError::Malformed(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        let good = "0x52908400098527886E0F7030069857D2E4169EE7";
        let a = parse_address(good).unwrap();
        assert_eq!(a.to_checksum(None), good);
        assert_eq!(parse_address(&good.to_lowercase().replace("0X", "0x")).unwrap(), a);
        assert_eq!(parse_address(&format!("0x{}", &good[2..].to_uppercase())).unwrap(), a);
        let typo = "0x52908400098527886E0F7030069857D2E4169Ee7";
        assert_eq!(parse_address(typo), Err(AddressError::BadChecksum(typo.into())));
        assert!(matches!(parse_address(&good[2..]), Err(AddressError::NoPrefix(_))));
        assert!(matches!(parse_address("0x1234"), Err(AddressError::Malformed(_))));
        assert!(matches!(parse_address(&format!("{good}00")), Err(AddressError::Malformed(_))));
    }
}

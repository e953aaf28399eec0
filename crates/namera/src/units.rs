//! Exact decimal amounts, shared by every face (CLI flags, MCP tools): `"1.5"` ether is 1 500 000 000 000 000 000 wei, never a float.
//!
//! Agents write amounts as text; a float on the way would round `0.1` ether to a value
//! nobody asked for. Parsing is digit by digit into a `U256`, and a digit below the unit's
//! smallest part is refused rather than dropped.

use alloy_primitives::U256;

/// An amount that is not a plain non-negative decimal number in its unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Empty text.
    #[error("the amount is empty")]
    Empty,
    /// Something other than digits and one decimal point.
    #[error(
        "the amount {0:?} is not a decimal number: use digits and at most one '.', e.g. \"0.5\""
    )]
    NotDecimal(String),
    /// More fractional digits than the unit has.
    #[error("the amount {text:?} has more than {decimals} decimals, the most its unit allows")]
    TooPrecise {
        /// The amount as given.
        text: String,
        /// The unit's decimals.
        decimals: u8,
    },
    /// Larger than 2^256 - 1 wei.
    #[error("the amount {0:?} is too large")]
    TooLarge(String),
}

/// Parse `text` as a number of `decimals`-decimal units into its smallest unit, exactly.
///
/// ```
/// use alloy_primitives::U256;
/// use namera::units::parse_units;
/// assert_eq!(parse_units("1.5", 18)?, U256::from(1_500_000_000_000_000_000u128));
/// assert_eq!(parse_units("7", 0)?, U256::from(7));
/// assert!(parse_units("0.1", 0).is_err());
/// # Ok::<(), namera::units::AmountError>(())
/// ```
pub fn parse_units(text: &str, decimals: u8) -> Result<U256, AmountError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(AmountError::Empty);
    }
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(AmountError::NotDecimal(text.to_owned()));
    }
    // Trailing zeros below the unit's precision carry no value.
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(decimals) {
        return Err(AmountError::TooPrecise { text: text.to_owned(), decimals });
    }
    let too_large = || AmountError::TooLarge(text.to_owned());
    let mut value = U256::ZERO;
    let ten = U256::from(10u8);
    let padded = frac.bytes().chain(std::iter::repeat_n(b'0', usize::from(decimals) - frac.len()));
    for b in whole.bytes().chain(padded) {
        value = value
            .checked_mul(ten)
            .and_then(|v| v.checked_add(U256::from(b - b'0')))
            .ok_or_else(too_large)?;
    }
    Ok(value)
}

/// `value` smallest units written with `decimals` decimals, without trailing zeros.
///
/// ```
/// use alloy_primitives::U256;
/// use namera::units::format_units;
/// assert_eq!(format_units(U256::from(1_500_000_000_000_000_000u128), 18), "1.5");
/// assert_eq!(format_units(U256::from(42), 0), "42");
/// assert_eq!(format_units(U256::from(5), 3), "0.005");
/// ```
pub fn format_units(value: U256, decimals: u8) -> String {
    let s = value.to_string();
    let d = usize::from(decimals);
    if d == 0 {
        return s;
    }
    let padded = if s.len() <= d { format!("{}{s}", "0".repeat(d - s.len() + 1)) } else { s };
    let (whole, frac) = padded.split_at(padded.len() - d);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { whole.to_owned() } else { format!("{whole}.{frac}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_in_every_unit() {
        assert_eq!(parse_units("0.1", 18).unwrap(), U256::from(100_000_000_000_000_000u64));
        assert_eq!(parse_units("1.000000001", 9).unwrap(), U256::from(1_000_000_001u64));
        assert_eq!(parse_units(".5", 1).unwrap(), U256::from(5));
        assert_eq!(parse_units("2.", 1).unwrap(), U256::from(20));
        assert_eq!(parse_units("1.50", 1).unwrap(), U256::from(15), "trailing zeros are fine");
        assert_eq!(parse_units(" 3 ", 0).unwrap(), U256::from(3));
    }

    #[test]
    fn refuses_what_is_not_a_plain_decimal() {
        for bad in ["-1", "1e18", "0x10", "1,5", "1.2.3", ".", "one", "+1", "1 000"] {
            assert_eq!(parse_units(bad, 18), Err(AmountError::NotDecimal(bad.to_owned())), "{bad}");
        }
        assert_eq!(parse_units("", 18), Err(AmountError::Empty));
        assert_eq!(
            parse_units("0.0000000001", 9),
            Err(AmountError::TooPrecise { text: "0.0000000001".into(), decimals: 9 })
        );
        let huge = "1".repeat(80);
        assert_eq!(parse_units(&huge, 0), Err(AmountError::TooLarge(huge.clone())));
    }

    #[test]
    fn format_round_trips() {
        for (text, d) in [("0.000000000000000001", 18), ("123.456", 6), ("0", 18), ("10", 2)] {
            assert_eq!(format_units(parse_units(text, d).unwrap(), d), text);
        }
        assert_eq!(format_units(U256::MAX, 0), U256::MAX.to_string());
    }
}

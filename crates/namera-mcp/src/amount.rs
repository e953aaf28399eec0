//! The units an MCP tool takes amounts in; parsing and formatting are the SDK's
//! [`namera::units`], shared with the CLI.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use namera::units::{AmountError, format_units, parse_units};

/// The unit an amount of the native token is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// 1 wei (no decimals).
    Wei,
    /// 10^9 wei.
    Gwei,
    /// 10^18 wei.
    #[default]
    Ether,
}

impl Unit {
    /// How many decimals the unit has over wei.
    pub const fn decimals(self) -> u8 {
        match self {
            Self::Wei => 0,
            Self::Gwei => 9,
            Self::Ether => 18,
        }
    }
}

//! ERC-7579 `execute(bytes32 mode, bytes executionCalldata)` call data.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolValue};
use serde::{Deserialize, Serialize};

use super::abi::{Execution, IKernel};

/// One call the account makes.
///
/// ```
/// use alloy_primitives::{Bytes, U256, address};
/// use namera::kernel::Call;
/// let pay = Call::transfer(address!("0x923ab44bef75e86f4ea1ee2d84dd27831d32958a"), U256::from(1));
/// assert_eq!(pay.data, Bytes::new());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Call {
    /// The contract or account called.
    pub to: Address,
    /// Wei sent with the call.
    #[serde(default)]
    pub value: U256,
    /// Call data; empty for a plain transfer.
    #[serde(default)]
    pub data: Bytes,
}

impl Call {
    /// A plain native-value transfer.
    pub const fn transfer(to: Address, value: U256) -> Self {
        Self { to, value, data: Bytes::new() }
    }

    /// A call with data and no value.
    pub const fn new(to: Address, data: Bytes) -> Self {
        Self { to, value: U256::ZERO, data }
    }
}

/// ERC-7579 call type: the first byte of the execution mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallType {
    /// One call.
    #[default]
    #[serde(rename = "call")]
    Single,
    /// Several calls, atomic and in order.
    Batch,
    /// A delegatecall: the target's code runs in the account's context.
    #[serde(rename = "delegatecall")]
    DelegateCall,
}

impl CallType {
    /// The mode byte.
    pub const fn byte(self) -> u8 {
        match self {
            Self::Single => 0x00,
            Self::Batch => 0x01,
            Self::DelegateCall => 0xff,
        }
    }

    /// Parse the mode byte.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x00 => Some(Self::Single),
            0x01 => Some(Self::Batch),
            0xff => Some(Self::DelegateCall),
            _ => None,
        }
    }
}

/// ERC-7579 exec type: what happens when a call reverts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecType {
    /// Revert the whole execution.
    #[default]
    Default,
    /// Carry on; the failure is reported in an event.
    Try,
}

impl ExecType {
    /// The mode byte.
    pub const fn byte(self) -> u8 {
        match self {
            Self::Default => 0x00,
            Self::Try => 0x01,
        }
    }
}

/// What the account executes: the typed form of `execute`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Execution7579 {
    /// One call: packed `to ‖ value ‖ data`.
    Single(Call),
    /// Several calls: `abi.encode((address,uint256,bytes)[])`.
    Batch(Vec<Call>),
    /// A delegatecall: packed `to ‖ data`.
    DelegateCall {
        /// The code to run.
        to: Address,
        /// Its call data.
        data: Bytes,
    },
}

/// A delegatecall cannot be batched (Kernel has no such mode).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionError {
    /// No calls were given.
    #[error("no calls to encode: give at least one call")]
    Empty,
    /// Several calls with the delegatecall type.
    #[error("a delegatecall cannot be batched: give exactly one call, got {0}")]
    BatchedDelegateCall(usize),
    /// A delegatecall with value.
    #[error("a delegatecall cannot carry value")]
    DelegateCallWithValue,
}

impl Execution7579 {
    /// Choose the execution the way ZeroDev's SDK does: one call is a single execution,
    /// several are a batch; `delegate` asks for a delegatecall of exactly one call.
    pub fn from_calls(calls: &[Call], delegate: bool) -> Result<Self, ExecutionError> {
        match (calls, delegate) {
            ([], _) => Err(ExecutionError::Empty),
            ([one], true) if one.value.is_zero() => {
                Ok(Self::DelegateCall { to: one.to, data: one.data.clone() })
            }
            ([_], true) => Err(ExecutionError::DelegateCallWithValue),
            (many, true) => Err(ExecutionError::BatchedDelegateCall(many.len())),
            ([one], false) => Ok(Self::Single(one.clone())),
            (many, false) => Ok(Self::Batch(many.to_vec())),
        }
    }

    /// The call type.
    pub const fn call_type(&self) -> CallType {
        match self {
            Self::Single(_) => CallType::Single,
            Self::Batch(_) => CallType::Batch,
            Self::DelegateCall { .. } => CallType::DelegateCall,
        }
    }

    /// The 32-byte execution mode: call type, exec type, then zeros.
    pub fn mode(&self, exec: ExecType) -> B256 {
        let mut m = B256::ZERO;
        m[0] = self.call_type().byte();
        m[1] = exec.byte();
        m
    }

    /// The `executionCalldata` argument.
    pub fn execution_calldata(&self) -> Bytes {
        match self {
            Self::Single(c) => {
                let mut out = Vec::with_capacity(52 + c.data.len());
                out.extend_from_slice(c.to.as_slice());
                out.extend_from_slice(&c.value.to_be_bytes::<32>());
                out.extend_from_slice(&c.data);
                out.into()
            }
            Self::Batch(calls) => calls
                .iter()
                .map(|c| Execution { target: c.to, value: c.value, callData: c.data.clone() })
                .collect::<Vec<_>>()
                .abi_encode()
                .into(),
            Self::DelegateCall { to, data } => {
                let mut out = to.to_vec();
                out.extend_from_slice(data);
                out.into()
            }
        }
    }

    /// The full `execute` call data.
    pub fn encode(&self, exec: ExecType) -> Bytes {
        IKernel::executeCall {
            execMode: self.mode(exec),
            executionCalldata: self.execution_calldata(),
        }
        .abi_encode()
        .into()
    }

    /// Decode `execute` call data back into calls (the inverse of [`Self::encode`]).
    pub fn decode(call_data: &[u8]) -> Option<(Self, ExecType)> {
        let call = IKernel::executeCall::abi_decode(call_data).ok()?;
        let exec = match call.execMode[1] {
            0x00 => ExecType::Default,
            0x01 => ExecType::Try,
            _ => return None,
        };
        let data = &call.executionCalldata;
        let execution = match CallType::from_byte(call.execMode[0])? {
            CallType::Single => {
                if data.len() < 52 {
                    return None;
                }
                Self::Single(Call {
                    to: Address::from_slice(&data[..20]),
                    value: U256::from_be_slice(&data[20..52]),
                    data: Bytes::copy_from_slice(&data[52..]),
                })
            }
            CallType::Batch => Self::Batch(
                Vec::<Execution>::abi_decode(data)
                    .ok()?
                    .into_iter()
                    .map(|e| Call { to: e.target, value: e.value, data: e.callData })
                    .collect(),
            ),
            CallType::DelegateCall => {
                if data.len() < 20 {
                    return None;
                }
                Self::DelegateCall {
                    to: Address::from_slice(&data[..20]),
                    data: Bytes::copy_from_slice(&data[20..]),
                }
            }
        };
        Some((execution, exec))
    }
}

/// The call data of a UserOperation from `account`, exactly as ZeroDev's SDK builds it.
///
/// One plain call to the account itself (for instance `uninstallValidation`) is sent as
/// the raw call data: Kernel executes calls to its own functions directly from the
/// EntryPoint, and wrapping them would make the account call itself.
pub fn encode_calls(
    account: Address,
    calls: &[Call],
    delegate: bool,
    exec: ExecType,
) -> Result<Bytes, ExecutionError> {
    if let [one] = calls
        && !delegate
        && one.to == account
    {
        return Ok(one.data.clone());
    }
    Ok(Execution7579::from_calls(calls, delegate)?.encode(exec))
}

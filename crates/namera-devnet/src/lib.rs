//! A local ERC-4337 devnet for Namera: anvil, EntryPoint v0.7, Kernel v3 and the plugin
//! contracts at their canonical addresses, and the Alto bundler.
//!
//! Namera's behaviour (session keys, policies, UserOperations) is proven against real
//! contracts and a real bundler, not mocks; this crate makes that a one-call affair for
//! tests and for `namera devnet up|down|status|env`.
//!
//! How the parts fit:
//! - [`install`] puts pinned tools from the npm registry into a cache folder, once.
//! - [`up`] starts anvil, deploys or places the contracts (see [`deploy`]), starts Alto and
//!   records everything in a state file ([`DevnetState`]), so [`status`], [`env()`] and
//!   [`down`] work from any later process. A healthy devnet is reused.
//! - [`testing::shared`] gives each test binary one devnet that dies with it.
//!
//! Talking to anvil and Alto goes through the SDK's clients ([`namera::node::NodeClient`],
//! [`namera::bundler::BundlerClient`] over [`namera::rpc::RpcClient`]); [`anvil`] adds the
//! few methods only a devnet needs. Canonical addresses and the CREATE2 account address also
//! come from the SDK ([`namera::kernel`]), so the devnet and the SDK cannot drift apart.
//!
//! ```no_run
//! use namera_devnet::{DevnetConfig, up};
//! let devnet = up(&DevnetConfig::new().chain_id(31337))?;
//! println!("{}", devnet.state().env_lines());
//! devnet.down()?;
//! # Ok::<(), namera_devnet::DevnetError>(())
//! ```
//!
//! Alto has no option to choose its listening address and binds all interfaces: while a
//! devnet runs, its bundler port is reachable from the network this machine is on. anvil
//! listens on 127.0.0.1 only.

pub mod anvil;
mod config;
pub mod deploy;
mod devnet;
mod error;
pub mod install;
mod overrides;
mod process;
pub mod testing;

pub use config::{DEFAULT_CHAIN_ID, DevnetConfig, default_contracts_dir, default_home};
pub use devnet::{
    BUNDLER_EXECUTOR, BUNDLER_EXECUTOR_KEY, BUNDLER_UTILITY, BUNDLER_UTILITY_KEY, ContractStatus,
    DEPLOYER, Devnet, DevnetState, DownReport, ExtraBundler, ProcessInfo, STATE_VERSION, Status,
    canonical_contracts, check_contracts, down, env, load, status, up,
};
pub use error::{DevnetError, Result};
pub use overrides::{OverrideRecord, PLUGIN_ARTIFACTS_ENV, PluginOverrides};
pub use process::pid_alive;

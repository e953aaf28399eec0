//! A stand-in for `namera devnet` until the CLI exists:
//! `cargo run -p namera-devnet --example devnet -- up|down|status|env [chain-id]`.

use std::time::Instant;

use namera_devnet::{DevnetConfig, DevnetError};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), DevnetError> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| "status".to_owned());
    let mut config = DevnetConfig::new();
    if let Some(id) = args.next() {
        let id = id
            .parse()
            .map_err(|_| DevnetError::Config(format!("chain id {id:?} is not a number")))?;
        config = config.chain_id(id);
    }
    match command.as_str() {
        "up" => {
            let started = Instant::now();
            let devnet = namera_devnet::up(&config)?;
            print!("{}", devnet.state().env_lines());
            eprintln!("up in {:.1} s", started.elapsed().as_secs_f64());
        }
        "down" => {
            let report = namera_devnet::down(&config)?;
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        }
        "status" => {
            let status = namera_devnet::status(&config)?;
            println!("{}", serde_json::to_string_pretty(&status).unwrap_or_default());
        }
        "env" => print!("{}", namera_devnet::env(&config)?),
        other => return Err(DevnetError::Config(format!("unknown command {other:?}"))),
    }
    Ok(())
}

//! Keystore costs with geth's standard scrypt parameters (N = 2^18, r = 8, p = 1).
//!
//! Run with `cargo bench -p namera-store --bench keystore`. The baseline, the RustCrypto
//! `scrypt` crate deriving a key with the same parameters, is measured in the same run,
//! interleaved with ours, so the printed ratios hold on any machine. Each figure is the
//! median of several rounds: a 256 MiB KDF is far above timer resolution, and the median
//! shrugs off the odd round slowed by other processes on a shared machine.
//!
//! Set `NAMERA_BENCH_ROUNDS` to change the number of rounds (default 7).

use std::hint::black_box;
use std::time::{Duration, Instant};

use namera_store::keystore::{KdfStrength, Keystore, scrypt};

const PASSWORD: &[u8] = b"correct horse battery staple";
const SALT: [u8; 32] = [0x5a; 32];

/// One named operation to time.
type Case = Box<dyn FnMut()>;

fn time(f: &mut dyn FnMut()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes flags such as `--bench`; a filter argument is not supported.
    let rounds: usize = std::env::var("NAMERA_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(7);
    let params = ::scrypt::Params::new(18, 8, 1, 32).expect("valid parameters");
    let secret = [0x42u8; 32];
    let keystore = Keystore::encrypt(&secret, PASSWORD, KdfStrength::Standard).expect("encrypt");

    let mut cases: Vec<(&str, Case)> = vec![
        (
            "baseline: scrypt crate, N=2^18 r=8 p=1",
            Box::new(move || {
                let mut out = [0u8; 32];
                ::scrypt::scrypt(PASSWORD, &SALT, &params, &mut out).expect("scrypt");
                black_box(out);
            }),
        ),
        (
            "namera scrypt, N=2^18 r=8 p=1",
            Box::new(|| {
                let mut out = [0u8; 32];
                scrypt(PASSWORD, &SALT, 1 << 18, 8, 1, &mut out).expect("scrypt");
                black_box(out);
            }),
        ),
        (
            "Keystore::encrypt (Standard)",
            Box::new(move || {
                black_box(
                    Keystore::encrypt(&secret, PASSWORD, KdfStrength::Standard).expect("encrypt"),
                );
            }),
        ),
        (
            "Keystore::decrypt (Standard)",
            Box::new(move || {
                black_box(keystore.decrypt(PASSWORD).expect("decrypt"));
            }),
        ),
    ];

    // Warm up once (page-fault the allocator's arenas, load code), then interleave.
    for (_, f) in cases.iter_mut() {
        f();
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for _ in 0..rounds {
        for (i, (_, f)) in cases.iter_mut().enumerate() {
            samples[i].push(time(f.as_mut()));
        }
    }
    let medians: Vec<Duration> = samples.into_iter().map(median).collect();
    let baseline = medians[0].as_secs_f64();
    println!("{rounds} rounds, median per operation");
    for ((name, _), m) in cases.iter().zip(&medians) {
        println!(
            "{name:<42} {:>8.1} ms   {:>5.2} x baseline",
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() / baseline
        );
    }
}

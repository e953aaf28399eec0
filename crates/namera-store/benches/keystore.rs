//! Keystore costs with geth's standard scrypt parameters (N = 2^18, r = 8, p = 1).
//!
//! Run with `cargo bench -p namera-store --bench keystore`. The baseline, the RustCrypto
//! `scrypt` crate deriving a key with the same parameters, is measured in the same run,
//! interleaved with ours, so the printed ratios hold on any machine. Each figure is the
//! median of several rounds: a 256 MiB KDF is far above timer resolution, and the median
//! shrugs off the odd round slowed by other processes on a shared machine.
//!
//! Both wall-clock time and this thread's CPU time (Linux `/proc/thread-self/schedstat`)
//! are reported: on a machine shared with other jobs, CPU time is the steadier of the two.
//!
//! Set `NAMERA_BENCH_ROUNDS` to change the number of rounds (default 7). With default
//! features our scrypt uses AVX-512 where the CPU has it; `--no-default-features`
//! measures the SSE2 code alone.

use std::hint::black_box;
use std::time::{Duration, Instant};

use namera_store::keystore::{KdfStrength, Keystore, scrypt};

const PASSWORD: &[u8] = b"correct horse battery staple";
const SALT: [u8; 32] = [0x5a; 32];

/// One named operation to time.
type Case = Box<dyn FnMut()>;

/// CPU time of this thread so far; zero where the kernel does not tell.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// (wall, cpu) time of one call.
fn time(f: &mut dyn FnMut()) -> (Duration, Duration) {
    let (start, cpu) = (Instant::now(), cpu_time());
    f();
    (start.elapsed(), cpu_time() - cpu)
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
    let mut wall: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut cpu: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for _ in 0..rounds {
        for (i, (_, f)) in cases.iter_mut().enumerate() {
            let (w, c) = time(f.as_mut());
            wall[i].push(w);
            cpu[i].push(c);
        }
    }
    let wall: Vec<f64> = wall.into_iter().map(|v| median(v).as_secs_f64()).collect();
    let cpu: Vec<f64> = cpu.into_iter().map(|v| median(v).as_secs_f64()).collect();
    println!("{rounds} rounds, median per operation (wall clock | CPU time)");
    for (i, (name, _)) in cases.iter().enumerate() {
        println!(
            "{name:<40} {:>7.1} ms {:>5.2}x baseline | {:>7.1} ms {:>5.2}x baseline",
            wall[i] * 1e3,
            wall[i] / wall[0],
            cpu[i] * 1e3,
            if cpu[0] > 0.0 { cpu[i] / cpu[0] } else { f64::NAN },
        );
    }
}

//! scrypt (RFC 7914), written for speed in safe Rust.
//!
//! Keystores spend almost all of their time here: with geth's standard parameters
//! (N = 2^18, r = 8) ROMix runs Salsa20/8 about 8.4 million times over a 256 MiB table.
//! Two choices make it fast without `unsafe` or intrinsics:
//!
//! - **Shuffled lanes.** Each 64-byte block is kept as four rows of four words arranged
//!   along the Salsa20 diagonals (row `A` = words 0, 5, 10, 15 and so on). In that order
//!   every quarter-round step of a Salsa20 round touches one word in each lane of a row,
//!   so a step is a 4-lane add, rotate and xor, which LLVM compiles to SSE/AVX
//!   instructions; moving from column rounds to row rounds is a lane rotation (`pshufd`).
//!   Since BlockMix and ROMix only add, xor and copy whole blocks word by word, the whole
//!   computation can stay in this order; blocks are shuffled once on the way in and once
//!   on the way out. Integerify reads word 0, which the shuffle leaves in place.
//! - **No extra passes.** The table is filled block by block as ROMix produces it (no
//!   separate zeroing pass over 256 MiB), and the second loop's `X xor V[j]` is folded
//!   into BlockMix instead of being written out first.
//!
//! The table is not zeroized on drop: it holds only values derived through PBKDF2 and
//! Salsa20 from the password, never the derived key, and an allocation this size is
//! returned to the kernel (`munmap`), which zeroes pages before any reuse. Wiping it would
//! add a full extra pass over 256 MiB to every keystore operation. The PBKDF2 buffers that
//! feed the derived key directly are zeroized.

use pbkdf2::pbkdf2_hmac;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Position `i` of a shuffled block holds word `SHUFFLE[i]` of the RFC 7914 block.
const SHUFFLE: [usize; 16] = [0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11];

/// Words in one Salsa20 block.
const BLOCK: usize = 16;

type Row = [u32; 4];

#[inline(always)]
fn add(a: Row, b: Row) -> Row {
    [
        a[0].wrapping_add(b[0]),
        a[1].wrapping_add(b[1]),
        a[2].wrapping_add(b[2]),
        a[3].wrapping_add(b[3]),
    ]
}

/// `x ^= rotl(t, k)` lane by lane: one quarter-round step in four lanes at once.
#[inline(always)]
fn xor_rotl(x: &mut Row, t: Row, k: u32) {
    for (x, t) in x.iter_mut().zip(t) {
        *x ^= t.rotate_left(k);
    }
}

/// Rotates the lanes of a row left by `K` (lane 0 takes lane `K`).
#[inline(always)]
fn lanes_left<const K: usize>(a: Row) -> Row {
    [a[K % 4], a[(K + 1) % 4], a[(K + 2) % 4], a[(K + 3) % 4]]
}

#[inline(always)]
fn row(block: &[u32; BLOCK], i: usize) -> Row {
    [block[4 * i], block[4 * i + 1], block[4 * i + 2], block[4 * i + 3]]
}

/// Salsa20/8 core on a shuffled block, in place: `block = block + salsa20_8_rounds(block)`.
///
/// Rows: `a` = (x0, x5, x10, x15), `b` = (x4, x9, x14, x3), `c` = (x8, x13, x2, x7),
/// `d` = (x12, x1, x6, x11). A column round is then `b ^= (a + d) <<< 7`,
/// `c ^= (b + a) <<< 9`, `d ^= (c + b) <<< 13`, `a ^= (d + c) <<< 18`. Rotating `d`, `c`
/// and `b` left by 1, 2 and 3 lanes lines the rows up for the row round, which is the same
/// four steps with `d`, `c`, `b` in the roles of `b`, `c`, `d`.
#[inline(always)]
fn salsa20_8(block: &mut [u32; BLOCK]) {
    let (a0, b0, c0, d0) = (row(block, 0), row(block, 1), row(block, 2), row(block, 3));
    let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
    for _ in 0..4 {
        // Column round.
        xor_rotl(&mut b, add(a, d), 7);
        xor_rotl(&mut c, add(b, a), 9);
        xor_rotl(&mut d, add(c, b), 13);
        xor_rotl(&mut a, add(d, c), 18);
        // Row round.
        let (mut d1, mut c1, mut b1) = (lanes_left::<1>(d), lanes_left::<2>(c), lanes_left::<3>(b));
        xor_rotl(&mut d1, add(a, b1), 7);
        xor_rotl(&mut c1, add(d1, a), 9);
        xor_rotl(&mut b1, add(c1, d1), 13);
        xor_rotl(&mut a, add(b1, c1), 18);
        (d, c, b) = (lanes_left::<3>(d1), lanes_left::<2>(c1), lanes_left::<1>(b1));
    }
    for (i, r) in [add(a, a0), add(b, b0), add(c, c0), add(d, d0)].into_iter().enumerate() {
        block[4 * i..4 * i + 4].copy_from_slice(&r);
    }
}

#[inline(always)]
fn load(src: &[u32]) -> [u32; BLOCK] {
    let mut out = [0u32; BLOCK];
    out.copy_from_slice(&src[..BLOCK]);
    out
}

#[inline(always)]
fn xor_into(x: &mut [u32; BLOCK], src: &[u32]) {
    for (x, s) in x.iter_mut().zip(src) {
        *x ^= s;
    }
}

/// Where BlockMix puts its `i`-th Salsa output: even ones first, then odd ones.
#[inline(always)]
fn out_block(i: usize, r: usize) -> usize {
    (i / 2) + (i % 2) * r
}

/// BlockMix_{Salsa20/8, r}: `output = BlockMix(input)`; both hold `2r` shuffled blocks.
#[inline(always)]
fn block_mix(input: &[u32], output: &mut [u32], r: usize) {
    let mut x = load(&input[(2 * r - 1) * BLOCK..]);
    for (i, chunk) in input.chunks_exact(BLOCK).enumerate() {
        xor_into(&mut x, chunk);
        salsa20_8(&mut x);
        let o = out_block(i, r) * BLOCK;
        output[o..o + BLOCK].copy_from_slice(&x);
    }
}

/// `output = BlockMix(input xor v)`, without writing `input xor v` anywhere.
#[inline(always)]
fn block_mix_xor(input: &[u32], v: &[u32], output: &mut [u32], r: usize) {
    let last = (2 * r - 1) * BLOCK;
    let mut x = load(&input[last..]);
    xor_into(&mut x, &v[last..]);
    for (i, (chunk, vchunk)) in input.chunks_exact(BLOCK).zip(v.chunks_exact(BLOCK)).enumerate() {
        xor_into(&mut x, chunk);
        xor_into(&mut x, vchunk);
        salsa20_8(&mut x);
        let o = out_block(i, r) * BLOCK;
        output[o..o + BLOCK].copy_from_slice(&x);
    }
}

/// ROMix on one shuffled `B_i` (`32 r` words), in place. `v` is reused between calls.
fn romix(x: &mut [u32], v: &mut Vec<u32>, scratch: &mut [u32], n: usize, r: usize) {
    let len = 32 * r;
    v.clear();
    v.extend_from_slice(x);
    for i in 1..n {
        // Grow by one entry and fill it while the previous one is still in cache.
        v.resize((i + 1) * len, 0);
        let (done, next) = v.split_at_mut(i * len);
        block_mix(&done[(i - 1) * len..], next, r);
    }
    block_mix(&v[(n - 1) * len..], scratch, r);
    x.copy_from_slice(scratch);
    // n is a power of two, so `& (n - 1)` is `mod n`; n <= 2^22 fits in the low word.
    let mask = n - 1;
    for _ in 0..n {
        let j = (x[(2 * r - 1) * BLOCK] as usize) & mask;
        block_mix_xor(x, &v[j * len..(j + 1) * len], scratch, r);
        x.copy_from_slice(scratch);
    }
}

/// Why [`scrypt`] refused to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScryptFailure {
    /// `n` is not a power of two greater than 1, or `r`/`p` is 0, or sizes overflow.
    BadParams,
    /// The `128 * r * n` byte table could not be allocated.
    OutOfMemory,
}

/// scrypt(password, salt, N = `n`, r, p) into `out` (RFC 7914).
///
/// Parameter *policy* (how large is too large) is the caller's business; this only refuses
/// values the algorithm is undefined for, and reports allocation failure instead of
/// aborting.
pub(crate) fn scrypt(
    password: &[u8],
    salt: &[u8],
    n: u64,
    r: u32,
    p: u32,
    out: &mut [u8],
) -> Result<(), ScryptFailure> {
    if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
        return Err(ScryptFailure::BadParams);
    }
    let n = usize::try_from(n).map_err(|_| ScryptFailure::BadParams)?;
    let r = r as usize;
    let p = p as usize;
    let block_bytes = r.checked_mul(128).ok_or(ScryptFailure::BadParams)?;
    let b_len = block_bytes.checked_mul(p).ok_or(ScryptFailure::BadParams)?;
    let v_words = n.checked_mul(32 * r).ok_or(ScryptFailure::BadParams)?;

    let mut v: Vec<u32> = Vec::new();
    v.try_reserve_exact(v_words).map_err(|_| ScryptFailure::OutOfMemory)?;

    let mut b = Zeroizing::new(vec![0u8; b_len]);
    pbkdf2_hmac::<Sha256>(password, salt, 1, &mut b);

    let mut x = Zeroizing::new(vec![0u32; 32 * r]);
    let mut scratch = Zeroizing::new(vec![0u32; 32 * r]);
    for chunk in b.chunks_exact_mut(block_bytes) {
        // Bytes -> little-endian words -> shuffled lanes.
        for (blk, bytes) in x.chunks_exact_mut(BLOCK).zip(chunk.chunks_exact(64)) {
            for (slot, &word) in blk.iter_mut().zip(SHUFFLE.iter()) {
                let w = &bytes[4 * word..4 * word + 4];
                *slot = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            }
        }
        romix(&mut x, &mut v, &mut scratch, n, r);
        for (blk, bytes) in x.chunks_exact(BLOCK).zip(chunk.chunks_exact_mut(64)) {
            for (&val, &word) in blk.iter().zip(SHUFFLE.iter()) {
                bytes[4 * word..4 * word + 4].copy_from_slice(&val.to_le_bytes());
            }
        }
    }
    pbkdf2_hmac::<Sha256>(password, &b, 1, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    /// The Salsa20/8 core test vector from RFC 7914 section 8 (input and output as bytes).
    #[test]
    fn salsa20_8_rfc7914_vector() {
        let input = hex!(
            "7e879a214f3ec9867ca940e641718f26baee555b8c61c1b50df846116dcd3b1d"
            "ee24f319df9b3d8514121e4b5ac5aa3276021d2909c74829edebc68db8b8c25e"
        );
        let expected = hex!(
            "a41f859c6608cc993b81cacb020cef05044b2181a2fd337dfd7b1c6396682f29"
            "b4393168e3c9e6bcfe6bc5b7a06d96bae424cc102c91745c24ad673dc7618f81"
        );
        let mut words = [0u32; BLOCK];
        for (i, &w) in SHUFFLE.iter().enumerate() {
            words[i] = u32::from_le_bytes(input[4 * w..4 * w + 4].try_into().unwrap());
        }
        salsa20_8(&mut words);
        let mut out = [0u8; 64];
        for (i, &w) in SHUFFLE.iter().enumerate() {
            out[4 * w..4 * w + 4].copy_from_slice(&words[i].to_le_bytes());
        }
        assert_eq!(out, expected);
    }

    #[test]
    fn refuses_undefined_parameters() {
        let mut out = [0u8; 32];
        for (n, r, p) in [(0, 1, 1), (1, 1, 1), (3, 1, 1), (1000, 8, 1), (16, 0, 1), (16, 1, 0)] {
            assert_eq!(scrypt(b"", b"", n, r, p, &mut out), Err(ScryptFailure::BadParams));
        }
    }

    /// Agrees with the RustCrypto `scrypt` crate across shapes (r = 1..4, p = 1..3, odd
    /// output lengths), including outputs longer than one SHA-256 block (the crate caps them at 64 bytes).
    #[test]
    fn matches_rustcrypto_scrypt() {
        for (log_n, r, p, len) in [
            (1u8, 1u32, 1u32, 32usize),
            (4, 1, 1, 64),
            (5, 2, 3, 17),
            (6, 3, 2, 64),
            (8, 8, 1, 32),
            (4, 4, 6, 32),
        ] {
            let params = ::scrypt::Params::new(log_n, r, p, len).unwrap();
            let mut expected = vec![0u8; len];
            ::scrypt::scrypt(b"pass\x00word", b"salty", &params, &mut expected).unwrap();
            let mut ours = vec![0u8; len];
            scrypt(b"pass\x00word", b"salty", 1 << log_n, r, p, &mut ours).unwrap();
            assert_eq!(ours, expected, "log_n={log_n} r={r} p={p} len={len}");
        }
    }
}

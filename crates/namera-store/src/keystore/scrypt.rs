//! scrypt (RFC 7914), written for speed, without `unsafe` in this crate.
//!
//! Keystores spend almost all of their time here: with geth's standard parameters
//! (N = 2^18, r = 8) ROMix runs Salsa20/8 about 8.4 million times over a 256 MiB table.
//! What makes it fast:
//!
//! - **Shuffled lanes.** Each 64-byte block is kept as four rows of four words arranged
//!   along the Salsa20 diagonals (row `a` = words 0, 5, 10, 15 and so on). In that order
//!   every quarter-round step of a Salsa20 round touches one word in each lane of a row,
//!   so a step is a 4-lane add, rotate and xor; moving from column rounds to row rounds is
//!   a lane rotation (`pshufd`). Since BlockMix and ROMix only add, xor and copy whole
//!   blocks word by word, the whole computation stays in this order; blocks are shuffled
//!   once on the way in and once on the way out. Integerify reads word 0, which the
//!   shuffle leaves in place.
//! - **SSE2 rows.** On x86_64 a row is an SSE2 register (see [`Row`]); elsewhere a plain
//!   array, which LLVM leaves scalar.
//! - **Memory.** The table is anonymous memory with transparent huge pages requested,
//!   faulted in by a helper thread ahead of ROMix's first loop (see [`Table`]); it is
//!   filled block by block as ROMix produces it, with no zeroing pass; the second loop's `X xor V[j]` is folded into BlockMix instead of being written
//!   out first, and all of `V[j]` is prefetched as soon as `j` is known.
//!
//! - **AVX-512 when the CPU has it** (feature `avx512`, on by default): see [`scrypt`].
//!
//! The whole computation is one dependency chain (each Salsa20/8 call needs the previous
//! one's output, and with p = 1 there is no second ROMix to interleave), so its speed is
//! the latency of 8.4 million Salsa20/8 calls: four dependent 4-cycle steps (add, shift,
//! or, xor) per round, eight rounds, ~128 cycles each with SSE2; ~96 with AVX-512's
//! rotate. At 2 GHz that is 0.54 s and 0.40 s before any memory traffic, which is why
//! the SSE2 path alone cannot reach 0.5 s on such a core.
//!
//! The table is not zeroized on drop: it holds only values derived through PBKDF2 and
//! Salsa20 from the password, never the derived key, and it is returned to the kernel
//! (`munmap`), which zeroes pages before any reuse. Wiping it would add a full extra pass
//! over 256 MiB to every keystore operation. The PBKDF2 buffers that feed the derived key
//! directly are zeroized.

use pbkdf2::pbkdf2_hmac;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Position `i` of a shuffled block holds word `SHUFFLE[i]` of the RFC 7914 block.
const SHUFFLE: [usize; 16] = [0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11];

/// Rows (of four words) in one 64-byte Salsa20 block.
const ROWS: usize = 4;

/// Four 32-bit lanes: one row of a shuffled Salsa20 block.
///
/// Two implementations: SSE2 registers on x86_64, through `safe_arch` (SSE2 is part of the
/// x86_64 baseline; the crate wraps the intrinsics so this crate stays free of `unsafe`),
/// and plain arrays elsewhere. LLVM does not vectorize the array version by itself:
/// SSE2 has no vector rotate, so its cost model prefers scalar `rol`, and the scalar
/// version runs no faster than the `scrypt` crate. That is why the SSE2 version exists.
trait Row: bytemuck::Pod {
    fn zero() -> Self;
    fn from_words(w: [u32; 4]) -> Self;
    fn to_words(self) -> [u32; 4];
    /// Lane 0.
    fn first(self) -> u32;
    fn add(self, other: Self) -> Self;
    fn xor(self, other: Self) -> Self;
    /// Rotates each lane left by `L` bits; `R` must be `32 - L`.
    fn rotl<const L: i32, const R: i32>(self) -> Self;
    /// Lane `i` takes lane `i + 1` (mod 4).
    fn lanes_left_1(self) -> Self;
    /// Lane `i` takes lane `i + 2` (mod 4).
    fn lanes_left_2(self) -> Self;
    /// Lane `i` takes lane `i + 3` (mod 4).
    fn lanes_left_3(self) -> Self;
    /// Hints the CPU to fetch the cache lines of `rows` (whose address is known before
    /// the data is needed); no-op where we have no prefetch instruction.
    #[inline(always)]
    fn prefetch(_rows: &[Self]) {}
}

impl Row for [u32; 4] {
    #[inline(always)]
    fn zero() -> Self {
        [0; 4]
    }
    #[inline(always)]
    fn from_words(w: [u32; 4]) -> Self {
        w
    }
    #[inline(always)]
    fn to_words(self) -> [u32; 4] {
        self
    }
    #[inline(always)]
    fn first(self) -> u32 {
        self[0]
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        [0, 1, 2, 3].map(|i| self[i].wrapping_add(o[i]))
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        [0, 1, 2, 3].map(|i| self[i] ^ o[i])
    }
    #[inline(always)]
    fn rotl<const L: i32, const R: i32>(self) -> Self {
        self.map(|x| x.rotate_left(L as u32))
    }
    #[inline(always)]
    fn lanes_left_1(self) -> Self {
        [self[1], self[2], self[3], self[0]]
    }
    #[inline(always)]
    fn lanes_left_2(self) -> Self {
        [self[2], self[3], self[0], self[1]]
    }
    #[inline(always)]
    fn lanes_left_3(self) -> Self {
        [self[3], self[0], self[1], self[2]]
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use safe_arch::{
        add_i32_m128i, bitor_m128i, bitxor_m128i, m128i, prefetch_t0, shl_imm_u32_m128i,
        shr_imm_u32_m128i, shuffle_ai_f32_all_m128i, zeroed_m128i,
    };

    /// An SSE2 register viewed as four u32 lanes.
    impl super::Row for m128i {
        #[inline(always)]
        fn zero() -> Self {
            zeroed_m128i()
        }
        #[inline(always)]
        fn from_words(w: [u32; 4]) -> Self {
            m128i::from(w)
        }
        #[inline(always)]
        fn to_words(self) -> [u32; 4] {
            self.into()
        }
        #[inline(always)]
        fn first(self) -> u32 {
            self.to_words()[0]
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            add_i32_m128i(self, o)
        }
        #[inline(always)]
        fn xor(self, o: Self) -> Self {
            bitxor_m128i(self, o)
        }
        #[inline(always)]
        fn rotl<const L: i32, const R: i32>(self) -> Self {
            bitor_m128i(shl_imm_u32_m128i::<L>(self), shr_imm_u32_m128i::<R>(self))
        }
        // `pshufd` (named `shuffle_ai_f32_all` by safe_arch): lane i takes lane
        // (MASK >> 2i) & 3.
        #[inline(always)]
        fn lanes_left_1(self) -> Self {
            shuffle_ai_f32_all_m128i::<0b00_11_10_01>(self)
        }
        #[inline(always)]
        fn lanes_left_2(self) -> Self {
            shuffle_ai_f32_all_m128i::<0b01_00_11_10>(self)
        }
        #[inline(always)]
        fn lanes_left_3(self) -> Self {
            shuffle_ai_f32_all_m128i::<0b10_01_00_11>(self)
        }
        #[inline(always)]
        fn prefetch(rows: &[Self]) {
            // Four 16-byte rows per 64-byte cache line.
            for row in rows.iter().step_by(4) {
                prefetch_t0(row);
            }
        }
    }
}

/// The row type used on this target.
#[cfg(target_arch = "x86_64")]
type NativeRow = safe_arch::m128i;
#[cfg(not(target_arch = "x86_64"))]
type NativeRow = [u32; 4];

/// Salsa20/8 core on a shuffled block, in place: `block = block + salsa20_8_rounds(block)`.
///
/// Rows: `a` = (x0, x5, x10, x15), `b` = (x4, x9, x14, x3), `c` = (x8, x13, x2, x7),
/// `d` = (x12, x1, x6, x11). A column round is then `b ^= (a + d) <<< 7`,
/// `c ^= (b + a) <<< 9`, `d ^= (c + b) <<< 13`, `a ^= (d + c) <<< 18`. Rotating `d`, `c`
/// and `b` left by 1, 2 and 3 lanes lines the rows up for the row round, which is the same
/// four steps with `d`, `c`, `b` in the roles of `b`, `c`, `d`.
#[inline(always)]
fn salsa20_8<R: Row>(block: &mut [R; ROWS]) {
    let [a0, b0, c0, d0] = *block;
    let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
    for _ in 0..4 {
        // Column round.
        b = b.xor(a.add(d).rotl::<7, 25>());
        c = c.xor(b.add(a).rotl::<9, 23>());
        d = d.xor(c.add(b).rotl::<13, 19>());
        a = a.xor(d.add(c).rotl::<18, 14>());
        // Row round, on rows rotated into place.
        let (mut d1, mut c1, mut b1) = (d.lanes_left_1(), c.lanes_left_2(), b.lanes_left_3());
        d1 = d1.xor(a.add(b1).rotl::<7, 25>());
        c1 = c1.xor(d1.add(a).rotl::<9, 23>());
        b1 = b1.xor(c1.add(d1).rotl::<13, 19>());
        a = a.xor(b1.add(c1).rotl::<18, 14>());
        (d, c, b) = (d1.lanes_left_3(), c1.lanes_left_2(), b1.lanes_left_1());
    }
    *block = [a.add(a0), b.add(b0), c.add(c0), d.add(d0)];
}

#[inline(always)]
fn load<R: Row>(src: &[R]) -> [R; ROWS] {
    [src[0], src[1], src[2], src[3]]
}

#[inline(always)]
fn xor_into<R: Row>(x: &mut [R; ROWS], src: &[R]) {
    for (x, s) in x.iter_mut().zip(src) {
        *x = x.xor(*s);
    }
}

/// Where BlockMix puts its `i`-th Salsa output: even ones first, then odd ones.
#[inline(always)]
fn out_block(i: usize, r: usize) -> usize {
    (i / 2) + (i % 2) * r
}

/// BlockMix_{Salsa20/8, r}: `output = BlockMix(input)`; both hold `2r` shuffled blocks.
#[inline(always)]
fn block_mix<R: Row>(input: &[R], output: &mut [R], r: usize) {
    let mut x = load(&input[(2 * r - 1) * ROWS..]);
    for (i, chunk) in input.chunks_exact(ROWS).enumerate() {
        xor_into(&mut x, chunk);
        salsa20_8(&mut x);
        let o = out_block(i, r) * ROWS;
        output[o..o + ROWS].copy_from_slice(&x);
    }
}

/// `output = BlockMix(input xor v)`, without writing `input xor v` anywhere.
#[inline(always)]
fn block_mix_xor<R: Row>(input: &[R], v: &[R], output: &mut [R], r: usize) {
    let last = (2 * r - 1) * ROWS;
    let mut x = load(&input[last..]);
    xor_into(&mut x, &v[last..]);
    for (i, (chunk, vchunk)) in input.chunks_exact(ROWS).zip(v.chunks_exact(ROWS)).enumerate() {
        xor_into(&mut x, chunk);
        xor_into(&mut x, vchunk);
        salsa20_8(&mut x);
        let o = out_block(i, r) * ROWS;
        output[o..o + ROWS].copy_from_slice(&x);
    }
}

/// ROMix on one shuffled `B_i` (`8 r` rows), in place, with `table` (`n` blocks of `8 r`
/// rows) as V.
#[inline(always)]
fn romix<R: Row>(
    x: &mut [R],
    table: &mut Table,
    scratch: &mut [R],
    n: usize,
    r: usize,
) -> Result<(), ScryptFailure> {
    let len = 8 * r;
    // First loop: V[i] = BlockMix(V[i - 1]), chunk by chunk, each taken as it arrives.
    for c in 0..table.chunk_count {
        table.arrive(c)?;
        let (before, rest) = table.chunks.split_at_mut(c);
        let v = rows_mut::<R>(&mut rest[0])?;
        match before.last() {
            None => v[..len].copy_from_slice(x),
            Some(prev) => {
                let prev = rows::<R>(prev)?;
                block_mix(&prev[prev.len() - len..], &mut v[..len], r);
            }
        }
        for i in 1..table.chunk_blocks {
            let (done, next) = v.split_at_mut(i * len);
            block_mix(&done[(i - 1) * len..], &mut next[..len], r);
        }
    }
    let v: Vec<&[R]> = table.chunks.iter().map(|c| rows::<R>(c)).collect::<Result<_, _>>()?;
    let last = v[v.len() - 1];
    block_mix(&last[last.len() - len..], scratch, r);

    // Second loop: X = BlockMix(X xor V[j]).
    // Ping-pong between the two buffers instead of copying 128 r bytes back every step.
    let (mut cur, mut next) = (&mut *scratch, &mut *x);
    // n is a power of two, so `& (n - 1)` is `mod n`; n <= 2^32 fits in the low word.
    // Chunks hold a power of two of blocks, so the chunk and the block in it are bit
    // fields of j.
    let mask = n - 1;
    let shift = table.chunk_blocks.trailing_zeros();
    let in_chunk = table.chunk_blocks - 1;
    for _ in 0..n {
        let j = (cur[(2 * r - 1) * ROWS].first() as usize) & mask;
        let at = (j & in_chunk) * len;
        let vj = &v[j >> shift][at..at + len];
        // The next BlockMix starts with the last block of V[j], then walks it from the
        // start: ask for that block's line first, then all the others, rather than one
        // demand miss at a time (the CPU has fewer fill buffers than V[j] has lines).
        R::prefetch(&vj[len - ROWS..]);
        R::prefetch(&vj[..len - ROWS]);
        block_mix_xor(cur, vj, next, r);
        std::mem::swap(&mut cur, &mut next);
    }
    // n is even, so after n swaps the result is back in `scratch`.
    x.copy_from_slice(scratch);
    Ok(())
}

/// A table chunk viewed as rows. Chunks are page-aligned and a whole number of blocks
/// long, so the cast cannot fail; it is checked anyway rather than trusted.
#[inline(always)]
fn rows<R: Row>(chunk: &memmap2::MmapMut) -> Result<&[R], ScryptFailure> {
    bytemuck::try_cast_slice(&chunk[..]).map_err(|_| ScryptFailure::OutOfMemory)
}

#[inline(always)]
fn rows_mut<R: Row>(chunk: &mut memmap2::MmapMut) -> Result<&mut [R], ScryptFailure> {
    bytemuck::try_cast_slice_mut(&mut chunk[..]).map_err(|_| ScryptFailure::OutOfMemory)
}

/// The ROMix table V: anonymous memory in chunks, which the kernel hands out zeroed and
/// takes back (and wipes before reuse) on drop.
///
/// Why not one `Vec`: with 4 KiB pages, faulting in 256 MiB and the TLB misses of ROMix's
/// random reads cost about a third of the whole KDF. Transparent huge pages (Linux
/// `madvise`, best effort) remove most of that, but the kernel still zeroes every page
/// as it is first touched: about 45 ms for 256 MiB here, a tenth of the KDF. So a large
/// table is mapped and faulted in by a helper thread, chunk by chunk, while ROMix's first
/// loop fills the chunks already there; the zeroing leaves the critical path on any
/// machine with a second core. The helper writes nothing but zeros, which the chunks
/// hold anyway, and hands each chunk over by value, so no memory is ever shared.
struct Table {
    /// Chunks received so far, in order.
    chunks: Vec<memmap2::MmapMut>,
    /// How the chunks not received yet will come.
    source: ChunkSource,
    chunk_count: usize,
    /// Blocks per chunk, a power of two.
    chunk_blocks: usize,
}

enum ChunkSource {
    /// Mapped here, when asked for: small tables, or no thread could be started.
    Inline { bytes: usize },
    /// Mapped and faulted in by a helper thread, in order.
    Helper(std::sync::mpsc::Receiver<Result<memmap2::MmapMut, ScryptFailure>>),
}

/// Tables at least this large are faulted in by a helper thread, in chunks of this size;
/// a smaller one is a single chunk mapped on the spot (a thread costs more than it saves).
const CHUNK_BYTES: usize = 16 << 20;

impl Table {
    /// A table of `n` blocks of `block_bytes` each, in chunks of about `chunk_bytes`.
    fn new(n: usize, block_bytes: usize, chunk_bytes: usize) -> Result<Self, ScryptFailure> {
        let total = n.checked_mul(block_bytes).ok_or(ScryptFailure::BadParams)?;
        // Refuse a table that could never be allocated before any work is done.
        if total > isize::MAX as usize {
            return Err(ScryptFailure::OutOfMemory);
        }
        // The largest power of two of blocks that fits in a chunk (at least 1, at most n).
        let chunk_blocks = (chunk_bytes / block_bytes).max(1);
        let chunk_blocks = (1usize << chunk_blocks.ilog2()).min(n);
        let chunk_count = n / chunk_blocks;
        let bytes = chunk_blocks * block_bytes;
        let source = if chunk_count < 2 {
            ChunkSource::Inline { bytes }
        } else {
            let (tx, rx) = std::sync::mpsc::sync_channel(chunk_count);
            let spawned =
                std::thread::Builder::new().name("scrypt-table".into()).spawn(move || {
                    for _ in 0..chunk_count {
                        let chunk = map_chunk(bytes).map(|mut chunk| {
                            fault_in(&mut chunk);
                            chunk
                        });
                        let failed = chunk.is_err();
                        // The receiver is gone only if ROMix already failed.
                        if tx.send(chunk).is_err() || failed {
                            return;
                        }
                    }
                });
            match spawned {
                Ok(_) => ChunkSource::Helper(rx),
                Err(_) => ChunkSource::Inline { bytes },
            }
        };
        Ok(Table { chunks: Vec::with_capacity(chunk_count), source, chunk_count, chunk_blocks })
    }

    /// Makes sure chunk `c` (and every one before it) is here.
    #[inline(never)]
    fn arrive(&mut self, c: usize) -> Result<(), ScryptFailure> {
        while self.chunks.len() <= c {
            let chunk = match &self.source {
                ChunkSource::Inline { bytes } => map_chunk(*bytes)?,
                // A closed channel means the helper died without reporting (it never
                // panics by design); treat it like failing to map.
                ChunkSource::Helper(rx) => rx.recv().map_err(|_| ScryptFailure::OutOfMemory)??,
            };
            self.chunks.push(chunk);
        }
        Ok(())
    }
}

/// Maps one chunk of anonymous memory, asking for transparent huge pages.
fn map_chunk(bytes: usize) -> Result<memmap2::MmapMut, ScryptFailure> {
    let map = memmap2::MmapMut::map_anon(bytes).map_err(|_| ScryptFailure::OutOfMemory)?;
    #[cfg(target_os = "linux")]
    {
        // Only a hint; without huge pages the result is the same, just slower.
        let _ = map.advise(memmap2::Advice::HugePage);
    }
    Ok(map)
}

/// Touches every 4 KiB page of `chunk` so that the kernel maps (and zeroes) it now.
fn fault_in(chunk: &mut memmap2::MmapMut) {
    for page in chunk.chunks_mut(4096) {
        // A store, not a load: a load would map the shared zero page and the first
        // real write would fault again. The page is zero already, so this changes nothing.
        page[0] = 0;
    }
    std::hint::black_box(&chunk[..]);
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
    // With AVX-512 (VL), the same code, compiled inside a function with those features
    // enabled, has a single-instruction rotate: each Salsa20 step's latency drops from 4
    // cycles to 3. `pulp` does the run-time detection and the `target_feature` call, so
    // this crate stays free of `unsafe`. Everything on the hot path is `#[inline(always)]`
    // so that it is compiled into that function.
    #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
    if let Some(simd) = pulp::x86::V4::try_new() {
        return simd.vectorize(
            #[inline(always)]
            || scrypt_with::<NativeRow>(password, salt, n, r, p, out, CHUNK_BYTES),
        );
    }
    scrypt_with::<NativeRow>(password, salt, n, r, p, out, CHUNK_BYTES)
}

#[inline(always)]
fn scrypt_with<R: Row>(
    password: &[u8],
    salt: &[u8],
    n: u64,
    r: u32,
    p: u32,
    out: &mut [u8],
    chunk_bytes: usize,
) -> Result<(), ScryptFailure> {
    // Integerify reads one 32-bit word, so n must fit in it (far above any real use).
    if n < 2 || !n.is_power_of_two() || n > 1 << 32 || r == 0 || p == 0 {
        return Err(ScryptFailure::BadParams);
    }
    let n = usize::try_from(n).map_err(|_| ScryptFailure::BadParams)?;
    let r = r as usize;
    let p = p as usize;
    let block_bytes = r.checked_mul(128).ok_or(ScryptFailure::BadParams)?;
    let b_len = block_bytes.checked_mul(p).ok_or(ScryptFailure::BadParams)?;

    let mut table = Table::new(n, block_bytes, chunk_bytes)?;

    let mut b = Zeroizing::new(vec![0u8; b_len]);
    pbkdf2_hmac::<Sha256>(password, salt, 1, &mut b);

    // Rows are not zeroized by `Zeroizing` (SIMD registers are not `Zeroize`), so they are
    // overwritten with zeros by hand below.
    let mut x = vec![R::zero(); 8 * r];
    let mut scratch = vec![R::zero(); 8 * r];
    let mut mixed = Ok(());
    for chunk in b.chunks_exact_mut(block_bytes) {
        // Bytes -> little-endian words -> shuffled lanes.
        for (rows, bytes) in x.chunks_exact_mut(ROWS).zip(chunk.chunks_exact(64)) {
            let word = |k: usize| {
                let w = &bytes[4 * SHUFFLE[k]..4 * SHUFFLE[k] + 4];
                u32::from_le_bytes([w[0], w[1], w[2], w[3]])
            };
            for (i, row) in rows.iter_mut().enumerate() {
                *row =
                    R::from_words([word(4 * i), word(4 * i + 1), word(4 * i + 2), word(4 * i + 3)]);
            }
        }
        mixed = romix(&mut x, &mut table, &mut scratch, n, r);
        if mixed.is_err() {
            break;
        }
        for (rows, bytes) in x.chunks_exact(ROWS).zip(chunk.chunks_exact_mut(64)) {
            for (i, row) in rows.iter().enumerate() {
                for (k, w) in row.to_words().into_iter().enumerate() {
                    let at = 4 * SHUFFLE[4 * i + k];
                    bytes[at..at + 4].copy_from_slice(&w.to_le_bytes());
                }
            }
        }
    }
    x.fill(R::zero());
    scratch.fill(R::zero());
    // Keep the optimizer from dropping the stores above as dead.
    std::hint::black_box((&x, &scratch));
    mixed?;
    pbkdf2_hmac::<Sha256>(password, &b, 1, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    /// The Salsa20/8 core test vector from RFC 7914 section 8, through one row type.
    fn salsa20_8_vector<R: Row>() {
        let input = hex!(
            "7e879a214f3ec9867ca940e641718f26baee555b8c61c1b50df846116dcd3b1d"
            "ee24f319df9b3d8514121e4b5ac5aa3276021d2909c74829edebc68db8b8c25e"
        );
        let expected = hex!(
            "a41f859c6608cc993b81cacb020cef05044b2181a2fd337dfd7b1c6396682f29"
            "b4393168e3c9e6bcfe6bc5b7a06d96bae424cc102c91745c24ad673dc7618f81"
        );
        let word = |k: usize| {
            u32::from_le_bytes(input[4 * SHUFFLE[k]..4 * SHUFFLE[k] + 4].try_into().unwrap())
        };
        let mut block: [R; ROWS] =
            [0, 1, 2, 3].map(|i| R::from_words([0, 1, 2, 3].map(|k| word(4 * i + k))));
        salsa20_8(&mut block);
        let mut out = [0u8; 64];
        for (i, row) in block.iter().enumerate() {
            for (k, w) in row.to_words().into_iter().enumerate() {
                let at = 4 * SHUFFLE[4 * i + k];
                out[at..at + 4].copy_from_slice(&w.to_le_bytes());
            }
        }
        assert_eq!(out, expected);
    }

    #[test]
    fn salsa20_8_rfc7914_vector() {
        salsa20_8_vector::<[u32; 4]>();
        salsa20_8_vector::<NativeRow>();
    }

    #[test]
    fn portable_and_native_rows_agree() {
        for (n, r, p) in [(2u64, 1u32, 1u32), (16, 1, 1), (64, 2, 3), (1024, 8, 2)] {
            let mut a = [0u8; 48];
            let mut b = [0u8; 48];
            scrypt_with::<[u32; 4]>(b"pw", b"salt", n, r, p, &mut a, CHUNK_BYTES).unwrap();
            scrypt_with::<NativeRow>(b"pw", b"salt", n, r, p, &mut b, CHUNK_BYTES).unwrap();
            assert_eq!(a, b, "n={n} r={r} p={p}");
        }
    }

    /// The dispatched entry point (AVX-512 on CPUs that have it) agrees with the SSE2 /
    /// portable code, so both paths are exercised on such a machine.
    #[test]
    fn dispatched_and_baseline_paths_agree() {
        for (n, r, p) in [(2u64, 1u32, 1u32), (1024, 8, 1), (4096, 8, 6)] {
            let mut a = [0u8; 32];
            let mut b = [0u8; 32];
            scrypt(b"pw", b"salt", n, r, p, &mut a).unwrap();
            scrypt_with::<NativeRow>(b"pw", b"salt", n, r, p, &mut b, CHUNK_BYTES).unwrap();
            assert_eq!(a, b, "n={n} r={r} p={p}");
        }
    }

    /// A table in many chunks (faulted in by the helper thread) gives the same key as the
    /// RustCrypto crate: blocks that cross chunk boundaries in both loops, one block per
    /// chunk, block sizes that do not divide the chunk size, and p > 1 reusing the table.
    #[test]
    fn chunked_tables_match_rustcrypto_scrypt() {
        for (log_n, r, p, chunk_bytes) in [
            (6u8, 1u32, 1u32, 1024usize),
            (6, 3, 1, 1024),
            (5, 2, 3, 512),
            (4, 8, 2, 1),
            (10, 8, 1, 64 << 10),
        ] {
            let params = ::scrypt::Params::new(log_n, r, p, 32).unwrap();
            let mut expected = [0u8; 32];
            ::scrypt::scrypt(b"pw", b"salt", &params, &mut expected).unwrap();
            for row in [false, true] {
                let mut ours = [0u8; 32];
                let (n, out) = (1u64 << log_n, &mut ours[..]);
                if row {
                    scrypt_with::<NativeRow>(b"pw", b"salt", n, r, p, out, chunk_bytes)
                } else {
                    scrypt_with::<[u32; 4]>(b"pw", b"salt", n, r, p, out, chunk_bytes)
                }
                .unwrap();
                assert_eq!(ours, expected, "log_n={log_n} r={r} p={p} chunk={chunk_bytes}");
            }
        }
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

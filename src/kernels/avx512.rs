//! Every `unsafe` line of the kernels, and every function compiled for a CPU feature: AVX-512
//! detection, the matrix-product microkernels (F32 and BF16, 6 rows × 64 columns held in
//! registers), BF16 rounding 32 values an instruction, and the AVX-512F builds of the row
//! kernels.
//!
//! The rest of `kernels` calls only the safe functions here. Each checks, before any unsafe
//! call, what that call relies on: that the CPU has the feature ([`enabled`],
//! [`bf16_enabled`]) and that every buffer holds the rows and columns read or written.

use std::mem::MaybeUninit;

#[cfg(target_arch = "x86_64")]
use super::packed::bf16_pair;
use super::rows;
#[cfg(target_arch = "x86_64")]
use super::threads::row_blocks;
use super::threads::{par_chunks, PAR_MIN};
use super::{PANEL, ROWS};

// What `row_blocks` leaves after its blocks is 1 to 5 rows: the kernels' match arms below.
const _: () = assert!(ROWS == 6);

/// Whether the AVX-512 kernels run: the CPU has AVX-512F and `FENCI_NO_AVX512` is not set
/// (which keeps every kernel on its portable path, to compare or to test that path).
#[cfg(target_arch = "x86_64")]
pub(super) fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var_os("FENCI_NO_AVX512").is_none()
            && std::arch::is_x86_feature_detected!("avx512f")
    })
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn enabled() -> bool {
    false
}

/// [`enabled`], and the CPU has AVX512-BF16 too.
#[cfg(target_arch = "x86_64")]
pub(super) fn bf16_enabled() -> bool {
    enabled() && std::arch::is_x86_feature_detected!("avx512bf16")
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn bf16_enabled() -> bool {
    false
}

/// `fn name(args) = base;` defines `name`, which runs the row kernel `base` (an
/// `#[inline(always)]` function of `rows.rs`) compiled for AVX-512F when [`enabled`] (16 lanes
/// where the baseline x86-64 build has 4), else the baseline build. Rust does not reorder or
/// fuse float arithmetic, so both give the same bits (a test checks).
macro_rules! avx512_or_baseline {
    ($(#[$m:meta])* fn $name:ident($($a:ident: $t:ty),* $(,)?) = $base:path;) => {
        $(#[$m])*
        pub(super) fn $name($($a: $t),*) {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            fn fast($($a: $t),*) {
                $base($($a),*)
            }
            #[cfg(target_arch = "x86_64")]
            if enabled() {
                // SAFETY: `enabled` found AVX-512F on this CPU, all `fast` needs.
                return unsafe { fast($($a),*) };
            }
            $base($($a),*)
        }
    };
}

avx512_or_baseline! {
    /// `o = gelu_tanh(o + bias)`.
    fn bias_gelu_row(o: &mut [f32], bias: &[f32]) = rows::bias_gelu_row_baseline;
}

avx512_or_baseline! {
    /// `o = LayerNorm(o + r + bias)` with `gamma`, `beta`; `inv_d` = 1 / width.
    fn bias_residual_norm_row(
        o: &mut [f32],
        r: &[f32],
        bias: &[f32],
        gamma: &[f32],
        beta: &[f32],
        inv_d: f32,
        eps: f32,
    ) = rows::bias_residual_norm_row_baseline;
}

avx512_or_baseline! {
    /// Softmax of the scores `o` over the keys whose `keep` is not 0; the others get 0.
    fn masked_softmax_row(o: &mut [f32], keep: &[f32]) = rows::masked_softmax_row_baseline;
}

/// An output buffer the matrix products write through a raw pointer: initialised or not, as
/// every value they write is a valid `f32`.
///
/// # Safety
/// `raw` returns a pointer valid for writes of the length it returns, in `f32`s, for as long
/// as the borrow it was called through.
pub(super) unsafe trait Out {
    /// The buffer's first value and its length in values.
    fn raw(&mut self) -> (*mut f32, usize);
}

// SAFETY: a mutable slice's own pointer and length.
unsafe impl Out for [f32] {
    fn raw(&mut self) -> (*mut f32, usize) {
        (self.as_mut_ptr(), self.len())
    }
}

// SAFETY: a mutable slice's own pointer and length; `MaybeUninit<f32>` has the layout of `f32`.
unsafe impl Out for [MaybeUninit<f32>] {
    fn raw(&mut self) -> (*mut f32, usize) {
        (self.as_mut_ptr().cast(), self.len())
    }
}

/// Whether `rows` rows of `width` values, each `stride` after the one before, fit in `len`
/// values.
fn fits(len: usize, rows: usize, stride: usize, width: usize) -> bool {
    rows == 0
        || (rows - 1)
            .checked_mul(stride)
            .and_then(|start| start.checked_add(width))
            .is_some_and(|end| end <= len)
}

/// How many panels of `len` values of `k × 64` each, checked to be whole (none when `k` is 0;
/// then there must be no rows either, as their product would be zeros nobody writes).
fn whole_panels(len: usize, k: usize, m: usize) -> usize {
    assert!(k > 0 || (len == 0 && m == 0), "a product over 0 values");
    let np = len.checked_div(k * PANEL).unwrap_or(0);
    assert_eq!(np * k * PANEL, len, "the panels are not whole");
    np
}

/// `x · Wᵀ` for `x` of `x.len() / k` rows of `k` values and a weight `W` (`[n, k]`) packed as
/// [`super::PackedWeight`] packs it: F32 `panels` (`[n / 64][k][64]`), or BF16 pairs `bf16`
/// (`[n / 64][k / 2][64]`) when given. Rows are split across candle's CPU threads in whole
/// blocks of [`ROWS`], and the output is not zero-filled before the kernels write it.
///
/// Panics unless [`enabled`] ([`bf16_enabled`] for BF16) and the sizes fit.
pub(super) fn packed_product(
    x: &[f32],
    k: usize,
    n: usize,
    panels: &[f32],
    bf16: Option<&[u32]>,
) -> Vec<f32> {
    let m = x.len() / k;
    assert!(x.len() == m * k && n.is_multiple_of(PANEL) && panels.len() == n * k);
    if let Some(bp) = bf16 {
        assert!(k.is_multiple_of(2) && bp.len() == n * (k / 2));
    }
    let mut out: Vec<f32> = Vec::with_capacity(m * n);
    // One row a unit, whole blocks of ROWS rows per thread.
    let parallel = m * n >= PAR_MIN && m >= 2 * ROWS;
    let spare = &mut out.spare_capacity_mut()[..m * n];
    par_chunks(spare, n, ROWS, parallel, |first, part| {
        let rows = part.len() / n;
        let x = &x[first * k..(first + rows) * k];
        match bf16 {
            Some(bp) => {
                // The rows rounded to BF16 pairs, once for all panels.
                let xa = bf16_pairs(x);
                bf16_rows_times_panels(&xa, rows, k / 2, bp, part, n);
            }
            None => rows_times_panels(x, k, rows, k, panels, part, n),
        }
    });
    // SAFETY: `par_chunks` hands each of the `m · n` values to one call, in chunks of whole
    // rows of n; each call wrote all its rows, every one of their n / 64 panels of 64 columns
    // (the panel counts were checked above), or panicked, and then we are not here.
    unsafe { out.set_len(m * n) };
    out
}

/// `c = a · b` for `m` rows of `a` (`k` values each, `lda` apart) and `b` packed in panels of
/// `k × 64` values one after another (the `[k][64]` layout of [`super::PackedWeight`]): panel
/// `p` gives columns `p·64..p·64 + 64` of each row of `c` (rows `ldc` apart, other columns
/// left as they are).
///
/// Panics unless [`enabled`] and the buffers hold every value read and written.
pub(super) fn rows_times_panels<C: Out + ?Sized>(
    a: &[f32],
    lda: usize,
    m: usize,
    k: usize,
    b: &[f32],
    c: &mut C,
    ldc: usize,
) {
    let np = whole_panels(b.len(), k, m);
    let (c, c_len) = c.raw();
    assert!(
        fits(a.len(), m, lda, k),
        "rows_times_panels: a is too short"
    );
    assert!(
        fits(c_len, m, ldc, np * PANEL),
        "rows_times_panels: c is too short"
    );
    assert!(enabled(), "the AVX-512 kernels need AVX-512F");
    #[cfg(target_arch = "x86_64")]
    for p in 0..np {
        let b = b[p * k * PANEL..].as_ptr();
        // SAFETY: the CPU has AVX-512F (`enabled`); by the asserts above, row r < m of `a`
        // holds k values from r·lda, panel p holds k · 64 values, and row r of `c` has room
        // for columns p·64..p·64 + 64 ≤ np·64 from r·ldc.
        unsafe { rows_times_panel(a.as_ptr(), lda, m, k, b, c.wrapping_add(p * PANEL), ldc) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (c, ldc);
}

/// [`rows_times_panels`] in BF16: `a` holds `m` rows of `kp` BF16 pairs (from [`bf16_pairs`]),
/// `b` panels of `kp × 64` pairs; the products are summed in F32 by `vdpbf16ps`.
///
/// Panics unless [`bf16_enabled`] and the buffers hold every value read and written.
pub(super) fn bf16_rows_times_panels<C: Out + ?Sized>(
    a: &[u32],
    m: usize,
    kp: usize,
    b: &[u32],
    c: &mut C,
    ldc: usize,
) {
    let np = whole_panels(b.len(), kp, m);
    let (c, c_len) = c.raw();
    assert!(
        fits(a.len(), m, kp, kp),
        "bf16_rows_times_panels: a is too short"
    );
    assert!(
        fits(c_len, m, ldc, np * PANEL),
        "bf16_rows_times_panels: c is too short"
    );
    assert!(
        bf16_enabled(),
        "the BF16 kernel needs AVX-512F and AVX512-BF16"
    );
    #[cfg(target_arch = "x86_64")]
    for p in 0..np {
        let (a, b, c) = (
            a.as_ptr(),
            b[p * kp * PANEL..].as_ptr(),
            c.wrapping_add(p * PANEL),
        );
        // SAFETY: the CPU has AVX-512F and AVX512-BF16 (`bf16_enabled`); by the asserts above,
        // rows r < m of `a` hold kp pairs from r·kp, panel p holds kp · 64 pairs, and row r
        // of `c` has room for columns p·64..p·64 + 64 ≤ np·64 from r·ldc.
        row_blocks(
            m,
            |r| unsafe { bf16_kernel::<ROWS>(a.add(r * kp), kp, b, c.add(r * ldc), ldc) },
            |r, n| {
                let (a, c) = (a.wrapping_add(r * kp), c.wrapping_add(r * ldc));
                match n {
                    1 => unsafe { bf16_kernel::<1>(a, kp, b, c, ldc) },
                    2 => unsafe { bf16_kernel::<2>(a, kp, b, c, ldc) },
                    3 => unsafe { bf16_kernel::<3>(a, kp, b, c, ldc) },
                    4 => unsafe { bf16_kernel::<4>(a, kp, b, c, ldc) },
                    5 => unsafe { bf16_kernel::<5>(a, kp, b, c, ldc) },
                    _ => unreachable!("row_blocks leaves fewer than ROWS (6) rows"),
                }
            },
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (c, ldc);
}

/// `x` (even length) rounded to BF16 pairs as [`bf16_pair`] rounds them, 32 values an
/// instruction. Panics unless [`bf16_enabled`].
#[cfg(target_arch = "x86_64")]
pub(super) fn bf16_pairs(x: &[f32]) -> Vec<u32> {
    assert!(bf16_enabled(), "BF16 rounding in vectors needs AVX512-BF16");
    // SAFETY: the CPU has AVX-512F and AVX512-BF16 (`bf16_enabled`).
    unsafe { bf16_pairs_unchecked(x) }
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn bf16_pairs(_: &[f32]) -> Vec<u32> {
    unreachable!("bf16_enabled is false off x86-64")
}

/// `c = a · b` for `m` rows of `a` (`k` values, `lda` apart) and one packed panel `b` (`k × 64`),
/// through [`panel_kernel`] in blocks of six rows and one block of the rows left.
///
/// # Safety
/// As [`panel_kernel`], for `m` rows.
#[cfg(target_arch = "x86_64")]
unsafe fn rows_times_panel(
    a: *const f32,
    lda: usize,
    m: usize,
    k: usize,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
) {
    // SAFETY: forwarded from the caller, a block of rows at a time.
    row_blocks(
        m,
        |r| unsafe { panel_kernel::<ROWS>(a.add(r * lda), lda, k, b, c.add(r * ldc), ldc) },
        |r, n| {
            let (a, c) = (a.wrapping_add(r * lda), c.wrapping_add(r * ldc));
            match n {
                1 => unsafe { panel_kernel::<1>(a, lda, k, b, c, ldc) },
                2 => unsafe { panel_kernel::<2>(a, lda, k, b, c, ldc) },
                3 => unsafe { panel_kernel::<3>(a, lda, k, b, c, ldc) },
                4 => unsafe { panel_kernel::<4>(a, lda, k, b, c, ldc) },
                5 => unsafe { panel_kernel::<5>(a, lda, k, b, c, ldc) },
                _ => unreachable!("row_blocks leaves fewer than ROWS (6) rows"),
            }
        },
    );
}

/// `ROWS_` rows of `a` (each `k` long, `lda` apart) times one packed panel (`k × 64`), written
/// to `c` (rows `ldc` apart).
///
/// # Safety
/// The CPU has AVX-512F; `a` holds `ROWS_` rows of `k` values `lda` apart, `b` holds `k · 64`
/// values, and `c` has room for `ROWS_` rows of 64 values `ldc` apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn panel_kernel<const ROWS_: usize>(
    a: *const f32,
    lda: usize,
    k: usize,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: the caller guarantees every pointer offset below stays inside its buffer.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); 4]; ROWS_];
        for q in 0..k {
            let bp = b.add(q * PANEL);
            let b0 = _mm512_loadu_ps(bp);
            let b1 = _mm512_loadu_ps(bp.add(16));
            let b2 = _mm512_loadu_ps(bp.add(32));
            let b3 = _mm512_loadu_ps(bp.add(48));
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_ps(*a.add(r * lda + q));
                acc[0] = _mm512_fmadd_ps(x, b0, acc[0]);
                acc[1] = _mm512_fmadd_ps(x, b1, acc[1]);
                acc[2] = _mm512_fmadd_ps(x, b2, acc[2]);
                acc[3] = _mm512_fmadd_ps(x, b3, acc[3]);
            }
        }
        store_tile(&acc, c, ldc);
    }
}

/// Writes the `ROWS_` × 64 accumulators of [`panel_kernel`] or [`bf16_kernel`] to `c`.
///
/// # Safety
/// The CPU has AVX-512F; `c` has room for `ROWS_` rows of 64 values `ldc` apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn store_tile<const ROWS_: usize>(
    acc: &[[std::arch::x86_64::__m512; 4]; ROWS_],
    c: *mut f32,
    ldc: usize,
) {
    use std::arch::x86_64::*;
    for (r, acc) in acc.iter().enumerate() {
        for (j, v) in acc.iter().enumerate() {
            // SAFETY: the caller guarantees `c` has room for every row and column written.
            unsafe { _mm512_storeu_ps(c.add(r * ldc + j * 16), *v) };
        }
    }
}

/// `x` (even length) rounded to BF16 pairs, 32 values an instruction.
///
/// # Safety
/// The CPU has AVX-512F and AVX512-BF16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn bf16_pairs_unchecked(x: &[f32]) -> Vec<u32> {
    use std::arch::x86_64::*;
    let mut out: Vec<u32> = Vec::with_capacity(x.len() / 2);
    let mut chunks = x.chunks_exact(32);
    for c in &mut chunks {
        // SAFETY: `c` holds 32 values; `out` has room for the 16 pairs written (its capacity is
        // half of `x`), and they are counted in by `set_len` right after.
        unsafe {
            let lo = _mm512_loadu_ps(c.as_ptr());
            let hi = _mm512_loadu_ps(c.as_ptr().add(16));
            // Rounds to nearest even, as `to_bf16`; the low half of the result is `lo`.
            let v = _mm512_cvtne2ps_pbh(hi, lo);
            let at = out.len();
            _mm512_storeu_si512(
                out.as_mut_ptr().add(at).cast(),
                std::mem::transmute::<__m512bh, __m512i>(v),
            );
            out.set_len(at + 16);
        }
    }
    out.extend(
        chunks
            .remainder()
            .chunks_exact(2)
            .map(|p| bf16_pair(p[0], p[1])),
    );
    out
}

/// [`panel_kernel`] in BF16: `a` holds `R` rows of `kp` pairs (`kp` apart), `b` one BF16
/// panel (`kp · 64` pairs); products summed in F32 by `vdpbf16ps`.
///
/// # Safety
/// The CPU has AVX-512F and AVX512-BF16; the buffers are as large as described, and `c` has
/// room for `R` rows of 64 values `ldc` apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn bf16_kernel<const R: usize>(
    a: *const u32,
    kp: usize,
    b: *const u32,
    c: *mut f32,
    ldc: usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: the caller guarantees every pointer offset below stays inside its buffer; the
    // transmutes reinterpret 512 bits of BF16 pairs, which is what they hold.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); 4]; R];
        for q in 0..kp {
            let bp = b.add(q * PANEL);
            let b0: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp as *const _));
            let b1: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp.add(16) as *const _));
            let b2: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp.add(32) as *const _));
            let b3: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp.add(48) as *const _));
            for (r, acc) in acc.iter_mut().enumerate() {
                let av: __m512bh =
                    std::mem::transmute(_mm512_set1_epi32(*a.add(r * kp + q) as i32));
                acc[0] = _mm512_dpbf16_ps(acc[0], av, b0);
                acc[1] = _mm512_dpbf16_ps(acc[1], av, b1);
                acc[2] = _mm512_dpbf16_ps(acc[2], av, b2);
                acc[3] = _mm512_dpbf16_ps(acc[3], av, b3);
            }
        }
        store_tile(&acc, c, ldc);
    }
}

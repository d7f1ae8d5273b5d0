//! How the kernels split their work: rows across candle's CPU threads ([`par_rows`],
//! [`par_chunks`]), and within one thread into the row blocks a matrix-product kernel keeps in
//! registers ([`row_blocks`]).

use super::ROWS;

/// Below this many elements a kernel runs on the calling thread only.
pub(super) const PAR_MIN: usize = 1 << 15;

/// Builds `rows × width` values: `row(r, out)` appends row `r`'s `width` values to `out`. Rows
/// are split across candle's CPU threads, each filling its own buffer (no zero-filling first).
pub(super) fn par_rows(
    rows: usize,
    width: usize,
    row: impl Fn(usize, &mut Vec<f32>) + Sync,
) -> Vec<f32> {
    let fill = |range: std::ops::Range<usize>| {
        let mut out = Vec::with_capacity(range.len() * width);
        for r in range {
            row(r, &mut out);
        }
        out
    };
    let threads = candle_core::utils::get_num_threads().clamp(1, 64);
    let out = if threads == 1 || rows * width < PAR_MIN || rows < 2 {
        fill(0..rows)
    } else {
        let per = rows.div_ceil(threads);
        let parts: Vec<Vec<f32>> = std::thread::scope(|s| {
            let fill = &fill;
            let rest: Vec<_> = (1..threads)
                .map(|i| {
                    let range = (i * per).min(rows)..((i + 1) * per).min(rows);
                    s.spawn(move || fill(range))
                })
                .collect();
            let mut parts = vec![fill(0..per.min(rows))];
            for h in rest {
                parts.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            parts
        });
        parts.concat()
    };
    debug_assert_eq!(out.len(), rows * width);
    out
}

/// Runs `work(first, chunk)` over `out` cut into chunks of whole units (`unit` values each, a
/// multiple of `align` units per chunk, `first` the chunk's first unit), one chunk per candle
/// CPU thread, writing in place; on the calling thread alone unless `parallel`.
pub(super) fn par_chunks<T: Send>(
    out: &mut [T],
    unit: usize,
    align: usize,
    parallel: bool,
    work: impl Fn(usize, &mut [T]) + Sync,
) {
    let units = out.len() / unit.max(1);
    let threads = candle_core::utils::get_num_threads().clamp(1, 64);
    if threads == 1 || !parallel || units < 2 {
        work(0, out);
        return;
    }
    let per = units.div_ceil(threads).div_ceil(align.max(1)) * align.max(1);
    std::thread::scope(|sc| {
        for (i, part) in out.chunks_mut(per * unit).enumerate() {
            let work = &work;
            sc.spawn(move || work(i * per, part));
        }
    });
}

/// Calls `block(r)` for rows `r..r + ROWS` while whole blocks fit in `m`, then `rest(r, n)`
/// once for the `n` (< `ROWS`) rows left, if any: one pass over the weights for them, not one
/// a row (a decoding step of eight rows is a block and a rest of two).
#[inline(always)]
pub(super) fn row_blocks(
    m: usize,
    mut block: impl FnMut(usize),
    mut rest: impl FnMut(usize, usize),
) {
    let mut r = 0;
    while r + ROWS <= m {
        block(r);
        r += ROWS;
    }
    if r < m {
        rest(r, m - r);
    }
}

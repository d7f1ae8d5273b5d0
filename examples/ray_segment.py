"""Segment a text file with Ray Data (a local Ray here; the same code runs on a Ray cluster).

    python3 examples/ray_segment.py INPUT OUTPUT [--workers N] [--batch-size B]

OUTPUT gets one line of space-separated words per line of INPUT, in INPUT's order, exactly what
`fenci segment --model default < INPUT` writes. read_text -> map_batches over `workers` actors,
each holding one fenci.Segmenter (the Python package, `pip install ./python` on every node) ->
the batches back on the driver in order (preserve_order), streamed into OUTPUT.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import ray


class Segment:
    """One per actor: the model is loaded once and cuts every batch the actor gets."""

    def __init__(self):
        import fenci

        self.seg = fenci.Segmenter(model="default", threads=1)  # one core per actor

    def __call__(self, batch):
        words = self.seg.cut_batch(batch["text"].tolist())
        return {"text": np.array([" ".join(w) for w in words], dtype=object)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="actors (default: all cores)")
    ap.add_argument("--batch-size", type=int, default=2048, help="lines per map_batches call")
    args = ap.parse_args()

    # A CPU for reading on top of one per actor: with only as many CPUs as actors, the read task
    # waits for a CPU the actors hold, and nothing moves. (On a cluster: ray.init(address=...).)
    ray.init(num_cpus=max(os.cpu_count() or 1, args.workers + 1), include_dashboard=False, logging_level="ERROR")
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # batches come back in the input's order
    ctx.enable_progress_bars = False

    start = time.perf_counter()
    # drop_empty_lines=False: an empty line stays an (empty) output line. The file is split at
    # "\n", so one ending in "\n" gives a last, empty row: rows are joined with "\n" below.
    # override_num_blocks: read_text makes one block per file, and an actor cuts a block alone;
    # this splits the file so that every actor gets work.
    ds = ray.data.read_text(
        str(Path(args.input).resolve()), drop_empty_lines=False, override_num_blocks=4 * args.workers
    )
    ds = ds.map_batches(Segment, concurrency=args.workers, batch_size=args.batch_size, batch_format="numpy")
    n, last = 0, ""
    with open(args.output, "w", encoding="utf-8") as out:
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            for line in batch["text"]:
                out.write(("\n" if n else "") + line)
                n, last = n + 1, line
        if last:
            out.write("\n")  # the input's last line had no "\n"
        else:
            n -= 1  # the empty row after the input's final "\n"
    secs = time.perf_counter() - start
    ray.shutdown()
    print(f"ray, {args.workers} workers: {n} lines in {secs:.1f} s, {n / secs:.0f} lines/s")


if __name__ == "__main__":
    main()

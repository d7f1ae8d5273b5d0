#!/usr/bin/env python3
"""Throughput of fenci's Python package against pkuseg and jieba, in one run, on one text.

    python3 scripts/python-bench.py [--data ../shared/data/pku1998/test.seg.txt] [--threads 1 2]

Each segmenter cuts every line of the test split (spaces removed) once to warm up, then `--runs`
times; the best run counts. fenci: `Segmenter(threads=N).cut_batch(lines)` for each N given;
pkuseg 0.0.25 (its default model, `pkuseg.pkuseg().cut` per line); jieba 0.42.1 (`jieba.lcut`
per line, HMM on). Also prints each one's F1 against the gold split (SIGHAN scoring: words as
character spans), so speed is read next to accuracy. pkuseg and jieba are skipped when they
cannot be imported.
"""

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spans(words):
    out, at = set(), 0
    for w in words:
        out.add((at, at + len(w)))
        at += len(w)
    return out


def f1(gold, pred):
    tp = g = p = 0
    for gw, pw in zip(gold, pred):
        a, b = spans(gw), spans([w for w in pw if w.strip()])
        tp += len(a & b)
        g += len(a)
        p += len(b)
    prec, rec = tp / max(p, 1), tp / max(g, 1)
    return 2 * prec * rec / max(prec + rec, 1e-9)


def timed(fn, runs):
    fn()
    best = float("inf")
    out = None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/pku1998/test.seg.txt"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    gold = [l.split() for l in Path(a.data).read_text(encoding="utf-8").splitlines()]
    lines = ["".join(w) for w in gold]
    chars = sum(len(l) for l in lines)
    print(f"{len(lines)} lines, {chars} characters ({a.data}); {os.cpu_count()} cores; best of {a.runs}")
    print(f"{'segmenter':<28} {'s':>7} {'lines/s':>9} {'chars/s':>9} {'F1':>6}")

    def row(name, secs, pred):
        print(f"{name:<28} {secs:7.2f} {len(lines) / secs:9.0f} {chars / secs:9.0f} {100 * f1(gold, pred):6.2f}")

    import fenci

    for n in a.threads:
        seg = fenci.Segmenter(threads=n)
        secs, pred = timed(lambda: seg.cut_batch(lines), a.runs)
        row(f"fenci cut_batch threads={n}", secs, pred)
    seg = fenci.Segmenter(threads=1)
    secs, pred = timed(lambda: [seg.cut(l) for l in lines], a.runs)
    row("fenci cut per line", secs, pred)
    try:
        import pkuseg

        p = pkuseg.pkuseg()
        secs, pred = timed(lambda: [p.cut(l) for l in lines], a.runs)
        from importlib.metadata import version

        row(f"pkuseg {version('pkuseg')} default", secs, pred)
    except Exception as e:  # reported, not fatal
        print(f"pkuseg skipped: {e}")
    try:
        import jieba

        jieba.setLogLevel(60)
        jieba.initialize()
        secs, pred = timed(lambda: [jieba.lcut(l) for l in lines], a.runs)
        row(f"jieba {jieba.__version__}", secs, pred)
    except Exception as e:
        print(f"jieba skipped: {e}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Segments RAW (one sentence a line, no spaces) with a Python peer of fenci and writes PRED
(words separated by one space). Loading the model is not timed; the seconds spent segmenting
are printed as `segment_secs=S`.

    usage: peers.py jieba|pkuseg RAW PRED
"""
import sys
import time


def main():
    system, raw, pred = sys.argv[1:4]
    with open(raw, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if system == "jieba":
        import jieba

        jieba.setLogLevel(60)
        jieba.initialize()  # loads the dictionary now, outside the timed part
        cut = lambda s: jieba.lcut(s)  # HMM on: jieba's default
    elif system == "pkuseg":
        import pkuseg

        seg = pkuseg.pkuseg()  # the default (mixed-domain) model
        cut = seg.cut
    else:
        sys.exit(f"unknown system {system}")
    started = time.perf_counter()
    out = [" ".join(w for w in cut(line) if w.strip()) for line in lines]
    secs = time.perf_counter() - started
    with open(pred, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"segment_secs={secs:.6f}")


if __name__ == "__main__":
    main()

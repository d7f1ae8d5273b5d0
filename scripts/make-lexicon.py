#!/usr/bin/env python3
"""Writes the word list behind the default model's dictionary features (lexicon.txt).

Every simplified headword of CC-CEDICT made of 2-8 Chinese characters, one a line, sorted.
With --drop-split GOLD, headwords that the gold-segmented training text GOLD contains at least
twice but keeps whole less than 10% of the time are left out: there the segmentation standard
splits what the dictionary lists (PKU's 江 泽民, 经济 发展, 第一 次), and a feature that the
training data contradicts teaches the model to distrust the list everywhere.
  usage: scripts/make-lexicon.py [CEDICT.txt.gz] [--drop-split GOLD] > lexicon.txt
(default input: ../shared/data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz)
"""
import argparse
import collections
import gzip
import re
import sys

ap = argparse.ArgumentParser()
ap.add_argument("cedict", nargs="?", default="../shared/data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz")
ap.add_argument("--drop-split", metavar="GOLD", help="gold-segmented training text")
args = ap.parse_args()

han = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]{2,8}$")
words = set()
with gzip.open(args.cedict, "rt", encoding="utf-8") as f:
    for line in f:
        if line.startswith("#"):
            continue
        parts = line.split(" ", 2)
        if len(parts) == 3 and han.match(parts[1]):
            words.add(parts[1])
print(f"{len(words)} CC-CEDICT words", file=sys.stderr)

if args.drop_split:
    seen = collections.Counter()  # occurrences in the running text
    whole = collections.Counter()  # of which the gold keeps whole
    longest = max(len(w) for w in words)
    with open(args.drop_split, encoding="utf-8") as f:
        for line in f:
            gold = line.split()
            text = "".join(gold)
            spans, i = set(), 0
            for w in gold:
                spans.add((i, i + len(w)))
                i += len(w)
            for a in range(len(text)):
                for n in range(2, min(longest, len(text) - a) + 1):
                    if text[a : a + n] in words:
                        seen[text[a : a + n]] += 1
                        whole[text[a : a + n]] += (a, a + n) in spans
    dropped = {w for w, n in seen.items() if n >= 2 and whole[w] < 0.1 * n}
    words -= dropped
    print(f"dropped {len(dropped)} that {args.drop_split} splits", file=sys.stderr)

sys.stdout.write("".join(w + "\n" for w in sorted(words)))
print(f"{len(words)} words", file=sys.stderr)

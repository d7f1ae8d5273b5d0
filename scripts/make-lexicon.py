#!/usr/bin/env python3
"""Writes the word list behind the default model's dictionary features (lexicon.txt).

Every simplified headword of CC-CEDICT made of 2-8 Chinese characters, one a line, sorted.
  usage: scripts/make-lexicon.py [CEDICT.txt.gz] > lexicon.txt
(default input: ../shared/data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz)
"""
import gzip
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz"
han = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]{2,8}$")
words = set()
with gzip.open(src, "rt", encoding="utf-8") as f:
    for line in f:
        if line.startswith("#"):
            continue
        parts = line.split(" ", 2)
        if len(parts) == 3 and han.match(parts[1]):
            words.add(parts[1])
sys.stdout.write("".join(w + "\n" for w in sorted(words)))
print(f"{len(words)} words", file=sys.stderr)

#!/usr/bin/env python3
"""Converts text to traditional characters, character by character, for measuring fenci on
traditional input: a simplified character becomes its traditional form wherever CC-CEDICT's
headwords give it exactly one (们 → 們, 书 → 書); characters with several (发 → 發 or 髮) and
everything else stay as they are. Spaces and lines are kept, so a gold file stays a gold file.
  usage: scripts/to-traditional.py [CEDICT.txt.gz] < simplified.txt > traditional.txt
(default input: data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz)
"""
import collections
import gzip
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz"
forms = collections.defaultdict(set)  # simplified char → traditional forms in headwords
with gzip.open(path, "rt", encoding="utf-8") as f:
    for line in f:
        parts = line.split(" ", 2)
        if line.startswith("#") or len(parts) < 3 or len(parts[0]) != len(parts[1]):
            continue
        for s, t in zip(parts[1], parts[0]):
            forms[s].add(t)
one = {s: next(iter(t)) for s, t in forms.items() if len(t) == 1}
for line in sys.stdin:
    sys.stdout.write("".join(one.get(c, c) for c in line))

#!/usr/bin/env python3
"""Writes data/t2s/t2s.txt: traditional → simplified for single characters, from CC-CEDICT.

One line per traditional character that CC-CEDICT simplifies to another character: "T S…",
the simplified forms best first (fenci takes the first its model knows). Where CC-CEDICT gives
several (參 → 参 or 叁, 妳 → 你 or 奶), forms with an entry that is not "variant of" another
come first, then those used more often across the dictionary's simplified headwords. fenci looks up a character the model's
vocabulary lacks by its simplified form, so traditional text reaches a model trained on
simplified text (the output keeps the user's characters).
  usage: scripts/make-t2s.py [CEDICT.txt.gz] > data/t2s/t2s.txt
(default input: data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz)
"""
import collections
import gzip
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz"
forms = collections.defaultdict(list)  # traditional char → its simplified forms
proper = collections.Counter()  # (traditional, simplified) → entries not glossed "variant of …"
use = collections.Counter()  # how often a character appears in simplified headwords
with gzip.open(path, "rt", encoding="utf-8") as f:
    for line in f:
        if line.startswith("#"):
            continue
        parts = line.split(" ", 2)
        if len(parts) < 3:
            continue
        trad, simp = parts[0], parts[1]
        use.update(simp)
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            if simp not in forms[trad]:
                forms[trad].append(simp)
            gloss = parts[2].split("/", 2)[1] if "/" in parts[2] else ""
            proper[trad, simp] += "variant of" not in gloss


def ranked(t, cands):
    return sorted(cands, key=lambda c: (proper[t, c] == 0, -use[c], cands.index(c)))


out = sorted((t, " ".join(ranked(t, s))) for t, s in forms.items())
sys.stdout.write("".join(f"{t} {s}\n" for t, s in out))
print(f"{len(out)} characters", file=sys.stderr)

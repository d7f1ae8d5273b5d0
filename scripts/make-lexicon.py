#!/usr/bin/env python3
"""Writes the word list behind the default model's dictionary features (lexicon.txt).

Every simplified headword of CC-CEDICT made of 2-8 Chinese characters, one a line, sorted.
With --drop-split GOLD, headwords that the gold-segmented training text GOLD contains at least
twice but keeps whole less than 10% of the time are left out: there the segmentation standard
splits what the dictionary lists (PKU's 江 泽民, 经济 发展, 第一 次), and a feature that the
training data contradicts teaches the model to distrust the list everywhere.
With --drop-names, Chinese personal names are left out: headwords of 2–3 characters whose gloss
starts with their own pinyin written as a name and a parenthesis (习近平 [Xi2 Jin4 ping2]
"Xi Jinping (1953-), …"), unless another entry of the headword is not such a name. PKU's
standard splits surname from given name (江 泽民), which the model learns from the training
text, while a listed name would pull the whole name together.
With --split-names, three-character names are left out and their given names listed instead
(习近平 → 近平), so the features point at PKU's 习 近平; a given name is not added where a longer
listed word contains the name (邓小平理论: listing 小平 would cut it).
With --extra FILE (repeatable), the words of another word list are added: the first
tab-separated column of each line, kept where it is 2-8 Chinese characters; the personal-name
rules above apply to them too (a three-character CC-CEDICT name left out stays out).
  usage: scripts/make-lexicon.py [CEDICT.txt.gz] [--drop-split GOLD] [--drop-names | --split-names]
         [--extra FILE ...] > lexicon.txt
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
names_opt = ap.add_mutually_exclusive_group()
names_opt.add_argument("--drop-names", action="store_true", help="leave out Chinese personal names")
names_opt.add_argument(
    "--split-names", action="store_true", help="list the given names of personal names instead"
)
ap.add_argument("--extra", action="append", default=[], metavar="FILE", help="another word list")
args = ap.parse_args()

han = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]{2,8}$")
entry = re.compile(r"^\S+ (\S+) \[([^\]]*)\] /([^/]*)/")
romanised_name = re.compile(r"^([A-Z][a-z]+) ([A-Z][a-z]+) \(")


def is_name(word, pinyin, gloss):
    """A Chinese personal name: the gloss starts with it romanised from its own pinyin."""
    syl = [re.sub(r"[0-9]", "", x).replace("u:", "v").lower() for x in pinyin.split()]
    m = romanised_name.match(gloss)
    return (
        m is not None
        and len(word) in (2, 3)
        and len(syl) == len(word)
        and m.group(1).lower() == syl[0]
        and m.group(2).lower() == "".join(syl[1:])
    )


words, names, other = set(), set(), set()  # other: headwords with an entry that is no name
with gzip.open(args.cedict, "rt", encoding="utf-8") as f:
    for line in f:
        if line.startswith("#"):
            continue
        parts = line.split(" ", 2)
        if len(parts) == 3 and han.match(parts[1]):
            words.add(parts[1])
            m = entry.match(line)
            (names if m and is_name(*m.groups()) else other).add(parts[1])
print(f"{len(words)} CC-CEDICT words", file=sys.stderr)
for path in args.extra:
    with open(path, encoding="utf-8") as f:
        extra = {w for w in (line.split("\t")[0].strip() for line in f) if han.match(w)}
    print(f"{len(extra - words)} more words from {path}", file=sys.stderr)
    words |= extra

names -= other  # 王震 the general stays out, a word that is also a name stays in
if args.drop_names:
    words -= names
    print(f"dropped {len(names)} personal names", file=sys.stderr)
if args.split_names:
    three = {n for n in names if len(n) == 3}
    inside = {w[i : i + 3] for w in words if len(w) > 3 for i in range(len(w) - 2)}
    given = {n[1:] for n in three - inside}
    words = (words - three) | given
    print(f"replaced {len(three)} three-character names by {len(given)} given names", file=sys.stderr)

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

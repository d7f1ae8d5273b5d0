#!/usr/bin/env python3
"""Check the fenci readings dev set (dev.tsv) against CC-CEDICT.

Usage: python3 check.py [dev.tsv] [--cedict PATH] [--advice]

1. every line: number of pinyin syllables == number of Han characters;
2. every syllable is a reading CC-CEDICT gives that character: in the
   single-character entry, or at that position of any entry whose
   (simplified or traditional) headword contains the character;
3. counts sentences, polyphonic characters covered (a character is
   polyphonic if its single-character entries give >= 2 distinct readings,
   ignoring case and neutral-tone-only variants) and, per polyphonic
   character, sentences and readings seen; writes coverage.txt.

With --advice it also lists, for a second reading by hand, every position
where a CC-CEDICT word of 2+ characters occurring in the sentence covers the
character and all such words agree on a reading different from the one
written (this is advisory: such words may straddle a word boundary).

Exit status 1 if any violation (1 or 2) is found.
"""
import collections
import gzip
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CEDICT = os.path.join(HERE, "..", "..", "..", "data", "cedict", "cedict_1_0_ts_utf-8_mdbg.txt.gz")
SYL_RE = re.compile(r"^[a-z:]+[1-5]$")
LINE_RE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /")


def is_han(ch):
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF
            or 0x20000 <= cp <= 0x2FA1F or 0xF900 <= cp <= 0xFAFF)


def load_cedict(path):
    single = collections.defaultdict(set)   # char -> readings (single-char entries)
    anypos = collections.defaultdict(set)   # char -> readings at any aligned position
    words = collections.defaultdict(set)    # simplified headword (len>=2, all Han) -> pinyin tuples
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = LINE_RE.match(line)
            if not m:
                continue
            trad, simp, pin = m.groups()
            syls = [s.lower() for s in pin.split()]
            for head in {trad, simp}:
                if len(head) != len(syls) or not all(is_han(c) for c in head):
                    continue
                for c, s in zip(head, syls):
                    anypos[c].add(s)
                if len(head) == 1:
                    single[head].add(syls[0])
            if len(simp) >= 2 and len(simp) == len(syls) and all(is_han(c) for c in simp):
                words[simp].add(tuple(syls))
    return single, anypos, words


def distinct_readings(readings):
    """Readings with neutral-tone-only variants folded (xx5 dropped if xx1-4 present)."""
    out = set()
    for r in readings:
        base, tone = r[:-1], r[-1]
        if tone == "5" and any(base + t in readings for t in "1234"):
            continue
        out.add(r)
    return out


def main():
    args = sys.argv[1:]
    advice = "--advice" in args
    args = [a for a in args if a != "--advice"]
    cedict = DEFAULT_CEDICT
    if "--cedict" in args:
        i = args.index("--cedict")
        cedict = args[i + 1]
        del args[i:i + 2]
    dev = args[0] if args else os.path.join(HERE, "heldout.tsv")

    single, anypos, words = load_cedict(cedict)
    maxlen = max(len(w) for w in words)

    violations = []
    advices = []
    sentences = []
    seen_sent = set()
    with open(dev, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                violations.append(f"{n}: expected 2 tab-separated fields, got {len(parts)}")
                continue
            sent, pin = parts
            if sent in seen_sent:
                violations.append(f"{n}: duplicate sentence {sent}")
            seen_sent.add(sent)
            hans = [c for c in sent if is_han(c)]
            syls = pin.split()
            if not 6 <= len(hans) <= 25:
                violations.append(f"{n}: length {len(hans)} Han chars outside 6-25: {sent}")
            if len(hans) != len(syls):
                violations.append(f"{n}: {len(hans)} Han chars but {len(syls)} syllables: {sent}")
                continue
            bad = False
            for i, (c, s) in enumerate(zip(hans, syls)):
                if not SYL_RE.match(s):
                    violations.append(f"{n}: malformed syllable {s!r} for {c} (#{i+1}) in {sent}")
                    bad = True
                    continue
                ok = s in single.get(c, set()) or s in anypos.get(c, set())
                if not ok:
                    known = sorted(single.get(c, set()) | anypos.get(c, set()))
                    violations.append(f"{n}: {c}={s} not a CC-CEDICT reading (known: {' '.join(known) or 'none'}) in {sent}")
                    bad = True
            sentences.append((n, sent, hans, syls))
            if advice:
                # positions covered by dictionary words found in the Han-only string
                # (words are matched within runs of consecutive Han characters)
                runs, cur = [], []
                k = 0
                for c in sent:
                    if is_han(c):
                        cur.append(k)
                        k += 1
                    else:
                        if cur:
                            runs.append(cur)
                        cur = []
                if cur:
                    runs.append(cur)
                cover = collections.defaultdict(list)  # pos -> [(word, reading-at-pos)]
                for run in runs:
                    txt = "".join(hans[p] for p in run)
                    for a in range(len(txt)):
                        for L in range(2, min(maxlen, len(txt) - a) + 1):
                            w = txt[a:a + L]
                            if w in words:
                                for j in range(L):
                                    rs = {p[j] for p in words[w]}
                                    cover[run[a + j]].append((w, rs))
                for p, lst in sorted(cover.items()):
                    # advise only if the longest covering word(s) disagree with the written syllable
                    longest = max(len(w) for w, _ in lst)
                    cands = [(w, rs) for w, rs in lst if len(w) == longest]
                    if all(syls[p] not in rs for w, rs in cands):
                        desc = "; ".join(f"{w}:{'/'.join(sorted(rs))}" for w, rs in cands)
                        advices.append(f"{n}: {hans[p]}={syls[p]} vs {desc}  | {sent}")

    # coverage
    poly = {}
    for c in {c for _, _, hans, _ in sentences for c in hans}:
        d = distinct_readings(single.get(c, set()))
        if len(d) >= 2:
            poly[c] = d
    stats = {c: {"sents": set(), "readings": collections.Counter()} for c in poly}
    for n, sent, hans, syls in sentences:
        for c, s in zip(hans, syls):
            if c in stats:
                stats[c]["sents"].add(n)
                stats[c]["readings"][s] += 1

    def used_distinct(st):
        return len(distinct_readings(set(st["readings"])))

    lines = []
    lines.append(f"sentences: {len(sentences)}")
    lines.append(f"han characters: {sum(len(h) for _, _, h, _ in sentences)}")
    lines.append(f"distinct characters: {len({c for _, _, h, _ in sentences for c in h})}")
    lines.append(f"polyphonic characters present: {len(poly)}")
    ge3 = [c for c in poly if len(stats[c]['sents']) >= 3]
    multi = [c for c in poly if used_distinct(stats[c]) >= 2]
    both = [c for c in ge3 if used_distinct(stats[c]) >= 2]
    lines.append(f"polyphonic characters in >= 3 sentences: {len(ge3)}")
    lines.append(f"polyphonic characters with >= 2 readings used: {len(multi)}")
    lines.append(f"polyphonic characters in >= 3 sentences and >= 2 readings used: {len(both)}")
    lines.append(f"violations: {len(violations)}")
    lines.append("")
    lines.append("char\tsentences\treadings used (count)\tCC-CEDICT single-char readings")
    for c in sorted(poly, key=lambda c: (-len(stats[c]["sents"]), c)):
        st = stats[c]
        used = " ".join(f"{r}({k})" for r, k in st["readings"].most_common())
        lines.append(f"{c}\t{len(st['sents'])}\t{used}\t{' '.join(sorted(poly[c]))}")
    with open(os.path.join(HERE, "coverage.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

    for v in violations:
        print("VIOLATION", v)
    if advice:
        for a in advices:
            print("ADVICE", a)
    print("\n".join(lines[:9]))
    if advice:
        print(f"advice lines: {len(advices)}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())

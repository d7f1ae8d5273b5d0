#!/usr/bin/env python3
"""A diagnostic, not the benchmark: the review pool's gold with every string its labellers
segmented both ways (一个 joined 2 times and split 19, 就是 20 and 3 …) written the majority's
way (ties left alone), to measure how much the labellers' inconsistency costs the gain on the
rest of the pool (issue 21, benchmarks/review/README.md).

    python3 scripts/review-gold-majority.py benchmarks/review/gold.txt > /tmp/gold-majority.txt
    ONLY=fenci SEED=7 target/release/examples/review_bench /tmp/gold-majority.txt ../shared 50

Prints the strings and the number of changes on stderr.
"""
import sys
from collections import Counter, defaultdict


def main():
    gold = [line.split() for line in open(sys.argv[1], encoding="utf-8")]
    joined = Counter(w for line in gold for w in line if len(w) > 1)
    split, forms = Counter(), defaultdict(Counter)
    for line in gold:
        for i in range(len(line)):
            s = ""
            for j in range(i, min(i + 4, len(line))):
                s += line[j]
                if j > i and s in joined:
                    split[s] += 1
                    forms[s][tuple(line[i:j + 1])] += 1
    rules = {s: ("join" if joined[s] > split[s] else forms[s].most_common(1)[0][0])
             for s in split if joined[s] != split[s]}
    changes = 0
    for line in gold:
        for s, r in rules.items():
            if r != "join":
                continue
            i = 0
            while i < len(line):
                acc, j = "", i
                while j < len(line) and len(acc) < len(s):
                    acc += line[j]
                    j += 1
                if acc == s and j - i > 1:
                    line[i:j] = [s]
                    changes += 1
                i += 1
        out = []
        for w in line:
            r = rules.get(w)
            if r and r != "join":
                out.extend(r)
                changes += 1
            else:
                out.append(w)
        print(" ".join(out))
    print(f"{len(rules)} strings, {changes} changes: "
          + ", ".join(f"{s} {'joined' if r == 'join' else ' '.join(r)}" for s, r in rules.items()),
          file=sys.stderr)


if __name__ == "__main__":
    main()

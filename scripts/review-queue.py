#!/usr/bin/env python3
"""How well the app's review queue (/open, /review: the sentences with a word marked `?`) holds
the sentences the model got wrong, on the review pool.

    target/release/fenci segment --model default --format jsonl < benchmarks/review/pool.txt \
        | python3 scripts/review-queue.py benchmarks/review/gold.txt
"""
import json
import sys

gold = [l.split() for l in open(sys.argv[1], encoding="utf-8").read().splitlines()]
recs = [json.loads(l) for l in sys.stdin]
assert len(recs) == len(gold), (len(recs), len(gold))
q = w = qw = 0
for g, r in zip(gold, recs):
    queued = any(x["uncertain"] for x in r["words"])
    wrong = [x["text"] for x in r["words"]] != g
    q, w, qw = q + queued, w + wrong, qw + (queued and wrong)
n = len(gold)
print(f"sentences {n}, wrong {w} ({w / n:.1%})")
print(f"queued {q}: wrong {qw} ({qw / max(q, 1):.1%})")
print(f"not queued {n - q}: wrong {w - qw} ({(w - qw) / max(n - q, 1):.1%})")
print(f"wrong sentences in the queue: {qw}/{w} ({qw / max(w, 1):.1%})")

#!/usr/bin/env python3
"""Keyword pairs (word<TAB>sentence) for fenci's example-sentence LM (issue #20).

Reads fenci's own everyday sentences (data/sentences/everyday.tsv: word<TAB>sentence, written
for the project) and People's Daily train (gold segmentation), and writes

  OUT/train.tsv   pairs to train on
  OUT/dev.tsv     pairs of held-out everyday sentences (perplexity, model selection)

Each everyday sentence is paired with the word it was written for and, via fenci's segmenter
(--fenci BIN), with up to two other HSK 1-4 words it contains as words, so that one sentence
teaches several words. People's Daily sentences are kept only when they are clean, complete
and plain (8-30 characters, end in 。！？, no digits/Latin/brackets/quotes/colons, no 本报/记者,
every word in the HSK 3.0 list up to level 6); each is paired with one or two of its words.
Deterministic (seeded); no dev or test text is read.

usage: python3 scripts/lm-pairs.py --fenci target/release/fenci --out target/lm-pairs
"""
import argparse, hashlib, os, random, re, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument('--fenci', required=True)
ap.add_argument('--shared', default='../shared')
ap.add_argument('--out', required=True)
ap.add_argument('--sentences', default='data/sentences/everyday.tsv')
a = ap.parse_args()

hsk = {}
for l in open(os.path.join(a.shared, 'data/hsk/hsk30_words.tsv'), encoding='utf-8').read().splitlines()[1:]:
    w, lv = l.split('\t')
    hsk[w] = int(lv)
BAD = re.compile(r'[0-9０-９A-Za-zＡ-Ｚａ-ｚ()（）\[\]【】…"“”《》〈〉—：:；/]')
PUNCT = set('，。！？、；：')
rng = random.Random(20261130)

def held_out(s):
    return hashlib.sha1(s.encode()).digest()[0] < 10  # ~4% of the everyday sentences

rows = [l.split('\t') for l in open(a.sentences, encoding='utf-8').read().splitlines() if l.strip()]
rows = [(w, s) for w, s in rows if w in s]
sents = sorted({s for _, s in rows})
# fenci's segmentation of the everyday sentences, for their other words.
seg = subprocess.run([a.fenci, 'segment', '--model', 'default'], input='\n'.join(sents) + '\n',
                     capture_output=True, text=True, check=True).stdout.splitlines()
words_of = dict(zip(sents, (l.split() for l in seg)))

train, dev = [], []
for w, s in rows:
    (dev if held_out(s) else train).append((w, s))
extra = 0
for s in sents:
    if held_out(s):
        continue
    targets = {w for w, t in rows if t == s}
    others = sorted({x for x in words_of.get(s, []) if hsk.get(x, 9) <= 4 and x not in targets and x not in PUNCT})
    for x in rng.sample(others, min(2, len(others))):
        train.append((x, s)); extra += 1

def pd_sentences(path):
    for line in open(path, encoding='utf-8'):
        cur = []
        for w in line.split():
            cur.append(w)
            if w in ('。', '！', '？'):
                yield cur; cur = []

pd = 0
for ws in pd_sentences(os.path.join(a.shared, 'data/pku1998/train.seg.txt')):
    t = ''.join(ws)
    if not (8 <= len(t) <= 30) or BAD.search(t) or '本报' in t or '记者' in t:
        continue
    content = [w for w in ws if w not in PUNCT]
    if any(hsk.get(w, 9) > 6 for w in content):
        continue
    cands = sorted({w for w in content if len(w) >= 2}) or sorted(set(content))
    for x in rng.sample(cands, min(2, len(cands))):
        train.append((x, t)); pd += 1

rng.shuffle(train)
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, 'train.tsv'), 'w', encoding='utf-8') as f:
    f.writelines(f'{w}\t{s}\n' for w, s in train)
with open(os.path.join(a.out, 'dev.tsv'), 'w', encoding='utf-8') as f:
    f.writelines(f'{w}\t{s}\n' for w, s in dev)
print(f'everyday: {len(rows)} pairs of {len(sents)} sentences ({len(dev)} held out for dev), '
      f'{extra} more pairs with their other HSK 1-4 words; People\'s Daily: {pd} pairs; '
      f'train {len(train)} pairs, {sum(len(s) for _, s in train)} characters', file=sys.stderr)

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
Sentences with a character the LM's tokenizer cannot spell are left out (--tokenizer; '' keeps
them, as the pairs of stages 1-5 did). --repeat-from LINE --repeat R writes the pairs of the
everyday sentences from LINE on R times (stage 6 trains the model further on round three's
sentences). Deterministic (seeded); no dev or test text is read.

usage: python3 scripts/lm-pairs.py --fenci target/release/fenci --out target/lm-pairs
"""
import argparse, hashlib, os, random, re, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument('--fenci', required=True)
ap.add_argument('--shared', default='../shared')
ap.add_argument('--out', required=True)
ap.add_argument('--sentences', default='data/sentences/everyday.tsv')
ap.add_argument('--tokenizer', default='models/lm/tokenizer.json',
                help="the LM's tokenizer: a sentence with a character it cannot spell is left out")
ap.add_argument('--repeat-from', type=int, default=0, metavar='LINE',
                help='pairs of everyday sentences from this line of --sentences on (1-based: the '
                     'newest rows) are written --repeat times, so that a model trained further '
                     'sees new sentences as often as it saw the old ones')
ap.add_argument('--repeat', type=int, default=1)
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

import json, unicodedata
vocab = json.load(open(a.tokenizer, encoding='utf-8'))['model']['vocab'] if a.tokenizer else None
spells = lambda s: vocab is None or all(unicodedata.normalize('NFKC', c) in vocab for c in s)
lines = [l.split('\t') for l in open(a.sentences, encoding='utf-8').read().splitlines()]
new = {r[1] for i, r in enumerate(lines, 1) if a.repeat_from and i >= a.repeat_from and len(r) == 2}
rows = [(w, s) for w, s in (r for r in lines if len(r) == 2) if w in s and spells(s)]
unspelled = sum(1 for r in lines if len(r) == 2 and not spells(r[1]))
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

repeated = [p for p in train if p[1] in new]
train += repeated * (a.repeat - 1)
rng.shuffle(train)
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, 'train.tsv'), 'w', encoding='utf-8') as f:
    f.writelines(f'{w}\t{s}\n' for w, s in train)
with open(os.path.join(a.out, 'dev.tsv'), 'w', encoding='utf-8') as f:
    f.writelines(f'{w}\t{s}\n' for w, s in dev)
print(f'everyday: {len(rows)} pairs of {len(sents)} sentences ({len(dev)} held out for dev, '
      f'{unspelled} left out with characters the LM cannot spell), '
      f'{extra} more pairs with their other HSK 1-4 words; People\'s Daily: {pd} pairs; '
      f'{len(repeated)} pairs of new sentences written {a.repeat} times; '
      f'train {len(train)} pairs, {sum(len(s) for _, s in train)} characters', file=sys.stderr)

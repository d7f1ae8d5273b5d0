#!/usr/bin/env python3
"""Benchmark `fenci examples`: generate, check automatically, report; keep the human verdicts.

For each word of benchmarks/examples/words.tsv and each temperature (0, 0.8, 1.2) it runs

    fenci examples WORD -n 3 --temperature T --seed 42 --stats

with FENCI_HOME pointing at an empty temporary directory, so the user's settings (top-p, LM,
seed) do not leak in: the built-in defaults apply. It times the first line and all lines, runs
the automatic checks and writes PREFIX-T{T}.tsv (one row per example) with an empty `verdict`
and `note` for the review by reading. When a TSV already exists, the verdicts and notes of rows
whose sentence is unchanged are kept, so a rerun never throws a review away.

fenci shows only examples its LM is sure of: for a word it does not know well it writes fewer
and says "not sure of more examples" (exit 1 when none). Such a missing example is a row with
an empty sentence and the verdict `unsure`: the report gives the share accepted among the
sentences shown and among all asked for, and the automatic checks over the sentences shown.

Automatic checks (1 = pass):
  word_is_word   the word is a token of jieba 0.42.1 (default mode, HMM on); for a measure word,
                 a token made of a numeral or demonstrative plus the word (一本, 这件, 两辆) counts
  end_punct      the sentence ends in 。！or ？
  length_ok      6 to 30 characters, punctuation included
  clean          no digits, Latin letters, brackets ()（）[]【】{}〔〕<>〈〉 or ellipsis (… ... 。。。)
  distinct_open  no sentence of another word with the same (T, index) opens with the same
                 2 characters. The report adds, for reference, the same check on sentences
                 drawn at random from the LM's training text (data/sentences/everyday.tsv) in
                 the same numbers: how often that text repeats an opening by chance.

  word_is_word_pku  (reported, not part of all_auto) the same by pkuseg 0.0.25's default model,
                 which follows the PKU standard that fenci's segmenter was trained on (jieba keeps
                 保护环境, 王老师, 很漂亮 whole). Installed with pip when missing; skipped when
                 it cannot be.

Usage:
  scripts/examples-bench.py --fenci path/to/fenci --out benchmarks/examples/before
  scripts/examples-bench.py --report-only --out benchmarks/examples/before   # table from the TSVs
"""
import argparse
import csv
import functools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

TEMPS = ["0", "0.8", "1.2"]
CHECKS = ["word_is_word", "end_punct", "length_ok", "clean", "distinct_open"]
COLUMNS = ["word", "level", "pos", "T", "index", "sentence"] + CHECKS + [
    "all_auto", "word_is_word_pku", "first_ms", "total_ms", "gen_first_ms", "gen_total_ms", "tokens_per_s", "verdict",
    "note"]
MEASURE_PREFIX = set("一二两三四五六七八九十几这那每哪半某整")


def need_jieba():
    try:
        import jieba  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "jieba==0.42.1"])
    import jieba
    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def need_pkuseg():
    """pkuseg's default segmenter, or None when it cannot be installed (it builds with Cython)."""
    try:
        import pkuseg  # noqa: F401
    except ImportError:
        try:
            subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                                   "numpy", "cython", "wheel", "setuptools"])
            subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                                   "--no-build-isolation", "pkuseg==0.0.25"])
        except subprocess.CalledProcessError:
            print("pkuseg could not be installed: word_is_word_pku is left empty", file=sys.stderr)
            return None
    try:
        import pkuseg
        return pkuseg.pkuseg()
    except Exception as e:  # noqa: BLE001 (a check to skip, never a reason to stop)
        print(f"pkuseg cannot run ({e}): word_is_word_pku is left empty", file=sys.stderr)
        return None


def is_word_in(toks, word, pos):
    if word in toks:
        return True
    return pos == "measure" and any(
        len(t) >= 2 and t.endswith(word) and all(c in MEASURE_PREFIX for c in t[:-1]) for t in toks)


def read_words(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def run_one(fenci, word, t, n, seed, home, extra):
    cmd = [fenci, "examples", word, "-n", str(n), "--temperature", t, "--seed", str(seed),
           "--stats"] + extra
    env = dict(os.environ, FENCI_HOME=home)
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                         text=True, encoding="utf-8", bufsize=1)
    lines, first = [], None
    for line in p.stdout:
        if first is None:
            first = time.perf_counter() - start
        line = line.strip()
        if line:
            lines.append(line)
    err = p.stderr.read()
    p.wait()
    total = time.perf_counter() - start
    unsure = "not sure of more examples" in err
    if p.returncode != 0 and not (unsure and p.returncode == 1 and not lines):
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {err.strip()}")
    m = re.search(r"decoding: ([\d.]+) tokens/s", err)
    tps = float(m.group(1)) if m else None
    m = re.search(r"first token: ([\d.]+) ms", err)
    ftok = float(m.group(1)) if m else None
    # In-process times (model loaded), printed by fenci versions with ranked examples.
    m = re.search(r"first example: ([\d.]+) ms  all: ([\d.]+) ms", err)
    gen = (float(m.group(1)), float(m.group(2))) if m else (None, None)
    return lines, first, total, tps, ftok, gen


BRACKETS = set("()（）[]【】{}｛｝〔〕<>〈〉")
ENDS = ("。", "！", "？")


def check(sentence, word, pos, jieba, pku=None):
    is_word = is_word_in(jieba.lcut(sentence), word, pos)
    clean = not (re.search(r"[0-9０-９A-Za-zＡ-Ｚａ-ｚ]", sentence)
                 or any(c in BRACKETS for c in sentence)
                 or "…" in sentence or "..." in sentence or "。。" in sentence)
    out = {} if pku is None or not sentence else {
        "word_is_word_pku": int(is_word_in(pku.cut(sentence), word, pos))}
    return out | {
        "word_is_word": int(is_word),
        "end_punct": int(sentence.endswith(ENDS)),
        "length_ok": int(6 <= len(sentence) <= 30),
        "clean": int(bool(clean)),
    }


def distinct_openings(rows):
    """rows of one T: mark each sentence whose 2-char opening another word's same-index row shares."""
    by_idx = {}
    for r in rows:
        by_idx.setdefault(r["index"], []).append(r)
    for group in by_idx.values():
        for r in group:
            op = r["sentence"][:2]
            clash = any(o["word"] != r["word"] and o["sentence"][:2] == op for o in group)
            r["distinct_open"] = int(not clash)


CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sentences",
                      "everyday.tsv")


@functools.lru_cache(maxsize=1)
def corpus_sentences():
    """The LM's training sentences, deduplicated and sorted (empty without the corpus)."""
    if not os.path.exists(CORPUS):
        return []
    with open(CORPUS, encoding="utf-8") as f:
        return sorted({line.rstrip("\n").split("\t")[-1] for line in f if "\t" in line})


def opening_reference(shown, draws=2000):
    """distinct_open of sentences drawn at random from the LM's training text (fenci's everyday
    corpus) in the same numbers per index as `shown`: how often the text the LM learnt from
    repeats its openings by chance (random.Random(0); None without the corpus, or with fewer
    sentences in it than one index has)."""
    import random
    corpus = corpus_sentences()
    if not corpus or not shown:
        return None
    sizes = {}
    for r in shown:
        sizes[r["index"]] = sizes.get(r["index"], 0) + 1
    if max(sizes.values()) > len(corpus):
        return None
    rng, ok, n = random.Random(0), 0, 0
    for _ in range(draws):
        for k in sizes.values():
            ops = [x[:2] for x in rng.sample(corpus, k)]
            ok += sum(ops.count(o) == 1 for o in ops)
            n += k
    return 100.0 * ok / n


def read_tsv(path):
    """Plain TSV: no quoting, no escapes (fields never hold a tab or a newline)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:] if line]


def write_tsv(path, rows):
    def field(x):
        return str(x).replace("\t", " ").replace("\n", " ")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\t".join(COLUMNS) + "\n")
        for r in rows:
            f.write("\t".join(field(r.get(c, "")) for c in COLUMNS) + "\n")


def pct(xs):
    return f"{100.0 * sum(xs) / len(xs):5.1f}%" if xs else "   - "


def report(all_rows, timing):
    TEMPS = list(all_rows)  # the temperatures that were run or read
    print(f"\n{'check':<16}" + "".join(f"{'T=' + t:>10}" for t in TEMPS))
    shown = {t: [r for r in all_rows[t] if r["sentence"]] for t in TEMPS}
    print(f"{'shown / asked':<16}" + "".join(
        f"{f'{len(shown[t])}/{len(all_rows[t])}':>10}" for t in TEMPS))
    for c in CHECKS + ["all_auto", "word_is_word_pku"]:
        print(f"{c:<16}" + "".join(
            f"{pct([int(r[c]) for r in shown[t] if r.get(c, '') != '']):>10}" for t in TEMPS))
        if c == "distinct_open":
            ref = [opening_reference(shown[t]) for t in TEMPS]
            if all(x is not None for x in ref):
                print(f"{'  corpus draws':<16}" + "".join(f"{x:>9.1f}%" for x in ref)
                      + "   (the LM's training sentences, drawn in the same numbers)")
    line, counts = f"{'accepted (read)':<16}", []
    for t in TEMPS:
        v = [r["verdict"] for r in shown[t] if r.get("verdict") in ("ok", "no")]
        line += f"{pct([x == 'ok' for x in v]):>10}"
        counts.append(f"{sum(x == 'ok' for x in v)}/{len(v)}")
    print(line + "   (of the sentences shown)")
    print(f"{'  ok / reviewed':<16}" + "".join(f"{c:>10}" for c in counts))
    asked = []
    for t in TEMPS:
        ok = sum(1 for r in all_rows[t] if r.get("verdict") == "ok")
        asked.append(f"{ok}/{len(all_rows[t])}")
    print(f"{'  ok / asked':<16}" + "".join(f"{c:>10}" for c in asked)
          + "   (a missing example counts as not acceptable)")
    print(f"{'  + grammatical':<16}" + "".join(f"{sum(1 for r in all_rows[t] if r.get('verdict') == 'no' and r.get('note', '').startswith('boilerplate: ') and 'grammatical' in r['note']):>10}" for t in TEMPS)
          + "   (rejected only as boilerplate, note says grammatical)")
    if timing:
        print(f"\n{'latency (ms)':<16}" + "".join(f"{'T=' + t:>10}" for t in TEMPS))
        for name, key, fn in [("first, median", "first", statistics.median),
                              ("first, max", "first", max),
                              ("all 3, median", "total", statistics.median),
                              ("all 3, max", "total", max)]:
            print(f"{name:<16}" + "".join(
                f"{fn([x[key] * 1000 for x in timing[t]]):>10.0f}" if timing.get(t) else f"{'-':>10}"
                for t in TEMPS))
        for name, key, fn in [("in-process first, median", "gen_first", statistics.median),
                              ("in-process first, max", "gen_first", max),
                              ("in-process all 3, median", "gen_total", statistics.median),
                              ("in-process all 3, max", "gen_total", max)]:
            vals = {t: [x[key] for x in timing.get(t, []) if x.get(key) is not None] for t in TEMPS}
            if any(vals.values()):
                print(f"{name:<16}" + "".join(
                    f"{fn(vals[t]):>10.0f}" if vals[t] else f"{'-':>10}" for t in TEMPS))
        print(f"{'tokens/s, med':<16}" + "".join(
            f"{statistics.median([x['tps'] for x in timing[t] if x['tps']]):>10.1f}"
            if timing.get(t) and any(x['tps'] for x in timing[t]) else f"{'-':>10}"
            for t in TEMPS))
    kinds = {}
    for t in TEMPS:
        for r in all_rows[t]:
            if r.get("verdict") == "no" and ":" in r.get("note", ""):
                for k in r["note"].split(":", 1)[0].split("+"):
                    kinds.setdefault(k.strip(), {}).setdefault(t, 0)
                    kinds[k.strip()][t] += 1
    if kinds:
        print(f"\n{'failure kind':<16}" + "".join(f"{'T=' + t:>10}" for t in TEMPS) + f"{'all':>10}")
        for k, c in sorted(kinds.items(), key=lambda kv: -sum(kv[1].values())):
            print(f"{k:<16}" + "".join(f"{c.get(t, 0):>10}" for t in TEMPS) + f"{sum(c.values()):>10}")
        print("(a rejected sentence can have several kinds: the note starts 'kind+kind: why')")
    print("\nfirst_ms and total_ms are wall times of the whole process (load included), "
          "per word, in the TSVs; in-process (gen_first_ms, gen_total_ms) are fenci's own "
          "times from the loaded models to the first and the last example.")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fenci", default="fenci", help="fenci binary (default: fenci on PATH)")
    ap.add_argument("--words", default="benchmarks/examples/words.tsv")
    ap.add_argument("--out", default="benchmarks/examples/before",
                    help="prefix of the TSVs: PREFIX-T0.tsv, PREFIX-T0.8.tsv, PREFIX-T1.2.tsv")
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--temperatures", default=",".join(TEMPS))
    ap.add_argument("--extra", default="", help="extra flags for `fenci examples`, e.g. '--lm DIR'")
    ap.add_argument("--report-only", action="store_true",
                    help="print the table from the existing TSVs; run nothing")
    a = ap.parse_args()
    temps = a.temperatures.split(",")
    words = read_words(a.words)
    all_rows, timing = {}, {}

    if a.report_only:
        for t in temps:
            all_rows[t] = read_tsv(f"{a.out}-T{t}.tsv")
            timing[t] = [{"first": float(r["first_ms"]) / 1000, "total": float(r["total_ms"]) / 1000,
                          "tps": float(r["tokens_per_s"]) if r.get("tokens_per_s") else None,
                          "gen_first": float(r["gen_first_ms"]) if r.get("gen_first_ms") else None,
                          "gen_total": float(r["gen_total_ms"]) if r.get("gen_total_ms") else None}
                         for r in all_rows[t] if r["index"] == "1" and r["first_ms"]]
        report(all_rows, timing)
        return

    jieba = need_jieba()
    pku = need_pkuseg()
    with tempfile.TemporaryDirectory(prefix="fenci-bench-") as home:
        for t in temps:
            old = {(r["word"], r["index"], r["sentence"]): r for r in read_tsv(f"{a.out}-T{t}.tsv")}
            rows, timing[t] = [], []
            for w in words:
                lines, first, total, tps, ftok, gen = run_one(a.fenci, w["word"], t, a.n, a.seed,
                                                              home, a.extra.split())
                if first is not None:
                    timing[t].append({"first": first, "total": total, "tps": tps,
                                      "gen_first": gen[0], "gen_total": gen[1]})
                for i in range(a.n):
                    s = lines[i] if i < len(lines) else ""
                    r = {"word": w["word"], "level": w["level"], "pos": w["pos"], "T": t,
                         "index": str(i + 1), "sentence": s}
                    r.update(check(s, w["word"], w["pos"], jieba, pku))
                    r["first_ms"] = f"{first * 1000:.0f}" if i == 0 and first is not None else ""
                    r["total_ms"] = f"{total * 1000:.0f}" if i == 0 and first is not None else ""
                    r["tokens_per_s"] = f"{tps:.1f}" if i == 0 and tps else ""
                    r["gen_first_ms"] = f"{gen[0]:.0f}" if i == 0 and gen[0] is not None else ""
                    r["gen_total_ms"] = f"{gen[1]:.0f}" if i == 0 and gen[1] is not None else ""
                    prev = old.get((w["word"], str(i + 1), s))
                    r["verdict"] = prev["verdict"] if prev else ""
                    r["note"] = prev["note"] if prev else ""
                    if not s:
                        r["verdict"], r["note"] = "unsure", "fenci said it is not sure of more"
                    rows.append(r)
                print(f"T={t} {w['word']}: {len(lines)} shown, {total * 1000:.0f} ms all",
                      file=sys.stderr)
            distinct_openings(rows)
            for r in rows:
                r["all_auto"] = int(all(r[c] for c in CHECKS))
            all_rows[t] = rows
            write_tsv(f"{a.out}-T{t}.tsv", rows)
    report(all_rows, timing)


if __name__ == "__main__":
    main()

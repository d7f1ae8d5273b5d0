#!/usr/bin/env bash
# Reproduces fenci's embedded default model (models/default/) from ../shared.
# Resumable: interrupt with Ctrl-C (a checkpoint is written) and run the script again.
#   usage: scripts/train-default.sh [OUT_DIR]      (default OUT_DIR: target/default-model)
# Then copy OUT_DIR/{config.json,vocab.txt,model.safetensors} into models/default/, update the
# checksums in models/default/README.md and rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
OUT=${1:-target/default-model}
cargo build --release --quiet
resume=()
if [ -f "$OUT.ckpt/state.json" ]; then resume=(--resume); echo "resuming from $OUT.ckpt"; fi
./target/release/fenci train \
  --data "$SHARED/data/pku1998/train.seg.txt" \
  --dev "$SHARED/data/pku1998/dev.seg.txt" \
  --out "$OUT" \
  --vocab "$SHARED/data/vocab/bert-base-chinese-vocab.txt" --trim-vocab 1 \
  --layers 2 --hidden 256 --heads 4 --max-positions 128 \
  --epochs 8 --lr 1e-3 --unk-prob 0.03 --cut-prob 0.3 --seed 42 --f16 \
  "${resume[@]}"
./target/release/fenci eval --model "$OUT" --gold "$SHARED/data/pku1998/test.seg.txt" \
  --train "$SHARED/data/pku1998/train.seg.txt"
sha256sum "$OUT"/config.json "$OUT"/vocab.txt "$OUT"/model.safetensors

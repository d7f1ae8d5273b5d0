#!/usr/bin/env bash
# Reproduces fenci's embedded example-sentence LM (models/lm/) from ../shared.
# Resumable: interrupt with Ctrl-C (a checkpoint is written) and run the script again.
#   usage: scripts/train-lm.sh [OUT_DIR]      (default OUT_DIR: target/lm-model)
# Then copy OUT_DIR/{config.json,tokenizer.json,model.safetensors} into models/lm/, update the
# checksums in models/lm/README.md and rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
OUT=${1:-target/lm-model}
EPOCHS=${EPOCHS:-2}
cargo build --release --quiet
resume=()
if [ -f "$OUT.ckpt/state.json" ]; then resume=(--resume); echo "resuming from $OUT.ckpt"; fi
./target/release/fenci train-lm \
  --gold "$SHARED/data/pku1998/train.seg.txt" \
  --text "$SHARED/data/reviews/pos.txt.gz" "$SHARED/data/reviews/neg.txt.gz" \
  --dev "$SHARED/data/pku1998/dev.seg.txt" \
  --out "$OUT" \
  --layers 4 --hidden 256 --heads 4 --kv-heads 2 --max-positions 256 --min-count 3 \
  --epochs "$EPOCHS" --lr 2e-3 --batch-tokens 4096 --max-tokens 96 --seed 42 --f16 \
  "${resume[@]}"
sha256sum "$OUT"/config.json "$OUT"/tokenizer.json "$OUT"/model.safetensors

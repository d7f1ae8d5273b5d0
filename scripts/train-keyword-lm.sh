#!/usr/bin/env bash
# Reproduces fenci's built-in keyword LM (models/lm/, issue #20) from the base LM and the pairs.
#   usage: scripts/train-keyword-lm.sh [OUT_DIR]     (default OUT_DIR: target/keyword-lm)
# Stage 1: 4 epochs (lr 1e-3) from the base LM (models/lm as of fenci 0.x, `scripts/train-lm.sh`
# rebuilds it: BASE=target/lm-model) on the keyword pairs of `scripts/lm-pairs.py`; stage 2:
# 2 more epochs (lr 5e-4) from the end of stage 1; stage 3: 2 more, keeping the best on dev;
# stage 4: 3 more, keeping the last; stage 5: 2 more, keeping the last; stages 6 and 7 (stop 26):
# 2 + 2 more on all the pairs with round three's everyday sentences (lines 12517 on) written 4
# times, keeping the last. Stages 1-5 train on the pairs of rounds one and two only (the first 12,516 lines), as
# they did when they were run. No dev set: the last epoch of each stage is
# kept (dev perplexity on held-out everyday sentences rose after epoch 2 while the examples, read
# on other words than the benchmark's, kept getting better: see models/lm/README.md).
# Resumable: interrupt with Ctrl-C and run the script again. ~145 min for stages 1-5 on 2 cores
# shared with other work; stages 6 and 7 ~35 min each on 2 cores.
# Then copy OUT_DIR/{config.json,tokenizer.json,model.safetensors} into models/lm/.
set -euo pipefail
DEV=()
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
OUT=${1:-target/keyword-lm}
BASE=${BASE:-target/lm-model}
cargo build --release --quiet
ROUND12=12516   # lines of data/sentences/everyday.tsv written in rounds one and two
if [ ! -f "$OUT-pairs/train.tsv" ]; then
  head -n $ROUND12 data/sentences/everyday.tsv > "$OUT-round12.tsv"
  python3 scripts/lm-pairs.py --fenci target/release/fenci --shared "$SHARED" --out "$OUT-pairs" \
    --sentences "$OUT-round12.tsv" --tokenizer ''
fi
[ -f "$OUT-pairs6/train.tsv" ] || python3 scripts/lm-pairs.py --fenci target/release/fenci \
  --shared "$SHARED" --out "$OUT-pairs6" --repeat-from $((ROUND12 + 1)) --repeat 4
stage() { # OUT INIT EPOCHS LR SEED [PAIRS]
  local resume=() pairs=${6:-$OUT-pairs/train.tsv}
  [ -f "$1/config.json" ] && [ ! -f "$1.ckpt/state.json" ] && return 0   # done
  [ -f "$1.ckpt/state.json" ] && resume=(--resume)
  ./target/release/fenci train-lm --init "$2" --pairs "$pairs" --out "$1" "${DEV[@]}" \
    --epochs "$3" --lr "$4" --batch-tokens 4096 --max-tokens 64 --seed "$5" --f16 \
    --checkpoint-every 100 "${resume[@]}"
  rm -rf "$1.ckpt"
}
stage "$OUT-stage1" "$BASE" 4 1e-3 42
stage "$OUT-stage2" "$OUT-stage1" 2 5e-4 43
# Stage 3 (stop 21): 2 epochs with the held-out pairs as dev; the best epoch (the first) is kept.
DEV=(--dev-pairs "$OUT-pairs/dev.tsv")
stage "$OUT-stage3" "$OUT-stage2" 2 5e-4 44
# Stage 4 (stop 21): 3 more epochs, no dev: the last is kept (recall over perplexity).
DEV=()
stage "$OUT-stage4" "$OUT-stage3" 3 5e-4 45
# Stage 5 (stop 23): 2 more epochs, no dev: the last is kept (recall, read on the dev words).
stage "$OUT-stage5" "$OUT-stage4" 2 5e-4 46
# Stages 6 and 7 (stop 26): 2 + 2 more epochs on the pairs with round three (new sentences 4
# times an epoch), last kept. After stage 6 the model was sure of fewer dev examples than stage 5
# (49 of 90 against 56); after stage 7 of as many (56) and of more on 40 other targeted words
# (103 of 120 against 93).
stage "$OUT-stage6" "$OUT-stage5" 2 5e-4 47 "$OUT-pairs6/train.tsv"
stage "$OUT" "$OUT-stage6" 2 5e-4 48 "$OUT-pairs6/train.tsv"
sha256sum "$OUT"/config.json "$OUT"/tokenizer.json "$OUT"/model.safetensors
# Tried in stop 28, not adopted (models/lm is stage 7's): two stages more on the pairs with round
# four of the everyday sentences (lines 18796 on, written twice an epoch; rounds one to three
# once), 2 epochs each at lr 5e-4, seeds 49 and 50:
#   python3 scripts/lm-pairs.py --fenci target/release/fenci --shared "$SHARED" \
#     --out "$OUT-pairs8" --repeat-from 18796 --repeat 2
#   fenci train-lm --init "$OUT" --pairs "$OUT-pairs8/train.tsv" --out "$OUT-stage8" … --seed 49
#   fenci train-lm --init "$OUT-stage8" --pairs "$OUT-pairs8/train.tsv" --out "$OUT-stage9" … --seed 50
# (same flags as `stage` above; 44 + 32 min on 2 cores). Sure of 78 and 98 of 120 examples of 40
# targeted words drawn for the choice (random.Random(28)) against stage 7's 105, and of 52 and 58
# of the 90 dev examples against 56: the new sentences are not yet learned. To resume: a stage 10
# from "$OUT-stage9" on the same pairs, then the same check.

#!/usr/bin/env bash
# fenci against its peers, one run on this machine, one table: word F1, OOV recall and speed on
# the PKU People's Daily (Jan 1998) dev and test splits. Every system's output is scored by the
# same scorer, ../shared/tools/score.py (OOV = not in train.seg.txt), which `fenci eval` agrees
# with to the last digit.
#
# Speed is KB/s = bytes of the unsegmented input (UTF-8, newlines included; 1 KB = 1024 bytes)
# / seconds spent segmenting, model loading excluded: fenci's own timer in `fenci eval`; the
# Python peers (scripts/peers.py) and jieba-rs (examples/jieba_rs_segment.rs) time their
# segmenting loop the same way. jieba and pkuseg run one thread; fenci with --threads 1 and 2,
# and with 2 threads and --precision bf16 (BF16 matrix products, on CPUs with AVX512-BF16).
#
# Installs the Python peers where missing (pip), builds fenci and the jieba-rs example. Safe to
# rerun.   usage: scripts/compare-peers.sh        (SHARED=path/to/shared, PYTHON=python3)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
PY=${PYTHON:-python3}
DATA=$SHARED/data/pku1998
TRAIN=$DATA/train.seg.txt

if ! $PY -c 'import jieba' 2>/dev/null; then
  echo "installing jieba…" >&2
  $PY -m pip install -q jieba >&2
fi
if ! $PY -c 'import pkuseg' 2>/dev/null; then
  echo "installing pkuseg (builds with Cython: a few minutes)…" >&2
  $PY -m pip install -q numpy cython wheel setuptools >&2
  $PY -m pip install -q --no-build-isolation pkuseg >&2
fi
cargo build --release --quiet --bin fenci --example jieba_rs_segment
F=./target/release/fenci
JRS=./target/release/examples/jieba_rs_segment

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# score GOLD PRED → "F1 OOV-R" (and a warning on stderr if the characters do not line up)
score() {
  local s
  s=$($PY "$SHARED/tools/score.py" "$1" "$2" --train "$TRAIN")
  case "$s" in *"char_mismatch_lines=0"*) ;; *) echo "warning: $2: $s" >&2 ;; esac
  sed -E 's/.*F1=([0-9.]+).*OOV_R=([0-9.]+).*/\1 \2/' <<<"$s"
}
# kbs BYTES SECS → KB/s
kbs() { $PY -c "import sys; print(f'{int(sys.argv[1]) / 1024 / float(sys.argv[2]):.1f}')" "$1" "$2"; }

declare -A result
systems=("fenci, 1 thread" "fenci, 2 threads" "fenci, 2 threads, bf16" "pkuseg" "jieba" "jieba-rs")
for split in dev test; do
  gold=$DATA/$split.seg.txt
  raw=$tmp/$split.raw.txt
  tr -d ' ' <"$gold" >"$raw"
  bytes=$(wc -c <"$raw")
  for sys in "${systems[@]}"; do
    pred=$tmp/$split.pred.txt
    case "$sys" in
      "fenci, "*)
        threads=${sys#fenci, }
        threads=${threads%% *}
        precision=f32
        case "$sys" in *bf16) precision=bf16 ;; esac
        # --precision bf16 falls back to f32 (with a warning) on CPUs without AVX512-BF16.
        out=$($F --threads "$threads" eval --model default --precision "$precision" \
          --gold "$gold" --output "$pred")
        # eval times segmenting only and prints "time: S s  (C chars/s, K KB/s)"
        speed=$(sed -nE 's/^time: .*, ([0-9.]+) KB\/s\)/\1/p' <<<"$out")
        ;;
      pkuseg | jieba)
        secs=$($PY scripts/peers.py "$sys" "$raw" "$pred" | sed -nE 's/^segment_secs=//p')
        speed=$(kbs "$bytes" "$secs")
        ;;
      jieba-rs)
        secs=$($JRS <"$raw" 2>&1 >"$pred" | sed -nE 's/^segment_secs=//p')
        speed=$(kbs "$bytes" "$secs")
        ;;
    esac
    read -r f1 oov <<<"$(score "$gold" "$pred")"
    result["$sys/$split"]="$f1 $oov $speed"
    echo "  $split  $sys: F1 $f1  OOV-R $oov  $speed KB/s" >&2
  done
done

cpu=$(sed -nE 's/^model name\s*:\s*//p' /proc/cpuinfo | head -1)
jv=$($PY -c 'import jieba; print(jieba.__version__)')
pv=$($PY -m pip show pkuseg 2>/dev/null | sed -nE 's/^Version: //p')
jrv=$(grep -A1 '^name = "jieba-rs"' Cargo.lock | sed -nE 's/^version = "(.*)"/\1/p')
model=$(sha256sum models/default/model.safetensors | cut -c1-12)
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC');  machine: $(nproc) cores, ${cpu:-unknown CPU}, $(uname -m)"
echo "fenci $(git rev-parse --short HEAD 2>/dev/null || echo '?') (built-in model, model.safetensors sha256 $model…);" \
  "pkuseg $pv (default model); jieba $jv (HMM on); jieba-rs $jrv (HMM on)"
echo
echo "| system | dev F1 | dev OOV-R | dev KB/s | test F1 | test OOV-R | test KB/s |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for sys in "${systems[@]}"; do
  read -r df do ds <<<"${result["$sys/dev"]}"
  read -r tf to ts <<<"${result["$sys/test"]}"
  echo "| $sys | $df | $do | $ds | $tf | $to | $ts |"
done

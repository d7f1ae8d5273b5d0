#!/usr/bin/env bash
# Prints fenci's headline figures on this machine: accuracy and speed on the PKU test split,
# start-up to first output, and peak memory. Peers (pkuseg, jieba) are compared by
# scripts/compare-peers.sh (the benchmark issue); this script is its fenci half.
#   usage: scripts/bench.sh [MODEL]          (default: the built-in model)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
MODEL=${1:-default}
cargo build --release --quiet
F=./target/release/fenci
TEST=$SHARED/data/pku1998/test.seg.txt
TRAIN=$SHARED/data/pku1998/train.seg.txt
echo "machine: $(nproc) cores, $(uname -m); model: $MODEL; $(date -u +%F)"
for threads in 1 2; do
  echo "== eval on the test split, $threads thread(s)"
  $F --threads $threads eval --model "$MODEL" --gold "$TEST" --train "$TRAIN" | tail -2
done
# Raw segment throughput: the test split without spaces, through `fenci segment`.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
tr -d ' ' < "$TEST" > "$tmp/raw.txt"
bytes=$(wc -c < "$tmp/raw.txt")
s=$(date +%s%N)
/usr/bin/time -f "%M" -o "$tmp/rss" $F segment --model "$MODEL" "$tmp/raw.txt" > /dev/null
e=$(date +%s%N)
ms=$(( (e - s) / 1000000 ))
echo "== fenci segment on the test split: $bytes bytes in $ms ms = $(( bytes * 1000 / ms / 1024 )) KB/s; peak RSS $(( $(cat "$tmp/rss") / 1024 )) MB"
# Start-up to first output, median of 11 runs.
times=()
for i in $(seq 11); do
  s=$(date +%s%N); echo 你好 | $F segment --model "$MODEL" > /dev/null; e=$(date +%s%N)
  times+=($(( (e - s) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "== start-up to first output (echo 你好 | fenci segment): median ${sorted[5]} ms (min ${sorted[0]}, max ${sorted[10]})"

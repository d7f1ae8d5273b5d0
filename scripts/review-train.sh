#!/usr/bin/env bash
# `fenci train` end to end on the review pool's first N picks (issue #21): the sentences
# `fenci review` puts first are corrected with the pool's gold (benchmarks/review/gold.txt) in a
# fresh data directory, then `fenci train` runs and is timed.
#   usage: scripts/review-train.sh [N]      (default 50; needs target/release/fenci)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
H=$(mktemp -d)
trap 'rm -rf "$H"' EXIT
target/release/fenci review --model default benchmarks/review/pool.txt -n "$N" --format jsonl \
  | python3 -c '
import json, sys
gold = open("benchmarks/review/gold.txt", encoding="utf-8").read().splitlines()
for l in sys.stdin:
    print(gold[json.loads(l)["line"] - 1])' > "$H/picks.txt"
while IFS= read -r words; do
  FENCI_HOME="$H/data" target/release/fenci correct "$words" > /dev/null
done < "$H/picks.txt"
/usr/bin/time -f "wall %e s, max RSS %M KB" env FENCI_HOME="$H/data" target/release/fenci train 2>&1 \
  | grep -v '^  \(before\|after\)\|^step '

#!/usr/bin/env bash
# Measures the app as a user meets it, in a real terminal (tmux): cold start to a usable prompt,
# cold start to the model being loaded, Enter-to-rendered-result for a 20-character sentence
# (p50/p95 over N runs; tmux polling every 5 ms, so figures are upper bounds), and RSS.
#   usage: scripts/tui-latency.sh [N]       (needs tmux; default N=20)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
cargo build --release --quiet
BIN=$PWD/target/release/fenci
home=$(mktemp -d); trap 'tmux kill-session -t fenci-lat 2>/dev/null || true; rm -rf "$home"' EXIT
now() { date +%s%N; }
screen() { tmux capture-pane -p -t fenci-lat; }
wait_for() { until screen | grep -q -- "$1"; do sleep 0.005; done; }
t0=$(now)
tmux -u new-session -d -s fenci-lat -x 120 -y 40 "FENCI_HOME=$home $BIN"
wait_for "type a sentence"
t1=$(now)
wait_for "2×"
t2=$(now)
echo "cold start to prompt: $(( (t1 - t0) / 1000000 )) ms; to model loaded: $(( (t2 - t0) / 1000000 )) ms"
sentences=("今天天气很好我们去公园散步吧好不好" "中国人民银行宣布下调存款利率和贷款利率" "这家餐厅的服务很好菜也做得很好吃下次" "我爱北京天安门天安门上太阳升伟大领袖")
lat=()
for i in $(seq "$N"); do
  s=${sentences[$(( i % ${#sentences[@]} ))]}
  tmux send-keys -t fenci-lat -l "/clear"; tmux send-keys -t fenci-lat Enter
  sleep 0.2
  tmux send-keys -t fenci-lat -l "$s"
  sleep 0.05
  a=$(now)
  tmux send-keys -t fenci-lat Enter
  wait_for "%"
  b=$(now)
  lat+=($(( (b - a) / 1000000 )))
done
sorted=($(printf '%s\n' "${lat[@]}" | sort -n))
p50=${sorted[$(( N / 2 ))]}; p95=${sorted[$(( (N * 95 + 99) / 100 - 1 ))]}
echo "Enter to rendered result (20 chars, $N runs): p50 ${p50} ms, p95 ${p95} ms, max ${sorted[$((N-1))]} ms"
pid=$(tmux display -p -t fenci-lat '#{pane_pid}')
if [ "$(cat /proc/$pid/comm 2>/dev/null)" != "fenci" ]; then pid=$(pgrep -P "$pid" | head -1 || true); fi
if [ -n "$pid" ]; then
  grep -E "VmHWM|VmRSS" /proc/$pid/status | tr -s ' ' | tr '\n' ' '; echo
fi

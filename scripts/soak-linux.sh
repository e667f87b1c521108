#!/usr/bin/env bash
# A soak run for false alarms on the kernel: RUNS checks of the kernel at
# once, with the recorded divergences excluded, for SECONDS each, beside a
# CPU hog per core. Each run is stopped with SIGINT, which still prints its
# summary line. Prints every summary, the totals, and fails if any run
# reported a divergence (real or flaky) or a harness error. Needs root.
#   scripts/soak-linux.sh [RUNS [SECONDS [FIRST_SEED]]]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
secs=${2:-300}
seed=${3:-1000}
go build -o bin/routefuzz ./cmd/routefuzz || exit 2
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
hogs=()
for _ in $(seq "$(nproc)"); do
  ( end=$((SECONDS + secs + 60)); while [ $SECONDS -lt $end ]; do :; done ) &
  hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT
dir=$(mktemp -d)
pids=()
for ((i = 0; i < runs; i++)); do
  promote=$([ $((i % 2)) -eq 0 ] && echo off || echo on)
  adapters=$((2 + i % 3))
  keep=$([ $((i / 2 % 2)) -eq 1 ] && echo on || echo off)
  timeout --preserve-status -s INT "$secs" ./bin/routefuzz check -sut linux -exclude known -checks 100000000 \
    -seed $((seed + i)) -promote "$promote" -keep-addr-on-down "$keep" -adapters "$adapters" -save "$dir/found" >"$dir/run$i.log" 2>&1 &
  pids+=($!)
done
bad=0
for ((i = 0; i < runs; i++)); do
  wait "${pids[$i]}"
  rc=$?
  last=$(tail -n 1 "$dir/run$i.log")
  echo "run $i (exit $rc): $last"
  # 130: stopped by SIGINT at the end of its time, as planned.
  if [ $rc -ne 130 ] || ! grep -q ' divergences=0 flaky=0 ' <<<"$last"; then
    bad=1
    tail -n 40 "$dir/run$i.log"
  fi
done
awk '/^routefuzz: sut=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2] } }
     END { printf "total: %d checks, %d steps, %d divergences, %d flaky\n", s["checks"], s["steps"], s["divergences"], s["flaky"] }' "$dir"/run*.log
ls "$dir/found" 2>/dev/null
exit $bad

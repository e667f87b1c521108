#!/usr/bin/env bash
# Time from start to the printed minimal kernel reproducer, over seeds:
#   scripts/repro-time.sh [FIRST_SEED [COUNT]]
# Each run is `routefuzz check -sut linux -checks 200 -seed N` with nothing
# excluded, so it finds one of the kernel's recorded divergences and
# shrinks it. Prints one line per seed, then the median, and fails if a
# run did not find a divergence that reproduced (exit 1) or reported one
# that did not reproduce (exit 3). Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
first=${1:-1}
count=${2:-10}
go build -o bin/routefuzz ./cmd/routefuzz || exit 2
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
times=()
bad=0
for ((s = first; s < first + count; s++)); do
  start=$(date +%s.%N)
  out=$(./bin/routefuzz check -sut linux -checks 200 -seed "$s" 2>&1)
  rc=$?
  end=$(date +%s.%N)
  t=$(awk "BEGIN{printf \"%.2f\", $end-$start}")
  ops=$(grep -c '^[ >] *[0-9]\+  ' <<<"$(sed -n '/^found after/,/^result of op/p' <<<"$out")")
  how=$(grep -o 'found after [0-9]* checks[^:]*' <<<"$out")
  printf 'seed %-3d exit %d %6.2fs  %d ops  %s\n' "$s" "$rc" "$t" "$ops" "$how"
  [ "$rc" -eq 1 ] || { bad=1; echo "$out" | tail -20; }
  times+=("$t")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo "median ${median}s over ${#times[@]} seeds"
exit $bad

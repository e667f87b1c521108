#!/usr/bin/env bash
# make stress-test: the kernel and process tests under load. One CPU hog
# per core (nproc busy loops) runs beside
#   go test -count=$COUNT $PKGS          (default 5 runs of each test)
#   go test -race -count=$RACE_COUNT $RACE_PKGS  (default 1 run of ./...)
# Every test must pass both ways. The hogs are this script's children and
# are killed when it exits, is interrupted or terminated; each also stops
# by itself once this script is gone (SIGKILL included).
#
#   COUNT=5 RACE_COUNT=1 HOGS=$(nproc) RACE_PKGS=./... FLAGS= \
#   PKGS='./sut/... ./corpus ./props ./internal/... ./examples'
# FLAGS is passed to both go test commands (FLAGS='-run Reap -v').
set -uo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
race_count=${RACE_COUNT:-1}
hogs=${HOGS:-$(nproc)}
read -r -a pkgs <<<"${PKGS:-./sut/... ./corpus ./props ./internal/... ./examples}"
read -r -a race_pkgs <<<"${RACE_PKGS:-./...}"
read -r -a flags <<<"${FLAGS:-}"
go=${GO:-go}

pids=()
stop_hogs() {
  [ ${#pids[@]} -eq 0 ] && return
  kill "${pids[@]}" 2>/dev/null
  wait "${pids[@]}" 2>/dev/null
  pids=()
}
trap stop_hogs EXIT
trap 'stop_hogs; exit 130' INT
trap 'stop_hogs; exit 143' TERM

# Build first, so that the hogs load the tests, not the compiler.
$go test -count=1 -run '^$' "${pkgs[@]}" >/dev/null || exit 2
$go test -race -count=1 -run '^$' "${race_pkgs[@]}" >/dev/null || exit 2

parent=$$
for _ in $(seq "$hogs"); do
  (
    trap - INT TERM
    while :; do
      for ((i = 0; i < 20000; i++)); do :; done
      kill -0 "$parent" 2>/dev/null || exit 0
    done
  ) &
  pids+=($!)
done
echo "stress: $hogs CPU hogs running (pids ${pids[*]})"

rc=0
start=$SECONDS
echo "stress: $go test -count=$count ${flags[*]} ${pkgs[*]}"
$go test -count="$count" -timeout 60m "${flags[@]}" "${pkgs[@]}" || rc=1
echo "stress: $go test -race -count=$race_count ${flags[*]} ${race_pkgs[*]}"
$go test -race -count="$race_count" -timeout 60m "${flags[@]}" "${race_pkgs[@]}" || rc=1
stop_hogs
if [ $rc -eq 0 ]; then
  echo "stress: PASS in $((SECONDS - start))s under $hogs hogs"
else
  echo "stress: FAIL (see above) after $((SECONDS - start))s under $hogs hogs"
fi
exit $rc

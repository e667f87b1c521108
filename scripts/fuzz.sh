#!/usr/bin/env bash
# make fuzz SUT=name FUZZTIME=60s: run the stack's go test -fuzz target.
# A divergence is saved as a corpus case the moment it is found, then the
# shortest one is handed to the minimizer, which writes the minimal case to
# out/found/.
#
# Only a divergence that reproduces when replayed is a divergence; one that
# does not is kept as a -flaky case and fuzzing goes on.
#
# Exit status: 0 no divergence found, 1 a divergence found (and minimized
# into out/found/), 2 bad usage or a failure of the harness, 3 only
# divergences that did not reproduce (through make, any non-zero status is
# make's 2).
set -uo pipefail
targets=$(grep -o '^func Fuzz[A-Za-z]*' props/fuzz_test.go | sed 's/func Fuzz//' | tr 'A-Z' 'a-z' | tr '\n' ' ')
targets=${targets% }
usage() {
  cat >&2 <<USAGE
usage: make fuzz SUT=<${targets// /|}> [FUZZTIME=60s] [EXEC='cmd' with SUT=exec]
       scripts/fuzz.sh SUT [FUZZTIME]
Runs go test -fuzz on the stack's state-machine target (props/fuzz_test.go).
Exit status: 0 no divergence, 1 a divergence (minimized into out/found/), 2 an error,
3 only divergences that did not reproduce (kept in out/fuzz-SUT/ as -flaky cases).
USAGE
}
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
  usage
  exit 2
fi
sut=$1
fuzztime=${2:-60s}
target="Fuzz$(tr '[:lower:]' '[:upper:]' <<<"${sut:0:1}")${sut:1}"
if ! grep -q "^func ${target}(" props/fuzz_test.go; then
  echo "routefuzz: no fuzz target for SUT=$sut (have: $targets)" >&2
  usage
  exit 2
fi
found="out/fuzz-$sut"
rm -rf "$found"; mkdir -p "$found" out/found
start=$(date +%s.%N)
ROUTEFUZZ_FUZZ=$sut ROUTEFUZZ_FOUND="$PWD/$found" \
  go test ./props -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 0s -v >"out/fuzz-$sut.log" 2>&1
rc=$?
end=$(date +%s.%N)
tail -n 5 "out/fuzz-$sut.log"
shopt -s nullglob
cases=("$found"/*-bad.txtar "$found"/*-crash.txtar "$found"/*-hang.txtar)
flaky=("$found"/*-flaky.txtar)
if [ ${#cases[@]} -eq 0 ] && [ ${#flaky[@]} -gt 0 ]; then
  echo "routefuzz: fuzz $sut: ${#flaky[@]} divergence(s) seen that did not reproduce when replayed, kept in $found/ as -flaky cases; none that did"
  exit 3
fi
if [ ${#cases[@]} -eq 0 ]; then
  if [ $rc -ne 0 ]; then echo "routefuzz: go test -fuzz failed without a divergence (see out/fuzz-$sut.log)"; exit 2; fi
  if grep -q -e "no fuzz tests to fuzz" -e "^--- SKIP" "out/fuzz-$sut.log"; then
    echo "routefuzz: fuzz $sut did not run: $(grep -B1 -e '^--- SKIP' "out/fuzz-$sut.log" | head -1 | sed 's/^ *[a-z_]*.go:[0-9]*: //')" >&2
    exit 2
  fi
  echo "routefuzz: fuzz $sut: no divergence in $fuzztime"
  exit 0
fi
# The case with the fewest ops: the lines of its ops section that are
# neither blank nor commentary, whatever their verbs (corpus/case.go).
nops() { awk '/^-- ops --$/ {on=1; next} /^-- .* --$/ {on=0} on && NF && $1 !~ /^#/ {n++} END {print n+0}' "$1"; }
best=$(for c in "${cases[@]}"; do echo "$(nops "$c") $c"; done | sort -n | head -1 | cut -d' ' -f2-)
secs=$(awk "BEGIN{printf \"%.1f\", $end-$start}")
first=$(stat -c '%.3Y' "${cases[@]}" | sort -n | head -1)
tfind=$(awk "BEGIN{printf \"%.1f\", $first-$start}")
echo "routefuzz: fuzz $sut: first divergence after ${tfind}s; ${#cases[@]} failing order(s) saved (and ${#flaky[@]} that did not reproduce); go test -fuzz ran ${secs}s in all"
echo "routefuzz: minimizing $best"
if ! go run ./cmd/routefuzz minimize -sut "$sut" -o out/found "$best"; then
  echo "routefuzz: fuzz $sut: found ${#cases[@]} failing order(s), kept in $found/, but could not minimize $best" >&2
  exit 2
fi
echo "routefuzz: fuzz $sut: found a divergence"
exit 1

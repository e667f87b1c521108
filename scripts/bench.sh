#!/usr/bin/env bash
# make bench: the step benchmarks in one run, one package after another,
# each as time per step and as a multiple of BenchmarkRapidBaseline (one
# action of a trivial rapid state machine) measured in the same run.
# Ratios survive a change of machine better than times: machines here
# differ about 2x. BENCH=regexp narrows the benchmarks; the kernel's need
# root and are skipped otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
pattern=${BENCH:-'^(BenchmarkRapidBaseline|BenchmarkHuntStep|BenchmarkModelStep|BenchmarkFixedStep|BenchmarkLinuxStep|BenchmarkFixedStackStep)$'}
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; $(go version | cut -d' ' -f3); Linux $(uname -r)"
out=$(go test -p 1 -run '^$' -bench "$pattern" -benchmem ./props ./model ./check ./sut/linux ./examples 2>&1)
rc=$?
echo "$out" | grep -E '^(Benchmark|ok|FAIL|---)' >&2
[ $rc -eq 0 ] || { echo "$out" | tail -30; exit $rc; }
echo "$out" | awk '
  /^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    ns = ""
    for (i = 3; i < NF; i++) {
      if ($(i+1) == "ns/step") ns = $i
      if ($(i+1) == "steps/s" && ns == "") ns = 1e9 / $i
    }
    if (ns == "") for (i = 3; i < NF; i++) if ($(i+1) == "ns/op") ns = $i
    names[++n] = name; t[name] = ns
  }
  END {
    base = t["BenchmarkRapidBaseline"]
    printf "%-46s %14s %12s\n", "benchmark", "time per step", "x baseline"
    for (i = 1; i <= n; i++) {
      nm = names[i]; v = t[nm]
      unit = v >= 1e6 ? sprintf("%.2f ms", v/1e6) : v >= 1e3 ? sprintf("%.1f us", v/1e3) : sprintf("%.0f ns", v)
      printf "%-46s %14s %12s\n", nm, unit, base ? sprintf("%.2f", v/base) : "-"
    }
  }'

#!/usr/bin/env bash
# make libfuzzer [TARGET=FuzzLegacy] [FUZZTIME=60s]: build the byte-driven
# targets (bytefuzz/fuzz) as libFuzzer binaries exactly as ClusterFuzzLite
# does (.clusterfuzzlite/build.sh, run here with a compile_native_go_fuzzer
# that does what the base image's does), then run TARGET for FUZZTIME.
#
#   scripts/libfuzzer.sh build            build into out/libfuzzer/bin/
#   scripts/libfuzzer.sh run TARGET TIME  build, then fuzz TARGET for TIME
#                                         (60s, 5m, 300: seconds)
#
# Installs what is missing: clang-14 and libclang-rt-14-dev (libFuzzer)
# from Debian with apt-get (as root), and go-118-fuzz-build at the pinned
# version with go install. The build runs in a copy of the work tree
# (out/libfuzzer/src/routefuzz), since it edits go.mod and rewrites the
# target file. A run keeps its corpus in out/libfuzzer/corpus-TARGET/; a
# divergence is written by libFuzzer to out/libfuzzer/crash-<sha1> and by
# the target to out/found/ as a corpus case (ROUTEFUZZ_FOUND), which the
# script then minimizes with routefuzz minimize.
#
# Exit status: 0 built (or ran without finding anything), 1 a divergence
# found (and minimized into out/found/), 2 an error.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
G118=github.com/AdamKorcz/go-118-fuzz-build
G118_VERSION=v0.0.0-20250520111509-a70c2aa677fa
CLANG=${CLANG:-clang-14}
# Where the build goes: src/routefuzz (the copy) and bin/ (the binaries).
WORK=${LIBFUZZER_WORK:-$root/out/libfuzzer}
GOBIN=$(go env GOPATH)/bin
PATH="$GOBIN:$PATH"

usage() {
  echo "usage: scripts/libfuzzer.sh build | run TARGET FUZZTIME   (make libfuzzer TARGET=FuzzLegacy FUZZTIME=60s)" >&2
  exit 2
}

# ensure_tools installs clang and libFuzzer, and go-118-fuzz-build, when missing.
ensure_tools() {
  if ! command -v "$CLANG" >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "routefuzz: $CLANG or libFuzzer (libclang-rt-14-dev) is missing; as root: apt-get install clang-14 libclang-rt-14-dev" >&2
      exit 2
    fi
    echo "routefuzz: installing clang-14 and libclang-rt-14-dev (libFuzzer) with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14 libclang-rt-14-dev) >/dev/null ||
      { echo "routefuzz: apt-get install clang-14 libclang-rt-14-dev failed" >&2; exit 2; }
  fi
  if ! command -v go-118-fuzz-build >/dev/null; then
    echo "routefuzz: installing $G118@$G118_VERSION with go install"
    go install "$G118@$G118_VERSION" || { echo "routefuzz: go install $G118@$G118_VERSION failed" >&2; exit 2; }
  fi
}

# compile_native_go_fuzzer PATH FUNCTION FUZZER [TAGS]: what the
# OSS-Fuzz base image's script of that name does for a libFuzzer build
# (SANITIZER not coverage): the package's directory, go-118-fuzz-build into
# FUZZER.a (it rewrites the target file's testing import itself), and the
# link with the fuzzing engine.
compile_native_go_fuzzer() {
  local path=$1 function=$2 fuzzer=$3 tags="-tags gofuzz"
  if [ $# -eq 4 ]; then tags="-tags $4"; fi
  local dir
  dir=$(go list $tags -f '{{.Dir}}' "$path")
  echo "+ go-118-fuzz-build $tags -o $fuzzer.a -func $function $dir"
  go-118-fuzz-build $tags -o "$fuzzer.a" -func "$function" "$dir"
  echo "+ $CXX $CXXFLAGS $LIB_FUZZING_ENGINE $fuzzer.a -o $OUT/$fuzzer"
  $CXX $CXXFLAGS $LIB_FUZZING_ENGINE "$fuzzer.a" -o "$OUT/$fuzzer"
}

build() {
  ensure_tools
  local work=$WORK
  rm -rf "$work/src" "$work/bin"
  mkdir -p "$work/src/routefuzz" "$work/bin"
  # The work tree as it is, committed or not (not out/ or bin/).
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -co --exclude-standard -z | grep -zv -e '^out/' -e '^bin/'
  else
    find . -path ./out -prune -o -path ./bin -prune -o -path ./.git -prune -o -type f -printf '%P\0'
  fi | tar --null -cf - -T - | tar -xf - -C "$work/src/routefuzz"
  export SRC=$work/src OUT=$work/bin CXX=${CXX:-clang++-14} CXXFLAGS=${CXXFLAGS:-} \
    LIB_FUZZING_ENGINE=${LIB_FUZZING_ENGINE:--fsanitize=fuzzer} SANITIZER=${SANITIZER:-address}
  command -v "$CXX" >/dev/null || CXX=$CLANG
  export -f compile_native_go_fuzzer
  bash -eu .clusterfuzzlite/build.sh
  echo "routefuzz: built $(cd "$OUT" && ls | grep -v -e '\.' -e _seed_corpus -e routefuzz-exec | tr '\n' ' ')in $OUT/"
}

# seconds turns 60s, 5m, 1h or 300 into seconds.
seconds() {
  case $1 in
    *s) echo "${1%s}" ;;
    *m) echo $((${1%m} * 60)) ;;
    *h) echo $((${1%h} * 3600)) ;;
    *) echo "$1" ;;
  esac
}

fuzz() {
  local target=$1 time secs
  time=$(seconds "$2")
  [[ $time =~ ^[0-9]+$ ]] || { echo "routefuzz: FUZZTIME=$2: want 60s, 5m, 1h or seconds" >&2; exit 2; }
  TARGETS="${TARGETS:-$target}" build
  local bin=$WORK/bin/$target corpus=$WORK/corpus-$target
  [ -x "$bin" ] || { echo "routefuzz: no libFuzzer target $target (see .clusterfuzzlite/build.sh)" >&2; exit 2; }
  local sut
  sut=$(tr '[:upper:]' '[:lower:]' <<<"${target#Fuzz}")
  mkdir -p "$corpus" out/found "$WORK/found"
  rm -f "$WORK"/found/*.txtar "$WORK"/crash-*
  # The seed corpus (build.sh zips it for ClusterFuzzLite).
  local seeds=$WORK/seeds
  go run ./bytefuzz/cmd/decode -seeds "$seeds"
  echo "routefuzz: ROUTEFUZZ_FOUND=$WORK/found $bin -max_total_time=$time -artifact_prefix=$WORK/ $corpus $seeds"
  local rc=0
  ROUTEFUZZ_FOUND="$WORK/found" "$bin" -max_total_time="$time" -artifact_prefix="$WORK/" \
    -print_final_stats=1 "$corpus" "$seeds" >"$WORK/$target.log" 2>&1 || rc=$?
  grep -e '^#[0-9]*.*DONE' -e 'stat::number_of_executed_units' -e 'stat::average_exec_per_sec' \
    -e 'Test unit written' -e '^SUMMARY' "$WORK/$target.log" || true
  shopt -s nullglob
  local found=("$WORK"/found/*-bad.txtar "$WORK"/found/*-crash.txtar "$WORK"/found/*-hang.txtar)
  local crashes=("$WORK"/crash-* "$WORK"/timeout-*)
  if [ ${#found[@]} -eq 0 ] && [ ${#crashes[@]} -gt 0 ]; then
    # The target did not save a case (it failed otherwise, or could
    # not write): decode what libFuzzer saved.
    echo "routefuzz: decoding ${crashes[0]}"
    if go run ./bytefuzz/cmd/decode -sut "$sut" "${crashes[0]}" >"$WORK/found/decoded.txtar"; then
      found=("$WORK/found/decoded.txtar")
    fi
  fi
  if [ ${#found[@]} -eq 0 ]; then
    if [ $rc -ne 0 ]; then
      echo "routefuzz: $target failed without a divergence (see $WORK/$target.log)" >&2
      tail -n 20 "$WORK/$target.log" >&2
      exit 2
    fi
    echo "routefuzz: libfuzzer $target: no divergence in $2"
    exit 0
  fi
  echo "routefuzz: libfuzzer $target: found a divergence: ${found[0]}"
  go run ./cmd/routefuzz minimize -sut "$sut" -o out/found "${found[0]}" ||
    { echo "routefuzz: could not minimize ${found[0]}" >&2; exit 2; }
  exit 1
}

case ${1:-} in
  build) [ $# -eq 1 ] || usage; build ;;
  run) [ $# -eq 3 ] && [ -n "$2" ] || usage; fuzz "$2" "$3" ;;
  *) usage ;;
esac

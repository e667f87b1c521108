#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script: every byte-driven routefuzz
# target that can run on a fuzzing bot, as a libFuzzer binary in $OUT.
# make libfuzzer (scripts/libfuzzer.sh) runs this same script here, with a
# compile_native_go_fuzzer that does what the base image's does.
#
#   FuzzFixed   the simulated correct stack: must never fail
#   FuzzLegacy  the simulated stack with the KB287032 bug: fails within
#               seconds (a demonstration; drop it from TARGETS in your fork)
#   FuzzExec    your stack's user-space program over the line protocol,
#               built only when ROUTEFUZZ_EXEC is set (see the Dockerfile)
#
# FuzzLinux (the kernel) is never built here: it needs root, CAP_NET_ADMIN
# and network namespaces, which the bots do not give.
cd "$SRC/routefuzz"

# The pinned go-118-fuzz-build, whose testing package the rewritten
# targets import: the module must require it (in this build copy only).
G118=github.com/AdamKorcz/go-118-fuzz-build
G118_VERSION=v0.0.0-20250520111509-a70c2aa677fa
go get "$G118/testing@$G118_VERSION"

TARGETS=${TARGETS:-FuzzFixed FuzzLegacy}
if [ -n "${ROUTEFUZZ_EXEC:-}" ]; then
  case " $TARGETS " in *" FuzzExec "*) ;; *) TARGETS="$TARGETS FuzzExec" ;; esac
  # The program runs in $OUT, where FuzzExec finds its command line.
  if [ -n "${ROUTEFUZZ_EXEC_SHIP:-}" ]; then cp -r "$ROUTEFUZZ_EXEC_SHIP"/. "$OUT"/; fi
  printf '%s\n' "$ROUTEFUZZ_EXEC" > "$OUT/routefuzz-exec"
fi

# The seed corpus: one file per input of bytefuzz.Seeds (a plain Go
# program: no cgo, so that the sanitizer's CFLAGS do not reach it).
seeds=$(mktemp -d)
CGO_ENABLED=0 go run ./bytefuzz/cmd/decode -seeds "$seeds"

for target in $TARGETS; do
  compile_native_go_fuzzer github.com/routefuzz/routefuzz/bytefuzz/fuzz "$target" "$target"
  if command -v zip >/dev/null; then
    (cd "$seeds" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  else
    mkdir -p "$OUT/${target}_seed_corpus" && cp "$seeds"/* "$OUT/${target}_seed_corpus/"
  fi
done
rm -rf "$seeds"

package fuzz

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/bytefuzz"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/stacks"
)

// The byte-driven targets: each decodes its input into a configuration
// and an op sequence (package bytefuzz), runs it on the model and a stack
// side by side, and fails with check's report when they differ. With
// ROUTEFUZZ_FOUND=DIR, the divergence is first saved to DIR as a corpus
// case. They build as libFuzzer binaries with go-118-fuzz-build
// (.clusterfuzzlite/build.sh, make libfuzzer) and run under go test -fuzz
// too; plain go test runs their seed corpus.
//
// This file is all go-118-fuzz-build compiles of the package: it is
// rewritten there to its own testing package, in which F.Fatal does
// nothing and F.Skip skips each input silently, so setup failures go
// through fail, which panics in a libFuzzer build.

// FuzzFixed drives the simulated correct stack: it must never fail.
func FuzzFixed(f *testing.F) {
	fuzz(f, "fixed", stacks.Options{})
}

// FuzzLegacy drives the simulated stack with the KB287032 bug, which it
// finds within seconds. Under go test it runs only when asked
// (ROUTEFUZZ_FUZZ=legacy), since it is expected to fail; a libFuzzer
// build always runs it.
func FuzzLegacy(f *testing.F) {
	if !bytefuzz.LibFuzzer && os.Getenv("ROUTEFUZZ_FUZZ") != "legacy" {
		f.Skip("expected to fail; runs only when asked: ROUTEFUZZ_FUZZ=legacy go test ./bytefuzz/fuzz -fuzz FuzzLegacy, or make libfuzzer TARGET=FuzzLegacy")
	}
	fuzz(f, "legacy", stacks.Options{})
}

// FuzzExec drives an external program speaking the line protocol
// (PROTOCOL.md): the command line in $ROUTEFUZZ_EXEC, run in the current
// directory (under go test: the module root). A libFuzzer binary without
// it reads the command line from the file routefuzz-exec beside the
// binary, run in that directory, as ClusterFuzzLite ships it in $OUT.
func FuzzExec(f *testing.F) {
	cmd := os.Getenv("ROUTEFUZZ_EXEC")
	dir := ""
	if !bytefuzz.LibFuzzer {
		// go test runs in this package's directory; command lines are
		// relative to the module root, where make runs.
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			fail(f, err.Error())
		}
		dir = root
	} else if cmd == "" {
		if exe, err := os.Executable(); err == nil {
			if b, err := os.ReadFile(filepath.Join(filepath.Dir(exe), "routefuzz-exec")); err == nil {
				cmd, dir = strings.TrimSpace(string(b)), filepath.Dir(exe)
			}
		}
	}
	if cmd == "" {
		skip(f, "set ROUTEFUZZ_EXEC to the program's command line (PROTOCOL.md), or put it in a file routefuzz-exec beside the libFuzzer binary")
		return
	}
	fuzz(f, "exec", stacks.Options{Exec: cmd, Dir: dir})
}

// FuzzLinux drives the Linux kernel in a private network namespace, with
// the recorded kernel divergences excluded: it needs root (CAP_NET_ADMIN
// and CAP_SYS_ADMIN for namespaces), which fuzzing bots do not give, so it
// is for your own runners.
func FuzzLinux(f *testing.F) {
	fuzz(f, "linux", stacks.Options{})
}

// fuzz runs the target of the named stack. It takes f as any: in a
// libFuzzer build, f is go-118-fuzz-build's F (compile_native_go_fuzzer
// may rewrite the targets' signatures alone), and the target reads the
// input from it (bytefuzz.Input) without going through F.Fuzz.
func fuzz(f any, name string, o stacks.Options) {
	tg, err := bytefuzz.Shared(name, o, configure)
	if err != nil {
		skip(f, "the "+name+" stack cannot run here: "+err.Error())
		return
	}
	if data, ok := bytefuzz.Input(f); ok {
		// libFuzzer: the input as libFuzzer saves it (bytefuzz.Input).
		d, err := tg.Check(data)
		if err != nil {
			panic("routefuzz: harness error (not a divergence): " + err.Error())
		}
		if d != nil {
			os.Stderr.WriteString(d.Report())
			panic("routefuzz: " + name + " diverges from the model (the report is above)")
		}
		return
	}
	tf := f.(*testing.F)
	tf.Cleanup(func() { tg.Close() })
	for _, s := range bytefuzz.Seeds() {
		tf.Add(s)
	}
	tf.Fuzz(func(t *testing.T, data []byte) {
		d, err := tg.Check(data)
		if err != nil {
			t.Fatalf("harness error (not a divergence): %v", err)
		}
		if d != nil {
			t.Fatalf("%s", d.Report())
		}
	})
}

// skip skips the target under go test; a libFuzzer binary that cannot run
// its stack fails on its first input instead, saying why.
func skip(f any, why string) {
	if bytefuzz.LibFuzzer {
		panic("routefuzz: " + why)
	}
	f.(interface{ Skip(...any) }).Skip(why)
}

func fail(f any, why string) {
	if bytefuzz.LibFuzzer {
		panic("routefuzz: " + why)
	}
	f.(interface{ Fatal(...any) }).Fatal(why)
}

// configure replays a divergence as often as the rest of routefuzz does
// before it counts, and fuzzes each stack past its own recorded
// divergences (props.ExclusionsFor: none for fixed and legacy).
func configure(t *bytefuzz.Target) error {
	t.Confirmations, t.HangConfirmations = props.Confirmations, props.HangConfirmations
	ex, err := props.ExclusionsFor(t.Name, []string{"known"})
	if err != nil {
		return err
	}
	t.Exclude = ex
	return nil
}

package props

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

// The go test -fuzz targets: rapid.MakeFuzz turns the state machine into
// a coverage-guided fuzz target, one per stack. The fixed stack's target
// runs its seed corpus under plain go test and must pass. The legacy
// target is expected to fail, so it runs only when asked:
//
//	make fuzz SUT=legacy FUZZTIME=60s
//
// which sets ROUTEFUZZ_FUZZ=legacy and ROUTEFUZZ_FOUND=DIR. Every
// divergence the fuzzer finds is written to DIR as a corpus case before
// the target fails, for the minimizer to shrink.

func FuzzFixed(f *testing.F) {
	addSeeds(f)
	f.Fuzz(rapid.MakeFuzz(fuzzProperty(f, fixed.New(), Config{Name: "fixed", Attrs: true})))
}

// FuzzLinux drives the kernel (root only), with the recorded kernel
// divergences excluded; its seed corpus runs under plain go test.
func FuzzLinux(f *testing.F) {
	stack, err := stacks.Open("linux", stacks.Options{})
	if err != nil {
		f.Skipf("the kernel stack cannot run here: %v", err)
	}
	exclude, err := ExclusionsFor("linux", []string{"known"})
	if err != nil {
		f.Fatal(err)
	}
	addSeeds(f)
	f.Fuzz(rapid.MakeFuzz(fuzzProperty(f, stack, Config{Name: "linux", Attrs: true, Exclude: exclude})))
}

// FuzzExec drives the external program in $ROUTEFUZZ_EXEC, when set.
func FuzzExec(f *testing.F) {
	cmd := os.Getenv("ROUTEFUZZ_EXEC")
	if cmd == "" {
		f.Skip("set ROUTEFUZZ_EXEC to the program's command line: make fuzz SUT=exec EXEC='...'")
	}
	// The command line is relative to the module root, where make runs;
	// go test runs in this package's directory.
	root, err := filepath.Abs("..")
	if err != nil {
		f.Fatal(err)
	}
	stack, err := stacks.Open("exec", stacks.Options{Exec: cmd, Dir: root})
	if err != nil {
		f.Fatal(err)
	}
	var c Config
	if l := sut.LimitsOf(stack); len(l.Promote) == 1 {
		c.Promote = l.Promote[0]
	}
	c.Name, c.Attrs = "exec", true
	addSeeds(f)
	f.Fuzz(rapid.MakeFuzz(fuzzProperty(f, stack, c)))
}

func FuzzLegacy(f *testing.F) {
	if os.Getenv("ROUTEFUZZ_FUZZ") != "legacy" {
		f.Skip("expected to fail; runs only when asked: make fuzz SUT=legacy")
	}
	addSeeds(f)
	f.Fuzz(rapid.MakeFuzz(fuzzProperty(f, legacy.New(), Config{Name: "legacy", Attrs: true})))
}

// fuzzProperty is Property with divergences saved to $ROUTEFUZZ_FOUND.
func fuzzProperty(f *testing.F, stack sut.Stack, c Config) func(*rapid.T) {
	f.Cleanup(func() { stack.Close() })
	// Only a divergence that reproduces fails the input (and is saved
	// as a case); one that does not is saved as flaky, and fuzzing goes
	// on, as in Hunt.
	dir := os.Getenv("ROUTEFUZZ_FOUND")
	var mu sync.Mutex
	best := 0
	c.Accept = func(d *check.Divergence) bool {
		mu.Lock()
		defer mu.Unlock()
		ok, err := check.Confirm(stack, d, Confirmations, nil)
		if err != nil {
			f.Errorf("replaying a divergence to confirm it: %v", err)
			return true
		}
		kase := corpus.FromDivergence(d, "# Found by go test -fuzz=Fuzz"+fuzzName(c.Name)+"; not yet minimized.")
		if !ok {
			kase = corpus.FromFlaky(d, "# Seen by go test -fuzz=Fuzz"+fuzzName(c.Name)+"; it did not reproduce.")
		} else if best != 0 && len(d.Ops) >= best {
			return true
		} else {
			best = len(d.Ops)
		}
		if dir != "" {
			if _, err := corpus.Save(dir, kase); err != nil {
				// Nothing is lost: the report goes to stderr in full.
				fmt.Fprintf(os.Stderr, "routefuzz: saving a found divergence: %v\n%s", err, d.Report())
			}
		}
		return ok
	}
	c, err := c.Restrict(stack)
	if err != nil {
		f.Fatal(err)
	}
	return Property(stack, c)
}

func fuzzName(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// addSeeds adds a fixed set of random byte strings: each is a whole op
// sequence once rapid reads it.
func addSeeds(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		b := make([]byte, 8*(20+r.IntN(200)))
		for i := 0; i < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], r.Uint64())
		}
		f.Add(b)
	}
}

package corpus

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routefuzz/routefuzz/check"
	"github.com/routefuzz/routefuzz/model"
	"github.com/routefuzz/routefuzz/stacks"
	"github.com/routefuzz/routefuzz/sut/fixed"
	"github.com/routefuzz/routefuzz/sut/legacy"
)

func legacyVsFixed(t *testing.T) *check.Pair {
	t.Helper()
	p, err := check.Vs("legacy", legacy.New(), "fixed", fixed.New())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A divergence between two stacks is saved as a pair case, which reads
// back the same, is named for the pair, and replays only as the pair.
func TestPairCase(t *testing.T) {
	cfg := model.Config{Adapters: []string{"a0", "a1"}}
	ops := []model.Op{model.MustParseOp("add a0 10.0.0.1/24"), model.MustParseOp("add a1 10.0.0.2/24"), model.MustParseOp("del a1 10.0.0.2/24")}
	d, err := check.Replay("legacy", legacyVsFixed(t), cfg, ops, nil)
	if err != nil || d == nil {
		t.Fatalf("legacy does not diverge from fixed: %v", err)
	}
	c := FromDivergence(d, "# found")
	text := string(c.Format())
	if !strings.Contains(text, "\ndiverges: legacy-vs-fixed\n") || !strings.Contains(text, "# legacy (compared with fixed): 2 route(s) missing and 2 extra") {
		t.Errorf("want the pair's verdict and a header naming both:\n%s", text)
	}
	if !strings.HasSuffix(c.FileName(), "-legacy-vs-fixed-bad.txtar") {
		t.Errorf("FileName %s", c.FileName())
	}
	path, err := Save(t.TempDir(), c)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := Load(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	got := cs[0]
	if string(got.Format()) != text || got.FileName() != filepath.Base(path) || !got.IsPair() {
		t.Errorf("not stable through Save and Load:\n%s\n---\n%s", text, got.Format())
	}
	if err := got.CheckName(); err != nil {
		t.Error(err)
	}
	if err := got.CheckStacks([]string{"legacy", "fixed"}); err != nil {
		t.Error(err)
	}
	if err := got.CheckStacks([]string{"legacy"}); err == nil {
		t.Error("CheckStacks accepts a pair with an unknown reference")
	}
	// Replayed as the pair: it diverges, as it must.
	if err := Verify(got, "legacy-vs-fixed", legacyVsFixed(t), nil); err != nil {
		t.Errorf("Verify on the pair: %v", err)
	}
	// The other way round is another pair, which the case does not name:
	// it must agree, and does not.
	rev, _ := check.Vs("fixed", fixed.New(), "legacy", legacy.New())
	if err := Verify(got, "fixed-vs-legacy", rev, nil); err == nil || !strings.Contains(err.Error(), "fixed diverges from legacy in routes") {
		t.Errorf("Verify on fixed-vs-legacy: %v", err)
	}
	// Never against the model on a single stack, nor a model case on a
	// pair.
	for _, name := range []string{"legacy", "fixed"} {
		if err := Verify(got, name, fixed.New(), nil); !errors.Is(err, ErrSkip) {
			t.Errorf("Verify on %s: %v, want a skip", name, err)
		}
	}
	model := &Case{Path: "m.txtar", Ops: ops, Diverges: []string{"legacy"}}
	if err := Verify(model, "legacy-vs-fixed", legacyVsFixed(t), nil); !errors.Is(err, ErrSkip) {
		t.Errorf("Verify of a model case on a pair: %v, want a skip", err)
	}
	// A pair that agrees no longer catches it.
	same, _ := check.Vs("fixed", fixed.New(), "fixed", fixed.New())
	got.Diverges = []string{"fixed-vs-fixed"}
	if err := Verify(got, "fixed-vs-fixed", same, nil); err == nil || !strings.Contains(err.Error(), "but agrees with fixed") {
		t.Errorf("Verify of an agreeing pair: %v", err)
	}
}

func TestPairCaseParse(t *testing.T) {
	for _, tc := range []struct{ text, err string }{
		{"diverges: legacy-vs-fixed\n-- ops --\nadd a0 10.0.0.1/24\n", ""},
		{"diverges: legacy-vs-fixed linux-vs-fixed\ncrashes: exec-vs-fixed\n-- ops --\nadd a0 10.0.0.1/24\n", ""},
		{"diverges: legacy-vs-fixed\ncrashes: exec\n-- ops --\nadd a0 10.0.0.1/24\n", "x.txtar:1: verdicts name pairs (legacy-vs-fixed) and single stacks (exec)"},
	} {
		c, err := Parse("x.txtar", []byte(tc.text))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.text, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.err)
		case err == nil:
			if again, err := Parse("x.txtar", c.Format()); err != nil || string(again.Format()) != string(c.Format()) {
				t.Errorf("round trip of %q: %v\n%s", tc.text, err, c.Format())
			}
		}
	}
	for name, want := range map[string][2]string{"legacy-vs-fixed": {"legacy", "fixed"}, "linux-vs-linux": {"linux", "linux"}} {
		if s, r, ok := SplitPair(name); !ok || s != want[0] || r != want[1] {
			t.Errorf("SplitPair(%q) = %q, %q, %v", name, s, r, ok)
		}
	}
	for _, name := range []string{"legacy", "-vs-fixed", "legacy-vs-"} {
		if _, _, ok := SplitPair(name); ok {
			t.Errorf("SplitPair(%q) is a pair", name)
		}
	}
}

// Every pair case in the corpus is replayed on each pair it names, both
// stacks opened as TestReplay opens them, and held to its verdict.
func TestReplayPairs(t *testing.T) {
	cases, err := Load(".")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cases {
		if !c.IsPair() {
			continue
		}
		for _, name := range c.Named() {
			s, ref, _ := SplitPair(name)
			stack, err := stacks.Open(s, stacks.Options{Exec: os.Getenv("ROUTEFUZZ_EXEC")})
			if err != nil {
				t.Logf("cannot open %s here: %v", s, err)
				continue
			}
			defer stack.Close()
			rs, err := stacks.Open(ref, stacks.Options{Exec: os.Getenv("ROUTEFUZZ_EXEC")})
			if err != nil {
				t.Logf("cannot open %s here: %v", ref, err)
				continue
			}
			defer rs.Close()
			p, err := check.Vs(s, stack, ref, rs)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(c, name, p, nil); err != nil {
				t.Error(err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no pair case in the corpus was replayed")
	}
}
